"""Typed records of the search: what an evaluation measured (``Measure``), one evaluated candidate
(``Trial``) and its row in ``history.json`` (``HistoryRow``). No dicts indexed by string cross a
module boundary; JSON appears only at the file."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional

from hcp_fpga.search.point import DesignPoint
from hcp_fpga.vocab import BUDGETED, RESOURCES


@dataclass(frozen=True)
class Measure:
    """What the search knows of a design: validation accuracy (never test), the estimate's totals,
    the verdict against the budget after headroom, EBOPs and the objective (lower is better)."""

    val_accuracy: float
    resources: dict  # resource -> estimate (all of vocab.RESOURCES)
    latency_cycles: int
    latency_ns: Optional[float]
    ii: int
    fits: bool  # within the budget after headroom (resources only)
    latency_ok: bool
    binding: str
    over: tuple
    pressure: float  # largest (estimate / budget after headroom) over the budgeted resources
    ebops: float
    objective: float

    @property
    def meets_targets(self) -> bool:
        return self.fits and self.latency_ok

    def as_dict(self) -> dict:
        d = asdict(self)
        d["over"] = list(self.over)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Measure":
        return cls(**{**d, "over": tuple(d["over"])})


@dataclass(frozen=True)
class Trial:
    """One evaluated candidate: the point it made, in which round, what it measured, and whether
    the search accepted it (and why not)."""

    point: DesignPoint
    round: int
    measure: Measure
    accepted: bool = False
    note: str = ""
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"point": self.point.as_dict(), "round": self.round, "measure": self.measure.as_dict(),
                "accepted": self.accepted, "note": self.note, "seconds": self.seconds}

    @classmethod
    def from_dict(cls, d: dict) -> "Trial":
        return cls(DesignPoint.from_dict(d["point"]), int(d["round"]), Measure.from_dict(d["measure"]), bool(d["accepted"]),
                   str(d["note"]), float(d["seconds"]))


@dataclass(frozen=True)
class HistoryRow:
    """A line of history.json (the report and the CLI read these): one trial, or the final step."""

    iteration: int
    action: str
    accepted: bool
    accuracy: float  # validation accuracy (the final row: test accuracy, see ``split``)
    point: Optional[int] = None
    parent: Optional[int] = None
    estimate: dict = field(default_factory=dict)
    budget: dict = field(default_factory=dict)
    binding: Optional[str] = None
    fits: Optional[bool] = None
    ebops: Optional[float] = None
    objective: Optional[float] = None
    seconds: float = 0.0
    note: str = ""
    split: str = "validation"
    extra: dict = field(default_factory=dict)

    @classmethod
    def of(cls, trial: Trial, budget: dict) -> "HistoryRow":
        m = trial.measure
        estimate = {r: m.resources[r] for r in RESOURCES} | {"latency_cycles": m.latency_cycles, "ii": m.ii}
        return cls(trial.round, trial.point.action, trial.accepted, m.val_accuracy, trial.point.id, trial.point.parent,
                   estimate, {r: budget[r] for r in BUDGETED}, m.binding, m.meets_targets, m.ebops, m.objective,
                   round(trial.seconds, 2), trial.note)

    def as_dict(self) -> dict:
        # a row without an estimate (the final C simulation) has no estimate/budget keys at all
        d = {k: v for k, v in asdict(self).items() if k != "extra" and not (k in ("estimate", "budget") and not v)}
        return {**d, **self.extra}
