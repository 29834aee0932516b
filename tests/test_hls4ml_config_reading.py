"""How a project's hls4ml_config.yml is read where the folder holds no generated C++ (config + model
file, the layout of published repositories): as hls4ml 1.3 reads it. LayerType settings by hls4ml's
layer class, the strategy names hls4ml knows (any other builds its Latency kernel), and the
distributed-arithmetic strategy (da4ml adder graphs: named, not priced). Each is checked against
what hls4ml writes for the same config: the firmware path reads that."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from hcp_fpga.board_catalog import load_board
from hcp_fpga.errors import Hls4mlYamlLoader
from hcp_fpga.estimator.model import estimate_project
from hcp_fpga.estimator.spec import DA_NOT_PRICED, hls4ml_strategy

DA = Path(__file__).parent / "fixtures" / "da4ml"
RESOURCES = ("dsp", "bram18", "lut", "ff", "latency_cycles")


class _KerasModel(yaml.SafeLoader):
    """hls4ml's config marks the model path with a ``!keras_model`` tag."""


_KerasModel.add_constructor("!keras_model", lambda loader, node: loader.construct_scalar(node))


def _config_only(project: Path, dest: Path, edit=None) -> Path:
    """The project as a repository keeps it: hls4ml_config.yml and the model file, no firmware.
    ``edit(config)`` changes the config first."""
    dest.mkdir()
    shutil.copy(project / "keras_model.keras", dest)
    config = yaml.load((project / "hls4ml_config.yml").read_text(), Loader=_KerasModel)
    config["KerasModel"] = "keras_model.keras"
    if edit:
        edit(config)
    (dest / "hls4ml_config.yml").write_text(yaml.safe_dump(config))
    return dest


def _written(tmp_path: Path, layers: list, edit, io_type: str = "io_parallel") -> Path:
    """The project hls4ml 1.3 writes for a Keras MLP over 16 inputs (``layers``), with its
    granularity='model' config changed by ``edit(config)``."""
    import hls4ml
    import tensorflow as tf
    from tensorflow.keras import layers as L

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([L.Input((16,)), *[L.Dense(n, activation=act, name=name) for name, n, act in layers]])
    config = hls4ml.utils.config_from_keras_model(model, granularity="model")
    edit(config)
    written = tmp_path / "written"
    hls4ml.converters.convert_from_keras_model(model, hls_config=config, output_dir=str(written), io_type=io_type,
                                               part="xcu250-figd2104-2L-e").write()
    return written


@pytest.mark.parametrize("value, built", [
    ("Latency", "Latency"), ("latency", "Latency"), ("Resource", "Resource"), ("resource", "Resource"),
    ("ResourceUnrolled", "ResourceUnrolled"), ("resource_unrolled", "ResourceUnrolled"),
    ("distributed_arithmetic", "DistributedArithmetic"), ("DistributedArithmetic", "DistributedArithmetic"),
    ("da", "DistributedArithmetic"), ("Stable", "Latency"), ("RESOURCE", "Latency"), (None, None), ("", None)])
def test_a_strategy_is_the_kernel_hls4ml_builds_for_it(value, built):
    """hls4ml 1.3 snake-cases the name (convert_to_snake_case) and compares it with the names its
    backend knows; anything else ('Stable'; 'RESOURCE' becomes 'r_e_s_o_u_r_c_e') is Latency."""
    assert hls4ml_strategy(value) == built


