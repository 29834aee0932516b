"""hls4ml export and bit-accurate C simulation.

``export_project`` writes an hls4ml HLS C++ project for a board (synthesis TCL included) plus a
``hcp_fpga.json`` manifest. ``run_csim`` compiles the project's C simulation with g++ (cached by a
content hash of the project), runs it through the project's ctypes bridge, and compares it with
the Keras model. This module carries things out; it decides nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as _dt
import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from hcp_fpga import __version__
from hcp_fpga.design import Design
from hcp_fpga.errors import ConfigError, DataError, OutputExistsError, ToolError
from hcp_fpga.models import check_convertible, model_hash, write_model

MANIFEST = "hcp_fpga.json"
CSIM_JSON = "csim.json"
BUILD_RECORD = ".hcp_build.json"
BUILD_LOG = "csim_build.log"
CONVERT_LOG = "hls4ml_convert.log"
# Our copy of the model (JSON + weights): QKeras models do not round-trip through Keras 2's .keras
# format, which is what hls4ml's writer saves.
MODEL_NAME = "hcp_model"  # models.write_model's pair: hcp_model.json + hcp_model_weights.h5
MODEL_JSON = f"{MODEL_NAME}.json"
MODEL_WEIGHTS = f"{MODEL_NAME}_weights.h5"
# Outputs of our own runs: never part of the project's content hash.
_NOT_SOURCE = {MANIFEST, CSIM_JSON, BUILD_RECORD, BUILD_LOG, CONVERT_LOG}


# ----------------------------------------------------------------------------- export


@dataclass(frozen=True)
class ExportResult:
    """Where the project went and what hls4ml actually applied per layer."""

    out_dir: Path
    manifest: dict

    @property
    def layers(self) -> list[dict]:
        return self.manifest["layers"]


@contextlib.contextmanager
def _replacing_dir(out_dir: Path, force: bool):
    """Yield ``out_dir`` to write into; on failure, earlier contents are restored untouched."""
    backup = None
    if out_dir.exists():
        if not force:
            raise OutputExistsError(f"output dir '{out_dir}' exists; pass --force to replace it or choose another -o")
        backup = out_dir.with_name(f".{out_dir.name}.hcp-backup-{os.getpid()}")
        shutil.rmtree(backup, ignore_errors=True)
        out_dir.rename(backup)
    try:
        out_dir.mkdir(parents=True)
        yield out_dir
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        if backup is not None:
            backup.rename(out_dir)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


def _convert(design: Design, out_dir: Path):
    """Run hls4ml's Keras-2 converter and writer; its chatter goes to a log file."""
    import hls4ml

    s = design.settings
    log = out_dir / CONVERT_LOG
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as fh, contextlib.redirect_stdout(fh):
        try:
            hls_model = hls4ml.converters.convert_from_keras_model(
                design.model,
                hls_config=design.hls_config(),
                output_dir=str(out_dir),
                project_name="myproject",
                backend=s.backend,
                part=design.board.part,
                clock_period=s.clock_ns,
                io_type=s.io_type,
                write_weights_txt=True,
            )
            hls_model.write()
        except Exception as exc:  # hls4ml raises bare Exceptions for user-side problems
            print(f"\n{type(exc).__name__}: {exc}")
            raise ToolError(f"hls4ml failed: {str(exc).splitlines()[0][:200]}; see log {log}") from exc
    return hls_model


def _applied_layers(hls_model, design: Design) -> list[dict]:
    """Per-layer strategy/RF/precision as hls4ml applied them; refuse silent changes of RF."""
    rows = []
    keras_names = set(design.layer_names())
    for layer in hls_model.get_layers():
        rf = layer.get_attr("reuse_factor")
        strategy = layer.get_attr("strategy")
        if layer.name in keras_names and rf is not None:
            wanted = design.settings.reuse_of(layer.name)
            if int(rf) != wanted:
                raise ConfigError(
                    f"hls4ml changed the reuse factor of layer '{layer.name}' from {wanted} to {rf}; "
                    f"use --reuse {rf} (see {CONVERT_LOG})"
                )
        precisions = {}
        for wname, weight in getattr(layer, "weights", {}).items():
            precisions[wname] = str(weight.type.precision.definition_cpp())
        out_var = layer.get_output_variable()
        precisions["result"] = str(out_var.type.precision.definition_cpp())
        rows.append(
            {
                "name": layer.name,
                "class": layer.class_name,
                "strategy": strategy,
                "reuse_factor": int(rf) if rf is not None else None,
                "output_shape": [int(d) for d in out_var.shape],
                "precision": precisions,
            }
        )
    return rows


