"""Layers hls4ml 1.3 rewrites, wraps or loops over positions: a Dense over a sequence or an image (a
pointwise conv), Bidirectional GRU/LSTM (two cells per step), TimeDistributed(Dense) (a loop over the
time steps), LayerNormalization (a loop over the sequence).
What hls4ml writes for them was read off its generated code; the parity of the model and firmware
paths is in test_export_csim.py."""

import re

import pytest

from hcp_fpga.board_catalog import load_board
from hcp_fpga.design import Design, HlsSettings
from hcp_fpga.estimator.model import estimate_design
from hcp_fpga.vocab import IOType, Strategy


def _estimate(layers, shape, **settings):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(1)
    model = tf.keras.Sequential([tf.keras.layers.Input(shape), *layers])
    return estimate_design(Design.create(model, load_board("alveo-u250"), HlsSettings(**settings))), model


def _same_estimate(model_path, firmware_path) -> None:
    for r in ("dsp", "bram18", "lut", "ff", "latency_cycles"):
        assert getattr(model_path, r) == pytest.approx(getattr(firmware_path, r), rel=1e-9), r


def _one_estimate_from_model_and_export(design, tmp_path):
    """The estimate of ``design`` from its model, checked equal to that of the project export writes
    (from its firmware)."""
    from hcp_fpga.estimator.model import estimate_project
    from hcp_fpga.hls import export_project

    model_path = estimate_design(design)
    _same_estimate(model_path, estimate_project(export_project(design, tmp_path / "prj").out_dir))
    return model_path


def _layer(est, name):
    return next(l for l in est.layers if l.name == name)


def test_a_dense_over_a_sequence_steps_over_its_positions_with_one_multiplier_array():
    from tensorflow.keras import layers as L

    seq, _ = _estimate([L.Dense(8, name="fc"), L.Flatten(), L.Dense(2)], (10, 4))
    fc = _layer(seq, "fc")
    assert fc.kind == "conv1d" and fc.ii == 10  # hls4ml's pointwise Conv1D, one position per step (PF 1)
    one, _ = _estimate([L.Dense(8, name="fc")], (4,))  # same seed: the same kernel, one position
    assert fc.dsp == _layer(one, "fc").dsp


def test_a_dense_over_four_axes_is_named_as_not_priced():
    from tensorflow.keras import layers as L

    est, _ = _estimate([L.Dense(3, name="fc"), L.Flatten(), L.Dense(2)], (2, 3, 4, 5))
    assert est.lower_bound and any("fc" in n and "1-3 axes" in n for n in est.unpriced)


@pytest.mark.parametrize("cell", ["GRU", "LSTM"])
def test_a_bidirectional_layer_is_two_cells_that_share_each_step(cell):
    from tensorflow.keras import layers as L

    rnn = getattr(L, cell)
    both, _ = _estimate([L.Bidirectional(rnn(6), name="bi"), L.Dense(2)], (8, 3))
    alone, _ = _estimate([rnn(6, name="bi"), L.Dense(2)], (8, 3))
    assert not both.unpriced
    parts = [l for l in both.layers if l.name.startswith("bi_")]
    assert {l.name.split("_")[1] for l in parts} == {"forward", "backward"}
    assert sum(l.dsp for l in parts) > 1.5 * sum(l.dsp for l in alone.layers if l.name.startswith("bi_"))
    assert _layer(both, "bi").latency_cycles == _layer(alone, "bi").latency_cycles  # side by side, not one after the other


@pytest.mark.parametrize("kwargs, settings, says", [
    ({"merge_mode": "sum"}, {}, "merge_mode 'sum'"),
    ({}, {"io_type": IOType("io_stream")}, "no io_stream code"),
])
def test_a_bidirectional_layer_hls4ml_builds_otherwise_is_named(kwargs, settings, says):
    from tensorflow.keras import layers as L

    est, _ = _estimate([L.Bidirectional(L.LSTM(4), name="bi", **kwargs), L.Dense(2)], (5, 3), **settings)
    assert est.lower_bound and any(n.startswith("bi (") and says in n for n in est.unpriced)


def test_time_distributed_dense_is_unrolled_under_pipeline_and_looped_under_dataflow():
    from tensorflow.keras import layers as L

    layers = lambda: [L.TimeDistributed(L.Dense(8, name="inner"), name="td"), L.Flatten(), L.Dense(2)]  # noqa: E731
    latency, _ = _estimate(layers(), (10, 4))
    resource, _ = _estimate(layers(), (10, 4), strategy=Strategy.RESOURCE, reuse_factor=2)
    one, _ = _estimate([L.Dense(8, name="inner")], (4,))
    assert _layer(latency, "inner").dsp == 10 * _layer(one, "inner").dsp  # a copy per step, all at once
    assert _layer(latency, "inner").ii == 1
    looped = _layer(resource, "inner")
    assert looped.ii >= 10 and looped.dsp <= _layer(one, "inner").dsp  # one multiplier array, one step after the other


