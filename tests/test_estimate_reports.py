"""Report parsing on every real report in ../shared/reports, and hls4ml's reuse-factor rule."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hcp_fpga.estimator import (
    closest_valid, parse_baseline_json, parse_csynth_xml, parse_vivado_synth, project_reports, valid_reuse_factors,
)
from hcp_fpga.estimator.reports import parse_csynth_instances
from tests.conftest import SHARED

REPORTS = SHARED / "reports"
TRIPLES = sorted(p for p in (REPORTS / "triples").iterdir() if p.is_dir()) if (REPORTS / "triples").is_dir() else []

# (csynth DSP, FF, LUT, BRAM18, latency, II) from triples/README.md, read off the committed reports.
README_TABLE = {
    "jet-keras3layer-vu9p-vhls2019": (3317, 15168, 112473, 4, 10, 1),
    "qconv1d-encoder-12bit-vu13p-stream-vhls2020": (2742, 57505, 609548, 81, 160, 135),
    "qconv1d-encoder-8bit-ku15p-resource-vhls2020": (813, 80229, 240302, 249, 910, 885),
    "qconv1d-encoder-8bit-a200t-resource-vhls2020": (800, 67242, 235367, 249, 913, 885),
    "jet-dense-16bit-rf1-xcu250-vhls2019": (1450, 10961, 84942, 4, 13, 1),
    "jet-dense-16bit-rf2-xcu250-vhls2019": (1444, 8878, 87251, 4, 12, 2),
    "jet-dense-pruned75-16bit-xcu250-vhls2019": (803, 5734, 30204, 4, 11, 1),
    "jet-qkeras6-pruned75-xcu250-vhls2019": (23, 2762, 32195, 4, 9, 1),
    "jet-qkeras6-pruned75-pynqz2-rf64-vhls2019": (9, 17330, 33690, 4, 52, 15),
    "dense16x4-vx690t-vhls2019": (55, 1866, 1773, 0, 3, 1),
}


@pytest.mark.parametrize("project", TRIPLES, ids=lambda p: p.name)
def test_every_triple_csynth_matches_its_readme_row(project):
    cs = project_reports(project)["csynth"]
    dsp, ff, lut, bram, lat, ii = README_TABLE[project.name]
    assert (cs.dsp, cs.ff, cs.lut, cs.bram18, cs.latency_cycles, cs.ii) == (dsp, ff, lut, bram, lat, ii)
    assert cs.source == "csynth" and cs.clock_ns in (5.0, 10.0)
    modules = [l for l in cs.layers if l.kind == "module"]
    assert modules, "per-module rows expected"
    assert sum(m.dsp for m in modules) <= cs.dsp  # instances are part of the total


def test_per_module_rows_add_up_for_the_pruned_jet_tagger():
    cs = project_reports(REPORTS / "triples" / "jet-dense-pruned75-16bit-xcu250-vhls2019")["csynth"]
    assert sorted(m.dsp for m in cs.layers) == [0, 0, 0, 5, 36, 200, 217, 345]
    assert sum(m.lut for m in cs.layers) == 30162  # the 'Instance' total row of the report


def test_vivado_synth_counts_bram_tiles_as_two_bram18():
    v = parse_vivado_synth(REPORTS / "conv1d-vitis2024-u250" / "vivado_synth.rpt")
    assert (v.lut, v.ff, v.dsp, v.bram18) == (8565, 4864, 467, 24)  # 12 tiles = 10 RAMB36 + 4 RAMB18
    v7 = parse_vivado_synth(REPORTS / "hls4ml-test-vivado2020" / "vivado_synth.rpt")
    assert (v7.lut, v7.ff, v7.dsp, v7.bram18) == (1526, 2428, 66, 0)
    enc = parse_vivado_synth(REPORTS / "triples" / "qconv1d-encoder-12bit-vu13p-stream-vhls2020" / "vivado_synth.rpt")
    assert (enc.dsp, enc.bram18) == (24, 33)  # 16.5 tiles


def test_hls4ml_test_project_and_vitis_2024_project():
    top = parse_csynth_xml(REPORTS / "hls4ml-test-vivado2020" / "myproject_csynth.xml")
    assert (top.dsp, top.ff, top.lut, top.bram18, top.latency_cycles, top.ii) == (73, 7969, 2532, 0, 10, 8)
    assert top.part.startswith("xc7z020")
    rows = parse_csynth_instances(REPORTS / "hls4ml-test-vivado2020" / "myproject_csynth.rpt")
    assert rows[0].dsp == 73
    conv = project_reports(REPORTS / "conv1d-vitis2024-u250")
    assert (conv["csynth"].dsp, conv["csynth"].lut, conv["csynth"].ff) == (467, 17966, 7123)
    assert (conv["vsynth"].lut, conv["vsynth"].ff) == (8565, 4864)
    assert len(conv["csynth"].layers) == 6


def test_all_81_baselines_parse():
    files = sorted((REPORTS / "hls4ml-synthesis-baselines" / "json").rglob("*.json"))
    vivado_vitis = [f for f in files if "oneAPI" not in f.parts]
    assert len(files) == 81 and len(vivado_vitis) == 60
    for f in files:
        e = parse_baseline_json(f)
        assert e.lut > 0 and e.latency_cycles is not None and e.clock_ns == 5.0
    intel = parse_baseline_json(next(f for f in files if f.name.endswith("oneAPI-elu.json")))
    # ALUT/reg/DSP read as LUT/FF/DSP; M20K blocks are not BRAM18 and stay in a note
    assert (intel.lut, intel.ff, intel.dsp, intel.bram18, intel.latency_cycles, intel.ii) == (8793, 7113, 0, 0, 8, 1)
    assert intel.tool == "oneAPI" and "M20K): 189" in intel.notes[0]


def _corpus_designs():
    if not (REPORTS / "corpus").is_dir():
        return []
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from corpus import designs
    return designs()


@pytest.mark.parametrize("design", _corpus_designs(), ids=lambda d: d.name[:50])
def test_every_corpus_design_reports_its_source_totals(design):
    """Found from the design's own folder, whatever its layout (Vivado HLS / Vitis HLS
    <prj>/solution1/syn/report, Vitis Unified hls/syn/report, a bare report/ folder, text-only
    reports, nested projects); totals equal the ones SOURCE.txt quotes, and the tool is named."""
    cs = project_reports(REPORTS / "corpus" / design.name)["csynth"]
    t = design.truth
    for got, want in ((cs.dsp, t.dsp), (cs.lut, t.lut), (cs.ff, t.ff), (cs.bram18, t.bram18),
                      (cs.latency_cycles, t.latency_cycles), (cs.ii, t.ii)):
        if want is not None:
            assert got == want
    assert cs.tool.split()[0] in ("Vivado", "Vitis") and cs.tool.split()[-1][:4] in ("2018", "2019", "2020", "2021", "2023", "2024")
    assert cs.part and cs.clock_ns


def test_text_report_reads_as_the_xml_does():
    """Every top-level report that has both forms: the text parser gives the XML's figures."""
    from hcp_fpga.estimator.reports import parse_csynth_rpt, report_dirs, find_csynth
    pairs = 0
    for root in (REPORTS / "corpus", REPORTS / "triples"):
        for project in sorted(p for p in root.iterdir() if p.is_dir()):
            found = find_csynth(project)
            if not found or found[0].suffix != ".xml" or found[1] is None:
                continue
            x, r = parse_csynth_xml(found[0]), parse_csynth_rpt(found[1])
            assert (r.dsp, r.lut, r.ff, r.bram18, r.uram, r.latency_cycles, r.ii, r.clock_ns, r.part, r.tool) == \
                (x.dsp, x.lut, x.ff, x.bram18, x.uram, x.latency_cycles, x.ii, x.clock_ns, x.part, x.tool), project.name
            pairs += 1
    assert pairs >= 30
    assert report_dirs(REPORTS / "corpus" / "YanLunHuang__LFADS__conv2d_concat")[0].name == "report"