def test_layer_type_settings_apply_by_hls4ml_class_as_in_the_firmware_hls4ml_writes(tmp_path):
    """LayerType: Dense sets RF 4 and Resource for every Dense, its 'activation' entry (any case, as
    hls4ml reads Precision/ReuseFactor/Strategy) the type of the split ReLUs but not of the softmax
    (class Softmax); LayerName fc2's RF 8 wins over the type's. The config + model folder gives the
    estimate of the firmware hls4ml 1.3 writes for that config, layer by layer. Before, LayerType
    was not read: fc1 at Latency RF 1 (518 DSP, against 217)."""
    def edit(config):
        config["LayerType"] = {"Dense": {"ReuseFactor": 4, "Strategy": "Resource", "Precision": {"result": "ap_fixed<12,5>"}},
                               "activation": {"Precision": "ap_fixed<10,4>"}}
        config["LayerName"] = {"fc2": {"ReuseFactor": 8}}

    written = _written(tmp_path, [("fc1", 32, "relu"), ("fc2", 16, "relu"), ("out", 5, "softmax")], edit)
    firmware, from_config = estimate_project(written), estimate_project(_config_only(written, tmp_path / "repo"))
    assert [l.name for l in from_config.layers] == [l.name for l in firmware.layers]
    for ours, theirs in zip(from_config.layers, firmware.layers):
        for r in RESOURCES:
            assert getattr(ours, r) == pytest.approx(getattr(theirs, r), rel=1e-9), (ours.name, r)
    layers = {l.name: l for l in from_config.layers}
    assert layers["fc1"].ii == 4 and layers["fc2"].ii == 8 and layers["fc1"].bram18 > 0  # Resource: weights in BRAM


def test_layer_type_keys_name_hls4ml_classes_not_qkeras_ones(tmp_path):
    """A QDense is hls4ml's class Dense: a 'Dense' LayerType entry sets its reuse factor, a 'QDense'
    one (what hls4ml's own granularity='type' config writes) sets nothing, as in hls4ml 1.3."""
    def with_type(key):
        def edit(config):
            config["HLSConfig"]["Model"]["Strategy"] = "Latency"
            config["HLSConfig"]["LayerType"] = {key: {"ReuseFactor": 4, "Strategy": "Resource"}}
        return edit

    dense = estimate_project(_config_only(DA / "dense-io_parallel", tmp_path / "dense", with_type("Dense")))
    qdense = estimate_project(_config_only(DA / "dense-io_parallel", tmp_path / "qdense", with_type("QDense")))
    assert {l.name: l.ii for l in dense.layers if l.kind == "dense"} == {"fc1": 4, "out": 4}
    assert {l.name: l.ii for l in qdense.layers if l.kind == "dense"} == {"fc1": 1, "out": 1}


@pytest.mark.parametrize("fixture", sorted(p.name for p in DA.glob("*-io_*")))
def test_distributed_arithmetic_layers_are_named_not_priced_on_both_paths(fixture, tmp_path):
    """hls4ml 1.3 with da4ml (tests/fixtures/da4ml/generate.py) builds each Dense/Conv as an adder
    graph: in io_parallel a generated dense_da_<N> function or a conv1d_cl<config> wrapper call, in
    io_stream a dense call whose config says nnet::distributed_arithmetic. Both paths name those
    layers as not priced (the estimate a lower bound that cannot say 'fits') and agree on the rest.
    Before: the firmware path priced the io_stream ones as Latency layers, the config path every one
    as a Resource layer."""
    project = DA / fixture
    firmware = estimate_project(project)
    from_config = estimate_project(_config_only(project, tmp_path / "repo"))
    for est in (firmware, from_config):
        assert est.unpriced and all(DA_NOT_PRICED in name for name in est.unpriced)
        assert {n.split(" (")[0] for n in est.unpriced} == ({"conv", "out"} if "conv" in fixture else {"fc1", "out"})
        assert not est.verdict(load_board("alveo-u250")).fits
    for r in RESOURCES:
        assert getattr(from_config, r) == pytest.approx(getattr(firmware, r), rel=1e-9), r


