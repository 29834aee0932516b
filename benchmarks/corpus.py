"""The real hls4ml designs of ../shared/reports/corpus as benchmark records (read-only).

Each design: its project folder (the one holding hls4ml_config.yml), the repository it came from
(for leave-one-repository-out), and the truth its SOURCE.txt states: part, clock, HLS tool and the
csynth totals of the hls4ml top function (where SOURCE.txt lists an AXI wrapper and the hls4ml top,
the hls4ml top; where it lists two runs, the first). Designs whose authors modified hls4ml's layers
are flagged: an estimator must not crash on them, but they are not hls4ml's cost to fit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "reports" / "corpus"
# author-modified or custom layers (INDEX.md curation notes)
MODIFIED = ("crimson1256", "ChiRuiChen__Deepcalo", "LingChiYang", "nycu-pcs-lab")


@dataclass(frozen=True)
class Truth:
    dsp: Optional[float]
    lut: Optional[float]
    ff: Optional[float]
    bram18: Optional[float]
    latency_cycles: Optional[float]
    ii: Optional[float]


@dataclass(frozen=True)
class CorpusDesign:
    name: str
    repo: str
    project: Optional[Path]
    part: Optional[str]
    clock_ns: Optional[float]
    tool: str
    truth: Optional[Truth]
    modified: bool

    @property
    def family(self) -> str:
        p = (self.part or "").lower()
        return {"xc7": "7-series", "xcz": "Zynq US+", "xcu": "Alveo/US+", "xcv": "Virtex US+", "xck": "Kintex US+"}.get(p[:3], "?") \
            if not p.startswith("xc7") else "7-series"


def _num(text: str) -> Optional[float]:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _truth(text: str) -> Optional[Truth]:
    lines = [l for l in text.splitlines() if "csynth totals" in l.lower() or l.startswith("csynth_totals")]
    line = next((l for l in lines if "(hls4ml top)" in l), lines[0] if lines else None)
    if line is None:
        return None
    get = lambda key: _num((re.search(rf"\b{key}=([\d.]+)", line) or [None, None])[1])  # noqa: E731
    worst = re.search(r"latency\(best/worst\)=\d+/(\d+)", line)
    ii = re.search(r"II\(min/max\)=\d+/(\d+)", line) or re.search(r"\bII=(\d+)", line)
    return Truth(get("DSP"), get("LUT"), get("FF"), get("BRAM_18K"),
                 _num(worst.group(1)) if worst else get("worst_latency_cycles"), _num(ii.group(1)) if ii else None)


def designs() -> list[CorpusDesign]:
    out = []
    for d in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        text = (d / "SOURCE.txt").read_text(errors="replace") if (d / "SOURCE.txt").exists() else ""
        configs = sorted(d.rglob("hls4ml_config.yml"))
        part = re.search(r"^part:\s*(\S+)", text, re.M)
        clock = re.search(r"^clock(?:_ns)?:\s*([\d.]+)", text, re.M)
        tool = re.search(r"^(?:HLS tool|hls_tool):\s*(.+?)\s*\(", text, re.M)
        out.append(CorpusDesign(d.name, d.name.split("__")[0], configs[0].parent if configs else None,
                                part.group(1) if part else None, _num(clock.group(1)) if clock else None,
                                tool.group(1) if tool else "unknown", _truth(text), d.name.startswith(MODIFIED)))
    return out