def test_truncated_reports_are_named(tmp_path):
    from hcp_fpga.estimator.reports import ReportError, parse_csynth
    src = REPORTS / "triples" / "dense16x4-vx690t-vhls2019" / "myproject_prj" / "solution1" / "syn" / "report"
    for name in ("myproject_csynth.xml", "myproject_csynth.rpt"):
        text = (src / name).read_text()
        cut = tmp_path / name
        cut.write_text(text[: len(text) // 3])
        with pytest.raises(ReportError, match="truncated|cannot read"):
            parse_csynth(cut)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 96), st.integers(1, 96))
def test_valid_rf_rule_matches_hls4ml(n_in, n_out):
    from hls4ml.backends import get_backend

    assert valid_reuse_factors(n_in, n_out) == get_backend("Vivado").get_valid_reuse_factors(n_in, n_out)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 64), st.integers(1, 64), st.integers(1, 5000))
def test_closest_valid_matches_hls4ml(n_in, n_out, rf):
    from hls4ml.backends import get_backend

    backend = get_backend("Vivado")
    assert closest_valid(n_in, n_out, rf) == backend.get_closest_reuse_factor(backend.get_valid_reuse_factors(n_in, n_out), rf)


def test_calibration_rf_snapping_reproduces_reported_latency():
    # wa-hls4ml row 80-24-120 at requested RF 2047: hls4ml snaps to 1920 and 1440; latency 3,365 cycles.
    assert closest_valid(80, 24, 2047) == 1920 and closest_valid(24, 120, 2047) == 1440


