"""A Keras model as plain data, read from its files without Keras or TensorFlow.

The estimator needs layer classes, shapes, settings and weights, nothing Keras computes at run
time. A model file carries all of it as JSON (Keras-2 ``.h5`` ``model_config``, a ``.keras`` zip's
``config.json`` from Keras 2.13+ or Keras 3, a ``model.to_json()`` file) plus HDF5 weights, so
reading it here works for models this environment cannot build: Keras-3/HGQ2 files, custom layers,
author-modified layers. Nothing in the file is executed: the JSON is parsed and shapes are inferred
by the rules below, one per layer family; a class without a rule keeps its name and becomes an
unpriced layer in the estimate (named in its notes), never a crash.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from hcp_fpga.errors import shown

Shape = tuple  # without the batch axis; () when unknown


@dataclass
class Node:
    """One layer: class (QKeras ``Q`` prefix kept), its config, input/output shapes and weights."""

    name: str
    cls: str
    config: dict
    inputs: list[str] = field(default_factory=list)
    in_shapes: list[Shape] = field(default_factory=list)
    out_shape: Optional[Shape] = None
    weights: list[np.ndarray] = field(default_factory=list)
    output: bool = False  # one of the model's outputs (read outside the design)
    # the model's kernel row each kernel row holds, where hls4ml reordered them (spec.remove_transpose_before_flatten)
    row_order: Optional[np.ndarray] = None

    @property
    def base(self) -> str:
        """Class without the QKeras prefix (QDense -> Dense)."""
        return base_class(self.cls)

    @property
    def in_shape(self) -> Shape:
        return self.in_shapes[0] if self.in_shapes else ()


def base_class(cls: str) -> str:
    """A Keras layer class without the QKeras prefix (QDense -> Dense; Quantizer stays)."""
    return cls[1:] if cls.startswith("Q") and cls[1:2].isupper() else cls


class GraphError(ValueError):
    """The file holds no readable model description."""


def config_number(config: dict, key: str, default: float, what: str) -> float:
    """``config[key]`` of a layer or quantizer in a model file as a finite number (``default`` when
    absent or null); a GraphError naming ``what`` and the value otherwise (a file Keras did not write)."""
    value = config.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
        raise GraphError(f"{what} has {key} {shown(value)}, not a number")
    return value


# ----------------------------------------------------------------------------- reading files


def _decode(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def read_model_json(path: Path) -> tuple[dict, Optional[Any]]:
    """(model JSON, weights source) of a model file. The weights source is an open h5py group or
    None. Raises GraphError when the file holds no model description."""
    import h5py

    from hcp_fpga.errors import check_regular_file

    path = check_regular_file(path, f"'{path}'", "give a Keras model file", GraphError)
    if path.suffix == ".json":
        return json.loads(path.read_text()), None
    if zipfile.is_zipfile(path):  # .keras (Keras 2.13+ and 3): config.json + model.weights.h5
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if "config.json" not in names:
                raise GraphError(f"'{path}' is a zip without config.json (not a .keras model)")
            config = json.loads(z.read("config.json"))
            weights = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") if "model.weights.h5" in names else None
        return config, weights
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise GraphError(f"'{path}' is neither a .keras zip, an HDF5 model nor JSON ({exc})") from None
    if "model_config" not in h5.attrs:
        raise GraphError(f"'{path}' holds weights only (no model_config); pass the architecture JSON too")
    config = json.loads(_decode(h5.attrs["model_config"]))
    return config, (h5["model_weights"] if "model_weights" in h5 else h5)


# the groups a .keras weights store keeps a model's layers in (Keras 2.13-2.15, Keras 3)
_STORE_CONTAINERS = ("_layer_checkpoint_dependencies", "layers")
# where a .keras file keeps the layers a TimeDistributed or Bidirectional wraps, below the wrapper's own path
_WRAPPED_PARTS = ("layer", "forward_layer", "backward_layer")


def _snake_case(name: str) -> str:
    """A class name as Keras spells it in a .keras weights store (``to_snake_case``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _store_names(model_json) -> dict[tuple[str, ...], str]:
    """{path of a layer in a .keras weights store: the layer's name}. Keras stores each layer under
    its class name in snake case, numbered per class in model order (``dense``, ``dense_1``; a nested
    model's layers below its own path: saving_lib._save_container_state), not under its own name:
    a layer the user named, or a model built after others in one session, is stored under
    another layer's name."""
    out: dict[tuple[str, ...], str] = {}

    def walk(entry, prefix: tuple[str, ...]) -> None:
        try:
            entries, _ = _layers(entry)
        except GraphError:
            return
        counts: dict[str, int] = {}
        for e in entries:
            if not isinstance(e, dict) or not isinstance(e.get("config", {}), dict):
                continue
            cls = str(e.get("class_name", "")).split(">")[-1]
            snake = _snake_case(cls)
            counts[snake] = counts.get(snake, -1) + 1
            key = (*prefix, snake if counts[snake] == 0 else f"{snake}_{counts[snake]}")
            out[key] = str(e.get("config", {}).get("name") or e.get("name") or "")
            if cls in ("Sequential", "Functional", "Model"):
                walk(e, key)

    walk(model_json, ())
    return out


def _weight_groups(source, model_json=None) -> dict[str, list[np.ndarray]]:
    """Weights per layer-like group: Keras-2 HDF5 (``weight_names`` attributes), Keras 2.13+/3
    (``.../<layer>/vars/<i>``, the layer's path read as its name with ``_store_names`` when
    ``model_json`` is given). Names are the last group name before the weights."""
    import h5py

    groups: dict[str, list[np.ndarray]] = {}
    if source is None:
        return groups
    names = _store_names(model_json) if model_json is not None else {}

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and "weight_names" in obj.attrs:
            by_prefix: dict[Optional[str], list[np.ndarray]] = {}
            for wname in (_decode(w) for w in obj.attrs["weight_names"]):
                if wname in obj:
                    # 'fc1/kernel:0' names its layer; a bare 'kernel:0' (model.save_weights of
                    # Keras 2) belongs to the group itself
                    prefix = wname.split("/")[0] if "/" in wname else None
                    by_prefix.setdefault(prefix, []).append(np.asarray(obj[wname][()]))
            if len(by_prefix) == 1:  # one layer: the group's name is the layer's
                groups.setdefault(name.split("/")[-1], next(iter(by_prefix.values())))
            else:  # a nested model saved as one group: its layers by their weights' prefixes
                for prefix, arrays in by_prefix.items():
                    groups.setdefault(prefix if prefix is not None else name.split("/")[-1], arrays)
        elif isinstance(obj, h5py.Group) and (name.endswith("/vars") or name == "vars"):
            keys = sorted(obj.keys(), key=lambda k: int(k) if k.isdigit() else 0)
            arrays = [np.asarray(obj[k][()]) for k in keys if isinstance(obj[k], h5py.Dataset)]
            if arrays:
                parts = [p for p in name.split("/")[:-1] if p != "cell"]  # an RNN's weights sit in its 'cell'
                layer = [p for p in parts if p not in _STORE_CONTAINERS]
                for k in range(len(layer), 0, -1):
                    if tuple(layer[:k]) in names:
                        parts = [names[tuple(layer[:k])], *layer[k:]]
                        break
                if len(parts) > 1 and parts[-1] == "batchnorm":  # a QConv2DBatchnorm's own batch normalization
                    parts = [f"{parts[-2]}/batchnorm"]
                if len(parts) > 1 and parts[-1] in _WRAPPED_PARTS:  # a wrapper's layer: the wrapper's weights
                    wrapped.setdefault(parts[-2], {})[parts[-1]] = arrays
                    return
                groups.setdefault(parts[-1] if parts else name, arrays)

    wrapped: dict[str, dict[str, list[np.ndarray]]] = {}
    source.visititems(visit)
    for owner, parts in wrapped.items():  # in the wrapper's own order (a Bidirectional: forward, then backward)
        groups.setdefault(owner, [a for part in _WRAPPED_PARTS for a in parts.get(part, [])])
    for key in [k for k in groups if k.endswith("/batchnorm")]:
        _qkeras_order(groups, key.removesuffix("/batchnorm"), groups.pop(key))
    return groups


def _qkeras_order(groups: dict, owner: str, batchnorm: list) -> None:
    """A .keras file keeps a QConv2DBatchnorm's batch normalization (gamma, beta, moving mean and
    variance) apart from its kernel, bias and iteration count: put them back in the layer's own
    order (kernel, [bias], gamma, beta, iteration, mean, variance)."""
    conv = groups.get(owner)
    if conv is None or len(conv) not in (2, 3) or len(batchnorm) != 4 or np.ndim(conv[-1]) != 0:
        return
    groups[owner] = [*conv[:-1], *batchnorm[:2], conv[-1], *batchnorm[2:]]


# ----------------------------------------------------------------------------- the layer list


def _refs(obj) -> list[str]:
    """Names of the layers a Keras inbound-node structure refers to (Keras 2 lists, Keras 3 dicts)."""
    out: list[str] = []
    if isinstance(obj, dict):
        if "keras_history" in obj:
            return [str(obj["keras_history"][0])]
        for v in obj.values():
            out += _refs(v)
    elif isinstance(obj, (list, tuple)):
        if len(obj) >= 3 and isinstance(obj[0], str) and isinstance(obj[1], int):
            return [obj[0]]
        for v in obj:
            out += _refs(v)
    return out


def _batchless(shape) -> Shape:
    if not isinstance(shape, (list, tuple)) or not shape:
        return ()
    if isinstance(shape[0], (list, tuple)):  # a list of shapes: the first
        return _batchless(shape[0])
    return tuple(int(d) if d is not None else 0 for d in shape[1:])


# what Keras writes for the layer settings this reader interprets, by key (a key means the same in
# every layer class): whole numbers or lists of them, as (least value, may be null)
_WHOLE_KEYS = {"units": (1, False), "filters": (1, False), "depth_multiplier": (1, False), "output_dim": (1, False),
               "input_length": (1, True), "kernel_size": (1, False), "strides": (1, True), "pool_size": (1, False),
               "dilation_rate": (1, False), "size": (1, False), "cropping": (0, False), "target_shape": (-1, False),
               "dims": (0, False), "axis": (None, False), "axes": (None, False)}
_SCALAR_KEYS = ("units", "filters", "depth_multiplier", "output_dim", "input_length")  # one number, never a list
_NESTED_KEYS = ("cropping",)  # Cropping2D's ((1, 1), (2, 2)); ZeroPadding's padding below likewise
_SHAPE_KEYS = ("batch_input_shape", "batch_shape")
_LIST_KEYS = ("target_shape", "dims")  # always lists, even of one
_MAPPING_KEYS = ("overrides",)


def _whole_numbers(value, minimum, levels: int = 1) -> bool:
    """Is ``value`` a whole number >= ``minimum`` (None: any sign), or a list of them (``levels`` deep)?"""
    if isinstance(value, (list, tuple)):
        return levels > 0 and len(value) > 0 and all(_whole_numbers(v, minimum, levels - 1) for v in value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and (minimum is None or value >= minimum)


def _is_shape(shape) -> bool:
    """A batch shape as Keras writes it (or a list of them): sizes or None after the batch size,
    which nothing here reads (Keras takes True for 1)."""
    if not isinstance(shape, (list, tuple)):
        return False
    if shape and isinstance(shape[0], (list, tuple)):
        return all(_is_shape(s) for s in shape)
    return all(d is None or _whole_numbers(d, 0, levels=0) for d in shape[1:])


def check_layer_config(name: str, config: dict) -> None:
    """The settings of layer ``name`` this reader interprets have the types Keras writes; a GraphError
    naming the layer, key and value otherwise (a damaged or hand-edited model file)."""
    for key, (minimum, nullable) in _WHOLE_KEYS.items():
        value = config.get(key)
        levels = 2 if key in _NESTED_KEYS else 0 if key in _SCALAR_KEYS else 1
        if key in config and not (value is None and nullable) and not _whole_numbers(value, minimum, levels):
            least = "" if minimum is None else f" >= {minimum}"
            lists = " (or a list of them)" if levels else ""
            raise GraphError(f"layer '{name}' has {key} {shown(value)}, not a whole number{least}{lists}")
    for key in _LIST_KEYS:
        if key in config and not isinstance(config[key], (list, tuple)):
            raise GraphError(f"layer '{name}' has {key} {shown(config[key])}, not a list of whole numbers")
    padding = config.get("padding")
    if padding is not None and not isinstance(padding, str) and not _whole_numbers(padding, 0, 2):
        raise GraphError(f"layer '{name}' has padding {shown(padding)}, not 'valid'/'same' or whole numbers >= 0")
    for key in _SHAPE_KEYS:
        shape = config.get(key)
        if shape is not None and not _is_shape(shape):
            raise GraphError(f"layer '{name}' has {key} {shown(shape)}, not a shape (a list of sizes or null)")
    for key in _MAPPING_KEYS:
        if config.get(key) is not None and not isinstance(config[key], dict):
            raise GraphError(f"layer '{name}' has {key} {shown(config[key])}, not a mapping")


WRAPPERS = ("Bidirectional", "TimeDistributed")


def wrapped_layer(node: Node, key: str = "layer") -> Optional[Node]:
    """The layer a Bidirectional or TimeDistributed wrapper holds (``key`` 'backward_layer': a
    Bidirectional's own backward one), as a node fed what the wrapper feeds it: the whole sequence
    (Bidirectional) or one time step (TimeDistributed). None without a readable one."""
    entry = node.config.get(key)
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        return None
    config = entry["config"]
    name = str(config.get("name") or f"{node.name}_{key}")
    check_layer_config(f"{node.name}/{name}", config)
    shape = node.in_shape
    inner = Node(name, str(entry.get("class_name", "?")), config)
    if shape:
        inner.in_shapes = [shape if node.base == "Bidirectional" else shape[1:]]
    return inner


def _layers(model_json: dict) -> tuple[list[dict], bool]:
    """(layer entries, sequential?) of a model JSON, nested models opened up (as hls4ml flattens)."""
    if not isinstance(model_json, dict):
        raise GraphError(f"a model entry is {shown(model_json)}, not a mapping")
    cfg = model_json.get("config", model_json)
    if not isinstance(cfg, (dict, list)):
        raise GraphError(f"the model's config is {shown(cfg)}, not a mapping of layers")
    if isinstance(cfg, list):  # very old Sequential: the layer list itself
        return cfg, True
    layers = cfg.get("layers", [])
    if not isinstance(layers, list):
        raise GraphError(f"the model's 'layers' is {shown(layers)}, not a list of layers")
    sequential = model_json.get("class_name") == "Sequential"
    if sequential and cfg.get("build_input_shape") and not any(l.get("class_name") == "InputLayer" for l in layers):
        layers = [{"class_name": "InputLayer", "config": {"name": "input", "batch_input_shape": cfg["build_input_shape"]}}] + layers
    return layers, sequential


def nodes_from_json(model_json: dict, weights_source=None) -> list[Node]:
    """Layers of a model JSON in graph order, with shapes inferred and weights attached."""
    nodes = _nodes(model_json, _weight_groups(weights_source, model_json), set())
    if not nodes:
        raise GraphError("its model JSON lists no layers (each a mapping with a class_name and a config)")
    cfg = model_json.get("config", model_json)
    outputs = set(_refs(cfg.get("output_layers", []))) if isinstance(cfg, dict) else set()
    for node in nodes:
        node.output = node.name in outputs or node is nodes[-1]
    return nodes


def _nodes(model_json: dict, groups: dict, used: set) -> list[Node]:
    """``nodes_from_json`` with the weight groups read once and shared by nested models."""
    entries, sequential = _layers(model_json)
    nodes: list[Node] = []
    by_name: dict[str, Node] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        cls = str(entry.get("class_name", "?"))
        config = entry.get("config", {})
        if not isinstance(config, dict) or not isinstance(entry.get("build_config") or {}, dict):
            key = "config" if not isinstance(config, dict) else "build_config"
            raise GraphError(f"layer {i} ({cls}) has {key} {shown(entry.get(key))}, not a mapping")
        name = str(config.get("name") or entry.get("name") or f"layer{i}")
        check_layer_config(name, config)
        if cls in ("Sequential", "Functional", "Model"):  # nested model: its layers, in order
            inner = _nodes(entry, groups, used)
            inputs = {n.name for n in inner if n.cls == "InputLayer"}
            prev = nodes[-1].name if nodes else None
            for n in inner:
                if n.cls == "InputLayer":
                    continue
                # the nested model's own input is the outer layer feeding it
                n.inputs = [prev if r in inputs else r for r in n.inputs] or ([prev] if prev else [])
                nodes.append(n)
                by_name[n.name] = n
                prev = n.name
            if inner:
                by_name[name] = nodes[-1]
            continue
        node = Node(name, cls, config)
        if sequential:
            node.inputs = [nodes[-1].name] if nodes else []
        else:
            node.inputs = [r for r in _refs(entry.get("inbound_nodes", [])) if r in by_name]
        shape_hint = config.get("batch_input_shape") or config.get("batch_shape")
        if cls == "InputLayer":
            node.out_shape = _batchless(shape_hint)
        else:
            node.in_shapes = [by_name[r].out_shape or () for r in node.inputs]
            if (not node.in_shapes or not node.in_shapes[0]) and shape_hint:
                node.in_shapes = [_batchless(shape_hint)]
            build = (entry.get("build_config") or {}).get("input_shape")
            if (not node.in_shapes or not node.in_shapes[0]) and build:
                node.in_shapes = [_batchless(build)]
            node.weights = _match_weights(node, groups, used)
            if node.base == "Conv2DBatchnorm":
                node.weights = folded_conv_batchnorm(node.weights, node.config.get("epsilon", 1e-3))
            node.out_shape = _checked_shape(node)
        nodes.append(node)
        by_name[name] = node
    if not any(n.cls == "InputLayer" for n in nodes) and nodes and nodes[0].in_shapes:
        first = nodes[0]
        nodes.insert(0, Node(f"{first.name}_input", "InputLayer", {}, out_shape=first.in_shape))
    return nodes


def _expected_shapes(node: Node) -> Optional[tuple]:
    """Kernel shape a layer's first weight must have, from its config and input shape."""
    c, shape = node.config, node.in_shape
    if not shape:
        return None
    base = node.base
    if base in ("Dense", "DenseBatchnorm"):
        return (shape[-1], int(c.get("units", 0)))
    if base in ("Conv1D", "Conv2D", "Conv2DBatchnorm"):
        k = tuple(c.get("kernel_size", ()))
        return (*k, shape[-1], int(c.get("filters", 0)))
    if base in ("SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D"):
        k = tuple(c.get("kernel_size", ()))
        return (*k, shape[-1], int(c.get("depth_multiplier", 1)))
    return None


def _match_weights(node: Node, groups: dict, used: set) -> list[np.ndarray]:
    """The layer's weights: the group of its own name, else (files whose group names differ from the
    layer names, e.g. Keras 2.13 .keras) the first unused group whose kernel has the expected shape."""
    if node.name in groups and node.name not in used:
        used.add(node.name)
        return groups[node.name]
    expected = _expected_shapes(node)
    if expected is None:
        # Keras 3 names a layer's weight group after its class (fixed_point_quantizer,
        # fixed_point_quantizer_1, ...), numbered in creation order: the first unused one
        stem = re.sub(r"(?<!^)(?=[A-Z])", "_", node.cls).lower()
        numbered = [(int(m.group(1) or 0), g) for g in groups
                    if g not in used and (m := re.fullmatch(re.escape(stem) + r"(?:_(\d+))?", g))]
        if not numbered:
            return []
        gname = min(numbered)[1]
        used.add(gname)
        return groups[gname]
    for gname, arrays in groups.items():
        if gname not in used and arrays and tuple(arrays[0].shape) == expected:
            used.add(gname)
            return arrays
    return []


# ----------------------------------------------------------------------------- shape rules


def _tuple(value, n: int) -> tuple:
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _axis_pairs(value, n: int) -> list[tuple]:
    """A padding's or cropping's (before, after) per spatial axis as Keras writes it: one number for
    every side, (a, b) for a 1D layer, or one number or pair per axis."""
    if n == 1:
        return [_tuple(value, 2) if isinstance(value, (list, tuple)) else (int(value), int(value))]
    parts = value if isinstance(value, (list, tuple)) and len(value) == n else [value] * n
    return [_tuple(p, 2) if isinstance(p, (list, tuple)) else (int(p), int(p)) for p in parts]


def _conv_out(spatial: Shape, c: dict, kernel: tuple) -> Shape:
    n = len(spatial)
    strides = _tuple(c.get("strides", 1), n)
    dilation = _tuple(c.get("dilation_rate", 1), n)
    out = []
    for size, k, s, d in zip(spatial, kernel, strides, dilation):
        if c.get("padding", "valid") == "same":
            out.append(math.ceil(size / s))
        else:
            out.append(max((size - (k - 1) * d - 1) // s + 1, 0))
    return tuple(out)


def _checked_shape(node: Node) -> Optional[Shape]:
    """``infer_shape``, with a config that does not fit the layer's input (a damaged or hand-edited
    model file: a Permute of axes the input lacks, a Reshape to another size, a 2D padding of a
    vector) refused in one line naming the layer."""
    try:
        shape = infer_shape(node)
    except GraphError:
        raise
    except (TypeError, ValueError, IndexError, KeyError, ZeroDivisionError, OverflowError) as exc:
        raise GraphError(f"layer '{node.name}' ({node.cls}): its config does not fit its input shape "
                         f"{shown(tuple(node.in_shape))} ({type(exc).__name__}: {str(exc)[:80]}); the model file is damaged "
                         "or hand-edited: re-save it from Keras") from None
    if shape is not None and any(not isinstance(d, (int, np.integer)) or d < 0 for d in shape):
        raise GraphError(f"layer '{node.name}' ({node.cls}) would output shape {shown(shape)} from input "
                         f"{shown(tuple(node.in_shape))}; the model file is damaged or hand-edited: re-save it from Keras")
    return shape


def infer_shape(node: Node) -> Optional[Shape]:
    """Output shape (no batch axis) of a layer from its config and input shape; None when this
    class has no rule here or the input shape is unknown."""
    c, shape, base = node.config, node.in_shape, node.base
    if not shape and base not in ("Embedding",):
        return None
    if base in ("Dense", "DenseBatchnorm"):
        return (*shape[:-1], int(c.get("units", 0)))
    if base in ("Conv1D", "Conv2D", "Conv2DBatchnorm", "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D"):
        spatial = shape[:-1]
        kernel = _tuple(c.get("kernel_size", 1), len(spatial))
        channels = int(c["filters"]) if "filters" in c and c["filters"] else shape[-1] * int(c.get("depth_multiplier", 1))
        return (*_conv_out(spatial, c, kernel), channels)
    if base in ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D"):
        spatial = shape[:-1]
        pool = _tuple(c.get("pool_size", 2), len(spatial))
        strides = c.get("strides") or pool
        return (*_conv_out(spatial, {"padding": c.get("padding", "valid"), "strides": strides}, pool), shape[-1])
    if base.startswith("Global") and "Pooling" in base:
        return (shape[-1],) if not c.get("keepdims") else (*(1,) * (len(shape) - 1), shape[-1])
    if base == "Flatten":
        return (int(np.prod(shape)),)
    if base == "Reshape":
        target = [int(d) for d in c.get("target_shape", ())]
        if -1 in target:
            known = int(np.prod([d for d in target if d != -1])) or 1
            target[target.index(-1)] = int(np.prod(shape)) // known
        if target.count(-1) > 1 or int(np.prod(target)) != int(np.prod(shape)):
            raise GraphError(f"layer '{node.name}' reshapes {int(np.prod(shape))} values {shown(tuple(shape))} to "
                             f"{shown(c.get('target_shape'))}; the model file is damaged or hand-edited: re-save it from Keras")
        return tuple(target)
    if base == "Permute":
        dims = [int(d) for d in c.get("dims", ())]
        if sorted(dims) != list(range(1, len(shape) + 1)):
            raise GraphError(f"layer '{node.name}' has dims {shown(c.get('dims'))}, not an order of its input's axes "
                             f"1..{len(shape)}; the model file is damaged or hand-edited: re-save it from Keras")
        return tuple(shape[d - 1] for d in dims)
    if base in ("ZeroPadding1D", "ZeroPadding2D"):
        pads = _axis_pairs(c.get("padding", 1), len(shape) - 1)
        return (*(s + a + b for s, (a, b) in zip(shape[:-1], pads)), shape[-1])
    if base in ("Cropping1D", "Cropping2D"):  # Keras writes (a, b) and ((top, bottom), (left, right))
        out = tuple(s - a - b for s, (a, b) in zip(shape[:-1], _axis_pairs(c.get("cropping", 1), len(shape) - 1)))
        if any(d < 1 for d in out):
            raise GraphError(f"layer '{node.name}' crops {shown(c.get('cropping'))} off a {shown(tuple(shape))} input, "
                             "leaving nothing; the model file is damaged or hand-edited: re-save it from Keras")
        return (*out, shape[-1])
    if base in ("UpSampling1D", "UpSampling2D"):
        size = _tuple(c.get("size", 2), len(shape) - 1)
        return (*(s * k for s, k in zip(shape[:-1], size)), shape[-1])
    if base in ("Concatenate",):
        axis = int(c.get("axis", -1))
        if not all(node.in_shapes) or len({len(s) for s in node.in_shapes}) != 1:
            return None
        out = list(node.in_shapes[0])
        out[axis] = sum(s[axis] for s in node.in_shapes)
        return tuple(out)
    if base in WRAPPERS:
        inner = wrapped_layer(node)
        inner_out = infer_shape(inner) if inner is not None and inner.base not in WRAPPERS else None
        if not inner_out:
            return None
        if base == "TimeDistributed":  # the wrapped layer's output for every time step
            return (shape[0], *inner_out)
        mode = c.get("merge_mode", "concat")
        if mode is None:  # the two directions' outputs as a list: no one shape
            return None
        return (*inner_out[:-1], inner_out[-1] * 2) if mode == "concat" else inner_out
    if base in ("GRU", "LSTM", "SimpleRNN"):
        units = int(c.get("units", 0))
        return (shape[0], units) if c.get("return_sequences") else (units,)
    if base == "Embedding":
        return (*(shape or (int(c.get("input_length") or 1),)), int(c.get("output_dim", 0)))
    if base == "Dot":  # the summed axes drop out of both inputs; two vectors give one number
        if len(node.in_shapes) != 2 or not all(node.in_shapes):
            return None
        axes = c.get("axes", -1)
        axes = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
        a, b = (list(s) for s in node.in_shapes)
        keep = [[d for i, d in enumerate(s) if i != (int(ax) - 1 if int(ax) > 0 else len(s) + int(ax))]
                for s, ax in zip((a, b), axes)]
        return tuple(keep[0] + keep[1]) or (1,)
    if base in SAME_SHAPE:
        return shape
    return None


# layers whose output has the input's shape (activations, casts, normalization, dropout, merges)
SAME_SHAPE = {"Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "Softmax", "Dropout", "SpatialDropout1D",
              "SpatialDropout2D", "GaussianNoise", "BatchNormalization", "LayerNormalization", "Add", "Subtract", "Multiply",
              "Average", "Maximum", "Minimum", "FixedPointQuantizer", "QActivation", "ActivityRegularization"}


# ----------------------------------------------------------------------------- quantizers


_QSTRING = re.compile(r"^(\w+)\((.*)\)$")


def quantizer_config(q) -> Optional[tuple[str, dict]]:
    """(class name, config) of a QKeras quantizer as a model JSON holds it: a dict
    ({'class_name': 'quantized_bits', 'config': {...}}) or a string ('quantized_relu(8,0)')."""
    if isinstance(q, dict) and "class_name" in q:
        cfg = q.get("config", {}) or {}
        if not isinstance(cfg, dict):
            raise GraphError(f"quantizer {q['class_name']!r} has config {shown(cfg)}, not a mapping")
        return str(q["class_name"]), dict(cfg)
    if isinstance(q, str):
        m = _QSTRING.match(q.replace(" ", ""))
        if not m:
            return (q, {}) if q.startswith("quantized") else None
        name, args = m.groups()
        cfg: dict = {}
        positional = ["bits", "integer"]
        for i, arg in enumerate(a for a in args.split(",") if a):
            key, _, value = arg.partition("=")
            if not _:
                key, value = (positional[i] if i < len(positional) else f"arg{i}"), arg
            try:
                cfg[key] = float(value) if "." in value else int(value)
            except ValueError:
                cfg[key] = value
        return name, cfg
    if type(q).__name__.startswith("quantized") and hasattr(q, "get_config"):  # a live QKeras quantizer
        return type(q).__name__, dict(q.get_config())
    return None


def folded_conv_batchnorm(weights: list, epsilon) -> list:
    """A QKeras QConv2DBatchnorm's weights as hls4ml 1.3 builds the layer (``Conv2DBatchnorm.
    _get_folded_weights``; its kernel quantizer then applies to the folded kernel): kernel x inv and
    (bias - mean) x inv + beta, inv = gamma / sqrt(moving variance + epsilon) per filter. ``weights``
    in QKeras order: kernel, [bias], gamma, beta, iteration, moving mean, moving variance; others (a
    .keras file's, which keeps the batch normalization's weights apart) are returned as they are."""
    if len(weights) not in (6, 7) or not isinstance(epsilon, (int, float)):
        return weights
    # in float32 and hls4ml's order of operations: its kernel quantizer rounds the folded values, and
    # another order (or float64) could move one across a rounding boundary
    kernel = np.asarray(weights[0], dtype=np.float32)
    gamma, beta, _, mean, variance = (np.asarray(w, dtype=np.float32) for w in weights[-5:])
    if kernel.ndim < 1 or any(w.shape != kernel.shape[-1:] for w in (gamma, beta, mean, variance)):
        return weights
    inv = np.reciprocal(np.sqrt(variance + np.float32(epsilon))) * gamma
    bias = np.asarray(weights[1], dtype=np.float32) if len(weights) == 7 else np.float32(0.0)
    return [inv * kernel, inv * (bias - mean) + beta]


def read_model_file(path: Path | str) -> list[Node]:
    """Nodes of a model file (``.h5``, ``.keras``, ``.json`` + sibling weights are not guessed)."""
    config, weights = read_model_json(Path(path))
    return nodes_from_json(config, weights)


def nodes_from_keras(model) -> list[Node]:
    """Nodes of a live Keras model: its own JSON config through the same rules as a file (one
    design, one set of specs), with Keras's shapes and the weights as the hardware holds them
    (QKeras kernels through their quantizers)."""
    from hcp_fpga.models import QKERAS_RECURRENT, flat_layers, quantized_kernel, quantized_layer_weights

    nodes = nodes_from_json({"class_name": type(model).__name__ if type(model).__name__ == "Sequential" else "Functional",
                             "config": model.get_config()})
    live = {layer.name: layer for layer in flat_layers(model)}
    for node in nodes:
        layer = live.get(node.name)
        if layer is None:
            continue
        try:
            in_shape = layer.input_shape
            node.in_shapes = [_batchless(s) for s in in_shape] if isinstance(in_shape, list) else [_batchless(in_shape)]
            node.out_shape = _batchless(layer.output_shape)
        except (AttributeError, RuntimeError):  # a layer never called: keep the inferred shapes
            pass
        weights = [np.asarray(w) for w in layer.get_weights()]
        quantizer = getattr(layer, "kernel_quantizer_internal", None)
        if node.base == "Conv2DBatchnorm":
            weights = folded_conv_batchnorm(weights, node.config.get("epsilon", 1e-3))
            if quantizer is not None:
                weights[0] = np.asarray(quantizer(weights[0].astype(np.float32)))
        elif weights and getattr(layer, "kernel", None) is not None and quantizer is not None:
            weights[0] = np.asarray(quantized_kernel(layer))
        elif node.cls in QKERAS_RECURRENT:  # (the export hands hls4ml these: models.quantized_weights)
            weights = quantized_layer_weights(layer)
        node.weights = weights
    # a Sequential model lists no InputLayer among its layers, but its config (and hls4ml) has one:
    # kept, it sizes the input array as the exported firmware's top function declares it
    return nodes
