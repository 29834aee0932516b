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


# ----------------------------------------------------------------------------- softmax


def _csim_outputs(design, out_dir, x):
    from hcp_fpga.cbuild import build_library
    from hcp_fpga.hls import CsimLibrary, export_project, read_manifest

    exported = export_project(design, out_dir)
    manifest = read_manifest(exported.out_dir)
    lib = CsimLibrary(build_library(exported.out_dir, manifest["project_name"]).library, manifest)
    try:
        return np.stack([lib.predict_one([row])[0] for row in x])
    finally:
        lib.close()


@pytest.mark.slow  # three exports and C simulations
@pytest.mark.parametrize("table, output_type", [(4096, None), (64, None), (1024, "ap_fixed<8,4>")])
def test_the_fixed_point_softmax_matches_the_c_simulation_exactly(qmlp, digits, arty, tmp_path, table, output_type):
    """Outputs equal to the last bit, coarse tables (ties) and a narrow input (the capped exp table) included."""
    from hcp_fpga.fixed_softmax import hardware_accuracy, softmax_logits, softmax_types, stable_softmax

    settings = HlsSettings(softmax_table_size=table,
                           layer_precision={"output": output_type} if output_type else {})
    design = Design.create(qmlp, arty, settings)
    specs = design_specs(design)
    x, y = digits.x_test[:300], digits.y_test[:300]
    emulated = stable_softmax(softmax_logits(qmlp, x), softmax_types(specs, design.settings))
    csim = _csim_outputs(design, tmp_path / "prj", x)
    assert np.array_equal(emulated.astype(np.float32), csim)
    assert hardware_accuracy(qmlp, specs, design.settings, x, y) == float(np.mean(np.argmax(csim, axis=1) == y))


def test_the_fixed_point_softmax_keeps_the_argmax_of_fine_tables_and_ties_on_coarse_ones(qmlp, digits, arty):
    from hcp_fpga.fixed_softmax import softmax_logits, softmax_types, stable_softmax

    x = digits.x_test[:400]
    logits = softmax_logits(qmlp, x)
    keras = np.argmax(qmlp.predict(x, verbose=0), axis=1)
    assert np.array_equal(np.argmax(logits, axis=1), keras)  # the logits are the softmax's inputs
    ties, out = {}, {}
    for size in (4096, 256, 64):
        design = Design.create(qmlp, arty, HlsSettings(softmax_table_size=size))
        out[size] = stable_softmax(logits, softmax_types(design_specs(design), design.settings))
        ties[size] = int(np.sum((out[size] == out[size].max(axis=1, keepdims=True)).sum(axis=1) > 1))
    assert np.mean(np.argmax(out[4096], axis=1) == keras) >= 0.99
    assert ties[64] > ties[4096]
    for size in (4096, 256):
        assert np.all(out[size] >= 0) and np.all(out[size] <= 1.0 + 1e-9)
    # below 256 entries hls4ml's inverse table (indexed by the top bits of the ap_fixed<18,8> sum)
    # sends sums under 4 to 1/0, saturated: outputs above 1 (the C simulation agrees: the slow test)
    assert out[64].max() > 1.0


def test_softmax_table_is_proposed_in_quarters_down_to_the_floor(qmlp, digits, arty):
    from hcp_fpga.search.actions import PointView, SoftmaxTable
    from hcp_fpga.search.point import DesignPoint

    class Ctx:
        class config:
            class levers:
                min_softmax_table = 256

    def proposed(size):
        point = DesignPoint(0, None, "baseline", HlsSettings(softmax_table_size=size), None)
        return [a.size for a in SoftmaxTable.propose(PointView(point, qmlp, None, False), Ctx())]

    assert proposed(4096) == [1024] and proposed(1024) == [256] and proposed(256) == []
    est = {s: estimate_design(Design.create(qmlp, arty, HlsSettings(softmax_table_size=s))) for s in (4096, 1024)}
    assert est[1024].bram18 < est[4096].bram18  # the saving the search screens for


# ----------------------------------------------------------------------------- per-unit bits


def test_units_snapped_to_a_coarser_grid_are_exact_in_the_quantizer_and_stay_through_finetuning(qmlp, digits):
    from hcp_fpga.models import copy_model, quantized_kernel
    from hcp_fpga.prune import finetune, masks_of
    from hcp_fpga.quantize import snap_units, unit_shifts

    model = copy_model(qmlp)
    layer = model.get_layer("fc2")
    assert not np.any(unit_shifts(layer))  # trained float weights sit on no coarser grid by chance
    want = np.zeros(layer.get_weights()[0].shape[-1], dtype=int)
    want[::3] = 2
    snap_units(layer, want)
    got = unit_shifts(layer)
    assert np.all(got[want > 0] >= 2) and not np.any(got[want == 0])
    coarse = got > 0
    assert np.array_equal(quantized_kernel(layer)[:, coarse], layer.get_weights()[0][:, coarse])  # QKeras keeps them
    finetune(model, digits, masks_of(model), epochs=1, learning_rate=1e-3)
    after = unit_shifts(model.get_layer("fc2"))
    assert np.all(after[coarse] >= 2) and not np.any(after[~coarse])