def test_verdict_names_the_binding_resource():
    from hcp_fpga.board_catalog import load_board

    enc = project_reports(REPORTS / "triples" / "qconv1d-encoder-12bit-vu13p-stream-vhls2020")["csynth"]
    on_vu13p = enc.verdict(load_board("vu13p"), headroom=0.2)
    assert on_vu13p.fits is True and on_vu13p.binding == "lut"  # 609,548 of 1,728,000 LUT is 35 %; DSP 22 %
    assert on_vu13p.utilization["lut"] == pytest.approx(609548 / 1728000)
    tight = enc.verdict(load_board("vu13p"), headroom=0.7)  # only 30 % may be used
    assert tight.fits is False and tight.over == ("lut",)
    assert enc.verdict(load_board("zcu104")).over == ("dsp", "lut")
    small = project_reports(REPORTS / "triples" / "dense16x4-vx690t-vhls2019")["csynth"]
    v = small.verdict(load_board("pynq-z2"), headroom=0.2)
    assert v.fits and v.binding == "dsp" and v.over == ()


def test_fixed_point_parsing_and_csd_digits_by_hand():
    from hcp_fpga.estimator.precision import Fixed, csd_digits, parse_fixed

    assert parse_fixed("ap_fixed<16,6>") == Fixed(16, 6, True, saturating=False)
    assert parse_fixed("ufixed<6,0,RND_CONV,SAT>") == Fixed(6, 0, False, saturating=True)
    assert parse_fixed("ap_fixed<28, 16, AP_RND_ZERO, AP_SAT>").saturating
    assert not parse_fixed("fixed<6,1,TRN,WRAP,0>").saturating
    assert parse_fixed("ap_int<8>") == Fixed(8, 8, True)
    # 7 = 8-1 (2 digits), 11 = 16-4-1 (3), 21 = 16+4+1 (3), 23 = 16+8-1 (3), 1712 = 2048-256-64-16 (4)
    assert csd_digits(np.array([0, 1, 2, 3, 7, -7, 11, 21, 23, 1712])).tolist() == [0, 1, 1, 2, 2, 2, 3, 3, 3, 4]
    # truncation toward -inf, as ap_fixed's default AP_TRN: -0.0005 (-0.512 LSB) becomes -1 LSB, not 0;
    # beyond the range it wraps (AP_WRAP: 1,024,000 LSB - 16 x 65,536), or saturates where the type says so
    assert parse_fixed("ap_fixed<16,6>").mantissas(np.array([0.5, -0.0005, 1000.0])).tolist() == [512, -1, -24576]
    assert parse_fixed("ap_fixed<16,6,AP_TRN,AP_SAT>").mantissas(np.array([1000.0, -1000.0])).tolist() == [32767, -32768]


