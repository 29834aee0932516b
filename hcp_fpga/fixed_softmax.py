"""hls4ml 1.3's 'stable' softmax (``nnet_activation.h``: ``softmax_stable``) in fixed point, emulated
with integers, so the search can judge a softmax table size on the validation split without a C
simulation. What matters for a classifier is the argmax and its ties: the table maps every logit
within one table step of the largest to the same entry, and ``np.argmax`` (like our C-simulation
accuracy) then takes the first class of the tie.

The chain, as the HLS code runs it (types as hls4ml's templates set them):
1. the logits arrive in the softmax's input type ``data_T`` (the layer before saturates into it);
2. ``d = x_max - x`` in ``inp_norm_t``: hls4ml's ``ap_ufixed<W-1, I-1>`` (wraps beyond its range),
   or the saturating one our export sets (``export_norm_type``);
3. the exp table (sizes: ``estimator.spec.softmax_table_sizes``) is indexed by d's top bits and
   holds ``exp(-d_top)`` in ``exp_table_t`` (``ap_fixed<18,8,AP_RND,AP_SAT>``);
4. the sum in ``inv_inp_t`` (= ``exp_table_t``) indexes the inverse table by its top bits;
5. ``res = exp * inv`` truncated into the softmax's result type.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from hcp_fpga.estimator.precision import Fixed, parse_fixed
from hcp_fpga.estimator.spec import softmax_table_sizes

TABLE_TYPE = "ap_fixed<18,8,AP_RND,AP_SAT>"  # hls4ml's exp_table_t and inv_table_t default
# the range our export reads (max - x) over: e^-8 = 0.00034 is below the last bit of the exp table
# type (2^-10), so a larger difference reads the same 0
NORM_INTEGER_BITS = 3


def export_norm_type(data: Fixed, table_size: int) -> Optional[Fixed]:
    """The type our export gives a stable softmax's (max - x) (hls4ml's ``inp_norm_t``) for an input
    of type ``data``, or None where it keeps hls4ml's ap_ufixed<W-1, I-1>. hls4ml reads the exp table
    at the top bits of that difference: after a wide input the index is coarse, and a difference
    beyond the range wraps. Measured by C simulation (a Dense -> BN -> sigmoid -> Dense(5, softmax)
    model, 400 normal inputs, table 4,096, one run each), argmax agreement with Keras: input
    ap_fixed<16,6> 0.98 -> 1.0, <24,10> 0.80 -> 0.99, <32,12> 0.19 -> 0.995. Saturating over
    [0, 8) at the input's fraction bits, at least the table index wide. None for an input too narrow
    for the table (hls4ml then cuts the exp table to it: kept as built)."""
    exp_size, size = softmax_table_sizes(data, table_size)
    if exp_size != size:
        return None
    index_bits = max(size - 1, 1).bit_length()
    return Fixed(max(NORM_INTEGER_BITS + data.width - data.integer, index_bits), NORM_INTEGER_BITS, False, saturating=True)


def _cast(x: np.ndarray, t: Fixed, rounding: bool = False, saturating: Optional[bool] = None) -> np.ndarray:
    """Integer mantissas (in units of ``t``'s LSB) of ``x`` cast to ``t``: AP_TRN or AP_RND (half up),
    AP_WRAP or AP_SAT (``saturating`` defaults to the type's own mode)."""
    sat = t.saturating if saturating is None else saturating
    scaled = np.asarray(x, dtype=np.float64) * 2.0 ** t.frac
    m = np.floor(scaled + 0.5) if rounding else np.floor(scaled)
    lo, hi = (-(2 ** (t.width - 1)), 2 ** (t.width - 1) - 1) if t.signed else (0, 2 ** t.width - 1)
    if sat:
        return np.clip(m, lo, hi).astype(np.int64)
    span = 2 ** t.width
    return ((m.astype(np.int64) - lo) % span + lo).astype(np.int64)


@dataclass(frozen=True)
class SoftmaxTypes:
    """The types of one hls4ml stable softmax."""

    data: Fixed  # its input (the previous layer's result)
    result: Fixed
    table_size: int = 1024
    exp_table: Fixed = parse_fixed(TABLE_TYPE)
    inv_table: Fixed = parse_fixed(TABLE_TYPE)
    inp_norm: Optional[Fixed] = None  # (max - x)'s type where set; None: hls4ml's ap_ufixed<W-1, I-1>

    @property
    def sizes(self) -> tuple[int, int]:
        return softmax_table_sizes(self.data, self.table_size, self.inv_table.width)


def _top_bits(raw: np.ndarray, width: int, n: int) -> np.ndarray:
    """The top ``n`` of ``width`` bits of non-negative mantissas (hls4ml's ``softmax_idx_from_real_val``)."""
    return (raw >> max(width - n, 0)) & ((1 << n) - 1) if n <= width else raw << (n - width)


def stable_softmax(logits: np.ndarray, t: SoftmaxTypes) -> np.ndarray:
    """The softmax outputs hls4ml's stable implementation computes (as floats of the result type),
    one row per sample."""
    x = _cast(logits, t.data, rounding=t.data.saturating)  # the layer before rounds and saturates into it
    diff = x.max(axis=1, keepdims=True) - x  # exact, in data_T's LSB
    if t.inp_norm is None:  # inp_norm_t = ap_ufixed<W-1, I-1> (same LSB as data_T): wrapping past its range
        norm_width, norm_frac = t.data.width - int(t.data.signed), t.data.frac
        d = diff % (1 << norm_width)
    else:  # its own type, truncating to its LSB and saturating at its top
        norm_width, norm_frac = t.inp_norm.width, t.inp_norm.frac
        d = _cast(diff * 2.0 ** -t.data.frac, t.inp_norm)
    exp_size, inv_size = t.sizes
    n_exp = math.ceil(math.log2(exp_size)) if exp_size > 1 else 0
    idx = _top_bits(d, norm_width, n_exp)
    d_top = (idx << max(norm_width - n_exp, 0)) * 2.0 ** -norm_frac  # the table entry's input value
    exp_res = _cast(np.exp(-d_top), t.exp_table, rounding=True, saturating=True)  # mantissas, exp_table LSB
    # the sum (accum_t holds it exactly), then cast to inv_inp_t = exp_table_t: same LSB, saturating
    e = t.exp_table
    total = np.clip(exp_res.sum(axis=1, keepdims=True), -(2 ** (e.width - 1)), 2 ** (e.width - 1) - 1)
    n_inv = math.ceil(math.log2(inv_size)) if inv_size > 1 else 0
    inv_idx = _top_bits(total & ((1 << e.width) - 1), e.width, n_inv)
    inv_in = (inv_idx << max(e.width - n_inv, 0)).astype(np.int64)
    inv_in = np.where(inv_in >= 2 ** (e.width - 1), inv_in - 2 ** e.width, inv_in) * 2.0 ** -e.frac  # signed value
    with np.errstate(divide="ignore"):
        inv = _cast(np.where(inv_in == 0, np.inf, 1.0 / np.where(inv_in == 0, 1.0, inv_in)), t.inv_table,
                    rounding=True, saturating=True)
    product = exp_res * 2.0 ** -e.frac * (inv * 2.0 ** -t.inv_table.frac)
    return _cast(product, t.result, rounding=t.result.saturating) * 2.0 ** -t.result.frac


def softmax_types(specs, settings) -> Optional[SoftmaxTypes]:
    """The types of the design's softmax when it is the design's last layer (a classifier's output)
    and hls4ml's stable one; None otherwise (no softmax, not the output, another implementation)."""
    if not specs or specs[-1].kind != "softmax" or specs[-1].softmax_impl != "stable":
        return None  # (another implementation: its numbers are not this emulation's; Keras' argmax stands in)
    sm = specs[-1]
    named = settings.layer_types.get(sm.name, {})
    exp_t = parse_fixed(named.get("exp_table", TABLE_TYPE))
    inv_t = parse_fixed(named.get("inv_table", TABLE_TYPE))
    given = (settings.layer_options.get(sm.name) or {}).get("inp_norm_t")  # a config's, else the export's
    norm = parse_fixed(given) if given else export_norm_type(sm.input, int(sm.table_size))
    return SoftmaxTypes(sm.input, sm.result, int(sm.table_size), exp_t, inv_t, norm)


def output_softmax(model) -> Optional[str]:
    """How the model's output is a softmax: 'layer' (a Softmax, or an Activation('softmax')),
    'fused' (a Dense/Conv with ``activation='softmax'``), None when it is not."""
    if not model.layers:
        return None
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    if type(last).__name__ == "Softmax" or (type(last).__name__ == "Activation" and activation == "softmax"):
        return "layer"
    return "fused" if activation == "softmax" else None


def softmax_logits(model, x: np.ndarray, batch_size: int = 512) -> Optional[np.ndarray]:
    """The model's inputs to its output softmax; None when the output is not a softmax."""
    import tensorflow as tf

    from hcp_fpga.quantize import _linear_twin

    kind = output_softmax(model)
    if kind is None:
        return None
    last = model.layers[-1]
    if kind == "layer":
        probe = tf.keras.Model(model.inputs, last.input)
        return np.concatenate([np.asarray(probe(x[i:i + batch_size], training=False))
                               for i in range(0, len(x), batch_size)]).reshape(len(x), -1)
    twin = _linear_twin(last)
    probe = tf.keras.Model(model.inputs, last.input)
    return np.concatenate([np.asarray(twin(probe(x[i:i + batch_size], training=False), training=False))
                           for i in range(0, len(x), batch_size)]).reshape(len(x), -1)


def hardware_accuracy(model, specs, settings, x: np.ndarray, y: np.ndarray) -> Optional[float]:
    """Top-1 accuracy with the design's output softmax as hls4ml computes it (the model in Keras up
    to the softmax's input); None when the design does not end in a softmax."""
    types = softmax_types(specs, settings)
    if types is None or len(x) == 0:
        return None
    logits = softmax_logits(model, x)
    if logits is None or logits.shape[1] != specs[-1].out_size:
        return None
    return float(np.mean(np.argmax(stable_softmax(logits, types), axis=1) == y))
