"""Build settings outside the layer types that change what a design costs.

- ``config_op mul -impl dsp|fabric``: the directive that binds every multiplication to DSPs or to
  LUTs. Read (never run) from the project's Tcl scripts or from its csynth report's
  UserConfigCommands; the estimate follows it and says so.
- ``ParallelizationFactor`` of io_parallel convs: output pixels computed at once."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hcp_fpga.estimator.backends import VIVADO
from hcp_fpga.estimator.directives import read_directives
from hcp_fpga.estimator.model import _accumulator_bits, bram18_for, estimate_layer, estimate_project, estimate_specs
from hcp_fpga.estimator.precision import Fixed
from hcp_fpga.estimator.spec import LayerSpec, closest_parallelization, with_layer_options

JET = Path(__file__).parent / "fixtures" / "old_hls4ml" / "hls4ml-0.8.1-io_parallel"  # 16-bit jet tagger, Latency
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "reports" / "corpus"


def _project(tmp_path: Path, tcl: str | None) -> Path:
    prj = tmp_path / "prj"
    shutil.copytree(JET, prj)
    if tcl is not None:
        (prj / "build_prj.tcl").write_text(f"open_project myproject_prj\n{tcl}\ncsynth_design\n")
    return prj


def test_fabric_puts_every_multiplication_in_luts(tmp_path):
    plain = estimate_project(_project(tmp_path / "a", None))
    fabric_prj = _project(tmp_path / "b", "config_op mul -impl fabric -latency 2")
    fabric = estimate_project(fabric_prj)
    assert plain.dsp > 0 and fabric.dsp == 0
    assert fabric.lut > plain.lut  # the products moved into fabric
    assert any("config_op mul -impl fabric (build_prj.tcl)" in n for n in fabric.notes)


@pytest.mark.parametrize("strategy,rf", [("Latency", 1), ("Resource", 4)])
def test_dsp_puts_narrow_products_on_dsps(strategy, rf):
    """8-bit activations x 6-bit weights: the tool keeps these products in LUTs (Latency: neither
    operand 11 bits wide; Resource on Vitis: weights under 8 bits), unless told -impl dsp."""
    rng = np.random.default_rng(0)
    mant = rng.integers(-31, 32, size=(16, 8))
    mant[np.abs(mant) < 11] = 21  # >= 3 CSD digits: not a shift-add
    spec = LayerSpec("d", "dense", 16, 8, 1, out_size=8, channels=8, mantissas=mant, weight=Fixed(6, 1),
                     input=Fixed(8, 2), result=Fixed(16, 6), accum=Fixed(16, 6), strategy=strategy, reuse_factor=rf)
    plain = estimate_specs([spec], "Vitis", 5.0, "xcu250-figd2104-2L-e")
    forced = estimate_specs([spec], "Vitis", 5.0, "xcu250-figd2104-2L-e", mul_impl="dsp")
    fabric = estimate_specs([spec], "Vitis", 5.0, "xcu250-figd2104-2L-e", mul_impl="fabric")
    assert plain.dsp == 0 and forced.dsp > 0 and fabric.dsp == 0
    assert forced.lut < plain.lut or strategy == "Resource"  # the shift-adds left the fabric


def test_an_unknown_mul_impl_is_refused():
    with pytest.raises(ValueError, match="dsp' or 'fabric"):
        estimate_specs([], "Vitis", 5.0, mul_impl="lut")


@pytest.mark.parametrize("line", ["# config_op mul -impl fabric", "config_op add -impl fabric",
                                  "config_op mul -impl auto", "puts {config_op mul -impl fabric}"])
def test_comments_other_ops_and_unknown_impls_are_ignored(tmp_path, line):
    assert read_directives(_project(tmp_path, line)).mul_impl is None


def test_the_last_directive_wins(tmp_path):
    prj = _project(tmp_path, "config_op mul -impl fabric\nconfig_op mul -impl dsp")
    assert read_directives(prj).mul_impl == "dsp"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared corpus not present")
@pytest.mark.parametrize("variant", ["Breast_cancer_LUT_reuse1", "HAR_LUT_reuse2", "mnist_LUT_reuse100",
                                     "ARRYTHMIA_DSP_reuse1", "CARDIO_DSP_reuse100"])
def test_real_reports_record_the_directive(variant):
    """ArgyKokk's designs were built with config_op mul -impl in a script that is not in the
    repository; their csynth.xml records it. *_LUT_* report 0 DSP; the estimate follows."""
    prj = next((CORPUS / f"ArgyKokk__hls4ml_MLP_estimator__{variant}").rglob("hls4ml_config.yml")).parent
    d = read_directives(prj)
    assert d.mul_impl == ("fabric" if "_LUT_" in variant else "dsp") and "UserConfigCommands" in d.source
    est = estimate_project(prj)
    if d.mul_impl == "fabric":
        assert est.dsp == 0
    else:
        assert est.dsp > 0


# --- ParallelizationFactor (io_parallel conv): pixels computed at once ------------------------------


def test_closest_parallelization_is_hls4mls():
    from hls4ml.backends.fpga.fpga_backend import FPGABackend

    for n_pix in (1, 6, 36, 49, 64, 100, 97):
        valid = FPGABackend.get_valid_conv_partition_splits(None, 1, n_pix)
        for chosen in (1, 2, 3, 4, 5, 7, 8, 13, 50, 200):
            assert closest_parallelization(n_pix, chosen) == FPGABackend.get_closest_reuse_factor(None, valid, chosen), (n_pix, chosen)


def _conv(n_pix: int, seed: int = 2, in_pix: int | None = None, **kw) -> LayerSpec:
    """A 3 x 3 x 2 -> 4 conv (16-bit) over ``n_pix`` output pixels."""
    mant = np.random.default_rng(seed).integers(-200, 200, size=(18, 4))
    return LayerSpec("c", "conv2d", 18, 4, n_pix, out_size=4 * n_pix, channels=4, mantissas=mant, weight=Fixed(16, 6),
                     input=Fixed(16, 6), result=Fixed(16, 6), in_pix=in_pix or n_pix, in_channels=2, **kw)


@pytest.mark.parametrize("pf", [2, 4, 9])
def test_parallelization_trades_multipliers_for_steps(pf):
    base = _conv(36, seed=1, in_pix=64)
    one = estimate_specs([base], "Vivado", 5.0, "xcu250-figd2104-2L-e").layers
    many = estimate_specs([replace(base, parallelization=pf)], "Vivado", 5.0, "xcu250-figd2104-2L-e").layers
    conv1, convn = next(l for l in one if l.name == "c"), next(l for l in many if l.name == "c")
    assert convn.ii == conv1.ii // pf  # 36 pixels in 36 / pf steps
    # pf multiplier arrays; the partition multiplexers feed the same 18 x 36 buffer slots either way
    mux = VIVADO.partition_mux_lut_per_input * 18 * 36
    assert convn.dsp == pf * conv1.dsp and convn.lut - mux == pytest.approx(pf * (conv1.lut - mux))


def _conv_lut(spec: LayerSpec) -> float:
    return next(l.lut for l in estimate_specs([spec], "Vivado", 5.0, "xcu250-figd2104-2L-e").layers if l.name == "c")


def test_stepping_convs_pay_for_the_partition_multiplexers():
    """hls4ml's io_parallel fill_buffer picks every buffer slot's input by partition index: one
    multiplexer input per (slot, partition). None when the conv computes all pixels at once (one
    partition) or streams them (io_stream reads each pixel once)."""
    per_input = VIVADO.partition_mux_lut_per_input
    all_at_once = _conv_lut(_conv(36, parallelization=36))
    assert _conv_lut(_conv(36)) - all_at_once / 36 == pytest.approx(per_input * 18 * 36)
    assert _conv_lut(_conv(144)) - _conv_lut(_conv(36)) == pytest.approx(per_input * 18 * (144 - 36))
    assert _conv_lut(_conv(36, io_type="io_stream")) == _conv_lut(_conv(144, io_type="io_stream"))


def test_a_stepping_conv_holds_its_output_array_in_registers():
    """Written one partition per step, the output array is kept until the last step: one FF per
    output bit in the conv (not again among the registers between layers)."""
    from hcp_fpga.estimator.model import _held_output_bits

    stepping, at_once = _conv(36), _conv(36, parallelization=36)
    assert _held_output_bits(stepping) == 144 * 16 and _held_output_bits(at_once) == 0
    assert _held_output_bits(_conv(36, io_type="io_stream")) == 0
    conv = next(l for l in estimate_specs([stepping], "Vivado", 5.0, "xcu250-figd2104-2L-e").layers if l.name == "c")
    assert conv.ff >= 144 * 16


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared corpus not present")
def test_partition_multiplexers_match_a_real_fill_buffer():
    """MuhammadAshraful's Conv2D (26 x 26 outputs, 3 x 3 x 1 kernel, 676 partitions, Vitis HLS 2024.1):
    its fill_buffer module reports 31,977 LUT of multiplexers and the conv module 32,540 LUT in all.
    The rate was taken from other designs' multiplexer rows, not from this one."""
    prj = next((CORPUS / "MuhammadAshraful__CNN-in-FPGA-hls4ml__mnist_cnn").rglob("hls4ml_config.yml")).parent
    conv = next(l for l in estimate_project(prj).layers if l.name == "conv2d")
    assert conv.lut == pytest.approx(32540, rel=0.2)
    assert conv.ff == pytest.approx(8215, rel=0.1)  # its output array, 1,352 x 6 bits, held (calwilee's rule too)


