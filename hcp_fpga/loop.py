"""The optimize loop: fit a model to its board, then keep improving it, then confirm it in C
simulation. It reads as a sequence of named steps over frozen design points (``hcp_fpga.search``):

1. ``baseline``: train (or load) the model on the training split; measure it on the validation
   split; C-simulate it once as the reference;
2. ``rounds``: a beam search. Each round, every registered action proposes candidates from the
   beam's points; all are *screened* (applied and estimated, no fine-tuning) and ranked by saving
   per expected accuracy cost; the best are *evaluated* (fine-tuned, validated, estimated) in
   batches on the executor until one is accepted. Before the first fit "better" means less of the
   binding resource; after it, a lower objective (project.yaml ``search.objective``). The search
   stops when no candidate is accepted, when ``patience`` rounds past the fit bring less than
   ``min_improvement_pct``, or when a round/evaluation/time budget runs out;
3. ``final``: the best design is exported and C-simulated on the test split (reported only);
   result types are widened if the C simulation falls short (precision repair).

Decisions read the validation split only; the evaluations never receive test data. Every evaluated
design is kept under ``points/``; ``pareto.json`` holds the front. A checkpoint after every round
(atomic) lets ``--resume`` continue with the same result.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from hcp_fpga.board_catalog import load_board
from hcp_fpga.data import Dataset, check_labels
from hcp_fpga.design import Design, HlsSettings
from hcp_fpga.errors import ConfigError, HcpError
from hcp_fpga.estimator.calibration import Correction
from hcp_fpga.estimator.model import estimate_design
from hcp_fpga.models import build_cnn, build_mlp, check_convertible, load_model, mult_layers, write_model
from hcp_fpga.outputs import check_output_dir, mark, read_json, remove_output_dir, write_json_atomic
from hcp_fpga.project import ProjectConfig
from hcp_fpga.prune import masks_of, sparsity
from hcp_fpga.quantize import profile_ranges, quantized_weight_bits, result_precisions
from hcp_fpga.search.actions import PointView, propose_all, search_accumulators, without_search_accumulators
from hcp_fpga.search.changes import layer_changes
from hcp_fpga.search.context import SearchContext, project_data
from hcp_fpga.search.evaluate import Task, cached_point_model, evaluate, measure_model, screen
from hcp_fpga.search.executors import make_executor
from hcp_fpga.search.pareto import front_rows
from hcp_fpga.search.point import POINTS, DesignPoint
from hcp_fpga.search.realsynth import SYNTH_DIR, RealSynthesis, SynthCheck, apply_check
from hcp_fpga.search.records import HistoryRow, Measure, Trial
from hcp_fpga.train import accuracy, train_classifier
from hcp_fpga.vocab import BUDGETED

RESOURCES = BUDGETED
CHECKPOINT = "checkpoint"
RUN_FILE = "run.json"
STATE_KEYS = ("round", "next_id", "beam", "trials", "baseline", "stall", "evaluations")


class CannotFit(HcpError):
    """No acceptable action brings the design within the board's budget. ``out_dir`` holds the
    closest design, its report and result.json."""

    exit_code = 3

    def __init__(self, message: str, out_dir: Optional[Path] = None) -> None:
        super().__init__(message)
        self.out_dir = out_dir


@dataclass
class LoopResult:
    fits: bool
    out_dir: Path
    history: list = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    trials: list = field(default_factory=list)  # every evaluated Trial


@dataclass
class _State:
    """What a checkpoint holds: enough to continue exactly where the run stopped."""

    round: int
    next_id: int
    beam: list  # point ids
    trials: list  # Trial (the baseline first)
    baseline: dict  # val/test (and C-simulation) accuracy of the baseline
    stall: int = 0  # rounds past the fit without enough improvement
    evaluations: int = 0
    synth_checks: list = field(default_factory=list)  # SynthCheck: designs the vendor tool synthesized
    round_limit: int = 0  # max_iterations, raised when a final report sends the search back

    def as_dict(self) -> dict:
        return {"round": self.round, "next_id": self.next_id, "beam": self.beam, "trials": [t.as_dict() for t in self.trials],
                "baseline": self.baseline, "stall": self.stall, "evaluations": self.evaluations,
                "synth_checks": [c.as_dict() for c in self.synth_checks], "round_limit": self.round_limit}

    @classmethod
    def from_dict(cls, d: dict) -> "_State":
        return cls(int(d["round"]), int(d["next_id"]), [int(i) for i in d["beam"]], [Trial.from_dict(t) for t in d["trials"]],
                   dict(d["baseline"]), int(d["stall"]), int(d["evaluations"]),
                   [SynthCheck.from_dict(c) for c in d.get("synth_checks", [])], int(d.get("round_limit", 0)))

    @property
    def real_points(self) -> frozenset:
        return frozenset(c.point for c in self.synth_checks)

    def history(self, budget: dict) -> list[dict]:
        """history.json rows: one per trial, in evaluation order (the baseline's with its test and
        C-simulation accuracy), and one per synthesis with its estimate and real report."""
        rows = [HistoryRow.of(t, budget) for t in self.trials]
        rows[0] = replace(rows[0], extra={k: v for k, v in self.baseline.items() if k != "val_accuracy"})
        accuracy_of = {t.point.id: t.measure.val_accuracy for t in self.trials}
        rows += [c.history_row(accuracy_of.get(c.point, float("nan"))) for c in self.synth_checks if not c.final]
        return [r.as_dict() for r in sorted(rows, key=lambda r: r.iteration)]


# ----------------------------------------------------------------------------- checkpoints


def save_checkpoint(out_dir: Path, state: _State) -> None:
    """One file, written atomically: a kill at any moment leaves the previous checkpoint or this one."""
    (out_dir / CHECKPOINT).mkdir(exist_ok=True)
    write_json_atomic(out_dir / CHECKPOINT / "state.json", state.as_dict())


def load_checkpoint(out_dir: Path) -> _State:
    """The last checkpoint; one clear error naming the file if it is damaged."""
    path = out_dir / CHECKPOINT / "state.json"
    if not path.exists():
        raise ConfigError(f"no checkpoint in '{out_dir}' to resume from; run without --resume")
    fix = "it is damaged: start over with --force instead of --resume"
    state = read_json(path, "checkpoint state", fix)
    if not isinstance(state, dict) or not all(k in state for k in STATE_KEYS):
        raise ConfigError(f"checkpoint state '{path}' is incomplete (written by another version?); {fix}")
    try:
        loaded = _State.from_dict(state)
        for point_id in loaded.beam:
            DesignPoint.load(out_dir, point_id)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"checkpoint '{path}' is damaged ({type(exc).__name__}); {fix}") from None
    return loaded


# ----------------------------------------------------------------------------- baseline


def _baseline_model(config: ProjectConfig, data: Dataset, ctx_log, show_progress: bool = False) -> tuple[object, Dataset]:
    spec = config.model
    if spec.file:
        model = load_model(config.path(spec.file), config.path(spec.weights) if spec.weights else None)
        data = data.for_model(model.input_shape[1:])
        for split, y in (("train", data.y_train), ("test", data.y_test)):
            check_labels(y, int(np.prod(model.output_shape[1:])), f"data '{data.name}' {split} split")
        return model, data
    if spec.builder == "mlp":
        model = build_mlp(int(np.prod(data.sample_shape)), tuple(spec.hidden), data.n_classes, seed=config.seed)
        data = data.for_model(model.input_shape[1:])
    else:
        shape = (int(np.prod(data.sample_shape)), 1) if spec.builder == "cnn1d" else _square(data)
        data = data.for_model(shape)
        model = build_cnn(shape, tuple(spec.filters), spec.kernel, tuple(spec.dense), data.n_classes, seed=config.seed)
    t = config.training
    ctx_log(f"training the baseline ({t.epochs} epochs)")
    train_classifier(model, data, epochs=t.epochs, batch_size=t.batch_size, learning_rate=t.learning_rate,
                     seed=config.seed, show_progress=show_progress, description="training the baseline")
    return model, data


def _square(data: Dataset) -> tuple:
    n = int(np.prod(data.sample_shape))
    side = int(round(n ** 0.5))
    if side * side != n:
        raise ConfigError(f"cnn2d needs square images; '{data.name}' has {n} features per sample (use cnn1d or mlp)")
    return side, side, 1


def _baseline_csim(point: DesignPoint, ctx: SearchContext, log, progress) -> Optional[float]:
    """C-simulate the baseline once, as the reference the final design is compared with."""
    from hcp_fpga.hls import export_project, run_csim

    log("C simulation of the baseline (reference)")
    model, _ = point.load_model(ctx.root)
    result = export_project(Design.create(model, ctx.board, point.settings), ctx.root / "baseline_hls_project", force=True)
    return run_csim(result.out_dir, data=ctx.config.data_spec(), progress=progress).csim_accuracy


# ----------------------------------------------------------------------------- rounds


def _better_before_fit(trial: Trial, parent: Measure) -> bool:
    return trial.measure.resources[parent.binding] < parent.resources[parent.binding] or trial.measure.meets_targets


def _accept(trial: Trial, parent: Measure, best: Optional[Trial], ctx: SearchContext) -> tuple[bool, str]:
    m = trial.measure
    if m.val_accuracy < ctx.min_accuracy - 1e-9:
        return False, "accuracy"
    if not m.latency_ok:
        return False, "latency"
    if best is None:
        return (True, "") if _better_before_fit(trial, parent) else (False, "no saving")
    if not m.meets_targets:
        return False, "does not fit"
    return (True, "") if m.objective < best.measure.objective - 1e-12 else (False, "no gain")


def _score(parent: Measure, screened: Measure, prior: float, improving: bool) -> float:
    """Estimated gain per expected accuracy cost; <= 0: not worth evaluating."""
    if improving:
        if not screened.meets_targets:
            return 0.0
        gain = (parent.objective - screened.objective) / max(abs(parent.objective), 1e-12)
    else:
        b = parent.binding
        gain = (parent.resources[b] - screened.resources[b]) / max(parent.resources[b], 1.0)
    return gain / prior


def _beam_key(m: Measure) -> tuple:
    return (0, m.objective) if m.meets_targets else (1, m.pressure)


def _next_beam(accepted: list[Trial], beam: list[Trial], width: int) -> list[int]:
    """The points the next round starts from: this round's accepted designs first (each was better
    than its parent), then the earlier beam, each group ordered by ``_beam_key``."""
    ordered = sorted(accepted, key=lambda t: (_beam_key(t.measure), t.point.id))
    ordered += sorted((t for t in beam if t not in accepted), key=lambda t: (_beam_key(t.measure), t.point.id))
    return [t.point.id for t in ordered[:width]]


def _best(trials: list[Trial], ctx: SearchContext) -> Optional[Trial]:
    """The design the run returns: the lowest objective among those that meet the targets at an
    acceptable accuracy; None if none does."""
    ok = [t for t in trials if t.measure.meets_targets and t.measure.val_accuracy >= ctx.min_accuracy - 1e-9
          and (t.accepted or t.point.id == 0)]
    return min(ok, key=lambda t: (t.measure.objective, t.point.id)) if ok else None


def _closest(trials: list[Trial]) -> Trial:
    accepted = [t for t in trials if t.accepted or t.point.id == 0]
    return min(accepted, key=lambda t: (_beam_key(t.measure), t.point.id))


def _round(state: _State, ctx: SearchContext, executor, log, progress) -> bool:
    """One round of the beam search; False when no candidate was accepted (the search is over)."""
    config = ctx.config
    by_id = {t.point.id: t for t in state.trials}
    best = _best(state.trials, ctx)
    improving = best is not None
    tried = {(t.point.parent, t.point.action) for t in state.trials}  # never the same candidate twice
    proposals = []
    for pid in state.beam:
        trial = by_id[pid]
        model, _ = cached_point_model(str(ctx.root), trial.point)  # the serial screening reuses it
        view = PointView(trial.point, model, trial.measure, improving)
        proposals += [(trial, a) for a in propose_all(view, ctx) if (pid, a.name) not in tried]
    if not proposals:
        log(f"round {state.round}: no action applies")
        return False
    screened = executor.map(screen, [Task(ctx, t.point, a) for t, a in proposals], f"round {state.round}: screening", progress)
    ranked = []
    for (parent, action), m in zip(proposals, screened):
        if m is None or not m.latency_ok:
            continue
        score = _score(parent.measure, m, action.prior, improving)
        if score > 0:
            ranked.append((score, parent, action))
    ranked.sort(key=lambda r: -r[0])  # stable: ties keep proposal order
    batch = config.search.candidates or getattr(executor, "workers", 1)
    accepted: list[Trial] = []
    for start in range(0, len(ranked), batch):
        chunk = ranked[start:start + batch]
        if state.evaluations >= config.search.max_evaluations:
            break
        tasks = []
        for _, parent, action in chunk:
            tasks.append(Task(ctx, parent.point, action, state.next_id, state.round, seed=config.seed + 7919 * state.next_id))
            state.next_id += 1
        results = executor.map(evaluate, tasks, f"round {state.round}: evaluating", progress)
        state.evaluations += len(tasks)
        for task, trial in zip(tasks, results):
            if trial is None:
                continue
            parent = by_id[task.parent.id].measure
            ok, note = _accept(trial, parent, best, ctx)
            trial = replace(trial, accepted=ok, note=note)
            state.trials.append(trial)
            _log_row(log, HistoryRow.of(trial, ctx.budget()))
            if ok:
                accepted.append(trial)
        if accepted:
            break
    if not accepted:
        return False
    state.beam = _next_beam(accepted, [by_id[pid] for pid in state.beam], config.search.beam_width)
    new_best = _best(state.trials, ctx)
    if improving and new_best is not None:
        gain = (best.measure.objective - new_best.measure.objective) / max(abs(best.measure.objective), 1e-12)
        state.stall = state.stall + 1 if gain * 100.0 < config.search.min_improvement_pct else 0
    return True


def _log_row(log, row: HistoryRow) -> None:
    b = row.binding
    verdict = "fits" if row.fits else f"{b} {row.estimate[b]:,.0f}/{row.budget[b]:,.0f}"
    log(f"round {row.iteration}: {row.action}: val accuracy {row.accuracy:.4f}, {verdict}, objective {row.objective:.4g} -> "
        f"{'accepted' if row.accepted else 'rejected (' + row.note + ')'}")


def _stop_reason(state: _State, ctx: SearchContext, started: float) -> Optional[str]:
    s = ctx.config.search
    if _best(state.trials, ctx) is not None and (s.patience == 0 or state.stall >= s.patience):
        return f"the objective improved less than {s.min_improvement_pct} % in {max(s.patience, 1)} round(s)"
    limit = state.round_limit or ctx.config.max_iterations
    if state.round >= limit:
        return f"{limit} rounds"
    if state.evaluations >= s.max_evaluations:
        return f"{s.max_evaluations} evaluations"
    if s.time_budget_s is not None and time.monotonic() - started > s.time_budget_s:
        return f"the time budget of {s.time_budget_s:.0f} s"
    return None


# ----------------------------------------------------------------------------- the run


def run_loop(config: ProjectConfig, out_dir: Optional[Path] = None, resume: bool = False, force: bool = False,
             log: Callable[[str], None] = print, show_progress: bool = False,
             progress: Optional[Callable[[str, int, int], None]] = None, executor=None,
             tool_settings: Optional[Path] = None) -> LoopResult:
    """Fit ``config``'s model to its board (see the module docstring). Writes into ``out_dir``:
    ``points/``, ``checkpoint/``, ``history.json``, ``pareto.json``, ``result.json``,
    ``estimate.json``, ``model/`` and the final ``hls_project/`` with its ``csim.json``. Raises
    ``CannotFit`` (exit 3) after writing them when no design meets the targets. ``executor``:
    default from ``config.search`` (serial unless it names dask). ``tool_settings``: the vendor's
    settings script, for ``synth:`` in the project (docs/synthesis.md)."""
    # Everything is validated before the output folder is touched: the board, the settings, the
    # data, the calibration, the vendor tool, the checkpoint or the model, the output path. Only
    # then is an old folder replaced.
    board = load_board(config.board)
    plain_settings = HlsSettings(backend=config.backend, io_type=config.io_type, clock_ns=config.clock_ns,
                                 precision=config.precision).resolved(board)
    base_settings = plain_settings
    if config.hls_config is not None:  # the user's hls4ml config: a starting point, its layers pinned
        base_settings = config.hls_settings(plain_settings)
    calibration = config.loaded_calibration()
    synthesis = _synthesis_step(config, base_settings, tool_settings, log)
    out_dir = check_output_dir(out_dir or config.out_dir(), force=force and not resume, resume=resume,
                               exists_hint="pass --resume to continue it or --force to start over")
    if resume and not out_dir.is_dir():
        raise ConfigError(f"no output folder '{out_dir}' to resume; run without --resume")
    data = project_data(config)
    started = time.monotonic()
    if resume:
        state = load_checkpoint(out_dir)
        log(f"resuming after round {state.round} ({len(state.trials)} designs evaluated)")
        model = None
        design_class = read_json(out_dir / RUN_FILE, "optimize run record", "start over with --force").get("design_class")
    else:
        model, data = _baseline_model(config, data, log, show_progress)
        if config.hls_config is not None:  # its LayerType and Model variable types apply per layer now
            parsed = config.parsed_hls_config().for_model(model)
            base_settings = parsed.apply(plain_settings)
            for note in parsed.notes:  # what it reads and does not apply
                log(f"note: {note}")
        Design.create(model, board, base_settings).validate()  # pinned layers exist, their RFs are valid
        check_convertible(model, str(base_settings.io_type))  # what the export at the end would refuse
        baseline_estimate = estimate_design(Design.create(model, board, base_settings))
        design_class, unpriced = baseline_estimate.design_class, baseline_estimate.unpriced
        if unpriced:
            raise ConfigError(f"the estimator cannot price layer(s) {', '.join(unpriced)}: optimize would fit a lower bound "
                              "to the board; remove them or estimate and export the model without optimizing")
        if out_dir.exists() and any(out_dir.iterdir()):
            remove_output_dir(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        mark(out_dir)
        # what export-point needs to rebuild any point: the board and where the data comes from
        write_json_atomic(out_dir / RUN_FILE, {"project": config.name, "board": board.name, "data": config.data_spec(),
                                               "source": config.source, "design_class": design_class})
    config = _with_headroom(config, design_class, log)
    if executor is None:
        s = config.search
        executor = make_executor(s.executor, s.workers, s.scheduler)
        own_executor = True
    else:
        own_executor = False
    try:
        correction = Correction(calibration) if calibration else None
        if not resume:
            state = _start(config, board, base_settings, model, data, out_dir, log, progress, correction)
        ctx = SearchContext(config, board, out_dir, state.baseline["val_accuracy"], correction)
        for check in state.synth_checks:  # a resumed run: the residuals its reports set
            _, ctx = apply_check(check, [], ctx)
        write_json_atomic(out_dir / "history.json", state.history(ctx.budget()))
        while True:
            ctx = _search(state, ctx, executor, synthesis, out_dir, started, log, progress)
            write_json_atomic(out_dir / "pareto.json", front_rows(state.trials))
            outcome = _finish(state, ctx, out_dir, data, log, progress, synthesis)
            if isinstance(outcome, LoopResult):
                return outcome
            ctx = outcome  # the final report said "does not fit": search on with its residual
    finally:
        if own_executor:
            executor.close()


def _synthesis_step(config: ProjectConfig, settings: HlsSettings, tool_settings, log) -> RealSynthesis:
    """The ``synth:`` policy with its tool, found before anything runs; without a tool the run says
    so once and uses estimates only."""
    policy = config.synth
    if policy is None:
        if tool_settings is not None:
            raise ConfigError("--tool-settings needs a synth: block in the project (docs/synthesis.md)")
        return RealSynthesis(None, None)
    from hcp_fpga.vendor import ToolNotFound
    from hcp_fpga.vendor.tools import find_tool_for_backend

    try:
        tool = find_tool_for_backend(str(settings.backend), policy.step, tool_settings)
    except ToolNotFound as exc:
        log(f"synth: {exc}; this run uses estimates only")
        return RealSynthesis(policy, None, str(exc))
    log(f"synth: {tool.name} ({tool.path}) synthesizes "
        + (f"the best design every {policy.every} round(s)" if policy.every else "")
        + (" and " if policy.every and policy.final else "") + ("the chosen design" if policy.final else ""))
    return RealSynthesis(policy, tool)


def _search(state: _State, ctx: SearchContext, executor, synthesis: RealSynthesis, out_dir: Path, started: float,
            log, progress) -> SearchContext:
    """Rounds until a stop reason; every ``synth.every`` rounds the best design is synthesized and
    its report corrects the rest. Returns the context (with the residuals the reports set)."""
    while True:
        reason = _stop_reason(state, ctx, started)
        if reason is None and _best(state.trials, ctx) is None and state.round > 0 and not state.beam:
            reason = "no design left"
        if reason:
            log(f"stopping: {reason}")
            return ctx
        state.round += 1
        if not _round(state, ctx, executor, log, progress):
            log(f"stopping: no acceptable candidate in round {state.round}")
            save_checkpoint(out_dir, state)
            return ctx
        if synthesis.due(state.round):
            ctx = _synthesize_best(state, ctx, synthesis, out_dir, log)
        save_checkpoint(out_dir, state)
        write_json_atomic(out_dir / "history.json", state.history(ctx.budget()))
        write_json_atomic(out_dir / "pareto.json", front_rows(state.trials))


def _synthesize_best(state: _State, ctx: SearchContext, synthesis: RealSynthesis, out_dir: Path, log) -> SearchContext:
    """Export the current best (or closest) design, synthesize it, let its report win and correct."""
    from hcp_fpga.hls import export_project
    from hcp_fpga.vendor import SynthFailed

    trial = _best(state.trials, ctx) or _closest(state.trials)
    if trial.point.id in state.real_points:
        return ctx
    model, _ = trial.point.load_model(out_dir)
    project = export_project(Design.create(model, ctx.board, trial.point.settings),
                             out_dir / SYNTH_DIR / f"point-{trial.point.id}", force=True, source=ctx.config.source).out_dir
    log(f"synth: point {trial.point.id} with {synthesis.tool.name} (log: {project / 'hcp_synth'})")
    try:
        check = synthesis.check(trial, ctx, project, state.round)
    except SynthFailed as exc:  # the run goes on with estimates; the failure is in the log
        log(f"synth: point {trial.point.id}: {exc}")
        return ctx
    return _take_report(state, ctx, check, log)


def _take_report(state: _State, ctx: SearchContext, check: SynthCheck, log) -> SearchContext:
    state.trials, ctx = apply_check(check, state.trials, ctx, state.real_points)
    state.synth_checks.append(check)
    est, real = check.estimate, check.real
    log(f"synth: point {check.point} ({check.tool}): " + ", ".join(
        f"{r.upper()} {est[r]:,.0f} estimated / {real[r]:,.0f} real" for r in ("dsp", "lut", "ff", "bram18"))
        + f" -> {'fits' if check.fits else 'does not fit'}; later estimates corrected by the residual")
    return ctx


def _with_headroom(config: ProjectConfig, design_class: Optional[str], log) -> ProjectConfig:
    """The project with its headroom per resource: ``headroom: auto`` becomes what the estimator's
    errors on real designs of this class call for (estimator/uncertainty.py), and is said once."""
    if config.targets.headroom != "auto":
        return config
    headroom = config.targets.headroom_for(design_class)
    log("headroom auto (" + ", ".join(f"{r.upper()} {v:.0%}" for r, v in headroom.items())
        + f"): an estimate within it fits the board at 90 % per resource, by the estimator's errors on real "
        f"{design_class or 'hls4ml'} designs (docs/estimator.md)")
    return config.model_copy(update={"targets": config.targets.model_copy(update={"headroom": headroom})})


def _start(config, board, settings, model, data, out_dir, log, progress, correction=None) -> _State:
    """The baseline as point 0, measured on the validation split, C-simulated as the reference."""
    bits = quantized_weight_bits(model)  # a QKeras model file starts quantized
    point = DesignPoint(0, None, "baseline", settings, {k: (v, v) for k, v in bits.items()} if any(bits.values()) else None)
    point.save(out_dir, model, masks_of(model))
    _, measure = measure_model(SearchContext(config, board, out_dir, 0.0, correction), model, settings, data)  # needs no floor
    baseline = {"val_accuracy": measure.val_accuracy, "test_accuracy": accuracy(model, data.x_test, data.y_test)}
    ctx = SearchContext(config, board, out_dir, measure.val_accuracy, correction)
    baseline["csim_accuracy"] = _baseline_csim(point, ctx, log, progress)
    state = _State(0, 1, [0], [Trial(point, 0, measure, accepted=True)], baseline, round_limit=config.max_iterations)
    save_checkpoint(out_dir, state)
    return state


def _finish(state: _State, ctx: SearchContext, out_dir: Path, data: Dataset, log, progress,
            synthesis: Optional[RealSynthesis] = None) -> "LoopResult | SearchContext":
    """Export the chosen design, C-simulate it (repairing too narrow types), synthesize it where a
    tool exists and write the results. Returns a ``SearchContext`` instead when the real report says
    the design does not fit and ``synth.retries`` allows more rounds with its residual."""
    from hcp_fpga.hls import export_project, run_csim

    best = _best(state.trials, ctx)
    chosen = best or _closest(state.trials)
    point = chosen.point
    model, _ = point.load_model(out_dir)
    data = data.for_model(model.input_shape[1:])
    keras_test = accuracy(model, data.x_test, data.y_test)
    log(f"exporting the chosen design (point {point.id}) and running its C simulation")
    design = Design.create(model, ctx.board, point.settings)
    exported = export_project(design, out_dir / "hls_project", force=True, source=ctx.config.source)
    csim = run_csim(exported.out_dir, data=ctx.config.data_spec(), progress=progress)
    repair = None
    settings = point.settings
    if csim.csim_accuracy is not None and csim.csim_accuracy < keras_test - 0.005:
        # fixed-point results too narrow: give every layer a result type that holds its profiled range,
        # and the inputs one that holds theirs (the model default may cut their fraction bits)
        ranges = profile_ranges(model, data.x_train)
        names = {l.name for l in mult_layers(model) if not settings.is_pinned(l.name, "result")}
        ranges = {n: r for n, r in ranges.items() if n in names}
        for name in getattr(model, "input_names", []) or []:
            if not settings.is_pinned(name, "result"):
                ranges[name] = float(np.max(np.abs(data.x_train))) if data.x_train.size else 1.0
        precisions = result_precisions(ranges, width=18)
        # float layers' weights are cut to the model default type by hls4ml: give them 18 bits too
        # (QKeras layers' weights are already on their own grid)
        weight_types = {}
        for layer in mult_layers(model):
            if (point.bits or {}).get(layer.name) is None and not settings.is_pinned(layer.name, "weight"):
                w = max(float(np.max(np.abs(v))) for v in layer.get_weights()) if layer.get_weights() else 1.0
                wide = result_precisions({layer.name: w}, width=18)[layer.name]
                weight_types[layer.name] = {**settings.layer_types.get(layer.name, {}), "weight": wide, "bias": wide}
        # and the accumulators the search narrowed go back to hls4ml's lossless inferred ones
        narrowed = sorted(search_accumulators(settings))
        settings = without_search_accumulators(settings)
        settings = replace(settings, layer_precision={**settings.layer_precision, **precisions},
                           layer_types={**settings.layer_types, **weight_types})
        before = csim.csim_accuracy
        exported = export_project(Design.create(model, ctx.board, settings), out_dir / "hls_project", force=True,
                                  source=ctx.config.source)
        csim = run_csim(exported.out_dir, data=ctx.config.data_spec(), progress=progress)
        repair = {"csim_accuracy_before": before, "csim_accuracy_after": csim.csim_accuracy, "layer_precision": precisions,
                  "layer_types": weight_types, "accumulators_restored": narrowed}
        log(f"csim {before:.4f} < keras {keras_test:.4f} - 0.5 pp: widened result, input and float weight types -> "
            f"csim {csim.csim_accuracy:.4f}")
    est, measure = measure_model(ctx, model, settings, data)
    fits = measure.meets_targets
    final_check = None
    if synthesis is not None and synthesis.active and synthesis.policy.final:
        final_check, retry = _final_synthesis(state, ctx, synthesis, Trial(replace(point, settings=settings), state.round, measure),
                                              exported.out_dir, log)
        if retry is not None:
            return retry
        if final_check is not None:
            fits = final_check.fits  # a real report wins over the estimate
    baseline_point = next(t.point for t in state.trials if t.point.id == 0)
    changes = layer_changes(baseline_point.load_model(out_dir)[0], baseline_point, model, replace(point, settings=settings))
    shutil.rmtree(out_dir / "model", ignore_errors=True)
    write_model(model, out_dir / "model")
    write_json_atomic(out_dir / "estimate.json", est.as_dict())
    budget = ctx.budget()
    verdict = est.verdict(ctx.board, ctx.config.targets.headroom)
    binding, over = measure.binding, list(measure.over)
    if final_check is not None:  # the real report's verdict: what is over, and what binds
        from hcp_fpga.estimator.types import Estimate

        real = final_check.real
        verdict = Estimate("csynth", (), **{r: real[r] for r in ("dsp", "bram18", "uram", "lut", "ff")},
                           latency_cycles=real["latency_cycles"], ii=est.ii, clock_ns=est.clock_ns,
                           part=ctx.board.part).verdict(ctx.board, ctx.config.targets.headroom)
        binding, over = verdict.binding, list(verdict.over)
    summary = {
        "project": ctx.config.name, "board": ctx.board.name, "part": ctx.board.part, "fits": fits,
        "binding": binding, "over": over, "utilization": verdict.utilization,
        # the estimate's chance to fit the board, from the estimator's errors on real designs (None: a real report judged)
        "confidence": verdict.confidence, "headroom": ctx.config.targets.headroom,
        "baseline_accuracy": state.baseline["test_accuracy"], "keras_accuracy": keras_test, "csim_accuracy": csim.csim_accuracy,
        "baseline_val_accuracy": state.baseline["val_accuracy"], "val_accuracy": measure.val_accuracy,
        "csim_agreement": csim.argmax_agreement, "sparsity": sparsity(model), "bits": point.bits,
        "settings": asdict(settings), "latency_cycles": est.latency_cycles, "latency_ns": est.latency_ns, "ii": est.ii,
        "iterations": state.round, "rounds": state.round, "evaluations": state.evaluations, "point": point.id,
        "objective": {"name": ctx.config.search.objective, "value": measure.objective}, "ebops": measure.ebops,
        "precision_repair": repair, "estimate": {r: getattr(est, r) for r in RESOURCES}, "budget": {r: budget[r] for r in RESOURCES},
        "pareto_points": len(front_rows(state.trials)), "accuracy_split": "test (decisions used validation)",
        "weights": {"before": sum(c.weights_before for c in changes), "after": sum(c.weights_after for c in changes),
                    # zero as the hardware holds them: pruned, and rounded to 0 by the weight bits
                    "zero_after": sum(c.zero_after * c.weights_after for c in changes)
                    / max(sum(c.weights_after for c in changes), 1)},
        "layer_changes": [c.as_dict() for c in changes],
        "synthesis": _synthesis_summary(state, synthesis, final_check, ctx),
    }
    final_row = HistoryRow(state.round, "final C simulation", True, keras_test, point.id, split="test",
                           extra={"csim_accuracy": csim.csim_accuracy, "precision_repair": repair})
    history = state.history(budget) + [final_row.as_dict()]
    write_json_atomic(out_dir / "history.json", history)
    write_json_atomic(out_dir / "result.json", summary)
    result = LoopResult(fits, out_dir, history, summary, list(state.trials))
    if not fits and final_check is not None:
        real = final_check.real
        over = [r for r in BUDGETED if real[r] > budget[r]]
        raise CannotFit(f"cannot fit '{ctx.config.name}' on {ctx.board.name}: {final_check.tool} reports "
                        + (", ".join(f"{r.upper()} {real[r]:,.0f} of {budget[r]:,.0f}" for r in over) or "the latency bound missed")
                        + f" for the chosen design after {len(state.synth_checks)} synthesis run(s); closest design and report "
                        f"written to {out_dir}", out_dir)
    if not fits:
        over = ", ".join(measure.over) or "latency"
        raise CannotFit(f"cannot fit '{ctx.config.name}' on {ctx.board.name}: {over} over budget with "
                        f"{ctx.config.targets.max_accuracy_drop_pp} pp accuracy tolerance (binding: {measure.binding}, "
                        f"{measure.resources[measure.binding]:,.0f} of {budget[measure.binding]:,.0f}); closest design and "
                        f"report written to {out_dir}", out_dir)
    return result


def _final_synthesis(state: _State, ctx: SearchContext, synthesis: RealSynthesis, trial: Trial, project: Path,
                     log) -> tuple[Optional[SynthCheck], Optional[SearchContext]]:
    """(the final report's check, a context to search on with) -- the second only when the real
    design does not fit and retries are left."""
    from hcp_fpga.vendor import SynthFailed

    log(f"synth: the chosen design (point {trial.point.id}) with {synthesis.tool.name} (log: {project / 'hcp_synth'})")
    try:
        check = synthesis.check(trial, ctx, project, state.round, final=True)
    except SynthFailed as exc:
        log(f"synth: {exc}; the result rests on the estimate")
        return None, None
    retries = sum(1 for c in state.synth_checks if c.final)
    if check.fits or retries >= synthesis.policy.retries:
        state.synth_checks.append(check)
        return check, None
    log(f"synth: the real design does not fit; searching on with estimates corrected by its report "
        f"(retry {retries + 1} of {synthesis.policy.retries})")
    ctx = _take_report(state, ctx, check, log)
    state.stall = 0
    state.round_limit = max(state.round_limit, state.round) + ctx.config.max_iterations
    if _best(state.trials, ctx) is None:
        closest = _closest(state.trials)
        state.beam = [closest.point.id] + [i for i in state.beam if i != closest.point.id]
    save_checkpoint(ctx.root, state)
    return None, ctx


def _synthesis_summary(state: _State, synthesis: Optional[RealSynthesis], final: Optional[SynthCheck], ctx) -> dict:
    """result.json's account of real synthesis: whether a tool ran, each check, what decided "fits"."""
    if synthesis is None or synthesis.policy is None:
        return {"requested": False}
    return {"requested": True, "tool_found": synthesis.tool is not None, "unavailable": synthesis.unavailable or None,
            "checks": [c.as_dict() for c in state.synth_checks],
            "verdict_from": "real report" if final is not None else "estimate",
            "calibration": ctx.correction.calibration.describe() if ctx.correction and ctx.correction.calibration else None}


def export_point(out_dir: Path | str, point_id: int, target: Path | str | None = None, force: bool = False,
                 progress: Optional[Callable[[str, int, int], None]] = None):
    """Export any evaluated design of an optimize run (a Pareto point, say) and C-simulate it on the
    run's test data; returns (ExportResult, CsimResult). ``target`` defaults to ``<out>/point-<N>``."""
    from hcp_fpga.hls import export_project, run_csim

    out_dir = Path(out_dir)
    run = read_json(out_dir / RUN_FILE, "optimize run record", "pass the output folder of hcp-fpga optimize")
    if not isinstance(point_id, int) or point_id < 0 or not (out_dir / POINTS / f"{point_id:05d}" / "point.json").exists():
        known = sorted(int(p.name) for p in (out_dir / POINTS).glob("[0-9]*") if p.name.isdigit())
        raise ConfigError(f"point {point_id} is not in '{out_dir / POINTS}'; pick one of {known[0]}..{known[-1]} "
                          "(pareto.json lists the front)" if known else f"'{out_dir}' holds no design points")
    try:
        point = DesignPoint.load(out_dir, point_id)
        model, _ = point.load_model(out_dir)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"point {point_id} in '{out_dir}' is damaged ({type(exc).__name__}); re-run hcp-fpga optimize") from None
    board = load_board(run["board"])
    target = Path(target) if target is not None else out_dir / f"point-{point_id}"
    exported = export_project(Design.create(model, board, point.settings), target, force=force,
                              source=f"{out_dir} point {point_id} ({point.action})")
    return exported, run_csim(exported.out_dir, data=run["data"], progress=progress)