def export_project(design: Design, out_dir: Path | str, force: bool = False, source: Optional[str] = None) -> ExportResult:
    """Write the hls4ml project of ``design`` into ``out_dir`` (C++, TCL, weights, config, manifest)."""
    import hls4ml

    out_dir = Path(out_dir).resolve()
    check_convertible(design.model)
    design.validate()
    with _replacing_dir(out_dir, force):
        hls_model = _convert(design, out_dir)
        layers = _applied_layers(hls_model, design)
        manifest = {
            "tool": f"hcp_fpga {__version__}",
            "hls4ml": hls4ml.__version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "model_source": source,
            "model_hash": model_hash(design.model),
            "board": design.board.name,
            "part": design.board.part,
            "settings": design.settings.as_dict(),
            "project_name": "myproject",
            "inputs": [{"name": v.name, "shape": [int(d) for d in v.shape]} for v in hls_model.get_input_variables()],
            "outputs": [{"name": v.name, "shape": [int(d) for d in v.shape]} for v in hls_model.get_output_variables()],
            "keras_input_shapes": [list(t.shape[1:]) for t in design.model.inputs],
            "layers": layers,
        }
        write_model(design.model, out_dir, MODEL_NAME)
        _write_json_atomic(out_dir / MANIFEST, manifest)
    return ExportResult(out_dir, manifest)


def read_manifest(project_dir: Path | str) -> dict:
    """The ``hcp_fpga.json`` of an exported project."""
    path = Path(project_dir) / MANIFEST
    if not path.exists():
        raise ConfigError(f"'{project_dir}' is not an hcp-fpga project (no {MANIFEST}); create one with hcp-fpga export")
    return json.loads(path.read_text())


def _write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")
    tmp.replace(path)


def _json_default(o: Any):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(type(o))


# ----------------------------------------------------------------------------- build (cached)


def _gxx_version() -> str:
    gxx = shutil.which("g++")
    if gxx is None:
        raise ToolError("g++ not found on PATH; install it (e.g. apt-get install g++) to build the C simulation")
    return subprocess.run([gxx, "--version"], capture_output=True, text=True).stdout.splitlines()[0]


