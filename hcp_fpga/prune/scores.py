"""Scores that rank weights (and, aggregated, any structure) for pruning.

- ``sensitivity``: S_i = dL/dw_i, averaged over data batches (the seed's formula).
- ``taylor`` (default): first-order Taylor saliency |w_i * dL/dw_i|, the loss change removing w_i
  predicts, averaged over batches of its per-batch magnitude.
- ``importance``: I_i = |S_i| / sum_j |S_j| within each layer (the seed's normalization), for
  ranking across layers.
- ``magnitude``: |w_i|; aggregated with ``mean`` over a neuron/filter it is the seed's D.

All return ``{layer name: array of the kernel's shape}`` and leave the model unchanged. A low score
means "cheap to remove".
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from hcp_fpga.errors import ConfigError, DataError
from hcp_fpga.models import mult_layers
from hcp_fpga.prune.structures import LayerGroups

SCORES = ("taylor", "sensitivity", "importance", "magnitude")


def _loss_fn(model, loss):
    import tensorflow as tf

    if loss is not None:
        return tf.keras.losses.get(loss)
    return tf.keras.losses.SparseCategoricalCrossentropy()  # hcp_fpga classifiers end in softmax


def gradients(model, x: np.ndarray, y: np.ndarray, batch_size: int = 128, max_batches: Optional[int] = None,
              loss=None, taylor: bool = False) -> dict[str, np.ndarray]:
    """dL/dw of every multiplier layer's kernel, averaged over the batches of (x, y). With
    ``taylor``, the batch average of |w * dL/dw| instead: at a trained minimum the signed batch
    gradients cancel, their magnitudes do not (Molchanov et al. 2019 average per batch too)."""
    import tensorflow as tf

    if len(x) != len(y) or len(x) == 0:
        raise DataError(f"need as many labels as samples to score weights (got {len(x)} samples, {len(y)} labels)")
    layers = mult_layers(model)
    kernels = [layer.kernel for layer in layers]
    loss_fn = _loss_fn(model, loss)
    sums = [np.zeros(k.shape, dtype=np.float64) for k in kernels]
    n = 0
    for start in range(0, len(x), batch_size):
        if max_batches is not None and n >= max_batches:
            break
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        with tf.GradientTape() as tape:
            value = loss_fn(yb, model(xb, training=False))
        for acc, g, k in zip(sums, tape.gradient(value, kernels), kernels):
            g = np.asarray(g, dtype=np.float64)
            acc += np.abs(g * np.asarray(k, dtype=np.float64)) if taylor else g
        n += 1
    return {layer.name: (acc / max(n, 1)) for layer, acc in zip(layers, sums)}


def _kernels(model) -> dict[str, np.ndarray]:
    return {layer.name: np.asarray(layer.kernel, dtype=np.float64) for layer in mult_layers(model)}


def importance(sensitivities: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """I_i = |S_i| / sum_j |S_j| per layer (all zeros stay zeros)."""
    out = {}
    for name, s in sensitivities.items():
        total = np.abs(s).sum()
        out[name] = np.abs(s) / total if total > 0 else np.zeros_like(s)
    return out


def weight_scores(model, method: str = "taylor", x: Optional[np.ndarray] = None, y: Optional[np.ndarray] = None,
                  batch_size: int = 128, max_batches: Optional[int] = None) -> dict[str, np.ndarray]:
    """Per-weight scores by ``method`` (see the module docstring); data is needed except for magnitude."""
    if method not in SCORES:
        raise ConfigError(f"unknown score '{method}'; use one of {', '.join(SCORES)}")
    if method == "magnitude":
        return {name: np.abs(k) for name, k in _kernels(model).items()}
    if x is None or y is None:
        raise DataError(f"the '{method}' score needs data (x, y); use 'magnitude' to score without data")
    if method == "taylor":
        return gradients(model, x, y, batch_size=batch_size, max_batches=max_batches, taylor=True)
    grads = gradients(model, x, y, batch_size=batch_size, max_batches=max_batches)
    if method == "sensitivity":
        return {name: np.abs(g) for name, g in grads.items()}
    return importance(grads)


AGGREGATES: dict[str, Callable] = {"sum": np.sum, "mean": np.mean, "max": np.max}


def group_scores(scores: np.ndarray, groups: LayerGroups, aggregate: str = "sum") -> np.ndarray:
    """One score per group: ``aggregate`` (sum, mean, max) of its members' scores."""
    if aggregate not in AGGREGATES:
        raise ConfigError(f"unknown aggregate '{aggregate}'; use one of {', '.join(AGGREGATES)}")
    flat_ids, flat = groups.ids.reshape(-1), np.asarray(scores, dtype=np.float64).reshape(-1)
    if aggregate == "sum":
        return np.bincount(flat_ids, weights=flat, minlength=groups.n_groups)
    if aggregate == "mean":
        counts = np.bincount(flat_ids, minlength=groups.n_groups)
        return np.bincount(flat_ids, weights=flat, minlength=groups.n_groups) / np.maximum(counts, 1)
    out = np.full(groups.n_groups, -np.inf)
    np.maximum.at(out, flat_ids, flat)
    return out
