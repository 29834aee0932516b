"""Accuracy and speed of hcp_fpga's analytical estimate against real reports.

Prints, per resource, SMAPE and median absolute % error on (a) the wa-hls4ml calibration sample
(Vitis 2023.2 csynth, Resource strategy, all successful rows) and (b) every triple in
../shared/reports/triples (csynth), and the time per estimate. Work in progress: convolutions,
io_stream FIFOs and Latency strategy at RF > 1 are not modelled yet (see docs/estimator.md).
Run: .venv/bin/python benchmarks/estimator_accuracy.py
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fit_resource import rows, smape  # noqa: E402

from hcp_fpga.estimate.model import estimate_project, estimate_specs  # noqa: E402
from hcp_fpga.estimate.precision import Fixed  # noqa: E402
from hcp_fpga.estimate.reports import project_reports  # noqa: E402
from hcp_fpga.estimate.spec import LayerSpec  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
RES = ("dsp", "lut", "ff", "bram18", "latency_cycles")
COLS = {"dsp": "DSP_hls", "lut": "LUT_hls", "ff": "FF_hls", "bram18": "BRAM_18K_hls", "latency_cycles": "WorstLatency_hls"}


def calibration() -> None:
    preds = {r: [] for r in RES}
    real = {r: [] for r in RES}
    times = []
    data = list(rows())
    for row in data:
        widths = [int(v) for v in row["model_string"].split("-")]
        specs = [
            LayerSpec(f"fc{i}", "dense", n_in, n_out, 1, out_size=n_out, channels=n_out, weight=Fixed(int(row["prec"]), 1),
                      input=Fixed(16, 6), result=Fixed(16, 6), strategy="Resource", reuse_factor=int(row["rf"]))
            for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:]))
        ]
        t0 = time.perf_counter()
        est = estimate_specs(specs, "Vitis", 5.0)
        times.append(time.perf_counter() - t0)
        for r in RES:
            preds[r].append(getattr(est, r))
            real[r].append(float(row[COLS[r]]))
    print(f"(a) wa-hls4ml calibration sample: {len(data)} designs, Vitis 2023.2 csynth, Resource strategy, one run each")
    print(f"    {'resource':10s} {'SMAPE %':>8s} {'median |err| %':>15s}")
    for r in RES:
        p, y = np.array(preds[r]), np.array(real[r])
        nz = y > 0
        med = np.median(np.abs(p[nz] - y[nz]) / y[nz]) * 100 if nz.any() else math.nan
        print(f"    {r:10s} {smape(p, y):8.1f} {med:15.1f}")
    print(f"    time per estimate: median {np.median(times) * 1e3:.3f} ms over {len(times)} designs")
    print("    note: the LUT/FF constants were fitted on the even rows of this sample (held-out odd rows: "
          "benchmarks/fit_resource.py)")


def triples() -> None:
    from hcp_fpga.models import load_model

    print("\n(b) ../shared/reports/triples (csynth), one run each: estimate / report (% error)")
    for d in sorted(p for p in (SHARED / "reports" / "triples").iterdir() if p.is_dir()):
        model = None
        if "keras3layer" in d.name:
            model = load_model(SHARED / "peer-models" / "KERAS_3layer.json", SHARED / "peer-models" / "KERAS_3layer_weights.h5")
        t0 = time.perf_counter()
        est = estimate_project(d, model)
        dt = time.perf_counter() - t0
        real = project_reports(d)["csynth"]
        cells = []
        for r in ("dsp", "lut", "ff", "bram18"):
            e, y = getattr(est, r), getattr(real, r)
            cells.append(f"{r} {e:.0f}/{y:.0f} ({(e - y) / y * 100:+.0f}%)" if y else f"{r} {e:.0f}/{y:.0f}")
        print(f"    {d.name:48s} " + "  ".join(cells) + f"  cycles {est.latency_cycles}/{real.latency_cycles}  ({dt * 1e3:.0f} ms incl. loading)")


if __name__ == "__main__":
    calibration()
    triples()
