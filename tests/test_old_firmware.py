"""Firmware written by older hls4ml releases (0.5.0: sizes as #define macros, weights as .h; 0.6.0
and 0.8.1: weights as .txt; 0.8.1 io_stream Resource): generated with the released packages by
tests/fixtures/old_hls4ml/generate.py, never written by hand. Every generation is read without
Keras and without a crash, as the same design."""

from __future__ import annotations

from pathlib import Path

import pytest

from hcp_fpga.estimator.model import estimate_project, project_specs
from tests.conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures" / "old_hls4ml"
PARALLEL = sorted(FIXTURES.glob("hls4ml-*-io_parallel"))


@pytest.mark.parametrize("project", sorted(FIXTURES.glob("hls4ml-*")), ids=lambda p: p.name)
def test_every_old_generation_reads_without_keras(project, capsys):
    est = estimate_project(project)
    assert not est.unpriced and est.part == "xc7z020clg400-1" and est.clock_ns == 5.0
    mult = [s for s in project_specs(project).specs if s.kind == "dense"]
    assert [(s.n_in, s.n_out) for s in mult] == [(16, 64), (64, 32), (32, 32), (32, 5)]  # the jet tagger
    assert all(s.mantissas is not None and s.mantissas.any() for s in mult)
    assert run_cli("estimate", project, "--quiet") == 0 and capsys.readouterr().err == ""


def test_the_generations_are_the_same_design():
    """Macros or constexpr sizes, .h or .txt weights: the same firmware gives the same estimate. One
    thing the generations do differ in: hls4ml 0.5 and 0.6 build the softmax as 'latency' (their
    default; parameters.h says so), 0.8 as 'stable', which subtracts the maximum first."""
    est = {p.name: estimate_project(p) for p in PARALLEL}
    totals = {name: e.totals() | {"cycles": e.latency_cycles} for name, e in est.items()}
    assert len(PARALLEL) == 3
    assert totals["hls4ml-0.5.0-io_parallel"] == totals["hls4ml-0.6.0-io_parallel"], totals
    # every layer but the softmax the same; the pipeline (its registers and cycles) shorter without the maximum
    layers = {name: {l.name: l for l in e.layers if l.kind not in ("softmax", "io")} for name, e in est.items()}
    assert layers["hls4ml-0.5.0-io_parallel"] == layers["hls4ml-0.8.1-io_parallel"]
    assert est["hls4ml-0.5.0-io_parallel"].latency_cycles < est["hls4ml-0.8.1-io_parallel"].latency_cycles
    softmax = {name: next(l for l in e.layers if l.kind == "softmax") for name, e in est.items()}
    assert softmax["hls4ml-0.5.0-io_parallel"].lut < softmax["hls4ml-0.8.1-io_parallel"].lut
    assert softmax["hls4ml-0.5.0-io_parallel"].dsp == softmax["hls4ml-0.8.1-io_parallel"].dsp


def test_stream_resource_generation(tmp_path):
    est = estimate_project(FIXTURES / "hls4ml-0.8.1-io_stream")
    assert est.ii >= 4 and any(l.kind == "fifo" for l in est.layers)  # RF 4 per pixel, FIFOs between layers


def test_missing_weights_are_named_and_priced_as_an_upper_bound(tmp_path):
    import shutil

    project = Path(shutil.copytree(FIXTURES / "hls4ml-0.8.1-io_parallel", tmp_path / "prj"))
    full = estimate_project(project)
    for f in (project / "firmware" / "weights").glob("w*"):
        f.unlink()
    bare = estimate_project(project)
    assert any("weights of fc1_relu, fc2_relu, fc3_relu, output_softmax not found" in n for n in bare.notes)
    assert bare.dsp >= full.dsp  # never an optimistic guess


@pytest.mark.parametrize("project", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_the_call_writing_the_top_functions_output_is_the_model_output(project):
    """Dead-code elimination leaves what the design outputs whole: the spec whose call writes the top
    function's output array (layer<N>_out among its parameters) is the only model output."""
    from hcp_fpga.estimator.firmware import firmware_specs

    specs = firmware_specs(FIXTURES / project)
    assert [s.name for s in specs if s.model_output] == [specs[-1].name]
