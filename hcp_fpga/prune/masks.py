"""Pruning masks: a 0/1 array per multiplier layer's kernel, enforced through training.

Masks are kept outside the model (no wrapper layers), so they work the same for Dense/Conv and the
QKeras layers, in Sequential and functional models, and there is nothing to strip at the end: the
final model is a plain model whose pruned kernels hold exact zeros. ``MaskCallback`` re-applies the
masks after every optimizer step, so zeros stay zero while the rest trains (momentum included).
"""

from __future__ import annotations

import numpy as np

from hcp_fpga.models import copy_model, mult_layers

Masks = dict  # layer name -> 0/1 float32 array of the kernel's shape


def masks_of(model) -> Masks:
    """The masks a model already carries: 1 where its kernels are nonzero."""
    return {layer.name: (np.asarray(layer.kernel) != 0).astype(np.float32) for layer in mult_layers(model)}


def apply_masks_inplace(model, masks: Masks) -> None:
    """Zero the masked weights of ``model`` (training-time use; see ``with_masks`` for a copy)."""
    for layer in mult_layers(model):
        mask = masks.get(layer.name)
        if mask is not None:
            layer.kernel.assign(layer.kernel * mask.astype(layer.kernel.dtype.as_numpy_dtype))


def with_masks(model, masks: Masks):
    """A copy of ``model`` with the masked weights zeroed; ``model`` is unchanged."""
    clone = copy_model(model)
    apply_masks_inplace(clone, masks)
    return clone


def combine(a: Masks, b: Masks) -> Masks:
    """Weights kept by both."""
    return {name: a[name] * b[name] if name in b else a[name] for name in a} | {n: m for n, m in b.items() if n not in a}


def sparsity(model_or_masks) -> float:
    """Fraction of multiplier-layer weights that are zero (of a model) or masked out (of masks)."""
    arrays = (list(model_or_masks.values()) if isinstance(model_or_masks, dict)
              else [np.asarray(layer.kernel) for layer in mult_layers(model_or_masks)])
    total = sum(a.size for a in arrays)
    return float(sum(np.count_nonzero(a == 0) for a in arrays) / total) if total else 0.0


def layer_sparsity(model) -> dict[str, float]:
    return {layer.name: float(np.mean(np.asarray(layer.kernel) == 0)) for layer in mult_layers(model)}


def mask_callback(masks_getter):
    """A Keras callback that enforces masks after every training batch. ``masks_getter()`` returns
    the current masks (so a schedule can change them during training)."""
    import tensorflow as tf

    class MaskCallback(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            apply_masks_inplace(self.model, masks_getter())

        def on_train_batch_end(self, batch, logs=None):
            apply_masks_inplace(self.model, masks_getter())

    return MaskCallback()
