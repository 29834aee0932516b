"""How wrong an estimate may be: intervals and a chance to fit, from the estimator's errors on real
designs.

The table (``intervals.json``, written by ``benchmarks/fit_intervals.py``) holds, per design class
(io_parallel dense, io_parallel conv, io_stream), one row per real hls4ml design of
``../shared`` (corpus + triples) with its error per resource: log((report + 1) / (estimate + 1)).
From those rows:

- ``intervals(est)``: the central 90 % interval of each total (the 5th-95th percentile errors of
  the design's class applied to it);
- ``fit_confidence(est, board)``: the share of those designs whose errors, applied to this estimate
  together (one design's errors at a time, so resources that err together stay together), leave
  every budgeted resource within the board: "fits at 90 %" when >= 0.9;
- ``auto_headroom(design_class)``: the headroom per resource at which a fitting estimate fits the
  board at 90 % on that resource (``headroom: auto`` in project.yaml, ``--headroom auto``).

A class with fewer than ``MIN_ROWS`` designs uses every class's rows. The measured coverage of
these intervals, each built without the held-out design's repository, is in docs/estimator.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

import numpy as np

from hcp_fpga.vocab import BUDGETED

TABLE = Path(__file__).with_name("intervals.json")
RESOURCES = ("dsp", "lut", "ff", "bram18", "latency_cycles")
LEVEL = 0.9
MIN_ROWS = 8
# What the cost model does differently, not a tool or a part: io_parallel layers computed at once
# (dense, RNN steps), io_parallel convs stepping over pixel partitions, io_stream dataflow.
CLASSES = ("io_parallel dense", "io_parallel conv", "io_stream")


def class_of(specs) -> Optional[str]:
    """The design class of a list of layer specs (see ``CLASSES``); None for an empty design."""
    specs = list(specs)
    if not specs:
        return None
    if any(str(s.io_type) == "io_stream" for s in specs):
        return "io_stream"
    if any(s.kind in ("conv1d", "conv2d") and s.n_pix > 1 for s in specs):
        return "io_parallel conv"
    return "io_parallel dense"


@dataclass(frozen=True)
class Interval:
    """A central ``level`` interval of one total, from ``n`` real designs' errors."""

    resource: str
    low: float
    high: float
    level: float
    n: int
    design_class: str


@dataclass(frozen=True)
class ErrorRow:
    """One real design's estimate errors, log((report + 1) / (estimate + 1)) per resource."""

    name: str
    repository: str
    design_class: str
    errors: dict  # resource -> log ratio (missing: the report has no number)


@lru_cache(maxsize=1)
def load_rows(path: Path = TABLE) -> tuple[ErrorRow, ...]:
    """The shipped error rows (empty when the table is missing: no intervals, no confidence)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return ()
    return tuple(ErrorRow(r["name"], r["repository"], r["design_class"], dict(r["errors"])) for r in data.get("rows", ()))


def rows_for(design_class: Optional[str], rows: tuple[ErrorRow, ...] | None = None) -> tuple[tuple[ErrorRow, ...], str]:
    """The rows an interval of ``design_class`` is built from, and the class they stand for."""
    rows = load_rows() if rows is None else rows
    own = tuple(r for r in rows if r.design_class == design_class)
    if len(own) >= MIN_ROWS:
        return own, str(design_class)
    return tuple(rows), "all classes"


def _errors(rows, resource: str) -> np.ndarray:
    return np.array([r.errors[resource] for r in rows if r.errors.get(resource) is not None], float)


def conformal_quantile(errors: np.ndarray, p: float) -> float:
    """The ``p`` quantile of ``errors`` with the finite-sample correction of split conformal
    prediction: the ceil((n + 1) p)-th smallest (the largest when that exceeds n; the mirror image
    below 0.5). A new design exchangeable with these lies below it with probability >= p."""
    e = np.sort(np.asarray(errors, float))
    n = e.size
    if p >= 0.5:
        k = math.ceil((n + 1) * p)
        return float(e[min(k, n) - 1])
    k = math.floor((n + 1) * p)
    return float(e[max(k, 1) - 1])


def interval(value: float, errors: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """(low, high) of ``value`` under the central ``level`` conformal quantiles of ``errors`` (log
    ratios of (x + 1)), never below 0."""
    tail = (1.0 - level) / 2.0
    lo, hi = conformal_quantile(errors, tail), conformal_quantile(errors, 1.0 - tail)
    return max((value + 1.0) * math.exp(lo) - 1.0, 0.0), max((value + 1.0) * math.exp(hi) - 1.0, 0.0)


def intervals(est, level: float = LEVEL, rows: tuple[ErrorRow, ...] | None = None) -> dict[str, Interval]:
    """The ``level`` interval of each total of an analytical estimate (empty for a parsed report, a
    lower-bound estimate, or when no table is shipped)."""
    if est.source != "estimate" or getattr(est, "design_class", None) is None or est.unpriced:
        return {}
    chosen, label = rows_for(est.design_class, rows)
    out = {}
    for r in RESOURCES:
        value, errs = getattr(est, r), _errors(chosen, r)
        if value is None or errs.size == 0:
            continue
        lo, hi = interval(float(value), errs, level)
        out[r] = Interval(r, lo, hi, level, int(errs.size), label)
    return out


def fit_confidence(est, board, headroom: "float | dict" = 0.0, rows: tuple[ErrorRow, ...] | None = None) -> Optional[float]:
    """Share of the real designs of ``est``'s class whose errors, applied to ``est`` all at once,
    keep every budgeted resource within ``board.budget(headroom)``; None without a table or for a
    parsed report. A lower-bound estimate (unpriced layers) gets 0: its real size is unknown."""
    if est.source != "estimate" or getattr(est, "design_class", None) is None:
        return None
    chosen, _ = rows_for(est.design_class, rows)
    if not chosen:
        return None
    if est.unpriced:
        return 0.0
    budget = board.budget(headroom)
    fits = 0
    for row in chosen:
        ok = True
        for r in BUDGETED:
            e = row.errors.get(r)
            real = (getattr(est, r) + 1.0) * math.exp(e) - 1.0 if e is not None else getattr(est, r)
            over = real > budget[r] if budget[r] > 0 else real > 0.5  # a board without the resource: any use is over
            if over:
                ok = False
                break
        fits += ok
    return fits / len(chosen)


def auto_headroom(design_class: Optional[str], level: float = LEVEL, rows: tuple[ErrorRow, ...] | None = None,
                  cap: float = 0.95) -> dict[str, float]:
    """Headroom per budgeted resource such that an estimate within the budget is within the board
    at the one-sided ``level`` quantile of its class's errors: 1 - exp(-q). An estimator that tends
    to over-estimate a resource (q <= 0) needs none. Capped at ``cap`` (a budget must stay > 0)."""
    chosen, _ = rows_for(design_class, rows)
    out = {}
    for r in BUDGETED:
        errs = _errors(chosen, r)
        q = conformal_quantile(errs, level) if errs.size else 0.0
        out[r] = min(max(1.0 - math.exp(-q), 0.0), cap)
    return out