def test_time_distributed_names_what_hls4ml_does_not_build():
    from tensorflow.keras import layers as L

    est, _ = _estimate([L.TimeDistributed(L.Dense(8, activation="relu"), name="td"), L.Flatten(), L.Dense(2)], (10, 4))
    assert any("'relu' activation" in n and "'td'" in n for n in est.notes)  # hls4ml drops it
    conv, _ = _estimate([L.TimeDistributed(L.Conv1D(2, 3), name="td"), L.Flatten(), L.Dense(2)], (5, 8, 1))
    assert any(n.startswith("td (TimeDistributed(Conv1D)") for n in conv.unpriced)
    stream, _ = _estimate([L.TimeDistributed(L.Dense(8), name="td"), L.Flatten(), L.Dense(2)], (10, 4), io_type=IOType("io_stream"))
    assert any(n.startswith("td (") and "io_stream" in n for n in stream.unpriced)


def test_layer_normalization_is_a_copy_per_step_under_pipeline_and_one_step_per_cycle_under_dataflow():
    from tensorflow.keras import layers as L

    first, _ = _estimate([L.LayerNormalization(name="ln"), L.Flatten(), L.Dense(2)], (6, 8))  # PIPELINE: unrolled
    after_conv, _ = _estimate([L.Dense(8), L.LayerNormalization(name="ln"), L.Flatten(), L.Dense(2)], (6, 8))  # DATAFLOW
    unrolled, looped = _layer(first, "ln"), _layer(after_conv, "ln")
    assert not first.unpriced and not after_conv.unpriced
    assert unrolled.dsp == 6 * looped.dsp > 0 and unrolled.bram18 >= looped.bram18 > 0  # the 1/sqrt table
    assert looped.ii == 6 and unrolled.ii == 1


@pytest.mark.parametrize("shape, kwargs, settings, says", [
    ((16,), {}, {}, "(steps, features) input only"),
    ((6, 8), {"axis": 1}, {}, "axis 1"),
    ((6, 8), {}, {"io_type": IOType("io_stream")}, "no io_stream code"),
])
def test_a_layer_normalization_hls4ml_does_not_build_is_named(shape, kwargs, settings, says):
    from tensorflow.keras import layers as L

    est, _ = _estimate([L.LayerNormalization(name="ln", **kwargs), L.Flatten(), L.Dense(2)], shape, **settings)
    assert est.lower_bound and any(n.startswith("ln (") and says in n for n in est.unpriced)


@pytest.mark.parametrize("layers, shape, io_type, says", [
    (lambda L: [L.TimeDistributed(L.Dense(4, activation="relu"), name="td"), L.Flatten()], (6, 3), "io_parallel",
     "td (TimeDistributed: hls4ml 1.3 drops the wrapped layer's 'relu' activation"),
    (lambda L: [L.Bidirectional(L.GRU(4), merge_mode="sum", name="bi")], (6, 3), "io_parallel",
     "bi (Bidirectional merge_mode 'sum': hls4ml 1.3 concatenates"),
    (lambda L: [L.LayerNormalization(name="ln"), L.Flatten()], (6, 3), "io_stream",
     "ln (LayerNormalization: hls4ml 1.3 writes no io_stream code for it"),
    (lambda L: [L.Dense(4, activation="swish", name="fc")], (6,), "io_parallel",
     "fc (activation 'swish': hls4ml 1.3 writes no Vivado/Vitis code for it"),
    (lambda L: [L.Dense(4, name="fc"), L.Activation("relu6", name="act")], (6,), "io_stream",
     "act (activation 'relu6': hls4ml 1.3 writes no io_stream code for it"),
    (lambda L: [L.LSTM(4, recurrent_activation="hard_sigmoid", name="rnn")], (6, 3), "io_parallel",
     "rnn (activation 'hard_sigmoid': hls4ml 1.3's recurrent cells call relu, sigmoid, tanh only"),
    (lambda L: [L.Bidirectional(L.GRU(4, activation="softsign"), name="bi")], (6, 3), "io_parallel",
     "bi (activation 'softsign': hls4ml 1.3's recurrent cells call"),
    (lambda L: [L.Dense(4, name="fc"), L.ReLU(max_value=6.0, name="r6")], (6,), "io_parallel",
     "r6 (ReLU(max_value=6): hls4ml 1.3 builds a plain relu without it; use Activation('relu6')"),
])
def test_export_refuses_what_hls4ml_would_build_otherwise_or_not_at_all(tmp_path, layers, shape, io_type, says):
    """A TimeDistributed(Dense(relu)) exported as hls4ml 1.3 writes it computes no relu (C simulation
    of it gave negative outputs, Keras none); a summed Bidirectional comes out concatenated; an
    io_stream LayerNormalization does not compile. Refused before the folder is touched."""
    import tensorflow as tf
    from tensorflow.keras import layers as L

    from hcp_fpga.errors import UnsupportedLayerError
    from hcp_fpga.hls import export_project

    model = tf.keras.Sequential([L.Input(shape), *layers(L)])
    design = Design.create(model, load_board("alveo-u250"), HlsSettings(io_type=IOType(io_type)))
    with pytest.raises(UnsupportedLayerError, match=re.escape(says)):
        export_project(design, tmp_path / "prj")
    assert not (tmp_path / "prj").exists()


