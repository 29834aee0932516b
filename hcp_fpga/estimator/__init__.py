"""Resource and latency estimation of hls4ml designs.

- ``estimate_design(design)`` / ``estimate_project(dir)``: the analytical estimate (model.py, constants
  per backend in backends.py, layer facts in spec.py); every number it gives is an estimate.
- ``project_reports(dir)``: real HLS (csynth) and logic-synthesis reports as the same ``Estimate`` shape.
- ``compare(estimate, reports)``: the two side by side, per layer where the report has modules.
- hls4ml's reuse-factor rule in plain Python (reuse.py).
"""

from hcp_fpga.estimator.compare import compare
from hcp_fpga.estimator.model import estimate_design, estimate_project, estimate_specs
from hcp_fpga.estimator.reports import parse_baseline_json, parse_csynth_xml, parse_vivado_synth, project_reports
from hcp_fpga.estimator.reuse import closest_valid, is_valid_reuse_factor, valid_reuse_factors
from hcp_fpga.estimator.types import RESOURCES, Estimate, LayerEstimate, Verdict

__all__ = [
    "Estimate", "LayerEstimate", "Verdict", "RESOURCES", "closest_valid", "is_valid_reuse_factor", "compare",
    "estimate_design", "estimate_project", "estimate_specs",
    "valid_reuse_factors", "parse_baseline_json", "parse_csynth_xml", "parse_vivado_synth", "project_reports",
]