@pytest.mark.parametrize("n_pix", [36, 100])
def test_vivado_hls_multiplexes_a_stepping_latency_convs_output_writes(n_pix):
    """Vivado HLS (<= 2020.1) builds, on a Latency conv that steps over partitions, one multiplexer over
    the whole output index range per output element and a 1-bit one beside it; Vitis HLS does not, nor
    does hls4ml's Resource conv (it stores by index), nor a conv computing every pixel at once."""
    from hcp_fpga.estimator.backends import constants_for

    vivado = constants_for("Vivado", "xcu250-figd2104-2L-e", "Vivado HLS 2020.1")
    vitis = constants_for("Vivado", "xcu250-figd2104-2L-e", "Vitis HLS 2024.1")

    def muxes(spec, c):
        return estimate_layer(spec, c).lut - estimate_layer(spec, replace(c, partition_output_muxes=False)).lut

    out = 4 * n_pix
    inputs = 1 << (out - 1).bit_length()  # 144 -> 256, 400 -> 512 index values
    stepping = _conv(n_pix, parallelization=4)
    assert muxes(stepping, vivado) == pytest.approx(2 * out * vivado.partition_mux_lut_per_input * inputs)
    assert muxes(stepping, vitis) == 0
    for other in (_conv(n_pix, parallelization=n_pix), replace(stepping, strategy="Resource"),
                  replace(stepping, strategy="Resource", reuse_factor=2), _conv(n_pix, io_type="io_stream")):
        assert muxes(other, vivado) == 0


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared corpus not present")
def test_calwilees_separable_conv_carries_its_output_write_multiplexers():
    """calwilee's qk_sepconv (Vivado HLS 2020.1, ParallelizationFactor 4 on an 8 x 8 input): 504 multiplexer
    cores on the depthwise's 72 and the pointwise's 180 output writes, 686k of its 735k LUT. Priced by the
    multiplexer rule of other designs (the report prices every core at 1,362), the estimate is within 30 %
    of the module reports' sum; without the cores it was 36k."""
    prj = CORPUS / "calwilee__hls4ml-automated-testing__qk_sepconv_rf1"
    layers = {l.name: l for l in estimate_project(prj).layers}
    depthwise, pointwise = layers["separable_conv2d_depthwise"].lut, layers["separable_conv2d_pointwise"].lut
    assert depthwise > 2 * 72 * 128 * 4 and pointwise > 2 * 180 * 256 * 4
    assert depthwise + pointwise == pytest.approx(207860 + 496752, rel=0.3)