def test_a_strategy_hls4ml_does_not_know_is_priced_as_its_latency_kernel_and_said(tmp_path):
    def stable(config):
        config["HLSConfig"]["Model"]["Strategy"] = "Stable"

    est = estimate_project(_config_only(DA / "dense-io_parallel", tmp_path / "repo", stable))
    assert not est.unpriced and {l.name for l in est.layers if l.kind == "dense"} == {"fc1", "out"}
    assert any("Model: Strategy 'Stable' is not one hls4ml knows" in n for n in est.notes)
    by_type = estimate_project(_config_only(DA / "dense-io_parallel", tmp_path / "by_type", lambda c: c["HLSConfig"].update(
        LayerType={"Dense": {"Strategy": "Stable"}}, Model={**c["HLSConfig"]["Model"], "Strategy": "Latency"})))
    assert [n for n in by_type.notes if "Strategy" in n] == [
        "LayerType.Dense: Strategy 'Stable' is not one hls4ml knows (Latency, Resource, ResourceUnrolled, "
        "DistributedArithmetic); hls4ml builds its Latency kernel for it, and the estimate prices that"]  # once, not per layer
    latency = estimate_project(_config_only(DA / "dense-io_parallel", tmp_path / "latency",
                                            lambda c: c["HLSConfig"]["Model"].update(Strategy="Latency")))
    assert (est.dsp, est.lut, est.ff) == (latency.dsp, latency.lut, latency.ff)
    assert not any("Strategy" in n for n in latency.notes)


def test_a_split_activation_gets_its_own_entry_s_reuse_factor(tmp_path):
    """hls4ml gives the softmax it splits off a Dense the reuse factor of its own LayerName entry
    (out_softmax: 5) and the split ReLU its class's (LayerType Activation: 2); the io_stream softmax
    limits its products by it (2 DSP, 8 cycles, II 5, in the firmware hls4ml writes). The config
    path read only the graph nodes' entries: the softmax at the model's RF 1 (10 DSP, 4 cycles)."""
    written = _written(tmp_path, [("fc1", 32, "relu"), ("out", 10, "softmax")], lambda c: c.update(
        LayerName={"out_softmax": {"ReuseFactor": 5}}, LayerType={"Activation": {"ReuseFactor": 2}}), "io_stream")
    whole = estimate_project(written), estimate_project(_config_only(written, tmp_path / "repo"))
    firmware, from_config = ({l.name: l for l in est.layers} for est in whole)
    for r in RESOURCES:
        assert getattr(whole[1], r) == pytest.approx(getattr(whole[0], r), rel=1e-9), r
    for name, theirs in firmware.items():
        for r in (*RESOURCES, "ii"):
            assert getattr(from_config[name], r) == pytest.approx(getattr(theirs, r), rel=1e-9), (name, r)
    assert (from_config["out_softmax"].dsp, from_config["out_softmax"].ii) == (2, 5)


def test_weights_hls4ml_makes_top_level_ports_are_named_not_priced(tmp_path):
    """Model: BramFactor 100 makes the 512 and 160 weights of the two Dense layers ports of the top
    function in the firmware hls4ml 1.3 writes (run-time weights: no constant multiplications).
    Both paths name those layers as not priced (a lower bound, no 'fits'); before, the firmware path
    read w2.txt and priced them as constants. A BramFactor above every weight count changes nothing."""
    written = _written(tmp_path, [("fc1", 32, "relu"), ("out", 5, None)], lambda c: c["Model"].update(BramFactor=100))
    assert "model_default_t w2[512]" in (written / "firmware" / "myproject.cpp").read_text()
    for est in (estimate_project(written), estimate_project(_config_only(written, tmp_path / "repo"))):
        assert sorted(n.split(" (")[0] for n in est.unpriced) == ["fc1", "out"]
        assert all("BramFactor 100" in n for n in est.unpriced)
    wide = estimate_project(_config_only(written, tmp_path / "wide",
                                         lambda c: c["HLSConfig"]["Model"].update(BramFactor=1000000000)))
    assert not wide.unpriced and {l.name for l in wide.layers if l.kind == "dense"} == {"fc1", "out"}


