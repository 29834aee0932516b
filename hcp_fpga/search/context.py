"""``SearchContext``: what every step of the search needs to know, frozen and picklable (it travels
to Dask workers with each task): the project, the board, the output root and the accuracy floor."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from typing import Optional

from hcp_fpga.board_catalog import Board
from hcp_fpga.estimator.calibration import Correction
from hcp_fpga.project import ProjectConfig
from hcp_fpga.search.objectives import objective_value
from hcp_fpga.search.records import Measure
from hcp_fpga.vocab import BUDGETED, RESOURCES


@dataclass(frozen=True)
class SearchContext:
    config: ProjectConfig
    board: Board
    root: Path
    baseline_val_accuracy: float
    # calibration file and this run's synthesis residuals (estimator.calibration.Correction)
    correction: Optional[Correction] = field(default=None)

    def corrected(self, est, settings):
        """The estimate as the search judges it: calibrated and corrected by the run's real reports."""
        return self.correction(est, settings, self.board.part) if self.correction else est

    @property
    def min_accuracy(self) -> float:
        return self.baseline_val_accuracy - self.config.targets.max_accuracy_drop_pp / 100.0

    def budget(self) -> dict[str, float]:
        """Budget after headroom (``Board.budget``, the one computation)."""
        return self.board.budget(self.config.targets.headroom)

    def latency_ok(self, est) -> bool:
        bound = self.config.targets.latency
        if bound.cycles is not None and est.latency_cycles > bound.cycles:
            return False
        return not (bound.ns is not None and est.latency_ns is not None and est.latency_ns > bound.ns)

    def rescaled(self, m: Measure, ratio: dict[str, float]) -> Measure:
        """``m`` with its resources and latency multiplied by ``ratio`` and the verdict redone (when a
        new residual arrives, the designs measured before it are judged by the same yardstick)."""
        from hcp_fpga.estimator.types import Estimate

        res = {r: m.resources[r] * ratio.get(r, 1.0) for r in RESOURCES}
        cycles = int(round(m.latency_cycles * ratio.get("latency_cycles", 1.0)))
        clock = (m.latency_ns / m.latency_cycles) if m.latency_ns and m.latency_cycles else None
        est = Estimate("estimate", (), **res, latency_cycles=cycles, ii=m.ii, clock_ns=clock, part=self.board.part)
        return self.measure(est, m.val_accuracy, m.ebops)

    def measure(self, est, val_accuracy: float, ebops: float) -> Measure:
        verdict = est.verdict(self.board, self.config.targets.headroom)
        resources = {r: float(getattr(est, r)) for r in RESOURCES}
        search = self.config.search
        objective = objective_value(search.objective, resources, self.board, ebops, est.latency_cycles, search.weights)
        return Measure(float(val_accuracy), resources, int(est.latency_cycles), est.latency_ns, int(est.ii),
                       bool(verdict.fits), self.latency_ok(est), verdict.binding if verdict.binding in BUDGETED else "lut",
                       tuple(verdict.over), float(verdict.pressure), float(ebops), float(objective))


def project_data(config: ProjectConfig):
    """Train / validation / test: the validation split carved from the training data (seeded)."""
    from hcp_fpga.data import load_dataset

    return load_dataset(config.data_spec(), seed=config.seed).with_validation(config.search.validation_fraction, config.seed)


@lru_cache(maxsize=4)
def _search_data(config_json: str, source: str | None):
    return project_data(ProjectConfig.model_validate_json(config_json).model_copy(update={"source": source}))


def search_data(config: ProjectConfig):
    """The project's data as the search sees it: training and validation splits (the validation
    split carved from training data, seeded), and an **empty test split**: decisions never read
    test data. Cached per process (a Dask worker loads it once)."""
    return _search_data(config.model_dump_json(), config.source).without_test()