def test_parallelization_is_read_from_the_config(tmp_path):
    layers = {"sep": {"ParallelizationFactor": 4}, "conv": {"ParallelizationFactor": 3}}
    specs = [LayerSpec("sep_depthwise", "conv2d", n_pix=36), LayerSpec("sep_pointwise", "conv2d", n_pix=36),
             LayerSpec("conv", "conv2d", n_pix=36, io_type="io_stream"), LayerSpec("d", "dense")]
    got = [s.parallelization for s in with_layer_options(specs, layers)]
    assert got == [4, 4, 1, 1]  # io_stream ignores it, as hls4ml does


# --- FIFOs: io_stream channels and the element FIFOs of DATAFLOW io_parallel designs ---------------


def test_vivado_fifo_shapes_follow_the_reports():
    """Every Vivado FIFO shape in ../shared: a shift register up to 16 words or under 512 bits (121 x 4
    and 169 x 3 are SRL), block RAM beyond (169 x 4, 25 x 32), sized at a power-of-two depth."""
    from hcp_fpga.estimator.backends import VIVADO
    from hcp_fpga.estimator.model import fifo_bram18, fifo_cost

    shapes = {(121, 4): 0, (169, 3): 0, (169, 4): 1, (25, 32): 2, (16, 32): 0, (4356, 32): 16, (2464, 32): 8, (1152, 32): 4}
    assert {k: fifo_bram18(*k, VIVADO) for k in shapes} == shapes
    assert fifo_cost(2, 34, VIVADO) == (0.0, 34 + 12, 6.0)  # calwilee's 34-bit element FIFOs: bits + 12 LUT


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 20000), st.integers(1, 256), st.sampled_from(["Vivado", "Vitis"]))
def test_a_bigger_fifo_never_costs_less(depth, width, backend):
    from hcp_fpga.estimator.backends import BACKENDS
    from hcp_fpga.estimator.model import fifo_cost

    c = BACKENDS[backend]
    base = fifo_cost(depth, width, c)
    for bigger in (fifo_cost(depth + 1, width, c), fifo_cost(depth, width + 1, c)):
        assert bigger[0] >= base[0]  # BRAM
        if bigger[0] == base[0]:  # same implementation: LUT and FF grow too
            assert bigger[1] >= base[1] and bigger[2] >= base[2]


