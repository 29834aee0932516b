"""Float -> QKeras conversion, bits as a budget lever, and the digits end-to-end: >= 80 % sparse,
<= 6-bit, within 1 pp of float in Keras and in the bit-accurate C simulation."""

import numpy as np
import pytest
import tensorflow as tf

from hcp_fpga.board_catalog import load_board
from hcp_fpga.design import Design, HlsSettings
from hcp_fpga.estimator.model import estimate_design
from hcp_fpga.models import build_mlp
from hcp_fpga.prune import finetune, masks_of, prune_and_finetune, sparsity, train_with_gradual_pruning
from hcp_fpga.quantize import QuantSpec, integer_bits, profile_ranges, quantized_weight_bits, result_precisions, to_qkeras
from hcp_fpga.train import accuracy, train_classifier


@pytest.fixture(scope="module")
def float_mlp(digits):
    return train_classifier(build_mlp(64, (64, 32), 10, seed=0), digits, epochs=40, seed=0, show_progress=False)


def test_conversion_keeps_weights_and_sets_bits(float_mlp, digits):
    wide = to_qkeras(float_mlp, QuantSpec(16, 16), digits.x_train)
    x = digits.x_test[:64]
    assert np.abs(wide.predict(x, verbose=0) - float_mlp.predict(x, verbose=0)).max() < 0.02
    q = to_qkeras(float_mlp, QuantSpec(6, 6, layer_bits={"output": (8, 8)}), digits.x_train)
    assert [type(l).__name__ for l in q.layers if "Dense" in type(l).__name__] == ["QDense"] * 3
    assert quantized_weight_bits(q) == {"fc1": 6, "fc2": 6, "output": 8}
    ranges = profile_ranges(float_mlp, digits.x_train)
    act = q.get_layer("fc1").activation  # ReLU fused into the layer becomes quantized_relu(6, i)
    assert type(act).__name__ == "quantized_relu" and act.bits == 6 and act.integer == integer_bits(ranges["fc1"])
    assert float_mlp.get_layer("fc1").__class__.__name__ == "Dense"  # the float model is untouched


def test_conversion_keeps_pruned_zeros_and_po2_makes_shifts(float_mlp, digits):
    pruned, _ = prune_and_finetune(float_mlp, digits, sparsity=0.5, structure="unstructured", score="magnitude", epochs=0)
    q = to_qkeras(pruned, QuantSpec(6, 6), digits.x_train)
    assert sparsity(q) >= sparsity(pruned)  # quantization only adds zeros
    po2 = to_qkeras(pruned, QuantSpec(6, 6, po2=True), digits.x_train)
    kernel = np.asarray(po2.get_layer("fc1").kernel_quantizer_internal(po2.get_layer("fc1").kernel))
    nonzero = np.abs(kernel[kernel != 0])
    assert np.allclose(np.log2(nonzero), np.round(np.log2(nonzero)))  # every weight a power of two
    board = load_board("vcu118")
    assert estimate_design(Design.create(po2, board)).layers[1].dsp == 0  # shifts, not multipliers


def test_fewer_weight_bits_move_resource_multipliers_out_of_dsps(float_mlp, digits):
    board = load_board("vcu118")
    settings = HlsSettings(strategy="Resource", reuse_factor=4)
    dsp = {}
    for bits in (8, 6):
        q = to_qkeras(float_mlp, QuantSpec(bits, 16), digits.x_train)
        est = {l.name: l for l in estimate_design(Design.create(q, board, settings)).layers}
        dsp[bits] = est["fc1"].dsp
    assert dsp[8] == 64 * 64 // 4 and dsp[6] == 0  # the 8-bit DSP threshold of the Resource kernel


def test_result_precisions_hold_the_profiled_ranges():
    # integer bits: ceil(log2 3.2) = 2, plus sign and one bit of margin -> 4; 0.4 -> 0 + 2; 40 -> 6 + 2
    assert result_precisions({"a": 3.2, "b": 0.4, "c": 40.0}) == {"a": "ap_fixed<16,4>", "b": "ap_fixed<16,2>",
                                                                "c": "ap_fixed<16,8>"}


