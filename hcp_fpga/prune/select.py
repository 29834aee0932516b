"""Choose what to prune: rank groups by score, price them with the estimator, and pick the ones that
lose the least score per unit of saving until the targets are met (greedy ratio, multi-resource).

``candidates`` is an analysis (model in, data out); ``select`` and ``select_fraction`` pick from
candidates; ``hcp_fpga.prune.apply`` turns a selection into a new model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from hcp_fpga.errors import ConfigError
from hcp_fpga.estimator.savings import SAVED, group_savings
from hcp_fpga.estimator.model import typed_specs
from hcp_fpga.models import mult_layers
from hcp_fpga.prune.scores import group_scores
from hcp_fpga.prune.structures import LayerGroups, layer_groups, mult_view_shape, structure_for

#: what a group's removal saves: the estimator's resources, and EBOPs (nonzero weights x weight
#: bits x input bits, per output position), so that a search minimizing EBOPs can target them
COLUMNS = SAVED + ("ebops",)


@dataclass(frozen=True)
class Candidates:
    """Every prunable group of a model: its layer, id, score and estimated savings."""

    layer: np.ndarray  # (N,) layer name per group
    group: np.ndarray  # (N,) group id within its layer
    score: np.ndarray  # (N,)
    savings: np.ndarray  # (N, 5): DSP, LUT, FF, BRAM18, EBOPs (``COLUMNS``)
    groups: dict = field(default_factory=dict)  # layer name -> LayerGroups

    def __len__(self) -> int:
        return int(self.score.size)

    def subset(self, index) -> "Candidates":
        return Candidates(self.layer[index], self.group[index], self.score[index], self.savings[index], self.groups)

    def by_layer(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for name, g in zip(self.layer, self.group):
            out.setdefault(str(name), []).append(int(g))
        return out


@dataclass(frozen=True)
class Selection:
    chosen: Candidates
    saved: dict  # resource -> estimated saving of the chosen groups (sum of their savings)
    unmet: dict  # resource -> target not reached (0 when met)

    @property
    def met(self) -> bool:
        return all(v <= 0 for v in self.unmet.values())


def candidates(model, settings, scores: dict[str, np.ndarray], structure: Optional[str] = None,
               aggregate: str = "sum", part: Optional[str] = None, layers: Optional[list[str]] = None,
               with_savings: bool = True) -> Candidates:
    """Groups of every multiplier layer (``structure``, or the one each layer's strategy can
    exploit), with their aggregated scores and estimated savings (zeros when ``with_savings`` is
    False: ranking by score alone). The output layer's units are never candidates for neuron pruning
    (they are the classes). Groups already all zero are left out."""
    # the design's own types (an input narrowed by layer_precision): savings and EBOPs per weight
    specs = typed_specs(model, settings) if with_savings else []
    mults = mult_layers(model)
    names, ids, sc, sav, groups = [], [], [], [], {}
    for pos, layer in enumerate(mults):
        if layers is not None and layer.name not in layers:
            continue
        rf = settings.reuse_of(layer.name)
        struct = structure or structure_for(settings.strategy_of(layer.name), rf)
        if struct == "neuron" and pos == len(mults) - 1:
            continue
        bits = next((s.weight.width for s in specs if s.name == layer.name), _weight_bits(layer))
        lg = layer_groups(layer.name, tuple(layer.kernel.shape), struct, rf, bits)
        groups[layer.name] = lg
        view = lg.ids.reshape(mult_view_shape(lg.ids.shape))
        savings = (group_savings(specs, layer.name, view, lg.n_groups, struct, settings.backend or "Vivado", part)
                   if with_savings else np.zeros((lg.n_groups, len(SAVED))))
        nonzero = np.bincount(lg.ids.reshape(-1), weights=(np.asarray(layer.kernel) != 0).reshape(-1).astype(float),
                              minlength=lg.n_groups)
        alive = nonzero > 0
        spec = next((s for s in specs if s.name == layer.name), None)
        per_weight = (spec.input.width * spec.weight.width * max(spec.n_pix, 1)) if spec is not None and spec.input else 0.0
        savings = np.column_stack([savings, nonzero * per_weight])
        gs = group_scores(scores[layer.name], lg, aggregate)
        for g in np.flatnonzero(alive):
            names.append(layer.name)
            ids.append(g)
            sc.append(gs[g])
            sav.append(savings[g])
    return Candidates(np.array(names, dtype=object), np.array(ids, dtype=np.int64), np.array(sc, dtype=np.float64),
                      np.array(sav, dtype=np.float64).reshape(-1, len(COLUMNS)), groups)


def _weight_bits(layer) -> int:
    q = getattr(layer, "kernel_quantizer_internal", None)
    return int(getattr(q, "bits", 16)) if q is not None else 16


def _keep_one_per_layer(c: Candidates, picked: np.ndarray) -> np.ndarray:
    """Never empty a layer: keep its best-scoring group when every group was picked."""
    for name, lg in c.groups.items():
        in_layer = c.layer == name
        alive_total = np.count_nonzero(in_layer)
        if alive_total and np.count_nonzero(picked & in_layer) >= alive_total and alive_total == lg.n_groups:
            best = np.flatnonzero(in_layer)[np.argmax(c.score[in_layer])]
            picked[best] = False
    return picked


def select(c: Candidates, targets: dict[str, float], max_layer_fraction: float = 1.0) -> Selection:
    """Pick groups until every target saving (``{"dsp": 100, "lut": 5000}``, or ``{"ebops": 2e4}``) is met, each time the
    group with the least score per unit of still-needed saving (each resource's need normalized by
    its target), taking at most ``max_layer_fraction`` of any layer's remaining groups. Stops early
    when nothing left saves what is needed; ``unmet`` says how much is missing."""
    bad = set(targets) - set(COLUMNS)
    if bad:
        raise ConfigError(f"unknown resource(s) {', '.join(sorted(bad))} in targets; use {', '.join(COLUMNS)}")
    want = np.array([max(float(targets.get(r, 0.0)), 0.0) for r in COLUMNS])
    need = want.copy()
    scale = np.where(want > 0, want, 1.0)
    picked = np.zeros(len(c), dtype=bool)
    savings = np.maximum(c.savings, 0.0)
    layer_ids = {name: i for i, name in enumerate(c.groups)}
    layer_of = np.array([layer_ids[str(n)] for n in c.layer], dtype=np.int64)
    quota = np.floor(np.bincount(layer_of, minlength=len(layer_ids)) * max_layer_fraction).astype(np.int64)
    taken = np.zeros(len(layer_ids), dtype=np.int64)
    while np.any(need > 0):
        gain = (np.minimum(savings, need) / scale).sum(axis=1)
        gain[picked | (taken[layer_of] >= quota[layer_of])] = 0.0
        if not np.any(gain > 0):
            break
        ratio = np.where(gain > 0, (c.score + 1e-12) / np.maximum(gain, 1e-12), np.inf)
        best = int(np.argmin(ratio))
        picked[best] = True
        taken[layer_of[best]] += 1
        need = np.maximum(need - savings[best], 0.0)
    picked = _keep_one_per_layer(c, picked)
    chosen = c.subset(picked)
    saved = {r: float(chosen.savings[:, i].sum()) for i, r in enumerate(COLUMNS)}
    unmet = {r: float(max(want[i] - saved[r], 0.0)) for i, r in enumerate(COLUMNS) if want[i] > 0}
    return Selection(chosen, saved, unmet)


def select_fraction(c: Candidates, fraction: float, per_layer: bool = True) -> Candidates:
    """The lowest-scoring ``fraction`` of the groups, per layer (each layer reaches the fraction)
    or globally; at least one group of each layer is kept."""
    if not 0.0 <= fraction < 1.0:
        raise ConfigError(f"prune fraction must be in [0, 1), got {fraction}")
    picked = np.zeros(len(c), dtype=bool)
    scopes = [c.layer == name for name in c.groups] if per_layer else [np.ones(len(c), dtype=bool)]
    for scope in scopes:
        index = np.flatnonzero(scope)
        total = c.groups[str(c.layer[index[0]])].n_groups if per_layer and index.size else index.size
        n = int(np.floor(fraction * total)) - (total - index.size if per_layer else 0)  # already-zero groups count
        if n > 0:
            picked[index[np.argsort(c.score[index], kind="stable")[:n]]] = True
    return c.subset(_keep_one_per_layer(c, picked))
