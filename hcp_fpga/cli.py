"""Command line: argument parsing and printing only; every command calls the Python API.

Errors a user can fix print one line on stderr and exit 2; ``--json`` prints valid JSON on stdout
and keeps logs on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import warnings
from pathlib import Path
from typing import Optional, Sequence

from rich.console import Console
from rich.table import Table

from hcp_fpga.errors import ConfigError, HcpError, first_line
from hcp_fpga.vocab import resource_label


def quiet_libraries(verbose: bool = False) -> None:
    """TensorFlow's C++ log, its Python 'tensorflow' logger (retracing warnings), absl and Keras's
    per-serialization QKeras warnings are noise between our own lines; ``--verbose`` keeps them.
    Set before TensorFlow is imported (the C++ level is read once, at import)."""
    if verbose:
        return
    import logging

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")  # read when distributed is imported
    for name in ("tensorflow", "absl", "h5py", "distributed", "dask"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"keras(\.|$)")


EXAMPLES = {
    "boards": "example:\n  hcp-fpga boards\n  hcp-fpga boards --json --boards-dir my_boards/",
    "inspect": "example:\n  hcp-fpga inspect ../shared/peer-models/qkeras_3layer.json --weights ../shared/peer-models/qkeras_3layer_weights.h5",
    "export": "example:\n  hcp-fpga export model.json --weights model_weights.h5 --board pynq-z2 -o out/prj --strategy Resource --reuse 4",
    "csim": "example:\n  hcp-fpga csim out/prj --data digits --min-agreement 0.99",
    "estimate": "example:\n  hcp-fpga estimate model.json --weights w.h5 --board pynq-z2 --strategy Resource --reuse 8\n"
    "  hcp-fpga estimate out/prj --compare          # a project folder: estimate vs its HLS/synthesis reports",
    "optimize": "example:\n  hcp-fpga optimize projects/digits-mlp/project.yaml --force\n"
    "  hcp-fpga optimize projects/digits-mlp --resume      # continue after an interruption",
    "sweep": "example:\n  hcp-fpga sweep projects/digits-mlp --boards arty-a7-35t,pynq-z2,zcu104 --out outputs/sweep\n"
    "  hcp-fpga sweep projects/digits-mlp --boards pynq-z2 --clocks 5,10 --workers 2",
    "export-point": "example:\n  hcp-fpga export-point outputs/digits-mlp 12      # a point of pareto.json -> outputs/digits-mlp/point-12",
    "report": "example:\n  hcp-fpga report outputs/digits-mlp      # regenerate outputs/digits-mlp/report.html",
    "calibrate": "example:\n  hcp-fpga calibrate ~/fpga/projects -o my_calibration.yaml\n"
    "  hcp-fpga estimate model.json --weights w.h5 --board zcu104 --calibration my_calibration.yaml",
    "synth": "example:\n  hcp-fpga synth outputs/digits-mlp/hls_project --tool-settings /tools/Xilinx/Vivado/2020.1/settings64.sh\n"
    "  hcp-fpga synth prj_a prj_b prj_c --step vsynth --executor dask --workers 3   # one project per worker",
    "demo": "example:\n  hcp-fpga demo --out outputs/demo --force",
}

# Wide tables when piped (CI logs, files); the terminal's width otherwise.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
log = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


def _fmt(v) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):  # whole or large numbers in full (28,672 DSPs, not 2.867e+04)
        return f"{v:,.0f}" if math.isfinite(v) and (v.is_integer() or abs(v) >= 1000) else f"{v:.4g}"
    return "-" if v is None else str(v)


def _print_table(title: str, rows: list[dict], columns: Optional[list[str]] = None) -> None:
    columns = columns or (list(rows[0]) if rows else [])
    table = Table(title=title)
    for c in columns:
        table.add_column(c, justify="right" if rows and isinstance(rows[0].get(c), (int, float)) else "left")
    for r in rows:
        table.add_row(*[_fmt(r.get(c)) for c in columns])
    out.print(table)


def _emit_json(data) -> None:
    from hcp_fpga.outputs import dumps

    sys.stdout.write(dumps(data) + "\n")  # strict JSON: NaN/Inf become null


# ----------------------------------------------------------------------------- commands


def cmd_boards(args) -> int:
    from hcp_fpga import api

    boards = api.boards(args.boards_dir)
    if args.json:
        _emit_json([b.model_dump() for b in boards])
        return 0
    rows = [
        {
            "board": b.name, "aliases": ", ".join(b.aliases), "part": b.part, "backend": b.backend,
            "DSP": b.dsp, "BRAM18": b.bram18, "URAM": b.uram, "LUT": b.lut, "FF": b.ff,
            "I/O": b.io_pins if b.io_pins is not None else "unknown", "clock ns": b.clock_ns,
        }
        for b in boards
    ]
    _print_table(f"{len(boards)} boards (whole-device resources)", rows)
    return 0


def _warn(lines) -> None:
    """Warnings and notes go to stderr, one line each, also under --json and --quiet."""
    for line in lines:
        log.print(f"warning: {_one_line(line)}", markup=False, highlight=False, soft_wrap=True)


def _note(lines) -> None:
    for line in lines:
        log.print(f"note: {_one_line(line)}", markup=False, highlight=False, soft_wrap=True)


def cmd_inspect(args) -> int:
    from hcp_fpga import api

    r = api.inspect(args.model, weights=args.weights, allow_unsafe=args.allow_unsafe, precision=args.precision,
                    config=args.config)
    _warn(w.message() for w in r.warnings)
    _note(r.notes)
    if args.json:
        _emit_json(r.as_dict())
        return 0
    rows = [layer.as_dict() for layer in r.layers]
    for row in rows:
        row["output_shape"] = "x".join(map(str, row["output_shape"]))
    _print_table(f"{args.model}", rows)
    total, nz = r.total_weights, r.nonzero_weights
    out.print(f"weights: {total:,}, nonzero: {nz:,} ({(1 - nz / total) * 100 if total else 0:.1f} % zero, after quantization)")
    if r.unsupported:
        out.print(f"[red]hls4ml cannot convert:[/red] {', '.join(f'{n} ({c})' for n, c in r.unsupported)}")
    return 0


def _design_options(args) -> dict:
    return dict(backend=args.backend, strategy=args.strategy, reuse=args.reuse, io_type=args.io_type,
                precision=args.precision, clock=args.clock, config=args.config)


def cmd_export(args) -> int:
    from hcp_fpga import api

    with log.status("hls4ml: converting and writing the project", spinner="dots") if not (args.quiet or args.json) \
            else contextlib.nullcontext():
        result = api.export(args.model, args.out, board=args.board, weights=args.weights, boards_dir=args.boards_dir,
                            force=args.force, allow_unsafe=args.allow_unsafe, **_design_options(args))
    _note(result.notes)
    _warn(result.warnings)
    if args.json:
        _emit_json({"out_dir": str(result.out_dir), **result.manifest, "notes": list(result.notes),
                    "warnings": list(result.warnings)})
        return 0
    m = result.manifest
    if args.quiet:
        return 0
    rows = [
        {"layer": l["name"], "class": l["class"], "strategy": l["strategy"] or "-", "RF": l["reuse_factor"],
         "output": "x".join(map(str, l["output_shape"])), "precision": ", ".join(f"{k}={v}" for k, v in l["precision"].items())}
        for l in result.layers
    ]
    _print_table(f"hls4ml project for {m['board']} ({m['part']}, {m['settings']['backend']}, {m['settings']['clock_ns']} ns)", rows)
    out.print(f"wrote {result.out_dir} (build_prj.tcl for synthesis with {m['settings']['backend']} HLS; not run here)")
    return 0


def _progress_printer(quiet: bool):
    """A progress(stage, done, total) function drawing rich bars on stderr."""
    if quiet:
        return None, contextlib.nullcontext()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=log, transient=True)
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            label = {"compile": "g++: building C simulation", "csim": "C simulation"}.get(stage, stage)
            tasks[stage] = progress.add_task(label, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return update, progress


def _csim_rows(r) -> list[dict]:
    rows = [
        {"metric": "samples", "value": r.n_samples},
        {"metric": "argmax agreement", "value": r.argmax_agreement},
        {"metric": "max |csim - keras|", "value": r.max_abs_diff},
        {"metric": "mean |csim - keras|", "value": r.mean_abs_diff},
    ]
    if r.keras_accuracy is not None:
        rows += [{"metric": "keras accuracy", "value": r.keras_accuracy}, {"metric": "csim accuracy", "value": r.csim_accuracy}]
    rows += [{"metric": "compiled now", "value": "yes" if r.rebuilt else "no (cached build)"},
             {"metric": "compile s", "value": r.build_seconds}, {"metric": "csim s", "value": r.csim_seconds}]
    return rows


def cmd_csim(args) -> int:
    from hcp_fpga import api

    update, ctx = _progress_printer(args.quiet or args.json)
    with ctx:
        result = api.csim(args.project, data=args.data, n=args.n, seed=args.seed, progress=update)
    if args.json:
        _emit_json(result.as_dict())
    elif not args.quiet:
        _print_table(f"C simulation vs Keras on {result.data}", _csim_rows(result), ["metric", "value"])
    if args.html:
        log.print(f"wrote {api.report(args.project)}")
    if args.min_agreement is not None and result.argmax_agreement < args.min_agreement:
        log.print(f"csim fidelity {result.argmax_agreement:.4f} is below --min-agreement {args.min_agreement}")
        return 1
    return 0


def _estimate_rows(est) -> list[dict]:
    rows = [{"layer": l.name, "kind": l.kind, "DSP": l.dsp, "BRAM18": l.bram18, "LUT": round(l.lut), "FF": round(l.ff),
             "cycles": l.latency_cycles, "II": l.ii} for l in est.layers if l.kind != "free"]
    rows.append({"layer": "total", "kind": "", "DSP": est.dsp, "BRAM18": est.bram18, "LUT": round(est.lut), "FF": round(est.ff),
                 "cycles": est.latency_cycles, "II": est.ii})
    return rows


def _utilization_rows(est, board, verdict) -> list[dict]:
    from hcp_fpga.estimator.uncertainty import intervals

    budget, spans = board.budget(), intervals(est)
    rows = []
    for r in ("dsp", "bram18", "lut", "ff", "uram"):  # the board table's order
        row = {"resource": r.upper() if r != "bram18" else "BRAM18", "estimate": round(getattr(est, r)), "board": budget[r],
               "used %": (f"{verdict.utilization[r] * 100:.1f}" if verdict.utilization[r] is not None else "-")}
        if spans:
            span = spans.get(r)
            row["90 % interval"] = f"{span.low:,.0f} - {span.high:,.0f}" if span else "-"
        rows.append(row)
    return rows


def _headroom_text(headroom) -> str:
    """'20% headroom' or 'headroom DSP 12%, LUT 84%, ...' (per resource, e.g. resolved 'auto')."""
    if isinstance(headroom, dict):
        return "headroom " + ", ".join(f"{resource_label(r)} {v:.0%}" for r, v in headroom.items())
    return f"{headroom:.0%} headroom"


def _seed_arg(text: str) -> int:
    """--seed: an integer numpy accepts as a seed."""
    from hcp_fpga.data import check_seed

    try:
        return check_seed(int(text))
    except (ValueError, HcpError) as exc:
        raise argparse.ArgumentTypeError(str(exc) if isinstance(exc, HcpError) else f"'{text}' is not an integer seed") from None


def _headroom_arg(text: str):
    """--headroom: a fraction in [0, 1) or 'auto'."""
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a fraction; give e.g. 0.2 for 20 %, or 'auto'") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError("give a fraction in [0, 1), e.g. 0.2 for 20 %, or 'auto'")
    return value


def _comparison_rows(rows) -> list[dict]:
    """One table row per scope (total, then each matched layer); a cell is 'estimate / report (error)'."""
    def cell(est, real):
        if est is None and real is None:
            return "-"
        text = f"{_fmt_num(est)} / {_fmt_num(real)}"
        if est is not None and real:
            text += f" ({(est - real) / real * 100:+.0f}%)"
        return text

    table: dict[str, dict] = {}
    for r in rows:
        row = table.setdefault(r.scope, {"layer": r.scope, "HLS module": (r.module or "")[:40]})
        row[r.resource] = cell(r.estimate, r.csynth)
        if r.scope == "total" and r.vsynth is not None:
            table.setdefault("total vs vsynth", {"layer": "total vs vsynth", "HLS module": "Vivado logic synthesis"})[r.resource] = \
                cell(r.estimate, r.vsynth)
    return list(table.values())


def _fmt_num(v) -> str:
    return "-" if v is None else f"{v:,.0f}"


# files an optimize run or a sweep writes beside its own estimate.json and report.html
_RUN_FILES = ("result.json", "history.json", "sweep.json")


def cmd_estimate(args) -> int:
    from hcp_fpga import api
    from hcp_fpga.errors import OutputExistsError

    if args.html and any((args.html / name).exists() for name in _RUN_FILES):
        raise OutputExistsError(f"--html '{args.html}' is an optimize or sweep output folder: its estimate.json and "
                                "report.html would be replaced; pass another folder")
    r = api.estimate(args.model, board=args.board, weights=args.weights, boards_dir=args.boards_dir, headroom=args.headroom,
                     compare=args.compare, model_file=args.model_file, allow_unsafe=args.allow_unsafe,
                     calibration=args.calibration, part=args.part, tool_version=args.tool_version, **_design_options(args))
    est, board, verdict, comparison = r.estimate, r.board, r.verdict, r.comparison
    _note(r.notes)
    _warn(r.warnings)
    if args.html:
        from hcp_fpga.outputs import write_json_atomic

        args.html.mkdir(parents=True, exist_ok=True)
        write_json_atomic(args.html / "estimate.json", est.as_dict())
        log.print(f"wrote {api.report(args.html, title=str(args.model))}")
    code = 1 if args.check and r.fits is not True else 0
    if args.json:
        _emit_json(r.as_dict())
        return code
    if args.quiet:
        return code
    where = f"{board.name} ({board.part})" if board else (est.part or "unknown part")
    kind = "CALIBRATED ESTIMATE" if est.calibration else "ESTIMATE"
    _print_table(f"{kind} (analytical, not a vendor report) for {where}, clock {est.clock_ns} ns", _estimate_rows(est))
    latency = f"latency {est.latency_cycles} cycles" + (f" = {est.latency_ns:.1f} ns" if est.latency_ns is not None else "")
    out.print(f"{latency}, II {est.ii} cycles. Error of this model vs real reports: docs/estimator.md")
    for note in est.notes[1:]:
        out.print(f"[yellow]note:[/yellow] {note}")
    if board:
        _print_table(f"utilization of {board.name} (estimate)", _utilization_rows(est, board, verdict))
        if verdict.unpriced:
            out.print(f"[red]cannot say it fits[/red]: layer(s) {', '.join(verdict.unpriced)} are not priced, so the "
                      "estimate is a lower bound")
        elif verdict.fits:
            out.print(f"[green]fits[/green] with {_headroom_text(r.headroom)}; binding resource: {verdict.binding}")
        else:
            out.print(f"[red]does not fit[/red] with {_headroom_text(r.headroom)}: over on {', '.join(verdict.over)}; "
                      f"binding resource: {verdict.binding}")
        if verdict.confidence is not None and not verdict.unpriced:
            out.print(f"{verdict.confidence_text()}; intervals and their measured coverage: docs/estimator.md")
    else:
        out.print(f"no catalog board uses part {est.part}; pass --board for utilization and a verdict")
    if r.post_synthesis is not None:
        ps = r.post_synthesis
        lut, ff = ps.ratios.get("lut"), ps.ratios.get("ff")
        if lut and ff:
            out.print(f"after Vivado logic synthesis (estimate): LUT ~{ps.values['lut']:,.0f} (x{lut.median:.2f}; seen x{lut.low:.2f}"
                      f"-x{lut.high:.2f}), FF ~{ps.values['ff']:,.0f} (x{ff.median:.2f}) of the HLS-level numbers, from "
                      f"{lut.n} real designs with both reports; the verdict above is on the HLS level (what csynth will report)")
    if r.report_verdict is not None:
        rv, rep = r.report_verdict, r.report
        word = "[green]fits[/green]" if rv.fits else f"[red]does not fit[/red] (over on {', '.join(rv.over)})"
        out.print(f"real {r.verdict_from} in this project: DSP {rep.dsp:,.0f}, BRAM18 {rep.bram18:,.0f}, LUT {rep.lut:,.0f}, "
                  f"FF {rep.ff:,.0f} -> {word} with {_headroom_text(r.headroom)}; the real report wins (--check uses it)")
    if comparison is not None:
        if all(c.csynth is None and c.vsynth is None for c in comparison):
            out.print("no HLS or synthesis reports in this project (run its build_prj.tcl with Vivado/Vitis HLS first)")
        else:
            _print_table("estimate / report (error): HLS csynth per layer and total; Vivado synthesis where present",
                         _comparison_rows(comparison), ["layer", "dsp", "bram18", "lut", "ff", "latency_cycles", "ii", "HLS module"])
    return code


def _run_reporters(args):
    """(log line printer, progress function, bars context) of a long run, all silent under --quiet/--json."""
    say = (lambda msg: None) if args.quiet else (lambda msg: log.print(msg, markup=False, highlight=False))
    update, bars = _progress_printer(args.quiet or args.json)
    return say, update, bars


def cmd_optimize(args) -> int:
    from hcp_fpga import api
    from hcp_fpga.loop import CannotFit

    say, update, bars = _run_reporters(args)
    try:
        with bars:
            result = api.optimize(args.project, out=args.out, resume=args.resume, force=args.force, config=args.config,
                                  executor=args.executor, workers=args.workers, scheduler=args.scheduler, log=say,
                                  show_progress=not (args.quiet or args.json), progress=update,
                                  calibration=args.calibration, tool_settings=args.tool_settings)
    except CannotFit as exc:
        if args.json and exc.out_dir is not None and (exc.out_dir / "result.json").exists():
            _emit_json(json.loads((exc.out_dir / "result.json").read_text()))
        raise
    s = result.summary
    if args.json:
        _emit_json(s)
        return 0
    if args.quiet:
        return 0
    rows = [{"resource": r.upper() if r != "bram18" else "BRAM18", "estimate": round(s["estimate"][r]),
             "budget (after headroom)": round(s["budget"][r])} for r in ("dsp", "bram18", "lut", "ff")]
    _print_table(f"{s['project']} on {s['board']} ({s['part']}): fits, binding resource {s['binding']} (estimate)", rows)
    out.print(f"test accuracy (reported; decisions used validation): baseline {s['baseline_accuracy']:.4f}, final Keras "
              f"{s['keras_accuracy']:.4f}, C simulation {s['csim_accuracy']:.4f}; latency {s['latency_cycles']} cycles")
    if s.get("confidence") is not None:
        out.print(f"confidence it fits the board: {s['confidence']:.0%} (the estimator's errors on real designs; "
                  "headroom auto aims at 90 %; docs/estimator.md)")
    w = s.get("weights") or {}
    if w:
        out.print(f"weights {w['before']:,} -> {w['after']:,} ({w['zero_after']:.0%} of them zero); "
                  f"{s.get('evaluations', 0)} designs evaluated in {s.get('rounds', 0)} rounds, {s.get('pareto_points', 0)} on the "
                  f"Pareto front (pareto.json); chosen: point {s.get('point')}")
    out.print(f"wrote {result.out_dir}: report.html, hls_project/, model/, points/, history.json, pareto.json, result.json, "
              "estimate.json")
    return 0


def cmd_sweep(args) -> int:
    from hcp_fpga import api

    say, update, bars = _run_reporters(args)
    with bars:
        rows = api.sweep(args.project, args.boards, clocks=args.clocks, out=args.out, force=args.force,
                         executor=args.executor, workers=args.workers, scheduler=args.scheduler, log=say,
                         show_progress=not (args.quiet or args.json), progress=update)
    if args.json:
        _emit_json([r.as_dict() for r in rows])
        return 0 if all(r.fits for r in rows) else 3
    if not args.quiet:
        table = [{"board": r.board, "clock ns": r.clock_ns, "fits": "yes" if r.fits else "no",
                  "val acc": r.val_accuracy, "test acc": r.test_accuracy, "csim acc": r.csim_accuracy,
                  **{f"{k.upper() if k != 'bram18' else 'BRAM18'} %": f"{100 * r.utilization.get(k, 0.0):.0f}"
                     for k in ("dsp", "bram18", "lut", "ff")},
                  "latency": r.latency_cycles, "settings": r.settings} for r in rows]
        _print_table("sweep (estimates; accuracies: validation decides, test reported)", table)
        if rows:
            out.print(f"wrote {Path(rows[0].path).parent}: sweep.json, report.html, one folder per run")
    return 0 if all(r.fits for r in rows) else 3


def cmd_export_point(args) -> int:
    from hcp_fpga import api

    update, ctx = _progress_printer(args.quiet or args.json)
    with ctx:
        exported, csim = api.export_point(args.out_dir, args.point, out=args.out, force=args.force, progress=update)
    if args.json:
        _emit_json({"out_dir": str(exported.out_dir), "csim": csim.as_dict()})
    elif not args.quiet:
        _print_table(f"point {args.point}: C simulation vs Keras on {csim.data}", _csim_rows(csim), ["metric", "value"])
        out.print(f"wrote {exported.out_dir}")
    return 0


def cmd_report(args) -> int:
    from hcp_fpga import api

    path = api.report(args.out_dir)
    if args.json:
        _emit_json({"report": str(path)})
    elif not args.quiet:
        out.print(f"wrote {path}")
    return 0


def _synth_rows(result) -> list[dict]:
    rows = [{"report": f"C synthesis ({result.tool_version or result.tool})", **_totals_cells(result.csynth)}]
    if result.vsynth is not None:
        rows.append({"report": "Vivado logic synthesis", **_totals_cells(result.vsynth)})
    return rows


def _totals_cells(est) -> dict:
    return {"DSP": _fmt_num(est.dsp), "BRAM18": _fmt_num(est.bram18), "LUT": _fmt_num(est.lut), "FF": _fmt_num(est.ff),
            "cycles": _fmt_num(est.latency_cycles), "II": _fmt_num(est.ii)}


def cmd_synth(args) -> int:
    from hcp_fpga import api

    one = len(args.projects) == 1 and args.executor in (None, "serial") and not args.scheduler
    status = contextlib.nullcontext() if args.quiet or args.json else log.status("starting the vendor tool")

    def on_phase(phase: str, line: str) -> None:
        if not (args.quiet or args.json):
            status.update(f"{args.projects[0].name}: {phase}")

    update, bars = _progress_printer(args.quiet or args.json or one)
    with status, bars:
        outcome = api.synth(args.projects[0] if one else args.projects, step=args.step, tool_settings=args.tool_settings,
                            timeout=args.timeout, executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                            on_phase=on_phase, progress=update)
    results = [outcome] if one else [o.result for o in outcome if o.result]
    failures = [] if one else [o for o in outcome if o.error]
    if args.json:
        _emit_json([r.as_dict() for r in results] + [{"project": f.project, "error": f.error} for f in failures])
    elif not args.quiet:
        for r in results:
            _print_table(f"{r.project}: vendor reports ({r.step}, {r.seconds:.0f} s; log {r.log})", _synth_rows(r))
    for f in failures:
        log.print(f"error: {f.project}: {_one_line(f.error)}", markup=False, highlight=False, soft_wrap=True)
    return max((f.exit_code for f in failures), default=0)


def cmd_calibrate(args) -> int:
    from hcp_fpga import api

    result = api.calibrate(args.report_dirs, args.out, target=args.target, force=args.force)
    if args.json:
        _emit_json(result.as_dict())
        return 0
    if not args.quiet:
        for s in result.skipped:
            log.print(f"skipped {s.project}: {_one_line(s.reason)}", markup=False, highlight=False, soft_wrap=True)
        rows = [{"resource": e.resource.split("_")[0].upper(), "projects": e.n,
                 "SMAPE % uncalibrated": f"{e.smape_before:.1f}", "SMAPE % calibrated": f"{e.smape_after:.1f}",
                 "median |err| % before": f"{e.median_before:.1f}", "after": f"{e.median_after:.1f}",
                 "90 % interval x/": f"{math.exp(1.645 * result.calibration.resources[e.resource].sigma):.2f}"}
                for e in result.errors]
        _print_table(f"leave-one-project-out error on {len(result.samples)} projects ({args.target} reports)", rows)
        out.print(f"wrote {result.out} ({result.calibration.describe()})")
    return 0


def cmd_demo(args) -> int:
    from hcp_fpga.demo import run_demo

    update, ctx = _progress_printer(args.quiet)
    with ctx:
        r = run_demo(args.out, board=args.board, epochs=args.epochs, seed=args.seed, force=args.force,
                     show_progress=not args.quiet, progress=update)
    if args.quiet:
        return 0
    _print_table(f"digits MLP on {r.export.manifest['board']}: C simulation vs Keras ({r.csim.data})", _csim_rows(r.csim), ["metric", "value"])
    out.print(f"model: {r.model_dir}  hls4ml project: {r.export.out_dir}  csim: {r.export.out_dir / 'csim.json'}")
    return 0


# ----------------------------------------------------------------------------- parser


def _add_model_args(p) -> None:
    p.add_argument("model", type=Path, help="Keras .json (+ --weights), full .h5, .keras or SavedModel folder")
    p.add_argument("--weights", type=Path, help="weights .h5 for a JSON architecture")
    p.add_argument("--allow-unsafe", action="store_true", help="allow Lambda layers (runs code stored in the file)")


def _add_design_args(p) -> None:
    """The hls4ml settings every command that builds a design takes (defaults: HlsSettings')."""
    from hcp_fpga.design import BACKENDS, IO_TYPES, STRATEGIES

    p.add_argument("--backend", choices=BACKENDS, help="HLS backend (default: the board's)")
    p.add_argument("--strategy", choices=STRATEGIES, help="hls4ml strategy (default: Latency)")
    p.add_argument("--reuse", help="reuse factor: N for every layer, NAME=N per layer, and 'auto' to move each layer to "
                   "its closest valid value instead of refusing (e.g. 16,fc1=4,auto; default 1; hls4ml's rule)")
    p.add_argument("--io-type", choices=IO_TYPES, help="io_parallel (default) or io_stream")
    p.add_argument("--precision", help="default precision (default ap_fixed<16,6>; QKeras layers keep theirs)")
    p.add_argument("--clock", type=float, help="clock period in ns (default: the board's)")
    p.add_argument("--config", type=Path, metavar="YML", help="hls4ml config (Model/LayerName: Precision, ReuseFactor, "
                   "Strategy); flags override its Model values, its LayerName values are kept (docs/api.md)")


def _add_executor_args(p, where: str = "where candidates are evaluated (default: the project's search.executor, "
                                        "serial)") -> None:
    """Where optimize/sweep evaluate candidates, or synth runs projects (docs/scale-out.md)."""
    p.add_argument("--executor", choices=("serial", "dask"), help=where)
    p.add_argument("--workers", type=int, help="dask: a LocalCluster of N worker processes (docs/scale-out.md)")
    p.add_argument("--scheduler", metavar="ADDR", help="dask: an existing scheduler, e.g. tcp://10.0.0.5:8786")


def _add_common(p, json_flag: bool = True) -> None:
    if json_flag:
        p.add_argument("--json", action="store_true", help="print JSON on stdout (logs stay on stderr)")
    p.add_argument("--quiet", action="store_true", help="no progress bars and no tables: errors and warnings only")


def build_parser() -> argparse.ArgumentParser:
    from hcp_fpga import __version__
    from hcp_fpga.api import DEFAULT_HEADROOM

    parser = argparse.ArgumentParser(
        prog="hcp-fpga",
        description="Hardware-coupled pruning for FPGAs: export hls4ml projects, run C simulation, estimate board resource use.",
        epilog="example session:\n  hcp-fpga boards\n  hcp-fpga inspect model.json --weights w.h5\n"
        "  hcp-fpga estimate model.json --weights w.h5 --board pynq-z2\n"
        "  hcp-fpga export model.json --weights w.h5 --board pynq-z2 -o prj\n  hcp-fpga csim prj --data digits",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"hcp-fpga {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of any error")
    parser.add_argument("--verbose", action="store_true", help="also show TensorFlow/Keras/absl log lines (hidden by default)")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str):
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=EXAMPLES[name],
                           formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback of any error")
        return p

    p = add("boards", "list the board catalog")
    p.add_argument("--boards-dir", type=Path, help="extra folder of board YAML files")
    _add_common(p)
    p.set_defaults(func=cmd_boards)

    p = add("inspect", "per-layer table of a model: shapes, parameters, sparsity, bit widths")
    _add_model_args(p)
    p.add_argument("--precision", help="default weight type to check the weights against (default ap_fixed<16,6>)")
    p.add_argument("--config", type=Path, metavar="YML", help="hls4ml config whose per-layer weight types to check against")
    _add_common(p)
    p.set_defaults(func=cmd_inspect)

    p = add("export", "write an hls4ml HLS project for a board")
    _add_model_args(p)
    p.add_argument("--board", required=True, help="board name or alias (hcp-fpga boards lists them)")
    p.add_argument("--boards-dir", type=Path, help="extra folder of board YAML files")
    p.add_argument("-o", "--out", type=Path, required=True, help="project folder to create")
    _add_design_args(p)
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    _add_common(p)
    p.set_defaults(func=cmd_export)

    p = add("estimate", "estimate DSP, BRAM, LUT, FF and latency of a model or hls4ml project on a board")
    _add_model_args(p)
    p.add_argument("--board", help="board name or alias (required for a model; a project's part picks its board)")
    p.add_argument("--boards-dir", type=Path, help="extra folder of board YAML files")
    _add_design_args(p)
    p.add_argument("--headroom", type=_headroom_arg, default=DEFAULT_HEADROOM,
                   help=f"fraction of each resource to keep free for the verdict (default {DEFAULT_HEADROOM}, as optimize), "
                        "or 'auto': per resource, what the estimator's errors on real designs call for to fit at 90 %%")
    p.add_argument("--check", action="store_true", help="exit 1 unless the design fits with the headroom (for scripts and CI)")
    p.add_argument("--compare", action="store_true", help="project folder: show the estimate next to its HLS/synthesis reports")
    p.add_argument("--model-file", type=Path, help="project folder: model file to read layer shapes from (default: the project's)")
    p.add_argument("--html", type=Path, metavar="DIR", help="also write estimate.json and report.html into DIR (not an optimize or sweep output folder)")
    p.add_argument("--calibration", type=Path, metavar="FILE", help="apply a calibration written by hcp-fpga calibrate")
    p.add_argument("--tool-version", metavar="TOOL", help="the HLS tool that builds it, e.g. 'Vivado HLS 2020.1' or 'Vitis "
                   "HLS 2023.1' (a project's own report names it otherwise; the tools map narrow products differently)")
    p.add_argument("--part", help="what-if: estimate for this Xilinx part (speed grade, family) instead of the board's or "
                   "the project's; with --clock/--backend also on project folders")
    _add_common(p)
    p.set_defaults(func=cmd_estimate)

    p = add("optimize", "prune, quantize and re-configure a model until it fits its board (project.yaml)")
    p.add_argument("project", type=Path, help="a project.yaml, or a folder holding one")
    p.add_argument("--out", type=Path, help="output folder (default: the project's output_dir)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in the output folder")
    p.add_argument("--force", action="store_true", help="start over, replacing the output folder")
    p.add_argument("--config", type=Path, metavar="YML", help="hls4ml config to start from, replacing the project's "
                   "hls_config (what it names per layer is pinned; docs/api.md)")
    p.add_argument("--calibration", type=Path, metavar="FILE", help="correct every estimate with a file written by "
                   "hcp-fpga calibrate (replaces the project's calibration)")
    p.add_argument("--tool-settings", type=Path, metavar="FILE", help="for a project with a synth: block, the vendor's "
                   "settings script to source (e.g. /tools/Xilinx/Vivado/2020.1/settings64.sh)")
    _add_executor_args(p)
    _add_common(p)
    p.set_defaults(func=cmd_optimize)

    p = add("csim", "build and run the C simulation of a project and compare it with Keras")
    p.add_argument("project", type=Path, help="a folder written by hcp-fpga export")
    p.add_argument("--data", default="normal", help="digits, mnist1d, normal (standard-normal inputs) or a .npz")
    p.add_argument("--n", type=int, help="number of samples (default: the whole test split; 1000 for normal)")
    p.add_argument("--seed", type=_seed_arg, default=0, help="seed for --data normal")
    p.add_argument("--min-agreement", type=float, help="exit 1 if argmax agreement is below this")
    p.add_argument("--html", action="store_true", help="also write report.html into the project")
    _add_common(p)
    p.set_defaults(func=cmd_csim)

    p = add("sweep", "fit the same project to several boards (and clocks): one optimize run each, one table and plot")
    p.add_argument("project", type=Path, help="a project.yaml, or a folder holding one")
    p.add_argument("--boards", required=True, help="board names separated by commas, e.g. arty-a7-35t,pynq-z2,zcu104")
    p.add_argument("--clocks", help="clock periods in ns separated by commas (default: each board's)")
    p.add_argument("--out", type=Path, help="output folder (default outputs/<name>-sweep)")
    p.add_argument("--force", action="store_true", help="replace an existing sweep folder")
    _add_executor_args(p)
    _add_common(p)
    p.set_defaults(func=cmd_sweep)

    p = add("export-point", "export any design an optimize run evaluated (e.g. a Pareto point) and C-simulate it")
    p.add_argument("out_dir", type=Path, help="the output folder of hcp-fpga optimize")
    p.add_argument("point", type=int, help="the point's number (pareto.json, report.html)")
    p.add_argument("-o", "--out", type=Path, help="project folder to create (default OUT_DIR/point-N)")
    p.add_argument("--force", action="store_true", help="replace an existing project folder")
    _add_common(p)
    p.set_defaults(func=cmd_export_point)

    p = add("report", "write report.html (plots, tables) for an optimize output folder or a project")
    p.add_argument("out_dir", type=Path, help="an output folder of hcp-fpga optimize, or a project with estimate.json/csim.json")
    _add_common(p)
    p.set_defaults(func=cmd_report)

    p = add("calibrate", "fit correction factors of the estimate from your own synthesized hls4ml projects")
    p.add_argument("report_dirs", type=Path, nargs="+", metavar="REPORT_DIR",
                   help="folders holding hls4ml projects with their HLS (and Vivado) reports; searched recursively")
    p.add_argument("-o", "--out", type=Path, required=True, help="calibration file to write (.yaml)")
    p.add_argument("--target", choices=("csynth", "vsynth"), default="csynth",
                   help="what to calibrate against: HLS C synthesis (default) or Vivado logic synthesis reports")
    p.add_argument("--force", action="store_true", help="replace an existing calibration file")
    _add_common(p)
    p.set_defaults(func=cmd_calibrate)

    p = add("synth", "run Vivado/Vitis HLS on exported projects (where installed) and read their reports")
    p.add_argument("projects", type=Path, nargs="+", metavar="PROJECT_DIR", help="folders written by hcp-fpga export")
    p.add_argument("--step", choices=("csynth", "vsynth"), default="csynth",
                   help="csynth: C synthesis (default); vsynth: also Vivado logic synthesis")
    p.add_argument("--tool-settings", type=Path, metavar="FILE",
                   help="the vendor's settings script to source first, e.g. /tools/Xilinx/Vivado/2020.1/settings64.sh")
    p.add_argument("--timeout", type=float, metavar="S", help="stop the tool after S seconds")
    _add_executor_args(p, "where the projects are synthesized, one per worker (default serial; the tool is looked "
                          "for where each runs)")
    _add_common(p)
    p.set_defaults(func=cmd_synth)

    p = add("demo", "train a digits MLP, export it and C-simulate it (no vendor tools)")
    p.add_argument("--out", type=Path, default=Path("outputs/demo"))
    p.add_argument("--board", default="arty-a7-35t")
    p.add_argument("--epochs", type=int, default=30, help="training epochs (>= 1)")
    p.add_argument("--seed", type=_seed_arg, default=0)
    p.add_argument("--force", action="store_true", help="replace earlier demo outputs")
    _add_common(p, json_flag=False)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    quiet_libraries(args.verbose)
    if getattr(args, "n", None) is not None and args.n < 1:
        parser.error("--n must be >= 1")
    if getattr(args, "epochs", None) is not None and args.epochs < 1:
        parser.error("--epochs must be >= 1")
    if getattr(args, "reuse", None) is not None:
        from hcp_fpga.hlsconfig import parse_reuse

        try:
            parse_reuse(args.reuse)
        except ConfigError as exc:
            parser.error(str(exc))
    if getattr(args, "min_agreement", None) is not None and not math.isfinite(args.min_agreement):
        parser.error("--min-agreement must be a number, e.g. 0.99")
    if getattr(args, "clock", None) is not None and not 0.0 < args.clock < 1e6:
        parser.error("--clock must be a positive period in ns")
    previous = _terminate_as_interrupt()
    try:
        return args.func(args)
    except HcpError as exc:
        if args.debug:
            raise
        log.print(f"error: {_one_line(exc)}", markup=False, highlight=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        log.print("interrupted")
        return 130
    except MemoryError:
        if args.debug:
            raise
        log.print("error: out of memory; use a smaller model or data set", markup=False, highlight=False)
        return 2
    except OSError as exc:  # a file or folder the user named (permissions, disk full, ...)
        if args.debug:
            raise
        where = f" '{_one_line(exc.filename)}'" if exc.filename else ""
        log.print(f"error: {exc.strerror or type(exc).__name__}{where}; check the path, its permissions and free space",
                  markup=False, highlight=False, soft_wrap=True)
        return 2
    except Exception as exc:  # a bug: one line, the traceback with --debug
        if args.debug:
            raise
        log.print(f"error: internal error ({type(exc).__name__}: {first_line(exc, 300)}); rerun with --debug for the traceback and "
                  "report it", markup=False, highlight=False, soft_wrap=True)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _one_line(message: object) -> str:
    """A message as one line: names from files and paths (keys, layer or board names) may hold newlines."""
    # every character str.splitlines() breaks on (also \x1c-\x1e, \x85, \u2028, ...) is escaped
    return "".join(ch if len(f"a{ch}b".splitlines()) == 1 else ch.encode("unicode_escape").decode() for ch in str(message))


def _terminate_as_interrupt():
    """SIGTERM unwinds like Ctrl-C, so child compilers are killed and partial outputs rolled back.
    Returns the previous handler to restore, or None where signals cannot be set (not the main thread)."""
    import threading

    def handler(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":
    sys.exit(main())
