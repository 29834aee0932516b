"""The estimator on real hls4ml projects it was not written against: every corpus design reads
without Keras and without a traceback, the timing model behaves physically over the clock, a
model file and the live model give one set of specs, and folders of every hls4ml generation read."""

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hcp_fpga.estimator.model import estimate_project, estimate_specs, project_specs
from hcp_fpga.estimator.precision import Fixed
from hcp_fpga.estimator.reports import find_csynth, parse_csynth
from hcp_fpga.estimator.spec import LayerSpec
from tests.conftest import REPO, SHARED

CORPUS = SHARED / "reports" / "corpus"
TRIPLES = SHARED / "reports" / "triples"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/reports/corpus not present")


def _corpus():
    sys.path.insert(0, str(REPO / "benchmarks"))
    from corpus import designs

    return designs() if CORPUS.is_dir() else []


CORPUS_DESIGNS = _corpus()


@needs_corpus
@pytest.mark.parametrize("design", [d for d in CORPUS_DESIGNS if d.project], ids=lambda d: d.name[:50])
def test_every_corpus_design_estimates_without_a_traceback(design):
    est = estimate_project(design.project, part=design.part, clock_ns=design.clock_ns)
    totals = [est.dsp, est.lut, est.ff, est.bram18]
    assert all(math.isfinite(v) and v >= 0 for v in totals)
    assert est.latency_cycles is not None and est.latency_cycles >= 0
    assert est.notes[0].startswith("analytical estimate")
    if est.unpriced:  # a lower bound is said, and no board verdict can say it fits
        assert any("lower bound" in n for n in est.notes)
    # two reports are of another network than the folder's: FIFOs holding a 784-20-10 network where
    # the model and weights are 784-140-60-10 (SOURCE.txt: 118,970 weights), and a concatenate1d
    # module where the model has no Concatenate (LFADS). Four are of another build: their Resource
    # kernels ran at reuse factors the config does not give (the autoencoder's convs at their n_in,
    # 9 and 36, where RF 64 gives 72; the two author-modified designs), or a Resource kernel where the
    # config has no Resource layer (MuhammadAshraful's dense_resource at II 104: its config says Latency,
    # RF 128). Every other report is its design's
    stale = design.name.endswith(("qk_pruned_dense_pynq", "LFADS__conv2d_concat", "autoencoder_cnn", "deepcalo",
                                  "yolov3tiny", "MuhammadAshraful__CNN-in-FPGA-hls4ml__mnist_cnn"))
    assert (est.report_mismatch is not None) == stale, est.report_mismatch


@needs_corpus
def test_custom_layers_are_named_and_block_a_fit():
    from hcp_fpga.board_catalog import load_board

    by_name = {d.name.split("__")[0]: d for d in CORPUS_DESIGNS}
    for repo, layer in (("LingChiYang", "dot_product"), ("nycu-pcs-lab", "k_reverse")):
        est = estimate_project(by_name[repo].project)
        assert layer in est.unpriced
        assert est.verdict(load_board("alveo-u250")).fits is False


