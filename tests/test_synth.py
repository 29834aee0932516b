"""hcp-fpga synth, end to end, with a STAND-IN for the vendor executable (tests/standin_vendor_tool.py:
it synthesizes nothing and copies a real Vivado HLS 2019.2 report of the KERAS_3layer jet tagger on
VU9P from ../shared/reports into the project it runs on). What is tested is our plumbing: finding
the tool, the command line, the log, reading the reports, and each failure leaving the project usable."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from hcp_fpga.estimator.reports import parse_vivado_synth
from hcp_fpga.vendor import SynthFailed, ToolNotFound, run_synth, stored_result
from tests.conftest import SHARED, run_cli

REAL_REPORT = SHARED / "reports" / "triples" / "jet-keras3layer-vu9p-vhls2019"
STANDIN = Path(__file__).with_name("standin_vendor_tool.py")


def install_standin(bin_dir: Path, *names: str) -> Path:
    """The stand-in under the vendor executables' names in ``bin_dir``."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        exe = bin_dir / name
        exe.write_text(f"#!{sys.executable}\n" + STANDIN.read_text())
        exe.chmod(0o755)
    return bin_dir


@pytest.fixture
def project(tmp_path, qkeras_project):
    """A fresh copy of the exported qkeras_3layer project (hcp-fpga export, VU9P)."""
    return Path(shutil.copytree(qkeras_project.out_dir, tmp_path / "prj"))


def standin_env(tmp_path, mode="ok", names=("vivado_hls",)) -> dict:
    bin_dir = install_standin(tmp_path / "bin", *names)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "STANDIN_MODE": mode, "STANDIN_REPORT_FROM": str(REAL_REPORT),
            "STANDIN_ARGS": str(tmp_path / "argv.jsonl")}


def tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            h.update(str(f.relative_to(folder)).encode() + f.read_bytes())
    return h.hexdigest()


