"""``hcp-fpga estimate``: a model on a board, a project folder, and --compare against real reports."""

import json
import shutil

import pytest

from hcp_fpga.estimator.compare import compare, match_layers
from hcp_fpga.estimator.model import estimate_design, estimate_project
from hcp_fpga.estimator.reports import project_reports
from tests.conftest import SHARED, peer, run_cli

CONV1D = SHARED / "reports" / "conv1d-vitis2024-u250"
ENCODER = SHARED / "reports" / "triples" / "qconv1d-encoder-12bit-vu13p-stream-vhls2020"


def test_model_on_a_board_gives_per_layer_totals_and_a_verdict(capsys):
    model, weights = peer("qkeras_3layer")
    assert run_cli("estimate", model, "--weights", weights, "--board", "pynq-z2", "--headroom", "0.2", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    est = data["estimate"]
    assert est["source"] == "estimate" and data["board"] == "pynq-z2"
    # the model's layers in order, after its input array (a "free" row, as in the exported firmware)
    assert [l["name"] for l in est["layers"] if l["kind"] != "io"][:3] == ["fc1_input", "fc1", "relu1"]
    # design-level rows: the input array's registers and the registers between pipelined layers
    assert {l["name"] for l in est["layers"] if l["kind"] == "io"} == {"input_registers", "pipeline_registers"}
    assert est["dsp"] == pytest.approx(sum(l["dsp"] for l in est["layers"]))
    verdict = data["verdict"]
    # the unpruned 6-bit jet tagger is LUT-heavy: by the estimate it does not fit a Zynq-7020 with 20 % headroom
    assert verdict["fits"] is False and verdict["binding"] == "lut" and "lut" in verdict["over"]
    assert verdict["utilization"]["lut"] == pytest.approx(est["lut"] / 53200)


def test_human_output_labels_the_estimate(capsys):
    model, weights = peer("qkeras_3layer")
    assert run_cli("estimate", model, "--weights", weights, "--board", "vcu118", "--strategy", "Resource", "--reuse", "4") == 0
    out = capsys.readouterr().out
    assert "ESTIMATE (analytical, not a vendor report)" in out and "fits with 20% headroom" in out


def test_project_compare_shows_estimate_hls_and_synthesis(capsys):
    assert run_cli("estimate", CONV1D, "--compare", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["board"] == "alveo-u250"  # found from the project's part
    rows = {(r["scope"], r["resource"]): r for r in data["comparison"]}
    assert rows[("total", "dsp")]["csynth"] == 467 and rows[("total", "dsp")]["vsynth"] == 467
    assert rows[("total", "lut")]["vsynth"] == 8565
    conv = rows[("conv1", "dsp")]
    assert conv["module"].startswith("conv_1d_cl") and conv["csynth"] == 370
    assert abs(conv["error_vs_csynth_pct"]) < 15
    assert rows[("dense_4_softmax", "bram18")]["module"].startswith("softmax")


def test_layers_match_modules_by_size_when_names_carry_no_index():
    est = estimate_project(SHARED / "reports" / "triples" / "jet-dense-16bit-rf1-xcu250-vhls2019")
    pairs = {ours.name: theirs for ours, theirs in match_layers(est, project_reports(
        SHARED / "reports" / "triples" / "jet-dense-16bit-rf1-xcu250-vhls2019")["csynth"])}
    # docs/estimator.md: fc1 468, fc2 557, fc3 310, output 110 DSP (mapped from the layer sizes)
    assert {n: pairs[n].dsp for n in ("fc1", "fc2", "fc3", "output")} == {"fc1": 468, "fc2": 557, "fc3": 310, "output": 110}


def test_compare_without_reports_has_only_totals():
    est = estimate_project(ENCODER)
    rows = compare(est, {})
    assert {r.scope for r in rows} == {"total"} and all(r.csynth is None and r.error_vs_csynth is None for r in rows)


def test_project_estimate_reads_the_generated_firmware(qkeras_project, qkeras_3layer, tmp_path):
    """From firmware/ (exact hls4ml types, no Keras) and from the Keras model the two estimates agree;
    without any model file the project still estimates (a Keras-3 project cannot be loaded here)."""
    from hcp_fpga.board_catalog import load_board
    from hcp_fpga.design import Design

    from hcp_fpga.models import model_hash

    before = model_hash(qkeras_3layer)
    from_firmware = estimate_project(qkeras_project.out_dir)
    from_model = estimate_project(qkeras_project.out_dir, qkeras_3layer)
    assert model_hash(qkeras_3layer) == before  # an analysis: the model passed in is not changed
    design = estimate_design(Design.create(qkeras_3layer, load_board("vcu118")))
    for other in (from_model, design):
        assert (other.dsp, other.bram18) == (from_firmware.dsp, from_firmware.bram18)  # 4,096-entry softmax tables too
        # hls4ml's inferred 'auto' widths (fc1 accumulator 27 bits) vs ours (26): a few % of LUT/FF
        assert other.lut == pytest.approx(from_firmware.lut, rel=0.05) and other.ff == pytest.approx(from_firmware.ff, rel=0.05)
    bare = tmp_path / "no_model"
    shutil.copytree(qkeras_project.out_dir, bare)
    for f in ("hcp_model.json", "hcp_model_weights.h5", "keras_model.keras", "keras_model.h5"):
        (bare / f).unlink(missing_ok=True)
    assert estimate_project(bare).as_dict()["layers"] == from_firmware.as_dict()["layers"]


def test_firmware_reader_undoes_the_resource_transpose(tmp_path):
    """hls4ml writes Resource-strategy kernels transposed: the reader must give back Keras's layout."""
    import numpy as np
    import tensorflow as tf

    from hcp_fpga.board_catalog import load_board
    from hcp_fpga.design import Design, HlsSettings
    from hcp_fpga.estimator.firmware import firmware_specs
    from hcp_fpga.estimator.spec import layer_specs
    from hcp_fpga.hls import export_project

    tf.keras.utils.set_random_seed(3)
    inp = tf.keras.Input((12,), name="features")
    out = tf.keras.layers.Dense(8, name="fc")(inp)
    model = tf.keras.Model(inp, out)
    settings = HlsSettings(strategy="Resource", reuse_factor=4)
    design = Design.create(model, load_board("pynq-z2"), settings)
    export_project(design, tmp_path / "prj")
    fw = {s.name: s for s in firmware_specs(tmp_path / "prj")}
    ours = {s.name: s for s in layer_specs(model, design.settings)}
    assert fw["fc"].strategy == "Resource" and fw["fc"].reuse_factor == 4 and (fw["fc"].n_in, fw["fc"].n_out) == (12, 8)
    assert np.array_equal(fw["fc"].mantissas, ours["fc"].mantissas)


@pytest.mark.parametrize("argv,message", [
    (["MODEL", "--board", "pynq-z2", "--compare"], "--compare needs a project folder"),
    (["MODEL"], "--board is required"),
    (["MODEL", "--board", "pynq"], "did you mean 'pynq-z2'"),
    ([str(CONV1D), "--strategy", "Resource"], "--strategy does not apply to a project folder"),
    ([str(CONV1D), "--part", "x;rm -rf ~"], "is not a Xilinx part string"),
    (["MODEL", "--board", "pynq-z2", "--part", "../../etc"], "is not a Xilinx part string"),
])
def test_bad_input_is_one_line_exit_2(argv, message, capsys):
    model, weights = peer("qkeras_3layer")
    argv = [str(model) if a == "MODEL" else a for a in argv]
    extra = ["--weights", str(weights)] if argv[0] == str(model) else []
    assert run_cli("estimate", *argv, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_malformed_project_config_is_one_line_exit_2(tmp_path, capsys):
    prj = tmp_path / "prj"
    shutil.copytree(CONV1D, prj)
    (prj / "hls4ml_config.yml").write_text("Backend: [Vitis\nIOType: io_stream\n")
    assert run_cli("estimate", prj) == 2
    err = capsys.readouterr().err.strip()
    assert "malformed YAML at line" in err and len(err.splitlines()) == 1


def test_what_ifs_on_a_project_folder(capsys):
    """--clock/--part/--backend on a project: the same design under other conditions, labelled as a
    what-if and no longer judged by the project's own report."""
    triple = SHARED / "reports" / "triples" / "jet-dense-16bit-rf1-xcu250-vhls2019"

    def run(*extra):
        assert run_cli("estimate", triple, "--json", "--quiet", *extra) == 0
        return json.loads(capsys.readouterr().out)

    own = run()
    assert own["verdict_from"].startswith("csynth report")
    faster, slower = run("--clock", "2.5"), run("--clock", "10")
    for d in (faster, slower):
        assert d["verdict_from"] == "estimate" and d["report"] is None and any("what-if: clock" in n for n in d["notes"])
    assert faster["estimate"]["clock_ns"] == 2.5
    for key in ("ff", "latency_cycles"):  # a shorter period never needs fewer registers or cycles
        assert faster["estimate"][key] >= own["estimate"][key] >= slower["estimate"][key]
    zynq = run("--part", "xc7z020clg400-1")
    assert zynq["estimate"]["part"] == "xc7z020clg400-1" and zynq["board"] == "pynq-z2"
    assert zynq["estimate"]["latency_cycles"] >= own["estimate"]["latency_cycles"]  # a slower family
    vitis = run("--backend", "Vitis")
    assert any("backend Vitis" in n for n in vitis["notes"])


def _corpus_copy(tmp_path, capsys, design: str):
    """(a copy of corpus project ``design``, a function estimating it: the JSON result)."""
    prj = tmp_path / "prj"
    shutil.copytree(SHARED / "reports" / "corpus" / design, prj)

    def run():
        assert run_cli("estimate", prj, "--json", "--quiet") == 0
        return json.loads(capsys.readouterr().out)

    return prj, run


@pytest.mark.skipif(not (SHARED / "reports" / "corpus").is_dir(), reason="../shared/reports/corpus not present")
def test_a_report_of_another_network_does_not_judge_the_design(tmp_path, capsys):
    """A project whose csynth report was built before its model changed: the report's FIFOs carry a
    layer of a size the model has nowhere. The verdict is the estimate's, and a warning says why."""
    prj, run = _corpus_copy(tmp_path, capsys, "Gabriele-bot__ALVEO-PYNQ_ML__qk_pruned_cnn_alveo")
    own = run()
    assert own["verdict_from"].startswith("csynth report") and own["report"] is not None
    assert not any("another network" in w for w in own["warnings"])
    rpt = next(prj.rglob("myproject_csynth.rpt"))
    text = rpt.read_text()
    row = next(line for line in text.splitlines() if "|layer3_out_V_data_15_V_U" in line)
    rpt.write_text(text.replace(row, row + "\n" + row.replace("_15_V_U", "_16_V_U")))  # a 17-channel layer
    stale = run()
    assert stale["verdict_from"] == "estimate" and stale["report"] is None
    assert any("another network" in w and "layer 3" in w for w in stale["warnings"])
    assert stale["estimate"] == own["estimate"] | {"report_mismatch": stale["estimate"]["report_mismatch"]}


@pytest.mark.skipif(not (SHARED / "reports" / "corpus").is_dir(), reason="../shared/reports/corpus not present")
@pytest.mark.parametrize("bad", ["nan", "-16512", "lots", "1e999"])
def test_a_report_with_a_damaged_total_does_not_judge_the_design(tmp_path, capsys, bad):
    """A csynth report whose LUT total is not a count (NaN, negative, text, infinite) is unreadable:
    the verdict is the estimate's and a warning names the report and the value. (A NaN and a
    negative count were shown as the real report's, and judged the board.)"""
    prj, run = _corpus_copy(tmp_path, capsys, "Lrozzy__hls4ml-tutorial__model_3.1")
    own = run()
    assert own["verdict_from"].startswith("csynth report") and own["report"]["lut"] == 16512
    for report in prj.rglob("myproject_csynth.*"):  # the XML wins where both exist; damage both alike
        text = report.read_text()
        report.write_text(text.replace("<LUT>16512</LUT>", f"<LUT>{bad}</LUT>", 1) if report.suffix == ".xml"
                          else text.replace("|    16512|", f"|    {bad}|", 1))
    damaged = run()
    assert damaged["verdict_from"] == "estimate" and damaged["report"] is None
    assert any("is not a count" in w and repr(bad) in w for w in damaged["warnings"])
    # nothing of the damaged report is used: the estimate is the one of the folder without reports
    bare = tmp_path / "bare"
    shutil.copytree(prj, bare, ignore=shutil.ignore_patterns("myproject_prj"))
    assert run_cli("estimate", bare, "--json", "--quiet") == 0
    assert damaged["estimate"] == json.loads(capsys.readouterr().out)["estimate"]


@pytest.mark.skipif(not (SHARED / "reports" / "corpus").is_dir(), reason="../shared/reports/corpus not present")
def test_html_writes_the_estimate_and_its_page_but_never_over_a_run(tmp_path, capsys):
    """``estimate --html DIR`` writes estimate.json (the estimate it printed) and report.html into DIR;
    pointed at an optimize or sweep output folder, whose own estimate.json and report.html it would
    replace, it is refused before anything is written."""
    project = SHARED / "reports" / "corpus" / "Lrozzy__hls4ml-tutorial__model_3.1"
    out = tmp_path / "page"
    assert run_cli("estimate", project, "--html", out, "--json", "--quiet") == 0
    printed = json.loads(capsys.readouterr().out)["estimate"]
    assert json.loads((out / "estimate.json").read_text()) == printed and (out / "report.html").stat().st_size > 0
    run = tmp_path / "run"
    run.mkdir()
    for name, text in (("result.json", "{}"), ("estimate.json", '{"mine": 1}'), ("report.html", "<p>mine</p>")):
        (run / name).write_text(text)
    assert run_cli("estimate", project, "--html", run, "--quiet") == 2
    assert "optimize or sweep output folder" in capsys.readouterr().err
    assert (run / "estimate.json").read_text() == '{"mine": 1}' and (run / "report.html").read_text() == "<p>mine</p>"
