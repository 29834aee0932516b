"""The search's hardware levers beyond bits, pruning and reuse: accumulators narrowed to their
profiled ranges (and the estimator keeping a named accumulator), the softmax table, io_type."""

from dataclasses import replace

import numpy as np
import pytest

from hcp_fpga.board_catalog import load_board
from hcp_fpga.design import Design, HlsSettings
from hcp_fpga.estimator.model import design_specs, estimate_design
from hcp_fpga.quantize import QuantSpec, profile_ranges, to_qkeras
from hcp_fpga.search.actions import (profiled_accumulators, refreshed_accumulators, search_accumulators,
                                     with_accumulators, without_search_accumulators)


@pytest.fixture(scope="module")
def qmlp(digits, digits_mlp_20):
    return to_qkeras(digits_mlp_20, QuantSpec(6, 6), digits.x_train)


@pytest.fixture(scope="module")
def arty():
    return load_board("arty-a7-35t")


def _specs(model, board, settings):
    return {sp.name: sp for sp in design_specs(Design.create(model, board, settings))}


@pytest.mark.parametrize("settings", [HlsSettings(), HlsSettings(strategy="Resource", reuse_factor=4),
                                      HlsSettings(layer_precision={"input_1": "ap_ufixed<5,1>"})])
def test_profiled_accumulators_hold_the_sums_with_the_inferred_fraction_bits(qmlp, digits, arty, settings):
    if "input_1" in settings.layer_precision:  # the input layer's own name
        settings = replace(settings, layer_precision={qmlp.input_names[0]: "ap_ufixed<5,1>"})
    inferred = _specs(qmlp, arty, settings)
    chosen = profiled_accumulators(qmlp, settings, arty, digits.x_train)
    assert chosen, "a 6-bit MLP's worst-case accumulators are wider than its sums"
    ranges = profile_ranges(qmlp, digits.x_train)
    narrowed = _specs(qmlp, arty, with_accumulators(settings, chosen))
    for name, text in chosen.items():
        acc, was = narrowed[name].accum, inferred[name].accum
        assert str(acc.width) in text and acc.frac == was.frac  # no fraction bit is cut: sums are exact
        assert acc.integer < was.integer
        assert 2.0 ** (acc.integer - 1) >= 2 * ranges[name]  # the sign bit and a bit of margin
        assert narrowed[name].result == inferred[name].result  # hls4ml infers the result on its own
    before, after = (estimate_design(Design.create(qmlp, arty, s)) for s in (settings, with_accumulators(settings, chosen)))
    assert after.lut < before.lut and after.ff <= before.ff


def test_a_pinned_accumulator_is_left_alone_and_the_search_ones_are_recognised(qmlp, digits, arty):
    pinned = HlsSettings(layer_types={"fc1": {"accum": "ap_fixed<30,14>"}}, pinned={"fc1": ("accum",)})
    chosen = profiled_accumulators(qmlp, pinned, arty, digits.x_train)
    assert "fc1" not in chosen and chosen
    s = with_accumulators(pinned, chosen)
    assert search_accumulators(s) == frozenset(chosen)
    assert without_search_accumulators(s).layer_types == {"fc1": {"accum": "ap_fixed<30,14>"}}
    assert _specs(qmlp, arty, s)["fc1"].accum.width == 30


def test_narrowed_accumulators_follow_the_model(digits_mlp_20, digits, arty):
    """After new weights (here: fc2's biases up by 8), the search's accumulators are profiled again."""
    from hcp_fpga.models import copy_model

    model = digits_mlp_20
    s = with_accumulators(HlsSettings(), profiled_accumulators(model, HlsSettings(), arty, digits.x_train))
    assert "fc2" in search_accumulators(s)
    assert refreshed_accumulators(model, HlsSettings(), arty, digits.x_train) == HlsSettings()  # not narrowed: stays
    bigger = copy_model(model)
    k, b = bigger.get_layer("fc2").get_weights()
    bigger.get_layer("fc2").set_weights([k, b + 8.0])  # fc2's sums grow by 8
    again = refreshed_accumulators(bigger, s, arty, digits.x_train)
    assert _specs(bigger, arty, again)["fc2"].accum.integer > _specs(bigger, arty, s)["fc2"].accum.integer


def test_the_estimator_keeps_a_named_accumulator_when_the_input_type_changes(qmlp, arty):
    name = qmlp.input_names[0]
    s = HlsSettings(layer_types={"fc1": {"accum": "ap_fixed<12,5>"}}, layer_precision={name: "ap_ufixed<5,1>"})
    fc1 = _specs(qmlp, arty, s)["fc1"]
    assert (fc1.accum.width, fc1.accum.integer) == (12, 5)
    plain = _specs(qmlp, arty, replace(s, layer_types={}))["fc1"]
    assert fc1.result == plain.result == plain.accum  # the inferred result still follows the new input


@pytest.mark.slow  # two exports and C simulations
def test_narrowed_accumulators_are_bit_exact_in_the_c_simulation(qmlp, digits, arty, tmp_path):
    from hcp_fpga.hls import export_project, run_csim

    settings = HlsSettings(strategy="Resource", reuse_factor=4)
    narrowed = with_accumulators(settings, profiled_accumulators(qmlp, settings, arty, digits.x_train))
    runs = [run_csim(export_project(Design.create(qmlp, arty, s), tmp_path / name).out_dir, data="digits")
            for name, s in (("inferred", settings), ("narrowed", narrowed))]
    assert runs[0].csim_accuracy == runs[1].csim_accuracy
    assert runs[0].max_abs_diff == runs[1].max_abs_diff and runs[0].mean_abs_diff == runs[1].mean_abs_diff
    assert np.isfinite(runs[1].max_abs_diff)
