"""Safe model loading, layer inspection and small model builders.

Loading never runs code stored in a model file: the architecture is read as data first, and a
``Lambda`` layer (which carries serialized Python) is refused unless the caller opts in. This
module does not call hls4ml; see ``hcp_fpga.hls`` for conversion.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from hcp_fpga.errors import ModelLoadError, UnsupportedLayerError, check_regular_file, first_line
from hcp_fpga.model_checks import (check_architecture_shape, check_finite_weights, check_known_classes, check_model_size,
                                   h5_parameter_count)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow start-up chatter hides real messages

# Layers that carry executable code in their config: Lambda holds serialized Python; TFOpLambda and
# SlicingOpLambda call any TensorFlow function by name (``tf.io.write_file`` among them) when built.
UNSAFE_LAYERS = {"Lambda", "TFOpLambda", "SlicingOpLambda"}
# Keras layer classes with a multiplier array (the reuse factor divides it), and their kind.
MULT_LAYER_KINDS = {"Dense": "dense", "QDense": "dense", "Conv1D": "conv1d", "QConv1D": "conv1d",
                    "Conv2D": "conv2d", "QConv2D": "conv2d"}
# Layers hls4ml's Keras-2 parser accepts without a handler (it drops them): keras_v2_to_hls.skip_layers.
SKIPPED_LAYERS = {"InputLayer", "Dropout"}
# Layers hls4ml 1.3's Keras front end converts but its Vivado/Vitis backends write no code for: the
# exported design silently skips them (SimpleRNN: the weights are included, no call is written;
# checked by converting one with both backends).
NO_CODE_ON_XILINX = {"SimpleRNN"}


def custom_objects() -> dict[str, Any]:
    """QKeras layers, quantizers and constraints, for deserializing QKeras models."""
    from qkeras.utils import _add_supported_quantized_objects

    objects: dict[str, Any] = {}
    _add_supported_quantized_objects(objects)
    return objects


# ----------------------------------------------------------------------------- reading configs


def _iter_layer_configs(config: Any) -> Iterator[dict]:
    """Yield every layer dict in a Keras model config, descending into nested models/wrappers."""
    if isinstance(config, dict):
        if "class_name" in config and isinstance(config.get("config"), dict):
            yield config
        for value in config.values():
            yield from _iter_layer_configs(value)
    elif isinstance(config, list):
        for item in config:
            yield from _iter_layer_configs(item)


def read_architecture(path: Path) -> dict:
    """The model architecture of ``path`` as plain data, without deserializing any layer; its shape
    (a model config with a list of named layers) is checked before anything else reads it."""
    architecture = _read_architecture(Path(path))
    check_architecture_shape(architecture, str(path))
    return architecture


_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def model_format(path: Path) -> str:
    """The format of a model file by its suffix, except a '.keras' file that holds HDF5 (older Keras
    saved one under any name; real projects keep such files): '.h5' then."""
    suffix = path.suffix.lower()
    if suffix == ".keras" and path.is_file():
        try:
            with open(path, "rb") as fh:
                if fh.read(len(_HDF5_MAGIC)) == _HDF5_MAGIC:
                    return ".h5"
        except OSError:
            pass
    return suffix


def _read_architecture(path: Path) -> dict:
    if not path.exists():
        raise ModelLoadError(f"model file '{path}' does not exist; check the path")
    if not path.is_dir():
        check_regular_file(path, f"model file '{path}'", "give a Keras model file", ModelLoadError)
    try:
        if path.is_dir():
            return _architecture_from_savedmodel(path)
        suffix = model_format(path)
        if suffix == ".json":
            return json.loads(path.read_bytes())
        if suffix in (".h5", ".hdf5"):
            return _architecture_from_h5(path)
        if suffix == ".keras":
            return _architecture_from_keras_zip(path)
    except ModelLoadError:
        raise
    except (OSError, ValueError, KeyError, TypeError, RecursionError, zipfile.BadZipFile) as exc:
        raise ModelLoadError(
            f"model file '{path}' is corrupt or not a Keras model ({type(exc).__name__}: {first_line(exc, 120)}); "
            "re-save it with model.save() or model.to_json()"
        ) from None
    raise ModelLoadError(
        f"model file '{path}' has an unknown format; give a Keras .json (+ --weights .h5), a full .h5, a .keras file "
        "or a SavedModel folder"
    )


def _architecture_from_h5(path: Path) -> dict:
    import h5py

    with h5py.File(path, "r") as f:
        raw = f.attrs.get("model_config")
        if raw is None:
            raise ModelLoadError(
                f"'{path}' holds weights only (no architecture); pass the architecture JSON as MODEL and this file "
                "with --weights"
            )
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    return json.loads(raw)


def _architecture_from_keras_zip(path: Path) -> dict:
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        if "config.json" not in names:
            raise ModelLoadError(f"'{path}' is a zip without config.json; it is not a Keras .keras file")
        config = json.loads(z.read("config.json"))
        meta = json.loads(z.read("metadata.json")) if "metadata.json" in names else {}
    version = str(meta.get("keras_version", ""))
    if version.startswith("3"):
        raise ModelLoadError(
            f"'{path}' was written by Keras {version}; this environment runs Keras 2 (needed for QKeras and "
            "hls4ml's Keras-2 front end): export it as JSON + .h5 weights from Keras 3, or use the project's txt weights"
        )
    return config


def _architecture_from_savedmodel(path: Path) -> dict:
    meta_file = path / "keras_metadata.pb"
    if not meta_file.exists():
        raise ModelLoadError(
            f"folder '{path}' is not a Keras SavedModel (no keras_metadata.pb); save it with model.save(folder)"
        )
    from keras.protobuf import saved_metadata_pb2

    meta = saved_metadata_pb2.SavedMetadata()
    meta.ParseFromString(meta_file.read_bytes())
    for node in meta.nodes:
        if node.node_path == "root":
            return json.loads(node.metadata)
    raise ModelLoadError(f"SavedModel '{path}' has no root Keras metadata; re-save it with model.save(folder)")


def layer_classes(architecture: dict) -> list[tuple[str, str]]:
    """(name, class_name) of every layer in an architecture, nested ones included."""
    # every dict with a class_name, wrapped layers (TimeDistributed, Bidirectional) included: a Lambda
    # hidden inside a wrapper must be found too
    return [(str(layer["config"].get("name", "?")), str(layer["class_name"]))
            for layer in _iter_layer_configs(architecture.get("config", architecture))]


def check_safe(architecture: dict, source: str, allow_unsafe: bool = False) -> None:
    """Refuse layers that would run code from the file, unless ``allow_unsafe``."""
    if allow_unsafe:
        return
    unsafe = [(n, c) for n, c in layer_classes(architecture) if c in UNSAFE_LAYERS]
    if unsafe:
        listed = ", ".join(f"{n} ({c})" for n, c in unsafe)
        raise ModelLoadError(
            f"model '{source}' contains code-carrying layers: {listed}; loading would execute code from the file. "
            "Pass --allow-unsafe only if you trust it"
        )


# ----------------------------------------------------------------------------- loading


def load_model(path: Path | str, weights: Optional[Path | str] = None, allow_unsafe: bool = False):
    """Load a Keras 2 / QKeras model from JSON (+ ``weights`` .h5), full .h5, .keras or SavedModel."""
    path = Path(path)
    architecture = read_architecture(path)
    check_safe(architecture, str(path), allow_unsafe)
    suffix = model_format(path)
    if suffix == ".json" and weights is None:
        raise ModelLoadError(f"'{path}' is an architecture only; pass its weights with --weights FILE.h5")
    if weights is not None:
        weights = Path(weights)
        if not weights.is_file():
            raise ModelLoadError(f"weights file '{weights}' does not exist; check the path")
    sizes = check_model_size(architecture, str(path))  # before TensorFlow allocates anything
    _check_weights_file_size(weights if weights is not None else (path if suffix in (".h5", ".hdf5") else None),
                             sizes, str(path))

    import tensorflow as tf

    objects = custom_objects()
    check_known_classes(architecture, str(path), keras_layer_classes() | set(objects))
    from keras.src.saving.serialization_lib import SafeModeScope

    try:
        # Keras' own safe mode stays on unless the user opted in; our check above names the layers.
        with tf.keras.utils.custom_object_scope(objects), SafeModeScope(not allow_unsafe):
            if suffix == ".keras":
                try:
                    model = tf.keras.models.load_model(path, custom_objects=objects, compile=False, safe_mode=not allow_unsafe)
                except (ValueError, TypeError) as exc:
                    if "could not be deserialized" not in str(exc):
                        raise
                    # QKeras 0.9 layers (QActivation) do not come back from the .keras format (QKeras's own
                    # load_qmodel fails alike; hls4ml saves its projects' models so): the architecture
                    # we read and checked, then the file's weights
                    model = tf.keras.models.model_from_json(json.dumps(_legacy_qactivations(architecture)),
                                                            custom_objects=objects)
                    weights = weights or path
            else:
                # Build from the architecture we already read and checked (a SavedModel's traced graph
                # is never run); a full .h5 or a SavedModel's variables then give the weights.
                model = tf.keras.models.model_from_json(json.dumps(_legacy_qactivations(architecture)), custom_objects=objects)
                if weights is None and suffix in (".h5", ".hdf5"):
                    weights = path
                elif weights is None and path.is_dir():
                    weights = path / "variables" / "variables"
    except (MemoryError, tf.errors.ResourceExhaustedError):
        raise ModelLoadError(f"model '{path}' is too large to build in this machine's memory; shrink its layers") from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OSError, RecursionError, tf.errors.OpError) as exc:
        # (OpError: TensorFlow refusing a setting while it builds the layers, e.g. an initializer seed of NaN)
        raise ModelLoadError(
            f"cannot build model '{path}': {first_line(exc)}; check it was saved by Keras 2 / QKeras"
        ) from None
    if weights is not None:
        try:
            if path.is_dir():
                model.load_weights(str(weights)).expect_partial()
            else:
                model.load_weights(str(weights))
        except (ValueError, OSError, KeyError, TypeError, AttributeError, tf.errors.OpError) as exc:
            raise ModelLoadError(
                f"weights '{weights}' do not fit model '{path}': {first_line(exc)}; "
                "pass the weights saved with this architecture"
            ) from None
    check_finite_weights(model, str(path))
    return model


def _check_weights_file_size(weights: Optional[Path], sizes, source: str) -> None:
    """A weights file holding fewer values than the architecture needs at least cannot be its
    weights: say so before building the model (a huge layer would be allocated first)."""
    if weights is None or weights.suffix.lower() not in (".h5", ".hdf5"):
        return
    stored = h5_parameter_count(weights)
    needed = sum(s.parameters for s in sizes)
    if stored is not None and stored < needed:
        big = max(sizes, key=lambda s: s.parameters)
        raise ModelLoadError(
            f"weights '{weights}' hold {stored:,} values but model '{source}' needs at least {needed:,} "
            f"(layer '{big.name}': {big.parameters:,}); pass the weights saved with this architecture"
        )


def keras_layer_classes() -> set[str]:
    """Class names Keras 2 can deserialize as layers or models."""
    import tensorflow as tf

    return {n for n in dir(tf.keras.layers) if n[:1].isupper()} | {"Functional", "Sequential", "Model"}


def model_from_architecture(architecture: dict):
    """Build a (Q)Keras model from its architecture dict (``json.loads(model.to_json())``), weights
    freshly initialized; the QActivation form Keras 2.14 writes is fixed up first."""
    import tensorflow as tf

    return tf.keras.models.model_from_json(json.dumps(_legacy_qactivations(architecture)), custom_objects=custom_objects())


# QKeras's recurrent layers: their model files need a fix-up to load (_legacy_qactivations), and hls4ml
# 1.3 applies none of their weight quantizers (quantized_weights)
QKERAS_RECURRENT = ("QSimpleRNN", "QLSTM", "QGRU")


def _legacy_qactivations(architecture: dict) -> dict:
    """Rewrite QActivation quantizers saved by Keras >= 2.13 into the form QKeras 0.9 can rebuild, and
    drop the build_config of QKeras recurrent layers (see below).

    Keras 2.14 serializes them as {module, class_name, config, registered_name}; QKeras' QActivation
    only deserializes the older {class_name, config} form, so a model it saved would not load back.
    """
    arch = json.loads(json.dumps(architecture))
    for layer in _iter_layer_configs(arch):
        act = layer["config"].get("activation")
        if layer["class_name"] == "QActivation" and isinstance(act, dict) and "module" in act:
            layer["config"]["activation"] = {"class_name": act["class_name"], "config": act["config"], "__passive_serialization__": True}
        if layer["class_name"] in QKERAS_RECURRENT:
            # Keras 2.14 builds a registered (QKeras) layer from its saved build_config, whose input
            # shape JSON made a list, which its RNN.build takes for a list of shapes (an unknown shape:
            # "as_list() is not defined"); without it the model builds the layer on its input
            layer.pop("build_config", None)
    return arch


def _canonical(obj: Any) -> Any:
    """A serialized config without the bookkeeping keys that differ between Keras save formats."""
    if isinstance(obj, dict):
        drop = {"module", "registered_name", "__passive_serialization__", "build_config"}
        return {k: _canonical(v) for k, v in sorted(obj.items()) if k not in drop}
    if isinstance(obj, list):
        return [_canonical(v) for v in obj]
    return obj


def model_hash(model) -> str:
    """sha256 over the architecture and all weight bytes: the same model gives the same hash
    whichever format it was saved in."""
    h = hashlib.sha256(json.dumps(_canonical(json.loads(model.to_json())["config"]), sort_keys=True).encode())
    for w in model.get_weights():
        h.update(w.tobytes())
    return h.hexdigest()


# ----------------------------------------------------------------------------- hls4ml support


def supported_layer_classes() -> set[str]:
    """Keras 2 layer classes hls4ml 1.3's Keras-2 front end converts and its Vivado/Vitis backends
    write code for."""
    from hls4ml.converters import get_supported_keras_layers

    return (set(get_supported_keras_layers()) - NO_CODE_ON_XILINX) | SKIPPED_LAYERS


def unsupported_layers(model, io_type: Optional[str] = None) -> list[tuple[str, str]]:
    """(name, class) of every layer hls4ml cannot convert; (name, why) of every layer it converts into
    something else than Keras computes, or writes no code for in ``io_type``."""
    ok = supported_layer_classes()
    bad = []
    for layer in flat_layers(model):
        cls = type(layer).__name__
        why = cls if cls not in ok else _built_otherwise(layer, io_type)
        if why:
            bad.append((layer.name, why))
    return bad + _misfolded_permutes(model, io_type) + _shared_padded_convs(model, io_type) + miswired_nested_models(model)


def miswired_nested_models(model) -> list[tuple[str, str]]:
    """(name, why) of each nested model hls4ml 1.3 wires wrongly: its ExpandLayerGroup inserts the
    nested layers before the first reader of the nested model's input (``insert_node`` without
    'before'), so a nested model that is not that first reader reads, and is read, in the wrong
    place (C simulation against Keras: argmax agreement 0.35 on 100 normal inputs, both io types)."""
    import tensorflow as tf

    order = {id(layer): i for i, layer in enumerate(model.layers)}
    bad = []
    for layer in model.layers:
        if not isinstance(layer, tf.keras.Model) or not layer.inbound_nodes:
            continue
        sources = layer.inbound_nodes[0].inbound_layers
        for source in sources if isinstance(sources, list) else [sources]:
            readers = sorted({order[id(n.outbound_layer)] for n in source._outbound_nodes if id(n.outbound_layer) in order})
            if readers and readers[0] != order[id(layer)]:
                bad.append((layer.name, f"a nested model reading '{source.name}' after another layer does: hls4ml 1.3 "
                                        "wires its layers before that first reader; flatten the nested model into the "
                                        "outer one (call its layers directly)"))
                break
    return bad


def _shared_padded_convs(model, io_type: Optional[str]) -> list[tuple[str, str]]:
    """(name, why) of each 'same' 1D convolution hls4ml 1.3 pads wrongly in io_stream
    (``spec.shared_padded_conv1d``: two of them reading one tensor)."""
    from hcp_fpga.estimator.graph import GraphError, nodes_from_keras
    from hcp_fpga.estimator.spec import shared_padded_conv1d, skip_dropout

    if io_type != "io_stream" or sum(type(layer).__name__.removeprefix("Q").endswith("Conv1D")
                                     for layer in flat_layers(model)) < 2:
        return []
    try:
        return list(shared_padded_conv1d(skip_dropout(nodes_from_keras(model)), io_type).items())
    except GraphError:
        return []


def _misfolded_permutes(model, io_type: Optional[str]) -> list[tuple[str, str]]:
    """(name, why) of each Permute hls4ml 1.3 folds into the Dense after it with the wrong axes
    (``spec.misfolded_permute``): that design computes something else than the model."""
    from hcp_fpga.estimator.graph import GraphError, nodes_from_keras
    from hcp_fpga.estimator.spec import folded_transposes, misfolded_permute

    if not any(type(layer).__name__ == "Permute" for layer in flat_layers(model)):
        return []
    try:
        nodes = nodes_from_keras(model)
    except GraphError:
        return []
    by_name = {n.name: n for n in nodes}
    return [(name, f"Permute{tuple(by_name[name].config['dims'])} flattened into Dense '{dense.name}': hls4ml 1.3 "
                   "folds it into the Dense as Permute(3, 1, 2), so the design would compute something else; use "
                   "io_stream, or permute the Dense's inputs another way")
            for name, (_, dense) in folded_transposes(nodes, io_type or "io_parallel").items() if misfolded_permute(by_name[name])]


def _built_otherwise(layer, io_type: Optional[str]) -> Optional[str]:
    """Why hls4ml 1.3 would build ``layer`` otherwise than Keras computes it, or not at all; None if not."""
    from hcp_fpga.estimator.spec import NO_STREAM_CODE, keras_mismatch, unbuilt_layer, unbuilt_layer_activation

    cls = type(layer).__name__
    config = layer.get_config()
    in_shape, out_shape = _shape(layer, "input_shape"), _shape(layer, "output_shape")
    n_inputs = len(layer.input) if isinstance(layer.input, (list, tuple)) else 1
    if (why := unbuilt_layer(cls, config, in_shape, n_inputs) or keras_mismatch(cls, config, out_shape)) is not None:
        return why
    if io_type == "io_stream" and cls in NO_STREAM_CODE:
        return f"{cls}: hls4ml 1.3 writes no io_stream code for it; use io_parallel"
    return unbuilt_layer_activation(cls, config, io_type or "io_parallel")


def _shape(layer, which: str) -> tuple:
    """A layer's (first) input or output shape without the batch axis; () where Keras does not know it."""
    try:
        shape = getattr(layer, which)
    except (AttributeError, RuntimeError):
        return ()
    shape = shape[0] if isinstance(shape, list) and shape else shape
    return tuple(shape[1:]) if isinstance(shape, tuple) else ()


