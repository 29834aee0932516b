"""Parse real vendor reports into the same ``Estimate`` shape as our estimates.

Handles Vivado HLS 2019-2020 and Vitis HLS 2020-2024 ``csynth.xml``/``*_csynth.rpt`` (top level and
per-module rows), Vivado ``vivado_synth.rpt`` (logic synthesis) and hls4ml's saved baseline JSON
(``parse_vivado_report`` output). hls4ml's own ``parse_vivado_report`` needs the project's
``project.tcl`` and ``*.app`` files, which published projects often lack, and labels the
"Block RAM Tile" row (36 Kb tiles) as BRAM_18K; here a tile counts as 2 BRAM18.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Optional

from hcp_fpga.errors import HcpError
from hcp_fpga.estimator.precision import Fixed, parse_fixed
from hcp_fpga.estimator.spec import ELEMENTWISE_ACTIVATIONS, TABLE_ACTIVATIONS
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


def _count(text: Optional[str], key: str, path: Path) -> float:
    """A resource total of a report: '', '-' and '~0' read as 0, else a finite number >= 0. A
    ReportError otherwise: a damaged report must not judge a design (the estimate does, with a
    warning)."""
    stripped = (text or "").strip()
    if stripped in ("", "-", "~0"):
        return 0.0
    try:
        value = float(stripped)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise ReportError(f"HLS report '{path}': its {key.upper()} total {stripped!r} is not a count; re-run C synthesis")
    return value


def _int_or_none(text: Optional[str]) -> Optional[int]:
    if text is None or not text.strip() or not re.match(r"^\d+$", text.strip()):
        return None
    return int(text.strip())


_XML_NAMES = {"dsp": ("DSP", "DSP48E"), "bram18": ("BRAM_18K",), "uram": ("URAM",), "lut": ("LUT",), "ff": ("FF",)}


def _resource_texts(node) -> dict:
    """The text of each resource count under an XML ``Resources`` node (None where absent)."""
    def text(*names):
        for n in names:
            el = node.find(n) if node is not None else None
            if el is not None:
                return el.text
        return None

    return {key: text(*names) for key, names in _XML_NAMES.items()}


def tool_of_report(version: Optional[str], header: str = "", flow_target: bool = False) -> Optional[str]:
    """"Vivado HLS 2019.2" / "Vitis HLS 2024.1" from a report's version and its header line.

    The text report says which tool wrote it ("== Vitis HLS Report for ..."); the XML alone does
    not, but only Vitis HLS writes ``UserAssignments/FlowTarget``."""
    if not version:
        return None
    version = ".".join(version.strip().split(".")[:2])
    if "Vitis HLS" in header or (not header and flow_target):
        return f"Vitis HLS {version}"
    if "Vivado HLS" in header or not header:
        return f"Vivado HLS {version}"
    return None


def parse_csynth_xml(path: Path | str) -> Estimate:
    """Top-level figures of a csynth XML report (Vivado HLS or Vitis HLS)."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except OSError as exc:
        raise ReportError(f"cannot read HLS report '{path}' ({exc.strerror}); check the path") from None
    except ET.ParseError as exc:
        raise ReportError(f"HLS report '{path}' is not well-formed XML ({exc}; truncated?); re-run C synthesis") from None
    perf = root.find("PerformanceEstimates")
    lat = perf.find("SummaryOfOverallLatency") if perf is not None else None
    ua = root.find("UserAssignments")
    area = root.find("AreaEstimates/Resources")
    if area is None:
        raise ReportError(f"HLS report '{path}' has no AreaEstimates (truncated?); re-run C synthesis")
    res = {key: _count(text, key, path) for key, text in _resource_texts(area).items()}
    latency = _int_or_none(lat.findtext("Worst-caseLatency")) if lat is not None else None
    ii = _int_or_none(lat.findtext("Interval-max")) if lat is not None else None
    clock = _num(ua.findtext("TargetClockPeriod")) if ua is not None else None
    part = ua.findtext("Part") if ua is not None else None
    top = ua.findtext("TopModelName") if ua is not None else "top"
    rpt = path.with_suffix(".rpt")
    header = ""
    if rpt.is_file():
        head = rpt.read_text(errors="replace")[:400]
        header = "Vitis HLS" if "Vitis HLS Report" in head else ("Vivado HLS" if "Vivado HLS Report" in head else "")
    tool = tool_of_report(root.findtext("ReportVersion/Version"), header,
                          flow_target=ua is not None and ua.find("FlowTarget") is not None)
    layer = LayerEstimate(name=top or "top", kind="top", **res, latency_cycles=latency, ii=ii)
    est_clock = perf.findtext("SummaryOfTimingAnalysis/EstimatedClockPeriod") if perf is not None else None
    return Estimate("csynth", (layer,), **res, latency_cycles=latency, ii=ii, clock_ns=clock or None, part=part,
                    notes=(f"estimated clock {est_clock} ns",) if est_clock else (), tool=tool)


