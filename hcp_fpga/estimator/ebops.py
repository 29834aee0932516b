"""EBOPs: HGQ's effective bit operations, the size measure the EBOPs peers (HGQ/HGQ2) minimize: the
sum over nonzero multiplications of input bits x weight bits (a convolution's counted once per
output position). An analysis of layer specs; it prices nothing."""

from __future__ import annotations

import numpy as np

MULT_KINDS = ("dense", "conv1d", "conv2d")


def ebops_of_specs(specs) -> float:
    total = 0.0
    for s in specs:
        if s.kind in MULT_KINDS and s.mantissas is not None and s.input is not None and s.weight is not None:
            total += float(np.count_nonzero(s.mantissas)) * s.input.width * s.weight.width * max(s.n_pix, 1)
    return total


def ebops(model, settings) -> float:
    """EBOPs of a live Keras/QKeras model built with ``settings`` (resolved ``HlsSettings``; its
    per-layer types, e.g. a narrowed input, included)."""
    from hcp_fpga.estimator.model import with_result_types
    from hcp_fpga.estimator.spec import layer_specs

    return ebops_of_specs(with_result_types(layer_specs(model, settings), settings.layer_precision))
