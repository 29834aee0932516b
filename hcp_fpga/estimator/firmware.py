"""Layer specs read from an hls4ml project's generated C++ (no Keras model needed).

hls4ml writes every fact the estimator needs into the project: the layer calls with their input and
result types in ``firmware/<project>.cpp``, the types in ``firmware/defines.h``, the layer
configurations (sizes, strategy, reuse factor, table sizes, pooling op) in
``firmware/parameters.h`` and the weights as synthesized in ``firmware/weights/w<N>.txt``. Reading
them gives the exact types hls4ml inferred (``auto``), and works for projects whose Keras model
cannot be loaded here (e.g. written by Keras 3).
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path
from typing import Optional

import numpy as np

from hcp_fpga.estimator.precision import Fixed, parse_fixed, po2_fixed
from hcp_fpga.estimator.spec import (DA_NOT_PRICED, DISTRIBUTED_ARITHMETIC, ELEMENTWISE_ACTIVATIONS, FIRMWARE_STRATEGIES,
                                     HLS4ML_TABLE_SIZE, LAYERNORM_TABLE_SIZE, TABLE_ACTIVATIONS,
                                     LayerSpec, SOFTMAX_IMPLEMENTATIONS, with_pipeline_strategy, with_softmax_implementation, dot_specs,
                                     too_wide, unroll_position_loops)

# a layer call: nnet::<function><types..., config>(arguments); // layer name. Two template arguments
# (resize_nearest<in, config>), three (dense<in, out, config>) or four (add<in1, in2, out, config>)
_CALL_ANY = re.compile(r"nnet::(\w+)<\s*([\w:]+(?:\s*,\s*[\w:]+){1,3})\s*>\s*\(([^;]*)\);[ \t]*(?://[ \t]*(\S+))?")


def _calls(source: str) -> list[tuple[str, str, str, str, str, str, str]]:
    """(function, input type, second input type or '', output type, config, arguments, layer name) of
    every layer call in the top function (weight loading is no layer)."""
    out = []
    for func, targs, args, name in _CALL_ANY.findall(source):
        t = [a.strip() for a in targs.split(",")]
        if func.startswith(("load_weights", "load_exponent_weights")):
            continue
        cfg = t[-1]
        first, second, result = t[0], (t[1] if len(t) == 4 else ""), (t[-2] if len(t) >= 3 else t[0])
        out.append((func, first, second, result, cfg, args, name))
    return out


# an array or stream the top function declares: 'layer9_t layer9_out[8*8*2];', 'hls::stream<layer9_t> layer9_out("...")'
_DECLARATION = re.compile(r"^\s*(?:hls::stream<\s*(\w+)\s*>|(\w+))\s+(\w+)\s*[\[(]", re.M)


def _declared_types(source: str) -> dict[str, str]:
    """{variable: its type name} of the arrays and streams the top function declares."""
    return {var: stream or plain for stream, plain, var in _DECLARATION.findall(source) if (stream or plain) != "return"}


# hls4ml < 0.6 named kernels by strategy (dense_large, conv_2d_large_cl, dense_latency): the same layers
_OLD_SUFFIX = re.compile(r"_(?:large|latency|resource)(?=_|$)")
# a config struct, with or without an nnet:: base (hard_sigmoid/hard_tanh configs have none)
_STRUCT = re.compile(r"struct\s+(\w+)\s*(?::\s*nnet::(\w+)\s*)?\{(.*?)\n\};", re.S)
_FIELD = re.compile(r"static\s+const(?:expr)?\s+[\w:<>]+\s+(\w+)\s*=\s*([^;]+);")
_TYPEDEF = re.compile(r"typedef\s+(.+?)\s+(\w+)\s*;")
_FIXED_IN = re.compile(r"ap_u?(?:fixed|int)<[^<>]*>")
_DEFINE = re.compile(r"^\s*#define\s+(\w+)\s+(.+?)\s*$", re.M)

_MULT_CALLS = {"dense": "dense", "conv_1d_cl": "conv1d", "conv_2d_cl": "conv2d", "pointwise_conv_1d_cl": "conv1d",
               "pointwise_conv_2d_cl": "conv2d"}
_POOL_CALLS = ("pooling1d_cl", "pooling2d_cl", "global_pooling1d_cl", "global_pooling2d_cl")
_FREE_CALLS = {"repack_stream", "transpose", "broadcast_stream", "clone_stream"}
_DEPTHWISE_CALLS = {"depthwise_conv_1d_cl": "conv1d", "depthwise_conv_2d_cl": "conv2d"}
_MERGE_CALLS = {"add": "merge", "subtract": "merge", "average": "merge", "maximum": "merge", "minimum": "merge",
                "multiply": "merge_mul"}
_DA_CALL = re.compile(r"(?:dense_da|da_comblogic)_\d+|conv[12]d_cl")
_RNN_CALLS = {"gru_stack", "lstm_stack", "simple_rnn_stack", "gru", "lstm", "simple_rnn"}


def has_firmware(project_dir: Path | str) -> bool:
    fw = Path(project_dir) / "firmware"
    return (fw / "parameters.h").is_file() and (fw / "defines.h").is_file() and any(_top_sources(fw))


def _top_sources(fw: Path):
    return (p for p in fw.glob("*.cpp") if "_bridge" not in p.name and "_test" not in p.name)


def _value(text: str, fields: dict, depth: int = 0) -> Optional[int]:
    """An integer field, evaluating simple products of other fields or macros (``filt_height *
    filt_width``, ``N_LAYER_2``: hls4ml before 0.8 wrote sizes as #defines in defines.h)."""
    text = text.strip().strip("()").strip()
    text = re.sub(r"(?<=\d)[uUlL]+\b", "", text)
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if depth > 20:
        return None
    parts = [p.strip().strip("()") for p in text.split("*")]
    if all(re.fullmatch(r"\d+", p) or p in fields for p in parts):
        out = 1
        for p in parts:
            v = int(p) if p.isdigit() else _value(fields[p], fields, depth + 1)
            if v is None:
                return None
            out *= v
        return out
    return None


def _product(fields: dict, keys: list[str]) -> int:
    """The product of the integer fields ``keys`` (a concatenation input's n_elem1_0 x n_elem1_1 ...)."""
    out = 1
    for k in keys:
        out *= _value(fields[k], fields) or 1
    return out if keys else 0


def _configs(parameters: str) -> dict[str, dict]:
    configs = {}
    for name, base, body in _STRUCT.findall(parameters):
        fields = dict(_FIELD.findall(body))
        typedefs = {alias: target.strip() for target, alias in _TYPEDEF.findall(body)}
        configs[name] = {"base": base, "fields": fields, "types": typedefs}
    return configs


# hls4ml's power-of-two weight type (ExponentType): a sign bit and a signed exponent
_EXPONENT_STRUCT = re.compile(r"typedef\s+struct\s+\w+\s*\{\s*ap_uint<1>\s+sign\s*;\s*ap_int<(\d+)>\s+weight\s*;\s*\}\s*(\w+)\s*;")


def _types(defines: str) -> dict[str, str]:
    exponent = {alias: f"exponent<{bits}>" for bits, alias in _EXPONENT_STRUCT.findall(defines)}
    return {**{alias: target.strip() for target, alias in _TYPEDEF.findall(_EXPONENT_STRUCT.sub("", defines))}, **exponent}


def _exponent_bits(name: str, types: dict[str, str]) -> int:
    """The exponent bits of a power-of-two weight type (hls4ml's ExponentType struct); 0 for any other."""
    m = re.fullmatch(r"exponent<(\d+)>", types.get(name, ""))
    return int(m.group(1)) if m else 0


def _fixed(name: str, types: dict[str, str], default: Fixed) -> Fixed:
    """Resolve a typedef (through ``nnet::array<T, N>`` wrappers) to a Fixed."""
    text = types.get(name, name)
    seen = 0
    while text in types and seen < 10:  # typedef chains
        text, seen = types[text], seen + 1
    exponent = _exponent_bits(name, types)
    if exponent:  # sized by its values (po2_fixed) where the layer reads them
        return Fixed(exponent, exponent, True)
    m = _FIXED_IN.search(text)
    if not m:
        return default
    try:
        return parse_fixed(m.group(0))
    except ValueError as exc:  # a type no hls4ml writes (ap_fixed<99999,6>): the firmware is damaged
        from hcp_fpga.errors import ConfigError

        raise ConfigError(f"type '{name}' in the project's firmware: {exc}; re-export the project") from None


def _array_size(name: str, types: dict[str, str]) -> Optional[int]:
    m = re.search(r"nnet::array<.*>,\s*([\d*\s]+)>\s*$", types.get(name, ""))
    return _value(m.group(1), {}) if m else None


# a number, or a NaN/Inf spelled as one (damage the weights check refuses, not text to skip)
_NUMBER = re.compile(r"[-+]?(?:\b(?:nan|inf(?:inity)?)\b|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)", re.I)


def _read(path: Path) -> str:
    """The text of a firmware file, refused in one line when it is not a regular file."""
    from hcp_fpga.errors import ConfigError, check_regular_file

    return check_regular_file(path, f"'{path}'", "re-export the project", ConfigError).read_text(errors="replace")


# a power-of-two weight as hls4ml writes it (ExponentWeightVariable: {sign, exponent}, sign 1 for >= 0)
_EXPONENT_PAIR = re.compile(r"\{\s*([01](?:\.0*)?)\s*,\s*([-+]?\d{1,20})\s*\}")


def _exponent_values(text: str) -> Optional[np.ndarray]:
    """The values of power-of-two weights (QKeras quantized_po2) written as ``{sign, exponent}``
    pairs; None when ``text`` holds none. A zero weight is written with the exponent of log2(0) cast
    to an integer (a huge negative one): 2 to that power is 0."""
    pairs = _EXPONENT_PAIR.findall(text)
    if not pairs:
        return None
    sign = np.array([1.0 if float(a) >= 0.5 else -1.0 for a, _ in pairs])
    exponent = np.array([min(max(int(b), -2000), 2000) for _, b in pairs], dtype=np.int64)
    return np.where(exponent < -1000, 0.0, sign * np.ldexp(1.0, np.maximum(exponent, -1000)))


def _header_values(path: Path) -> Optional[np.ndarray]:
    """The initializer of a weights header (``w2.h``: ``... w2[1024] = {0.27, -0.12, ...};``), read
    as numbers only; None when it has none."""
    text = _read(path)
    pairs = re.search(r"=\s*\{(\s*\{.*\})\s*\}\s*;", text, re.S)
    if pairs:
        return _exponent_values(pairs.group(1))
    m = re.search(r"=\s*\{([^}]*)\}\s*;", text)
    if not m:
        return None
    return np.array([float(v) for v in _NUMBER.findall(m.group(1))], dtype=np.float64)


def _weight_values(fw: Path, name: str) -> Optional[np.ndarray]:
    """The values of weight array ``name`` (``w2``, ``wr2``) as synthesized: ``weights/<name>.txt``
    (hls4ml 0.6 on), else the initializer in ``weights/<name>.h`` (every release writes it; some
    projects keep only the headers)."""
    txt, header = fw / "weights" / f"{name}.txt", fw / "weights" / f"{name}.h"
    if txt.exists():
        return read_weights_txt(txt)
    return _finite(_header_values(header), header) if header.exists() else None


def read_weights_txt(path: Path) -> np.ndarray:
    """The values of an hls4ml weights file (``w2.txt``: comma-separated), all finite; a ConfigError
    naming the file when it holds anything else."""
    import warnings

    from hcp_fpga.errors import ConfigError, check_regular_file

    check_regular_file(path, f"'{path}'", "re-export the project", ConfigError)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy warns on an empty file: refused below instead
            text = _read(path)
            values = _exponent_values(text) if "{" in text else None
            if values is None:
                values = np.loadtxt(io.StringIO(text), delimiter=",", ndmin=1)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"'{path}' is not a comma-separated list of numbers ({str(exc).splitlines()[0][:80]}); "
                          "re-export the project") from None
    if values.size == 0:
        raise ConfigError(f"'{path}' holds no weights (empty); re-export the project")
    return _finite(values, path)


