"""How timing.ADD_LEVEL_NS (delay of one adder-tree level incl. routing, per family) was chosen.

Grid search over 7-series 1.0-3.5 ns x UltraScale+ 0.5-2.0 ns on every io_parallel Latency design
of ../shared/reports/corpus (unmodified hls4ml layers, at the part and clock SOURCE.txt states) and
../shared/reports/triples (except keras3layer, whose model is not in its folder), minimizing the mean
SMAPE of latency cycles + FF against the csynth reports. One run per point (deterministic). The
chosen values are fitted on these designs: they are not held out.
Designs with HGQ per-element types are left out of the fit (still estimated and scored everywhere):
the delay of an adder level can only be read off designs whose adders the model counts, and theirs
it does not (docs/estimator.md: MinhNguy3n's report has 370 adders 17.2 bits wide where we count 332
of 16 bits, Lrozzy's 342 where we count 965).
Run: .venv/bin/python benchmarks/fit_timing.py [--show A7 AUS]
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from corpus import SHARED, designs  # noqa: E402

from hcp_fpga.estimator import timing  # noqa: E402
from hcp_fpga.estimator.model import estimate_project, project_specs  # noqa: E402
from hcp_fpga.estimator.reports import project_reports  # noqa: E402
from hcp_fpga.estimator.spec import read_hls4ml_config  # noqa: E402


def _per_element_types(project) -> bool:
    """HGQ: every input of a layer has a type of its own (LayerSpec.row_bits)."""
    return any(s.row_bits is not None for s in project_specs(project).specs)


def cases() -> list[tuple]:
    """(name, project folder, part, clock, real FF, real cycles) of the Latency io_parallel designs
    the adder-level delay is fitted on (not the HGQ ones: module docstring)."""
    out = []
    for d in designs():
        if d.project and not d.modified and d.truth and read_hls4ml_config(d.project).get("IOType", "io_parallel") == "io_parallel" \
                and not _per_element_types(d.project):
            out.append((d.name, d.project, d.part, d.clock_ns, d.truth.ff, d.truth.latency_cycles))
    for t in sorted(p for p in (SHARED / "reports" / "triples").iterdir() if p.is_dir() and "keras3layer" not in p.name):
        if read_hls4ml_config(t).get("IOType", "io_parallel") == "io_parallel":
            real = project_reports(t)["csynth"]
            out.append((t.name, t, None, None, real.ff, real.latency_cycles))
    return out


# (7-series ns, UltraScale+ ns) points the adder-level delay is chosen from
GRID = [(a7, aus) for a7 in (1.0, 1.45, 2.0, 2.5, 3.0, 3.5) for aus in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)]


def smape(a: float, b: float) -> float:
    return 0.0 if a == b == 0 else abs(a - b) / ((abs(a) + abs(b)) / 2) * 100


def evaluate(all_cases, a7: float, aus: float, show: bool = False) -> tuple[float, float, int]:
    """Mean SMAPE (cycles, FF) over the designs the timing model schedules, at these constants."""
    saved = dict(timing.ADD_LEVEL_NS)
    timing.ADD_LEVEL_NS.update({"7series": a7, "usplus": aus})
    try:
        cyc, ff = [], []
        for name, project, part, clock, real_ff, real_cycles in all_cases:
            est = estimate_project(project, part=part, clock_ns=clock)
            if not any(l.name == "pipeline_registers" for l in est.layers) or any(l.kind == "fifo" for l in est.layers):
                continue
            cyc.append(smape(est.latency_cycles, real_cycles))
            ff.append(smape(est.ff, real_ff))
            if show:
                print(f"  {name[:58]:58s} cycles {est.latency_cycles:>6}/{real_cycles:<6.0f} FF {est.ff:>9,.0f}/{real_ff:,.0f}")
        return float(np.mean(cyc)), float(np.mean(ff)), len(cyc)
    finally:
        timing.ADD_LEVEL_NS.update(saved)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", nargs=2, type=float, metavar=("A7", "AUS"), help="print every design at these constants")
    args = ap.parse_args(argv)
    all_cases = cases()
    if args.show:
        c, f, n = evaluate(all_cases, *args.show, show=True)
        print(f"{n} designs: SMAPE cycles {c:.1f} %, FF {f:.1f} %")
        return 0
    grid = [(a7, aus, *evaluate(all_cases, a7, aus)) for a7, aus in GRID]
    grid.sort(key=lambda g: g[2] + g[3])
    print(f"grid search, {len(grid)} points, {grid[0][4]} designs each; best 5 (7-series ns, US+ ns: SMAPE cycles, FF):")
    for a7, aus, c, f, _ in grid[:5]:
        print(f"  {a7:4.2f} {aus:4.2f}: cycles {c:5.1f} %  FF {f:5.1f} %")
    print(f"in use: {timing.ADD_LEVEL_NS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