def check_convertible(model, io_type: Optional[str] = None) -> None:
    """Raise one error listing every layer hls4ml cannot convert (or would build otherwise than Keras,
    or not at all in ``io_type``), before any work starts."""
    bad = unsupported_layers(model, io_type)
    if bad:
        listed = ", ".join(f"{n} ({c})" for n, c in bad)
        raise UnsupportedLayerError(
            f"hls4ml cannot convert {len(bad)} layer(s): {listed}; replace them with supported layers "
            "(docs/troubleshooting.md) before export"
        )


def flat_layers(model):
    """Every layer, with nested models (hls4ml flattens them too) opened up."""
    import tensorflow as tf

    for layer in model.layers:
        if isinstance(layer, tf.keras.Model):
            yield from flat_layers(layer)
        else:
            yield layer


def mult_size(layer) -> Optional[tuple[int, int]]:
    """(n_in, n_out) of a layer's multiplier array, as hls4ml's ``get_layer_mult_size`` sees it
    (conv: kernel x channels by filters); None for layers without one."""
    if type(layer).__name__ not in MULT_LAYER_KINDS:
        return None
    shape = tuple(int(d) for d in layer.kernel.shape)
    n_in = 1
    for d in shape[:-1]:
        n_in *= d
    return n_in, shape[-1]


