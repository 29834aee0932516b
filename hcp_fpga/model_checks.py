"""Checks on a model before and after Keras builds it, so bad files fail with one clear line.

Before building (the architecture is plain data): it must be a Keras model config, name only layer
classes Keras or QKeras know, and its weights must fit in memory (a ``Dense(10**9)`` would make
TensorFlow allocate gigabytes before anything else could complain). After loading: no NaN/Inf
weight reaches an estimate, an export or a C simulation.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from hcp_fpga.errors import ModelLoadError
from hcp_fpga.estimator.graph import SAME_SHAPE, base_class
from hcp_fpga.estimator.spec import POOL_KINDS

# Bytes of memory one parameter costs across loading, estimating and exporting: float32 weights,
# TensorFlow's initializer copy, float64/int64 copies in the estimator and hls4ml's writer. The
# hostile-input review measured 8.6 GB peak for a 160 M-parameter Dense (about 54 B each).
BYTES_PER_PARAMETER = 64
MEMORY_ENV = "HCP_FPGA_MAX_MODEL_BYTES"


def layer_dicts(architecture: Any) -> Iterator[dict]:
    """Every layer dict of a Keras model config (``config.layers``), nested models included; not the
    initializers, regularizers and quantizers that also carry a ``class_name``."""
    config = architecture.get("config") if isinstance(architecture, dict) else None
    layers = config.get("layers") if isinstance(config, dict) else None
    if not isinstance(layers, list):
        return
    for layer in layers:
        if isinstance(layer, dict):
            yield layer
            yield from layer_dicts(layer)


def check_architecture_shape(architecture: Any, source: str) -> None:
    """A model config is a mapping with ``class_name`` and a ``config`` holding a ``layers`` list of
    mappings that each have a string ``class_name`` and a ``config`` with a string ``name``."""
    fix = "give a file written by model.to_json() or model.save()"
    if not isinstance(architecture, dict):
        raise ModelLoadError(f"model file '{source}' holds a JSON {type(architecture).__name__}, not a Keras model config; {fix}")
    config = architecture.get("config")
    if not isinstance(architecture.get("class_name"), str) or not isinstance(config, dict):
        raise ModelLoadError(f"model file '{source}' lacks 'class_name'/'config': not a Keras model config; {fix}")
    if not isinstance(config.get("layers"), list):
        raise ModelLoadError(f"model file '{source}' has no 'layers' list in its config; {fix}")
    seen: set[str] = set()
    for i, layer in enumerate(layer_dicts(architecture)):
        cfg = layer.get("config")
        if not isinstance(layer.get("class_name"), str) or not isinstance(cfg, dict) or not isinstance(cfg.get("name"), str):
            raise ModelLoadError(f"model file '{source}': layer entry {i} lacks a class_name or a config with a name; {fix}")
        if cfg["name"] in seen:
            raise ModelLoadError(f"model file '{source}': two layers are named {cfg['name']!r}; give every layer its own name")
        seen.add(cfg["name"])


def check_known_classes(architecture: dict, source: str, known: set[str]) -> None:
    """Every layer class must be one Keras or QKeras can build; name the first that is not."""
    for layer in layer_dicts(architecture):
        cls = layer["class_name"]
        if cls not in known:
            raise ModelLoadError(
                f"model '{source}': layer '{layer['config']['name']}' has class '{cls}', which neither Keras nor QKeras "
                "knows (a custom layer?); replace it with a built-in layer before loading"
            )


# ----------------------------------------------------------------------------- size before building


@dataclass(frozen=True)
class LayerSize:
    name: str
    cls: str
    parameters: int  # a lower bound where an input size is unknown (taken as 1)


def _ints(value: Any, n: int) -> tuple[int, ...]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return tuple(int(v) for v in value) or (1,)
    return (1,) * n


def _positive(v: Any) -> int:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 else 1


def _params(cls: str, cfg: dict, last: int) -> int:
    """Parameters of one layer given the size of its input's last axis (1 if unknown); a lower
    bound: optional parts (biases, BN scale/offset) count only where the config says they exist."""
    base = base_class(cls)
    units = _positive(cfg.get("units"))
    bias = cfg.get("use_bias", True) is True
    if base in ("Dense", "DenseBatchnorm"):
        return last * units + (units if bias else 0)
    if base in ("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose"):
        dims = {"1": 1, "2": 2, "3": 3}[base[4]]
        k = math.prod(_positive(v) for v in _ints(cfg.get("kernel_size", 1), dims))
        filters = _positive(cfg.get("filters"))
        return k * last * filters + (filters if bias else 0)
    if base in ("DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"):
        dims = 1 if "1D" in base else 2
        k = math.prod(_positive(v) for v in _ints(cfg.get("kernel_size", 1), dims))
        depth = _positive(cfg.get("depth_multiplier"))
        pointwise = last * depth * _positive(cfg.get("filters")) if base.startswith("Separable") else 0
        return k * last * depth + pointwise
    if base == "Embedding":
        return _positive(cfg.get("input_dim")) * _positive(cfg.get("output_dim"))
    gates = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}.get(base)
    if gates:
        return gates * units * (last + units)
    if base == "BatchNormalization":
        return 2 * last  # moving mean and variance; gamma/beta are optional
    return 0


def _out_last(cls: str, cfg: dict, last: int) -> int:
    """Size of the output's last axis (for the next layer's parameter count)."""
    base = base_class(cls)
    if base in ("Dense", "DenseBatchnorm", "LSTM", "GRU", "SimpleRNN"):
        return _positive(cfg.get("units"))
    if base.startswith(("Conv", "SeparableConv")):
        return _positive(cfg.get("filters"))
    if base.startswith("DepthwiseConv"):
        return last * _positive(cfg.get("depth_multiplier"))
    if base == "Embedding":
        return _positive(cfg.get("output_dim"))
    if base in PRESERVE_LAST_AXIS:
        return last
    return 1  # unknown without full shape inference (Flatten, Reshape, Permute, Dot, wrappers, ...): a lower bound


# layers whose output's last axis is their input's: the estimator's same-shape layers plus pooling,
# resizing and padding (anything else counts as 1, to stay a lower bound)
PRESERVE_LAST_AXIS = SAME_SHAPE | POOL_KINDS | {
    "InputLayer", "SpatialDropout3D", "GaussianDropout", "AlphaDropout", "UpSampling1D", "UpSampling2D", "ZeroPadding1D",
    "ZeroPadding2D", "Cropping1D", "Cropping2D", "RepeatVector", "Masking",
}


def _input_last(cfg: dict) -> int:
    for key in ("batch_input_shape", "batch_shape", "input_shape"):
        shape = cfg.get(key)
        if isinstance(shape, (list, tuple)) and shape:
            return _positive(shape[-1])
    return 1


def layer_sizes(architecture: dict) -> list[LayerSize]:
    """Parameter counts of the layers, from the config alone (nothing is allocated). The last axis
    is followed along Sequential order or the first inbound node; where it is unknown it counts as
    1, so every count is a lower bound."""
    sizes: list[LayerSize] = []
    out_last: dict[str, int] = {}
    prev = 1
    for layer in layer_dicts(architecture):
        cls, cfg = layer["class_name"], layer["config"]
        name = cfg["name"]
        last = _input_last(cfg) if (cls == "InputLayer" or any(k in cfg for k in ("batch_input_shape", "batch_shape"))) else prev
        inbound = layer.get("inbound_nodes")
        try:  # Keras 2 functional: [[["name", node, tensor, {}], ...]]
            src = inbound[0][0][0]
            if isinstance(src, str) and src in out_last:
                last = out_last[src]
        except (IndexError, KeyError, TypeError):
            pass
        if cls == "InputLayer":
            out = last
            params = 0
        else:
            params = _params(cls, cfg, last)
            out = _out_last(cls, cfg, last)
        sizes.append(LayerSize(name, cls, params))
        out_last[name] = out
        prev = out
    return sizes


def memory_limit_bytes() -> int:
    """Bytes a model may take: ``HCP_FPGA_MAX_MODEL_BYTES`` if set, else half the available memory."""
    env = os.environ.get(MEMORY_ENV)
    if env:
        try:
            return max(int(float(env)), 1)
        except ValueError:
            raise ModelLoadError(f"{MEMORY_ENV}={env!r} is not a number of bytes; unset it or give e.g. 8e9") from None
    available: Optional[int] = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            available = 8 * 2**30
    return available // 2


def check_model_size(architecture: dict, source: str, limit: Optional[int] = None) -> list[LayerSize]:
    """Refuse a model whose weights would not fit in memory, before Keras allocates them; name the
    largest layer and its size."""
    sizes = layer_sizes(architecture)
    total = sum(s.parameters for s in sizes)
    limit = memory_limit_bytes() if limit is None else limit
    if total * BYTES_PER_PARAMETER > limit:
        big = max(sizes, key=lambda s: s.parameters)
        raise ModelLoadError(
            f"model '{source}' has at least {total:,} parameters (layer '{big.name}' ({big.cls}): {big.parameters:,}); "
            f"working on it needs about {total * BYTES_PER_PARAMETER / 1e9:.1f} GB, over the limit of {limit / 1e9:.1f} GB. "
            f"Shrink the layer, or raise the limit with {MEMORY_ENV}=BYTES if you really have the memory"
        )
    return sizes


def h5_parameter_count(path) -> Optional[int]:
    """Number of weight values stored in a Keras weights/model .h5 (metadata only, nothing loaded)."""
    import h5py

    total = 0
    try:
        with h5py.File(path, "r") as f:
            root = f["model_weights"] if "model_weights" in f else f

            def visit(_name, obj):
                nonlocal total
                if isinstance(obj, h5py.Dataset):
                    total += int(obj.size)

            root.visititems(visit)
    except (OSError, KeyError, ValueError):
        return None
    return total


# ----------------------------------------------------------------------------- after loading


def check_finite_weights(model, source: str) -> None:
    """Refuse NaN or Inf weights, naming the layer and the weight."""
    import numpy as np

    from hcp_fpga.models import flat_layers

    for layer in flat_layers(model):
        for weight in layer.weights:
            values = np.asarray(weight)
            if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
                bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
                raise ModelLoadError(
                    f"model '{source}': layer '{layer.name}' weight '{weight.name}' holds {bad:,} NaN/Inf value(s); "
                    "hardware cannot represent them: retrain or fix the weights file"
                )


@dataclass(frozen=True)
class WeightRangeWarning:
    """A layer whose weights its hls4ml weight type cannot hold: nonzero weights below one step (they
    become 0, or -1 step when truncated), or beyond the type's range (they saturate or wrap)."""

    layer: str
    weight_type: str
    nonzero: int
    below_lsb: int
    overflow: int
    max_abs: float

    def message(self) -> str:
        parts = []
        if self.below_lsb:
            share = self.below_lsb / max(self.nonzero, 1)
            what = "all" if self.below_lsb == self.nonzero else f"{self.below_lsb:,} of {self.nonzero:,} ({share:.0%})"
            parts.append(f"{what} nonzero weights are below one step of {self.weight_type} (max |w| {self.max_abs:.3g}): "
                         "the exported layer loses them")
        if self.overflow:
            parts.append(f"{self.overflow:,} weights exceed the range of {self.weight_type} (max |w| {self.max_abs:.3g})")
        return (f"layer '{self.layer}': " + "; ".join(parts) +
                "; give it a type with more fractional/integer bits (--precision or --config LayerName.<layer>.Precision.weight)")


