"""The optimize loop: prune, quantize and re-configure a model until its estimated design fits the
board with headroom, meets its latency bound, and keeps its accuracy, then confirm with C simulation.

It reads as a sequence of named transformations (FINN-style): each ``Action`` turns a ``Step``
(model, masks, settings, bits) into a new one and leaves the old one intact, so rejecting an action
is keeping the old step. Every accepted step is checkpointed atomically; ``resume`` continues from
the last one. The loop prices actions with the estimator only (``hcp_fpga.estimator``).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from hcp_fpga.board_catalog import Board, load_board
from hcp_fpga.data import Dataset, check_labels, load_dataset
from hcp_fpga.design import Design, HlsSettings, valid_reuse_factors
from hcp_fpga.errors import ConfigError, HcpError
from hcp_fpga.estimator.model import estimate_design
from hcp_fpga.estimator.types import Estimate, Verdict
from hcp_fpga.models import build_cnn, build_mlp, load_model, mult_layers, mult_size, write_model
from hcp_fpga.outputs import check_output_dir, mark, read_json, remove_output_dir, write_json_atomic
from hcp_fpga.project import ProjectConfig
from hcp_fpga.prune import apply_selection, candidates, finetune, masks_of, select, sparsity, weight_scores
from hcp_fpga.quantize import QuantSpec, quantized_weight_bits, result_precisions, profile_ranges, to_qkeras
from hcp_fpga.train import accuracy, train_classifier
from hcp_fpga.vocab import BUDGETED

RESOURCES = BUDGETED
CHECKPOINT = "checkpoint"


class CannotFit(HcpError):
    """No acceptable action brings the design within the board's budget. ``out_dir`` holds the
    closest design, its report and result.json."""

    exit_code = 3

    def __init__(self, message: str, out_dir: Optional[Path] = None) -> None:
        super().__init__(message)
        self.out_dir = out_dir


@dataclass
class Step:
    """One design point: the model (with its masks), HLS settings and bits (None: float)."""

    model: object
    masks: dict
    settings: HlsSettings
    bits: Optional[dict] = None  # layer -> (weight bits, activation bits)


@dataclass
class Context:
    config: ProjectConfig
    board: Board
    data: Dataset
    baseline_accuracy: float
    log: Callable[[str], None] = print
    show_progress: bool = False
    progress: Optional[Callable[[str, int, int], None]] = None  # (stage, done, total) for g++ and csim bars

    @property
    def min_accuracy(self) -> float:
        return self.baseline_accuracy - self.config.targets.max_accuracy_drop_pp / 100.0

    def estimate(self, step: Step) -> Estimate:
        return estimate_design(Design.create(step.model, self.board, step.settings))

    def verdict(self, est: Estimate) -> Verdict:
        return est.verdict(self.board, self.config.targets.headroom)

    def meets_targets(self, est: Estimate) -> bool:
        """Fits the board with the headroom and meets the latency bound."""
        return self.verdict(est).fits and self.latency_ok(est)

    def latency_ok(self, est: Estimate) -> bool:
        bound = self.config.targets.latency
        if bound.cycles is not None and est.latency_cycles > bound.cycles:
            return False
        return not (bound.ns is not None and est.latency_ns is not None and est.latency_ns > bound.ns)

    def budget(self, resource: str) -> float:
        return self.board.budget(self.config.targets.headroom)[resource]


# ----------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Action:
    """A transformation of a step. ``prior`` is the expected accuracy cost used to rank actions
    (settings changes cost none; bits and pruning some, more the more they remove)."""

    name: str
    prior: float
    finetune: bool

    def apply(self, step: Step, ctx: Context) -> Step:  # pragma: no cover - every action overrides
        raise NotImplementedError


@dataclass(frozen=True)
class Quantize(Action):
    """Float -> QKeras, or one layer's bits down (``layer`` None: all layers to ``bits``)."""

    layer: Optional[str] = None
    bits: tuple = (8, 8)

    def apply(self, step: Step, ctx: Context) -> Step:
        current = dict(step.bits or {})
        keep = frozenset(n for n in step.settings.pinned if step.settings.is_pinned(n, "weight"))
        names = [l.name for l in mult_layers(step.model) if l.name not in keep]
        new_bits = {n: (self.bits if self.layer in (None, n) else current.get(n, self.bits)) for n in names}
        spec = QuantSpec(layer_bits=new_bits, keep=keep)
        model = to_qkeras(step.model, spec, ctx.data.x_train)
        return Step(model, step.masks, step.settings, new_bits)


