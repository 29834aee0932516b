"""The three pruning phases of the seed, each returning a new model (the input model is untouched).

- ``prune_at_init``: before training, SNIP-style: connection sensitivity |w * dL/dw| of the freshly
  initialized model on a few batches decides what to remove; training then keeps those zeros.
- ``GradualPruning``: during training, a polynomial sparsity schedule (Zhu & Gupta, the one TF-MOT's
  ``PolynomialDecay`` implements): s(t) = s_f + (s_i - s_f) (1 - (t - t0)/(t1 - t0))^3, masks
  recomputed every ``frequency`` steps from the current scores.
- ``prune_and_finetune``: after training, one shot (to a sparsity, or to estimated resource savings),
  then fine-tuning with the masks enforced.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from hcp_fpga.data import Dataset
from hcp_fpga.design import HlsSettings
from hcp_fpga.errors import ConfigError
from hcp_fpga.models import copy_model
from hcp_fpga.prune.apply import apply_selection
from hcp_fpga.prune.masks import Masks, apply_masks_inplace, mask_callback, masks_of
from hcp_fpga.prune.scores import weight_scores
from hcp_fpga.prune.select import candidates, select, select_fraction


def _prune_once(model, settings: HlsSettings, scores, structure: Optional[str], sparsity: Optional[float] = None,
                targets: Optional[dict] = None, aggregate: str = "sum", per_layer: bool = True):
    c = candidates(model, settings, scores, structure, aggregate, with_savings=bool(targets))
    if targets:
        chosen = select(c, targets).chosen
    elif sparsity is not None:
        chosen = select_fraction(c, sparsity, per_layer=per_layer)
    else:
        raise ConfigError("give a target sparsity or target savings to prune")
    return apply_selection(model, chosen)


def finetune(model, data: Dataset, masks: Masks, epochs: int, batch_size: int = 32, learning_rate: float = 1e-3,
             seed: int = 0, show_progress: bool = False, description: str = "fine-tuning"):
    """Train ``model`` in place with ``masks`` enforced after every step, and units on a coarser
    weight grid held there (``quantize.grid_callback``); returns it."""
    from hcp_fpga.quantize import grid_callback
    from hcp_fpga.train import train_classifier

    if epochs <= 0:
        return model
    return train_classifier(model, data, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                            show_progress=show_progress, description=description,
                            callbacks=[mask_callback(lambda: masks), grid_callback(model)])


def prune_at_init(model, data: Dataset, sparsity: float, settings: Optional[HlsSettings] = None,
                  structure: Optional[str] = "unstructured", batches: int = 4, batch_size: int = 128):
    """SNIP: prune an untrained model from its connection sensitivity on ``batches`` batches.
    Returns (pruned copy, masks); train it with ``finetune`` (the masks keep the zeros)."""
    scores = weight_scores(model, "taylor", data.x_train, data.y_train, batch_size=batch_size, max_batches=batches)
    return _prune_once(model, settings or HlsSettings(), scores, structure, sparsity=sparsity)


def polynomial_sparsity(step: int, begin: int, end: int, final: float, initial: float = 0.0, power: int = 3) -> float:
    """Target sparsity at ``step`` (0 before ``begin``, ``final`` from ``end`` on)."""
    if step < begin:
        return 0.0
    if step >= end or end <= begin:
        return final
    return final + (initial - final) * (1.0 - (step - begin) / (end - begin)) ** power


class GradualPruning:
    """A Keras callback factory: sparsity follows ``polynomial_sparsity`` over training steps, masks
    are recomputed every ``frequency`` steps by ``score`` (magnitude needs no data) within each
    layer's ``structure`` groups, and enforced after every step.

    ``history`` records (step, target, actual sparsity) at each update."""

    def __init__(self, final_sparsity: float, begin_step: int, end_step: int, frequency: int = 10,
                 structure: Optional[str] = "unstructured", settings: Optional[HlsSettings] = None, score: str = "magnitude",
                 data: Optional[Dataset] = None, initial_sparsity: float = 0.0):
        if not 0.0 <= final_sparsity < 1.0:
            raise ConfigError(f"final sparsity must be in [0, 1), got {final_sparsity}")
        if structure == "neuron":
            raise ConfigError("gradual pruning zeroes weights during training; prune neurons one-shot (prune_and_finetune)")
        self.final, self.begin, self.end, self.frequency = final_sparsity, begin_step, end_step, max(1, frequency)
        self.initial, self.structure, self.settings = initial_sparsity, structure, settings or HlsSettings()
        self.score, self.data = score, data
        self.masks: Masks = {}
        self.history: list[tuple[int, float, float]] = []

    def _update(self, model, step: int) -> None:
        target = polynomial_sparsity(step, self.begin, self.end, self.final, self.initial)
        x, y = (self.data.x_train, self.data.y_train) if self.data is not None else (None, None)
        scores = weight_scores(model, self.score, x, y, max_batches=2)
        chosen = select_fraction(candidates(model, self.settings, scores, self.structure, with_savings=False), target)
        masks = masks_of(model)
        for name, lg in chosen.groups.items():
            groups = chosen.by_layer().get(name, [])
            masks[name] = masks[name] * lg.mask_without(groups) if groups else masks[name]
        self.masks = masks
        apply_masks_inplace(model, masks)
        from hcp_fpga.prune.masks import sparsity

        self.history.append((step, target, sparsity(model)))

    def callback(self):
        import tensorflow as tf

        outer = self

        class _Gradual(tf.keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.step = 0
                outer.masks = masks_of(self.model)

            def on_train_batch_end(self, batch, logs=None):
                self.step += 1
                if self.begin_due():
                    outer._update(self.model, self.step)
                else:
                    apply_masks_inplace(self.model, outer.masks)

            def begin_due(self) -> bool:
                in_window = outer.begin <= self.step <= outer.end + outer.frequency
                return in_window and (self.step - outer.begin) % outer.frequency == 0

        return _Gradual()


def train_with_gradual_pruning(model, data: Dataset, final_sparsity: float, epochs: int, batch_size: int = 32,
                               begin_fraction: float = 0.2, end_fraction: float = 0.7, frequency: int = 10,
                               structure: Optional[str] = "unstructured", settings: Optional[HlsSettings] = None,
                               seed: int = 0, show_progress: bool = False):
    """Train a copy of ``model`` while its sparsity follows the polynomial schedule from
    ``begin_fraction`` to ``end_fraction`` of the training steps. Returns (model, masks, schedule)."""
    from hcp_fpga.train import train_classifier

    steps = epochs * int(np.ceil(len(data.x_train) / batch_size))
    schedule = GradualPruning(final_sparsity, int(begin_fraction * steps), int(end_fraction * steps), frequency,
                              structure, settings)
    trained = train_classifier(copy_model(model), data, epochs=epochs, batch_size=batch_size, seed=seed,
                               show_progress=show_progress, description="training + pruning", callbacks=[schedule.callback()])
    return trained, schedule.masks, schedule


def _estimated(model, settings: HlsSettings) -> dict[str, float]:
    from hcp_fpga.estimator.model import estimate_specs
    from hcp_fpga.estimator.savings import SAVED
    from hcp_fpga.estimator.spec import layer_specs

    est = estimate_specs(layer_specs(model, settings), settings.backend or "Vivado", settings.clock_ns or 5.0)
    return {r: getattr(est, r) for r in SAVED}


def prune_and_finetune(model, data: Dataset, settings: Optional[HlsSettings] = None, sparsity: Optional[float] = None,
                       targets: Optional[dict] = None, structure: Optional[str] = None, score: str = "taylor",
                       epochs: int = 10, seed: int = 0, show_progress: bool = False, rounds: int = 6,
                       overshoot: float = 0.1):
    """After training: one-shot prune (to ``sparsity`` of each layer's groups, or to estimated
    ``targets`` savings such as ``{"dsp": 200}``) by ``score``, then fine-tune with the masks
    enforced. ``structure`` None picks each layer's strategy-matched structure. Returns (model, masks).

    Fine-tuning moves the kept weights, and a constant multiplication can turn from shift-adds into
    a DSP (or back); with ``targets``, pruning and fine-tuning repeat (at most ``rounds`` times)
    until the re-estimated design has saved the targets, counted from the model given; each round
    aims ``overshoot`` x the target past what is still missing."""
    settings = settings or HlsSettings()
    aggregate = "mean" if score == "magnitude" and structure == "neuron" else "sum"
    if not targets:
        scores = weight_scores(model, score, data.x_train, data.y_train)
        pruned, masks = _prune_once(model, settings, scores, structure, sparsity=sparsity, aggregate=aggregate)
        return finetune(pruned, data, masks, epochs, seed=seed, show_progress=show_progress), masks
    goal = {r: v - float(targets.get(r, 0.0)) for r, v in _estimated(model, settings).items()}
    current = model
    masks = masks_of(model)
    for _ in range(max(1, rounds)):
        now = _estimated(current, settings)
        remaining = {r: now[r] - goal[r] for r in targets if now[r] > goal[r]}
        if not remaining:
            break
        scores = weight_scores(current, score, data.x_train, data.y_train)
        # aim past the goal: fine-tuning gives some of the saving back (see the docstring)
        aim = {r: v + overshoot * float(targets[r]) for r, v in remaining.items()}
        pruned, masks = _prune_once(current, settings, scores, structure, targets=aim, aggregate=aggregate)
        current = finetune(pruned, data, masks, epochs, seed=seed, show_progress=show_progress)
    return current, masks
