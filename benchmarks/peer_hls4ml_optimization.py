"""The hls4ml Optimization API (``hls4ml.optimization.dsp_aware_pruning``) as a peer for qor.py.

Runs hls4ml 1.3's DSP-aware pruning on a trained Keras model exactly as its tutorial does
(``optimize_keras_model_for_hls4ml`` with ``VivadoDSPEstimator``, a polynomial sparsity schedule
towards 95 %, Bayesian tuning of the regularization, stop when validation accuracy falls below
``rtol`` x the baseline's), here in this project's environment (Python 3.11, TensorFlow 2.14):

- ``knapsack_solver="dynamic"``: exact dynamic programming. The default, ``CBC_MIP``, is also exact
  but needs ortools, which is not installed here (its protobuf pins clash with TensorFlow 2.14's);
  both solve the same 0/1 knapsack to optimality.
- two runtime patches, nothing edited on disk: its Keras regularizers' ``get_config`` returns an
  Enum (and numpy ints) that Keras 2.14 cannot serialize when keras-tuner clones the model, so the
  Enum's value and plain ints are returned; and the legacy Adam optimizer, because the API applies
  one optimizer to rebuilt models (Keras 2.14's new optimizer refuses unknown variables).

``run(...)`` returns a plain Keras model (the same architecture, the pruned weights) and what the
API itself reports (its DSP count: nonzero 16-bit weights at RF 1). ``available()`` says whether the
API imports here, and why not.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Optional


def available() -> Optional[str]:
    """None when the API can run here; else one line saying what is missing."""
    try:
        import keras_tuner  # noqa: F401
        from hls4ml.optimization.dsp_aware_pruning import optimize_keras_model_for_hls4ml  # noqa: F401
    except ImportError as exc:
        return f"hls4ml Optimization API peer skipped: {exc} (it needs keras-tuner; ortools is optional here)"
    return None


def _patch_regularizers() -> None:
    from hls4ml.optimization.dsp_aware_pruning.keras import regularizers

    for cls in (regularizers.DenseRegularizer, regularizers.Conv2DRegularizer):
        if getattr(cls.get_config, "_hcp_patched", False):
            continue

        def get_config(self, _orig=cls.get_config):
            config = _orig(self)
            config["structure_type"] = getattr(config["structure_type"], "value", config["structure_type"])
            for key in ("pattern_offset", "consecutive_patterns"):
                if config.get(key) is not None:
                    config[key] = int(config[key])
            return config

        get_config._hcp_patched = True
        cls.get_config = get_config


def run(model, data, n_classes: int, rtol: float = 0.99, final_sparsity: float = 0.95, epochs: int = 10,
        batch_size: int = 32, precision: str = "ap_fixed<16,6>", seed: int = 0):
    """(pruned plain Keras model, {"api_dsp": its own DSP count, "sparsity": ...})."""
    import numpy as np
    import tensorflow as tf
    import hls4ml
    from hls4ml.optimization.dsp_aware_pruning import optimize_keras_model_for_hls4ml
    from hls4ml.optimization.dsp_aware_pruning.objectives.vivado_objectives import VivadoDSPEstimator
    from hls4ml.optimization.dsp_aware_pruning.scheduler import PolynomialScheduler

    _patch_regularizers()
    tf.keras.utils.set_random_seed(seed)
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
    config["IOType"] = "io_parallel"
    config["Model"].update({"Strategy": "Latency", "ReuseFactor": 1, "Precision": precision})
    for layer in config["LayerName"].values():  # the API parses every type; 'auto' is not one
        types = layer.get("Precision")
        if isinstance(types, dict):
            layer["Precision"] = {k: (precision if v == "auto" else v) for k, v in types.items()}
        else:
            layer["Precision"] = {"result": precision}
    onehot = lambda y: tf.keras.utils.to_categorical(y, n_classes)  # noqa: E731
    # keras-tuner prints a table per trial; the API's own result is what qor.py prints
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        pruned = optimize_keras_model_for_hls4ml(
            model, config, VivadoDSPEstimator, PolynomialScheduler(5, final_sparsity=final_sparsity),
            data.x_train, onehot(data.y_train), data.x_val, onehot(data.y_val), batch_size=batch_size, epochs=epochs,
            optimizer=tf.keras.optimizers.legacy.Adam(1e-3), loss_fn=tf.keras.losses.CategoricalCrossentropy(),
            validation_metric=tf.keras.metrics.CategoricalAccuracy(), increasing=True, rtol=rtol,
            knapsack_solver="dynamic", directory=tmp)
    plain = tf.keras.models.clone_model(model)  # without the API's regularizers: exports like any model
    plain.set_weights(pruned.get_weights())
    kernels = [w for layer in plain.layers for w in layer.get_weights()[:1] if w.ndim >= 2]
    nonzero = sum(int(np.count_nonzero(k)) for k in kernels)
    return plain, {"api_dsp": nonzero, "sparsity": 1.0 - nonzero / max(sum(k.size for k in kernels), 1)}
