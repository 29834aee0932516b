"""Calibration from a user's own reports: the fit recovers a systematic bias, refuses to invent one
from noise, keys factors by tool/part/strategy, round-trips through its file, and refuses bad files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hcp_fpga.estimator import calibration as C
from hcp_fpga.estimator.types import Estimate, LayerEstimate
from tests.conftest import SHARED, run_cli


def synthetic_estimate(rng, part="xc7z020clg400-1") -> Estimate:
    layers = []
    for i in range(int(rng.integers(2, 5))):
        n = float(rng.uniform(50, 2000))
        layers.append(LayerEstimate(f"fc{i}", "dense", dsp=round(n / 20), lut=n * 8, ff=n * 5, bram18=float(rng.integers(0, 8))))
        layers.append(LayerEstimate(f"relu{i}", "relu", lut=n / 3, ff=n / 4))
    return Estimate.from_layers("estimate", layers, int(rng.integers(5, 200)), 1, 5.0, part)


def biased(est: Estimate, rng, factors: dict, noise: float) -> Estimate:
    def scale(r, v):
        return float(v) * factors.get(r, 1.0) * math.exp(rng.normal(0, noise))
    real = {r: scale(r, getattr(est, r)) for r in ("dsp", "lut", "ff", "bram18")}
    return Estimate("csynth", (), **real, uram=0.0, latency_cycles=int(round(scale("latency_cycles", est.latency_cycles))),
                    ii=1, clock_ns=5.0, part=est.part)


def samples(n, factors, noise, seed=0, tool="Vivado HLS 2019.2", part="xc7z020clg400-1", strategy="Latency"):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        est = synthetic_estimate(rng, part)
        out.append(C.Sample(f"{tool}-{i}", f"{tool}-{i}", est, biased(est, rng, factors, noise),
                            C.design_attributes(tool, part, strategy, "io_parallel")))
    return out


def error(rows, resource):
    return next(r for r in rows if r.resource == resource)


@pytest.mark.slow  # a statistical fit over many synthetic projects (5 s); keeps make test under 4 minutes
def test_a_systematic_bias_is_learned_and_held_out_error_falls():
    data = samples(12, {"lut": 1.6, "ff": 0.7, "latency_cycles": 1.3}, noise=0.05)
    cal = C.fit(data)
    probe = synthetic_estimate(np.random.default_rng(99))
    out = C.apply(probe, cal, C.design_attributes("Vivado HLS 2019.2", probe.part, "Latency", "io_parallel"))
    assert out.lut / probe.lut == pytest.approx(1.6, rel=0.1)
    assert out.ff / probe.ff == pytest.approx(0.7, rel=0.1)
    assert out.dsp / max(probe.dsp, 1) == pytest.approx(1.0, rel=0.1)
    assert out.calibration and "calibrated on 12 projects" in out.calibration and out.notes[-1] == out.calibration
    rows = C.held_out_errors(data)
    for r in ("lut", "ff"):
        assert error(rows, r).smape_after < error(rows, r).smape_before / 3
    assert cal.resources["lut"].sigma < 0.15  # the held-out spread is about the 5 % noise


@pytest.mark.slow  # as above (4 s)
def test_pure_noise_earns_no_correction():
    data = samples(14, {}, noise=0.6, seed=3)
    cal = C.fit(data)
    rows = C.held_out_errors(data)
    for r in ("dsp", "lut", "ff"):
        assert error(rows, r).smape_after <= error(rows, r).smape_before * 1.1
    # most resources pick "no correction" (factors of 1)
    assert sum(f.ridge == C.RIDGES[-1] for f in cal.resources.values()) >= 3


def test_factors_are_keyed_by_tool_and_unseen_levels_are_named():
    data = samples(8, {"lut": 2.0}, 0.05, seed=1, tool="Vitis HLS 2023.1") + \
        samples(8, {}, 0.05, seed=2, tool="Vivado HLS 2019.2")
    cal = C.fit(data)
    probe = synthetic_estimate(np.random.default_rng(7))
    vitis = C.apply(probe, cal, C.design_attributes("Vitis HLS 2023.1", probe.part, "Latency", "io_parallel"))
    vivado = C.apply(probe, cal, C.design_attributes("Vivado HLS 2019.2", probe.part, "Latency", "io_parallel"))
    assert vitis.lut / vivado.lut == pytest.approx(2.0, rel=0.15)
    # a newer Vitis it never saw still gets the Vitis family's share; an unseen part family is named
    newer = C.apply(probe, cal, C.design_attributes("Vitis HLS 2030.1", "xcvu9p-flga2104-2-e", "Latency", "io_parallel"))
    assert newer.lut > vivado.lut * 1.2
    assert "not in its data (factor 1): UltraScale+" in newer.calibration


def test_file_round_trip_and_hostile_files(tmp_path, capsys):
    cal = C.fit(samples(6, {"lut": 1.5}, 0.05))
    path = tmp_path / "cal.yaml"
    C.save(cal, path)
    back = C.load(path)
    assert back.resources["lut"].intercept == pytest.approx(cal.resources["lut"].intercept, abs=1e-3)
    assert back.seen["tool"] == ("Vivado HLS 2019.2",) and back.source == str(path)
    good = path.read_text()
    cases = {
        "syntax.yaml": "resources: [",
        "format.yaml": good.replace("hcp_fpga_calibration: 1", "hcp_fpga_calibration: 7"),
        "nan.yaml": good.replace("intercept: ", "intercept: .nan #", 1),
        "huge.yaml": good.replace("intercept: ", "intercept: 1.0e+9 #", 1),
        "resource.yaml": good.replace("  lut:\n    intercept", "  luts:\n    intercept", 1),
        "attr.yaml": good.replace("    levels:", "    levels:\n      colour: {red: 1.0}", 1),
        "code.yaml": "!!python/object/apply:os.system ['echo hacked']",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(C.CalibrationError):
            C.load(tmp_path / name)
        assert run_cli("estimate", tmp_path / "nowhere.h5", "--board", "pynq-z2", "--calibration", tmp_path / name) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "calibrat" in err[0] and "hacked" not in err[0], (name, err)


def test_too_few_projects_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert run_cli("calibrate", tmp_path / "empty", "-o", tmp_path / "c.yaml") == 2
    assert "needs at least 2 projects" in capsys.readouterr().err
    assert not (tmp_path / "c.yaml").exists()


def test_force_replaces_only_a_calibration_file(tmp_path, capsys):
    """``calibrate --force`` replaces an earlier calibration, never another YAML file (a project's
    hls4ml_config.yml named by mistake): refused before any project is read, the file unchanged."""
    from hcp_fpga.estimator.calibration import is_calibration_file

    (tmp_path / "empty").mkdir()
    other = tmp_path / "hls4ml_config.yml"
    other.write_text("Backend: Vitis\nClockPeriod: 5\n")
    assert run_cli("calibrate", tmp_path / "empty", "-o", other, "--force") == 2
    assert "is not a calibration file hcp-fpga wrote" in capsys.readouterr().err
    assert other.read_text() == "Backend: Vitis\nClockPeriod: 5\n" and not is_calibration_file(other)


@pytest.mark.slow  # calibrates on the ../shared projects (~7 s); CI runs make test-slow too
def test_calibrate_real_projects_and_estimate_with_it(tmp_path, capsys):
    from hcp_fpga.estimator.calibration import is_calibration_file

    triples = SHARED / "reports" / "triples"
    out = tmp_path / "cal.yaml"
    assert run_cli("calibrate", triples, "-o", out) == 0
    text = capsys.readouterr()
    assert "leave-one-project-out error on 9 projects" in text.out and "skipped" in text.err  # one lower-bound design
    assert run_cli("calibrate", triples, "-o", out) == 2  # exists
    assert "--force" in capsys.readouterr().err
    assert is_calibration_file(out) and run_cli("calibrate", triples, "-o", out, "--force", "--quiet") == 0  # its own file
    capsys.readouterr()
    project = triples / "jet-dense-16bit-rf1-xcu250-vhls2019"
    assert run_cli("estimate", project, "--calibration", out, "--json") == 0
    import json

    est = json.loads(capsys.readouterr().out)["estimate"]
    assert est["calibration"].startswith("calibrated on 9 projects (Vivado HLS 2019.2, Vivado HLS 2020.1;")
    assert est["tool"] == "Vivado HLS 2019.2"  # read from the project's own report


def test_part_families():
    assert [C.part_family(p) for p in ("xc7a35ticsg324-1L", "xczu7ev-ffvc1156-2-e", "xcu250-figd2104-2L-e",
                                       "xcvu9p-flga2104-2-e", "xcku040-ffva1156-2-e", "xcvc1902", "ep4ce")] == \
        ["7-series", "UltraScale+", "UltraScale+", "UltraScale+", "UltraScale", "Versal", None]
