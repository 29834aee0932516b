"""Pruning + quantization on digits (MLP 64-64-32-10, seed 0), the recipe of tests/test_quantize.py,
with every intermediate number printed: float, gradual pruning to 80 %, QKeras 6-bit + QAT, and the
C simulation of the exported hls4ml project; plus the estimate (arty-a7-35t, Latency RF 1) at each
step. One run; takes about a minute on 2 cores.
Run: .venv/bin/python benchmarks/prune_digits.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

from hcp_fpga.board_catalog import load_board  # noqa: E402
from hcp_fpga.data import load_dataset  # noqa: E402
from hcp_fpga.design import Design  # noqa: E402
from hcp_fpga.estimator.model import estimate_design  # noqa: E402
from hcp_fpga.hls import export_project, run_csim  # noqa: E402
from hcp_fpga.models import build_mlp  # noqa: E402
from hcp_fpga.prune import finetune, masks_of, sparsity, train_with_gradual_pruning  # noqa: E402
from hcp_fpga.quantize import QuantSpec, to_qkeras  # noqa: E402
from hcp_fpga.train import accuracy, train_classifier  # noqa: E402


def main() -> int:
    t0 = time.perf_counter()
    data = load_dataset("digits")
    board = load_board("arty-a7-35t")

    def row(label, model, extra=""):
        e = estimate_design(Design.create(model, board))
        print(f"{label:34s} acc {accuracy(model, data.x_test, data.y_test):.4f}  sparsity {sparsity(model):.3f}  "
              f"estimate DSP {e.dsp:6.0f} LUT {e.lut:8.0f} FF {e.ff:7.0f} BRAM18 {e.bram18:3.0f}  {extra}")

    print(f"digits: {len(data.x_train)} train / {len(data.x_test)} test images; board {board.name} ({board.part}); one run, seed 0")
    model = train_classifier(build_mlp(64, (64, 32), 10, seed=0), data, epochs=40, seed=0, show_progress=False)
    row("float (40 epochs)", model)
    pruned, masks, _ = train_with_gradual_pruning(model, data, 0.8, epochs=30, begin_fraction=0.0, end_fraction=0.6)
    row("gradual pruning to 80 % (30 ep)", pruned)
    q = to_qkeras(pruned, QuantSpec(6, 6), data.x_train)
    row("QKeras 6-bit, before QAT", q)
    q = finetune(q, data, masks_of(pruned), epochs=20, learning_rate=5e-4)
    row("QKeras 6-bit + QAT (20 ep)", q)
    with tempfile.TemporaryDirectory() as tmp:
        result = export_project(Design.create(q, board), Path(tmp) / "prj")
        csim = run_csim(result.out_dir, data="digits")
    print(f"{'C simulation (hls4ml, g++)':34s} acc {csim.csim_accuracy:.4f}  agreement with Keras {csim.argmax_agreement:.4f}")
    print(f"wall time {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
