"""What "better" means once a design fits (project.yaml ``search.objective``); lower is better.

- ``utilization`` (default): the largest fraction of the board any resource takes, so a design
  that leaves room on every resource wins;
- ``lut_dsp``: LUT + 55 x DSP (a DSP48 is worth about 55 LUT of multiplier logic);
- ``ebops``: effective bit operations (estimator/ebops.py), the EBOPs peers' measure;
- ``latency``: cycles;
- ``weighted``: sum of ``weights[term] x term`` over the four above (raw values; choose the scales).
"""

from __future__ import annotations

from typing import Mapping, Optional

from hcp_fpga.vocab import BUDGETED

OBJECTIVES = ("utilization", "lut_dsp", "ebops", "latency", "weighted")
DSP_IN_LUT = 55


def terms(resources: Mapping[str, float], board, ebops: float, latency_cycles: int) -> dict[str, float]:
    shares = [resources[r] / getattr(board, r) for r in BUDGETED if getattr(board, r)]
    return {"utilization": max(shares) if shares else 0.0, "lut_dsp": resources["lut"] + DSP_IN_LUT * resources["dsp"],
            "ebops": float(ebops), "latency": float(latency_cycles)}


def objective_value(name: str, resources: Mapping[str, float], board, ebops: float, latency_cycles: int,
                    weights: Optional[Mapping[str, float]] = None) -> float:
    t = terms(resources, board, ebops, latency_cycles)
    if name == "weighted":
        return float(sum(w * t[k] for k, w in (weights or {}).items()))
    return t[name]
