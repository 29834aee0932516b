"""A layer's plain ``Precision`` string (or a Precision mapping's 'default') in a user's hls4ml config:
hls4ml 1.3 stores it as the layer's ``<layer>_default``, the type of every variable the layer has and
the mapping leaves unnamed: an LSTM's recurrent kernel, a Bidirectional's per-direction kernels, a
BatchNormalization's scale, a PReLU's parameter. The export must build, and the estimate price, what
hls4ml builds from the same config (the last test converts with hls4ml itself and compares)."""

import re
import shutil

import pytest

from hcp_fpga.board_catalog import load_board
from hcp_fpga.design import Design, HlsSettings
from hcp_fpga.errors import ConfigError
from hcp_fpga.estimator.model import estimate_design
from hcp_fpga.hlsconfig import parse_hls_config

T = "ap_fixed<8,3>"


def _model(kind: str):
    import tensorflow as tf
    from tensorflow.keras import layers as L

    tf.keras.utils.set_random_seed(3)
    shape, layers = {
        "lstm": ((5, 3), [L.LSTM(4, name="x")]),
        "gru": ((5, 3), [L.GRU(4, name="x")]),
        "bilstm": ((5, 3), [L.Bidirectional(L.LSTM(4), name="x")]),
        "bigru": ((5, 3), [L.Bidirectional(L.GRU(4), name="x")]),
        "bn": ((8,), [L.BatchNormalization(name="x")]),
        "layernorm": ((5, 4), [L.LayerNormalization(name="x"), L.Flatten()]),
        "prelu": ((8,), [L.PReLU(name="x")]),
        "sep2d": ((6, 6, 2), [L.SeparableConv2D(4, 3, name="x"), L.Flatten()]),
    }[kind]
    model = tf.keras.Sequential([L.Input(shape, name="inp"), *layers, L.Dense(3, name="out")])
    if kind in ("bn", "layernorm", "prelu"):  # trained-looking parameters, not Keras's ones and zeros
        x = model.get_layer("x")
        x.set_weights([w + tf.random.normal(w.shape, stddev=0.3).numpy() for w in x.get_weights()])
    return model


def _settings(model, hls_config: dict):
    parsed = parse_hls_config(hls_config, "test config").for_model(model)
    return parsed.apply(HlsSettings()), parsed.notes


def _design(model, hls_config: dict) -> Design:
    return Design.create(model, load_board("alveo-u250"), _settings(model, hls_config)[0])


# ----------------------------------------------------------------------------- what the config sets


@pytest.mark.parametrize("kind, keys", [
    ("lstm", {"weight", "bias", "recurrent_weight", "recurrent_bias", "accum"}),
    ("bilstm", {"forward_weight", "backward_weight", "forward_recurrent_weight", "backward_recurrent_bias", "accum"}),
    ("bn", {"scale", "bias"}),
    ("prelu", {"param"}),
])
def test_a_plain_type_sets_every_variable_of_the_layer(kind, keys):
    model = _model(kind)
    settings, notes = _settings(model, {"LayerName": {"x": {"Precision": T}}})
    assert keys <= set(settings.layer_types["x"]) and set(settings.layer_types["x"].values()) == {T}
    assert settings.layer_precision["x"] == T and not notes


def test_a_bidirectional_takes_no_weight_or_bias_of_its_own_from_a_plain_type():
    settings, _ = _settings(_model("bigru"), {"LayerName": {"x": {"Precision": T}}})
    assert not {"weight", "bias"} & set(settings.layer_types["x"])  # hls4ml ignores them there: none written


def test_a_mapping_default_leaves_the_variables_it_names_as_named():
    model = _model("lstm")
    settings, _ = _settings(model, {"LayerName": {"x": {"Precision": {"default": T, "result": "auto",
                                                                      "recurrent_weight": "ap_fixed<5,2>"}}}})
    assert "x" not in settings.layer_precision  # 'auto': hls4ml's own choice, not the default
    assert settings.layer_types["x"]["recurrent_weight"] == "ap_fixed<5,2>"
    assert settings.layer_types["x"]["weight"] == T


def test_a_layer_type_plain_type_reaches_the_recurrent_kernel_and_says_nothing_about_other_layers():
    model = _model("lstm")
    settings, notes = _settings(model, {"LayerType": {"LSTM": {"Precision": T}, "Dense": {"Precision": T}},
                                        "LayerName": {"out": {"Precision": {"result": "ap_fixed<12,4>"}}}})
    assert settings.layer_types["x"]["recurrent_weight"] == T
    assert "recurrent_weight" not in settings.layer_types.get("out", {}) and not notes


