"""What an adder bit costs in each HLS tool's csynth estimate (backends.CostConstants.lut_adder_scale).

Every + and - row of the Expression tables in ../shared/reports (operands of at least 4 bits),
pooled per tool version and repository: LUT per bit. The Latency dense adder constants were fitted
on the Vivado HLS 2019.2 triples; Vitis HLS 2023.1 and later price an adder bit higher. The scale is
the pooled Vitis >= 2023.1 price over the triples' price; leave-one-repository-out re-derives it
without each repository (the folds of benchmarks/estimator_accuracy.py use those values).
One run; deterministic.

    .venv/bin/python benchmarks/fit_adders.py
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibration_accuracy import SHARED  # noqa: E402  (../shared/reports)

_TOOL = re.compile(r"== (Vivado HLS|Vitis HLS) Report.*?Version:\s*(20\d\d\.\d)", re.S)
_EXPRESSION = re.compile(r"\* Expression:\s*\n(.*?)\n\s*\n", re.S)
REFERENCE = ("Vivado HLS 2019.2", "triples")  # what the adder constants were fitted on


def _repository(path: Path) -> str:
    parts = path.relative_to(SHARED).parts
    return parts[1].split("__")[0] if parts[0] == "corpus" else parts[0]


def adder_rows() -> dict[tuple[str, str], tuple[int, int, int]]:
    """(tool, repository) -> (adders, LUT, operand bits) over every csynth .rpt in ../shared/reports."""
    rows: dict = defaultdict(lambda: [0, 0, 0])
    for f in sorted(SHARED.rglob("*.rpt")):
        text = f.read_text(errors="replace")
        tool = _TOOL.search(text[:3000])
        if not tool:
            continue
        key = (f"{tool.group(1)} {tool.group(2)}", _repository(f))
        for table in _EXPRESSION.finditer(text):
            for line in table.group(1).splitlines():
                cells = [c.strip() for c in line.split("|")]
                if len(cells) > 7 and cells[2] in ("+", "-") and cells[5].isdigit() and cells[6].isdigit() and int(cells[6]) >= 4:
                    r = rows[key]
                    r[0], r[1], r[2] = r[0] + 1, r[1] + int(cells[5]), r[2] + int(cells[6])
    return {k: tuple(v) for k, v in rows.items()}


def _current_vitis(tool: str) -> bool:
    return tool.startswith("Vitis HLS") and tool.split()[-1] >= "2023.1"


def lut_per_bit(rows: dict, select) -> float:
    lut, bits = (sum(v[i] for k, v in rows.items() if select(k)) for i in (1, 2))
    return lut / bits


def adder_scale(rows: dict, without: str | None = None) -> float:
    """Pooled Vitis >= 2023.1 LUT per adder bit over the reference's, optionally without one repository."""
    current = lut_per_bit(rows, lambda k: _current_vitis(k[0]) and k[1] != without)
    return current / lut_per_bit(rows, lambda k: k == REFERENCE)


def fold_scales(rows: dict | None = None) -> dict[str, float]:
    """The scale without each repository that contributes Vitis >= 2023.1 rows."""
    rows = rows if rows is not None else adder_rows()
    return {repo: round(adder_scale(rows, repo), 3) for repo in sorted({k[1] for k in rows if _current_vitis(k[0])})}


def main() -> int:
    if not SHARED.is_dir():
        print(f"no {SHARED}: nothing to read")
        return 1
    rows = adder_rows()
    print("LUT per adder bit in the csynth Expression tables (+/- rows, operands >= 4 bits):")
    for (tool, repo), (n, lut, bits) in sorted(rows.items()):
        if n >= 20:
            print(f"  {tool:18s} {repo:32s} adders {n:6,d}  LUT/bit {lut / bits:.3f}  mean width {bits / n:.1f}")
    print(f"Vitis HLS >= 2023.1 pooled over the reference {REFERENCE}: scale {adder_scale(rows):.3f}")
    print("without each repository:", ", ".join(f"{r} {s:.3f}" for r, s in fold_scales(rows).items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