def test_model_level_types_apply_to_every_layer_below_its_own(tmp_path):
    """Model: Precision {default, weight, accum}: hls4ml gives every layer that weight and accumulator
    type (defines.h: weight_default_t ap_fixed<8,3>, accum_default_t ap_fixed<20,8>). The config path
    read only 'default': 853 DSP for 16-bit weights, where the firmware hls4ml writes gives 45."""
    written = _written(tmp_path, [("fc1", 32, "relu"), ("fc2", 16, "relu"), ("out", 5, "softmax")], lambda c: c["Model"].update(
        Precision={"default": "fixed<16,6>", "weight": "fixed<8,3>", "accum": "fixed<20,8>"}))
    assert "typedef ap_fixed<8,3> weight_default_t;" in (written / "firmware" / "defines.h").read_text()
    firmware, from_config = estimate_project(written), estimate_project(_config_only(written, tmp_path / "repo"))
    for r in RESOURCES:
        assert getattr(from_config, r) == pytest.approx(getattr(firmware, r), rel=1e-9), r
    assert from_config.dsp < 100


def test_a_qkeras_quantizer_sets_the_weight_type_whatever_the_config_says(tmp_path):
    """hls4ml's add_weights_variable takes a quantizer's type over any config precision: a QDense with
    a 6-bit quantizer keeps 6-bit weights (ap_fixed<6,1> in the firmware) where its LayerName entry
    says fixed<3,1>. The config path took the entry's type."""
    import hls4ml
    import tensorflow as tf
    from qkeras import QDense, quantized_bits
    from tensorflow.keras import layers as L

    tf.keras.utils.set_random_seed(0)
    q = quantized_bits(6, 0, alpha=1)
    model = tf.keras.Sequential([L.Input((16,)), QDense(32, kernel_quantizer=q, bias_quantizer=q, name="fc1"),
                                 L.Activation("relu", name="r1"), L.Dense(5, name="out")])
    config = hls4ml.utils.config_from_keras_model(model, granularity="name")
    config["LayerName"]["fc1"]["Precision"]["weight"] = "fixed<3,1>"
    written = tmp_path / "written"
    hls4ml.converters.convert_from_keras_model(model, hls_config=config, output_dir=str(written), io_type="io_parallel",
                                               part="xcu250-figd2104-2L-e").write()
    assert "ap_fixed<6,1> weight2_t" in (written / "firmware" / "defines.h").read_text()
    firmware = {l.name: l for l in estimate_project(written).layers}
    from_config = {l.name: l for l in estimate_project(_config_only(written, tmp_path / "repo")).layers}
    for r in RESOURCES:
        assert getattr(from_config["fc1"], r) == pytest.approx(getattr(firmware["fc1"], r), rel=1e-9), r
    notes = estimate_project(_config_only(written, tmp_path / "again")).notes
    assert any(n.startswith("fc1: its weights are ap_fixed<6,1>, its QKeras quantizer's type; hls4ml ignores the "
                            "config's ap_fixed<3,1>") for n in notes)


def test_layer_name_keys_match_in_any_case_as_hls4ml_reads_them(tmp_path):
    """hls4ml stores a LayerName entry's Precision, ReuseFactor and Strategy under the lower-cased name
    and looks them up by the layer's lower-cased name: 'FC1' sets layer fc1's RF, strategy and weight
    type. The config + model folder gives the estimate of the firmware hls4ml 1.3 writes for that
    config, layer by layer; before, 'FC1' applied to nothing (fc1 at Latency RF 1)."""
    def edit(config):
        config["LayerName"] = {"FC1": {"ReuseFactor": 4, "Strategy": "Resource", "Precision": {"weight": "ap_fixed<8,2>"}},
                               "Fc2": {"ReuseFactor": 8, "Strategy": "Resource"}}

    written = _written(tmp_path, [("fc1", 32, "relu"), ("fc2", 16, "relu"), ("out", 5, "softmax")], edit)
    assert "reuse_factor = 4" in (written / "firmware" / "parameters.h").read_text()
    firmware, from_config = estimate_project(written), estimate_project(_config_only(written, tmp_path / "repo"))
    for ours, theirs in zip(from_config.layers, firmware.layers):
        for r in RESOURCES:
            assert getattr(ours, r) == pytest.approx(getattr(theirs, r), rel=1e-9), (ours.name, r)
    layers = {l.name: l for l in from_config.layers}
    assert layers["fc1"].ii == 4 and layers["fc2"].ii == 8