# ----------------------------------------------------------------------------- sweep


@dataclass(frozen=True)
class SweepRow:
    """One (board, clock) of a sweep: did the model fit, at what accuracy, utilization and latency,
    with which settings."""

    board: str
    clock_ns: Optional[float]
    fits: bool
    out_dir: str
    val_accuracy: Optional[float] = None
    test_accuracy: Optional[float] = None
    csim_accuracy: Optional[float] = None
    utilization: dict = field(default_factory=dict)
    latency_cycles: Optional[int] = None
    latency_ns: Optional[float] = None
    settings: str = ""
    error: str = ""
    path: str = ""  # the run's folder

    def as_dict(self) -> dict:
        return asdict(self)


def _settings_summary(summary: dict) -> str:
    s = summary["settings"]
    layers = sorted(set(s.get("layer_reuse", {})) | set(s.get("layer_strategy", {})) | set(summary.get("bits") or {}))
    parts = []
    for name in layers:
        strategy = s.get("layer_strategy", {}).get(name, s.get("strategy"))
        bits = (summary.get("bits") or {}).get(name)
        parts.append(f"{name}: {strategy} RF {s.get('layer_reuse', {}).get(name, s.get('reuse_factor'))}"
                     + (f", {bits[0]}-bit" if bits else ""))
    return "; ".join(parts) or f"{s.get('strategy')} RF {s.get('reuse_factor')}"


