"""Fixed-point type strings (hls4ml/HLS spelling) as numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

_FIXED = re.compile(r"^(?:ap_)?(u?)(fixed|int)<\s*(\d+)\s*(?:,\s*(-?\d+))?[^>]*>$")


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

    def mantissas(self, values: np.ndarray) -> np.ndarray:
        """Integer mantissas of ``values`` in this type (truncation, as ap_fixed's default AP_TRN)."""
        m = np.floor(np.asarray(values, dtype=np.float64) * 2.0**self.frac)
        lo = -(2 ** (self.width - 1)) if self.signed else 0
        hi = 2 ** (self.width - 1) - 1 if self.signed else 2**self.width - 1
        return np.clip(m, lo, hi).astype(np.int64)


def parse_fixed(text: str) -> Fixed:
    """``ap_fixed<16,6>``, ``fixed<6,1,RND,SAT>``, ``ap_ufixed<6,0>``, ``ap_int<8>`` -> Fixed."""
    m = _FIXED.match(text.replace(" ", ""))
    if not m:
        raise ValueError(f"not a fixed-point type: {text!r}")
    unsigned, kind, width, integer = m.groups()
    width = int(width)
    modes = text.upper().split(">")[0].split(",")[2:]
    saturating = any("RND" in mode or "SAT" in mode for mode in modes)
    return Fixed(width, width if kind == "int" else int(integer if integer is not None else width), signed=not unsigned,
                 saturating=saturating)


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