@needs_corpus
def test_reading_a_project_needs_no_tensorflow():
    """Keras-3 / HGQ .keras files, QKeras .h5 and config + weights folders read from their JSON and
    HDF5 alone: TensorFlow is never imported (it could not build some of them anyway)."""
    projects = [d.project for d in CORPUS_DESIGNS if d.project and d.repo in ("Lrozzy", "Spehic", "uw-acme", "Alezander9")]
    code = textwrap.dedent(f"""
        import sys
        from hcp_fpga.estimator.model import estimate_project
        for p in {[str(p) for p in projects]!r}:
            estimate_project(p)
        assert "tensorflow" not in sys.modules, "tensorflow was imported"
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-2000:]


@needs_corpus
def test_config_and_weights_only_folder_is_a_named_lower_bound():
    d = next(d for d in CORPUS_DESIGNS if d.name.endswith("ftag_gru"))
    est = estimate_project(d.project)
    assert est.lower_bound and any("weight files alone" in n for n in est.notes)
    assert est.dsp >= 0 and any(l.kind == "dense" for l in est.layers)


def _weights_folder(tmp_path, files: dict, precision="ap_fixed<16,6>", rf=1, io_type="io_parallel", seed=0,
                    strategy="Resource", part="xcu250-figd2104-2L-e", clock=5, uncertainty=None):
    """A config + firmware/weights folder (what some repositories keep) with the given value counts."""
    rng = np.random.default_rng(seed)
    (tmp_path / "firmware" / "weights").mkdir(parents=True)
    extra = f"ClockUncertainty: '{uncertainty}'" if uncertainty is not None else ""
    (tmp_path / "hls4ml_config.yml").write_text(textwrap.dedent(f"""
        Backend: Vivado
        ClockPeriod: {clock}
        {extra}
        IOType: {io_type}
        Part: {part}
        HLSConfig: {{Model: {{Precision: '{precision}', ReuseFactor: {rf}, Strategy: {strategy}}}}}
    """))
    for name, n in files.items():
        values = np.round(rng.uniform(-1, 1, n), 3)
        (tmp_path / "firmware" / "weights" / f"{name}.txt").write_text(", ".join(f"{v:.3f}" for v in values))
    return tmp_path


@pytest.mark.parametrize("gates, lookups, products", [(3, 3, 3), (4, 5, 3), (1, 1, 0)], ids=["GRU", "LSTM", "SimpleRNN"])
def test_a_recurrent_layer_from_weight_files_is_priced_as_one_cell_step(tmp_path, gates, lookups, products):
    """units and gates come from the recurrent files alone; the cell's tables and elementwise
    products follow the cell type; the unknown time steps keep the estimate a named lower bound."""
    units, n_in = 8, 5
    folder = _weights_folder(tmp_path, {"w2": n_in * gates * units, "b2": gates * units,
                                        "wr2": units * gates * units, "br2": gates * units, "w3": units * 4, "b3": 4})
    est = estimate_project(folder)
    rows = {l.name: l for l in est.layers}
    specs = {s.name: s for s in project_specs(folder).specs}
    assert (specs["layer2_kernel"].n_in, specs["layer2_kernel"].n_out) == (n_in, gates * units)
    assert (specs["layer2_recurrent"].n_in, specs["layer2_recurrent"].n_out) == (units, gates * units)
    assert specs["layer2_gates"].out_size == lookups * units
    assert ("layer2_products" in specs) == bool(products)
    if products:  # 16 x 16-bit (GRU's mix: 17 x 16-bit) variable products: one DSP each
        parts = [p for p in ("layer2_products", "layer2_mix") if p in specs]
        assert ("layer2_mix" in specs) == (gates == 3)  # the (1 - z) x candidate product
        assert sum(specs[p].out_size for p in parts) == products * units
        assert sum(rows[p].dsp for p in parts) == products * units
    assert specs["layer3"].n_in == units  # the layer after it reads the units
    assert est.lower_bound and any("time steps of recurrent layer 2" in n for n in est.unpriced)


def _interface_report(folder, input_bits: int):
    """A csynth text report whose interface table gives the top function one input port of
    ``input_bits`` (with its valid handshake), where hls4ml's project layout keeps it."""
    report = folder / "myproject_prj" / "solution1" / "syn" / "report"
    report.mkdir(parents=True)
    (report / "myproject_csynth.rpt").write_text(textwrap.dedent(f"""
        == Vivado HLS Report for 'myproject'
        ================================================================
        == Interface
        ================================================================
        * Summary:
        +-----------------------+-----+------+------------+-----------------+--------------+
        |       RTL Ports       | Dir | Bits |  Protocol  |  Source Object  |    C Type    |
        +-----------------------+-----+------+------------+-----------------+--------------+
        |ap_clk                 |  in |     1| ap_ctrl_hs |    myproject    | return value |
        |ap_start               |  in |     1| ap_ctrl_hs |    myproject    | return value |
        |input_1_V              |  in | {input_bits:5d}|   ap_vld   |    input_1_V    |    pointer   |
        |input_1_V_ap_vld       |  in |     1|   ap_vld   |    input_1_V    |    pointer   |
        |layer3_out_0_V         | out |    16|   ap_vld   |  layer3_out_0_V |    pointer   |
        +-----------------------+-----+------+------------+-----------------+--------------+
    """))
    return folder


@pytest.mark.parametrize("gates", [3, 4, 1], ids=["GRU", "LSTM", "SimpleRNN"])
def test_time_steps_follow_from_the_reports_input_port_and_run_one_after_the_other(tmp_path, gates):
    """A weights-only folder whose report lists the top function's input port (steps x inputs x
    bits): the steps are known, named in a note, no longer a lower bound, and they run in sequence,
    so each added step adds the same cycles and the cell's II is its whole latency."""
    units, n_in = 8, 5
    files = {"w2": n_in * gates * units, "b2": gates * units, "wr2": units * gates * units, "br2": gates * units,
             "w3": units * 4, "b3": 4}
    latency = {}
    for steps in (10, 20, 30):
        folder = _interface_report(_weights_folder(tmp_path / str(steps), files), steps * n_in * 16)
        est = estimate_project(folder)
        assert any(f"time steps of recurrent layer 2: {steps}, from the report's input port" in n for n in est.notes)
        assert not any("time steps" in n for n in est.unpriced)
        cell = next(l for l in est.layers if l.name == "layer2")
        assert cell.ii == cell.latency_cycles and est.ii == cell.ii
        latency[steps] = est.latency_cycles
    assert latency[30] - latency[20] == latency[20] - latency[10] > 0



def _module_report(folder, modules: list[str]):
    """A top-level csynth text report whose utilization detail lists ``modules`` as instances."""
    report = folder / "myproject_prj" / "solution1" / "syn" / "report"
    report.mkdir(parents=True)
    rows = "\n".join(f"    |grp_{m}_fu_{i}  |{m}  |        0|      0|    0|  100|    0|" for i, m in enumerate(modules))
    (report / "myproject_csynth.rpt").write_text(
        "== Vivado HLS Report for 'myproject'\n== Utilization Estimates\n* Summary:\n\n+ Detail:\n    * Instance:\n"
        "    +------+------+---------+-------+---+----+-----+\n"
        "    |Instance|Module| BRAM_18K| DSP48E| FF| LUT| URAM|\n"
        f"    +------+------+---------+-------+---+----+-----+\n{rows}\n"
        "    +------+------+---------+-------+---+----+-----+\n\n")
    return folder


@pytest.mark.parametrize("entry, entry_type, covered", [("relu_a", "ufixed<8,0,RND_CONV,SAT>", True),
                                                        ("relu_a", "ufixed<6,0,RND_CONV,SAT>", False),
                                                        ("pool_a", "ufixed<8,0,RND_CONV,SAT>", False)],
                         ids=["same-function-and-type", "other-type", "other-function"])
def test_a_weights_only_folder_prices_the_activations_its_report_lists(tmp_path, entry, entry_type, covered):
    """The report names each activation's function, types and hls4ml index (relu_..._relu_config3):
    it is priced between the weighted layers, as large as the layer before it. A weightless config
    entry named for that function with its result type is that layer (no lower bound); one of
    another type or name is not."""
    folder = _weights_folder(tmp_path, {"w2": 12 * 10, "b2": 10, "w4": 10 * 3, "b4": 3}, strategy="Latency")
    config = folder / "hls4ml_config.yml"
    config.write_text(config.read_text().replace(
        "HLSConfig: {", f"HLSConfig: {{LayerName: {{{entry}: {{Precision: {{result: '{entry_type}'}}}}, "
        "dense_a: {Precision: {weight: 'ap_fixed<16,6>'}}, dense_b: {Precision: {weight: 'ap_fixed<16,6>'}}}, "))
    before = estimate_project(folder)
    _module_report(folder, ["dense_latency_ap_fixed_16_6_5_3_0_ap_fixed_16_6_5_3_0_config2_s",
                            "relu_ap_fixed_16_6_5_3_0_ap_ufixed_8_0_4_0_0_relu_config3_s",
                            "dense_latency_ap_ufixed_8_0_4_0_0_ap_fixed_16_6_5_3_0_config4_s"])
    specs = project_specs(folder).specs
    assert [s.name for s in specs if s.kind != "unmodelled"] == ["layer2", "relu3", "layer4"]
    relu = specs[1]
    assert (relu.kind, relu.out_size, relu.input, relu.result) == ("relu", 10, Fixed(16, 6), Fixed(8, 0, False, True))
    est = estimate_project(folder)
    assert next(l for l in est.layers if l.name == "relu3").lut > 0  # rounds and saturates 16 bits to 8
    assert before.lower_bound and est.lower_bound != covered
    assert (entry in est.unpriced) != covered


def test_report_activation_modules_read_both_types_only_where_the_name_spells_them(tmp_path):
    from hcp_fpga.estimator.reports import activation_modules

    _module_report(tmp_path, ["relu_array_ap_fixed_32u_array_ap_ufixed_4_0_4_0_0_32u_relu_config6_s",
                              "softmax_stable_ap_fixed_ap_fixed_16_6_5_3_0_softmax_config8_s",
                              "sigmoid_ap_fixed_12_4_5_3_0_ap_fixed_8_2_0_0_0_sigmoid_config5_s",
                              "normalize_ap_fixed_16_6_5_3_0_ap_fixed_16_6_5_3_0_config4_s"])
    found = activation_modules(tmp_path / "myproject_prj" / "solution1" / "syn" / "report" / "myproject_csynth.rpt")
    assert [(a.index, a.function, a.input, a.result) for a in found] == [
        (5, "sigmoid", Fixed(12, 4), Fixed(8, 2, True, True)),  # AP_RND, AP_SAT
        (6, "relu", None, None),  # io_stream: an array of an unnamed type
        (8, "softmax", None, None)]

@settings(max_examples=25, deadline=None)
@given(st.integers(2, 200), st.integers(1, 40), st.sampled_from([4, 8, 16, 20]))
def test_selecting_a_steps_input_costs_more_with_a_longer_or_wider_sequence(steps, n_in, bits):
    """The io_parallel cell reads each step's input from the packed word with variable shifts: the
    logic never shrinks as the word grows (more steps, more inputs, wider type); io_stream has none."""
    from hcp_fpga.estimator.spec import recurrent_cell

    rng = np.random.default_rng(0)
    kernel, recurrent = rng.uniform(-1, 1, (n_in, 12)), rng.uniform(-1, 1, (4, 12))

    def select_lut(steps, n_in, bits, io_type="io_parallel"):
        fx = Fixed(bits, bits // 2)
        specs = recurrent_cell("gru", kernel[:n_in], recurrent, steps, fx, fx, fx,
                               {"io_type": io_type, "strategy": "Latency", "reuse_factor": 1})
        est = estimate_specs(specs, "Vivado", 5.0, "xcu250-figd2104-2L-e", tool="Vivado HLS 2019.2")
        return sum(l.lut for l in est.layers if l.kind == "step_select")

    base = select_lut(steps, n_in, bits)
    assert base > 0 and select_lut(steps + 1, n_in, bits) >= base and select_lut(steps, n_in, bits + 4) >= base
    assert select_lut(steps, n_in, bits, "io_stream") == 0


@needs_corpus
def test_recurrent_designs_step_input_selection_brings_their_lut_within_10_percent():
    """toptagging_gru (1,920-bit input word, 6 inputs: 49,695 LUT of shifts, masks and selects in its
    report) and ftag_gru (360 bits, 6 inputs), both Vivado HLS 2019.2, io_parallel."""
    for name in ("toptagging_gru", "ftag_gru"):
        d = next(d for d in CORPUS_DESIGNS if d.name.endswith(name))
        est, real = estimate_project(d.project), parse_csynth(find_csynth(d.project)[0])
        assert abs(est.lut - real.lut) / real.lut < 0.10, (name, est.lut, real.lut)


def test_an_input_port_that_does_not_divide_into_steps_leaves_them_unknown(tmp_path):
    folder = _interface_report(_weights_folder(tmp_path, {"w2": 5 * 24, "b2": 24, "wr2": 8 * 24, "br2": 24}), 5 * 16 * 7 + 8)
    est = estimate_project(folder)
    assert est.lower_bound and any("time steps of recurrent layer 2" in n for n in est.unpriced)


@needs_corpus
def test_recurrent_designs_latency_within_10_percent_of_their_reports():
    """Steps in sequence, the input and recurrent products of a step side by side: toptagging 878,
    ftag 667, quickdraw 4,411 cycles (time steps from the report's input port: 20, 15, 100) and
    quickdraw_smaller_reuse 16,401 (from its model file, io_stream)."""
    for name in ("toptagging_gru", "ftag_gru", "quickdraw_gru", "quickdraw_gru_smaller_reuse"):
        d = next(d for d in CORPUS_DESIGNS if d.name.endswith(name))
        est, real = estimate_project(d.project), parse_csynth(find_csynth(d.project)[0])
        assert abs(est.latency_cycles - real.latency_cycles) / real.latency_cycles < 0.10, (name, est.latency_cycles)


def test_recurrent_files_that_form_no_cell_are_named(tmp_path):
    folder = _weights_folder(tmp_path, {"w2": 30, "b2": 12, "wr2": 7 * 12, "br2": 12})  # 84 / 12 = 7 units, 12 / 7 gates
    est = estimate_project(folder)
    assert any("do not form a GRU/LSTM/SimpleRNN" in n for n in est.unpriced)


def test_a_streamed_recurrent_cell_has_no_fifo_inside_it(tmp_path):
    """hls4ml builds a GRU as one function: FIFOs only after the layer, never between its parts."""
    folder = _weights_folder(tmp_path, {"w2": 3 * 24, "b2": 24, "wr2": 8 * 24, "br2": 24, "w3": 8 * 4, "b3": 4}, io_type="io_stream")
    fifos = [l.name for l in estimate_project(folder).layers if l.kind == "fifo"]
    assert fifos == ["layer2_out"]


@needs_corpus
def test_recurrent_cells_match_their_reports_where_the_cell_is_all_there_is():
    """DSP and BRAM of the GRU designs do not depend on the time steps: the cell's multipliers,
    weight memories, gate tables and elementwise products. Reports: toptagging 198 / 93 (16-bit,
    weights-only folder), quickdraw 4,041 / 1,820 (16-bit, weights-only), quickdraw_smaller_reuse
    1,849 / 578 (20-bit on a DSP48E1, io_stream, from its model file)."""
    for name, dsp, bram in (("toptagging_gru", 198, 93), ("quickdraw_gru", 4041, 1820), ("quickdraw_gru_smaller_reuse", 1849, 578)):
        d = next(d for d in CORPUS_DESIGNS if d.name.endswith(name))
        est = estimate_project(d.project)
        assert abs(est.dsp - dsp) / dsp < 0.05 and abs(est.bram18 - bram) / bram < 0.05, (name, est.dsp, est.bram18)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from([2, 4, 8, 16, 32, 64]), st.floats(2.0, 10.0))
def test_a_latency_pixel_loop_runs_at_the_smaller_of_rf_and_what_a_step_needs(rf, clock):
    """io_stream Latency conv at RF > 1: the pixel loop's II is min(RF, step cycles); so latency grows
    with RF only until RF passes what one step needs, and never exceeds the RF-paced loop."""
    from dataclasses import replace

    from hcp_fpga.estimator.backends import constants_for
    from hcp_fpga.estimator.model import _step, estimate_layer
    from hcp_fpga.estimator.precision import Fixed
    from hcp_fpga.estimator.spec import LayerSpec

    rng = np.random.default_rng(1)
    mant = rng.integers(-200, 200, size=(36, 8))
    spec = LayerSpec("conv", "conv2d", 36, 8, 64, out_size=512, channels=8, mantissas=mant, weight=Fixed(10, 2),
                     input=Fixed(12, 4), result=Fixed(16, 6), in_pix=100, in_channels=4, io_type="io_stream",
                     strategy="Latency", reuse_factor=rf)
    from hcp_fpga.estimator.timing import budget_ns, part_timing

    c = constants_for("Vivado", "xcu250-figd2104-2L-e", "Vivado HLS 2020.1")
    t, budget = part_timing("xcu250-figd2104-2L-e"), budget_ns(clock, "Vivado")
    step = _step(spec, c, t, budget)
    paced = estimate_layer(spec, c)  # the loop paced at RF
    est = estimate_layer(spec, c, step)
    assert step >= 1 and est.ii == spec.in_pix * (min(rf, step) + c.stream_cycles_per_pixel)
    assert est.latency_cycles <= paced.latency_cycles and est.ii <= paced.ii
    more = estimate_layer(replace(spec, reuse_factor=2 * rf), c, _step(replace(spec, reuse_factor=2 * rf), c, t, budget))
    assert more.ii >= spec.in_pix * (1 + c.stream_cycles_per_pixel)  # never below one cycle per pixel


@needs_corpus
def test_stream_convs_at_rf_16_run_at_the_ii_their_steps_need():
    """Gabriele-bot's io_stream convs ask for II 16 and achieve 5 and 9 (its per-module reports):
    3,951 cycles in all, where an RF-paced loop would take 13,000."""
    d = next(d for d in CORPUS_DESIGNS if d.name.endswith("qk_pruned_cnn_alveo"))
    est = estimate_project(d.project)
    assert abs(est.latency_cycles - 3951) / 3951 < 0.1


@settings(max_examples=25, deadline=None)
@given(st.floats(2.0, 25.0), st.floats(2.0, 25.0), st.sampled_from(["xc7z020clg400-1", "xcu250-figd2104-2L-e", "xczu9eg-ffvb1156-2-e"]),
       st.sampled_from(["Vivado", "Vitis"]), st.sampled_from([1, 4, 16]), st.sampled_from(["io_parallel", "io_stream"]))
def test_ff_and_cycles_never_fall_as_the_clock_period_shrinks(a, b, part, backend, resource_rf, io_type):
    """For the jet tagger as built (Latency, io_parallel), its Resource-strategy variants and io_stream."""
    from dataclasses import replace

    slow, fast = max(a, b), min(a, b)
    specs = _JET_SPECS if resource_rf == 1 else [
        replace(s, strategy="Resource", reuse_factor=resource_rf) for s in _JET_SPECS]
    specs = [replace(s, io_type=io_type) for s in specs]
    e_slow = estimate_specs(specs, backend, slow, part)
    e_fast = estimate_specs(specs, backend, fast, part)
    assert e_fast.latency_cycles >= e_slow.latency_cycles
    assert e_fast.ff >= e_slow.ff - 1e-6
    # a slow clock removes pipeline stages, never registers the layers own: no row below zero
    assert min(l.ff for l in e_slow.layers) >= 0
    # resources that do not depend on timing stay put
    assert (e_fast.dsp, e_fast.lut, e_fast.bram18) == (e_slow.dsp, e_slow.lut, e_slow.bram18)


_JET_SPECS = project_specs(TRIPLES / "jet-dense-16bit-rf1-xcu250-vhls2019").specs if TRIPLES.is_dir() else []


def test_slower_parts_need_more_cycles_at_the_same_clock():
    fast_part = estimate_specs(_JET_SPECS, "Vivado", 3.0, "xcvu9p-flga2104-3-e")
    slow_part = estimate_specs(_JET_SPECS, "Vivado", 3.0, "xc7z020clg400-1")
    assert slow_part.latency_cycles > fast_part.latency_cycles and slow_part.ff > fast_part.ff
    # a slow clock collapses the dense chain into a stage or two; the softmax's table reads keep their cycles
    slow_clock = estimate_specs(_JET_SPECS, "Vitis", 40.0, "xcvu9p-flga2104-2-e")
    assert slow_clock.latency_cycles <= 2 + 1 + 4 < estimate_specs(_JET_SPECS, "Vitis", 5.0, "xcvu9p-flga2104-2-e").latency_cycles


@pytest.mark.parametrize("part, family, speed, assumed", [
    ("xc7z020clg400-1", "7series", 1, None), ("xcu250-figd2104-2L-e", "usplus", 2, None),
    ("xck26-sfvc784-2LV-c", "usplus", 2, None),  # the Kria SOM: a Zynq UltraScale+
    ("xcvc1902-vsva2197-2MP-e-S", "usplus", 2, "family (Versal)"),  # Versal's grade before two letter fields
    ("xcku115-flvb2104-2-e", "usplus", 2, "family (UltraScale)"), ("xc7z020clg400", "7series", 1, "names no speed grade"),
    ("xcfoo", "usplus", 1, "family (not recognised)"),
])
def test_a_part_the_timing_facts_do_not_cover_is_named_in_the_notes(part, family, speed, assumed):
    """The family and speed grade the timing model reads from a part string, and a note wherever it
    assumes them (a family without delays in the timing facts, or no speed grade) instead of
    pricing it silently as UltraScale+ -1."""
    from hcp_fpga.estimator.timing import PartTiming, part_timing

    assert part_timing(part) == PartTiming(family, speed)
    notes = [n for n in estimate_specs(_JET_SPECS[:3] or _dense_softmax(4), "Vivado", 5.0, part).notes if n.startswith("part ")]
    if assumed is None:
        assert notes == []
    else:
        assert len(notes) == 1 and assumed in notes[0] and "an assumption" in notes[0]


def _dense_softmax(n_out):
    rng = np.random.default_rng(0)
    dense = LayerSpec("fc", "dense", n_in=32, n_out=n_out, out_size=n_out, mantissas=rng.integers(-200, 200, (32, n_out)),
                      weight=Fixed(10, 2), input=Fixed(16, 6), result=Fixed(16, 6))
    return [dense, LayerSpec("sm", "softmax", out_size=n_out, input=Fixed(16, 6), result=Fixed(16, 6))]


def test_the_softmax_trees_take_cycles_and_registers_at_a_fast_clock_on_a_slow_part():
    """hls4ml's stable softmax is a maximum tree, two table reads, a sum tree and the products: on an
    xc7z007s at 3.33 ns (Vitis) each tree level is a cycle and every cut carries the n values, so a
    wider softmax takes more cycles and registers (ArgyKokk: 16 outputs 20 cycles and 3,798 FF, 3
    outputs 13 cycles and 608 FF); at 5 ns on UltraScale+ the trees fit a cycle each: the two table
    reads and the cuts before them, 4 cycles (the jet triples' softmax rows)."""
    def extra(n, clock, part, backend):  # what the softmax adds to the dense layer alone
        with_sm = estimate_specs(_dense_softmax(n), backend, clock, part)
        alone = estimate_specs(_dense_softmax(n)[:1], backend, clock, part)
        return with_sm.latency_cycles - alone.latency_cycles, with_sm.ff - alone.ff

    narrow, wide = extra(2, 3.33, "xc7z007sclg225-2", "Vitis"), extra(16, 3.33, "xc7z007sclg225-2", "Vitis")
    assert wide[0] >= narrow[0] + 6 and wide[1] > narrow[1]
    assert wide[0] >= 12
    for n in (2, 5, 16):
        cycles, _ = extra(n, 5.0, "xcu250-figd2104-2L-e", "Vivado")
        assert 3 <= cycles <= 5
    # the same operators outside a scheduled chain (io_stream): the reference conditions keep the
    # fitted row, a fast clock on a slow part adds to it
    from dataclasses import replace

    stream = [replace(s, io_type="io_stream") for s in _dense_softmax(16)]
    ref = estimate_specs(stream, "Vivado", 5.0, "xcu250-figd2104-2L-e").layers
    fast = estimate_specs(stream, "Vitis", 3.33, "xc7z007sclg225-2").layers
    sm_ref, sm_fast = (next(l for l in ls if l.kind == "softmax") for ls in (ref, fast))
    assert sm_fast.latency_cycles >= sm_ref.latency_cycles + 6 and sm_fast.ff > sm_ref.ff


def test_a_resource_kernel_at_a_fast_clock_gains_the_registers_and_cycles_of_its_datapath():
    """hls4ml's Resource kernel computes n_in * n_out / RF products per cycle and sums them into the
    accumulators: at 2 ns on an Alveo U50 that datapath needs cuts the 5 ns reference schedule of its
    constants does not (Gabriele-bot's RF-2 dense: 42,046 FF reported); at the reference it costs
    nothing extra, and the more products per cycle, the more it costs."""
    from dataclasses import replace

    dense = next(s for s in _JET_SPECS if s.kind == "dense")
    def ff_cycles(rf, clock, part="xcu50-fsvh2104-2-e"):
        e = estimate_specs([replace(dense, strategy="Resource", reuse_factor=rf)], "Vivado", clock, part)
        return e.ff, e.latency_cycles

    ref = estimate_specs([replace(dense, strategy="Resource", reuse_factor=4)], "Vitis", 5.0, "xcu250-figd2104-2L-e")
    from hcp_fpga.estimator.backends import constants_for
    from hcp_fpga.estimator.model import _dense_resource

    c = constants_for("Vitis", "xcu250-figd2104-2L-e")
    assert ref.ff == pytest.approx(_dense_resource(replace(dense, strategy="Resource", reuse_factor=4), c).ff)
    assert ff_cycles(2, 2.0)[0] > ff_cycles(2, 5.0)[0] and ff_cycles(2, 2.0)[1] > ff_cycles(2, 5.0)[1]
    assert ff_cycles(2, 2.0)[0] - ff_cycles(2, 5.0)[0] > ff_cycles(8, 2.0)[0] - ff_cycles(8, 5.0)[0]


def test_an_io_stream_latency_kernel_at_a_fast_clock_gains_registers_and_cycles():
    """An io_stream Latency layer computes its products and adder tree per position: at 2 ns on an
    Alveo U50 they need cuts the 5 ns reference does not (Gabriele-bot's 144-input conv: 5,519 FF
    reported); at the reference the row is the fitted one."""
    from dataclasses import replace

    from hcp_fpga.estimator.backends import constants_for
    from hcp_fpga.estimator.model import estimate_layer

    dense = replace(next(s for s in _JET_SPECS if s.kind == "dense"), io_type="io_stream")
    row = lambda e: next(l for l in e.layers if l.name == dense.name)  # noqa: E731
    ref = row(estimate_specs([dense], "Vivado", 5.0, "xcu250-figd2104-2L-e"))
    assert ref.ff == pytest.approx(estimate_layer(dense, constants_for("Vivado", "xcu250-figd2104-2L-e")).ff)
    fast = row(estimate_specs([dense], "Vivado", 2.0, "xcu50-fsvh2104-2-e"))
    assert fast.ff > ref.ff and fast.latency_cycles > ref.latency_cycles


@settings(max_examples=40, deadline=None)
@given(st.floats(0.3, 6.0), st.floats(0.0, 4.0), st.floats(0.0, 4.0), st.floats(1.0, 5000.0), st.floats(1.0, 5000.0))
def test_a_split_step_registers_only_the_operators_longer_than_a_cycle(budget, short_ns, extra_ns, short_bits, long_bits):
    """Products of 1-2 CSD digits beside one of 3-4 digits: where the step is longer than a cycle,
    only the long product's partial sums are registered at the split (ArgyKokk's xc7z007s layers: FF
    61,697 -> 41,929 against 34,282 reported); registers never fall as the budget shrinks."""
    from hcp_fpga.estimator.timing import Level, _greedy

    long_ns = short_ns + extra_ns
    step = Level(long_ns, short_bits + long_bits, parts=((short_ns, short_bits), (long_ns, long_bits)))
    whole = Level(long_ns, short_bits + long_bits)  # every product as deep as the deepest
    cycles, bits = _greedy([step], budget)
    assert cycles == _greedy([whole], budget)[0] == max(math.ceil(long_ns / budget) - 1, 0)
    assert bits <= _greedy([whole], budget)[1] * (1 + 1e-12)  # equal up to float rounding where no part is short
    if short_ns <= budget:
        assert bits == pytest.approx(cycles * long_bits)
    assert _greedy([step], budget * 0.8)[1] >= bits - 1e-9


def test_a_chain_that_fits_one_clock_keeps_no_stage_registers():
    """Where the whole operator chain fits one period there is no cut: no registers between layers
    and none inside the pipelined multiplier layers; the I/O registers stay. At 5 ns there are."""
    slow = estimate_specs(_JET_SPECS, "Vitis", 200.0, "xcvu9p-flga2104-2-e")
    rows = {l.name: l for l in slow.layers}
    assert all(l.ff == 0 for l in slow.layers if l.kind in ("dense", "bn")) and rows["pipeline_registers"].ff == 0
    assert rows["input_registers"].ff > 0
    fast = estimate_specs(_JET_SPECS, "Vitis", 5.0, "xcvu9p-flga2104-2-e")
    assert sum(l.ff for l in fast.layers if l.kind == "dense") > 0 and fast.ff > slow.ff


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_a_model_file_and_the_live_model_give_the_same_specs(tmp_path, suffix):
    """One design, one set of specs: the Keras-free file reader and the live-model path agree on a
    QKeras CNN (conv, pooling, flatten, dense, fused and separate activations)."""
    import tensorflow as tf
    from qkeras import QActivation, QConv2D, QDense, quantized_bits

    from hcp_fpga.design import HlsSettings
    from hcp_fpga.estimator.graph import read_model_file
    from hcp_fpga.estimator.spec import layer_specs, node_specs

    tf.keras.utils.set_random_seed(1)
    inp = tf.keras.Input((8, 8, 2), name="image")
    x = QConv2D(4, 3, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1), name="conv")(inp)
    x = QActivation("quantized_relu(6,0)", name="act")(x)
    x = tf.keras.layers.MaxPooling2D(name="pool")(x)
    x = tf.keras.layers.Flatten(name="flat")(x)
    out = QDense(3, kernel_quantizer=quantized_bits(8, 1, alpha=1), bias_quantizer=quantized_bits(8, 1, alpha=1), name="fc",
                 activation="softmax")(x)
    model = tf.keras.Model(inp, out)
    path = tmp_path / f"m{suffix}"
    model.save(path) if suffix == ".h5" else model.save(path, save_format="keras")
    settings = HlsSettings(backend="Vivado", softmax_table_size=None)
    live = layer_specs(model, settings)
    from_file = node_specs(read_model_file(path), settings)
    assert [s.name for s in live] == [s.name for s in from_file]
    for a, b in zip(live, from_file):
        assert (a.kind, a.n_in, a.n_out, a.n_pix, a.out_size, a.in_pix, a.pool_size) == \
               (b.kind, b.n_in, b.n_out, b.n_pix, b.out_size, b.in_pix, b.pool_size), a.name
        assert (a.weight, a.input, a.result) == (b.weight, b.input, b.result), a.name
        if a.mantissas is not None:
            np.testing.assert_array_equal(a.mantissas, b.mantissas)


