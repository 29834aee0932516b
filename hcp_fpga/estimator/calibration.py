"""Calibration from a user's own synthesized projects: per-resource correction factors of the
analytical estimate by HLS tool (family and version), part family and layer kind, fitted on real
reports, with their residual spread. ``hcp-fpga calibrate`` fits and writes one; ``estimate``/
``optimize --calibration FILE`` apply it. Model and measured error: docs/calibration.md.

The model, per resource r (DSP, LUT, FF, BRAM18, latency cycles), on log ratios
``rho = ln((real + c_r) / (estimate + c_r))`` (``c_r`` keeps zeros finite):

    rho = b0 + b[tool family] + b[tool version] + b[part family] + sum_k share_k * b[kind k] + noise

``share_k`` is the fraction of the design's estimated r (LUT for latency) in layers of kind k
(multipliers, activations, glue, other). A ridge penalty shrinks every coefficient towards 0 (a factor
of 1): it is chosen per resource by leave-one-group-out among ``RIDGES``, so factors that do not
predict held-out projects shrink away; Huber weights keep outlier projects from dominating. A level
never seen is a factor of 1. Applied, each layer of kind
k is multiplied by ``exp(b0 + b[tool] + b[version] + b[family] + b[k])`` and the totals are the sums;
latency by ``exp(b0 + ... + sum_k share_k b[k])``. ``sigma`` is the leave-one-project-out spread of
rho after calibration: the 90 % interval of a calibrated total is ``x exp(+-1.645 sigma)``.

An analysis (``fit``) returns data; ``apply`` returns a new ``Estimate``; nothing here mutates."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from hcp_fpga.errors import ConfigError, HcpError
from hcp_fpga.estimator.types import Estimate

FORMAT = 1
CALIBRATED = ("dsp", "lut", "ff", "bram18", "latency_cycles")
OFFSET = {"dsp": 1.0, "lut": 100.0, "ff": 100.0, "bram18": 1.0, "latency_cycles": 1.0}
#: ridge penalties tried (per coefficient, intercept included: every factor shrinks towards 1);
#: 1e6 is "no correction", chosen when nothing else predicts held-out projects better
RIDGES = (0.25, 1.0, 4.0, 16.0, 64.0, 1e6)
MIN_GAIN = 0.05  # relative held-out improvement a penalty must bring over no correction
HUBER = 0.5  # log-ratio residual beyond which a project's weight falls (a factor of 1.65)
Z90 = 1.645
KIND_CLASSES = {
    "mult": ("dense", "conv1d", "conv2d", "separable", "depthwise", "pointwise", "rnn", "gru", "lstm"),
    "activation": ("relu", "linear", "softmax", "table"),
    "glue": ("fifo", "io", "move", "free"),
}
KINDS = ("mult", "activation", "glue", "other")


class CalibrationError(ConfigError):
    """A calibration file that cannot be read, or one that cannot be fitted."""


def kind_class(kind: str) -> str:
    for name, kinds in KIND_CLASSES.items():
        if kind in kinds:
            return name
    return "other"


def part_family(part: Optional[str]) -> Optional[str]:
    """7-series, UltraScale, UltraScale+ or Versal from a Xilinx part string; None if unknown."""
    p = (part or "").lower()
    if p.startswith("xc7"):
        return "7-series"
    if p.startswith(("xcvc", "xcve", "xcvm", "xcvp")):
        return "Versal"
    if re.match(r"^xc(u\d|zu|vu\d+p|ku\d+p|au|k2\d)", p):  # xck26/xck24: the Kria SOMs' Zynq UltraScale+
        return "UltraScale+"
    if re.match(r"^xc(vu|ku)\d", p):
        return "UltraScale"
    return None


def tool_family(tool: Optional[str]) -> Optional[str]:
    """"Vivado HLS 2019.2" -> "Vivado HLS"."""
    if not tool:
        return None
    return re.sub(r"\s*\d{4}(\.\d+)*$", "", tool).strip() or None


ATTRIBUTES = ("tool_family", "tool", "part_family", "strategy", "io_type")


def design_attributes(tool: Optional[str] = None, part: Optional[str] = None, strategy: Optional[str] = None,
                      io_type: Optional[str] = None) -> dict[str, Optional[str]]:
    """The categorical facts a calibration keys its factors on (None where unknown)."""
    return {"tool_family": tool_family(tool), "tool": tool if tool and tool != tool_family(tool) else None,
            "part_family": part_family(part), "strategy": strategy, "io_type": io_type}


@dataclass(frozen=True)
class Sample:
    """One real project: what the estimator says, what the tool reported, and its attributes."""

    name: str
    group: str  # leave-one-group-out unit (a project, or a repository)
    estimate: Estimate
    real: Estimate
    attrs: dict  # ATTRIBUTES -> level or None

    def rho(self, resource: str) -> Optional[float]:
        e, y = getattr(self.estimate, resource), getattr(self.real, resource)
        if e is None or y is None:
            return None
        return math.log((float(y) + OFFSET[resource]) / (float(e) + OFFSET[resource]))


def _shares(estimate: Estimate, resource: str) -> dict[str, float]:
    basis = "lut" if resource == "latency_cycles" else resource
    totals = dict.fromkeys(KINDS, 0.0)
    for layer in estimate.layers:
        totals[kind_class(layer.kind)] += float(getattr(layer, basis))
    s = sum(totals.values())
    return {k: v / s for k, v in totals.items()} if s > 0 else {k: (1.0 if k == "mult" else 0.0) for k in KINDS}


@dataclass(frozen=True)
class ResourceFactors:
    """Log-ratio coefficients of one resource (a factor is ``exp`` of a sum of these)."""

    intercept: float
    levels: dict = field(default_factory=dict)  # attribute -> {level: coefficient}
    kind: dict = field(default_factory=dict)
    sigma: float = 0.0  # leave-one-project-out spread of the calibrated log ratio
    n: int = 0
    ridge: float = RIDGES[-1]  # the penalty leave-one-group-out chose

    def base(self, attrs: dict) -> float:
        return self.intercept + sum(self.levels.get(a, {}).get(v, 0.0) for a, v in attrs.items() if v is not None)

    def log_factor(self, attrs: dict, shares: dict[str, float]) -> float:
        return self.base(attrs) + sum(w * self.kind.get(k, 0.0) for k, w in shares.items())

    def as_dict(self) -> dict:
        r = lambda d: {k: round(v, 4) for k, v in d.items()}  # noqa: E731
        return {"intercept": round(self.intercept, 4), "levels": {a: r(d) for a, d in self.levels.items()},
                "kind": r(self.kind), "sigma": round(self.sigma, 4), "n": self.n, "ridge": self.ridge}


@dataclass(frozen=True)
class Calibration:
    """Fitted factors per resource and what they were fitted on."""

    resources: dict  # resource -> ResourceFactors
    projects: tuple[str, ...]
    seen: dict  # attribute -> the levels its projects had
    target: str = "csynth"
    source: str = ""  # the file it was read from

    def describe(self) -> str:
        tools = ", ".join(self.seen.get("tool") or self.seen.get("tool_family") or ["unknown tools"])
        parts = ", ".join(self.seen.get("part_family") or ["unknown parts"])
        return f"calibrated on {len(self.projects)} projects ({tools}; {parts})"

    def as_dict(self) -> dict:
        return {"hcp_fpga_calibration": FORMAT, "target": self.target, "huber": HUBER,
                "offsets": {r: OFFSET[r] for r in CALIBRATED}, "projects": list(self.projects),
                "seen": {a: list(v) for a, v in self.seen.items()},
                "resources": {r: f.as_dict() for r, f in self.resources.items()}}


# ----------------------------------------------------------------------------- fit


def _design_matrix(samples: Sequence[Sample], resource: str, levels: dict[str, list]) -> np.ndarray:
    rows = []
    for s in samples:
        row = [1.0]
        for attr in ATTRIBUTES:
            row += [1.0 if s.attrs.get(attr) == v else 0.0 for v in levels[attr]]
        shares = _shares(s.estimate, resource)
        row += [shares[k] for k in KINDS]
        rows.append(row)
    return np.array(rows)


def _solve(x: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge regression with Huber weights (IRLS): real projects have outliers (hand-edited HLS,
    failed timing) that least squares would let dominate a small calibration set."""
    weights = np.ones(len(y))
    penalty = np.eye(x.shape[1]) * ridge
    beta = np.zeros(x.shape[1])
    for _ in range(8):
        xw = x * weights[:, None]
        beta = np.linalg.solve(xw.T @ x + penalty, xw.T @ y)
        residual = np.abs(y - x @ beta)
        weights = np.where(residual <= HUBER, 1.0, HUBER / np.maximum(residual, 1e-12))
    return beta