def test_tool_version_axis_resource_dsp_mapping():
    """Vivado HLS (2020.1 and older) puts Resource-strategy products whose operands are both >= 4 bits
    and whose signed product is >= 9 bits on DSPs, two per DSP when they total <= 8 bits; Vitis HLS
    keeps weights under 8 bits in LUTs. The corpus designs the rule was read from."""
    from hcp_fpga.estimator.backends import constants_for
    from hcp_fpga.estimator.model import estimate_project, resource_on_dsp
    from hcp_fpga.estimator.precision import Fixed

    vivado = constants_for("Vivado", tool="Vivado HLS 2019.2")
    assert resource_on_dsp(Fixed(4, 2), Fixed(4, 0, signed=False), vivado)  # Spehic: unsigned 4 x signed 4
    assert not resource_on_dsp(Fixed(4, 2), Fixed(4, 2), vivado)  # ftag_gru: signed 4 x signed 4
    assert not resource_on_dsp(Fixed(5, 1), Fixed(3, 2), vivado)  # Gabriele-bot: 5 x 3
    assert resource_on_dsp(Fixed(4, 2), Fixed(4, 2), constants_for("Vivado", tool="Vivado HLS 2019.2", mul_impl="dsp"))

    spehic = REPORTS / "corpus" / "Spehic__Diplomska-hls4ml__mnist_qkeras_pruned_cnn"
    est = estimate_project(spehic)  # the tool comes from the project's own report
    assert est.tool == "Vivado HLS 2020.1"
    assert {l.name: l.dsp for l in est.layers if l.dsp} == {"qconv2d_1": 4, "qconv2d_2": 64, "qdense_1": 256, "qdense_2": 3,
                                                            "qdense_2_softmax": 1}  # the report: 1 (ceil(10 / RF 64))
    assert abs(est.dsp - 330) / 330 < 0.05  # the report: 330
    vitis = estimate_project(spehic, tool="Vitis HLS 2023.1")  # the other tool family's rule: 4-bit weights in LUTs
    assert {l.name: l.dsp for l in vitis.layers if l.dsp} == {"qdense_2_softmax": 1}
    gabriele = estimate_project(REPORTS / "corpus" / "Gabriele-bot__ALVEO-PYNQ_ML__qk_pruned_dense_pynq")
    assert gabriele.dsp == 10  # 4 x 2 and 4 x 3 bits stay in LUTs (report: 10, the softmax)


def test_ftag_gru_dsps_are_the_widened_gate_products():
    """ftag_gru (Vivado HLS 2019.2, 4-bit types, 120 units): the report's 123 DSPs are 120 in gru_stack
    plus 3 in the softmax. The only product per unit with a wider operand is (1 - z) x candidate:
    5 x 4 bits make a 9-bit signed product, a DSP under Vivado HLS's rule; r x (recurrent part) and
    z x h (4 x 4) stay in LUTs. The softmax, which no weight file shows, comes from the report's
    module list (softmax_stable_..._config8)."""
    from hcp_fpga.estimator.model import estimate_project

    gru = estimate_project(REPORTS / "corpus" / "uw-acme__HLS4ML_VS_MANUAL__ftag_gru")
    assert {l.name: l.dsp for l in gru.layers if l.dsp} == {"layer2_mix": 120, "softmax8": 3}  # report: 120 + 3


def test_gru_gate_products_follow_the_tools_dsp_rule():
    """Per GRU unit: two gate products of the state type and one whose operand is 1 - z (one bit
    wider). Under Vivado HLS <= 2020 a product of two variables is a DSP when both operands are >= 4
    bits and the signed product >= 9 bits; 16-bit types put all three on DSPs (toptagging: 60 for 20
    units), 3-bit types none; Vitis HLS needs a 10-bit operand."""
    from hcp_fpga.estimator.backends import constants_for
    from hcp_fpga.estimator.model import estimate_specs, variable_multipliers
    from hcp_fpga.estimator.precision import Fixed
    from hcp_fpga.estimator.spec import recurrent_cell

    vivado = constants_for("Vivado", tool="Vivado HLS 2019.2")
    assert variable_multipliers(8, 5, 4, vivado)[0] == 8 and variable_multipliers(8, 4, 4, vivado) == (0.0, 0.0)
    assert variable_multipliers(8, 5, 4, constants_for("Vitis", tool="Vitis HLS 2023.1")) == (0.0, 0.0)
    rng = np.random.default_rng(0)
    units = 8
    for bits, vivado_dsp in ((3, 0), (4, units), (16, 3 * units)):
        t = Fixed(bits, 2)
        specs = recurrent_cell("gru", rng.normal(size=(3, 3 * units)), rng.normal(size=(units, 3 * units)), 5, t, t, t,
                               {"io_type": "io_stream", "strategy": "Latency", "reuse_factor": 1}, accum=t)
        gate_dsp = [sum(l.dsp for l in estimate_specs(specs, "Vivado", 5.0, tool=tool).layers if l.kind == "merge_mul")
                    for tool in ("Vivado HLS 2019.2", "Vitis HLS 2023.1")]
        assert gate_dsp == [vivado_dsp, 3 * units if bits >= 10 else 0], bits


