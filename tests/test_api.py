"""The Python API mirrors the CLI: every verb is a function of ``hcp_fpga``; the examples of
docs/api.md run (from a temporary folder); results equal what the CLI prints as JSON."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import yaml

import hcp_fpga
from hcp_fpga.errors import ConfigError
from hcp_fpga.hlsconfig import parse_hls_config, parse_reuse
from tests.conftest import REPO, SHARED, peer, run_cli

VERBS = ["boards", "inspect", "estimate", "export", "csim", "optimize", "report", "sweep", "export_point", "synth"]
API_DOC = REPO / "docs" / "api.md"
BLOCKS = re.findall(r"```python\n(.*?)```", API_DOC.read_text(), re.S)


def test_every_cli_verb_is_a_function_even_after_every_module_is_imported():
    import hcp_fpga.cli as cli
    import hcp_fpga.estimator.model  # noqa: F401 - a module of the same name as a verb would rebind it
    import hcp_fpga.html_report  # noqa: F401
    import hcp_fpga.loop  # noqa: F401
    import hcp_fpga.vendor  # noqa: F401

    parser = cli.build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # noqa: SLF001
    assert {v.replace("_", "-") for v in VERBS} <= commands
    for verb in VERBS:
        assert callable(getattr(hcp_fpga, verb)) and getattr(hcp_fpga, verb).__module__ == "hcp_fpga.api", verb


def test_the_api_doc_has_examples():
    assert len(BLOCKS) >= 4


RUNNER = """
import sys, traceback
blocks = {blocks!r}
for i, code in enumerate(blocks):
    try:
        exec(compile(code, f"docs/api.md block {{i}}", "exec"), {{"__name__": "__main__"}})
    except BaseException:
        print(f"BLOCK {{i}} FAILED", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
print("ALL BLOCKS RAN")
"""


@pytest.mark.slow  # trains, exports and simulates (about 20 s)
def test_api_doc_examples_run(tmp_path):
    """Every python block of docs/api.md, in order, each in a fresh namespace, in one interpreter
    (one TensorFlow import), from a temporary folder where shared/ is ../shared."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} not found: the examples read shared/")
    (tmp_path / "shared").symlink_to(SHARED)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", RUNNER.format(blocks=BLOCKS)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0 and "ALL BLOCKS RAN" in done.stdout, f"{done.stdout[-1500:]}\n{done.stderr[-3000:]}"


def test_estimate_equals_what_the_cli_prints(capsys):
    model, weights = peer("qkeras_3layer")
    r = hcp_fpga.estimate(model, weights=weights, board="pynq-z2", strategy="Resource", reuse="fc1=8,fc2=4,2")
    assert run_cli("estimate", model, "--weights", weights, "--board", "pynq-z2", "--strategy", "Resource",
                   "--reuse", "fc1=8,fc2=4,2", "--json") == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["estimate"]["dsp"] == r.estimate.dsp and printed["estimate"]["lut"] == pytest.approx(r.estimate.lut)
    assert printed["fits"] == r.fits and printed["headroom"] == hcp_fpga.DEFAULT_HEADROOM
    # per-layer reuse reached the design: fc1 at RF 8 needs fewer multipliers than at RF 2
    layers = {l.name: l for l in r.estimate.layers}
    everywhere2 = {l.name: l for l in hcp_fpga.estimate(model, weights=weights, board="pynq-z2", strategy="Resource",
                                                         reuse=2).estimate.layers}
    assert (layers["fc1"].ii, layers["fc2"].ii, layers["fc3"].ii) == (8, 4, 2) == (8, 4, everywhere2["fc3"].ii)


def test_estimate_check_exits_1_when_it_does_not_fit_and_0_when_it_does(capsys):
    model, weights = peer("qkeras_3layer")
    assert run_cli("estimate", model, "--weights", weights, "--board", "zybo-z7-10", "--check", "--quiet") == 1
    assert run_cli("estimate", model, "--weights", weights, "--board", "vcu118", "--check", "--quiet") == 0
    assert capsys.readouterr().out == ""  # --quiet: no tables


@pytest.mark.parametrize("text,expected", [
    ("4", (4, {}, False)), ("fc1=30,fc2=32", (None, {"fc1": 30, "fc2": 32}, False)),
    ("16,fc1=4,auto", (16, {"fc1": 4}, True)), ("auto", (None, {}, True)), (7, (7, {}, False)),
])
def test_reuse_parsing(text, expected):
    r = parse_reuse(text)
    assert (r.default, r.layers, r.snap) == expected


