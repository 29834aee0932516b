import json

import numpy as np
import pytest

from hcp_fpga.errors import ModelLoadError, UnsupportedLayerError
from hcp_fpga.models import check_convertible, inspect_model, load_model, model_hash, unsupported_layers
from tests.conftest import PEERS, SHARED, peer, run_cli

PEER_PAIRS = [
    ("KERAS_3layer", None),
    ("KERAS_3layer", "KERAS_3layer_70pruned_retrained_weights"),
    ("KERAS_3layer", "KERAS_3layer_95pruned_retrained_weights"),
    ("KERAS_3layer_batch_norm", None),
    ("qkeras_3layer", None),
    ("qkeras_mnist_dense", None),
    ("jetTagger_Conv2D_Small_NoBatchNorm", None),
    ("KERAS_conv1d_small", None),
    ("KERAS_dense_16x200x200x200x200x200x5", None),
]


@pytest.mark.parametrize("name,weights", PEER_PAIRS)
def test_every_peer_model_loads_and_is_inspectable(name, weights):
    model = load_model(*peer(name, weights))
    rows = inspect_model(model)
    assert sum(r.params for r in rows) == model.count_params()
    assert unsupported_layers(model) == []  # Dropout is dropped by hls4ml, not unsupported
    for r in rows:
        assert 0 <= r.nonzero_weights <= r.weights


def test_inspect_sees_pruning_and_quantizers():
    dense = {r.name: r for r in inspect_model(load_model(*peer("KERAS_3layer")))}
    pruned = {r.name: r for r in inspect_model(load_model(*peer("KERAS_3layer", "KERAS_3layer_70pruned_retrained_weights")))}
    total = sum(r.weights for r in pruned.values())
    zero_frac = 1 - sum(r.nonzero_weights for r in pruned.values()) / total
    assert 0.6 < zero_frac < 0.8  # README of shared: about 69 % zeros
    assert dense["fc1_relu"].nonzero_weights > pruned["fc1_relu"].nonzero_weights
    q = {r.name: r for r in inspect_model(load_model(*peer("qkeras_3layer")))}
    assert q["fc1"].weight_bits.startswith("quantized_bits(6,0")
    assert q["relu1"].activation_bits == "quantized_relu(6,0)"
    assert dense["fc1_relu"].weight_bits == "float"
    po2 = {r.name: r for r in inspect_model(load_model(*peer("qkeras_mnist_dense")))}
    assert po2["q_dense_2"].weight_bits.startswith("quantized_po2(4")


def test_cli_inspect_json(capsys):
    j, w = peer("qkeras_3layer")
    assert run_cli("inspect", j, "--weights", w, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in data["layers"]][:2] == ["fc1", "relu1"]
    assert data["unsupported_by_hls4ml"] == []


def _lambda_model():
    import tensorflow as tf

    inp = tf.keras.Input((4,))
    x = tf.keras.layers.Dense(3)(inp)
    x = tf.keras.layers.Lambda(lambda t: t * 2.0, name="times_two")(x)
    return tf.keras.Model(inp, x)


def test_lambda_is_refused_in_json_and_h5_unless_opted_in(tmp_path, capsys):
    model = _lambda_model()
    (tmp_path / "m.json").write_text(model.to_json())
    model.save_weights(tmp_path / "w.h5")
    model.save(tmp_path / "full.h5")
    for args in [(tmp_path / "m.json", tmp_path / "w.h5"), (tmp_path / "full.h5", None)]:
        with pytest.raises(ModelLoadError, match=r"times_two \(Lambda\).*--allow-unsafe"):
            load_model(*args)
    assert run_cli("inspect", tmp_path / "full.h5") == 2
    err = capsys.readouterr().err
    assert "Lambda" in err and "--allow-unsafe" in err
    loaded = load_model(tmp_path / "full.h5", allow_unsafe=True)
    assert [type(l).__name__ for l in loaded.layers][-1] == "Lambda"


def test_unsupported_layers_are_all_listed(tmp_path, capsys):
    import tensorflow as tf

    inp = tf.keras.Input((8,))
    x = tf.keras.layers.GaussianNoise(0.1, name="noise")(inp)
    x = tf.keras.layers.Dense(4, name="fc")(x)
    x = tf.keras.layers.ActivityRegularization(name="act_reg")(x)
    model = tf.keras.Model(inp, x)
    with pytest.raises(UnsupportedLayerError, match=r"2 layer\(s\): noise \(GaussianNoise\), act_reg \(ActivityRegularization\)"):
        check_convertible(model)
    model.save(tmp_path / "m.h5")
    out = tmp_path / "prj"
    assert run_cli("export", tmp_path / "m.h5", "--board", "pynq-z2", "-o", out) == 2
    err = capsys.readouterr().err
    assert "noise (GaussianNoise)" in err and "act_reg (ActivityRegularization)" in err
    assert not out.exists()  # refused before any work


