"""What the estimator needs to know about each layer, read from a ``Design`` (model + settings).

A ``LayerSpec`` carries the multiplier array size, the weights as the hardware holds them (integer
mantissas in the layer's weight type), operand widths, strategy, reuse factor and I/O type. Specs
are plain data: the cost model in ``model.py`` never touches Keras.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Optional

import numpy as np

from hcp_fpga.estimator.precision import MAX_WEIGHT_WIDTH, Fixed, as_written, parse_fixed, po2_fixed, po2_values
from hcp_fpga.vocab import DEVICE_NAME_PATTERN

FREE_KINDS = {"InputLayer", "Flatten", "Reshape", "Dropout", "Permute"}
# layers hls4ml 1.3 builds with their input's type (``add_output_variable(precision=inp.type.precision)``:
# ZeroPadding, Cropping, Resize, Transpose), whatever result type the config names for them (and a
# Flatten/Reshape it writes as an alias of its input: node_specs)
INPUT_TYPED = ("ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D", "Permute")
POOL_KINDS = {"MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
              "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D"}
# hls4ml 1.3's activation functions (nnet_activation.h) by what they cost: a table lookup per element,
# or compares with at most a constant multiply and an add per element (hard_sigmoid/hard_tanh:
# slope * x + shift, clamped; leaky/parametric ReLU). One vocabulary for the model-file and the
# firmware readers.
TABLE_ACTIVATIONS = {"sigmoid", "tanh", "elu", "selu", "softplus", "softsign"}
ELEMENTWISE_ACTIVATIONS = {"relu", "leaky_relu", "prelu", "thresholded_relu", "relu6", "relu1", "hard_sigmoid", "hard_tanh",
                           "binary_tanh", "ternary_tanh"}
# The activation functions hls4ml 1.3's Vivado/Vitis templates write code for, by I/O type
# (nnet_activation.h, nnet_activation_stream.h: a test reads the installed headers), and the three a
# recurrent cell can call (nnet_recr_activations.h). hls4ml passes any other Keras name through as a
# call the C++ compiler rejects (checked with hls4ml 1.3: swish, silu, gelu, mish, exponential and
# log_softmax in io_parallel; relu6 in io_stream; hard_sigmoid and softsign in an LSTM).
HLS4ML_ACTIVATIONS = {"io_parallel": frozenset(TABLE_ACTIVATIONS | ELEMENTWISE_ACTIVATIONS | {"linear", "softmax"})}
HLS4ML_ACTIVATIONS["io_stream"] = HLS4ML_ACTIVATIONS["io_parallel"] - {"relu6", "relu1"}
RECURRENT_ACTIVATIONS = frozenset({"relu", "sigmoid", "tanh"})
# the names a Keras model can ask for among them (the rest are hls4ml's own: QKeras quantizers, layers)
_KERAS_ACTIVATIONS = frozenset({"linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "softplus", "softsign", "elu",
                                "selu", "hard_sigmoid", "leaky_relu"})
# QKeras activation quantizers (hls4ml's QKeras reader checks those itself)
QKERAS_ACTIVATIONS = ("quantized", "binary", "ternary", "stochastic", "bernoulli")


def unbuilt_activation(act, io_type: str, recurrent: bool = False) -> Optional[str]:
    """Why hls4ml 1.3 writes no Vivado/Vitis code for the Keras activation ``act`` (a layer's
    ``activation`` setting, or a recurrent cell's ``recurrent_activation`` with ``recurrent``) in
    ``io_type``, with the fix; None where it does (or where ``act`` is a QKeras quantizer)."""
    if recurrent and isinstance(act, dict):
        return _unbuilt_recurrent_quantizer(act)
    # (a recurrent cell's 'linear' is no exception: nnet_recr_activations.h has none; checked, does not compile)
    if not isinstance(act, str) or "(" in act or (act in NO_ACTIVATION and not recurrent) \
            or act.startswith(QKERAS_ACTIVATIONS):
        return None
    known = RECURRENT_ACTIVATIONS if recurrent else HLS4ML_ACTIVATIONS.get(io_type, HLS4ML_ACTIVATIONS["io_parallel"])
    if act in known:
        return None
    if not recurrent and act in HLS4ML_ACTIVATIONS["io_parallel"]:
        return f"activation {act!r}: hls4ml 1.3 writes no io_stream code for it, so its C++ would not compile; use io_parallel"
    options = ", ".join(sorted(known & _KERAS_ACTIVATIONS))
    if recurrent:
        return f"activation {act!r}: hls4ml 1.3's recurrent cells call {options} only, so its C++ would not compile; use one of them"
    return f"activation {act!r}: hls4ml 1.3 writes no Vivado/Vitis code for it, so its C++ would not compile; use one of {options}"


def _unbuilt_recurrent_quantizer(act: dict) -> Optional[str]:
    """Why hls4ml 1.3 cannot build a QKeras quantizer as a recurrent cell's recurrent_activation: its
    QKeras reader (``parse_qrnn_layer``) asserts on the hard tanh/sigmoid it makes of quantized_tanh/
    quantized_sigmoid, and the cells call relu, sigmoid and tanh only; None where it can."""
    name, config = act.get("class_name"), act.get("config") if isinstance(act.get("config"), dict) else {}
    function = name.removeprefix("quantized_") if isinstance(name, str) else None
    if function in ("tanh", "sigmoid"):
        if config.get(f"use_real_{function}"):
            return None
        return (f"activation {name}: hls4ml 1.3's QKeras reader refuses its hard {function} in a recurrent layer; use "
                f"{name}(..., use_real_{function}=True) or '{function}'")
    if function == "relu" and not config.get("negative_slope"):
        return None
    return (f"activation {name}: hls4ml 1.3's recurrent cells call relu, sigmoid, tanh only; use quantized_relu, or "
            "quantized_tanh/quantized_sigmoid with use_real_tanh/use_real_sigmoid=True")


# activation layer classes -> the cost kind hls4ml's implementation has (ELU: exp table; leaky/parametric
# ReLU: a compare and a constant multiply per element)
ACTIVATION_KINDS = {"ReLU": "relu", "Softmax": "softmax", "ELU": "table", "LeakyReLU": "relu", "PReLU": "relu",
                    "ThresholdedReLU": "relu", "Activation": "relu"}
HLS4ML_TABLE_SIZE = 1024  # hls4ml's default activation table size


def activation_kind(name: str) -> str:
    """The cost kind of an activation function named as Keras or hls4ml's nnet:: call names it:
    softmax, linear, table or relu (an element-wise compare)."""
    if name in ("softmax", "linear"):
        return name
    if name in TABLE_ACTIVATIONS:
        return "table"
    return "relu" if name in ELEMENTWISE_ACTIVATIONS or "relu" in name else "table"


@dataclass(frozen=True)
class LayerSpec:
    name: str
    kind: str  # dense | conv1d | conv2d | relu | linear | softmax | table | bn | pool | step_select | free | unmodelled
    n_in: int = 0  # multiplier-array inputs (Dense inputs; kernel*channels for conv)
    n_out: int = 0  # multiplier-array outputs (units / filters)
    n_pix: int = 1  # output positions a conv computes (1 for Dense)
    out_size: int = 0  # elements of the output tensor
    channels: int = 1  # last axis of the output (io_stream FIFOs are per channel)
    mantissas: Optional[np.ndarray] = None  # (n_in, n_out) integer weights in the weight type
    # the weights are not in the folder: ``mantissas`` are firmware.unknown_weights' stand-ins, an
    # upper bound on products whose values say nothing about the weights' widths
    stand_in_weights: bool = False
    weight: Optional[Fixed] = None
    input: Fixed = Fixed(16, 6)
    result: Fixed = Fixed(16, 6)
    accum: Optional[Fixed] = None  # accumulator type (None: as wide as the products need, not saturating)
    has_bias: bool = False  # hls4ml adds the bias to the accumulator: one more integer bit (every Keras Dense/Conv)
    bias: Optional[Fixed] = None  # the bias type (its fraction bits reach the accumulator); None: the weight type
    # hls4ml 1.3 builds the layer with its input's type (``INPUT_TYPED``): a result type a config names has no effect
    input_typed: bool = False
    in_pix: int = 1  # input positions (io_stream reads one per step)
    padded_pix: int = 0  # input positions after 'same' zero padding (io_stream adds a padding layer + FIFO)
    in_channels: int = 1
    pool_size: int = 1  # positions one pooling output reduces
    pool_op: str = "max"  # max | avg
    pool_dims: int = 1  # 2 for a 2D pooling window (io_stream keeps line buffers for it)
    # an average pool whose windows cover different numbers of image positions ('same' padding that
    # pads, padding not counted): hls4ml divides each window's sum by its own count
    uneven_windows: bool = False
    # hls4ml's strategy for a multiplier layer (MULT_KINDS: its C++ kernel); any other layer's C++ has none,
    # and its configured strategy only sets the design's pipeline style (any Resource layer: DATAFLOW)
    strategy: str = "Latency"
    reuse_factor: int = 1
    io_type: str = "io_parallel"
    table_size: int = HLS4ML_TABLE_SIZE
    # hls4ml's softmax implementation (SOFTMAX_IMPLEMENTATIONS; 'stable' is hls4ml 1.3's default)
    softmax_impl: str = "stable"
    parallelization: int = 1  # ParallelizationFactor: output pixels an io_parallel conv computes at once
    # per multiplier-array input (n_in), the bits its value has where an HGQ quantizer gives every
    # element its own type (0: a dead input, whose products are gone from ``mantissas``): what EBOPs
    # count
    row_bits: Optional[np.ndarray] = None
    # the same inputs' widths as the HLS tool sees them: from the input type's lowest bit up to each
    # element's top bit. The tool drops the leading zero (or sign) bits an element's type leaves,
    # not the trailing zeros below its grid: the HGQ corpus reports' multipliers take 8-14-bit
    # operands where the elements have <= 9 bits (Lrozzy's hidden layers: mul_12ns_10s, ...)
    row_operand_bits: Optional[np.ndarray] = None
    # the model's kernel row each row of ``mantissas`` holds, where hls4ml reordered them (a Permute
    # folded into the Dense: remove_transpose_before_flatten); None: the model's order
    kernel_rows: Optional[np.ndarray] = None
    # power-of-two weights (QKeras quantized_po2, hls4ml's ExponentType): the exponent's bits (0: none).
    # Each constant product is a shift (``mantissas`` hold the values, one CSD digit each)
    weight_exponent_bits: int = 0
    # part of a layer hls4ml builds as one function (a recurrent cell): no FIFO or register array after it
    internal: bool = False
    steps: int = 1  # a recurrent layer's time steps: the cell (its internal specs before this one) runs once per step
    depthwise: bool = False  # a depthwise conv (each output channel sums its own input channel's taps)
    # a cast hls4ml keeps as its own layer (nnet::linear; spec._linear_kept): in io_stream a dataflow
    # process with an output FIFO, where a folded cast has none
    own_process: bool = False
    # a 2D conv's kernel height and the input row width (after padding) its io_stream line buffers hold
    filt_height: int = 1
    line_width: int = 0
    # a layer whose own hls4ml code loops over its positions (TimeDistributed's time steps, a
    # LayerNormalization's sequence): unrolled or not with the top function (``unroll_position_loops``)
    position_loop: bool = False
    # the specs whose results this one reads, by name, where that is not simply the spec before it
    # (None): a branch's first layer, a merge; () for a second model input. Parallel branches run side
    # by side (the top function's pipeline or dataflow starts a call once its inputs are ready), so the
    # latency is the longest path through them (``model.longest_path``), not their sum
    after: Optional[tuple[str, ...]] = None
    note: str = ""  # what the estimate should say about this layer (e.g. a part hls4ml writes no code for)
    # the accumulator type comes from the model itself (an HGQ quantizer's accum_t override), so a
    # project config that names none does not reset it to the model default
    model_accum: bool = False
    # output elements no later layer reads (model.without_dead_outputs): the HLS tool removes the
    # logic computing them, not the registers holding them
    dead: int = 0
    # nonzero products of ``mantissas`` that dead-code elimination removed (hls4ml still counts them
    # as weights when it sets the layer's multiplier limit)
    dead_products: int = 0
    model_output: bool = False  # the last spec of a model output: read outside the design, never dead

    def input_bits(self) -> np.ndarray:
        """Bits of the multiplier array's inputs, a column to broadcast against ``mantissas``:
        ``row_bits`` (n_in, 1), else the input type's width (1, 1)."""
        return self._per_row(self.row_bits)

    def operand_bits(self) -> np.ndarray:
        """Widths of the multiplier array's input operands as the HLS tool sees them, a column to
        broadcast against ``mantissas``: ``row_operand_bits`` (n_in, 1), else the input type's (1, 1)."""
        return self._per_row(self.row_operand_bits)

    def _per_row(self, widths: Optional[np.ndarray]) -> np.ndarray:
        if widths is not None:
            return np.asarray(widths, dtype=np.int64).reshape(-1, 1)
        return np.full((1, 1), self.input.width, dtype=np.int64)

    @property
    def partitions(self) -> int:
        """Steps an io_parallel conv takes over its output (hls4ml's ``n_partitions``): output pixels
        / the ParallelizationFactor, moved to the closest divisor of the pixel count as hls4ml does."""
        return self.n_pix // closest_parallelization(self.n_pix, self.parallelization)


def closest_parallelization(n_pix: int, chosen: int) -> int:
    """hls4ml's valid ParallelizationFactor closest to ``chosen``: a divisor of the output pixels
    (``get_valid_conv_partition_splits``; ties go to the smaller one, as ``get_closest_reuse_factor``)."""
    n_pix = max(int(n_pix), 1)
    valid = [d for d in range(1, n_pix + 1) if n_pix % d == 0]
    return min(valid, key=lambda d: (abs(d - max(int(chosen), 1)), d))


def quantizer_fixed(q, default: Fixed, activation: bool = False) -> Fixed:
    """The hls4ml fixed type of a QKeras quantizer (quantized_bits(b, i) -> ap_fixed<b, i+1>), given
    as a live object, a JSON dict or a string. hls4ml gives activation quantizers rounding and
    saturation (AP_RND_CONV, AP_SAT)."""
    from hcp_fpga.estimator.graph import config_number, quantizer_config

    parsed = quantizer_config(q)
    if parsed is None:
        return default
    name, cfg = parsed
    bits = int(config_number(cfg, "bits", default.width, f"quantizer {name}") or default.width)
    integer = int(config_number(cfg, "integer", 0, f"quantizer {name}"))
    if name == "quantized_bits":
        signed = bool(cfg.get("keep_negative", True))
        return Fixed(bits, integer + (1 if signed else 0), signed, saturating=activation)
    if name == "quantized_relu":  # a leaky one (negative_slope) is signed (hls4ml's _get_precision_from_quantizer)
        leaky = float(config_number(cfg, "negative_slope", 0.0, f"quantizer {name}") or 0.0) != 0.0
        return Fixed(bits, integer + int(leaky), leaky, saturating=activation)
    if name == "quantized_po2":  # powers of two, every product a shift (hls4ml's ExponentType): the type
        return Fixed(bits, bits, True)  # comes from the values (_po2_weights); this one stands in until then
    if name == "quantized_sigmoid":  # hls4ml: ufixed<bits, 0>, whatever the config's integer
        return Fixed(bits, 0, False, saturating=activation)
    if name == "quantized_tanh":  # hls4ml: fixed<bits, 1>
        return Fixed(bits, 1, True, saturating=activation)
    return Fixed(bits, integer + 1, True)


def quantizer_kind(act) -> str:
    """The cost kind hls4ml 1.3 gives a QKeras activation quantizer (converters/keras/qkeras.py
    ``get_activation_quantizer``): quantized_bits a cast (linear); quantized_relu and binary/ternary
    tanh compares; quantized_tanh and quantized_sigmoid its HardActivation (slope x + shift, clamped:
    compares, no table) unless ``use_real_tanh``/``use_real_sigmoid`` asks for the table function."""
    from hcp_fpga.estimator.graph import quantizer_config

    name = quantizer_name(act)
    if name == "quantized_bits":
        return "linear"
    if "relu" in name or name in ("binary", "ternary", "binary_tanh", "ternary_tanh"):
        return "relu"
    if name in ("quantized_tanh", "quantized_sigmoid"):
        parsed = quantizer_config(act)
        real = (parsed[1] if parsed else {}).get("use_real_" + name.split("_", 1)[1], False)
        return "table" if str(real).lower() in ("true", "1") else "relu"
    return "table"


def _is_quantizer(act) -> bool:
    return quantizer_name(act).startswith("quantized")


def quantizer_name(act) -> str:
    """Name of an activation as a config holds it: 'relu', 'quantized_relu', 'linear', ..."""
    from hcp_fpga.estimator.graph import quantizer_config

    if act is None:
        return "linear"
    if isinstance(act, str) and not act.startswith("quantized"):
        return act
    if isinstance(act, dict) and not str(act.get("class_name", "")).startswith("quantized"):
        inner = act.get("config") if isinstance(act.get("config"), dict) else {}  # (a hostile file's: anything)
        return str(inner.get("name", act.get("class_name", "linear"))).lower() \
            if act.get("class_name") == "Activation" else str(act.get("class_name", "linear")).lower()
    parsed = quantizer_config(act)
    return parsed[0] if parsed else getattr(act, "__name__", type(act).__name__)


# hls4ml's softmax implementations (nnet_activation.h): 'latency' reads the exp table with the inputs
# themselves, 'stable' first subtracts their maximum, 'argmax' writes a one-hot of the largest input
# (no tables, no products), 'legacy' reads n x n differences (not priced: named)
SOFTMAX_IMPLEMENTATIONS = ("latency", "stable", "argmax", "legacy")
LEGACY_SOFTMAX_NOT_PRICED = "legacy softmax (an exp table read per pair of inputs): not priced"


def softmax_implementation(layer_config) -> Optional[str]:
    """The softmax implementation a project config's layer entry names (hls4ml reads the key in
    any case: ``Implementation`` or ``implementation``), lower-cased; None if it names none or one
    hls4ml does not know (hls4ml refuses those at conversion)."""
    if not isinstance(layer_config, dict):
        return None
    value = next((v for k, v in layer_config.items() if isinstance(k, str) and k.lower() == "implementation"), None)
    return value.lower() if isinstance(value, str) and value.lower() in SOFTMAX_IMPLEMENTATIONS else None


def skips_softmax(layer_config) -> bool:
    """``Skip: true`` in a softmax's config entry: hls4ml's SkipSoftmax pass removes the layer."""
    return isinstance(layer_config, dict) and any(
        isinstance(k, str) and k.lower() == "skip" and v is True for k, v in layer_config.items())


def softmax_table_sizes(data: Fixed, table_size: int, table_bits: int = 18) -> tuple[int, int]:
    """(exp, inverse) table entries hls4ml 1.3 builds for a stable softmax of input type ``data``:
    its ``fix_softmax_table_size`` pass cuts the size to 2^min(input bits, table bits), and the
    config template caps the exp table at 2^(value bits) of a signed input."""
    size = min(int(table_size), 2 ** min(data.width, table_bits))
    return (min(size, 2 ** (data.width - 1)) if data.signed else size), size


def _table_size(kind: str, settings) -> int:
    """Lookup-table entries: the softmax setting for softmax (as the export applies it), hls4ml's 1,024 otherwise."""
    return (settings.softmax_table_size or HLS4ML_TABLE_SIZE) if kind == "softmax" else HLS4ML_TABLE_SIZE


def _padded_positions(spatial: list[int], out: list, window, strides) -> int:
    """Input positions after Keras' 'same' padding (pad = (out - 1) x stride + window - in, per axis)."""
    window = window if isinstance(window, (list, tuple)) else [window] * len(spatial)
    strides = strides if isinstance(strides, (list, tuple)) else [strides] * len(spatial)
    return int(np.prod([n + max((int(o) - 1) * int(st) + int(k) - n, 0) for n, o, k, st in zip(spatial, out, window, strides)]))


def _geometry(node) -> dict:
    """Input positions, channels and (for 'same' padding) padded positions of a conv/pool layer."""
    shape = node.in_shape
    spatial = [int(d) for d in shape[:-1]]
    in_pix = int(np.prod(spatial)) if spatial else 1
    geo = dict(in_pix=in_pix, in_channels=int(shape[-1]) if shape else 1)
    c = node.config
    if c.get("padding", "valid") == "same" and "kernel_size" in c and node.out_shape:
        padded = _padded_positions(spatial, node.out_shape[:-1], c["kernel_size"], c.get("strides", 1))
        if padded > in_pix:
            geo["padded_pix"] = padded
    if "kernel_size" in c and len(spatial) == 2:
        k = c["kernel_size"] if isinstance(c["kernel_size"], (list, tuple)) else [c["kernel_size"]] * 2
        geo["filt_height"] = int(k[0])
        geo["line_width"] = spatial[1]
        if c.get("padding", "valid") == "same" and node.out_shape:
            stride = c.get("strides", 1)
            stride = stride if isinstance(stride, (list, tuple)) else [stride] * 2
            geo["line_width"] = _padded_positions(spatial[1:], node.out_shape[1:2], k[1:], stride[1:])
    if "Pooling" in node.base:
        geo["pool_op"] = "avg" if "Average" in node.base else "max"
        geo["pool_dims"] = max(len(spatial), 1)
        if node.base.startswith("Global"):
            geo["pool_size"] = in_pix
        else:
            pool = c.get("pool_size", 2)
            geo["pool_size"] = int(np.prod(pool)) if isinstance(pool, (list, tuple)) else int(pool) ** max(len(spatial), 1)
            geo["uneven_windows"] = "Average" in node.base and c.get("padding", "valid") == "same" and bool(node.out_shape) \
                and _padded_positions(spatial, node.out_shape[:-1], pool, c.get("strides") or pool) > in_pix
    return geo


def too_wide(wtype: Fixed) -> Optional[str]:
    """Why a layer with weights of ``wtype`` is named, not priced, when it is wider than the cost model
    prices (MAX_WEIGHT_WIDTH); None when it is priced."""
    if wtype.width <= MAX_WEIGHT_WIDTH:
        return None
    return f"weight type {wtype.spelling()} is wider than the {MAX_WEIGHT_WIDTH} bits the cost model prices"


def _weight_key(node) -> str:
    """The config name of a multiplier layer's (first) kernel: a separable conv's depthwise half is
    '<layer>_depthwise' (``separable_part_precisions``), any other layer its own name."""
    return f"{node.name}_depthwise" if node.base.startswith("Separable") else node.name


def _result_key(node) -> str:
    """The config name whose result type is the layer's output type: a separable conv's pointwise
    half's (``separable_part_precisions``), any other layer's own."""
    return f"{node.name}_pointwise" if node.base.startswith("Separable") else node.name


def _weight_type(node, default: Fixed, weight_types: dict, grid: bool) -> tuple[Fixed, bool]:
    """(weight type, round?) of a multiplier layer: its QKeras quantizer (weights rounded onto its grid
    as QKeras does), else the project's per-layer setting, else the grid the values already lie on
    (HGQ proxy models), else the model default (hls4ml truncates the floats into it)."""
    q = _kernel_quantizer(node)
    if q:  # hls4ml's add_weights_variable: a quantizer's type wins over any config precision
        return quantizer_fixed(q, default), True
    if _weight_key(node) in weight_types:
        return weight_types[_weight_key(node)], False
    if grid and node.weights:
        return grid_fixed(node.weights[0], default), False
    return default, False


def _bias_type(node, default: Fixed, bias_types: dict, wtype: Fixed, grid: bool, name: Optional[str] = None) -> Fixed:
    """A multiplier layer's bias type as hls4ml 1.3 sets it: its QKeras bias quantizer, else the
    config's per-layer bias type (of ``name``: a separable conv's pointwise half), else the model
    default (not the weight type: a QKeras kernel quantizer or a configured weight type leaves the
    bias alone); an HGQ proxy's bias is taken on its weights' grid."""
    if node.config.get("use_bias") is False:
        return Fixed(1, 1, False)  # hls4ml's add_bias: zeros in ap_uint<1>, whatever the config says
    q = node.config.get("bias_quantizer")
    if q:
        return quantizer_fixed(q, default)
    if (name or node.name) in bias_types:
        return bias_types[name or node.name]
    return wtype if grid else default


def _po2_bits(q) -> int:
    """The exponent bits of a QKeras quantized_po2 weight quantizer (hls4ml's ExponentType); 0 for any other."""
    from hcp_fpga.estimator.graph import config_number, quantizer_config

    parsed = quantizer_config(q) if q else None
    if not parsed or parsed[0] != "quantized_po2":
        return 0
    return int(config_number(parsed[1], "bits", 8, "quantizer quantized_po2") or 8)


def _quantized_mantissas(q, wtype: Fixed, values: np.ndarray, rounding: bool) -> tuple[np.ndarray, Fixed]:
    """(mantissas, type) of weights as hls4ml stores them: a power-of-two quantizer's values (hls4ml
    applies it: QKerasPO2Quantizer) in the type that holds them (``po2_fixed``), else the values
    rounded or truncated into ``wtype``."""
    from hcp_fpga.estimator.graph import GraphError, config_number, quantizer_config

    bits = _po2_bits(q)
    if not bits:  # QKeras rounds onto its grid (exact in text); other floats go through hls4ml's text
        return wtype.mantissas(values if rounding else as_written(values, wtype), rounding), wtype
    cfg = quantizer_config(q)[1]
    limit = config_number(cfg, "max_value", None, "quantizer quantized_po2") if cfg.get("max_value") is not None else None
    if limit is not None and limit < 0:
        raise GraphError(f"quantizer quantized_po2 has max_value {limit}, not >= 0 (QKeras refuses it)")
    powers = po2_values(values, {**cfg, "bits": min(bits, 32), "max_value": limit})
    held = po2_fixed(powers)
    return held.mantissas(powers, True), held


def _kernel_quantizer(node):
    """A QKeras layer's quantizer of its (first) kernel, or None."""
    return node.config.get("kernel_quantizer") or node.config.get("depthwise_quantizer")


def _overridden_weight_note(node, wtype: Fixed, weight_types: dict) -> str:
    """What to say where the config names a weight type the layer's QKeras quantizer overrides
    (hls4ml keeps the quantizer's: a pinned type has no effect there); '' otherwise."""
    named = weight_types.get(_weight_key(node))
    quantized = _kernel_quantizer(node)
    if named is None or not quantized or (named.width, named.integer, named.signed) == (wtype.width, wtype.integer, wtype.signed):
        return ""
    def text(t: Fixed) -> str:
        return f"ap_{'' if t.signed else 'u'}fixed<{t.width},{t.integer}>"
    return (f"{node.name}: its weights are {text(wtype)}, its QKeras quantizer's type; hls4ml ignores the config's "
            f"{text(named)} for a quantized layer (change the quantizer to change them)")


def grid_fixed(values: np.ndarray, default: Fixed, max_frac: int = 24) -> Fixed:
    """The narrowest fixed type holding ``values`` exactly, if they lie on a power-of-two grid
    (weights trained with learned bit widths, e.g. HGQ); ``default`` otherwise."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[v != 0]
    if v.size == 0:
        return Fixed(1, 1)
    for frac in range(0, max_frac + 1):
        scaled = v * 2.0**frac
        if np.all(scaled == np.round(scaled)):
            biggest = int(np.max(np.abs(scaled)))
            width = max(biggest.bit_length() + 1, 2)
            return Fixed(width, width - frac)
    return default


def _accumulator(wtype: Fixed, current: Fixed, n_in: int, has_bias: bool = False, btype: Optional[Fixed] = None) -> Fixed:
    """hls4ml 1.3's inferred accumulator (``InferPrecisionTypes._infer_common_precision``): product
    bits plus ceil(log2(terms)); the bias (type ``btype``, else the weight type) adds an integer bit
    and its own fraction bits, where finer. hls4ml skips that only for an all-zero bias with its
    ``infer_no_bias`` option on, which is off by default."""
    grow = int(np.ceil(np.log2(max(n_in, 1))))
    width = wtype.width + current.width + grow
    integer = wtype.integer + current.integer + grow
    signed = wtype.signed or current.signed
    if has_bias:
        btype = btype or wtype
        frac = width - integer
        integer = max(integer + int(btype.signed and not signed), btype.integer + int(signed and not btype.signed)) + 1
        width = integer + max(frac, btype.width - btype.integer)
        signed = signed or btype.signed
    return Fixed(min(width, 1024), min(integer, 1024), signed)  # ap_fixed allows 1024 bits; hls4ml writes what it infers (calwilee: <78,40>)


def capped(t: Fixed, maximum: Optional[Fixed]) -> Fixed:
    """An inferred type within the model's ``Precision: maximum`` (hls4ml's ``max_precision``): its
    width and integer bits each at most the maximum's (``InferPrecisionTypes._get_maximum_precision``)."""
    if maximum is None:
        return t
    return replace(t, width=min(t.width, maximum.width), integer=min(t.integer, maximum.integer))