@pytest.mark.parametrize("dim", [1, 2])
def test_a_model_file_reads_cropping_shapes_as_keras_computes_them(tmp_path, dim):
    """The Keras-free reader inferred no output shape for Cropping1D/2D: the estimate of a folder with
    config + model (no firmware) priced its FIFO at zero elements (random types: 2 of 30 folders)."""
    import tensorflow as tf
    from tensorflow.keras import layers as L

    from hcp_fpga.design import HlsSettings
    from hcp_fpga.estimator.graph import read_model_file
    from hcp_fpga.estimator.spec import layer_specs, node_specs

    if dim == 1:
        layers = [L.Input((12, 2)), L.Conv1D(3, 3, name="c"), L.Cropping1D((1, 2), name="crop"), L.Flatten(), L.Dense(2)]
    else:
        layers = [L.Input((8, 7, 2)), L.Conv2D(3, 3, name="c"), L.Cropping2D(((1, 0), (0, 2)), name="crop"),
                  L.Cropping2D(1, name="crop2"), L.Flatten(), L.Dense(2)]
    model = tf.keras.Sequential(layers)
    model.save(tmp_path / "m.h5")
    settings = HlsSettings(backend="Vivado", io_type="io_stream")
    live = {s.name: s.out_size for s in layer_specs(model, settings)}
    from_file = {s.name: s.out_size for s in node_specs(read_model_file(tmp_path / "m.h5"), settings)}
    assert from_file == live and live["crop"] == (7 * 3 if dim == 1 else 5 * 3 * 3)


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_a_qconv2d_batchnorm_file_reads_its_kernel_folded_as_hls4ml_builds_it(tmp_path, suffix):
    """hls4ml 1.3 folds a QConv2DBatchnorm's moving statistics into its kernel, then quantizes it:
    the file reader does too (a .keras file keeps the batch normalization's weights in a group of
    their own), so both paths give the live model's mantissas, not the unfolded kernel's."""
    import tensorflow as tf
    from qkeras import QConv2DBatchnorm, quantized_bits

    from hcp_fpga.design import HlsSettings
    from hcp_fpga.estimator.graph import read_model_file
    from hcp_fpga.estimator.spec import layer_specs, node_specs

    tf.keras.utils.set_random_seed(2)
    q = quantized_bits(6, 0, alpha=1)
    model = tf.keras.Sequential([tf.keras.Input((6, 6, 2)), QConv2DBatchnorm(4, 3, kernel_quantizer=q, bias_quantizer=q, name="c")])
    kernel, bias, _, _, iteration, _, _ = model.layers[0].get_weights()
    rng = np.random.default_rng(0)
    model.layers[0].set_weights([kernel, bias, rng.uniform(0.5, 1.5, 4), rng.normal(0, 0.3, 4), iteration,
                                 rng.normal(0, 0.3, 4), rng.uniform(0.2, 2.0, 4)])
    path = tmp_path / f"m{suffix}"
    model.save(path) if suffix == ".h5" else model.save(path, save_format="keras")
    settings = HlsSettings(backend="Vivado")
    live = next(s for s in layer_specs(model, settings) if s.name == "c")
    from_file = next(s for s in node_specs(read_model_file(path), settings) if s.name == "c")
    unfolded = q(kernel).numpy().reshape(-1, 4) * 32
    assert not np.array_equal(live.mantissas, unfolded)
    np.testing.assert_array_equal(live.mantissas, from_file.mantissas)