def test_ftag_gru_resource_products_are_lut_multipliers():
    """Its signed 4 x 4-bit products in LUTs: the LUT total (the GRU priced for one step) comes to the
    report's 122,749 within 10 %; as 867 packed DSPs (the earlier rule) it came to 69,044."""
    from hcp_fpga.estimator.model import estimate_project

    gru = estimate_project(REPORTS / "corpus" / "uw-acme__HLS4ML_VS_MANUAL__ftag_gru")
    assert abs(gru.lut - 122_749) / 122_749 < 0.10 and gru.dsp <= 123  # the report's 123 (120 + the softmax's 3)


def test_unknown_tool_versions_are_named_never_silently_replaced():
    from hcp_fpga.estimator.backends import tool_versions

    entry, note = tool_versions("Vitis HLS 2031.1")
    assert entry.family == "Vitis HLS" and "outside the versions the reports cover" in note
    assert tool_versions("Vivado HLS 2019.2") [1] is None
    with pytest.raises(ValueError):
        tool_versions("Catapult 2024.1")


def test_batchnorm_and_stream_softmax_share_multipliers_by_reuse_factor():
    """hls4ml limits BatchNormalization's multiplies to ceil(elements / RF) (II = RF) and an io_stream
    softmax's to ceil(n / RF) per pixel: cnn_small (io_stream, RF 10,000 on its BN layers) reports
    5 DSP in all; one per BN layer, not one per element (24 and 12)."""
    from hcp_fpga.estimator.model import estimate_project

    est = estimate_project(REPORTS / "corpus" / "Alezander9__ML_FPGAonPixel__cnn_small" / "HLS" / "src" / "cnn_small")
    bn = {l.name: (l.dsp, l.ii) for l in est.layers if l.kind == "bn"}
    assert bn == {"batch_normalization_9": (1.0, 24), "batch_normalization_10": (1.0, 12)}
    assert est.dsp == 5  # the report: 5


def _fifo_report(path, names):
    rows = "\n".join(f"    |{n:<28}|        0|     5|   0|    -|     2|     8|       16|" for n in names)
    path.write_text("== Utilization Estimates\n* Summary:\n+ Detail:\n    * FIFO:\n"
                    "    |Name                        | BRAM_18K| FF | LUT| URAM| Depth| Bits| Size:D*B|\n"
                    f"{rows}\n\n    * Expression:\n    |layer9_out_0_V_U |  0|\n")
    return path


def test_output_fifos_count_elements_or_channels_in_every_naming(tmp_path):
    from hcp_fpga.estimator.reports import output_fifo_counts, report_mismatch

    names = ([f"layer2_out_{i}_V_U" for i in range(5)]  # Vivado HLS io_parallel: one per element
             + ["layer3_out_U"] + [f"layer3_out_{i}_U" for i in range(1, 7)]  # Vitis HLS io_parallel
             + [f"layer4_out_V_data_{i}_V_U" for i in range(3)]  # Vivado HLS io_stream: one per channel
             + ["layer5_out_U", "layer2_in_0_V_U", "w2_V_U"])  # a packed Vitis stream, not layer outputs
    rpt = _fifo_report(tmp_path / "myproject_csynth.rpt", names)
    assert output_fifo_counts(rpt) == {2: 5, 3: 7, 4: 3}  # nothing after the FIFO table is read
    assert report_mismatch(rpt, {5, 7, 3, 64}) is None
    why = report_mismatch(rpt, {5, 3, 64})
    assert "another network" in why and "layer 3" in why and "re-run C synthesis" in why
    assert report_mismatch(None, {1}) is None and output_fifo_counts(tmp_path / "none.rpt") == {}


