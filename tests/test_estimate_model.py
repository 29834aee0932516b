"""The analytical estimate (work in progress) against real Latency-strategy reports, and its
monotonicity properties."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hcp_fpga.estimate.backends import VIVADO
from hcp_fpga.estimate.model import bram18_for, estimate_layer, estimate_project
from hcp_fpga.estimate.precision import Fixed
from hcp_fpga.estimate.reports import project_reports
from hcp_fpga.estimate.spec import LayerSpec
from hcp_fpga.models import load_model
from tests.conftest import SHARED, peer

TRIPLES = SHARED / "reports" / "triples"


@pytest.mark.parametrize("name", [
    "jet-dense-16bit-rf1-xcu250-vhls2019", "jet-dense-pruned75-16bit-xcu250-vhls2019", "jet-keras3layer-vu9p-vhls2019",
])
def test_jet_dense_triples_within_15_percent_on_dsp_and_lut(name):
    model = load_model(*peer("KERAS_3layer")) if "keras3layer" in name else None
    est = estimate_project(TRIPLES / name, model)
    real = project_reports(TRIPLES / name)["csynth"]
    assert est.source == "estimate"
    for r in ("dsp", "lut"):
        assert abs(getattr(est, r) - getattr(real, r)) <= 0.15 * getattr(real, r), (r, getattr(est, r), getattr(real, r))
    assert est.bram18 == real.bram18  # the two softmax tables, duplicated for 5 parallel reads


def test_pruning_moves_dsp_like_the_reports():
    dense = estimate_project(TRIPLES / "jet-dense-16bit-rf1-xcu250-vhls2019")
    pruned = estimate_project(TRIPLES / "jet-dense-pruned75-16bit-xcu250-vhls2019")
    # real: 1,450 -> 803; the estimate must fall by a similar factor, not by the nonzero count (4x)
    assert 0.5 < pruned.dsp / dense.dsp < 0.6


def _dense_spec(mant, strategy="Latency", rf=1, wbits=16, abits=16):
    n_in, n_out = mant.shape
    return LayerSpec("d", "dense", n_in, n_out, 1, out_size=n_out, channels=n_out, mantissas=mant,
                     weight=Fixed(wbits, 6), input=Fixed(abits, 6), result=Fixed(16, 6), strategy=strategy, reuse_factor=rf)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 24), st.integers(1, 16), st.integers(0, 2**31 - 1), st.floats(0.0, 1.0))
def test_more_zeros_never_cost_more(n_in, n_out, seed, frac):
    rng = np.random.default_rng(seed)
    mant = rng.integers(-2000, 2000, size=(n_in, n_out))
    pruned = np.where(rng.random(mant.shape) < frac, 0, mant)
    full, less = estimate_layer(_dense_spec(mant), VIVADO), estimate_layer(_dense_spec(pruned), VIVADO)
    assert less.dsp <= full.dsp and less.lut <= full.lut + 1e-9
    for e in (full, less):
        assert min(e.dsp, e.lut, e.ff, e.bram18) >= 0


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 40), st.integers(1, 40), st.integers(1, 64), st.integers(1, 64))
def test_resource_dsp_never_increases_with_reuse(n_in, n_out, rf_a, rf_b):
    mant = np.ones((n_in, n_out), dtype=np.int64) * 11
    lo, hi = sorted((rf_a, rf_b))
    a = estimate_layer(_dense_spec(mant, "Resource", lo), VIVADO)
    b = estimate_layer(_dense_spec(mant, "Resource", hi), VIVADO)
    assert b.dsp <= a.dsp


def test_unrolled_pattern_pruning_drops_dsp_by_the_patterns_removed():
    rng = np.random.default_rng(0)
    n_in, n_out, rf = 16, 8, 8
    mant = rng.integers(1, 2000, size=(n_in, n_out))
    base = estimate_layer(_dense_spec(mant, "ResourceUnrolled", rf), VIVADO)
    assert base.dsp == n_in * n_out // rf  # 16 multipliers
    slots = mant.T.reshape(-1).reshape(n_in * n_out // rf, rf).copy()  # hls4ml's (block, RF) layout
    slots[[1, 5, 9]] = 0  # remove three whole patterns
    pruned = slots.reshape(-1).reshape(n_out, n_in).T
    assert estimate_layer(_dense_spec(pruned, "ResourceUnrolled", rf), VIVADO).dsp == base.dsp - 3
    assert estimate_layer(_dense_spec(pruned, "Resource", rf), VIVADO).dsp == base.dsp  # plain Resource keeps them


def test_bram_ladder():
    assert bram18_for(1024, 18) == 1 and bram18_for(1024, 24) == 2 and bram18_for(512, 36) == 1
    assert bram18_for(4096, 18) == 4 and bram18_for(16, 16) == 0  # tiny memories are not block RAM


def test_table_sizes_softmax_takes_the_setting_sigmoid_keeps_hls4ml_default():
    import tensorflow as tf

    from hcp_fpga.design import HlsSettings
    from hcp_fpga.estimate.spec import layer_specs

    inp = tf.keras.Input((8,), name="x")
    h = tf.keras.layers.Dense(4, activation="sigmoid", name="fc")(inp)
    out = tf.keras.layers.Dense(3, activation="softmax", name="out")(h)
    specs = {s.name: s for s in layer_specs(tf.keras.Model(inp, out), HlsSettings(softmax_table_size=4096))}
    assert specs["out_softmax"].table_size == 4096
    assert specs["fc_sigmoid"].table_size == 1024  # only softmax tables are enlarged
