"""The optimize loop: project files, a fit, a clear cannot-fit, C-simulation precision repair, and
kill -9 + --resume giving the same result as an uninterrupted run."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hcp_fpga.errors import ConfigError
from hcp_fpga.project import load_project
from tests.conftest import REPO, run_cli


def _project(tmp_path, **overrides) -> Path:
    data = {
        "name": "tiny", "model": {"builder": "mlp", "hidden": [32]}, "data": "digits", "board": "arty-a7-35t",
        "training": {"epochs": 15, "finetune_epochs": 3}, "max_iterations": 12, "seed": 0,
    }
    for key, value in overrides.items():
        data[key] = value
    path = tmp_path / "project.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("text,message", [
    ("name: x\nmodel: {builder: mlp}\nboard: [arty\n", "malformed YAML"),
    ("name: x\nboard: arty-a7-35t\n", "key 'model'"),
    ("name: x\nmodel: {builder: mlp, file: m.h5}\nboard: arty-a7-35t\n", "exactly one of 'file'"),
    ("name: x\nmodel: {builder: mlp}\nboard: arty-a7-35t\ntargets: {headroom: {dsp: 1.5}}\n", "headroom"),
    ("name: x\nmodel: {builder: mlp}\nboard: arty-a7-35t\nlevers: {weight_bits: [8, 4]}\n", "levers.weight_bits"),
    ("name: x\nmodel: {builder: mlp}\nboard: arty-a7-35t\ntypo: 1\n", "key 'typo'"),
])
def test_bad_project_files_name_the_key(tmp_path, text, message):
    path = tmp_path / "project.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_project(path)


def test_optimize_refuses_a_model_export_would_refuse_before_any_output(tmp_path, capsys):
    """A TimeDistributed(Dense(relu)): priced (with a note), but hls4ml 1.3 would drop its relu, so the
    export at the end of the search refuses it; optimize says so first, before the output folder."""
    import tensorflow as tf
    from tensorflow.keras import layers as L

    model = tf.keras.Sequential([L.Input((8, 8)), L.TimeDistributed(L.Dense(4, activation="relu"), name="td"),
                                 L.Flatten(), L.Dense(10, activation="softmax")])
    model.save(tmp_path / "m.h5")
    path = _project(tmp_path, model={"file": "m.h5"})
    assert run_cli("optimize", path, "--out", tmp_path / "out") == 2
    assert "td (TimeDistributed: hls4ml 1.3 drops the wrapped layer's 'relu' activation" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_example_projects_validate():
    for folder in sorted((REPO / "projects").iterdir()):
        config = load_project(folder / "project.yaml")
        assert config.name == folder.name


@pytest.mark.slow  # a whole optimize run (11-20 s): make test-slow, which CI runs too
def test_infeasible_target_ends_with_cannot_fit_exit_3_and_outputs(tmp_path, capsys):
    path = _project(tmp_path, name="too-big", model={"builder": "mlp", "hidden": [64, 64]}, board="zybo-z7-10",
                    targets={"max_accuracy_drop_pp": 0.0}, levers={"strategies": ["Latency"], "weight_bits": [16, 16],
                                                                   "activation_bits": [16, 16]},
                    max_iterations=3)
    out = tmp_path / "out"
    assert run_cli("optimize", path, "--out", out, "--quiet") == 3
    err = capsys.readouterr().err.strip()
    assert "cannot fit 'too-big' on zybo-z7-10" in err and "binding:" in err and len(err.splitlines()) == 1
    result = json.loads((out / "result.json").read_text())
    assert result["fits"] is False and result["binding"] in err
    assert (out / "hls_project" / "csim.json").exists() and (out / "history.json").exists()
    assert run_cli("optimize", path, "--out", out, "--quiet") == 2  # no silent overwrite
    assert "--resume to continue it or --force" in capsys.readouterr().err


@pytest.mark.slow  # a whole optimize run (11-20 s): make test-slow, which CI runs too
def test_csim_precision_repair_widens_too_narrow_result_types(tmp_path):
    """A float MLP built with ap_fixed<8,3> (range +-4) overflows in C simulation; the loop finds
    the csim accuracy short of Keras, widens the result (and input) types from the profiled ranges, and re-checks."""
    from hcp_fpga.loop import run_loop

    path = _project(tmp_path, board="vcu118", precision="ap_fixed<8,3>", max_iterations=1)
    result = run_loop(load_project(path), tmp_path / "out", log=lambda m: None)
    repair = result.summary["precision_repair"]
    assert repair is not None and repair["csim_accuracy_before"] < result.summary["keras_accuracy"] - 0.005
    assert repair["csim_accuracy_after"] >= result.summary["keras_accuracy"] - 0.005
    assert set(repair["layer_precision"]) == {"features", "fc1", "output"}  # the inputs too
    config = (tmp_path / "out" / "hls_project" / "hls4ml_config.yml").read_text()
    assert repair["layer_precision"]["fc1"].replace(" ", "") in config.replace(" ", "")


# what TensorFlow, absl and Keras print between our lines when they are not silenced
LIBRARY_NOISE = re.compile(r"^(WARNING|INFO|ERROR):(tensorflow|absl)|^[WIE]\d{4} |retracing|UserWarning|DeprecationWarning|"
                           r"oneDNN|cuda|TF_ENABLE", re.I)


@pytest.mark.slow
def test_make_run_fits_arty_with_at_most_1pp_csim_loss_and_prints_no_library_noise(tmp_path):
    """The command `make run` runs, as a user sees it (stdout and stderr)."""
    done = subprocess.run([sys.executable, "-m", "hcp_fpga.cli", "optimize", "projects/digits-mlp", "--out", str(tmp_path / "out")],
                          cwd=REPO, capture_output=True, text=True, timeout=900,
                          env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"})
    assert done.returncode == 0, done.stderr[-2000:]
    noise = [line for line in (done.stdout + done.stderr).splitlines() if LIBRARY_NOISE.search(line)]
    assert noise == [], f"{len(noise)} library log lines, e.g. {noise[:2]}"
    s = json.loads((tmp_path / "out" / "result.json").read_text())
    assert s["fits"] and s["board"] == "arty-a7-35t"
    # the 1 pp tolerance holds where decisions are made, on the validation split; the test split is
    # reported (and the C simulation matches Keras on it)
    assert s["val_accuracy"] >= s["baseline_val_accuracy"] - 0.01
    assert abs(s["csim_accuracy"] - s["keras_accuracy"]) <= 0.005 and s["accuracy_split"].startswith("test")
    history = json.loads((tmp_path / "out" / "history.json").read_text())
    assert history[0]["action"] == "baseline" and history[-1]["action"] == "final C simulation"
    assert all({"action", "accuracy", "iteration"} <= set(row) for row in history)


def _optimize(path, out, *extra):
    return subprocess.Popen([sys.executable, "-m", "hcp_fpga.cli", "optimize", str(path), "--out", str(out), "--quiet", *extra],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _final(out: Path) -> tuple:
    r = json.loads((out / "result.json").read_text())
    from hcp_fpga.models import load_model, model_hash

    model = load_model(out / "model" / "model.json", out / "model" / "model_weights.h5")
    return r["keras_accuracy"], r["csim_accuracy"], r["estimate"], r["settings"], r["bits"], model_hash(model)


@pytest.mark.slow
def test_kill_9_in_iteration_2_then_resume_gives_the_same_result(tmp_path):
    path = _project(tmp_path)
    straight = _optimize(path, tmp_path / "straight")
    assert straight.wait(timeout=1200) == 0, straight.stderr.read()
    killed = _optimize(path, tmp_path / "killed")
    state = tmp_path / "killed" / "checkpoint" / "state.json"
    deadline = time.time() + 900
    while time.time() < deadline:  # wait for iteration 1 to be checkpointed, then kill inside iteration 2
        if state.exists() and json.loads(state.read_text())["round"] >= 1:
            break
        time.sleep(0.02)
    time.sleep(0.1)  # re-configure iterations take a few tenths of a second (checkpoint included)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert not (tmp_path / "killed" / "result.json").exists()
    assert json.loads(state.read_text())["round"] in (1, 2)
    resumed = _optimize(path, tmp_path / "killed", "--resume")
    assert resumed.wait(timeout=1200) == 0, resumed.stderr.read()
    assert _final(tmp_path / "killed") == _final(tmp_path / "straight")


@pytest.mark.slow  # a whole optimize run (11-20 s): make test-slow, which CI runs too
def test_latency_bound_keeps_slow_designs_out(tmp_path):
    """With a 12-cycle bound every design the loop tries meets it (actions whose estimate breaks it
    are dropped before fine-tuning), even if that means it cannot fit: fc1 at RF 4 (11 cycles) is
    allowed, RF 8 (more than 12) never tried."""
    from hcp_fpga.loop import CannotFit, run_loop

    path = _project(tmp_path, targets={"latency": {"cycles": 12}}, max_iterations=3,
                    training={"epochs": 5, "finetune_epochs": 1})
    try:
        run_loop(load_project(path), tmp_path / "out", log=lambda m: None)
    except CannotFit:
        pass
    history = json.loads((tmp_path / "out" / "history.json").read_text())
    accepted = [r for r in history[1:] if r.get("accepted") and "estimate" in r]
    assert accepted, "the loop should find some latency-safe action (quantization, pruning)"
    assert all(r["estimate"]["latency_cycles"] <= 12 for r in history if "estimate" in r)
    assert not any("-> 8" in r["action"] for r in history)


@pytest.mark.slow  # an optimize run
def test_optimize_applies_layer_type_entries_and_says_what_it_does_not_apply(tmp_path):
    """A project's hls_config with LayerType entries: the loop starts from them per layer (the
    exported project has the Dense layers at Resource RF 4), and logs its notes (a class no layer
    has) before the search."""
    import hcp_fpga
    from hcp_fpga.loop import CannotFit

    hls = {"LayerType": {"Dense": {"Strategy": "Resource", "ReuseFactor": 4}, "Dens": {"ReuseFactor": 2}}}
    path = _project(tmp_path, name="typed", hls_config=hls, training={"epochs": 3, "finetune_epochs": 1}, max_iterations=1)
    lines: list[str] = []
    try:
        hcp_fpga.optimize(path, out=tmp_path / "out", log=lines.append)
    except CannotFit:  # not in one round: the outputs are written all the same
        pass
    assert any(line.startswith("note: ") and "LayerType.Dens: no layer of this model" in line for line in lines), lines
    applied = {layer["name"]: layer for layer in json.loads((tmp_path / "out" / "hls_project" / "hcp_fpga.json").read_text())["layers"]}
    assert applied["fc1"]["strategy"] == "resource" and applied["fc1"]["reuse_factor"] == 4


@pytest.mark.slow  # a whole optimize run
def test_optimize_keeps_what_a_user_hls4ml_config_pins(tmp_path, capsys):
    """hls_config pins fc1's reuse factor, strategy, weight and result types: the loop works on the
    other layers, and the exported project carries exactly the pinned values."""
    hls = {"LayerName": {"fc1": {"ReuseFactor": 4, "Strategy": "Resource",
                                 "Precision": {"weight": "ap_fixed<10,2>", "result": "ap_fixed<18,8>"}}}}
    (tmp_path / "hls.yml").write_text(yaml.safe_dump(hls))
    # Latency only for the other layers: the loop has to quantize and prune, the levers a pin must survive
    path = _project(tmp_path, name="pinned", model={"builder": "mlp", "hidden": [64, 32]}, hls_config="hls.yml",
                    training={"epochs": 10, "finetune_epochs": 2}, levers={"strategies": ["Latency"]}, max_iterations=4)
    out = tmp_path / "out"
    code = run_cli("optimize", path, "--out", out, "--quiet")
    assert code in (0, 3), capsys.readouterr().err
    history = json.loads((out / "history.json").read_text())
    accepted = [row["action"] for row in history[1:-1] if row["accepted"]]
    assert accepted, "the loop changed nothing: the test would not show that it leaves fc1 alone"
    assert not any(a.startswith("fc1") for a in [row["action"] for row in history]), history
    applied = {layer["name"]: layer for layer in json.loads((out / "hls_project" / "hcp_fpga.json").read_text())["layers"]}
    assert applied["fc1"]["reuse_factor"] == 4 and applied["fc1"]["strategy"] == "resource"
    assert applied["fc1"]["precision"]["weight"] == "ap_fixed<10,2>" and applied["fc1"]["precision"]["result"] == "ap_fixed<18,8>"
    assert applied["fc2"]["precision"]["weight"] != "ap_fixed<16,6>"  # the others were quantized
    result = json.loads((out / "result.json").read_text())
    assert "fc1" not in (result["bits"] or {})