def test_a_conv_stepping_over_pixels_makes_the_design_dataflow():
    conv = _conv(36, in_pix=64)
    relu = LayerSpec("r", "relu", out_size=144, channels=4, input=Fixed(16, 6), result=Fixed(16, 6))
    dense = LayerSpec("d", "dense", 144, 2, 1, out_size=2, channels=2, mantissas=np.ones((144, 2), int), weight=Fixed(8, 2))
    stepping = estimate_specs([conv, relu, dense], "Vivado", 5.0, "xcu250-figd2104-2L-e")
    fifos = [l for l in stepping.layers if l.kind == "fifo"]
    assert [f.name for f in fifos] == ["c_out", "r_out"]  # every array between layers; not the output
    assert fifos[0].ff == 144 * 5 and fifos[0].lut == 144 * (16 + 12)
    at_once = estimate_specs([replace(conv, parallelization=36), relu, dense], "Vivado", 5.0, "xcu250-figd2104-2L-e")
    assert not [l for l in at_once.layers if l.kind == "fifo"]  # one partition: hls4ml keeps PIPELINE


@pytest.mark.parametrize("backend,tool,builder", [("Vivado", "Vitis HLS 2024.1", "Vitis"), ("Vivado", "Vivado HLS 2020.1", "Vivado"),
                                                  ("Vitis", None, "Vitis"), ("Vivado", None, "Vivado")])