def weight_range_warnings(model, settings, min_share_below: float = 0.5) -> list[WeightRangeWarning]:
    """Layers whose weights fall below one LSB of their hls4ml weight type (at least
    ``min_share_below`` of the nonzero ones) or overflow it. The weight type is the one the export
    uses: the user's per-layer type, else the QKeras quantizer's, else the model default."""
    import numpy as np

    from hcp_fpga.estimator.spec import layer_specs
    from hcp_fpga.models import mult_layers, quantized_kernel

    types = {s.name: s.weight for s in layer_specs(model, settings) if s.weight is not None}
    out = []
    for layer in mult_layers(model):
        wtype, kernel = types.get(layer.name), quantized_kernel(layer)
        if wtype is None or kernel is None:
            continue
        w = np.abs(np.asarray(kernel, dtype=np.float64))
        nonzero = w[w > 0]
        lsb = 2.0 ** -wtype.frac
        top = (2 ** (wtype.width - 1) - 1 if wtype.signed else 2**wtype.width - 1) * lsb
        below, over = int(np.count_nonzero(nonzero < lsb)), int(np.count_nonzero(w > top + lsb))
        if (nonzero.size and below >= min_share_below * nonzero.size) or over:
            name = f"ap_{'' if wtype.signed else 'u'}fixed<{wtype.width},{wtype.integer}>"
            out.append(WeightRangeWarning(layer.name, name, int(nonzero.size), below, over, float(w.max(initial=0.0))))
    return out