@pytest.mark.slow  # prunes, quantization-aware training and a C simulation (about 25 s)
def test_digits_mlp_80_percent_sparse_6_bit_within_1pp_in_keras_and_csim(float_mlp, digits, tmp_path):
    from hcp_fpga.hls import export_project, run_csim

    float_acc = accuracy(float_mlp, digits.x_test, digits.y_test)
    pruned, masks, _ = train_with_gradual_pruning(float_mlp, digits, 0.8, epochs=30, begin_fraction=0.0, end_fraction=0.6)
    q = to_qkeras(pruned, QuantSpec(6, 6), digits.x_train)
    q = finetune(q, digits, masks_of(pruned), epochs=20, learning_rate=5e-4)
    q_acc = accuracy(q, digits.x_test, digits.y_test)
    assert sparsity(q) >= 0.8 - 1e-3
    assert max(b for b in quantized_weight_bits(q).values()) <= 6
    assert q_acc >= float_acc - 0.01, (float_acc, q_acc)
    result = export_project(Design.create(q, load_board("arty-a7-35t")), tmp_path / "prj")
    csim = run_csim(result.out_dir, data="digits")
    assert csim.csim_accuracy >= float_acc - 0.01, (float_acc, csim.csim_accuracy)
    # the zeros are in the synthesized weights too
    w = np.loadtxt(result.out_dir / "firmware" / "weights" / "w2.txt", delimiter=",")
    assert np.mean(w == 0) >= 0.8 - 1e-3


@pytest.mark.slow  # export + two C simulations (about 10 s): make test-slow, which CI runs too
def test_profiled_result_types_repair_an_overflowing_design(digits, digits_mlp_20, tmp_path):
    """Activations scaled 40x (same function: the next layer divides by 40) overflow hls4ml's
    default ap_fixed<16,6> (range +-32); result types from the profiled ranges fix the C simulation."""
    from hcp_fpga.estimator.model import estimate_design
    from hcp_fpga.hls import export_project, run_csim

    from hcp_fpga.models import copy_model

    model = copy_model(digits_mlp_20)  # its weights are scaled below
    k, b = model.get_layer("fc1").get_weights()
    model.get_layer("fc1").set_weights([k * 40, b * 40])
    k2, b2 = model.get_layer("fc2").get_weights()
    model.get_layer("fc2").set_weights([k2 / 40, b2])
    keras_acc = accuracy(model, digits.x_test, digits.y_test)
    ranges = profile_ranges(model, digits.x_train)
    assert ranges["fc1"] > 32
    board = load_board("vcu118")
    plain = export_project(Design.create(model, board), tmp_path / "plain")
    assert run_csim(plain.out_dir, data="digits").csim_accuracy < 0.5  # wrapped activations
    settings = HlsSettings(layer_precision=result_precisions({n: ranges[n] for n in ("fc1", "fc2")}, width=18))
    fixed = export_project(Design.create(model, board, settings), tmp_path / "fixed")
    assert run_csim(fixed.out_dir, data="digits").csim_accuracy >= keras_acc - 0.01
    # the estimate sees the wider types as well (the fused ReLU follows its layer)
    specs = {l.name: l for l in estimate_design(Design.create(model, board, settings)).layers}
    assert specs["fc1_relu"].lut > {l.name: l for l in estimate_design(Design.create(model, board)).layers}["fc1_relu"].lut


def test_exact_fixed_type_holds_every_value_and_is_the_narrowest():
    import numpy as np
    from hcp_fpga.estimator.precision import parse_fixed
    from hcp_fpga.quantize import exact_fixed_type

    rng = np.random.default_rng(0)
    for _ in range(200):
        frac = int(rng.integers(0, 6))
        x = rng.integers(-300, 300, size=int(rng.integers(1, 50))) / (1 << frac)
        if rng.random() < 0.5:
            x = np.abs(x)
        t = exact_fixed_type(x)
        f = parse_fixed(t)
        step = 2.0 ** -(f.width - f.integer)
        lo = -(2.0 ** (f.integer - 1)) if f.signed else 0.0
        hi = (2.0 ** (f.integer - 1) if f.signed else 2.0 ** f.integer) - step
        assert np.all((x >= lo) & (x <= hi)) and np.all(np.round(x / step) * step == x), (t, x)
        # one bit fewer, of fraction or of integer, no longer holds them all
        fewer_fraction_ok = f.width - f.integer > 0 and np.all(np.round(x / (2 * step)) * 2 * step == x)
        lo1 = -(2.0 ** (f.integer - 2)) if f.signed else 0.0
        hi1 = (2.0 ** (f.integer - 2) if f.signed else 2.0 ** (f.integer - 1)) - step
        fewer_integer_ok = np.all((x >= lo1) & (x <= hi1))
        assert not fewer_fraction_ok and not fewer_integer_ok, (t, x)
    assert exact_fixed_type(np.array([0.1, 0.2])) is None  # real-valued data: no exact type
    assert exact_fixed_type(np.array([np.nan])) is None and exact_fixed_type(np.array([])) is None
    assert exact_fixed_type(np.arange(17) / 16) == "ap_ufixed<5,1>"  # digits' pixels, as loaded