def test_the_hls_tool_builds_the_fifos_whichever_backend_wrote_the_code(backend, tool, builder):
    from hcp_fpga.estimator.backends import BACKENDS, TOOL_FIFO_FIELDS, constants_for

    c = constants_for(backend, "xcu250-figd2104-2L-e", tool)
    assert {f: getattr(c, f) for f in TOOL_FIFO_FIELDS} == {f: getattr(BACKENDS[builder], f) for f in TOOL_FIFO_FIELDS}
    assert c.stream_cycles_per_pixel == BACKENDS[backend].stream_cycles_per_pixel  # the backend's own templates


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared corpus not present")
def test_a_vivado_backend_project_built_by_vitis_hls_has_vitis_element_fifos():
    """MuhammadAshraful's mnist_cnn: Backend Vivado, built by Vitis HLS 2024.1 (its report says so);
    its FIFO table: 2,714 depth-2 FIFOs, 99 FF each, 268,686 FF in all."""
    prj = next((CORPUS / "MuhammadAshraful__CNN-in-FPGA-hls4ml__mnist_cnn").rglob("hls4ml_config.yml")).parent
    est = estimate_project(prj)
    assert sum(l.ff for l in est.layers if l.kind == "fifo") == pytest.approx(268686)
    assert any("Vivado backend built by Vitis HLS 2024.1" in n for n in est.notes)


@pytest.mark.parametrize("tool", ["Vivado HLS 2020.1", "Vitis HLS 2024.1"])
def test_element_fifos_without_a_measured_price_follow_the_tools_fifo_rule(tool):
    """A DATAFLOW io_parallel design's element FIFOs (one per array element between layers) are priced
    at the tool's measured element FIFO; with none measured (``element_fifo_ff`` 0, as in a
    leave-one-repository-out fold) each is the tool's depth-2 FIFO of one element (``fifo_cost``)."""
    from hcp_fpga.estimator.backends import constants_for
    from hcp_fpga.estimator.model import _element_fifos, fifo_cost

    conv = _conv(36)  # 4 x 36 outputs of 16 bits, stepping over partitions
    dense = LayerSpec("d", "dense", 144, 2, 1, out_size=2, channels=2, mantissas=np.ones((144, 2), dtype=int),
                      weight=Fixed(8, 2), input=Fixed(16, 6), result=Fixed(16, 6))
    c = constants_for("Vivado", "xcu250-figd2104-2L-e", tool)
    measured = _element_fifos([conv, dense], c)
    assert [f.name for f in measured] == ["c_out"] and measured[0].ff == 144 * c.element_fifo_ff
    unmeasured = _element_fifos([conv, dense], replace(c, element_fifo_ff=0.0, element_fifo_lut=0.0))
    _, lut, ff = fifo_cost(2, 16, c)
    assert (unmeasured[0].lut, unmeasured[0].ff) == (144 * lut, 144 * ff)
    assert ff > 0 and lut > 0


@pytest.mark.parametrize("tool", ["Vivado HLS 2020.1", "Vitis HLS 2023.2"])
def test_resource_lut_multipliers_follow_the_reuse_factor_on_vivado_hls(tool):
    """Narrow Resource-strategy products stay out of DSPs; Vivado HLS builds them as LUT multipliers,
    so fewer of them (a higher RF) cost fewer LUTs; on Vitis the wa-hls4ml fit found no such term."""
    mant = np.random.default_rng(3).integers(-7, 8, size=(64, 32))
    luts = []
    for rf in (2, 8, 32):
        spec = LayerSpec("d", "dense", 64, 32, 1, out_size=32, channels=32, mantissas=mant, weight=Fixed(4, 1),
                         input=Fixed(3, 1, signed=False), result=Fixed(16, 6), strategy="Resource", reuse_factor=rf)
        est = estimate_specs([spec], "Vivado", 5.0, "xcu250-figd2104-2L-e", tool=tool)
        assert est.dsp == 0
        luts.append(est.lut)
    if tool.startswith("Vivado"):
        assert luts[0] > luts[1] > luts[2]
    else:
        assert luts[0] == luts[1] == luts[2]


@pytest.mark.parametrize("weight,data,adders", [(Fixed(4, 1), Fixed(3, 1, signed=False), True),  # LUT products
                                                 (Fixed(4, 1), Fixed(4, 1, signed=False), True),  # two per DSP
                                                 (Fixed(16, 6), Fixed(16, 6), False)])  # one DSP each: its post-adder
