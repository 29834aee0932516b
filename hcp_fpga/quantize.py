"""Float Keras -> QKeras, with per-layer bit widths, keeping the trained weights (and their zeros);
profiling of activation ranges for the integer bits and for hls4ml result types that do not overflow.

- ``to_qkeras(model, bits)``: Dense/Conv1D/Conv2D become QDense/QConv1D/QConv2D with
  ``quantized_bits`` (or ``quantized_po2``) kernels and biases; ReLU activations become
  ``quantized_relu``. Integer bits come from the weights' largest magnitude and the profiled
  activation ranges, so nothing clips at conversion. Fine-tune afterwards (quantization-aware:
  QKeras trains through its quantizers) with ``hcp_fpga.prune.schedule.finetune``.
- Bits are a budget lever: a layer's weight bits below the DSP threshold move its multipliers to
  LUTs, which the estimator prices (``hcp_fpga.estimator``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from hcp_fpga.errors import ConfigError
from hcp_fpga.models import MULT_LAYER_KINDS, custom_objects, flat_layers, mult_layers

_Q_CLASSES = {"Dense": "QDense", "Conv1D": "QConv1D", "Conv2D": "QConv2D"}


@dataclass(frozen=True)
class QuantSpec:
    """Bits per layer: ``weight_bits`` for kernels and biases, ``activation_bits`` for ReLU outputs;
    ``layer_bits`` overrides {layer name: (weight bits, activation bits)}; ``po2`` makes kernels
    powers of two (every multiplication a shift)."""

    weight_bits: int = 6
    activation_bits: int = 6
    layer_bits: dict = field(default_factory=dict)
    po2: bool = False
    keep: frozenset = frozenset()  # layers left as they are (a user pinned their weight type)

    def __post_init__(self) -> None:
        for name, (w, a) in [("(model)", (self.weight_bits, self.activation_bits)), *self.layer_bits.items()]:
            if not (2 <= int(w) <= 32 and 2 <= int(a) <= 32):
                raise ConfigError(f"bits for {name} must be between 2 and 32 (got weight {w}, activation {a})")

    def bits_of(self, name: str) -> tuple[int, int]:
        return tuple(self.layer_bits.get(name, (self.weight_bits, self.activation_bits)))


def integer_bits(max_abs: float) -> int:
    """Integer bits (beyond the sign) that hold ``max_abs`` without clipping; 0 below 1."""
    return max(0, int(math.ceil(math.log2(max_abs))) if max_abs > 0 else 0)


def _linear_twin(layer):
    """The layer without its activation (same weights), or None when it has none to drop."""
    activation = getattr(getattr(layer, "activation", None), "__name__", "linear")
    if not hasattr(layer, "kernel") or activation == "linear":
        return None
    config = layer.get_config()
    config["activation"] = "linear"
    twin = layer.__class__.from_config(config)
    twin.build(layer.input_shape)
    twin.set_weights(layer.get_weights())
    return twin


def profile_ranges(model, x: np.ndarray, batch_size: int = 512) -> dict[str, float]:
    """Largest |value| every layer computes on ``x``: for a Dense/Conv with a fused activation, its
    pre-activation result (what hls4ml's layer outputs before the split-off activation), which
    bounds a ReLU's output too. For activation integer bits and result types."""
    import tensorflow as tf

    layers = [l for l in flat_layers(model) if type(l).__name__ != "InputLayer"]
    twins = {l.name: _linear_twin(l) for l in layers}
    probe = tf.keras.Model(model.inputs, [l.output for l in layers] + [l.input for l in layers if twins[l.name]])
    out = {l.name: 0.0 for l in layers}
    for start in range(0, len(x), batch_size):
        values = probe(x[start:start + batch_size], training=False)
        values = values if isinstance(values, (list, tuple)) else [values]
        inputs = iter(values[len(layers):])
        for layer, v in zip(layers, values[:len(layers)]):
            if twins[layer.name] is not None:
                v = twins[layer.name](next(inputs), training=False)
            out[layer.name] = max(out[layer.name], float(np.max(np.abs(v))))
    return out


def _relu_like(config: dict) -> bool:
    return config.get("activation") == "relu"


def to_qkeras(model, spec: QuantSpec = QuantSpec(), x_profile: Optional[np.ndarray] = None):
    """A QKeras copy of ``model`` with ``spec``'s bits (see the module docstring); the float model
    is unchanged. ``x_profile`` (e.g. training inputs) sizes the activations' integer bits."""
    import tensorflow as tf
    from qkeras import QActivation, QConv1D, QConv2D, QDense

    ranges = profile_ranges(model, x_profile) if x_profile is not None else {}
    qclass = {"Dense": QDense, "Conv1D": QConv1D, "Conv2D": QConv2D}

    def kernel_quantizer(bits: int, values: np.ndarray) -> str:
        if spec.po2:
            return f"quantized_po2({bits}, {2 ** integer_bits(float(np.max(np.abs(values))))})"
        return f"quantized_bits({bits}, {integer_bits(float(np.max(np.abs(values))))}, alpha=1)"

    def relu_quantizer(name: str, bits: int) -> str:
        return f"quantized_relu({bits}, {min(integer_bits(ranges.get(name, 1.0)), bits - 1)})"

    def clone(layer):
        cls = type(layer).__name__
        config = layer.get_config()
        if layer.name in spec.keep:
            return layer.__class__.from_config(config)
        if cls in _Q_CLASSES.values():  # already QKeras: re-quantize with the new bits
            cls = cls[1:]
            config = {k: v for k, v in config.items() if k not in ("kernel_quantizer", "bias_quantizer", "kernel_range", "bias_range")}
            if "relu" in str(getattr(layer.activation, "__name__", type(layer.activation).__name__)):
                config["activation"] = "relu"
        if cls == "QActivation" and "relu" in type(layer.quantizer).__name__:
            return QActivation(relu_quantizer(layer.name, spec.bits_of(layer.name)[1]), name=layer.name)
        if cls in qclass:
            w_bits, a_bits = spec.bits_of(layer.name)
            weights = layer.get_weights()
            config["kernel_quantizer"] = kernel_quantizer(w_bits, weights[0])
            if config.get("use_bias", True) and len(weights) > 1:
                config["bias_quantizer"] = f"quantized_bits({w_bits}, {integer_bits(float(np.max(np.abs(weights[1]))))}, alpha=1)"
            if _relu_like(config):
                config["activation"] = relu_quantizer(layer.name, a_bits)
            return qclass[cls].from_config(config)
        if cls == "Activation" and config.get("activation") == "relu" or cls == "ReLU":
            return QActivation(relu_quantizer(layer.name, spec.activation_bits), name=layer.name)
        return layer.__class__.from_config(config)

    unknown = [l.name for l in mult_layers(model) if type(l).__name__ not in qclass and not type(l).__name__.startswith("Q")]
    if unknown:
        raise ConfigError(f"cannot quantize layer(s) {', '.join(unknown)}; supported: Dense, Conv1D, Conv2D")
    with tf.keras.utils.custom_object_scope(custom_objects()):
        qmodel = tf.keras.models.clone_model(model, clone_function=clone)
    for old, new in zip(flat_layers(model), flat_layers(qmodel)):
        if old.get_weights():
            new.set_weights(old.get_weights())
    return qmodel


def quantized_weight_bits(model) -> dict[str, Optional[int]]:
    """Kernel bits of every multiplier layer (None: float)."""
    out = {}
    for layer in mult_layers(model):
        q = getattr(layer, "kernel_quantizer_internal", None)
        out[layer.name] = int(getattr(q, "bits", 0)) or None if q is not None else None
    return out


def result_precisions(ranges: dict[str, float], width: int = 16) -> dict[str, str]:
    """hls4ml result types of ``width`` bits whose integer part holds each layer's profiled range
    (plus the sign bit and one bit of margin), so results do not overflow."""
    out = {}
    for name, m in ranges.items():
        integer = min(integer_bits(m) + 2, width)
        out[name] = f"ap_fixed<{width},{integer}>"
    return out


def exact_fixed_type(x: np.ndarray, max_fraction_bits: int = 8, max_width: int = 32) -> Optional[str]:
    """The narrowest ap_(u)fixed type that holds every value of ``x`` exactly (digits' pixels 0..16:
    ``ap_ufixed<5,5>``); None when no type with at most ``max_fraction_bits`` fraction bits does
    (real-valued data) or ``x`` is empty or not finite."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0 or not np.all(np.isfinite(x)):
        return None
    for frac in range(max_fraction_bits + 1):
        scaled = x * (1 << frac)
        if not np.array_equal(scaled, np.round(scaled)):
            continue
        lo, hi = int(np.min(scaled)), int(np.max(scaled))
        if lo >= 0:
            width = max(int(hi).bit_length(), 1)
            integer = width - frac
            kind = "ap_ufixed"
        else:  # two's complement: -2^(w-1) .. 2^(w-1)-1 in units of 2^-frac
            width = max(int(hi).bit_length(), int(-lo - 1).bit_length()) + 1
            integer = width - frac
            kind = "ap_fixed"
        return f"{kind}<{width},{integer}>" if width <= max_width else None
    return None


__all__ = ["QuantSpec", "exact_fixed_type", "to_qkeras", "profile_ranges", "integer_bits", "result_precisions", "quantized_weight_bits",
           "MULT_LAYER_KINDS"]


# ----------------------------------------------------------------------------- per-unit bit widths
#
# hls4ml gives every weight of a layer one type, but a constant multiplication costs what the
# weight's own value needs: a unit (output neuron or filter) whose weights all sit on a grid k
# bits coarser than the layer's needs k fewer bits per product (fewer CSD digits in LUTs; EBOPs
# count its weights at width - k). The grid is kept in the weights themselves: a unit whose float
# kernel values are all exact multiples of step * 2^k (which trained float weights never are by
# chance) is held there through fine-tuning (``grid_callback``), so it survives pruning, resuming
# and transfer to a Dask worker with no extra state.

MAX_UNIT_SHIFT = 8


def kernel_step(layer) -> Optional[float]:
    """The grid step of a QKeras ``quantized_bits`` kernel (2^(integer - bits + 1)); None for a
    float or power-of-two kernel."""
    q = getattr(layer, "kernel_quantizer_internal", None)
    if q is None or type(q).__name__ != "quantized_bits" or not getattr(q, "keep_negative", True):
        return None
    return 2.0 ** (int(q.integer) - int(q.bits) + 1)


def _columns(kernel: np.ndarray) -> np.ndarray:
    return np.asarray(kernel).reshape(-1, np.asarray(kernel).shape[-1])


def unit_shifts(layer) -> Optional[np.ndarray]:
    """Per output unit, how many bits coarser than the layer's grid its weights sit (0: the
    layer's own grid, or an all-zero unit); None for a layer without a ``quantized_bits`` kernel."""
    step = kernel_step(layer)
    if step is None:
        return None
    cols = _columns(layer.get_weights()[0]).astype(np.float64)
    shifts = np.zeros(cols.shape[1], dtype=np.int64)
    alive = np.any(cols != 0, axis=0)
    for k in range(1, MAX_UNIT_SHIFT + 1):
        q = cols / (step * 2.0**k)
        on_grid = np.all(q == np.round(q), axis=0) & alive
        shifts = np.where(on_grid, k, shifts)
    return shifts


def finest_units(layer) -> Optional[tuple[int, np.ndarray]]:
    """(shift, indices) of the live units (any nonzero weight) on the layer's finest grid in use;
    None for a layer without a ``quantized_bits`` kernel or without a live unit."""
    shifts = unit_shifts(layer)
    if shifts is None:
        return None
    alive = np.any(_columns(layer.get_weights()[0]) != 0, axis=0)
    if not alive.any():
        return None
    finest = int(shifts[alive].min())
    return finest, np.flatnonzero(alive & (shifts == finest))


def snap_units(layer, shifts: np.ndarray) -> None:
    """Put each unit with ``shifts[j] > 0`` on its coarser grid (rounded to nearest, clipped to
    the layer quantizer's range), in place; other units stay as they are."""
    step = kernel_step(layer)
    if step is None or not np.any(shifts > 0):
        return
    weights = layer.get_weights()
    kernel = np.asarray(weights[0], dtype=np.float64)
    cols = _columns(kernel)
    q = layer.kernel_quantizer_internal
    top = 2.0 ** int(q.integer)
    for j in np.flatnonzero(shifts > 0):
        coarse = step * 2.0 ** int(shifts[j])
        snapped = np.round(cols[:, j] / coarse) * coarse
        cols[:, j] = np.clip(snapped, -np.floor(top / coarse) * coarse, np.floor((top - step) / coarse) * coarse)
    weights[0] = cols.reshape(kernel.shape).astype(np.asarray(weights[0]).dtype)
    layer.set_weights(weights)


def grid_callback(model):
    """A Keras callback that holds every unit found on a coarser grid at the start of training
    there after every batch (like the pruning masks hold the zeros)."""
    import tensorflow as tf

    class GridCallback(tf.keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.shifts = {}
            for layer in mult_layers(self.model):
                s = unit_shifts(layer)
                if s is not None and np.any(s > 0):
                    self.shifts[layer.name] = s

        def on_train_batch_end(self, batch, logs=None):
            for name, s in self.shifts.items():
                snap_units(self.model.get_layer(name), s)

    return GridCallback()