def test_missing_tool_names_what_it_looked_for_and_writes_nothing(project, tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    before = tree_digest(project)
    assert run_cli("synth", project) == 2
    err = capsys.readouterr().err
    assert "looked for vivado_hls, vitis_hls on PATH" in err and "--tool-settings" in err and len(err.strip().splitlines()) == 1
    assert tree_digest(project) == before and not (project / "hcp_synth").exists()


def test_csynth_end_to_end_reads_the_real_report(project, tmp_path):
    env = standin_env(tmp_path)
    phases = []
    firmware = tree_digest(project / "firmware")
    result = run_synth(project, "csynth", env=env, on_phase=lambda phase, line: phases.append(phase))
    # the numbers are the real report's (README of triples/: DSP 3317, FF 15168, LUT 112473, BRAM 4, 10 cycles)
    c = result.csynth
    assert (c.dsp, c.ff, c.lut, c.bram18, c.latency_cycles, c.ii) == (3317, 15168, 112473, 4, 10, 1)
    assert result.tool == "vivado_hls" and result.tool_version == "Vivado HLS 2019.2" and result.vsynth is None
    assert len([l for l in c.layers if l.kind == "module"]) >= 5  # per-module rows
    assert {"reading the C++", "scheduling", "C synthesis done"} <= {p.split(":")[0] for p in phases}
    # fixed command line: the project path is the working directory, never an argument
    argv = json.loads((tmp_path / "argv.jsonl").read_text().splitlines()[0])
    assert argv == ["vivado_hls", "-f", "build_prj.tcl",
                    "reset=0 csim=0 synth=1 cosim=0 validation=0 export=0 vsynth=0 fifo_opt=0"]
    log = Path(result.log).read_text()
    assert "STAND-IN" in log and "C/RTL SYNTHESIS COMPLETED" in log and log.startswith("$ ")
    assert stored_result(project) == result  # hcp_synth/result.json round-trips
    assert tree_digest(project / "firmware") == firmware


def test_vsynth_needs_vivado_and_reads_logic_synthesis(project, tmp_path):
    env = standin_env(tmp_path)
    with pytest.raises(ToolNotFound, match="runs 'vivado', not found"):
        run_synth(project, "vsynth", env=env)
    install_standin(tmp_path / "bin", "vivado")
    result = run_synth(project, "vsynth", env=env)
    real = parse_vivado_synth(REAL_REPORT / "vivado_synth.rpt")
    assert (result.vsynth.lut, result.vsynth.ff, result.vsynth.dsp) == (real.lut, real.ff, real.dsp)
    assert result.final.lut == real.lut and result.final.latency_cycles == 10  # latency stays csynth's
    assert "vsynth=1" in (tmp_path / "argv.jsonl").read_text()


@pytest.mark.parametrize("mode, message", [
    ("fail", r"vivado_hls failed \(exit 1\) during reading the C\+\+: ERROR: \[HLS 200-70\] Compilation errors"),
    ("truncate", r"truncated"),
    ("silent", r"exited 0 but wrote no new C synthesis report"),
    ("kill", r"vivado_hls was killed \(SIGKILL\) during scheduling"),
])
def test_a_failing_tool_gives_one_line_and_keeps_the_previous_result(project, tmp_path, capsys, monkeypatch, mode, message):
    good = run_synth(project, "csynth", env=standin_env(tmp_path))  # an earlier successful run
    firmware = tree_digest(project / "firmware")
    with pytest.raises(SynthFailed, match=message):
        run_synth(project, "csynth", env=standin_env(tmp_path, mode))
    assert stored_result(project) == good  # the stale report of the earlier run was not taken either
    assert tree_digest(project / "firmware") == firmware
    assert not list((project / "hcp_synth").glob("*.partial"))
    # through the CLI: one line, exit 1
    for key, value in standin_env(tmp_path, mode).items():
        monkeypatch.setenv(key, value)
    assert run_cli("synth", project) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    # and the project is still usable: the tool runs on it again
    assert run_synth(project, "csynth", env=standin_env(tmp_path)).csynth.dsp == 3317


def test_timeout_stops_the_tool(project, tmp_path):
    with pytest.raises(SynthFailed, match=r"stopped after the 1 s timeout"):
        run_synth(project, "csynth", env=standin_env(tmp_path, "hang"), timeout=1)


def test_tool_settings_script_puts_the_tool_on_path(project, tmp_path, monkeypatch):
    bin_dir = install_standin(tmp_path / "vendor" / "bin", "vivado_hls")
    settings = tmp_path / "settings64.sh"
    settings.write_text(f'export PATH="{bin_dir}:$PATH"\n')
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("STANDIN_REPORT_FROM", str(REAL_REPORT))
    assert run_synth(project, tool_settings=settings).csynth.dsp == 3317
    with pytest.raises(Exception, match="does not exist; pass the vendor's settings64.sh"):
        run_synth(project, tool_settings=tmp_path / "nope.sh")


def test_vitis_project_runs_vitis_run_with_build_options(project, tmp_path):
    tcl = project / "project.tcl"
    tcl.write_text(tcl.read_text().replace('set backend "vivado"', 'set backend "vitis"'))
    env = standin_env(tmp_path, names=("vitis-run", "vivado_hls"))
    run_synth(project, "csynth", env=env)
    argv = json.loads((tmp_path / "argv.jsonl").read_text().splitlines()[0])
    assert argv == ["vitis-run", "--tcl", "build_prj.tcl", "--mode", "hls"]
    assert "vsynth     0" in (project / "build_opt.tcl").read_text()


def test_refuses_folders_that_are_not_buildable_projects(project, tmp_path, capsys):
    assert run_cli("synth", tmp_path) == 2
    assert "no build_prj.tcl or project.tcl" in capsys.readouterr().err
    tcl = project / "project.tcl"
    tcl.write_text(tcl.read_text().replace('set project_name "myproject"', 'set project_name "x;rm -rf ~"'))
    assert run_cli("synth", project) == 2
    assert "not a C identifier" in capsys.readouterr().err


@pytest.mark.slow
def test_several_projects_on_dask_workers(project, tmp_path, monkeypatch, capsys):
    second = Path(shutil.copytree(project, tmp_path / "prj2"))
    for key, value in standin_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    assert run_cli("synth", project, second, "--executor", "dask", "--workers", "2", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["csynth"]["dsp"] for r in rows] == [3317, 3317]
    assert {Path(r["project"]).name for r in rows} == {"prj", "prj2"}
    assert os.path.isfile(second / "hcp_synth" / "result.json")


def test_estimate_of_a_synthesized_project_is_judged_by_its_real_report(project, tmp_path, capsys):
    run_synth(project, "csynth", env=standin_env(tmp_path))  # the real jet-tagger report: DSP 3,317
    assert run_cli("estimate", project, "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict_from"] == "csynth report (Vivado HLS 2019.2)" and data["report"]["dsp"] == 3317
    assert data["fits"] is True  # 3,317 of vcu118's 6,840 DSPs with 20 % headroom
    # on a board the real design does not fit, --check fails even where the estimate alone would not decide so
    assert run_cli("estimate", project, "--board", "pynq-z2", "--check", "--quiet") == 1
