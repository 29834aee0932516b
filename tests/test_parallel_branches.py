"""Layers on parallel branches run side by side: hls4ml's top function starts each call once its
inputs are ready (its PIPELINE schedule, its DATAFLOW processes, its io_stream FIFOs), so a model's
latency is the longest path through its graph, not the sum of its layers. LFADS conv2d_concat
(Vivado HLS 2019.2) reports it: two input branches of 2,176 and 5,400 cycles, 5,403 in all."""

from __future__ import annotations

import pytest

from hcp_fpga.board_catalog import load_board
from hcp_fpga.design import Design, HlsSettings
from hcp_fpga.estimator.model import estimate_design, estimate_project
from hcp_fpga.vocab import IOType

RESOURCES = ("dsp", "bram18", "lut", "ff", "latency_cycles")


def _two_branches(long: int, short: int, io_type: str) -> Design:
    """Two inputs, ``long`` and ``short`` Dense(8)+ReLU layers on their branches, concatenated into a
    Dense(5). Each kernel is drawn from its own seed, so a branch's layers are the same in every model."""
    import tensorflow as tf
    from tensorflow.keras import layers as L

    def dense(units: int, seed: int, **kw):
        init = tf.keras.initializers.GlorotUniform(seed=seed)
        return L.Dense(units, kernel_initializer=init, bias_initializer=tf.keras.initializers.RandomUniform(seed=seed), **kw)

    a, b = L.Input((16,), name="a"), L.Input((16,), name="b")
    x, y = a, b
    for i in range(long):
        x = dense(8, 10 + i, activation="relu", name=f"a{i}")(x)
    for i in range(short):
        y = dense(8, 20 + i, activation="relu", name=f"b{i}")(y)
    model = tf.keras.Model([a, b], dense(5, 99, name="head")(L.Concatenate(name="cat")([x, y])))
    return Design.create(model, load_board("alveo-u250"), HlsSettings(io_type=IOType(io_type)))


@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_a_shorter_parallel_branch_adds_no_latency(io_type):
    """The shorter branch computes while the longer one does: one, two or three layers on it give one
    latency, and so does swapping which input has the longer branch. Before, each layer was added."""
    three = estimate_design(_two_branches(3, 3, io_type)).latency_cycles
    assert three > 0
    for long, short in ((3, 1), (3, 2), (1, 3)):
        assert estimate_design(_two_branches(long, short, io_type)).latency_cycles == three, (long, short)


def test_the_longest_branch_sets_the_latency():
    """A layer more on the longer branch adds its cycles (io_stream: each Dense is a process with its
    own pipeline depth); the same layer on the shorter branch adds none."""
    base = estimate_design(_two_branches(3, 1, "io_stream")).latency_cycles
    assert estimate_design(_two_branches(4, 1, "io_stream")).latency_cycles > base
    assert estimate_design(_two_branches(3, 2, "io_stream")).latency_cycles == base


@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_branches_give_one_estimate_from_model_and_from_the_exported_firmware(tmp_path, io_type):
    """The firmware reader finds the branches from the arrays each call reads and writes (an io_stream
    concatenation of two streams, an io_parallel one of two arrays): both paths agree."""
    from hcp_fpga.estimator.firmware import firmware_specs
    from hcp_fpga.estimator.model import branched
    from hcp_fpga.hls import export_project

    design = _two_branches(3, 1, io_type)
    out = export_project(design, tmp_path / "prj").out_dir
    assert branched(firmware_specs(out))
    model_path, firmware_path = estimate_design(design), estimate_project(out)
    for r in RESOURCES:
        assert getattr(model_path, r) == pytest.approx(getattr(firmware_path, r), rel=1e-9), r


def _residual(io_type: str) -> Design:
    """Dense a -> Dense b -> Add(a, b) -> Dense: a's result is read twice."""
    import tensorflow as tf
    from tensorflow.keras import layers as L

    tf.keras.utils.set_random_seed(4)
    x = L.Input((16,))
    a = L.Dense(8, activation="relu", name="a")(x)
    b = L.Dense(8, activation="relu", name="b")(a)
    model = tf.keras.Model(x, L.Dense(3, name="head")(L.Add(name="add")([a, b])))
    return Design.create(model, load_board("alveo-u250"), HlsSettings(io_type=IOType(io_type)))