def test_a_report_merging_two_results_is_not_of_a_model_whose_layers_read_one(tmp_path):
    """hls4ml writes a concatenation, add, multiply... as a module of its own (its name carries its
    config struct). A report with one cannot be of a model where no layer reads two results; the
    expression rows of any design (add_ln703_fu_338_p2) are no such module."""
    from hcp_fpga.estimator.reports import merge_modules, report_mismatch

    rpt = tmp_path / "myproject_csynth.rpt"
    rpt.write_text("    |add_ln703_fu_338_p2 |     +    |      0|  0|  23|          16|          16|\n"
                   "    |concatenate1d_ap_fixed_ap_fixed_ap_fixed_config9_U0 |concatenate1d_ap_fixed_ap_fixed_ap_fixed_config9_s |\n")
    assert merge_modules(rpt) == ["concatenate1d (config9)"]
    why = report_mismatch(rpt, {8}, merges=False)
    assert "another network" in why and "concatenate1d (config9)" in why and "re-run C synthesis" in why
    assert report_mismatch(rpt, {8}, merges=True) is None
    rpt.write_text("    |add_ln703_fu_338_p2 |     +    |      0|  0|  23|          16|          16|\n")
    assert merge_modules(rpt) == [] and report_mismatch(rpt, {8}, merges=False) is None


@pytest.mark.skipif(not (REPORTS / "corpus").is_dir(), reason="../shared corpus not present")
def test_lfads_report_is_of_a_network_with_a_concatenation_its_model_lacks():
    """LFADS conv2d_concat's report has concatenate1d (config9); the model in its folder ends in two
    Flattens, no Concatenate. Alezander9's cnn_large has both: its report judges it."""
    from hcp_fpga.estimator.model import estimate_project

    lfads = estimate_project(REPORTS / "corpus" / "YanLunHuang__LFADS__conv2d_concat")
    assert lfads.report_mismatch and "concatenate1d (config9)" in lfads.report_mismatch
    large = estimate_project(REPORTS / "corpus" / "Alezander9__ML_FPGAonPixel__cnn_large" / "HLS" / "src" / "cnn_large")
    assert large.report_mismatch is None


def test_a_report_whose_resource_kernels_ran_at_other_reuse_factors_is_of_another_build(tmp_path):
    """Each hls4ml Resource kernel's ReuseLoop runs RF times (``for ir < rufactor``); its module report
    shows that trip count. A trip count no Resource layer of the config runs at (as hls4ml moves its
    RFs to valid ones) means the report was built from another config; a subset is fine (a layer at
    RF 1 has no loop), and without module reports nothing is said."""
    from hcp_fpga.estimator.reports import report_mismatch, reuse_loop_trips

    top = tmp_path / "myproject_csynth.rpt"
    top.write_text("== Utilization Estimates\n")
    assert reuse_loop_trips(top) == set() and report_mismatch(top, {8}, reuse={72}) is None
    loops = ("        |- ReadInputHeight_ReadInputWidth  |     4623|    23119|  4 ~ 20  |          -|          -|  1156|    no    |\n"
             "        | + ReuseLoop                      |       15|       15|         8|          1|          1|     {}|    yes   |\n")
    (tmp_path / "conv_2d_cl_config2_s_csynth.rpt").write_text(loops.format(9))
    (tmp_path / "conv_2d_cl_config5_s_csynth.rpt").write_text(loops.format(72))
    assert reuse_loop_trips(top) == {9, 72}
    assert report_mismatch(top, {8}, reuse={9, 72, 1}) is None
    why = report_mismatch(top, {8}, reuse={72})
    assert "another build" in why and "reuse factor 9" in why and "72" in why and "re-run C synthesis" in why
    assert report_mismatch(top, {8}, reuse=None) is None  # not checked (a lower-bound estimate)
    assert "none (no Resource layer)" in report_mismatch(top, {8}, reuse=set())