def _old_firmware(tmp_path):
    """A project as hls4ml 0.5 wrote it: sizes as #define macros, the '_large' Resource kernel name,
    no '// name' comments, weights in .txt."""
    proj = tmp_path / "old"
    fw = proj / "firmware"
    (fw / "weights").mkdir(parents=True)
    (proj / "hls4ml_config.yml").write_text("Backend: Vivado\nClockPeriod: 5\nIOType: io_parallel\nPart: xcku115-flvb2104-2-i\n"
                                           "HLSConfig:\n  Model:\n    Precision: ap_fixed<16,6>\n    ReuseFactor: 4\n"
                                           "    Strategy: Resource\n")
    (fw / "defines.h").write_text("#define N_INPUT_1_1 16\n#define N_LAYER_2 8\ntypedef ap_fixed<16,6> model_default_t;\n"
                                  "typedef ap_fixed<16,6> input_t;\ntypedef ap_fixed<16,6> layer2_t;\n")
    (fw / "parameters.h").write_text(textwrap.dedent("""\
        struct config2 : nnet::dense_config {
            static const unsigned n_in = N_INPUT_1_1;
            static const unsigned n_out = N_LAYER_2;
            static const unsigned reuse_factor = 4;
            static const unsigned strategy = nnet::resource;
            typedef model_default_t weight_t;
            typedef model_default_t accum_t;
        };
        """))
    (fw / "myproject.cpp").write_text("nnet::dense_large<input_t, layer2_t, config2>(input_1, layer2_out, w2, b2);\n")
    rng = np.random.default_rng(0)
    (fw / "weights" / "w2.txt").write_text(", ".join(f"{v:.4f}" for v in rng.normal(0, 0.5, 128)))
    return proj


def test_old_firmware_with_macro_sizes_reads_its_layers(tmp_path):
    est = estimate_project(_old_firmware(tmp_path))
    dense = [l for l in est.layers if l.kind == "dense"]
    assert len(dense) == 1 and dense[0].ii == 4 and not est.unpriced
    assert est.dsp == 16 * 8 / 4  # Resource at RF 4: n_in*n_out/RF multipliers, 16-bit: one DSP each


def test_unresolvable_sizes_are_named_not_a_traceback(tmp_path):
    proj = _old_firmware(tmp_path)
    defines = proj / "firmware" / "defines.h"
    defines.write_text(defines.read_text().replace("#define N_LAYER_2 8\n", ""))
    est = estimate_project(proj)
    assert est.unpriced == ("layer2_out",)


def test_a_nested_model_file_reads_like_the_live_model(tmp_path):
    """A Sequential block inside a functional model: Keras-2 HDF5 stores its layers' weights in one
    group; each inner layer still gets its own kernel, and the block's input is the outer layer."""
    import tensorflow as tf

    from hcp_fpga.design import HlsSettings
    from hcp_fpga.estimator.graph import read_model_file
    from hcp_fpga.estimator.spec import layer_specs, node_specs

    tf.keras.utils.set_random_seed(2)
    block = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(6, activation="relu", name="in1"),
                                 tf.keras.layers.Dense(4, name="in2")], name="block")
    inp = tf.keras.Input((8,), name="x")
    model = tf.keras.Model(inp, tf.keras.layers.Dense(3, activation="softmax", name="head")(block(inp)))
    model.save(tmp_path / "nested.h5")
    settings = HlsSettings(backend="Vivado", softmax_table_size=None)
    live, from_file = layer_specs(model, settings), node_specs(read_model_file(tmp_path / "nested.h5"), settings)
    assert [(s.name, s.kind, s.n_in, s.n_out, s.input, s.result) for s in live] == \
           [(s.name, s.kind, s.n_in, s.n_out, s.input, s.result) for s in from_file]
    assert [s.kind for s in from_file if s.name == "in2"] == ["dense"]
    for a, b in zip(live, from_file):
        if a.mantissas is not None:
            np.testing.assert_array_equal(a.mantissas, b.mantissas)


def test_hgq_quantizers_fold_into_the_layer_before_as_hls4ml_writes_them():
    """HGQ proxy models put a FixedPointQuantizer after every layer; hls4ml folds it into that layer's
    result type. The csynth module names of MinhNguy3n's HGQ design carry the types:
    dense_latency<ap_fixed<12,5>, ap_fixed<12,8>> and relu<ap_fixed<12,8>, ap_ufixed<10,6>>."""
    from hcp_fpga.estimator.model import project_specs
    from hcp_fpga.estimator.precision import Fixed

    project = SHARED / "reports" / "corpus" / "MinhNguy3n__hls4ml-tutorial__model_3.1"
    if not project.is_dir():
        pytest.skip("../shared corpus not present")
    specs = {s.name: s for s in project_specs(project).specs}
    assert (specs["h_dense"].input, specs["h_dense"].result) == (Fixed(12, 5), Fixed(12, 8))
    assert (specs["re_lu"].input, specs["re_lu"].result) == (Fixed(12, 8), Fixed(10, 6, signed=False))
    assert specs["h_dense_1"].input == Fixed(10, 6, signed=False)