@dataclass(frozen=True)
class Prune(Action):
    """Remove ``structure`` groups worth ``targets`` (estimated savings), the least-scored first."""

    structure: str = "unstructured"
    targets: tuple = ()  # ((resource, amount), ...)

    def apply(self, step: Step, ctx: Context) -> Step:
        scores = weight_scores(step.model, "taylor", ctx.data.x_train, ctx.data.y_train)
        c = candidates(step.model, step.settings, scores, self.structure, part=ctx.board.part)
        # at most half of any layer's remaining groups per step: one action must not gut a layer
        chosen = select(c, dict(self.targets), max_layer_fraction=0.5).chosen
        if len(chosen) == 0:
            return step
        model, masks = apply_selection(step.model, chosen)
        if sparsity(model) > ctx.config.levers.max_sparsity + 1e-9:
            raise _Skip(f"would exceed max sparsity {ctx.config.levers.max_sparsity}")
        return Step(model, masks, _snapped(model, step.settings), step.bits)


def _snapped(model, settings: HlsSettings) -> HlsSettings:
    """Settings whose per-layer reuse factors are valid for the (possibly shrunk) layers: an invalid
    one moves to hls4ml's closest valid value. A pinned one cannot move: the action does not apply."""
    from hcp_fpga.estimator.reuse import closest_valid

    reuse = dict(settings.layer_reuse)
    for layer in mult_layers(model):
        if layer.name in reuse:
            n_in, n_out = mult_size(layer)
            strategy = settings.strategy_of(layer.name)
            if strategy != "Latency" and reuse[layer.name] not in valid_reuse_factors(n_in, n_out, strategy):
                if settings.is_pinned(layer.name, "reuse"):
                    raise _Skip(f"would make the pinned reuse factor {reuse[layer.name]} of '{layer.name}' invalid")
                reuse[layer.name] = closest_valid(n_in, n_out, reuse[layer.name], unrolled=strategy == "ResourceUnrolled")
    return replace(settings, layer_reuse=reuse)


@dataclass(frozen=True)
class Reconfigure(Action):
    """New HLS settings for some layers (strategy and/or reuse factor); weights untouched."""

    strategies: tuple = ()  # ((layer, strategy), ...)
    reuse: tuple = ()  # ((layer, rf), ...)

    def apply(self, step: Step, ctx: Context) -> Step:
        s = step.settings
        settings = replace(s, layer_strategy={**s.layer_strategy, **dict(self.strategies)},
                           layer_reuse={**s.layer_reuse, **dict(self.reuse)})
        Design.create(step.model, ctx.board, settings).validate()
        return Step(step.model, step.masks, settings, step.bits)


class _Skip(Exception):
    """An action that does not apply to this step."""


def _next_rf(n_in: int, n_out: int, strategy: str, rf: int, limit: int) -> Optional[int]:
    bigger = [r for r in valid_reuse_factors(n_in, n_out, strategy) if rf < r <= limit]
    if not bigger:
        return None
    return min(bigger, key=lambda r: abs(r - 2 * rf))  # about twice the reuse: half the multipliers