@pytest.mark.parametrize("text,fragment", [
    ("0", ">= 1"), ("fc1=x", "NAME=RF"), ("4,8", "two model-wide"), ("fast", "invalid"), ("=3", "NAME=RF"),
])
def test_bad_reuse_is_refused(text, fragment):
    with pytest.raises(ConfigError, match=fragment):
        parse_reuse(text)


def test_reuse_auto_snaps_each_layer_and_says_so(capsys):
    model, weights = peer("qkeras_3layer")
    assert run_cli("estimate", model, "--weights", weights, "--board", "vcu118", "--strategy", "Resource", "--reuse", "7") == 2
    assert "valid:" in capsys.readouterr().err
    assert run_cli("estimate", model, "--weights", weights, "--board", "vcu118", "--strategy", "Resource",
                   "--reuse", "7,auto", "--quiet") == 0
    err = capsys.readouterr().err
    assert "reuse factor 7 ->" in err and "closest valid" in err


@pytest.mark.parametrize("config,fragment", [
    ({"Modle": {}}, "did you mean 'Model'"),
    ({"LayerName": {"fc1": {"ReuseFactr": 2}}}, "did you mean 'ReuseFactor'"),
    ({"LayerName": {"fc1": {"Precision": {"wieght": "ap_fixed<8,2>"}}}}, "did you mean 'weight'"),
    ({"LayerName": {"fc1": {"Precision": {"weight": "ap_fixed<8,2>; system(1)"}}}}, "not a fixed-point type"),
    ({"LayerName": {"fc1": {"ReuseFactor": 0}}}, ">= 1"),
    ({"LayerName": {"fc1": {"Strategy": "Fast"}}}, "not supported"),
    ({"Model": {"Precision": "float"}}, "not a fixed-point type"),
    ({"HLSConfig": {"Model": {}}, "Prt": "x"}, "did you mean 'Part'"),
    (["Model"], "expected a mapping"),
    ({"Model": {"BramFactor": 100}}, "BramFactor 100 is not supported"),  # weights would become ports
    ({"Model": {"BramFactor": "1e9"}}, "leave the key out"),
    ({"LayerName": {"sm": {"Implementation": "fast"}}}, "not a softmax implementation hls4ml builds"),
    (yaml.safe_load("Model: {Precision: {default: ap_fixed<16,6>}}"), "must be quoted: \"ap_fixed<16,6>\""),
    ({"LayerName": {"sm": {"Skip": "yes"}}}, "use true or false"),
    ({"LayerName": {"c": {"ParallelizationFactor": 0}}}, ">= 1"),
    ({"LayerName": {"c": {"ConvImplementation": "Im2col"}}}, "LineBuffer or Encoded"),
    ({"LayerName": {"g": {"RecurrentReuseFactor": 2}}}, "hls4ml's default, 1"),
    ({"LayerName": {"bn": {"Precision": {"scale": "ap_fixed<8;2>"}}}}, "not a fixed-point type"),
])
def test_bad_hls_configs_name_the_key_and_the_fix(config, fragment):
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        parse_hls_config(config)


def test_a_whole_hls4ml_project_config_is_accepted():
    text = (SHARED / "peer-models" / "qkeras_3layer_config.yml").read_text()
    parsed = parse_hls_config(yaml.safe_load(text))
    assert parsed.precision == "ap_fixed<16,6>" and "Part" in parsed.ignored
    assert parsed.layers["fc1"].types == {"bias": "ap_fixed<6,1>", "weight": "ap_fixed<6,1>"}
    assert parsed.layers["softmax"].types["exp_table"] == "ap_fixed<18,8>" and parsed.layers["softmax"].table_size == 1024
    assert parsed.layers["relu1"].types == {"result": "ap_fixed<7,1,AP_RND_CONV,AP_SAT>"}


def _options_model():
    import tensorflow as tf
    from tensorflow.keras import layers as L

    tf.keras.utils.set_random_seed(0)
    return tf.keras.Sequential([L.Input((10, 10, 2), name="x"), L.Conv2D(4, 3, name="c"), L.BatchNormalization(name="bn"),
                                L.Activation("relu", name="r"), L.MaxPooling2D(name="p"), L.Flatten(name="f"),
                                L.Dense(8, activation="sigmoid", name="fc"), L.Dense(3, name="o"),
                                L.Activation("softmax", name="sm")])