def array_sizes(layer) -> Optional[dict[str, tuple[int, int]]]:
    """{name: (n_in, n_out)} of the multiplier arrays hls4ml 1.3 builds of a depthwise or separable
    convolution or an LSTM/GRU, each checking the layer's reuse factor against its own size and
    silently taking the closest valid one: a separable conv split into '<name>_depthwise' and
    '<name>_pointwise', a recurrent layer's kernel and recurrent kernel ('<name> recurrent'); None
    for other layers (``mult_size`` covers Dense and Conv)."""
    cls = type(layer).__name__.removeprefix("Q")
    if cls in ("LSTM", "GRU") and hasattr(layer, "cell"):
        kernel = tuple(int(d) for d in layer.cell.kernel.shape)  # (n_in, units x gates)
        return {layer.name: kernel, f"{layer.name} recurrent": tuple(int(d) for d in layer.cell.recurrent_kernel.shape)}
    if not cls.startswith(("DepthwiseConv", "SeparableConv")) or not hasattr(layer, "depthwise_kernel"):
        return None
    shape = tuple(int(d) for d in layer.depthwise_kernel.shape)  # (kernel..., channels, multiplier)
    kernel = 1
    for d in shape[:-2]:
        kernel *= d
    channels = shape[-2] * shape[-1]
    depthwise = (kernel * shape[-2], channels)
    if cls.startswith("DepthwiseConv"):
        return {layer.name: depthwise}
    return {f"{layer.name}_depthwise": depthwise, f"{layer.name}_pointwise": (channels, int(layer.pointwise_kernel.shape[-1]))}