def _levels(samples: Sequence[Sample]) -> dict[str, list]:
    return {a: sorted({s.attrs[a] for s in samples if s.attrs.get(a)}) for a in ATTRIBUTES}


def _fit_resource(samples: Sequence[Sample], resource: str, ridge: Optional[float] = None) -> Optional[ResourceFactors]:
    """Coefficients for one resource. ``ridge`` None: chosen by leave-one-group-out within
    ``samples`` from ``RIDGES`` (the largest, 1e6, means "no correction"), so a calibration that
    does not generalize across the user's projects shrinks itself to factors of 1."""
    used = [s for s in samples if s.rho(resource) is not None]
    if not used:
        return None
    if ridge is None:
        ridge = _choose_ridge(used, resource)
    levels = _levels(used)
    beta = _solve(_design_matrix(used, resource, levels), np.array([s.rho(resource) for s in used]), ridge)
    i = 1
    coef: dict[str, dict] = {}
    for attr in ATTRIBUTES:
        coef[attr] = {v: float(beta[i + j]) for j, v in enumerate(levels[attr])}
        i += len(levels[attr])
    kind = {k: float(beta[i + j]) for j, k in enumerate(KINDS)}
    return ResourceFactors(float(beta[0]), coef, kind, n=len(used), ridge=ridge)


