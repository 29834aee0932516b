"""Output folders: checked before anything is written, replaced only when hcp_fpga made them.

Every folder hcp_fpga creates for its outputs carries a marker file. ``--force`` replaces a folder
only if it has that marker (or the manifest of a project hcp_fpga exported), and never the current
directory, one of its ancestors, the home directory or ``/``, whatever a project file or ``-o``
says. ``check_output_dir`` only looks; callers validate all their other inputs too before the
first write. ``write_json_atomic`` is the one JSON writer: strict JSON (NaN/Inf become null),
written to a temporary file and moved into place.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from hcp_fpga.errors import HcpError, OutputExistsError, check_regular_file

MARKER = ".hcp-fpga-output"
# Folders written by earlier hcp_fpga versions, before the marker existed, are recognised by these.
LEGACY_SIGNS = ("hcp_fpga.json", "checkpoint/state.json", "checkpoint.old/state.json")


class OutputPathError(HcpError):
    """An output path that cannot or must not be written."""


def _protected(path: Path) -> str | None:
    """Why ``path`` must never be removed, or None."""
    cwd = Path.cwd().resolve()
    home = Path.home().resolve()
    if path == Path(path.anchor):
        return "it is the file-system root"
    if path == cwd or path in cwd.parents:
        return "it is the current directory or one of its parents"
    if path == home or path in home.parents:
        return "it is the home directory or one of its parents"
    return None


def made_by_hcp_fpga(path: Path) -> bool:
    return (path / MARKER).is_file() or any((path / sign).is_file() for sign in LEGACY_SIGNS)


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_output_dir(path: Path | str, force: bool = False, resume: bool = False, what: str = "output dir",
                     exists_hint: str = "pass --force to replace it or choose another path") -> Path:
    """The resolved ``path`` if it may be written (and, with ``force``, replaced); one clear error
    otherwise. Writes nothing."""
    path = Path(path).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{what} '{path}' is a file, not a folder; choose another path")
    parent = _nearest_existing(path.parent)
    if not parent.is_dir():
        raise OutputPathError(f"{what} '{path}': '{parent}' is a file, not a folder; choose another path")
    if not os.access(parent if not path.exists() else path, os.W_OK | os.X_OK):
        raise OutputPathError(f"{what} '{path}' is not writable (no permission on '{parent if not path.exists() else path}'); "
                              "choose a folder you can write")
    if path.exists() and any(path.iterdir()) and not resume:
        if not force:
            raise OutputExistsError(f"{what} '{path}' exists; {exists_hint}")
        reason = _protected(path)
        if reason:
            raise OutputPathError(f"refusing to replace {what} '{path}': {reason}; choose a new folder")
        if not made_by_hcp_fpga(path):
            raise OutputPathError(
                f"refusing to replace {what} '{path}': hcp-fpga did not create it (no {MARKER} marker); "
                "remove it yourself or choose another path"
            )
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise OutputPathError(f"{what} '{path}' cannot be replaced: its parent folder is not writable")
    return path


def mark(path: Path) -> None:
    """Record that hcp_fpga created ``path`` (so a later ``--force`` may replace it)."""
    (path / MARKER).write_text("This folder was written by hcp-fpga; --force may replace it.\n")


def remove_output_dir(path: Path) -> None:
    """Remove an output folder that ``check_output_dir`` accepted for replacement."""
    path = Path(path).resolve()
    if _protected(path) or not made_by_hcp_fpga(path):  # checked before; a last guard against misuse
        raise OutputPathError(f"refusing to remove '{path}': not an hcp-fpga output folder")
    shutil.rmtree(path)


@contextlib.contextmanager
def replacing_dir(out_dir: Path, force: bool, what: str = "output dir") -> Iterator[Path]:
    """Yield a fresh, marked ``out_dir`` to write into. The old contents (if any, and only when
    ``force`` and made by hcp_fpga) are set aside first and restored untouched if writing fails."""
    out_dir = check_output_dir(out_dir, force=force, what=what)
    backup = None
    if out_dir.exists():
        backup = out_dir.with_name(f".{out_dir.name}.hcp-backup-{os.getpid()}")
        if backup.exists():
            shutil.rmtree(backup)
        out_dir.rename(backup)
    try:
        out_dir.mkdir(parents=True)
        mark(out_dir)
        yield out_dir
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        if backup is not None:
            backup.rename(out_dir)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


# ----------------------------------------------------------------------------- JSON


def strict(obj: Any) -> Any:
    """``obj`` with NaN/Inf as None and numpy scalars/arrays and paths as plain JSON values."""
    if isinstance(obj, dict):
        return {str(k): strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return strict(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, (int, str)):
        return obj
    return str(obj)


def dumps(data: Any, indent: int | None = 2) -> str:
    """Strict JSON text (no NaN/Infinity tokens)."""
    return json.dumps(strict(data), indent=indent, allow_nan=False)


def write_text_atomic(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder: a reader (or a kill)
    sees the old file or the new one, never half of one. The one atomic writer of the package."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json_atomic(path: Path | str, data: Any) -> None:
    """Write ``data`` as strict JSON to ``path`` atomically."""
    write_text_atomic(path, dumps(data) + "\n")


def read_json(path: Path | str, what: str, fix: str) -> Any:
    """A JSON file hcp_fpga wrote; one clear error naming it and ``fix`` if it is missing or corrupt."""
    path = Path(path)
    try:
        if path.exists():  # a pipe or device would block the read
            check_regular_file(path, f"{what} '{path}'", fix)
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise HcpError(f"{what} '{path}' is missing; {fix}") from None
    except (OSError, ValueError) as exc:
        raise HcpError(f"{what} '{path}' is corrupt ({type(exc).__name__}); {fix}") from None
