"""Every ``sh`` and ``python`` block of docs/quickstart.md runs and succeeds (so the quickstart cannot
rot); plain blocks (``make``, long runs) are shown, not run. They run in a temporary folder laid out
like the repository's surroundings (``projects/`` and ``../shared`` linked), never in the work tree."""

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO, SHARED

QUICKSTART = REPO / "docs" / "quickstart.md"
BLOCKS = re.findall(r"```(sh|python)\n(.*?)```", QUICKSTART.read_text(), re.S)
BIN = os.path.dirname(sys.executable)


def _cases():
    for i, (lang, body) in enumerate(BLOCKS):
        if lang == "sh":
            for line in body.splitlines():
                line = line.split("  #")[0].strip()
                if line and not line.startswith("make "):
                    yield pytest.param("sh", line, id=f"sh-{i}-{line[:40]}")
        else:
            yield pytest.param("python", body, id=f"python-{i}")


def test_the_quickstart_has_runnable_examples():
    assert sum(1 for _ in _cases()) >= 8


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """<tmp>/work as the current folder, with work/projects and <tmp>/shared linked read-only in."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} not found: the examples read ../shared")
    root = tmp_path_factory.mktemp("docs")
    (root / "work").mkdir()
    (root / "work" / "projects").symlink_to(REPO / "projects")
    (root / "shared").symlink_to(SHARED)
    return root / "work"


@pytest.mark.slow  # each example starts a fresh process that imports TensorFlow (about 90 s in all)
@pytest.mark.parametrize("lang,code", list(_cases()))
def test_quickstart_example_runs(lang, code, workdir):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = ["bash", "-c", code] if lang == "sh" else [sys.executable, "-c", code]
    done = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{code}\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}"