def test_ebops_count_a_coarser_unit_at_its_fewer_bits():
    from hcp_fpga.estimator.ebops import ebops_of_specs, unit_weight_bits
    from hcp_fpga.estimator.precision import parse_fixed
    from hcp_fpga.estimator.spec import LayerSpec

    m = np.array([[4, 3, 0], [-8, 1, 0], [0, 2, 0]])  # unit 0 on a 4x coarser grid, unit 2 all zero
    assert list(unit_weight_bits(m, 6)) == [4, 6, 6]
    spec = LayerSpec("d", "dense", 3, 3, 1, mantissas=m, weight=parse_fixed("ap_fixed<6,1>"),
                     input=parse_fixed("ap_fixed<8,3>"))
    assert ebops_of_specs([spec]) == (2 * 4 + 3 * 6) * 8


def test_unit_bits_coarsens_the_least_important_half_of_the_finest_units(qmlp, digits, arty):
    from hcp_fpga.quantize import unit_shifts
    from hcp_fpga.search.actions import PointView, UnitBits
    from hcp_fpga.search.point import DesignPoint

    class Ctx:
        board = arty

        class config:
            class levers:
                weight_bits = (4, 8)

    point = DesignPoint(1, 0, "q", HlsSettings(), {"fc1": (6, 6), "fc2": (6, 6), "output": (6, 6)})
    proposed = UnitBits.propose(PointView(point, qmlp, None, True), Ctx())
    assert sorted(a.layer for a in proposed) == ["fc1", "fc2", "output"]
    applied = next(a for a in proposed if a.layer == "fc2").apply(qmlp, {}, point, Ctx(), digits)
    shifts = unit_shifts(applied.model.get_layer("fc2"))
    n = qmlp.get_layer("fc2").get_weights()[0].shape[-1]
    assert int(np.sum(shifts >= 2)) == n // 2 and not np.any(unit_shifts(qmlp.get_layer("fc2")))  # parent untouched
    ebops = [ebops_of(m, arty) for m in (qmlp, applied.model)]
    assert ebops[1] < ebops[0]
    # the finest units go next; once every unit of the 6-bit layer is at 4 bits (the lever's floor), none
    again = PointView(replace(point, bits={"fc2": (6, 6)}), applied.model, None, True)
    assert [a.name for a in UnitBits.propose(again, Ctx())] == ["fc2: half its 6-bit units 2 bits coarser"]
    from hcp_fpga.models import copy_model
    from hcp_fpga.quantize import snap_units

    floor = copy_model(qmlp)
    snap_units(floor.get_layer("fc2"), np.full(n, 2))
    assert UnitBits.propose(PointView(replace(point, bits={"fc2": (6, 6)}), floor, None, True), Ctx()) == []


def ebops_of(model, board):
    from hcp_fpga.estimator.ebops import ebops

    return ebops(model, Design.create(model, board).settings)


def test_the_per_layer_changes_name_unit_bits_and_chosen_accumulators(qmlp, digits_mlp_20):
    from hcp_fpga.models import copy_model
    from hcp_fpga.quantize import snap_units
    from hcp_fpga.search.changes import layer_changes
    from hcp_fpga.search.point import DesignPoint

    chosen = copy_model(qmlp)
    n = chosen.get_layer("fc2").get_weights()[0].shape[-1]
    snap_units(chosen.get_layer("fc2"), np.array([2] * 5 + [0] * (n - 5)))
    base = DesignPoint(0, None, "baseline", HlsSettings())
    point = DesignPoint(3, 2, "x", HlsSettings(layer_types={"fc1": {"accum": "ap_fixed<12,5>"}}),
                        {"fc1": (6, 6), "fc2": (6, 6), "output": (6, 6)})
    changes = {c.layer: c for c in layer_changes(digits_mlp_20, base, chosen, point)}
    assert changes["fc2"].unit_bits_after == {4: 5, 6: n - 5} and changes["fc1"].unit_bits_after == {}
    assert changes["fc1"].accum_after == "ap_fixed<12,5>" and changes["fc2"].accum_after is None


def test_io_type_is_proposed_only_where_the_levers_allow_and_changes_only_the_io_type(qmlp, digits, arty):
    from hcp_fpga.search.actions import IoType, PointView
    from hcp_fpga.search.point import DesignPoint

    def ctx(types):
        class Ctx:
            board = arty

            class config:
                class levers:
                    io_types = types
        return Ctx()

    point = DesignPoint(1, 0, "q", HlsSettings(strategy="Resource", reuse_factor=4), None)
    view = PointView(point, qmlp, None, True)
    assert [a.io_type for a in IoType.propose(view, ctx(["io_parallel", "io_stream"]))] == ["io_stream"]
    assert IoType.propose(view, ctx(["io_parallel"])) == []
    applied = IoType("to stream", 0.05, False, "io_stream").apply(qmlp, {}, point, ctx([]), digits)
    assert applied.settings == replace(point.settings, io_type="io_stream") and applied.model is qmlp
    streamed = estimate_design(Design.create(qmlp, arty, applied.settings))
    parallel = estimate_design(Design.create(qmlp, arty, point.settings))
    assert (streamed.lut, streamed.ff, streamed.latency_cycles) != (parallel.lut, parallel.ff, parallel.latency_cycles)