def _choose_ridge(samples: Sequence[Sample], resource: str) -> float:
    """The penalty with the smallest leave-one-group-out mean |log ratio|, unless it beats no
    correction by less than ``MIN_GAIN``: then no correction (a calibration must earn its factors)."""
    groups = sorted({s.group for s in samples})
    if len(groups) < 3:
        return RIDGES[-1]
    errors = {}
    for ridge in RIDGES:
        held = []
        for g in groups:
            f = _fit_resource([s for s in samples if s.group != g], resource, ridge)
            held += [abs(s.rho(resource) - f.log_factor(s.attrs, _shares(s.estimate, resource)))
                     for s in samples if s.group == g]
        errors[ridge] = float(np.mean(held))
    best = min(errors, key=errors.get)
    return best if errors[best] < (1.0 - MIN_GAIN) * errors[RIDGES[-1]] else RIDGES[-1]


def fit(samples: Sequence[Sample], target: str = "csynth", with_spread: bool = True) -> Calibration:
    """Factors per resource from ``samples``; ``sigma`` from leave-one-group-out residuals."""
    if len(samples) < 2:
        raise CalibrationError(f"calibration needs at least 2 projects with reports and estimates, found {len(samples)}; "
                               "pass more project folders")
    resources = {}
    for r in CALIBRATED:
        factors = _fit_resource(samples, r)
        if factors is None:
            continue
        if with_spread:
            held = [e for e in leave_one_group_out(samples, r) if e is not None]
            sigma = float(np.sqrt(np.mean(np.square(held)))) if held else 0.0
            factors = replace(factors, sigma=sigma)
        resources[r] = factors
    return Calibration(resources, tuple(s.name for s in samples), _levels(samples), target)