def _size(value: int, config: str, key: str, fw: Path) -> int:
    """``value`` of size field ``key`` of ``config`` in parameters.h; a ConfigError when it is negative
    (hls4ml writes no negative size: the file is damaged)."""
    if value < 0:
        from hcp_fpga.errors import ConfigError

        raise ConfigError(f"'{fw / 'parameters.h'}': {config}.{key} = {value} is not a size hls4ml writes; re-export the project")
    return value


def _check_products(n_in: int, n_out: int, layer: str, fw: Path) -> None:
    """Refuse a layer whose n_in x n_out products would not fit in memory, before any array of them
    is made (the same limit as a model file's: ``model_checks.memory_limit_bytes``)."""
    from hcp_fpga.errors import ConfigError
    from hcp_fpga.model_checks import BYTES_PER_PARAMETER, MEMORY_ENV, memory_limit_bytes

    limit = memory_limit_bytes()
    if n_in * n_out * BYTES_PER_PARAMETER > limit:
        raise ConfigError(f"layer '{layer}' in '{fw / 'parameters.h'}' has {n_in:,} x {n_out:,} products, about "
                          f"{n_in * n_out * BYTES_PER_PARAMETER / 1e9:.1f} GB to price, over the limit of {limit / 1e9:.1f} GB; "
                          f"re-export the project, or raise the limit with {MEMORY_ENV}=BYTES")