def run_sweep(config: ProjectConfig, boards: list[str], out_dir: Path, clocks: Optional[list[float]] = None,
              force: bool = False, log: Callable[[str], None] = print, show_progress: bool = False,
              progress: Optional[Callable[[str, int, int], None]] = None) -> list[SweepRow]:
    """The same project fitted to each board (and clock): one optimize run per combination into
    ``out_dir/<board>[-<clock>ns]/``, then ``sweep.json`` and ``report.html`` over all of them."""
    records = [load_board(b) for b in boards]  # every name checked before anything runs
    if len({b.name for b in records}) != len(records):
        raise ConfigError("a board appears twice in --boards; name each once")
    for c in clocks or []:
        if not (isinstance(c, (int, float)) and 0 < c < 1e6):
            raise ConfigError(f"clock {c} ns is invalid; give positive periods in ns, e.g. --clocks 5,10")
    out_dir = check_output_dir(out_dir, force=force, resume=False, exists_hint="pass --force to replace it")
    if out_dir.exists() and any(out_dir.iterdir()):
        remove_output_dir(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    mark(out_dir)
    rows = []
    s = config.search
    executor = make_executor(s.executor, s.workers, s.scheduler)  # one cluster for every run
    try:
        _sweep_runs(config, records, clocks, out_dir, executor, rows, log, show_progress, progress)
    finally:
        executor.close()
    write_json_atomic(out_dir / "sweep.json", [r.as_dict() for r in rows])
    return rows


def _sweep_runs(config, records, clocks, out_dir, executor, rows, log, show_progress, progress) -> None:
    for board in records:
        for clock in clocks or [None]:
            label = board.name + (f"-{clock:g}ns" if clock is not None else "")
            log(f"== {label}")
            run_config = config.model_copy(update={"board": board.name, "clock_ns": clock if clock is not None else config.clock_ns})
            try:
                result = run_loop(run_config, out_dir / label, log=log, show_progress=show_progress, progress=progress,
                                  executor=executor)
                summary, fits, error = result.summary, True, ""
            except CannotFit as exc:
                summary, fits, error = read_json(out_dir / label / "result.json", "result", "re-run the sweep"), False, str(exc)
            rows.append(SweepRow(board.name, summary["settings"].get("clock_ns"), fits, label, summary.get("val_accuracy"),
                                 summary.get("keras_accuracy"), summary.get("csim_accuracy"),
                                 {r: v for r, v in (summary.get("utilization") or {}).items() if v is not None},
                                 summary.get("latency_cycles"), summary.get("latency_ns"), _settings_summary(summary), error,
                                 str(out_dir / label)))


__all__ = ["CannotFit", "LoopResult", "SweepRow", "run_loop", "run_sweep", "export_point", "load_checkpoint", "save_checkpoint",
           "POINTS"]
