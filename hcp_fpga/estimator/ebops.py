"""EBOPs: HGQ's effective bit operations, the size measure the EBOPs peers (HGQ/HGQ2) minimize: the
sum over nonzero multiplications of input bits x weight bits (a convolution's counted once per
output position; a unit whose weights sit on a coarser grid counts its fewer bits). An analysis of
layer specs; it prices nothing."""

from __future__ import annotations

import numpy as np

from hcp_fpga.estimator.spec import MULT_KINDS


def unit_weight_bits(mantissas: np.ndarray, width: int) -> np.ndarray:
    """Per output unit (last axis), the weight bits its products need: the type's width less the
    trailing zero bits all its nonzero weights share (a unit on a grid k bits coarser than the
    layer's needs k bits fewer, as HGQ counts per-weight bits)."""
    cols = np.abs(np.asarray(mantissas, dtype=np.int64)).reshape(-1, np.asarray(mantissas).shape[-1])
    low = cols & -cols  # the lowest set bit of each weight (0 for a zero)
    shared = np.bitwise_or.reduce(low, axis=0)  # lowest set bit over the unit: its smallest one
    shared = np.where(shared == 0, 1, shared & -shared)
    return np.maximum(width - np.log2(shared).astype(np.int64), 1)


def ebops_of_specs(specs) -> float:
    total = 0.0
    for s in specs:
        if s.kind in MULT_KINDS and s.mantissas is not None and s.input is not None and s.weight is not None:
            m = np.asarray(s.mantissas)
            if m.size == 0:
                continue
            nonzero = (m.reshape(-1, m.shape[-1]) != 0).astype(np.float64)
            inputs = s.input_bits() if s.row_bits is not None and len(s.row_bits) == nonzero.shape[0] \
                else np.full((nonzero.shape[0], 1), s.input.width)
            bits = unit_weight_bits(m, s.weight.width)
            total += float((nonzero * inputs * bits[None, :]).sum()) * max(s.n_pix, 1)
    return total


def ebops(model, settings) -> float:
    """EBOPs of a live Keras/QKeras model built with ``settings`` (resolved ``HlsSettings``; its
    per-layer types, e.g. a narrowed input, included)."""
    from hcp_fpga.estimator.model import typed_specs

    return ebops_of_specs(typed_specs(model, settings))
