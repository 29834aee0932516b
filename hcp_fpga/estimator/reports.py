"""Parse real vendor reports into the same ``Estimate`` shape as our estimates.

Handles Vivado HLS 2019-2020 and Vitis HLS 2020-2024 ``csynth.xml``/``*_csynth.rpt`` (top level and
per-module rows), Vivado ``vivado_synth.rpt`` (logic synthesis) and hls4ml's saved baseline JSON
(``parse_vivado_report`` output). hls4ml's own ``parse_vivado_report`` needs the project's
``project.tcl`` and ``*.app`` files, which published projects often lack, and labels the
"Block RAM Tile" row (36 Kb tiles) as BRAM_18K; here a tile counts as 2 BRAM18.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Optional

from hcp_fpga.errors import HcpError
from hcp_fpga.estimator.types import Estimate, LayerEstimate


class ReportError(HcpError):
    """A report file is missing or cannot be read."""


def _num(text: Optional[str]) -> float:
    if text is None:
        return 0.0
    text = text.strip()
    if text in ("", "-", "~0"):
        return 0.0
    try:
        return float(text)
    except ValueError:
        return 0.0


def _int_or_none(text: Optional[str]) -> Optional[int]:
    if text is None or not text.strip() or not re.match(r"^\d+$", text.strip()):
        return None
    return int(text.strip())


def _resources(node) -> dict:
    def get(*names):
        for n in names:
            el = node.find(n) if node is not None else None
            if el is not None:
                return _num(el.text)
        return 0.0

    return {
        "dsp": get("DSP", "DSP48E"),
        "bram18": get("BRAM_18K"),
        "uram": get("URAM"),
        "lut": get("LUT"),
        "ff": get("FF"),
    }


def parse_csynth_xml(path: Path | str) -> Estimate:
    """Top-level figures of a csynth XML report (Vivado HLS or Vitis HLS)."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise ReportError(f"cannot read HLS report '{path}' ({type(exc).__name__}); check the file") from None
    perf = root.find("PerformanceEstimates")
    lat = perf.find("SummaryOfOverallLatency") if perf is not None else None
    ua = root.find("UserAssignments")
    res = _resources(root.find("AreaEstimates/Resources"))
    latency = _int_or_none(lat.findtext("Worst-caseLatency")) if lat is not None else None
    ii = _int_or_none(lat.findtext("Interval-max")) if lat is not None else None
    clock = _num(ua.findtext("TargetClockPeriod")) if ua is not None else None
    part = ua.findtext("Part") if ua is not None else None
    top = ua.findtext("TopModelName") if ua is not None else "top"
    layer = LayerEstimate(name=top or "top", kind="top", **res, latency_cycles=latency, ii=ii)
    est_clock = perf.findtext("SummaryOfTimingAnalysis/EstimatedClockPeriod") if perf is not None else None
    return Estimate("csynth", (layer,), **res, latency_cycles=latency, ii=ii, clock_ns=clock or None, part=part,
                    notes=(f"estimated clock {est_clock} ns",) if est_clock else ())


_ROW = re.compile(r"^\s*\|(.+)\|\s*$")


def parse_csynth_instances(rpt_path: Path | str) -> list[LayerEstimate]:
    """Per-module rows (the 'Instance' table of the utilization detail) of a ``*_csynth.rpt``."""
    text = Path(rpt_path).read_text(errors="replace")
    start = text.find("== Utilization Estimates")
    if start < 0:
        return []
    detail = text[start:]
    timing = _instance_timing(text)
    m = re.search(r"\* Instance:\s*\n(.*?)\n\s*\n", detail, re.S)
    if not m:
        return []
    header: list[str] = []
    rows = []
    for line in m.group(1).splitlines():
        row = _ROW.match(line)
        if not row:
            continue
        cells = [c.strip() for c in row.group(1).split("|")]
        if not header:
            header = [c.upper() for c in cells]
            continue
        if cells[0] in ("Total", "") or len(cells) != len(header):
            continue
        rec = dict(zip(header, cells))
        module = rec.get("MODULE", cells[1])
        latency, ii = timing.get(module, (None, None))
        rows.append(
            LayerEstimate(
                name=module,
                kind="module",
                dsp=_num(rec.get("DSP", rec.get("DSP48E"))),
                bram18=_num(rec.get("BRAM_18K")),
                uram=_num(rec.get("URAM")),
                lut=_num(rec.get("LUT")),
                ff=_num(rec.get("FF")),
                latency_cycles=latency,
                ii=ii,
            )
        )
    return rows


