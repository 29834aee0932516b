import json
import subprocess
import sys

import pytest

from hcp_fpga.cli import build_parser
from tests.conftest import REPO, run_cli

COMMANDS = ["boards", "inspect", "export", "estimate", "optimize", "report", "csim", "demo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_help_shows_an_example(command, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args([command, "--help"])
    assert exc.value.code == 0
    assert f"example:\n  hcp-fpga {command}" in capsys.readouterr().out


def test_top_level_help_has_an_example_session(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    assert "example session:" in capsys.readouterr().out


def test_console_script_json_is_clean_on_stdout():
    # A real subprocess: stdout must be JSON only, whatever TensorFlow or hls4ml print on import.
    proc = subprocess.run([sys.executable, "-m", "hcp_fpga.cli", "boards", "--json"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 17


def test_argument_errors_exit_2():
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["export", "m.json", "--board", "pynq-z2", "-o", "x", "--strategy", "Unrolled"])
    assert exc.value.code == 2


@pytest.mark.slow  # trains, exports and C-simulates three times (about 12 s); CI's wheel smoke runs the demo too
def test_demo_trains_exports_and_simulates(tmp_path, capsys):
    assert run_cli("demo", "--out", tmp_path / "demo", "--epochs", "5") == 0
    out = capsys.readouterr().out
    assert "C simulation vs Keras" in out and "csim accuracy" in out
    csim = json.loads((tmp_path / "demo" / "hls_project" / "csim.json").read_text())
    assert csim["n_samples"] == 450 and csim["csim_accuracy"] > 0.5
    assert (tmp_path / "demo" / "model" / "model.json").exists()
    assert run_cli("demo", "--out", tmp_path / "demo", "--epochs", "1", "--quiet") == 2  # no silent overwrite
    assert "exists; pass --force" in capsys.readouterr().err
    # --quiet: no progress and no tables, only errors and warnings (on stderr)
    assert run_cli("demo", "--out", tmp_path / "demo", "--epochs", "1", "--quiet", "--force") == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("seed", ["-1", str(2**32), "1.5", "x"])
@pytest.mark.parametrize("command", [["demo"], ["csim", "some-project"]])
def test_a_seed_numpy_cannot_take_is_an_argument_error(command, seed, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args([*command, "--seed", seed])
    assert exc.value.code == 2 and "--seed" in capsys.readouterr().err


def test_a_project_seed_outside_numpys_range_is_named(tmp_path, capsys):
    (tmp_path / "project.yaml").write_text("name: s\nmodel: {builder: mlp}\nboard: arty-a7-35t\nseed: -1\n")
    assert run_cli("optimize", tmp_path / "project.yaml", "--out", tmp_path / "out") == 2
    assert "key 'seed'" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_the_api_refuses_a_seed_numpy_cannot_take(tmp_path):
    from hcp_fpga import api
    from hcp_fpga.errors import ConfigError

    with pytest.raises(ConfigError, match="not a seed"):
        api.csim(tmp_path, seed=-1)


def test_table_numbers_print_in_full():
    """Float counts in the tables print as numbers a person reads (28,672 DSPs, not 2.867e+04);
    fractions keep their digits."""
    from hcp_fpga.cli import _fmt

    assert _fmt(28672.0) == "28,672" and _fmt(709433477.3) == "709,433,477"
    assert _fmt(12.0) == "12" and _fmt(0.5) == "0.5" and _fmt(2.25) == "2.25" and _fmt(float("nan")) == "nan"
    assert _fmt(5) == "5" and _fmt(None) == "-" and _fmt(True) == "True"
