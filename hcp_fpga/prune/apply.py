"""Turn a selection of groups into a new model (the old one is left intact).

Zeroing structures (single weights, patterns, BRAM blocks) become masks: the new model holds exact
zeros, and the masks are returned for fine-tuning. Neurons/filters are removed physically: the
layer gets fewer units, the layers between it and the next multiplier layer (activations, pooling,
BatchNormalization, Flatten) follow, and the next multiplier layer loses the matching inputs, so the
exported hls4ml model is smaller under any strategy.
"""

from __future__ import annotations

import numpy as np

from hcp_fpga.errors import ConfigError
from hcp_fpga.models import MULT_LAYER_KINDS, copy_model, flat_layers, model_from_architecture, mult_layers
from hcp_fpga.prune.masks import Masks, combine, masks_of, with_masks
from hcp_fpga.prune.select import Candidates

# layers between two multiplier layers that carry a per-channel parameter vector
_PER_CHANNEL = {"BatchNormalization", "QBatchNormalization", "PReLU"}
_PASS_THROUGH = {"Activation", "QActivation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Dropout", "Flatten", "Reshape",
                 "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
                 "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "ZeroPadding1D", "ZeroPadding2D",
                 "InputLayer"}


def zero_groups(model, chosen: Candidates) -> tuple[object, Masks]:
    """A copy of ``model`` with the chosen groups zeroed, and the masks to keep them zero."""
    masks = masks_of(model)
    for name, groups in chosen.by_layer().items():
        masks = combine(masks, {name: chosen.groups[name].mask_without(groups)})
    return with_masks(model, masks), masks


def _is_chain(model) -> bool:
    import tensorflow as tf

    if isinstance(model, tf.keras.Sequential):
        return True
    for layer in model.layers:
        if len(layer._inbound_nodes) > 1 or any(len(tf.nest.flatten(n.inbound_layers)) > 1 for n in layer._inbound_nodes):
            return False
        if len(layer._outbound_nodes) > 1:
            return False
    return True


def remove_units(model, units: dict[str, list[int]]):
    """A new, smaller model without the given output units (Dense) / filters (Conv) of each layer.
    Chain models only (each layer feeds the next); the last multiplier layer keeps its outputs."""
    import tensorflow as tf

    if not units:
        return copy_model(model)
    if not _is_chain(model):
        raise ConfigError("neuron/filter pruning needs a chain model (each layer feeds only the next); "
                          "use unstructured or pattern pruning for branching models")
    layers = [l for l in flat_layers(model)]
    mults = [l.name for l in mult_layers(model)]
    if mults and mults[-1] in units and units[mults[-1]]:
        raise ConfigError(f"layer '{mults[-1]}' is the output layer: its units are the classes and cannot be pruned")
    keep: dict[str, np.ndarray] = {}  # layer -> kept output units
    for name, drop in units.items():
        layer = next(l for l in layers if l.name == name)
        n = int(layer.kernel.shape[-1])
        kept = np.setdiff1d(np.arange(n), np.asarray(drop, dtype=np.int64))
        if kept.size == 0:
            raise ConfigError(f"pruning every unit of layer '{name}' would disconnect the model; keep at least one")
        keep[name] = kept

    import json

    architecture = json.loads(model.to_json())
    config = architecture["config"]
    for entry in config["layers"]:  # Keras 2.14 records each layer's input shape; the shapes change
        entry.pop("build_config", None)
    new_weights: dict[str, list[np.ndarray]] = {l.name: l.get_weights() for l in layers}
    incoming: np.ndarray | None = None  # kept channels flowing into the current layer
    positions = 1  # spatial positions folded into the channel axis by a Flatten since the last cut
    for layer in layers:
        cls = type(layer).__name__
        w = new_weights[layer.name]
        if cls in MULT_LAYER_KINDS:
            if incoming is not None:
                kernel = w[0]
                if kernel.ndim == 2 and positions > 1:  # Dense after Flatten: rows are (position, channel)
                    c = kernel.shape[0] // positions
                    kernel = kernel.reshape(positions, c, -1)[:, incoming, :].reshape(-1, kernel.shape[-1])
                else:  # Dense after Dense, or Conv: the input-channel axis is the second to last
                    kernel = np.take(kernel, incoming, axis=-2)
                w[0] = kernel
            incoming, positions = None, 1
            if layer.name in keep:
                kept = keep[layer.name]
                w = [np.take(w[0], kept, axis=-1)] + [np.take(b, kept, axis=-1) for b in w[1:]]
                incoming = kept
                _set_units(config, layer.name, int(kept.size))
            new_weights[layer.name] = w
        elif incoming is not None:
            if cls in _PER_CHANNEL:
                new_weights[layer.name] = [np.take(p, incoming, axis=-1) for p in w]
            elif cls == "Flatten":
                shape = layer.input_shape
                positions = int(np.prod(shape[1:-1])) if len(shape) > 2 else 1
            elif cls not in _PASS_THROUGH:
                raise ConfigError(f"cannot prune units through layer '{layer.name}' ({cls}); prune a layer after it")
    new = model_from_architecture(architecture)
    for layer in flat_layers(new):
        if layer.name in new_weights and new_weights[layer.name]:
            layer.set_weights(new_weights[layer.name])
    return new


def _set_units(config: dict, name: str, n: int) -> None:
    for entry in config["layers"]:
        if entry["config"].get("name") == name:
            key = "units" if "units" in entry["config"] else "filters"
            entry["config"][key] = n
            return
    raise ConfigError(f"layer '{name}' not found in the model config")


def apply_selection(model, chosen: Candidates) -> tuple[object, Masks]:
    """The pruned model and its masks. Neuron groups are removed (the model shrinks); other groups
    are zeroed. Returns masks of the new model's kernels (all ones where nothing is masked)."""
    structures = {lg.structure for lg in chosen.groups.values()}
    if "neuron" in structures:
        neuron_layers = {n for n, lg in chosen.groups.items() if lg.structure == "neuron"}
        by_layer = chosen.by_layer()
        shrunk = remove_units(model, {n: by_layer.get(n, []) for n in neuron_layers if by_layer.get(n)})
        rest = chosen.subset(np.array([str(n) not in neuron_layers for n in chosen.layer], dtype=bool))
        if len(rest):
            return zero_groups(shrunk, rest)
        return shrunk, masks_of(shrunk)
    return zero_groups(model, chosen)