def leave_one_group_out(samples: Sequence[Sample], resource: str) -> list[Optional[float]]:
    """Per sample: the calibrated log ratio when its group (project or repository) was left out."""
    out = []
    for s in samples:
        rest = [t for t in samples if t.group != s.group]
        factors = _fit_resource(rest, resource) if rest else None
        rho = s.rho(resource)
        if factors is None or rho is None:
            out.append(None)
            continue
        out.append(rho - factors.log_factor(s.attrs, _shares(s.estimate, resource)))
    return out


def held_out_estimates(samples: Sequence[Sample]) -> list[Estimate]:
    """Each sample's estimate calibrated by a fit without its group (for error tables)."""
    out = []
    for s in samples:
        rest = [t for t in samples if t.group != s.group]
        cal = fit(rest, with_spread=False) if len(rest) >= 2 else None
        out.append(apply(s.estimate, cal, s.attrs) if cal else s.estimate)
    return out


# ----------------------------------------------------------------------------- apply


def apply(estimate: Estimate, calibration: Calibration, attrs: Optional[dict] = None) -> Estimate:
    """``estimate`` with the factors for the design's ``attrs`` (``design_attributes``: tool, part,
    strategy, io type; the part defaults to the estimate's) applied, and a note saying so. A level
    the calibration never saw contributes a factor of 1, and the note names it."""
    attrs = dict(attrs or design_attributes(part=estimate.part))
    if attrs.get("part_family") is None:
        attrs["part_family"] = part_family(estimate.part)
    layers = []
    for layer in estimate.layers:
        changes = {}
        for r in ("dsp", "lut", "ff", "bram18"):
            f = calibration.resources.get(r)
            if f is not None:
                changes[r] = float(getattr(layer, r)) * math.exp(f.base(attrs) + f.kind.get(kind_class(layer.kind), 0.0))
        layers.append(replace(layer, **changes))
    latency = estimate.latency_cycles
    f = calibration.resources.get("latency_cycles")
    if f is not None and latency is not None:
        latency = int(round(latency * math.exp(f.log_factor(attrs, _shares(estimate, "latency_cycles")))))
    unseen = [str(v) for a, v in attrs.items() if v is not None and a != "tool" and v not in calibration.seen.get(a, ())]
    note = calibration.describe() + (f" from {calibration.source}" if calibration.source else "")
    if unseen:
        note += f"; not in its data (factor 1): {', '.join(unseen)}"
    spread = {r: calibration.resources[r].sigma for r in CALIBRATED if r in calibration.resources}
    note += "; 90 % interval x/" + ", ".join(f"{r.split('_')[0].upper()} {math.exp(Z90 * s):.2f}" for r, s in spread.items())
    calibrated = Estimate.from_layers(estimate.source, layers, latency, estimate.ii, estimate.clock_ns, estimate.part,
                                      notes=estimate.notes + (note,), unpriced=estimate.unpriced,
                                      tool=attrs.get("tool") or attrs.get("tool_family") or estimate.tool)
    return replace(calibrated, calibration=note)


# ----------------------------------------------------------------------------- files


HEADER = "# hcp-fpga calibration: "  # the first line of every file ``save`` writes


