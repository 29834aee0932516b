"""Intervals, the chance to fit and ``headroom: auto`` from the estimator's errors on real designs
(hcp_fpga/estimator/uncertainty.py; the rows are benchmarks/fit_intervals.py's)."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hcp_fpga.board_catalog import load_board
from hcp_fpga.estimator import uncertainty as U
from hcp_fpga.estimator.model import estimate_specs
from hcp_fpga.estimator.precision import Fixed
from hcp_fpga.estimator.spec import LayerSpec
from hcp_fpga.errors import ConfigError
from hcp_fpga.project import Targets
from tests.conftest import run_cli

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reports"


def _dense(n_in=32, n_out=16, seed=0, **kw):
    mant = np.random.default_rng(seed).integers(-300, 300, size=(n_in, n_out))
    return LayerSpec("d", "dense", n_in, n_out, 1, out_size=n_out, channels=n_out, mantissas=mant, weight=Fixed(16, 6),
                     input=Fixed(16, 6), result=Fixed(16, 6), **kw)


def _scaled(est, k: float):
    return replace(est, **{r: getattr(est, r) * k for r in ("dsp", "lut", "ff", "bram18")})


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared not present")
def test_the_shipped_rows_are_the_current_estimators_errors():
    """A change to the cost model changes its errors: the shipped table must be re-derived with it
    (.venv/bin/python benchmarks/fit_intervals.py --write), never left stale."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from fit_intervals import as_json, error_rows

    rows, _ = error_rows()
    assert json.loads(U.TABLE.read_text())["rows"] == as_json(rows)["rows"], \
        "intervals.json is stale: run benchmarks/fit_intervals.py --write"


def test_every_class_has_rows_and_the_estimate_names_its_class():
    rows = U.load_rows()
    assert len(rows) >= 20 and {r.design_class for r in rows} <= set(U.CLASSES)
    assert estimate_specs([_dense()], "Vivado", 5.0).design_class == "io_parallel dense"
    assert estimate_specs([_dense(io_type="io_stream")], "Vivado", 5.0).design_class == "io_stream"
    conv = LayerSpec("c", "conv2d", 9, 4, 36, out_size=144, channels=4, mantissas=np.ones((9, 4), int), weight=Fixed(8, 2))
    assert estimate_specs([conv], "Vivado", 5.0).design_class == "io_parallel conv"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=1, max_size=40), st.floats(0.5, 0.99))
def test_conformal_quantile_has_its_finite_sample_rank(errors, p):
    q, n = U.conformal_quantile(np.array(errors), p), len(errors)
    below = sum(e <= q for e in errors)
    assert below >= min(math.ceil((n + 1) * p), n)
    lo = U.conformal_quantile(np.array(errors), 1 - p)
    assert lo <= q


def test_intervals_widen_with_the_level_and_grow_with_the_estimate():
    est = estimate_specs([_dense()], "Vivado", 5.0)
    big = _scaled(est, 3.0)
    for r, span in U.intervals(est, 0.9).items():
        wide = U.intervals(est, 0.98)[r]
        assert wide.low <= span.low <= span.high <= wide.high
        if r != "latency_cycles":
            assert U.intervals(big, 0.9)[r].high >= span.high
    assert U.intervals(replace(est, source="csynth")) == {}  # a report is not an estimate
    assert U.intervals(replace(est, unpriced=("gru",))) == {}  # nor is a lower bound a central value


def test_confidence_falls_as_the_design_grows():
    board = load_board("arty-a7-35t")
    est = estimate_specs([_dense(16, 8)], "Vivado", 5.0, board.part)
    conf = [U.fit_confidence(_scaled(est, k), board) for k in (0.01, 1, 10, 100, 10_000)]
    assert conf[0] == 1.0 and conf[-1] == 0.0
    assert all(a >= b for a, b in zip(conf, conf[1:])), conf
    assert est.verdict(board).confidence == conf[1]
    assert U.fit_confidence(replace(est, unpriced=("lstm",)), board) == 0.0  # a lower bound cannot be trusted to fit


def test_auto_headroom_makes_each_resource_fit_at_90_percent():
    board = load_board("arty-a7-35t")
    for cls in U.CLASSES:
        head = U.auto_headroom(cls)
        chosen, _ = U.rows_for(cls)
        budget = board.budget(head)
        for r, h in head.items():
            assert 0.0 <= h <= 0.95
            errs = U._errors(chosen, r)
            if h >= 0.95 or not errs.size:
                continue  # capped: no budget can promise 90 %
            at_budget = budget[r]  # an estimate exactly at the budget after auto headroom
            inside = np.mean([at_budget * math.exp(e) <= board.budget()[r] * (1 + 1e-9) for e in errs])
            assert inside >= 0.9 or errs.size < 10, (cls, r, inside)


