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
import shutil
import time
import traceback
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from hcp_fpga import __version__
from hcp_fpga.cbuild import BUILD_LOG  # noqa: F401  (re-exported: the build log's name, for callers)
from hcp_fpga.cbuild import build_library, check_project_name, check_weight_files, project_lock
from hcp_fpga.design import Design
from hcp_fpga.errors import ConfigError, DataError, ToolError, first_line
from hcp_fpga.model_checks import check_finite_weights
from hcp_fpga.models import (check_convertible, explicit_embedding_lengths, explicit_reshapes, model_hash, quantized_weights,
                             softmax_layers_as_activations, with_c_names,
                             write_model)
from hcp_fpga.outputs import read_json, replacing_dir, write_json_atomic

MANIFEST = "hcp_fpga.json"
CSIM_JSON = "csim.json"
CONVERT_LOG = "hls4ml_convert.log"
# Our copy of the model (JSON + weights): QKeras models do not round-trip through Keras 2's .keras
# format, which is what hls4ml's writer saves.
MODEL_NAME = "hcp_model"  # models.write_model's pair: hcp_model.json + hcp_model_weights.h5
MODEL_JSON = f"{MODEL_NAME}.json"
MODEL_WEIGHTS = f"{MODEL_NAME}_weights.h5"


# ----------------------------------------------------------------------------- export


@dataclass(frozen=True)
class ExportResult:
    """Where the project went and what hls4ml actually applied per layer."""

    out_dir: Path
    manifest: dict

    @property
    def layers(self) -> list[dict]:
        return self.manifest["layers"]


def _convert(design: Design, out_dir: Path, failed_log: Optional[Path] = None):
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
            print("\n" + traceback.format_exc())  # the log keeps where it failed (a bare assert has no message)
            failed = failed_log or log
            fh.flush()
            if failed != log:  # the folder is rolled back: keep the log next to it
                shutil.copyfile(log, failed)
            raise ToolError(f"hls4ml failed: {first_line(exc)}{_where(exc)}; see log {failed}") from exc
    return hls_model


def _where(exc: BaseException) -> str:
    """' in <file>:<line>' of the innermost frame raising an exception with no message (an hls4ml
    assert), else ''."""
    if str(exc).strip():
        return ""
    frames = traceback.extract_tb(exc.__traceback__)
    return f" in {Path(frames[-1].filename).name}:{frames[-1].lineno} ({frames[-1].name})" if frames else ""


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
    """Write the hls4ml project of ``design`` into ``out_dir`` (C++, TCL, weights, config, manifest).

    Everything is checked before the folder is touched: layers hls4ml converts, settings, finite
    weights, and the output path. Layer names that are not safe C identifiers are renamed for the
    C++ (the mapping is in the manifest, ``c_names``)."""
    import hls4ml

    check_convertible(design.model, str(design.settings.io_type))
    design.validate()
    check_finite_weights(design.model, source or design.model.name)
    model, c_names = with_c_names(design.model)
    if c_names:
        design = replace(design, model=model, settings=design.settings.renamed(c_names))
    design = replace(design, model=quantized_weights(explicit_embedding_lengths(explicit_reshapes(
        softmax_layers_as_activations(design.model)))))
    out_dir = Path(out_dir).expanduser().resolve()
    failed_log = out_dir.with_name(f"{out_dir.name}.{CONVERT_LOG}")
    with replacing_dir(out_dir, force, what="output dir") as out_dir:
        hls_model = _convert(design, out_dir, failed_log)
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
            "c_names": c_names,  # original Keras layer name -> the name written into the C++
            "inputs": [{"name": v.name, "shape": [int(d) for d in v.shape]} for v in hls_model.get_input_variables()],
            "outputs": [{"name": v.name, "shape": [int(d) for d in v.shape]} for v in hls_model.get_output_variables()],
            "keras_input_shapes": [list(t.shape[1:]) for t in design.model.inputs],
            "layers": layers,
        }
        write_model(design.model, out_dir, MODEL_NAME)
        write_json_atomic(out_dir / MANIFEST, manifest)
    if failed_log.exists():
        failed_log.unlink()  # an earlier failure's log; this export succeeded
    return ExportResult(out_dir, manifest)


def read_manifest(project_dir: Path | str) -> dict:
    """The ``hcp_fpga.json`` of an exported project, checked enough to be used safely."""
    path = Path(project_dir) / MANIFEST
    if not Path(project_dir).is_dir():
        raise ConfigError(f"'{project_dir}' is not a folder; pass a project folder written by hcp-fpga export")
    if not path.exists():
        raise ConfigError(f"'{project_dir}' is not an hcp-fpga project (no {MANIFEST}); create one with hcp-fpga export")
    manifest = read_json(path, "project manifest", "re-export the project with hcp-fpga export --force")
    try:
        check_project_name(manifest["project_name"])
        shapes = [[int(d) for d in s] for s in manifest["keras_input_shapes"]]
        for key in ("inputs", "outputs"):
            for v in manifest[key]:
                if any(int(d) < 1 for d in v["shape"]):
                    raise ValueError("shape")
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"project manifest '{path}' is incomplete or corrupt; re-export the project with hcp-fpga export --force") from None
    manifest["keras_input_shapes"] = shapes
    return manifest


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
    ds = load_dataset(data, test_only=True).for_model(shape)
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
    from hcp_fpga.data import check_finite_inputs, check_labels
    from hcp_fpga.models import load_model

    project_dir = Path(project_dir).resolve()
    manifest = read_manifest(project_dir)
    project = manifest["project_name"]
    x, y, label = _inputs_for(manifest, data, n, seed)
    if len(x) == 0:
        raise DataError(f"data '{data}' gives no samples; use --n > 0 or a data set with a test split")
    check_finite_inputs(x, label)
    model = load_model(project_dir / MODEL_JSON, project_dir / MODEL_WEIGHTS)
    if y is not None:
        check_labels(y, int(np.prod(model.output_shape[1:])), label)
    keras_out = np.asarray(model.predict(x, batch_size=512, verbose=0), dtype=np.float32).reshape(len(x), -1)

    waiting = (lambda: progress("waiting for another C simulation of this project", 0, 1)) if progress else None
    with project_lock(project_dir, on_wait=waiting):
        check_weight_files(project_dir, project)
        build = build_library(project_dir, project, on_start=(lambda: progress("compile", 0, 1)) if progress else None)
        if progress and build.rebuilt:
            progress("compile", 1, 1)
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
        write_json_atomic(project_dir / CSIM_JSON, result.as_dict())
    return result
