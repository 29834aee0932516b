"""hls4ml 1.3's valid-reuse-factor rule, in plain Python (no hls4ml import: it sits on the hot path).

Mirrors ``FPGABackend._validate_reuse_factor``; a property test checks it against the installed
hls4ml on random shapes.
"""

from __future__ import annotations

import math
from bisect import bisect_left


def is_valid_reuse_factor(n_in: int, n_out: int, rf: int) -> bool:
    multfactor = min(n_in, rf)
    multiplier_limit = int(math.ceil((n_in * n_out) / float(multfactor)))
    ok = (multiplier_limit % n_out == 0) or (rf >= n_in)
    ok = ok and ((rf % n_in == 0) or (rf < n_in))
    return ok and ((n_in * n_out) % rf == 0)


def valid_reuse_factors(n_in: int, n_out: int, unrolled: bool = False) -> list[int]:
    """Valid RFs in increasing order; the unrolled kernel excludes the largest."""
    n = n_in * n_out
    divisors = sorted({d for i in range(1, int(math.isqrt(n)) + 1) if n % i == 0 for d in (i, n // i)})
    valid = [rf for rf in divisors if is_valid_reuse_factor(n_in, n_out, rf)]
    return valid[:-1] if unrolled and len(valid) > 1 else valid


def closest_valid(n_in: int, n_out: int, rf: int, unrolled: bool = False) -> int:
    """The RF hls4ml would substitute for ``rf`` (the closest valid one, the smaller on a tie)."""
    return closest_of(valid_reuse_factors(n_in, n_out, unrolled), rf)


def closest_of(valid: list[int], rf: int) -> int:
    """The one of the increasing reuse factors ``valid`` closest to ``rf``, the smaller on a tie."""
    pos = bisect_left(valid, rf)
    if pos == 0:
        return valid[0]
    if pos == len(valid):
        return valid[-1]
    before, after = valid[pos - 1], valid[pos]
    return after if after - rf < rf - before else before
