"""From the HLS level to Vivado logic synthesis: how much of what csynth reports survives synthesis.

The estimator predicts what the HLS tool's csynth report will say, because that is what every
published hls4ml design reports and what our cost model is fitted to. Vivado logic synthesis then
usually keeps less: csynth prices each operator alone, synthesis shares and trims logic and packs
registers. ``synthesis_pairs.json`` (written by ``benchmarks/fit_synthesis.py --write``) holds, for
every real design in ``../shared`` with both reports, its csynth and its Vivado-synthesis totals.
``post_synthesis(est)`` scales an estimate by the median ratio per resource and gives the range seen.
The verdict stays on the HLS-level numbers (what a user's own csynth will show); the post-synthesis
figure is printed next to it, labelled, as a second estimate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

import numpy as np

from hcp_fpga.vocab import BUDGETED as RESOURCES  # the resources a board budgets: DSP, BRAM18, LUT, FF

TABLE = Path(__file__).with_name("synthesis_pairs.json")


@dataclass(frozen=True)
class SynthesisRatio:
    """Vivado synthesis / csynth for one resource over ``n`` real designs."""

    resource: str
    median: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class PostSynthesis:
    """An HLS-level estimate scaled to what Vivado logic synthesis typically reports."""

    values: dict  # resource -> estimate after synthesis (median ratio)
    ranges: dict  # resource -> (low, high) over the ratios seen
    ratios: dict  # resource -> SynthesisRatio

    def as_dict(self) -> dict:
        return {"values": self.values, "ranges": {r: list(v) for r, v in self.ranges.items()},
                "ratios": {r: vars(x) for r, x in self.ratios.items()}}


@lru_cache(maxsize=1)
def load_pairs(path: Path = TABLE) -> tuple[dict, ...]:
    try:
        return tuple(json.loads(Path(path).read_text()).get("pairs", ()))
    except (OSError, ValueError):
        return ()


def ratios(pairs: Optional[tuple[dict, ...]] = None) -> dict[str, SynthesisRatio]:
    """Median and range of synthesis / csynth per resource (designs where csynth reports some)."""
    pairs = load_pairs() if pairs is None else pairs
    out = {}
    for r in RESOURCES:
        values = [p["vsynth"][r] / p["csynth"][r] for p in pairs if p["csynth"].get(r) and p["vsynth"].get(r) is not None]
        if values:
            out[r] = SynthesisRatio(r, float(np.median(values)), float(min(values)), float(max(values)), len(values))
    return out


def post_synthesis(est, pairs: Optional[tuple[dict, ...]] = None) -> Optional[PostSynthesis]:
    """``est`` (an analytical estimate of the csynth report) as Vivado synthesis typically reports
    it; None for a parsed report or without the shipped table."""
    if est.source != "estimate":
        return None
    table = ratios(pairs)
    if not table:
        return None
    values = {r: getattr(est, r) * x.median for r, x in table.items()}
    ranges = {r: (getattr(est, r) * x.low, getattr(est, r) * x.high) for r, x in table.items()}
    return PostSynthesis(values, ranges, table)
