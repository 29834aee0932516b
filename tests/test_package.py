"""The package as a user gets it: version, board catalog as package data, commands that need no
TensorFlow do not import it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib import metadata

import pytest
import yaml

import hcp_fpga
from hcp_fpga.board_catalog import CATALOG, list_boards, load_board
from tests.conftest import REPO, SHARED, run_cli


def test_version_comes_from_the_package_metadata():
    assert hcp_fpga.__version__ == metadata.version("hcp_fpga")


def test_the_catalog_is_package_data_declared_for_the_wheel():
    files = sorted(p.name for p in CATALOG.iterdir() if p.name.endswith(".yaml"))
    assert len(files) == len(list_boards()) >= 17
    assert "hcp_fpga/" in str(CATALOG).replace("\\", "/") and not (REPO / "boards").exists()
    assert 'catalog/*.yaml' in (REPO / "pyproject.toml").read_text()


def test_user_boards_from_the_environment_variable(tmp_path, monkeypatch, capsys):
    board = yaml.safe_load((REPO / "hcp_fpga" / "catalog" / "pynq-z2.yaml").read_text())
    board.update(name="my-board", aliases=[], dsp=7)
    (tmp_path / "my-board.yaml").write_text(yaml.safe_dump(board))
    monkeypatch.setenv("HCP_FPGA_BOARDS_DIR", str(tmp_path))
    assert load_board("my-board").dsp == 7
    assert run_cli("boards", "--json") == 0
    assert "my-board" in [b["name"] for b in json.loads(capsys.readouterr().out)]
    monkeypatch.setenv("HCP_FPGA_BOARDS_DIR", str(tmp_path / "missing"))
    assert run_cli("boards") == 2
    assert "HCP_FPGA_BOARDS_DIR" in capsys.readouterr().err


TRIPLE = SHARED / "reports" / "triples" / "jet-dense-16bit-rf1-xcu250-vhls2019"


@pytest.mark.parametrize("argv", [["boards"], ["boards", "--json"], ["estimate", str(TRIPLE)],
                                  ["estimate", str(TRIPLE), "--compare", "--json"]])
def test_commands_that_need_no_tensorflow_do_not_import_it(argv):
    if "estimate" in argv and not TRIPLE.is_dir():
        pytest.skip(f"{TRIPLE} not found (../shared missing)")
    code = textwrap.dedent(f"""
        import sys
        from hcp_fpga.cli import main
        rc = main({argv!r})
        heavy = [m for m in ("tensorflow", "keras", "qkeras", "hls4ml") if m in sys.modules]
        print("RESULT", rc, heavy, file=sys.stderr)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert "RESULT 0 []" in done.stderr, done.stderr[-1500:]


def test_report_regeneration_needs_no_tensorflow(tmp_path):
    """report.html of an optimize output (model + result + estimate) is rebuilt without TensorFlow."""
    from hcp_fpga.models import build_mlp, write_model

    out = tmp_path / "out"
    write_model(build_mlp(8, (4,), 3, seed=0), out / "model")
    (out / "result.json").write_text(json.dumps({
        "project": "p", "board": "pynq-z2", "part": "xc7z020clg400-1", "settings": {"clock_ns": 10}, "fits": True,
        "binding": "lut", "over": [], "baseline_accuracy": 0.9, "keras_accuracy": 0.9, "csim_accuracy": 0.9,
        "latency_cycles": 3, "ii": 1, "estimate": {r: 1 for r in ("dsp", "bram18", "uram", "lut", "ff")},
        "budget": {r: 10 for r in ("dsp", "bram18", "uram", "lut", "ff")}, "bits": {"fc1": [6, 8]}}))
    code = textwrap.dedent(f"""
        import sys
        from hcp_fpga.html_report import build_report, _per_layer_model
        import json
        rows = _per_layer_model(__import__("pathlib").Path({str(out)!r}), {{"bits": {{"fc1": [6, 8]}}}})
        build_report({str(out)!r})
        print("RESULT", [r["layer"] for r in rows], "tensorflow" in sys.modules, file=sys.stderr)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert "RESULT ['fc1', 'output'] False" in done.stderr, done.stderr[-1500:]


@pytest.mark.slow  # runs a pytest subprocess (5 s)
def test_a_missing_shared_folder_skips_only_the_tests_that_need_it(tmp_path):
    """Without ../shared, collection works, tests that read it skip with the reason, others run."""
    env = {**__import__("os").environ, "HCP_FPGA_SHARED": str(tmp_path / "absent")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", "-m", "not slow",
                           "tests/test_estimate_reports.py", "tests/test_boards.py"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "passed" in done.stdout and "skipped" in done.stdout and "not found: this test reads ../shared" in done.stdout