def test_a_stream_read_twice_is_cloned_into_a_fifo_per_reader(tmp_path):
    """io_stream: hls4ml's CloneOutput copies a result read by two layers into two streams
    (``clone_stream``), each a FIFO of its own besides the one into the clone. Both paths price those
    copies: the model's graph, and the firmware's clone_stream call."""
    from hcp_fpga.hls import export_project

    design = _residual("io_stream")
    est = estimate_design(design)
    fifos = {l.name: l for l in est.layers if l.kind == "fifo"}
    assert set(fifos) == {"a_out", "a_relu_out", "a_relu_cpy1", "a_relu_cpy2", "b_out", "b_relu_out", "add_out"}
    assert fifos["a_relu_cpy1"].ff == fifos["a_relu_cpy2"].ff == fifos["a_relu_out"].ff > 0
    out = export_project(design, tmp_path / "prj").out_dir
    assert "clone_stream" in (out / "firmware" / "myproject.cpp").read_text()
    firmware_path = estimate_project(out)
    for r in RESOURCES:
        assert getattr(est, r) == pytest.approx(getattr(firmware_path, r), rel=1e-9), r


def test_a_chain_still_sums_its_layers():
    """Without branches nothing changes: the longest path through a chain is the sum of its layers."""
    from hcp_fpga.estimator.model import branched, longest_path
    from hcp_fpga.estimator.spec import LayerSpec

    chain = [LayerSpec("x", "free", after=()), LayerSpec("d1", "dense"), LayerSpec("d2", "dense")]
    assert not branched(chain) and longest_path(chain, [0, 3, 4]) == 7
    fork = [*chain, LayerSpec("y", "dense", after=("x",)), LayerSpec("cat", "merge", after=("d2", "y"))]
    assert branched(fork) and longest_path(fork, [0, 3, 4, 9, 1]) == 10
    renamed = [*chain, LayerSpec("y (not priced)", "unmodelled", after=("x",)), LayerSpec("cat", "merge", after=("d2", "y"))]
    assert longest_path(renamed, [0, 3, 4, 9, 1]) == 10  # a layer named as not priced still answers to its name


def test_a_graph_of_many_paths_is_not_enumerated():
    """A residual ladder of eight blocks has 256 input-to-output paths: the scheduler does not try each
    (the whole chain's schedule, an upper bound, stands), while the longest path is still one pass."""
    from hcp_fpga.estimator.model import graph_paths, longest_path
    from hcp_fpga.estimator.spec import LayerSpec

    specs, last = [LayerSpec("x", "free", after=())], "x"
    for i in range(8):
        specs += [LayerSpec(f"d{i}", "dense", after=(last,)), LayerSpec(f"add{i}", "merge", after=(last, f"d{i}"))]
        last = f"add{i}"
    assert graph_paths(specs) is None
    assert len(graph_paths(specs[:7])) == 8  # three blocks: 2^3 paths
    assert longest_path(specs, [1] * len(specs)) == 17


def test_no_fifo_for_any_of_a_models_outputs():
    """io_parallel DATAFLOW (a conv stepping over its positions): every array between layers is a FIFO
    per element, the model's outputs none, however many outputs the model has."""
    import tensorflow as tf
    from tensorflow.keras import layers as L

    tf.keras.utils.set_random_seed(5)
    x = L.Input((12, 2))
    two = tf.keras.Model(x, [L.Conv1D(3, 3, name="a")(x), L.Conv1D(2, 3, name="b")(x)])  # read by no layer
    one = tf.keras.Model(x, L.Conv1D(2, 3, name="b")(L.Conv1D(3, 3, name="a")(x)))
    fifos = [{l.name for l in estimate_design(Design.create(m, load_board("alveo-u250"), HlsSettings())).layers
              if l.kind == "fifo"} for m in (one, two)]
    assert fifos == [{"a_out"}, set()]
