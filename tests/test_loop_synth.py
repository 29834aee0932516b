"""optimize with real synthesis in the loop (project.yaml ``synth:``) and with a calibration file.
The vendor tool is the STAND-IN of tests/standin_vendor_tool.py: it synthesizes nothing and copies a
real report from ../shared/reports (a different design's), which is enough to test that a real
report wins over the estimate, corrects the later estimates, and can send the search back."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from hcp_fpga.project import load_project
from tests.conftest import SHARED, run_cli
from tests.test_synth import install_standin

SMALL = SHARED / "reports" / "triples" / "dense16x4-vx690t-vhls2019"  # DSP 55, LUT 1,773, FF 1,866, 3 cycles
LARGE = SHARED / "reports" / "triples" / "jet-keras3layer-vu9p-vhls2019"  # DSP 3,317, LUT 112,473


def _project(tmp_path, **extra):
    data = {"name": "tiny", "model": {"builder": "mlp", "hidden": [32]}, "data": "digits", "board": "arty-a7-35t",
            "training": {"epochs": 15, "finetune_epochs": 3}, "max_iterations": 3, "seed": 0}
    data.update(extra)
    (tmp_path / "project.yaml").write_text(yaml.safe_dump(data))
    return tmp_path / "project.yaml"


def _standin_on_path(tmp_path, monkeypatch, report):
    bin_dir = install_standin(tmp_path / "bin", "vivado_hls")
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_REPORT_FROM", str(report))


@pytest.mark.slow  # a whole optimize run with two stand-in syntheses
def test_real_reports_win_and_correct_the_run(tmp_path, monkeypatch, capsys):
    _standin_on_path(tmp_path, monkeypatch, SMALL)
    path = _project(tmp_path, synth={"every": 1, "final": True})
    out = tmp_path / "out"
    assert run_cli("optimize", path, "--out", out) == 0
    err = capsys.readouterr().err
    assert "synth: vivado_hls" in err and "estimated /" in err
    result = json.loads((out / "result.json").read_text())
    syn = result["synthesis"]
    assert syn["tool_found"] and syn["verdict_from"] == "real report"
    checks = syn["checks"]
    assert checks[-1]["final"] and checks[-1]["real"]["dsp"] == 55 and checks[-1]["real"]["lut"] == 1773
    assert checks[-1]["tool"] == "Vivado HLS 2019.2" and checks[-1]["fits"]
    # the first in-round check set a residual; the final check's estimate was made with it
    first = checks[0]
    assert first["residual"]["lut"] == pytest.approx((1773 + 100) / (first["estimate"]["lut"] / 1.0 + 100), rel=1e-6)
    history = json.loads((out / "history.json").read_text())
    assert any("synthesis" in r for r in history)
    report = (out / "report.html").read_text()
    assert "estimate vs real" in report.lower() and "Vivado HLS 2019.2" in report
    assert (out / "synth" / f"point-{first['point']}" / "hcp_synth" / "csynth.log").exists()


@pytest.mark.slow
def test_a_real_report_over_budget_sends_the_search_back_then_cannot_fit(tmp_path, monkeypatch, capsys):
    _standin_on_path(tmp_path, monkeypatch, LARGE)
    path = _project(tmp_path, synth={"final": True, "retries": 1}, max_iterations=2)
    out = tmp_path / "out"
    assert run_cli("optimize", path, "--out", out, "--quiet") == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Vivado HLS 2019.2 reports DSP 3,317 of 72" in err[0]
    result = json.loads((out / "result.json").read_text())
    assert [c["final"] for c in result["synthesis"]["checks"]] == [True, True]  # one retry, then the verdict
    assert result["fits"] is False and result["rounds"] > 2  # the retry searched on


@pytest.mark.slow
def test_without_a_tool_the_run_says_so_and_uses_estimates(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    path = _project(tmp_path, synth={"every": 1}, max_iterations=1)
    out = tmp_path / "out"
    assert run_cli("optimize", path, "--out", out) in (0, 3)
    assert "synth: no vendor HLS tool for a vivado project: looked for vivado_hls, vitis_hls on PATH" in capsys.readouterr().err
    syn = json.loads((out / "result.json").read_text())["synthesis"]
    assert syn == {**syn, "requested": True, "tool_found": False, "verdict_from": "estimate", "checks": []}


def test_tool_settings_without_a_synth_block_is_refused(tmp_path, capsys):
    path = _project(tmp_path)
    (tmp_path / "s.sh").write_text("true\n")
    assert run_cli("optimize", path, "--out", tmp_path / "out", "--tool-settings", tmp_path / "s.sh") == 2
    assert "--tool-settings needs a synth: block" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_project_synth_block_is_validated_and_holds_no_script(tmp_path):
    from hcp_fpga.errors import ConfigError

    for bad, message in (({"every": -1}, "synth.every"), ({"settings": "/opt/x.sh"}, "unknown key 'synth.settings'"),
                         ({"step": "impl"}, "synth.step")):
        with pytest.raises(ConfigError, match=message):
            load_project(_project(tmp_path, synth=bad))
    with pytest.raises(ConfigError, match="calibration file"):
        load_project(_project(tmp_path, calibration="missing.yaml"))


def test_a_calibration_corrects_every_estimate_of_the_search(tmp_path, digits_mlp_20):
    """measure_model of the search applies the project's calibration: LUT x1.6 (a synthetic
    calibration of 12 projects), with the note in the estimate."""
    import numpy as np

    from hcp_fpga.board_catalog import load_board
    from hcp_fpga.data import load_dataset
    from hcp_fpga.design import HlsSettings
    from hcp_fpga.estimator.calibration import Correction, fit
    from hcp_fpga.search.context import SearchContext
    from hcp_fpga.search.evaluate import measure_model
    from tests.test_calibration import samples

    cal = fit(samples(12, {"lut": 1.6}, 0.02))
    config = load_project(_project(tmp_path))
    board = load_board("arty-a7-35t")
    settings = HlsSettings().resolved(board)
    data = load_dataset("digits", seed=0).with_validation(0.2, 0)
    raw, m0 = measure_model(SearchContext(config, board, tmp_path, 0.5), digits_mlp_20, settings, data)
    est, m1 = measure_model(SearchContext(config, board, tmp_path, 0.5, Correction(cal)), digits_mlp_20, settings, data)
    assert est.lut / raw.lut == pytest.approx(1.6, rel=0.1) and m1.resources["lut"] > m0.resources["lut"] * 1.4
    assert est.calibration and "calibrated on 12 projects" in est.calibration
    assert np.isclose(m1.val_accuracy, m0.val_accuracy)
