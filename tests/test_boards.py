import json
from dataclasses import replace

import pytest

from hcp_fpga.board_catalog import list_boards, load_board
from hcp_fpga.errors import BoardError
from tests.conftest import run_cli

# The issue's table (whole device; BRAM as BRAM36): name -> (part, LUT, FF, DSP, BRAM36, URAM)
EXPECTED = {
    "pynq-z2": ("xc7z020clg400-1", 53200, 106400, 220, 140, 0),
    "zedboard": ("xc7z020clg484-1", 53200, 106400, 220, 140, 0),
    "zybo-z7-10": ("xc7z010clg400-1", 17600, 35200, 80, 60, 0),
    "arty-a7-35t": ("xc7a35ticsg324-1L", 20800, 41600, 90, 50, 0),
    "basys3": ("xc7a35tcpg236-1", 20800, 41600, 90, 50, 0),
    "arty-a7-100t": ("xc7a100tcsg324-1", 63400, 126800, 240, 135, 0),
    "ultra96-v2": ("xczu3eg-sbva484-1-e", 70560, 141120, 360, 216, 0),
    "zcu102": ("xczu9eg-ffvb1156-2-e", 274080, 548160, 2520, 912, 0),
    "zcu104": ("xczu7ev-ffvc1156-2-e", 230400, 460800, 1728, 312, 96),
    "kv260": ("xck26-sfvc784-2LV-c", 117120, 234240, 1248, 144, 64),
    "vcu118": ("xcvu9p-flga2104-2L-e", 1182240, 2364480, 6840, 2160, 960),
    "alveo-u200": ("xcu200-fsgd2104-2-e", 1182240, 2364480, 6840, 2160, 960),
    "alveo-u250": ("xcu250-figd2104-2L-e", 1728000, 3456000, 12288, 2688, 1280),
    "alveo-u280": ("xcu280-fsvh2892-2L-e", 1303680, 2607360, 9024, 2016, 960),
    "alveo-u55c": ("xcu55c-fsvh2892-2L-e", 1303680, 2607360, 9024, 2016, 960),
    "alveo-u50": ("xcu50-fsvh2104-2-e", 870720, 1743360, 5952, 1344, 640),
    "vu13p": ("xcvu13p-flga2577-2-e", 1728000, 3456000, 12288, 2688, 1280),
}


def test_catalog_has_the_17_boards_with_the_issue_figures():
    boards = {b.name: b for b in list_boards()}
    assert set(boards) == set(EXPECTED)
    for name, (part, lut, ff, dsp, bram36, uram) in EXPECTED.items():
        b = boards[name]
        assert (b.part, b.lut, b.ff, b.dsp, b.bram18, b.uram) == (part, lut, ff, dsp, 2 * bram36, uram), name
        assert b.sources["resources"]
        assert "io_pins" in b.sources  # a cited source, or the word unknown


def test_io_pins_only_where_a_report_gives_them():
    for b in list_boards():
        if b.io_pins is None:
            assert "unknown" in b.sources["io_pins"]
        else:
            assert "vivado_synth.rpt" in b.sources["io_pins"] or ".rpt" in b.sources["io_pins"]
    assert load_board("pynq-z2").io_pins == 125


@pytest.mark.parametrize("alias,name", [("pynq-z1", "pynq-z2"), ("nexys-a7-100t", "arty-a7-100t"), ("ZCU106", "zcu104"), ("kr260", "kv260")])
def test_aliases(alias, name):
    assert load_board(alias).name == name


def test_unknown_board_suggests_the_closest(capsys):
    with pytest.raises(BoardError, match=r"board 'pynq' not found; did you mean 'pynq-z2'\?"):
        load_board("pynq")


def _write(tmp_path, name, text):
    d = tmp_path / "boards"
    d.mkdir(exist_ok=True)
    (d / name).write_text(text)
    return d


GOOD = """name: my-board
vendor: AMD Xilinx
part: xc7z020clg400-1
family: zynq7000
dsp: 220
bram18: 280
uram: 0
lut: 53200
ff: 106400
clock_ns: 10
backend: Vivado
sources: {resources: my datasheet}
"""


def test_user_boards_dir_adds_a_board(tmp_path, capsys):
    d = _write(tmp_path, "mine.yaml", GOOD)
    assert load_board("my-board", d).dsp == 220
    assert run_cli("boards", "--json", "--boards-dir", d) == 0
    names = [b["name"] for b in json.loads(capsys.readouterr().out)]
    assert "my-board" in names and len(names) == 18


def test_malformed_yaml_is_one_clear_line_and_exit_2(tmp_path, capsys):
    d = _write(tmp_path, "broken.yaml", "name: [unclosed\n")
    assert run_cli("boards", "--boards-dir", d) == 2
    err = capsys.readouterr().err.strip()
    assert "broken.yaml" in err and "malformed YAML" in err and len(err.splitlines()) == 1


def test_wrong_field_names_file_and_field(tmp_path, capsys):
    d = _write(tmp_path, "bad.yaml", GOOD.replace("dsp: 220", "dsp: lots"))
    assert run_cli("boards", "--boards-dir", d) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "field 'dsp'" in err


def test_missing_field_and_unknown_field(tmp_path):
    d = _write(tmp_path, "a.yaml", GOOD.replace("part: xc7z020clg400-1\n", ""))
    with pytest.raises(BoardError, match="field 'part'"):
        list_boards(d)
    d2 = _write(tmp_path / "x", "b.yaml", GOOD + "dsps: 3\n") if (tmp_path / "x").mkdir() is None else None
    with pytest.raises(BoardError, match="field 'dsps'"):
        list_boards(d2)


def test_duplicate_alias_is_refused(tmp_path):
    d = _write(tmp_path, "dup.yaml", GOOD.replace("name: my-board", "name: other\naliases: [pynq-z1]"))
    with pytest.raises(BoardError, match="'pynq-z1' is used by both"):
        list_boards(d)


def test_cli_unknown_board_exit_2(capsys):
    assert run_cli("export", "x.json", "--board", "pynq", "-o", "/tmp/never") == 2
    assert "did you mean 'pynq-z2'" in capsys.readouterr().err


def test_one_budget_computation_for_the_verdict_and_the_loop():
    from hcp_fpga.estimator.types import Estimate

    board = load_board("arty-a7-35t")
    allowed = board.budget(0.2)
    assert allowed["dsp"] == pytest.approx(board.dsp * 0.8) and board.budget()["dsp"] == board.dsp
    assert board.budget({"lut": 0.5})["lut"] == pytest.approx(board.lut * 0.5) and board.budget({"lut": 0.5})["ff"] == board.ff
    at = Estimate.from_layers("estimate", [], 0, 1, 10.0)
    for dsp, fits in ((allowed["dsp"], True), (allowed["dsp"] + 1, False)):
        verdict = replace(at, dsp=dsp).verdict(board, 0.2)
        assert verdict.fits is fits and (fits or verdict.over == ("dsp",))