@pytest.mark.parametrize("layers, shape, io_type, says", [
    (lambda L: [L.Dense(4, activation="gelu", name="fc")], (6,), "io_parallel", "fc_gelu (activation 'gelu'"),
    (lambda L: [L.Dense(4), L.Activation("exponential", name="act")], (6,), "io_parallel", "act (activation 'exponential'"),
    (lambda L: [L.Dense(4), L.Activation("relu6", name="act")], (6,), "io_stream", "act (activation 'relu6'"),
    (lambda L: [L.GRU(4, activation="softsign", name="rnn")], (6, 3), "io_parallel", "rnn (activation 'softsign'"),
    (lambda L: [L.Bidirectional(L.LSTM(4, recurrent_activation="hard_sigmoid"), name="bi")], (6, 3), "io_parallel",
     "bi (activation 'hard_sigmoid'"),
])
def test_an_activation_hls4ml_writes_no_code_for_is_named_not_priced(layers, shape, io_type, says):
    """hls4ml 1.3 writes any Keras activation name into a call; for one its templates lack the C++
    does not compile (checked: swish, gelu, exponential; relu6 in io_stream; hard_sigmoid and softsign
    in a recurrent cell). The estimate names the layer: a lower bound that cannot say 'fits'."""
    from tensorflow.keras import layers as L

    est, _ = _estimate(layers(L), shape, io_type=IOType(io_type))
    assert est.lower_bound and any(n.startswith(says) for n in est.unpriced), est.unpriced


@pytest.mark.parametrize("layers, shape, io_type", [
    (lambda L: [L.Dense(4, activation="relu6"), L.Activation("softplus"), L.Activation("hard_sigmoid")], (6,), "io_parallel"),
    (lambda L: [L.Dense(4, activation="elu"), L.Activation("selu"), L.LeakyReLU(0.2), L.Softmax()], (6,), "io_stream"),
    (lambda L: [L.LSTM(4, activation="relu", return_sequences=True), L.GRU(3, recurrent_activation="tanh")], (6, 3),
     "io_parallel"),
])
def test_the_activations_hls4ml_builds_are_priced(layers, shape, io_type):
    from tensorflow.keras import layers as L

    est, _ = _estimate(layers(L), shape, io_type=IOType(io_type))
    assert not est.unpriced and not est.lower_bound


def test_a_relu_with_options_is_priced_as_the_plain_relu_hls4ml_builds_and_said():
    from tensorflow.keras import layers as L

    capped, _ = _estimate([L.Dense(4), L.ReLU(max_value=1.0, negative_slope=0.1, name="r")], (6,))
    plain, _ = _estimate([L.Dense(4), L.ReLU(name="r")], (6,))
    assert capped.lut == plain.lut and not capped.unpriced
    assert any("'r' (ReLU(max_value=1, negative_slope=0.1): hls4ml 1.3 builds a plain relu" in n for n in capped.notes)
    assert not any("ReLU(" in n for n in plain.notes)