def is_depthwise_array(layer, part: str) -> bool:
    """Whether ``part`` of ``array_sizes(layer)`` is depthwise: a depthwise conv's array or a separable
    conv's depthwise half (hls4ml 1.3's init_depconv builds those at Latency unless asked for Resource)."""
    cls = type(layer).__name__.removeprefix("Q")
    return part == f"{layer.name}_depthwise" or (cls.startswith("DepthwiseConv") and part == layer.name)


# ----------------------------------------------------------------------------- inspection


@dataclass(frozen=True)
class LayerInfo:
    """What one layer holds: shape, parameters, sparsity and bit widths."""

    name: str
    type: str
    output_shape: tuple
    params: int
    weights: int
    nonzero_weights: int
    weight_bits: str
    bias_bits: str
    activation_bits: str

    def as_dict(self) -> dict:
        d = asdict(self)
        d["output_shape"] = list(self.output_shape)
        return d


def _quantizer_bits(q) -> str:
    """Readable bit width of a QKeras quantizer (object, string or None)."""
    if q is None:
        return "float"
    if isinstance(q, str):
        from qkeras.utils import get_quantizer

        q = get_quantizer(q)
    # QKeras quantizers print as their constructor call, e.g. quantized_bits(6,0,0,alpha=1)
    return str(q) if hasattr(q, "bits") else type(q).__name__


