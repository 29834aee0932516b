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