def test_the_activations_we_call_built_are_those_the_installed_hls4ml_templates_define():
    """HLS4ML_ACTIVATIONS and RECURRENT_ACTIVATIONS against the function and class names of hls4ml's
    own headers: a name added or dropped by another hls4ml release fails here."""
    from pathlib import Path

    import hls4ml

    from hcp_fpga.estimator.spec import HLS4ML_ACTIVATIONS, RECURRENT_ACTIVATIONS

    nnet = Path(hls4ml.__file__).parent / "templates" / "vivado" / "nnet_utils"
    helpers = {"relu_max", "unary_lut", "softmax_multidim"}  # called by hls4ml for other layers, no Keras name

    def functions(header: str) -> set[str]:
        names = set(re.findall(r"\bvoid\s+(\w+)\s*\(", (nnet / header).read_text()))
        return {n for n in names if not n.startswith(("init_", "softmax_"))} - helpers

    assert set(HLS4ML_ACTIVATIONS["io_parallel"]) == functions("nnet_activation.h")
    assert set(HLS4ML_ACTIVATIONS["io_stream"]) == functions("nnet_activation_stream.h")
    recurrent = set(re.findall(r"class\s+(\w+)\s*:\s*public\s+Activation", (nnet / "nnet_recr_activations.h").read_text()))
    assert set(RECURRENT_ACTIVATIONS) == recurrent


# what hls4ml 1.3's Keras reader ignores (checked by C simulation against Keras, 50 normal inputs)
_NOT_BUILT = [
    (lambda L: [L.Conv1D(4, 3, dilation_rate=2, name="c"), L.Flatten()], (16, 3), "c (Conv1D dilation_rate (2,)"),
    (lambda L: [L.Conv2D(4, 3, groups=2, name="c"), L.Flatten()], (6, 6, 4), "c (Conv2D groups=2"),
    (lambda L: [L.DepthwiseConv2D(3, depth_multiplier=2, name="c"), L.Flatten()], (6, 6, 2),
     "c (DepthwiseConv2D depth_multiplier=2"),
    (lambda L: [L.SeparableConv1D(2, 3, depth_multiplier=3, name="c"), L.Flatten()], (8, 2), "c (SeparableConv1D depth_multiplier=3"),
    (lambda L: [L.Softmax(axis=1, name="s"), L.Flatten()], (4, 3), "s (Softmax over axis (1,)"),
    (lambda L: [L.Dense(5), L.Softmax(name="s"), L.Flatten()], (3, 4), "s (Softmax over each of 3 rows"),
    (lambda L: [L.PReLU(shared_axes=[1], name="p"), L.Flatten()], (4, 3), "p (PReLU shared_axes (1,)"),
    (lambda L: [L.BatchNormalization(axis=1, name="b"), L.Flatten()], (4, 3), "b (BatchNormalization over axis"),
    # hls4ml 1.3's LayerNormalization reader raises on these (checked by conversion)
    (lambda L: [L.Dense(6), L.LayerNormalization(name="ln")], (12,), "ln (LayerNormalization over a 1-axis tensor"),
    (lambda L: [L.LayerNormalization(name="ln"), L.Flatten()], (3, 3, 2), "ln (LayerNormalization over a 3-axis tensor"),
    (lambda L: [L.LayerNormalization(epsilon=0.5, name="ln"), L.Flatten()], (4, 3), "ln (LayerNormalization epsilon 0.5"),
    # nnet_recr_activations.h has relu, sigmoid and tanh only: a linear cell does not compile (checked)
    (lambda L: [L.LSTM(4, activation="linear", name="r")], (5, 3), "r (activation 'linear'"),
]
_BUILT_OTHERWISE = [
    (lambda L: [L.GRU(4, reset_after=False, name="r")], (5, 3), "'r' (GRU reset_after=False"),
    (lambda L: [L.LSTM(4, go_backwards=True, name="r")], (5, 3), "'r' (LSTM go_backwards=True"),
    (lambda L: [L.UpSampling2D(interpolation="bilinear", name="u"), L.Flatten()], (4, 4, 2), "'u' (UpSampling2D interpolation 'bilinear'"),
    (lambda L: [L.Flatten(data_format="channels_first", name="f"), L.Dense(2)], (3, 4), "'f' (Flatten data_format 'channels_first'"),
    (lambda L: [L.Dense(5, activation="softmax", name="d"), L.Flatten()], (3, 4), "'d' (softmax over each of 3 rows"),
    (lambda L: [L.Dense(5), L.Activation("softmax", name="a"), L.Flatten()], (3, 4), "'a' (softmax over each of 3 rows"),
]


@pytest.mark.parametrize("layers, shape, says", _NOT_BUILT)
def test_a_layer_option_hls4ml_cannot_build_is_named_not_priced_and_refused_on_export(tmp_path, layers, shape, says):
    from tensorflow.keras import layers as L

    from hcp_fpga.errors import UnsupportedLayerError
    from hcp_fpga.hls import export_project

    est, model = _estimate(layers(L), shape)
    assert est.lower_bound and any(n.startswith(says) for n in est.unpriced), est.unpriced
    with pytest.raises(UnsupportedLayerError, match=re.escape(says)):
        export_project(Design.create(model, load_board("alveo-u250"), HlsSettings()), tmp_path / "prj")
    assert not (tmp_path / "prj").exists()


