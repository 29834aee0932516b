"""csynth vs Vivado logic synthesis on every real design of ../shared/reports that has both reports
(hcp_fpga/estimator/postsynth.py scales estimates by the median ratio). Prints each design's ratio
per resource and the median and range; one run, deterministic.

    .venv/bin/python benchmarks/fit_synthesis.py            # print
    .venv/bin/python benchmarks/fit_synthesis.py --write    # and rewrite hcp_fpga/estimator/synthesis_pairs.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hcp_fpga.estimator import postsynth
from hcp_fpga.estimator.calibration import find_projects
from hcp_fpga.estimator.reports import ReportError, project_reports

REPORTS = Path(__file__).resolve().parents[2] / "shared" / "reports"
ROOTS = ("corpus", "triples", "conv1d-vitis2024-u250", "hls4ml-test-vivado2020")


def pairs() -> list[dict]:
    out = []
    for project in find_projects([REPORTS / r for r in ROOTS if (REPORTS / r).is_dir()]):
        try:
            reports = project_reports(project)
        except ReportError:
            continue
        if "csynth" in reports and "vsynth" in reports:
            c, v = reports["csynth"], reports["vsynth"]
            out.append({"name": str(project.resolve().relative_to(REPORTS.resolve())), "tool": c.tool,
                        "csynth": {r: float(getattr(c, r)) for r in postsynth.RESOURCES},
                        "vsynth": {r: float(getattr(v, r)) for r in postsynth.RESOURCES}})
    return sorted(out, key=lambda p: p["name"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"rewrite {postsynth.TABLE}")
    args = ap.parse_args(argv)
    found = pairs()
    print(f"{len(found)} designs with both a csynth and a Vivado synthesis report")
    for p in found:
        cells = "  ".join(f"{r} {p['csynth'][r]:,.0f}->{p['vsynth'][r]:,.0f}" for r in postsynth.RESOURCES)
        print(f"  {p['name'][:58]:58s} {cells}  ({p['tool']})")
    for r, x in postsynth.ratios(tuple(found)).items():
        print(f"  {r:7s} synthesis/csynth median x{x.median:.2f}, range x{x.low:.2f}-x{x.high:.2f}, n={x.n}")
    if args.write:
        postsynth.TABLE.write_text(json.dumps({"about": "csynth and Vivado logic synthesis totals of real hls4ml designs in "
                                                        "../shared/reports; written by benchmarks/fit_synthesis.py --write",
                                               "pairs": found}, indent=1, sort_keys=True) + "\n")
        postsynth.load_pairs.cache_clear()
        print(f"wrote {postsynth.TABLE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
