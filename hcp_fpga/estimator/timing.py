"""How many clock cycles and pipeline registers an io_parallel Latency design needs, from the clock
period and the part (family, speed grade): a model of what the HLS scheduler does.

hls4ml's Latency top function is one pipelined region: every layer is inlined and the scheduler
chains operations (multiplications, the levels of each adder tree, activations) until the next one
would exceed the delay budget, then cuts a register stage there. The budget is the clock period
minus the scheduler's clock uncertainty (Vivado HLS 12.5 %, Vitis HLS 27 % of the period:
../shared/reference/fpga-timing-facts.md). So:

- latency = number of cuts along the chain of operator delays (+ the longest sequence of products
  sharing a multiplier at RF > 1, + the fixed cycles of table reads);
- pipeline FF = the bits alive at every cut: products (only those in LUTs; a DSP registers
  inside), partial sums of each adder-tree level, layer outputs.

A fast clock on a slow part therefore costs many cycles and registers; a slow clock collapses the
network into one or zero cycles (alex_model: 25 ns, Vitis, latency 1, 931 FF).

Operator delays: DSP multiply from the sourced primitive data (7-series: prjxray A->P 3.84 ns at
speed -1; UltraScale+: 1/FMAX_MULT_NOMREG of DS923/DS925), scaled by speed grade with the
DSP48E2 Fmax ratios (derived, not published for 7-series). Adder levels and the routing between
operators have no published HLS numbers: ``ADD_LEVEL_NS`` is fitted (docs/estimator.md says how).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

# Vivado HLS / Vitis HLS default clock uncertainty (fraction of the period)
UNCERTAINTY = {"Vivado": 0.125, "Vitis": 0.27}

# The fastest global clock buffer in the timing facts: BUFG Fmax 891 MHz (UltraScale+ -3 at 0.90 V,
# DS922/DS925). A shorter period than 1/891 MHz cannot be clocked on these parts.
FASTEST_CLOCK_NS = 1000.0 / 891.0

# DSP48E2 FMAX_MULT_NOMREG (MHz), DS923/DS925, by speed grade: combinational multiply delay = 1/Fmax
_US_PLUS_MULT_MHZ = {3: 635.0, 2: 544.0, 1: 456.0}
# DSP48E1 7-series speed -1: A->P multiply, unregistered (prjxray DSP_L.sdf, slow max)
_SERIES7_MULT_NS = 3.841

# Chosen on the Latency io_parallel designs of triples/ + corpus/ (benchmarks/fit_timing.py, grid
# search, not held out): delay of one adder-tree level incl. routing, ns, per family at speed grade
# -1 (scaled like the DSP); best of the grid (the least sum of the two): cycles SMAPE 19.5 %, FF
# 14.5 % on 15 designs, the two HGQ ones left out (their adders are not what the model counts; with
# them, 17 designs: 20.0 / 18.6 %, the same pick). Registers are measured against the schedule on
# the reference part the constants were fitted on (model.REFERENCE_PART). A shift-and-add constant
# multiplication counts one such level per doubling of its CSD digits.
ADD_LEVEL_NS = {"7series": 2.5, "usplus": 0.75}
# activation after a layer (ReLU compare + mux, or a cast): one LUT level (set, not fitted)
ACT_LEVEL_NS = {"7series": 0.6, "usplus": 0.35}


@dataclass(frozen=True)
class PartTiming:
    family: str  # "7series" | "usplus" (UltraScale/UltraScale+/Versal priced as usplus)
    speed: int  # 1, 2, 3 (the -L low-power grades as their number)

    def _scale(self) -> float:
        # speed-grade scaling from the DSP48E2 Fmax ratios (456 : 544 : 635 MHz)
        return _US_PLUS_MULT_MHZ[1] / _US_PLUS_MULT_MHZ.get(self.speed, _US_PLUS_MULT_MHZ[1])

    @property
    def mult_ns(self) -> float:
        if self.family == "7series":
            return _SERIES7_MULT_NS * self._scale()
        return 1000.0 / _US_PLUS_MULT_MHZ.get(self.speed, _US_PLUS_MULT_MHZ[1])

    @property
    def add_ns(self) -> float:
        return ADD_LEVEL_NS[self.family] * self._scale()

    @property
    def act_ns(self) -> float:
        return ACT_LEVEL_NS[self.family] * self._scale()


# the speed grade: the last '-<digit><letters>' field, after which only letter fields (temperature,
# Versal's '-e-S') follow: xc7z020clg400-1, xcu250-figd2104-2L-e, xcvc1902-vsva2197-2MP-e-S
_SPEED_GRADE = re.compile(r"-(\d)[a-z]*(?:-[a-z]+)*$")


def part_timing(part: str | None) -> PartTiming:
    """Family and speed grade of an AMD part string (xc7z020clg400-1, xcu250-figd2104-2L-e, ...)."""
    p = (part or "").lower().strip()
    family = "7series" if p.startswith(("xc7", "xa7", "xq7")) else "usplus"
    m = _SPEED_GRADE.search(p)
    speed = int(m.group(1)) if m else 1
    return PartTiming(family, speed if speed in (1, 2, 3) else 1)


def part_timing_note(part: str | None) -> str | None:
    """What ``part_timing`` assumed for ``part``, where the timing facts do not cover it: a family
    other than 7-series and UltraScale+ (priced with UltraScale+ delays), or no speed grade in the
    part string (-1 taken). None when it read both from the part."""
    from hcp_fpga.estimator.calibration import part_family

    if not part:
        return None
    family = part_family(part)
    said = []
    if family not in ("7-series", "UltraScale+"):
        said.append(f"its family ({family or 'not recognised'}) has no delays in the timing facts, so UltraScale+ "
                    "delays are used")
    if not _SPEED_GRADE.search(part.lower().strip()):
        said.append("it names no speed grade, so -1 (the slowest) is used")
    return f"part {part}: {'; '.join(said)} (an assumption: FF and latency may be off)" if said else None


def budget_ns(clock_ns: float, backend: str, uncertainty: float | None = None) -> float:
    """What the scheduler may fill per cycle: the period minus its clock uncertainty."""
    u = UNCERTAINTY.get(backend, UNCERTAINTY["Vivado"]) if uncertainty is None else uncertainty
    return max(clock_ns * (1.0 - u), 1e-3)


@dataclass(frozen=True)
class Level:
    """One step of the operator chain: its delay and the bits alive after it (what a register
    placed right after it would hold; 0 when registered inside a DSP)."""

    delay_ns: float
    bits: float
    dsp_internal: bool = False
    # operators of different depth side by side in one step (constant products of 1, 2, 3 CSD
    # digits): (delay, bits) each; a split inside the step registers only those longer than a cycle
    parts: tuple = ()

    def split_bits(self, budget: float, splits: int) -> float:
        """Register bits at ``splits`` splits inside this step at ``budget``."""
        if not self.parts:
            return 0.0 if self.dsp_internal else min(max(math.ceil(self.delay_ns / budget) - 1, 0), splits) * self.bits
        return sum(min(max(math.ceil(d / budget) - 1, 0), splits) * b for d, b in self.parts)


def _greedy(levels: list[Level], budget: float) -> tuple[int, float]:
    """ASAP chaining: a cut before the level that would overflow the budget, holding the bits alive
    there; a level longer than the budget split over ceil(delay / budget) cycles, its bits registered
    at each split (inside the DSP for a DSP multiply: its own A/B/M/P registers)."""
    cycles, bits, used, prev_bits = 0, 0.0, 0.0, 0.0
    for lv in levels:
        if lv.delay_ns > budget:
            if used > 0:
                cycles, bits = cycles + 1, bits + prev_bits
            inner = math.ceil(lv.delay_ns / budget) - 1
            cycles += inner
            bits += lv.split_bits(budget, inner)
            used = lv.delay_ns - inner * budget
        elif used + lv.delay_ns > budget:
            cycles, bits, used = cycles + 1, bits + prev_bits, lv.delay_ns
        else:
            used += lv.delay_ns
        prev_bits = lv.bits
    return cycles, bits


# the budgets (ns) the register envelope is taken over: a fixed ladder, so it is the same for every call
_LADDER = tuple(0.05 * 1.06**k for k in range(160))  # 0.05 ns .. ~550 ns


def schedule(levels: list[Level], *budgets: float) -> list[tuple[int, float]]:
    """(cycles, register bits) of a chain at each budget, scheduled as the HLS scheduler chains
    operations (``_greedy``).

    Where exactly a cut falls shifts with the budget: greedy chaining may place it at a wide point
    (all partial sums of an adder level) where a slightly faster schedule finds a narrow one (a
    layer's outputs), and the tool, with slack, does too. The registers are therefore the lower
    envelope of the greedy schedules over a fixed ladder of budgets up to this one: the narrowest
    placement a schedule at least this fast achieves. By construction a faster clock never needs
    fewer registers than a slower one, and cycles of greedy chaining never fall as the budget shrinks.
    Several budgets share one pass over the ladder."""
    return list(_schedule(tuple(levels), tuple(budgets)))


@functools.lru_cache(maxsize=8192)
def _schedule(levels: tuple, budgets: tuple) -> tuple:
    # cached: an optimize run estimates the same layers at the same clock many times
    greedy = [_greedy(levels, budget) for budget in budgets]
    cut = [b for b, (cycles, _) in zip(budgets, greedy) if cycles > 0]
    # the ladder only where some budget needs a cut (a chain that fits one cycle has no registers)
    ladder = [(g, _greedy(levels, g)[1]) for g in _LADDER if g <= max(cut)] if cut else []
    return tuple((0, 0.0) if cycles == 0 else (cycles, min((b for g, b in ladder if g <= budget), default=bits))
                 for budget, (cycles, bits) in zip(budgets, greedy))