def _table_rows(block: str) -> list[list[str]]:
    return [[c.strip() for c in m.group(1).split("|")] for m in map(_ROW.match, block.splitlines()) if m]


def parse_csynth_rpt(path: Path | str) -> Estimate:
    """Top-level figures of a text csynth report (``<top>_csynth.rpt``), for projects that kept no XML.

    Reads the header (tool, version, part), the clock table, the latency summary (with or without
    the 'absolute' columns newer tools add) and the 'Total' row of the utilization summary."""
    path = Path(path)
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise ReportError(f"cannot read HLS report '{path}' ({exc.strerror}); check the path") from None
    util_at = text.find("== Utilization Estimates")
    if util_at < 0:
        raise ReportError(f"HLS report '{path}' has no utilization section (truncated?); re-run C synthesis")
    summary = text[util_at:].split("+ Detail", 1)[0]
    rows = _table_rows(summary)
    header = next((r for r in rows if r and r[0] == "Name"), None)
    total = next((r for r in rows if r and r[0] == "Total"), None)
    if header is None or total is None or len(header) != len(total):
        raise ReportError(f"HLS report '{path}' has no utilization total (truncated?); re-run C synthesis")
    rec = {h.upper(): v for h, v in zip(header, total)}
    raw = {"dsp": rec.get("DSP", rec.get("DSP48E")), "bram18": rec.get("BRAM_18K"), "uram": rec.get("URAM"),
           "lut": rec.get("LUT"), "ff": rec.get("FF")}
    res = {key: _count(text, key, path) for key, text in raw.items()}
    latency = ii = None
    perf = text[text.find("== Performance Estimates"):util_at]
    lat_block = re.search(r"\+ Latency[^\n]*\n\s*\* Summary:\s*\n(.*?)\n\s*\n", perf, re.S)
    if lat_block:
        lines = _table_rows(lat_block.group(1))
        values = next((r for r in lines if r and r[0].replace("?", "").isdigit()), None)
        if values:
            absolute = any("absolute" in c for r in lines for c in r)
            latency = _int_or_none(values[1])
            ii = _int_or_none(values[5] if absolute else values[3])
    clock = re.search(r"^\s*\|ap_clk\s*\|\s*([\d.]+)", perf, re.M)
    part = re.search(r"^\* Target device:\s*(\S+)", text, re.M)
    version = re.search(r"^\* Version:\s*([\d.]+)", text, re.M)
    top = re.search(r"== (Vivado|Vitis) HLS Report for '([^']+)'", text)
    tool = tool_of_report(version.group(1) if version else None, f"{top.group(1)} HLS" if top else "")
    layer = LayerEstimate(name=top.group(2) if top else "top", kind="top", **res, latency_cycles=latency, ii=ii)
    return Estimate("csynth", (layer,), **res, latency_cycles=latency, ii=ii,
                    clock_ns=float(clock.group(1)) if clock else None, part=part.group(1) if part else None, tool=tool)


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
    """hls4ml's saved report JSON: ``parse_vivado_report`` output (``{"CSynthesisReport": {...}}``)
    or the oneAPI backend's (``{"report": {"HLS": ..., "Loop": ...}}``).

    oneAPI targets Intel FPGAs: ALUTs are counted as LUT and registers as FF; its RAM blocks are
    M20K, not BRAM18, so they go into a note and BRAM18 stays 0."""
    data = json.loads(Path(path).read_text())
    if "report" in data:
        hls, loop = data["report"]["HLS"]["total"], data["report"].get("Loop", {})
        freq = _num(loop.get("worstFrequency"))
        latency = _num(loop.get("worstLatency"))
        top = LayerEstimate("myproject", "top", dsp=_num(str(hls.get("dsp"))), lut=_num(str(hls.get("alut"))),
                            ff=_num(str(hls.get("reg"))), latency_cycles=int(latency) if latency else None,
                            ii=_int_or_none(loop.get("worstII")))
        return Estimate.from_layers("csynth", (top,), top.latency_cycles, top.ii, 1000.0 / freq if freq else None,
                                    notes=(f"Intel RAM blocks (M20K): {hls.get('ram')}; MLABs: {hls.get('mlab')}",),
                                    tool="oneAPI")
    data = data["CSynthesisReport"]
    res = {"dsp": _num(data.get("DSP", data.get("DSP48E"))), "bram18": _num(data.get("BRAM_18K")),
           "uram": _num(data.get("URAM")), "lut": _num(data.get("LUT")), "ff": _num(data.get("FF"))}
    latency, ii = _int_or_none(data.get("WorstLatency")), _int_or_none(data.get("IntervalMax"))
    top = LayerEstimate("myproject", "top", **res, latency_cycles=latency, ii=ii)
    return Estimate("csynth", (top,), **res, latency_cycles=latency, ii=ii, clock_ns=_num(data.get("TargetClockPeriod")) or None)