def is_calibration_file(path: Path | str) -> bool:
    """Is ``path`` a file ``save`` wrote (its first line)? What ``calibrate --force`` may replace."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(HEADER)) == HEADER.encode()
    except OSError:
        return False


def save(calibration: Calibration, path: Path | str) -> None:
    import yaml

    from hcp_fpga.outputs import write_text_atomic

    header = (f"{HEADER}per-resource log-ratio factors (docs/calibration.md).\n"
              "# A factor is exp(intercept + levels[tool family, tool, part family, strategy, io type] + kind);\n"
              "# sigma: leave-one-project-out spread of the log ratio; ridge 1e6 means no correction.\n")
    write_text_atomic(path, header + yaml.safe_dump(calibration.as_dict(), sort_keys=False))


def _numbers(d, where: str) -> dict:
    if not isinstance(d, dict) or not all(isinstance(k, str) and isinstance(v, (int, float)) and math.isfinite(v)
                                          for k, v in d.items()):
        raise CalibrationError(f"{where} must map names to finite numbers; re-create the file with hcp-fpga calibrate")
    return {k: float(v) for k, v in d.items()}


def load(path: Path | str) -> Calibration:
    """A calibration file written by ``hcp-fpga calibrate`` (safe YAML; every number checked)."""
    from hcp_fpga.errors import read_yaml_mapping

    path = Path(path)
    fix = "re-create it with hcp-fpga calibrate REPORT_DIRS -o FILE"
    data = read_yaml_mapping(path, f"calibration file '{path}'", fix, error=CalibrationError)
    if data.get("hcp_fpga_calibration") != FORMAT:
        raise CalibrationError(f"'{path}' is not an hcp-fpga calibration file (format {FORMAT}); {fix}")
    resources = {}
    raw = data.get("resources")
    if not isinstance(raw, dict) or not raw or set(raw) - set(CALIBRATED):
        raise CalibrationError(f"'{path}': resources must be some of {', '.join(CALIBRATED)}; {fix}")
    for r, f in raw.items():
        if not isinstance(f, dict):
            raise CalibrationError(f"'{path}': resources.{r} must be a mapping; {fix}")
        scalars = _numbers({k: f.get(k) for k in ("intercept", "sigma", "n")}, f"'{path}': resources.{r}")
        if abs(scalars["intercept"]) > 20 or not 0 <= scalars["sigma"] < 20:
            raise CalibrationError(f"'{path}': resources.{r} has an implausible intercept or sigma; {fix}")
        levels = f.get("levels", {})
        if not isinstance(levels, dict) or set(levels) - set(ATTRIBUTES):
            raise CalibrationError(f"'{path}': resources.{r}.levels must be some of {', '.join(ATTRIBUTES)}; {fix}")
        resources[r] = ResourceFactors(scalars["intercept"],
                                       {a: _numbers(d, f"'{path}': resources.{r}.levels.{a}") for a, d in levels.items()},
                                       _numbers(f.get("kind", {}), f"'{path}': resources.{r}.kind"),
                                       sigma=scalars["sigma"], n=int(scalars["n"]))
    projects, seen = data.get("projects", []), data.get("seen", {})
    if not (isinstance(projects, list) and all(isinstance(x, str) for x in projects) and isinstance(seen, dict)
            and all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in seen.values())):
        raise CalibrationError(f"'{path}': projects and seen must list names; {fix}")
    return Calibration(resources, tuple(projects), {a: tuple(v) for a, v in seen.items()},
                       target=str(data.get("target", "csynth")), source=str(path))


# ----------------------------------------------------------------------------- samples from folders


def find_projects(roots: Sequence[Path | str]) -> list[Path]:
    """hls4ml project folders (``hls4ml_config.yml``) under each root, the root itself included."""
    found: list[Path] = []
    for root in map(Path, roots):
        if not root.is_dir():
            raise CalibrationError(f"'{root}' is not a folder; pass folders of synthesized hls4ml projects")
        for cfg in sorted(root.rglob("hls4ml_config.yml")):
            if cfg.parent not in found:
                found.append(cfg.parent)
    return found


def design_class(project: Path) -> tuple[Optional[str], Optional[str]]:
    """(strategy of most multiplier layers, io type) of a project folder; None where unreadable."""
    from hcp_fpga.estimator.model import project_specs

    try:
        specs = project_specs(project).specs
    except (HcpError, OSError, ValueError, KeyError):  # a label only: unknown rather than a stopped fit
        return None, None
    mult = [s for s in specs if kind_class(s.kind) == "mult"] or list(specs)
    strategies = [str(s.strategy) for s in mult if getattr(s, "strategy", None)]
    strategy = max(set(strategies), key=strategies.count) if strategies else None
    if strategy == "ResourceUnrolled":
        strategy = "Resource"
    return strategy, (str(specs[0].io_type) if specs else None)


@dataclass(frozen=True)
class Skipped:
    project: str
    reason: str


def collect(roots: Sequence[Path | str], target: str = "csynth", group_of=None) -> tuple[list[Sample], list[Skipped]]:
    """A sample per project that has both an estimate and a ``target`` report (csynth or vsynth);
    a reason per project that has not. Estimates that leave layers out (lower bounds) are skipped:
    they would teach the factors to cover for layers the model does not price; so are projects whose
    report is of another network than their model (``Estimate.report_mismatch``)."""
    from hcp_fpga.estimator.model import estimate_project
    from hcp_fpga.estimator.reports import ReportError, project_reports

    samples, skipped = [], []
    for project in find_projects(roots):
        name = str(project)
        try:
            reports = project_reports(project)
        except ReportError as exc:
            skipped.append(Skipped(name, str(exc)))
            continue
        if target not in reports:
            skipped.append(Skipped(name, f"no {target} report"))
            continue
        try:
            est = estimate_project(project)
        except HcpError as exc:
            skipped.append(Skipped(name, f"cannot estimate: {exc}"))
            continue
        if est.unpriced:
            skipped.append(Skipped(name, f"estimate leaves out {', '.join(est.unpriced[:3])} (a lower bound)"))
            continue
        if est.report_mismatch:  # its report's error is not the estimator's
            skipped.append(Skipped(name, est.report_mismatch))
            continue
        real = reports[target]
        csynth = reports.get("csynth") or real
        strategy, io_type = design_class(project)
        attrs = design_attributes(csynth.tool, csynth.part or real.part or est.part, strategy, io_type)
        samples.append(Sample(name, group_of(project) if group_of else name, est, real, attrs))
    return samples, skipped


# ----------------------------------------------------------------------------- held-out error


def smape(estimates: Sequence[float], reals: Sequence[float]) -> float:
    """Symmetric mean absolute percentage error (0-200 %; a pair of zeros counts 0)."""
    e, y = np.asarray(estimates, float), np.asarray(reals, float)
    denom = np.abs(e) + np.abs(y)
    return float(np.mean(np.where(denom > 0, 2 * np.abs(e - y) / np.where(denom > 0, denom, 1), 0.0)) * 100)


@dataclass(frozen=True)
class HeldOutError:
    """Error of the estimate against the reports, uncalibrated and calibrated by a fit that left the
    project (or its group) out."""

    resource: str
    n: int
    smape_before: float
    smape_after: float
    median_before: float  # median |estimate - real| / real, %, over reals > 0
    median_after: float

    def as_dict(self) -> dict:
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def held_out_errors(samples: Sequence[Sample]) -> list[HeldOutError]:
    held = held_out_estimates(samples)
    rows = []
    for r in CALIBRATED:
        triples = [(getattr(s.estimate, r), getattr(h, r), getattr(s.real, r)) for s, h in zip(samples, held)
                   if getattr(s.real, r) is not None and getattr(s.estimate, r) is not None]
        if not triples:
            continue
        before, after, real = (np.array(v, float) for v in zip(*triples))
        nz = real > 0
        med = lambda e: float(np.median(np.abs(e[nz] - real[nz]) / real[nz]) * 100) if nz.any() else math.nan  # noqa: E731
        rows.append(HeldOutError(r, len(triples), smape(before, real), smape(after, real), med(before), med(after)))
    return rows


# ----------------------------------------------------------------------------- attributes of a design


def tool_of_backend(backend: Optional[str]) -> Optional[str]:
    """The HLS tool family an hls4ml backend runs under (its version is unknown before synthesis)."""
    b = (backend or "").lower()
    return "Vitis HLS" if b == "vitis" else ("Vivado HLS" if b.startswith("vivado") else None)


def project_attributes(project: Path | str, estimate: Estimate) -> dict:
    """Attributes of a project folder: the tool and version its reports name, else its backend's tool."""
    from hcp_fpga.estimator.reports import ReportError, project_reports
    from hcp_fpga.estimator.spec import read_hls4ml_config

    try:
        tool = (project_reports(project).get("csynth") or estimate).tool
    except ReportError:
        tool = None
    if tool is None:
        config = read_hls4ml_config(Path(project))
        tool = tool_of_backend(config.get("Backend") or "Vivado")
    strategy, io_type = design_class(Path(project))
    return design_attributes(tool, estimate.part, strategy, io_type)