@pytest.mark.parametrize("layers, shape, says", _BUILT_OTHERWISE)
def test_a_layer_option_hls4ml_builds_otherwise_is_priced_as_built_said_and_refused_on_export(tmp_path, layers, shape, says):
    from tensorflow.keras import layers as L

    from hcp_fpga.errors import UnsupportedLayerError
    from hcp_fpga.hls import export_project

    est, model = _estimate(layers(L), shape)
    assert not est.unpriced and any(says in n and "computes otherwise than the Keras model" in n for n in est.notes), est.notes
    with pytest.raises(UnsupportedLayerError, match=re.escape(says.strip("'").replace("' (", " ("))):
        export_project(Design.create(model, load_board("alveo-u250"), HlsSettings()), tmp_path / "prj")
    assert not (tmp_path / "prj").exists()


@pytest.mark.parametrize("activation, recurrent_activation, says", [
    ("quantized_tanh(6)", "sigmoid", "a QKeras quantizer as a recurrent layer's activation"),
    ("quantized_relu(4)", "sigmoid", "a QKeras quantizer as a recurrent layer's activation"),
    ("tanh", "quantized_sigmoid(6)", "activation quantized_sigmoid: hls4ml 1.3's QKeras reader refuses its hard sigmoid"),
    ("tanh", "quantized_bits(6)", "activation quantized_bits: hls4ml 1.3's recurrent cells call relu, sigmoid, tanh only"),
])
def test_a_qkeras_recurrent_activation_hls4ml_cannot_build_is_named_and_refused(tmp_path, activation, recurrent_activation,
                                                                               says):
    """hls4ml 1.3 asserts on a QLSTM's hard (quantized_) sigmoid/tanh ('Hard activation not supported'),
    and a quantizer as the cell's activation gives the layer its type, so the cell's C++ does not compile
    (checked for quantized_relu and quantized_tanh(use_real_tanh=True)); each was a ToolError on export."""
    import qkeras as Q
    from tensorflow.keras import layers as L

    from hcp_fpga.errors import UnsupportedLayerError
    from hcp_fpga.hls import export_project

    def quantizer(spec: str):
        return spec if "(" not in spec else getattr(Q, spec.split("(")[0])(int(spec.split("(")[1].rstrip(")")))

    q = Q.quantized_bits(6, 0, alpha=1)
    cell = Q.QLSTM(4, activation=quantizer(activation), recurrent_activation=quantizer(recurrent_activation),
                   kernel_quantizer=q, recurrent_quantizer=q, bias_quantizer=q, name="r")
    est, model = _estimate([cell, L.Dense(2)], (5, 3))
    assert est.lower_bound and any(n.startswith(f"r ({says}") for n in est.unpriced), est.unpriced
    with pytest.raises(UnsupportedLayerError, match=re.escape(says)):
        export_project(Design.create(model, load_board("alveo-u250"), HlsSettings()), tmp_path / "prj")
    assert not (tmp_path / "prj").exists()


def test_a_qkeras_recurrent_activation_hls4ml_builds_is_priced(tmp_path):
    """use_real_sigmoid / quantized_relu as the recurrent activation: hls4ml 1.3 builds a sigmoid / relu
    (checked by C simulation). The relu drops the quantizer's clip and rounding (quantized_relu(4,0):
    argmax agreement with QKeras 0.91 on 300 normal inputs): priced with a note, and export refuses it."""
    import qkeras as Q

    from hcp_fpga.errors import UnsupportedLayerError
    from hcp_fpga.hls import export_project

    q = Q.quantized_bits(6, 0, alpha=1)
    for recurrent in (Q.quantized_sigmoid(6, use_real_sigmoid=True), Q.quantized_relu(4)):
        cell = Q.QLSTM(4, activation="tanh", recurrent_activation=recurrent, kernel_quantizer=q, recurrent_quantizer=q,
                       bias_quantizer=q, name="r")
        est, model = _estimate([cell], (5, 3))
        assert not est.unpriced and est.dsp > 0
        relu = isinstance(recurrent, Q.quantized_relu)
        assert any("computes a plain relu" in n for n in est.notes) == relu
        if relu:
            with pytest.raises(UnsupportedLayerError, match="recurrent_activation quantized_relu: hls4ml 1.3 computes a plain relu"):
                export_project(Design.create(model, load_board("alveo-u250"), HlsSettings()), tmp_path / "prj")


