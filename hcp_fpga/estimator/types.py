"""One ``Estimate`` shape for everything: our analytical estimate, a parsed HLS (csynth) report and
a parsed logic-synthesis report. Comparing two of them is then a subtraction."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional

from hcp_fpga.vocab import RESOURCES  # re-exported


@dataclass(frozen=True)
class LayerEstimate:
    """Cost of one layer (or, for a parsed report, one HLS module)."""

    name: str
    kind: str
    dsp: float = 0.0
    bram18: float = 0.0
    uram: float = 0.0
    lut: float = 0.0
    ff: float = 0.0
    latency_cycles: Optional[int] = None
    ii: Optional[int] = None
    part_of: Optional[str] = None  # the layer this is a part of (a recurrent cell's products, tables, ...)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Estimate:
    """Per-layer and total resources and latency of a design.

    ``source`` says where the numbers come from: ``estimate`` (hcp_fpga's analytical model),
    ``csynth`` (an HLS report) or ``vsynth`` (Vivado logic synthesis). Only ``estimate`` is a guess.
    """

    source: str
    layers: tuple[LayerEstimate, ...]
    dsp: float
    bram18: float
    uram: float
    lut: float
    ff: float
    latency_cycles: Optional[int]
    ii: Optional[int]
    clock_ns: Optional[float]
    part: Optional[str] = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    # layers the model cannot price (counted as 0): the totals are then a lower bound
    unpriced: tuple[str, ...] = field(default_factory=tuple)
    # the vendor tool that wrote a parsed report ("Vivado HLS 2019.2", "Vitis HLS 2024.1"), or the one
    # an estimate was made (or calibrated) for; None where unknown
    tool: Optional[str] = None
    # for a calibrated estimate: which calibration, fitted on what (estimator/calibration.py)
    calibration: Optional[str] = None
    # for an analytical estimate: the class whose real-design errors give its intervals
    # ("io_parallel dense", "io_parallel conv", "io_stream"; estimator/uncertainty.py)
    design_class: Optional[str] = None
    # for an estimate of a project folder: why the folder's own HLS report is of another network
    # (reports.report_mismatch); None when it is of this design or there is none
    report_mismatch: Optional[str] = None

    @classmethod
    def from_layers(cls, source: str, layers, latency_cycles, ii, clock_ns, part=None, notes=(), unpriced=(),
                    tool=None, design_class=None) -> "Estimate":
        layers = tuple(layers)
        totals = {r: float(sum(getattr(l, r) for l in layers)) for r in RESOURCES}
        return cls(source, layers, **totals, latency_cycles=latency_cycles, ii=ii, clock_ns=clock_ns, part=part,
                   notes=tuple(notes), unpriced=tuple(unpriced), tool=tool, design_class=design_class)

    @property
    def lower_bound(self) -> bool:
        return bool(self.unpriced)

    @property
    def latency_ns(self) -> Optional[float]:
        if self.latency_cycles is None or self.clock_ns is None:
            return None
        return self.latency_cycles * self.clock_ns

    def totals(self) -> dict[str, float]:
        return {r: getattr(self, r) for r in RESOURCES}

    def utilization(self, board) -> dict[str, Optional[float]]:
        """Fraction of the board's budget per resource (None where the board has none)."""
        budget = board.budget()
        return {r: (getattr(self, r) / budget[r] if budget[r] else (None if getattr(self, r) == 0 else float("inf"))) for r in RESOURCES}

    def verdict(self, board, headroom: "float | dict" = 0.0) -> "Verdict":
        """Does the design fit ``board`` with ``headroom`` (0.2 = keep 20 % of every resource free;
        a dict gives it per resource)? The binding resource is the one closest to its limit."""
        util = self.utilization(board)
        allowed = board.budget(headroom)
        used = [r for r, u in util.items() if u is not None]
        pressure = {r: getattr(self, r) / allowed[r] if allowed[r] > 0 else float("inf") for r in used}
        binding = max(pressure, key=lambda r: pressure[r]) if pressure else "dsp"
        over = [r for r, p in pressure.items() if p > 1.0]
        # an estimate that leaves layers out cannot say "fits": the real design is larger
        from hcp_fpga.estimator.uncertainty import fit_confidence

        return Verdict(fits=not over and not self.unpriced, binding=binding, utilization=util, over=tuple(over),
                       headroom=headroom, unpriced=self.unpriced, pressure=max(pressure.values(), default=0.0),
                       confidence=fit_confidence(self, board))

    def as_dict(self) -> dict:
        d = asdict(self)
        d["layers"] = [l.as_dict() for l in self.layers]
        d["latency_ns"] = self.latency_ns
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Estimate":
        """The inverse of ``as_dict`` (derived keys such as ``latency_ns`` are ignored)."""
        names = {f for f in cls.__dataclass_fields__}
        kw = {k: v for k, v in d.items() if k in names}
        kw["layers"] = tuple(LayerEstimate(**l) for l in d.get("layers", ()))
        for key in ("notes", "unpriced"):
            kw[key] = tuple(d.get(key, ()))
        return cls(**kw)


@dataclass(frozen=True)
class Verdict:
    fits: bool
    binding: str
    utilization: dict
    over: tuple
    headroom: object  # a fraction, or one per resource
    unpriced: tuple = ()  # layers left out of the estimate: "fits" cannot be said
    pressure: float = 0.0  # the binding resource's use / its budget after headroom (> 1: over)
    # an analytical estimate's chance to fit the whole board (no headroom), from the estimator's
    # errors on real designs of its class (estimator/uncertainty.py); None for a report
    confidence: Optional[float] = None

    def confidence_text(self) -> str:
        """The confidence in words, or "" without one."""
        if self.confidence is None:
            return ""
        return (f"confidence it fits the board: {self.confidence:.0%} (the share of the estimator's errors on real designs "
                "of this class under which it still fits; 'fits at 90 %' needs 90 % or more)")

    def as_dict(self) -> dict:
        return asdict(self)
