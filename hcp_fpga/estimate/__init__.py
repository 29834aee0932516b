"""Resource and latency estimation: the ``Estimate`` shape, hls4ml's reuse-factor rule and parsers
for real vendor reports. The analytical cost model (issue #3) builds on these."""

from hcp_fpga.estimate.reports import parse_baseline_json, parse_csynth_xml, parse_vivado_synth, project_reports
from hcp_fpga.estimate.reuse import closest_valid, is_valid_reuse_factor, valid_reuse_factors
from hcp_fpga.estimate.types import RESOURCES, Estimate, LayerEstimate, Verdict

__all__ = [
    "Estimate", "LayerEstimate", "Verdict", "RESOURCES", "closest_valid", "is_valid_reuse_factor",
    "valid_reuse_factors", "parse_baseline_json", "parse_csynth_xml", "parse_vivado_synth", "project_reports",
]