def accumulator(wtype: Fixed, current: Fixed, n_in: int, has_bias: bool = False, btype: Optional[Fixed] = None) -> Fixed:
    return _accumulator(wtype, current, n_in, has_bias, btype)


def _depthwise_matrix(kernel: np.ndarray) -> np.ndarray:
    """A depthwise kernel (k..., C, M) as the block-diagonal (k*C, C*M) matrix of its products:
    each output channel sums only its own input channel's k products (zeros cost nothing)."""
    *k, channels, mult = kernel.shape
    taps = int(np.prod(k)) if k else 1
    flat = kernel.reshape(taps, channels, mult)
    out = np.zeros((taps * channels, channels * mult))
    for c in range(channels):
        out[c::channels, c * mult:(c + 1) * mult] = flat[:, c, :]
    return out


MERGE_ADD = {"Add", "Subtract", "Average", "Maximum", "Minimum"}


def bn_result(data: Fixed, scale: Fixed, bias: Fixed) -> Fixed:
    """hls4ml 1.3's inferred BatchNormalization result (``_infer_bn_precision``): data x scale, plus
    the bias with one more integer bit; lossless."""
    signed = scale.signed or data.signed
    width, integer = data.width + scale.width, data.integer + scale.integer
    out_int = max(integer + int(bias.signed and not signed), bias.integer + int(signed and not bias.signed)) + 1
    return Fixed(min(out_int + max(width - integer, bias.width - bias.integer), 1024), min(out_int, 1024), signed or bias.signed)


def dot_specs(name: str, n: int, first: Fixed, second: Fixed, accum: Fixed, result: Optional[Fixed],
              common: dict) -> list[LayerSpec]:
    """hls4ml's dot1d of two n-vectors: the n products of the two operand types (the second in
    ``weight``), then one n-input sum in ``accum`` giving ``result`` (None: hls4ml 1.3's inferred one,
    the product widened by ceil(log2 n) bits, ``_infer_dot_precision``). ``common``: io_type,
    strategy, reuse (the model and the firmware readers build it the same way from here)."""
    product = merged_type("multiply", first, second)
    if result is None:
        grow = math.ceil(math.log2(max(n, 1)))
        result = Fixed(product.width + grow, product.integer + grow, product.signed)
    return [LayerSpec(f"{name}_products", "merge_mul", input=first, result=first, weight=second, n_in=2, internal=True,
                      **{**common, "out_size": n, "channels": n}),
            LayerSpec(name, "merge", input=product, result=result, accum=accum, n_in=n,
                      **{**common, "out_size": 1, "channels": 1})]


def merged_type(op: str, a: Fixed, b: Fixed) -> Fixed:
    """hls4ml 1.3's inferred result of a two-input merge (``InferPrecisionTypes._infer_merge_precision``
    and ``_infer_cat_precision``): add/subtract/average grow one integer bit over the wider input,
    multiply sums the widths, maximum/minimum/concatenate take the wider of each part."""
    if op in ("add", "subtract", "average"):
        integer = max(a.integer + int(b.signed and not a.signed), b.integer + int(a.signed and not b.signed)) + 1
        return Fixed(integer + max(a.width - a.integer, b.width - b.integer), integer, a.signed or b.signed or op == "subtract")
    if op == "multiply":
        return Fixed(a.width + b.width, a.integer + b.integer, a.signed or b.signed)
    if (a.width, a.integer, a.signed) == (b.width, b.integer, b.signed):
        return a
    signed = a.signed or b.signed
    ia, ib = a.integer + int(signed and not a.signed), b.integer + int(signed and not b.signed)
    return Fixed(max(a.width - a.integer, b.width - b.integer) + max(ia, ib), max(ia, ib), signed)
MOVE_KINDS = {"Concatenate", "UpSampling1D", "UpSampling2D", "Cropping1D", "Cropping2D"}
PAD_KINDS = {"ZeroPadding1D", "ZeroPadding2D"}
RNN_GATES = {"GRU": 3, "LSTM": 4, "SimpleRNN": 1}


def _permuted_elements(node) -> Optional[np.ndarray]:
    """For a Permute node: the input element each output element is (flattened, channels-last)."""
    dims = node.config.get("dims") if node.base == "Permute" else None
    if not dims or len(node.in_shape) != len(dims):
        return None
    perm = [int(d) - 1 for d in dims]
    return np.arange(int(np.prod(node.in_shape))).reshape(node.in_shape).transpose(perm).reshape(-1)


def dense_conv_class(node) -> Optional[str]:
    """The hls4ml 1.3 class of a Dense over a sequence or an image: ReplaceMultidimensionalDenseWithConv
    makes it a new Conv1D/Conv2D of the same name, configured by that name, then the 'Conv1D'/'Conv2D'
    LayerType entry (not 'Dense'), then the model (checked: a type-granularity config's Dense entry
    does not reach it); None for any other node."""
    if node.base == "Dense" and 2 <= len(node.in_shape) <= 3:
        return f"Conv{len(node.in_shape) - 1}D"
    return None


_WEIGHT_QUANTIZERS = ("kernel_quantizer", "recurrent_quantizer", "bias_quantizer")


def quantizers_hls4ml_drops(nodes) -> list[str]:
    """The QKeras layers among ``nodes`` whose weight quantizers hls4ml 1.3 does not apply: a Dense over
    a sequence or an image (the convolution it makes of it takes the float weights and no quantizer)
    and a QLSTM/QGRU/QSimpleRNN (their add_weights pass none). They compute with the float weights
    truncated into the config's types, not with QKeras's values (the export hands hls4ml quantized
    ones, ``models.quantized_weights``)."""
    from hcp_fpga.models import QKERAS_RECURRENT

    return [n.name for n in nodes if (dense_conv_class(n) or n.cls in QKERAS_RECURRENT)
            and any(n.config.get(k) for k in _WEIGHT_QUANTIZERS)]


def without_dropped_quantizers(nodes) -> list:
    """``nodes`` as hls4ml 1.3 builds a project from them: ``quantizers_hls4ml_drops``' layers without
    their weight quantizers (their types are the config's)."""
    from dataclasses import replace as _replace

    dropped = set(quantizers_hls4ml_drops(nodes))
    return [_replace(n, config={k: v for k, v in n.config.items() if k not in _WEIGHT_QUANTIZERS})
            if n.name in dropped else n for n in nodes]


def skip_dropout(nodes) -> list:
    """The graph as hls4ml 1.3's Keras reader builds it: without its Dropout layers (their readers read
    the layer before; a Dropout output makes that layer the output). The BatchNormalization folds
    and linear-activation merges then see the layer hls4ml sees."""
    nodes = list(nodes)
    return _bypassed(nodes, {n.name: n.inputs[0] for n in nodes if n.base == "Dropout" and len(n.inputs) == 1})


def _bypassed(nodes: list, dropped: dict[str, str]) -> list:
    """``nodes`` without the ``dropped`` ones (name -> the node they read): their readers read
    through them, and a dropped model output makes the node it read an output."""
    from dataclasses import replace as _replace

    if not dropped:
        return list(nodes)

    def source(name: str) -> str:
        while name in dropped:
            name = dropped[name]
        return name

    outputs = {source(n.name) for n in nodes if n.name in dropped and n.output}
    return [_replace(n, inputs=[source(i) for i in n.inputs], output=n.output or n.name in outputs)
            for n in nodes if n.name not in dropped]


def skip_merged_linear(nodes: list, fixed: set, auto: frozenset = frozenset()) -> list:
    """The graph without the linear activations hls4ml 1.3's ``MergeLinearActivation`` drops (after a
    layer it deems safe whose type is 'auto': ``merges_linear_after``; a QKeras ``quantized_bits``
    activation is one too, its cast going with it). Its optimizer re-runs every pass after each
    change, so a BatchNormalization behind such an activation then folds into the layer before it."""
    by_name = {n.name: n for n in nodes}
    dropped: dict[str, str] = {}  # a dropped activation -> the layer its readers read instead
    for n in nodes:
        linear = (n.cls == "Activation" and quantizer_name(n.config.get("activation")) == "linear") or \
            (n.cls == "QActivation" and quantizer_name(n.config.get("activation")) == "quantized_bits")
        parent = by_name.get(dropped.get(n.inputs[0], n.inputs[0])) if linear and len(n.inputs) == 1 else None
        if parent is not None and merges_linear_after(parent.cls) and not _type_set(parent, fixed, auto):
            dropped[n.name] = parent.name
    return _bypassed(nodes, dropped)


def fuse_batchnorm(nodes: list, fixed_results: set, folded: frozenset = frozenset(),
                   transposed: frozenset = frozenset()) -> list:
    """hls4ml 1.3's ``FuseBatchNormalization``: a BatchNormalization right after a Dense/Conv1D/Conv2D
    or a separable convolution's pointwise half (``batchnorm_folds``) is folded into that layer's
    kernel (kernel x gamma / sqrt(variance + epsilon) per output). The returned graph has the
    BatchNormalization removed and the kernel replaced: the cost of the folded weights, no BN layer.
    ``folded``: layers whose kernel is already the folded one (read from a project's weight files).
    A depthwise convolution is folded into as hls4ml 1.3 does it, wrongly (``broken_depthwise_folds``;
    our export sets its type, which stops the fold). hls4ml runs its passes again after each change, so
    a BatchNormalization after a folded one (whose set type kept the two apart) folds next.
    ``transposed``: layers whose kernels hls4ml stores filters-first (Resource strategy)."""
    while True:
        folded_nodes = _fuse_batchnorm_once(nodes, fixed_results, folded, transposed)
        if len(folded_nodes) == len(nodes):
            return folded_nodes
        nodes = folded_nodes


def _fuse_batchnorm_once(nodes: list, fixed_results: set, folded: frozenset, transposed: frozenset) -> list:
    """One round of ``fuse_batchnorm``: the consecutive BatchNormalizations merged, then each fold."""
    from dataclasses import replace as _replace

    nodes = _merge_consecutive_batchnorms(nodes, fixed_results)
    fused: dict[str, str] = {}  # removed BN name -> the layer it was folded into
    weights: dict[str, list] = {}
    for bn, parent, scale in batchnorm_folds(nodes, fixed_results):
        if parent.name not in folded:
            k = 1 if parent.base.startswith("Separable") else 0  # a separable conv's pointwise kernel
            kernel = np.asarray(parent.weights[k])
            scaled = kernel * scale
            if parent.base.startswith("Depthwise"):
                # hls4ml's fold broadcasts the per-channel scale over the (taps, channels, 1) kernel's last
                # axis (a kernel channels times as large) and its C++ reads the first kernel-size values
                # (``broken_depthwise_folds``: the design computes otherwise than the model). At Resource
                # strategy hls4ml stores that array filters-first (ApplyResourceStrategy: a depthwise conv
                # is a Conv there), so those values are the first filter's
                if parent.name in transposed:
                    first = np.moveaxis(scaled, -1, 0).reshape(-1)[:kernel.size]
                    scaled = np.moveaxis(first.reshape((kernel.shape[-1], *kernel.shape[:-1])), 0, -1)
                else:
                    scaled = scaled.reshape(-1)[:kernel.size].reshape(kernel.shape)
            weights[parent.name] = [*parent.weights[:k], scaled, *parent.weights[k + 1:]]
        fused[bn.name] = parent.name
    if not fused:
        return list(nodes)
    out = []
    for n in nodes:
        if n.name in fused:
            continue
        if n.name in weights:
            n = _replace(n, weights=weights[n.name])
        if any(i in fused for i in n.inputs):
            n = _replace(n, inputs=[fused.get(i, i) for i in n.inputs])
        out.append(n)
    return out


