"""The estimator's error rows behind its intervals and its "fits at 90 %" (hcp_fpga/estimator/uncertainty.py).

For every real hls4ml design of ../shared/reports (corpus, minus the author-modified repositories,
and triples) that has a csynth report and an estimate that prices every layer: its error per
resource, log((report + 1) / (estimate + 1)), its design class and its repository. Prints the
90 % interval factors per class and the coverage of 90 % intervals built WITHOUT the held-out
design's repository (leave-one-repository-out). One run; everything is deterministic.

    .venv/bin/python benchmarks/fit_intervals.py            # print
    .venv/bin/python benchmarks/fit_intervals.py --write    # and rewrite hcp_fpga/estimator/intervals.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibration_accuracy import SHARED, repository  # noqa: E402
from corpus import MODIFIED  # noqa: E402

from hcp_fpga.estimator import uncertainty as U  # noqa: E402
from hcp_fpga.estimator.calibration import collect  # noqa: E402


def error_rows() -> tuple[list[U.ErrorRow], list[str]]:
    samples, skipped = collect([SHARED / "corpus", SHARED / "triples"], group_of=repository)
    rows = []
    for s in samples:
        if any(m in s.name for m in MODIFIED):
            continue
        errors = {}
        for r in U.RESOURCES:
            e, y = getattr(s.estimate, r), getattr(s.real, r)
            if e is not None and y is not None:
                errors[r] = round(math.log((float(y) + 1.0) / (float(e) + 1.0)), 6)
        name = str(Path(s.name).resolve().relative_to(SHARED.resolve()))  # ../shared may be a symlink (CI)
        rows.append(U.ErrorRow(name, s.group, s.estimate.design_class, errors))
    return sorted(rows, key=lambda r: r.name), [f"{k.project}: {k.reason}" for k in skipped]


def as_json(rows: list[U.ErrorRow]) -> dict:
    return {"about": "estimate errors log((report + 1) / (estimate + 1)) on real hls4ml designs of ../shared/reports "
                     "(corpus minus author-modified, triples); written by benchmarks/fit_intervals.py --write",
            "rows": [{"name": r.name, "repository": r.repository, "design_class": r.design_class, "errors": r.errors}
                     for r in rows]}


def loro_coverage(rows: list[U.ErrorRow], level: float = U.LEVEL) -> dict[str, tuple[int, int]]:
    """resource -> (inside, n): a design's report inside the interval built from other repositories."""
    out = {r: [0, 0] for r in U.RESOURCES}
    for row in rows:
        others = tuple(o for o in rows if o.repository != row.repository)
        chosen, _ = U.rows_for(row.design_class, others)
        for r, e in row.errors.items():
            errs = U._errors(chosen, r)
            if errs.size == 0:
                continue
            tail = (1 - level) / 2
            lo, hi = U.conformal_quantile(errs, tail), U.conformal_quantile(errs, 1 - tail)
            out[r][0] += lo - 1e-9 <= e <= hi + 1e-9
            out[r][1] += 1
    return {r: (a, b) for r, (a, b) in out.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"rewrite {U.TABLE}")
    args = ap.parse_args(argv)
    rows, skipped = error_rows()
    print(f"{len(rows)} designs from {len({r.repository for r in rows})} repositories; skipped {len(skipped)} "
          "(no report or a lower-bound estimate) and the author-modified repositories")
    for cls in (*U.CLASSES, None):
        chosen, label = U.rows_for(cls, tuple(rows)) if cls else (tuple(rows), "all classes")
        own = sum(1 for r in rows if r.design_class == cls) if cls else len(rows)
        cells = []
        for r in U.RESOURCES:
            errs = U._errors(chosen, r)
            if errs.size:
                lo, hi = math.exp(U.conformal_quantile(errs, 0.05)), math.exp(U.conformal_quantile(errs, 0.95))
                cells.append(f"{r.replace('latency_cycles', 'cycles')} x{lo:.2f}-x{hi:.2f}")
        print(f"  {cls or 'all':22s} {own:2d} own designs (intervals from {label}): " + "  ".join(cells))
    print("auto headroom per class (90 % one-sided):")
    for cls in U.CLASSES:
        h = U.auto_headroom(cls, rows=tuple(rows))
        print(f"  {cls:22s} " + "  ".join(f"{r} {v:.0%}" for r, v in h.items()))
    cov = loro_coverage(rows)
    print("coverage of 90 % intervals built without the held-out design's repository:")
    print("  " + "  ".join(f"{r.replace('latency_cycles', 'cycles')} {a}/{b} = {a / b:.0%}" for r, (a, b) in cov.items() if b))
    if args.write:
        U.TABLE.write_text(json.dumps(as_json(rows), indent=1, sort_keys=True) + "\n")
        U.load_rows.cache_clear()
        print(f"wrote {U.TABLE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