def report_dirs(root: Path | str, max_depth: int = 12) -> list[Path]:
    """Folders under ``root`` holding csynth reports: ``<prj>/<solution>/syn/report`` (Vivado HLS,
    Vitis HLS), ``<component>/hls/syn/report`` (Vitis Unified) and bare ``report/`` folders that
    published projects keep. Shallow ones first."""
    root = Path(root)
    found = []
    for path in sorted(root.rglob("*csynth.*")):
        # a regular file only: a pipe or device named like a report would block the read
        if path.suffix not in (".xml", ".rpt") or len(path.relative_to(root).parts) > max_depth or not path.is_file():
            continue
        if path.parent not in found:
            found.append(path.parent)
    return sorted(found, key=lambda p: (len(p.parts), str(p)))


def _top_name(report_dir: Path) -> Optional[str]:
    plain = report_dir / "csynth.xml"
    if plain.is_file():
        try:
            name = ET.parse(plain).getroot().findtext("UserAssignments/TopModelName")
        except ET.ParseError:
            name = None
        if name and name.endswith("_axi") and any((report_dir / f"{name[:-4]}_csynth.{s}").is_file() for s in ("xml", "rpt")):
            name = name[:-4]  # VivadoAccelerator wrapper: report the network core itself
        if name:
            return name
    # <name>_prj/<solution>/syn/report: hls4ml names the top function after the project
    for parent in report_dir.parents:
        if parent.name.endswith("_prj"):
            return parent.name[: -len("_prj")]
    # Vitis Unified: <component>/hls/syn/report, top function named after the component
    if report_dir.parent.parent.name == "hls":
        return report_dir.parents[2].name
    return None


def find_csynth(project_dir: Path | str) -> Optional[tuple[Path, Optional[Path]]]:
    """(top csynth report, its ``.rpt`` or None) of an HLS project, or None when there is none.

    The first path is the XML where the project kept it, else the text report."""
    for report_dir in report_dirs(project_dir):
        name = _top_name(report_dir)
        candidates = [report_dir / f"{name}_csynth.xml", report_dir / f"{name}_csynth.rpt"] if name else []
        candidates += [report_dir / "csynth.xml", report_dir / "csynth.rpt"]
        top = next((c for c in candidates if c.is_file()), None)
        if top is None:
            continue
        rpt = top.with_suffix(".rpt")
        return top, rpt if rpt.is_file() else None
    return None


