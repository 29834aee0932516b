"""Error of the estimate against the real reports of ../shared, uncalibrated and calibrated, with
the calibration fitted WITHOUT the held-out design's whole repository (leave-one-repository-out),
and, for comparison, without only the design itself (leave-one-project-out, what `hcp-fpga
calibrate` prints). Designs: reports/corpus (minus the author-modified ones) + reports/triples,
csynth totals; projects whose estimate leaves layers out (a lower bound) are skipped, as calibrate
skips them. Also: the same on the largest homogeneous groups (one repository, one tool and part).
One run (everything is deterministic). Run: .venv/bin/python benchmarks/calibration_accuracy.py
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import MODIFIED  # noqa: E402

from hcp_fpga.estimator import calibration as C  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reports"


def repository(project: Path) -> str:
    """The public repository a shared design came from (corpus: the folder prefix; triples: README)."""
    rel = project.relative_to(SHARED)
    if rel.parts[0] == "corpus":
        return rel.parts[1].split("__")[0]
    readme = (SHARED / "triples" / "README.md").read_text()
    for line in readme.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 and cells[1] == rel.parts[1]:
            return cells[2].split(" @")[0]
    return rel.parts[1]


def table(samples, label: str) -> None:
    print(f"\n{label}: {len(samples)} designs, {len({s.group for s in samples})} groups")
    print(f"  {'resource':10s} {'n':>3s}  {'SMAPE before':>12s} {'after':>7s}  {'median|err| before':>18s} {'after':>7s}")
    for e in C.held_out_errors(samples):
        print(f"  {e.resource:10s} {e.n:3d}  {e.smape_before:12.1f} {e.smape_after:7.1f}  {e.median_before:18.1f} {e.median_after:7.1f}")


def main() -> None:
    t0 = time.perf_counter()
    samples, skipped = C.collect([SHARED / "corpus", SHARED / "triples"], group_of=repository)
    samples = [s for s in samples if not any(m in s.name for m in MODIFIED)]
    print(f"{len(samples)} designs with an estimate and a csynth report; skipped {len(skipped)} "
          f"(lower-bound estimates) and the {len(MODIFIED)} author-modified repositories' designs")
    table(samples, "leave-one-REPOSITORY-out (every factor re-fitted without the held-out repository)")
    table([replace(s, group=s.name) for s in samples], "leave-one-PROJECT-out (what hcp-fpga calibrate prints)")
    groups: dict[str, list] = {}
    for s in samples:
        groups.setdefault(s.group, []).append(replace(s, group=s.name))
    for repo, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        if len(members) >= 4:
            table(members, f"one repository, leave-one-project-out: {repo}")
    cal = C.fit(samples)
    print("\nfit on all: penalty chosen per resource (1e6 = no correction) and held-out spread (90 % interval x/):")
    for r, f in cal.resources.items():
        print(f"  {r:15s} ridge {f.ridge:g}  factor at the intercept x{2.718281828 ** f.intercept:.2f}  "
              f"interval x/{2.718281828 ** (1.645 * f.sigma):.2f}")
    print(f"\n{time.perf_counter() - t0:.1f} s, one run")


if __name__ == "__main__":
    main()
