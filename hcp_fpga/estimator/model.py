"""The analytical cost model: per-layer DSP, BRAM18, LUT, FF and latency from ``LayerSpec``s.

Every estimate here is an estimate (source ``estimate``); docs/estimator.md gives the model, its
constants and its measured error against real reports. Backend constants live in ``backends.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Iterable, Optional

import numpy as np

from hcp_fpga.estimator.backends import CostConstants, constants_for
from hcp_fpga.estimator.precision import Fixed, csd_digits
from hcp_fpga.estimator.reuse import closest_valid
from hcp_fpga.estimator.spec import (MULT_KINDS, LayerSpec, layer_specs, not_priced, softmax_table_sizes,
                                     with_layer_options, with_pipeline_strategy)
from hcp_fpga.estimator.types import Estimate, LayerEstimate

# (depth, width) shapes of one 18 Kb block RAM (UG573): the ladder BRAM mapping chooses from.
BRAM18_SHAPES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
# Memories below this many bits go to LUTRAM/registers rather than block RAM.
MIN_BRAM_BITS = 1024
# A ROM the HLS tool places itself (no storage pragma) stays in LUTs up to this many bits: the largest
# such ROM in LUTs in the reports here is 288 x 4 (Vitis HLS 2023.1), the smallest in block RAM 420 x 3
# (Vivado HLS) and 288 x 10 (Vitis HLS 2023.1)
AUTO_ROM_LUT_MAX_BITS = 1152


def bram18_for(depth: int, width: int) -> int:
    """Block RAMs (18 Kb) for a ``depth`` x ``width`` memory: the cheapest shape on the ladder."""
    if depth <= 0 or width <= 0 or depth * width < MIN_BRAM_BITS:
        return 0
    return min(math.ceil(depth / d) * math.ceil(width / w) for d, w in BRAM18_SHAPES)


def _accumulator_bits(spec: LayerSpec) -> int:
    """Adder/accumulator width: the layer's accumulator (else result) type, capped where a lossless
    'auto' type would exceed what the products can need."""
    acc = spec.accum or spec.result
    return min(acc.width, 2 * spec.input.width + 8)


def _saturating_accumulator(spec: LayerSpec) -> bool:
    return spec.accum is not None and spec.accum.saturating


def dsps_per_product(a_bits: int, w_bits: int, c: CostConstants) -> int:
    """DSP slices one a x w product takes: one while it fits the DSP's multiplier ports (25x18 on
    7-series DSP48E1, 27x18 on DSP48E2), more when either operand is wider (partial products)."""
    big, small = max(a_bits, w_bits), min(a_bits, w_bits)
    return math.ceil(big / c.dsp_a_bits) * math.ceil(small / c.dsp_b_bits)


def variable_multipliers(count: int, a_bits: int, b_bits: int, c: CostConstants) -> tuple[float, float]:
    """(DSP, LUT) of ``count`` multipliers of two signed variables (softmax, BatchNormalization scale,
    Multiply, a recurrent cell's gate products): DSPs with their glue LUTs where the tool's core
    selection puts them (Vivado HLS <= 2020: the rule of its Resource-strategy multipliers, whose
    weights are variables read from a ROM too; else ``c.dsp_min_input_bits`` wide operands); LUT
    multipliers under ``config_op mul -impl fabric``; (0, 0) below the threshold (the caller prices
    those)."""
    if count <= 0:
        return 0.0, 0.0
    if c.mul_impl == "fabric":
        return 0.0, c.lut_fabric_mul_per_pp_bit * count * a_bits * b_bits
    if c.resource_dsp_rule == "operand_bits":
        on_dsp = min(a_bits, b_bits) >= c.resource_dsp_min_operand_bits and a_bits + b_bits >= c.resource_dsp_min_product_bits
    else:
        on_dsp = a_bits >= c.dsp_min_input_bits
    if not on_dsp:
        return 0.0, 0.0
    dsp = float(count * dsps_per_product(a_bits, b_bits, c))
    return dsp, c.lut_per_dsp * dsp


def products(count: int, a_bits: int, b_bits: int, c: CostConstants) -> tuple[float, float]:
    """(DSP, LUT) of ``count`` variable x variable products: ``variable_multipliers``, and below its
    DSP threshold shift-and-add in LUTs (half the partial-product bits)."""
    dsp, lut = variable_multipliers(count, a_bits, b_bits, c)
    if count > 0 and not dsp and not lut:
        lut = c.lut_per_shift_add_bit * count * a_bits * b_bits / 2
    return dsp, lut


def _parallel_outputs(spec: LayerSpec) -> int:
    """Output elements computed (and registered) at once: the whole tensor in io_parallel dense and
    activation layers; one pixel's channels where the layer walks over pixels (conv, io_stream)."""
    if spec.io_type == "io_stream" or spec.kind in ("conv1d", "conv2d"):
        return spec.channels
    return spec.out_size - spec.dead


def _held_output_bits(spec: LayerSpec) -> int:
    """Register bits of an io_parallel conv's output array when the conv steps over pixel partitions
    (it writes a partition per step): MuhammadAshraful's conv module 8,215 FF for 1,352 x 6 bits,
    calwilee's depthwise and pointwise 4,892 and 14,444 for 72 x 35 and 180 x 53 (plus their pipelines)."""
    stepping = spec.kind in ("conv1d", "conv2d") and spec.io_type == "io_parallel" and spec.partitions > 1
    return spec.out_size * spec.result.width if stepping else 0


def _output_write_muxes(spec: LayerSpec, c: CostConstants) -> float:
    """LUT of the multiplexers Vivado HLS builds on a stepping Latency conv's output writes
    (``partition_output_muxes``): per output element one over the whole index range (2^bits inputs)
    and a 1-bit one beside it, each priced by the multiplexer rule. hls4ml's Resource conv stores by
    index (``res[i_part * ... + i_res]``), even at RF 1: hls4ml's CI conv2d baseline (Resource, RF 1, 49
    partitions, Vivado HLS 2020.1) reports 86,819 LUT in all, where these muxes would be 28.9M."""
    if not c.partition_output_muxes or spec.strategy != "Latency" or spec.io_type != "io_parallel" or spec.partitions < 2:
        return 0.0
    inputs = 1 << max(spec.out_size - 1, 1).bit_length()
    return 2.0 * spec.out_size * c.partition_mux_lut_per_input * inputs


def _pixel_step_inlined(spec: LayerSpec) -> bool:
    """Whether an io_stream conv's per-pixel work is inlined into its pixel loop (PIPELINE II = RF).
    hls4ml 1.3's depthwise and pointwise (1x1) stream kernels are (``compute_depthwise_output_buffer_*``,
    ``pointwise_mult_buffer``: INLINE): hls4ml's CI depthwise baselines run 1,028 cycles for 32 x 32
    pixels and 35 for 32, Vivado HLS 2020.1 and Vitis HLS 2024.1 alike. The line-buffer conv's
    ``compute_output_buffer_1d/2d`` is INLINE OFF and keeps its window in static variables, so the loop
    waits for each call: RF + the tool's ``stream_cycles_per_pixel`` (conv1d-vitis2024: that function's
    interval 3, the loop's achieved II 3 against a target of 1)."""
    return spec.depthwise or _pointwise(spec)


def _pointwise(spec: LayerSpec) -> bool:
    """A 1x1 conv (hls4ml's pointwise kernels): no window, no line buffer."""
    return not spec.depthwise and spec.n_in == spec.in_channels


def _window_buffers(spec: LayerSpec, c: CostConstants) -> tuple[float, float]:
    """(LUT, FF) of an io_stream line-buffer conv's window registers and (2D) line buffers
    (``line_buffer_ff``). An input channel whose every weight is zero (pruned) needs neither."""
    channels = max(spec.in_channels, 1)
    taps = max(spec.n_in // channels, 1)
    live = channels
    if spec.mantissas is not None and spec.mantissas.shape[0] == taps * channels:
        # the kernel's rows run tap-major, channel-minor (Keras and hls4ml order)
        live = int(np.any(spec.mantissas.reshape(taps, channels, -1) != 0, axis=(0, 2)).sum())
    ff = float(taps * live * spec.input.width)
    lut = 0.0
    if spec.kind == "conv2d" and spec.filt_height > 1 and spec.line_width > 0:
        arrays = (spec.filt_height - 1) * live
        ff += arrays * c.line_buffer_ff
        lut += arrays * c.line_buffer_lut_per_16_words * max(math.ceil(spec.line_width / 16), 2)
    return lut, ff


def _pixel_steps(spec: LayerSpec) -> int:
    """Positions a layer steps through one at a time: conv output partitions (io_parallel: output
    pixels / ParallelizationFactor), input pixels incl. padding (io_stream), 1 for io_parallel dense."""
    if spec.io_type == "io_stream":
        return max(spec.padded_pix, spec.in_pix, 1)
    return spec.partitions if spec.kind in ("conv1d", "conv2d") else 1


def _distinct_products(mantissas: np.ndarray, on_dsp: np.ndarray) -> int:
    """DSP products after the HLS tool shares them: one input times constants that differ only in
    sign or a power-of-two factor (x*11, x*-11, x*22) needs one multiplier. Rows are inputs."""
    rows, cols = np.nonzero(on_dsp)
    if rows.size == 0:
        return 0
    v = np.abs(mantissas[rows, cols]).astype(np.int64)
    odd = v // (v & -v)  # strip trailing zero bits
    return int(np.unique(np.stack([rows, odd]), axis=1).shape[1])


def constant_bits(mantissas: np.ndarray) -> np.ndarray:
    """Width of each constant as a multiplier operand: unsigned bits of a positive one, signed bits
    of a negative one (the reports' mul_10ns_12ns, mul_11ns_12s)."""
    m = np.asarray(mantissas, dtype=np.int64)
    magnitude = np.where(m < 0, -m - 1, m)
    return np.frexp(magnitude.astype(np.float64))[1].astype(np.int64) + (m < 0)  # frexp's exponent: the bit length


def constant_products(spec: LayerSpec, c: CostConstants) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(CSD digits, nonzero, on_dsp) of a Latency layer's constant multiplications: a product goes
    to a DSP when its constant has >= 3 CSD digits, the other operand >= 10 bits and the wider of
    the two >= 11."""
    m = spec.mantissas
    digits = csd_digits(m)
    nonzero = m != 0
    operand = spec.operand_bits()
    on_dsp = nonzero & (digits >= c.dsp_min_csd_digits) & (operand >= c.dsp_min_input_bits) \
        & (np.maximum(operand, constant_bits(m)) >= c.dsp_min_wider_operand_bits)
    if c.mul_impl == "fabric":  # every product a shift-add in LUTs
        on_dsp = np.zeros_like(on_dsp)
    return digits, nonzero, on_dsp


def mul_operators(spec: LayerSpec, c: CostConstants) -> int:
    """Products of a Latency layer at RF > 1 that take turns on the shared 'mul' operators. Vitis HLS
    keeps the constants and builds those with < 3 CSD digits from shifts and adds, outside the
    sharing (CARDIO, RF 100: 58 cycles reported, 58 estimated this way, 87 if every product took
    turns); Vivado HLS shares multipliers between weights, so every nonzero product takes its turn
    (jet-qkeras6 at RF 64: 52 cycles) (``serialize_all_products``, backends.TOOL_VERSIONS); so does
    Vitis under ``config_op mul -impl fabric`` (mnist_LUT_reuse100: 124 cycles; 72 if only the
    >= 3-digit products took turns)."""
    digits, nonzero, _ = constant_products(spec, c)
    if c.serialize_all_products or c.mul_impl == "fabric":
        return int(nonzero.sum())
    return int((nonzero & (digits >= c.dsp_min_csd_digits)).sum())


def dsp_products(spec: LayerSpec, c: CostConstants, shared: bool = True) -> int:
    """Constant multiplications of a Latency-strategy layer that need a DSP (>= 3 CSD digits, input
    >= 10 bits), after the HLS tool shares equal products (``shared``) or before. Narrowing the
    weights never adds unshared products, but can break a sharing (x*89 and x*-178 share; truncated
    to x*11 and x*-23 they do not), so the shared count can rise by a product or two."""
    _, _, on_dsp = constant_products(spec, c)
    return _distinct_products(spec.mantissas, on_dsp) if shared else int(on_dsp.sum())


def shift_adds(spec: LayerSpec, digits: np.ndarray, nonzero: np.ndarray, on_dsp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(adders, adder bits) of each constant multiplication built from shifts and adds in LUTs (the
    arrays ``constant_products`` returns): CSD digits - 1 adders, each as wide as its input operand
    as the tool sees it + 6 (the shifted constant's bits); none for a zero weight or a DSP product."""
    adders = np.where(nonzero & ~on_dsp, np.maximum(digits - 1, 0), 0)
    return adders, adders * (spec.operand_bits() + 6)


def product_widths(spec: LayerSpec) -> tuple[np.ndarray, np.ndarray, int]:
    """(widths, nonzero, cap) of a Latency layer's constant products as they enter its adder tree:
    each product's signed width (input bits, one more if unsigned, + the constant's signed bits - 1;
    the weight type's for stand-in weights), less the low bits the accumulator type drops, at most
    the accumulator's width (``cap``)."""
    m = spec.mantissas.astype(np.int64)
    nonzero = m != 0
    operand = np.broadcast_to(spec.operand_bits(), m.shape)
    signed_constant = constant_bits(m) + (m > 0)
    if spec.stand_in_weights and spec.weight is not None:  # unknown values: the declared width bounds them
        signed_constant = np.full(m.shape, spec.weight.width + (not spec.weight.signed))
    width = operand + (not spec.input.signed) + signed_constant - 1
    acc = spec.accum or spec.result
    dropped = max(spec.input.frac + (spec.weight.frac if spec.weight is not None else 0) - acc.frac, 0)
    # a product the accumulator truncates to nothing still leaves its sign (floor of a negative is -1)
    return np.where(nonzero, np.clip(width - dropped, 1, acc.width), 0), nonzero, acc.width


def tree_levels(widths: np.ndarray, present: np.ndarray, cap: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The nodes of a balanced pairwise tree per column of ``widths`` (leaves x trees), level by
    level from the leaves: (widths, present) of each level, padded to an even count with absent
    nodes. HLS tools balance hls4ml's accumulation chain (``acc[j] += mult[i]``) into such a tree
    and size every adder by the bits its operands carry: a sum is one bit wider than its wider
    operand, at most ``cap``; an absent leaf (a zero weight) passes its sibling through."""
    w, live = np.asarray(widths), np.asarray(present, dtype=bool)
    levels = []
    while True:
        if w.shape[0] > 1 and w.shape[0] % 2:
            w = np.vstack([w, np.zeros((1, w.shape[1]), dtype=w.dtype)])
            live = np.vstack([live, np.zeros((1, live.shape[1]), dtype=bool)])
        levels.append((w, live))
        if w.shape[0] <= 1:
            return levels
        both = live[0::2] & live[1::2]
        wider = np.maximum(w[0::2], w[1::2])
        w, live = np.where(both, np.minimum(wider + 1, cap), wider), live[0::2] | live[1::2]


def pairwise_tree_bits(widths: np.ndarray, present: np.ndarray, cap: int) -> np.ndarray:
    """Per column of ``widths`` (leaves x trees): the summed operand width of the adders of its
    balanced pairwise tree (``tree_levels``), an adder as wide as its wider operand."""
    total = np.zeros(np.shape(widths)[1], dtype=np.int64)
    for w, live in tree_levels(widths, present, cap)[:-1]:
        total += np.where(live[0::2] & live[1::2], np.maximum(w[0::2], w[1::2]), 0).sum(axis=0)
    return total


def tree_adder_bits(spec: LayerSpec) -> int:
    """Adder bits of a Latency layer's adder trees (one per output column), sized by bit growth."""
    return int(pairwise_tree_bits(*product_widths(spec)).sum())


def _dense_latency(spec: LayerSpec, c: CostConstants) -> LayerEstimate:
    m = spec.mantissas
    a = spec.input.width
    digits, nonzero, on_dsp = constant_products(spec, c)
    shift_adders, shift_bits = shift_adds(spec, digits, nonzero, on_dsp)
    shift_add_bits = shift_bits.sum()
    tree_adders = np.maximum(nonzero.sum(axis=0) - 1, 0).sum()
    acc = _accumulator_bits(spec)
    products = _distinct_products(m, on_dsp)
    rf = max(spec.reuse_factor, 1)
    if rf > 1:  # hls4ml's ALLOCATION pragma caps the 'mul' instances at this (core_templates.py), from
        # the zero weights it sees (not the products dead-code elimination removes)
        zeros = int((~nonzero).sum()) - spec.dead_products
        products = min(products, max(math.ceil(m.size / rf) - zeros // rf, 0))
    dsp = float(products) * dsps_per_product(a, spec.weight.width, c)
    lut = c.lut_per_tree_adder_bit * tree_adder_bits(spec) + c.lut_per_shift_add_bit * shift_add_bits + c.lut_per_dsp * dsp
    if spec.io_type == "io_stream":
        lut += c.lut_stream_adder_extra * (tree_adders + int(shift_adders.sum()))
    # A layer is pipelined inside (registers, one cycle) when it multiplies in DSPs and sums enough
    # products per output; smaller ones finish within the clock (jet triples' module rows).
    widest_sum = int(nonzero.sum(axis=0).max()) if nonzero.size else 0
    registered = dsp > 0 and widest_sum >= c.registered_min_products
    if spec.kind == "dense" and spec.io_type == "io_parallel":
        # the registers between layers are counted once for the design (estimate_specs)
        ff = c.ff_per_dsp * dsp if registered else 0.0
        latency = (c.latency_dsp_cycles if registered else 0) + rf - 1
    else:  # a pixel loop: every step registers its outputs
        ff = c.ff_per_dsp * dsp + c.ff_per_stage_bit * _parallel_outputs(spec) * spec.result.width
        latency = c.latency_dense_cycles + (c.latency_dsp_cycles if dsp else 0) + rf - 1
    if _saturating_accumulator(spec):
        lut += c.lut_per_saturating_acc_bit * float(nonzero.sum()) * acc
        ff += c.ff_per_saturating_acc_bit * float(nonzero.sum()) * acc
    return LayerEstimate(spec.name, spec.kind, dsp=dsp, lut=lut, ff=ff, latency_cycles=latency, ii=rf)


def resource_on_dsp(weight: Fixed, data: Fixed, c: CostConstants) -> bool:
    """Does a Resource-strategy multiplier of these operand types become a DSP? (tool-dependent:
    backends.TOOL_VERSIONS; ``config_op mul -impl``). Under the "operand_bits" rule both operands
    must be that wide and the signed product at least ``resource_dsp_min_product_bits`` wide (an
    unsigned operand is one bit wider signed)."""
    if c.mul_impl == "fabric":
        return False
    if c.resource_dsp_rule == "operand_bits":
        signed_bits = weight.width + (not weight.signed) + data.width + (not data.signed)
        return min(weight.width, data.width) >= c.resource_dsp_min_operand_bits \
            and signed_bits >= c.resource_dsp_min_product_bits
    return weight.width >= c.resource_dsp_min_weight_bits and data.width >= c.dsp_min_input_bits


def _resource_block(spec: LayerSpec) -> tuple[int, int]:
    """(RF as hls4ml moves it to a valid value, parallel multipliers n_in * n_out / RF) of a
    Resource-strategy layer."""
    rf = closest_valid(spec.n_in, spec.n_out, spec.reuse_factor, unrolled=spec.strategy == "ResourceUnrolled")
    return rf, math.ceil(spec.n_in * spec.n_out / rf)


def _outidx_bram18(rf: int, n_in: int) -> int:
    """Block RAMs of the index ROM hls4ml's Resource kernel for RF > n_in (``dense_resource_rf_gt_nin_rem0``;
    hls4ml's valid RFs above n_in are multiples of it) keeps: ``outidx[RF]``, the output each cycle
    adds into, 0 .. RF / n_in - 1. No storage pragma: the tool keeps a small one in LUTs (cnn_small:
    its 1,272 x 5 outidx in one BRAM18, its 288 x 4 one in LUTs)."""
    bits = max(1, math.ceil(math.log2(max(rf // max(n_in, 1), 2))))
    return bram18_for(rf, bits) if rf * bits > AUTO_ROM_LUT_MAX_BITS else 0


def _weight_slots(spec: LayerSpec, block: int, rf: int) -> Optional[np.ndarray]:
    """A Resource layer's weights as its multiplier slots read them: hls4ml stores the transposed
    kernel and reshapes it by ``block`` (ARRAY_RESHAPE block), so slot ``im`` reads the RF weights
    ``im * RF .. im * RF + RF - 1``, one per cycle. None where the sizes do not match."""
    if spec.mantissas is None or block * rf != spec.mantissas.size:
        return None
    return spec.mantissas.T.reshape(block, rf)


def _top_slot_bits(slots: Optional[np.ndarray], declared: int) -> int:
    """Width of the last multiplier slot's weights. The reshaped weight ROM is one word per cycle with
    slot 0 in the low bits; the HLS tool drops the word's top bits that are sign copies at every
    address, which narrows the last slot (and its multiplier) to its own values' width and no other
    slot: ChiRuiChen's autoencoder (ap_fixed<32,16> weights, Vivado HLS 2019.2) has one 32 x 17 or
    14 x 32 core per conv beside its 32 x 32 ones, uw-acme's toptagging GRU one 16 x 12 per layer
    beside its 16 x 16 ones, each the width of that layer's last slot (docs/estimator.md)."""
    if slots is None or slots.size == 0:
        return declared
    top = np.asarray(slots[-1], dtype=np.int64)
    need = max(int(top.max()).bit_length(), int(-top.min() - 1).bit_length()) + 1
    return min(declared, need)


def _dense_resource(spec: LayerSpec, c: CostConstants) -> LayerEstimate:
    unrolled = spec.strategy == "ResourceUnrolled"
    rf, block = _resource_block(spec)
    w, a = spec.weight.width, spec.input.width
    multipliers = block
    slots = _weight_slots(spec, block, rf)
    if unrolled and slots is not None:
        # hls4ml's unrolled kernel skips multiplier slots whose weights (one per cycle) are all zero,
        # as in its unrolled code generator
        multipliers = int(np.count_nonzero(np.any(slots != 0, axis=1)))
    # the last slot's multiplier and ROM field narrowed to its weights (ResourceUnrolled has no ROM;
    # stand-in weights have no widths to read)
    top = w if unrolled or spec.stand_in_weights else _top_slot_bits(slots, w)
    dsp, packed = 0.0, False
    if resource_on_dsp(spec.weight, spec.input, c):
        packed = 0 < w + a <= c.resource_dsp_pack_two_max_operand_bits
        dsp = float(math.ceil(multipliers / 2) if packed else
                    (multipliers - 1) * dsps_per_product(a, w, c) + dsps_per_product(a, top, c))
    # ResourceUnrolled stores only the multiplier slots it uses (hls4ml's Optimization API counts one
    # BRAM freed per 36 bits of pruned slots; not yet checked against a report)
    bram = float(bram18_for(rf, (multipliers - 1) * w + top)) if rf > 1 else 0.0
    if rf > spec.n_in and not unrolled:
        bram += _outidx_bram18(rf, spec.n_in)
    acc = _accumulator_bits(spec)
    lut = c.resource_lut_per_input_bit * spec.n_in * a + c.resource_lut_per_acc_bit * spec.n_out * acc
    if not dsp and c.resource_lut_multipliers:  # the parallel multipliers built from LUTs (backends.TOOL_VERSIONS)
        lut += c.lut_fabric_mul_per_pp_bit * multipliers * a * w
    if c.resource_lut_accumulators and (not dsp or packed):
        # every product adds into its accumulator each cycle; a DSP's post-adder takes that add
        # (a multiply-add core), a LUT product or a DSP holding two products leaves it to a carry chain
        lut += c.lut_per_adder_bit * multipliers * acc
        if spec.io_type == "io_stream":
            lut += c.lut_stream_adder_extra * multipliers
    ff = c.resource_ff_per_input_bit * spec.n_in * a + c.resource_ff_per_acc_bit * spec.n_out * acc
    if _saturating_accumulator(spec):
        lut += c.lut_per_saturating_acc_bit * multipliers * acc
        ff += c.ff_per_saturating_acc_bit_resource * multipliers * acc
    return LayerEstimate(spec.name, spec.kind, dsp=dsp, bram18=bram, lut=lut, ff=ff,
                         latency_cycles=rf + c.latency_resource_extra_cycles, ii=rf)


SOFTMAX_FIT_INPUT_BITS = 16  # the input width of the stable softmax lut/ff_softmax_per_output were fitted on


def _argmax(spec: LayerSpec, c: CostConstants, n: int) -> LayerEstimate:
    """hls4ml's argmax softmax (``softmax_argmax``): a chain of n - 1 compare-and-selects of the
    running maximum and its index, then a one-hot of the index; no tables, no products. Each
    compare-and-select priced as max pooling prices one (per operand bit). In io_stream the one-hot
    output array is indexed at run time and becomes a memory that is cleared and read out, two
    words per cycle (quickdraw_gru_smaller_reuse, Vivado HLS 2019.1: 1 BRAM18, 5 x 13 bits, 7 cycles)."""
    w, index = _argmax_operand_bits(spec, n)
    stream = spec.io_type == "io_stream"
    per_bit = c.lut_pool_stream_per_bit if stream else c.lut_pool_max_per_op_bit
    lut = (n - 1) * (w + index) * per_bit + n * index * c.lut_per_adder_bit
    ff = (n - 1) * (w + index) * c.ff_pool_stream_per_bit if stream else 0.0
    cycles = 2 * math.ceil(n / 2) + 1 if stream else 0
    return LayerEstimate(spec.name, "softmax", bram18=1.0 if stream else 0.0, lut=lut, ff=ff, latency_cycles=cycles, ii=1)


def _argmax_operand_bits(spec: LayerSpec, n: int) -> tuple[int, int]:
    """(value bits, index bits) each of an argmax's compare-and-selects carries."""
    return (spec.input.width if spec.input else 16), max(math.ceil(math.log2(n)), 1) if n > 1 else 1


def _argmax_levels(spec: LayerSpec, t) -> list:
    """The argmax's n - 1 compare-and-selects, one after the other (each needs the maximum so far),
    carrying the inputs not yet compared, the maximum and its index."""
    from hcp_fpga.estimator.timing import Level

    n = max(spec.out_size, 1)
    w, index = _argmax_operand_bits(spec, n)
    return [Level(t.add_ns + t.act_ns, float((n - 2 - i) * w + w + index)) for i in range(n - 1)]


def _softmax_reference_saving(spec: LayerSpec, c: CostConstants) -> tuple[int, float]:
    """(cycles, register bits) the stable softmax's maximum and subtraction take at the reference
    schedule the softmax constants were fitted at: what a latency softmax does not have."""
    from hcp_fpga.estimator.timing import budget_ns, part_timing

    t, budget = part_timing(REFERENCE_PART), budget_ns(REFERENCE_CLOCK_NS, REFERENCE_BACKEND)

    def run(s):
        return _scheduled(_Chain(tuple(map(tuple, _softmax_levels(s, c, t))), 2, 0.0, 0), budget)[0]

    (stable_cycles, stable_bits), (cycles, bits) = run(replace(spec, softmax_impl="stable")), run(spec)
    return max(stable_cycles - cycles, 0), max(stable_bits - bits, 0.0)


def _activation(spec: LayerSpec, c: CostConstants) -> LayerEstimate:
    n = _parallel_outputs(spec)
    if spec.kind == "softmax" and spec.softmax_impl == "argmax":
        return _argmax(spec, c, n)
    if spec.kind == "softmax":
        # io_parallel: one pipelined step (II 1), n products. io_stream: hls4ml limits the products to
        # ceil(n / RF) per pixel (ALLOCATION limit, PIPELINE II = n / limit; nnet_activation_stream.h)
        m = math.ceil(n / max(spec.reuse_factor, 1)) if spec.io_type == "io_stream" else n
        # m lookups per cycle: two per block RAM copy, or one per copy (Vitis HLS 2021: TOOL_VERSIONS)
        exp_copies = max(m - 1, 1) if c.softmax_exp_copies == "per_read" else math.ceil(m / 2)
        exp_size, inv_size = softmax_table_sizes(spec.input, spec.table_size, c.bram_width_bits) \
            if spec.input is not None else (spec.table_size, spec.table_size)
        bram = exp_copies * bram18_for(exp_size, c.bram_width_bits) + bram18_for(inv_size, c.bram_width_bits)
        ii = math.ceil(n / m) if m else 1
        # one DSP per product (its glue is in the per-output constant); LUTs when forced into fabric
        dsp, mult_lut = float(m), 0.0
        if c.mul_impl == "fabric":
            dsp, mult_lut = variable_multipliers(m, c.bram_width_bits, c.bram_width_bits, c)
        lut, ff, cycles = c.lut_softmax_per_output * n + mult_lut, c.ff_softmax_per_output * n, c.latency_softmax_cycles
        if spec.softmax_impl == "latency":
            # the constants are the stable softmax's; the latency one reads the exp table with the inputs
            # themselves: no maximum (a compare-and-select tree) and no x - max, and their stages at the
            # reference schedule go too. Priced at the width the constants were fitted at (the jet
            # softmax's 16-bit input), as they do not grow with the input's width either
            w = SOFTMAX_FIT_INPUT_BITS
            lut = max(lut - w * ((n - 1) * c.lut_pool_max_per_op_bit + n * c.lut_per_adder_bit), mult_lut)
            saved_cycles, saved_bits = _softmax_reference_saving(spec, c)
            ff, cycles = max(ff - c.ff_per_stage_bit_scheduled * saved_bits, 0.0), max(cycles - saved_cycles, 2)
        return LayerEstimate(spec.name, "softmax", dsp=dsp, bram18=float(bram), lut=lut, ff=ff,
                             latency_cycles=cycles + ii - 1, ii=ii)
    if spec.kind == "table":  # sigmoid/tanh: one table lookup per element
        bram = math.ceil(n / 2) * bram18_for(spec.table_size, c.bram_width_bits)
        return LayerEstimate(spec.name, "table", bram18=float(bram), lut=c.lut_table_per_element * n,
                             latency_cycles=c.latency_table_cycles, ii=1)
    narrows = spec.result.integer < spec.input.integer or spec.result.frac < spec.input.frac
    if spec.kind == "linear":  # a cast: free unless it rounds/saturates to a narrower type
        lut = c.lut_relu_round_sat_per_input_bit * n * spec.input.width if narrows and spec.result.saturating else 0.0
        return LayerEstimate(spec.name, "linear", lut=lut, latency_cycles=c.latency_activation_cycles if lut else 0, ii=1)
    if spec.kind == "relu" and narrows and spec.result.saturating:  # rounds and saturates every input bit
        lut = c.lut_relu_round_sat_per_input_bit * n * spec.input.width
        if c.lut_relu_round_sat_per_output_bit and spec.io_type == "io_parallel":  # Vitis HLS (backends)
            lut = c.lut_relu_round_sat_per_output_bit * n * spec.result.width
    else:
        lut = c.lut_relu_per_bit * n * spec.result.width
    # io_parallel Latency designs: the registers between layers are counted once (estimate_specs);
    # Resource designs' FF fit includes them.
    return LayerEstimate(spec.name, spec.kind, lut=lut, latency_cycles=c.latency_activation_cycles, ii=1)


def _divides(spec: LayerSpec, c: CostConstants) -> bool:
    """An io_parallel average pool that divides each window's sum by a variable count (``avg_pool_divider``)."""
    return spec.kind == "pool" and spec.uneven_windows and c.avg_pool_divider and spec.io_type == "io_parallel"


def _pool(spec: LayerSpec, c: CostConstants) -> LayerEstimate:
    """Max/average pooling: (window - 1) comparators or adders per output element (io_parallel); one
    running compare/accumulate per channel (io_stream)."""
    # the compares / adds run on the input type (a global pooling's result type is narrower)
    n, bits, divides = _parallel_outputs(spec), spec.input.width, _divides(spec, c)
    if spec.io_type == "io_stream" and spec.pool_dims == 2 and spec.pool_size < spec.in_pix:  # a sliding 2D window
        lut = n * (c.lut_pool2d_stream_per_channel + c.lut_pool2d_stream_per_channel_bit * bits)
        ff = n * (c.ff_pool2d_stream_per_channel + c.ff_pool2d_stream_per_channel_bit * bits)
    elif spec.io_type == "io_stream":
        lut, ff = c.lut_pool_stream_per_bit * n * bits, c.ff_pool_stream_per_bit * n * bits
    else:
        per_bit = c.lut_pool_avg_per_op_bit if spec.pool_op == "avg" else c.lut_pool_max_per_op_bit
        lut, ff = per_bit * n * max(spec.pool_size - 1, 1) * bits, 0.0
        if divides:  # a divider per pool_op instance (outputs / RF)
            dividers = math.ceil(spec.out_size / max(spec.reuse_factor, 1))
            acc = bits + 2 * math.ceil(math.log2(max(spec.pool_size, 2)))  # hls4ml's average-pool accumulator
            lut += dividers * c.avg_pool_divider_lut_per_bit * acc
            ff += dividers * c.avg_pool_divider_ff_per_bit * acc
    cycles = c.avg_pool_divider_cycles if divides else c.latency_activation_cycles
    return LayerEstimate(spec.name, "pool", lut=lut, ff=ff, latency_cycles=cycles, ii=1)


def _batchnorm(spec: LayerSpec, c: CostConstants) -> LayerEstimate:
    """hls4ml's BatchNormalization: one scale multiply and one bias add per element computed at once,
    the multiplies limited to ceil(elements / RF) (ALLOCATION limit, PIPELINE II = RF;
    nnet_batchnorm.h and nnet_batchnorm_stream.h)."""
    n = _parallel_outputs(spec)
    rf = max(spec.reuse_factor, 1)
    mults = min(n, math.ceil(max(spec.out_size, n) / rf))
    a = spec.input.width  # times the scale (its type where known)
    dsp, mult_lut = variable_multipliers(mults, a, spec.weight.width if spec.weight else spec.result.width, c)
    lut = c.lut_per_tree_bit * n * spec.result.width + mult_lut
    ii = math.ceil(max(spec.out_size, n) / mults) if spec.io_type == "io_stream" else rf
    return LayerEstimate(spec.name, "bn", dsp=dsp, lut=lut, ff=c.ff_per_stage_bit * n * spec.result.width,
                         latency_cycles=c.latency_dense_cycles + ii - 1, ii=ii)


# hls4ml 1.3's LayerNormalization 1/sqrt table type (vivado_backend: ufixed<8,5>)
LAYERNORM_TABLE_BITS = 8


def layernorm_depth(c: CostConstants) -> int:
    """Cycles of one position's LayerNormalization: five chained multiplications (the mean, the
    squares, the variance, difference x 1/sqrt, x scale), each a registered DSP product, the table
    read, and the register after the layer."""
    return 5 * c.latency_dsp_cycles + c.latency_table_cycles + c.latency_dense_cycles


def _layernorm(spec: LayerSpec, c: CostConstants) -> LayerEstimate:
    """hls4ml 1.3's LayerNormalization (nnet_layernorm.h), per position of the sequence: the sum of
    its features and the mean (x 1/features), each feature's difference from it and its square, their
    sum and the variance, a read of 1/sqrt(variance) from a 4,096-entry table, then per feature
    difference x that x scale + bias; the statistics in the accumulator type. Each position's
    hardware is a copy where the top function unrolls the loop (``parallelization``: hls4ml's
    PIPELINE style), else one copy takes a position per cycle (its loop's PIPELINE II=1). Priced
    with the per-operator constants of the other layers; no report of this layer was at hand."""
    features, positions = max(spec.channels, 1), max(spec.n_pix, 1)
    copies = max(min(spec.parallelization, positions), 1)
    steps = math.ceil(positions / copies)
    a, t = (spec.accum or spec.result).width, LAYERNORM_TABLE_BITS
    scale = spec.weight.width if spec.weight else spec.result.width
    dsp = lut = 0.0
    for count, x, y in ((features + 2, a, a), (features, a, t), (features, a + t, scale)):  # (+2: the two x 1/features)
        d, m = products(count, x, y, c)
        dsp, lut = dsp + d, lut + m
    adders = (3 * features - 2) * a + features * spec.result.width  # sums, differences; the bias
    lut += c.lut_per_tree_bit * adders
    depth = layernorm_depth(c)
    bram = math.ceil(copies / 2) * bram18_for(spec.table_size, t)  # two reads per block RAM, as the activation tables
    return LayerEstimate(spec.name, "layernorm", dsp=copies * dsp, bram18=float(bram), lut=copies * lut,
                         ff=copies * c.ff_per_stage_bit * features * a * depth, latency_cycles=depth + steps - 1, ii=steps)


def step_cycles(spec: LayerSpec, c: CostConstants, t, budget: float) -> int:
    """Cycles one step of a Latency-strategy multiplier array needs at this clock budget: its operator
    chain as scheduled (multiply, adder tree, bias), the turns its products take on the shared
    multipliers (RF > 1) and the register after it (``latency_dense_cycles``). A pipelined loop
    asked for II = RF runs at this when it is shorter: the HLS tool reports the II it achieved
    (Gabriele-bot's io_stream convs at RF 16: 'achieved 5, target 16' and 'achieved 9, target 16'
    on 784 and 169 pixels)."""
    from hcp_fpga.estimator.timing import schedule

    (cycles, _), = schedule(_levels(spec, c, t), budget)
    units = math.ceil(spec.mantissas.size / max(spec.reuse_factor, 1))
    turns = math.ceil(mul_operators(spec, c) / max(units, 1))
    return cycles + turns + c.latency_dense_cycles


def _resource_kernel(spec: LayerSpec) -> bool:
    return spec.kind in ("dense", "conv1d", "conv2d") and spec.strategy in ("Resource", "ResourceUnrolled") \
        and spec.reuse_factor > 1


def estimate_layer(spec: LayerSpec, c: CostConstants, step: int | None = None) -> LayerEstimate:
    """One layer's estimate. ``step``: for a Latency-strategy layer that steps over positions at
    RF > 1, the cycles one step needs (``step_cycles``); its II per step is the smaller of that and RF."""
    if spec.kind in ("dense", "conv1d", "conv2d"):
        # At RF 1 the Resource kernel holds every weight as a constant too, so the HLS tool optimizes
        # each constant multiplication as under Latency (hls4ml CI conv2d baselines: 740-792 DSP
        # for 1,536 weights, not one per weight).
        if _resource_kernel(spec):
            est = _dense_resource(spec, c)
        else:
            est = _dense_latency(spec, c)
            if step is not None and step < est.ii:
                est = replace(est, ii=step, latency_cycles=(est.latency_cycles or 0) - (est.ii - step))
        copies = spec.n_pix // spec.partitions if spec.io_type == "io_parallel" else 1
        if copies > 1:  # ParallelizationFactor: that many pixels' multiplier arrays side by side
            est = replace(est, dsp=est.dsp * copies, lut=est.lut * copies, ff=est.ff * copies)
        steps = _pixel_steps(spec)
        if steps > 1 and spec.io_type == "io_parallel":
            # fill_buffer: each buffer element's partition multiplexer; and the output array, written one
            # partition per step, is held in registers until the last step
            est = replace(est, lut=est.lut + c.partition_mux_lut_per_input * spec.n_in * spec.n_pix
                          + _output_write_muxes(spec, c), ff=est.ff + _held_output_bits(spec))
        if spec.io_type == "io_stream" and spec.kind != "dense" and not _pointwise(spec):
            lut, ff = _window_buffers(spec, c)
            est = replace(est, lut=est.lut + lut, ff=est.ff + ff)
        if steps > 1 and spec.io_type == "io_parallel" and _resource_kernel(spec):
            # hls4ml's Resource conv (nnet_conv*_resource.h) leaves its PartitionLoop unpipelined: each
            # partition's fill_buffer call, accumulator set-up and result store come on top of its
            # RF-cycle ReuseLoop, one partition after the other
            ii = steps * ((est.latency_cycles or 0) + c.resource_partition_overhead_cycles)
            return replace(est, ii=ii, latency_cycles=ii)
        if steps > 1:  # one multiplier array walks over the positions, pipelined at II = RF
            overhead = 0
            if spec.io_type == "io_stream":
                resource = spec.strategy != "Latency" and spec.reuse_factor > 1
                if resource:
                    overhead = c.stream_resource_cycles_per_pixel
                elif not _pixel_step_inlined(spec):
                    overhead = c.stream_cycles_per_pixel
            ii = steps * (est.ii + overhead)
            est = replace(est, ii=ii, latency_cycles=ii + (est.latency_cycles or 0))
        return est
    if spec.kind in ("relu", "linear", "softmax", "table"):
        return _activation(spec, c)
    if spec.kind == "pool":
        return _pool(spec, c)
    if spec.kind == "bn":
        return _batchnorm(spec, c)
    if spec.kind == "layernorm":
        return _layernorm(spec, c)
    if spec.kind in ("merge", "merge_mul"):
        return _merge(spec, c)
    if spec.kind == "step_select":
        return _step_select(spec, c)
    if spec.kind == "step_mux":  # a steps:1 multiplexer per input bit: a tree of LUT6 4:1 muxes
        steps = spec.out_size // max(spec.n_in, 1)
        return LayerEstimate(spec.name, spec.kind, lut=spec.n_in * spec.input.width * math.ceil((steps - 1) / 3),
                             latency_cycles=0, ii=1)
    if spec.kind == "embedding":  # a ROM of vocabulary x dimension words, one read per input element
        bits = spec.n_in * spec.n_out * spec.result.width
        bram = float(bram18_for(spec.n_in, spec.n_out * spec.result.width)) if bits >= MIN_BRAM_BITS else 0.0
        return LayerEstimate(spec.name, spec.kind, bram18=bram, lut=0.0 if bram else bits / 64.0, latency_cycles=1, ii=1)
    # Flatten, Reshape, Dropout, padding, concatenation, upsampling: wiring in io_parallel (their
    # io_stream FIFOs are added by estimate_specs); 'unmodelled' layers are named in the notes
    return LayerEstimate(spec.name, spec.kind, latency_cycles=0, ii=1)


def _step_select(spec: LayerSpec, c: CostConstants) -> LayerEstimate:
    """A recurrent layer's read of one step's inputs from the packed io_parallel input word (``out_size``
    elements of ``input``): per input element ``step_select_shifts`` variable shifts, a mask and a select
    on the word."""
    word = spec.out_size * spec.input.width
    shift = c.step_select_shift_lut * min(word / c.step_select_shift_measured_bits, 1.0)
    mask = min(word - 1, c.step_select_word_lut_cap)
    return LayerEstimate(spec.name, spec.kind, lut=spec.n_in * (c.step_select_shifts * shift + 2 * mask),
                         latency_cycles=0, ii=1)


def _merge(spec: LayerSpec, c: CostConstants) -> LayerEstimate:
    """Add/Subtract/Average/Maximum/Minimum: (inputs - 1) adders or comparators per element computed
    at once; Multiply: one multiplier per element (a DSP from 10-bit operands)."""
    n, bits = _parallel_outputs(spec), (spec.accum or spec.result).width  # adders work in the accumulator type
    ops = max(spec.n_in - 1, 1) * n
    if spec.kind == "merge_mul":  # the second operand's type, where it differs, is in ``weight``
        other = spec.weight.width if spec.weight else bits
        dsp, lut = products(ops, bits, other, c)
        return LayerEstimate(spec.name, spec.kind, dsp=dsp, lut=lut, latency_cycles=c.latency_dsp_cycles if dsp else 0, ii=1)
    return LayerEstimate(spec.name, spec.kind, lut=c.lut_per_tree_bit * ops * bits, latency_cycles=0, ii=1)


def _pipeline_registers(specs: list[LayerSpec], layers: list[LayerEstimate], c: CostConstants) -> LayerEstimate:
    """An io_parallel Latency design that takes more than one clock (some layer is pipelined) registers
    every layer's outputs and adds a stage per dense layer plus the output; one that fits in a clock
    has none (hls4ml CI baselines Dense(64)+ReLU: latency 0, 18 FF)."""
    if not any((l.latency_cycles or 0) > 0 for l in layers):
        return LayerEstimate("pipeline_registers", "io", latency_cycles=0, ii=1)
    bits = sum(s.out_size * s.result.width - _held_output_bits(s) for s in specs
               if s.kind not in ("free", "linear", "unmodelled") and not s.internal)  # (a stepping conv holds its own)
    stages = longest_path(specs, [int(s.kind in ("dense", "conv1d", "conv2d")) for s in specs]) * c.latency_dense_cycles + 1
    return LayerEstimate("pipeline_registers", "io", ff=c.ff_per_stage_bit * bits, latency_cycles=stages, ii=1)


def producers(specs: list[LayerSpec]) -> list[tuple[int, ...]]:
    """Per spec, the indices of the earlier specs whose results it reads: those ``LayerSpec.after``
    names (a layer renamed as not priced still answers to its own name), none for a model input
    (``after == ()``), else the spec before it."""
    seen: dict[str, int] = {}
    out: list[tuple[int, ...]] = []
    for i, spec in enumerate(specs):
        found = tuple(dict.fromkeys(seen[n] for n in spec.after or () if n in seen))
        out.append(() if spec.after == () else found or ((i - 1,) if i else ()))
        seen[spec.name] = seen[spec.name.split(" (")[0]] = i
    return out


def branched(specs: list[LayerSpec]) -> bool:
    """Whether any layer reads another than the one before it (parallel branches, merges)."""
    return any(p != ((i - 1,) if i else ()) for i, p in enumerate(producers(specs)))


def longest_path(specs: list[LayerSpec], cycles: list[int]) -> int:
    """The latency of layers taking ``cycles`` each, where each starts once every layer it reads has
    finished: the longest path through the graph (the sum, for a chain)."""
    finish: list[int] = []
    for i, reads in enumerate(producers(specs)):
        finish.append(max((finish[j] for j in reads), default=0) + int(cycles[i]))
    return max(finish, default=0)


def graph_paths(specs: list[LayerSpec], most: int = 64) -> Optional[list[list[int]]]:
    """Every path from a model input to a result the graph ends in, as spec indices in order; None
    where there are more than ``most`` (many merging branches)."""
    reads = producers(specs)
    read = {j for r in reads for j in r}
    paths: list[list[int]] = []
    stack = [[i] for i in range(len(specs)) if i not in read]
    while stack:
        path = stack.pop()
        if not reads[path[0]]:
            paths.append(path)
            if len(paths) > most:
                return None
            continue
        stack += [[j] + path for j in reads[path[0]]]
        if len(stack) > 4 * most:
            return None
    return paths


def _all_input_bits(specs: list[LayerSpec]) -> int:
    """Bits of the model's input arrays: of each input layer (a spec reading nothing, ``after=()``)
    where it has more than one, else from its first layer."""
    inputs = [s for s in specs if s.kind == "free" and s.after == ()]
    return sum(_input_bits(s) for s in inputs) if len(inputs) > 1 else _input_bits(specs[0])


def _input_bits(first: LayerSpec) -> int:
    """Bits of the model's input array, from its first layer."""
    if first.kind in ("conv1d", "conv2d", "pool") or first.in_pix > 1:  # (a cropping reads more than it writes)
        elements = first.in_pix * first.in_channels
    elif first.kind == "dense":
        elements = first.n_in
    else:  # input layer, activations: same size in and out
        elements = first.out_size
    return first.input.width * elements


def fifo_bram18(depth: int, width: int, c: CostConstants) -> int:
    """Block RAMs of one io_stream FIFO; shallow or small ones are shift registers (0)."""
    if depth <= c.fifo_srl_max_depth or depth * width < c.fifo_srl_max_bits:
        return 0
    words = 18 * 1024 // c.fifo_bram_width
    if c.fifo_per_channel:  # Vivado sizes the memory to a power-of-two depth
        depth = _next_pow2(depth)
    else:  # Vitis to a power-of-two width (80 bits: 4 BRAM18 of 36, 144 bits: 8)
        width = _vitis_fifo_width(width, c)
    return math.ceil(width / c.fifo_bram_width) * math.ceil(depth / words)


def _next_pow2(n: int) -> int:
    return 1 << max(int(n) - 1, 0).bit_length()


def _vitis_fifo_width(width: int, c: CostConstants) -> int:
    """The power-of-two word width a Vitis FIFO is built with (``fifo_pow2_width_cap``)."""
    return min(_next_pow2(width), c.fifo_pow2_width_cap)


def fifo_cost(depth: int, width: int, c: CostConstants) -> tuple[float, float, float]:
    """(BRAM18, LUT, FF) of one FIFO of ``depth`` words of ``width`` bits (one channel on Vivado HLS,
    a pixel's packed channels on Vitis HLS)."""
    bram = fifo_bram18(depth, width, c)
    if not c.fifo_per_channel:  # Vitis: registers sized to a power-of-two width (``fifo_pow2_width_cap``)
        pow2 = _vitis_fifo_width(width, c)
        kind = 0 if depth <= 2 else (2 if bram else 1)  # registers, shift register, block RAM
        ff = c.fifo_ff_per_pow2_bit[kind] * pow2 + c.fifo_ff_fixed[kind]
        lut = (1.0 if kind == 0 else c.fifo_lut_per_bit) * pow2 + c.fifo_lut_registers_fixed
        return float(bram), lut, ff
    if bram:
        ff = c.fifo_ff_bram_base + width + 2.0 * math.log2(max(depth, 2))
        return float(bram), c.fifo_lut_bram_base + c.fifo_lut_bram_per_bit * width, ff
    return 0.0, width * math.ceil(depth / 32) + c.fifo_lut_srl_control, c.fifo_ff_srl


def _carries(s: LayerSpec) -> bool:
    """Does the layer's output array go on to the next layer? Folded casts, free layers, named
    placeholders for what is not priced, and the inner parts of one hls4ml function (a recurrent cell)
    pass nothing of their own. A cast hls4ml keeps as its own io_stream call does (``own_process``)."""
    return (s.kind not in ("free", "linear", "unmodelled") or s.own_process) and not s.internal


def _readers(specs: list[LayerSpec]) -> list[int]:
    """Per spec, how many later layers read its result, counting through layers that pass their input
    on (wiring, folded casts, placeholders: their own readers count): 0 for the model's outputs."""
    reads, readers = producers(specs), [0] * len(specs)
    for j in reversed(range(len(specs))):  # a reader comes after what it reads
        for i in reads[j]:
            readers[i] += 1 if _carries(specs[j]) else readers[j]
    return readers


def _stream_fifos(specs: list[LayerSpec], c: CostConstants) -> list[LayerEstimate]:
    """The FIFOs between io_stream layers: one per layer output (one per channel on Vivado HLS,
    one packed FIFO on Vitis), depth = positions, plus the zero-padding layer's FIFO for 'same' convs.
    Folded casts (linear), wiring layers and the model's outputs have none. A result read by several
    layers goes through hls4ml's clone process (``CloneOutput``: ``clone_stream``), which writes a copy
    into a FIFO of its own for each reader."""
    fifos = []
    for s, readers in zip(specs, _readers(specs)):
        if not _carries(s):
            continue
        queues = []
        if s.padded_pix:  # the padding layer hls4ml inserts before a 'same' conv
            queues.append((f"{s.name}_pad", s.padded_pix, s.in_channels, s.input.width))
        shape = (max(s.out_size // max(s.channels, 1), 1), s.channels, s.result.width)
        if readers:
            queues.append((f"{s.name}_out", *shape))
        if readers > 1:
            queues += [(f"{s.name}_cpy{k}", *shape) for k in range(1, readers + 1)]
        for name, depth, channels, bits in queues:
            if c.fifo_per_channel:
                bram, lut, ff = (channels * x for x in fifo_cost(depth, bits, c))
            else:
                bram, lut, ff = fifo_cost(depth, channels * bits, c)
            fifos.append(LayerEstimate(name, "fifo", bram18=bram, lut=lut, ff=ff, latency_cycles=0, ii=1))
    return fifos


def latency_io_parallel(specs: list[LayerSpec]) -> bool:
    """Is this an io_parallel design whose multiplier layers all run hls4ml's Latency strategy? (A
    layer of another kind has no strategy in hls4ml's C++; its configured one sets the pipeline style
    only: ``dataflow_io_parallel``.)"""
    return bool(specs) and specs[0].io_type == "io_parallel" \
        and all(s.strategy == "Latency" for s in specs if s.kind in MULT_KINDS)


def dataflow_io_parallel(specs: list[LayerSpec]) -> bool:
    """Does hls4ml 1.3 build this io_parallel design as DATAFLOW (``SetPipelineStyle``) with element
    channels between its layers: because a conv steps over pixel partitions, or because some layer
    without a strategy of its own (an activation, a pooling, the input) is configured Resource while no
    multiplier layer is (hls4ml's rule reads every layer's strategy)? (A Resource multiplier layer
    makes it DATAFLOW too; that case is inside the Resource constants, fitted on whole dataflow designs.)"""
    if not specs or specs[0].io_type != "io_parallel":
        return False
    by_strategy = any(s.strategy == "Resource" for s in specs if s.kind not in MULT_KINDS) \
        and not any(s.strategy == "Resource" for s in specs if s.kind in MULT_KINDS)
    return by_strategy or any(s.kind in ("conv1d", "conv2d") and s.partitions > 1 and not s.internal for s in specs)


def _element_fifos(specs: list[LayerSpec], c: CostConstants) -> list[LayerEstimate]:
    """A DATAFLOW io_parallel design: every element of every array between layers is a depth-2 FIFO
    (folded casts and wiring layers pass their array on; the model's outputs have none)."""
    out = []
    for s, readers in zip(specs, _readers(specs)):
        if not readers or not _carries(s):
            continue
        n, bits = s.out_size, s.result.width
        if c.element_fifo_ff > 0:  # the tool's measured element FIFO
            lut, ff = n * (c.element_fifo_lut or bits + c.fifo_lut_srl_control), n * c.element_fifo_ff
        else:  # none measured: the tool's FIFO rule for a depth-2 FIFO of one element
            _, lut1, ff1 = fifo_cost(2, bits, c)
            lut, ff = n * lut1, n * ff1
        out.append(LayerEstimate(f"{s.name}_out", "fifo", lut=float(lut), ff=float(ff), latency_cycles=0, ii=1))
    return out


def schedulable(specs: list[LayerSpec]) -> bool:
    """An io_parallel Latency design of layers computed all at once (no pixel loops): the timing
    model in ``timing.py`` schedules its whole operator chain."""
    return all(s.n_pix <= 1 for s in specs if s.kind in ("dense", "conv1d", "conv2d")) and all(s.steps == 1 for s in specs)


def recurrence_latency(specs: list[LayerSpec], layers: list[LayerEstimate], c: CostConstants) -> list[LayerEstimate]:
    """Layers with each recurrent cell's latency on its wiring spec: the steps run one after the other
    (each reads the state the last wrote), and within a step the input and the recurrent products
    run side by side (neither needs the other: the reports' cell takes the longer of the two plus
    a few cycles), then the gate tables and the elementwise products, twice (the gates, then the
    candidate and the new state), plus the loop's own cycles. The cell's II is that whole latency."""
    out = list(layers)
    for i, spec in enumerate(specs):
        if spec.kind != "move":
            continue
        j = i
        while j > 0 and specs[j - 1].internal and specs[j - 1].name.startswith(f"{spec.name}_"):
            j -= 1
        for k in range(j, i):  # the parts name the layer they belong to (compare pairs the whole cell)
            out[k] = replace(layers[k], part_of=spec.name)
        if spec.steps <= 1:
            continue
        cell = {specs[k].name[len(spec.name) + 1:]: layers[k] for k in range(j, i)}

        def cycles(*parts: str) -> int:  # the longest of these parts (the gate products, and a
            # Bidirectional layer's forward_ and backward_ cells, run side by side)
            return max(((layer.latency_cycles or 0) for key, layer in cell.items() for p in parts
                        if key == p or key.endswith(f"_{p}")), default=0)

        elementwise = cycles("gates") + cycles("products", "mix")
        step = cycles("kernel", "recurrent") + 2 * elementwise + c.latency_recurrent_step_cycles
        for k in range(j, i):
            out[k] = replace(out[k], latency_cycles=0, ii=1)
        out[i] = replace(layers[i], latency_cycles=spec.steps * step, ii=spec.steps * step)
    return out


def _levels(spec: LayerSpec, c: CostConstants, t) -> list:
    """The operator chain of one layer for the scheduler: multiply, adder-tree levels, activation."""
    from hcp_fpga.estimator.timing import Level

    if spec.kind in ("dense", "conv1d", "conv2d"):
        digits, nonzero, on_dsp = constant_products(spec, c)
        lut_products = nonzero & ~on_dsp
        prod_bits = spec.input.width + (spec.weight.width if spec.weight else 16)
        levels = []
        if on_dsp.any() or lut_products.any():
            # shift-and-add constant multiplications: a tree over the CSD digits of the widest constant
            depth = math.ceil(math.log2(int(digits[lut_products].max()))) if lut_products.any() else 0
            delay = max(t.mult_ns if on_dsp.any() else 0.0, t.add_ns * depth)
            # each product's own chain: a shift-and-add tree as deep as its CSD digits need
            depths = np.ceil(np.log2(np.maximum(digits[lut_products], 1))).astype(int)
            parts = tuple((t.add_ns * d, float(np.count_nonzero(depths == d)) * prod_bits) for d in np.unique(depths))
            levels.append(Level(delay, float(lut_products.sum()) * prod_bits, dsp_internal=not lut_products.any(),
                                parts=parts))
        per_out = nonzero.sum(axis=0)
        acc = _accumulator_bits(spec)
        d = 1
        while per_out.size and per_out.max() > 2 ** (d - 1):
            live = np.ceil(per_out / 2**d).sum()
            levels.append(Level(t.add_ns, float(live) * acc))
            d += 1
        levels.append(Level(t.add_ns, float(spec.n_out) * acc))  # the bias add
        return levels
    if spec.kind in ("relu", "linear", "pool", "merge", "pad", "move"):
        return [Level(t.act_ns, float(spec.out_size) * spec.result.width)] if spec.out_size else []
    if spec.kind == "bn":
        return [Level(t.mult_ns, 0.0, dsp_internal=True), Level(t.add_ns, float(spec.out_size) * spec.result.width)]
    return []


# The per-layer Latency constants were fitted on Vivado HLS reports at 5 ns on UltraScale+ parts (jet
# triples on xcu250/vu9p): the timing model moves them from that reference to the design's clock,
# tool and part.
REFERENCE_CLOCK_NS, REFERENCE_BACKEND, REFERENCE_PART = 5.0, "Vivado", "xcu250-figd2104-2L-e"


def _clock_adjusted(pipe: LayerEstimate, layers: list[LayerEstimate], specs: list[LayerSpec], c: CostConstants,
                    backend: str, clock_ns: float, part, uncertainty) -> tuple[LayerEstimate, list[LayerEstimate]]:
    """Pipeline registers and latency at the design's own clock budget and part. Latency: the timing
    model's schedule (``timing.py``). Registers: the fitted constants (reference conditions: the
    registers between layers in ``pipe``, those inside pipelined multiplier layers and BatchNorms in
    their rows) plus the register bits the timing model adds or removes between the reference
    schedule and this one. A slower budget removes stages: first between layers, then inside them
    (alex_model at 25 ns, one cycle in all: 931 FF reported, its I/O registers); never the registers
    the layers own for other reasons (tables, I/O), never below zero, never falling as the clock
    period shrinks. Returns (pipe, layers)."""
    from hcp_fpga.estimator.timing import budget_ns, part_timing

    chain = _operator_chain(specs, c, part_timing(part))
    budget = budget_ns(clock_ns or 5.0, backend, uncertainty)
    (cycles, bits), = _scheduled(chain, budget)
    # branches side by side: the latency is the longest path's schedule (the registers stay those of
    # the chain in graph order: a shorter branch's results are held while the longer one computes)
    paths = graph_paths(specs) if branched(specs) else None
    if paths:
        cycles = max(_scheduled(_operator_chain([specs[i] for i in p], c, part_timing(part)), budget)[0][0]
                     for p in paths)
    # the same operators where the constants were fitted: the reference clock, tool and part family
    (_, ref_bits), = _scheduled(_operator_chain(specs, c, part_timing(REFERENCE_PART)),
                                budget_ns(REFERENCE_CLOCK_NS, REFERENCE_BACKEND))
    ff = pipe.ff + c.ff_per_stage_bit_scheduled * (bits - ref_bits)
    staged = [i for i, l in enumerate(layers) if l.kind in ("dense", "conv1d", "conv2d", "bn") and l.ff > 0]
    inside = sum(layers[i].ff for i in staged)
    if inside > 0 and (ff < 0 or bits == 0):  # more stages gone than there were between layers, or no cut at all
        keep = max(1.0 + ff / inside, 0.0) if bits > 0 else 0.0
        layers = [replace(l, ff=l.ff * keep) if i in staged else l for i, l in enumerate(layers)]
    return replace(pipe, ff=max(ff, 0.0), latency_cycles=cycles), layers


@dataclass(frozen=True)
class _Chain:
    """An io_parallel Latency design as the scheduler sees it: runs of chained operators separated by
    table reads (softmax, sigmoid: registered, fixed latency, with their own registers), and the
    longest shared-multiplier sequence of its RF > 1 layers."""

    segments: tuple  # tuple of tuples of timing.Level
    table_cycles: int
    table_bits: float
    shared_cycles: int


def _operator_chain(specs: list[LayerSpec], c: CostConstants, t) -> _Chain:
    segments, current = [], []
    table_cycles, table_bits, shared = 0, 0.0, 0
    for spec in specs:
        if spec.kind == "softmax" and spec.softmax_impl == "argmax":  # no table reads: operators only
            current += _argmax_levels(spec, t)
            continue
        if spec.kind == "softmax":
            before_exp, before_inv, after = _softmax_levels(spec, c, t)
            segments += [tuple(current + before_exp), tuple(before_inv)]
            current = after
            table_cycles += 2  # the exp and the inverse table reads
            table_bits += c.ff_softmax_per_output * spec.out_size
            continue
        if spec.kind == "table":
            segments.append(tuple(current))
            current = []
            table_cycles += c.latency_table_cycles
            continue
        if spec.kind == "layernorm":  # its own pipeline (its registers in its row), like a table read
            segments.append(tuple(current))
            current = []
            table_cycles += layernorm_depth(c)
            continue
        if _divides(spec, c):  # the dividers' own pipeline, like a table read: a fixed number of cycles
            segments.append(tuple(current + _levels(spec, c, t)))
            current = []
            table_cycles += c.avg_pool_divider_cycles
            continue
        current += _levels(spec, c, t)
        if spec.kind in ("dense", "conv1d", "conv2d") and spec.mantissas is not None and spec.reuse_factor > 1:
            # shared multipliers: hls4ml's ALLOCATION pragma allows ceil(n_in*n_out / RF) 'mul'
            # operators; the products that are mul operators take turns on them. Constants the tool
            # builds from shifts and adds are no mul operators and are not serialized. The layers'
            # turns overlap in the function's pipeline (II = RF), so the longest sequence counts.
            units = math.ceil(spec.mantissas.size / spec.reuse_factor)
            shared = max(shared, math.ceil(max(mul_operators(spec, c), 1) / units) - 1)
    segments.append(tuple(current))
    return _Chain(tuple(segments), table_cycles, table_bits, shared)


def _softmax_levels(spec: LayerSpec, c: CostConstants, t) -> tuple[list, list, list]:
    """hls4ml's stable softmax (``softmax_stable``, nnet_activation.h) as operators around its two
    table reads: the maximum (a compare-and-select tree), x - max, [exp table], the sum of the
    exponentials (an adder tree), [inverse table], the n products. Every cut inside it also holds the
    n values carried to the next step (the inputs past the maximum, the exponentials past the sum):
    at a fast clock on a slow part each tree level is a cycle (ArgyKokk's xc7z007s at 3.33 ns:
    16 outputs, 20 cycles and 3,798 FF reported), at 5 ns on UltraScale+ the whole is 4 cycles."""
    from hcp_fpga.estimator.timing import Level

    n = max(spec.out_size, 1)
    w, table = (spec.input.width if spec.input else 16), c.bram_width_bits
    depth = math.ceil(math.log2(n)) if n > 1 else 0
    compare = [Level(t.add_ns + t.act_ns, float(n * w + math.ceil(n / 2**d) * w)) for d in range(1, depth + 1)]
    add = [Level(t.add_ns, float(n * table + math.ceil(n / 2**d) * table)) for d in range(1, depth + 1)]
    before_exp = [] if spec.softmax_impl == "latency" else compare + [Level(t.add_ns, float(n * w))]
    return before_exp, add, [Level(t.mult_ns, 0.0, dsp_internal=True)]


def _scheduled(chain: _Chain, *budgets: float) -> list[tuple[int, float]]:
    """(latency cycles, register bits) of a chain at each budget: each run of operators scheduled
    (``timing.schedule``), a register between a run and the table read after it."""
    from hcp_fpga.estimator.timing import schedule

    totals = [[chain.table_cycles + chain.shared_cycles, chain.table_bits] for _ in budgets]
    for i, run in enumerate(chain.segments):
        between = 1 if run and i < len(chain.segments) - 1 else 0
        for total, (n, m) in zip(totals, schedule(list(run), *budgets)):
            total[0] += n + between
            total[1] += m
    return [(int(n), float(m)) for n, m in totals]


def _resource_levels(spec: LayerSpec, c: CostConstants, t) -> list:
    """The per-cycle datapath of hls4ml's Resource kernel (``dense_resource``): ``block`` = n_in *
    n_out / RF products (DSP or LUT multipliers), an adder tree over the n_in / RF of them each
    accumulator receives per cycle, and the accumulation."""
    from hcp_fpga.estimator.timing import Level

    _, block = _resource_block(spec)
    per_out = max(math.ceil(block / max(spec.n_out, 1)), 1)
    a, w = spec.input.width, spec.weight.width if spec.weight else 16
    acc = _accumulator_bits(spec)
    if resource_on_dsp(spec.weight or Fixed(16, 6), spec.input, c):
        levels = [Level(t.mult_ns, 0.0, dsp_internal=True)]
    else:  # a LUT multiplier sums min(a, w) partial products in a tree
        levels = [Level(t.add_ns, float(block * (a + w)))] * max(math.ceil(math.log2(max(min(a, w), 1))), 1)
    d = 1
    while per_out > 2 ** (d - 1):
        levels.append(Level(t.add_ns, float(spec.n_out * math.ceil(per_out / 2**d) * acc)))
        d += 1
    return levels + [Level(t.add_ns, float(spec.n_out * acc))]  # the accumulation


# The Resource-kernel constants were fitted on the wa-hls4ml sample: Vitis HLS 2023.2, 5 ns, xcu250
RESOURCE_REFERENCE = (5.0, "Vitis", "xcu250-figd2104-2L-e")


def _beyond_reference(est: LayerEstimate, c: CostConstants, run, t, budget: float, reference: tuple) -> LayerEstimate:
    """``est`` plus the registers and cycles a layer's own datapath needs at this budget and part
    beyond its schedule at ``reference`` (clock, backend, part: where its constants were fitted);
    never fewer, since the fitted constants hold almost no pipeline registers. ``run(timing,
    budget)`` -> (cycles, register bits) of the datapath."""
    from hcp_fpga.estimator.timing import budget_ns, part_timing

    cycles, bits = run(t, budget)
    clock, backend, part = reference
    ref_cycles, ref_bits = run(part_timing(part), budget_ns(clock, backend))
    return replace(est, ff=est.ff + c.ff_per_stage_bit_scheduled * max(bits - ref_bits, 0.0),
                   latency_cycles=(est.latency_cycles or 0) + max(cycles - ref_cycles, 0))


def _resource_pipeline(spec: LayerSpec, est: LayerEstimate, c: CostConstants, t, budget: float) -> LayerEstimate:
    """A Resource layer at a clock and part faster than its constants' reference (the wa-hls4ml
    sample): the registers and cycles its per-cycle datapath needs beyond the reference schedule."""
    from hcp_fpga.estimator.timing import schedule

    return _beyond_reference(est, c, lambda tm, b: schedule(_resource_levels(spec, c, tm), b)[0], t, budget,
                             RESOURCE_REFERENCE)


def _latency_kernel(spec: LayerSpec) -> bool:
    return spec.kind in ("dense", "conv1d", "conv2d") and spec.mantissas is not None and not _resource_kernel(spec)


def _kernel_pipeline(spec: LayerSpec, est: LayerEstimate, c: CostConstants, t, budget: float) -> LayerEstimate:
    """A Latency kernel outside a scheduled io_parallel chain (io_stream layers, io_parallel convs
    stepping over positions): the cycles and registers its products and adder tree need beyond the
    reference schedule its constants were fitted at (Gabriele-bot's io_stream convs at 2 ns:
    5,519 FF reported for a 144-input kernel)."""
    from hcp_fpga.estimator.timing import schedule

    return _beyond_reference(est, c, lambda tm, b: schedule(_levels(spec, c, tm), b)[0], t, budget,
                             (REFERENCE_CLOCK_NS, REFERENCE_BACKEND, REFERENCE_PART))


def _softmax_pipeline(spec: LayerSpec, est: LayerEstimate, c: CostConstants, t, budget: float) -> LayerEstimate:
    """A softmax outside a scheduled io_parallel chain (io_stream, Resource designs): the cycles and
    registers its operators (``_softmax_levels``) need beyond the reference schedule its constants
    were fitted at (5 ns, Vivado HLS, UltraScale+: 4 cycles; Gabriele-bot's at 2 ns: 12 cycles,
    2,454 FF; Spehic's on an xc7z020 at 5 ns: 38 cycles)."""
    def run(timing, b):
        if spec.softmax_impl == "argmax":
            return _scheduled(_Chain((tuple(_argmax_levels(spec, timing)),), 0, 0.0, 0), b)[0]
        return _scheduled(_Chain(tuple(map(tuple, _softmax_levels(spec, c, timing))), 2, 0.0, 0), b)[0]

    return _beyond_reference(est, c, run, t, budget, (REFERENCE_CLOCK_NS, REFERENCE_BACKEND, REFERENCE_PART))


def _step(spec: LayerSpec, c: CostConstants, t, budget: float) -> int | None:
    """``step_cycles`` where it can bound the II: a Latency-strategy layer at RF > 1 that steps over
    positions (a conv, or any layer in io_stream). ``t``, ``budget``: the part's timing and the
    clock budget, found once per design."""
    if spec.kind not in ("dense", "conv1d", "conv2d") or spec.mantissas is None or spec.reuse_factor <= 1 \
            or spec.strategy in ("Resource", "ResourceUnrolled") or _pixel_steps(spec) <= 1:
        return None
    return step_cycles(spec, c, t, budget)


# layers that compute each output element from the same element of their input alone: an element no
# one reads makes its whole chain back to the multiplier array dead
_ELEMENTWISE = ("relu", "linear", "table", "free")


def _unrolled_dense(spec: LayerSpec) -> bool:
    return spec.kind == "dense" and spec.strategy == "Latency" and spec.io_type == "io_parallel" \
        and spec.mantissas is not None and spec.n_pix <= 1 and not spec.internal


def without_dead_outputs(specs: list[LayerSpec]) -> list[LayerSpec]:
    """The specs after the HLS tool's dead-code elimination: an unrolled (io_parallel Latency) dense
    layer whose input element has no nonzero product (a pruned row, an HGQ 0-bit input) does not
    read it, so the logic that computes only that element goes: the products of the dense layer
    before (they leave ``mantissas``) and the element-wise layers between (``dead``). The registers
    between the layers stay, ports being fixed. Works back from the output, so a layer emptied this
    way empties its own producer; a layer another branch or the model's output reads is left whole.
    The wiring comes from ``producers``, so a spec list that names every predecessor (generated
    C++) and one that leaves them implicit (a model) give the same result.
    Measured: the pruned jet triples' ReLU modules are priced per live element (jet-dense-pruned75:
    1,624 / 812 / 588 LUT for 58 / 29 / 21 of 64 / 32 / 32 elements, as estimated; jet-qkeras6-pruned75:
    72.0 LUT per live element in all three), their FF are not; Lrozzy's HGQ layers keep 1 of 12 DSP
    products in the layer whose 24 of 32 outputs the next one does not read (reported 1)."""
    specs = list(specs)
    reads = producers(specs)
    readers: list[list[int]] = [[] for _ in specs]
    for j, read_from in enumerate(reads):
        for i in read_from:
            readers[i].append(j)

    def feeds_only_the_next(i: int) -> bool:
        return readers[i] == [i + 1] and reads[i + 1] == (i,) and not specs[i].model_output

    for k in range(len(specs) - 1, 0, -1):
        consumer = specs[k]
        if not _unrolled_dense(consumer) or reads[k] != (k - 1,):
            continue
        read = (consumer.mantissas != 0).any(axis=1)
        if read.all():
            continue
        j = k - 1
        while j > 0 and specs[j].kind in _ELEMENTWISE and specs[j].out_size == consumer.n_in \
                and not specs[j].internal and feeds_only_the_next(j):
            j -= 1
        producer = specs[j]
        if not _unrolled_dense(producer) or not feeds_only_the_next(j) or producer.n_out != consumer.n_in \
                or producer.mantissas.shape[1] != read.size:
            continue
        dead = int(read.size - read.sum())
        gone = int(np.count_nonzero(producer.mantissas[:, ~read]))
        specs[j] = replace(producer, mantissas=np.where(read[None, :], producer.mantissas, 0),
                           dead_products=producer.dead_products + gone)
        for i in range(j + 1, k):
            specs[i] = replace(specs[i], dead=dead)
    return specs


def _unpriced_po2(spec: LayerSpec) -> LayerSpec:
    """Power-of-two weights outside Latency strategy are read from memory: each product a variable
    shift (hls4ml's ``weight_exponential``) no report here prices, so the layer is named, not guessed.
    At Latency strategy they are constants, priced as any constant product (a shift, no adder)."""
    if spec.weight_exponent_bits and spec.strategy != "Latency" and spec.kind in MULT_KINDS:
        return replace(spec, kind="unmodelled", name=f"{spec.name} (power-of-two weights at {spec.strategy} strategy)")
    return spec


def estimate_specs(specs: Iterable[LayerSpec], backend: str, clock_ns: float, part: str | None = None,
                   extra_notes: Iterable[str] = (), uncertainty: float | None = None, tool: str | None = None,
                   mul_impl: str | None = None) -> Estimate:
    """Total of the per-layer estimates. io_parallel: latency is the sum along the (sequential) graph,
    II the maximum. io_stream: the layers run concurrently (dataflow), so the slowest layer's pixel
    loop sets the II and the latency is that plus every layer's pipeline depth. ``tool``: the HLS
    tool and version ("Vivado HLS 2020.1") where known (backends.TOOL_VERSIONS); ``mul_impl``: a
    ``config_op mul -impl`` directive ("dsp", "fabric"; directives.py)."""
    from hcp_fpga.estimator.backends import tool_builder, tool_versions

    c = constants_for(backend, part, tool, mul_impl)
    specs = without_dead_outputs([_unpriced_po2(s) for s in specs])
    _, tool_note = tool_versions(tool)
    extra_notes = list(extra_notes) + ([tool_note] if tool_note else []) + [s.note for s in specs if s.note]
    if tool_builder(backend, tool) != backend:
        extra_notes.append(f"code of hls4ml's {backend} backend built by {tool}: its FIFOs are priced as {tool} builds them")
    if tool is None:
        default, vivado = c, constants_for(backend, part, "Vivado HLS 2020.1", mul_impl)
        if any(s.strategy in ("Resource", "ResourceUnrolled") and s.kind in ("dense", "conv1d", "conv2d") and s.weight
               and s.input and resource_on_dsp(s.weight, s.input, default)
               != resource_on_dsp(s.weight, s.input, vivado) for s in specs):
            extra_notes.append("HLS tool unknown: Vitis HLS maps these Resource-strategy products to LUTs, Vivado HLS "
                               "(2020.1 and older) to DSPs; Vitis assumed (pass --tool-version)")
    from hcp_fpga.estimator.timing import FASTEST_CLOCK_NS, budget_ns, part_timing, part_timing_note

    if clock_ns and clock_ns < FASTEST_CLOCK_NS:
        extra_notes.append(f"a {clock_ns:g} ns clock is faster than any global clock buffer in the timing facts "
                           f"({FASTEST_CLOCK_NS:.2f} ns: BUFG 891 MHz, UltraScale+ -3, DS922): no part listed there "
                           "runs it; the schedule is the estimate's extrapolation")
    if (assumed := part_timing_note(part)) is not None:
        extra_notes.append(assumed)
    timing, budget = part_timing(part), budget_ns(clock_ns or 5.0, backend, uncertainty)
    layers = [estimate_layer(s, c, _step(s, c, timing, budget)) for s in specs]
    layers = [_resource_pipeline(s, l, c, timing, budget) if _resource_kernel(s) else l for s, l in zip(specs, layers)]
    scheduled_whole = latency_io_parallel(specs) and schedulable(specs)
    if not scheduled_whole:  # (a scheduled design's softmax and kernels are part of its operator chain)
        layers = [_softmax_pipeline(s, l, c, timing, budget) if s.kind == "softmax"
                  else _kernel_pipeline(s, l, c, timing, budget) if _latency_kernel(s) else l
                  for s, l in zip(specs, layers)]
    layers = recurrence_latency(specs, layers, c)  # one row per spec, in spec order
    ii = max((l.ii or 1) for l in layers)
    front: list[LayerEstimate] = []
    extra: list[LayerEstimate] = []  # rows of no one layer: registers between layers, FIFOs
    # Resource-strategy FF constants were fitted on whole designs, input registers included
    if latency_io_parallel(specs):
        front = [LayerEstimate("input_registers", "io", ff=c.ff_per_input_bit * _all_input_bits(specs),
                               latency_cycles=0, ii=1)]
        pipe = _pipeline_registers(specs, layers, c)
        if schedulable(specs):
            pipe, layers = _clock_adjusted(pipe, layers, specs, c, backend, clock_ns, part, uncertainty)
            layers = [replace(l, latency_cycles=0) for l in layers]  # the schedule gives the whole latency
        extra.append(pipe)
    if dataflow_io_parallel(specs):
        extra += _element_fifos(specs, c)
    if specs and specs[0].io_type == "io_stream":
        extra += _stream_fifos(specs, c)

        def depth(l: LayerEstimate) -> int:  # a process's cycles before its last output, past the II
            return (l.latency_cycles or 0) - (l.ii or 1) if (l.ii or 1) > 1 else (l.latency_cycles or 0)
        latency = ii + longest_path(specs, [depth(l) for l in layers]) + sum(depth(l) for l in extra)
    else:
        latency = longest_path(specs, [l.latency_cycles or 0 for l in layers]) + sum(l.latency_cycles or 0 for l in extra)
    layers = front + layers + extra
    notes = ["analytical estimate; see docs/estimator.md for its error", *extra_notes]
    unmodelled = [s.name for s in specs if s.kind == "unmodelled"]
    if unmodelled:
        notes.append(f"not priced (counted as 0; the totals are a lower bound and cannot show a fit): {', '.join(unmodelled)}")
    from hcp_fpga.estimator.uncertainty import class_of

    return Estimate.from_layers("estimate", layers, latency, ii, clock_ns, part=part, notes=tuple(notes), unpriced=unmodelled,
                                tool=tool, design_class=class_of(specs))


def design_specs(design) -> list[LayerSpec]:
    """The layer specs of a ``Design``: its model with its settings and result types, as its hls4ml
    config will have them (``Design.hls_config``): the layer feeding a softmax saturates into the
    model type (or into its chosen width) instead of hls4ml's lossless 'auto' width."""
    from hcp_fpga.estimator.precision import parse_fixed

    s = design.settings
    # the layer options last: the export saturates a softmax's input whatever its implementation (or Skip)
    # the QKeras quantized_bits activations the export makes hls4ml apply and the depthwise convolutions
    # it keeps apart from a BatchNormalization (Design.export_result_types)
    # (given to the inference too: a pooling or merge after a cast infers its type from the cast's)
    casts = design.quantizer_casts()
    # the linear activation split off a softmax's input: the export gives it that input's (saturated)
    # type, whatever the settings say, so hls4ml removes it (Design.hls_config)
    feeds = {f"{name}_linear" for name, _, _ in design.softmax_feeds()}
    precisions = {name: t for name, t in s.layer_precision.items() if name not in feeds}
    specs = typed_specs(design.model, replace(s, layer_options={}, layer_precision=precisions), design.export_result_types(casts))
    saturated = design.softmax_input_types(casts)
    for i in range(1, len(specs)):
        before, spec = specs[i - 1], specs[i]
        if spec.kind == "softmax" and before.name in saturated:
            into = parse_fixed(saturated[before.name])
            specs[i - 1], specs[i] = replace(before, result=into), replace(spec, input=into)
    return with_layer_options(_noted_nested_models(specs, design.model), s.layer_options)


def _noted_nested_models(specs: list[LayerSpec], model) -> list[LayerSpec]:
    """``specs`` with a note on the first layer of each nested model hls4ml 1.3 wires otherwise
    (``models.miswired_nested_models``; export refuses them): priced as the Keras model wires it."""
    from hcp_fpga.models import flat_layers, miswired_nested_models

    for name, why in miswired_nested_models(model):
        inner = {layer.name for layer in flat_layers(model.get_layer(name))}
        i = next((i for i, sp in enumerate(specs) if sp.name.split(" (")[0] in inner), None)
        if i is not None:
            said = f"layer '{name}' ({why}): priced as the Keras model wires it, which hls4ml builds otherwise"
            specs[i] = replace(specs[i], note="; ".join(n for n in (specs[i].note, said) if n))
    return specs


def estimate_design(design, tool: str | None = None) -> Estimate:
    """Estimate of a ``Design`` (model + board + settings); ``tool``: the HLS tool, where known."""
    s = design.settings
    return estimate_specs(design_specs(design), s.backend, s.clock_ns, design.board.part, tool=tool)


def typed_specs(model, settings, extra: Optional[dict[str, str]] = None) -> list[LayerSpec]:
    """Per-layer specs of a live ``model`` with the result types ``settings`` name, as the export writes
    them (``design.written_result_types``), and ``extra`` ones (the export's casts): given to hls4ml's
    type inference and set on the layers they name."""
    from hcp_fpga.design import written_result_types

    precisions = {**(extra or {}), **written_result_types(model, settings.layer_precision)}
    return with_result_types(layer_specs(model, replace(settings, layer_precision=precisions)), precisions)


def with_result_types(specs: list[LayerSpec], precisions: dict[str, str]) -> list[LayerSpec]:
    """Specs with the named layers' result types set (and the next layer's input following)."""
    if not precisions:
        return specs
    from hcp_fpga.estimator.precision import parse_fixed
    from hcp_fpga.estimator.spec import accumulator

    out: list[LayerSpec] = []
    carried = None  # a changed type flowing on to the next layer
    for spec in specs:
        incoming, carried = carried, None
        if spec.after is not None and not (out and out[-1].name in spec.after):
            incoming = None  # a branch's first layer reads another layer than the one before it in the list
        if incoming is not None:
            if spec.kind == "free":
                spec = replace(spec, input=incoming, result=incoming)
                carried = incoming
            elif spec.kind in ("dense", "conv1d", "conv2d") and spec.weight is not None and spec.accum is not None \
                    and not spec.name.endswith("_depthwise"):
                # the inferred accumulator (and result, where it is the inferred type) follows the new
                # input, and so does the input of the layer after it (its fused activation); an
                # accumulator the config names (not the inferred one) stays
                was = accumulator(spec.weight, spec.input, spec.n_in, spec.has_bias, spec.bias)
                acc = accumulator(spec.weight, incoming, spec.n_in, spec.has_bias, spec.bias)
                inferred = spec.result == was
                spec = replace(spec, input=incoming, accum=acc if spec.accum == was else spec.accum,
                               result=acc if inferred else spec.result)
                carried = acc if inferred else None
            else:
                spec = replace(spec, input=incoming)
        if spec.name in precisions and not spec.input_typed:
            new = parse_fixed(precisions[spec.name])
            # an input layer holds its values in that type: its registers are that wide too
            spec = replace(spec, input=new, result=new) if spec.kind == "free" else replace(spec, result=new)
            carried = spec.result
        out.append(spec)
    return out


def is_project_dir(path) -> bool:
    """Does ``path`` look like an hls4ml project folder (has ``hls4ml_config.yml``)?"""
    from pathlib import Path

    return Path(path).is_dir() and (Path(path) / "hls4ml_config.yml").is_file()


MODEL_FILES = ("keras_model.h5", "keras_model.keras", "model.h5", "model.keras")


def project_model_nodes(project_dir):
    """The model a project was made from, as ``graph.Node``s read from its files (no Keras): hcp_fpga's
    copy (``hcp_model.json`` + weights), hls4ml's ``keras_model.*``, else the only model file there.
    None when the folder holds none."""
    from pathlib import Path

    from hcp_fpga.errors import ModelLoadError
    from hcp_fpga.estimator.graph import GraphError, nodes_from_json, read_model_file

    project_dir = Path(project_dir)
    if (project_dir / "hcp_model.json").exists():
        import json
        from contextlib import nullcontext

        import h5py

        from hcp_fpga.errors import check_regular_file

        weights, model_json = project_dir / "hcp_model_weights.h5", project_dir / "hcp_model.json"
        fix = "re-export the project, or pass the model with --model-file"
        for path in (model_json, weights) if weights.exists() else (model_json,):
            check_regular_file(path, f"'{path}'", fix, ModelLoadError)
        try:
            with h5py.File(weights, "r") if weights.exists() else nullcontext() as h5:
                return nodes_from_json(json.loads(model_json.read_text()), h5)
        except (GraphError, OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"cannot read '{model_json}': {exc} ({fix})") from None
    candidates = [project_dir / n for n in MODEL_FILES if (project_dir / n).exists()]
    if not candidates:
        found = sorted(p for p in project_dir.iterdir() if p.suffix in (".h5", ".keras") and p.is_file())
        candidates = found if len(found) == 1 else []
    if not candidates:
        return None
    try:
        return read_model_file(candidates[0])
    except (GraphError, OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot read '{candidates[0]}': {exc} (pass the model with --model-file)") from None


@dataclass(frozen=True)
class ProjectSpecs:
    """What a project folder says about its design: layer specs and the conditions they run at."""

    specs: list
    backend: str
    clock_ns: float
    part: str | None
    notes: tuple = ()
    # the clock uncertainty the project is built with (fraction of the period), where its config
    # says; None: the backend's default (timing.UNCERTAINTY)
    uncertainty: float | None = None


def project_specs(project_dir, model=None, part: str | None = None, clock_ns: float | None = None,
                  backend: str | None = None) -> ProjectSpecs:
    """Layer specs of an hls4ml project folder from what it holds, without Keras. With its generated
    C++ (``firmware/parameters.h``, ``defines.h``, the top function) every layer, type and weight is
    read from there (``firmware.py``). Otherwise from ``hls4ml_config.yml`` plus the model file's own
    JSON (any Keras version, read by ``graph.py``) with the synthesized weights in
    ``firmware/weights/*.txt`` where present; with no model file, from the config and the weight files
    alone (``weights_only.py``). ``model`` (a live Keras model) replaces the folder's model file;
    ``part``/``clock_ns``/``backend`` override the config's (what-if)."""
    specs = _project_specs(project_dir, model, part, clock_ns, backend)
    return replace(specs, backend=backend) if backend else specs


def project_uncertainty(config: dict, project_dir, clock_ns: float | None = None) -> tuple[float | None, str | None]:
    """(clock uncertainty as a fraction of the period, a note) where the project's hls4ml config sets
    ``ClockUncertainty`` ("12.5%", or ns; hls4ml writes it into the build script); (None, None)
    otherwise: the backend's default (timing.UNCERTAINTY). A time in ns stays that time under a
    what-if ``clock_ns``; a share stays that share. A report's clock table also shows the uncertainty
    a build used, but it is not read: see docs/estimator.md, blind spots. Raises ConfigError for a
    config value (``config``: its hls4ml_config.yml) that is neither a share nor a time below the period."""
    from hcp_fpga.errors import ConfigError

    value = config.get("ClockUncertainty")
    if value is None:
        return None, None
    text = str(value).strip()
    try:
        if text.endswith("%"):
            fraction = float(text[:-1]) / 100.0
        else:
            period = float(clock_ns or config.get("ClockPeriod") or 5.0)
            fraction = float(text) / period if period > 0 else -1.0
    except (TypeError, ValueError):
        fraction = -1.0
    if not 0.0 <= fraction < 1.0:
        raise ConfigError(f"'{project_dir}': ClockUncertainty {value!r} in hls4ml_config.yml is not a share of the "
                          "period ('12.5%') or a time in ns below the clock period; fix it")
    return fraction, f"clock uncertainty {fraction:.1%} (hls4ml_config.yml)"


def _project_specs(project_dir, model, part, clock_ns, backend: str | None = None) -> ProjectSpecs:
    """``project_specs`` before the backend override (which stands in for the config's Backend); the
    config's clock uncertainty applied."""
    from pathlib import Path

    from hcp_fpga.errors import ConfigError
    from hcp_fpga.estimator.spec import read_hls4ml_config

    project_dir = Path(project_dir)
    if not is_project_dir(project_dir):
        raise ConfigError(f"'{project_dir}' is not an hls4ml project (no hls4ml_config.yml); pass a project folder or a model file")
    config = read_hls4ml_config(project_dir)
    if backend:
        config = {**config, "Backend": backend}
    uncertainty, note = project_uncertainty(config, project_dir, clock_ns)
    specs = _folder_specs(project_dir, config, model, part, clock_ns)
    wrapper = accelerator_wrapper_note(config)
    if wrapper:
        specs = replace(specs, notes=(*specs.notes, wrapper))
    specs = replace(specs, specs=weights_as_ports(specs.specs, config))
    return replace(specs, uncertainty=uncertainty, notes=(*specs.notes, note)) if uncertainty is not None else specs


def weights_as_ports(specs: list, config: dict) -> list:
    """The specs with each layer hls4ml gives run-time weights named, not priced. A weight array
    larger than the config's ``Model: BramFactor`` becomes a port of the top function
    (``RegisterBramWeights``; checked on hls4ml 1.3's output: ``void myproject(..., w2[512], ...)`` at
    BramFactor 100): its products are no longer by constants, and no report of such a design is
    at hand to price them."""
    model = (config.get("HLSConfig") or {}).get("Model") or {}
    bf = model.get("BramFactor")
    if isinstance(bf, bool) or not isinstance(bf, (int, float)) or not bf > 0:
        return specs
    out = []
    for sp in specs:
        weights = sp.n_in * sp.n_out // (max(sp.in_channels, 1) if sp.depthwise else 1)
        if sp.kind in ("dense", "conv1d", "conv2d", "embedding") and weights > bf:
            sp = not_priced(sp, f"{weights} weights > BramFactor {bf:g}: hls4ml makes them top-level ports; run-time "
                                "weights are not priced")
        out.append(sp)
    return out


def accelerator_wrapper_note(config: dict) -> str | None:
    """What an accelerator backend's project synthesizes beyond the network (None for the others):
    hls4ml's VivadoAccelerator writes a ``<project>_axi`` top around it (AXI interfaces, float <->
    fixed conversion loops, I/O FIFOs), VitisAccelerator a kernel wrapper. Neither is priced; the
    estimate and the reports it is compared with are the network core. The measured sizes are the
    corpus's five io_stream, axi_stream, float-I/O VivadoAccelerator projects (Vivado HLS 2019.2 and
    2020.1): their ``myproject_axi`` csynth totals less the core's."""
    backend = config.get("Backend")
    if not isinstance(backend, str) or backend.lower() not in ("vivadoaccelerator", "vitisaccelerator"):
        return None
    return (f"{backend} project: its synthesis top wraps the network in AXI interfaces and I/O conversion; that "
            "wrapper is not in this estimate (nor in the csynth numbers compared with it, which are the network's). "
            "Measured in five published VivadoAccelerator projects (io_stream, axi_stream, float I/O): +2,277 to "
            "+4,659 LUT, +1,069 to +2,230 FF, +1 to +132 BRAM18 (its I/O FIFOs); other interfaces not measured. "
            "The board's DMA and interconnect come on top")


def _folder_specs(project_dir, config: dict, model, part, clock_ns) -> ProjectSpecs:
    """The layer specs of a project folder (``config``: its hls4ml_config.yml), from what it holds."""
    from hcp_fpga.errors import ModelLoadError
    from hcp_fpga.estimator.firmware import firmware_specs_and_notes, has_firmware
    from hcp_fpga.estimator.graph import GraphError, nodes_from_keras
    from hcp_fpga.estimator.precision import parse_fixed
    from hcp_fpga.estimator.spec import (DA_NOT_PRICED, SEPARABLE_PARTS, apply_project_precisions, auto_activations,
                                         distributed_arithmetic_layers, hls4ml_layer_classes, kernel_types, node_specs,
                                         quantizers_hls4ml_drops, resolved_results,
                                         settings_from_config, unknown_strategies, weight_types, with_layer_types,
                                         with_separable_parts, without_dropped_quantizers)
    from hcp_fpga.estimator.weights_only import weights_only_specs

    part = part or config.get("Part") or config.get("XilinxPart")
    if model is None and has_firmware(project_dir):
        settings = settings_from_config(config, [], clock_ns)
        specs, notes = firmware_specs_and_notes(project_dir, settings.precision)
        return ProjectSpecs(specs, settings.backend, settings.clock_ns, part, tuple(notes))
    nodes = nodes_from_keras(model) if model is not None else project_model_nodes(project_dir)
    if nodes is None:
        settings = settings_from_config(config, None, clock_ns)
        found = _find_csynth(project_dir)
        specs, notes = weights_only_specs(project_dir, config, settings, _report_input_bits(found),
                                          _report_activations(found))
        return ProjectSpecs(specs, settings.backend, settings.clock_ns, part, (*notes, *unknown_strategies(config)))
    kernels = _txt_kernels(nodes, project_dir / "firmware" / "weights")
    notes = tuple(unknown_strategies(config))  # as the config writes them, before LayerType is spread over layers
    if dropped := quantizers_hls4ml_drops(nodes):
        notes += (f"{', '.join(dropped)}: hls4ml 1.3 builds a QKeras Dense over a sequence or an image, and a QKeras "
                  "recurrent layer, without its weight quantizers, with the model file's weights truncated into the "
                  "config's types (priced so); unless they were saved quantized (hcp-fpga export does), the design "
                  "differs from the QKeras model",)
        nodes = without_dropped_quantizers(nodes)
    try:
        config = with_separable_parts(with_layer_types(config, nodes), nodes, raw=config)
        # the split-off activations too: hls4ml gives them their own entry's reuse factor (an io_stream softmax's)
        # (and a separable conv's halves: their entries may set their own, ``with_separable_parts``)
        settings = settings_from_config(config, [name for n in nodes for name, _ in hls4ml_layer_classes(n, linear=True)]
                                        + [f"{n.name}_{part}" for n in nodes if n.base.startswith("Separable")
                                           for part in SEPARABLE_PARTS], clock_ns)
        specs = node_specs(nodes, settings, kernels, kernel_types(config), resolved_results(config, nodes),
                           weight_types(config, "bias"), auto_activations(config, nodes), weight_types(config, "scale"))
    except GraphError as exc:  # a value in the model file Keras/QKeras would not write
        raise ModelLoadError(f"the model in '{project_dir}': {exc}; re-save it from Keras or pass another with --model-file") from None
    specs = apply_project_precisions(specs, config, parse_fixed(settings.precision))
    da = distributed_arithmetic_layers(config, [n.name for n in nodes])
    specs = [not_priced(sp, DA_NOT_PRICED) if sp.name in da and sp.kind in ("dense", "conv1d", "conv2d") else sp
             for sp in specs]
    options = (config.get("HLSConfig", {}) or {}).get("LayerName", {}) or {}
    return ProjectSpecs(with_pipeline_style(with_layer_options(specs, options), config), settings.backend,
                        settings.clock_ns, part, notes)


def with_pipeline_style(specs: list[LayerSpec], config: dict) -> list[LayerSpec]:
    """``specs`` with the pipeline style a config's ``Model: PipelineStyle`` forces on an io_parallel
    design ('pipeline' or 'dataflow'; hls4ml 1.3 reads it as written, 'auto' or anything else leaves its
    own choice, ``SetPipelineStyle``), carried as the strategy of the layers without one of their own
    (``LayerSpec.strategy``; the firmware path reads the pragma it gives)."""
    style = ((config.get("HLSConfig") or {}).get("Model") or {}).get("PipelineStyle")
    if style not in ("pipeline", "dataflow") or not specs or specs[0].io_type != "io_parallel":
        return specs
    return with_pipeline_strategy(specs, "Resource" if style == "dataflow" else "Latency")


def estimate_project(project_dir, model=None, part: str | None = None, clock_ns: float | None = None,
                     backend: str | None = None, tool: str | None = None) -> Estimate:
    """Estimate of an hls4ml project folder (``project_specs`` says what is read from where).
    ``tool`` ("Vivado HLS 2020.1"): the HLS tool; default: the one the project's own report names."""
    from hcp_fpga.estimator.directives import read_directives
    from hcp_fpga.estimator.reports import report_mismatch

    p = project_specs(project_dir, model, part, clock_ns, backend)
    csynth = _find_csynth(project_dir)  # looked up once: the directives and the tool both read it
    directives = read_directives(project_dir, csynth)
    notes = (*p.notes, directives.note()) if directives.mul_impl else p.notes
    est = estimate_specs(p.specs, p.backend, p.clock_ns, p.part, extra_notes=notes, uncertainty=p.uncertainty,
                         tool=tool or report_tool(project_dir, csynth), mul_impl=directives.mul_impl)
    sizes = {n for s in p.specs for n in (s.out_size, s.channels) if n}
    # a layer that may merge two results (one read twice, Add()([x, x]), names one); a lower-bound
    # estimate may not know every layer, so its graph says nothing about merges
    merges = bool(est.unpriced) or any(len(s.after or ()) >= 2 or s.kind in ("merge", "merge_mul", "move") for s in p.specs)
    # the reuse factors its Resource kernels run at, as hls4ml moves them (a lower bound's unknown
    # layers may be Resource kernels too)
    reuse = None if est.unpriced else {_resource_block(s)[0] for s in p.specs if s.kind in ("dense", "conv1d", "conv2d")
                                       and s.strategy in ("Resource", "ResourceUnrolled")}
    mismatch = report_mismatch(csynth[1] if csynth else None, sizes, merges, reuse)
    return replace(est, report_mismatch=mismatch) if mismatch else est


def _report_input_bits(found) -> int | None:
    """Width of the top function's input ports from a project's csynth report (``found``: its
    ``_find_csynth`` paths), if it has one."""
    from hcp_fpga.estimator.reports import input_data_bits

    return input_data_bits(found[0]) if found else None


def _report_activations(found) -> list:
    """The activation modules a project's top-level text csynth report lists (``found``: its
    ``_find_csynth`` paths), if it has one."""
    from hcp_fpga.estimator.reports import activation_modules

    return activation_modules(found[1]) if found and found[1] else []


def _find_csynth(project_dir):
    """The project's csynth report paths (``reports.find_csynth``); () if it has none or they are
    unreadable (looked up, nothing found: never None, which callees read as "not looked up yet")."""
    from hcp_fpga.estimator.reports import ReportError, find_csynth

    try:
        return find_csynth(project_dir) or ()
    except (ReportError, OSError):
        return ()


def report_tool(project_dir, csynth=None) -> str | None:
    """The HLS tool and version a project's csynth report names, if it has a readable one
    (``csynth``: its report paths when already found)."""
    from hcp_fpga.estimator.reports import ReportError, parse_csynth

    found = _find_csynth(project_dir) if csynth is None else csynth
    try:
        return parse_csynth(found[0]).tool if found else None
    except (ReportError, OSError):
        return None


def _txt_kernels(nodes, weights_dir) -> dict:
    """The synthesized kernels (``w*.txt``, in layer order) of the model's multiplier layers, by layer
    name; empty when they cannot be paired safely (count or sizes differ)."""
    from hcp_fpga.estimator.firmware import read_weights_txt
    from hcp_fpga.estimator.spec import MULT_BASES

    if not weights_dir.is_dir():
        return {}
    files = sorted(weights_dir.glob("w*.txt"), key=lambda p: int("".join(ch for ch in p.stem if ch.isdigit()) or 0))
    layers = [n for n in nodes if n.base in MULT_BASES and n.weights and not n.base.startswith(("Separable", "Depthwise"))]
    if len(files) != len(layers) or any(n.base.startswith(("Separable", "Depthwise")) for n in nodes):
        return {}
    kernels = {}
    for node, f in zip(layers, files):
        values = read_weights_txt(f)
        shape = tuple(int(d) for d in node.weights[0].shape)
        if values.size == int(np.prod(shape)):
            kernels[node.name] = values.reshape(shape)
    return kernels