def parse_csynth(path: Path | str) -> Estimate:
    """A top-level csynth report, XML or text."""
    path = Path(path)
    return parse_csynth_xml(path) if path.suffix == ".xml" else parse_csynth_rpt(path)


_CONTROL_PORT = re.compile(r"^ap_(clk|rst|rst_n|start|done|idle|ready|ce|continue)$|_ap_(vld|ack)$")


def input_data_bits(path: Path | str) -> Optional[int]:
    """Total width of the top function's input data ports from a csynth report's interface table
    (the function's signature, not a synthesis result), when every input is a plain wire or a valid
    handshake (io_parallel: one reshaped port per input); None for streams, memories or no table."""
    path = Path(path)
    try:
        if path.suffix == ".xml":
            ports = [(p.findtext("name") or "", p.findtext("Dir"), p.findtext("Bits"), p.findtext("IOProtocol"),
                      p.findtext("Attribute") == "data") for p in ET.parse(path).getroot().iter("RtlPorts")]
        else:
            text = path.read_text(errors="replace")
            at = text.find("== Interface")
            rows = _table_rows(text[at:]) if at >= 0 else []
            ports = [(r[0], r[1], r[2], r[3], True) for r in rows if len(r) >= 6 and r[1] in ("in", "out")]
    except (OSError, ET.ParseError):
        return None
    inputs = [(name, bits, protocol) for name, direction, bits, protocol, data in ports
              if direction == "in" and data and not _CONTROL_PORT.search(name)]
    if not inputs or any(protocol not in ("ap_vld", "ap_none") or not (bits or "").isdigit() for _, bits, protocol in inputs):
        return None
    return sum(int(bits) for _, bits, _ in inputs)


# a FIFO of a layer's output in a top-level csynth report: layer2_out_0_V_U, layer2_out_U, layer2_out_1_U
# (io_parallel dataflow: one per element), layer2_out_V_data_0_V_U (Vivado HLS io_stream: one per channel)
_OUTPUT_FIFO = re.compile(r"^layer(\d+)_out(?:_V)?(?:_data)?(?:_\d+)?(?:_V)?_U$")


def output_fifo_counts(rpt_path: Path | str) -> dict[int, int]:
    """Per hls4ml layer index, how many FIFOs carry that layer's output in a top-level text csynth
    report: its elements (io_parallel dataflow) or channels (Vivado HLS io_stream). Only layers split
    over two or more FIFOs: Vitis HLS packs a stream into one, which says nothing about its size."""
    try:
        text = Path(rpt_path).read_text(errors="replace")
    except OSError:
        return {}
    start = text.find("* FIFO:")
    if start < 0:
        return {}
    block = re.split(r"\n\s*\* \w+:", text[start + 7:], maxsplit=1)[0]
    counts: dict[int, int] = {}
    for row in _table_rows(block):
        m = _OUTPUT_FIFO.match(row[0]) if row else None
        if m:
            counts[int(m.group(1))] = counts.get(int(m.group(1)), 0) + 1
    return {layer: n for layer, n in counts.items() if n >= 2}


# an hls4ml layer that reads two results, as a module of a csynth report (its name carries its config struct)
_MERGE_MODULE = re.compile(r"\b(concatenate[123]d|add|subtract|multiply|average|maximum|minimum|dot1d)_\w*?(config\d+)")


def merge_modules(rpt_path: Path | str) -> list[str]:
    """The modules of a top-level text csynth report that merge two layers' results (an hls4ml
    concatenation, add, multiply, ...: 'concatenate1d (config9)'), in the order first named."""
    try:
        text = Path(rpt_path).read_text(errors="replace")
    except OSError:
        return []
    return list(dict.fromkeys(f"{op} ({cfg})" for op, cfg in _MERGE_MODULE.findall(text)))


# an hls4ml activation as a module of a top-level csynth report: its nnet:: function, its template
# types and its config struct, e.g. relu_ap_fixed_32_7_5_3_0_ap_ufixed_15_0_4_0_0_relu_config5_s
# (input ap_fixed<32,7>, result ap_ufixed<15,0,AP_RND_CONV,AP_SAT>, hls4ml layer 5)
_ACTIVATION_MODULE = re.compile(
    r"^(?:grp_|call_ret\d*_)?(" + "|".join(sorted(TABLE_ACTIVATIONS | ELEMENTWISE_ACTIVATIONS | {"softmax", "linear"},
                                                   key=len, reverse=True))
    + r")(?:_stable|_latency|_legacy|_argmax)?_(\w*?)_config(\d+)(?:_s)?$")