def propose(step: Step, est: Estimate, ctx: Context) -> list[Action]:
    """The actions worth trying from ``step``, given the binding resource of its estimate."""
    levers = ctx.config.levers
    verdict = ctx.verdict(est)
    binding = verdict.binding if verdict.binding in RESOURCES else "lut"
    actions: list[Action] = []
    layers = mult_layers(step.model)
    w_min, w_max = levers.weight_bits
    a_min, a_max = levers.activation_bits
    if step.bits is None and w_max < 32:
        start = (min(w_max, 8), min(a_max, 8))
        actions.append(Quantize("quantize all to %d-bit" % start[0], 0.2, True, None, start))
    elif step.bits is not None:
        for layer in layers:
            if step.settings.is_pinned(layer.name, "weight"):  # left as the user's hls4ml config gives it
                continue
            w, a = step.bits.get(layer.name, (w_max, a_max))
            if w - 2 >= w_min:
                new = (w - 2, max(a - 2, a_min))
                actions.append(Quantize(f"{layer.name} to {new[0]}-bit", 0.3, True, layer.name, new))
    excess = getattr(est, binding) - ctx.budget(binding)
    if excess > 0 and sparsity(step.model) < levers.max_sparsity:
        amount = min(max(excess, 0.05 * getattr(est, binding)), 0.2 * getattr(est, binding))
        for structure in levers.prune_structures:
            actions.append(Prune(f"prune {structure} ({binding} -{amount:.0f})", 0.5, True, structure, ((binding, amount),)))
    for layer in layers:
        if step.settings.is_pinned(layer.name, "reuse") or step.settings.is_pinned(layer.name, "strategy"):
            continue
        n_in, n_out = mult_size(layer)
        strategy, rf = step.settings.strategy_of(layer.name), step.settings.reuse_of(layer.name)
        if strategy == "Latency":
            for target in ("Resource", "ResourceUnrolled"):
                if target in levers.strategies:
                    r = _next_rf(n_in, n_out, target, 1, levers.reuse_factor[1])
                    if r:
                        actions.append(Reconfigure(f"{layer.name}: {target} RF {r}", 0.05, False,
                                                   ((layer.name, target),), ((layer.name, r),)))
        else:
            r = _next_rf(n_in, n_out, strategy, rf, levers.reuse_factor[1])
            if r:
                actions.append(Reconfigure(f"{layer.name}: RF {rf} -> {r}", 0.05, False, (), ((layer.name, r),)))
    return actions


# ----------------------------------------------------------------------------- checkpoints


def _write_step(step: Step, folder: Path) -> None:
    write_model(step.model, folder)
    np.savez_compressed(folder / "masks.npz", **{k: v for k, v in step.masks.items()})
    write_json_atomic(folder / "step.json", {"settings": asdict(step.settings), "bits": step.bits})


def _read_step(folder: Path) -> Step:
    model = load_model(folder / "model.json", folder / "model_weights.h5")
    with np.load(folder / "masks.npz", allow_pickle=False) as z:
        masks = {k: z[k] for k in z.files}
    meta = read_json(folder / "step.json", "checkpoint step", "start over with --force")
    bits = {k: tuple(v) for k, v in meta["bits"].items()} if meta["bits"] else None
    return Step(model, masks, HlsSettings(**meta["settings"]), bits)


def save_checkpoint(out_dir: Path, step: Step, state: dict) -> None:
    """Write the step and loop state so a kill at any moment leaves one complete checkpoint:
    new -> checkpoint.new, then swap (checkpoint -> .old, .new -> checkpoint), then drop .old."""
    new, cur, old = out_dir / f"{CHECKPOINT}.new", out_dir / CHECKPOINT, out_dir / f"{CHECKPOINT}.old"
    shutil.rmtree(new, ignore_errors=True)
    _write_step(step, new / "step")
    write_json_atomic(new / "state.json", state)
    shutil.rmtree(old, ignore_errors=True)
    if cur.exists():
        os.replace(cur, old)
    os.replace(new, cur)
    shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(out_dir: Path) -> tuple[Step, dict]:
    """The last complete checkpoint; one clear error naming the file if it is damaged."""
    for name in (CHECKPOINT, f"{CHECKPOINT}.old"):  # .old is complete if a swap was interrupted
        folder = out_dir / name
        if (folder / "state.json").exists():
            fix = "it is damaged: start over with --force instead of --resume"
            state = read_json(folder / "state.json", "checkpoint state", fix)
            if not isinstance(state, dict) or not all(k in state for k in ("history", "iteration", "baseline_accuracy", "accuracy")):
                raise ConfigError(f"checkpoint state '{folder / 'state.json'}' is incomplete; {fix}")
            try:
                return _read_step(folder / "step"), state
            except HcpError as exc:
                raise ConfigError(f"checkpoint '{folder / 'step'}' cannot be read ({exc}); {fix}") from None
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ConfigError(f"checkpoint '{folder / 'step'}' is damaged ({type(exc).__name__}); {fix}") from None
    raise ConfigError(f"no checkpoint in '{out_dir}' to resume from; run without --resume")


