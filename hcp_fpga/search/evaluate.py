"""The two pure steps the executors run, one task at a time, on any worker:

- ``screen(task)``: apply the action to the parent (no fine-tuning) and estimate it: cheap, ranks
  the candidates;
- ``evaluate(task)``: apply, fine-tune (seeded per candidate, so the worker does not matter),
  validate on the validation split, estimate, and save the new point; returns a ``Trial``.

Both read the data through ``context.search_data``, whose test split is empty: no decision of the
search can read test data. Neither mutates its inputs; ``evaluate`` writes only its own point folder.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from hcp_fpga.search.actions import Action, Skip, refreshed_accumulators
from hcp_fpga.search.context import SearchContext, search_data
from hcp_fpga.search.point import DesignPoint
from hcp_fpga.search.records import Measure, Trial


@dataclass(frozen=True)
class Task:
    ctx: SearchContext
    parent: DesignPoint
    action: Action
    point_id: int = -1  # the id the new point gets (evaluate only)
    round: int = 0
    seed: int = 0


def _quiet() -> None:
    """Workers are new processes: TensorFlow's log lines stay hidden there too."""
    from hcp_fpga.cli import quiet_libraries

    quiet_libraries()


def cached_point_model(root: str, point: DesignPoint):
    """A point's (model, masks), loaded once per process: a round proposes and screens a dozen
    actions of the same parent. Actions return new models; ``evaluate`` copies before fine-tuning an unchanged one.
    Keyed by the point file's change time too: a run started over (--force) rewrites its points."""
    stamp = (point.folder(root) / "point.json").stat().st_mtime_ns
    return _load_point(root, point.id, stamp)


@lru_cache(maxsize=8)
def _load_point(root: str, point_id: int, stamp: int):
    return DesignPoint.load(root, point_id).load_model(root)


def _apply(task: Task):
    from hcp_fpga.errors import ConfigError

    _quiet()
    ctx = task.ctx
    model, masks = cached_point_model(str(ctx.root), task.parent)
    data = search_data(ctx.config).for_model(model.input_shape[1:])
    try:
        applied = task.action.apply(model, masks, task.parent, ctx, data)
    except (Skip, ConfigError):
        return None, data
    return applied, data


def measure_model(ctx: SearchContext, model, settings, data) -> tuple[object, Measure]:
    """(estimate, measure) of a model with settings, validated on ``data.x_val`` (in Keras, with an
    output softmax as hls4ml computes it: ``fixed_softmax``)."""
    from hcp_fpga.design import Design
    from hcp_fpga.estimator.ebops import ebops_of_specs
    from hcp_fpga.estimator.model import design_specs, estimate_specs
    from hcp_fpga.fixed_softmax import hardware_accuracy
    from hcp_fpga.train import accuracy

    design = Design.create(model, ctx.board, settings)
    s = design.settings
    specs = design_specs(design)
    est = ctx.corrected(estimate_specs(specs, s.backend, s.clock_ns, ctx.board.part), s)
    # a classifier's output softmax as hls4ml computes it (its table's ties decide some argmaxes)
    val = hardware_accuracy(model, specs, s, data.x_val, data.y_val)
    return est, ctx.measure(est, accuracy(model, data.x_val, data.y_val) if val is None else val, ebops_of_specs(specs))


def screen(task: Task) -> Optional[Measure]:
    """The candidate's measure before fine-tuning (None: the action does not apply)."""
    applied, data = _apply(task)
    if applied is None:
        return None
    return measure_model(task.ctx, applied.model, applied.settings, data)[1]


def evaluate(task: Task) -> Optional[Trial]:
    """Apply, fine-tune, validate, estimate, save: the new point and what it measured (None: the
    action does not apply after all)."""
    from hcp_fpga.prune import finetune

    t0 = time.perf_counter()
    applied, data = _apply(task)
    if applied is None:
        return None
    model = applied.model
    if task.action.finetune:
        if model is cached_point_model(str(task.ctx.root), task.parent)[0]:  # never train the cached parent in place
            from hcp_fpga.models import copy_model

            model = copy_model(model)
        t = task.ctx.config.training
        model = finetune(model, data, applied.masks, t.finetune_epochs, batch_size=t.batch_size,
                         learning_rate=t.learning_rate / 2, seed=task.seed, show_progress=False)
    settings = applied.settings
    if task.action.finetune:
        settings = refreshed_accumulators(model, settings, task.ctx.board, data.x_train)
    point = DesignPoint(task.point_id, task.parent.id, task.action.name, settings, applied.bits)
    _, measure = measure_model(task.ctx, model, settings, data)
    point.save(task.ctx.root, model, applied.masks)
    return Trial(point, task.round, measure, seconds=time.perf_counter() - t0)