def settings_attributes(settings, part: Optional[str]) -> dict:
    """Attributes of a design about to be exported (``design.HlsSettings``)."""
    strategy = "Resource" if str(settings.strategy).startswith("Resource") else str(settings.strategy)
    return design_attributes(tool_of_backend(str(settings.backend)), part, strategy, str(settings.io_type))


# ----------------------------------------------------------------------------- corrections inside a run


def residual_factors(estimate: Estimate, real: Estimate) -> dict[str, float]:
    """Per resource, what a real report says of one design relative to the estimate of the same design
    (``(real + c) / (estimate + c)``): the correction the next estimates of the run get."""
    out = {}
    for r in CALIBRATED:
        e, y = getattr(estimate, r), getattr(real, r)
        if e is not None and y is not None:
            out[r] = (float(y) + OFFSET[r]) / (float(e) + OFFSET[r])
    return out


def scaled(estimate: Estimate, factors: dict[str, float], note: str) -> Estimate:
    """``estimate`` with each resource (per layer, so totals stay sums) and the latency multiplied."""
    layers = [replace(l, **{r: float(getattr(l, r)) * factors[r] for r in ("dsp", "lut", "ff", "bram18") if r in factors})
              for l in estimate.layers]
    latency = estimate.latency_cycles
    if latency is not None and "latency_cycles" in factors:
        latency = int(round(latency * factors["latency_cycles"]))
    out = Estimate.from_layers(estimate.source, layers, latency, estimate.ii, estimate.clock_ns, estimate.part,
                               notes=estimate.notes + (note,), unpriced=estimate.unpriced, tool=estimate.tool)
    return replace(out, calibration=(estimate.calibration + "; " if estimate.calibration else "") + note)


@dataclass(frozen=True)
class Correction:
    """What corrects every estimate of an optimize run: a calibration file (``calibration``) and the
    residual of the run's own synthesized designs (``residual``, real / estimate per resource),
    applied in that order. ``tool``: the vendor tool the run's reports named, once known."""

    calibration: Optional[Calibration] = None
    residual: dict = field(default_factory=dict)
    tool: Optional[str] = None
    residual_from: tuple = ()  # point ids whose reports set the residual

    def __bool__(self) -> bool:
        return self.calibration is not None or bool(self.residual)

    def __call__(self, estimate: Estimate, settings=None, part: Optional[str] = None) -> Estimate:
        out = estimate
        if self.calibration is not None:
            attrs = settings_attributes(settings, part or estimate.part) if settings is not None else design_attributes(part=estimate.part)
            if self.tool:
                attrs.update(tool_family=tool_family(self.tool), tool=self.tool)
            out = apply(out, self.calibration, attrs)
        if self.residual:
            ids = ", ".join(map(str, self.residual_from))
            out = scaled(out, self.residual, f"corrected by the synthesis of point(s) {ids} in this run "
                         f"({self.tool or 'vendor tool'})")
        return out