def _activation_bits(layer) -> str:
    qa = getattr(layer, "activation", None)
    if type(layer).__name__ == "QActivation" or (qa is not None and hasattr(qa, "bits")):
        return _quantizer_bits(getattr(layer, "quantizer", qa))
    return "float"


def quantized_kernel(layer):
    """The kernel as the hardware will hold it: QKeras-quantized where a quantizer is set."""
    import numpy as np

    kernel = getattr(layer, "kernel", None)
    if kernel is None:
        return None
    quantizer = getattr(layer, "kernel_quantizer_internal", None)
    if quantizer is not None:
        return np.asarray(quantizer(kernel))
    return np.asarray(kernel)


def inspect_model(model) -> list[LayerInfo]:
    """Per-layer table of a model: type, output shape, parameters, nonzero weights, bit widths."""
    import numpy as np

    rows = []
    for layer in flat_layers(model):
        kernel = quantized_kernel(layer)
        n_w = int(kernel.size) if kernel is not None else 0
        nz = int(np.count_nonzero(kernel)) if kernel is not None else 0
        has_bias = getattr(layer, "bias", None) is not None
        shape = layer.output_shape
        if isinstance(shape, list):
            shape = shape[0]
        rows.append(
            LayerInfo(
                name=layer.name,
                type=type(layer).__name__,
                output_shape=tuple(d for d in shape[1:]),
                params=int(layer.count_params()),
                weights=n_w,
                nonzero_weights=nz,
                weight_bits=_quantizer_bits(getattr(layer, "kernel_quantizer_internal", None)) if n_w else "-",
                bias_bits=_quantizer_bits(getattr(layer, "bias_quantizer_internal", None)) if has_bias else "-",
                activation_bits=_activation_bits(layer),
            )
        )
    return rows


