"""The built-in demo job (``make run``): train a digits MLP, export it for a board, C-simulate it.

This is the main job until the optimize loop exists: it exercises the whole foundation on built-in
data with no vendor tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from hcp_fpga.board_catalog import load_board
from hcp_fpga.data import check_seed, load_dataset
from hcp_fpga.design import Design, HlsSettings
from hcp_fpga.errors import OutputExistsError
from hcp_fpga.hls import CsimResult, ExportResult, export_project, run_csim
from hcp_fpga.models import build_mlp, write_model
from hcp_fpga.train import accuracy, train_classifier

DEMO_HIDDEN = (64, 32)


@dataclass
class DemoResult:
    model_dir: Path
    export: ExportResult
    csim: CsimResult
    keras_test_accuracy: float


def run_demo(
    out_dir: Path | str = "outputs/demo",
    board: str = "arty-a7-35t",
    epochs: int = 30,
    seed: int = 0,
    force: bool = False,
    show_progress: bool = True,
    progress: Optional[Callable[[str, int, int], None]] = None,
) -> DemoResult:
    """Train the digits MLP (64-64-32-10), export it for ``board`` and compare C simulation with Keras."""
    seed = check_seed(seed)
    out_dir = Path(out_dir)
    if (out_dir / "hls_project").exists() and not force:  # refuse before minutes of training, not after
        raise OutputExistsError(f"output dir '{out_dir / 'hls_project'}' exists; pass --force to replace it or choose another --out")
    board_record = load_board(board)
    data = load_dataset("digits", seed=seed)
    model = build_mlp(data.sample_shape[0], DEMO_HIDDEN, data.n_classes, seed=seed)
    train_classifier(model, data, epochs=epochs, seed=seed, show_progress=show_progress, description="training digits MLP")
    keras_acc = accuracy(model, data.x_test, data.y_test)

    design = Design.create(model, board_record, HlsSettings())
    exported = export_project(design, out_dir / "hls_project", force=force, source="built-in digits MLP demo")
    model_dir = out_dir / "model"
    write_model(model, model_dir)
    csim = run_csim(exported.out_dir, data="digits", progress=progress)
    return DemoResult(model_dir, exported, csim, keras_acc)