def test_the_default_layer_options_are_built():
    from tensorflow.keras import layers as L

    est, _ = _estimate([L.Conv2D(4, 3, dilation_rate=1, groups=1), L.DepthwiseConv2D(3, depth_multiplier=1),
                        L.UpSampling2D(interpolation="nearest"), L.Flatten(), L.Softmax(axis=-1)], (9, 9, 2))
    rnn, _ = _estimate([L.GRU(4, reset_after=True, return_sequences=True), L.Flatten(), L.Softmax(axis=1)], (5, 3))
    assert not est.unpriced and not rnn.unpriced
    assert not any("computes otherwise" in n for n in est.notes + rnn.notes)


@pytest.mark.parametrize("build, says", [
    (lambda L, i: L.Add(name="m")([L.Dense(4)(i), L.Dense(4)(i), L.Dense(4)(i)]), "m (Add of 3 tensors"),
    (lambda L, i: L.Concatenate(name="m")([L.Dense(4)(i), L.Dense(3)(i), L.Dense(2)(i)]), "m (Concatenate of 3 tensors"),
    (lambda L, i: L.LSTM(4, return_state=True, name="m")(L.Reshape((2, 3))(i))[1], "m (LSTM return_state=True"),
])
def test_what_hls4ml_refuses_to_convert_is_named_not_priced_and_refused_on_export(tmp_path, build, says):
    """hls4ml 1.3's Keras reader raises on these (checked): the estimate named them 'fits' before."""
    import tensorflow as tf
    from tensorflow.keras import layers as L

    from hcp_fpga.errors import UnsupportedLayerError
    from hcp_fpga.hls import export_project

    i = L.Input((6,))
    model = tf.keras.Model(i, build(L, i))
    design = Design.create(model, load_board("alveo-u250"), HlsSettings())
    est = estimate_design(design)
    assert est.lower_bound and any(n.startswith(says) for n in est.unpriced), est.unpriced
    with pytest.raises(UnsupportedLayerError, match=re.escape(says)):
        export_project(design, tmp_path / "prj")
    assert not (tmp_path / "prj").exists()


def test_a_dot_in_io_stream_is_named_not_priced_and_refused_on_export(tmp_path):
    """hls4ml 1.3 has dot1d in nnet_merge.h only: an io_stream project with a Dot does not compile (checked)."""
    import tensorflow as tf
    from tensorflow.keras import layers as L

    from hcp_fpga.errors import UnsupportedLayerError
    from hcp_fpga.hls import export_project

    a, b = L.Input((6,)), L.Input((6,))
    model = tf.keras.Model([a, b], L.Dot(axes=1, name="d")([L.Dense(4)(a), L.Dense(4)(b)]))
    stream = Design.create(model, load_board("alveo-u250"), HlsSettings(io_type=IOType("io_stream")))
    assert any(n.startswith("d (Dot: hls4ml 1.3 writes no io_stream code") for n in estimate_design(stream).unpriced)
    assert not estimate_design(Design.create(model, load_board("alveo-u250"), HlsSettings())).unpriced
    with pytest.raises(UnsupportedLayerError, match=re.escape("d (Dot: hls4ml 1.3 writes no io_stream code")):
        export_project(stream, tmp_path / "prj")
    assert not (tmp_path / "prj").exists()


def _two_readers(first: str, padding: str = "same"):
    """x -> Conv1D -> [first reader, a second Conv1D] -> Add -> Dense: hls4ml 1.3 inserts a 'same'
    Conv1D's zero padding (io_stream) before the first reader of its input."""
    import tensorflow as tf

    L = tf.keras.layers
    tf.keras.utils.set_random_seed(0)
    x = L.Input((12, 4))
    h = L.Conv1D(4, 3, padding="same", name="c0")(x)
    a = {"conv": lambda: L.Conv1D(4, 3, padding="same", name="c1")(h), "dense": lambda: L.Dense(4, name="d")(h),
         "explicit": lambda: L.Conv1D(4, 3, name="c1")(L.ZeroPadding1D(1)(h))}[first]()
    b = L.ZeroPadding1D(1)(h) if padding == "explicit" else h
    b = L.Conv1D(4, 3, padding="valid" if padding == "explicit" else "same", name="c2")(b)
    return tf.keras.Model(x, L.Dense(3)(L.Flatten()(L.Add()([a, b]))))