def test_an_hgq_input_quantizer_removes_the_products_of_its_dead_elements():
    """HGQ gives every element its own type; a 0-bit element is a constant zero, and its products
    vanish. EBOPs count each live input at its own bits: b, as hls4ml casts it to ap_[u]fixed<b, i>
    (its sign bit among the b)."""
    from hcp_fpga.design import HlsSettings
    from hcp_fpga.estimator.ebops import ebops_of_specs
    from hcp_fpga.estimator.graph import Node
    from hcp_fpga.estimator.spec import node_specs

    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(4, 3)).astype(np.float32)
    k, b, i = np.array([[1, 0, 1, 0]]), np.array([[5, 0, 3, 0]]), np.array([[2, 0, 1, 0]])  # elements 1, 3 dead
    nodes = [Node("x", "InputLayer", {}, out_shape=(4,)),
             Node("q", "FixedPointQuantizer", {}, ["x"], [(4,)], (4,), [k, b, i]),
             Node("d", "Dense", {"units": 3}, ["q"], [(4,)], (3,), [kernel, np.zeros(3, np.float32)])]
    dense = {s.name: s for s in node_specs(nodes, HlsSettings())}["d"]
    assert list(dense.row_bits) == [5, 0, 3, 0]
    # in ap_fixed<5, 2> (the narrowest type holding both live elements): their top bits are 5 and 4
    # bits above its lowest
    assert dense.input == Fixed(5, 2) and list(dense.row_operand_bits) == [5, 0, 4, 0]
    assert not dense.mantissas[[1, 3]].any() and dense.mantissas[[0, 2]].any()
    live = np.count_nonzero(dense.mantissas, axis=1)
    assert ebops_of_specs([dense]) == (live[0] * 5 + live[2] * 3) * dense.weight.width


def test_hgq_inputs_are_as_wide_as_their_top_bit_for_the_dsp_decision():
    """The HLS tool drops the leading zero bits an HGQ element's type leaves in the layer's input
    type, not the trailing ones below its grid: two inputs of 3 bits each, one with its top bit at
    2^11 in a ufixed<12,12> input (a 12-bit operand), one at 2^3 (4 bits). Only the first one's
    4-digit products go to DSPs (>= 10-bit operands); EBOPs count both at their 3 bits."""
    from hcp_fpga.design import HlsSettings
    from hcp_fpga.estimator.backends import VIVADO
    from hcp_fpga.estimator.graph import Node
    from hcp_fpga.estimator.model import dsp_products
    from hcp_fpga.estimator.spec import node_specs

    kernel = np.array([[0.6640625, -0.6640625], [0.6640625 / 2, -0.6640625 / 4]], np.float32)  # 4 CSD digits each
    k, b, i = np.array([[0, 0]]), np.array([[3, 3]]), np.array([[12, 4]])
    override = {"layers": {"q": {"result_t": "ufixed<12,12,TRN,WRAP>"}}}
    nodes = [Node("x", "InputLayer", {}, out_shape=(2,)),
             Node("q", "FixedPointQuantizer", {"overrides": override}, ["x"], [(2,)], (2,), [k, b, i]),
             Node("d", "Dense", {"units": 2}, ["q"], [(2,)], (2,), [kernel, np.zeros(2, np.float32)])]
    dense = {s.name: s for s in node_specs(nodes, HlsSettings())}["d"]
    assert list(dense.row_bits) == [3, 3] and list(dense.row_operand_bits) == [12, 4]
    assert dense.mantissas.all()
    assert dsp_products(dense, VIVADO, shared=False) == 2  # the first input's two products


@needs_corpus
def test_hgq_corpus_layers_keep_the_dsps_their_operand_widths_call_for():
    """MinhNguy3n's HGQ MLP (Vitis HLS 2024.2): 2, 0, 0, 0 DSPs per dense module; its second layer's
    only candidate product has an 8-bit input operand times a 7-bit constant (mul_8ns_7s, in LUTs).
    Lrozzy's (2024.1): 35, 14, 1, 0. Its third layer computes 8 of its 32 outputs for the last one
    to read: 1 DSP product among them, 12 among all (dead-code elimination); its second layer's 14
    include 8- and 9-bit inputs times 11-12-bit constants (mul_8ns_11ns, mul_9ns_12s)."""
    est = estimate_project(CORPUS / "MinhNguy3n__hls4ml-tutorial__model_3.1")
    assert [l.dsp for l in est.layers if l.kind == "dense"] == [2, 0, 0, 0]
    dense = {l.name: l.dsp for l in estimate_project(CORPUS / "Lrozzy__hls4ml-tutorial__model_3.1").layers}
    assert dense["h_dense"] == pytest.approx(35, abs=3) and dense["h_dense_1"] == pytest.approx(14, abs=2)
    assert dense["h_dense_2"] == 1 and dense["h_dense_3"] == 0


def test_keras3_files_give_weightless_shaped_layers_their_class_named_groups():
    """Keras 3 names weight groups after the class (fixed_point_quantizer, _1, _2 ...): HGQ's
    per-element quantizer types are read from them in creation order."""
    from hcp_fpga.estimator.model import project_model_nodes

    project = SHARED / "reports" / "corpus" / "Lrozzy__hls4ml-tutorial__model_3.1"
    if not project.is_dir():
        pytest.skip("../shared corpus not present")
    nodes = {n.name: n for n in project_model_nodes(project)}
    assert [w.shape for w in nodes["h_quantize"].weights] == [(1, 53)] * 3
    assert [w.shape for w in nodes["h_dense_quantizer"].weights] == [()] * 3  # a per-layer (fused) one
    assert [w.shape for w in nodes["h_dense_relu_quantizer"].weights] == [(1, 64)] * 3
    assert [w.shape for w in nodes["h_dense_3_quantizer"].weights] == [(1, 5)] * 3


def test_a_keras_file_gives_each_layer_its_own_weights_whatever_its_name(tmp_path):
    """A .keras file stores a layer's weights under its class name in snake case, numbered per class
    in model order (dense, dense_1, ...; a nested model's layers below its own), not under the
    layer's name: layers a user named, a nested model's, and those of a model built after others
    in one session (dense_5, dense_6: before, the first read the second's weights and the second
    none) each read back their own."""
    import tensorflow as tf

    from hcp_fpga.estimator.graph import nodes_from_json, read_model_json

    L = tf.keras.layers
    tf.keras.utils.set_random_seed(0)
    tf.keras.Sequential([L.Input((4,)), L.Dense(3), L.Dense(3)])  # takes the names 'dense', 'dense_1'
    x = tf.keras.Input((6,))
    inner = tf.keras.Sequential([L.Input((5,)), L.Dense(7, name="inner_a"), L.Dense(2)], name="sub")
    h = inner(L.Dense(5, name="fc1")(x))
    model = tf.keras.Model(x, L.Dense(3)(L.Dense(4)(h)))
    model.save(tmp_path / "m.keras")
    read = {n.name: n.weights for n in nodes_from_json(*read_model_json(tmp_path / "m.keras"))}
    layers = [l for l in model.layers if l.name != "sub"] + list(inner.layers)
    assert len(layers) == 6 and all(l.name in read for l in layers)
    for layer in layers:
        assert len(read[layer.name]) == len(layer.get_weights())
        assert all(np.array_equal(a, b) for a, b in zip(read[layer.name], layer.get_weights())), layer.name


def test_a_keras_file_gives_a_wrapper_the_weights_of_the_layer_it_wraps(tmp_path):
    """A .keras file keeps a TimeDistributed's Dense below the wrapper's path ('<wrapper>/layer/vars')
    and a Bidirectional's two layers as 'forward_layer' and 'backward_layer' (their cells' vars
    below): the wrapper's weights, in its own order (forward, then backward). Before, they were read
    as groups named 'layer', 'forward_layer', 'backward_layer', so the wrapper had none and was named
    not priced (hls4ml 1.3 writes its own keras_model.keras so: 14 of 157 hls4ml-written folders)."""
    import tensorflow as tf

    from hcp_fpga.estimator.graph import nodes_from_json, read_model_json

    L = tf.keras.layers
    tf.keras.utils.set_random_seed(0)
    x = tf.keras.Input((5, 4))
    h = L.Bidirectional(L.LSTM(3, return_sequences=True), name="bi")(L.TimeDistributed(L.Dense(6), name="td")(x))
    model = tf.keras.Model(x, L.Dense(2, name="out")(L.Flatten()(h)))
    model.save(tmp_path / "m.keras")
    read = {n.name: n.weights for n in nodes_from_json(*read_model_json(tmp_path / "m.keras"))}
    for name in ("td", "bi", "out"):
        weights = model.get_layer(name).get_weights()
        assert len(read[name]) == len(weights) > 0, name
        assert all(np.array_equal(a, b) for a, b in zip(read[name], weights)), name


def test_a_firmware_calling_a_config_it_does_not_define_is_a_named_lower_bound(tmp_path):
    """hls4ml 1.3 writes a Keras Softmax layer's config struct as 'Softmax_config<N>' and calls
    'softmax_config<N>': that project does not compile, and its firmware says nothing of the layer's
    size (it was priced at zero elements, silently). It is named, with the fix, and cannot fit."""
    import hls4ml
    import tensorflow as tf

    from hcp_fpga.estimator.model import estimate_project

    model = tf.keras.Sequential([tf.keras.layers.Input((8,)), tf.keras.layers.Dense(4), tf.keras.layers.Softmax()])
    config = hls4ml.utils.config_from_keras_model(model, granularity="name")
    hls4ml.converters.convert_from_keras_model(model, hls_config=config, output_dir=str(tmp_path / "prj"),
                                               backend="Vivado").write()
    est = estimate_project(tmp_path / "prj")
    assert len(est.unpriced) == 1 and "is not in parameters.h, so the project does not compile" in est.unpriced[0]
    assert "use Activation('softmax')" in est.unpriced[0] and next(l for l in est.layers if l.kind == "dense").dsp > 0


