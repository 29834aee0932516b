"""Bad and hostile inputs, as a new user or an attacker handing over a file would give them.

Every refusal must be: exit code 2, one line on stderr starting with ``error:`` that names the
problem, no traceback, and earlier outputs untouched. The two code-execution exploits of issue #11
(an input name carrying C++; an output path carrying a quote and C++) must leave no marker file.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, run_cli

MARKER_NAME = "HCP_PWNED_MARKER"


# ----------------------------------------------------------------------------- helpers


def refused(capsys, code: int, *fragments: str) -> str:
    """Assert a clean refusal: exit 2, one 'error:' line naming ``fragments``, no traceback."""
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2, f"exit {code}, stderr: {err}"
    assert "Traceback" not in captured.err + captured.out
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    for f in fragments:
        assert f in err, f"{f!r} not in {err!r}"
    return err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def tiny_model(name_in: str = "features"):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(1)
    inp = tf.keras.Input(shape=(6,), name=name_in)
    x = tf.keras.layers.Dense(5, activation="relu", name="fc1")(inp)
    out = tf.keras.layers.Dense(3, activation="softmax", name="out")(x)
    return tf.keras.Model(inp, out)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny Keras model as JSON + weights, and its architecture as a dict."""
    folder = tmp_path_factory.mktemp("tiny")
    model = tiny_model()
    (folder / "m.json").write_text(model.to_json())
    model.save_weights(folder / "m_weights.h5")
    return folder / "m.json", folder / "m_weights.h5", json.loads(model.to_json())


@pytest.fixture(scope="module")
def tiny_project(tmp_path_factory, tiny):
    """The tiny model exported for pynq-z2 (not yet compiled)."""
    out = tmp_path_factory.mktemp("tinyprj") / "prj"
    j, w, _ = tiny
    assert run_cli("export", j, "--weights", w, "--board", "pynq-z2", "-o", out, "--quiet") == 0
    return out