def test_vivado_hls_resource_accumulators_are_lut_adders_unless_a_dsp_adds(weight, data, adders):
    """Each Resource-strategy product adds into its accumulator every cycle: a carry-chain adder of the
    accumulator's width per multiplier slot, unless a DSP's post-adder takes the add (a multiply-add
    core, one product per DSP). Vivado HLS only: the wa-hls4ml Vitis sample shows no such term."""
    from hcp_fpga.estimator.backends import constants_for

    mant = np.random.default_rng(5).integers(-7, 8, size=(64, 32))
    spec = LayerSpec("d", "dense", 64, 32, 1, out_size=32, channels=32, mantissas=mant, weight=weight, input=data,
                     result=Fixed(16, 6), strategy="Resource", reuse_factor=8)
    part = "xcu250-figd2104-2L-e"
    vivado, vitis = (constants_for("Vivado", part, t) for t in ("Vivado HLS 2020.1", "Vitis HLS 2023.2"))
    with_adders = estimate_layer(spec, vivado)
    without = estimate_layer(spec, replace(vivado, resource_lut_accumulators=False))
    slots = 64 * 32 // 8
    extra = slots * _accumulator_bits(spec) * vivado.lut_per_adder_bit if adders else 0.0
    assert with_adders.dsp == without.dsp and with_adders.lut - without.lut == pytest.approx(extra)
    assert (with_adders.lut > without.lut) == adders
    assert not vitis.resource_lut_accumulators


def test_resource_kernels_above_n_in_keep_an_index_rom():
    """hls4ml's Resource kernel for RF > n_in keeps outidx[RF] (which output each cycle adds into,
    0 .. RF / n_in - 1): a ROM the tool places itself. cnn_small's report: its 1,272 x 5 one in a
    block RAM, its 288 x 4 one in LUTs. Weights alike, the layer at RF <= n_in has none."""
    from hcp_fpga.estimator.backends import constants_for

    c = constants_for("Vitis", "xcu250-figd2104-2L-e", "Vitis HLS 2023.1")

    def bram(n_in, n_out, rf, strategy="Resource"):
        # weights that need all 10 bits: the tool narrows a ROM field to its values (the last slot's)
        mant = np.full((n_in, n_out), -512)
        spec = LayerSpec("d", "dense", n_in, n_out, 1, out_size=n_out, channels=n_out, mantissas=mant, weight=Fixed(10, 2),
                         input=Fixed(16, 6), result=Fixed(16, 6), strategy=strategy, reuse_factor=rf)
        return estimate_layer(spec, c).bram18

    weights_only = bram18_for(1272, 10)  # one weight per cycle: the weight ROM alone
    assert bram(53, 24, 1272) == weights_only + 1  # + the 1,272 x 5 index ROM
    assert bram(24, 12, 288) == bram18_for(288, 10)  # 288 x 4 = 1,152 bits: LUTs
    assert bram(64, 32, 32) == bram18_for(32, 64 * 10)  # RF <= n_in: no index ROM
    assert bram(53, 24, 1272, "ResourceUnrolled") == bram(53, 24, 1272) - 1  # the unrolled kernel has none


@pytest.mark.parametrize("tool,scale", [("Vitis HLS 2024.1", 1.21), ("Vitis HLS 2023.2", 1.21), (None, 1.21),
                                        ("Vitis HLS 2021.1", 1.0), ("Vivado HLS 2019.2", 1.0)])