def test_headroom_auto_in_project_yaml_and_on_the_cli(capsys):
    assert Targets(headroom="auto").headroom == "auto"
    assert Targets(headroom=0.3).headroom == {r: 0.3 for r in ("dsp", "bram18", "lut", "ff")}
    assert Targets(headroom="auto").headroom_for("io_parallel dense") == U.auto_headroom("io_parallel dense")
    for bad in ("most", 1.5, {"lut": "x"}, {"lut": float("nan")}, True):
        with pytest.raises(Exception):
            Targets(headroom=bad)
    fixture = Path(__file__).parent / "fixtures" / "old_hls4ml" / "hls4ml-0.8.1-io_parallel"
    assert run_cli("estimate", fixture, "--board", "pynq-z2", "--headroom", "auto", "--json") in (0, 1)
    out = json.loads(capsys.readouterr().out)
    assert out["headroom"] == U.auto_headroom("io_parallel dense")
    assert 0.0 <= out["verdict"]["confidence"] <= 1.0


def test_api_refuses_a_bad_headroom():
    from hcp_fpga import api

    fixture = Path(__file__).parent / "fixtures" / "old_hls4ml" / "hls4ml-0.8.1-io_parallel"
    for bad in ("most", 1.0, -0.1, True):
        with pytest.raises(ConfigError, match="headroom"):
            api.estimate(fixture, headroom=bad)


def test_optimize_resolves_headroom_auto_once_for_the_models_class(tmp_path):
    from hcp_fpga.loop import _with_headroom
    from hcp_fpga.project import load_project

    src = Path(__file__).resolve().parents[1] / "projects" / "digits-mlp" / "project.yaml"
    text = src.read_text().replace("headroom: {dsp: 0.2, bram18: 0.2, lut: 0.2, ff: 0.2}", "headroom: auto")
    assert "headroom: auto" in text
    (tmp_path / "project.yaml").write_text(text)
    config = load_project(tmp_path / "project.yaml")
    said = []
    resolved = _with_headroom(config, "io_parallel dense", said.append)
    assert resolved.targets.headroom == U.auto_headroom("io_parallel dense")
    assert len(said) == 1 and "fits the board at 90 %" in said[0]
    plain = load_project(src)
    assert _with_headroom(plain, "io_parallel dense", said.append) is plain and len(said) == 1


# --- from the HLS level to Vivado logic synthesis (estimator/postsynth.py) --------------------------


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared not present")
def test_the_shipped_synthesis_pairs_are_the_reports():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from fit_synthesis import pairs

    from hcp_fpga.estimator import postsynth

    assert json.loads(postsynth.TABLE.read_text())["pairs"] == pairs(), \
        "synthesis_pairs.json is stale: run benchmarks/fit_synthesis.py --write"


def test_post_synthesis_scales_by_the_median_ratio_and_labels_itself(capsys):
    from hcp_fpga.estimator import postsynth

    est = estimate_specs([_dense()], "Vivado", 5.0)
    ps = postsynth.post_synthesis(est)
    table = postsynth.ratios()
    assert table["lut"].n >= 10 and table["lut"].low <= table["lut"].median <= table["lut"].high
    for r, x in table.items():
        assert ps.values[r] == pytest.approx(getattr(est, r) * x.median)
        assert ps.ranges[r][0] <= ps.values[r] <= ps.ranges[r][1]
    assert postsynth.post_synthesis(replace(est, source="csynth")) is None  # only an estimate is scaled
    pairs = ({"csynth": {"lut": 100.0, "ff": 10.0}, "vsynth": {"lut": 50.0, "ff": 10.0}},
             {"csynth": {"lut": 100.0, "ff": 10.0}, "vsynth": {"lut": 30.0, "ff": 20.0}})
    assert postsynth.ratios(pairs)["lut"].median == pytest.approx(0.4) and postsynth.ratios(pairs)["ff"].high == 2.0
    fixture = Path(__file__).parent / "fixtures" / "old_hls4ml" / "hls4ml-0.8.1-io_parallel"
    run_cli("estimate", fixture, "--board", "pynq-z2", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["post_synthesis"]["values"]["lut"] == pytest.approx(out["estimate"]["lut"] * table["lut"].median)