def test_corrupt_h5_and_weights_only_h5(tmp_path, capsys):
    bad = tmp_path / "corrupt.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"garbage" * 100)
    assert run_cli("inspect", bad) == 2
    assert "corrupt or not a Keras model" in capsys.readouterr().err
    with pytest.raises(ModelLoadError, match="weights only"):
        load_model(PEERS / "KERAS_3layer_weights.h5")
    with pytest.raises(ModelLoadError, match="pass its weights with --weights"):
        load_model(PEERS / "KERAS_3layer.json")
    with pytest.raises(ModelLoadError, match="do not fit"):
        load_model(PEERS / "KERAS_3layer.json", PEERS / "qkeras_mnist_dense_weights.h5")


def test_keras3_file_is_refused_with_a_way_out(tmp_path):
    import zipfile

    # shared/'s conv1d .keras says keras_version 2.14.0 in its metadata, so it loads here ...
    conv = load_model(SHARED / "reports" / "conv1d-vitis2024-u250" / "keras_model.keras")
    assert "Conv1D" in [type(l).__name__ for l in conv.layers]
    # ... while a file really written by Keras 3 is refused with a way out.
    with zipfile.ZipFile(tmp_path / "k3.keras", "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.5.0"}))
        z.writestr("config.json", json.dumps({"class_name": "Sequential", "config": {"layers": []}}))
    with pytest.raises(ModelLoadError, match="written by Keras 3.5.0.*export it as JSON"):
        load_model(tmp_path / "k3.keras")


def test_formats_round_trip(tmp_path, qkeras_3layer):
    from hcp_fpga.models import build_mlp

    model = build_mlp(8, (6,), 3)
    x = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    ref = model.predict(x, verbose=0)
    model.save(tmp_path / "m.h5")
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "saved")  # SavedModel folder
    for path in ["m.h5", "m.keras", "saved"]:
        loaded = load_model(tmp_path / path)
        np.testing.assert_allclose(loaded.predict(x, verbose=0), ref, rtol=1e-6)
        assert model_hash(loaded) == model_hash(model)
    # A QKeras model written by this Keras (2.14) loads back (QActivation fix-up).
    (tmp_path / "q.json").write_text(qkeras_3layer.to_json())
    qkeras_3layer.save_weights(tmp_path / "q.h5")
    again = load_model(tmp_path / "q.json", tmp_path / "q.h5")
    assert model_hash(again) == model_hash(qkeras_3layer)


def test_a_qlstm_model_written_by_keras_loads_back(tmp_path):
    """Keras 2.14 builds a registered (QKeras) layer from its saved build_config, whose input shape
    JSON makes a list, which its RNN.build takes for a list of shapes: a QLSTM model's JSON did not
    load ("as_list() is not defined on an unknown TensorShape"), so `hcp-fpga csim` of an exported
    QLSTM project failed."""
    import tensorflow as tf
    from qkeras import QLSTM

    from hcp_fpga.models import write_model

    tf.keras.utils.set_random_seed(0)
    q = "quantized_bits(8,0,alpha=1)"
    model = tf.keras.Sequential([tf.keras.layers.Input((5, 4)), QLSTM(4, kernel_quantizer=q, recurrent_quantizer=q,
                                                                      bias_quantizer=q, activation="tanh"),
                                 tf.keras.layers.Dense(3)])
    again = load_model(*write_model(model, tmp_path, "m"))
    x = np.random.default_rng(0).standard_normal((4, 5, 4)).astype(np.float32)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_savedmodel_with_lambda_is_refused(tmp_path):
    _lambda_model().save(tmp_path / "saved")
    with pytest.raises(ModelLoadError, match="Lambda"):
        load_model(tmp_path / "saved")


def test_a_qkeras_model_saved_as_keras_zip_loads_with_its_weights():
    """QKeras 0.9 layers do not come back from the .keras format through Keras (nor QKeras's own
    load_qmodel: 'QActivation ... could not be deserialized'); hls4ml 1.3 saves its projects' models
    so (tests/fixtures/da4ml). The loader builds the architecture it checked and loads the file's
    weights: the QDense kernels are the zip's."""
    import io
    import zipfile
    from pathlib import Path

    import h5py

    path = Path(__file__).parent / "fixtures" / "da4ml" / "dense-io_parallel" / "keras_model.keras"
    model = load_model(path)
    assert [type(l).__name__ for l in model.layers] == ["QActivation", "QDense", "QActivation", "QDense"]
    with zipfile.ZipFile(path) as z, h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
        stored = [np.asarray(f["_layer_checkpoint_dependencies"][name]["vars"]["0"]) for name in ("q_dense", "q_dense_1")]
    kernels = [l.get_weights()[0] for l in model.layers if type(l).__name__ == "QDense"]
    assert all(np.array_equal(a, b) for a, b in zip(stored, kernels))
