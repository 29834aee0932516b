"""What the search changed per layer, from the baseline to the chosen design: output units (neuron
pruning shrinks layers, which a sparsity figure misses), weights and zero weights, weight bits,
strategy and reuse factor. An analysis: it reads two points and returns records."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional

import numpy as np


@dataclass(frozen=True)
class LayerChange:
    layer: str
    units_before: int
    units_after: int
    weights_before: int
    weights_after: int
    zero_before: float  # fraction of the layer's weights that are zero (as the hardware holds them)
    zero_after: float
    bits_before: Optional[int]  # None: float
    bits_after: Optional[int]
    strategy_before: str
    strategy_after: str
    reuse_before: int
    reuse_after: int
    # units of the chosen layer whose weights sit on a grid coarser than the layer's (UnitBits):
    # {bits: units}, empty when every unit uses the layer's bits
    unit_bits_after: dict = field(default_factory=dict)
    accum_after: Optional[str] = None  # the accumulator type the search chose (None: hls4ml's inferred one)

    def as_dict(self) -> dict:
        return asdict(self)


def _layers(model) -> dict:
    from hcp_fpga.models import mult_layers, quantized_kernel

    return {layer.name: quantized_kernel(layer) for layer in mult_layers(model)}


def layer_changes(base_model, base_point, model, point) -> list[LayerChange]:
    """One record per multiplier layer of the chosen model (in order), against the baseline."""
    before, after = _layers(base_model), _layers(model)
    out = []
    for name, kernel in after.items():
        old = before.get(name)
        bits_before = (base_point.bits or {}).get(name, (None,))[0]
        bits_after = (point.bits or {}).get(name, (None,))[0]
        out.append(LayerChange(
            name, int(old.shape[-1]) if old is not None else 0, int(kernel.shape[-1]),
            int(old.size) if old is not None else 0, int(kernel.size),
            float(np.mean(old == 0)) if old is not None and old.size else 0.0, float(np.mean(kernel == 0)) if kernel.size else 0.0,
            bits_before, bits_after, base_point.settings.strategy_of(name), point.settings.strategy_of(name),
            base_point.settings.reuse_of(name), point.settings.reuse_of(name),
            _unit_bits(model, name, bits_after), point.settings.layer_types.get(name, {}).get("accum")))
    return out


def _unit_bits(model, name: str, bits: Optional[int]) -> dict:
    from hcp_fpga.quantize import unit_shifts

    shifts = unit_shifts(model.get_layer(name))
    if bits is None or shifts is None or not np.any(shifts > 0):
        return {}
    values, counts = np.unique(bits - shifts, return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts)}
