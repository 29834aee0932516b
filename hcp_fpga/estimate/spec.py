"""What the estimator needs to know about each layer, read from a ``Design`` (model + settings).

A ``LayerSpec`` carries the multiplier array size, the weights as the hardware holds them (integer
mantissas in the layer's weight type), operand widths, strategy, reuse factor and I/O type. Specs
are plain data: the cost model in ``model.py`` never touches Keras.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import yaml

from hcp_fpga.estimate.precision import Fixed, parse_fixed

FREE_KINDS = {"InputLayer", "Flatten", "Reshape", "Dropout", "Permute"}
POOL_KINDS = {"MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
              "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D"}
TABLE_ACTIVATIONS = {"softmax", "sigmoid", "tanh", "elu", "selu", "softplus", "softsign", "hard_sigmoid", "swish", "gelu"}
# activation layer classes -> the cost kind hls4ml's implementation has (ELU: exp table; leaky/parametric
# ReLU: a compare and a constant multiply per element)
ACTIVATION_KINDS = {"ReLU": "relu", "Softmax": "softmax", "ELU": "table", "LeakyReLU": "relu", "PReLU": "relu",
                    "ThresholdedReLU": "relu", "Activation": "relu"}
HLS4ML_TABLE_SIZE = 1024  # hls4ml's default activation table size


@dataclass(frozen=True)
class LayerSpec:
    name: str
    kind: str  # dense | conv1d | conv2d | relu | linear | softmax | table | bn | pool | free | unmodelled
    n_in: int = 0  # multiplier-array inputs (Dense inputs; kernel*channels for conv)
    n_out: int = 0  # multiplier-array outputs (units / filters)
    n_pix: int = 1  # output positions a conv computes (1 for Dense)
    out_size: int = 0  # elements of the output tensor
    channels: int = 1  # last axis of the output (io_stream FIFOs are per channel)
    mantissas: Optional[np.ndarray] = None  # (n_in, n_out) integer weights in the weight type
    weight: Optional[Fixed] = None
    input: Fixed = Fixed(16, 6)
    result: Fixed = Fixed(16, 6)
    accum: Optional[Fixed] = None  # accumulator type (None: as wide as the products need, not saturating)
    in_pix: int = 1  # input positions (io_stream reads one per step)
    padded_pix: int = 0  # input positions after 'same' zero padding (io_stream adds a padding layer + FIFO)
    in_channels: int = 1
    pool_size: int = 1  # positions one pooling output reduces
    pool_op: str = "max"  # max | avg
    strategy: str = "Latency"
    reuse_factor: int = 1
    io_type: str = "io_parallel"
    table_size: int = HLS4ML_TABLE_SIZE


def _quantizer_fixed(q, default: Fixed, activation: bool = False) -> Fixed:
    """The hls4ml fixed type of a QKeras quantizer (quantized_bits(b, i) -> ap_fixed<b, i+1>).
    hls4ml gives activation quantizers rounding and saturation (AP_RND_CONV, AP_SAT)."""
    if q is None:
        return default
    name = type(q).__name__
    bits = int(getattr(q, "bits", default.width))
    integer = int(getattr(q, "integer", 0) or 0)
    if name == "quantized_bits":
        signed = bool(getattr(q, "keep_negative", True))
        return Fixed(bits, integer + (1 if signed else 0), signed, saturating=activation)
    if name == "quantized_relu":
        return Fixed(bits, integer, False, saturating=activation)
    if name == "quantized_po2":
        return Fixed(bits, bits, True)  # powers of two: every nonzero weight is a shift
    return Fixed(bits, integer + 1, True)


def _table_size(kind: str, settings) -> int:
    """Lookup-table entries: the softmax setting for softmax (as the export applies it), hls4ml's 1,024 otherwise."""
    return (settings.softmax_table_size or HLS4ML_TABLE_SIZE) if kind == "softmax" else HLS4ML_TABLE_SIZE


