"""The analytical cost model: per-layer DSP, BRAM18, LUT, FF and latency from ``LayerSpec``s.

Every estimate here is an estimate (source ``estimate``); docs/estimator.md gives the model, its
constants and its measured error against real reports. Backend constants live in ``backends.py``.
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from hcp_fpga.estimate.backends import CostConstants, constants_for
from hcp_fpga.estimate.precision import csd_digits
from hcp_fpga.estimate.reuse import closest_valid
from hcp_fpga.estimate.spec import LayerSpec, layer_specs
from hcp_fpga.estimate.types import Estimate, LayerEstimate

# (depth, width) shapes of one 18 Kb block RAM (UG573): the ladder BRAM mapping chooses from.
BRAM18_SHAPES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
# Memories below this many bits go to LUTRAM/registers rather than block RAM.
MIN_BRAM_BITS = 1024


def bram18_for(depth: int, width: int) -> int:
    """Block RAMs (18 Kb) for a ``depth`` x ``width`` memory: the cheapest shape on the ladder."""
    if depth <= 0 or width <= 0 or depth * width < MIN_BRAM_BITS:
        return 0
    return min(math.ceil(depth / d) * math.ceil(width / w) for d, w in BRAM18_SHAPES)


def _accumulator_bits(spec: LayerSpec) -> int:
    """Adder/accumulator width: the layer's result type, capped where a lossless 'auto' type
    would exceed what the products can need."""
    return min(spec.result.width, 2 * spec.input.width + 8)


def _dense_latency(spec: LayerSpec, c: CostConstants) -> LayerEstimate:
    m = spec.mantissas
    digits = csd_digits(m)
    nonzero = m != 0
    a = spec.input.width
    on_dsp = nonzero & (digits >= c.dsp_min_csd_digits) & (a >= c.dsp_min_input_bits)
    shift_adds = np.where(nonzero & ~on_dsp, np.maximum(digits - 1, 0), 0).sum()
    tree_adders = np.maximum(nonzero.sum(axis=0) - 1, 0).sum()
    acc = _accumulator_bits(spec)
    # io_parallel convolutions unroll every output position; io_stream reuses one set per pixel.
    copies = spec.n_pix if (spec.kind != "dense" and spec.io_type == "io_parallel") else 1
    dsp = float(on_dsp.sum()) * copies
    lut = (c.lut_per_tree_bit * tree_adders * acc + c.lut_per_shift_add_bit * shift_adds * (a + 6)) * copies + c.lut_per_dsp * dsp
    ff = c.ff_per_dsp * dsp + c.ff_per_stage_bit * spec.out_size * spec.result.width * copies
    rf = max(spec.reuse_factor, 1)
    return LayerEstimate(spec.name, spec.kind, dsp=dsp, lut=lut, ff=ff,
                         latency_cycles=c.latency_dense_cycles + rf - 1, ii=rf)


def _dense_resource(spec: LayerSpec, c: CostConstants) -> LayerEstimate:
    unrolled = spec.strategy == "ResourceUnrolled"
    rf = closest_valid(spec.n_in, spec.n_out, spec.reuse_factor, unrolled=unrolled)
    block = math.ceil(spec.n_in * spec.n_out / rf)  # parallel multipliers
    w, a = spec.weight.width, spec.input.width
    multipliers = block
    if unrolled:
        # hls4ml's unrolled kernel skips multiplier slots whose weights (one per cycle) are all zero:
        # the transposed kernel reshaped (block, RF), as in its unrolled code generator.
        if block * rf == spec.mantissas.size:
            slots = spec.mantissas.T.reshape(block, rf)
            multipliers = int(np.count_nonzero(np.any(slots != 0, axis=1)))
    on_dsp = w >= c.resource_dsp_min_weight_bits and a >= c.dsp_min_input_bits
    dsp = float(multipliers if on_dsp else 0)
    bram = float(bram18_for(rf, block * w)) if rf > 1 else 0.0
    acc = _accumulator_bits(spec)
    lut = c.resource_lut_per_input_bit * spec.n_in * a + c.resource_lut_per_acc_bit * spec.n_out * acc
    ff = c.resource_ff_per_input_bit * spec.n_in * a + c.resource_ff_per_acc_bit * spec.n_out * acc
    return LayerEstimate(spec.name, spec.kind, dsp=dsp, bram18=bram, lut=lut, ff=ff,
                         latency_cycles=rf + c.latency_resource_extra_cycles, ii=rf)


def _activation(spec: LayerSpec, c: CostConstants) -> LayerEstimate:
    n = spec.out_size
    if spec.kind == "softmax":
        exp_copies = math.ceil(n / 2)  # n parallel lookups, two ports per block RAM
        bram = (exp_copies + 1) * bram18_for(spec.table_size, c.bram_width_bits)
        return LayerEstimate(spec.name, "softmax", dsp=float(n), bram18=float(bram), lut=c.lut_softmax_per_output * n,
                             ff=c.ff_softmax_per_output * n, latency_cycles=c.latency_softmax_cycles, ii=1)
    if spec.kind == "table":  # sigmoid/tanh: one table lookup per element
        bram = math.ceil(n / 2) * bram18_for(spec.table_size, c.bram_width_bits)
        return LayerEstimate(spec.name, "table", bram18=float(bram), lut=c.lut_relu_per_bit * n * spec.result.width,
                             latency_cycles=c.latency_activation_cycles, ii=1)
    narrows = spec.result.integer < spec.input.integer or spec.result.frac < spec.input.frac
    if spec.kind == "relu" and narrows and spec.result.width < spec.input.width // 2:
        lut = c.lut_relu_round_sat_per_input_bit * n * spec.input.width
    else:
        lut = c.lut_relu_per_bit * n * spec.result.width
    # Latency-strategy (pipelined) designs register every layer output; Resource designs' FF fit includes theirs.
    ff = c.ff_per_stage_bit * n * spec.result.width if spec.strategy == "Latency" and spec.io_type == "io_parallel" else 0.0
    return LayerEstimate(spec.name, spec.kind, lut=lut, ff=ff, latency_cycles=c.latency_activation_cycles, ii=1)


def estimate_layer(spec: LayerSpec, c: CostConstants) -> LayerEstimate:
    if spec.kind in ("dense", "conv1d", "conv2d"):
        if spec.strategy in ("Resource", "ResourceUnrolled"):
            return _dense_resource(spec, c)
        return _dense_latency(spec, c)
    if spec.kind in ("relu", "softmax", "table"):
        return _activation(spec, c)
    return LayerEstimate(spec.name, spec.kind, latency_cycles=0, ii=1)  # free, pool, bn: not modelled yet


def estimate_specs(specs: Iterable[LayerSpec], backend: str, clock_ns: float, part: str | None = None) -> Estimate:
    """Total of the per-layer estimates; latency is the sum along the (sequential) graph, II the max."""
    c = constants_for(backend)
    specs = list(specs)
    layers = [estimate_layer(s, c) for s in specs]
    latency = sum(l.latency_cycles or 0 for l in layers)
    ii = max((l.ii or 1) for l in layers)
    return Estimate.from_layers("estimate", layers, latency, ii, clock_ns, part=part,
                                notes=("analytical estimate; see docs/estimator.md for its error",))


def estimate_design(design) -> Estimate:
    """Estimate of a ``Design`` (model + board + settings)."""
    s = design.settings
    return estimate_specs(layer_specs(design.model, s), s.backend, s.clock_ns, design.board.part)


def estimate_project(project_dir, model=None) -> Estimate:
    """Estimate of an hls4ml project folder from what it holds: ``hls4ml_config.yml``, the weights
    in ``firmware/weights/*.txt`` (the exact values synthesized) and the Keras model for the
    architecture (``model`` if given, else the project's ``keras_model.h5``/``hcp_model.json``)."""
    from pathlib import Path

    from hcp_fpga.estimate.precision import parse_fixed
    from hcp_fpga.estimate.spec import apply_project_precisions, read_hls4ml_config, settings_from_config
    from hcp_fpga.models import load_model

    project_dir = Path(project_dir)
    config = read_hls4ml_config(project_dir)
    if model is None:
        if (project_dir / "hcp_model.json").exists():
            model = load_model(project_dir / "hcp_model.json", project_dir / "hcp_model_weights.h5")
        else:
            model = load_model(project_dir / "keras_model.h5")
    _load_txt_weights(model, project_dir / "firmware" / "weights")
    settings = settings_from_config(config, [l.name for l in model.layers])
    part = config.get("Part") or config.get("XilinxPart")
    specs = apply_project_precisions(layer_specs(model, settings), config, parse_fixed(settings.precision))
    return estimate_specs(specs, settings.backend, settings.clock_ns, part)


def _load_txt_weights(model, weights_dir) -> None:
    """Replace the kernels of the multiplier layers, in order, with the project's w*.txt files."""
    from hcp_fpga.models import MULT_LAYER_KINDS, flat_layers

    files = sorted(weights_dir.glob("w*.txt"), key=lambda p: int("".join(ch for ch in p.stem if ch.isdigit()) or 0))
    layers = [l for l in flat_layers(model) if type(l).__name__ in MULT_LAYER_KINDS]
    if len(files) != len(layers):
        return  # cannot pair them safely: keep the model's own weights
    for layer, f in zip(layers, files):
        values = np.loadtxt(f, delimiter=",", ndmin=1)
        weights = layer.get_weights()
        if values.size == weights[0].size:
            weights[0] = values.reshape(weights[0].shape)
            layer.set_weights(weights)
