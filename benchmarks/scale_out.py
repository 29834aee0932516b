"""One search round of 8 candidates evaluated serially and on a 2-worker Dask LocalCluster: the
same trials (measures compared exactly), and the wall time of each (one run each; the cluster's
start-up, which a real run pays once, printed separately).

Run: .venv/bin/python benchmarks/scale_out.py [--workers 2] [--candidates 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

from hcp_fpga.board_catalog import load_board  # noqa: E402
from hcp_fpga.cli import quiet_libraries  # noqa: E402
from hcp_fpga.design import HlsSettings  # noqa: E402
from hcp_fpga.loop import _baseline_model, project_data  # noqa: E402
from hcp_fpga.project import load_project  # noqa: E402
from hcp_fpga.prune import masks_of  # noqa: E402
from hcp_fpga.search.actions import PointView, propose_all  # noqa: E402
from hcp_fpga.search.context import SearchContext  # noqa: E402
from hcp_fpga.search.evaluate import Task, evaluate, measure_model  # noqa: E402
from hcp_fpga.search.executors import DaskExecutor, SerialExecutor  # noqa: E402
from hcp_fpga.search.point import DesignPoint  # noqa: E402
from hcp_fpga.quantize import QuantSpec, to_qkeras  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--candidates", type=int, default=8)
    args = parser.parse_args()
    quiet_libraries()
    config = load_project(REPO / "projects" / "digits-mlp")
    board = load_board(config.board)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = project_data(config)
        model, data = _baseline_model(config, data, lambda m: None)
        # start from the 8-bit model, where every action applies: per-layer bits, pruning, reconfiguring
        qmodel = to_qkeras(model, QuantSpec(8, 8), data.x_train)
        settings = HlsSettings().resolved(board)
        parent = DesignPoint(0, None, "8-bit", settings, {n: (8, 8) for n in ("fc1", "fc2", "output")})
        parent.save(root, qmodel, masks_of(qmodel))
        ctx = SearchContext(config, board, root, 0.0)
        _, measure = measure_model(ctx, qmodel, settings, data)
        ctx = SearchContext(config, board, root, measure.val_accuracy)
        actions = propose_all(PointView(parent, qmodel, measure, False), ctx)
        actions = (actions * ((args.candidates + len(actions) - 1) // max(len(actions), 1)))[:args.candidates]
        tasks = [Task(ctx, parent, a, 100 + i, 1, seed=7919 * (100 + i)) for i, a in enumerate(actions)]
        print(f"{len(tasks)} candidates from the 8-bit digits MLP (digits-mlp, {board.name}): "
              + ", ".join(a.name for a in actions), flush=True)
        t0 = time.perf_counter()
        serial = SerialExecutor().map(evaluate, tasks)
        t_serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        executor = DaskExecutor(workers=args.workers)
        t_start = time.perf_counter() - t0
        try:
            executor.map(evaluate, tasks[:args.workers])  # warm-up: each worker imports TensorFlow once
            t_warm = time.perf_counter() - t0
            t0 = time.perf_counter()
            parallel = executor.map(evaluate, tasks)
            t_dask = time.perf_counter() - t0
        finally:
            executor.close()
    same = [a.measure == b.measure for a, b in zip(serial, parallel)]
    print(f"serial: {t_serial:.1f} s; dask LocalCluster of {args.workers} worker processes: {t_dask:.1f} s "
          f"(cluster start {t_start:.1f} s, start + warm-up {t_warm:.1f} s, paid once per run)")
    print(f"speed-up {t_serial / t_dask:.2f}x on {os.cpu_count()} cores; identical measures: {sum(same)}/{len(same)}")
    return 0 if all(same) else 1


if __name__ == "__main__":
    sys.exit(main())