def project_source_hash(project_dir: Path) -> str:
    """sha256 of everything the C simulation library is built from, plus where it lives.

    The absolute path counts because ``build_lib.sh`` compiles the weights folder's path into the
    library.
    """
    project_dir = project_dir.resolve()
    h = hashlib.sha256(str(project_dir).encode())
    files = [project_dir / "build_lib.sh", *sorted(project_dir.glob("*_bridge.cpp"))]
    files += sorted(p for p in (project_dir / "firmware").rglob("*") if p.is_file() and p.suffix != ".so")
    for p in files:
        if p.name in _NOT_SOURCE or not p.exists():
            continue
        h.update(str(p.relative_to(project_dir)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True)
class BuildResult:
    library: Path
    rebuilt: bool
    seconds: float
    log: Path


def build_csim_library(project_dir: Path | str, on_start: Optional[Callable[[], None]] = None) -> BuildResult:
    """Compile the project's C simulation library with g++, unless an identical build exists."""
    project_dir = Path(project_dir).resolve()
    record_path = project_dir / BUILD_RECORD
    log = project_dir / BUILD_LOG
    digest = project_source_hash(project_dir)
    if record_path.exists():
        record = json.loads(record_path.read_text())
        lib = project_dir / record.get("library", "")
        if record.get("hash") == digest and lib.is_file():
            return BuildResult(lib, rebuilt=False, seconds=0.0, log=log)
    compiler = _gxx_version()
    if on_start:
        on_start()
    for old in (project_dir / "firmware").glob("*.so"):
        old.unlink()
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        fh.write(f"# {compiler}\n# bash build_lib.sh in {project_dir}\n")
        fh.flush()
        proc = subprocess.run(["bash", "build_lib.sh"], cwd=project_dir, stdout=fh, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - t0
    libs = sorted((project_dir / "firmware").glob("*.so"))
    if proc.returncode != 0 or not libs:
        raise ToolError(f"g++ failed to build the C simulation (exit {proc.returncode}); see log {log}")
    _write_json_atomic(record_path, {"hash": digest, "library": str(libs[0].relative_to(project_dir)), "compiler": compiler, "seconds": round(seconds, 2)})
    return BuildResult(libs[0], rebuilt=True, seconds=seconds, log=log)


# ----------------------------------------------------------------------------- running


class CsimLibrary:
    """The compiled project, called sample by sample through hls4ml's C bridge (``<project>_float``)."""

    def __init__(self, library: Path, manifest: dict):
        self._lib = ctypes.CDLL(str(library))
        self._fn = getattr(self._lib, f"{manifest['project_name']}_float")
        self.in_sizes = [int(np.prod(v["shape"])) for v in manifest["inputs"]]
        self.out_sizes = [int(np.prod(v["shape"])) for v in manifest["outputs"]]
        self._fn.restype = None
        self._fn.argtypes = [np.ctypeslib.ndpointer(ctypes.c_float, flags="C_CONTIGUOUS")] * (
            len(self.in_sizes) + len(self.out_sizes)
        )

    def predict_one(self, xs: list[np.ndarray]) -> list[np.ndarray]:
        outs = [np.zeros(n, dtype=np.float32) for n in self.out_sizes]
        self._fn(*[np.ascontiguousarray(x, dtype=np.float32).reshape(-1) for x in xs], *outs)
        return outs

    def close(self) -> None:
        # Unload so that a rebuilt library at the same path is really reloaded next time.
        dlclose = ctypes.CDLL("libdl.so.2").dlclose
        dlclose.argtypes = [ctypes.c_void_p]
        dlclose(self._lib._handle)


@dataclass
class CsimResult:
    """C simulation versus Keras on the same inputs."""

    project: str
    data: str
    n_samples: int
    argmax_agreement: float
    max_abs_diff: float
    mean_abs_diff: float
    keras_accuracy: Optional[float]
    csim_accuracy: Optional[float]
    rebuilt: bool
    build_seconds: float
    csim_seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def standard_normal_inputs(shape: tuple, n: int, seed: int = 0) -> np.ndarray:
    """``n`` standard-normal samples of ``shape``: fidelity checks for models without data."""
    return np.random.default_rng(seed).standard_normal((n, *shape)).astype(np.float32)


def _inputs_for(manifest: dict, data: str, n: Optional[int], seed: int):
    """(x, y or None, label) for the project's model input."""
    from hcp_fpga.data import load_dataset

    if len(manifest["keras_input_shapes"]) != 1:
        raise ConfigError("C simulation of multi-input models is not supported yet; use a single-input model")
    shape = tuple(manifest["keras_input_shapes"][0])
    if data == "normal":
        return standard_normal_inputs(shape, n or 1000, seed), None, f"standard normal (seed {seed})"
    ds = load_dataset(data).for_model(shape)
    x, y = ds.x_test, ds.y_test
    if n is not None:
        x, y = x[:n], y[:n]
    return x, y, f"{ds.name} test split"


def run_csim(
    project_dir: Path | str,
    data: str = "normal",
    n: Optional[int] = None,
    seed: int = 0,
    progress: Optional[Callable[[str, int, int], None]] = None,
) -> CsimResult:
    """Build (if needed) and run the C simulation of an exported project; compare it with Keras.

    ``progress(stage, done, total)`` is called during the run (stage ``compile`` or ``csim``).
    """
    from hcp_fpga.models import load_model

    project_dir = Path(project_dir).resolve()
    manifest = read_manifest(project_dir)
    x, y, label = _inputs_for(manifest, data, n, seed)
    if len(x) == 0:
        raise DataError(f"data '{data}' gives no samples; use --n > 0 or a data set with a test split")

    build = build_csim_library(project_dir, on_start=(lambda: progress("compile", 0, 1)) if progress else None)
    if progress and build.rebuilt:
        progress("compile", 1, 1)

    model = load_model(project_dir / MODEL_JSON, project_dir / MODEL_WEIGHTS)
    keras_out = np.asarray(model.predict(x, batch_size=512, verbose=0), dtype=np.float32).reshape(len(x), -1)

    lib = CsimLibrary(build.library, manifest)
    t0 = time.perf_counter()
    try:
        csim_out = np.empty_like(keras_out)
        for i in range(len(x)):
            csim_out[i] = lib.predict_one([x[i]])[0]
            if progress and (i % 100 == 99 or i == len(x) - 1):
                progress("csim", i + 1, len(x))
    finally:
        lib.close()
    csim_seconds = time.perf_counter() - t0

    diff = np.abs(csim_out - keras_out)
    k_arg, c_arg = keras_out.argmax(axis=1), csim_out.argmax(axis=1)
    result = CsimResult(
        project=str(project_dir),
        data=label,
        n_samples=int(len(x)),
        argmax_agreement=float(np.mean(k_arg == c_arg)),
        max_abs_diff=float(diff.max()),
        mean_abs_diff=float(diff.mean()),
        keras_accuracy=float(np.mean(k_arg == y)) if y is not None else None,
        csim_accuracy=float(np.mean(c_arg == y)) if y is not None else None,
        rebuilt=build.rebuilt,
        build_seconds=round(build.seconds, 2),
        csim_seconds=round(csim_seconds, 2),
    )
    _write_json_atomic(project_dir / CSIM_JSON, result.as_dict())
    return result
