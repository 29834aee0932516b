"""Fit the Resource-strategy LUT/FF constants of hcp_fpga.estimator.model on the wa-hls4ml sample.

Each calibration row is a 2- or 3-layer dense network (Vitis HLS 2023.2, xcu250, Resource
strategy, io_parallel, weights ap_fixed<prec,1>, inputs/results ap_fixed<16,6>). A design's LUT
(FF) is modelled as the sum over its dense layers of
    c_layer + c_in * n_in * a + c_out * n_out * acc + c_mult * (LUT multipliers) * w * a
and fitted by non-negative least squares on half the rows (even row numbers); the other half is
held out. Prints the constants and the held-out SMAPE. Run: .venv/bin/python benchmarks/fit_resource.py
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

from hcp_fpga.estimator.backends import VITIS
from hcp_fpga.estimator.reuse import closest_valid

CALIBRATION = Path(__file__).resolve().parents[2] / "shared" / "calibration" / "wa_hls4ml_dense_vitis2023_u250.csv"


def rows():
    with open(CALIBRATION) as fh:
        for r in csv.DictReader(fh):
            if r["hls_synth_success"].strip().upper() == "TRUE":
                yield r


def layer_features(widths: list[int], prec: int, rf_req: int) -> tuple[np.ndarray, int]:
    a, acc, w = 16, 16, prec  # the data card: inputs/results ap_fixed<16,6>, weights ap_fixed<prec,1>
    feats = np.zeros(4)
    dsp = 0
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        rf = closest_valid(n_in, n_out, rf_req)
        block = math.ceil(n_in * n_out / rf)
        on_dsp = w >= VITIS.resource_dsp_min_weight_bits
        dsp += block if on_dsp else 0
        feats += [1.0, n_in * a, n_out * acc, 0.0 if on_dsp else block * w * a]
    return feats, dsp


def smape(pred: np.ndarray, real: np.ndarray) -> float:
    denom = np.abs(pred) + np.abs(real)
    ok = denom > 0
    return float(np.mean(np.where(ok, 2 * np.abs(pred - real) / np.where(ok, denom, 1), 0.0)) * 100)


def main() -> int:
    data = list(rows())
    X = np.array([layer_features([int(v) for v in r["model_string"].split("-")], int(r["prec"]), int(r["rf"]))[0] for r in data])
    lut = np.array([float(r["LUT_hls"]) for r in data])
    ff = np.array([float(r["FF_hls"]) for r in data])
    train = np.arange(len(data)) % 2 == 0
    for name, y in (("LUT", lut), ("FF", ff)):
        cols = [0, 1, 2, 3] if name == "LUT" else [0, 1, 2]
        coef, _ = nnls(X[train][:, cols], y[train])
        pred = X[:, cols] @ coef
        print(f"{name}: constants {tuple(round(c, 4) for c in coef)}; SMAPE train {smape(pred[train], y[train]):.1f} %, "
              f"held-out {smape(pred[~train], y[~train]):.1f} % ({(~train).sum()} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