# ----------------------------------------------------------------------------- builders


def write_model(model, folder, name: str = "model") -> tuple[Path, Path]:
    """Save ``model`` as ``<name>.json`` (architecture) + ``<name>_weights.h5`` in ``folder``: the
    form QKeras models round-trip through (``load_model(json, weights)`` reads it back)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arch, weights = folder / f"{name}.json", folder / f"{name}_weights.h5"
    arch.write_text(model.to_json())
    model.save_weights(weights)
    return arch, weights


def copy_model(model):
    """An independent copy (architecture and weights): transformations return new models and leave
    the old one intact, so a rollback is keeping the old one."""
    import tensorflow as tf

    with tf.keras.utils.custom_object_scope(custom_objects()):
        clone = tf.keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def quantized_weights(model) -> Any:
    """``model`` with the weights of the QKeras layers whose quantizers hls4ml 1.3 does not apply
    replaced by their quantizers' output (the same math in QKeras, whose quantizers leave such values
    as they are), so the project computes what QKeras does. hls4ml builds them from the float weights
    truncated into the types its config names:
    - a QDense over a sequence or an image, which it makes a convolution from the float weights
      without the quantizers (ReplaceMultidimensionalDenseWithConv; C simulation argmax agreement 0.67
      against QKeras on 300 normal inputs, a QDense(8) with quantized_bits(6,0,alpha=1) over (5, 6));
    - a QLSTM/QGRU/QSimpleRNN, whose add_weights passes no quantizer (QLSTM(4), quantized_bits(8,0):
      0.80).
    hls4ml quantizes any other layer's weights itself (``spec.quantizers_hls4ml_drops`` names these
    layers, for the estimate too). The same model object when there is none."""
    from hcp_fpga.estimator.graph import nodes_from_keras
    from hcp_fpga.estimator.spec import quantizers_hls4ml_drops

    if not any(type(layer).__name__ in ("QDense", *QKERAS_RECURRENT) for layer in flat_layers(model)):
        return model  # (the common case, without building the graph)
    names = set(quantizers_hls4ml_drops(nodes_from_keras(model)))
    if not names:
        return model
    clone = copy_model(model)
    for layer in flat_layers(clone):
        if layer.name in names:
            layer.set_weights(quantized_layer_weights(layer))
    return clone


def quantized_layer_weights(layer) -> list:
    """A QKeras layer's weights (kernel, [recurrent kernel], [bias], in its order) through the
    quantizers it (or its recurrent cell) sets, as QKeras computes with them; the others as they are."""
    import numpy as np

    owner = getattr(layer, "cell", None) or layer  # a recurrent layer's quantizers are its cell's
    values = []
    for weight in layer.weights:
        part = next((p for p in ("recurrent_kernel", "kernel", "bias") if weight.name.split("/")[-1].startswith(p)), "")
        quantizer = getattr(owner, f"{part.replace('_kernel', '')}_quantizer_internal", None) if part else None
        values.append(np.asarray(quantizer(weight)) if quantizer is not None else weight.numpy())
    return values


def mult_layers(model) -> list:
    """The layers with a multiplier array (Dense/Conv and their QKeras forms), in model order."""
    return [layer for layer in flat_layers(model) if type(layer).__name__ in MULT_LAYER_KINDS]


def build_mlp(input_dim: int, hidden: tuple[int, ...], n_classes: int, seed: int = 0):
    """A plain Keras MLP: Dense+ReLU hidden layers, softmax output."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    inputs = tf.keras.Input(shape=(input_dim,), name="features")  # "input" is reserved by hls4ml
    x = inputs
    for i, units in enumerate(hidden, start=1):
        x = tf.keras.layers.Dense(units, activation="relu", name=f"fc{i}")(x)
    outputs = tf.keras.layers.Dense(n_classes, activation="softmax", name="output")(x)
    return tf.keras.Model(inputs, outputs, name="mlp")


