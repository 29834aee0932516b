"""report.html: every section, self-contained, and it renders in headless Chromium with every image
decoded and no console errors."""

import re
import shutil
import subprocess

import pytest
import yaml

from hcp_fpga.project import load_project
from tests.conftest import run_cli

CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A real optimize run: the digits MLP on the VCU118 fits at once, then one round past the fit
    (baseline, candidates, Pareto front, final C simulation)."""
    from hcp_fpga.loop import run_loop

    base = tmp_path_factory.mktemp("report")
    (base / "project.yaml").write_text(yaml.safe_dump({
        "name": "report-demo", "model": {"builder": "mlp", "hidden": [32]}, "data": "digits", "board": "vcu118",
        "training": {"epochs": 10}, "max_iterations": 1}))
    run_loop(load_project(base / "project.yaml"), base / "out", log=lambda m: None)
    assert run_cli("report", base / "out", "--quiet") == 0
    return base / "out"


@pytest.mark.slow  # shares run_dir: a real optimize run (about 20 s)
def test_report_has_the_summary_plots_and_tables(run_dir):
    page = (run_dir / "report.html").read_text()
    for section in ("Summary", "Plots", "Per-layer estimate", "Iterations", "vcu118", "C simulation", "fits",
                    "Pareto front", "What changed per layer", "alt='pareto'"):
        assert section in page, section
    images = re.findall(r"<img [^>]*src='([^']+)'", page)
    assert len(images) >= 3 and all(src.startswith("data:image/png;base64,") for src in images)
    assert "http://" not in page and "https://" not in page  # nothing to fetch: opens offline


def test_report_of_nothing_is_a_clear_error(tmp_path, capsys):
    assert run_cli("report", tmp_path) == 2
    assert "nothing to report" in capsys.readouterr().err


@pytest.mark.slow  # shares run_dir
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed here (.ci/run installs it)")
def test_report_renders_in_headless_chromium(run_dir, tmp_path):
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-quic", f"--user-data-dir={tmp_path / 'profile'}",
             "--enable-logging=stderr", "--v=0", "--window-size=1400,2200"]
    url = (run_dir / "report.html").resolve().as_uri()
    shot = tmp_path / "report.png"
    done = subprocess.run(flags + [f"--screenshot={shot}", url], capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000, done.stderr[-2000:]
    dom = subprocess.run(flags + ["--dump-dom", url], capture_output=True, text=True, timeout=120)
    body = re.search(r"<body[^>]*>", dom.stdout).group(0)
    assert 'data-images-ok="yes"' in body and int(re.search(r'data-images="(\d+)"', body).group(1)) >= 3, body
    console = [line for line in (done.stderr + dom.stderr).splitlines() if "CONSOLE" in line]
    assert not [line for line in console if re.search(r"error|uncaught", line, re.I)], console


@pytest.mark.slow  # shares run_dir
def test_export_point_exports_and_simulates_any_evaluated_design(run_dir, tmp_path, capsys):
    import json

    front = json.loads((run_dir / "pareto.json").read_text())
    point = front[0]["point"]
    assert run_cli("export-point", run_dir, point, "-o", tmp_path / "p", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["csim"]["n_samples"] == 450 and out["csim"]["argmax_agreement"] > 0.9
    manifest = json.loads((tmp_path / "p" / "hcp_fpga.json").read_text())
    assert f"point {point}" in manifest["model_source"]
    assert run_cli("export-point", run_dir, 9999) == 2
    assert "is not in" in capsys.readouterr().err


@pytest.mark.parametrize("name, content, fragment", [
    ("estimate.json", "{not json", "is not readable JSON"),
    ("estimate.json", "[]", "holds a list, not a dict"),
    ("estimate.json", '{"dsp": 1, "layers": 5}', "its 'layers' is not a list of per-layer resource counts"),
    ("estimate.json", '{"dsp": "x", "bram18": 0, "lut": 0, "ff": 0, "layers": []}', "lacks its resource totals"),
    ("result.json", '{"fits": true, "estimate": {"dsp": 1}}', "its 'estimate' is not a mapping of resource counts"),
    ("history.json", '{"a": 1}', "holds a dict, not a list"),
    ("sweep.json", "[1, 2]", "holds entries that are not mappings"),
])
def test_a_damaged_output_folder_is_one_line_not_an_internal_error(tmp_path, capsys, name, content, fragment):
    """``hcp-fpga report`` rebuilds report.html from files hcp-fpga wrote; one that is truncated,
    hand-edited or of another kind is named in one line, exit 2 (they were internal errors), and no
    report.html is written."""
    (tmp_path / name).write_text(content)
    assert run_cli("report", tmp_path) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and fragment in err and name in err and "re-run the command that wrote it" in err
    assert not (tmp_path / "report.html").exists()