@pytest.mark.parametrize("first", ["conv", "dense"])
def test_a_same_conv1d_that_is_not_the_first_reader_of_its_input_is_named_in_io_stream(tmp_path, first):
    """hls4ml 1.3 pads the first reader of the tensor instead (C simulation against Keras: argmax
    agreement 0.27 with two 'same' convs, 0.26 with a Dense first): priced as built, said, refused
    on export in io_stream; io_parallel and the conv as the only padded first reader are built right."""
    from hcp_fpga.errors import UnsupportedLayerError
    from hcp_fpga.estimator.model import estimate_design
    from hcp_fpga.hls import export_project
    from hcp_fpga.models import unsupported_layers

    model = _two_readers(first)
    stream = Design.create(model, load_board("alveo-u250"), HlsSettings(io_type="io_stream"))
    est = estimate_design(stream)
    assert not est.unpriced and any("'c2' (a 'same' Conv1D sharing its input in io_stream" in n for n in est.notes), est.notes
    assert [name for name, _ in unsupported_layers(model, "io_stream")] == ["c2"]  # c1 is the first reader: right
    with pytest.raises(UnsupportedLayerError, match="c2 .a 'same' Conv1D sharing its input in io_stream.*pad explicitly"):
        export_project(stream, tmp_path / "prj")
    assert not (tmp_path / "prj").exists()
    assert unsupported_layers(model, "io_parallel") == []
    assert unsupported_layers(_two_readers("explicit", padding="explicit"), "io_stream") == []  # the fix the message names


@pytest.mark.parametrize("other, flagged", [("chain", ["c1"]), ("dense", [])])
def test_a_nested_model_that_is_not_the_first_reader_of_its_input_is_refused(other, flagged):
    """hls4ml 1.3 expands a nested model before the first reader of its input tensor (in the model's
    layer order, which Keras sorts by depth: the longer 'chain' branch comes first): read after
    another layer, it is wired in the wrong place (C simulation against Keras: argmax agreement 0.35
    on 100 normal inputs, both io types; 1.0 with the Dense, where it is the first reader)."""
    import tensorflow as tf

    from hcp_fpga.models import unsupported_layers

    L = tf.keras.layers
    x = L.Input((12, 4))
    h = L.Conv1D(4, 3, padding="same", name="c0")(x)
    a = tf.keras.Sequential([L.ZeroPadding1D(1), L.Conv1D(4, 3)], name="c1")(h)
    b = L.Conv1D(4, 3, name="c2")(L.ZeroPadding1D(1, name="zp")(h)) if other == "chain" else L.Dense(4, name="d")(h)
    model = tf.keras.Model(x, L.Dense(3)(L.Flatten()(L.Add()([a, b]))))
    for io_type in ("io_parallel", "io_stream"):
        assert [name for name, _ in unsupported_layers(model, io_type)] == flagged
    from hcp_fpga.estimator.model import estimate_design

    notes = estimate_design(Design.create(model, load_board("alveo-u250"), HlsSettings())).notes
    said = [f"layer '{name}' ({why}): priced as the Keras model wires it, which hls4ml builds otherwise"
            for name, why in unsupported_layers(model, "io_parallel")]
    assert [n for n in notes if "a nested model reading" in n] == said and len(said) == len(flagged)


@pytest.mark.parametrize("settings, says", [
    ({"layer_reuse": {"td": 2}}, "its reuse factor would have no effect"),
    ({"layer_strategy": {"td": "Resource"}, "layer_reuse": {"td": 4}}, "its reuse factor, strategy would have no effect"),
    ({"layer_types": {"td": {"weight": "ap_fixed<8,3>"}}}, "its types would have no effect"),
], ids=["reuse", "strategy", "types"])
def test_settings_named_for_a_time_distributed_are_refused(settings, says):
    """hls4ml 1.3 builds a TimeDistributed's wrapped Dense from that Dense's own config entry (at
    the model's reuse factor and strategy), so a reuse factor, strategy or type set on the
    TimeDistributed changed nothing on either path, silently (checked on hls4ml's generated layers:
    'td' RF 2 Resource, 'inner' RF 1 latency). Now one line names it; the TimeDistributed alone is valid."""
    import tensorflow as tf
    from tensorflow.keras import layers as L

    from hcp_fpga.errors import ConfigError

    model = tf.keras.Sequential([L.Input((5, 4)), L.TimeDistributed(L.Dense(6, name="inner"), name="td"), L.Flatten(),
                                L.Dense(2)])
    board = load_board("alveo-u250")
    Design.create(model, board, HlsSettings()).validate()
    with pytest.raises(ConfigError, match=re.escape(says) + r".*wrapped layer 'inner'.*remove them from 'td'"):
        Design.create(model, board, HlsSettings(**settings)).validate()