def _geometry(layer) -> dict:
    """Input positions, channels and (for 'same' padding) padded positions of a conv/pool layer."""
    shape = layer.input_shape[0] if isinstance(layer.input_shape, list) else layer.input_shape
    spatial = [int(d) for d in shape[1:-1]]
    in_pix = int(np.prod(spatial)) if spatial else 1
    geo = dict(in_pix=in_pix, in_channels=int(shape[-1]) if len(shape) > 1 else 1)
    if getattr(layer, "padding", "valid") == "same" and hasattr(layer, "kernel_size"):
        out = layer.output_shape[1:-1]
        padded = 1
        for n, o, k, st in zip(spatial, out, layer.kernel_size, layer.strides):
            padded *= n + max((int(o) - 1) * st + k - n, 0)
        if padded > in_pix:
            geo["padded_pix"] = padded
    if "Pooling" in type(layer).__name__:
        geo["pool_op"] = "avg" if "Average" in type(layer).__name__ else "max"
    if hasattr(layer, "pool_size"):
        geo["pool_size"] = int(np.prod(layer.pool_size))
    elif type(layer).__name__.startswith("Global"):
        geo["pool_size"] = in_pix
    return geo


def _activation_name(layer) -> str:
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", type(act).__name__ if act is not None else "linear")


def layer_specs(model, settings, kernels: Optional[dict] = None) -> list[LayerSpec]:
    """Per-layer specs of a model built with ``settings`` (resolved ``HlsSettings``), in model order
    (Keras layers; fused activations split off as hls4ml does). ``kernels`` (layer name -> array)
    replaces a layer's kernel, e.g. with the values a project synthesized; the model is not changed."""
    from hcp_fpga.models import MULT_LAYER_KINDS, flat_layers, mult_size, quantized_kernel

    s = settings
    default = parse_fixed(s.precision)
    specs: list[LayerSpec] = []
    current = default  # type of the tensor flowing into the next layer
    for layer in flat_layers(model):
        cls = type(layer).__name__
        shape = layer.output_shape[0] if isinstance(layer.output_shape, list) else layer.output_shape
        out_shape = tuple(int(d) for d in shape[1:])
        out_size = int(np.prod(out_shape)) if out_shape else 1
        channels = out_shape[-1] if out_shape else 1
        common = dict(out_size=out_size, channels=channels, io_type=s.io_type, reuse_factor=s.reuse_of(layer.name),
                      strategy=s.strategy_of(layer.name))
        if cls in MULT_LAYER_KINDS:
            kernel = kernels[layer.name] if kernels and layer.name in kernels else quantized_kernel(layer)
            n_in, n_out = mult_size(layer)
            wtype = _quantizer_fixed(getattr(layer, "kernel_quantizer_internal", None), default)
            mant = wtype.mantissas(kernel.reshape(n_in, n_out))
            n_pix = out_size // n_out
            acc = Fixed(min(wtype.width + current.width + int(np.ceil(np.log2(max(n_in, 2)))), 64),
                        min(wtype.integer + current.integer + int(np.ceil(np.log2(max(n_in, 2)))), 64))
            specs.append(LayerSpec(layer.name, MULT_LAYER_KINDS[cls], n_in, n_out, n_pix, mantissas=mant, weight=wtype,
                                   input=current, result=acc, accum=acc, **_geometry(layer), **common))
            current = acc
            act = _activation_name(layer)
            if act not in ("linear", "quantized_bits"):
                if act.startswith("quantized"):  # a QKeras activation quantizer fused into the layer
                    kind = "relu" if "relu" in act else "table"
                    result = _quantizer_fixed(getattr(layer, "activation", None), default, activation=True)
                else:
                    kind = "softmax" if act == "softmax" else ("relu" if act == "relu" else "table")
                    result = default
                specs.append(LayerSpec(f"{layer.name}_{act}", kind, input=current, result=result,
                                       table_size=_table_size(kind, s), **{**common, "strategy": "Latency", "reuse_factor": 1}))
                current = result
        elif cls in FREE_KINDS:
            specs.append(LayerSpec(layer.name, "free", input=current, result=current, **common))
        elif cls in POOL_KINDS:
            specs.append(LayerSpec(layer.name, "pool", input=current, result=current, **_geometry(layer), **common))
        elif cls in ("BatchNormalization", "QBatchNormalization"):
            specs.append(LayerSpec(layer.name, "bn", input=current, result=default, **common))
            current = default
        elif cls in ACTIVATION_KINDS or cls == "QActivation":
            if cls == "QActivation":
                result = _quantizer_fixed(getattr(layer, "quantizer", None), default, activation=True)
                act = type(getattr(layer, "quantizer", None)).__name__
                # quantized_bits is a linear activation to hls4ml: a cast, folded into the layer before
                kind = "relu" if "relu" in act else ("linear" if act == "quantized_bits" else "table")
            elif cls == "Activation":
                act = _activation_name(layer)
                kind = {"softmax": "softmax", "relu": "relu", "linear": "linear"}.get(act, "table" if act in TABLE_ACTIVATIONS else "relu")
                result = default
            else:
                kind, result = ACTIVATION_KINDS[cls], default
            specs.append(LayerSpec(layer.name, kind, input=current, result=result, table_size=_table_size(kind, s), **common))
            current = result
        else:  # hls4ml converts it, this model does not price it yet (the estimate's notes name it)
            specs.append(LayerSpec(layer.name, "unmodelled", input=current, result=default, **common))
            current = default
    return specs