# an element type as the tools spell it in a module name: ap_fixed_<W>_<I>_<Q>_<O>_<N>, ap_int_<W>
_ELEMENT_TYPE = re.compile(r"(?<![a-z])ap_(u?)(?:fixed_(\d+)_(-?\d+)_(\d)_(\d)_(\d+)|int_(\d+))(?![\d_]*u_)")
_Q_MODES = ("RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV", "TRN", "TRN_ZERO")  # ap_q_mode, in its order
_O_MODES = ("SAT", "SAT_ZERO", "SAT_SYM", "WRAP", "WRAP_SM")  # ap_o_mode


@dataclass(frozen=True)
class ActivationModule:
    """An hls4ml activation a csynth report lists as a module: hls4ml's layer index (its config
    struct's number), the nnet:: function, and its input and result element types where the
    module name spells both (io_parallel); None where it does not (io_stream names arrays)."""
    index: int
    function: str
    input: Optional[Fixed]
    result: Optional[Fixed]


def _element_types(text: str) -> list[Fixed]:
    types = []
    for unsigned, width, integer, q, o, sat_bits, int_width in _ELEMENT_TYPE.findall(text):
        try:
            if int_width:
                types.append(parse_fixed(f"ap_{unsigned}int<{int_width}>"))
            elif int(q) < len(_Q_MODES) and int(o) < len(_O_MODES):
                types.append(parse_fixed(f"ap_{unsigned}fixed<{width},{integer},AP_{_Q_MODES[int(q)]},"
                                         f"AP_{_O_MODES[int(o)]},{sat_bits}>"))
        except ValueError:
            continue
    return types


def activation_modules(rpt_path: Path | str) -> list[ActivationModule]:
    """The activations a top-level text csynth report lists as modules, one per hls4ml layer index,
    in index order. The module names are the C++ the tool compiled, not a result."""
    try:
        rows = parse_csynth_instances(rpt_path)
    except OSError:
        return []
    found: dict[int, ActivationModule] = {}
    for row in rows:
        m = _ACTIVATION_MODULE.match(row.name)
        if not m:
            continue
        types = _element_types(m.group(2))
        both = len(types) == 2
        found.setdefault(int(m.group(3)), ActivationModule(int(m.group(3)), m.group(1), types[0] if both else None,
                                                           types[1] if both else None))
    return [found[i] for i in sorted(found)]


# a Resource kernel's ReuseLoop row in a module's text csynth report ("|- ReuseLoop  | 15| 15| 8| 1| 1| 9| yes|"; nested: "| + ReuseLoop")
_REUSE_LOOP = re.compile(r"^\s*\|[-+ ]*ReuseLoop\s*\|(.*)$", re.M)


def reuse_loop_trips(rpt_path: Path | str) -> set[int]:
    """Trip counts of the ReuseLoops in the module reports beside a top-level text csynth report:
    the reuse factors hls4ml's Resource kernels (``dense_resource``: ``for ir < rufactor``) were
    built at. Empty where the tool wrote no module text reports or no Resource kernel."""
    trips: set[int] = set()
    for path in sorted(Path(rpt_path).parent.glob("*_csynth.rpt")):
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for row in _REUSE_LOOP.findall(text):
            cells = [c.strip() for c in row.split("|")]
            while cells and not cells[-1]:
                cells.pop()
            if len(cells) >= 2 and cells[-2].isdigit():  # ... | trip count | pipelined
                trips.add(int(cells[-2]))
    return trips


_RESOURCE_MODULE = re.compile(r"^(?:grp_)?(dense_resource|dense_large)\w*", re.I)


