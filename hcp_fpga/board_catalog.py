"""Board catalog: one YAML file per board in ``hcp_fpga/catalog/`` (package data), validated with pydantic.

A ``Board`` is a resource budget (whole-device DSP, BRAM18, URAM, LUT, FF, user I/O) plus what
hls4ml needs to target it (part, backend, default clock). Boards know nothing about models.
"""

from __future__ import annotations

import difflib
import os
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hcp_fpga.errors import BoardError, read_yaml_mapping
from hcp_fpga.vocab import DEVICE_NAME_PATTERN, RESOURCES

#: The catalog shipped inside the package (read with importlib.resources, so wheels carry it).
CATALOG = resources.files("hcp_fpga") / "catalog"
#: A folder of the user's own board files, used with (after) ``--boards-dir``.
BOARDS_DIR_ENV = "HCP_FPGA_BOARDS_DIR"

# a board name or alias: letters, digits, _ . + - (surrounding blanks are stripped)
_PlainName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\s*[A-Za-z0-9][A-Za-z0-9_.+-]*\s*$")]


class Board(BaseModel):
    """One FPGA board (or bare part) and its whole-device resources."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    # name and part reach file names and hls4ml's TCL scripts: plain tokens only
    name: _PlainName
    aliases: list[_PlainName] = Field(default_factory=list)
    vendor: str
    part: str = Field(min_length=4, max_length=64, pattern=DEVICE_NAME_PATTERN,
                      description="exact part string passed to hls4ml")
    family: str
    dsp: int = Field(ge=0)
    bram18: int = Field(ge=0, description="18 Kb block RAMs (one BRAM36 = two BRAM18)")
    uram: int = Field(ge=0)
    lut: int = Field(gt=0)
    ff: int = Field(gt=0)
    io_pins: Optional[int] = Field(default=None, ge=0, description="user I/O; None = unknown")
    clock_ns: float = Field(gt=0, lt=1e6)
    backend: Literal["Vivado", "Vitis"]
    sources: dict[str, str]

    @field_validator("name", "aliases")
    @classmethod
    def _lowercase_names(cls, v):
        if isinstance(v, str):
            return v.strip().lower()
        return [a.strip().lower() for a in v]

    @field_validator("sources")
    @classmethod
    def _resources_have_a_source(cls, v: dict[str, str]) -> dict[str, str]:
        if not v.get("resources"):
            raise ValueError("must name where the resource figures come from ('resources' key)")
        return v

    def budget(self, headroom: "float | dict[str, float]" = 0.0) -> dict[str, float]:
        """What a design may use of each resource, keeping ``headroom`` free (0.2 = 20 % of every
        resource; a dict gives it per resource, missing ones 0). The one budget computation: the
        verdict of an estimate and the optimize loop both use it."""
        def share(r: str) -> float:
            return headroom.get(r, 0.0) if isinstance(headroom, dict) else headroom

        return {r: getattr(self, r) * (1.0 - share(r)) if share(r) else getattr(self, r) for r in RESOURCES}


def _format_validation_error(path: Path, err: ValidationError) -> str:
    first = err.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(file)"
    more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"board file {path}: field '{field}': {first['msg']}{more}; fix the file or remove it from the boards dir"


def load_board_file(path: Path) -> Board:
    """Read and validate one board YAML file."""
    data = read_yaml_mapping(path, f"board file {path}", "fix the file (see docs/boards.md)", BoardError)
    try:
        return Board.model_validate(data)
    except ValidationError as exc:
        raise BoardError(_format_validation_error(path, exc)) from None


def list_boards(boards_dir: Path | str | None = None) -> list[Board]:
    """All boards of the catalog (the built-in one, then ``$HCP_FPGA_BOARDS_DIR``, then ``boards_dir``),
    sorted by name. A user board with the same name as a built-in board replaces it.
    """
    user_dirs = []
    for source, d in ((f"${BOARDS_DIR_ENV}", os.environ.get(BOARDS_DIR_ENV) or None), ("boards dir", boards_dir)):
        if d is None:
            continue
        extra = Path(d)
        if not extra.is_dir():
            raise BoardError(f"{source} '{extra}' does not exist; pass a folder of board YAML files")
        user_dirs.append(extra)
    boards: dict[str, Board] = {}
    with resources.as_file(CATALOG) as catalog:
        for d in [catalog, *user_dirs]:
            for path in sorted(d.glob("*.yaml")) + sorted(d.glob("*.yml")):
                board = load_board_file(path)
                boards[board.name] = board
    _check_unique_names(boards.values())
    return sorted(boards.values(), key=lambda b: b.name)


def _check_unique_names(boards) -> None:
    seen: dict[str, str] = {}
    for b in boards:
        for key in [b.name, *b.aliases]:
            if key in seen and seen[key] != b.name:
                raise BoardError(f"board name or alias '{key}' is used by both '{seen[key]}' and '{b.name}'; rename one")
            seen[key] = b.name


def load_board(name: str, boards_dir: Path | str | None = None) -> Board:
    """Look a board up by name or alias (case-insensitive)."""
    key = name.strip().lower()
    boards = list_boards(boards_dir)
    for b in boards:
        if key == b.name or key in b.aliases:
            return b
    names = [b.name for b in boards] + [a for b in boards for a in b.aliases]
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise BoardError(f"board '{name}' not found; {hint}(hcp-fpga boards lists all)")


def board_for_part(part: Optional[str], boards_dir: Path | str | None = None) -> Optional[Board]:
    """The catalog board built on ``part`` (exact part string, case-insensitive), or None."""
    if not part:
        return None
    for b in list_boards(boards_dir):
        if b.part.lower() == part.strip().lower():
            return b
    return None