_MODES = ["ap_fixed<4,1>", "ap_fixed<4,1,AP_RND>", "ap_fixed<4,1,AP_RND_CONV,AP_SAT>", "ap_fixed<4,1,AP_TRN_ZERO,AP_SAT_SYM>",
          "ap_fixed<4,1,AP_RND_ZERO,AP_SAT_ZERO>", "ap_ufixed<4,1>", "ap_fixed<4,1,AP_RND_MIN_INF>",
          "ap_fixed<4,1,AP_RND_INF>", "ap_fixed<6,-1>", "ap_fixed<5,8,AP_RND>", "ap_int<3>", "ap_uint<3>"]


def test_weights_are_the_values_hls4ml_writes_and_the_ap_types_it_ships_convert(tmp_path):
    """``Fixed.mantissas(as_written(...))`` against the chain itself: hls4ml's own WeightVariable
    writes the values as text for each type, and g++ compiles that text into the type with the
    ap_types hls4ml ships, as a weight header does (every quantization mode, wrap/saturate/zero
    overflow, negative and beyond-width integer bits, integer types). Before, every type floored and
    clipped the floats: 1.2 in ap_fixed<4,1> was 0.875 where AP_WRAP makes it -0.875, and 0.7 in
    ap_int<3> was 0 where hls4ml writes 1."""
    import subprocess
    from pathlib import Path as P

    import hls4ml
    import numpy as np
    from hls4ml.backends.fpga.fpga_backend import FPGABackend
    from hls4ml.model.types import WeightVariable

    from hcp_fpga.estimator.precision import as_written, parse_fixed

    include = P(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"
    values = np.array([1.2, -1.3, 0.3, -0.3, 0.3125, -0.3125, 0.1875, 3.7, -5.1, 0.9375, 0.0, -1.0, 27.0, -40.5, 0.7,
                       -0.7, 2.5, -2.5, 0.0625, -0.0626])
    arrays = []
    for i, text in enumerate(_MODES):
        written = list(WeightVariable(f"w{i}", f"w{i}_t", FPGABackend.convert_precision_string(text), values))
        arrays.append(f"{text} w{i}[] = {{{', '.join(written)}}};\n"
                      f'for (auto v : w{i}) printf("%.17g ", v.to_double()); printf("\\n");')
    source = tmp_path / "weights.cpp"
    source.write_text('#include "ap_fixed.h"\n#include "ap_int.h"\n#include <cstdio>\nint main() {\n'
                      + "\n".join(arrays) + "\n}\n")
    subprocess.run(["g++", "-std=c++14", f"-I{include}", str(source), "-o", str(tmp_path / "weights")], check=True)
    rows = subprocess.run([str(tmp_path / "weights")], check=True, capture_output=True, text=True).stdout.splitlines()
    for text, row in zip(_MODES, rows, strict=True):
        t = parse_fixed(text)
        ours = t.mantissas(as_written(values, t)) * 2.0 ** -t.frac
        assert ours.tolist() == [float(v) for v in row.split()], text


def test_weights_are_priced_as_hls4ml_writes_them_on_both_paths(tmp_path):
    """hls4ml writes each weight as decimal text with as many digits after the point as its type has
    fractional bits (none for ap_int), which ap_fixed converts. The firmware path reads that text; the
    config + model path converted the floats directly, so ap_int<4> weights of 0.7 were 0 (floored)
    where the firmware holds 1: fc3 here was 1,337 LUT against the firmware's 1,450. Weights beyond their
    type's range wrap on both paths; a weight type wider than the cost model prices (63 bits) is
    named on both, not priced (it raised OverflowError)."""
    import hls4ml
    import numpy as np
    import tensorflow as tf
    from tensorflow.keras import layers as L

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([L.Input((16,)), L.Dense(32, activation="relu", name="fc1"),
                                 L.Dense(16, activation="relu", name="fc2"), L.Dense(8, activation="relu", name="fc3"),
                                 L.Dense(5, name="out")])
    rng = np.random.default_rng(0)
    for name, spread in (("fc2", 2.0), ("fc3", 1.5)):  # fc2's beyond ap_fixed<6,1>; fc3's around ap_int<4>'s steps
        kernel, bias = model.get_layer(name).get_weights()
        model.get_layer(name).set_weights([rng.uniform(-spread, spread, kernel.shape).astype("float32"), bias])
    config = hls4ml.utils.config_from_keras_model(model, granularity="name")
    for name, weight in (("fc1", "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"), ("fc2", "ap_fixed<6,1>"), ("fc3", "ap_int<4>"),
                         ("out", "ap_fixed<100,2>")):
        config["LayerName"][name]["Precision"]["weight"] = weight
    written = tmp_path / "written"
    hls4ml.converters.convert_from_keras_model(model, hls_config=config, output_dir=str(written), io_type="io_parallel",
                                               part="xcu250-figd2104-2L-e").write()
    assert "typedef ap_int<4> fc3_weight_t;" in (written / "firmware" / "defines.h").read_text()
    firmware, from_config = estimate_project(written), estimate_project(_config_only(written, tmp_path / "repo"))
    for ours, theirs in zip(from_config.layers, firmware.layers):
        for r in RESOURCES:
            assert getattr(ours, r) == pytest.approx(getattr(theirs, r), rel=1e-9), (ours.name, r)
    for est in (firmware, from_config):
        assert [n.split(" (")[0] for n in est.unpriced] == ["out"]
        assert "ap_fixed<100,2> is wider than the 63 bits" in est.unpriced[0]
        assert not est.verdict(load_board("alveo-u250")).fits


def _softmaxes(est) -> list:
    return [l for l in est.layers if l.name.startswith("out_softmax") and not l.name.endswith("_out")]


# (io_stream in make test-slow: each case writes 5-10 hls4ml projects)
@pytest.mark.parametrize("io_type", ["io_parallel", pytest.param("io_stream", marks=pytest.mark.slow)])
def test_the_softmax_implementation_hls4ml_builds_is_the_one_priced(tmp_path, io_type):
    """hls4ml's softmax Implementation (any key case, as hls4ml reads it) and Skip, read from the
    firmware hls4ml 1.3 writes and from its config + model file alike. 'latency' reads the exp table
    with the inputs themselves (no maximum, no subtraction): the stable softmax's tables and
    products, fewer LUT, no more cycles. 'argmax' is compares only: no DSP, no tables. 'legacy' is
    named, not priced. Skip removes the layer. Before, every one was priced as the stable softmax."""
    layers = [("fc1", 32, "relu"), ("out", 10, "softmax")]

    def build(tag, entry):
        def edit(config):
            config["LayerName"] = {"out_softmax": entry}
        written = _written(tmp_path / tag, layers, edit, io_type) if (tmp_path / tag).mkdir() is None else None
        firmware, from_config = estimate_project(written), estimate_project(_config_only(written, tmp_path / tag / "repo"))
        # (the two paths name an io_stream design's input layer differently: totals, and the softmax)
        for ours, theirs in [(from_config, firmware), *zip(_softmaxes(from_config), _softmaxes(firmware), strict=True)]:
            for r in RESOURCES:
                assert getattr(ours, r) == pytest.approx(getattr(theirs, r), rel=1e-9), (tag, r)
        assert from_config.unpriced == firmware.unpriced
        return firmware

    def softmax(est):
        return _softmaxes(est)[0]

    stable, latency = build("stable", {"Implementation": "stable"}), build("latency", {"implementation": "latency"})
    argmax, legacy = build("argmax", {"Implementation": "argmax"}), build("legacy", {"Implementation": "legacy"})
    skipped = build("skip", {"Skip": True})
    assert (softmax(latency).dsp, softmax(latency).bram18) == (softmax(stable).dsp, softmax(stable).bram18) != (0, 0)
    assert softmax(latency).lut < softmax(stable).lut and latency.latency_cycles <= stable.latency_cycles
    assert softmax(argmax).dsp == 0 and softmax(argmax).lut < softmax(stable).lut
    assert softmax(argmax).bram18 == (1 if io_type == "io_stream" else 0)  # io_stream: its one-hot array is a memory
    if io_type == "io_parallel":  # (in io_stream the memory is cleared and read out: 2 x ceil(n / 2) cycles more)
        assert argmax.latency_cycles < stable.latency_cycles
    assert [n.split(" (")[0] for n in legacy.unpriced] == ["out_softmax"] and "legacy softmax" in legacy.unpriced[0]
    assert not legacy.verdict(load_board("alveo-u250")).fits
    assert not _softmaxes(skipped) and skipped.lut < latency.lut


def _branching_model():
    import tensorflow as tf
    from tensorflow.keras import layers as L

    tf.keras.utils.set_random_seed(0)
    x = tf.keras.Input((16,), name="x")
    a, b = L.Dense(8, name="a")(x), L.Dense(8, name="b")(x)
    merged = L.Concatenate(name="cat")([a, L.Add(name="add")([a, b])])
    return tf.keras.Model(x, L.Dense(3, name="o")(merged))


def _conv_model():
    import tensorflow as tf
    from tensorflow.keras import layers as L

    tf.keras.utils.set_random_seed(0)
    return tf.keras.Sequential([L.Input((12, 12, 3)), L.Conv2D(8, 3, name="c1"), L.Activation("relu", name="r1"),
                                L.MaxPooling2D(2, name="p1"), L.Conv2D(4, 3, name="c2"), L.Flatten(name="f"),
                                L.Dense(8, activation="sigmoid", name="fc"), L.Dense(4, name="d")])


@pytest.mark.parametrize("build, types, io_type", [
    (_branching_model, {}, "io_parallel"),
    (_branching_model, {"add": "ap_fixed<10,5>", "cat": "ap_fixed<10,5>"}, "io_parallel"),
    (_branching_model, {}, "io_stream"),
    (_conv_model, {"p1": "ap_fixed<10,4>", "fc_sigmoid": "ap_ufixed<8,0>"}, "io_parallel"),
], ids=["branches", "branches-typed", "branches-stream", "pool-and-activation-typed"])
def test_types_flow_along_the_graph_on_the_config_path_as_in_the_firmware(tmp_path, build, types, io_type):
    """A config + model folder is estimated as the firmware hls4ml writes for it, where the types
    take another route than layer after layer: a layer reading a branch (Dense 'b' reads the input,
    not 'a' before it: it was priced on a's 37-bit result, 222 DSP against the firmware's 111), and
    result types the config sets on a merge, a concatenation, a pooling layer or a split-off
    activation (the next layer's accumulator is inferred from them: 'o' was 59 bits, 31 in the
    firmware)."""
    import hls4ml

    model = build()
    config = hls4ml.utils.config_from_keras_model(model, granularity="name")
    for name, result in types.items():
        config["LayerName"].setdefault(name, {}).setdefault("Precision", {})["result"] = result
    written = tmp_path / "written"
    hls4ml.converters.convert_from_keras_model(model, hls_config=config, output_dir=str(written), io_type=io_type,
                                               part="xczu7ev-ffvc1156-2-e").write()
    firmware, from_config = estimate_project(written), estimate_project(_config_only(written, tmp_path / "repo"))
    for r in RESOURCES:
        assert getattr(from_config, r) == pytest.approx(getattr(firmware, r), rel=1e-9), r


@pytest.mark.parametrize("io_type", ["io_parallel", pytest.param("io_stream", marks=pytest.mark.slow)])
def test_the_model_precision_maximum_caps_every_inferred_type_on_every_path(tmp_path, io_type):
    """hls4ml's ``Model: Precision: maximum`` (config_from_keras_model's max_precision) caps the width
    and the integer bits of every type it infers (accumulators, merges). The config + model path
    read only 'default' (the branching model's Add at 38 bits where the firmware holds ap_fixed<20,8>),
    and a user's config refused the key. Now the firmware and the config + model folder agree, as do
    the model with the user's config and the folder hcp_fpga exports for it (whose config also asks
    hls4ml to infer the accumulators: capped too), each below its uncapped estimate."""
    import hcp_fpga
    import hls4ml

    model = _branching_model()
    config = hls4ml.utils.config_from_keras_model(model, granularity="name")
    config["Model"]["Precision"]["maximum"] = "ap_fixed<20,8>"
    written = tmp_path / "written"
    hls4ml.converters.convert_from_keras_model(model, hls_config=config, output_dir=str(written), io_type=io_type,
                                               part="xczu7ev-ffvc1156-2-e").write()
    assert "ap_fixed<20,8>" in (written / "firmware" / "defines.h").read_text()  # (io_stream: in array types)
    ours = {"Model": {"Precision": {"default": "ap_fixed<16,6>", "maximum": "ap_fixed<20,8>"}}}
    hcp_fpga.export(model, tmp_path / "exported", board="zcu104", io_type=io_type, config=ours)
    assert "ap_fixed<20,8> b_accum_t;" in (tmp_path / "exported" / "firmware" / "defines.h").read_text()
    uncapped = written.parent / "uncapped"
    del config["Model"]["Precision"]["maximum"]
    hls4ml.converters.convert_from_keras_model(model, hls_config=config, output_dir=str(uncapped), io_type=io_type,
                                               part="xczu7ev-ffvc1156-2-e").write()
    pairs = [(estimate_project(written), estimate_project(_config_only(written, tmp_path / "repo")),
              estimate_project(uncapped)),
             (hcp_fpga.estimate(tmp_path / "exported").estimate,
              hcp_fpga.estimate(model, board="zcu104", io_type=io_type, config=ours).estimate,
              hcp_fpga.estimate(model, board="zcu104", io_type=io_type).estimate)]
    for firmware, other, free in pairs:
        for r in RESOURCES:
            assert getattr(other, r) == pytest.approx(getattr(firmware, r), rel=1e-9), r
        assert firmware.lut < free.lut


@pytest.mark.parametrize("io_type", ["io_parallel", pytest.param("io_stream", marks=pytest.mark.slow)])
def test_an_exported_projects_own_config_is_a_config_we_read_and_it_gives_the_same_design(tmp_path, io_type):
    """The hls4ml_config.yml hls4ml saves in a project (its !keras_model tag, InputShapes, BitExact,
    our softmax's inp_norm_t) passed back as --config: read, and the estimate is the project's own;
    the re-export writes the same softmax type. Before, it was 'malformed YAML'."""
    import tensorflow as tf

    import hcp_fpga

    L = tf.keras.layers
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([L.Input((16,)), L.Dense(32), L.BatchNormalization(), L.Activation("sigmoid"),
                                 L.Dense(5, activation="softmax")])
    out = tmp_path / "prj"
    hcp_fpga.export(model, out, board="vcu118", io_type=io_type)
    saved = out / "hls4ml_config.yml"
    assert "!keras_model" in saved.read_text() and "inp_norm_t" in saved.read_text()
    again = hcp_fpga.estimate(model, board="vcu118", io_type=io_type, config=saved).estimate
    project = hcp_fpga.estimate(out).estimate
    for r in ("dsp", "lut", "ff", "bram18", "latency_cycles"):
        assert getattr(again, r) == pytest.approx(getattr(project, r), rel=1e-9), r
    hcp_fpga.export(model, tmp_path / "again", board="vcu118", io_type=io_type, config=saved)
    norm = lambda p: {n: c.get("inp_norm_t") for n, c in yaml.load(p.read_text(), Loader=Hls4mlYamlLoader)["HLSConfig"]["LayerName"].items()}  # noqa: E731
    assert norm(tmp_path / "again" / "hls4ml_config.yml") == norm(saved)


def test_bit_exact_is_read_at_hls4ml_s_default_and_refused_otherwise():
    from hcp_fpga.errors import ConfigError
    from hcp_fpga.hlsconfig import parse_hls_config

    parse_hls_config({"HLSConfig": {"Model": {"BitExact": None, "Precision": "ap_fixed<16,6>"}}})
    with pytest.raises(ConfigError, match="BitExact True is not supported"):
        parse_hls_config({"HLSConfig": {"Model": {"BitExact": True, "Precision": "ap_fixed<16,6>"}}})
