"""Fixed-point type strings (hls4ml/HLS spelling) as numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from typing import Optional

import numpy as np

_FIXED = re.compile(r"^(?:ap_)?(u?)(fixed|int)<(\d+)(?:,([-+]?\d+))?((?:,[A-Za-z_]+){0,2})(?:,(\d+))?>$")
# ap_fixed.h's limit on any width (AP_INT_MAX_W in the ap_types hls4ml ships)
MAX_WIDTH = 1024
QUANT_MODES = {"RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV", "TRN", "TRN_ZERO"}
OVERFLOW_MODES = {"SAT", "SAT_ZERO", "SAT_SYM", "WRAP", "WRAP_SM"}


@dataclass(frozen=True)
class Fixed:
    width: int
    integer: int
    signed: bool = True
    # rounds (AP_RND*) or saturates (AP_SAT*) instead of truncating and wrapping: costs logic on every
    # assignment, which matters for accumulators (hls4ml 1.0 projects used the model type for them)
    saturating: bool = False

    @property
    def frac(self) -> int:
        return self.width - self.integer

    # ap_fixed's quantization and overflow modes (AP_TRN and AP_WRAP unless the type names others;
    # an ap_int takes a double as C++ does, toward zero): how a constant is converted into the type.
    # Not part of the type's identity for the cost model
    quant: str = field(default="TRN", compare=False)
    overflow: str = field(default="WRAP", compare=False)

    def mantissas(self, values: np.ndarray, rounding: bool = False) -> np.ndarray:
        """Integer mantissas of ``values`` in this type as ap_fixed converts them: by its quantization
        mode (AP_TRN, the default, floors) and overflow mode (AP_WRAP, the default, wraps around);
        or, with ``rounding``, rounded to the nearest step and clipped to the range, as QKeras
        quantizers do before hls4ml writes their values."""
        if self.width > MAX_WEIGHT_WIDTH:
            raise ValueError(f"{self.spelling()} is {self.width} bits wide; constants are priced up to {MAX_WEIGHT_WIDTH} bits")
        scaled = np.asarray(values, dtype=np.float64) * 2.0**self.frac
        lo = -(2 ** (self.width - 1)) if self.signed else 0
        hi = 2 ** (self.width - 1) - 1 if self.signed else 2**self.width - 1
        if rounding:
            return np.clip(np.round(scaled), lo, hi).astype(np.int64)
        m = _QUANTIZE[self.quant](scaled)
        if self.overflow.startswith("WRAP"):  # two's complement wrap-around (WRAP_SM: taken as WRAP)
            span = 2.0**self.width
            m = np.mod(m - lo, span) + lo
        elif self.overflow == "SAT_ZERO":
            m = np.where((m < lo) | (m > hi), 0.0, m)
        elif self.overflow == "SAT_SYM" and self.signed:
            lo = -hi
        return np.clip(m, lo, hi).astype(np.int64)

    def spelling(self, quant: Optional[str] = None, overflow: Optional[str] = None) -> str:
        """The type as HLS writes it: without its modes, or with the ones given ('RND_CONV', 'SAT')."""
        modes = f",AP_{quant},AP_{overflow}" if quant and overflow else ""
        return f"ap_{'' if self.signed else 'u'}fixed<{self.width},{self.integer}{modes}>"


# ap_fixed's quantization modes on values already scaled to the type's last bit
_QUANTIZE = {
    "TRN": np.floor,
    "TRN_ZERO": np.trunc,
    "RND": lambda x: np.floor(x + 0.5),
    "RND_ZERO": lambda x: np.where(x >= 0, np.ceil(x - 0.5), np.floor(x + 0.5)),
    "RND_MIN_INF": lambda x: np.ceil(x - 0.5),
    "RND_INF": lambda x: np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5)),
    "RND_CONV": np.rint,
}
# the widest constant weight the cost model prices: its int64 mantissas (and their canonical signed
# digits, one bit above) must not overflow
MAX_WEIGHT_WIDTH = 63


def as_written(values: np.ndarray, wtype: Fixed) -> np.ndarray:
    """``values`` as hls4ml writes them into the weight headers: decimal text with as many digits
    after the point as ``wtype`` has fractional bits (none for integer types; hls4ml's
    ``WeightVariable.precision_fmt``), which ap_fixed then converts (``Fixed.mantissas``). For an
    integer type this rounds to the nearest (0.7 -> 1) where a direct conversion would floor; the
    firmware reader reads that text, so the model path goes through it too. Beyond 22 digits the
    text is exact enough not to matter (and 10**d no longer exact)."""
    digits = max(0, wtype.frac)
    values = np.asarray(values, dtype=np.float64)
    return np.round(values, digits) if digits <= 22 else values


def po2_fixed(values: np.ndarray) -> Fixed:
    """A fixed-point type holding each power-of-two value of ``values`` exactly (hls4ml's ExponentType
    weights, from QKeras quantized_po2: a sign and an exponent), from the largest power present down to
    the smallest, at most 60 powers below it (int64 mantissas; a weight 2^60 times smaller than the
    largest is taken as zero). Sized by the values, not by the exponent's declared bits: a default
    quantized_po2(8) may hold powers 2^-128..2^127, which no weight reaches."""
    magnitude = np.abs(np.asarray(values, dtype=np.float64))
    magnitude = magnitude[magnitude > 0]
    if not magnitude.size:
        return Fixed(2, 2, True)
    exponent = np.round(np.log2(magnitude)).astype(np.int64)
    high = int(exponent.max())
    low = max(int(exponent.min()), high - 60)
    return Fixed(high - low + 2, high + 2, True)


def po2_values(values: np.ndarray, config: dict) -> np.ndarray:
    """QKeras ``quantized_po2`` of ``values`` (its deterministic mode), what hls4ml stores: each
    value's sign (+ for 0) times 2 to its rounded log2 (floored with ``log2_rounding='floor'``), the
    exponent clipped to what ``bits`` (and ``max_value``) allow; values below 1e-7 take the smallest."""
    bits = int(config.get("bits", 8))
    max_value = config.get("max_value")
    effective = bits - 1 - (1 if max_value is None or float(max_value) > 1 else 0)
    low, high = -(2**effective), 2**effective - 1
    quadratic = bool(config.get("quadratic_approximation", False))
    if quadratic:
        high = 2 * (high // 2)
    x = np.asarray(values, dtype=np.float32)
    magnitude = np.maximum(np.abs(x), np.float32(1e-7))
    if max_value is not None:
        magnitude = np.minimum(magnitude, np.float32(max_value))
    if quadratic:
        magnitude = np.sqrt(magnitude)
    log2 = np.log(magnitude) / np.float32(np.log(2.0))
    exponent = np.floor(log2) if config.get("log2_rounding", "rnd") == "floor" else np.round(log2)
    exponent = (2.0 if quadratic else 1.0) * np.clip(exponent, low, high)
    exponent = np.where(np.abs(x) < 1e-7, low, exponent)
    powers = (np.where(x < 0, -1.0, 1.0) * np.exp2(exponent.astype(np.float64))).astype(np.float32)
    # as QKeras returns them, in float32: x + (q - x) with its straight-through estimator (a power far
    # below its input comes out 0), else (1 - noise) x + noise q (noise: qnoise_factor, 1 by default)
    noise = np.float32(config.get("qnoise_factor", 1.0) if config.get("qnoise_factor") is not None else 1.0)
    if config.get("use_ste", True):
        return (x + noise * (powers - x)).astype(np.float64)
    return ((np.float32(1.0) - noise) * x + noise * powers).astype(np.float64)


def parse_fixed(text: str) -> Fixed:
    """``ap_fixed<16,6>``, ``fixed<6,1,RND,SAT>``, ``ap_ufixed<6,0>``, ``ap_int<8>`` -> Fixed.

    The one parser of fixed-point types. Raises ValueError naming what is wrong: the spelling, a
    width outside 1..1,024 (ap_types' maximum), integer bits outside -1,024..1,024, an unknown
    rounding/overflow mode, or modes on an integer type."""
    if not isinstance(text, str):
        raise ValueError(f"not a fixed-point type: {text!r}")
    m = _FIXED.match(text.replace(" ", ""))
    if not m:
        raise ValueError(f"not a fixed-point type: {text!r}")
    unsigned, kind, width, integer, modes, sat_bits = m.groups()
    width = int(width)
    if not 1 <= width <= MAX_WIDTH:
        raise ValueError(f"width {width} of {text!r} is outside 1..{MAX_WIDTH}")
    if kind == "int" and (integer is not None or modes or sat_bits):
        raise ValueError(f"{text!r}: an integer type takes only a width, e.g. ap_int<8>")
    if integer is not None and not -MAX_WIDTH <= int(integer) <= MAX_WIDTH:
        raise ValueError(f"integer bits {integer} of {text!r} are outside -{MAX_WIDTH}..{MAX_WIDTH}")
    names = [mode.upper().removeprefix("AP_") for mode in modes.split(",")[1:]]
    if names and names[0] not in QUANT_MODES:
        raise ValueError(f"{text!r}: unknown rounding mode '{names[0]}' (use RND, RND_CONV, TRN, ...)")
    if len(names) > 1 and names[1] not in OVERFLOW_MODES:
        raise ValueError(f"{text!r}: unknown overflow mode '{names[1]}' (use SAT, SAT_SYM, WRAP, ...)")
    if sat_bits is not None and (len(names) < 2 or int(sat_bits) > width):
        raise ValueError(f"{text!r}: saturation bits need both modes and at most the width")
    saturating = any(n.startswith(("RND", "SAT")) for n in names)
    return Fixed(width, width if kind == "int" else int(integer if integer is not None else width), signed=not unsigned,
                 saturating=saturating, quant=names[0] if names else ("TRN_ZERO" if kind == "int" else "TRN"), overflow=names[1] if len(names) > 1 else "WRAP")


def csd_digits(mantissas: np.ndarray) -> np.ndarray:
    """Number of nonzero digits of each integer in canonical signed-digit form (vectorized)."""
    m = np.abs(np.asarray(mantissas, dtype=np.int64))
    count = np.zeros_like(m)
    while np.any(m):
        odd = (m & 1) == 1
        count += odd
        # a run of ones ...0111 becomes 100-1: subtract on 01, add on 11
        step = np.where((m & 3) == 3, 1, -1)
        m = np.where(odd, m + step, m) >> 1
    return count
