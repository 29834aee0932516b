"""Layer specs of a project folder that holds an hls4ml config and weight files but no model and
no generated C++ (a repository that kept only ``firmware/weights/*.txt``).

What the files say, and nothing more: hls4ml names the weights of graph node N ``w<N>.txt`` /
``b<N>.txt`` (multiplier layers), ``s<N>.txt`` / ``b<N>.txt`` (BatchNormalization scale and bias) and
``wr<N>.txt`` / ``br<N>.txt`` (the recurrent kernel of GRU/LSTM), in graph order. A bias gives a
layer's outputs and the kernel size over it its inputs, so each multiplier layer is priced as a dense
layer of that size. What the files cannot say (activations and pooling have no weights; a
convolution's positions and a recurrence's time steps are unknown) makes the estimate a lower
bound, and its notes say so. One exception: a recurrent first layer's time steps follow from the
width of the top function's input port where a csynth report lists it (its signature: steps x
inputs x bits), and the note says where they came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hcp_fpga.estimator.firmware import read_weights_txt
from hcp_fpga.estimator.precision import parse_fixed
from hcp_fpga.estimator.reports import ActivationModule
from hcp_fpga.estimator.spec import (CELL_OPS, LayerSpec, activation_kind, explicit_results, grid_fixed, recurrent_cell,
                                     too_wide)

_FILE = re.compile(r"^(w|b|s|wr|br)(\d+)\.txt$")


def _recurrent(index: int, files: dict, default, common: dict,
               input_bits: int | None = None) -> tuple[list[LayerSpec] | None, int | None]:
    """(specs, time steps) of a recurrent layer from its files: the recurrent bias gives gates x
    units, the recurrent kernel units x that (so its size over the bias size is the units, and gates
    3 is a GRU, 4 an LSTM, 1 a SimpleRNN), the input kernel inputs x that. The sequence length is not
    in them: where the top function's input port is ``input_bits`` wide (a first layer), it holds
    steps x inputs values of the input type (the config's default), when that divides exactly;
    else the cell is priced for one step and the steps are None. Specs None: no cell."""
    recurrent = read_weights_txt(files["wr"])
    width = read_weights_txt(files["br"]).size if "br" in files else (read_weights_txt(files["b"]).size if "b" in files else 0)
    kernel = read_weights_txt(files["w"]) if "w" in files else np.zeros(0)
    if width == 0 or recurrent.size % width or kernel.size % width:
        return None, None
    units = recurrent.size // width
    if units == 0 or width % units or width // units not in CELL_OPS or kernel.size == 0:
        return None, None
    per_step = kernel.size // width * default.width
    steps = input_bits // per_step if input_bits and input_bits % per_step == 0 else None
    wtype = grid_fixed(np.concatenate([kernel, recurrent]), default)
    cell = recurrent_cell(f"layer{index}", kernel.reshape(-1, width), recurrent.reshape(units, width), steps or 1, wtype,
                          default, default, {**common, "out_size": units, "channels": units}, accum=default)
    return cell, steps


def weights_only_specs(project_dir: Path, config: dict, settings, input_bits: int | None = None,
                       activations: Sequence[ActivationModule] = ()) -> tuple[list[LayerSpec], list[str]]:
    """(specs, notes) from ``firmware/weights``. ``input_bits``: the width of the top function's input
    ports, where a report lists it (gives a recurrent first layer its time steps). ``activations``:
    the activation modules a report lists (``reports.activation_modules``), priced between the
    weighted layers by their index. Raises ConfigError when there are no weight files."""
    from hcp_fpga.errors import ConfigError

    folder = Path(project_dir) / "firmware" / "weights"
    found: dict[int, dict[str, Path]] = {}
    if folder.is_dir():
        for f in folder.iterdir():
            m = _FILE.match(f.name)
            if m:
                found.setdefault(int(m.group(2)), {})[m.group(1)] = f
    if not found:
        raise ConfigError(f"'{project_dir}' holds no model file, no generated C++ and no weight files "
                          "(firmware/weights/w<N>.txt); pass the model with --model-file")
    default = parse_fixed(settings.precision)  # without a model, every type is the config's default
    by_index: dict[int, list[LayerSpec]] = {}
    unpriced: list[str] = []
    notes: list[str] = []
    for index in sorted(found):
        specs = by_index.setdefault(index, [])
        files = found[index]
        common = dict(io_type=settings.io_type, strategy=settings.strategy, reuse_factor=settings.reuse_factor)
        if "wr" in files:
            cell, steps = _recurrent(index, files, default, common, input_bits if index == min(found) else None)
            if cell is None:
                unpriced.append(f"recurrent layer {index} (its weight files do not form a GRU/LSTM/SimpleRNN)")
                continue
            specs += cell
            if steps:
                notes.append(f"time steps of recurrent layer {index}: {steps}, from the report's input port width "
                             f"({input_bits:,} bits = {steps} steps x {cell[0].n_in} inputs x {default.width} bits)")
            else:  # the cell is priced; the steps it takes (latency) and the selection of each step's
                # input from the whole sequence (logic that grows with it) are not
                unpriced.append(f"time steps of recurrent layer {index} (latency and input selection counted for one step)")
            continue
        if "w" in files:
            kernel = read_weights_txt(files["w"])
            n_out = read_weights_txt(files["b"]).size if "b" in files else 1
            if n_out == 0 or kernel.size % n_out:
                unpriced.append(f"layer {index} (w{index}.txt of {kernel.size} values does not divide by its {n_out} outputs)")
                continue
            n_in = kernel.size // n_out
            wtype = grid_fixed(kernel, default)
            if (wide := too_wide(wtype)) is not None:
                unpriced.append(f"layer {index} ({wide})")
                continue
            specs.append(LayerSpec(f"layer{index}", "dense", n_in, n_out, 1, out_size=n_out, channels=n_out,
                                   mantissas=wtype.mantissas(kernel.reshape(n_in, n_out)), weight=wtype, input=default,
                                   result=default, accum=default, **common))
        elif "s" in files:
            n = read_weights_txt(files["s"]).size
            specs.append(LayerSpec(f"bn{index}", "bn", out_size=n, channels=n, input=default, result=default, **common))
    placed = _place_activations(by_index, activations, default, settings)
    specs = [sp for index in sorted(by_index) for sp in by_index[index]]
    if placed:
        notes.append(f"{', '.join(placed)}: activations read from the csynth report's module list (function, types, "
                     "position); their sizes are the layer's before them")
    layers = (config.get("HLSConfig", {}) or {}).get("LayerName", {}) or {}
    weighted = {n for n, c in layers.items() if isinstance(c, dict) and isinstance(c.get("Precision"), dict)
                and set(c["Precision"]) & {"weight", "scale", "bias"}}
    # a weightless entry is accounted for by a placed activation whose function its name carries and
    # whose result type it sets (both known: an untyped entry or module proves nothing)
    covered = {(a.function, a.result) for a in activations if f"{a.function}{a.index}" in placed and a.result}
    results = explicit_results(config)
    unpriced += sorted(n for n in layers if n not in weighted and not n.endswith("_linear") and n != "inputs"
                       and not n.startswith("input")
                       and not any(f in n.lower() and results.get(n) == t for f, t in covered))
    if not layers:
        unpriced.append("layers without weights (activations, pooling: no model file to name them)")
    notes.insert(0, "no model file and no generated C++: layers read from the weight files alone (each kernel priced as a "
                 "dense layer of its size, a recurrent layer as its cell; convolution positions unknown, and time steps unless noted)")
    return specs + [LayerSpec(n, "unmodelled", io_type=settings.io_type) for n in unpriced], notes


def _place_activations(by_index: dict[int, list[LayerSpec]], activations: Sequence[ActivationModule], default,
                       settings) -> list[str]:
    """Adds to ``by_index`` each report activation whose index no weight file took, sized as the
    layer before it (an activation keeps its input's shape); returns their names. One before any
    weighted layer has no known size and is left out."""
    placed = []
    for act in activations:
        before = [i for i in by_index if i < act.index and by_index[i]]
        if act.index in by_index or not before:
            continue
        prev = by_index[max(before)][-1]
        kind = activation_kind(act.function)
        if kind == "linear" and act.input is None:
            continue  # a cast between unknown types: nothing to price
        name = f"{act.function}{act.index}"
        by_index[act.index] = [LayerSpec(name, kind, out_size=prev.out_size, channels=prev.channels,
                                         input=act.input or prev.result, result=act.result or default,
                                         io_type=settings.io_type, strategy=settings.strategy,
                                         reuse_factor=settings.reuse_factor)]
        placed.append(name)
    return placed