def batchnorm_folds(nodes: list, fixed_results: set) -> list[tuple]:
    """(BatchNormalization, the layer before it, BN scale) for each BatchNormalization hls4ml 1.3's
    ``FuseBatchNormalization`` folds: right after a Dense or a convolution (a depthwise one too, a
    separable one's pointwise half: hls4ml splits it first), no activation between, its only
    consumer, that layer's result type not set by the config; unless quantizers forbid it (a
    quantized kernel with a non-unit BN scale, a quantized bias with a nonzero BN bias; a
    QBatchNormalization's quantizers do not count: hls4ml's reader gives it no scale/bias quantizer)."""
    consumers = {name: len(users) for name, users in readers_of(nodes).items()}
    by_name = {n.name: n for n in nodes}
    folds = []
    for bn in nodes:
        if bn.base != "BatchNormalization" or len(bn.inputs) != 1 or bn.inputs[0] not in by_name:
            continue
        parent = by_name[bn.inputs[0]]
        if parent.base not in FOLD_PARENTS or not parent.weights or consumers.get(parent.name, 0) != 1 \
                or parent.name in fixed_results or quantizer_name(parent.config.get("activation")) not in ("linear", "None"):
            continue
        scale = _bn_scale(bn)
        if scale is None:
            continue
        kernel_quantizer = parent.config.get("kernel_quantizer") or parent.config.get("pointwise_quantizer") \
            or parent.config.get("depthwise_quantizer")
        if (kernel_quantizer and not np.all(scale == 1)) \
                or (parent.config.get("bias_quantizer") and not np.all(_bn_bias(bn, scale) == 0)):
            continue
        folds.append((bn, parent, scale))
    return folds


# the layers hls4ml 1.3 folds a BatchNormalization after into (its Dense, Conv1D, Conv2D and subclasses)
FOLD_PARENTS = ("Dense", "Conv1D", "Conv2D", "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D")


# hls4ml 1.3's Conv2DBatchnorm.initialize transposes its folded kernel for the Resource strategy on the
# Vivado/VivadoAccelerator/Catapult backends, and ApplyResourceStrategy transposes it again
TRANSPOSED_TWICE = ("hls4ml 1.3 transposes a QConv2DBatchnorm's kernel twice at Resource strategy on the Vivado "
                    "backend, so the design computes with its weights out of place")


def transposed_twice(base: str, strategy: str, backend: Optional[str]) -> bool:
    """Whether hls4ml 1.3 builds a layer of class ``base`` (QKeras prefix off) with its kernel transposed
    twice (TRANSPOSED_TWICE; checked by
    C simulation: a QConv2DBatchnorm at Resource, Vivado backend, argmax agreement with QKeras 0.47 on
    300 normal inputs, 1.00 at Latency or on the Vitis backend)."""
    return base == "Conv2DBatchnorm" and strategy == "Resource" and str(backend or "Vivado") in (
        "Vivado", "VivadoAccelerator", "Catapult")


def twice_transposed_kernel(kernel: np.ndarray) -> np.ndarray:
    """The (kh, kw, c, f) kernel the C++ of a TRANSPOSED_TWICE layer computes with: its Resource
    kernel reads the (f, kh, kw, c) array hls4ml writes, which holds the kernel transposed twice."""
    kernel = np.asarray(kernel)
    if kernel.ndim != 4:
        return kernel
    twice = np.transpose(np.transpose(kernel, (3, 0, 1, 2)), (3, 0, 1, 2))
    return np.transpose(twice.reshape(kernel.shape[3], *kernel.shape[:3]), (1, 2, 3, 0))


def broken_depthwise_folds(nodes: list, fixed_results: set) -> list[str]:
    """Depthwise convolutions hls4ml 1.3 would fold the BatchNormalization after them into wrongly: it
    multiplies the (k, channels, 1) kernel by the per-channel scale along its last axis (checked by C
    simulation: DepthwiseConv2D -> BatchNormalization, argmax agreement with Keras 0.41 on 100
    normal inputs; DepthwiseConv1D 0.72). The export sets their result type, which stops the fold."""
    nodes = _merge_consecutive_batchnorms(skip_merged_linear(list(nodes), fixed_results), fixed_results)
    return [parent.name for _, parent, _ in batchnorm_folds(nodes, fixed_results) if parent.base.startswith("Depthwise")]


# hls4ml's RemoveTransposeBeforeFlatten reorders the Dense kernel by these axes, whatever the perm was
TRANSPOSE_FOLD_AXES = {2: (1, 0, 2), 3: (1, 2, 0, 3)}


def folded_transposes(nodes: list, io_type: str) -> dict[str, tuple]:
    """{Permute name: (its Flatten/Reshape, its Dense)} for each Permute hls4ml 1.3 removes
    (``RemoveTransposeBeforeFlatten``, io_parallel only): a Permute of a 2- or 3-axis tensor, its only
    consumer a 1-axis Flatten/Reshape whose only consumer is a Dense with weights."""
    if io_type != "io_parallel":
        return {}
    consumers = readers_of(nodes)
    by_name = {n.name: n for n in nodes}
    found = {}
    for flat in nodes:
        if flat.base not in ("Flatten", "Reshape") or len(flat.inputs) != 1 or len(flat.out_shape or ()) != 1:
            continue
        permute, users = by_name.get(flat.inputs[0]), consumers.get(flat.name, [])
        if permute is None or permute.base != "Permute" or len(permute.inputs) != 1 or len(users) != 1 \
                or users[0].base != "Dense" or not users[0].weights or len(consumers.get(permute.name, [])) != 1:
            continue
        if len(permute.out_shape or ()) in TRANSPOSE_FOLD_AXES:
            found[permute.name] = (flat, users[0])
    return found


def readers_of(nodes) -> dict[str, list]:
    """{node name: the nodes reading its output, in graph order}."""
    readers: dict[str, list] = {}
    for n in nodes:
        for i in n.inputs:
            readers.setdefault(i, []).append(n)
    return readers


def shared_padded_conv1d(nodes: list, io_type: str) -> dict[str, str]:
    """{name: why} of the 1D convolutions hls4ml 1.3 pads wrongly in io_stream. Its
    InsertZeroPaddingBeforeConv1D puts the padding it adds for a 'same' Conv1D before the first
    reader of the conv's input, not before the conv: where that tensor has other readers, a conv
    that is not its first reader reads it unpadded and the first reader gets the padding (two such
    convs: one gets both paddings, the other none). C simulation against Keras, 100 normal inputs:
    argmax agreement 0.27-0.34; 2D convolutions are padded right."""
    if io_type != "io_stream":
        return {}
    readers = readers_of(nodes)
    why = ("a 'same' Conv1D sharing its input in io_stream, not its first reader: hls4ml 1.3 pads the first reader "
           "instead; use io_parallel, or pad explicitly (ZeroPadding1D, then padding='valid') on each such conv")
    return {n.name: why for tensor, users in readers.items() if len(users) > 1
            for n in users[1:] if _padded_conv1d(n)}


def _padded_conv1d(n) -> bool:
    """A 1D convolution hls4ml gives zero padding of its own ('same', and the padding not zero)."""
    if n.base not in ("Conv1D", "SeparableConv1D", "DepthwiseConv1D") or n.config.get("padding") != "same" \
            or len(n.inputs) != 1 or len(n.in_shape) != 2:
        return False
    kernel, stride = (int(_first(n.config.get(k), 1)) for k in ("kernel_size", "strides"))
    steps = int(n.in_shape[0])
    return max((math.ceil(steps / stride) - 1) * stride + kernel - steps, 0) > 0