def build_cnn(input_shape: tuple, filters: tuple[int, ...], kernel: int, dense: tuple[int, ...], n_classes: int,
              seed: int = 0):
    """A small CNN: Conv1D (input (length, channels)) or Conv2D (input (h, w, channels)) + ReLU
    blocks with 2x max pooling where the size allows, then Dense + ReLU layers and a softmax output."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    two_d = len(input_shape) == 3
    L = tf.keras.layers
    inputs = tf.keras.Input(shape=tuple(input_shape), name="features")
    x = inputs
    size = min(input_shape[:-1])
    for i, f in enumerate(filters, start=1):
        conv = L.Conv2D(f, kernel, padding="same", activation="relu", name=f"conv{i}") if two_d else \
            L.Conv1D(f, kernel, padding="same", activation="relu", name=f"conv{i}")
        x = conv(x)
        if size >= 4:
            x = (L.MaxPooling2D(2, name=f"pool{i}") if two_d else L.MaxPooling1D(2, name=f"pool{i}"))(x)
            size //= 2
    x = L.Flatten(name="flatten")(x)
    for i, units in enumerate(dense, start=1):
        x = L.Dense(units, activation="relu", name=f"fc{i}")(x)
    outputs = L.Dense(n_classes, activation="softmax", name="output")(x)
    return tf.keras.Model(inputs, outputs, name="cnn2d" if two_d else "cnn1d")


# ----------------------------------------------------------------------------- names for C++


def with_c_names(model) -> tuple[Any, dict[str, str]]:
    """``model`` with every layer name that is not a safe C identifier renamed (hls4ml writes layer
    and input names verbatim into C++), and the mapping original -> new. The same model object when
    every name is safe already; otherwise a rebuilt copy with the same weights."""
    from hcp_fpga.cnames import safe_c_names

    names = [layer.name for layer in _all_layers(model)]
    mapping = safe_c_names(names)
    if not mapping:
        return model, {}
    return _rebuilt(model, _renamed(json.loads(model.to_json()), mapping)), mapping


def _rebuilt(model, architecture: dict):
    """A new model from ``architecture`` (a rewrite of ``model``'s) with ``model``'s weights."""
    rebuilt = model_from_architecture(architecture)
    rebuilt.set_weights(model.get_weights())
    return rebuilt


def softmax_layers_as_activations(model) -> Any:
    """``model`` with each Keras ``Softmax`` layer over the last axis written as the equivalent
    ``Activation('softmax')`` (same name, same math). hls4ml 1.3 names a Softmax *layer*'s config
    struct ``Softmax_config<N>`` but calls ``softmax_config<N>``, so its C++ does not compile (checked:
    Dense -> Softmax() fails to build, Dense -> Activation('softmax') builds). The same model object
    when there is nothing to rewrite; otherwise a rebuilt copy with the same weights."""
    if not any(type(layer).__name__ == "Softmax" for layer in _all_layers(model)):
        return model

    def as_activation(entry: dict) -> Optional[dict]:
        cfg = entry["config"]
        if entry["class_name"] != "Softmax" or cfg.get("axis", -1) not in (-1, [-1]):
            return None
        keep = {k: cfg[k] for k in ("name", "trainable", "dtype") if k in cfg}
        return {**{k: v for k, v in entry.items() if k not in ("class_name", "config", "module", "registered_name")},
                "class_name": "Activation", "config": {**keep, "activation": "softmax"}}

    return _with_layers_rewritten(model, as_activation)


def explicit_reshapes(model) -> Any:
    """``model`` with each Reshape's -1 written out as the size Keras infers for it (same math).
    hls4ml 1.3's Keras converter hands the layer after a Reshape the raw target shape, -1 included:
    a Conv1D after Reshape((-1, 2)) gets in_width -1 and its config out_width -3 (checked), C++ that
    cannot build. The same model object when there is nothing to rewrite; otherwise a rebuilt copy
    with the same weights."""
    return _with_config_values(model, "Reshape", {
        layer.name: {"target_shape": [int(d) for d in layer.output_shape[1:]]} for layer in _all_layers(model)
        if type(layer).__name__ == "Reshape" and -1 in tuple(layer.get_config().get("target_shape") or ())})


def explicit_embedding_lengths(model) -> Any:
    """``model`` with each Embedding's ``input_length`` written out where Keras leaves it None (its
    default). Keras then saves the layer's input shape as (None, None), and hls4ml 1.3's converter
    reads its length from there: "Unexpected value of attribute 'n_in' of layer 'embedding' ... got
    None" (checked, Input((6,)) -> Embedding -> LSTM). The same model object when there is nothing to
    rewrite; otherwise a rebuilt copy with the same weights."""
    return _with_config_values(model, "Embedding", {
        layer.name: {"input_length": layer.output_shape[1], "batch_input_shape": [None, layer.output_shape[1]]}
        for layer in _all_layers(model) if type(layer).__name__ == "Embedding"
        and layer.get_config().get("input_length") is None and isinstance(layer.output_shape[1], int)})


def _with_config_values(model, class_name: str, values: dict[str, dict]) -> Any:
    """``model`` with the Keras config of each ``class_name`` layer ``values`` names updated by its
    entry (``_with_layers_rewritten``): the same model object when ``values`` is empty."""
    if not values:
        return model

    def updated(entry: dict) -> Optional[dict]:
        cfg = entry["config"]
        if entry["class_name"] != class_name or cfg.get("name") not in values:
            return None
        return {**entry, "config": {**cfg, **values[cfg["name"]]}}

    return _with_layers_rewritten(model, updated)


def _with_layers_rewritten(model, rewrite: Callable[[dict], Optional[dict]]) -> Any:
    """``model`` with each layer entry of its Keras JSON (a mapping with a class_name and a config
    mapping, nested models' included) replaced by ``rewrite(entry)`` where that is not None: a
    rebuilt copy with the same weights, or the same model object when nothing was replaced."""
    changed = False

    def walk(obj: Any) -> Any:
        nonlocal changed
        if isinstance(obj, dict):
            if "class_name" in obj and isinstance(obj.get("config"), dict):
                new = rewrite(obj)
                if new is not None:
                    changed = True
                    return new
            return {k: walk(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        return obj

    rewritten = walk(json.loads(model.to_json()))
    return _rebuilt(model, rewritten) if changed else model


def _all_layers(model):
    import tensorflow as tf

    for layer in model.layers:
        yield layer
        if isinstance(layer, tf.keras.Model):
            yield from _all_layers(layer)


def _renamed(architecture: Any, mapping: dict[str, str]) -> Any:
    """The architecture with layer names replaced wherever Keras 2 stores them: each layer's
    ``config.name`` (and top-level ``name``), and the first item of node references
    (``inbound_nodes``, ``input_layers``, ``output_layers``: ``[name, node, tensor, ...]``)."""
    def walk(obj: Any, key: Optional[str] = None) -> Any:
        if isinstance(obj, dict):
            out = {}
            for k, v in obj.items():
                if k == "name" and isinstance(v, str) and v in mapping and ("class_name" in obj or "trainable" in obj
                                                                            or "dtype" in obj or "batch_input_shape" in obj):
                    out[k] = mapping[v]
                else:
                    out[k] = walk(v, k)
            return out
        if isinstance(obj, list):
            if key in ("inbound_nodes", "input_layers", "output_layers") or (
                    obj and isinstance(obj[0], str) and obj[0] in mapping and len(obj) >= 3
                    and all(isinstance(x, int) for x in obj[1:3])):
                return [_ref(x) for x in obj]
            return [walk(v) for v in obj]
        return obj

    def _ref(x: Any) -> Any:
        if isinstance(x, list) and x and isinstance(x[0], str) and x[0] in mapping and len(x) >= 3:
            return [mapping[x[0]], *[walk(v) for v in x[1:]]]
        if isinstance(x, list):
            return [_ref(v) for v in x]
        return walk(x)

    return walk(architecture)
