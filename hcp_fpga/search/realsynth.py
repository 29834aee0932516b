"""The ``synthesis`` step of the optimize loop, where a vendor tool exists (project.yaml ``synth:``):
export a design, run the real tool on it, and compare. The real report wins for that design, and
its residual (real / estimate per resource) corrects every later estimate of the run; the designs
measured before are re-judged by the same yardstick. ``SynthCheck`` is what history.json,
result.json and the report show (estimate vs real per synthesis)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Optional

from hcp_fpga.estimator.calibration import OFFSET, Correction
from hcp_fpga.estimator.types import Estimate
from hcp_fpga.search.context import SearchContext
from hcp_fpga.search.records import HistoryRow, Measure, Trial
from hcp_fpga.vocab import RESOURCES

SYNTH_DIR = "synth"
COMPARED = RESOURCES + ("latency_cycles",)


@dataclass(frozen=True)
class SynthCheck:
    """One synthesized design of a run: the estimate the search had, the vendor's report, and the
    residual the report set."""

    point: int
    round: int
    tool: Optional[str]  # "Vivado HLS 2019.2" as the report says
    step: str
    seconds: float
    log: str
    estimate: dict  # totals as the search measured them (resources, latency_cycles)
    real: dict  # the report's totals (logic synthesis resources for vsynth, latency from csynth)
    residual: dict  # real / raw estimate per resource, applied to every later estimate
    fits: bool  # the real report against the budget after headroom
    final: bool = False

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SynthCheck":
        return cls(**d)

    def history_row(self, accuracy: float) -> HistoryRow:
        # no "estimate" key: the estimate-based plots skip it; the report's synthesis table reads it
        return HistoryRow(self.round, f"synthesis ({self.tool or 'vendor tool'})", self.fits, accuracy, self.point,
                          note="real report", extra={"synthesis": self.as_dict()})


def _totals(m: Measure) -> dict:
    return {**{r: m.resources[r] for r in RESOURCES}, "latency_cycles": m.latency_cycles}


class RealSynthesis:
    """Runs the vendor tool on designs of the run. ``tool``: a ``vendor.HlsTool`` found before the
    run started (None: the step is skipped, and ``unavailable`` says why)."""

    def __init__(self, policy, tool, unavailable: str = "") -> None:
        self.policy = policy
        self.tool = tool
        self.unavailable = unavailable

    @property
    def active(self) -> bool:
        return self.policy is not None and self.tool is not None

    def due(self, round_: int) -> bool:
        return self.active and self.policy.every > 0 and round_ > 0 and round_ % self.policy.every == 0

    def run(self, project_dir: Path):
        from hcp_fpga.vendor import run_synth

        return run_synth(project_dir, self.policy.step, tool=self.tool, timeout=self.policy.timeout_s)

    def check(self, trial: Trial, ctx: SearchContext, project_dir: Path, round_: int, final: bool = False) -> SynthCheck:
        """Synthesize an exported design (``project_dir``) and compare it with ``trial``'s measure."""
        result = self.run(project_dir)
        real = result.final
        old = (ctx.correction.residual if ctx.correction else {}) or {}
        measured = _totals(trial.measure)
        raw = {r: measured[r] / old.get(r, 1.0) for r in COMPARED}  # before this run's residual
        residual = {}
        for r in ("dsp", "bram18", "lut", "ff", "latency_cycles"):
            value = getattr(real, r)
            if value is not None:
                residual[r] = (float(value) + OFFSET[r]) / (raw[r] + OFFSET[r])
        real_totals = {r: float(getattr(real, r)) for r in RESOURCES} | {"latency_cycles": real.latency_cycles}
        fits = real.verdict(ctx.board, ctx.config.targets.headroom).fits and ctx.latency_ok(real)
        return SynthCheck(trial.point.id, round_, real.tool, str(result.step), result.seconds, result.log, measured,
                          real_totals, residual, bool(fits), final)


def apply_check(check: SynthCheck, trials: list[Trial], ctx: SearchContext,
                real_points: frozenset = frozenset()) -> tuple[list[Trial], SearchContext]:
    """The real report wins for its design; every other design (except ``real_points``, measured by
    earlier reports) is rescaled from the old residual to the new one; the returned context corrects
    all later estimates with the new residual."""
    old = (ctx.correction.residual if ctx.correction else {}) or {}
    ratio = {r: check.residual[r] / old.get(r, 1.0) for r in check.residual}
    base = ctx.correction or Correction()
    new_ctx = replace(ctx, correction=replace(base, residual=dict(check.residual), tool=check.tool or base.tool,
                                              residual_from=base.residual_from + (check.point,)))
    out = []
    for t in trials:
        if t.point.id == check.point:
            real = check.real
            est = Estimate("csynth", (), **{r: real[r] for r in RESOURCES}, latency_cycles=real["latency_cycles"],
                           ii=t.measure.ii, clock_ns=(t.measure.latency_ns / t.measure.latency_cycles)
                           if t.measure.latency_ns and t.measure.latency_cycles else None, part=ctx.board.part)
            out.append(replace(t, measure=new_ctx.measure(est, t.measure.val_accuracy, t.measure.ebops)))
        elif t.point.id in real_points:
            out.append(t)
        else:
            out.append(replace(t, measure=new_ctx.rescaled(t.measure, ratio)))
    return out, new_ctx

