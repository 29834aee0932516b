"""What removing a group of weights saves, by the estimator itself (the pruning code holds no cost
model of its own). An analysis: specs in, an array of savings out, nothing changed.

- Groups that zero weights in place (single weights, multiplier patterns, BRAM blocks): the layer
  is re-estimated with the group zeroed. Single weights of a Latency layer are many, so their
  marginal costs come from the same formulas as ``model._dense_latency``, vectorized (a test checks
  they equal re-estimation).
- The last nonzero weight of an input row of an unrolled (io_parallel Latency) dense layer also frees
  what computes that input, as the HLS tool's dead-code elimination does (``model.without_dead_outputs``):
  the product column of the dense layer before it and the element-wise layers between. That saving
  is added to the weight's own (``dead_row_savings``).
- Neurons/filters shrink the model: the whole design is re-estimated with the unit removed from its
  layer and its inputs removed from the next multiplier layer.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hcp_fpga.estimator.backends import CostConstants, constants_for
from hcp_fpga.estimator.model import (
    _accumulator_bits, _saturating_accumulator, _unrolled_dense, constant_products, dsps_per_product, estimate_layer,
    estimate_specs, product_widths, shift_adds, tree_levels, without_dead_outputs,
)
from hcp_fpga.estimator.spec import MULT_KINDS, LayerSpec

SAVED = ("dsp", "lut", "ff", "bram18")


def _cost(est) -> np.ndarray:
    return np.array([getattr(est, r) for r in SAVED], dtype=np.float64)


def tree_bit_savings(spec: LayerSpec) -> np.ndarray:
    """(n_in, n_out) adder-tree bits freed by zeroing each single weight (``model.tree_levels``):
    only the nodes on the leaf's path to the root change, so every leaf's path is re-walked at once,
    its sibling subtrees as they are."""
    widths, nonzero, cap = product_widths(spec)
    levels = tree_levels(widths, nonzero, cap)
    n_in, n_out = widths.shape
    leaf = np.arange(n_in)[:, None]
    column = np.arange(n_out)[None, :]
    value = np.zeros(widths.shape, dtype=np.int64)  # the leaf's node without it: nothing yet
    alive = np.zeros(widths.shape, dtype=bool)
    saved = np.zeros(widths.shape, dtype=np.int64)
    for depth, (w, live) in enumerate(levels[:-1]):
        own, sibling = leaf >> depth, (leaf >> depth) ^ 1
        was, sib_w, sib_live = w[own, column], w[sibling, column], live[sibling, column]
        old = np.where(live[own, column] & sib_live, np.maximum(was, sib_w), 0)
        both = alive & sib_live
        saved += old - np.where(both, np.maximum(value, sib_w), 0)
        value = np.where(both, np.minimum(np.maximum(value, sib_w) + 1, cap), np.where(alive, value, sib_w))
        alive = alive | sib_live
    return np.where(nonzero, saved, 0).astype(np.float64)


def latency_weight_savings(spec: LayerSpec, c: CostConstants) -> np.ndarray:
    """(n_in, n_out, 4) saving of zeroing each single weight of a Latency-strategy layer, RF 1."""
    m = spec.mantissas
    a = spec.input.width
    digits, nonzero, on_dsp = constant_products(spec, c)
    # a DSP product is freed only if no other weight on the same input shares it (same odd part)
    v = np.abs(m).astype(np.int64)
    odd = np.where(v > 0, v // np.maximum(v & -v, 1), 0)
    sole = np.zeros_like(on_dsp)
    for i in range(m.shape[0]):
        row = odd[i][on_dsp[i]]
        if row.size:
            values, counts = np.unique(row, return_counts=True)
            single = set(values[counts == 1].tolist())
            sole[i] = on_dsp[i] & np.isin(odd[i], list(single))
    dsp = sole * float(dsps_per_product(a, spec.weight.width, c))
    acc = _accumulator_bits(spec)
    shift_adders, shift_bits = shift_adds(spec, digits, nonzero, on_dsp)
    shift = c.lut_per_shift_add_bit * shift_bits
    tree_adder = nonzero & (nonzero.sum(axis=0, keepdims=True) > 1)
    tree = c.lut_per_tree_adder_bit * tree_bit_savings(spec)
    if spec.io_type == "io_stream":  # the fixed part of each adder (model._dense_latency)
        tree = tree + (shift_adders + tree_adder) * c.lut_stream_adder_extra
    lut = shift + tree + c.lut_per_dsp * dsp
    # registers of a pipelined layer go with its DSPs (model._dense_latency); io_stream/conv layers
    # register every step, io_parallel dense ones only when pipelined
    widest = int(nonzero.sum(axis=0).max()) if nonzero.size else 0
    pipelined = (spec.kind != "dense" or spec.io_type != "io_parallel") or (on_dsp.any() and widest >= c.registered_min_products)
    ff = c.ff_per_dsp * dsp if pipelined else np.zeros_like(dsp)
    if _saturating_accumulator(spec):
        lut = lut + nonzero * c.lut_per_saturating_acc_bit * acc
        ff = ff + nonzero * c.ff_per_saturating_acc_bit * acc
    return np.stack([dsp, lut, ff, np.zeros_like(lut)], axis=-1)


def zeroing_savings(spec: LayerSpec, ids: np.ndarray, n_groups: int, c: CostConstants) -> np.ndarray:
    """(n_groups, 4) saving of zeroing each group of ``spec``'s kernel (``ids``: group per weight,
    in the kernel's (n_in, n_out) multiplier view)."""
    ids = np.asarray(ids).reshape(spec.mantissas.shape)
    single = n_groups == ids.size
    if single and spec.strategy == "Latency" and spec.reuse_factor == 1:
        per_weight = latency_weight_savings(spec, c).reshape(-1, len(SAVED))
        out = np.zeros((n_groups, len(SAVED)))
        out[ids.reshape(-1)] = per_weight
        return out
    base = _cost(estimate_layer(spec, c))
    out = np.zeros((n_groups, len(SAVED)))
    for g in range(n_groups):
        members = ids == g
        if not np.any(spec.mantissas[members]):
            continue  # already zero: nothing left to save
        out[g] = base - _cost(estimate_layer(replace(spec, mantissas=np.where(members, 0, spec.mantissas)), c))
    return out


