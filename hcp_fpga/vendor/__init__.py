"""The vendor tools, where they exist: find Vivado/Vitis HLS (``tools``), run an hls4ml project's
build and read its reports (``synthesis``). Nothing here estimates and nothing is faked: without a
tool, one line says what was looked for. docs/synthesis.md."""

from hcp_fpga.vendor.synthesis import SynthFailed, SynthOutcome, SynthResult, run_synth, stored_result, synth_projects
from hcp_fpga.vendor.tools import HlsProject, HlsTool, ToolNotFound, find_tool, read_project

__all__ = ["SynthFailed", "SynthOutcome", "SynthResult", "run_synth", "stored_result", "synth_projects",
           "HlsProject", "HlsTool", "ToolNotFound", "find_tool", "read_project"]