@pytest.mark.parametrize("module", ["dense_resource_rf_leq_nin_ap_fixed_ap_fixed_6_2_5_3_0_config5_s",
                                    "dense_large_ap_fixed_ap_fixed_config2_s"])
@pytest.mark.parametrize("suffix", [".rpt", ".xml"])
def test_a_report_with_resource_kernels_for_a_config_without_resource_layers_is_of_another_build(tmp_path, module, suffix):
    """hls4ml builds its Resource kernels (dense_resource*, before 0.6 dense_large*) for Resource layers
    only: a report holding one, where the config has no Resource layer, was built from another config.
    With Resource layers in the config (or unchecked: a lower bound) it says nothing."""
    from hcp_fpga.estimator.reports import report_mismatch, resource_kernel_modules

    top = tmp_path / "myproject_csynth.rpt"
    top.write_text("== Utilization Estimates\n")
    (tmp_path / "dense_latency_ap_fixed_ap_fixed_config2_s_csynth.rpt").write_text("")
    assert resource_kernel_modules(top) == [] and report_mismatch(top, {8}, reuse=set()) is None
    (tmp_path / f"{module}_csynth{suffix}").write_text("")
    assert resource_kernel_modules(top) == [module]
    why = report_mismatch(top, {8}, reuse=set())
    assert "another build" in why and module[:40] in why and "no Resource layer" in why
    assert report_mismatch(top, {8}, reuse={104}) is None and report_mismatch(top, {8}, reuse=None) is None


def test_vivado_hls_prices_an_io_stream_layers_adders_seven_luts_higher():
    """The same Latency layer, io_stream against io_parallel: under Vivado HLS each adder in LUTs
    (tree and shift-add) costs 7 more LUT, as every +/- row of its io_stream designs shows; under
    Vitis HLS the I/O type changes no adder price."""
    from dataclasses import replace

    from hcp_fpga.estimator.backends import constants_for
    from hcp_fpga.estimator.model import constant_products, estimate_layer
    from hcp_fpga.estimator.precision import Fixed
    from hcp_fpga.estimator.spec import LayerSpec

    rng = np.random.default_rng(3)
    mant = rng.integers(-40, 40, size=(20, 6))
    spec = LayerSpec("d", "dense", 20, 6, 1, out_size=6, channels=6, mantissas=mant, weight=Fixed(7, 1),
                     input=Fixed(6, 2), result=Fixed(16, 6))
    vivado = constants_for("Vivado", tool="Vivado HLS 2020.1")
    digits, nonzero, on_dsp = constant_products(spec, vivado)
    adders = int(np.maximum(nonzero.sum(axis=0) - 1, 0).sum() + np.where(nonzero & ~on_dsp, np.maximum(digits - 1, 0), 0).sum())
    streamed = replace(spec, io_type="io_stream")
    assert estimate_layer(streamed, vivado).lut - estimate_layer(spec, vivado).lut == pytest.approx(7 * adders)
    vitis = constants_for("Vitis", tool="Vitis HLS 2024.1")
    assert estimate_layer(streamed, vitis).lut == pytest.approx(estimate_layer(spec, vitis).lut)


@pytest.mark.skipif(not (REPORTS / "corpus").is_dir(), reason="../shared corpus not present")
def test_gabriele_bots_io_stream_kernels_within_20_percent_of_their_modules():
    """Gabriele-bot's CNN (Vivado HLS 2020.1, io_stream, 3- to 5-bit LUT products): its Latency conv's
    937 adders and its Resource dense's accumulators are priced at width + 7 each; the two modules
    report 17,017 and 85,484 LUT (before the rule: 8,757 and 73,291)."""
    from hcp_fpga.estimator.compare import match_layers
    from hcp_fpga.estimator.model import estimate_project

    project = REPORTS / "corpus" / "Gabriele-bot__ALVEO-PYNQ_ML__qk_pruned_cnn_alveo"
    est = estimate_project(project)
    pairs = {l.name: (l.lut, m.lut) for l, m in match_layers(est, project_reports(project)["csynth"])}
    for name in ("q_conv2d_1", "q_dense"):
        ours, real = pairs[name]
        assert abs(ours - real) / real < 0.20, (name, ours, real)
