"""Pruning: scores by hand, structures against hls4ml's layout, savings from the estimator, the three
phases on real training (digits), and zeros that reach the exported hls4ml weights."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
import tensorflow as tf

from hcp_fpga.board_catalog import load_board
from hcp_fpga.design import Design, HlsSettings
from hcp_fpga.estimator.backends import VIVADO
from hcp_fpga.estimator.model import estimate_design, estimate_layer
from hcp_fpga.estimator.savings import latency_weight_savings
from hcp_fpga.estimator.spec import layer_specs
from hcp_fpga.models import build_mlp, load_model
from hcp_fpga.prune import (
    candidates, finetune, gradients, group_scores, importance, layer_groups, masks_of, polynomial_sparsity,
    prune_and_finetune, prune_at_init, remove_units, select, select_fraction, sparsity, train_with_gradual_pruning,
    weight_scores,
)
from hcp_fpga.prune.apply import apply_selection
from hcp_fpga.train import accuracy, train_classifier
from tests.conftest import peer


# ----------------------------------------------------------------------------- the seed's worked example


def test_sensitivity_importance_taylor_and_magnitude_by_hand():
    """Dense(1), no bias, w = (0.5, -1), MSE loss, two one-sample batches:
    batch 1: x = (1, 2), y = 1: pred = -1.5, err = -2.5, dL/dw = 2 err x = (-5, -10)
    batch 2: x = (2, 0), y = 0: pred = 1.0, err = 1.0, dL/dw = (4, 0)
    S = mean = (-0.5, -5); I = |S| / sum |S| = (1/11, 10/11);
    Taylor = mean of |w * dL/dw| = ((2.5 + 2) / 2, (10 + 0) / 2) = (2.25, 5);
    D (magnitude of the one neuron) = mean |w| = 0.75."""
    inp = tf.keras.Input((2,))
    model = tf.keras.Model(inp, tf.keras.layers.Dense(1, use_bias=False, name="d")(inp))
    model.get_layer("d").set_weights([np.array([[0.5], [-1.0]], dtype=np.float32)])
    x = np.array([[1.0, 2.0], [2.0, 0.0]], dtype=np.float32)
    y = np.array([[1.0], [0.0]], dtype=np.float32)
    s = gradients(model, x, y, batch_size=1, loss="mse")["d"].ravel()
    assert s == pytest.approx([-0.5, -5.0])
    assert importance({"d": s})["d"].ravel() == pytest.approx([1 / 11, 10 / 11])
    taylor = gradients(model, x, y, batch_size=1, loss="mse", taylor=True)["d"].ravel()
    assert taylor == pytest.approx([2.25, 5.0])
    d = group_scores(weight_scores(model, "magnitude")["d"], layer_groups("d", (2, 1), "neuron"), "mean")
    assert d == pytest.approx([0.75])


def test_structures_follow_hls4mls_resource_layout():
    # 4x2 kernel, RF 2: W.T flattened is (o0: i0 i1 i2 i3, o1: i0 i1 i2 i3); multiplier slot = index // RF
    ids = layer_groups("d", (4, 2), "pattern", reuse_factor=2).ids
    assert ids.tolist() == [[0, 2], [0, 2], [1, 3], [1, 3]]
    # 18-bit weights: two slots share a 36-bit BRAM word
    assert layer_groups("d", (4, 2), "bram_block", 2, weight_bits=18).ids.tolist() == [[0, 1], [0, 1], [0, 1], [0, 1]]
    assert layer_groups("d", (4, 2), "neuron").ids.tolist() == [[0, 1]] * 4
    conv = layer_groups("c", (3, 2, 4), "neuron")  # Conv1D kernel (k, C, F): a filter is the last axis
    assert conv.n_groups == 4 and (conv.ids[..., 2] == 2).all()
    assert layer_groups("d", (4, 2), "unstructured").n_groups == 8


def test_pattern_slots_match_hls4mls_unrolled_code_generator():
    """hls4ml's ResourceUnrolled code generator counts all-zero rows of the transposed kernel
    reshaped (n_in*n_out/RF, RF); our pattern ids must name exactly those rows."""
    n_in, n_out, rf = 6, 4, 3
    ids = layer_groups("d", (n_in, n_out), "pattern", reuse_factor=rf).ids
    kernel = np.arange(n_in * n_out, dtype=float).reshape(n_in, n_out) + 1
    rows = kernel.T.reshape(-1).reshape(n_in * n_out // rf, rf)
    for g in range(n_in * n_out // rf):
        assert sorted(kernel[ids == g].tolist()) == sorted(rows[g].tolist())


# ----------------------------------------------------------------------------- savings from the estimator


@pytest.mark.parametrize("per_row_inputs", [False, True], ids=["uniform", "hgq-per-row"])
def test_single_weight_savings_equal_re_estimation(per_row_inputs):
    from hcp_fpga.estimator.precision import Fixed
    from hcp_fpga.estimator.spec import LayerSpec

    rng = np.random.default_rng(0)
    mant = rng.integers(-3000, 3000, size=(24, 12))
    # HGQ sets each input's width (row_bits, row_operand_bits); the savings must price those, not the type's
    rows = dict(row_bits=(b := rng.integers(2, 17, size=24)), row_operand_bits=np.minimum(b + 2, 16)) if per_row_inputs else {}
    spec = LayerSpec("d", "dense", 24, 12, 1, out_size=12, channels=12, mantissas=mant, weight=Fixed(16, 6),
                     input=Fixed(16, 6), result=Fixed(16, 6), **rows)
    saving = latency_weight_savings(spec, VIVADO)
    base = estimate_layer(spec, VIVADO)
    for i, o in zip(rng.integers(0, 24, 15), rng.integers(0, 12, 15)):
        zeroed = mant.copy()
        zeroed[i, o] = 0
        after = estimate_layer(LayerSpec(**{**spec.__dict__, "mantissas": zeroed}), VIVADO)
        assert saving[i, o, 0] == pytest.approx(base.dsp - after.dsp)
        assert saving[i, o, 1] == pytest.approx(base.lut - after.lut)
        assert saving[i, o, 2] == pytest.approx(base.ff - after.ff)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(1, 6), st.integers(0, 2**31 - 1), st.floats(0.0, 0.9), st.integers(6, 24))
def test_each_weights_adder_tree_saving_equals_rebuilding_its_tree(n_in, n_out, seed, zeros, acc_bits):
    """The per-weight walk up the tree (savings.tree_bit_savings) against the tree rebuilt without
    each weight, for every weight, at any sparsity and accumulator width."""
    from dataclasses import replace

    from hcp_fpga.estimator.model import tree_adder_bits
    from hcp_fpga.estimator.precision import Fixed
    from hcp_fpga.estimator.savings import tree_bit_savings
    from hcp_fpga.estimator.spec import LayerSpec

    rng = np.random.default_rng(seed)
    mant = rng.integers(-3000, 3000, size=(n_in, n_out)) * (rng.random((n_in, n_out)) >= zeros)
    spec = LayerSpec("d", "dense", n_in, n_out, 1, out_size=n_out, channels=n_out, mantissas=mant,
                     weight=Fixed(16, 6), input=Fixed(10, 4), result=Fixed(acc_bits, 6))
    saving, base = tree_bit_savings(spec), tree_adder_bits(spec)
    for i, j in np.ndindex(mant.shape):
        zeroed = mant.copy()
        zeroed[i, j] = 0
        assert saving[i, j] == base - tree_adder_bits(replace(spec, mantissas=zeroed))


def test_a_rows_last_weight_also_saves_what_computes_its_input():
    """Zeroing the last nonzero weight of an input row lets the HLS tool drop the producer's column
    and the ReLU element between (dead-code elimination): the predicted saving is the whole design's
    re-estimated difference, and a weight with others left in its row saves only its own products."""
    from dataclasses import replace

    from hcp_fpga.estimator.model import estimate_specs
    from hcp_fpga.estimator.precision import Fixed
    from hcp_fpga.estimator.savings import SAVED, group_savings
    from hcp_fpga.estimator.spec import LayerSpec

    rng = np.random.default_rng(1)
    t = Fixed(16, 6)
    m1, m2 = rng.integers(-300, 300, size=(8, 6)), rng.integers(-300, 300, size=(6, 4))
    m2[2] = 0
    m2[2, 1] = 77  # row 2 keeps one weight
    specs = [LayerSpec("d1", "dense", 8, 6, 1, out_size=6, channels=6, mantissas=m1, weight=t, input=t, result=t),
             LayerSpec("r1", "relu", out_size=6, channels=6, input=t, result=Fixed(8, 3, False, True)),
             LayerSpec("d2", "dense", 6, 4, 1, out_size=4, channels=4, mantissas=m2, weight=t, input=Fixed(8, 3, False),
                       result=t)]
    part = "xcu250-figd2104-2L-e"
    saving = group_savings(specs, "d2", np.arange(24).reshape(6, 4), 24, "unstructured", "Vivado", part)
    base = estimate_specs(specs, "Vivado", 5.0, part)
    for row, col in ((2, 1), (3, 1)):
        zeroed = m2.copy()
        zeroed[row, col] = 0
        after = estimate_specs([*specs[:2], replace(specs[2], mantissas=zeroed)], "Vivado", 5.0, part)
        assert saving[row * 4 + col] == pytest.approx([getattr(base, r) - getattr(after, r) for r in SAVED])
    assert saving[2 * 4 + 1][0] > 0 and saving[3 * 4 + 1][0] == 0  # the producer's column held DSP products


def test_savings_of_a_dense_hls4ml_reorders_name_the_models_weights():
    """A Permute flattened into a Dense: hls4ml folds it into the kernel's row order
    (spec.remove_transpose_before_flatten). The savings of the model's weight (i, j) must be those of
    zeroing that weight in the model and re-estimating, not of the weight the design holds at row i."""
    from hcp_fpga.estimator.model import estimate_specs
    from hcp_fpga.estimator.savings import SAVED, group_savings

    tf.keras.utils.set_random_seed(3)
    model = tf.keras.Sequential([tf.keras.layers.Input((4, 6)), tf.keras.layers.Permute((2, 1)),
                                 tf.keras.layers.Flatten(), tf.keras.layers.Dense(3, name="d")])
    hls = HlsSettings()
    part = "xcu250-figd2104-2L-e"
    saving = group_savings(layer_specs(model, hls), "d", np.arange(72).reshape(24, 3), 72, "unstructured", "Vivado", part)
    base = estimate_specs(layer_specs(model, hls), "Vivado", 5.0, part)
    kernel, bias = model.layers[-1].get_weights()
    for row, col in ((1, 0), (5, 2), (18, 1), (23, 0)):
        zeroed = kernel.copy()
        zeroed[row, col] = 0
        model.layers[-1].set_weights([zeroed, bias])
        after = estimate_specs(layer_specs(model, hls), "Vivado", 5.0, part)
        model.layers[-1].set_weights([kernel, bias])
        assert saving[row * 3 + col] == pytest.approx([getattr(base, r) - getattr(after, r) for r in SAVED]), (row, col)


@pytest.fixture(scope="module")
def trained_mlp(digits_mlp_20):
    return digits_mlp_20


def test_selection_meets_a_dsp_target_by_the_estimate(trained_mlp, digits):
    board = load_board("arty-a7-35t")
    design = Design.create(trained_mlp, board)
    before = estimate_design(design)
    scores = weight_scores(trained_mlp, "taylor", digits.x_train, digits.y_train)
    target = 0.4 * before.dsp
    sel = select(candidates(trained_mlp, design.settings, scores, "unstructured"), {"dsp": target})
    assert sel.met and sel.saved["dsp"] >= target
    pruned, _ = apply_selection(trained_mlp, sel.chosen)
    after = estimate_design(Design.create(pruned, board))
    assert after.dsp <= before.dsp - target  # the estimator agrees once the weights are gone
    assert trained_mlp.get_layer("fc1").kernel.numpy().min() != 0  # the original model is untouched


def test_pattern_pruning_at_rf8_drops_unrolled_dsp_by_the_patterns_removed(trained_mlp, digits):
    settings = HlsSettings(layer_strategy={"fc1": "ResourceUnrolled"}, layer_reuse={"fc1": 8})
    board = load_board("vcu118")
    design = Design.create(trained_mlp, board, settings)
    design.validate()
    before = {l.name: l for l in estimate_design(design).layers}
    scores = weight_scores(trained_mlp, "magnitude")
    c = candidates(trained_mlp, design.settings, scores, "pattern", layers=["fc1"])
    assert c.groups["fc1"].n_groups == 64 * 64 // 8  # one pattern per multiplier
    chosen = select_fraction(c, 0.25)
    pruned, masks = apply_selection(trained_mlp, chosen)
    kernel = pruned.get_layer("fc1").kernel.numpy()
    for g in chosen.group:  # whole patterns are zero
        assert not kernel[c.groups["fc1"].ids == g].any()
    after = {l.name: l for l in estimate_design(Design.create(pruned, board, settings)).layers}
    assert before["fc1"].dsp - after["fc1"].dsp == len(chosen) == 128
    assert after["fc2"].dsp == before["fc2"].dsp


def test_neuron_pruning_shrinks_the_model_and_the_exported_project(trained_mlp, tmp_path):
    from hcp_fpga.estimator.firmware import firmware_specs
    from hcp_fpga.hls import export_project

    drop = {"fc1": [0, 5, 9, 17], "fc2": [1, 2]}
    small = remove_units(trained_mlp, drop)
    assert small.get_layer("fc1").kernel.shape == (64, 60) and small.get_layer("fc2").kernel.shape == (60, 30)
    # removing a unit = zeroing its kernel column and bias in the original
    zeroed = tf.keras.models.clone_model(trained_mlp)
    zeroed.set_weights(trained_mlp.get_weights())
    for name, units in drop.items():
        k, b = zeroed.get_layer(name).get_weights()
        k[:, units], b[units] = 0, 0
        zeroed.get_layer(name).set_weights([k, b])
    x = np.random.default_rng(0).random((32, 64), dtype=np.float32)
    assert np.allclose(small.predict(x, verbose=0), zeroed.predict(x, verbose=0), atol=1e-5)
    export_project(Design.create(small, load_board("arty-a7-35t")), tmp_path / "prj")
    sizes = {s.name: (s.n_in, s.n_out) for s in firmware_specs(tmp_path / "prj") if s.kind == "dense"}
    assert sizes == {"fc1": (64, 60), "fc2": (60, 30), "output": (30, 10)}


def test_filter_pruning_through_flatten_and_qkeras(digits):
    """Conv1D filters feeding a Flatten + Dense (rows are position x channel), and a QKeras model."""
    inp = tf.keras.Input((8, 8), name="features")
    x = tf.keras.layers.Conv1D(6, 3, activation="relu", name="conv")(inp)
    x = tf.keras.layers.Flatten()(x)
    model = tf.keras.Model(inp, tf.keras.layers.Dense(10, activation="softmax", name="out")(x))
    small = remove_units(model, {"conv": [1, 4]})
    assert small.get_layer("conv").kernel.shape == (3, 8, 4) and small.get_layer("out").kernel.shape == (6 * 4, 10)
    zeroed = tf.keras.models.clone_model(model)
    zeroed.set_weights(model.get_weights())
    k, b = zeroed.get_layer("conv").get_weights()
    k[..., [1, 4]], b[[1, 4]] = 0, 0
    zeroed.get_layer("conv").set_weights([k, b])
    xs = digits.x_test[:16].reshape(-1, 8, 8)
    assert np.allclose(small.predict(xs, verbose=0), zeroed.predict(xs, verbose=0), atol=1e-5)

    q = load_model(*peer("qkeras_3layer"))
    q_small = remove_units(q, {"fc1": [0, 1, 2]})
    assert q_small.get_layer("fc1").kernel.shape == (16, 61) and type(q_small.get_layer("fc1")).__name__ == "QDense"
    scores = weight_scores(q, "magnitude")
    assert set(scores) == {"fc1", "fc2", "fc3", "output"}


# ----------------------------------------------------------------------------- the three phases


def test_masks_survive_finetuning_and_reach_the_hls4ml_weight_files(trained_mlp, digits, tmp_path):
    from hcp_fpga.hls import export_project

    pruned, masks = prune_and_finetune(trained_mlp, digits, sparsity=0.6, structure="unstructured", score="magnitude",
                                       epochs=3)
    assert sparsity(pruned) == pytest.approx(0.6, abs=0.01)
    for name, mask in masks.items():  # fine-tuning moved the kept weights but not the zeros
        kernel = pruned.get_layer(name).kernel.numpy()
        assert not kernel[mask == 0].any()
    result = export_project(Design.create(pruned, load_board("arty-a7-35t")), tmp_path / "prj")
    files = sorted((result.out_dir / "firmware" / "weights").glob("w*.txt"), key=lambda p: int(p.stem[1:]))
    for name, f in zip(("fc1", "fc2", "output"), files):
        written = np.loadtxt(f, delimiter=",").reshape(masks[name].shape)  # Latency layout: the Keras kernel
        assert np.array_equal(written == 0, masks[name] == 0)


def test_prune_at_init_uses_sensitivity_and_trains_with_the_zeros(digits):
    fresh = build_mlp(64, (64, 32), 10, seed=1)
    pruned, masks = prune_at_init(fresh, digits, sparsity=0.7)
    assert sparsity(pruned) == pytest.approx(0.7, abs=0.01)
    by_magnitude = {n: np.abs(fresh.get_layer(n).kernel.numpy()) for n in masks}
    kept_small = sum(int(((m == 1) & (by_magnitude[n] < np.quantile(by_magnitude[n], 0.7))).sum()) for n, m in masks.items())
    assert kept_small > 0  # SNIP keeps some small weights magnitude pruning would drop: it ranks by |w dL/dw|
    trained = finetune(pruned, digits, masks, epochs=15)
    assert sparsity(trained) >= 0.69 and accuracy(trained, digits.x_test, digits.y_test) > 0.9


def test_polynomial_schedule_by_hand():
    assert polynomial_sparsity(5, 10, 20, 0.8) == 0.0
    assert polynomial_sparsity(10, 10, 20, 0.8) == pytest.approx(0.0)
    assert polynomial_sparsity(15, 10, 20, 0.8) == pytest.approx(0.8 * (1 - 0.5**3))  # 0.7
    assert polynomial_sparsity(20, 10, 20, 0.8) == 0.8 and polynomial_sparsity(99, 10, 20, 0.8) == 0.8


def test_gradual_pruning_follows_its_schedule(trained_mlp, digits):
    model, masks, schedule = train_with_gradual_pruning(trained_mlp, digits, 0.8, epochs=8, begin_fraction=0.0,
                                                        end_fraction=0.6)
    targets = [t for _, t, _ in schedule.history]
    assert targets == sorted(targets) and targets[-1] == pytest.approx(0.8)
    for _, target, actual in schedule.history:
        assert actual == pytest.approx(target, abs=0.01)
    assert sparsity(model) == pytest.approx(0.8, abs=0.01)
    assert accuracy(model, digits.x_test, digits.y_test) > 0.9


@pytest.mark.slow  # ten fine-tuning epochs per pruning step (about 13 s)
def test_one_shot_to_an_estimated_budget_then_finetune(trained_mlp, digits):
    board = load_board("arty-a7-35t")
    settings = HlsSettings().resolved(board)
    before = estimate_design(Design.create(trained_mlp, board))
    pruned, _ = prune_and_finetune(trained_mlp, digits, settings, targets={"dsp": before.dsp / 2}, epochs=10)
    after = estimate_design(Design.create(pruned, board))
    assert after.dsp <= before.dsp / 2
    assert accuracy(pruned, digits.x_test, digits.y_test) >= accuracy(trained_mlp, digits.x_test, digits.y_test) - 0.03


def test_conv2d_and_qconv2d_in_a_functional_model(digits):
    """Scores, filter removal through pooling and Flatten, and gradual pruning on Conv2D and its
    QKeras form."""
    from hcp_fpga.quantize import QuantSpec, to_qkeras

    inp = tf.keras.Input((8, 8, 1), name="features")
    x = tf.keras.layers.Conv2D(6, 3, activation="relu", name="conv")(inp)
    x = tf.keras.layers.MaxPooling2D(2)(x)
    x = tf.keras.layers.Flatten()(x)
    model = tf.keras.Model(inp, tf.keras.layers.Dense(10, activation="softmax", name="out")(x))
    images = digits.__class__("digits8x8", digits.x_train.reshape(-1, 8, 8, 1), digits.y_train,
                              digits.x_test.reshape(-1, 8, 8, 1), digits.y_test)
    model = train_classifier(model, images, epochs=5, show_progress=False)
    q = to_qkeras(model, QuantSpec(8, 8), images.x_train)
    assert type(q.get_layer("conv")).__name__ == "QConv2D"
    scores = weight_scores(q, "taylor", images.x_train[:256], images.y_train[:256])
    assert scores["conv"].shape == (3, 3, 1, 6)
    c = candidates(q, HlsSettings(), scores, "neuron", with_savings=False)
    assert c.groups["conv"].n_groups == 6 and "out" not in c.groups  # output units are the classes
    small = remove_units(q, {"conv": [2, 3]})
    assert small.get_layer("conv").kernel.shape == (3, 3, 1, 4) and small.get_layer("out").kernel.shape == (9 * 4, 10)
    zeroed = remove_units(q, {})
    k, b = zeroed.get_layer("conv").get_weights()
    k[..., [2, 3]], b[[2, 3]] = 0, 0
    zeroed.get_layer("conv").set_weights([k, b])
    xs = images.x_test[:16]
    assert np.allclose(small.predict(xs, verbose=0), zeroed.predict(xs, verbose=0), atol=1e-5)
    pruned, masks, schedule = train_with_gradual_pruning(q, images, 0.5, epochs=2, begin_fraction=0.0, end_fraction=0.5)
    assert sparsity(pruned) == pytest.approx(0.5, abs=0.02) and type(pruned.get_layer("conv")).__name__ == "QConv2D"