def test_a_simple_rnn_model_is_a_named_lower_bound(tmp_path, capsys):
    """hls4ml 1.3 writes no Vivado/Vitis code for SimpleRNN: the estimate of such a model names it
    and cannot say it fits (the export refuses it: tests/test_export_csim.py)."""
    import tensorflow as tf

    model = tf.keras.Sequential([tf.keras.layers.Input((6, 3)), tf.keras.layers.SimpleRNN(8), tf.keras.layers.Dense(4)])
    model.save(tmp_path / "m.h5")
    from tests.conftest import run_cli

    assert run_cli("estimate", tmp_path / "m.h5", "--board", "alveo-u250", "--json") == 0
    out = capsys.readouterr().out
    assert "SimpleRNN: hls4ml 1.3 writes no Vivado/Vitis code" in out and '"fits": true' not in out


def test_batchnorm_folds_into_the_layer_before_it_only_where_hls4ml_folds_it():
    """hls4ml 1.3's FuseBatchNormalization: a BN after a Dense with no activation between, whose
    result type is not set, folds into its kernel (x gamma / sqrt(var + eps)); not after a pinned
    result, an activation, a quantized kernel, or a Dense whose output also goes elsewhere."""
    from hcp_fpga.estimator.graph import Node
    from hcp_fpga.estimator.spec import fuse_batchnorm

    kernel = np.arange(1.0, 7.0).reshape(3, 2)
    gamma, beta, mean, var = np.array([2.0, 0.5]), np.zeros(2), np.zeros(2), np.array([3.0, 0.0])
    dense = Node("d", "Dense", {"activation": "linear"}, ["in"], [(3,)], (2,), [kernel, np.zeros(2)])
    bn = Node("bn", "BatchNormalization", {"epsilon": 1.0}, ["d"], [(2,)], (2,), [gamma, beta, mean, var])
    out = Node("o", "Dense", {}, ["bn"], [(2,)], (1,), [np.ones((2, 1)), np.zeros(1)])
    fused = fuse_batchnorm([dense, bn, out], set())
    assert [n.name for n in fused] == ["d", "o"] and fused[1].inputs == ["d"]
    assert np.allclose(fused[0].weights[0], kernel * np.array([2.0 / 2.0, 0.5 / 1.0]))
    assert [n.name for n in fuse_batchnorm([dense, bn, out], {"d"})] == ["d", "bn", "o"]  # result pinned
    relu = Node("d", "Dense", {"activation": "relu"}, ["in"], [(3,)], (2,), [kernel, np.zeros(2)])
    assert len(fuse_batchnorm([relu, bn, out], set())) == 3
    quantized = Node("d", "QDense", {"activation": "linear", "kernel_quantizer": "quantized_bits(4,0)"}, ["in"], [(3,)], (2,),
                     [kernel, np.zeros(2)])
    assert len(fuse_batchnorm([quantized, bn, out], set())) == 3
    side = Node("s", "Dense", {}, ["d"], [(2,)], (1,), [np.ones((2, 1)), np.zeros(1)])
    assert len(fuse_batchnorm([dense, bn, out, side], set())) == 4  # d feeds two layers
    folded = fuse_batchnorm([dense, bn, out], set(), frozenset({"d"}))  # weights read from the project: already folded
    assert len(folded) == 2 and np.array_equal(folded[0].weights[0], kernel)


def _latency_folder(folder, uncertainty=None, clock=2.0):
    """A weights-only Latency io_parallel MLP (16-32-5, 16-bit) on a 7-series part at a fast clock."""
    return _weights_folder(folder, {"w2": 16 * 32, "b2": 32, "w3": 32 * 5, "b3": 5}, seed=3, strategy="Latency",
                           part="xc7z020clg400-1", clock=clock, uncertainty=uncertainty)


def test_the_configs_clock_uncertainty_sets_the_schedulers_budget(tmp_path):
    """hls4ml writes ClockUncertainty into the build script: a larger one leaves less of the period
    to fill, so registers and cycles never fall as it grows; as ns it is a share of ClockPeriod;
    without it the backend's default (Vivado HLS 12.5 %) applies, and the note names the source."""
    ests = {u: estimate_project(_latency_folder(tmp_path / str(i), u)) for i, u in enumerate(["0%", "12.5%", "40%", "0.8"])}
    default = estimate_project(_latency_folder(tmp_path / "none"))
    assert ests["0%"].ff <= ests["12.5%"].ff <= ests["40%"].ff and ests["0%"].latency_cycles <= ests["40%"].latency_cycles
    assert ests["40%"].latency_cycles > ests["0%"].latency_cycles  # 2 ns on a 7z020: the budget matters
    assert (ests["0.8"].ff, ests["0.8"].latency_cycles) == (ests["40%"].ff, ests["40%"].latency_cycles)  # 0.8 ns of 2 ns
    assert (default.ff, default.latency_cycles) == (ests["12.5%"].ff, ests["12.5%"].latency_cycles)
    assert any("clock uncertainty 40.0% (hls4ml_config.yml)" in n for n in ests["40%"].notes)
    # what-if clocks: 0.8 ns stays 0.8 ns (20 % of 4 ns), 40 % stays 40 %
    at4 = estimate_project(tmp_path / "3", clock_ns=4.0)
    assert any("clock uncertainty 20.0% (hls4ml_config.yml)" in n for n in at4.notes)
    assert estimate_project(tmp_path / "2", clock_ns=4.0).latency_cycles >= at4.latency_cycles


@pytest.mark.parametrize("value, clock", [("abc", None), ("150%", None), ("3.0", None), ("1.5", "1.2")])
def test_a_clock_uncertainty_that_is_no_share_of_the_period_is_one_clear_error(tmp_path, value, clock, capsys):
    """('1.5' ns is below the config's 2 ns, but not below a --clock 1.2 what-if.)"""
    from tests.conftest import run_cli

    folder = _latency_folder(tmp_path, value)
    assert run_cli("estimate", folder, *(["--clock", clock] if clock else [])) == 2
    err = capsys.readouterr().err
    assert "ClockUncertainty" in err and "fix it" in err and "Traceback" not in err


@needs_corpus
@pytest.mark.parametrize("name", ["toptagging_gru", "quickdraw_gru_smaller_reuse"])
def test_compare_pairs_a_recurrent_cell_with_its_module_and_the_layers_after_it_with_theirs(name):
    """hls4ml builds the cell as one module (gru_stack): --compare shows it as one row summing its
    parts, so the dense layers after it meet their own modules (the DSPs of each pair agree)."""
    from hcp_fpga.estimator.compare import match_layers
    from hcp_fpga.estimator.reports import project_reports

    d = next(d for d in CORPUS_DESIGNS if d.name.endswith(name))
    pairs = match_layers(estimate_project(d.project), project_reports(d.project)["csynth"])
    cell = [(ours, theirs) for ours, theirs in pairs if ours.kind == "recurrent"]
    assert len(cell) == 1 and cell[0][1].name.startswith("gru_stack")
    assert not any(ours.part_of for ours, _ in pairs)
    for ours, theirs in pairs:
        if ours.kind in ("recurrent", "dense"):
            assert abs(ours.dsp - theirs.dsp) <= max(0.05 * theirs.dsp, 2), (ours.name, ours.dsp, theirs.name, theirs.dsp)


@given(n=st.integers(2, 64))
@settings(max_examples=40, deadline=None)
def test_softmax_exp_table_copies_by_tool_version(n):
    """m exp-table reads per cycle: Vivado HLS and Vitis HLS 2023+ read two per block RAM copy,
    ceil(m / 2); Vitis HLS 2021 one per copy, with one copy serving two, max(m - 1, 1). Both never
    fall as the softmax widens, and the one-read copies are never fewer."""
    def bram(n, tool):
        sm = LayerSpec("sm", "softmax", out_size=n, channels=n, input=Fixed(16, 6), result=Fixed(16, 6), table_size=1024)
        return next(l.bram18 for l in estimate_specs([sm], "Vitis", 5.0, tool=tool).layers if l.name == "sm")

    for tool in ("Vivado HLS 2019.2", "Vitis HLS 2021.1", "Vitis HLS 2024.1"):
        assert bram(n + 1, tool) >= bram(n, tool)
    # a 1,024 x 18-bit exp table is one BRAM18 per copy, plus the inverse table's one
    assert bram(n, "Vitis HLS 2021.1") == max(n - 1, 1) + 1
    assert bram(n, "Vitis HLS 2024.1") == bram(n, "Vivado HLS 2019.2") == math.ceil(n / 2) + 1


@needs_corpus
def test_vitis_2021_softmaxes_take_one_exp_table_copy_per_read():
    """ArgyKokk's six Vitis HLS 2021.1 softmaxes (2-16 outputs): every one's block RAM equals its
    report's softmax module (exp table n - 1 copies + the inverse table)."""
    from hcp_fpga.estimator.compare import match_layers
    from hcp_fpga.estimator.reports import project_reports

    seen = 0
    for d in CORPUS_DESIGNS:
        if not d.name.startswith("ArgyKokk") or d.project is None:
            continue
        est = estimate_project(d.project, part=d.part, clock_ns=d.clock_ns)
        assert est.tool == "Vitis HLS 2021.1"
        pairs = [(e, r) for e, r in match_layers(est, project_reports(d.project)["csynth"]) if e.kind == "softmax"]
        assert len(pairs) == 1 and pairs[0][0].bram18 == pairs[0][1].bram18 > 0, d.name
        seen += 1
    assert seen == 6


@needs_corpus
def test_a_project_on_a_part_no_catalog_board_uses_says_so(capsys):
    """ArgyKokk's xc7z007s is on no catalog board: the estimate is printed, then one line asks for
    --board instead of a utilization table."""
    from tests.conftest import run_cli

    d = next(d for d in CORPUS_DESIGNS if d.name.endswith("CARDIO_DSP_reuse100"))
    assert run_cli("estimate", d.project) == 0
    text = capsys.readouterr().out
    assert "no catalog board uses part xc7z007s" in text and "utilization of" not in text


def test_a_clock_no_global_buffer_can_run_is_named():
    """Below 1/891 MHz (the fastest BUFG in the timing facts, UltraScale+ -3) no listed part can be
    clocked: the estimate still schedules it, and says so; at 1.2 ns it does not."""
    specs = _dense_softmax(5)
    fast = estimate_specs(specs, "Vivado", 1.0, "xcu250-figd2104-2L-e")
    usual = estimate_specs(specs, "Vivado", 1.2, "xcu250-figd2104-2L-e")
    assert any("faster than any global clock buffer" in n for n in fast.notes)
    assert not any("global clock buffer" in n for n in usual.notes)


