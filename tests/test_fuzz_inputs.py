"""Property tests: whatever values a project.yaml or a board file holds, hcp-fpga answers with exit
0, 2 or 3 and, on a refusal, one ``error:`` line; never a traceback, never an internal error."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO, run_cli

pytestmark = pytest.mark.filterwarnings("ignore")

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["ap_fixed<0,1>", "ap_fixed<100000,6>", "../../..", "/", "~", "pynq-z2", "digits", "mnist1d",
                     "mlp", "cnn1d", "cnn2d", "Latency", "Resource", "io_stream", "x.npz", "a\nb", "{x}", '"; rm -rf ~'])
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                      max_leaves=8)

BASE = yaml.safe_load("""
name: fuzz
model: {builder: mlp, hidden: [8]}
data: digits
board: pynq-z2
training: {epochs: 1, finetune_epochs: 0}
max_iterations: 1
""")
KEYS = [("name",), ("model",), ("model", "builder"), ("model", "hidden"), ("model", "file"), ("model", "kernel"),
        ("data",), ("board",), ("backend",), ("clock_ns",), ("io_type",), ("precision",), ("targets",),
        ("targets", "headroom"), ("targets", "max_accuracy_drop_pp"), ("targets", "latency"), ("levers",),
        ("levers", "weight_bits"), ("levers", "reuse_factor"), ("levers", "max_sparsity"), ("training", "epochs"),
        ("training", "batch_size"), ("training", "learning_rate"), ("max_iterations",), ("seed",), ("output_dir",),
        ("unknown_key",)]


class _ReachedTraining(BaseException):
    """Raised instead of training: everything before it (all validation) has passed."""


def _set(d: dict, path: tuple, value) -> None:
    for k in path[:-1]:
        if not isinstance(d.get(k), dict):
            d[k] = {}
        d = d[k]
    d[path[-1]] = value


def _check(code: int, err: str) -> None:
    assert "Traceback" not in err
    assert code in (0, 2, 3), err
    if code == 2:
        lines = [l for l in err.strip().splitlines() if l.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:") and "internal error" not in lines[0], err


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(edits=st.lists(st.tuples(st.sampled_from(KEYS), values), min_size=1, max_size=4))
def test_project_yaml_values_never_give_a_traceback(edits, monkeypatch_module):
    config = yaml.safe_load(yaml.safe_dump(BASE))
    for path, value in edits:
        _set(config, path, value)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "project.yaml").write_text(yaml.safe_dump(config))
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = _run_optimize(tmp)
        _check(code, err.getvalue())


def _run_optimize(folder: Path) -> int:
    # the CLI's rich consoles write to whatever sys.stderr is at the time: redirect_stderr catches it
    try:
        return run_cli("optimize", folder, "--out", folder / "out", "--quiet")
    except _ReachedTraining:
        return 0


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()

    def reached(*a, **k):
        raise _ReachedTraining

    mp.setattr("hcp_fpga.loop._baseline_model", reached)
    yield mp
    mp.undo()


BOARD = yaml.safe_load((REPO / "hcp_fpga" / "catalog" / "pynq-z2.yaml").read_text())
BOARD_KEYS = sorted(BOARD) + ["unknown"]


@pytest.mark.slow  # 80 board files through the CLI (~6 s); CI runs make test-slow too
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(edits=st.lists(st.tuples(st.sampled_from(BOARD_KEYS), values), min_size=1, max_size=4))
def test_board_yaml_values_never_give_a_traceback(edits):
    board = dict(BOARD, name="fuzzboard", aliases=[])
    for key, value in edits:
        board[key] = value
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "b.yaml").write_text(yaml.safe_dump(board))
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = run_cli("boards", "--boards-dir", tmp, "--json")
        _check(code, err.getvalue())


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.binary(max_size=300))
def test_raw_bytes_as_a_board_file(raw):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "b.yaml").write_bytes(raw)
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = run_cli("boards", "--boards-dir", tmp, "--json")
        _check(code, err.getvalue())


LAYER_CLASSES = ["Conv1D", "Conv2D", "QConv2D", "SeparableConv2D", "DepthwiseConv1D", "Softmax", "BatchNormalization",
                 "PReLU", "ReLU", "GRU", "QLSTM", "LSTM", "Bidirectional", "TimeDistributed", "UpSampling2D", "Dot",
                 "Flatten", "Add", "Concatenate", "Activation", "Dense"]
LAYER_KEYS = ["dilation_rate", "groups", "depth_multiplier", "axis", "shared_axes", "return_state", "max_value",
              "negative_slope", "threshold", "go_backwards", "reset_after", "interpolation", "normalize", "data_format",
              "activation", "recurrent_activation", "layer"]


# a wrapper's inner layer: a class and a config of those keys, or junk in their place
inner_layers = st.fixed_dictionaries({"class_name": st.one_of(st.sampled_from(LAYER_CLASSES), scalars),
                                      "config": st.one_of(st.dictionaries(st.sampled_from(LAYER_KEYS), values, max_size=4),
                                                          scalars)})


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(cls=st.sampled_from(LAYER_CLASSES),
       config=st.dictionaries(st.sampled_from(LAYER_KEYS), st.one_of(values, inner_layers), max_size=5),
       shape=st.lists(st.one_of(st.none(), st.integers(-3, 50)), max_size=4), n_inputs=st.integers(0, 5),
       io_type=st.sampled_from(["io_parallel", "io_stream", "bogus"]))
def test_what_hls4ml_would_not_build_is_read_from_any_layer_config_without_a_crash(cls, config, shape, n_inputs, io_type):
    """A model file's layer settings (a hostile file's included): each check answers None or one
    reason, never an exception."""
    from hcp_fpga.estimator.spec import keras_mismatch, unbuilt_layer, unbuilt_layer_activation

    for answer in (unbuilt_layer(cls, config, tuple(shape), n_inputs), keras_mismatch(cls, config, tuple(shape)),
                   unbuilt_layer_activation(cls, config, io_type)):
        assert answer is None or isinstance(answer, str)


@pytest.mark.parametrize("config", [{"layer": {"class_name": "LSTM", "config": [1]}}, {"layer": {"class_name": 3, "config": {}}},
                                    {"layer": [1, 2]}, {"layer": {"config": None}},
                                    {"layer": {"class_name": "Dense", "config": {"activation": {"class_name": "Activation",
                                                                                                "config": None}}}}])
@pytest.mark.parametrize("cls", ["Bidirectional", "TimeDistributed"])
def test_a_wrapper_holding_no_readable_layer_is_read_without_a_crash(cls, config):
    from hcp_fpga.estimator.spec import keras_mismatch, unbuilt_layer_activation

    assert unbuilt_layer_activation(cls, config, "io_parallel") is None
    assert keras_mismatch(cls, config) is None or "activation" in keras_mismatch(cls, config)