def test_the_config_hls4ml_itself_generates_is_accepted(tmp_path):
    """hls4ml 1.3's config_from_keras_model (granularity 'name', both backends) writes keys a config
    could not hold before (BatchNormalization's 'scale', a conv's ConvImplementation and
    ParallelizationFactor, a softmax's Implementation, Skip and inv_inp, the '<layer>_linear' entries
    it splits off): the first one was refused as unknown. Now the whole file is read, and estimates."""
    import hls4ml

    model = _options_model()
    for backend in ("Vivado", "Vitis"):
        generated = hls4ml.utils.config_from_keras_model(model, granularity="name", backend=backend)
        path = tmp_path / f"{backend}.yml"
        path.write_text(yaml.safe_dump(generated))
        parsed = parse_hls_config(yaml.safe_load(path.read_text()))
        assert parsed.layers["sm"].options == {"Implementation": "stable"} and parsed.layers["c"].options == {}
        assert hcp_fpga.estimate(model, board="zcu104", config=path).estimate.dsp > 0


def _generated_config_models():
    from tensorflow.keras import layers as L

    return {
        "upsampling-separable": [L.Input((8, 8, 2), name="x"), L.UpSampling2D(2, name="up"),
                                 L.SeparableConv2D(4, 3, name="sep"), L.DepthwiseConv2D(3, name="dw"),
                                 L.GlobalAveragePooling2D(name="g"), L.Dense(2, name="d")],
        "recurrent": [L.Input((5, 4), name="x"), L.LSTM(6, return_sequences=True, name="lstm"), L.GRU(4, name="gru"),
                      L.Dense(2, activation="hard_sigmoid", name="d")],
        "time-distributed": [L.Input((5, 4), name="x"), L.TimeDistributed(L.Dense(3), name="td"), L.Flatten(name="f"),
                             L.Dense(2, name="d")],
        "prelu": [L.Input((6,), name="x"), L.Dense(8, name="d"), L.PReLU(name="p"), L.Dense(2, name="o")],
    }


@pytest.mark.parametrize("kind", sorted(_generated_config_models()))
def test_generated_configs_of_other_layer_kinds_are_read(kind):
    """The keys hls4ml's generator writes for upsampling (Algorithm), separable and depthwise convs
    (their '_linear' entries), LSTM/GRU (RecurrentReuseFactor, Static, recurrent types), hard sigmoid
    (slope, shift), TimeDistributed (TimeStepLoopParallelism), a PReLU's type: each was
    refused as unknown (or as a layer not in the model); now the config estimates."""
    import hls4ml
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential(_generated_config_models()[kind])
    config = yaml.safe_load(yaml.safe_dump(hls4ml.utils.config_from_keras_model(model, granularity="name")))
    assert hcp_fpga.estimate(model, board="zcu104", config=config).estimate.lut > 0


def test_a_qkeras_config_from_hls4ml_is_read_and_its_quantizer_types_noted(tmp_path):
    """For a QKeras layer hls4ml's generator writes the quantizers' types under keys hcp_fpga does
    not set (a QDepthwiseConv2D's 'depthwise', a QBatchNormalization's beta/gamma/mean/variance);
    hls4ml builds the quantizers' types whatever the config says, and so do the export and the
    estimate: the same estimate as without the config, and one note per layer saying so."""
    import hls4ml
    import tensorflow as tf
    from qkeras import QBatchNormalization, QDepthwiseConv2D, quantized_bits
    from tensorflow.keras import layers as L

    tf.keras.utils.set_random_seed(0)
    q = quantized_bits(6, 0, alpha=1)
    model = tf.keras.Sequential([L.Input((8, 8, 3), name="x"), QDepthwiseConv2D(3, depthwise_quantizer=q, bias_quantizer=q,
                                                                                 name="dw"),
                                 QBatchNormalization(name="qbn"), L.Flatten(name="f"), L.Dense(2, name="d")])
    config = yaml.safe_load(yaml.safe_dump(hls4ml.utils.config_from_keras_model(model, granularity="name")))
    with_config = hcp_fpga.estimate(model, board="zcu104", config=config)
    assert with_config.estimate.totals() == hcp_fpga.estimate(model, board="zcu104").estimate.totals()
    assert any("LayerName.dw.Precision depthwise: not applied" in n for n in with_config.notes)
    assert any("LayerName.qbn.Precision beta, gamma, mean, variance: not applied" in n for n in with_config.notes)


