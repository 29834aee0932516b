"""The Python API: one function per CLI verb, with the same names and options, returning the typed
results the CLI prints. ``hcp-fpga estimate M --board B --reuse 4`` is ``estimate(M, board="B",
reuse=4)``; the CLI (``cli.py``) only parses arguments and prints what these return.

A model argument is a path (Keras .json + ``weights``, full .h5, .keras, SavedModel folder) or a
live Keras model; ``estimate`` also takes an hls4ml project folder. Errors a user can fix raise
``HcpError`` subclasses with one line that names the problem and the fix (the CLI exits 2 on them).
Examples (run by the tests): docs/api.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Union

from hcp_fpga.board_catalog import Board, board_for_part, list_boards, load_board
from hcp_fpga.errors import ConfigError, first_line

from hcp_fpga.vocab import DEFAULT_HEADROOM

ModelArg = Union[str, Path, Any]  # a path or a live Keras model
ConfigArg = Union[str, Path, Mapping, None]
Progress = Optional[Callable[[str, int, int], None]]


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class InspectResult:
    """Per-layer facts of a model, the layers hls4ml cannot convert, and weight-range warnings."""

    layers: list  # models.LayerInfo
    unsupported: list[tuple[str, str]]
    warnings: list  # model_checks.WeightRangeWarning
    notes: tuple[str, ...] = ()  # what a user's hls4ml config reads and does not apply

    @property
    def total_weights(self) -> int:
        return sum(layer.weights for layer in self.layers)

    @property
    def nonzero_weights(self) -> int:
        return sum(layer.nonzero_weights for layer in self.layers)

    def as_dict(self) -> dict:
        return {"layers": [layer.as_dict() for layer in self.layers],
                "unsupported_by_hls4ml": [{"name": n, "class": c} for n, c in self.unsupported],
                "warnings": [w.message() for w in self.warnings], "notes": list(self.notes)}


@dataclass(frozen=True)
class EstimateResult:
    """An estimate (never a vendor report), the board it was judged on and the verdict."""

    estimate: Any  # estimate.types.Estimate
    board: Optional[Board]
    headroom: Union[float, dict]  # a fraction, or one per resource (``headroom="auto"`` resolved)
    verdict: Any = None  # estimate.types.Verdict, None without a board
    comparison: Optional[list] = None  # estimate.compare.ComparisonRow per scope/resource
    notes: tuple[str, ...] = ()  # what was adjusted on the way (snapped reuse factors, ...)
    warnings: tuple[str, ...] = ()
    # a project folder's own vendor report (Vivado synthesis where present, else C synthesis) and its
    # verdict: where a real report exists, it wins
    report: Any = None
    report_verdict: Any = None
    # the estimate scaled to what Vivado logic synthesis typically reports (estimator/postsynth.py);
    # a second, labelled estimate: the verdict stays on the HLS-level numbers
    post_synthesis: Any = None

    @property
    def verdict_from(self) -> Optional[str]:
        if self.report_verdict is not None:
            return f"{self.report.source} report ({self.report.tool or 'vendor tool'})"
        return "estimate" if self.verdict is not None else None

    @property
    def fits(self) -> Optional[bool]:
        """True/False with a board (from the project's real report where it has one); None when no
        board is known or a layer is not priced."""
        if self.report_verdict is not None:
            return bool(self.report_verdict.fits)
        if self.verdict is None or self.verdict.unpriced:
            return None
        return bool(self.verdict.fits)

    def as_dict(self) -> dict:
        return {"estimate": self.estimate.as_dict(), "board": self.board.name if self.board else None,
                "headroom": self.headroom, "verdict": self.verdict.as_dict() if self.verdict else None,
                "fits": self.fits, "verdict_from": self.verdict_from,
                "report": self.report.as_dict() if self.report is not None else None,
                "report_verdict": self.report_verdict.as_dict() if self.report_verdict is not None else None,
                "comparison": [r.as_dict() for r in self.comparison] if self.comparison is not None else None,
                "post_synthesis": self.post_synthesis.as_dict() if self.post_synthesis is not None else None,
                "notes": list(self.notes), "warnings": list(self.warnings)}


@dataclass(frozen=True)
class ExportResultWithNotes:
    """``hls.ExportResult`` plus what was adjusted (snapped reuse factors) and weight warnings."""

    export: Any  # hls.ExportResult
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def out_dir(self) -> Path:
        return self.export.out_dir

    @property
    def manifest(self) -> dict:
        return self.export.manifest

    @property
    def layers(self) -> list[dict]:
        return self.export.layers


# ----------------------------------------------------------------------------- building a design


@dataclass(frozen=True)
class DesignOptions:
    """The hls4ml options every command that builds a design takes (CLI: ``--backend`` ...)."""

    backend: Optional[str] = None
    strategy: Optional[str] = None
    reuse: Union[int, str, Mapping, None] = None  # 4 | "fc1=30,fc2=32" | "16,auto" | {"fc1": 30}
    io_type: Optional[str] = None
    precision: Optional[str] = None
    clock: Optional[float] = None
    config: ConfigArg = None  # a user's hls4ml config: YAML path or mapping (hlsconfig.py)

    def given(self) -> list[str]:
        names = {"backend": "--backend", "strategy": "--strategy", "reuse": "--reuse", "io_type": "--io-type",
                 "precision": "--precision", "clock": "--clock", "config": "--config"}
        return [flag for key, flag in names.items() if getattr(self, key) is not None]


def _settings(options: DesignOptions, model=None):
    """HlsSettings from the options: hls4ml's defaults, then the user's config file, then the
    explicit model-wide options, then the config's per-layer values, then per-layer --reuse. With
    ``model``, the config's LayerType entries and Model variable types apply to its layers."""
    from hcp_fpga.design import HlsSettings
    from hcp_fpga.hlsconfig import load_hls_config, parse_reuse

    reuse = parse_reuse(options.reuse)
    explicit = {"backend": options.backend, "strategy": options.strategy, "reuse_factor": reuse.default,
                "io_type": options.io_type, "precision": options.precision, "clock_ns": options.clock}
    settings, notes = HlsSettings(), ()
    if options.config is not None:
        config = load_hls_config(options.config)
        config = config.for_model(model) if model is not None else config
        settings, notes = config.apply(settings, explicit), config.notes
    else:
        settings = replace(settings, **{k: v for k, v in explicit.items() if v is not None})
    if reuse.layers:
        settings = replace(settings, layer_reuse={**settings.layer_reuse, **reuse.layers})
    return settings, reuse.snap, notes


def _snap_reuse(model, settings) -> tuple[Any, tuple[str, ...]]:
    """Each Resource/ResourceUnrolled layer's reuse factor moved to hls4ml's closest valid value
    (``--reuse ...,auto``); returns the settings and one note per change."""
    from hcp_fpga.design import RF_CHECKED_STRATEGIES, checked_array_sizes, layer_reuse_factors, reuse_factors_valid_for_all
    from hcp_fpga.estimator.reuse import closest_of
    from hcp_fpga.models import flat_layers, mult_layers, mult_size

    reuse, notes = dict(settings.layer_reuse), []
    for layer in flat_layers(model):  # depthwise/separable convs, LSTM/GRU: the closest RF valid for all their arrays
        strategy, rf = settings.strategy_of(layer.name), settings.reuse_of(layer.name)
        sizes = checked_array_sizes(layer, strategy)
        if not sizes:
            continue
        valid = reuse_factors_valid_for_all(sizes.values(), strategy)
        if rf not in valid:
            new = closest_of(valid, rf)
            reuse[layer.name] = new
            notes.append(f"layer '{layer.name}': reuse factor {rf} -> {new} (closest valid for its multiplier arrays)")
    for layer in mult_layers(model):
        strategy, rf = settings.strategy_of(layer.name), settings.reuse_of(layer.name)
        if strategy not in RF_CHECKED_STRATEGIES:
            continue
        n_in, n_out = mult_size(layer)
        valid = layer_reuse_factors(layer, strategy, settings.io_type)
        if rf not in valid:
            new = closest_of(valid, rf)
            reuse[layer.name] = new
            notes.append(f"layer '{layer.name}' ({n_in}x{n_out}): reuse factor {rf} -> {new} (closest valid)")
    return replace(settings, layer_reuse=reuse), tuple(notes)


def _model(model: ModelArg, weights=None, allow_unsafe: bool = False):
    if isinstance(model, (str, Path)):
        from hcp_fpga.models import load_model

        return load_model(Path(model), Path(weights) if weights else None, allow_unsafe=allow_unsafe)
    if weights is not None:
        raise ConfigError("weights= applies to a model file, not to a live Keras model; drop it")
    return model


def _board(board: Union[str, Board, None], boards_dir) -> Optional[Board]:
    if board is None or isinstance(board, Board):
        return board
    return load_board(board, boards_dir)


def design_for(model: ModelArg, board: Union[str, Board], options: Optional[DesignOptions] = None, *, weights=None,
               boards_dir=None, allow_unsafe: bool = False):
    """(Design, notes, warnings): the model with its hls4ml settings on ``board``, validated with
    hls4ml's rules; the settings are checked before the (slow) model load."""
    from hcp_fpga.design import Design
    from hcp_fpga.model_checks import weight_range_warnings

    board_record = _board(board, boards_dir)
    settings, snap, notes = _settings(options or DesignOptions())  # checked before the (slow) model load
    keras_model = _model(model, weights, allow_unsafe)
    if options is not None and options.config is not None:  # its LayerType and Model variable types, per layer
        settings, snap, notes = _settings(options, keras_model)
    if snap:
        settings, snapped = _snap_reuse(keras_model, settings)
        notes = (*notes, *snapped)
    design = Design.create(keras_model, board_record, settings)
    design.validate()
    warnings = tuple(w.message() for w in weight_range_warnings(keras_model, design.settings))
    return design, notes, warnings


# ----------------------------------------------------------------------------- the verbs


def boards(boards_dir: Union[str, Path, None] = None) -> list[Board]:
    """The board catalog (built-in, ``$HCP_FPGA_BOARDS_DIR``, then ``boards_dir``)."""
    return list_boards(boards_dir)


def inspect(model: ModelArg, *, weights=None, allow_unsafe: bool = False, precision: Optional[str] = None,
            config: ConfigArg = None) -> InspectResult:
    """Per-layer table (shapes, parameters, zeros after quantization, bits), unsupported layers and
    the layers whose weights the export's weight types lose (below one LSB) or clip."""
    from hcp_fpga.model_checks import weight_range_warnings
    from hcp_fpga.models import inspect_model, unsupported_layers

    options = DesignOptions(precision=precision, config=config)
    settings, _, notes = _settings(options)  # checked before the (slow) model load
    keras_model = _model(model, weights, allow_unsafe)
    if config is not None:  # its LayerType and Model variable types (weight types), per layer
        settings, _, notes = _settings(options, keras_model)
    bad = unsupported_layers(keras_model, str(settings.io_type))
    warnings = [] if bad else weight_range_warnings(keras_model, settings)
    return InspectResult(inspect_model(keras_model), bad, warnings, tuple(notes))


def estimate(model: ModelArg, *, board: Union[str, Board, None] = None, weights=None, boards_dir=None,
             backend: Optional[str] = None, strategy: Optional[str] = None, reuse=None, io_type: Optional[str] = None,
             precision: Optional[str] = None, clock: Optional[float] = None, config: ConfigArg = None,
             headroom: Union[float, str] = DEFAULT_HEADROOM, compare: bool = False, model_file=None,
             allow_unsafe: bool = False, calibration: Union[str, Path, Any, None] = None,
             part: Optional[str] = None, tool_version: Optional[str] = None) -> EstimateResult:
    """Estimate DSP, BRAM, LUT, FF and latency of a model on ``board``, or of an hls4ml project folder
    (its own config decides; its part picks the board unless ``board`` is given). ``compare``: the
    project's HLS/synthesis reports next to the estimate. ``part`` (any target), ``clock`` and
    ``backend`` (a project folder too) are what-ifs: the same design on another part, clock period
    or HLS backend; a project's own report then does not judge it. ``tool_version`` ("Vivado HLS
    2020.1", "Vitis HLS 2023.1"): the HLS tool the design is built with (a project's own report
    names it otherwise; docs/estimator.md, tool versions). ``calibration``: a file written by
    ``calibrate`` (or a loaded ``Calibration``) whose factors are applied; the estimate says so.
    ``headroom``: a fraction of every resource kept free, or "auto": per resource, what the
    estimator's errors on real designs of this design's class call for to fit at 90 %.
    Never a vendor result: see docs/estimator.md and docs/calibration.md."""
    from hcp_fpga.estimator import calibration as cal
    from hcp_fpga.estimator.model import estimate_design, estimate_project, is_project_dir

    if headroom != "auto" and (isinstance(headroom, (str, bool)) or not 0.0 <= headroom < 1.0):
        raise ConfigError(f"headroom {headroom!r} is invalid; give a fraction in [0, 1), e.g. 0.2 for 20 %, or 'auto'")
    options = DesignOptions(backend, strategy, reuse, io_type, precision, clock, config)
    calibrated = _calibration(calibration)
    path = Path(model) if isinstance(model, (str, Path)) else None
    project = path is not None and is_project_dir(path)
    if path is not None and not project:
        if path.is_dir() and not (path / "keras_metadata.pb").is_file() and not (path / "saved_model.pb").is_file():
            raise ConfigError(f"'{path}' is neither an hls4ml project (no hls4ml_config.yml) nor a Keras SavedModel; "
                              "pass a project folder, a model file or a SavedModel folder")
        if not path.exists():
            raise ConfigError(f"'{path}' does not exist; pass a project folder or a model file")
    if compare and not project:
        raise ConfigError("--compare needs a project folder with HLS reports, not a model file; run it on the exported project")
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    if part is not None:
        _check_part(part)
    if tool_version is not None:
        from hcp_fpga.estimator.backends import TOOL_FAMILIES, parse_tool

        try:
            parse_tool(tool_version)
        except ValueError:
            raise ConfigError(f"tool version '{tool_version}' is unknown; give one of {', '.join(TOOL_FAMILIES)} with a "
                              "version, e.g. 'Vivado HLS 2020.1' or 'Vitis HLS 2023.1'") from None
    what_if = bool(part or clock or backend or tool_version)
    if project:
        fixed = [f for f in options.given() if f not in ("--clock", "--backend")]
        if fixed:
            raise ConfigError(f"{', '.join(fixed)} {'does' if len(fixed) == 1 else 'do'} not apply to a project folder (its hls4ml_config.yml decides; "
                              "--part, --clock and --backend are what-ifs); drop them, or estimate the model file instead")
        keras_model = _model(model_file, None, allow_unsafe) if model_file else None
        est = estimate_project(path, keras_model, part=part, clock_ns=clock, backend=backend, tool=tool_version)
        board_record = _board(board, boards_dir) if board else board_for_part(est.part, boards_dir)
        if what_if:
            changed = (part and f"part {part}", clock and f"clock {clock:g} ns", backend and f"backend {backend}",
                       tool_version and f"tool {tool_version}")
            notes += (f"what-if: {', '.join(w for w in changed if w)} "
                      "instead of the project's; its own reports (if any) do not judge this variant",)
        if calibrated:
            est = cal.apply(est, calibrated, cal.project_attributes(path, est))
    else:
        if board is None:
            raise ConfigError("--board is required when estimating a model file (hcp-fpga boards lists them)")
        design, notes, warnings = design_for(model, board, options, weights=weights, boards_dir=boards_dir,
                                             allow_unsafe=allow_unsafe)
        board_record = design.board
        if part is not None:
            design = replace(design, board=board_record.model_copy(update={"part": part}))
            notes += (f"what-if: part {part} instead of {board_record.name}'s {board_record.part} (the budget stays the board's)",)
        est = estimate_design(design, tool_version)
        if calibrated:
            est = cal.apply(est, calibrated, cal.settings_attributes(design.settings, board_record.part))
    if headroom == "auto":
        from hcp_fpga.estimator.uncertainty import auto_headroom

        headroom = auto_headroom(est.design_class)
    verdict = est.verdict(board_record, headroom) if board_record else None
    comparison = real = real_verdict = None
    if project and not what_if:
        from hcp_fpga.estimator.reports import ReportError, closest_to_hardware, project_reports

        try:
            reports = project_reports(path)
        except ReportError as exc:
            reports, warnings = {}, warnings + (f"the project's report is unreadable ({exc}); judged on the estimate",)
        real = closest_to_hardware(reports.get("csynth"), reports.get("vsynth"))
        if real is not None and est.report_mismatch:
            real, warnings = None, warnings + (est.report_mismatch,)  # a report of another network judges nothing
        if real is not None and board_record is not None:
            real_verdict = real.verdict(board_record, headroom)
        if compare:
            from hcp_fpga.estimator.compare import compare as side_by_side

            comparison = side_by_side(est, reports)
    from hcp_fpga.estimator.postsynth import post_synthesis

    return EstimateResult(est, board_record, headroom, verdict, comparison, notes, warnings, real, real_verdict,
                          None if est.unpriced else post_synthesis(est))


_PART = re.compile(r"^x[a-z0-9]{4,}(-[a-z0-9]+){0,4}$", re.I)


def _check_part(part: str) -> None:
    if not isinstance(part, str) or not _PART.match(part) or len(part) > 60:
        raise ConfigError(f"part '{part}' is not a Xilinx part string; give one like xc7z020clg400-1 or xcu250-figd2104-2L-e")


def _calibration(calibration):
    """A ``Calibration`` from a path (validated now, before any slow work), or as given."""
    if calibration is None or not isinstance(calibration, (str, Path)):
        return calibration
    from hcp_fpga.estimator.calibration import load

    return load(calibration)


@dataclass(frozen=True)
class CalibrateResult:
    """A fitted calibration, where it was written, what it was fitted on and its held-out error."""

    calibration: Any  # estimator.calibration.Calibration
    out: Path
    samples: list  # estimator.calibration.Sample
    skipped: list  # estimator.calibration.Skipped
    errors: list  # estimator.calibration.HeldOutError (leave-one-project-out)

    def as_dict(self) -> dict:
        return {"out": str(self.out), "calibration": self.calibration.as_dict(),
                "projects": [{"project": s.name, **{k: v for k, v in s.attrs.items()}} for s in self.samples],
                "skipped": [{"project": s.project, "reason": s.reason} for s in self.skipped],
                "leave_one_project_out": [e.as_dict() for e in self.errors]}


def calibrate(report_dirs: Union[str, Path, list], out: Union[str, Path], *, target: str = "csynth",
              force: bool = False) -> CalibrateResult:
    """Fit correction factors of the estimate from real synthesized projects (every hls4ml project
    folder under ``report_dirs`` that has a ``target`` report: csynth or vsynth) and write them to
    ``out`` (YAML); the leave-one-project-out error, uncalibrated vs calibrated, comes with it."""
    from hcp_fpga.errors import OutputExistsError
    from hcp_fpga.estimator import calibration as cal

    if target not in ("csynth", "vsynth"):
        raise ConfigError(f"target '{target}' is unknown; use csynth (HLS reports) or vsynth (Vivado synthesis)")
    out = Path(out)
    if out.exists() and not force:
        raise OutputExistsError(f"'{out}' exists; pass --force to replace it, or another -o")
    if out.suffix not in (".yaml", ".yml"):
        raise ConfigError(f"'{out}' must be a .yaml file")
    if out.exists() and not cal.is_calibration_file(out):  # --force replaces only what calibrate wrote
        raise OutputExistsError(f"'{out}' exists and is not a calibration file hcp-fpga wrote; --force replaces only "
                                "those: pass another -o")
    dirs = [report_dirs] if isinstance(report_dirs, (str, Path)) else list(report_dirs)
    samples, skipped = cal.collect(dirs, target)
    fitted = cal.fit(samples, target)
    errors = cal.held_out_errors(samples)
    cal.save(fitted, out)
    return CalibrateResult(fitted, out, samples, skipped, errors)


def export(model: ModelArg, out: Union[str, Path], *, board: Union[str, Board], weights=None, boards_dir=None,
           backend: Optional[str] = None, strategy: Optional[str] = None, reuse=None, io_type: Optional[str] = None,
           precision: Optional[str] = None, clock: Optional[float] = None, config: ConfigArg = None,
           force: bool = False, allow_unsafe: bool = False, source: Optional[str] = None) -> ExportResultWithNotes:
    """Write the hls4ml HLS project of ``model`` for ``board`` into ``out`` (C++, TCL, weights,
    hls4ml_config.yml, manifest). Vivado/Vitis HLS are not run: build_prj.tcl is for them."""
    from hcp_fpga.hls import export_project

    design, notes, warnings = design_for(model, board, DesignOptions(backend, strategy, reuse, io_type, precision, clock, config),
                                         weights=weights, boards_dir=boards_dir, allow_unsafe=allow_unsafe)
    label = source or (str(model) if isinstance(model, (str, Path)) else None)
    return ExportResultWithNotes(export_project(design, out, force=force, source=label), notes, warnings)


def csim(project: Union[str, Path], *, data: str = "normal", n: Optional[int] = None, seed: int = 0,
         progress: Progress = None):
    """Build (g++) and run the C simulation of an exported project; compare it with Keras on ``data``
    (digits, mnist1d, normal, or an .npz). Returns ``hls.CsimResult``."""
    from hcp_fpga.hls import run_csim

    from hcp_fpga.data import check_seed

    return run_csim(project, data=data, n=n, seed=check_seed(seed), progress=progress)


def optimize(project: Union[str, Path], *, out: Union[str, Path, None] = None, resume: bool = False, force: bool = False,
             config: ConfigArg = None, executor: Optional[str] = None, workers: Optional[int] = None,
             scheduler: Optional[str] = None, log: Optional[Callable[[str], None]] = None, show_progress: bool = False,
             progress: Progress = None, calibration: Union[str, Path, None] = None,
             tool_settings: Union[str, Path, None] = None):
    """Prune, quantize and re-configure the model of a project.yaml until it fits its board; writes
    report.html too. ``config``: an hls4ml config replacing the project's ``hls_config`` (a path is
    relative to where you run). ``executor`` (serial | dask), ``workers`` (a LocalCluster of that many
    processes) and ``scheduler`` (an existing Dask scheduler's address) override the project's
    ``search`` block. ``calibration``: a file from ``calibrate`` replacing the project's (docs/
    calibration.md); ``tool_settings``: the vendor's settings script for the project's ``synth:``
    block (docs/synthesis.md). Returns ``loop.LoopResult``; raises ``loop.CannotFit`` (exit 3)."""
    from hcp_fpga.html_report import build_report
    from hcp_fpga.loop import CannotFit, run_loop

    if resume and force:
        raise ConfigError("resume and force exclude each other: continue the run, or start it over")
    project_config = _project_with_overrides(project, config, executor, workers, scheduler)
    if calibration is not None:
        project_config = project_config.model_copy(update={"calibration": str(Path(calibration).resolve())})
        project_config.loaded_calibration()  # checked before anything runs
    out_dir = Path(out) if out is not None else project_config.out_dir()
    try:
        result = run_loop(project_config, out_dir, resume=resume, force=force, log=log or (lambda message: None),
                          show_progress=show_progress, progress=progress,
                          tool_settings=Path(tool_settings) if tool_settings is not None else None)
    except CannotFit:
        build_report(out_dir)
        raise
    build_report(out_dir)
    return result


def _project_with_overrides(project, config: ConfigArg, executor, workers, scheduler):
    """project.yaml with ``--config`` and the executor options applied, all checked."""
    from hcp_fpga.project import load_project

    project_config = load_project(project)
    if config is not None:
        source = dict(config) if isinstance(config, Mapping) else str(Path(config).resolve())
        project_config = project_config.model_copy(update={"hls_config": source})
        project_config.parsed_hls_config()  # checked before anything runs
    overrides = {k: v for k, v in (("executor", "dask" if (workers or scheduler) and executor is None else executor),
                                   ("workers", workers), ("scheduler", scheduler)) if v is not None}
    if overrides:
        from hcp_fpga.project import Search

        try:
            search = Search.model_validate({**project_config.search.model_dump(), **overrides})
        except ValueError as exc:
            raise ConfigError(f"executor options: {first_line(exc)}; use --executor serial|dask, --workers N >= 1, "
                              "--scheduler tcp://HOST:PORT") from None
        project_config = project_config.model_copy(update={"search": search})
    return project_config


def sweep(project: Union[str, Path], boards: Union[str, list], *, clocks: Union[str, list, None] = None,
          out: Union[str, Path, None] = None, force: bool = False, executor: Optional[str] = None,
          workers: Optional[int] = None, scheduler: Optional[str] = None, log: Optional[Callable[[str], None]] = None,
          show_progress: bool = False, progress: Progress = None) -> list:
    """The project fitted to each of ``boards`` (and ``clocks``, ns): one optimize run per
    combination into ``out/<board>[-<clock>ns]`` (default ``outputs/<name>-sweep``), ``sweep.json``
    and ``report.html`` over all. Returns ``loop.SweepRow`` per combination."""
    from hcp_fpga.html_report import build_sweep_report
    from hcp_fpga.loop import run_sweep

    names = [b.strip() for b in boards.split(",")] if isinstance(boards, str) else list(boards)
    if not names or not all(names):
        raise ConfigError("--boards needs board names separated by commas, e.g. arty-a7-35t,pynq-z2")
    if isinstance(clocks, str):
        try:
            clocks = [float(c) for c in clocks.split(",")]
        except ValueError:
            raise ConfigError(f"--clocks '{clocks}' is invalid; give periods in ns separated by commas, e.g. 5,10") from None
    project_config = _project_with_overrides(project, None, executor, workers, scheduler)
    out_dir = Path(out) if out is not None else Path("outputs") / f"{project_config.name}-sweep"
    rows = run_sweep(project_config, names, out_dir, clocks, force=force, log=log or (lambda message: None),
                     show_progress=show_progress, progress=progress)
    build_sweep_report(out_dir)
    return rows


def export_point(out_dir: Union[str, Path], point: int, *, out: Union[str, Path, None] = None, force: bool = False,
                 progress: Progress = None):
    """Export design ``point`` of an optimize run (``pareto.json`` lists the front) into ``out``
    (default ``<out_dir>/point-<N>``) and C-simulate it; returns (``hls.ExportResult``, ``hls.CsimResult``)."""
    from hcp_fpga.loop import export_point as run_export_point

    return run_export_point(out_dir, point, out, force=force, progress=progress)


def report(out_dir: Union[str, Path], title: Optional[str] = None) -> Path:
    """Write ``out_dir/report.html`` (plots, tables) for an optimize output or a project folder."""
    from hcp_fpga.html_report import build_report

    return build_report(out_dir, title=title)


__all__ = ["DEFAULT_HEADROOM", "DesignOptions", "EstimateResult", "ExportResultWithNotes", "InspectResult", "boards",
           "csim", "design_for", "estimate", "export", "export_point", "inspect", "optimize", "report"]


def synth(project: Union[str, Path, list], *, step: str = "csynth", tool_settings: Union[str, Path, None] = None,
          timeout: Optional[float] = None, executor: Optional[str] = None, workers: Optional[int] = None,
          scheduler: Optional[str] = None, on_phase: Optional[Callable[[str, str], None]] = None,
          progress: Progress = None):
    """Run the vendor tool on exported hls4ml projects: C synthesis (``step="csynth"``) or C + Vivado
    logic synthesis (``"vsynth"``); the reports are read into ``Estimate``s and kept in
    ``<project>/hcp_synth/``. One path (serial): returns ``vendor.SynthResult`` and raises
    ``ToolNotFound`` (exit 2) or ``SynthFailed`` (exit 1). A list, or any ``executor``/``scheduler``:
    one project per worker, returns a ``vendor.SynthOutcome`` per project (result or error line).
    ``tool_settings``: the vendor's settings64.sh to source. docs/synthesis.md."""
    from hcp_fpga.search.executors import make_executor
    from hcp_fpga.vendor import run_synth, synth_projects

    if isinstance(project, (str, Path)) and executor in (None, "serial") and not scheduler:
        return run_synth(project, step, tool_settings=tool_settings, timeout=timeout, on_phase=on_phase)
    projects = [project] if isinstance(project, (str, Path)) else list(project)
    if not projects:
        raise ConfigError("no project folder given; pass one or more folders written by hcp-fpga export")
    with make_executor(executor or "serial", workers, scheduler) as pool:
        return synth_projects(projects, step, pool, tool_settings=tool_settings, timeout=timeout, progress=progress)