def _without_unit(specs: list[LayerSpec], k: int, unit: int) -> list[LayerSpec]:
    """Specs with output unit ``unit`` of multiplier layer ``k`` removed, and its inputs to the next
    multiplier layer (channels-last: input rows r with r % channels == unit)."""
    out = list(specs)
    spec = specs[k]
    keep = np.arange(spec.n_out) != unit
    positions = max(spec.out_size // max(spec.n_out, 1), 1)
    out[k] = replace(spec, n_out=spec.n_out - 1, mantissas=spec.mantissas[:, keep], channels=spec.channels - 1,
                     out_size=positions * (spec.n_out - 1))
    for j in range(k + 1, len(specs)):
        s = specs[j]
        if s.kind in MULT_KINDS:
            rows = np.arange(s.n_in) % spec.n_out != unit
            out[j] = replace(s, n_in=int(rows.sum()), mantissas=s.mantissas[rows], in_channels=max(s.in_channels - 1, 1))
            break
        fraction = (spec.n_out - 1) / spec.n_out
        out[j] = replace(s, out_size=int(round(s.out_size * fraction)), channels=max(s.channels - 1, 1),
                         in_channels=max(s.in_channels - 1, 1))
    return out


def neuron_savings(specs: list[LayerSpec], layer: str, backend: str, part: str | None = None) -> np.ndarray:
    """(n_units, 4) saving of removing each unit/filter of ``layer`` from the design."""
    k = next(i for i, s in enumerate(specs) if s.name == layer and s.kind in MULT_KINDS)
    base = _cost(estimate_specs(specs, backend, 5.0, part))
    return np.array([base - _cost(estimate_specs(_without_unit(specs, k, u), backend, 5.0, part))
                     for u in range(specs[k].n_out)])


def _dead_marks(spec: LayerSpec) -> tuple:
    return spec.dead, spec.dead_products


def dead_row_savings(specs: list[LayerSpec], layer: str, c: CostConstants) -> dict[int, np.ndarray]:
    """{input row: (4,) saving} for each row of ``layer`` with one nonzero weight left: what zeroing
    that weight frees before the layer, by dead-code elimination (``model.without_dead_outputs``):
    the products of the dense layer that computed the row's input and the element-wise layers in
    between, and on up the chain where they empty in turn. Empty where the layer is not an unrolled
    dense layer or nothing before it would go."""
    k = next(i for i, s in enumerate(specs) if s.name == layer and s.kind in MULT_KINDS)
    spec = specs[k]
    if not _unrolled_dense(spec):
        return {}
    rows = np.flatnonzero(np.count_nonzero(spec.mantissas, axis=1) == 1)
    if not rows.size:
        return {}
    base = without_dead_outputs(specs)
    base_cost: dict[int, np.ndarray] = {}
    out: dict[int, np.ndarray] = {}
    for row in rows:
        zeroed = spec.mantissas.copy()
        zeroed[row] = 0
        trial = without_dead_outputs([*specs[:k], replace(spec, mantissas=zeroed), *specs[k + 1:]])
        saved = np.zeros(len(SAVED))
        for j in range(k):
            if _dead_marks(trial[j]) != _dead_marks(base[j]):
                if j not in base_cost:
                    base_cost[j] = _cost(estimate_layer(base[j], c))
                saved += base_cost[j] - _cost(estimate_layer(trial[j], c))
        if np.any(saved):
            out[int(row)] = saved
    return out


def group_savings(specs: list[LayerSpec], layer: str, ids: np.ndarray, n_groups: int, structure: str,
                  backend: str, part: str | None = None) -> np.ndarray:
    """(n_groups, 4) estimated saving (DSP, LUT, FF, BRAM18) of removing each group of ``layer``
    (``ids``: group per weight of the model's kernel, in its (n_in, n_out) multiplier view); a
    group that holds a row's last nonzero weight also saves what computes that row's input
    (``dead_row_savings``)."""
    if structure == "neuron":
        return neuron_savings(specs, layer, backend, part)
    c = constants_for(backend, part)
    spec = next(s for s in specs if s.name == layer and s.kind in MULT_KINDS)
    ids = np.asarray(ids).reshape(spec.mantissas.shape)
    if spec.kernel_rows is not None:  # the groups of the model's kernel, in the order the design holds its rows
        ids = ids[spec.kernel_rows]
    out = zeroing_savings(spec, ids, n_groups, c)
    for row, saved in dead_row_savings(specs, layer, c).items():
        out[ids[row, np.flatnonzero(spec.mantissas[row])[0]]] += saved
    return out
