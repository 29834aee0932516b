"""Building the C simulation library of an hls4ml project with g++: a cache that cannot lie.

We do not run the project's ``build_lib.sh`` (a shell script from the folder, and it pastes the
folder's path into a ``-D`` macro). g++ gets a fixed argument list; the weights folder reaches the
code as an escaped C string literal in a header of ours (``-include``). The build happens in a
temporary folder and is moved into place only when it succeeded; the build record (source hash and
the library's own sha256) is written after that, so an interrupted or orphaned build can never be
taken for a cached one. One lock per project serialises concurrent runs; g++ runs in its own
process group and dies with us.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np

from hcp_fpga.cnames import c_string_literal
from hcp_fpga.errors import ConfigError, ToolError
from hcp_fpga.outputs import write_json_atomic

BUILD_RECORD = ".hcp_build.json"
BUILD_LOG = "csim_build.log"
LOCK = ".hcp_csim.lock"
LOCK_WAIT_S = 600.0
_PROJECT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_LOAD = re.compile(r"nnet::(load_\w*weights_from_txt)<\s*[\w:]+\s*,\s*(\d+)\s*>\s*\(\s*\w+\s*,\s*\"([^\"]+)\"\s*\)")


@dataclass(frozen=True)
class BuildResult:
    library: Path
    rebuilt: bool
    seconds: float
    log: Path


def check_project_name(name: object) -> str:
    if not isinstance(name, str) or not _PROJECT_NAME.match(name):
        raise ConfigError(f"project name {name!r} in the manifest is not a C identifier; re-export the project")
    return name


# ----------------------------------------------------------------------------- lock


@contextlib.contextmanager
def project_lock(project_dir: Path, timeout: float = LOCK_WAIT_S,
                 on_wait: Optional[Callable[[], None]] = None, what: str = "C simulation",
                 name: str = LOCK) -> Iterator[None]:
    """Hold the lock file in ``project_dir`` (the csim lock; ``hcp_synth/`` holds synthesis's); wait up
    to ``timeout`` s for another run to finish, then refuse."""
    path = project_dir / name
    try:
        fh = open(path, "a+")
    except OSError as exc:
        raise ToolError(f"cannot create the lock file '{path}' ({exc.strerror}); make the project folder writable") from None
    try:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    raise ToolError(f"another {what} of '{project_dir}' has held its lock for {timeout:.0f} s; "
                                    "wait for it to finish (or stop it) and run again") from None
                if not told and on_wait:
                    on_wait()
                    told = True
                time.sleep(0.2)
        yield
    finally:
        fh.close()  # releases the lock


# ----------------------------------------------------------------------------- sources and checks


def source_files(project_dir: Path) -> list[Path]:
    """Everything the library is built from: the firmware tree (weights included) and the bridge."""
    files = sorted(project_dir.glob("*_bridge.cpp"))
    files += sorted(p for p in (project_dir / "firmware").rglob("*") if p.is_file() and p.suffix != ".so")
    return files


def source_hash(project_dir: Path, compiler: str) -> str:
    """sha256 of the sources, the folder they load weights from at run time, and the compiler."""
    h = hashlib.sha256(f"{project_dir}\0{compiler}\0".encode())
    for p in source_files(project_dir):
        h.update(str(p.relative_to(project_dir)).encode() + b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_weight_files(project_dir: Path, project: str) -> None:
    """Every weight file the C code loads exists and holds exactly the values it reads, all finite.

    The C loader calls ``exit(1)`` on a missing file (which would end the Python process) and writes
    past its array on a file with too many values; both are refused here, before loading."""
    top = project_dir / "firmware" / f"{project}.cpp"
    if not top.is_file():
        raise ConfigError(f"'{top}' is missing; the project is incomplete: re-export it with hcp-fpga export")
    weights = project_dir / "firmware" / "weights"
    for loader, size, fname in _LOAD.findall(top.read_text(errors="replace")):
        path = weights / fname
        if "/" in fname or not path.is_file():
            raise ConfigError(f"weight file '{path}' is missing (the C simulation loads it); re-export the project")
        if loader != "load_weights_from_txt":
            continue
        text = path.read_text(errors="replace").split("\n", 1)[0]
        try:
            values = np.array([v for v in text.split(",") if v.strip() != ""], dtype=np.float64)
        except ValueError:
            raise ConfigError(f"weight file '{path}' holds something that is not a number; re-export the project") from None
        if values.size != int(size):
            raise ConfigError(f"weight file '{path}' holds {values.size} values where the C code reads {size}; "
                              "re-export the project")
        if not np.all(np.isfinite(values)):
            raise ConfigError(f"weight file '{path}' holds NaN/Inf values; fix the model's weights and re-export")


# ----------------------------------------------------------------------------- g++


def gxx() -> tuple[str, str]:
    """(path, version line) of g++."""
    path = shutil.which("g++")
    if path is None:
        raise ToolError("g++ not found on PATH; install it (e.g. apt-get install g++) to build the C simulation")
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    return path, (out.splitlines() or ["g++ (unknown version)"])[0]


def _die_with_parent() -> None:  # runs in the child before exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: killed when the process that started it dies


def _run(cmds: list[list[str]], cwd: Path, log) -> int:
    """Run compiler commands in parallel, each in its own process group; kill them all if we are
    interrupted. Returns the first non-zero exit code (0 if all succeeded)."""
    procs: list[subprocess.Popen] = []
    try:
        for cmd in cmds:
            log.write("$ " + " ".join(cmd) + "\n")
            log.flush()
            procs.append(subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          start_new_session=True, preexec_fn=_die_with_parent))
        codes = [p.wait() for p in procs]
    except BaseException:
        for p in procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                p.wait(timeout=5)
        raise
    return next((c for c in codes if c != 0), 0)


def _std_flag(compiler: str) -> str:
    """C++23 where g++ has it (hls4ml's build_lib.sh does the same), else C++11."""
    probe = subprocess.run([compiler, "-Werror", "-fsyntax-only", "-std=c++23", "-xc++", "-", "-o", os.devnull],
                           input="", capture_output=True, text=True, check=False)
    return "-std=c++23" if probe.returncode == 0 else "-std=c++11"


def _compile(project_dir: Path, project: str, compiler: str, build: Path, log) -> Path:
    header = build / "hcp_weights_dir.h"
    header.write_text(f"#define WEIGHTS_DIR {c_string_literal(str(project_dir / 'firmware' / 'weights'))}\n")
    flags = ["-O3", "-fPIC", _std_flag(compiler), "-fno-gnu-unique", "-I", str(project_dir / "firmware" / "ap_types"),
             "-include", str(header)]
    sources = [project_dir / "firmware" / f"{project}.cpp", project_dir / f"{project}_bridge.cpp"]
    for src in sources:
        if not src.is_file():
            raise ConfigError(f"'{src}' is missing; the project is incomplete: re-export it with hcp-fpga export")
    objects = [build / f"{src.stem}.o" for src in sources]
    code = _run([[compiler, *flags, "-c", str(src), "-o", str(obj)] for src, obj in zip(sources, objects)], project_dir, log)
    if code == 0:
        library = build / f"{project}.so"
        code = _run([[compiler, "-O3", "-fPIC", "-shared", *map(str, objects), "-o", str(library)]], project_dir, log)
        if code == 0 and library.is_file():
            return library
    raise ToolError(f"g++ failed to build the C simulation (exit {code}); see log {project_dir / BUILD_LOG}")


def cached_library(project_dir: Path, digest: str) -> Optional[Path]:
    """The library of an earlier build of exactly these sources, if it is intact."""
    from hcp_fpga.errors import HcpError
    from hcp_fpga.outputs import read_json

    record_path = project_dir / BUILD_RECORD
    if not record_path.exists():
        return None
    try:
        record = read_json(record_path, "build record", "")
    except HcpError:
        return None  # a corrupt record means: build again
    if not isinstance(record, dict) or record.get("hash") != digest:
        return None
    lib = project_dir / "firmware" / Path(str(record.get("library", ""))).name
    if not lib.is_file() or file_sha256(lib) != record.get("library_sha256"):
        return None  # truncated or replaced since it was built: never load it
    return lib


def build_library(project_dir: Path, project: str, on_start: Optional[Callable[[], None]] = None) -> BuildResult:
    """The project's C simulation library: the cached one if its sources and bytes are unchanged,
    else a fresh g++ build. The caller holds ``project_lock``."""
    project = check_project_name(project)
    compiler, version = gxx()
    log_path = project_dir / BUILD_LOG
    digest = source_hash(project_dir, version)
    cached = cached_library(project_dir, digest)
    if cached is not None:
        return BuildResult(cached, rebuilt=False, seconds=0.0, log=log_path)
    if on_start:
        on_start()
    t0 = time.perf_counter()
    build = Path(tempfile.mkdtemp(prefix=".hcp_build-", dir=project_dir))
    try:
        with open(log_path, "w") as log:
            log.write(f"# {version}\n# build in {build}\n")
            log.flush()
            built = _compile(project_dir, project, compiler, build, log)
        if source_hash(project_dir, version) != digest:
            raise ToolError(f"the sources of '{project_dir}' changed during the build; run the C simulation again")
        lib_hash = file_sha256(built)
        library = project_dir / "firmware" / f"{project}-{lib_hash[:12]}.so"  # a new name: dlopen cannot reuse an old handle
        for old in (project_dir / "firmware").glob("*.so"):
            old.unlink()
        os.replace(built, library)
        write_json_atomic(project_dir / BUILD_RECORD, {"hash": digest, "library": library.name, "library_sha256": lib_hash,
                                                       "compiler": version, "seconds": round(time.perf_counter() - t0, 2)})
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return BuildResult(library, rebuilt=True, seconds=time.perf_counter() - t0, log=log_path)
