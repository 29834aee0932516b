"""The search's parts on their own: frozen design points, the action registry, the Pareto front,
the evaluation tasks (which never receive test data), and executors giving the same results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest
import yaml

from hcp_fpga.board_catalog import load_board
from hcp_fpga.design import HlsSettings
from hcp_fpga.project import load_project
from hcp_fpga.search import actions as actions_mod
from hcp_fpga.search.actions import ACTIONS, Action, PointView, propose_all, register
from hcp_fpga.search.pareto import front
from hcp_fpga.search.point import DesignPoint
from hcp_fpga.search.records import Measure, Trial
from tests.conftest import REPO


def _measure(acc=0.9, dsp=10.0, lut=100.0, ebops=1.0, latency=5, fits=True, objective=0.5) -> Measure:
    resources = {"dsp": dsp, "bram18": 0.0, "uram": 0.0, "lut": lut, "ff": 10.0}
    return Measure(acc, resources, latency, None, 1, fits, True, "lut", (), 0.5, ebops, objective)


def _trial(i, **kw) -> Trial:
    return Trial(DesignPoint(i, None, f"p{i}", HlsSettings()), 1, _measure(**kw))


def test_pareto_front_keeps_exactly_the_non_dominated_designs():
    a = _trial(0, acc=0.95, lut=500)   # most accurate
    b = _trial(1, acc=0.90, lut=100)   # smallest
    c = _trial(2, acc=0.90, lut=200)   # dominated by b
    d = _trial(3, acc=0.90, lut=100)   # identical to b: the first one stays
    e = _trial(4, acc=0.85, lut=100, ebops=0.5)  # fewer EBOPs: a trade-off, stays
    assert [t.point.id for t in front([a, b, c, d, e])] == [0, 1, 4]


def test_a_design_point_round_trips_through_its_folder(tmp_path):
    from hcp_fpga.models import build_mlp

    settings = HlsSettings(strategy="Resource", reuse_factor=2, layer_reuse={"fc1": 4}, layer_types={"fc1": {"weight": "ap_fixed<8,2>"}},
                           pinned={"fc1": ("reuse", "weight")})
    point = DesignPoint(7, 3, "fc1 to 6-bit", settings, {"fc1": (6, 6)})
    model = build_mlp(8, (4,), 3, seed=0)
    masks = {"fc1": np.ones((8, 4), np.float32)}
    point.save(tmp_path, model, masks)
    again = DesignPoint.load(tmp_path, 7)
    assert again == point and again.settings.is_pinned("fc1", "weight")
    loaded, loaded_masks = again.load_model(tmp_path)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), model.get_weights()))
    assert np.array_equal(loaded_masks["fc1"], masks["fc1"])
    assert not list(tmp_path.glob("points/*.tmp*"))  # written beside, renamed into place


def test_actions_register_themselves_and_propose_their_own_candidates():
    assert {"quantize", "prune", "reconfigure"} <= set(ACTIONS)

    @register
    class Nothing(Action):
        kind = "nothing-test"

        @classmethod
        def propose(cls, view, ctx):
            return [cls("do nothing", 0.1, False)]

    try:
        view = PointView(DesignPoint(0, None, "baseline", HlsSettings(), {}), _Model(), _measure(), False)
        names = [a.name for a in propose_all(view, _Ctx())]
        assert "do nothing" in names
        assert Action.from_dict(Nothing("do nothing", 0.1, False).as_dict()) == Nothing("do nothing", 0.1, False)
    finally:
        del ACTIONS["nothing-test"]


class _Model:
    layers: list = []


class _Ctx:
    class config:
        class levers:
            weight_bits = (4, 8)
            activation_bits = (4, 8)
            max_sparsity = 0.0
            prune_structures = ["unstructured"]
            strategies = ["Latency"]
            reuse_factor = (1, 64)
            accumulators = True
            min_softmax_table = 256
            io_types = ["io_parallel"]

    def budget(self):
        return {"dsp": 1e9, "bram18": 1e9, "lut": 1e9, "ff": 1e9}


def _tiny_project(tmp_path, **extra) -> object:
    data = {"name": "tiny", "model": {"builder": "mlp", "hidden": [32]}, "data": "digits", "board": "arty-a7-35t",
            "training": {"epochs": 15, "finetune_epochs": 3}, "max_iterations": 4, "seed": 0,
            "search": {"candidates": 2, "beam_width": 2}}
    data.update(extra)
    (tmp_path / "project.yaml").write_text(yaml.safe_dump(data))
    return tmp_path / "project.yaml"


def test_evaluations_never_receive_test_data(tmp_path, monkeypatch):
    """screen/evaluate get their data from search_data, whose test split is empty, and validate
    on the validation arrays."""
    from hcp_fpga.loop import _baseline_model, project_data
    from hcp_fpga.models import build_mlp  # noqa: F401 - the baseline builder
    from hcp_fpga.prune import masks_of
    from hcp_fpga.search import evaluate as ev
    from hcp_fpga.search.actions import Reconfigure
    from hcp_fpga.search.context import SearchContext, search_data

    config = load_project(_tiny_project(tmp_path, training={"epochs": 2, "finetune_epochs": 1}))
    board = load_board(config.board)
    full = project_data(config)
    model, full = _baseline_model(config, full, lambda m: None)
    settings = HlsSettings().resolved(board)
    parent = DesignPoint(0, None, "baseline", settings)
    parent.save(tmp_path, model, masks_of(model))
    ctx = SearchContext(config, board, tmp_path, 0.5)
    seen = []
    real = ev.search_data

    def spy(cfg):
        data = real(cfg)
        seen.append(data)
        return data

    monkeypatch.setattr(ev, "search_data", spy)
    import hcp_fpga.train as train

    real_accuracy = train.accuracy
    evaluated_on = []
    monkeypatch.setattr(train, "accuracy", lambda m, x, y, **k: evaluated_on.append(x) or real_accuracy(m, x, y, **k))
    import hcp_fpga.fixed_softmax as fixed_softmax  # a classifier's accuracy with hls4ml's softmax

    real_hw = fixed_softmax.hardware_accuracy
    monkeypatch.setattr(fixed_softmax, "hardware_accuracy",
                        lambda m, specs, s, x, y: evaluated_on.append(x) or real_hw(m, specs, s, x, y))
    action = Reconfigure("output: Resource RF 2", 0.05, False, (("output", "Resource"),), (("output", 2),))
    assert ev.screen(ev.Task(ctx, parent, action)) is not None
    trial = ev.evaluate(ev.Task(ctx, parent, actions_mod.Quantize("quantize all to 8-bit", 0.2, True), 1, 1, seed=1))
    assert trial is not None and trial.point.id == 1 and DesignPoint.load(tmp_path, 1) == trial.point
    assert seen and all(d.x_test.size == 0 and d.y_test.size == 0 for d in seen)
    assert search_data(config).x_test.size == 0 and full.x_test.size > 0
    val = search_data(config).x_val
    assert evaluated_on and all(x.shape[0] == val.shape[0] for x in evaluated_on)
    assert all(x.shape[0] != full.x_test.shape[0] for x in evaluated_on)


def _run(path, out, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hcp_fpga.cli", "optimize", str(path), "--out", str(out), "--quiet", *extra],
                          cwd=REPO, capture_output=True, text=True, timeout=1200)


def _front(out) -> list:
    return json.loads((out / "pareto.json").read_text())


@pytest.mark.slow  # two small optimize runs and a Dask cluster of separate processes
def test_a_real_dask_scheduler_and_two_workers_give_the_serial_front(tmp_path):
    path = _tiny_project(tmp_path)
    serial = _run(path, tmp_path / "serial")
    assert serial.returncode in (0, 3), serial.stderr[-2000:]
    port = 8786 + os.getpid() % 1000
    bin_dir = os.path.dirname(sys.executable)
    scheduler = subprocess.Popen([f"{bin_dir}/dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = [subprocess.Popen([f"{bin_dir}/dask", "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1", "--no-dashboard"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO) for _ in range(2)]
    try:
        time.sleep(5)
        dask_run = _run(path, tmp_path / "dask", "--scheduler", f"tcp://127.0.0.1:{port}")
        assert dask_run.returncode == serial.returncode, dask_run.stderr[-2000:]
    finally:
        for p in [*workers, scheduler]:
            p.terminate()
            p.wait(timeout=60)
    assert _front(tmp_path / "dask") == _front(tmp_path / "serial") and _front(tmp_path / "serial")
    r_serial, r_dask = (json.loads((tmp_path / d / "result.json").read_text()) for d in ("serial", "dask"))
    assert (r_dask["point"], r_dask["estimate"], r_dask["keras_accuracy"]) == (r_serial["point"], r_serial["estimate"],
                                                                              r_serial["keras_accuracy"])


@pytest.mark.slow
def test_a_worker_killed_mid_round_loses_no_candidate(tmp_path):
    """A LocalCluster worker is killed while candidates are being evaluated: Dask retries its tasks
    elsewhere and the run gives the serial result."""
    from hcp_fpga.loop import run_loop
    from hcp_fpga.search.executors import DaskExecutor

    path = _tiny_project(tmp_path, max_iterations=3)
    config = load_project(path)
    try:
        run_loop(config, tmp_path / "serial", log=lambda m: None)
    except Exception as exc:  # CannotFit is a result too
        assert type(exc).__name__ == "CannotFit"

    class Killing(DaskExecutor):
        killed = False

        def map(self, fn, tasks, label="", progress=None):
            if fn.__name__ == "evaluate" and not Killing.killed and len(tasks) > 1:
                futures = self.client.map(fn, list(tasks), pure=False, retries=self.retries)
                time.sleep(1.0)
                pids = self.client.run(os.getpid)
                os.kill(next(iter(pids.values())), signal.SIGKILL)
                Killing.killed = True
                return self.client.gather(futures)
            return super().map(fn, tasks, label, progress)

    executor = Killing(workers=2)
    try:
        try:
            run_loop(config, tmp_path / "dask", log=lambda m: None, executor=executor)
        except Exception as exc:
            assert type(exc).__name__ == "CannotFit"
    finally:
        executor.close()
    assert Killing.killed
    assert _front(tmp_path / "dask") == _front(tmp_path / "serial")


def test_weights_saved_by_save_weights_are_read_per_layer(tmp_path):
    """model.save_weights (Keras 2) names weights 'kernel:0' without the layer prefix: the Keras-free
    reader must still give every layer its own kernel and bias (it paired them by shape before)."""
    import h5py

    from hcp_fpga.estimator.graph import nodes_from_json
    from hcp_fpga.models import build_mlp, load_model, write_model
    from hcp_fpga.quantize import QuantSpec, to_qkeras

    arch, weights = write_model(to_qkeras(build_mlp(8, (4,), 3, seed=0), QuantSpec(6, 6)), tmp_path / "a")
    # a model read back from JSON (as every design point is) saves its weights without prefixes
    arch, weights = write_model(load_model(arch, weights), tmp_path / "b")
    with h5py.File(weights, "r") as w:
        nodes = {n.name: n for n in nodes_from_json(json.loads(arch.read_text()), w)}
    assert [w.shape for w in nodes["fc1"].weights] == [(8, 4), (4,)]
    assert [w.shape for w in nodes["output"].weights] == [(4, 3), (3,)]


@pytest.mark.slow  # two small optimize runs
def test_sweep_fits_one_project_per_board_and_reports_them_all(tmp_path, capsys):
    from tests.conftest import run_cli

    path = _tiny_project(tmp_path, max_iterations=2, search={"patience": 0})
    code = run_cli("sweep", path, "--boards", "vcu118,zcu104", "--out", tmp_path / "sweep", "--quiet", "--json")
    rows = json.loads(capsys.readouterr().out)
    assert code == (0 if all(r["fits"] for r in rows) else 3)
    assert [r["board"] for r in rows] == ["vcu118", "zcu104"] and all(r["fits"] for r in rows)
    for r in rows:
        assert (tmp_path / "sweep" / r["out_dir"] / "hls_project" / "csim.json").exists()
        assert r["utilization"]["lut"] > 0 and r["settings"]
    page = (tmp_path / "sweep" / "report.html").read_text()
    assert "vcu118/report.html" in page and "data:image/png;base64," in page
    assert run_cli("sweep", path, "--boards", "vcu118,no-such-board", "--out", tmp_path / "s2") == 2
    assert "no-such-board" in capsys.readouterr().err and not (tmp_path / "s2").exists()


def test_input_type_narrows_the_first_layer_exactly_and_ebops_prune_targets_ebops(tmp_path, digits_mlp_20):
    """digits' pixels (k/16) fit ap_ufixed<5,1> exactly: InputType proposes it, the estimate's first
    layer then multiplies 5-bit inputs, and a prune targeting EBOPs removes at least that many."""
    from hcp_fpga.estimator.model import design_specs
    from hcp_fpga.design import Design
    from hcp_fpga.prune import candidates, select, weight_scores
    from hcp_fpga.search.actions import InputType
    from hcp_fpga.search.context import SearchContext, search_data

    config = load_project(_tiny_project(tmp_path))
    board = load_board(config.board)
    settings = HlsSettings().resolved(board)
    ctx = SearchContext(config, board, tmp_path, 0.5)
    view = PointView(DesignPoint(0, None, "baseline", settings), digits_mlp_20, _measure(), False)
    (action,) = InputType.propose(view, ctx)
    assert action.precision == "ap_ufixed<5,1>"
    data = search_data(config).for_model(digits_mlp_20.input_shape[1:])
    applied = action.apply(digits_mlp_20, {}, view.point, ctx, data)
    first = next(s for s in design_specs(Design.create(digits_mlp_20, board, applied.settings)) if s.kind == "dense")
    assert first.input.width == 5 and applied.model is digits_mlp_20  # weights untouched
    assert InputType.propose(replace(view, point=replace(view.point, settings=applied.settings)), ctx) == []  # once
    scores = weight_scores(digits_mlp_20, "magnitude")
    c = candidates(digits_mlp_20, applied.settings, scores, "unstructured")
    chosen = select(c, {"ebops": 5000.0}).chosen
    saved = chosen.savings[:, -1].sum()
    assert 5000 <= saved < 5000 + c.savings[:, -1].max() + 1e-9  # just enough, in EBOPs
    per_weight = {str(n): s for n, s in zip(c.layer, c.savings[:, -1])}
    assert per_weight[first.name] == 5 * first.weight.width  # input bits x weight bits per unstructured weight


def test_reconfigure_proposes_the_way_back_only_past_the_fit(tmp_path, digits_mlp_20):
    from hcp_fpga.search.actions import Reconfigure

    config = load_project(_tiny_project(tmp_path))
    board = load_board(config.board)
    names = [l.name for l in digits_mlp_20.layers if l.get_weights()]
    settings = replace(HlsSettings().resolved(board), layer_strategy={n: "Resource" for n in names},
                       layer_reuse={names[0]: 32, names[1]: 4, names[2]: 2})
    from hcp_fpga.search.context import SearchContext

    ctx = SearchContext(config, board, tmp_path, 0.5)
    point = DesignPoint(0, None, "baseline", settings)
    before = {a.name for a in Reconfigure.propose(PointView(point, digits_mlp_20, _measure(), False), ctx)}
    after = {a.name for a in Reconfigure.propose(PointView(point, digits_mlp_20, _measure(), True), ctx)}
    assert not any("Latency" in n or "-> 16" in n for n in before)  # before the fit: only more reuse
    assert f"{names[0]}: RF 32 -> 16" in after and f"{names[1]}: Latency RF 1" in after
    assert f"{names[0]}: Latency RF 1" not in after  # a layer at RF 32 goes back by halves
    assert before < after


def test_pruning_before_the_fit_offers_the_step_and_half_of_it(digits_mlp_20):
    """Near the accuracy floor one fine-tuning decides: when the full step fails, the half step is next."""
    from hcp_fpga.search.actions import Prune

    class Ctx(_Ctx):
        class config:
            class levers(_Ctx.config.levers):
                max_sparsity = 0.95
                prune_structures = ["neuron"]

            class search:
                objective = "utilization"
                weights: dict = {}

        def budget(self):
            return {"dsp": 1e9, "bram18": 1e9, "lut": 600.0, "ff": 1e9}

    view = PointView(DesignPoint(0, None, "baseline", HlsSettings(), None), digits_mlp_20, _measure(lut=1000.0), False)
    assert sorted(a.targets for a in Prune.propose(view, Ctx())) == [(("lut", 100.0),), (("lut", 200.0),)]


@pytest.mark.parametrize("record", [[], {"id": 3, "action": "x", "settings": 5}, {"id": 3, "action": "x", "settings": {}, "bits": [1]}])
def test_a_damaged_point_record_is_a_value_error(record):
    """A point.json of another shape (hand-edited, truncated to a list) raises ValueError, which
    ``export-point`` reports as a damaged point in one line (these were AttributeErrors: internal errors)."""
    from hcp_fpga.search.point import DesignPoint

    with pytest.raises(ValueError, match="design point record"):
        DesignPoint.from_dict(record)