def _instance_timing(text: str) -> dict[str, tuple[Optional[int], Optional[int]]]:
    """Module -> (max latency, max interval) from the Performance Estimates' Instance table."""
    perf = text[text.find("== Performance Estimates"):text.find("== Utilization Estimates")]
    m = re.search(r"\* Instance:\s*\n(.*?)\n\s*\n", perf, re.S)
    timing = {}
    for line in (m.group(1).splitlines() if m else []):
        row = _ROW.match(line)
        if not row:
            continue
        cells = [c.strip() for c in row.group(1).split("|")]
        # Instance | Module | lat min | lat max | abs min | abs max | II min | II max | type
        if len(cells) >= 8 and cells[2].replace("?", "").isdigit():
            timing[cells[1]] = (_int_or_none(cells[3]), _int_or_none(cells[7]))
    return timing


def parse_vivado_synth(path: Path | str) -> Estimate:
    """Logic-synthesis utilization (``vivado_synth.rpt`` / ``report_utilization``).

    "Block RAM Tile" counts 36 Kb tiles (a RAMB18 counts 0.5): BRAM18 = 2 x tiles.
    """
    path = Path(path)
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise ReportError(f"cannot read synthesis report '{path}' ({exc.strerror}); check the path") from None

    def first(*labels) -> float:
        for label in labels:
            m = re.search(r"^\|\s*" + re.escape(label) + r"\s*\|\s*([\d.]+)\s*\|", text, re.M)
            if m:
                return float(m.group(1))
        return 0.0

    tiles = first("Block RAM Tile")
    device = re.search(r"^\|\s*Device\s*:\s*(\S+)", text, re.M)
    return Estimate(
        "vsynth", (), dsp=first("DSPs"), bram18=2 * tiles, uram=first("URAM"),
        lut=first("CLB LUTs*", "CLB LUTs", "Slice LUTs*", "Slice LUTs"),
        ff=first("CLB Registers", "Slice Registers"), latency_cycles=None, ii=None, clock_ns=None,
        part=device.group(1) if device else None,
    )


def parse_baseline_json(path: Path | str) -> Estimate:
    """hls4ml's saved ``parse_vivado_report`` output (``{"CSynthesisReport": {...}}``)."""
    data = json.loads(Path(path).read_text())["CSynthesisReport"]
    res = {"dsp": _num(data.get("DSP", data.get("DSP48E"))), "bram18": _num(data.get("BRAM_18K")),
           "uram": _num(data.get("URAM")), "lut": _num(data.get("LUT")), "ff": _num(data.get("FF"))}
    latency, ii = _int_or_none(data.get("WorstLatency")), _int_or_none(data.get("IntervalMax"))
    top = LayerEstimate("myproject", "top", **res, latency_cycles=latency, ii=ii)
    return Estimate("csynth", (top,), **res, latency_cycles=latency, ii=ii, clock_ns=_num(data.get("TargetClockPeriod")) or None)


def find_csynth(project_dir: Path | str) -> Optional[tuple[Path, Optional[Path]]]:
    """(top csynth.xml, top csynth.rpt or None) of an HLS project, or None when there is none."""
    project_dir = Path(project_dir)
    for report_dir in sorted(project_dir.glob("*_prj/*/syn/report")):
        candidates = sorted(report_dir.glob("*_csynth.xml"))
        plain = report_dir / "csynth.xml"
        top_name = None
        if plain.exists():
            try:
                top_name = ET.parse(plain).getroot().findtext("UserAssignments/TopModelName")
            except ET.ParseError:
                top_name = None
        if top_name and top_name.endswith("_axi") and (report_dir / f"{top_name[:-4]}_csynth.xml").exists():
            top_name = top_name[:-4]  # VivadoAccelerator wrapper: report the network core itself
        top_xml = report_dir / f"{top_name}_csynth.xml" if top_name else None
        if top_xml is None or not top_xml.exists():
            top_xml = plain if plain.exists() else (candidates[0] if candidates else None)
        if top_xml is None:
            continue
        rpt = top_xml.with_suffix(".rpt")
        return top_xml, rpt if rpt.exists() else None
    return None


def project_reports(project_dir: Path | str) -> dict[str, Estimate]:
    """All reports a project holds: ``csynth`` (with per-module rows when present) and ``vsynth``."""
    project_dir = Path(project_dir)
    found: dict[str, Estimate] = {}
    cs = find_csynth(project_dir)
    if cs:
        top = parse_csynth_xml(cs[0])
        modules = parse_csynth_instances(cs[1]) if cs[1] else []
        found["csynth"] = replace(top, layers=tuple(modules) or top.layers)
    vs = project_dir / "vivado_synth.rpt"
    if vs.exists():
        found["vsynth"] = parse_vivado_synth(vs)
    return found