def _finite(values: Optional[np.ndarray], path: Path) -> Optional[np.ndarray]:
    """``values``; a ConfigError naming the file when any is NaN or infinite (a damaged project)."""
    if values is not None and not np.isfinite(values).all():
        from hcp_fpga.errors import ConfigError

        bad = np.flatnonzero(~np.isfinite(values))
        raise ConfigError(f"'{path}' holds {bad.size} non-finite weight(s) (the first at index {bad[0]}: {values[bad[0]]}); "
                          "re-export the project from a model with finite weights")
    return values


def _weights(fw: Path, array: str, n_in: int, n_out: int, transposed: bool, wtype: Fixed) -> Optional[np.ndarray]:
    """The kernel in weight array ``array`` as synthesized (``_weight_values``), as (n_in, n_out) mantissas."""
    values = _weight_values(fw, array)
    if values is None or values.size != n_in * n_out:
        return None
    # hls4ml's Resource strategies write the kernel transposed ((n_out, n_in)); Latency as Keras has it
    kernel = values.reshape(n_out, n_in).T if transposed else values.reshape(n_in, n_out)
    return wtype.mantissas(kernel)


def _depthwise_weights(fw: Path, array: str, taps: int, channels: int, n_out: int, wtype: Fixed) -> Optional[np.ndarray]:
    """A depthwise kernel (taps x channels x multiplier, Keras order) as the block-diagonal matrix
    of its products (``spec._depthwise_matrix``), in mantissas."""
    from hcp_fpga.estimator.spec import _depthwise_matrix

    values = _weight_values(fw, array)
    if values is not None and values.size > taps * n_out and values.size % (taps * n_out) == 0:
        # hls4ml 1.3 writes a depthwise kernel it folded a BatchNormalization into along the wrong axis
        # channels times too large; its C++ reads the first taps x outputs values
        values = values[:taps * n_out]
    if values is None or values.size != taps * n_out or n_out % max(channels, 1):
        return None
    return wtype.mantissas(_depthwise_matrix(values.reshape(taps, channels, n_out // channels)))


def unknown_weights(n_in: int, n_out: int) -> np.ndarray:
    """Stand-in mantissas where a layer's weights are not in the folder: every product its own
    multiplication (distinct along each input, 3+ CSD digits), so the estimate is an upper bound on
    multipliers rather than an optimistic guess (equal constants would share one product per input)."""
    return (np.arange(n_in * n_out, dtype=np.int64).reshape(n_in, n_out) % n_out) * 32 + 11


def _recurrent(fw: Path, name: str, args: list[str], cfg: dict, configs: dict, types: dict, default: Fixed,
               common: dict, num, packed_input: bool = True) -> Optional[list[LayerSpec]]:
    """A GRU/LSTM/SimpleRNN call (``nnet::gru_stack<...>(in, out, w2, wr2, b2, br2)``): units, inputs
    and time steps from its config, strategy and reuse factor from its dense sub-config
    (``mult_config1``), the kernels named by the call's arguments; priced as ``spec.recurrent_cell``.
    None when its sizes or weights cannot be read (the caller names it)."""
    from hcp_fpga.estimator.spec import recurrent_cell

    units, n_in, steps = num("n_state", num("n_out", 0)), num("n_in", 0), num("n_sequence", 1)
    mult = configs.get(cfg["types"].get("mult_config1", ""), {"fields": {}, "types": {}})
    names = [a for a in args[2:4] if re.fullmatch(r"\w+", a)]
    kernel = _weight_values(fw, names[0]) if len(names) == 2 else None
    recurrent = _weight_values(fw, names[1]) if len(names) == 2 else None
    if not units or not n_in or kernel is None or recurrent is None or recurrent.size % units \
            or kernel.size != n_in * (recurrent.size // units):
        return None
    width = recurrent.size // units
    mf = {**cfg["fields"], **mult["fields"]}
    strategy = FIRMWARE_STRATEGIES.get(mf.get("strategy", "nnet::latency").strip(), "Latency")  # hls4ml: RNNs have no DA
    rf = _value(mf.get("reuse_factor", "1"), mf) or 1
    wtype = _fixed(cfg["types"].get("weight_t", ""), types, default)
    rtype = _fixed(cfg["types"].get("recurrent_weight_t", ""), types, wtype)
    accum = _fixed(cfg["types"].get("accum_t", ""), types, common["result"])
    out_size = num("n_sequence_out", 1) * units
    cell_common = {**{k: v for k, v in common.items() if k not in ("input", "result")}, "strategy": strategy,
                   "reuse_factor": rf, "out_size": out_size, "channels": units}
    if strategy == "Latency":
        kernel, recurrent = kernel.reshape(n_in, width), recurrent.reshape(units, width)
    else:  # hls4ml's ApplyResourceStrategy writes both kernels transposed, as a Dense's
        kernel, recurrent = kernel.reshape(width, n_in).T, recurrent.reshape(width, units).T
    specs = recurrent_cell(name, kernel, recurrent, steps, wtype,
                           common["input"], common["result"], cell_common, accum=accum, packed_input=packed_input,
                           recurrent_wtype=rtype)
    # the recurrent kernel runs at its own reuse factor (mult_config2): hls4ml moves the layer's RF to the
    # closest valid one for each kernel's sizes apart (init_lstm/init_gru), so the two can differ
    mult2 = configs.get(cfg["types"].get("mult_config2", ""), {"fields": {}, "types": {}})
    mf2 = {**cfg["fields"], **mult2["fields"]}
    rf2 = _value(mf2.get("reuse_factor", "1"), mf2) if mult2["fields"] else rf
    return [replace(sp, result=common["result"]) if sp.name == name
            else replace(sp, reuse_factor=rf2 or rf) if sp.name == f"{name}_recurrent" else sp for sp in specs]


def _every_time_step(spec: LayerSpec, steps: int) -> LayerSpec:
    """A layer inside a TimeDistributed loop, read as one time step: the whole loop's work (a Dense
    becomes a 1x1 Conv1D over the steps, as ``spec._time_distributed_specs`` prices it)."""
    if spec.kind == "dense":
        return replace(spec, kind="conv1d", n_pix=steps, out_size=spec.out_size * steps, in_pix=steps, in_channels=spec.n_in,
                       position_loop=True)
    return replace(spec, out_size=spec.out_size * steps)


def _bidirectional(fw: Path, name: str, args: list[str], cfg: dict, configs: dict, types: dict, default: Fixed,
                   common: dict, num, packed_input: bool = True) -> Optional[list[LayerSpec]]:
    """A ``bidirectional_stack`` call (``(in, out, w_f, wr_f, b_f, br_f, w_b, wr_b, b_b, br_b)``): the
    forward and backward cells of its FORWARD_CONFIG / BACKWARD_CONFIG, each read as ``_recurrent``
    reads a GRU/LSTM, under one step counter (``spec._bidirectional_specs``). None when a cell
    cannot be read (the caller names the layer)."""
    parts: list[LayerSpec] = []
    for direction, key, arrays in (("forward", "FORWARD_CONFIG", args[2:6]), ("backward", "BACKWARD_CONFIG", args[6:10])):
        sub = configs.get(cfg["types"].get(key, ""))
        if sub is None or len(arrays) < 2:
            return None

        def sub_num(field: str, fallback: int = 1, sub: dict = sub) -> int:  # the cell's own sizes, then the layer's
            if field not in sub["fields"]:
                return num(field, fallback)
            v = _value(sub["fields"][field], sub["fields"])
            return fallback if v is None else _size(v, cfg["types"][key], field, fw)

        cell = _recurrent(fw, f"{name}_{direction}", args[:2] + list(arrays), sub, configs, types, default, common, sub_num,
                          packed_input=packed_input)
        if cell is None:
            return None
        parts += cell[:-1]
    n_out = num("n_out", 0)
    return parts + [LayerSpec(name, "move", input=common["result"], result=common["result"], steps=max(num("n_sequence", 1), 1),
                              out_size=num("n_sequence_out", 1) * n_out, channels=n_out,
                              **{k: v for k, v in common.items() if k not in ("input", "result")})]


def firmware_specs(project_dir: Path | str, default_precision: str = "ap_fixed<16,6>") -> list[LayerSpec]:
    """Layer specs of an hls4ml project, in call order, from its generated C++."""
    return firmware_specs_and_notes(project_dir, default_precision)[0]


def firmware_specs_and_notes(project_dir: Path | str, default_precision: str = "ap_fixed<16,6>") -> tuple[list[LayerSpec], list[str]]:
    """``firmware_specs`` and what the estimate should say about them (layers whose weights were missing)."""
    from hcp_fpga.errors import ConfigError

    missing: list[str] = []
    fw = Path(project_dir) / "firmware"
    if not has_firmware(project_dir):
        raise ConfigError(f"'{project_dir}' has no generated firmware (parameters.h, defines.h, <project>.cpp)")
    defines, parameters = _read(fw / "defines.h"), _read(fw / "parameters.h")
    macros = dict(_DEFINE.findall(defines + "\n" + parameters))
    types = _types(defines)
    configs = _configs(parameters)
    for cfg in configs.values():  # sizes written as macros resolve through them
        cfg["fields"] = {**macros, **cfg["fields"]}
    source = "\n".join(_read(p) for p in _top_sources(fw))
    default = parse_fixed(default_precision)
    specs: list[LayerSpec] = []
    loop_start, loop_steps = None, 1  # a TimeDistributed loop: the calls between read_ and write_time_step
    spans: list[tuple[int, list[str]]] = []  # (index of the call's first spec, its arguments) per call
    declared = _declared_types(source)
    for func, in_t, second_in, out_t, cfg_name, call_args, layer_name in _calls(source):
        func = _OLD_SUFFIX.sub("", func)
        args = [a.strip() for a in call_args.split(",")]
        if out_t == in_t and len(args) > 1 and declared.get(args[1], out_t) != out_t:
            # a call with no output type among its template arguments (resize_nearest<in, config>):
            # its output array's declared type is the layer's
            out_t = declared[args[1]]
        spans.append((len(specs), args))
        if func.startswith(("read_time_step", "write_time_step")):
            f = configs.get(cfg_name, {"fields": {}})["fields"]
            if func.startswith("read"):
                steps = _value(f.get("n_time_steps", "1"), f)
                loop_start, loop_steps = len(specs), _size(steps, cfg_name, "n_time_steps", fw) if steps else 1
            elif loop_start is not None:
                specs[loop_start:] = [_every_time_step(sp, loop_steps) for sp in specs[loop_start:]]
                loop_start = None
            continue
        if not layer_name:  # no '// name' comment (older writers): the output variable names the layer
            layer_name = args[1] if len(args) > 1 and args[1].isidentifier() else cfg_name
        if cfg_name.isidentifier() and "config" in cfg_name.lower() and cfg_name not in configs and configs:
            # hls4ml wrote the call but no config struct of that name: the project does not compile, and
            # nothing says the layer's size (hls4ml 1.3 writes a Keras Softmax layer's as 'Softmax_config<N>')
            other = next((c for c in configs if c.lower() == cfg_name.lower()), None)
            why = (f"hls4ml wrote its config as {other}, a known hls4ml 1.3 bug for a Keras Softmax layer; use "
                   "Activation('softmax')" if other else "re-export it")
            specs.append(LayerSpec(f"{layer_name} (its {cfg_name} is not in parameters.h, so the project does not "
                                   f"compile: {why})", "unmodelled", input=_fixed(in_t, types, default),
                                   result=_fixed(out_t, types, default)))
            continue
        cfg = configs.get(cfg_name, {"base": "", "fields": {}, "types": {}})
        f = cfg["fields"]

        def num(key: str, fallback: int = 1) -> int:
            v = _value(f[key], f) if key in f else None
            # hls4ml writes a BatchNormalization's n_filt = -1 for "not given" (one scale per element)
            unset = v is None or (key == "n_filt" and v == -1 and "batchnorm" in cfg["base"])
            return fallback if unset else _size(v, cfg_name, key, fw)

        stream = "io_stream" in f.get("io_type", "") or "nnet::array" in types.get(in_t, "")
        io_type = "io_stream" if stream else "io_parallel"
        strategy = FIRMWARE_STRATEGIES.get(f.get("strategy", "nnet::latency").strip(), "Latency")
        rf = num("reuse_factor")
        in_type, out_type = _fixed(in_t, types, default), _fixed(out_t, types, default)
        channels = _array_size(out_t, types) or num("n_filt", num("n_out", num("n_chan", num("n_in"))))
        common = dict(input=in_type, result=out_type, io_type=io_type, strategy=strategy, reuse_factor=rf)
        depthwise = func in _DEPTHWISE_CALLS
        if (func in _MULT_CALLS or depthwise) and strategy == DISTRIBUTED_ARITHMETIC:
            specs.append(LayerSpec(f"{layer_name} ({DA_NOT_PRICED})", "unmodelled", **{**common, "strategy": "Latency"}))
            continue
        if func in _MULT_CALLS or depthwise:
            kind = _DEPTHWISE_CALLS.get(func) or _MULT_CALLS[func]
            mult = configs.get(cfg["types"].get("mult_config", ""), cfg) if kind != "dense" else cfg
            n_in, n_out = (_value(mult["fields"].get(k, "0"), mult["fields"]) for k in ("n_in", "n_out"))
            if depthwise:  # each output channel sums its own input channel's taps: (taps x C, C x M)
                n_in, n_out = num("filt_width") * num("filt_height") * num("n_chan"), num("n_filt")
            if not n_in or not n_out:  # sizes this reader cannot resolve: name the layer, do not guess
                specs.append(LayerSpec(layer_name, "unmodelled", **common))
                continue
            _check_products(_size(n_in, cfg_name, "n_in", fw), _size(n_out, cfg_name, "n_out", fw), layer_name, fw)
            wtype = _fixed(cfg["types"].get("weight_t", ""), types, default)
            accum = _fixed(cfg["types"].get("accum_t", ""), types, out_type)
            # the weight array the call passes (a separable conv's pointwise half: config9 with w8);
            # else the one numbered as the config (calls written without it)
            array = args[2] if len(args) > 2 and args[2].isidentifier() else "w" + re.sub(r"\D", "", cfg_name)
            powers = _weight_values(fw, array) if _exponent_bits(cfg["types"].get("weight_t", ""), types) else None
            if powers is not None:
                wtype = po2_fixed(powers)  # the type that holds its powers of two, as the model path
            if (wide := too_wide(wtype)) is not None:
                specs.append(LayerSpec(f"{layer_name} ({wide})", "unmodelled", **common))
                continue
            if depthwise:
                mant = _depthwise_weights(fw, array, num("filt_width") * num("filt_height"), num("n_chan"), n_out, wtype)
            else:
                mant = _weights(fw, array, n_in, n_out, strategy != "Latency", wtype)
            stand_in = mant is None
            if stand_in:
                mant = unknown_weights(n_in, n_out)
                missing.append(layer_name)
            out_pix = num("out_width") * num("out_height") if kind != "dense" else 1
            in_pix = num("in_width") * num("in_height") if kind != "dense" else 1
            # n_partitions = output pixels / ParallelizationFactor (hls4ml >= 0.7; older firmware: one per pixel)
            pf = out_pix // max(num("n_partitions", out_pix), 1) if kind != "dense" and io_type == "io_parallel" else 1
            specs.append(LayerSpec(layer_name, kind, n_in, n_out, out_pix, out_size=n_out * out_pix, channels=n_out,
                                   mantissas=mant, stand_in_weights=stand_in, weight=wtype, accum=accum, in_pix=in_pix, in_channels=num("n_chan"),
                                   weight_exponent_bits=_exponent_bits(cfg["types"].get("weight_t", ""), types),
                                   parallelization=max(pf, 1), depthwise=depthwise, filt_height=num("filt_height"),
                                   line_width=num("in_width") if kind == "conv2d" else 0, **common))
            continue
        if func in _RNN_CALLS or func == "bidirectional_stack":
            # (only wiring before it: it reads the top function's packed input port, as in spec._rnn_specs)
            read = _bidirectional if func == "bidirectional_stack" else _recurrent
            cell = read(fw, layer_name, args, cfg, configs, types, default, common, num,
                        packed_input=all(sp.kind == "free" for sp in specs))
            if cell is None:
                specs.append(LayerSpec(layer_name, "unmodelled", **common))
            else:
                specs += cell
            continue
        n = num("n_in", num("n_elem", 0))
        if func == "softmax":
            # the table size the config asked for, as hls4ml cut it to the input: the inverse table's
            # (the exp table's can be capped further, at 2^(value bits) of a signed input)
            impl = re.search(r"softmax_implementation::(\w+)", cfg["fields"].get("implementation", ""))
            spec = LayerSpec(layer_name, "softmax", out_size=n, channels=channels,
                             table_size=num("inv_table_size", num("exp_table_size", HLS4ML_TABLE_SIZE)), **common)
            specs.append(with_softmax_implementation(spec, impl.group(1)) if impl and impl.group(1) in SOFTMAX_IMPLEMENTATIONS
                         else spec)
        elif func in TABLE_ACTIVATIONS:
            specs.append(LayerSpec(layer_name, "table", out_size=n, channels=channels,
                                   table_size=num("table_size", HLS4ML_TABLE_SIZE), **common))
        elif func in ELEMENTWISE_ACTIVATIONS:
            specs.append(LayerSpec(layer_name, "relu", out_size=n, channels=channels, **common))
        elif func == "linear":
            specs.append(LayerSpec(layer_name, "linear", out_size=n, channels=channels, own_process=stream, **common))
        elif func.startswith(_POOL_CALLS) or func in _POOL_CALLS:
            pool = num("pool_width") * num("pool_height")
            # a global pooling's config names its positions n_in (1D) or in_height x in_width (2D)
            in_pix = num("in_width", num("n_in")) * num("in_height")
            out_pix = num("out_width", num("n_out")) * num("out_height") if "global" not in func else 1  # 1D: n_in -> n_out positions
            n_ch = num("n_filt", num("n_chan"))
            specs.append(LayerSpec(layer_name, "pool", out_size=out_pix * n_ch, channels=n_ch, in_pix=in_pix, in_channels=n_ch,
                                   pool_size=in_pix if "global" in func else pool, pool_dims=2 if "2d" in func else 1,
                                   pool_op="avg" if "Average" in f.get("pool_op", "") else "max",
                                   uneven_windows="Average" in f.get("pool_op", "") and "global" not in func
                                   and f.get("count_pad", "false").strip() != "true"
                                   and any(num(k, 0) > 0 for k in ("pad_left", "pad_right", "pad_top", "pad_bottom")),
                                   **common))
        elif func.startswith("zeropad"):
            out_pix = num("out_width") * num("out_height")
            specs.append(LayerSpec(layer_name, "pad", out_size=out_pix * num("n_chan"), channels=num("n_chan"), **common))
        elif func == "layernormalize":  # n_in: the whole (steps x features) input
            steps = max(num("seq_len"), 1)
            features = max(num("n_in") // steps, 1)
            specs.append(LayerSpec(layer_name, "layernorm", n_in=features, n_out=features, n_pix=steps, out_size=steps * features,
                                   channels=features, accum=_fixed(cfg["types"].get("accum_t", ""), types, default),
                                   weight=_fixed(cfg["types"].get("scale_t", ""), types, default),
                                   table_size=num("table_size", LAYERNORM_TABLE_SIZE), position_loop=True, **common))
        elif func in ("normalize", "normalize_quantized_tanh"):
            scale = _fixed(cfg["types"].get("scale_t", ""), types, default)
            specs.append(LayerSpec(layer_name, "bn", out_size=n, channels=channels, weight=scale, **common))
        elif func == "dot1d":
            other = _fixed(second_in, types, default) if second_in else in_type
            specs += dot_specs(layer_name, num("n_in"), in_type, other, _fixed(cfg["types"].get("accum_t", ""), types, default),
                               out_type, {k: v for k, v in common.items() if k not in ("input", "result")})
        elif func in _MERGE_CALLS:
            specs.append(LayerSpec(layer_name, _MERGE_CALLS[func], n_in=2, out_size=num("n_elem", 0), channels=channels, **common))
        elif func.startswith("concatenate"):
            sizes = [_product(f, [k for k in f if k.startswith(f"n_elem{i}_")]) for i in (1, 2)]
            specs.append(LayerSpec(layer_name, "move", out_size=sum(sizes), channels=channels, **common))
        elif func.startswith("cropping"):  # wiring in io_parallel, a pass over the stream in io_stream
            out_pix, in_pix = num("out_width") * num("out_height"), num("in_width") * num("in_height")
            specs.append(LayerSpec(layer_name, "move", out_size=out_pix * num("n_chan"), channels=num("n_chan"), in_pix=in_pix,
                                   in_channels=num("n_chan"), **common))
        elif func.startswith("resize_nearest"):
            size = num("new_height") * num("new_width") * num("n_chan")
            specs.append(LayerSpec(layer_name, "move", out_size=size, channels=num("n_chan"), **common))
        elif func == "embedding":  # a vocabulary x n_out table, one row read per input position
            specs.append(LayerSpec(layer_name, "embedding", n_in=num("vocab_size"), n_out=num("n_out"),
                                   out_size=num("n_in") * num("n_out"), channels=num("n_out"), **common))
        elif func in _FREE_CALLS:
            specs.append(LayerSpec(layer_name, "free", out_size=n, channels=channels, **common))
        elif _DA_CALL.fullmatch(func):
            # hls4ml 1.3's io_parallel distributed arithmetic (da4ml): a Dense's generated function, a
            # DACombinational layer's, a conv's nnet_da_wrappers.h call (its other convs: conv_1d_cl)
            specs.append(LayerSpec(f"{layer_name} ({DA_NOT_PRICED})", "unmodelled", out_size=n, channels=channels, **common))
        else:
            specs.append(LayerSpec(layer_name, "unmodelled", out_size=n, channels=channels, **common))
    if not specs:
        raise ConfigError(f"no hls4ml layer calls found in '{fw}'; re-export the project")
    # a layer whose C++ has no strategy (not a multiplier layer; LayerSpec.strategy) takes the one the top
    # function's pipeline style implies: hls4ml's SetPipelineStyle builds an io_parallel design as DATAFLOW
    # where some layer's config says Resource (or a conv steps over pixel partitions), else PIPELINE
    style = "Resource" if specs[0].io_type == "io_parallel" and _DATAFLOW.search(source) else "Latency"
    specs = with_pipeline_strategy(specs, style)
    top_input = _top_input(source, macros, types, default)
    as_layer = top_input is not None and specs[0].io_type == "io_parallel"  # the input array, as an InputLayer
    specs = unroll_position_loops(_wired(specs, spans, _top_params(source), top_input[0] if as_layer else None,
                                         dict(_ALIAS.findall(source))))
    if as_layer:
        # the input arrays, as InputLayers reading nothing (after=()): the first, then any other one
        written = {args[1] for _, args in spans if len(args) > 1}
        for name, elements, in_type in reversed([top_input] + [t for t in _top_arrays(source, macros, types, default)
                                                               if t[0] != top_input[0] and t[0] not in written]):
            specs.insert(0, LayerSpec(name, "free", out_size=elements, channels=elements, input=in_type, result=in_type,
                                      io_type="io_parallel", strategy=style,
                                      reuse_factor=specs[0].reuse_factor, after=()))
    notes = [f"weights of {', '.join(missing)} not found in firmware/weights (w<N>.txt or .h): every product is "
             "counted as its own multiplication (an upper bound on DSPs and LUT multipliers)"] if missing else []
    orphans = _unused_weights(source, parameters)
    if orphans:
        notes.append(f"weights {', '.join(orphans)} are included but no layer call uses them: hls4ml wrote no code for "
                     "that layer, so this design does not compute it (hls4ml 1.3 does this for SimpleRNN)")
    return specs, notes


_DATAFLOW = re.compile(r"#\s*pragma\s+HLS\s+DATAFLOW\b", re.IGNORECASE)
# a reshape or flatten in io_parallel is no call: its result names the same array (``auto& layer6_out = layer4_out;``)
_ALIAS = re.compile(r"auto\s*&\s*(\w+)\s*=\s*(\w+)\s*;")


def _wired(specs: list[LayerSpec], spans: list[tuple[int, list[str]]], params: set[str],
           input_layer: Optional[str], aliases: dict[str, str]) -> list[LayerSpec]:
    """The specs with what each call reads (``LayerSpec.after``): the last spec of the call that wrote
    each array it is passed (through ``aliases``: a reshape's result is its input's array; a model
    input: none, or ``input_layer``, the spec that stands for it). A call with no spec of its own (a
    time-step copy) passes its input's writer on; one that reads only arrays no call writes follows
    the call before it. A call that writes one of the top function's output arrays gives its last spec
    ``model_output``."""
    def array(name: str) -> str:
        for _ in range(len(aliases)):  # an alias of an alias
            if name not in aliases:
                break
            name = aliases[name]
        return name

    specs = list(specs)
    inputs = {p for p in params if not re.fullmatch(r"layer\d+_out", p)}  # hls4ml names results layer<N>_out
    written: dict[str, tuple[str, ...]] = {input_layer: (input_layer,)} if input_layer else {}
    for k, (start, args) in enumerate(spans):
        end = spans[k + 1][0] if k + 1 < len(spans) else len(specs)
        names = [array(a) for a in args if a.isidentifier()]
        reads = tuple(dict.fromkeys(n for a in names if a in written for n in written[a]))
        outs = [a for a in names if a not in written and a not in params]
        if end > start:
            if reads or any(a in inputs for a in names):
                specs[start] = replace(specs[start], after=reads)
            written.update({a: (specs[end - 1].name,) for a in outs})
            if any(a in params and a not in inputs for a in names):  # it writes a model output
                specs[end - 1] = replace(specs[end - 1], model_output=True)
        elif reads:
            written.update({a: reads for a in outs})
    return specs


_SIGNATURE = re.compile(r"void\s+\w+\s*\(([^)]*)\)\s*\{")


def _top_params(source: str) -> set[str]:
    """Names of the top function's parameters (the model's input and output arrays or streams)."""
    m = _SIGNATURE.search(source)
    if not m:
        return set()
    params, depth, part = [], 0, ""
    for ch in m.group(1) + ",":
        depth += (ch == "<") - (ch == ">")
        if ch == "," and depth == 0:
            params.append(part)
            part = ""
        else:
            part += ch
    return {n.group(1) for p in params if (n := re.search(r"(\w+)\s*(?:\[[^\]]*\]\s*)*$", p.strip()))}


_TOP_INPUT = re.compile(r"void\s+\w+\s*\(\s*(\w+)\s+(\w+)\s*\[([^\]]+)\]")


def _top_input(source: str, macros: dict, types: dict, default: Fixed) -> Optional[tuple[str, int, Fixed]]:
    """(name, elements, type) of the top function's first input array (``input_t input_1[16*3]``,
    or ``[N_INPUT_1_1]`` as hls4ml before 0.8 wrote it); None where it is not an array of known size."""
    m = _TOP_INPUT.search(source)
    if not m:
        return None
    elements = _value(m.group(3), macros)
    return (m.group(2), elements, _fixed(m.group(1), types, default)) if elements else None


_TOP_ARRAY = re.compile(r"(\w+)\s+(\w+)\s*\[([^\]]+)\]")


def _top_arrays(source: str, macros: dict, types: dict, default: Fixed) -> list[tuple[str, int, Fixed]]:
    """(name, elements, type) of each array parameter of the top function of known size."""
    m = _SIGNATURE.search(source)
    out = []
    for t, name, size in _TOP_ARRAY.findall(m.group(1) if m else ""):
        if (elements := _value(size, macros)):
            out.append((name, elements, _fixed(t, types, default)))
    return out


def _unused_weights(source: str, parameters: str) -> list[str]:
    """Weight arrays the project includes (``#include "weights/w2.h"``) that no layer call passes."""
    included = re.findall(r'#include\s+"weights/(\w+)\.h"', parameters + "\n" + source)
    used = {a.strip() for call in _calls(source) for a in call[5].split(",")}
    return [w for w in dict.fromkeys(included) if w not in used]