def resource_kernel_modules(rpt_path: Path | str) -> list[str]:
    """Names of hls4ml Resource-strategy kernel modules (``dense_resource*``; ``dense_large*`` before
    hls4ml 0.6) among the module reports beside a csynth report. hls4ml builds them for Resource
    layers only (their Latency layers call ``dense_latency``), whichever version and tool."""
    names = {m.group(0) for path in Path(rpt_path).parent.glob("*_csynth.*")
             for m in [_RESOURCE_MODULE.match(path.name.split("_csynth.")[0])] if m}
    return sorted(names)


def report_mismatch(rpt_path: Optional[Path | str], sizes: set[int], merges: bool = True,
                    reuse: Optional[set[int]] = None) -> Optional[str]:
    """Why a project's own csynth report cannot be of the design whose layers have ``sizes``
    (element and channel counts of every layer output and of the input), or None. A report whose
    FIFOs carry a layer of a size no layer of the design has, that has a module merging two
    results where no layer of the design reads two (``merges`` False), or whose Resource kernels
    ran at a reuse factor no Resource layer of the design has, or that has Resource kernels where
    the design has no Resource layer (``reuse``: the design's, as hls4ml moves them to valid
    values; None: not checked) was built from another network or another
    config (changed after C synthesis): its numbers do not judge this design."""
    if rpt_path is None:
        return None
    name = Path(rpt_path).name
    foreign = {layer: n for layer, n in output_fifo_counts(rpt_path).items() if n not in sizes}
    if foreign:
        layer, n = min(foreign.items())
        known = ", ".join(f"{s:,}" for s in sorted(sizes, reverse=True)[:8])
        return (f"the HLS report '{name}' is of another network (its layer {layer} output is {n:,} FIFOs; "
                f"no layer here has {n:,} elements or channels: {known}): re-run C synthesis; judged on the estimate")
    merged = [] if merges else merge_modules(rpt_path)
    if merged:
        return (f"the HLS report '{name}' is of another network (it has a {merged[0]} module, which merges two layers' "
                "results; no layer here reads two): re-run C synthesis; judged on the estimate")
    kernels = resource_kernel_modules(rpt_path) if reuse is not None and not reuse else []
    if kernels:
        return (f"the HLS report '{name}' is of another build (it has a Resource kernel, {kernels[0][:60]}; "
                "this config has no Resource layer): re-run C synthesis; judged on the estimate")
    other = sorted(reuse_loop_trips(rpt_path) - reuse) if reuse is not None else []
    if other:
        ours = ", ".join(map(str, sorted(reuse))) or "none (no Resource layer)"
        return (f"the HLS report '{name}' is of another build (its Resource kernels ran at reuse factor "
                f"{', '.join(map(str, other))}; this config's Resource layers run at {ours}): re-run C synthesis; "
                "judged on the estimate")
    return None


def closest_to_hardware(csynth: Optional[Estimate], vsynth: Optional[Estimate]) -> Optional[Estimate]:
    """The report nearest to the hardware: Vivado synthesis (with C synthesis's latency, clock and
    tool, which logic synthesis does not report), else C synthesis."""
    if vsynth is not None and csynth is not None:
        return replace(vsynth, latency_cycles=csynth.latency_cycles, ii=csynth.ii, clock_ns=csynth.clock_ns, tool=csynth.tool)
    return vsynth or csynth


def project_reports(project_dir: Path | str) -> dict[str, Estimate]:
    """All reports a project holds: ``csynth`` (with per-module rows when present) and ``vsynth``."""
    project_dir = Path(project_dir)
    found: dict[str, Estimate] = {}
    cs = find_csynth(project_dir)
    if cs:
        top = parse_csynth(cs[0])
        modules = parse_csynth_instances(cs[1]) if cs[1] else []
        found["csynth"] = replace(top, layers=tuple(modules) or top.layers)
    # hls4ml's vivado_synth.tcl writes it into the project folder; published projects nest it deeper
    vs = project_dir / "vivado_synth.rpt"
    if not vs.is_file():
        vs = min((p for p in project_dir.rglob("vivado_synth.rpt") if p.is_file()), key=lambda p: len(p.parts), default=vs)
    if vs.is_file():
        found["vsynth"] = parse_vivado_synth(vs)
    return found