# hls4ml 1.3 builds a TimeDistributed's wrapped Dense as a layer of its own, by its own name, and an end
# marker '<name>_end' casting the loop's output into its type: a config may name both, and its LayerType
# 'Dense' reaches the wrapped Dense. Before, naming them was refused as "not in the model", and a
# LayerType 'Dense' did not reach the wrapped Dense in the estimate or the export.
def test_a_config_may_name_a_time_distributeds_wrapped_layer_and_end_marker(tmp_path):
    import tensorflow as tf
    from tensorflow.keras import layers as L

    from hcp_fpga.errors import ConfigError
    from hcp_fpga.estimator.model import estimate_project
    from hcp_fpga.hls import export_project
    from hcp_fpga.hlsconfig import load_hls_config

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([L.Input((5, 6)), L.TimeDistributed(L.Dense(4, name="inner"), name="td"), L.Flatten(),
                                L.Dense(3, name="out")])
    config = load_hls_config({"LayerType": {"Dense": {"ReuseFactor": 2, "Precision": {"accum": "ap_fixed<20,8>"}}},
                              "LayerName": {"td_end": {"Precision": {"result": "ap_fixed<9,4>"}}}})
    design = Design.create(model, load_board("alveo-u250"), config.for_model(model).apply(HlsSettings()))
    design.validate()
    out = export_project(design, tmp_path / "prj").out_dir
    parameters = (out / "firmware" / "parameters.h").read_text()
    inner = parameters[parameters.index("// inner"):parameters.index("// td_end")]
    assert "reuse_factor = 2;" in inner and "typedef inner_accum_t accum_t;" in inner
    assert "typedef ap_fixed<9,4> layer" in (out / "firmware" / "defines.h").read_text()
    _same_estimate(estimate_design(design), estimate_project(out))
    with pytest.raises(ConfigError, match=r"reuse factor 5 is invalid for layer 'inner'"):
        Design.create(model, load_board("alveo-u250"), HlsSettings(strategy=Strategy.RESOURCE, layer_reuse={"inner": 5})).validate()


# a Bidirectional's accumulator type (the settings' 'accum', which the export writes) is both cells':
# before, the model path looked it up under each cell's name and kept the model default (LUT 22,350
# vs 22,141 from the firmware)
def test_a_bidirectional_layers_accumulator_type_is_both_cells(tmp_path):
    import tensorflow as tf
    from tensorflow.keras import layers as L

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([L.Input((5, 4)), L.Bidirectional(L.LSTM(3, return_sequences=True), name="bi"),
                                L.Flatten(), L.Dense(3)])
    design = Design.create(model, load_board("alveo-u250"), HlsSettings(layer_types={"bi": {"accum": "ap_fixed<14,5>"}},
                                                                       layer_precision={"bi": "ap_fixed<12,5>"}))
    model_path = _one_estimate_from_model_and_export(design, tmp_path)
    default = estimate_design(Design.create(model, load_board("alveo-u250"), HlsSettings()))
    assert model_path.lut != default.lut


# a weight type the settings name for a QLSTM is the one hls4ml 1.3 builds its kernel in (the export
# writes it over the quantizer's, and the LSTM takes no type from a quantizer): before, the model path
# kept the quantizer's (DSP 22 vs 48 from the firmware)
@pytest.mark.parametrize("types", [{"weight": "ap_fixed<10,3>"}, {"recurrent_weight": "ap_fixed<9,3>"}])
def test_a_qlstm_takes_the_kernel_types_its_settings_name(tmp_path, types):
    import tensorflow as tf
    from qkeras import QLSTM
    from tensorflow.keras import layers as L

    tf.keras.utils.set_random_seed(0)
    q = "quantized_bits(4,0,alpha=1)"
    model = tf.keras.Sequential([L.Input((5, 4)), QLSTM(4, activation="tanh", recurrent_activation="sigmoid", kernel_quantizer=q,
                                                        recurrent_quantizer=q, bias_quantizer=q, name="ql"), L.Dense(3)])
    design = Design.create(model, load_board("alveo-u250"), HlsSettings(layer_types={"ql": types}))
    _one_estimate_from_model_and_export(design, tmp_path)


# the accumulator type the settings name for a LayerNormalization (the export writes it over hls4ml's
# 14,4 default) is the one its statistics run in: before, the model path kept 14,4
def test_a_layer_normalizations_accumulator_type_in_the_settings_is_its_statistics(tmp_path):
    import tensorflow as tf
    from tensorflow.keras import layers as L

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([L.Input((6, 8)), L.Dense(8), L.LayerNormalization(name="ln"), L.Flatten(), L.Dense(3)])
    design = Design.create(model, load_board("alveo-u250"), HlsSettings(layer_types={"ln": {"accum": "ap_fixed<20,6>"}}))
    _one_estimate_from_model_and_export(design, tmp_path)