@pytest.mark.parametrize("entry, io_type", [
    ({"sm": {"Implementation": "argmax"}}, "io_parallel"),
    ({"sm": {"Implementation": "latency"}}, "io_stream"),
    ({"sm": {"Skip": True}}, "io_stream"),
    ({"c": {"ParallelizationFactor": 4}}, "io_parallel"),
], ids=["argmax", "latency-stream", "skip-stream", "parallelization"])
def test_layer_options_reach_hls4ml_and_give_one_estimate(tmp_path, entry, io_type):
    """A config's softmax Implementation/Skip and a conv's ParallelizationFactor: the exported
    project is built that way by hls4ml (its parameters.h), and the estimate of the model with the
    config equals the estimate of the exported folder, which reads that firmware."""
    import re as regex

    model, config = _options_model(), {"LayerName": entry}
    out = tmp_path / "prj"
    hcp_fpga.export(model, out, board="zcu104", io_type=io_type, config=config)
    parameters = (out / "firmware" / "parameters.h").read_text()
    implementation = regex.findall(r"softmax_implementation::(\w+)", parameters)
    options = entry.get("sm", {})
    assert implementation == ([] if options.get("Skip") else [options.get("Implementation", "stable")])
    if "c" in entry:
        assert "n_partitions = 16;" in parameters  # 64 output pixels / 4
    from_model = hcp_fpga.estimate(model, board="zcu104", io_type=io_type, config=config).estimate
    from_folder = hcp_fpga.estimate(out).estimate
    for r in ("dsp", "lut", "ff", "bram18", "latency_cycles"):
        assert getattr(from_model, r) == pytest.approx(getattr(from_folder, r), rel=1e-9), r
    plain = hcp_fpga.estimate(model, board="zcu104", io_type=io_type).estimate
    assert (from_model.lut, from_model.latency_cycles) != (plain.lut, plain.latency_cycles)


def test_layer_type_and_model_variable_types_apply_per_layer(tmp_path):
    """A config's LayerType entries (by hls4ml class, under a layer's own LayerName entry) and Model
    Precision variable types (every layer's weight/accum): refused before ('LayerType settings are
    not supported'; 'unknown key weight'). Now written into each layer as hls4ml does
    (spec.with_layer_types, the project path's rule): the exported firmware has them, the model's
    estimate equals the exported folder's, and a class no layer has is named in a note."""
    model = _options_model()
    config = {"Model": {"Precision": {"default": "ap_fixed<16,6>", "weight": "ap_fixed<10,4>"}},
              "LayerType": {"Dense": {"ReuseFactor": 4, "Strategy": "Resource"}, "Dens": {"ReuseFactor": 2}},
              "LayerName": {"o": {"ReuseFactor": 8}}}
    out = tmp_path / "prj"
    hcp_fpga.export(model, out, board="zcu104", config=config)
    applied = {layer["name"]: layer for layer in json.loads((out / "hcp_fpga.json").read_text())["layers"]}
    assert applied["fc"]["reuse_factor"] == 4 and applied["o"]["reuse_factor"] == 8  # the name's entry wins
    assert "typedef ap_fixed<10,4> fc_weight_t;" in (out / "firmware" / "defines.h").read_text()
    from_model = hcp_fpga.estimate(model, board="zcu104", config=config)
    from_folder = hcp_fpga.estimate(out).estimate
    for r in ("dsp", "lut", "ff", "bram18", "latency_cycles"):
        assert getattr(from_model.estimate, r) == pytest.approx(getattr(from_folder, r), rel=1e-9), r
    assert any("LayerType.Dens: no layer of this model is an hls4ml 'Dens'" in n for n in from_model.notes)


def test_inspect_checks_weights_against_layer_type_weight_types():
    """inspect's weight checks use the types the config gives each layer, LayerType entries too
    (they applied to no layer before the model was known)."""
    model = _options_model()
    model.get_layer("o").set_weights([np.full((8, 3), 20.0, np.float32), np.zeros(3, np.float32)])
    typed = hcp_fpga.inspect(model, config={"LayerType": {"Dense": {"Precision": {"weight": "ap_fixed<6,3>"}}}})
    assert [(w.layer, w.weight_type, w.overflow) for w in typed.warnings if w.overflow] == [("o", "ap_fixed<6,3>", 24)]
    assert not any(w.overflow for w in hcp_fpga.inspect(model).warnings)  # 20 fits the default ap_fixed<16,6>
    # and it says what the config reads and does not apply, as estimate and export do
    noted = hcp_fpga.inspect(model, config={"LayerType": {"Dens": {"ReuseFactor": 2}}})
    assert any("LayerType.Dens: no layer of this model" in n for n in noted.notes) and "notes" in noted.as_dict()