def _first(value, default):
    """A Keras size option's first entry (kernel_size (3,) or 3)."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else default
    return default if value is None else value


def misfolded_permute(permute) -> bool:
    """Whether hls4ml's fixed fold axes (``TRANSPOSE_FOLD_AXES``) undo another perm than this
    Permute's: the folded Dense then reads its inputs in another order than Keras (a Permute((2, 1, 3))
    is folded as (3, 1, 2); the only 2-axis perm, (2, 1), is folded right)."""
    dims = tuple(int(d) for d in permute.config.get("dims", ()))
    return len(dims) == 3 and dims != (3, 1, 2)


def remove_transpose_before_flatten(nodes: list, io_type: str, folded: frozenset = frozenset()) -> list:
    """hls4ml 1.3's ``RemoveTransposeBeforeFlatten`` (``folded_transposes``): the Permute is removed
    and the Dense's kernel rows reordered instead (its weights reshaped to the Permute's output shape
    and transposed by ``TRANSPOSE_FOLD_AXES``, as hls4ml does for any perm). The Dense then reads the
    Permute's input in its own order: the same design the exported firmware holds (its adder trees
    pair the reordered rows). ``folded``: layers whose kernel is already the reordered one (read
    from a project's weight files)."""
    from dataclasses import replace as _replace

    found = folded_transposes(nodes, io_type)
    if not found:
        return list(nodes)
    by_name = {n.name: n for n in nodes}
    removed = {name: by_name[name].inputs[0] for name in found}  # Permute name -> its input
    kernels: dict[str, tuple] = {}
    for name, (_, dense) in found.items():
        shape, kernel = tuple(by_name[name].out_shape), np.asarray(dense.weights[0])
        if dense.name not in folded and kernel.shape[0] == int(np.prod(shape)):
            fold = lambda a: a.reshape(*shape, -1).transpose(TRANSPOSE_FOLD_AXES[len(shape)]).reshape(a.shape)  # noqa: E731
            kernels[dense.name] = (fold(kernel), fold(np.arange(kernel.shape[0])[:, None])[:, 0])
    out = []
    for n in nodes:
        if n.name in removed:
            continue
        if n.name in kernels:
            kernel, rows = kernels[n.name]
            n = _replace(n, weights=[kernel, *n.weights[1:]], row_order=rows)
        if any(i in removed for i in n.inputs):
            n = _replace(n, inputs=[removed.get(i, i) for i in n.inputs],
                         in_shapes=[by_name[removed[i]].out_shape if i in removed else sh for i, sh in zip(n.inputs, n.in_shapes)])
        out.append(n)
    return out


def _bn_scale(bn) -> Optional[np.ndarray]:
    """gamma / sqrt(moving variance + epsilon) of a Keras BatchNormalization node (weights in Keras
    order: gamma if ``scale``, beta if ``center``, moving mean, moving variance)."""
    w = [np.asarray(x, dtype=np.float64) for x in bn.weights]
    has_gamma, has_beta = bn.config.get("scale", True), bn.config.get("center", True)
    if len(w) != 2 + int(bool(has_gamma)) + int(bool(has_beta)):
        return None
    gamma = w[0] if has_gamma else 1.0
    var = w[-1]
    from hcp_fpga.estimator.graph import config_number

    return gamma / np.sqrt(var + config_number(bn.config, "epsilon", 1e-3, f"BatchNormalization '{bn.name}'"))


def _merge_consecutive_batchnorms(nodes: list, fixed_results: set) -> list:
    """hls4ml 1.3's ``FuseConsecutiveBatchNormalization``: a BatchNormalization reading another one
    (its only reader, its result type not set) takes the product of both, scale s0 x s1 and bias
    s1 x b0 + b1, under the second's name (Keras layers have no BN scale/bias quantizers to stop it).
    The merged node carries them as gamma and beta over a zero mean and unit variance."""
    from dataclasses import replace as _replace

    consumers = {name: len(users) for name, users in readers_of(nodes).items()}
    out: list = []
    merged: dict[str, object] = {}  # a BN node's name -> its node, as merged so far
    for n in nodes:
        prev = merged.get(n.inputs[0]) if n.base == "BatchNormalization" and len(n.inputs) == 1 else None
        s1 = _bn_scale(n) if prev is not None else None
        s0 = _bn_scale(prev) if s1 is not None else None
        if s0 is not None and consumers.get(prev.name, 0) == 1 and prev.name not in fixed_results:
            b0, b1 = _bn_bias(prev, s0), _bn_bias(n, s1)
            scale, bias = np.broadcast_arrays(s0 * s1, s1 * b0 + b1)
            n = _replace(n, inputs=list(prev.inputs), config={**n.config, "scale": True, "center": True, "epsilon": 0.0},
                         weights=[scale, bias, np.zeros_like(scale), np.ones_like(scale)])
            del out[next(i for i, o in enumerate(out) if o is prev)]
        if n.base == "BatchNormalization":
            merged[n.name] = n
        out.append(n)
    return out


def _bn_bias(bn, scale: np.ndarray) -> np.ndarray:
    """beta - moving mean x scale of a Keras BatchNormalization node (``_bn_scale``'s weight order)."""
    w = [np.asarray(x, dtype=np.float64) for x in bn.weights]
    beta = w[1 if bn.config.get("scale", True) else 0] if bn.config.get("center", True) else 0.0
    return beta - w[-2] * scale


def _parsed_results(layer_precision: dict) -> dict[str, Fixed]:
    """{layer: Fixed} of the result types settings name (text a type parser refuses is no setting)."""
    out = {}
    for name, text in layer_precision.items():
        try:
            out[name] = parse_fixed(text)
        except ValueError:
            continue
    return out


def node_specs(nodes, settings, kernels: Optional[dict] = None, weight_types: Optional[dict] = None,
               fixed_results: Optional[dict] = None, bias_types: Optional[dict] = None,
               auto_activations: frozenset = frozenset(), scale_types: Optional[dict] = None) -> list[LayerSpec]:
    """Per-layer specs of a model given as ``graph.Node``s (from a file or a live Keras model), with
    ``settings`` (resolved ``HlsSettings``), in graph order; fused activations split off and
    BatchNormalizations folded (``fuse_batchnorm``) as hls4ml does. ``kernels`` (layer name -> array)
    replaces a layer's kernel (e.g. the values a project synthesized); ``weight_types`` and
    ``bias_types`` (layer name -> Fixed) its weight and bias types; ``fixed_results`` (layer name ->
    Fixed): the result types the config sets (default: ``settings.layer_precision``'s);
    ``auto_activations``: activation layers whose config type is 'auto' (``auto_activations``);
    ``scale_types``: a BatchNormalization's scale type (its bias's is in ``bias_types``)."""
    s = settings
    kernels = kernels or {}
    if fixed_results is None:
        fixed_results = _parsed_results(getattr(s, "layer_precision", {}) or {})
    # hls4ml builds these with their input's type: a type the config names for them is no type set
    typed_by_input = {n.name for n in nodes if n.base in INPUT_TYPED}
    fixed_results = {name: t for name, t in fixed_results.items() if name not in typed_by_input}
    # a layer whose result the config sets (hls4ml folds nothing into it); a separable conv's is its
    # pointwise half's (``_result_key``)
    fixed = {n.name for n in nodes if _result_key(n) in fixed_results} | (set(fixed_results) - {n.name for n in nodes})
    # the type each node's input has when hls4ml builds the graph, before its optimizers fold or merge
    # anything: a padding, upsampling, cropping or transpose copies it (``_built_type``)
    nodes = skip_dropout(nodes)  # (hls4ml drops them; every step below reads the graph without them)
    built_inputs = _built_input_types(nodes, fixed_results, parse_fixed(s.precision), auto_activations)
    # a synthesized kernel (``kernels``: the project's weight files) is already the folded one
    wrong_folds = dict.fromkeys(broken_depthwise_folds(nodes, fixed),
                                "hls4ml 1.3 folds the BatchNormalization after it along the wrong axis")
    resource = frozenset(n.name for n in nodes if s.strategy_of(n.name) in ("Resource", "ResourceUnrolled"))
    nodes = fuse_batchnorm(skip_merged_linear(nodes, fixed, auto_activations), fixed, frozenset(kernels), resource)
    scrambled = frozenset(n.name for n in nodes if transposed_twice(n.base, s.strategy_of(n.name), getattr(s, "backend", None)))
    padded_apart = {**wrong_folds, **shared_padded_conv1d(nodes, s.io_type),  # built otherwise: said after the node
                    **dict.fromkeys(scrambled, TRANSPOSED_TWICE)}
    nodes = remove_transpose_before_flatten(nodes, s.io_type, frozenset(kernels))
    default = parse_fixed(s.precision)
    cap = _fixed_or_none(getattr(s, "max_precision", None))  # every type hls4ml infers stays within it
    weight_types, bias_types = weight_types or {}, bias_types or {}
    grid = any(n.cls == "FixedPointQuantizer" for n in nodes)  # an HGQ proxy: weights lie on their own grids
    consumers: dict[str, int] = {}
    for n in nodes:
        for i in n.inputs:
            consumers[i] = consumers.get(i, 0) + 1
    by_name = {n.name: n for n in nodes}
    specs: list[LayerSpec] = []
    types: dict[str, Fixed] = {}  # result type of each node, for the next
    # a Flatten/Reshape alias whose config names a type: hls4ml infers the next layer's types from that
    # type (``types``) while the data keep its input's (this): alias name -> the data's type
    aliased: dict[str, Fixed] = {}
    # per-element (bits, operand widths) of a node's output, where HGQ sets them (LayerSpec.row_bits, row_operand_bits)
    elements: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    last_spec: dict[str, str] = {}  # node name -> its last spec's name: what the node's consumers read
    # a linear activation hls4ml removes -> the layer before it: what the next linear one sees in its place
    removed_linear: dict[str, str] = {}
    for node in nodes:
        first = len(specs)
        cls, base = node.cls, node.base
        current = types.get(node.inputs[0], default) if node.inputs else default
        data_in = aliased.get(node.inputs[0]) if len(node.inputs) == 1 else None
        built_in = built_inputs.get(node.name)
        widths = elements.get(node.inputs[0]) if len(node.inputs) == 1 else None
        shape = node.out_shape or ()
        out_size = int(np.prod(shape)) if shape else 0
        channels = int(shape[-1]) if shape else 1
        common = dict(out_size=out_size, channels=channels, io_type=s.io_type, reuse_factor=s.reuse_of(node.name),
                      strategy=s.strategy_of(node.name))
        result = current
        if cls == "InputLayer":
            current = result = fixed_results.get(node.name, current)  # inference starts from the input's type
            specs.append(LayerSpec(node.name, "free", input=current, result=current, **common))
        elif (why := unbuilt_layer(cls, node.config, node.in_shape, len(node.inputs))) is not None:
            specs.append(LayerSpec(f"{node.name} ({why})", "unmodelled", input=current, result=default, **common))
            result = default
        elif base == "Dense" and len(node.in_shape) > 3:  # ReplaceMultidimensionalDenseWithConv raises
            specs.append(LayerSpec(f"{node.name} (hls4ml 1.3 converts a Dense over 1-3 axes only)", "unmodelled",
                                   input=current, result=default, **common))
            result = default
        elif base in MULT_BASES and (node.weights or node.name in kernels) and node.in_shape and shape:
            kernel = kernels.get(node.name, node.weights[0] if node.weights else None)
            if node.name in scrambled and node.name not in kernels:  # (a project's weight files hold it as built)
                kernel = twice_transposed_kernel(kernel)
            wtype, rounding = _weight_type(node, default, weight_types, grid)
            if (wide := too_wide(wtype)) is not None:
                specs.append(LayerSpec(f"{node.name} ({wide})", "unmodelled", input=current, result=default, **common))
                current = default
            elif base.startswith(("Separable", "Depthwise")):
                mant, wtype = _quantized_mantissas(_kernel_quantizer(node), wtype, _depthwise_matrix(kernel), rounding)
                n_in, n_out = mant.shape
                n_pix = out_size // channels if channels else 1
                exponent = _po2_bits(_kernel_quantizer(node))
                # hls4ml splits a separable conv: both parts get a bias
                acc = capped(_accumulator(wtype, current, int(np.prod(kernel.shape[:-2])), True), cap) if not exponent else default
                kind = "conv2d" if base.endswith("2D") else "conv1d"
                dname = f"{node.name}_depthwise" if base.startswith("Separable") else node.name
                # hls4ml 1.3's init_depconv1d/2d know 'resource' and build anything else at Latency
                # (a ResourceUnrolled separable conv: its pointwise half only is unrolled)
                half = _half_settings(s, dname, common)
                strategy = "Latency" if half["strategy"] == "ResourceUnrolled" else half["strategy"]
                specs.append(LayerSpec(dname, kind, n_in, n_out, n_pix, out_size=n_pix * n_out, channels=n_out, mantissas=mant,
                                       weight=wtype, input=current, result=acc, accum=acc, depthwise=True, **_geometry(node),
                                       weight_exponent_bits=exponent,
                                       note=_overridden_weight_note(node, wtype, weight_types),
                                       **{**{k: v for k, v in common.items() if k not in ("out_size", "channels")},
                                          "reuse_factor": half["reuse_factor"], "strategy": strategy}))
                current = acc
                if dname != node.name and (own := fixed_results.get(dname)) is not None:
                    current = own  # the depthwise half's own result type ('depthwise_result')
                    specs[-1] = replace(specs[-1], result=own)
                if base.startswith("Separable") and len(node.weights) > 1:
                    pw = node.weights[1]
                    pq = node.config.get("pointwise_quantizer")
                    pname = f"{node.name}_pointwise"
                    ptype = quantizer_fixed(pq, default) if pq else weight_types.get(pname, default)
                    if (wide := too_wide(ptype)) is not None:
                        specs.append(LayerSpec(f"{node.name}_pointwise ({wide})", "unmodelled", input=current,
                                               result=default, **common))
                        current = default
                    else:
                        pmant, ptype = _quantized_mantissas(pq, ptype, pw.reshape(-1, pw.shape[-1]), bool(pq))
                        exponent = _po2_bits(pq)
                        btype = _bias_type(node, default, bias_types, ptype, grid, pname)
                        acc = capped(_accumulator(ptype, current, pmant.shape[0], True, btype), cap) if not exponent else default
                        specs.append(LayerSpec(pname, kind, pmant.shape[0], pmant.shape[1], n_pix, mantissas=pmant,
                                               weight=ptype, input=current, result=acc, accum=acc, in_pix=n_pix, bias=btype,
                                               weight_exponent_bits=exponent,
                                               in_channels=pmant.shape[0], **_half_settings(s, pname, common)))
                        current = acc
            else:
                n_out = int(kernel.shape[-1])
                n_in = int(np.prod(kernel.shape[:-1]))
                mant, wtype = _quantized_mantissas(_kernel_quantizer(node), wtype, np.asarray(kernel).reshape(n_in, n_out), rounding)
                row_bits = row_operand_bits = None
                if widths is not None and base == "Dense" and widths[0].size == n_in:
                    # HGQ inputs: a 0-bit (dead) input makes its products constant zeros (the HGQ
                    # corpus reports: Lrozzy's hidden layers 75 -> 33 DSPs this way, reported 14)
                    row_bits, row_operand_bits = (np.minimum(w, current.width) for w in widths)
                    mant = np.where(row_bits[:, None] > 0, mant, 0)
                has_bias = True  # (hls4ml gives every Dense/Conv a bias array: _inferred_accumulator)
                exponent = _po2_bits(_kernel_quantizer(node))
                btype, acc = _inferred_accumulator(node, wtype, current, n_in, default, bias_types, grid, cap)
                kind = MULT_BASES[base]
                if base == "Dense" and len(node.in_shape) > 1:
                    # hls4ml 1.3 replaces a Dense over a sequence or an image by a 1x1 Conv1D/Conv2D
                    # (ReplaceMultidimensionalDenseWithConv): a pointwise conv stepping over the positions
                    kind = "conv1d" if len(node.in_shape) == 2 else "conv2d"
                specs.append(LayerSpec(node.name, kind, n_in, n_out, max(out_size // max(n_out, 1), 1), mantissas=mant,
                                       weight=wtype, input=current, result=acc, accum=acc, has_bias=has_bias, bias=btype,
                                       row_bits=row_bits, row_operand_bits=row_operand_bits, kernel_rows=node.row_order,
                                       weight_exponent_bits=exponent, note=_overridden_weight_note(node, wtype, weight_types),
                                       **_geometry(node), **common))
                current = acc
            own = _result_key(node)
            if own in fixed_results and specs[-1].name in (node.name, f"{node.name}_pointwise"):
                # a result type the config sets is the layer's: the layers after it infer from it
                current = fixed_results[own]
                specs[-1] = replace(specs[-1], result=current)
            result = current
            act = node.config.get("activation")
            name = quantizer_name(act)
            # the split-off linear activation's type: its own, or for 'auto' (or none) the model default
            # (hls4ml's _infer_default_type for an Activation)
            cast = fixed_results.get(f"{node.name}_linear", default) if name == "linear" else None
            if cast is not None and node.name in fixed and cast != current and specs[-1].kind != "unmodelled":
                # after a layer whose type the config sets, hls4ml keeps it as a cast where the two types
                # differ (MergeLinearActivation takes only an unset parent type; EliminateLinearActivation
                # only an equal one)
                specs.append(LayerSpec(f"{node.name}_linear", "linear", input=current, result=cast,
                                       own_process=s.io_type == "io_stream",
                                       **{**common, "strategy": s.strategy_of(f"{node.name}_linear")}))
                result = current = cast
            if name not in NO_ACTIVATION:
                if _is_quantizer(act):  # a QKeras activation quantizer fused into the layer
                    kind = quantizer_kind(act)
                    # its type: the config's, else its quantizer's (the model default where the config says 'auto');
                    # the quantizer is read either way (a damaged one is refused)
                    own = quantizer_fixed(act, default, activation=True)
                    result = fixed_results.get(f"{node.name}_{name}") or (
                        default if f"{node.name}_{name}" in auto_activations else own)
                else:
                    kind = activation_kind(name)
                    result = fixed_results.get(f"{node.name}_{name}", default)  # its own entry's type, if any
                # hls4ml gives the split-off activation layer the model's (or its own) reuse factor; the
                # io_stream softmax limits its products by it
                act_name = f"{node.name}_{name}"
                if (why := unbuilt_activation(act, s.io_type)) is not None:
                    act_name, kind = f"{act_name} ({why})", "unmodelled"
                # (and its own strategy, which sets the pipeline style only: LayerSpec.strategy)
                specs.append(LayerSpec(act_name, kind, input=current, result=result, table_size=_table_size(kind, s),
                                       **{**common, "strategy": s.strategy_of(f"{node.name}_{name}"),
                                          "reuse_factor": s.reuse_of(act_name)}))
        elif base == "SimpleRNN":  # hls4ml 1.3 converts it but its Vivado/Vitis backends write no code (models.NO_CODE_ON_XILINX)
            specs.append(LayerSpec(f"{node.name} (SimpleRNN: hls4ml 1.3 writes no Vivado/Vitis code for it)", "unmodelled",
                                   input=current, result=current, **common))
        elif base in RNN_GATES and (why := unbuilt_layer_activation(base, node.config, s.io_type)) is not None:
            specs.append(LayerSpec(f"{node.name} ({why})", "unmodelled", input=current, result=default, **common))
            result = default
        elif base in RNN_GATES and node.weights and len(node.weights) >= 2 and node.in_shape:
            result = _rnn_specs(node, specs, current, default, common, s, fixed_results.get(node.name, default), weight_types)
        elif base in NO_STREAM_CODE and s.io_type == "io_stream":
            specs.append(LayerSpec(f"{node.name} ({base}: hls4ml 1.3 writes no io_stream code for it)", "unmodelled",
                                   input=current, result=default, **common))
            result = default
        elif base == "Bidirectional":
            result = _bidirectional_specs(node, specs, current, default, common, s, fixed_results.get(node.name, default),
                                          weight_types)
        elif base == "LayerNormalization":
            result = _layernorm_spec(node, specs, current, default, common, fixed_results,
                                     (scale_types or {}).get(node.name, default), bias_types.get(node.name, default))
        elif base == "TimeDistributed":
            result = _time_distributed_specs(node, specs, current, default, common, s, weight_types, grid,
                                             fixed_results, bias_types, cap)
        elif cls in FREE_KINDS or base in ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise"):
            # a Flatten/Reshape is an alias of its input (its type too), but in io_stream one with a
            # multi-axis output, or the model's output, is a repack_stream into its own type (ReshapeStream)
            repacked = s.io_type == "io_stream" and (len(shape) > 1 or node.output)
            alias = base in ("Flatten", "Reshape") and not repacked
            data = (data_in or current) if alias else current
            if alias:  # C++ aliases the input array; its own type feeds only the next layer's inference
                result = fixed_results.get(node.name, current)
                if result != data:
                    aliased[node.name] = data
            elif repacked and base in ("Flatten", "Reshape"):
                # the repack writes its own type: the config's, else ('auto') its input's (hls4ml's
                # output-matching inference); without an entry the model default (resolved_results)
                result = data = fixed_results.get(node.name, current)
            specs.append(LayerSpec(node.name, "free", input=current if repacked else data, result=data,
                                   input_typed=base in INPUT_TYPED or alias, **common))
        elif base in POOL_KINDS and node.in_shape:
            # hls4ml 1.3 passes the input type through a pooling layer; a global pooling's 'auto'
            # result falls back to the model precision (InferPrecisionTypes has no rule for it)
            result = fixed_results.get(node.name, default if base.startswith("Global") else current)
            specs.append(LayerSpec(node.name, "pool", input=current, result=result, **_geometry(node), **common))
        elif base == "BatchNormalization":  # not folded (fuse_batchnorm): scale and bias in their types
            # (the config's 'scale' and 'bias', else the model type: hls4ml's 'auto' for them is its default,
            # and it builds them from the config even for a QBatchNormalization)
            scale, bias = (scale_types or {}).get(node.name, default), bias_types.get(node.name, default)
            result = fixed_results.get(node.name) or capped(bn_result(current, scale, bias), cap)
            specs.append(LayerSpec(node.name, "bn", input=current, result=result, weight=scale, **common))
        elif base in PAD_KINDS:
            result = built_in or current  # an 'auto' one is inferred: its input's type
            specs.append(LayerSpec(node.name, "pad", input=current, result=result, input_typed=True, **common))
        elif base in MOVE_KINDS:
            if base == "Concatenate" and len(node.inputs) == 2:
                result = capped(merged_type("concatenate", current, types.get(node.inputs[1], default)), cap)
            elif base.startswith("Cropping"):
                # hls4ml 1.3 gives it its input's type when building the graph: a type set then stays
                # (even one a linear activation it later removes had); an 'auto' one, for which
                # InferPrecisionTypes has no rule, becomes the model default
                result = built_in or default
            elif base.startswith("UpSampling"):
                result = built_in or current
            if base == "Concatenate":  # a type the config sets is the layer's (the next layer infers from it)
                result = fixed_results.get(node.name, result)
            specs.append(LayerSpec(node.name, "move", input=current, result=result, input_typed=base in INPUT_TYPED, **common))
        elif base in MERGE_ADD or base == "Multiply":
            if len(node.inputs) == 2:
                result = capped(merged_type(base.lower(), current, types.get(node.inputs[1], default)), cap)
            result = fixed_results.get(node.name, result)
            # the adders / multipliers produce the result type (hls4ml's inferred one is lossless)
            specs.append(LayerSpec(node.name, "merge" if base != "Multiply" else "merge_mul", input=current, result=result,
                                   n_in=max(len(node.inputs), 2), **common))
        elif base == "Dot" and len(node.in_shapes) == 2 and node.in_shape and len(node.in_shape) == 1:
            # hls4ml's dot1d: the n products, then their sum in the model's type (the accumulator
            # hls4ml 1.3 leaves it: design.hls_config; one a config names: apply_project_precisions), its
            # result the config's, else inferred (the layers after it infer from that)
            specs += dot_specs(node.name, int(node.in_shape[0]), current, types.get(node.inputs[1], default), default,
                               fixed_results.get(node.name), common)
            result = specs[-1].result
        elif cls == "FixedPointQuantizer":
            result = _hgq_result(node, default)
            if len(node.weights) >= 3 and np.asarray(node.weights[1]).size > 1:
                # HGQ's per-element (keep_negative, bits, integers): hls4ml casts element n to
                # ap_[u]fixed<b, i> (hls4ml 1.3 backends/fpga/passes/hgq_proxy_model.py), so it has b
                # bits, its top bit i above the binary point (the sign's, if k), and the tool sees
                # i + the result type's fractional bits of it
                k, b, i = (np.asarray(w, dtype=np.int64).ravel() for w in node.weights[:3])
                operand = np.where(b > 0, np.clip(i + result.width - result.integer, 0, result.width), 0)
                elements[node.name] = (np.clip(b, 0, None), operand)
            producer = node.inputs[0] if len(node.inputs) == 1 else None
            if (producer and specs and (specs[-1].name == producer or specs[-1].name.startswith(producer + "_"))
                    and specs[-1].kind != "free" and consumers.get(producer, 0) == 1):
                # hls4ml folds an HGQ quantizer into the layer before it: that layer's result type
                # (the reports' module types: HGQ dense and ReLU modules end in the quantizer's type)
                specs[-1] = replace(specs[-1], result=result)
                current = result
            _apply_hgq_accumulators(node, specs)
            specs.append(LayerSpec(node.name, "linear", input=current, result=result, **common))
        elif base == "Embedding" and node.weights:
            vocab, dim = node.weights[0].shape
            # its result: the config's, else ('auto') the model default (_infer_embedding_precision); the
            # layers after it read and infer from it
            result = fixed_results.get(node.name, default)
            specs.append(LayerSpec(node.name, "embedding", n_in=int(vocab), n_out=int(dim), input=current, result=result,
                                   **common))
        elif cls in ACTIVATION_KINDS or cls == "QActivation":
            if cls == "QActivation":
                act = node.config.get("activation")
                # its quantizer's type, unless the config names one (hls4ml builds that one)
                own = quantizer_fixed(act, default, activation=True)  # read either way: a damaged one is refused
                result = fixed_results.get(node.name) or (default if node.name in auto_activations else own)
                name = quantizer_name(act)
                kind = quantizer_kind(act)  # quantized_bits: a cast, folded into the layer before
            elif cls == "Activation":
                name = quantizer_name(node.config.get("activation"))
                kind = activation_kind(name)
                result = fixed_results.get(node.name, default)
            else:
                kind, result = ACTIVATION_KINDS[cls], fixed_results.get(node.name, default)
            own_process, label = False, node.name
            if (why := unbuilt_activation(node.config.get("activation"), s.io_type)) is not None:
                kind, label = "unmodelled", f"{node.name} ({why})"
            if kind == "linear":
                parent = by_name.get(removed_linear.get(node.inputs[0], node.inputs[0])) if len(node.inputs) == 1 else None
                # the types as the config sets them (before inference), where it does
                own = fixed_results.get(node.name, result if cls == "QActivation" and node.name not in auto_activations
                                        else None)
                # (the parent's last hls4ml layer: the activation split off it, where it has one)
                before = fixed_results.get(hls4ml_layer_classes(parent)[-1][0], current) if parent is not None else current
                parent_set = None
                if parent is not None and last_spec.get(parent.name) == f"{parent.name}_linear":
                    # after the parent's own kept cast (its split linear activation): that cast is the layer
                    # before it, with that cast's type, set or 'auto' as the config says
                    before, parent_set = current, f"{parent.name}_linear" in fixed
                elif parent is not None and _split_linear_at_merge(parent, fixed, auto_activations):
                    parent_set = False
                if not _linear_kept(parent, own, before, fixed, default, parent_set, auto_activations):
                    # removed before hls4ml sets the pipeline style: its strategy has no say there
                    kind, result, common = "free", current, {**common, "strategy": "Latency"}
                    if parent is not None:
                        removed_linear[node.name] = parent.name
                else:  # a cast layer of its own: in io_stream a dataflow process with an output FIFO
                    own_process, result = s.io_type == "io_stream", own or default
            specs.append(LayerSpec(label, kind, input=current, result=result, table_size=_table_size(kind, s),
                                   own_process=own_process, **common))
        else:  # no cost rule (or no shape) for it: named in the estimate's notes, the totals a lower bound
            result = default
            specs.append(LayerSpec(node.name, "unmodelled", input=current, result=default, **common))
        types[node.name] = result
        if data_in is not None and node.name not in aliased and len(specs) > first:
            specs[first] = replace(specs[first], input=data_in)  # the data its aliased input holds
        mismatch = keras_mismatch(cls, node.config, shape) or padded_apart.get(node.name)
        if mismatch and len(specs) > first and specs[first].kind != "unmodelled":
            said = f"layer '{node.name}' ({mismatch}): priced as hls4ml builds it, which computes otherwise than the Keras model"
            specs[first] = replace(specs[first], note="; ".join(n for n in (specs[first].note, said) if n))
        if node.name not in elements and widths is not None and specs and specs[-1].kind in ("free", "relu", "linear") \
                and specs[-1].name == node.name and out_size == widths[0].size:
            # an element-wise layer (or a reshape) keeps each element's width; a Permute moves it
            order = _permuted_elements(node)
            elements[node.name] = widths if order is None else tuple(w[order] for w in widths)
        _wire(specs, first, last_spec, node)
    outputs = {last_spec[n.name] for n in nodes if n.output and n.name in last_spec}
    specs = [replace(sp, model_output=True) if sp.name in outputs else sp for sp in specs]
    return unroll_position_loops(built_reuse_factors(specs))


def _built_input_types(nodes: list, fixed_results: dict, default: Fixed,
                       auto_activations: frozenset = frozenset()) -> dict[str, Optional[Fixed]]:
    """{node name: the type its (only) input has when hls4ml 1.3 builds the graph} (``_built_type``),
    on the graph before any fold or merge: an upsampling after a BatchNormalization that is later
    folded away keeps the type the BatchNormalization had (checked)."""
    built: dict[str, Optional[Fixed]] = {}
    inputs: dict[str, Optional[Fixed]] = {}
    for node in nodes:
        inputs[node.name] = built.get(node.inputs[0]) if len(node.inputs) == 1 else None
        built[node.name] = _built_type(node, fixed_results, inputs[node.name], default, auto_activations)
    return inputs


def _built_type(node, fixed_results: dict, built_in: Optional[Fixed], default: Fixed,
                auto_activations: frozenset = frozenset()) -> Optional[Fixed]:
    """The type ``node``'s output has when hls4ml 1.3 builds its graph (before any optimizer pass),
    None where it is 'auto' then: an input's (set or the model's), a type the config names for the
    node or for the activation hls4ml splits off it (a linear one too, which may later be removed),
    a QKeras quantizer's (not where the config says 'auto'); a padding, upsampling, cropping or
    transpose passes on its input's."""
    if node.cls == "InputLayer":
        return fixed_results.get(node.name, default)
    if node.base in INPUT_TYPED:
        return built_in
    act = node.config.get("activation") if node.base in MULT_BASES else None
    if act is not None and (name := quantizer_name(act)) != "None":
        if f"{node.name}_{name}" in fixed_results:
            return fixed_results[f"{node.name}_{name}"]
        if _is_quantizer(act):
            return None if f"{node.name}_{name}" in auto_activations else quantizer_fixed(act, default, activation=True)
        return None  # its split activation's type is 'auto' (a linear one's too): unset when the graph is built
    if node.name in fixed_results:
        return fixed_results[node.name]
    if node.cls == "QActivation" and node.name not in auto_activations:
        return quantizer_fixed(node.config.get("activation"), default, activation=True)
    return None


def _wire(specs: list[LayerSpec], first: int, last_spec: dict[str, str], node) -> None:
    """After a node's specs (from index ``first``) are appended: the first reads the node's inputs'
    last specs (``LayerSpec.after``) where those are not just the spec before it (a model input reads
    none); the node's consumers will read its last spec (a node with no spec passes its input's on)."""
    if first < len(specs):
        reads = tuple(last_spec[i] for i in node.inputs if i in last_spec)
        if not node.inputs:
            specs[first] = replace(specs[first], after=())
        elif reads and (first == 0 or reads != (specs[first - 1].name,)):
            specs[first] = replace(specs[first], after=reads)
        last_spec[node.name] = specs[-1].name
    elif len(node.inputs) == 1 and node.inputs[0] in last_spec:
        last_spec[node.name] = last_spec[node.inputs[0]]


def with_pipeline_strategy(specs: list[LayerSpec], strategy: str) -> list[LayerSpec]:
    """``specs`` with ``strategy`` on every layer whose C++ has none of its own (not a multiplier
    layer): how a design's pipeline style is carried (``LayerSpec.strategy``; Resource: DATAFLOW)."""
    return [sp if sp.kind in MULT_KINDS else replace(sp, strategy=strategy) for sp in specs]


def built_reuse_factors(specs: list[LayerSpec]) -> list[LayerSpec]:
    """The specs with the reuse factor hls4ml 1.3 builds each Resource multiplier layer at: a config's
    RF that is not valid for the layer's (inputs, outputs) it moves to the closest valid one, the
    smaller on a tie, with a warning (``set_closest_reuse_factor``; a depthwise conv's sizes are its
    channels x taps and its filters, as our block-diagonal matrix; a recurrent layer's kernel and
    recurrent kernel each by its own, so the two can differ). The firmware holds the moved values, so
    both paths price one design (an RF 2 moved to 1 was priced as an RF-2 kernel: DSP 27 vs 8)."""
    from hcp_fpga.estimator.reuse import closest_valid

    return [replace(sp, reuse_factor=closest_valid(sp.n_in, sp.n_out, sp.reuse_factor,
                                                   unrolled=sp.strategy == "ResourceUnrolled"))
            if sp.kind in MULT_KINDS and sp.strategy in ("Resource", "ResourceUnrolled") and sp.n_in and sp.n_out
            else sp for sp in specs]


def unroll_position_loops(specs: list[LayerSpec]) -> list[LayerSpec]:
    """The loops over positions in hls4ml's own code for a layer (``position_loop`` specs: a
    TimeDistributed's time steps, a LayerNormalization's sequence) as hls4ml 1.3's pipeline style
    leaves them: a top function under PIPELINE unrolls every loop in it, so each position gets its
    own copy of the hardware; under DATAFLOW (io_stream, a Resource layer, a conv stepping over pixel
    partitions: ``SetPipelineStyle``) the loop runs the positions one after the other."""
    looped = [sp for sp in specs if sp.position_loop]
    if not looped:
        return specs
    dataflow = any(sp.io_type == "io_stream" or sp.strategy == "Resource"
                   or (sp.kind in ("conv1d", "conv2d") and sp.partitions > 1 and not sp.position_loop) for sp in specs)
    return [replace(sp, parallelization=1 if dataflow else sp.n_pix) if sp.position_loop else sp for sp in specs]


def _layernorm_spec(node, specs: list, current: Fixed, default: Fixed, common: dict, fixed_results: dict,
                    scale: Fixed, bias: Fixed) -> Fixed:
    """A Keras LayerNormalization as hls4ml 1.3 converts it (``layernormalize``): io_parallel, over a
    (steps, features) input, normalizing each step's features; its result type inferred as a
    BatchNormalization's from its ``scale`` and ``bias`` types (``_infer_bn_precision``, which hls4ml
    runs for both). What hls4ml refuses is named and not priced (``unbuilt_layer``; io_stream:
    NO_STREAM_CODE)."""
    if not node.in_shape or len(node.in_shape) != 2:  # (unbuilt_layer names that; a shape it could not read)
        specs.append(LayerSpec(f"{node.name} (LayerNormalization: its input shape is not readable)", "unmodelled",
                               input=current, result=default, **common))
        return default
    steps, features = (int(d) for d in node.in_shape)
    result = fixed_results.get(node.name) or bn_result(current, scale, bias)
    specs.append(LayerSpec(node.name, "layernorm", n_in=features, n_out=features, n_pix=steps, input=current, result=result,
                           accum=LAYERNORM_ACCUM, weight=scale, table_size=LAYERNORM_TABLE_SIZE, position_loop=True,
                           **{**common, "channels": features}))
    return result


# a layer's activation setting that is no activation layer to hls4ml (quantized_bits: a cast it folds)
NO_ACTIVATION = ("linear", "quantized_bits", "None")
# layers hls4ml 1.3 writes as array loops only (nnet_recurrent.h bidirectional_stack,
# nnet_time_distributed.h, nnet_layernorm.h; nnet_merge.h dot1d, which nnet_merge_stream.h lacks):
# an io_stream project of them does not compile (checked for Dot with hls4ml 1.3)
NO_STREAM_CODE = ("Bidirectional", "TimeDistributed", "LayerNormalization", "Dot")


def keras_mismatch(cls: str, config: dict, out_shape=()) -> Optional[str]:
    """What hls4ml 1.3 builds otherwise than Keras computes for a layer of this class and Keras config,
    with the fix; None where it builds the same. The estimate prices what hls4ml builds and says it
    in a note (or names the layer as not priced where it is not built); export and optimize refuse
    it (models.unsupported_layers)."""
    from hcp_fpga.estimator.graph import base_class

    if cls == "TimeDistributed":
        inner = config.get("layer")
        inner = inner.get("config") if isinstance(inner, dict) else None
        act = quantizer_name(inner.get("activation")) if isinstance(inner, dict) else "linear"
        if act not in NO_ACTIVATION:
            # hls4ml's Keras reader splits activations off top-level layers only; checked by C simulation:
            # TimeDistributed(Dense(4, 'relu')) gave negative outputs
            return f"TimeDistributed: hls4ml 1.3 drops the wrapped layer's {act!r} activation; put it in an Activation layer after"
    if cls == "Bidirectional":
        mode = config.get("merge_mode", "concat")
        if mode != "concat":
            return f"Bidirectional merge_mode {mode!r}: hls4ml 1.3 concatenates the two directions; use merge_mode='concat'"
    if cls == "ReLU":
        return _relu_mismatch(config)
    base = base_class(cls)
    # the rest checked by C simulation against Keras (hls4ml 1.3, 50 normal inputs: wrong values)
    if cls == "QDense" and out_shape and len(out_shape) > 1 and (scaled := _scaled_weight_quantizer(config)):
        # (over a sequence or an image: hls4ml's convolution takes no quantizer, so no alpha either; checked by C
        # simulation, a QDense(8) over (5, 6), 300 normal inputs: alpha='auto_po2' argmax agreement 0.42, 'auto' 0.55)
        return (f"QDense over a sequence or an image with a scaled quantizer ({scaled}): hls4ml 1.3 builds it without "
                "the scale; use alpha=1 and retrain")
    if base in ("GRU", "LSTM", "SimpleRNN") and quantizer_name(config.get("recurrent_activation")) == "quantized_relu":
        # (one with a negative slope is not built at all: unbuilt_layer_activation) checked by C simulation: a QLSTM with quantized_relu(4,0) gates, argmax agreement with QKeras 0.91 on
        # 300 normal inputs (its clip at 15/16 dropped), quantized_relu(8,2) 0.99
        return (f"{cls} recurrent_activation quantized_relu: hls4ml 1.3 computes a plain relu, without the quantizer's "
                "clip and rounding; use 'relu' or quantized_sigmoid(..., use_real_sigmoid=True) and retrain")
    if base in ("GRU", "LSTM") and config.get("go_backwards"):
        return (f"{cls} go_backwards=True: hls4ml 1.3 runs it over the steps forwards; reverse the sequence before "
                "the model instead, or use a Bidirectional layer")
    if base == "GRU" and config.get("reset_after", True) is False:
        return "GRU reset_after=False: hls4ml 1.3 computes the reset_after=True form; use reset_after=True and retrain"
    if cls.startswith("UpSampling") and config.get("interpolation", "nearest") != "nearest":
        return (f"{cls} interpolation {config['interpolation']!r}: hls4ml 1.3 repeats the nearest value; "
                "use interpolation='nearest'")
    if cls == "Dot" and config.get("normalize"):
        return "Dot normalize=True: hls4ml 1.3 computes the plain dot product, not the cosine; use normalize=False"
    if cls == "Flatten" and config.get("data_format") == "channels_first":
        return "Flatten data_format 'channels_first': hls4ml 1.3 flattens in channels-last order; use channels_last"
    if quantizer_name(config.get("activation")) == "softmax" and (rows := _softmax_rows(out_shape)) > 1:
        return (f"softmax over each of {rows} rows: hls4ml 1.3 normalizes all {int(np.prod(out_shape))} elements together; "
                "Flatten before a softmax")
    return None


def unbuilt_layer(cls: str, config: dict, in_shape, n_inputs: int = 1) -> Optional[str]:
    """Why hls4ml 1.3 cannot build this Keras layer at all, with the fix; None where it can. Its Keras
    reader refuses a merge of more than two tensors, a recurrent layer's return_state and a PReLU's
    shared_axes; it ignores a conv's dilation_rate and groups (it builds an undilated, ungrouped
    conv, of another output size or reading the kernel wrongly), a depthwise depth_multiplier (its
    C++ asserts 1 and the C simulation aborts) and a BatchNormalization's axis (it scales the last);
    its softmax layer takes the last axis of a flat vector only (else it does not compile): each
    checked with hls4ml 1.3, by conversion or by C simulation."""
    from hcp_fpga.estimator.graph import base_class

    base = base_class(cls)
    if (cls in MERGE_ADD or cls in ("Multiply", "Concatenate", "Dot")) and n_inputs > 2:
        return f"{cls} of {n_inputs} tensors: hls4ml 1.3 merges two only; chain two-input {cls} layers"
    if base in RNN_GATES and config.get("return_state"):
        return f"{cls} return_state=True: hls4ml 1.3 does not build it; use return_state=False"
    if cls == "PReLU" and config.get("shared_axes"):
        return (f"PReLU shared_axes {_axes(config['shared_axes'])}: hls4ml 1.3 takes one slope per element only; "
                "use shared_axes=None")
    if base.startswith("BatchNormalization") and in_shape:
        axes = _axes(config.get("axis", -1))
        if any(a not in (-1, len(in_shape)) for a in axes):
            return f"{cls} over axis {axes}: hls4ml 1.3 scales the last axis; use axis=-1 (put the channels last)"
    if base.startswith(("Conv", "SeparableConv", "DepthwiseConv")):
        dilation = _axes(config.get("dilation_rate", 1))
        if any(d != 1 for d in dilation):
            return f"{cls} dilation_rate {dilation}: hls4ml 1.3 builds an undilated conv; use dilation_rate 1"
        if _axes(config.get("groups") or 1) not in ((1,), ()):
            return (f"{cls} groups={config['groups']}: hls4ml 1.3 builds an ungrouped conv; use one conv per group "
                    "and a Concatenate, or groups=1")
        if base.startswith(("Separable", "Depthwise")) and _axes(config.get("depth_multiplier") or 1) not in ((1,), ()):
            return (f"{cls} depth_multiplier={config['depth_multiplier']}: hls4ml 1.3 builds a multiplier of 1 only, "
                    "and its C simulation aborts; use depth_multiplier=1")
    if base == "LayerNormalization" and (why := _unbuilt_layernorm(config, in_shape)) is not None:
        return why
    if cls == "Softmax" and in_shape:
        axes = _axes(config.get("axis", -1))
        if any(a not in (-1, len(in_shape)) for a in axes):
            return f"Softmax over axis {axes}: hls4ml 1.3 normalizes the last axis only, so its C++ would not compile; use axis=-1"
        if (rows := _softmax_rows(in_shape)) > 1:
            return (f"Softmax over each of {rows} rows: hls4ml 1.3's softmax layer takes a flat vector only, so its C++ "
                    "would not compile; Flatten before it (one softmax over all elements)")
    return None


def _unbuilt_layernorm(config: dict, in_shape) -> Optional[str]:
    """hls4ml 1.3's LayerNormalization reader (``parse_layernorm_layer``) raises unless the input is
    (steps, features), the axis the last one, and epsilon a power of ten it rounds to 10^-k, k >= 1."""
    if in_shape and len(in_shape) != 2:
        return (f"LayerNormalization over a {len(in_shape)}-axis tensor: hls4ml 1.3 converts it on a (steps, features) "
                "input only; Reshape to (steps, features) before it")
    axes = _axes(config.get("axis", -1))
    if len(axes) != 1 or axes[0] not in (-1, 2):
        return (f"LayerNormalization over axis {', '.join(map(str, axes))}: hls4ml 1.3 normalizes the last axis only; "
                "use axis=-1")
    epsilon = config.get("epsilon", 1e-3)
    if not isinstance(epsilon, (int, float)) or not 0 < epsilon < 10 ** -0.5:
        return f"LayerNormalization epsilon {epsilon}: hls4ml 1.3 takes 10^-k with k >= 1; use epsilon=1e-3"
    return None


def _axes(value) -> tuple[int, ...]:
    """An axis or size setting as Keras holds it (an int, a list, Keras's ListWrapper) as a tuple; ()
    for anything else (a hostile model file's: read as no setting, never a crash)."""
    values = value if isinstance(value, (list, tuple)) or type(value).__name__ == "ListWrapper" else [value]
    try:
        return tuple(int(v) for v in values)
    except (TypeError, ValueError, OverflowError):
        return ()


def _softmax_rows(shape) -> int:
    """How many softmaxes Keras computes over a tensor of ``shape`` (its last axis each): 1 for a vector."""
    sizes = _axes(tuple(shape)[:-1]) if shape else ()
    return int(np.prod(sizes)) if shape and len(sizes) == len(shape) - 1 else 1


def _scaled_weight_quantizer(config: dict) -> Optional[str]:
    """The first weight quantizer of a layer config that scales its values (a quantized_bits alpha
    other than None or 1: 'auto', 'auto_po2' or a number), as 'kernel_quantizer alpha=...'; None if none."""
    from hcp_fpga.estimator.graph import quantizer_config

    for key in ("kernel_quantizer", "bias_quantizer"):
        parsed = quantizer_config(config.get(key)) if config.get(key) else None
        alpha = parsed[1].get("alpha") if parsed else None
        if alpha not in (None, 1, 1.0, "1", "None"):
            return f"{key} alpha={alpha!r}"
    return None


def _relu_mismatch(config: dict) -> Optional[str]:
    """hls4ml 1.3 reads a Keras ReLU layer as a plain relu: its max_value, negative_slope and threshold
    are dropped (checked by C simulation: ReLU(max_value=6) gave outputs up to 30.5)."""
    try:
        max_value = None if config.get("max_value") is None else float(config["max_value"])
        slope, threshold = float(config.get("negative_slope") or 0.0), float(config.get("threshold") or 0.0)
    except (TypeError, ValueError):
        return "ReLU with options that are not numbers: hls4ml 1.3 builds a plain relu; use ReLU()"
    dropped = ([f"max_value={max_value:g}"] if max_value is not None else []) + \
        ([f"negative_slope={slope:g}"] if slope else []) + ([f"threshold={threshold:g}"] if threshold else [])
    if not dropped:
        return None
    if dropped == ["max_value=6"]:
        fix = "use Activation('relu6') (io_parallel)"
    elif len(dropped) == 1 and slope:
        fix = f"use LeakyReLU(alpha={slope:g})"
    elif len(dropped) == 1 and threshold:
        fix = f"use ThresholdedReLU(theta={threshold:g})"
    else:
        fix = "use a plain ReLU (or a QKeras quantized_relu, which saturates at its range) and retrain"
    return f"ReLU({', '.join(dropped)}): hls4ml 1.3 builds a plain relu without it; {fix}"


def unbuilt_layer_activation(cls: str, config: dict, io_type: str) -> Optional[str]:
    """Why hls4ml 1.3 writes no code for a Keras layer's activation (``unbuilt_activation``: its
    ``activation``, a recurrent layer's ``recurrent_activation`` too, a Bidirectional's wrapped
    layer's), with the fix; None where it does. A TimeDistributed's activation is dropped instead
    (``keras_mismatch``)."""
    from hcp_fpga.estimator.graph import base_class

    if cls == "TimeDistributed":
        return None
    if cls == "Bidirectional" and isinstance(config.get("layer"), dict):
        cls, config = config["layer"].get("class_name"), config["layer"].get("config")
        if not isinstance(cls, str) or not isinstance(config, dict):
            return None
    if base_class(cls) in RNN_GATES:
        if isinstance(config.get("activation"), dict):  # a QKeras quantizer (checked: relu, real tanh)
            return ("a QKeras quantizer as a recurrent layer's activation: hls4ml 1.3 gives the layer its type and "
                    "the cell's C++ does not compile; use activation='tanh' and a QActivation after the layer")
        return next((why for key in ("activation", "recurrent_activation")
                     if (why := unbuilt_activation(config.get(key), io_type, recurrent=True))), None)
    return unbuilt_activation(config.get("activation"), io_type)


# hls4ml 1.3's LayerNormalization defaults (vivado_backend attributes): the 1/sqrt table's size, and
# the statistics' type (ap_fixed<14,4,AP_RND_CONV,AP_SAT>), which its config_from_keras_model writes
# per layer with a backend (the export does); a config without it leaves the model default
# (apply_project_precisions)
LAYERNORM_TABLE_SIZE = 4096
LAYERNORM_ACCUM = Fixed(14, 4, True, saturating=True)


def _time_distributed_specs(node, specs: list, current: Fixed, default: Fixed, common: dict, s, weight_types: dict,
                            grid: bool, fixed_results: dict, bias_types: dict, cap: Optional[Fixed]) -> Fixed:
    """A Keras TimeDistributed(Dense) as hls4ml 1.3 writes it: a loop over the time steps around the
    bare Dense (``read_time_step``, the Dense, ``write_time_step``; its activation dropped); priced as a 1x1
    Conv1D over the steps, unrolled or not as ``unroll_position_loops`` decides. Other wrapped layers
    are named as not priced (io_stream: NO_STREAM_CODE).

    hls4ml's ExpandTimeDistributed makes the wrapped Dense a layer of its own, configured by its own
    name, then its class's LayerType entry, then the model (as any layer: 'auto' types inferred, none
    the model default), between the TimeDistributed, which casts each step into its type, and the end
    marker '<name>_end', which casts the Dense's result into its own (checked with hls4ml 1.3: an
    'auto' type on either is the model default, not its input's). Both casts are free specs here,
    as the firmware path, which reads the casts' types only, does not price them either."""
    from hcp_fpga.estimator.graph import wrapped_layer

    inner = wrapped_layer(node)
    reason = None
    if inner is None or inner.base != "Dense":
        reason = f"TimeDistributed({inner.cls if inner is not None else '?'}): not priced"
    elif not node.weights or not node.in_shape or len(node.in_shape) != 2 or not node.out_shape:
        reason = "TimeDistributed: its weights or input shape are not readable"
    if reason:
        specs.append(LayerSpec(f"{node.name} ({reason})", "unmodelled", input=current, result=default, **common))
        return default
    steps, kernel = int(node.in_shape[0]), np.asarray(node.weights[0])
    inner.weights = list(node.weights)
    wtype, rounding = _weight_type(inner, default, weight_types, grid)
    if (wide := too_wide(wtype)) is not None:
        specs.append(LayerSpec(f"{node.name} ({wide})", "unmodelled", input=current, result=default, **common))
        return default
    start, end = fixed_results.get(node.name, default), fixed_results.get(time_distributed_end(node.name), default)
    specs.append(LayerSpec(node.name, "free", input=current, result=start, **common))
    # hls4ml 1.3 configures the wrapped layer by its own name, else the model's reuse factor and strategy
    # (checked with hls4ml 1.3 at RF 2 and 4, all three strategies), not the TimeDistributed's; and
    # ResourceUnrolled at reuse factor 1 is Resource to its init_dense
    rf, strategy = s.reuse_of(inner.name), s.strategy_of(inner.name)
    strategy = "Resource" if strategy == "ResourceUnrolled" and rf == 1 else strategy
    inner_common = {**common, "reuse_factor": rf, "strategy": strategy}
    n_in, n_out = kernel.shape[0], kernel.shape[-1]
    mant, wtype = _quantized_mantissas(_kernel_quantizer(inner), wtype, kernel.reshape(n_in, n_out), rounding)
    exponent = _po2_bits(_kernel_quantizer(inner))
    btype, acc = _inferred_accumulator(inner, wtype, start, n_in, default, bias_types, grid, cap)
    # the loop holds the bare Dense: what it does not compute is said (keras_mismatch, after the node)
    specs.append(LayerSpec(inner.name, "conv1d", n_in, n_out, steps, mantissas=mant, weight=wtype, input=start,
                           result=fixed_results.get(inner.name, acc), accum=acc, has_bias=True, bias=btype, in_pix=steps,
                           in_channels=n_in, position_loop=True, weight_exponent_bits=exponent, **inner_common))
    specs.append(LayerSpec(time_distributed_end(node.name), "free", input=specs[-1].result, result=end, **common))
    return end


def _inferred_accumulator(node, wtype: Fixed, current: Fixed, n_in: int, default: Fixed, bias_types: dict, grid: bool,
                          cap: Optional[Fixed]) -> tuple[Fixed, Fixed]:
    """(bias type, accumulator) of a Dense/Conv ``node`` as hls4ml 1.3 infers them. It gives every
    Dense/Conv a bias array (zeros without use_bias) and, unless its infer_no_bias option is set (off
    by default), widens the accumulator for it; with power-of-two weights or bias it infers no type
    (InferPrecisionTypes takes fixed and integer types only): accumulator in the model default."""
    btype = _bias_type(node, default, bias_types, wtype, grid)
    if _po2_bits(_kernel_quantizer(node)) or _po2_bits(node.config.get("bias_quantizer")):
        return btype, default
    return btype, capped(_accumulator(wtype, current, n_in, True, btype), cap)


def time_distributed_end(name: str) -> str:
    """The name of the end marker hls4ml 1.3's ExpandTimeDistributed adds after TimeDistributed ``name``'s
    wrapped layer (it writes the loop's output array, in its own type)."""
    return f"{name}_end"


def _half_settings(s, half: str, common: dict) -> dict:
    """``common`` (a separable conv's settings) with the reuse factor and strategy its depthwise or
    pointwise half ``half`` is given by name (a project's config: ``with_separable_parts``)."""
    return {**common, "reuse_factor": s.layer_reuse.get(half, common["reuse_factor"]),
            "strategy": s.layer_strategy.get(half, common["strategy"])}


def _linear_kept(parent, own: Optional[Fixed], current: Fixed, fixed: set, default: Fixed,
                 parent_set: Optional[bool] = None, auto: frozenset = frozenset()) -> bool:
    """Whether hls4ml 1.3 keeps a linear activation (Keras ``Activation('linear')``, a QKeras
    ``quantized_bits`` activation) as a cast layer of its own. ``EliminateLinearActivation`` drops it
    when it casts nothing (its type, ``own``, None for 'auto', equals its input's); then
    ``MergeLinearActivation`` drops it after a Dense, Conv, BatchNormalization or activation whose
    type the config leaves 'auto' (it has no quantizer attribute for a QKeras activation, so the
    cast goes with it: checked with hls4ml 1.3, a Dense -> quantized_bits(6,2) -> Dense keeps the
    first Dense's full-width result). An input layer's or a QKeras activation's type is always set,
    as is that of the activation hls4ml splits off a layer whose activation is a QKeras quantizer.
    ``parent_set``: whether the layer right before it has a set type, where that is not ``parent``
    itself but the cast split off it."""
    specified = parent_set if parent_set is not None else (
        parent is None or parent.cls == "InputLayer" or _type_set(parent, fixed, auto))
    if own is None:  # 'auto': equal to an 'auto' input; after a set type it is the model default, kept where
        return specified and default != current  # that differs from the set type (hls4ml's _infer_default_type)
    if parent is not None and merges_linear_after(parent.cls) and not specified:
        return False
    return own != current


def _split_linear_at_merge(parent, fixed: set, auto: frozenset = frozenset()) -> bool:
    """Whether the linear activation hls4ml 1.3 splits off ``parent`` (a Dense or Conv without an
    activation: '<parent>_linear') is still in its graph, with its type 'auto', when
    ``MergeLinearActivation`` looks at the layer after it; that layer then merges into it (its cast
    lost) though the parent's type is set. ``EliminateLinearActivation`` runs first and drops the split
    cast only where its type equals the parent's before inference (two unset types compare equal
    there), so a set parent type and an 'auto' split cast leave it. (With the parent's type 'auto' the
    split cast merges into the parent, in graph order before the layer after it, which then sees the
    parent; a set split cast after a set parent type is either dropped or kept as a cast in the built
    design, the caller's other case.)"""
    if parent.base not in MULT_BASES or quantizer_name(parent.config.get("activation")) != "linear":
        return False
    return _type_set(parent, fixed, auto) and f"{parent.name}_linear" not in fixed


def _type_set(node, fixed: set, auto: frozenset = frozenset()) -> bool:
    """Whether hls4ml's config sets the result type of (the last hls4ml layer of) ``node``: the
    config names it, or a QKeras quantizer gives it (a QKeras activation, the activation hls4ml
    splits off a layer whose activation is a quantizer), unless the config leaves that 'auto'
    (``auto``: ``auto_activations``)."""
    act = node.config.get("activation") if node.base in MULT_BASES else None
    name = quantizer_name(act)
    if act is not None and (name not in NO_ACTIVATION or _is_quantizer(act)):
        # a fused activation is hls4ml's last layer of the node: '<node>_<activation>', set or not itself
        split = f"{node.name}_{name}"
        return split in fixed or (_is_quantizer(act) and split not in auto)
    return (node.cls == "QActivation" and node.name not in auto) or node.name in fixed


def merges_linear_after(cls: str) -> bool:
    """Whether hls4ml 1.3's ``MergeLinearActivation`` drops a linear activation after a layer of Keras
    class ``cls`` whose type is 'auto': its safe parents are Dense, Conv1D/2D, BatchNormalization and
    Activation, with their subclasses (the QKeras layers, depthwise convolutions, Softmax, the
    advanced activations), and a separable convolution is split into two convolutions before it runs."""
    from hcp_fpga.estimator.graph import base_class

    base = base_class(cls)
    return base in MULT_BASES or base in ACTIVATION_KINDS or base == "BatchNormalization"


# QKeras's folded Dense/Conv + BatchNormalization layers are one multiplier layer to hls4ml
MULT_BASES = {"Dense": "dense", "DenseBatchnorm": "dense", "Conv1D": "conv1d", "Conv2D": "conv2d", "Conv2DBatchnorm": "conv2d", "SeparableConv1D": "conv1d",
              "SeparableConv2D": "conv2d", "DepthwiseConv1D": "conv1d", "DepthwiseConv2D": "conv2d"}
MULT_KINDS = frozenset(MULT_BASES.values())  # the multiplier layers' spec kinds


def _hgq_result(node, default: Fixed) -> Fixed:
    """Result type of an HGQ FixedPointQuantizer: its own override string, else the narrowest type
    holding each live element's ap_[u]fixed<bits, integers> (keep_negative: signed), as hls4ml
    casts them."""
    layers = (node.config.get("overrides") or {}).get("layers")
    entry = layers.get(node.name) if isinstance(layers, dict) else None
    override = entry.get("result_t") if isinstance(entry, dict) else None
    if isinstance(override, str):
        try:
            return parse_fixed(override)
        except ValueError:
            pass
    if len(node.weights) >= 3:
        k, b, i = (np.asarray(w, dtype=np.int64).ravel() for w in node.weights[:3])
        live = b > 0
        if live.any():
            signed = bool(k[live].max())
            # an unsigned element in a signed type needs one more integer bit, for the sign
            integer = int((i + (signed & (k == 0)))[live].max())
            width = integer + int((b - i)[live].max())
            if 1 <= width <= 1024:
                return Fixed(width, integer, signed)
    return default


def _apply_hgq_accumulators(node, specs: list) -> None:
    """The accumulator types an HGQ FixedPointQuantizer's ``overrides`` give the multiplier layers it
    names, as hls4ml 1.0 sets them (``EnforceProxyModelEmbeddedConfig``; a user's config setting
    wins). hls4ml 1.3 skips the ``_t`` keys there and lets its bit-exact flow derive the types; the
    override, HGQ's own range of the sum, stands in for that. Lrozzy's report (hls4ml 1.0): 17-24-bit
    adders where the override says <24,14> and the model default is 16 bits wide."""
    layers = (node.config.get("overrides") or {}).get("layers")
    if not isinstance(layers, dict):
        return
    for i, spec in enumerate(specs):
        entry = layers.get(spec.name)
        text = entry.get("accum_t") if isinstance(entry, dict) else None
        if spec.kind in MULT_KINDS and isinstance(text, str):
            try:
                specs[i] = replace(spec, accum=parse_fixed(text), model_accum=True)
            except ValueError:
                pass  # not a type hls4ml could parse either: the layer keeps its inferred one


def _rnn_specs(node, specs: list, current: Fixed, default: Fixed, common: dict, s, result: Fixed,
               weight_types: dict) -> Fixed:
    """A Keras GRU/LSTM/SimpleRNN node as hls4ml computes it (``recurrent_cell``), its output in
    ``result`` (the model default unless the config names a type). Only inputs and wiring before it
    (all 'free'): it reads the top function's packed input port."""
    kernel, recurrent = node.weights[0], node.weights[1]
    steps = int(node.in_shape[0]) if len(node.in_shape) > 1 else 1
    # the kernel's type: the config's weight type, else its quantizer's, else the default; the recurrent
    # kernel's: the config's 'recurrent_weight' (``recurrent_kernel``), else its quantizer's, else the
    # default. hls4ml 1.3's LSTM/GRU take no type from a quantizer (their add_weights passes none): it
    # arrives through the config only, where hls4ml's granularity='name' config (and the export) writes
    # it, and the values are the float ones, truncated into that type
    q, rq = node.config.get("kernel_quantizer"), node.config.get("recurrent_quantizer")
    wtype = weight_types.get(node.name) or (quantizer_fixed(q, default) if q else default)
    rtype = weight_types.get(recurrent_kernel(node.name)) or (quantizer_fixed(rq, default) if rq else default)
    # hls4ml 1.3 gives a recurrent layer's accumulator the model precision (it infers no 'auto' type for
    # it); the cell's states are in its result type
    specs.extend(recurrent_cell(node.name, np.asarray(kernel).reshape(-1, kernel.shape[-1]),
                                np.asarray(recurrent).reshape(-1, recurrent.shape[-1]), steps, wtype, current, result, common,
                                accum=default, packed_input=all(sp.kind == "free" for sp in specs), recurrent_wtype=rtype))
    return result


def _bidirectional_specs(node, specs: list, current: Fixed, default: Fixed, common: dict, s, result: Fixed,
                         weight_types: dict) -> Fixed:
    """A Keras Bidirectional GRU/LSTM as hls4ml 1.3 computes it (``bidirectional_stack``): each time
    step runs the forward cell on step t and the backward cell on step T-1-t side by side (neither
    reads the other), so two cells' hardware and one cell's step latency; the two outputs
    concatenated. Named as not priced where hls4ml computes something else (a merge_mode other than
    concat); in io_stream (no hls4ml code) it never gets here (NO_STREAM_CODE). Its output and the
    cells' states are in ``result``, as a GRU/LSTM's; each direction's kernels take the types a config
    names for them ('forward_weight', 'backward_recurrent_weight', ...: ``kernel_types``)."""
    from hcp_fpga.estimator.graph import wrapped_layer

    forward = wrapped_layer(node)
    backward = wrapped_layer(node, "backward_layer") or forward
    reason = None
    if forward is None or forward.base not in ("GRU", "LSTM") or backward.base != forward.base:
        reason = f"Bidirectional {forward.cls if forward is not None else '?'}: not priced"
    elif (mismatch := keras_mismatch("Bidirectional", node.config)) is not None:
        reason = mismatch
    elif (why := unbuilt_layer_activation("Bidirectional", node.config, s.io_type)) is not None:
        reason = why
    elif len(node.weights) < 4 or len(node.weights) % 2 or not node.in_shape or len(node.in_shape) != 2:
        reason = "Bidirectional: its weights or input shape are not readable"
    if reason:
        specs.append(LayerSpec(f"{node.name} ({reason})", "unmodelled", input=current, result=default, **common))
        return default
    steps, half = int(node.in_shape[0]), len(node.weights) // 2
    packed = all(sp.kind == "free" for sp in specs)
    for direction, cell, weights in (("forward", forward, node.weights[:half]), ("backward", backward, node.weights[half:])):
        q, cell_name = cell.config.get("kernel_quantizer"), bidirectional_cell(node.name, direction)
        wtype = quantizer_fixed(q, default) if q else weight_types.get(cell_name, default)
        kernel, recurrent = np.asarray(weights[0]), np.asarray(weights[1])
        specs.extend(recurrent_cell(cell_name, kernel.reshape(-1, kernel.shape[-1]),
                                    recurrent.reshape(-1, recurrent.shape[-1]), steps, wtype, current, result, common,
                                    accum=default, packed_input=packed,
                                    recurrent_wtype=weight_types.get(recurrent_kernel(cell_name), None if q else default))[:-1])
    # (one step counter for both)
    specs.append(LayerSpec(node.name, "move", input=result, result=result, steps=max(steps, 1), **common))
    return result


# hls4ml 1.3's lstm_stack calls the non-static cell nnet::lstm beside lstm_static whatever 'Static'
# says (a run-time if), so both are compiled; lstm() passes its state (result type) where it takes its
# input type, and its products' sums (accumulator type) where it takes its result type: an LSTM's C++
# compiles only when its input, result and accumulator types are one C++ type (checked with g++: a
# Conv1D -> LSTM export, the conv's result inferred 37 bits wide, fails to build; a GRU compiles)
LSTM_TYPE_CLASH = ("hls4ml 1.3 compiles an LSTM only when its input, result and accumulator types are the same "
                   "C++ type (nnet_recurrent.h builds its non-static cell too)")


def lstm_type_clashes(specs: list[LayerSpec], lstm_names) -> dict[str, tuple[Fixed, Fixed, Fixed]]:
    """{LSTM layer: (input, result, accumulator type)} of the LSTMs among ``lstm_names`` whose C++
    hls4ml 1.3 cannot compile (``LSTM_TYPE_CLASH``), read off their specs (``recurrent_cell``)."""
    by_name = {sp.name: sp for sp in specs}
    out = {}
    for name in lstm_names:
        kernel, own = by_name.get(f"{name}_kernel"), by_name.get(name)
        if kernel is None or own is None or kernel.input is None or own.result is None or kernel.accum is None:
            continue
        types = (kernel.input, own.result, kernel.accum)
        if len({cpp_type(t) for t in types}) > 1:
            out[name] = types
    return out


def cpp_type(t: Fixed) -> str:
    """``t`` as the C++ type it is: with its quantization and overflow modes where they are not
    ap_fixed's defaults (types apart by their modes alone are different C++ types)."""
    return t.spelling(*((t.quant, t.overflow) if (t.quant, t.overflow) != ("TRN", "WRAP") else ()))


def bidirectional_cell(layer: str, direction: str) -> str:
    """The name of a Bidirectional ``layer``'s forward or backward cell (its specs' prefix, and its
    kernel's ``weight_types`` key)."""
    return f"{layer}_{direction}"


# per unit of a recurrent cell: (sigmoid lookups, tanh lookups, variable x variable products) in
# hls4ml's nnet_recurrent.h. GRU: z and r through the sigmoid, the candidate through tanh, then
# r * (recurrent part), z * h and (1 - z) * candidate. LSTM: i, f, o through the sigmoid, the
# candidate and the new state through tanh, then f * c, i * candidate and o * tanh(c).
CELL_OPS = {3: (2, 1, 3), 4: (3, 2, 3), 1: (0, 1, 0)}
# GRU: the one product per unit whose operand is ``1 - z``: C++ promotes the int 1, and the value
# range 1 - [-2^(I-1), 2^(I-1)) needs one integer bit more than z, so the tool multiplies a (W+1)-bit
# operand (ftag_gru, 4-bit types, Vivado HLS 2019.2: 120 DSPs for 120 units; the 4 x 4-bit products
# beside it stay in LUTs)
WIDENED_PRODUCTS = {3: 1}


def recurrent_cell(name: str, kernel: np.ndarray, recurrent: np.ndarray, steps: int, wtype: Fixed, current: Fixed,
                   default: Fixed, common: dict, accum: Optional[Fixed] = None, packed_input: bool = True,
                   recurrent_wtype: Optional[Fixed] = None) -> list[LayerSpec]:
    """Specs of one recurrent layer (``kernel`` n_in x gates*units, ``recurrent`` units x gates*units):
    per time step the input and recurrent matrix-vector products, the gate tables and the elementwise
    products of the cell, priced as one cell the ``steps`` time steps take turns on, one step after
    the other (each needs the state the one before wrote). The parts are ``internal``: hls4ml builds
    them as one function, with no FIFO or register array between them; a wiring spec named after the
    layer carries its output and the step count (``recurrence_latency`` in model.py times them).
    ``accum``: the accumulator type where known (else hls4ml 1.3's inferred one). ``packed_input``:
    the cell reads the top function's input port, one packed word in io_parallel (a first layer),
    rather than another layer's partitioned output array. ``recurrent_wtype``: the recurrent kernel's
    type where it differs from ``wtype``."""
    if (wide := too_wide(wtype)) is not None:
        return [LayerSpec(f"{name} ({wide})", "unmodelled", input=current, result=default, **common)]
    units = recurrent.shape[0]
    gates = recurrent.shape[1] // max(units, 1)
    n_sigmoid, n_tanh, n_products = CELL_OPS.get(gates, (gates, 0, 0))
    out = []
    for part, k, t in (("kernel", kernel, wtype), ("recurrent", recurrent, recurrent_wtype or wtype)):
        mant = t.mantissas(as_written(k, t))
        acc = accum or _accumulator(t, current, mant.shape[0])
        out.append(LayerSpec(f"{name}_{part}", "conv1d", mant.shape[0], mant.shape[1], 1, mantissas=mant, weight=t,
                             input=current, result=acc, accum=acc, in_pix=1, in_channels=mant.shape[0], internal=True,
                             **{**common, "out_size": mant.shape[1], "channels": mant.shape[1]}))
    cell = {**common, "strategy": "Latency", "reuse_factor": 1}
    lookups = (n_sigmoid + n_tanh) * units
    out.append(LayerSpec(f"{name}_gates", "table", input=default, result=default, table_size=HLS4ML_TABLE_SIZE, internal=True,
                         **{**cell, "out_size": lookups, "channels": lookups}))
    widened = WIDENED_PRODUCTS.get(gates, 0)
    if n_products - widened:
        n = (n_products - widened) * units
        out.append(LayerSpec(f"{name}_products", "merge_mul", n_in=2, input=default, result=default, internal=True,
                             **{**cell, "out_size": n, "channels": n}))
    if widened:
        one_minus = Fixed(default.width + 1, default.integer + 1)
        out.append(LayerSpec(f"{name}_mix", "merge_mul", n_in=2, input=default, result=default, weight=one_minus,
                             internal=True, **{**cell, "out_size": widened * units, "channels": widened * units}))
    if steps > 1 and common.get("io_type") == "io_parallel":  # each step's inputs picked from the whole sequence:
        # shifts of the packed input word (the top port), or a steps:1 multiplexer per input element
        out.append(LayerSpec(f"{name}_select", "step_select" if packed_input else "step_mux", n_in=kernel.shape[0],
                             input=current, result=current, internal=True,
                             **{**cell, "out_size": steps * kernel.shape[0], "channels": kernel.shape[0]}))
    out.append(LayerSpec(name, "move", input=default, result=default, steps=max(int(steps), 1), **common))
    return out


def layer_specs(model, settings, kernels: Optional[dict] = None) -> list[LayerSpec]:
    """Per-layer specs of a live Keras model (the same rules as for a model file: ``node_specs``),
    with the weight and accumulator types ``settings.layer_types`` names (a user's hls4ml config)."""
    from dataclasses import replace

    from hcp_fpga.estimator.graph import nodes_from_keras, wrapped_layer

    nodes = nodes_from_keras(model)
    types = dict(getattr(settings, "layer_types", {}) or {})
    results = dict(getattr(settings, "layer_precision", {}) or {})
    for node in nodes:  # a separable conv's halves, as the export writes them for hls4ml
        if node.base.startswith("Separable"):
            precision = {**EXPORTED_SEPARABLE_PRECISION, **separable_types(types.get(node.name, {})),
                         **({"result": results[node.name]} if node.name in results else {})}
            for part, part_types in separable_part_precisions(precision).items():
                part_types = {k: v for k, v in part_types.items() if v != "auto"}
                types[f"{node.name}_{part}"] = part_types
                if "result" in part_types:
                    results[f"{node.name}_{part}"] = part_types["result"]
        elif node.base == "TimeDistributed" and (inner := wrapped_layer(node)) is not None:
            # the export (hls4ml's config_from_keras_model) writes no entry for the wrapped layer, which
            # hls4ml 1.3 builds as a layer of its own: result and accumulator in the model default
            results.setdefault(inner.name, settings.precision)
            types[inner.name] = {"accum": settings.precision, **types.get(inner.name, {})}
    weights = {name: parse_fixed(t["weight"]) for name, t in types.items() if "weight" in t}
    weights.update({recurrent_kernel(name): parse_fixed(t["recurrent_weight"]) for name, t in types.items()
                    if "recurrent_weight" in t})
    for direction in ("forward", "backward"):  # a Bidirectional's kernels, per direction (``kernel_types``)
        weights.update({bidirectional_cell(name, direction): parse_fixed(t[f"{direction}_weight"])
                        for name, t in types.items() if f"{direction}_weight" in t})
        weights.update({recurrent_kernel(bidirectional_cell(name, direction)): parse_fixed(t[f"{direction}_recurrent_weight"])
                        for name, t in types.items() if f"{direction}_recurrent_weight" in t})
    biases = {name: parse_fixed(t["bias"]) for name, t in types.items() if "bias" in t}
    scales = {name: parse_fixed(t["scale"]) for name, t in types.items() if "scale" in t}
    specs = node_specs(nodes, settings, kernels, weights, _parsed_results(results), biases, scale_types=scales)
    accums = {name: parse_fixed(t["accum"]) for name, t in types.items() if "accum" in t}
    specs = [_with_accum(sp, accums[_accum_owner(sp, accums)]) if _accum_owner(sp, accums) in accums
             and (sp.mantissas is not None or _sums_in_accum(sp)) else sp for sp in specs]
    sizes = getattr(settings, "layer_table_size", {}) or {}
    specs = [replace(sp, table_size=sizes[sp.name]) if sp.name in sizes and sp.kind in ("softmax", "table") else sp
             for sp in specs]
    return with_layer_options(specs, getattr(settings, "layer_options", {}) or {})


def _accum_owner(spec: LayerSpec, named=()) -> str:
    """The layer whose accumulator type ``spec`` uses: its own, or for a recurrent cell's kernel and
    recurrent products (``recurrent_cell``) the recurrent layer's (hls4ml's one accum_t for both), a
    Bidirectional's for its cells (``bidirectional_cell``): the cell's name where ``named`` (the layers
    a config or the settings name) holds it, else the Bidirectional's, where it holds that."""
    if spec.internal and spec.name.endswith(("_kernel", "_recurrent")):
        owner = spec.name.rsplit("_", 1)[0]
        layer, _, direction = owner.rpartition("_")
        if owner not in named and direction in ("forward", "backward") and layer in named:
            return layer
        return owner
    return spec.name


def _sums_in_accum(spec: LayerSpec) -> bool:
    """A layer without weights whose sums run in its accumulator type: a Dot's (``dot_specs``), a
    LayerNormalization's statistics."""
    return (spec.kind == "merge" and spec.accum is not None) or spec.kind == "layernorm"


def _with_accum(spec: LayerSpec, accum: Fixed) -> LayerSpec:
    """``spec`` with the accumulator type a config names (a recurrent cell's products hold their sums
    in it too: ``recurrent_cell``)."""
    return replace(spec, accum=accum, result=accum) if spec.internal else replace(spec, accum=accum)


def with_layer_options(specs: list[LayerSpec], options: dict) -> list[LayerSpec]:
    """``specs`` with the hls4ml layer options a config names per layer (``Implementation`` and
    ``Skip`` of a softmax, ``ParallelizationFactor`` of an io_parallel conv), as hls4ml builds them;
    the one rule for a user's config on the model path and a project's config on the file path."""
    out = []
    for spec in specs:
        entry = options.get(spec.name)
        if spec.kind == "softmax" and skips_softmax(entry) and not any(spec.name in (o.after or ()) for o in specs):
            continue  # hls4ml's SkipSoftmax removes it (the last layer: its input is the output)
        if spec.kind == "softmax" and (impl := softmax_implementation(entry)) is not None:
            spec = with_softmax_implementation(spec, impl)
        if spec.kind in ("conv1d", "conv2d") and spec.io_type == "io_parallel":  # io_stream ignores it, as hls4ml does
            for name in (spec.name, re.sub(r"_(depthwise|pointwise)$", "", spec.name)):  # a separable conv's or its part's
                pf = (options.get(name) or {}).get("ParallelizationFactor") if isinstance(options.get(name), dict) else None
                if isinstance(pf, int) and not isinstance(pf, bool) and pf > 1:
                    spec = replace(spec, parallelization=pf)
                    break
        out.append(spec)
    return out


# ----------------------------------------------------------------------------- project folders


def read_hls4ml_config(project_dir) -> dict:
    from pathlib import Path

    from hcp_fpga.errors import ConfigError, Hls4mlYamlLoader, read_yaml_mapping

    path = Path(project_dir) / "hls4ml_config.yml"
    config = read_yaml_mapping(path, f"'{path}'", "fix or re-export the project", ConfigError, loader=Hls4mlYamlLoader)
    return check_project_config(config, f"'{path}'")


# the keys of a project's hls4ml_config.yml the estimate reads (anything else hls4ml writes is ignored)
_WHOLE_NUMBER_KEYS = ("ReuseFactor", "TableSize", "table_size", "ParallelizationFactor")
_OLD_TYPE_KEYS = ("exp_table_t", "inv_table_t", "table_t")  # hls4ml < 1.0 wrote a softmax's table types here
_DEVICE_NAME = re.compile(DEVICE_NAME_PATTERN)


def check_project_config(config: dict, where: str) -> dict:
    """``config`` (a project's hls4ml_config.yml), every value the estimate reads checked for the type
    hls4ml writes there: whole numbers >= 1 for reuse/table/parallelization factors, type strings
    that parse (or 'auto'), text for strategies and parts, mappings where hls4ml nests settings.
    One ConfigError naming the key, its value and the fix; a null section reads as empty."""
    from hcp_fpga.errors import ConfigError, shown

    def refuse(key: str, value, what: str):
        raise ConfigError(f"{where}: {key} {shown(value)} is not {what}; fix the config or re-export the project")

    def mapping(value, key: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            refuse(key, value, "a mapping of settings")
        return value

    def hls_type(value, key: str) -> None:
        what = "an HLS type hls4ml writes (e.g. ap_fixed<16,6> or auto)"
        if not isinstance(value, str):
            refuse(key, value, what)
        if value != "auto":
            try:
                parse_fixed(value.replace(" ", ""))
            except ValueError:
                refuse(key, value, what)

    def settings(entry: dict, key: str) -> None:
        for name in _WHOLE_NUMBER_KEYS:
            value = entry.get(name)
            if name in entry and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                refuse(f"{key}.{name}", value, "a whole number >= 1")
        if "Strategy" in entry and not isinstance(entry["Strategy"], str):
            refuse(f"{key}.Strategy", entry["Strategy"], "a strategy name (Latency, Resource, ...)")
        prec = entry.get("Precision")
        if isinstance(prec, dict):
            for sub, value in prec.items():
                hls_type(value, f"{key}.Precision.{sub}")
        elif "Precision" in entry:
            hls_type(prec, f"{key}.Precision")
        for name in _OLD_TYPE_KEYS:
            if name in entry:
                hls_type(entry[name], f"{key}.{name}")

    for key in ("Part", "XilinxPart", "IOType", "Board"):
        if config.get(key) is not None and not isinstance(config[key], str):
            refuse(key, config[key], "text (as hls4ml writes it)")
    for key in ("Part", "XilinxPart"):  # a device name: letters, digits and - _ . (any vendor's), nothing else
        if isinstance(config.get(key), str) and not (_DEVICE_NAME.match(config[key]) and len(config[key]) <= 80):
            refuse(key, config[key], "a device name (letters, digits, '-', '_', '.': xcu250-figd2104-2L-e)")
    clock = config.get("ClockPeriod")
    if "ClockPeriod" in config and (isinstance(clock, bool) or not isinstance(clock, (int, float)) or not 0 < clock < float("inf")):
        refuse("ClockPeriod", clock, "a positive number of ns")
    hls = mapping(config.get("HLSConfig"), "HLSConfig")
    model = mapping(hls.get("Model"), "HLSConfig.Model")
    settings(model, "HLSConfig.Model")
    for section in ("LayerName", "LayerType"):
        for name, entry in mapping(hls.get(section), f"HLSConfig.{section}").items():
            settings(mapping(entry, f"HLSConfig.{section}.{name}"), f"HLSConfig.{section}.{name}")
    # the readers take a missing and a null section alike
    return {**config, "HLSConfig": {**hls, "Model": model, "LayerName": hls.get("LayerName") or {}}}


# hls4ml backends whose firmware this cost model prices, by the HLS backend its C++ is written for
# (the accelerator backends wrap the same network core); Intel (Quartus, oneAPI) and Catapult are not
XILINX_BACKENDS = {"vivado": "Vivado", "vivadoaccelerator": "Vivado", "vitis": "Vitis", "vitisaccelerator": "Vitis"}


def project_backend(config: dict) -> str:
    """The HLS backend (Vivado or Vitis) of an hls4ml config's ``Backend`` (hls4ml's default, Vivado,
    when absent); a ConfigError for a backend this estimator does not price."""
    from hcp_fpga.errors import ConfigError

    raw = config.get("Backend")
    if raw is None or raw == "":
        return "Vivado"
    if not isinstance(raw, str) or raw.lower() not in XILINX_BACKENDS:
        raise ConfigError(f"hls4ml_config.yml: Backend {raw!r} is not one this estimator prices (Vivado, Vitis and their "
                          "accelerator wrappers: Xilinx HLS); pass --backend Vivado or Vitis to price the same network as a "
                          "Xilinx design")
    return XILINX_BACKENDS[raw.lower()]


def settings_from_config(config: dict, layer_names: Optional[list[str]], clock_ns: Optional[float] = None):
    """``HlsSettings`` equivalent of an hls4ml config (model-wide values, per-layer RF/strategy for
    ``layer_names``, every named layer when None); ``clock_ns`` overrides the config's clock."""
    from hcp_fpga.design import HlsSettings

    hls = config.get("HLSConfig", {})
    model = hls.get("Model", {})
    layers = hls.get("LayerName", {}) or {}
    strategy = _strategy(model.get("Strategy", "Latency")) or "Latency"
    precision = model.get("Precision", "ap_fixed<16,6>")
    maximum = precision.get("maximum") if isinstance(precision, dict) else None
    if isinstance(precision, dict):
        precision = precision.get("default", "ap_fixed<16,6>")
    precision = str(precision).replace(" ", "")
    if not precision.startswith("ap_"):
        precision = "ap_" + precision
    names = set(layers) if layer_names is None else set(layer_names)
    reuse = {n: int(c["ReuseFactor"]) for n, c in layers.items() if isinstance(c, dict) and "ReuseFactor" in c and n in names}
    strategies = {n: _strategy(c["Strategy"]) for n, c in layers.items()
                  if isinstance(c, dict) and _strategy(c.get("Strategy")) and n in names}
    return HlsSettings(
        backend=project_backend(config),
        strategy=strategy, reuse_factor=int(model.get("ReuseFactor", 1)), io_type=config.get("IOType", "io_parallel"),
        precision=precision, clock_ns=float(clock_ns or config.get("ClockPeriod", 5)), layer_reuse=reuse, layer_strategy=strategies,
        softmax_table_size=None, max_precision=str(maximum) if _fixed_or_none(maximum) is not None else None,
    )


# what hls4ml's config reader makes of a Strategy (``convert_to_snake_case``) and what its backend
# builds for it (vivado_backend ``init_dense``/``init_conv*``: 'resource', 'resource_unrolled' and
# 'distributed_arithmetic'/'da' by name; any other value, e.g. 'Stable', is its Latency kernel)
DISTRIBUTED_ARITHMETIC = "DistributedArithmetic"
_HLS4ML_STRATEGIES = {"latency": "Latency", "resource": "Resource", "resource_unrolled": "ResourceUnrolled",
                      "distributed_arithmetic": DISTRIBUTED_ARITHMETIC, "da": DISTRIBUTED_ARITHMETIC}


# the strategy a generated layer config holds (``static const unsigned strategy = nnet::...``)
FIRMWARE_STRATEGIES = {"nnet::latency": "Latency", "nnet::resource": "Resource",
                       "nnet::resource_unrolled": "ResourceUnrolled", "nnet::distributed_arithmetic": DISTRIBUTED_ARITHMETIC}
# how an estimate names a distributed-arithmetic layer (priced zero: a lower bound)
DA_NOT_PRICED = "distributed arithmetic: hls4ml's da4ml adder graph is not priced"


def not_priced(spec: LayerSpec, reason: str) -> LayerSpec:
    """The layer named, with why, as one this estimator does not price (counted 0: a lower bound)."""
    from dataclasses import replace

    return replace(spec, name=f"{spec.name} ({reason})", kind="unmodelled")


def _snake(value: str) -> str:
    """hls4ml's ``convert_to_snake_case``: 'ResourceUnrolled' -> 'resource_unrolled'."""
    return re.sub(r"_{2,}", "_", re.sub(r"(?<!^)(?=[A-Z])", "_", value).lower())


def hls4ml_strategy(value) -> Optional[str]:
    """The kernel hls4ml builds for a config's ``Strategy`` value: Latency, Resource, ResourceUnrolled
    or DistributedArithmetic (da4ml's adder graphs, which this estimator does not price); None for
    no setting. hls4ml (every release) builds the Latency kernel for a name it does not know."""
    if not isinstance(value, str) or not value:
        return None
    return _HLS4ML_STRATEGIES.get(_snake(value), "Latency")


def _strategy(value) -> Optional[str]:
    """``hls4ml_strategy`` as an ``HlsSettings`` strategy: the distributed-arithmetic layers are
    priced apart (``distributed_arithmetic_layers``: named, not priced)."""
    strategy = hls4ml_strategy(value)
    return "Latency" if strategy == DISTRIBUTED_ARITHMETIC else strategy


def unknown_strategies(config: dict) -> list[str]:
    """Notes on the config's Strategy values hls4ml does not know (it builds Latency for them)."""
    hls = config.get("HLSConfig") or {}
    entries = [("Model", hls.get("Model") or {})]
    for section in ("LayerName", "LayerType"):
        entries += [(f"{section}.{n}", c) for n, c in (hls.get(section) or {}).items() if isinstance(c, dict)]
    return [f"{where}: Strategy {c['Strategy']!r} is not one hls4ml knows (Latency, Resource, ResourceUnrolled, "
            "DistributedArithmetic); hls4ml builds its Latency kernel for it, and the estimate prices that"
            for where, c in entries if isinstance(c.get("Strategy"), str) and _snake(c["Strategy"]) not in _HLS4ML_STRATEGIES]


# hls4ml 1.3's layer class for a Keras class (``model/layers.py`` layer_map, after its Keras reader's
# renames: ReLU -> Activation, Add & co. -> Merge, Flatten -> Reshape): what a config's LayerType keys
# name. Classes not listed keep their Keras name.
_HLS4ML_CLASS = {
    "InputLayer": "Input", "QActivation": "Activation", "ReLU": "Activation", "LeakyReLU": "ParametrizedActivation",
    "ThresholdedReLU": "ParametrizedActivation", "ELU": "ParametrizedActivation", "QDense": "Dense",
    "BinaryDense": "Dense", "TernaryDense": "Dense", "QConv1D": "Conv1D", "QConv2D": "Conv2D", "BinaryConv2D": "Conv2D",
    "QConv2DBatchnorm": "Conv2DBatchnorm",
    "QSeparableConv1D": "SeparableConv1D", "QSeparableConv2D": "SeparableConv2D", "QDepthwiseConv2D": "DepthwiseConv2D",
    "QBatchNormalization": "BatchNormalization", "MaxPooling1D": "Pooling1D", "AveragePooling1D": "Pooling1D",
    "MaxPooling2D": "Pooling2D", "AveragePooling2D": "Pooling2D", "GlobalMaxPooling1D": "GlobalPooling1D",
    "GlobalAveragePooling1D": "GlobalPooling1D", "GlobalMaxPooling2D": "GlobalPooling2D",
    "GlobalAveragePooling2D": "GlobalPooling2D", "Add": "Merge", "Subtract": "Merge", "Multiply": "Merge",
    "Average": "Merge", "Maximum": "Merge", "Minimum": "Merge", "Flatten": "Reshape", "UpSampling1D": "Resize",
    "UpSampling2D": "Resize", "QSimpleRNN": "SimpleRNN", "QLSTM": "LSTM", "QGRU": "GRU",
}
# the settings hls4ml looks up by the lower-cased class (``HLSConfig`` parsing); the others it reads
# with the class name as written (``get_layer_config``)
_ANY_CASE_KEYS = ("Precision", "ReuseFactor", "Strategy")


def hls4ml_layer_classes(node, linear: bool = False) -> list[tuple[str, str]]:
    """(layer name, hls4ml class) of a graph node and of the activation layer hls4ml splits off it
    (with ``linear``, a linear one too: hls4ml builds it, and removes it later)."""
    config = node.config.get("activation") if isinstance(node.config, dict) else None
    act = quantizer_name(config) if isinstance(node.config, dict) else "linear"
    cls = dense_conv_class(node) or _HLS4ML_CLASS.get(node.cls, node.cls)
    if node.cls in ("Activation", "QActivation"):
        cls = _activation_class(config)
    out = [(node.name, cls)]
    if node.base == "TimeDistributed":  # hls4ml makes the wrapped layer and an end marker layers of their own
        from hcp_fpga.estimator.graph import wrapped_layer

        if (inner := wrapped_layer(node)) is not None:
            out += [(inner.name, _HLS4ML_CLASS.get(inner.cls, inner.cls)), (time_distributed_end(node.name), cls)]
    if node.base in MULT_BASES and (act not in NO_ACTIVATION or (linear and act == "linear")):  # as node_specs splits them
        out.append((f"{node.name}_{act}", _activation_class(config)))
    return out


def _activation_class(act) -> str:
    """The hls4ml class of an activation layer, a Keras ``Activation`` or a QKeras one, or of one
    hls4ml splits off a layer (its ``parse_activation_layer``, ``get_activation_quantizer`` and
    layer map; checked with hls4ml 1.3, type-granularity configs): softmax is a Softmax; hard_sigmoid
    and a QKeras hard tanh/sigmoid a HardActivation; elu, leaky_relu and a quantized_relu with a negative
    slope a ParametrizedActivation (the 'ELU' and 'LeakyReLU' keys hls4ml's own config writes for them
    reach no layer); a ternary_tanh a TernaryTanh; any other an Activation."""
    from hcp_fpga.estimator.graph import quantizer_config

    if isinstance(act, str) and "(" not in act and not _is_quantizer(act):  # a Keras activation's name
        return {"softmax": "Softmax", "hard_sigmoid": "HardActivation", "elu": "ParametrizedActivation",
                "leaky_relu": "ParametrizedActivation"}.get(act, "Activation")
    parsed = quantizer_config(act) if _is_quantizer(act) or isinstance(act, dict) else None
    name, cfg = parsed if parsed else ("", {})
    if name in ("quantized_tanh", "quantized_sigmoid") and not cfg.get(f"use_real_{name.split('_')[1]}", False):
        return "HardActivation"
    if name == "quantized_relu" and cfg.get("negative_slope", 0) not in (0, None):
        return "ParametrizedActivation"
    if name in ("ternary_tanh", "ternary"):
        return "TernaryTanh"
    return "Activation"


def with_layer_types(config: dict, nodes) -> dict:
    """The config with its ``LayerType`` settings written into ``LayerName`` for each of ``nodes``'
    layers (and their split-off activations) of that hls4ml class, under what the layer names
    itself: hls4ml's order (name, then type, then model). Every reader of per-layer settings then
    sees them. A LayerType key names hls4ml's class (a QDense is a 'Dense'; the 'QDense' key
    hls4ml's own ``granularity='type'`` config writes is read for no layer, as hls4ml reads it)."""
    hls = config.get("HLSConfig") or {}
    types = {k: v for k, v in (hls.get("LayerType") or {}).items() if isinstance(k, str) and isinstance(v, dict)}
    # Model: Precision as a mapping sets each variable it names for every layer, below the layer's
    # type and name entries (hls4ml's get_precision: name, type, then model); 'default' is the model type
    model_prec = (hls.get("Model") or {}).get("Precision")
    model_vars = {k: v for k, v in model_prec.items() if k not in ("default", "maximum")} if isinstance(model_prec, dict) else {}
    written = hls.get("LayerName") or {}
    names = dict(written)
    for node in nodes:
        for name, _ in hls4ml_layer_classes(node):
            if (entry := _any_case_entry(written, name)) is not None:
                names[name] = entry
    if not types and not model_vars and names == written:
        return config
    for node in nodes:
        for name, cls in hls4ml_layer_classes(node, linear=True):
            entry: dict = {"Precision": dict(model_vars)} if model_vars else {}
            for key, settings in types.items():
                if key == cls:
                    entry = _over(entry, settings)
                elif key.lower() == cls.lower():
                    entry = _over(entry, {k: v for k, v in settings.items() if k in _ANY_CASE_KEYS})
            if entry:
                names[name] = _over(entry, names.get(name) if isinstance(names.get(name), dict) else {})
    return {**config, "HLSConfig": {**hls, "LayerName": names}}


def _any_case_entry(names: dict, name: str) -> Optional[dict]:
    """A layer's LayerName entry as hls4ml reads it where a key spelled in another case names it too:
    Precision, ReuseFactor and Strategy from every such key (hls4ml stores them by the lower-cased
    name; a later key wins, per variable for Precision), the other settings from the key spelled as
    the layer is (``get_layer_config``). None where no other spelling names the layer."""
    keys = [k for k, v in names.items() if isinstance(k, str) and k.lower() == name.lower() and isinstance(v, dict)]
    if all(k == name for k in keys):
        return None
    exact = names.get(name) if isinstance(names.get(name), dict) else {}
    entry = {k: v for k, v in exact.items() if k not in _ANY_CASE_KEYS}
    for k in keys:
        entry = _over(entry, {s: v for s, v in names[k].items() if s in _ANY_CASE_KEYS})
    return entry


def _over(by_type: dict, by_name: dict) -> dict:
    """A layer's settings: its LayerName entry over its LayerType entry; a Precision mapping per
    variable (a name's plain type string sets every variable, as hls4ml's ``<layer>_default``)."""
    merged = {**by_type, **by_name}
    if isinstance(by_name.get("Precision"), dict) and "Precision" in by_type and "default" not in by_name["Precision"]:
        merged["Precision"] = {**precision_mapping(by_type), **by_name["Precision"]}
    return merged


def distributed_arithmetic_layers(config: dict, names) -> set[str]:
    """The layers among ``names`` the config gives the distributed-arithmetic strategy (per layer,
    else the model's)."""
    hls = config.get("HLSConfig") or {}
    model = hls4ml_strategy((hls.get("Model") or {}).get("Strategy"))
    layers = hls.get("LayerName") or {}
    out = set()
    for name in names:
        entry = layers.get(name)
        own = hls4ml_strategy(entry.get("Strategy")) if isinstance(entry, dict) else None
        if (own or model) == DISTRIBUTED_ARITHMETIC:
            out.add(name)
    return out


def _fixed_or_none(text) -> Optional[Fixed]:
    if not isinstance(text, str) or text == "auto":
        return None
    try:
        return parse_fixed(text)  # takes fixed<>, ap_fixed<>, ufixed<>, int<> alike
    except ValueError:
        return None


# the variables a plain Precision string sets (hls4ml's ``<layer>_default``; checked with hls4ml 1.3: a
# recurrent layer's recurrent kernel and bias, a BatchNormalization's scale too; no activation table)
_PRECISION_VARIABLES = ("result", "accum", "weight", "bias", "recurrent_weight", "recurrent_bias", "scale")


def precision_entry(entry) -> dict:
    """A layer entry's ``Precision`` as variable -> type: a plain type string sets every variable
    (hls4ml's ``<layer>_default``), as does a mapping's 'default' every variable it leaves unnamed; a
    mapping is read as it is otherwise; anything else is no setting."""
    prec = precision_mapping(entry)
    if isinstance(prec.get("default"), str):
        return {**{v: prec["default"] for v in _PRECISION_VARIABLES},
                **{k: v for k, v in prec.items() if k != "default"}}
    return prec


def precision_mapping(entry) -> dict:
    """A layer entry's ``Precision`` as hls4ml stores it: a mapping as it is, a plain type string as
    the layer's 'default' (``{'default': type}``), anything else as no setting."""
    prec = entry.get("Precision") if isinstance(entry, dict) else None
    if isinstance(prec, str):
        return {"default": prec}
    return prec if isinstance(prec, dict) else {}


def explicit_results(config: dict) -> dict[str, Fixed]:
    """Result types an hls4ml config sets per layer (``LayerName.<layer>.Precision.result``, or a
    plain ``Precision`` string; 'auto' is no setting). hls4ml folds no BatchNormalization into those
    layers, and an input layer's type is where inference starts."""
    layers = (config.get("HLSConfig", {}) or {}).get("LayerName", {}) or {}
    out = {}
    for name, cfg in layers.items():
        t = _fixed_or_none(precision_entry(cfg).get("result"))
        if t is not None:
            out[name] = t
    return out


# hls4ml 1.3 splits a separable conv into '<layer>_depthwise' and '<layer>_pointwise'
# (SeparableToDepthwiseAndConv), each with a copy of the layer's config entry whose Precision takes
# the half's own key as its weight, accumulator or result type and drops the other half's keys; a
# variable without its own key keeps the layer's (its 'weight', 'accum', 'result')
SEPARABLE_PARTS = {"depthwise": {"depthwise": "weight", "depthwise_accum": "accum", "depthwise_result": "result"},
                   "pointwise": {"pointwise": "weight", "pointwise_accum": "accum", "pointwise_result": "result"}}
SEPARABLE_TYPE_KEYS = tuple(key for keys in SEPARABLE_PARTS.values() for key in keys)
# a Bidirectional's variables in hls4ml 1.3 (``Bidirectional.initialize``: one set per direction)
BIDIRECTIONAL_TYPE_KEYS = tuple(f"{direction}_{var}" for direction in ("forward", "backward")
                                for var in ("weight", "bias", "recurrent_weight", "recurrent_bias"))
# types hls4ml applies to some families of layers only (by Keras class name), and ignores on any other:
# a separable conv's halves', a BatchNormalization's or LayerNormalization's scale, an LSTM's or GRU's
# recurrent kernel and bias, a Bidirectional's per-direction ones, a parametrized activation's
# parameter (its generator writes 'depthwise' for a depthwise conv too, which it builds from 'weight')
CLASS_TYPE_KEYS = {**dict.fromkeys(SEPARABLE_TYPE_KEYS, ("SeparableConv",)),
                   "scale": ("BatchNormalization", "LayerNormalization"),
                   "recurrent_weight": ("LSTM", "GRU"), "recurrent_bias": ("LSTM", "GRU"),
                   **dict.fromkeys(BIDIRECTIONAL_TYPE_KEYS, ("Bidirectional",)),
                   "param": ("PReLU", "LeakyReLU", "ELU", "ThresholdedReLU")}
# types hls4ml ignores on a family it names otherwise: a Bidirectional's kernels and biases are per
# direction ('forward_weight', ...), so its 'weight' and 'bias' set nothing
CLASS_IGNORED_KEYS = {"Bidirectional": ("weight", "bias")}


def type_key_applies(key: str, keras_class: str) -> bool:
    """Does hls4ml apply a Precision ``key`` to a layer of ``keras_class`` (``CLASS_TYPE_KEYS``,
    ``CLASS_IGNORED_KEYS``)?"""
    if key in CLASS_IGNORED_KEYS.get(keras_class, ()):
        return False
    return key not in CLASS_TYPE_KEYS or any(family in keras_class for family in CLASS_TYPE_KEYS[key])


def plain_precision_keys(keras_class: str) -> tuple[str, ...]:
    """The variables a plain ``Precision`` string (hls4ml's ``<layer>_default``) sets on a layer of
    ``keras_class`` in hls4ml 1.3: every one the layer has (weight, bias, result, accum and those of
    ``CLASS_TYPE_KEYS`` its class takes), not its lookup tables (checked against hls4ml's own
    conversion: LSTM, GRU, Bidirectional, BatchNormalization, LayerNormalization, PReLU, separable)."""
    return tuple(key for key in ("weight", "bias", "result", "accum", *CLASS_TYPE_KEYS)
                 if type_key_applies(key, keras_class))


# the Precision hls4ml's config_from_keras_model writes for a separable conv (our export starts from it)
EXPORTED_SEPARABLE_PRECISION = {"result": "auto", "bias": "auto", "depthwise": "auto", "pointwise": "auto",
                                "depthwise_accum": "auto", "pointwise_accum": "auto", "depthwise_result": "auto"}


def separable_part_precisions(precision) -> dict:
    """{'depthwise': Precision, 'pointwise': Precision} of the two convolutions hls4ml 1.3 splits a
    separable conv with config Precision ``precision`` into (``SEPARABLE_PARTS``); a plain type
    string, or no mapping, is each half's as it is."""
    if not isinstance(precision, dict):
        return dict.fromkeys(SEPARABLE_PARTS, precision)
    out = {}
    for part, keys in SEPARABLE_PARTS.items():
        own = {k: v for k, v in precision.items() if k not in SEPARABLE_TYPE_KEYS}
        out[part] = {**own, **{var: precision[key] for key, var in keys.items() if key in precision}}
    return out


def separable_types(types: dict) -> dict:
    """A separable conv's types as our export writes them into its config entry: a 'weight' or
    'accum' the settings name for the layer is each half's ('depthwise'/'pointwise',
    '<half>_accum') unless the half's own key is named. hls4ml's own config names those keys
    ('auto'), which would otherwise leave the layer's 'weight' and 'accum' without effect."""
    out = {k: v for k, v in types.items() if k not in ("weight", "accum")}
    for var in ("weight", "accum"):
        if var in types:
            for part, keys in SEPARABLE_PARTS.items():
                out.setdefault(next(key for key, v in keys.items() if v == var), types[var])
    return out


def with_separable_parts(config: dict, nodes, raw: Optional[dict] = None) -> dict:
    """The config with the LayerName entries hls4ml 1.3 writes for the halves of each separable conv
    among ``nodes`` (they replace entries of those names, as hls4ml's do). Every reader of per-layer
    types then sees the halves' own. As ``SeparableToDepthwiseAndConv`` builds them: the layer's
    entry as ``get_layer_config`` returns it from ``raw`` (the config as written, before
    ``with_layer_types``: its LayerType entry updated by its LayerName entry, key by key, a Precision
    mapping replaced whole) with the halves' keys renamed (``separable_part_precisions``); a variable
    that leaves unnamed comes from the LayerType entry of the half's own class (``DepthwiseConv1D/2D``,
    ``Conv1D/2D``: checked with hls4ml 1.3, type-granularity configs), then from the Model's; so do
    its other settings, ReuseFactor, Strategy, ParallelizationFactor (the entry's
    DepthwiseReuseFactor/PointwiseReuseFactor are read by no hls4ml 1.3 pass)."""
    raw_hls = (raw if raw is not None else config).get("HLSConfig") or {}
    hls = config.get("HLSConfig") or {}
    layers = hls.get("LayerName") or {}
    types = {k: v for k, v in (raw_hls.get("LayerType") or {}).items() if isinstance(v, dict)}
    model_prec = (raw_hls.get("Model") or {}).get("Precision")
    model_vars = {k: v for k, v in model_prec.items() if k not in ("default", "maximum")} if isinstance(model_prec, dict) else {}
    names = dict(layers)
    for node in nodes:
        if not node.base.startswith("Separable"):
            continue
        named = (raw_hls.get("LayerName") or {}).get(node.name)
        entry = {**types.get(_HLS4ML_CLASS.get(node.cls, node.cls), {}), **(named if isinstance(named, dict) else {})}
        dim = node.base[-2:]
        for part, precision in separable_part_precisions(entry.get("Precision", {})).items():
            own_class = types.get(f"DepthwiseConv{dim}" if part == "depthwise" else f"Conv{dim}", {})
            if isinstance(precision, dict) and "default" not in precision:
                precision = {**model_vars, **precision_entry(own_class), **precision}
            # its other settings likewise: the half's layer reads its class's LayerType entry updated by its
            # own (hls4ml's get_layer_config; its reuse factor and strategy: name, type, model)
            half = {**{k: v for k, v in own_class.items() if k != "Precision"}, **entry}
            if half or precision:
                names[f"{node.name}_{part}"] = {**half, "Precision": precision}
    return config if names == layers else {**config, "HLSConfig": {**hls, "LayerName": names}}


def resolved_results(config: dict, nodes) -> dict[str, Fixed]:
    """The result type hls4ml 1.3 gives each layer of ``nodes`` (and the layers it splits off them)
    from a project's ``config`` (after ``with_layer_types`` and ``with_separable_parts``), as its
    ``get_precision`` resolves it: the type the layer's entry names, else the model default (a
    layer without an entry, or an entry without 'result', as hls4ml's granularity='model' and 'type'
    configs leave every layer); 'auto' is inferred, so it is no entry here."""
    out = explicit_results(config)
    hls = config.get("HLSConfig", {}) or {}
    layers = hls.get("LayerName", {}) or {}
    model_precision = (hls.get("Model", {}) or {}).get("Precision")
    default = _fixed_or_none(model_precision.get("default") if isinstance(model_precision, dict) else model_precision)
    if default is None:
        return out
    for node in nodes:
        # (the linear activation hls4ml splits off a layer is removed later, but a padding or upsampling
        # built after it keeps its type (``_built_type``), and it stays where the layer's is set)
        names = [name for name, _ in hls4ml_layer_classes(node, linear=True)]
        if node.base.startswith("Separable"):
            names += [f"{node.name}_{part}" for part in SEPARABLE_PARTS]
        for name in names:
            if name not in out and precision_entry(layers.get(name)).get("result") != "auto":
                out[name] = default
    return out


def auto_activations(config: dict, nodes) -> frozenset:
    """The activation layers among ``nodes`` (and those hls4ml splits off them) whose ``config``
    type is 'auto' (as hls4ml's granularity='type' config writes for every Activation): hls4ml infers
    no activation's type, so such a layer has the model default (InferPrecisionTypes'
    _infer_default_type), a QKeras one too: it takes its quantizer's type only where the config
    names it, as hls4ml's granularity='name' config does. (At build time and for hls4ml's linear
    merges its type is unset, so it is no entry of ``resolved_results``.)"""
    layers = (config.get("HLSConfig", {}) or {}).get("LayerName", {}) or {}
    return frozenset(name for node in nodes for name, cls in hls4ml_layer_classes(node)
                     if cls in ("Activation", "HardActivation", "ParametrizedActivation", "TernaryTanh")
                     and precision_entry(layers.get(name)).get("result") == "auto")


def recurrent_kernel(layer: str) -> str:
    """The ``weight_types`` key of a recurrent layer's recurrent kernel type (its 'recurrent_weight')."""
    return f"{layer}_recurrent"


def kernel_types(config: dict) -> dict:
    """The kernel types an hls4ml config sets per layer (``weight_types``), with a recurrent layer's
    recurrent kernel's (``recurrent_kernel``) and a Bidirectional's per direction ('forward_weight',
    'backward_recurrent_weight', ...: keyed by ``bidirectional_cell``)."""
    out = {**weight_types(config), **{recurrent_kernel(name): t for name, t in weight_types(config, "recurrent_weight").items()}}
    for direction in ("forward", "backward"):
        out.update({bidirectional_cell(name, direction): t for name, t in weight_types(config, f"{direction}_weight").items()})
        out.update({recurrent_kernel(bidirectional_cell(name, direction)): t
                    for name, t in weight_types(config, f"{direction}_recurrent_weight").items()})
    return out


def weight_types(config: dict, kind: str = "weight") -> dict:
    """Per-layer weight (or, ``kind='bias'``, bias) types an hls4ml config sets
    (``LayerName.<layer>.Precision.weight``, ``.bias``)."""
    layers = (config.get("HLSConfig", {}) or {}).get("LayerName", {}) or {}
    out = {}
    for name, cfg in layers.items():
        prec = precision_entry(cfg)
        # a variable the entry leaves unnamed takes its plain type string or 'default' (every variable)
        t = _fixed_or_none(prec.get(kind) or (prec.get("kernel") if kind == "weight" else None)
                           or precision_mapping(cfg).get("default"))
        if t is not None:
            out[name] = t
    return out


def with_softmax_implementation(spec: LayerSpec, impl: str) -> LayerSpec:
    """A softmax spec built as ``impl``; a legacy one is named, not priced."""
    from dataclasses import replace

    if impl == "legacy":
        return replace(spec, name=f"{spec.name} ({LEGACY_SOFTMAX_NOT_PRICED})", kind="unmodelled")
    return replace(spec, softmax_impl=impl)


def apply_project_precisions(specs: list[LayerSpec], config: dict, default: Fixed) -> list[LayerSpec]:
    """Result/accumulator types and table sizes as the project's config names them per layer. A
    layer without a type gets the model default: configs written before hls4ml's ``auto`` types
    kept every result (and accumulator) there."""
    from dataclasses import replace

    layers = (config.get("HLSConfig", {}).get("LayerName", {}) or {})
    model_precision = (config.get("HLSConfig", {}).get("Model", {}) or {}).get("Precision")
    cap = _fixed_or_none(model_precision.get("maximum")) if isinstance(model_precision, dict) else None
    out = []
    for spec in specs:
        layer_config = layers.get(spec.name, {}) or {}
        if spec.internal and (owner := _accum_owner(spec, layers)) != spec.name:  # a recurrent cell's products: its layer's
            accum_type = _fixed_or_none(precision_entry(layers.get(owner, {}) or {}).get("accum"))
            out.append(_with_accum(spec, accum_type) if accum_type is not None else spec)
            continue
        if spec.kind in ("softmax", "table") and isinstance(layer_config.get("TableSize"), int):
            spec = replace(spec, table_size=layer_config["TableSize"])
        prec = precision_entry(layer_config)
        result, accum = prec.get("result"), prec.get("accum")
        if (result_type := _fixed_or_none(result)) is not None and not spec.input_typed and spec.kind != "free":
            # (a 'free' spec is a layer hls4ml removes or aliases, a linear activation it merged: its type
            # the config names was given to node_specs, which applies it where hls4ml does)
            spec = replace(spec, result=result_type)
        elif (spec.kind in MULT_KINDS and result != "auto" and spec.result == spec.accum) or (spec.kind == "bn" and result != "auto"):
            # an inferred (accumulator-wide) result: hls4ml < 1.1 and configs without the layer used
            # the model default. A result the model itself fixes (an HGQ quantizer folded in) stays.
            spec = replace(spec, result=default)
        if _sums_in_accum(spec) and (accum_type := _fixed_or_none(accum)) is not None:
            spec = replace(spec, accum=accum_type)
        elif spec.kind == "layernorm":
            # 'auto' or none: hls4ml 1.3 gives it the model default (checked; the 14,4 LAYERNORM_ACCUM is what
            # its backend-aware config writes by name)
            spec = replace(spec, accum=default)
        if spec.kind in MULT_KINDS:
            if (accum_type := _fixed_or_none(accum)) is not None:
                spec = replace(spec, accum=accum_type)
            elif accum == "auto" and spec.model_accum and spec.weight is not None and not spec.depthwise:
                # a user's setting, even 'auto', wins over the HGQ override: hls4ml infers the type
                spec = replace(spec, accum=capped(_accumulator(spec.weight, spec.input, spec.n_in, spec.has_bias, spec.bias), cap),
                               model_accum=False)
            elif accum != "auto" and not spec.model_accum:
                spec = replace(spec, accum=default)  # hls4ml < 1.1: accum_t is the model's default type
        out.append(spec)
    # the input type of each layer is the result type of its producer: the one its wiring names (a
    # branch), else the one before it (a recurrent cell's parts keep theirs: recurrent_cell wires them)
    by_name: dict[str, LayerSpec] = {}
    for i, spec in enumerate(out):
        producer = by_name.get(spec.after[0]) if spec.after else (out[i - 1] if i else None)
        if producer is not None and not spec.internal:
            out[i] = spec = replace(spec, input=producer.result)
        by_name[spec.name] = spec
    return out