# ----------------------------------------------------------------------------- project folders


class _IgnoreTags(yaml.SafeLoader):
    """hls4ml writes ``!keras_model path`` tags; read them as plain strings, run nothing."""


_IgnoreTags.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))


def read_hls4ml_config(project_dir) -> dict:
    from pathlib import Path

    from hcp_fpga.errors import ConfigError, read_yaml_mapping

    path = Path(project_dir) / "hls4ml_config.yml"
    return read_yaml_mapping(path, f"'{path}'", "fix or re-export the project", ConfigError, loader=_IgnoreTags)


def settings_from_config(config: dict, layer_names: list[str]):
    """``HlsSettings`` equivalent of an hls4ml config (model-wide values, per-layer RF/strategy)."""
    from hcp_fpga.design import HlsSettings

    hls = config.get("HLSConfig", {})
    model = hls.get("Model", {})
    layers = hls.get("LayerName", {}) or {}
    strategy = str(model.get("Strategy", "Latency")).replace("latency", "Latency").replace("resource", "Resource")
    strategy = strategy if strategy in ("Latency", "Resource", "ResourceUnrolled") else "Latency"
    precision = model.get("Precision", "ap_fixed<16,6>")
    if isinstance(precision, dict):
        precision = precision.get("default", "ap_fixed<16,6>")
    precision = str(precision).replace(" ", "")
    if not precision.startswith("ap_"):
        precision = "ap_" + precision
    reuse = {n: int(c["ReuseFactor"]) for n, c in layers.items() if isinstance(c, dict) and "ReuseFactor" in c and n in layer_names}
    strategies = {n: c["Strategy"] for n, c in layers.items()
                  if isinstance(c, dict) and c.get("Strategy") in ("Latency", "Resource", "ResourceUnrolled") and n in layer_names}
    return HlsSettings(
        backend=config.get("Backend", "Vivado") if config.get("Backend") in ("Vivado", "Vitis") else "Vivado",
        strategy=strategy, reuse_factor=int(model.get("ReuseFactor", 1)), io_type=config.get("IOType", "io_parallel"),
        precision=precision, clock_ns=float(config.get("ClockPeriod", 5)), layer_reuse=reuse, layer_strategy=strategies,
        softmax_table_size=None,
    )


def apply_project_precisions(specs: list[LayerSpec], config: dict, default: Fixed) -> list[LayerSpec]:
    """Result/accumulator types and table sizes as the project's config names them per layer. A
    layer without a type gets the model default: configs written before hls4ml's ``auto`` types
    kept every result (and accumulator) there."""
    from dataclasses import replace

    from hcp_fpga.models import MULT_LAYER_KINDS

    layers = (config.get("HLSConfig", {}).get("LayerName", {}) or {})
    out = []
    for spec in specs:
        layer_config = layers.get(spec.name, {}) or {}
        if spec.kind in ("softmax", "table") and isinstance(layer_config.get("TableSize"), int):
            spec = replace(spec, table_size=layer_config["TableSize"])
        prec = layer_config.get("Precision", {})
        prec = prec if isinstance(prec, dict) else {}
        result, accum = prec.get("result"), prec.get("accum")
        if result and result != "auto":
            spec = replace(spec, result=parse_fixed(result))
        elif spec.kind in MULT_LAYER_KINDS.values() and result != "auto":
            spec = replace(spec, result=default)
        if spec.kind in MULT_LAYER_KINDS.values():
            if accum and accum != "auto":
                spec = replace(spec, accum=parse_fixed(accum))
            elif accum != "auto":
                spec = replace(spec, accum=default)  # hls4ml < 1.1: accum_t is the model's default type
        out.append(spec)
    # the input type of each layer is the result type of the one before it
    for i in range(1, len(out)):
        out[i] = replace(out[i], input=out[i - 1].result)
    return out