def test_vitis_2023_and_later_price_adders_higher(tool, scale):
    """Expression rows: Vitis HLS >= 2023.1 prices an adder bit 1.21 times what Vivado HLS 2019.2 (the
    triples the adder constants were fitted on) and Vitis HLS 2021.1 do. A Latency dense with 8-bit
    inputs (no DSPs) is adders only: its LUT scales by exactly that."""
    from hcp_fpga.estimator.backends import BACKENDS, constants_for

    mant = np.random.default_rng(4).integers(-120, 120, size=(32, 16))
    spec = LayerSpec("d", "dense", 32, 16, 1, out_size=16, channels=16, mantissas=mant, weight=Fixed(8, 2),
                     input=Fixed(8, 2), result=Fixed(16, 6))
    lut = {t: next(l.lut for l in estimate_specs([spec], "Vitis", 5.0, "xcu250-figd2104-2L-e", tool=t).layers if l.name == "d")
           for t in (tool, "Vivado HLS 2019.2")}
    c = constants_for("Vitis", None, tool)
    assert c.lut_per_tree_bit == pytest.approx(scale * BACKENDS["Vitis"].lut_per_tree_bit)
    assert c.lut_per_shift_add_bit == pytest.approx(scale * BACKENDS["Vitis"].lut_per_shift_add_bit)
    assert lut[tool] == pytest.approx(scale * lut["Vivado HLS 2019.2"]) and lut[tool] > 0


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared corpus not present")
def test_the_vitis_adder_price_is_what_the_reports_pool_to():
    """backends' lut_adder_scale is benchmarks/fit_adders.py's pooled ratio, to two decimals."""
    import sys

    from hcp_fpga.estimator.backends import CostConstants

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from fit_adders import adder_rows, adder_scale

    assert CostConstants().lut_adder_scale == round(adder_scale(adder_rows()), 2)


def test_latency_rf_sharing_serializes_what_each_tool_keeps_as_multipliers():
    """Latency strategy at RF > 1: the products take turns on ceil(n/RF) shared multipliers. Vivado
    HLS shares multipliers between weights (every nonzero product waits its turn); Vitis HLS keeps
    the constants and builds the < 3-CSD-digit ones from shifts and adds outside the sharing, unless
    told config_op mul -impl fabric."""
    mant = np.full((32, 8), 3)  # 2 CSD digits: shifts and adds when the constant is kept
    mant[:4, :] = 21  # 3 CSD digits: a multiplier either way
    spec = LayerSpec("d", "dense", 32, 8, 1, out_size=8, channels=8, mantissas=mant, weight=Fixed(8, 2),
                     input=Fixed(16, 6), result=Fixed(16, 6), reuse_factor=32)
    cycles = {tool: estimate_specs([spec], "Vivado", 5.0, "xc7z020clg400-1", tool=tool).latency_cycles
              for tool in ("Vivado HLS 2019.2", "Vitis HLS 2023.1")}
    fabric = estimate_specs([spec], "Vivado", 5.0, "xc7z020clg400-1", tool="Vitis HLS 2023.1", mul_impl="fabric").latency_cycles
    # 8 shared multipliers: 256 nonzero products take 32 turns, the 32 three-digit ones 4
    assert cycles["Vivado HLS 2019.2"] - cycles["Vitis HLS 2023.1"] == 32 - 4
    assert fabric - cycles["Vitis HLS 2023.1"] >= 32 - 4  # every product takes its turn (its fabric chain may add a stage)


@pytest.mark.parametrize("input_type, cfg, expected", [
    ("ap_fixed<16,6,AP_RND,AP_SAT>", {"TableSize": 4096}, "ap_ufixed<13,3,AP_TRN,AP_SAT>"),
    ("ap_fixed<32,12>", {"TableSize": 4096}, "ap_ufixed<23,3,AP_TRN,AP_SAT>"),
    ("ap_fixed<14,10>", {"TableSize": 4096}, "ap_ufixed<12,3,AP_TRN,AP_SAT>"),  # at least the table index wide
    ("ap_fixed<10,4>", {"TableSize": 4096}, None),  # hls4ml cuts the exp table to the input: kept as built
    ("ap_fixed<16,6>", {"TableSize": 4096, "Implementation": "latency"}, None),
    ("ap_fixed<16,6>", {"Skip": True}, None),
])
def test_the_softmax_difference_type_the_export_sets(input_type, cfg, expected):
    from hcp_fpga.design import softmax_norm_type

    assert softmax_norm_type(input_type, cfg) == expected