@given(steps=st.integers(2, 200), n_in=st.integers(1, 16), bits=st.integers(2, 18))
@settings(max_examples=40, deadline=None)
def test_a_cell_behind_another_layer_picks_its_steps_with_a_multiplexer(steps, n_in, bits):
    """An io_parallel recurrent cell that reads the top function's input port shifts the packed word
    (uw-acme's reports); one behind another layer (an Embedding, a Conv1D) reads a partitioned array:
    a steps:1 multiplexer per input bit, a tree of LUT6 4:1 muxes, which never shrinks as the
    sequence grows."""
    from hcp_fpga.estimator.spec import recurrent_cell

    t = Fixed(bits, 2)
    common = {"io_type": "io_parallel", "strategy": "Latency", "reuse_factor": 1, "out_size": 4, "channels": 4}
    rng = np.random.default_rng(0)
    kernel, recurrent = rng.normal(size=(n_in, 12)), rng.normal(size=(4, 12))

    def select(packed, k):
        specs = recurrent_cell("gru", kernel, recurrent, k, t, t, t, common, accum=t, packed_input=packed)
        sel = [s for s in specs if s.name == "gru_select"]
        est = estimate_specs(specs, "Vivado", 5.0, "xcu250-figd2104-2L-e")
        return sel[0].kind, next(l.lut for l in est.layers if l.name == "gru_select")

    kind, lut = select(False, steps)
    assert kind == "step_mux" and lut == n_in * bits * math.ceil((steps - 1) / 3)
    assert select(False, steps + 1)[1] >= lut
    assert select(True, steps)[0] == "step_select"


@pytest.mark.parametrize("backend", ["Vivado", "Vitis"])
def test_only_the_line_buffer_conv_pays_a_per_pixel_call_overhead(backend):
    """io_stream at RF 1: hls4ml's depthwise and pointwise (1x1) kernels are inlined into the pixel
    loop (one pixel per cycle); the line-buffer conv's per-pixel function is INLINE OFF, so the loop
    waits RF + the tool's overhead per pixel."""
    from hcp_fpga.estimator.backends import constants_for
    from hcp_fpga.estimator.model import estimate_layer

    c = constants_for(backend, "xcu250-figd2104-2L-e", None)
    assert c.stream_cycles_per_pixel > 0
    rng = np.random.default_rng(3)

    def conv(n_in: int, n_out: int, depthwise: bool = False) -> LayerSpec:
        return LayerSpec("c", "conv2d", n_in, n_out, 64, out_size=64 * n_out, channels=n_out, in_pix=100, in_channels=8,
                         mantissas=rng.integers(-100, 100, size=(n_in, n_out)), weight=Fixed(8, 2), io_type="io_stream",
                         depthwise=depthwise)

    assert estimate_layer(conv(72, 16), c).ii == 100 * (1 + c.stream_cycles_per_pixel)  # 3x3 on 8 channels
    assert estimate_layer(conv(8, 16), c).ii == 100  # 1x1: pointwise_conv_2d_cl
    assert estimate_layer(conv(72, 8, depthwise=True), c).ii == 100


BASELINES = SHARED / "reports" / "hls4ml-synthesis-baselines"


@pytest.mark.skipif(not BASELINES.is_dir(), reason="../shared/reports/hls4ml-synthesis-baselines not present")
def test_the_ci_depthwise_stream_baselines_latency():
    """hls4ml's CI DepthwiseConv1D/2D io_stream baselines (Vivado HLS 2020.1, Vitis HLS 2024.1), rebuilt
    from cases.yaml: 35 cycles for 32 input pixels, 1,028 for 32 x 32."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import baselines

    cases = [c for c in baselines.cases() if any(l["class"].startswith("Depthwise") for l in c.layers)]
    assert len(cases) == 4 and not any(c.skip for c in cases)
    for case in cases:
        est, real = baselines.estimate(case, baselines.build(case)), baselines.real(case)
        assert abs(est.latency_cycles - real.latency_cycles) <= 0.05 * real.latency_cycles, (case.file.name, est.latency_cycles)


def test_stream_conv_window_and_line_buffers_follow_the_live_channels():
    """An io_stream line-buffer conv holds its window (kernel x live channels x input bits) in registers
    and, in 2D, (kernel height - 1) line buffers per live channel; a pruned input channel needs neither;
    a 1x1 conv has neither."""
    from dataclasses import replace

    from hcp_fpga.estimator.backends import constants_for
    from hcp_fpga.estimator.model import estimate_layer

    c = constants_for("Vivado", "xcu250-figd2104-2L-e", None)
    rng = np.random.default_rng(5)
    mant = rng.integers(1, 100, size=(72, 16))  # 3x3 on 8 channels, rows ordered tap-major, channel-minor

    def conv(m, **kw) -> LayerSpec:
        return LayerSpec("c", "conv2d", m.shape[0], 16, 784, out_size=784 * 16, channels=16, in_pix=900, in_channels=8,
                         mantissas=m, weight=Fixed(8, 2), input=Fixed(10, 4), io_type="io_stream", filt_height=3,
                         line_width=30, **kw)

    full, flat = estimate_layer(conv(mant), c), estimate_layer(replace(conv(mant), filt_height=1, line_width=0), c)
    arrays = 2 * 8
    assert full.ff - flat.ff == pytest.approx(arrays * c.line_buffer_ff)
    assert full.lut - flat.lut == pytest.approx(arrays * 2 * c.line_buffer_lut_per_16_words)  # 30 words: 2 x 16
    pruned = mant.copy()
    pruned[3::8] = 0  # input channel 3 pruned in every tap
    less = estimate_layer(conv(pruned), c)
    assert full.ff - less.ff >= 9 * 10 + 2 * c.line_buffer_ff  # its window slots and two line buffers
    # (inputs of 11 bits and more: its 7-bit constants are DSP products at both widths)
    one = LayerSpec("p", "conv2d", 8, 16, 900, out_size=900 * 16, channels=16, in_pix=900, in_channels=8,
                    mantissas=mant[:8], weight=Fixed(8, 2), input=Fixed(11, 4), io_type="io_stream", filt_height=1, line_width=30)
    wider = estimate_layer(replace(one, input=Fixed(21, 4)), c)
    assert wider.ff - estimate_layer(one, c).ff < 8 * 10  # no window of its inputs (8 x 10 more bits)


@needs_corpus
@pytest.mark.parametrize("name", ["Alezander9__ML_FPGAonPixel__cnn_large", "Spehic__Diplomska-hls4ml__mnist_qkeras_pruned_cnn"])
def test_stream_conv_modules_registers(name):
    """The io_stream conv modules' FF (window, line buffers, outputs) against their per-module csynth rows:
    within 20 % (without the window and line buffers: 42 % and 54 % under)."""
    from hcp_fpga.estimator.compare import match_layers
    from hcp_fpga.estimator.reports import project_reports

    d = next(d for d in CORPUS_DESIGNS if d.name == name)
    est = estimate_project(d.project, part=d.part, clock_ns=d.clock_ns)
    pairs = [(e, r) for e, r in match_layers(est, project_reports(d.project)["csynth"]) if e.kind == "conv2d"]
    assert len(pairs) == 2
    for e, r in pairs:
        assert abs(e.ff - r.ff) <= 0.2 * r.ff, (e.name, e.ff, r.ff)


def _fifo_rows(rpt) -> list[tuple[int, int, float, float]]:
    """(depth, bits, BRAM18, FF) of every row of a csynth report's FIFO table."""
    text = rpt.read_text(errors="replace")
    block = text.split("* FIFO:", 1)[1].split("* Expression:", 1)[0] if "* FIFO:" in text else ""
    rows = []
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 7 and cells[0] != "Total" and cells[5].isdigit() and cells[6].isdigit():
            rows.append((int(cells[5]), int(cells[6]), float(cells[1] or 0), float(cells[2])))
    return rows


VITIS_FIFO_REPORTS = [CORPUS / "Alezander9__ML_FPGAonPixel__cnn_small/HLS/src/cnn_small/myproject_prj/solution1/syn/report/myproject_csynth.rpt",
                      CORPUS / "Alezander9__ML_FPGAonPixel__cnn_large/HLS/src/cnn_large/myproject_prj/solution1/syn/report/myproject_csynth.rpt",
                      SHARED / "reports/conv1d-vitis2024-u250/myproject_csynth.rpt"]


@needs_corpus
def test_vitis_fifo_registers_follow_the_power_of_two_width():
    """Every FIFO row of three Vitis HLS designs (2023.1, 2024.1): registers, shift-register and block-RAM
    FIFOs of 16-1,264 bits, 1-150 deep, within 3 % of their reported FF (2.1 FF per bit: up to 60 % off)."""
    from hcp_fpga.estimator.backends import constants_for
    from hcp_fpga.estimator.model import fifo_cost

    c = constants_for("Vitis", "xcu250-figd2104-2L-e", "Vitis HLS 2024.1")
    rows = [r for rpt in VITIS_FIFO_REPORTS for r in _fifo_rows(rpt)]
    assert len(rows) >= 18 and {d <= 2 for d, *_ in rows} == {True, False}
    for depth, bits, bram, ff in rows:
        est_bram, _, est_ff = fifo_cost(depth, bits, c)
        assert est_bram == bram and abs(est_ff - ff) <= 0.03 * ff, (depth, bits, est_ff, ff)


