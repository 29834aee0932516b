"""HLS tool directives a project was (or will be) built with that change what the cost model prices.

Only read, never run: the project's own Tcl scripts are scanned as text, and a csynth report's
``UserConfigCommands`` (the directives the tool actually applied) are read from its XML.

Today one directive matters to the estimate: ``config_op mul -impl dsp|fabric``. It binds every
multiplication to DSP slices, or to LUT fabric, instead of the tool's own choice (corpus:
ArgyKokk's ``*_DSP_*`` designs put 8-bit x 8-bit products on DSPs, which the tool leaves in LUTs
without it; the ``*_LUT_*`` designs use no DSP at all).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

MUL_IMPLS = ("dsp", "fabric")
# config_op mul [-precision ...] -impl dsp|fabric  (a comment or another op does not count)
_TCL_MUL_IMPL = re.compile(r"^\s*config_op\s+mul\b[^#\n]*?-impl\s+(\w+)", re.M)
_TCL_SCRIPTS = ("build_prj.tcl", "project.tcl", "build_opt.tcl", "directives.tcl")


@dataclass(frozen=True)
class Directives:
    """What the project's scripts or its report say the tool was told."""

    mul_impl: Optional[str] = None  # "dsp" | "fabric" | None (the tool decides)
    source: Optional[str] = None  # where it was read, for the estimate's note

    def note(self) -> Optional[str]:
        if not self.mul_impl:
            return None
        where = "in DSP slices" if self.mul_impl == "dsp" else "in LUTs (no DSP)"
        return f"config_op mul -impl {self.mul_impl} ({self.source}): every multiplication priced {where}"


def _from_tcl(project_dir: Path) -> Optional[Directives]:
    for name in _TCL_SCRIPTS:
        path = project_dir / name
        try:
            text = path.read_text(errors="replace") if path.is_file() else ""
        except OSError:
            continue
        impls = [m.lower() for m in _TCL_MUL_IMPL.findall(text) if m.lower() in MUL_IMPLS]
        if impls:
            return Directives(impls[-1], name)  # the last one the tool reads wins
    return None


def _from_report(project_dir: Path, found) -> Optional[Directives]:
    if found is None:
        from hcp_fpga.estimator.reports import ReportError, find_csynth

        try:
            found = find_csynth(project_dir)
        except (ReportError, OSError):
            return None
    if not found:
        return None
    # the solution-level csynth.xml records the user's config commands; the top module's may too
    for xml in (found[0].parent / "csynth.xml", found[0]):
        if xml.suffix.lower() != ".xml" or not xml.is_file():
            continue
        try:
            root = ET.parse(xml).getroot()
        except (ET.ParseError, OSError):
            continue
        impls = [e.get("impl", "").lower() for e in root.iterfind(".//UserConfigCommands/config_op/ENTRY")
                 if e.get("op", "").lower() == "mul" and e.get("impl", "").lower() in MUL_IMPLS]
        if impls:
            try:
                where = str(xml.relative_to(project_dir))
            except ValueError:
                where = xml.name
            return Directives(impls[-1], f"{where} UserConfigCommands")
    return None


def read_directives(project_dir: Path | str, csynth=None) -> Directives:
    """The directives of an hls4ml project folder: its Tcl scripts first (what the next build will
    use), else what its csynth report says the last build used; none found: ``Directives()``.
    ``csynth``: the project's report paths when the caller has found them already."""
    project_dir = Path(project_dir)
    return _from_tcl(project_dir) or _from_report(project_dir, csynth) or Directives()