def write_arch(folder: Path, arch, name: str = "bad.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(arch) if not isinstance(arch, str) else arch)
    return path


def estimate(path, *extra):
    return run_cli("estimate", path, *extra, "--board", "pynq-z2")


def cli_subprocess(*argv, cwd=None, **kw):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([sys.executable, "-m", "hcp_fpga.cli", *map(str, argv)], cwd=cwd or REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


# ----------------------------------------------------------------------------- model files


@pytest.mark.parametrize("content, fragment", [
    ("[1, 2, 3]", "holds a JSON list"),
    ('"just a string"', "holds a JSON str"),
    ("42", "holds a JSON int"),
    ('{"class_name": "Model"}', "lacks 'class_name'/'config'"),
    ('{"class_name": "Model", "config": {"layers": {"a": 1}}}', "no 'layers' list"),
    ('{"class_name": "Model", "config": {"layers": [{"class_name": "Dense"}]}}', "lacks a class_name or a config"),
    ('{"class_name": "Model", "config": {"layers": [', "is corrupt or not a Keras model"),
    ("", "is corrupt or not a Keras model"),
    ("[" * 100000 + "]" * 100000, "is corrupt or not a Keras model"),
])
def test_malformed_model_json(tmp_path, capsys, tiny, content, fragment):
    path = write_arch(tmp_path, content)
    refused(capsys, estimate(path, "--weights", tiny[1]), fragment)


def test_a_setting_tensorflow_refuses_while_building_is_one_line(tmp_path, capsys, tiny):
    """An initializer seed of NaN passes JSON and Keras's config checks; TensorFlow refuses it while
    building the layer (InvalidArgumentError, an internal error before)."""
    arch = copy.deepcopy(tiny[2])
    layer = next(l for l in arch["config"]["layers"] if l["class_name"] == "Dense")
    layer["config"]["kernel_initializer"] = {"class_name": "GlorotUniform", "config": {"seed": float("nan")}}
    path = write_arch(tmp_path, json.dumps(arch))
    refused(capsys, estimate(path, "--weights", tiny[1]), "cannot build model")


def test_a_batch_size_keras_takes_is_not_refused_by_the_estimator(tmp_path, capsys, tiny):
    """Keras builds a model whose input's batch size reads True (as 1); the estimator never reads the
    batch size, so it must not refuse it (it was an internal error: the layer check saw a bool)."""
    arch = copy.deepcopy(tiny[2])
    first = arch["config"]["layers"][0]["config"]
    first["batch_input_shape"] = [True, *first["batch_input_shape"][1:]]
    path = write_arch(tmp_path, json.dumps(arch))
    assert estimate(path, "--weights", tiny[1]) == 0


def test_binary_model_json(tmp_path, capsys, tiny):
    path = tmp_path / "bin.json"
    path.write_bytes(bytes(range(256)) * 4)
    refused(capsys, estimate(path, "--weights", tiny[1]), "is corrupt or not a Keras model")


@pytest.mark.parametrize("suffix, content, fragment", [
    (".h5", b"\x00garbage" * 50, "is corrupt or not a Keras model"),
    (".keras", b"PK\x03\x04 not really a zip", "is corrupt or not a Keras model"),
    (".onnx", b"whatever", "unknown format"),
])
def test_corrupt_model_files(tmp_path, capsys, suffix, content, fragment):
    path = tmp_path / f"m{suffix}"
    path.write_bytes(content)
    refused(capsys, estimate(path), fragment)


def test_an_hdf5_model_saved_as_dot_keras_is_read_as_hdf5(tmp_path, capsys):
    """Older Keras wrote HDF5 under any name, and real projects keep such '.keras' files (two corpus
    designs): read by content, not refused as a corrupt zip. The estimate equals the '.h5' one."""
    model = tiny_model()
    model.save(tmp_path / "m.h5")
    (tmp_path / "m.keras").write_bytes((tmp_path / "m.h5").read_bytes())
    results = []
    for name in ("m.h5", "m.keras"):
        assert run_cli("estimate", tmp_path / name, "--board", "pynq-z2", "--json", "--quiet") == 0
        results.append(json.loads(capsys.readouterr().out)["estimate"])
    assert results[0] == results[1] and results[0]["dsp"] + results[0]["lut"] > 0


def test_keras_zip_without_config(tmp_path, capsys):
    import zipfile

    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", "{}")
    refused(capsys, estimate(path), "without config.json")


def test_weights_only_h5_as_model(capsys, tiny):
    refused(capsys, estimate(tiny[1]), "holds weights only")


def test_missing_model_and_weights(tmp_path, capsys, tiny):
    refused(capsys, estimate(tmp_path / "nope.json", "--weights", tiny[1]), "does not exist")
    refused(capsys, estimate(tiny[0], "--weights", tmp_path / "nope.h5"), "weights file", "does not exist")
    refused(capsys, estimate(tiny[0]), "pass its weights with --weights")


def test_unknown_layer_class_is_named(tmp_path, capsys, tiny):
    arch = json.loads(json.dumps(tiny[2]))
    arch["config"]["layers"][1]["class_name"] = "FancyAttentionV9"
    refused(capsys, estimate(write_arch(tmp_path, arch), "--weights", tiny[1]), "'fc1'", "FancyAttentionV9")


@pytest.mark.parametrize("cls", ["Lambda", "TFOpLambda", "SlicingOpLambda"])
def test_code_carrying_layers_are_refused(tmp_path, capsys, tiny, cls):
    arch = json.loads(json.dumps(tiny[2]))
    arch["config"]["layers"][1]["class_name"] = cls
    arch["config"]["layers"][1]["config"]["function"] = "io.write_file"
    refused(capsys, estimate(write_arch(tmp_path, arch), "--weights", tiny[1]), "code-carrying", "--allow-unsafe")


def test_lambda_hidden_in_a_wrapper_is_refused(tmp_path, capsys, tiny):
    arch = json.loads(json.dumps(tiny[2]))
    inner = {"class_name": "Lambda", "config": {"name": "hidden", "function": ["4wEAAAAAAAAA", None, None]}}
    arch["config"]["layers"][1] = {**arch["config"]["layers"][1], "class_name": "TimeDistributed",
                                   "config": {"name": "fc1", "layer": inner}}
    refused(capsys, estimate(write_arch(tmp_path, arch), "--weights", tiny[1]), "hidden (Lambda)")


@pytest.mark.parametrize("units", [10**9, 10**7])
def test_huge_layer_is_refused_before_allocation(tmp_path, capsys, tiny, units, monkeypatch):
    monkeypatch.setenv("HCP_FPGA_MAX_MODEL_BYTES", str(4 * 2**30))  # the same verdict on any machine
    arch = json.loads(json.dumps(tiny[2]))
    arch["config"]["layers"][1]["config"]["units"] = units
    t0 = time.perf_counter()
    refused(capsys, estimate(write_arch(tmp_path, arch), "--weights", tiny[1]), "layer 'fc1'", f"{6 * units + units:,}")
    assert time.perf_counter() - t0 < 10  # refused from the config, nothing was allocated


def test_weights_file_too_small_for_the_architecture(tmp_path, capsys, tiny):
    arch = json.loads(json.dumps(tiny[2]))
    arch["config"]["layers"][1]["config"]["units"] = 5000
    refused(capsys, estimate(write_arch(tmp_path, arch), "--weights", tiny[1]), "hold 53 values", "layer 'fc1'")


def _shape_changing_models():
    """Real Keras models whose layers change the last axis in ways the size check cannot follow
    from configs alone: a Dot of two vectors, a Permute, wrappers around smaller layers."""
    import tensorflow as tf

    L = tf.keras.layers
    a, b = tf.keras.Input((8,)), tf.keras.Input((8,))
    yield "dot", tf.keras.Model([a, b], L.Dense(2)(L.Dot(axes=1)([L.Dense(4)(a), L.Dense(4)(b)])))
    i = tf.keras.Input((6, 9))
    yield "permute", tf.keras.Model(i, L.Dense(3)(L.Flatten()(L.Dense(5)(L.Permute((2, 1))(i)))))
    i = tf.keras.Input((6, 9))
    yield "wrappers", tf.keras.Model(i, L.Dense(3)(L.Bidirectional(L.LSTM(2))(L.TimeDistributed(L.Dense(2))(i))))


def test_the_size_check_is_a_lower_bound_on_shape_changing_layers(tmp_path, capsys):
    """The weights-size check counts parameters from configs alone; it must never count more than
    the model holds (a Dot of two 4-vectors is one number: the next Dense has 1 x 2 weights, not
    4 x 2), or a real model's own weights are refused."""
    from hcp_fpga.model_checks import layer_sizes

    for name, model in _shape_changing_models():
        assert sum(s.parameters for s in layer_sizes(json.loads(model.to_json()))) <= model.count_params(), name
    dot = dict(_shape_changing_models())["dot"]
    dot.save(tmp_path / "dot.h5")
    assert run_cli("estimate", tmp_path / "dot.h5", "--board", "pynq-z2", "--json") == 0
    layers = {l["name"]: l for l in json.loads(capsys.readouterr().out)["estimate"]["layers"]}
    dot_name = next(n for n in layers if n.startswith("dot") and not n.endswith("_products"))
    assert layers[dot_name + "_products"]["kind"] == "merge_mul" and layers[dot_name]["kind"] == "merge"


@pytest.mark.parametrize("value, command", [(np.nan, "estimate"), (np.inf, "export"), (-np.inf, "inspect")])
def test_non_finite_weights_are_refused_with_the_layer(tmp_path, capsys, value, command):
    model = tiny_model()
    w = model.layers[2].get_weights()
    w[0][1, 1] = value
    model.layers[2].set_weights(w)
    (tmp_path / "m.json").write_text(model.to_json())
    model.save_weights(tmp_path / "m_weights.h5")
    args = {"estimate": ["--board", "pynq-z2"], "export": ["--board", "pynq-z2", "-o", tmp_path / "o"], "inspect": []}
    code = run_cli(command, tmp_path / "m.json", "--weights", tmp_path / "m_weights.h5", *args[command])
    refused(capsys, code, "layer 'out'", "NaN/Inf")
    assert not (tmp_path / "o").exists()


def test_unconvertible_layer_is_named_before_export(tmp_path, capsys):
    import tensorflow as tf

    inp = tf.keras.Input(shape=(6,), name="features")
    out = tf.keras.layers.GaussianNoise(0.1, name="noise")(tf.keras.layers.Dense(3, name="fc")(inp))
    model = tf.keras.Model(inp, out)
    (tmp_path / "m.json").write_text(model.to_json())
    model.save_weights(tmp_path / "w.h5")
    code = run_cli("export", tmp_path / "m.json", "--weights", tmp_path / "w.h5", "--board", "pynq-z2", "-o", tmp_path / "o")
    refused(capsys, code, "noise (GaussianNoise)")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("activation, extra", [("swish", []), ("mish", []), ("relu6", ["--io-type", "io_stream"])])
def test_an_activation_hls4ml_writes_no_code_for_is_named_before_export(tmp_path, capsys, tiny, activation, extra):
    """hls4ml 1.3 would write a call its templates lack (the C++ does not compile): refused up front,
    the estimate a lower bound that names it."""
    arch = json.loads(json.dumps(tiny[2]))
    arch["config"]["layers"][1]["config"]["activation"] = activation
    path = write_arch(tmp_path, arch)
    code = run_cli("export", path, "--weights", tiny[1], "--board", "pynq-z2", "-o", tmp_path / "o", *extra)
    refused(capsys, code, f"fc1 (activation '{activation}'")
    assert not (tmp_path / "o").exists()
    assert run_cli("estimate", path, "--weights", tiny[1], "--board", "pynq-z2", "--json", *extra) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fits"] is None and any(f"activation '{activation}'" in n for n in result["estimate"]["unpriced"])


def test_unpriced_layer_blocks_fits(tmp_path, capsys):
    import tensorflow as tf

    # LayerNormalization over a flat vector: hls4ml 1.3 converts it on a (steps, features) input only
    # (LSTM/GRU and LayerNormalization over a sequence are priced now)
    inp = tf.keras.Input(shape=(4, 3), name="seq")
    x = tf.keras.layers.Flatten(name="flat")(inp)
    x = tf.keras.layers.LayerNormalization(name="norm")(x)
    out = tf.keras.layers.Dense(2, activation="softmax", name="out")(x)
    model = tf.keras.Model(inp, out)
    (tmp_path / "m.json").write_text(model.to_json())
    model.save_weights(tmp_path / "w.h5")
    assert run_cli("estimate", tmp_path / "m.json", "--weights", tmp_path / "w.h5", "--board", "vu13p", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"]["fits"] is False and data["verdict"]["unpriced"] == [
        "norm (LayerNormalization over a 1-axis tensor: hls4ml 1.3 converts it on a (steps, features) input only; "
        "Reshape to (steps, features) before it)"]
    assert run_cli("estimate", tmp_path / "m.json", "--weights", tmp_path / "w.h5", "--board", "vu13p") == 0
    text = capsys.readouterr().out
    assert "cannot say it fits" in text and "lower bound" in text and "[green]fits" not in text
    assert "no catalog board" not in text  # the board was given: the lower bound is its only caveat


# ----------------------------------------------------------------------------- names and paths into C++


def _evil_input_model(folder: Path, name: str) -> tuple[Path, Path]:
    model = tiny_model()
    arch = json.loads(model.to_json())
    old = arch["config"]["layers"][0]["config"]["name"]
    text = json.dumps(arch).replace(json.dumps(old), json.dumps(name))
    (folder / "evil.json").write_text(text)
    model.save_weights(folder / "evil_weights.h5")
    return folder / "evil.json", folder / "evil_weights.h5"


@pytest.mark.slow  # a g++ build of the exploit project (~6 s); CI runs make test-slow too
def test_exploit_s1_input_name_with_cpp_runs_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = f'x\n#include <cstdlib>\nstatic int pwn = std::system("touch {MARKER_NAME}");\n//'
    j, w = _evil_input_model(tmp_path, evil)
    out = tmp_path / "prj"
    assert run_cli("export", j, "--weights", w, "--board", "pynq-z2", "-o", out, "--quiet") == 0
    manifest = json.loads((out / "hcp_fpga.json").read_text())
    assert manifest["c_names"][evil].isidentifier()
    cpp = (out / "firmware" / "myproject.cpp").read_text() + (out / "myproject_bridge.cpp").read_text()
    assert "system(" not in cpp and "#include <cstdlib>" not in cpp
    capsys.readouterr()
    assert run_cli("csim", out, "--n", "50", "--json") == 0
    assert json.loads(capsys.readouterr().out)["argmax_agreement"] >= 0.9
    assert not list(tmp_path.rglob(MARKER_NAME)) and not Path(REPO / MARKER_NAME).exists()


def test_duplicate_layer_names_are_refused(tmp_path, capsys):
    j, _ = _evil_input_model(tmp_path, "fc1")
    refused(capsys, estimate(j, "--weights", tmp_path / "evil_weights.h5"), "two layers are named 'fc1'")


@pytest.mark.parametrize("name", ["fc-1 {x}", "int", "input", "9lives", "a" * 300, "über", "myproject"])
def test_odd_layer_names_are_mapped_to_safe_identifiers(tmp_path, capsys, name):
    from hcp_fpga.cnames import is_safe_c_name

    j, w = _evil_input_model(tmp_path, name)
    out = tmp_path / "prj"
    assert run_cli("export", j, "--weights", w, "--board", "pynq-z2", "-o", out, "--quiet") == 0, capsys.readouterr().err
    manifest = json.loads((out / "hcp_fpga.json").read_text())
    assert all(is_safe_c_name(v["name"]) for v in manifest["inputs"] + manifest["outputs"])
    assert all(is_safe_c_name(new) for new in manifest["c_names"].values())
    assert len(set(manifest["c_names"].values())) == len(manifest["c_names"])


@pytest.mark.slow  # a g++ build of the exploit project (~6 s); CI runs make test-slow too
def test_exploit_s2_output_path_with_quote_and_cpp_runs_nothing(tmp_path, capsys, monkeypatch, tiny):
    monkeypatch.chdir(tmp_path)
    weird = tmp_path / f'p"); int pwn = system("touch {MARKER_NAME}"); (" \\ \n ??= $HOME `id`'
    j, w, _ = tiny
    assert run_cli("export", j, "--weights", w, "--board", "pynq-z2", "-o", weird, "--quiet") == 0
    capsys.readouterr()
    assert run_cli("csim", weird, "--n", "50", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["argmax_agreement"] >= 0.9  # the weights were found through the odd path
    assert not list(tmp_path.rglob(MARKER_NAME))
    build_log = (weird / "csim_build.log").read_text()
    assert "-D WEIGHTS_DIR" not in build_log


def test_c_string_literal_escapes_everything():
    from hcp_fpga.cnames import c_string_literal

    lit = c_string_literal('a"b\\c\nd??=e\x00/ü')
    assert lit.startswith('"') and lit.endswith('"')
    body = lit[1:-1]
    assert '"' not in body and "\n" not in body and "??" not in body
    assert body.replace("\\", "").isalnum() or set(body) <= set("abcdeABCDE0123456789\\/")


def test_manifest_project_name_must_be_an_identifier(tmp_path, capsys, tiny_project):
    import shutil

    prj = tmp_path / "prj"
    shutil.copytree(tiny_project, prj)
    m = json.loads((prj / "hcp_fpga.json").read_text())
    m["project_name"] = "myproject; rm -rf ~"
    (prj / "hcp_fpga.json").write_text(json.dumps(m))
    refused(capsys, run_cli("csim", prj, "--n", "5"), "not a C identifier")


def test_hostile_board_part_never_reaches_the_tcl(tmp_path, capsys):
    d = tmp_path / "boards"
    d.mkdir()
    text = (REPO / "hcp_fpga" / "catalog" / "pynq-z2.yaml").read_text().replace("name: pynq-z2", "name: evil").replace(
        "aliases: [pynq-z1]", "aliases: []").replace("part: xc7z020clg400-1", 'part: "xc7z020\\"; exec touch x; \\""')
    (d / "evil.yaml").write_text(text)
    refused(capsys, run_cli("boards", "--boards-dir", d), "board file", "'part'")


# ----------------------------------------------------------------------------- boards


@pytest.mark.parametrize("content, fragment", [
    (bytes(range(256)), "not a text file"),
    (b"name: [unclosed", "malformed YAML at line"),
    (b"- a\n- b\n", "expected a mapping"),
    (b"name: x\ndsp: -5\n", "field"),
    (b"a: &a [*a, *a]\n", "board file"),
])
def test_bad_board_files(tmp_path, capsys, content, fragment):
    d = tmp_path / "boards"
    d.mkdir()
    (d / "bad.yaml").write_bytes(content)
    refused(capsys, run_cli("boards", "--boards-dir", d), fragment)


def test_unknown_board_and_missing_boards_dir(tmp_path, capsys, tiny):
    refused(capsys, run_cli("estimate", tiny[0], "--weights", tiny[1], "--board", "pynq-z3"), "did you mean 'pynq-z2'")
    refused(capsys, run_cli("boards", "--boards-dir", tmp_path / "none"), "does not exist")
    (tmp_path / "file").write_text("x")
    refused(capsys, run_cli("boards", "--boards-dir", tmp_path / "file"), "does not exist")


def test_duplicate_board_alias(tmp_path, capsys):
    d = tmp_path / "boards"
    d.mkdir()
    text = (REPO / "hcp_fpga" / "catalog" / "pynq-z2.yaml").read_text().replace("name: pynq-z2", "name: other")
    (d / "other.yaml").write_text(text)
    refused(capsys, run_cli("boards", "--boards-dir", d), "pynq-z1", "rename one")


# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize("precision, fragment", [
    ("ap_fixed<0,1>", "width 0"),
    ("ap_fixed<100000,6>", "width 100000"),
    ("ap_fixed<16,6,AP_BANANA>", "unknown rounding mode"),
    ("ap_int<8,3>", "integer type takes only a width"),
    ("float", "not a fixed-point type"),
    ("ap_fixed<16,6>; system(1)", "not a fixed-point type"),
])
def test_bad_precisions(capsys, tiny, precision, fragment):
    refused(capsys, estimate(tiny[0], "--weights", tiny[1], "--precision", precision), fragment)


@pytest.mark.parametrize("argv", [
    ["--reuse", "0"], ["--clock", "0"], ["--clock", "nan"], ["--headroom", "1.5"], ["--strategy", "Fast"],
])
def test_bad_numbers_on_the_command_line(capsys, tiny, argv):
    with pytest.raises(SystemExit) as exc:
        estimate(tiny[0], "--weights", tiny[1], *argv)
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_invalid_reuse_factor_names_valid_ones(capsys, tiny):
    refused(capsys, estimate(tiny[0], "--weights", tiny[1], "--strategy", "Resource", "--reuse", "7"), "valid: ")


# ----------------------------------------------------------------------------- output folders


def test_output_path_that_is_a_file(tmp_path, capsys, tiny):
    f = tmp_path / "out"
    f.write_text("mine")
    refused(capsys, run_cli("export", tiny[0], "--weights", tiny[1], "--board", "pynq-z2", "-o", f, "--force"), "is a file")
    refused(capsys, run_cli("export", tiny[0], "--weights", tiny[1], "--board", "pynq-z2", "-o", f / "sub"), "is a file")
    assert f.read_text() == "mine"


def test_unwritable_output_path(capsys, tiny):
    code = run_cli("export", tiny[0], "--weights", tiny[1], "--board", "pynq-z2", "-o", "/proc/hcp-fpga-out")
    refused(capsys, code)


@pytest.mark.parametrize("where", ["cwd", "parent", "home"])
def test_force_never_removes_cwd_its_parents_or_home(tmp_path, capsys, monkeypatch, tiny, where):
    work = tmp_path / "work" / "sub"
    work.mkdir(parents=True)
    (work / "precious.txt").write_text("thesis")
    (work / ".hcp-fpga-output").write_text("forged marker")  # even a marker does not make cwd removable
    monkeypatch.chdir(work)
    if where == "home":
        monkeypatch.setenv("HOME", str(work))
    target = {"cwd": ".", "parent": "..", "home": "~"}[where]
    refused(capsys, run_cli("export", tiny[0], "--weights", tiny[1], "--board", "pynq-z2", "-o", target, "--force"),
            "refusing to replace")
    assert (work / "precious.txt").read_text() == "thesis"


def test_force_never_removes_a_folder_hcp_fpga_did_not_create(tmp_path, capsys, tiny):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    refused(capsys, run_cli("export", tiny[0], "--weights", tiny[1], "--board", "pynq-z2", "-o", mine, "--force"),
            "did not create it")
    assert (mine / "notes.txt").read_text() == "keep"


def test_failed_conversion_keeps_earlier_outputs_and_its_log(tmp_path, capsys, tiny, monkeypatch):
    import hcp_fpga.hls as hls

    out = tmp_path / "prj"
    assert run_cli("export", tiny[0], "--weights", tiny[1], "--board", "pynq-z2", "-o", out, "--quiet") == 0
    before = snapshot(out)
    capsys.readouterr()

    def broken(*a, **k):
        raise Exception("simulated hls4ml failure {x}")

    monkeypatch.setattr("hls4ml.converters.convert_from_keras_model", broken)
    err = refused(capsys, run_cli("export", tiny[0], "--weights", tiny[1], "--board", "pynq-z2", "-o", out, "--force"),
                  "hls4ml failed")
    log = Path(err.split("see log ")[1].strip())
    assert log.exists() and "simulated hls4ml failure" in log.read_text()
    assert snapshot(out) == before and hls  # untouched


@pytest.mark.parametrize("damage, fragment", [
    ("nan_weight", "non-finite weight"), ("inf_header", "non-finite weight"), ("huge_type", "is outside 1..1024"),
    ("text_weight", "is not a comma-separated list of numbers"), ("empty_weight", "holds no weights (empty)"),
    ("negative_size", "n_in = -6 is not a size hls4ml writes"),
    ("huge_size", "products, about")])
def test_a_damaged_project_folder_is_refused_in_one_line(tmp_path, capsys, tiny_project, damage, fragment, monkeypatch):
    """A project whose weight files hold NaN/Inf or text, whose defines.h has a type no hls4ml writes,
    or whose parameters.h has a negative or an out-of-memory layer size: one line naming the file
    or type and 're-export', exit 2, nothing written (they were 'internal errors' or allocations)."""
    import re
    import shutil

    prj = tmp_path / "prj"
    shutil.copytree(tiny_project, prj)
    weights = prj / "firmware" / "weights"
    if damage == "nan_weight":
        txt = sorted(weights.glob("w*.txt"))[0]
        values = txt.read_text().split(",")
        txt.write_text(",".join(["nan"] + values[1:]))
    elif damage == "inf_header":
        for txt in weights.glob("*.txt"):
            txt.unlink()  # the headers alone, as some repositories keep them
        header = sorted(weights.glob("w*.h"))[0]
        header.write_text(header.read_text().replace("{", "{inf, ", 1))
    elif damage == "text_weight":
        txt = sorted(weights.glob("w*.txt"))[0]
        txt.write_text(txt.read_text().replace(",", ", x", 1))
    elif damage == "empty_weight":
        sorted(weights.glob("w*.txt"))[0].write_text("")
    elif damage in ("negative_size", "huge_size"):
        monkeypatch.setenv("HCP_FPGA_MAX_MODEL_BYTES", str(4 * 2**30))  # the same verdict on any machine
        parameters = prj / "firmware" / "parameters.h"
        size = "-6" if damage == "negative_size" else "1000000000"
        parameters.write_text(re.sub(r"(n_in = )6;", rf"\g<1>{size};", parameters.read_text(), count=1))
    else:
        defines = prj / "firmware" / "defines.h"
        defines.write_text(defines.read_text().replace("ap_fixed<16,6>", "ap_fixed<99999,6>"))
    before = snapshot(prj)
    refused(capsys, run_cli("estimate", prj), fragment, "re-export")
    assert snapshot(prj) == before


@pytest.mark.parametrize("backend, code", [("Quartus", 2), ("oneAPI", 2), ("[1, 2]", 2), ("VivadoAccelerator", 0)])
def test_a_project_backend_is_priced_only_where_the_cost_model_holds(tmp_path, capsys, tiny_project, backend, code):
    """Intel and other non-Xilinx backends are refused in one line (no silent Vivado constants); the
    accelerator wrapper around a Vivado core is priced as Vivado; --backend prices the network anyway."""
    import re
    import shutil

    prj = tmp_path / "prj"
    shutil.copytree(tiny_project, prj)
    config = prj / "hls4ml_config.yml"
    config.write_text(re.sub(r"(?m)^Backend: .*$", f"Backend: {backend}", config.read_text()))
    if code:
        refused(capsys, run_cli("estimate", prj), "Backend", "not one this estimator prices", "--backend")
        assert run_cli("estimate", prj, "--backend", "Vitis", "--json") == 0
        assert json.loads(capsys.readouterr().out)["estimate"]["dsp"] >= 0
    else:
        assert run_cli("estimate", prj, "--json") == 0
        vivado = json.loads(capsys.readouterr().out)["estimate"]
        assert run_cli("estimate", tiny_project, "--backend", "Vivado", "--json") == 0
        plain = json.loads(capsys.readouterr().out)["estimate"]
        # the same numbers; an accelerator project is told that its AXI wrapper is not in them
        plain_notes = plain.pop("notes")
        wrapper = [n for n in vivado.pop("notes") if n not in plain_notes]
        assert vivado == plain
        assert [n.split(":")[0] for n in wrapper] == ([f"{backend} project"] if "Accelerator" in backend else [])


def test_a_bare_hls4ml_assert_is_located_in_the_error_and_its_log(tmp_path, capsys, tiny, monkeypatch):
    """hls4ml's own asserts carry no message: the one-line error names the file and line instead of
    a bare 'AssertionError', and the log keeps the traceback."""
    def asserting(*a, **k):
        raise AssertionError  # what a failing bare assert in hls4ml raises (pytest would reword an assert here)

    monkeypatch.setattr("hls4ml.converters.convert_from_keras_model", asserting)
    err = refused(capsys, run_cli("export", tiny[0], "--weights", tiny[1], "--board", "pynq-z2", "-o", tmp_path / "prj"),
                  "hls4ml failed: AssertionError in test_hostile_inputs.py:")
    log = Path(err.split("see log ")[1].strip()).read_text()
    assert "Traceback" in log and "raise AssertionError" in log


# ----------------------------------------------------------------------------- data


def _npz(path: Path, **arrays):
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("arrays, fragment", [
    ({"X_train": np.zeros((4, 6)), "y_train": np.zeros(4)}, "lacks X_test, y_test"),
    ({"X_train": np.zeros((4, 6)), "y_train": np.zeros(3), "X_test": np.zeros((2, 6)), "y_test": np.zeros(2)}, "has 4 rows"),
    ({"X_train": np.zeros((4, 6)), "y_train": np.zeros(4), "X_test": np.zeros((2, 5)), "y_test": np.zeros(2)}, "must match"),
    ({"X_train": np.zeros((4, 6)), "y_train": np.zeros(4), "X_test": np.array([[0, 1, 2, np.nan, 4, 5.0]] * 2),
      "y_test": np.zeros(2)}, "feature (column) 3"),
    ({"X_train": np.zeros((4, 6)), "y_train": np.zeros(4), "X_test": np.zeros((2, 6)), "y_test": np.array([0, -1])}, "negative labels"),
    ({"X_train": np.zeros((4, 6)), "y_train": np.zeros(4), "X_test": np.zeros((2, 6)), "y_test": np.array([0, 7])}, "labels run from 0 to 7"),
    ({"X_train": np.zeros((4, 6)), "y_train": np.zeros(4), "X_test": np.zeros((2, 6)), "y_test": np.array([0.5, 1])}, "non-integer labels"),
    ({"X_train": np.zeros((4, 6)), "y_train": np.zeros(4), "X_test": np.array([["a"] * 6] * 2), "y_test": np.zeros(2)}, "must be numeric"),
])
def test_bad_csim_data(tmp_path, capsys, tiny_project, arrays, fragment):
    path = _npz(tmp_path / "d.npz", **arrays)
    before = snapshot(tiny_project)
    refused(capsys, run_cli("csim", tiny_project, "--data", path), fragment)
    assert snapshot(tiny_project) == before


def test_corrupt_npz(tmp_path, capsys, tiny_project):
    (tmp_path / "d.npz").write_bytes(b"PK not an npz")
    refused(capsys, run_cli("csim", tiny_project, "--data", tmp_path / "d.npz"), "cannot be read as .npz")


def test_pickled_npz_is_not_unpickled(tmp_path, capsys, tiny_project):
    obj = np.empty(2, dtype=object)
    obj[:] = [{"a": 1}, {"b": 2}]
    path = _npz(tmp_path / "d.npz", X_train=np.zeros((2, 6)), y_train=np.zeros(2), X_test=obj, y_test=np.zeros(2))
    refused(capsys, run_cli("csim", tiny_project, "--data", path), "d.npz")


# ----------------------------------------------------------------------------- project folders for csim


def test_csim_on_things_that_are_not_projects(tmp_path, capsys):
    refused(capsys, run_cli("csim", tmp_path, "--n", "5"), "not an hcp-fpga project")
    (tmp_path / "f").write_text("x")
    refused(capsys, run_cli("csim", tmp_path / "f", "--n", "5"), "not a folder")
    (tmp_path / "hcp_fpga.json").write_text("{not json")
    refused(capsys, run_cli("csim", tmp_path, "--n", "5"), "project manifest", "corrupt")
    (tmp_path / "hcp_fpga.json").write_text("[]")
    refused(capsys, run_cli("csim", tmp_path, "--n", "5"), "incomplete or corrupt")


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_deleted_weight_file_is_a_clear_error_not_exit(tmp_path, capsys, tiny_project):
    prj = _copy(tiny_project, tmp_path / "prj")
    next((prj / "firmware" / "weights").glob("w*.txt")).unlink()
    refused(capsys, run_cli("csim", prj, "--n", "5"), "weight file", "is missing")


@pytest.mark.parametrize("edit, fragment", [
    (lambda t: t + ",1,2,3", "values where the C code reads"),
    (lambda t: t.replace(",", ",nan,", 1), "values where the C code reads"),
    (lambda t: "nan" + t[t.index(","):], "NaN/Inf"),
    (lambda t: "rm -rf /" + t[t.index(","):], "not a number"),
])
def test_tampered_weight_files_never_reach_the_c_loader(tmp_path, capsys, tiny_project, edit, fragment):
    prj = _copy(tiny_project, tmp_path / "prj")
    w = next((prj / "firmware" / "weights").glob("w*.txt"))
    w.write_text(edit(w.read_text().strip()))
    refused(capsys, run_cli("csim", prj, "--n", "5"), fragment)


@pytest.mark.slow  # g++ rebuilds (6-10 s): make test-slow, which CI runs too
def test_truncated_cached_library_is_rebuilt_not_loaded(tmp_path, capsys, tiny_project):
    prj = _copy(tiny_project, tmp_path / "prj")
    assert run_cli("csim", prj, "--n", "20", "--json") == 0
    first = json.loads(capsys.readouterr().out)
    lib = next((prj / "firmware").glob("*.so"))
    lib.write_bytes(lib.read_bytes()[:4096])  # would be SIGBUS on dlopen
    assert run_cli("csim", prj, "--n", "20", "--json") == 0
    second = json.loads(capsys.readouterr().out)
    assert second["rebuilt"] is True and second["argmax_agreement"] == first["argmax_agreement"]


@pytest.mark.slow  # g++ rebuilds (6-10 s): make test-slow, which CI runs too
def test_corrupt_build_record_means_rebuild(tmp_path, capsys, tiny_project):
    prj = _copy(tiny_project, tmp_path / "prj")
    assert run_cli("csim", prj, "--n", "10", "--quiet") == 0
    (prj / ".hcp_build.json").write_text("{garbage")
    capsys.readouterr()
    assert run_cli("csim", prj, "--n", "10", "--json") == 0
    assert json.loads(capsys.readouterr().out)["rebuilt"] is True


def test_csim_json_is_strict_json():
    from hcp_fpga.outputs import dumps

    text = dumps({"a": float("nan"), "b": [float("inf"), np.float32(1.5)], "c": np.int64(3)})
    assert json.loads(text) == {"a": None, "b": [None, 1.5], "c": 3}
    assert "NaN" not in text and "Infinity" not in text


@pytest.mark.slow  # g++ rebuilds (6-10 s): make test-slow, which CI runs too
def test_killed_csim_leaves_no_stale_cache(tmp_path, tiny_project):
    """kill -9 while g++ runs, then change the sources back and forth: the next csim must build
    again from what is there and agree with a clean build."""
    prj = _copy(tiny_project, tmp_path / "prj")
    proc = cli_subprocess("csim", prj, "--n", "20", "--quiet")
    deadline = time.monotonic() + 60
    while not list(prj.glob(".hcp_build-*")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert list(prj.glob(".hcp_build-*")), "the build never started"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)
    gxx = subprocess.run(["pgrep", "-f", f"cc1plus.*{prj.name}"], capture_output=True, text=True).stdout.strip()
    assert not (prj / ".hcp_build.json").exists() and not list((prj / "firmware").glob("*.so"))
    done = subprocess.run([sys.executable, "-m", "hcp_fpga.cli", "csim", prj, "--n", "20", "--json"],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["rebuilt"] is True and result["argmax_agreement"] >= 0.9
    del gxx  # a leftover compiler of the killed run works in a temp folder nobody reads


@pytest.mark.slow  # g++ rebuilds (6-10 s): make test-slow, which CI runs too
def test_two_concurrent_csims_on_one_project_both_succeed(tmp_path, tiny_project):
    prj = _copy(tiny_project, tmp_path / "prj")
    procs = [cli_subprocess("csim", prj, "--n", "30", "--json") for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    results = [json.loads(o[0]) for o in outs]
    assert sorted(r["rebuilt"] for r in results) == [False, True]  # one built, the other waited and reused it
    assert results[0]["argmax_agreement"] == results[1]["argmax_agreement"]


# ----------------------------------------------------------------------------- demo and optimize


@pytest.mark.parametrize("epochs", ["-1", "0"])
def test_demo_refuses_non_positive_epochs(tmp_path, capsys, epochs):
    with pytest.raises(SystemExit) as exc:
        run_cli("demo", "--out", tmp_path / "d", "--epochs", epochs)
    assert exc.value.code == 2 and "--epochs must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def _project(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "project.yaml").write_text(text)
    return folder / "project.yaml"


BASE_PROJECT = """name: tiny
model: {builder: mlp, hidden: [8]}
data: digits
board: pynq-z2
training: {epochs: 1, finetune_epochs: 0}
max_iterations: 1
"""


@pytest.mark.parametrize("text, fragment", [
    ("name: [unclosed", "malformed YAML"),
    ("- a\n- b", "expected a mapping"),
    (BASE_PROJECT + "bogus_key: 1\n", "bogus_key"),
    (BASE_PROJECT.replace("name: tiny", "name: ../../escape"), "key 'name'"),
    (BASE_PROJECT + "precision: ap_fixed<0,1>\n", "width 0"),
    (BASE_PROJECT + "clock_ns: .nan\n", "clock_ns"),
    (BASE_PROJECT.replace("epochs: 1", "epochs: -1"), "training.epochs"),
    (BASE_PROJECT.replace("board: pynq-z2", "board: [1, 2]"), "board"),
    (BASE_PROJECT + "targets: {headroom: {dsp: 2}}\n", "headroom"),
    (BASE_PROJECT.replace("model: {builder: mlp, hidden: [8]}", 'model: {builder: mlp, "a\\nb": 1}'), "model.a\\nb"),
])
def test_bad_project_files_fail_before_training(tmp_path, capsys, text, fragment):
    t0 = time.perf_counter()
    refused(capsys, run_cli("optimize", _project(tmp_path / "p", text), "--out", tmp_path / "o"), fragment)
    assert time.perf_counter() - t0 < 10 and not (tmp_path / "o").exists()


def test_binary_project_file(tmp_path, capsys):
    (tmp_path / "project.yaml").write_bytes(b"\xff\xfe\x00\x01" * 64)
    refused(capsys, run_cli("optimize", tmp_path), "not a text file")


def test_unknown_board_with_force_keeps_the_earlier_run(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / ".hcp-fpga-output").write_text("")
    (out / "result.json").write_text('{"earlier": true}')
    before = snapshot(out)
    path = _project(tmp_path / "p", BASE_PROJECT.replace("board: pynq-z2", "board: no-such-board"))
    refused(capsys, run_cli("optimize", path, "--out", out, "--force"), "board 'no-such-board' not found")
    assert snapshot(out) == before


def test_output_dir_pointing_at_ancestors_is_never_removed(tmp_path, capsys, monkeypatch):
    work = tmp_path / "a" / "b" / "c"
    work.mkdir(parents=True)
    (tmp_path / "a" / "keep.txt").write_text("keep")
    monkeypatch.chdir(work)
    path = _project(work / "p", BASE_PROJECT + "output_dir: ../../..\n")
    refused(capsys, run_cli("optimize", path, "--force"), "refusing to replace")
    assert (tmp_path / "a" / "keep.txt").read_text() == "keep" and work.is_dir()


def test_output_dir_that_is_a_file(tmp_path, capsys):
    (tmp_path / "o").write_text("mine")
    path = _project(tmp_path / "p", BASE_PROJECT)
    refused(capsys, run_cli("optimize", path, "--out", tmp_path / "o"), "is a file")
    assert (tmp_path / "o").read_text() == "mine"


def test_resume_and_force_exclude_each_other_and_resume_needs_a_run(tmp_path, capsys):
    path = _project(tmp_path / "p", BASE_PROJECT)
    refused(capsys, run_cli("optimize", path, "--resume", "--force"), "exclude each other")
    refused(capsys, run_cli("optimize", path, "--resume", "--out", tmp_path / "none"), "to resume")


@pytest.mark.parametrize("damage", ["garbage", "list", "missing-keys", "bad-model"])
def test_corrupt_checkpoint_names_the_file_and_the_fix(tmp_path, capsys, damage):
    out = tmp_path / "o"
    (out / "checkpoint" / "step").mkdir(parents=True)
    (out / ".hcp-fpga-output").write_text("")
    state = out / "checkpoint" / "state.json"
    state.write_text({"garbage": "{not json", "list": "[1, 2]", "missing-keys": '{"iteration": 1}',
                      "bad-model": '{"history": [], "iteration": 1, "baseline_accuracy": 0.9, "accuracy": 0.9}'}[damage])
    (out / "checkpoint" / "step" / "model.json").write_text("[]")
    before = snapshot(out)
    path = _project(tmp_path / "p", BASE_PROJECT)
    err = refused(capsys, run_cli("optimize", path, "--out", out, "--resume"), "--force")
    assert "checkpoint" in err
    assert snapshot(out) == before


# ----------------------------------------------------------------------------- --debug


def test_debug_shows_the_traceback(tmp_path, capsys):
    path = write_arch(tmp_path, "[1]")
    with pytest.raises(Exception):
        run_cli("--debug", "estimate", path, "--board", "pynq-z2")
    with pytest.raises(Exception):
        run_cli("estimate", path, "--board", "pynq-z2", "--debug")


def test_estimate_of_a_folder_that_is_neither_project_nor_model(tmp_path, capsys):
    refused(capsys, run_cli("estimate", tmp_path), "neither an hls4ml project", "nor a Keras SavedModel")
    refused(capsys, run_cli("estimate", tmp_path / "missing"), "does not exist")
    (tmp_path / "hls4ml_config.yml").write_text("just a string")
    refused(capsys, run_cli("estimate", tmp_path), "expected a mapping")


# a real project (ArgyKokk's breast-cancer MLP, Vitis HLS 2021.1) whose config each case damages
_CORPUS_MLP = ("reports/corpus/ArgyKokk__hls4ml_MLP_estimator__Breast_cancer_LUT_reuse1/HLS_MLPs/Breast_cancer/"
               "hls4ml_prj/LUT_reuse1")


@pytest.mark.parametrize("edit, fragment", [
    (lambda c: c["HLSConfig"]["LayerName"]["fc1"].update(ReuseFactor="ap_int<1>"),
     "HLSConfig.LayerName.fc1.ReuseFactor 'ap_int<1>' is not a whole number >= 1"),
    (lambda c: c["HLSConfig"]["Model"].update(ReuseFactor=0), "HLSConfig.Model.ReuseFactor 0 is not a whole number"),
    (lambda c: c["HLSConfig"]["LayerName"]["fc2"].update(Precision={"result": "io_stream"}),
     "HLSConfig.LayerName.fc2.Precision.result 'io_stream' is not an HLS type"),
    (lambda c: c["HLSConfig"]["LayerName"]["fc2"].update(Precision={"weight": 7}),
     "HLSConfig.LayerName.fc2.Precision.weight 7 is not an HLS type"),
    (lambda c: c["HLSConfig"].update(LayerName="io_stream"), "HLSConfig.LayerName 'io_stream' is not a mapping"),
    (lambda c: c["HLSConfig"]["LayerName"].update(fc1=True), "HLSConfig.LayerName.fc1 True is not a mapping"),
    (lambda c: c.update(HLSConfig=-1), "HLSConfig -1 is not a mapping"),
    (lambda c: c["HLSConfig"]["Model"].update(Strategy=[1, 2]), "HLSConfig.Model.Strategy [1, 2] is not a strategy"),
    (lambda c: c["HLSConfig"]["LayerName"]["softmax"].update(TableSize="big"), "softmax.TableSize 'big' is not a whole"),
    (lambda c: c.update(Part=7), "Part 7 is not text"),
    (lambda c: c.update(Part="xc7z007s-clg225-2; rm -rf ~"), "Part 'xc7z007s-clg225-2; rm -rf ~' is not a device name"),
    (lambda c: c.update(Part="$(reboot)"), "Part '$(reboot)' is not a device name"),
    (lambda c: c.update(ClockPeriod=None), "ClockPeriod None is not a positive number of ns"),
    (lambda c: c.update(ClockPeriod="fast"), "ClockPeriod 'fast' is not a positive number of ns"),
])
def test_a_damaged_project_config_is_refused_in_one_line(tmp_path, capsys, edit, fragment):
    """Each value of a real project's hls4ml_config.yml the estimate reads is checked for the type
    hls4ml writes there: a wrong one is one line naming the key and value, exit 2 (it was an
    'internal error', or silently ignored), the folder untouched. The config as shipped reads fine."""
    import shutil

    import yaml

    from hcp_fpga.errors import Hls4mlYamlLoader
    from tests.conftest import SHARED

    src = SHARED / _CORPUS_MLP  # (conftest skips a test naming SHARED when ../shared is missing)
    prj = tmp_path / "prj"
    shutil.copytree(src, prj, ignore=shutil.ignore_patterns("myproject_prj"))
    assert run_cli("estimate", prj, "--json") == 0
    capsys.readouterr()
    config_file = prj / "hls4ml_config.yml"
    config = yaml.load(config_file.read_text(), Loader=Hls4mlYamlLoader)  # hls4ml's !keras_model tag as text
    edit(config)
    config_file.write_text(yaml.safe_dump(config))
    before = snapshot(prj)
    refused(capsys, run_cli("estimate", prj), fragment, "fix the config or re-export the project")
    assert snapshot(prj) == before


def _layer(config: dict, index: int) -> dict:
    return config["config"]["layers"][index]


@pytest.mark.parametrize("edit, fragment", [
    (lambda c: _layer(c, 1)["config"].update(kernel_size=1.5), "layer 'qconv2d_1' has kernel_size 1.5, not a whole number >= 1"),
    (lambda c: _layer(c, 1)["config"].update(strides=[[1, 2], 1]), "has strides [[1, 2], 1], not a whole number"),
    (lambda c: _layer(c, 1)["config"].update(filters=0), "has filters 0, not a whole number >= 1"),
    (lambda c: _layer(c, 1)["config"].update(dilation_rate=None), "has dilation_rate None"),
    (lambda c: _layer(c, 1)["config"].update(padding=[-1, 2]), "has padding [-1, 2], not 'valid'/'same'"),
    (lambda c: _layer(c, 1)["config"]["activation"]["config"].update(bits=[None, 0, 3]),
     "quantizer quantized_relu has bits [None, 0, 3], not a number"),
    (lambda c: _layer(c, 1)["config"]["activation"].update(config="relu"), "has config 'relu', not a mapping"),
    (lambda c: _layer(c, 1).update(config=""), "layer 1 (QConv2D) has config '', not a mapping"),
    (lambda c: _layer(c, 1).update(build_config="Lambda"), "has build_config 'Lambda', not a mapping"),
    (lambda c: c["config"].update(layers="same"), "the model's 'layers' is 'same', not a list of layers"),
    (lambda c: c.update(config="linear"), "the model's config is 'linear', not a mapping of layers"),
    # an empty list passed as a size, a list where one number goes, no layer at all (internal errors before)
    (lambda c: _layer(c, 0)["config"].update(batch_input_shape=[None, [], 28, 1]), "has batch_input_shape [None, [], 28, 1]"),
    (lambda c: _layer(c, 6)["config"].update(units=[]), "layer 'qdense_1' has units [], not a whole number >= 1"),
    (lambda c: _layer(c, 6)["config"].update(units=[32]), "has units [32], not a whole number >= 1"),
    (lambda c: c["config"].update(layers=[None, -5]), "its model JSON lists no layers"),
    # a power-of-two kernel quantizer with settings QKeras would not write
    (lambda c: _layer(c, 6)["config"].update(kernel_quantizer={"class_name": "quantized_po2", "config": {"bits": "x"}}),
     "quantizer quantized_po2 has bits 'x', not a number"),
    (lambda c: _layer(c, 6)["config"].update(kernel_quantizer={"class_name": "quantized_po2", "config": {"bits": 4, "max_value": -2}}),
     "quantizer quantized_po2 has max_value -2, not >= 0"),
])
def test_a_damaged_model_file_in_a_project_is_refused_in_one_line(tmp_path, capsys, edit, fragment):
    """A project estimated from its model file (no firmware) reads the file's JSON without Keras: a
    value Keras would not write there is one line naming the layer, key and value, exit 2 (these were
    'internal errors'). The file as shipped estimates."""
    import shutil
    import zipfile

    from tests.conftest import SHARED

    src = SHARED / "reports/corpus/Spehic__Diplomska-hls4ml__mnist_qkeras_pruned_cnn"  # (conftest: needs ../shared)
    prj = tmp_path / "prj"
    shutil.copytree(src, prj, ignore=shutil.ignore_patterns("myproject_prj", "firmware", "*.rpt"))
    assert run_cli("estimate", prj, "--json") == 0
    capsys.readouterr()
    model = prj / "keras_model.keras"
    with zipfile.ZipFile(model) as z:
        files = {n: z.read(n) for n in z.namelist()}
    config = json.loads(files["config.json"])
    edit(config)
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(model, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    before = snapshot(prj)
    refused(capsys, run_cli("estimate", prj), fragment)
    assert snapshot(prj) == before


@pytest.mark.parametrize("kind", ["fifo", "dev_zero"])
def test_a_pipe_or_device_in_place_of_a_file_is_refused_not_read(tmp_path, capsys, kind):
    """A named pipe, or a link to /dev/zero, where a project's weights, a model file or a data file
    should be: one line naming it, exit 2, at once (reading would block forever, or never end). In
    place of a csynth report it is ignored: the estimate judges, as without a report."""
    import shutil

    def plant(path: Path) -> Path:
        path.unlink(missing_ok=True)
        os.mkfifo(path) if kind == "fifo" else path.symlink_to("/dev/zero")
        return path

    prj = tmp_path / "prj"
    shutil.copytree(REPO / "tests" / "fixtures" / "old_hls4ml" / "hls4ml-0.8.1-io_parallel", prj)
    assert run_cli("estimate", prj, "--json", "--quiet") == 0
    bare = json.loads(capsys.readouterr().out)["estimate"]
    report_dir = prj / "myproject_prj" / "solution1" / "syn" / "report"
    report_dir.mkdir(parents=True)
    report = plant(report_dir / "myproject_csynth.rpt")
    assert run_cli("estimate", prj, "--json", "--quiet") == 0  # the planted report is no report
    assert json.loads(capsys.readouterr().out)["estimate"] == bare
    report.unlink()
    t0 = time.perf_counter()
    weights = plant(prj / "firmware" / "weights" / "w2.txt")
    refused(capsys, run_cli("estimate", prj), str(weights), "not a regular file", "re-export the project")
    refused(capsys, run_cli("estimate", plant(tmp_path / "m.h5"), "--board", "pynq-z2"), "not a regular file")
    refused(capsys, run_cli("estimate", plant(tmp_path / "m.keras"), "--board", "pynq-z2"), "not a regular file")
    from hcp_fpga.data import load_npz_dataset
    from hcp_fpga.errors import DataError

    with pytest.raises(DataError, match="not a regular file"):
        load_npz_dataset(plant(tmp_path / "d.npz"))
    assert time.perf_counter() - t0 < 20


@pytest.fixture(scope="module")
def shaped_project(tmp_path_factory):
    """An exported project whose model has shape-changing layers, its firmware removed: estimated
    from hls4ml_config.yml + the model's own JSON (no Keras involved)."""
    import tensorflow as tf
    from tensorflow.keras import layers as L

    from hcp_fpga import api

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([L.Input((8, 2)), L.ZeroPadding1D(1, name="pad"), L.Conv1D(3, 3, name="conv"),
                                 L.Reshape((24, 1), name="reshape"), L.Permute((2, 1), name="permute"),
                                 L.Flatten(name="flatten"), L.Dense(2, name="dense")])  # names: Keras' counters run on
    out = tmp_path_factory.mktemp("shaped") / "prj"
    api.export(model, out, board="pynq-z2")
    return out


@pytest.mark.parametrize("cls, key, value, fragment", [
    ("Permute", "dims", [3, 1], "not an order of its input's axes 1..2"),
    ("Permute", "dims", 0, "not a list of whole numbers"),
    ("Reshape", "target_shape", [5, 5], "reshapes 24 values"),
    ("Reshape", "target_shape", 7, "not a list of whole numbers"),
    ("ZeroPadding1D", "padding", None, "its config does not fit its input shape"),
    ("Conv1D", "strides", None, "its config does not fit its input shape"),
    ("InputLayer", "batch_input_shape", [3, 1], "layer 'reshape' reshapes 3 values"),
])
def test_a_hand_edited_shape_setting_in_a_project_is_one_line(tmp_path, capsys, shaped_project, cls, key, value, fragment):
    """Shape settings a damaged or hand-edited model file gives a layer (found by mutating each of
    624 settings of such a project: 13 were internal errors) are refused naming the layer."""
    import shutil

    folder = tmp_path / "prj"
    shutil.copytree(shaped_project, folder, ignore=shutil.ignore_patterns("firmware", "keras_model.keras", "tb_data"))
    arch = json.loads((folder / "hcp_model.json").read_text())
    layer = next(entry for entry in arch["config"]["layers"] if entry["class_name"] == cls)
    layer["config"][key] = value
    (folder / "hcp_model.json").write_text(json.dumps(arch))
    refused(capsys, run_cli("estimate", folder), fragment)


def test_a_reshape_to_minus_one_in_a_project_model_file_is_read_as_keras_writes_it(tmp_path, capsys, shaped_project):
    """Keras writes Reshape((-1, 1)) with its -1: read as the size it stands for, the same estimate."""
    import shutil

    folder = tmp_path / "prj"
    shutil.copytree(shaped_project, folder, ignore=shutil.ignore_patterns("firmware", "keras_model.keras", "tb_data"))
    assert run_cli("estimate", folder, "--json") == 0
    before = json.loads(capsys.readouterr().out)
    arch = json.loads((folder / "hcp_model.json").read_text())
    next(e for e in arch["config"]["layers"] if e["class_name"] == "Reshape")["config"]["target_shape"] = [-1, 1]
    (folder / "hcp_model.json").write_text(json.dumps(arch))
    assert run_cli("estimate", folder, "--json") == 0
    after = json.loads(capsys.readouterr().out)
    assert after["estimate"] == before["estimate"]
