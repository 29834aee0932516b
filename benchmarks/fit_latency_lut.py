"""Fit the Latency-strategy dense LUT constants (backends.CostConstants) on the triples' modules.

A Latency dense module's LUT (its csynth module report) is modelled as
    a * (adder-tree bits, model.tree_adder_bits) + b * (shift-add bits of the LUT multipliers)
    + c * (DSP products)
and fitted by non-negative least squares on the 17 dense modules of the five Vivado HLS 2019.2
triples the estimator fits on; the jet rf2 and pynq-z2 RF 64 triples are held out (their layers are
scored, not fitted). For comparison the same fit with adders as wide as the accumulator (the model
before 2026-12-04). One run; deterministic.

    .venv/bin/python benchmarks/fit_latency_lut.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibration_accuracy import SHARED  # noqa: E402  (../shared/reports)

from hcp_fpga.estimator.backends import constants_for  # noqa: E402
from hcp_fpga.estimator.compare import match_layers  # noqa: E402
from hcp_fpga.estimator.model import (  # noqa: E402
    _accumulator_bits, constant_products, estimate_project, project_specs, shift_adds, tree_adder_bits,
)
from hcp_fpga.estimator.reports import project_reports  # noqa: E402

TRIPLES = SHARED / "triples"
FITTED = ["jet-dense-16bit-rf1-xcu250-vhls2019", "jet-dense-pruned75-16bit-xcu250-vhls2019",
          "jet-keras3layer-vu9p-vhls2019", "jet-qkeras6-pruned75-xcu250-vhls2019", "dense16x4-vx690t-vhls2019"]
HELD_OUT = ["jet-dense-16bit-rf2-xcu250-vhls2019", "jet-qkeras6-pruned75-pynqz2-rf64-vhls2019"]


def module_rows(names: list[str]) -> list[tuple[str, float, float, float, float, float]]:
    """(module, tree bits by growth, tree bits at accumulator width, shift-add bits, DSP, report LUT)."""
    out = []
    for name in names:
        project = TRIPLES / name
        model = None
        if "keras3layer" in name:
            from hcp_fpga.models import load_model
            peer = SHARED.parent / "peer-models"
            model = load_model(peer / "KERAS_3layer.json", peer / "KERAS_3layer_weights.h5")
        estimate, report = estimate_project(project, model), project_reports(project)["csynth"]
        specs = project_specs(project, model)
        by_name = {s.name: s for s in specs.specs}
        c = constants_for(specs.backend, specs.part, "Vivado HLS 2019.2")
        for ours, theirs in match_layers(estimate, report):
            s = by_name.get(ours.name)
            if s is None or s.kind != "dense" or s.mantissas is None:
                continue
            digits, nonzero, on_dsp = constant_products(s, c)
            shift = float(shift_adds(s, digits, nonzero, on_dsp)[1].sum())
            tree_adders = float(np.maximum(nonzero.sum(axis=0) - 1, 0).sum())
            out.append((f"{name}/{s.name}", float(tree_adder_bits(s)), tree_adders * _accumulator_bits(s), shift,
                        ours.dsp, theirs.lut))
    return out


def smape(pred: np.ndarray, real: np.ndarray) -> float:
    return float(np.mean(2 * np.abs(pred - real) / (np.abs(pred) + np.abs(real))) * 100)


def main() -> None:
    fitted, held = module_rows(FITTED), module_rows(HELD_OUT)
    y, y_held = np.array([r[5] for r in fitted]), np.array([r[5] for r in held])
    print(f"Latency dense modules: {len(fitted)} fitted ({len(FITTED)} triples), {len(held)} held out; one run")
    for label, tree in (("adders sized by bit growth (in use)", 1), ("adders at accumulator width (before)", 2)):
        A = np.array([[r[tree], r[3], r[4]] for r in fitted])
        A_held = np.array([[r[tree], r[3], r[4]] for r in held])
        coef, _ = nnls(A, y)
        print(f"  {label}: per tree bit {coef[0]:.3f}, per shift-add bit {coef[1]:.3f}, per DSP {coef[2]:.2f}; "
              f"SMAPE fitted {smape(A @ coef, y):.1f} %, held out {smape(A_held @ coef, y_held):.1f} %")


if __name__ == "__main__":
    main()
