"""Estimate versus real reports, side by side: totals per resource and, where the HLS report has
per-module rows, per layer. An analysis pass: it returns data and changes nothing."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, replace
from typing import Optional

from hcp_fpga.estimator.types import Estimate, LayerEstimate

COMPARED = ("dsp", "bram18", "lut", "ff", "latency_cycles", "ii")

# HLS module name prefix -> the estimate's layer kind family
_MODULE_KINDS = (
    (("dense", "conv_1d", "conv_2d", "conv1d", "conv2d", "pointwise"), "mult"),
    (("relu", "leaky_relu", "prelu", "elu", "selu"), "relu"),
    (("softmax",), "softmax"),
    (("sigmoid", "tanh", "hard_sigmoid", "softsign", "softplus"), "table"),
    (("linear",), "linear"),
    (("pooling", "global_pooling", "avgpool", "maxpool"), "pool"),
    (("normalize", "batchnorm"), "bn"),
    (("gru", "lstm", "simple_rnn", "simplernn"), "recurrent"),
)
_ESTIMATE_KINDS = {"dense": "mult", "conv1d": "mult", "conv2d": "mult"}


def _family_of_module(name: str) -> Optional[str]:
    low = name.lower()
    for prefixes, family in _MODULE_KINDS:
        if any(low.startswith(p) for p in prefixes):
            return family
    return None


def _config_index(name: str) -> Optional[int]:
    m = re.search(r"config(\d+)", name)
    return int(m.group(1)) if m else None


def _distance(a: LayerEstimate, b: LayerEstimate) -> float:
    return abs(math.log1p(a.dsp) - math.log1p(b.dsp)) + abs(math.log1p(a.lut) - math.log1p(b.lut))


def _with_cells(layers) -> list[LayerEstimate]:
    """The estimate's layers with each multi-part layer (a recurrent cell: products, tables, ...) as
    one row of kind ``recurrent`` summing its parts, as hls4ml builds it as one module."""
    parts: dict[str, list[LayerEstimate]] = {}
    for layer in layers:
        if layer.part_of:
            parts.setdefault(layer.part_of, []).append(layer)
    out = []
    for layer in layers:
        if layer.part_of:
            continue
        if layer.name in parts:
            own = parts[layer.name]
            layer = replace(layer, kind="recurrent", **{r: sum(getattr(p, r) for p in own) + getattr(layer, r)
                                                        for r in ("dsp", "bram18", "uram", "lut", "ff")})
        out.append(layer)
    return out


def match_layers(estimate: Estimate, report: Estimate) -> list[tuple[LayerEstimate, LayerEstimate]]:
    """Pairs (estimated layer, report module) of the same kind; a layer built of parts (a recurrent
    cell) is one row summing them. Modules carrying hls4ml's config index are taken in graph order;
    otherwise (older hls4ml names) the closest in DSP and LUT."""
    pairs = []
    modules = [m for m in report.layers if _family_of_module(m.name)]
    layers = _with_cells(estimate.layers)
    for family in {f for _, f in _MODULE_KINDS}:
        ours = [l for l in layers if _ESTIMATE_KINDS.get(l.kind, l.kind) == family]
        theirs = [m for m in modules if _family_of_module(m.name) == family]
        if not ours or not theirs:
            continue
        if len(ours) == len(theirs) and all(_config_index(m.name) is not None for m in theirs):
            pairs += list(zip(ours, sorted(theirs, key=lambda m: _config_index(m.name))))
            continue
        free = list(theirs)
        for layer in sorted(ours, key=lambda l: -(l.dsp + l.lut)):
            if not free:
                break
            best = min(free, key=lambda m: _distance(layer, m))
            free.remove(best)
            pairs.append((layer, best))
    order = {l.name: i for i, l in enumerate(layers)}
    return sorted(pairs, key=lambda p: order[p[0].name])


def pct_error(estimate: Optional[float], real: Optional[float]) -> Optional[float]:
    """(estimate - real) / real in %; None where either is missing or real is 0."""
    if estimate is None or real is None or real == 0:
        return None
    return (estimate - real) / real * 100.0


@dataclass(frozen=True)
class ComparisonRow:
    scope: str  # "total" or a layer name
    resource: str
    estimate: Optional[float]
    csynth: Optional[float]
    vsynth: Optional[float]
    module: Optional[str] = None

    @property
    def error_vs_csynth(self) -> Optional[float]:
        return pct_error(self.estimate, self.csynth)

    @property
    def error_vs_vsynth(self) -> Optional[float]:
        return pct_error(self.estimate, self.vsynth)

    def as_dict(self) -> dict:
        return {**asdict(self), "error_vs_csynth_pct": self.error_vs_csynth, "error_vs_vsynth_pct": self.error_vs_vsynth}


def compare(estimate: Estimate, reports: dict[str, Estimate]) -> list[ComparisonRow]:
    """Rows of estimate vs ``reports`` (``csynth``/``vsynth`` as ``project_reports`` returns them)."""
    cs, vs = reports.get("csynth"), reports.get("vsynth")
    rows = [
        ComparisonRow("total", r, getattr(estimate, r), getattr(cs, r) if cs else None, getattr(vs, r) if vs else None)
        for r in COMPARED
    ]
    if cs is not None and len(cs.layers) > 1:
        for ours, theirs in match_layers(estimate, cs):
            rows += [ComparisonRow(ours.name, r, getattr(ours, r), getattr(theirs, r), None, module=theirs.name)
                     for r in ("dsp", "bram18", "lut", "ff")]
    return rows