@needs_corpus
@pytest.mark.slow  # 36 grid points x 15 designs
def test_the_adder_level_delay_in_use_is_what_fit_timing_picks():
    """timing.ADD_LEVEL_NS is the best point of benchmarks/fit_timing.py's grid over the Latency
    io_parallel designs it is fitted on (the HGQ ones left out), so a model change that moves the
    best point must re-derive it."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import fit_timing

    from hcp_fpga.estimator import timing

    cases = fit_timing.cases()
    assert cases and not any("Lrozzy" in c[0] or "MinhNguy3n" in c[0] for c in cases)  # per-element (HGQ) types
    grid = [(a7, aus, *fit_timing.evaluate(cases, a7, aus)) for a7, aus in fit_timing.GRID]
    best = min(grid, key=lambda g: g[2] + g[3])
    assert (best[0], best[1]) == (timing.ADD_LEVEL_NS["7series"], timing.ADD_LEVEL_NS["usplus"])


def _lfads_as_built(tmp_path: Path) -> Path:
    """LFADS conv2d_concat's folder (no report) with the per-layer RFs its SOURCE.txt reads off the
    firmware its report was built from (27 and 45; the config it ships says RF 1)."""
    import shutil

    import yaml

    dest = tmp_path / "lfads"
    shutil.copytree(CORPUS / "YanLunHuang__LFADS__conv2d_concat", dest, ignore=shutil.ignore_patterns("report"))
    config = yaml.safe_load((dest / "hls4ml_config.yml").read_text().replace("!keras_model ", ""))
    config["KerasModel"] = "keras_model.h5"
    config["HLSConfig"]["LayerName"] = {"conv2d": {"ReuseFactor": 27}, "conv2d_1": {"ReuseFactor": 45}}
    (dest / "hls4ml_config.yml").write_text(yaml.safe_dump(config))
    return dest


@needs_corpus
def test_two_input_branches_run_side_by_side(tmp_path):
    """LFADS conv2d_concat: each input feeds its own conv (2,176 and 5,400 cycles in the report, under
    DATAFLOW), then a concatenation; the report's latency is 5,403, the longer branch plus three. The
    sum of the branches (7,540 estimated before) is not what the tool builds."""
    est = estimate_project(_lfads_as_built(tmp_path))
    cycles = {l.name: l.latency_cycles for l in est.layers}
    assert est.latency_cycles == pytest.approx(5403, rel=0.05)
    assert est.latency_cycles < cycles["conv2d"] + cycles["conv2d_1"]


@needs_corpus
def test_a_resource_conv_steps_through_its_pixel_partitions_one_after_the_other(tmp_path):
    """hls4ml's io_parallel Resource conv leaves its PartitionLoop unpipelined: each partition takes
    its RF-cycle ReuseLoop plus the fill_buffer call, set-up and store. LFADS conv2d_concat (Vivado
    HLS 2019.2, at the RF 27/45 its SOURCE.txt reads off the firmware; the config it ships says RF 1,
    so the RFs are set per layer here): its report's conv modules take 2,176 cycles (64 partitions x
    34) and 5,400 (100 x 54). Priced as pipelined at II = RF they were 1,757 and 4,547; at RF 1 (the
    II 1 pipeline of hls4ml's CI conv2d baselines, 52 cycles) nothing changes."""
    from dataclasses import replace

    from hcp_fpga.estimator.backends import constants_for
    from hcp_fpga.estimator.model import estimate_layer

    dest = _lfads_as_built(tmp_path)
    cycles = {l.name: l.latency_cycles for l in estimate_project(dest).layers}
    assert cycles["conv2d"] == pytest.approx(2176, rel=0.05) and cycles["conv2d_1"] == pytest.approx(5400, rel=0.05)
    spec = next(s for s in project_specs(dest).specs if s.name == "conv2d")
    c = constants_for("Vivado")
    at_rf1 = estimate_layer(replace(spec, reuse_factor=1), c)
    assert at_rf1.latency_cycles < 2 * spec.partitions  # RF 1: pipelined over the partitions


@needs_corpus
def test_the_accelerator_wrapper_note_states_what_the_corpus_reports_measure(tmp_path):
    """A VivadoAccelerator project's synthesis top is <project>_axi around the network; the estimate
    (and the core report it is compared with) leaves that wrapper out and says so, with the sizes
    the five io_stream, axi_stream, float-I/O projects' reports give (axi top less the core)."""
    import re

    from hcp_fpga.estimator.model import accelerator_wrapper_note
    from hcp_fpga.estimator.reports import parse_csynth_rpt

    names = ("ChiRuiChen__AutoEncoder_hls4ml__autoencoder_cnn", "ChiRuiChen__Deepcalo_Linchi__deepcalo",
             "Gabriele-bot__ALVEO-PYNQ_ML__qk_pruned_cnn_alveo", "Spehic__Diplomska-hls4ml__mnist_qkeras_pruned_cnn",
             "crimson1256__hls4ml_modified_yolo_v3_tiny__yolov3tiny")
    extra = {"lut": [], "ff": [], "bram18": []}
    for name in names:
        axi = next((CORPUS / name).rglob("myproject_axi_csynth.rpt"))
        top, core = parse_csynth_rpt(axi), parse_csynth_rpt(axi.parent / "myproject_csynth.rpt")
        for r in extra:
            extra[r].append(getattr(top, r) - getattr(core, r))
    note = accelerator_wrapper_note({"Backend": "VivadoAccelerator"})
    stated = [int(v.replace(",", "")) for v in re.findall(r"\+([\d,]+)", note)]
    assert stated == [min(extra["lut"]), max(extra["lut"]), min(extra["ff"]), max(extra["ff"]),
                      min(extra["bram18"]), max(extra["bram18"])]
    assert accelerator_wrapper_note({"Backend": "Vitis"}) is None
    est = estimate_project(CORPUS / names[3])
    assert any(n.startswith("VivadoAccelerator project") for n in est.notes)


def _autoencoder_as_built(tmp_path: Path) -> Path:
    """ChiRuiChen's autoencoder folder with each conv at the RF its report's ReuseLoop trip counts
    show (9, 72, 36, 36, 36, 36, 72: each conv's n_in; its config's RF 64 gives 72 by hls4ml's rule),
    without the report (it would judge the estimate)."""
    import shutil

    import yaml

    dest = tmp_path / "autoencoder"
    shutil.copytree(CORPUS / "ChiRuiChen__AutoEncoder_hls4ml__autoencoder_cnn", dest,
                    ignore=shutil.ignore_patterns("myproject_prj"))
    config = yaml.safe_load((dest / "hls4ml_config.yml").read_text().replace("!keras_model ", ""))
    config["KerasModel"] = "keras_model.h5"
    built = dict(zip((f"conv2d_{i}" for i in range(147, 154)), (9, 72, 36, 36, 36, 36, 72)))
    config["HLSConfig"]["LayerName"] = {name: {"ReuseFactor": rf} for name, rf in built.items()}
    (dest / "hls4ml_config.yml").write_text(yaml.safe_dump(config))
    return dest


@needs_corpus
def test_the_last_resource_multiplier_slot_is_narrowed_to_its_weights(tmp_path):
    """ChiRuiChen's autoencoder (ap_fixed<32,16> weights, xc7z020, Vivado HLS 2019.2): each conv's
    report has one 32 x 17 (or 14 x 32) multiplier, 2 DSP48E1, beside 32 x 32 ones, 4 each: the
    last slot of the reshaped weight ROM, whose weights need 17 (first conv: 14) bits. Per conv
    30, 14, 14, 14, 14, 30, 2 DSP, 118 in all; its weight ROM words (7 x 32 + 14 bits: 7 BRAM18)
    narrow the same way. Priced at the declared width it was 132 DSP at these RFs."""
    est = estimate_project(_autoencoder_as_built(tmp_path))
    convs = [l for l in est.layers if l.kind == "conv2d"]
    assert [l.dsp for l in convs] == [30, 14, 14, 14, 14, 30, 2]
    assert est.dsp == 118
    assert [l.bram18 for l in convs] == [7, 4, 4, 4, 4, 7, 1]


@needs_corpus
def test_ten_bit_products_stay_in_luts_on_alex_model():
    """Alezander9's alex_model (Vitis HLS 2023.1): its second and last dense read 10-bit ReLU outputs
    and multiply them by 10-bit weights; their modules report no DSP (723 in all: 692 in the first
    dense, 31 in the BatchNormalizations). Priced with a 10-bit input threshold alone they took 184."""
    est = estimate_project(CORPUS / "Alezander9__ML_FPGAonPixel__alex_model" / "HLS" / "src" / "alex_model")
    dsp = {l.name: l.dsp for l in est.layers}
    assert dsp["dense2"] == 0 and dsp["dense_output"] == 0
    assert est.dsp == pytest.approx(723, rel=0.05)


def test_an_hgq_quantizers_accumulator_override_sets_the_layers_adders():
    """HGQ proxy models carry each layer's types in the next quantizer's ``overrides``; hls4ml 1.0
    sets accum_t from them (EnforceProxyModelEmbeddedConfig), a user's config setting wins, and a
    project config that names no accumulator leaves it (Lrozzy's report: 17-24-bit adders for
    accum_t fixed<24,14>, where the model default is 16 bits wide)."""
    from hcp_fpga.design import HlsSettings
    from hcp_fpga.estimator.graph import Node
    from hcp_fpga.estimator.precision import Fixed
    from hcp_fpga.estimator.spec import apply_project_precisions, node_specs

    kernel = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    override = {"layers": {"d": {"accum_t": "fixed<24,14>", "result_t": "fixed<16,14,TRN,WRAP>"}}}
    nodes = [Node("x", "InputLayer", {}, out_shape=(4,)),
             Node("d", "Dense", {"units": 3}, ["x"], [(4,)], (3,), [kernel, np.zeros(3, np.float32)]),
             Node("q", "FixedPointQuantizer", {"overrides": override}, ["d"], [(3,)], (3,), [])]
    dense = {s.name: s for s in node_specs(nodes, HlsSettings())}["d"]
    assert dense.accum == Fixed(24, 14)
    specs = node_specs(nodes, HlsSettings())
    default = Fixed(16, 6)
    assert {s.name: s for s in apply_project_precisions(specs, {}, default)}["d"].accum == Fixed(24, 14)
    named = {"HLSConfig": {"LayerName": {"d": {"Precision": {"accum": "ap_fixed<20,10>"}}}}}
    assert {s.name: s for s in apply_project_precisions(specs, named, default)}["d"].accum == Fixed(20, 10)
    auto = {"HLSConfig": {"LayerName": {"d": {"Precision": {"accum": "auto"}}}}}
    inferred = {s.name: s for s in apply_project_precisions(specs, auto, default)}["d"].accum
    assert inferred != Fixed(24, 14) and inferred.width == default.width + dense.weight.width + 2 + 1  # 4 terms, a bias
    bad = {"layers": {"d": {"accum_t": "fixed<oops>"}}}
    nodes[2] = Node("q", "FixedPointQuantizer", {"overrides": bad}, ["d"], [(3,)], (3,), [])
    assert {s.name: s for s in node_specs(nodes, HlsSettings())}["d"].accum != Fixed(24, 14)  # unparsable: ignored


@needs_corpus
def test_rounding_relus_are_priced_as_each_tool_builds_them():
    """A ReLU that rounds and saturates to a narrower type: Vitis HLS's reports price it per output
    bit (ArgyKokk's mnist MLP, Vitis HLS 2021.1: 43.0 LUT per read element at 8 bits in all three
    layers), Vivado HLS's per input bit (jet-qkeras6-pruned75, 2019.2: 72.0 per read element from 16
    bits). Both within 10 % per module."""
    from hcp_fpga.estimator.compare import match_layers
    from hcp_fpga.estimator.reports import project_reports

    argy = next(CORPUS.glob("ArgyKokk__hls4ml_MLP_estimator__mnist_LUT_reuse100/**/hls4ml_config.yml")).parent
    for project in (argy, SHARED / "reports" / "triples" / "jet-qkeras6-pruned75-xcu250-vhls2019"):
        est, report = estimate_project(project), project_reports(project)["csynth"]
        relus = [(e.lut, r.lut) for e, r in match_layers(est, report) if e.kind == "relu"]
        assert len(relus) == 3 and all(abs(e - r) <= 0.10 * r for e, r in relus), (project.name, relus)
