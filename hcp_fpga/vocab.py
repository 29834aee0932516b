"""One vocabulary for the whole package: resources, strategies, backends, io types (``StrEnum``s,
so a member is its hls4ml spelling: ``Strategy.RESOURCE == "Resource"``, also in f-strings), and the headroom
default that estimate and optimize share. Modules import these; none spells its own list."""

from __future__ import annotations

from enum import StrEnum


class Resource(StrEnum):
    DSP = "dsp"
    BRAM18 = "bram18"
    URAM = "uram"
    LUT = "lut"
    FF = "ff"

    @property
    def label(self) -> str:
        return self.name


class Strategy(StrEnum):
    LATENCY = "Latency"
    RESOURCE = "Resource"
    RESOURCE_UNROLLED = "ResourceUnrolled"


class Backend(StrEnum):
    VIVADO = "Vivado"
    VITIS = "Vitis"


class IOType(StrEnum):
    PARALLEL = "io_parallel"
    STREAM = "io_stream"


class SynthStep(StrEnum):
    """How far a vendor build goes: C synthesis only, or also Vivado logic synthesis."""

    CSYNTH = "csynth"
    VSYNTH = "vsynth"


#: every resource a board has and an estimate gives, in table order
RESOURCES: tuple[str, ...] = tuple(r.value for r in Resource)
#: the resources the optimize loop budgets (URAM is never used by the designs it builds: 0)
BUDGETED: tuple[str, ...] = ("dsp", "bram18", "lut", "ff")
STRATEGIES: tuple[str, ...] = tuple(s.value for s in Strategy)
BACKENDS: tuple[str, ...] = tuple(b.value for b in Backend)
IO_TYPES: tuple[str, ...] = tuple(t.value for t in IOType)
#: strategies under which hls4ml validates (and would silently change) the reuse factor
RF_CHECKED_STRATEGIES: tuple[str, ...] = (Strategy.RESOURCE.value, Strategy.RESOURCE_UNROLLED.value)

#: fraction of every resource kept free when judging "fits" (estimate and optimize)
DEFAULT_HEADROOM = 0.2

# A device (part) name as the vendors spell them, any vendor: it reaches hls4ml's Tcl scripts, file
# names and our output, so plain tokens only (xcu250-figd2104-2L-e, xc7z020clg400-1, Agilex7)
DEVICE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def resource_label(resource: str) -> str:
    """``bram18`` -> ``BRAM18``: how tables and reports name a resource."""
    return Resource(resource).label