def test_a_bidirectional_weight_type_is_noted_with_the_keys_hls4ml_reads():
    model = _model("bilstm")
    settings, notes = _settings(model, {"LayerName": {"x": {"Precision": {"weight": T}}}})
    assert "weight" not in settings.layer_types.get("x", {})
    assert len(notes) == 1 and "x.Precision weight: not applied" in notes[0] and "forward_weight" in notes[0]
    with pytest.raises(ConfigError, match="forward_weight"):  # set in the settings directly: refused
        Design.create(model, load_board("alveo-u250"), HlsSettings(layer_types={"x": {"weight": T}})).validate()


def test_a_bidirectional_direction_type_is_built_and_priced():
    model = _model("bilstm")
    plain = estimate_design(_design(model, {}))
    typed = estimate_design(_design(model, {"LayerName": {"x": {"Precision": {"forward_weight": T,
                                                                              "backward_weight": T}}}}))
    forward = lambda est: sum(l.dsp for l in est.layers if l.name.startswith("x_forward"))  # noqa: E731
    backward = lambda est: sum(l.dsp for l in est.layers if l.name.startswith("x_backward"))  # noqa: E731
    assert forward(typed) < forward(plain) and backward(typed) < backward(plain)


def test_a_plain_type_on_an_lstm_narrows_its_recurrent_products_too():
    model = _model("lstm")
    kernel_only = estimate_design(_design(model, {"LayerName": {"x": {"Precision": {"weight": T}}}}))
    plain = estimate_design(_design(model, {"LayerName": {"x": {"Precision": T}}}))
    recurrent = lambda est: sum(l.dsp for l in est.layers if "recurrent" in l.name)  # noqa: E731
    assert recurrent(plain) < recurrent(kernel_only)


# ----------------------------------------------------------------------------- against hls4ml itself

_TYPEDEF = re.compile(r"typedef (.+) (x_\w+);")
CASES = [
    ("lstm", T), ("gru", T), ("bilstm", T), ("bigru", T), ("bn", T), ("layernorm", T), ("prelu", T), ("sep2d", T),
    ("bilstm", {"forward_weight": T, "backward_recurrent_weight": "ap_fixed<6,2>", "result": "ap_fixed<12,4>"}),
    ("bigru", {"default": T, "backward_bias": "ap_fixed<10,3>"}),
    ("lstm", {"default": T, "recurrent_weight": "ap_fixed<5,2>"}),
    ("layernorm", {"scale": "ap_fixed<9,3>"}),
    ("prelu", {"param": "ap_fixed<6,1>", "result": "ap_fixed<10,4>"}),
]


def _layer_typedefs(project) -> dict:
    return {name: t for t, name in _TYPEDEF.findall((project / "firmware" / "defines.h").read_text())
            if name != "x_linear_table_t"}  # (hls4ml's model-granularity config keeps that cast layer; ours removes it)


@pytest.mark.parametrize("kind, precision", CASES)
def test_the_export_types_the_layer_as_hls4ml_does_and_both_paths_price_it_alike(kind, precision, tmp_path):
    import hls4ml

    from hcp_fpga.estimator.model import estimate_project
    from hcp_fpga.hls import export_project

    model = _model(kind)
    entries = {"x": {"Precision": precision}}  # the user's entries, as hls4ml reads them
    if kind == "lstm":  # an LSTM's input in its own type: else hls4ml's C++ does not compile (spec.LSTM_TYPE_CLASH)
        entries["inp"] = {"Precision": {"result": T}}
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
    config["LayerName"].update(entries)
    reference = hls4ml.converters.convert_from_keras_model(model, hls_config=config, output_dir=str(tmp_path / "hls4ml"),
                                                           backend="Vivado", part="xcu250-figd2104-2L-e")
    reference.write()
    design = _design(model, {"LayerName": entries})
    project = export_project(design, tmp_path / "prj").out_dir
    # every type named after the layer (its variables, result, accumulator, tables) is hls4ml's
    theirs = _layer_typedefs(tmp_path / "hls4ml")
    assert theirs and theirs == {name: _layer_typedefs(project).get(name) for name in theirs}
    from_model = estimate_design(design)
    from_firmware = estimate_project(project)
    shutil.rmtree(project / "firmware")  # config + model file only
    from_config = estimate_project(project)
    for r in ("dsp", "bram18", "lut", "ff", "latency_cycles"):
        assert getattr(from_model, r) == pytest.approx(getattr(from_firmware, r), rel=1e-9), r
        assert getattr(from_config, r) == pytest.approx(getattr(from_firmware, r), rel=1e-9), r