# ----------------------------------------------------------------------------- the loop


@dataclass
class LoopResult:
    fits: bool
    out_dir: Path
    history: list = field(default_factory=list)
    summary: dict = field(default_factory=dict)


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


def _row(iteration: int, action: str, accepted: bool, acc: float, est: Estimate, ctx: Context,
         seconds: float, note: str = "") -> dict:
    verdict = ctx.verdict(est)
    return {
        "iteration": iteration, "action": action, "accepted": accepted, "accuracy": acc,
        "estimate": {r: getattr(est, r) for r in RESOURCES} | {"latency_cycles": est.latency_cycles, "ii": est.ii},
        "budget": {r: ctx.budget(r) for r in RESOURCES}, "binding": verdict.binding, "fits": verdict.fits,
        "seconds": round(seconds, 2), "note": note,
    }


def run_loop(config: ProjectConfig, out_dir: Optional[Path] = None, resume: bool = False, force: bool = False,
             log: Callable[[str], None] = print, show_progress: bool = False,
             progress: Optional[Callable[[str, int, int], None]] = None) -> LoopResult:
    """Fit ``config``'s model to its board (see the module docstring). Writes into ``out_dir``:
    ``checkpoint/``, ``history.json``, ``result.json``, ``estimate.json``, ``model/`` and the final
    ``hls_project/`` with its ``csim.json``. Raises ``CannotFit`` (exit 3) after writing them when no
    acceptable action is left."""
    # Everything is validated before the output folder is touched: the board, the settings, the
    # data, the checkpoint or the model, the output path. Only then is an old folder replaced.
    board = load_board(config.board)
    base_settings = HlsSettings(backend=config.backend, io_type=config.io_type, clock_ns=config.clock_ns,
                                precision=config.precision).resolved(board)
    if config.hls_config is not None:  # the user's hls4ml config: a starting point, its layers pinned
        base_settings = config.hls_settings(base_settings)
    out_dir = check_output_dir(out_dir or config.out_dir(), force=force and not resume, resume=resume,
                               exists_hint="pass --resume to continue it or --force to start over")
    if resume and not out_dir.is_dir():
        raise ConfigError(f"no output folder '{out_dir}' to resume; run without --resume")
    data = load_dataset(config.data if config.data in ("digits", "mnist1d") else str(config.path(config.data)),
                        seed=config.seed)

    if resume:
        step, state = load_checkpoint(out_dir)
        data = data.for_model(step.model.input_shape[1:])
        history, iteration, baseline_acc = state["history"], state["iteration"], state["baseline_accuracy"]
        acc = state["accuracy"]
        log(f"resuming at iteration {iteration} (accuracy {acc:.4f})")
    else:
        model, data = _baseline_model(config, data, log, show_progress)
        Design.create(model, board, base_settings).validate()  # pinned layers exist, their RFs are valid
        bits = quantized_weight_bits(model)  # a QKeras model file starts quantized
        step = Step(model, masks_of(model), base_settings,
                    {k: (v, v) for k, v in bits.items()} if any(bits.values()) else None)
        baseline_acc = acc = accuracy(model, data.x_test, data.y_test)
        history, iteration = [], 0
    unpriced = estimate_design(Design.create(step.model, board, step.settings)).unpriced
    if unpriced:
        raise ConfigError(f"the estimator cannot price layer(s) {', '.join(unpriced)}: optimize would fit a lower bound "
                          "to the board; remove them or estimate and export the model without optimizing")
    if not resume:
        if out_dir.exists() and any(out_dir.iterdir()):
            remove_output_dir(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        mark(out_dir)
    ctx = Context(config, board, data, baseline_acc, log, show_progress, progress)
    est = ctx.estimate(step)
    if not resume:
        history.append(_row(0, "baseline", True, acc, est, ctx, 0.0))
        _baseline_csim(step, ctx, out_dir, history)
        save_checkpoint(out_dir, step, {"iteration": 0, "history": history, "baseline_accuracy": baseline_acc,
                                        "accuracy": acc})
    write_json_atomic(out_dir / "history.json", history)

    while True:
        if ctx.meets_targets(est):
            break
        if iteration >= config.max_iterations:
            log(f"stopping: {config.max_iterations} iterations")
            break
        iteration += 1
        accepted = False
        binding = ctx.verdict(est).binding
        ranked = _rank(propose(step, est, ctx), step, est, ctx)
        for action, trial, trial_est in ranked:
            t0 = time.perf_counter()
            if action.finetune:
                t = config.training
                trial.model = finetune(trial.model, data, trial.masks, t.finetune_epochs, batch_size=t.batch_size,
                                       learning_rate=t.learning_rate / 2, seed=config.seed + iteration,
                                       show_progress=show_progress, description=f"iteration {iteration}: fine-tuning")
                trial_est = ctx.estimate(trial)
            trial_acc = accuracy(trial.model, data.x_test, data.y_test)
            better = getattr(trial_est, binding) < getattr(est, binding) or ctx.meets_targets(trial_est)
            ok = trial_acc >= ctx.min_accuracy - 1e-9 and better
            history.append(_row(iteration, action.name, ok, trial_acc, trial_est, ctx,
                                time.perf_counter() - t0, "" if ok else ("accuracy" if trial_acc < ctx.min_accuracy else "no saving")))
            _log_row(log, history[-1])
            if ok:
                step, est, acc, accepted = trial, trial_est, trial_acc, True
                save_checkpoint(out_dir, step, {"iteration": iteration, "history": history,
                                                "baseline_accuracy": baseline_acc, "accuracy": acc})
                break
        write_json_atomic(out_dir / "history.json", history)
        if not accepted:
            break
    return _finish(step, est, acc, ctx, out_dir, history)


def _rank(actions: list[Action], step: Step, est: Estimate, ctx: Context):
    """Apply each action (without fine-tuning) and order them by estimated saving on the binding
    resource per expected accuracy cost; actions that save nothing or break the latency bound go."""
    binding = ctx.verdict(est).binding
    scored = []
    for action in actions:
        try:
            trial = action.apply(step, ctx)
        except (_Skip, ConfigError):
            continue
        trial_est = ctx.estimate(trial)
        saving = getattr(est, binding) - getattr(trial_est, binding)
        if saving <= 0 or not ctx.latency_ok(trial_est):
            continue
        scored.append((saving / max(getattr(est, binding), 1.0) / action.prior, action, trial, trial_est))
    scored.sort(key=lambda s: -s[0])
    return [(a, t, e) for _, a, t, e in scored]


def _log_row(log, row: dict) -> None:
    b = row["binding"]
    verdict = "fits" if row["fits"] else f"{b} {row['estimate'][b]:,.0f}/{row['budget'][b]:,.0f}"
    log(f"iteration {row['iteration']}: {row['action']}: accuracy {row['accuracy']:.4f}, {verdict} -> "
        f"{'accepted' if row['accepted'] else 'rejected (' + row['note'] + ')'}")


def _csim_data(ctx: Context) -> str:
    return ctx.config.data if ctx.config.data in ("digits", "mnist1d") else str(ctx.config.path(ctx.config.data))


def _baseline_csim(step: Step, ctx: Context, out_dir: Path, history: list) -> None:
    """C-simulate the baseline once, as the reference the final design is compared with."""
    from hcp_fpga.hls import export_project, run_csim

    ctx.log("C simulation of the baseline (reference)")
    result = export_project(Design.create(step.model, ctx.board, step.settings), out_dir / "baseline_hls_project", force=True)
    csim = run_csim(result.out_dir, data=_csim_data(ctx), progress=ctx.progress)
    history[0]["csim_accuracy"] = csim.csim_accuracy


def _finish(step: Step, est: Estimate, acc: float, ctx: Context, out_dir: Path, history: list) -> LoopResult:
    from hcp_fpga.hls import export_project, run_csim

    verdict = ctx.verdict(est)
    fits = ctx.meets_targets(est)
    ctx.log("exporting the final design and running its C simulation")
    design = Design.create(step.model, ctx.board, step.settings)
    exported = export_project(design, out_dir / "hls_project", force=True, source=ctx.config.source)
    csim = run_csim(exported.out_dir, data=_csim_data(ctx), progress=ctx.progress)
    repair = None
    if csim.csim_accuracy is not None and csim.csim_accuracy < acc - 0.005:
        # fixed-point results too narrow: give every layer a result type that holds its profiled range
        ranges = profile_ranges(step.model, ctx.data.x_train)
        names = {l.name for l in mult_layers(step.model) if not step.settings.is_pinned(l.name, "result")}
        precisions = result_precisions({n: r for n, r in ranges.items() if n in names}, width=18)
        repaired = replace(step.settings, layer_precision={**step.settings.layer_precision, **precisions})
        before = csim.csim_accuracy
        exported = export_project(Design.create(step.model, ctx.board, repaired), out_dir / "hls_project", force=True,
                                  source=ctx.config.source)
        csim = run_csim(exported.out_dir, data=_csim_data(ctx), progress=ctx.progress)
        repair = {"csim_accuracy_before": before, "csim_accuracy_after": csim.csim_accuracy, "layer_precision": precisions}
        ctx.log(f"csim {before:.4f} < keras {acc:.4f} - 0.5 pp: widened result types -> csim {csim.csim_accuracy:.4f}")
        step = replace(step, settings=repaired)
        est = ctx.estimate(step)
        verdict = ctx.verdict(est)
        fits = ctx.meets_targets(est)
    shutil.rmtree(out_dir / "model", ignore_errors=True)
    write_model(step.model, out_dir / "model")
    write_json_atomic(out_dir / "estimate.json", est.as_dict())
    summary = {
        "project": ctx.config.name, "board": ctx.board.name, "part": ctx.board.part, "fits": fits,
        "binding": verdict.binding, "over": list(verdict.over), "utilization": verdict.utilization,
        "baseline_accuracy": ctx.baseline_accuracy, "keras_accuracy": acc, "csim_accuracy": csim.csim_accuracy,
        "csim_agreement": csim.argmax_agreement, "sparsity": sparsity(step.model), "bits": step.bits,
        "settings": asdict(step.settings), "latency_cycles": est.latency_cycles, "latency_ns": est.latency_ns, "ii": est.ii,
        "iterations": max(r["iteration"] for r in history), "precision_repair": repair,
        "estimate": {r: getattr(est, r) for r in RESOURCES}, "budget": {r: ctx.budget(r) for r in RESOURCES},
    }
    history.append({"iteration": summary["iterations"], "action": "final C simulation", "accepted": True,
                    "accuracy": acc, "csim_accuracy": csim.csim_accuracy, "precision_repair": repair})
    write_json_atomic(out_dir / "history.json", history)
    write_json_atomic(out_dir / "result.json", summary)
    result = LoopResult(fits, out_dir, history, summary)
    if not fits:
        over = ", ".join(verdict.over) or "latency"
        raise CannotFit(f"cannot fit '{ctx.config.name}' on {ctx.board.name}: {over} over budget with "
                        f"{ctx.config.targets.max_accuracy_drop_pp} pp accuracy tolerance (binding: {verdict.binding}, "
                        f"{getattr(est, verdict.binding):,.0f} of {ctx.budget(verdict.binding):,.0f}); closest design and "
                        f"report written to {out_dir}", out_dir)
    return result