@pytest.mark.parametrize("entry, fragment", [
    ({"c": {"Skip": True}}, "Skip applies to a softmax layer"),
    ({"sm": {"ParallelizationFactor": 2}}, "ParallelizationFactor applies to a convolution"),
])
def test_layer_options_on_the_wrong_layer_are_refused(entry, fragment):
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        hcp_fpga.estimate(_options_model(), board="zcu104", config={"LayerName": entry})


def test_hls_config_pins_types_and_reuse_in_the_exported_project(tmp_path, capsys):
    """The user's per-layer weight/result types and reuse factor reach hls4ml's config exactly, and the
    estimate prices the pinned weight type (narrow weights: fewer DSPs)."""
    model, weights = peer("KERAS_3layer")
    config = tmp_path / "hls.yml"
    config.write_text(yaml.safe_dump({"Model": {"Strategy": "Resource", "ReuseFactor": 2},
                                      "LayerName": {"fc1_relu": {"ReuseFactor": 4, "Precision": {"weight": "ap_fixed<6,1>",
                                                                                            "result": "ap_fixed<12,5>"}}}}))
    out = tmp_path / "prj"
    assert run_cli("export", model, "--weights", weights, "--board", "vcu118", "-o", out, "--config", config, "--quiet") == 0
    applied = {layer["name"]: layer for layer in json.loads((out / "hcp_fpga.json").read_text())["layers"]}
    assert applied["fc1_relu"]["reuse_factor"] == 4 and applied["fc2_relu"]["reuse_factor"] == 2
    assert applied["fc1_relu"]["precision"]["weight"] == "ap_fixed<6,1>" and applied["fc1_relu"]["precision"]["result"] == "ap_fixed<12,5>"
    defines = (out / "firmware" / "defines.h").read_text()
    assert "typedef ap_fixed<6,1> fc1_relu_weight_t;" in defines and "typedef ap_fixed<12,5> layer2_t;" in defines
    pinned = hcp_fpga.estimate(model, weights=weights, board="vcu118", config=config)
    free = hcp_fpga.estimate(model, weights=weights, board="vcu118", strategy="Resource", reuse="2,fc1_relu=4")
    fc1_pinned = next(l for l in pinned.estimate.layers if l.name == "fc1_relu")
    fc1_free = next(l for l in free.estimate.layers if l.name == "fc1_relu")
    assert fc1_pinned.dsp < fc1_free.dsp  # 6-bit weights are fabric products
    # a flag overrides the file's Model value, never its LayerName values
    flagged = hcp_fpga.estimate(model, weights=weights, board="vcu118", config=config, reuse=8)
    assert {l.name: l.ii for l in flagged.estimate.layers}["fc1_relu"] == {l.name: l.ii for l in pinned.estimate.layers}["fc1_relu"]


def test_inspect_warns_when_weights_fall_below_one_lsb(tmp_path, capsys):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((8,), name="x")
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(4, name="tiny")(tf.keras.layers.Dense(4, name="fine")(inputs)))
    model.get_layer("tiny").set_weights([np.full((4, 4), 1e-5, np.float32), np.zeros(4, np.float32)])
    model.save(tmp_path / "m.h5")
    assert run_cli("inspect", tmp_path / "m.h5") == 0
    err = capsys.readouterr().err
    assert "layer 'tiny': all nonzero weights are below one step of ap_fixed<16,6>" in err and "'fine'" not in err
    assert run_cli("inspect", tmp_path / "m.h5", "--precision", "ap_fixed<32,6>") == 0
    assert "below one step" not in capsys.readouterr().err
    model.get_layer("fine").set_weights([np.full((8, 4), 100.0, np.float32), np.zeros(4, np.float32)])
    model.save(tmp_path / "m.h5")
    assert run_cli("inspect", tmp_path / "m.h5", "--json") == 0
    assert any("exceed the range" in w for w in json.loads(capsys.readouterr().out)["warnings"])


@pytest.mark.slow  # a g++ build of a whole project: make test-slow
def test_csim_npz_with_test_arrays_only_lowercase_keys_and_a_reshape(qkeras_project, tmp_path, capsys):
    x = np.random.default_rng(0).standard_normal((30, 16)).astype(np.float32)
    np.savez(tmp_path / "t.npz", x_test=x.reshape(30, 1, 16), Y_TEST=np.zeros(30, np.int64))
    assert run_cli("csim", qkeras_project.out_dir, "--data", tmp_path / "t.npz", "--json") == 0
    r = json.loads(capsys.readouterr().out)
    assert r["n_samples"] == 30 and r["argmax_agreement"] > 0.9
    np.savez(tmp_path / "bad.npz", x_test=x[:, :15], y_test=np.zeros(30, np.int64))
    assert run_cli("csim", qkeras_project.out_dir, "--data", tmp_path / "bad.npz") == 2
    assert "expects (16,)" in capsys.readouterr().err


def test_optimize_config_is_checked_before_anything_runs(tmp_path, capsys):
    (tmp_path / "hls.yml").write_text("LayerName:\n  fc1: {ReuseFactr: 4}\n")
    (tmp_path / "project.yaml").write_text("name: p\nmodel: {builder: mlp}\nboard: arty-a7-35t\nhls_config: hls.yml\n")
    assert run_cli("optimize", tmp_path, "--out", tmp_path / "out") == 2
    assert "did you mean 'ReuseFactor'" in capsys.readouterr().err and not (tmp_path / "out").exists()
    (tmp_path / "hls.yml").write_text("LayerName:\n  fc1: {ReuseFactor: 4}\n")
    (tmp_path / "other.yml").write_text("Model: {Strategy: Fastest}\n")
    assert run_cli("optimize", tmp_path, "--out", tmp_path / "out", "--config", tmp_path / "other.yml") == 2
    assert "Strategy 'Fastest' is not supported" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_a_separable_conv_reuse_factor_must_suit_both_arrays_hls4ml_splits_it_into(tmp_path, capsys):
    """hls4ml 1.3 splits a SeparableConv2D into a depthwise and a pointwise conv and moves an RF that
    either array rejects to its closest valid one without a word (its convert log): RF 2 on a 3x3
    kernel over 3 channels became 1 for both, and the estimate priced 2. The RF is checked for each
    array (a depthwise conv's too), and 'auto' takes the closest one valid for all of them."""
    import tensorflow as tf

    from hcp_fpga.models import array_sizes

    L = tf.keras.layers
    model = tf.keras.Sequential([L.Input((8, 8, 3)), L.SeparableConv2D(4, 3, name="sep"), L.DepthwiseConv2D(3, name="dw"),
                                 L.Flatten(), L.Dense(3, name="out")])
    assert array_sizes(model.layers[0]) == {"sep_depthwise": (27, 3), "sep_pointwise": (3, 4)}
    assert array_sizes(model.layers[1]) == {"dw": (36, 4)}
    assert array_sizes(model.layers[3]) is None
    lstm = tf.keras.Sequential([L.Input((5, 4)), L.LSTM(6, name="cell")]).layers[0]
    assert array_sizes(lstm) == {"cell": (4, 24), "cell recurrent": (6, 24)}  # hls4ml 1.3 checks both
    path = tmp_path / "m.h5"
    model.save(path)
    # (io_stream: hls4ml 1.3 has no io_parallel Resource depthwise conv, which is refused first)
    assert run_cli("estimate", path, "--board", "vcu118", "--strategy", "Resource", "--reuse", "3,out=1") == 2
    assert "layer 'sep' (SeparableConv2D): hls4ml 1.3 has no io_parallel Resource depthwise" in capsys.readouterr().err
    args = ("estimate", path, "--board", "vcu118", "--strategy", "Resource", "--io-type", "io_stream")
    assert run_cli(*args, "--reuse", "2,out=1") == 2
    err = capsys.readouterr().err
    assert "reuse factor 2 is invalid for layer 'sep' (its array 'sep_depthwise', 27x3, Resource); valid for all of it: 1,3" in err
    assert run_cli(*args, "--reuse", "3,dw=5,out=1", "--quiet") == 2  # dw's 36x4 array takes 1,2,3,4,6,9,...
    assert "reuse factor 5 is invalid for layer 'dw' (its array 'dw', 36x4, Resource)" in capsys.readouterr().err
    assert run_cli(*args, "--reuse", "2,out=1,auto", "--quiet") == 0
    err = capsys.readouterr().err
    assert "layer 'sep': reuse factor 2 -> 1 (closest valid for its multiplier arrays)" in err
