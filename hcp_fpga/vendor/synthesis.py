"""Run an hls4ml project's build with the real vendor tool, keep its log, and read its reports into
the same ``Estimate`` shape as the estimator (``SynthResult``, stored in ``<project>/hcp_synth/``).

A failed, killed or timed-out tool, or one that leaves no (or a truncated) report, raises one clear
``SynthFailed`` line naming the phase and the log; the previous ``result.json`` stays as it was, and
nothing of the exported project (firmware, scripts, weights) is touched, so it can be estimated,
C-simulated and synthesized again."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional, Sequence

from hcp_fpga.cbuild import _die_with_parent, project_lock
from hcp_fpga.errors import HcpError, ToolError
from hcp_fpga.estimator.reports import (
    ReportError, closest_to_hardware, find_csynth, parse_csynth, parse_csynth_instances, parse_vivado_synth,
)
from hcp_fpga.estimator.types import Estimate
from hcp_fpga.outputs import read_json, write_json_atomic, write_text_atomic
from hcp_fpga.vendor.tools import HlsProject, HlsTool, build_options, find_tool, read_project
from hcp_fpga.vocab import SynthStep

RESULT_DIR = "hcp_synth"
RESULT_FILE = "result.json"

PhaseCallback = Optional[Callable[[str, str], None]]  # (phase, the log line that started it)


class SynthFailed(ToolError):
    """The vendor tool ran and did not produce a usable report."""

    exit_code = 1


@dataclass(frozen=True)
class SynthResult:
    """What a vendor build reported for a project: C synthesis, and logic synthesis for ``vsynth``.
    These are vendor results, not estimates."""

    project: str
    step: SynthStep
    tool: str  # the executable that ran (vivado_hls, vitis_hls, vitis-run)
    tool_version: Optional[str]  # as the report names it, e.g. "Vivado HLS 2020.1"
    seconds: float
    finished: str  # UTC, ISO 8601
    log: str
    csynth: Estimate
    vsynth: Optional[Estimate] = None

    @property
    def final(self) -> Estimate:
        """The most real numbers there are: logic synthesis where it ran (its latency from csynth)."""
        return closest_to_hardware(self.csynth, self.vsynth)

    def as_dict(self) -> dict:
        return {"project": self.project, "step": str(self.step), "tool": self.tool, "tool_version": self.tool_version,
                "seconds": self.seconds, "finished": self.finished, "log": self.log, "csynth": self.csynth.as_dict(),
                "vsynth": self.vsynth.as_dict() if self.vsynth else None}

    @classmethod
    def from_dict(cls, d: dict) -> "SynthResult":
        return cls(d["project"], SynthStep(d["step"]), d["tool"], d.get("tool_version"), float(d["seconds"]),
                   d["finished"], d["log"], Estimate.from_dict(d["csynth"]),
                   Estimate.from_dict(d["vsynth"]) if d.get("vsynth") else None)


def stored_result(project_dir: Path | str) -> Optional[SynthResult]:
    """The last successful synth result of a project, or None."""
    path = Path(project_dir) / RESULT_DIR / RESULT_FILE
    if not path.is_file():
        return None
    return SynthResult.from_dict(read_json(path, "synth result", "re-run hcp-fpga synth on the project"))


# log line -> phase shown while the tool runs (Vivado HLS / Vitis HLS / Vivado message ids)
_PHASES: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"\[HLS 200-10\] Analyzing design file|Analyzing design file"), "reading the C++"),
    (re.compile(r"\[XFORM|Starting code transformations"), "optimizing the C++"),
    (re.compile(r"\[SCHED"), "scheduling"),
    (re.compile(r"\[BIND"), "binding"),
    (re.compile(r"\[RTGEN|\[RTMG|Generating RTL|\[VHDL|\[VLOG"), "writing RTL"),
    (re.compile(r"C/RTL SYNTHESIS COMPLETED"), "C synthesis done"),
    (re.compile(r"Starting synth_design|synth_design -top"), "Vivado logic synthesis"),
    (re.compile(r"report_utilization"), "writing the utilization report"),
)
_MODULE = re.compile(r"Implementing module '([^']+)'|Synthesizing module '([^']+)'")


def _phase_of(line: str, current: str) -> str:
    for pattern, phase in _PHASES:
        if pattern.search(line):
            return phase
    m = _MODULE.search(line)
    if m:
        return f"{current.split(':')[0]}: {(m.group(1) or m.group(2))[:48]}"
    return current


def _report_stamps(project: HlsProject) -> dict[Path, int]:
    """Modification times of the reports an earlier run left: a report is this run's only if it
    changed (a tool that exits 0 and writes nothing must not pass off the old numbers)."""
    files = list((project.path / f"{project.name}_prj").rglob("*csynth.*")) + [project.path / "vivado_synth.rpt"]
    return {f: f.stat().st_mtime_ns for f in files if f.is_file()}


def _fresh(path: Optional[Path], before: dict[Path, int]) -> bool:
    return path is not None and path.is_file() and before.get(path) != path.stat().st_mtime_ns


def _read_reports(project: HlsProject, step: SynthStep, since: dict[Path, int], log: Path, tool: HlsTool) -> tuple[Estimate, Optional[Estimate]]:
    report_dir = project.path / f"{project.name}_prj"
    found = find_csynth(report_dir) if report_dir.is_dir() else None
    if found is None or not _fresh(found[0], since):
        raise SynthFailed(f"{tool.name} exited 0 but wrote no new C synthesis report under {report_dir}; see the log {log}")
    try:
        csynth = parse_csynth(found[0])
        modules = parse_csynth_instances(found[1]) if found[1] else []
    except ReportError as exc:
        raise SynthFailed(f"{exc} (written by {tool.name}; see the log {log})") from None
    csynth = replace(csynth, layers=tuple(modules) or csynth.layers)
    vsynth = None
    if step is SynthStep.VSYNTH:
        rpt = project.path / "vivado_synth.rpt"
        if not _fresh(rpt, since):
            raise SynthFailed(f"{tool.name} exited 0 but Vivado wrote no new vivado_synth.rpt; see the log {log}")
        vsynth = parse_vivado_synth(rpt)
        if vsynth.lut == 0 and vsynth.ff == 0:
            raise SynthFailed(f"vivado_synth.rpt has no utilization rows (truncated?); see the log {log}")
    return csynth, vsynth


def run_synth(project_dir: Path | str, step: SynthStep | str = SynthStep.CSYNTH, *, tool_settings: Path | str | None = None,
              timeout: Optional[float] = None, on_phase: PhaseCallback = None, env=None,
              tool: Optional[HlsTool] = None) -> SynthResult:
    """C synthesis (``csynth``) or C + logic synthesis (``vsynth``) of an exported hls4ml project with
    the vendor tool (``tool``, else found on PATH / in ``tool_settings``' environment); the parsed
    reports, stored in ``<project>/hcp_synth/result.json``."""
    step = SynthStep(step)
    if timeout is not None and not timeout > 0:
        raise HcpError(f"timeout {timeout} is invalid; give seconds > 0")
    project = read_project(project_dir)
    tool = tool or find_tool(project, step, tool_settings, env=env)
    out = project.path / RESULT_DIR
    out.mkdir(exist_ok=True)
    # its own lock (not csim's): a synthesis runs for hours, and C simulation may run next to it
    with project_lock(out, what="synthesis", name=".hcp_synth.lock"):
        if project.backend == "vitis":
            write_text_atomic(project.path / "build_opt.tcl", build_options(step))
        log_path = out / f"{step}.log"
        partial = out / f"{step}.log.partial"
        cmd = tool.command(project, step)
        started = time.time()
        stamps = _report_stamps(project)
        phase = "starting"
        last_lines: list[str] = []
        timed_out = threading.Event()
        with open(partial, "w") as log:
            log.write("$ " + " ".join(cmd) + f"\n# in {project.path}\n")
            log.flush()
            proc = subprocess.Popen(cmd, cwd=project.path, env=dict(tool.env), stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, errors="replace",
                                    start_new_session=True, preexec_fn=_die_with_parent)

            def stop() -> None:
                timed_out.set()
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)

            watchdog = threading.Timer(timeout, stop) if timeout else None
            if watchdog:
                watchdog.daemon = True
                watchdog.start()
            try:
                for line in proc.stdout:
                    log.write(line)
                    stripped = line.strip()
                    if stripped:
                        last_lines = (last_lines + [stripped])[-20:]
                    new = _phase_of(line, phase)
                    if new != phase:
                        phase = new
                        log.flush()
                        if on_phase:
                            on_phase(phase, stripped)
                rc = proc.wait()
            except BaseException:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(Exception):
                    proc.wait(timeout=5)
                raise
            finally:
                if watchdog:
                    watchdog.cancel()
        os.replace(partial, log_path)
        seconds = time.time() - started
        kept = "the project is unchanged and its previous synth result kept"
        if timed_out.is_set():
            raise SynthFailed(f"{tool.name} was stopped after the {timeout:g} s timeout during {phase}; {kept}; "
                              f"see the log {log_path}")
        if rc < 0:
            name = signal.Signals(-rc).name if -rc in signal.Signals._value2member_map_ else str(-rc)
            raise SynthFailed(f"{tool.name} was killed ({name}) during {phase}; {kept}; re-run hcp-fpga synth "
                              f"(log: {log_path})")
        if rc != 0:
            errors = [l for l in last_lines if re.search(r"\bERROR\b|error:", l)] or last_lines[-1:]
            detail = f": {errors[-1][:200]}" if errors else ""
            raise SynthFailed(f"{tool.name} failed (exit {rc}) during {phase}{detail}; {kept}; see the log {log_path}")
        csynth, vsynth = _read_reports(project, step, stamps, log_path, tool)
        result = SynthResult(str(project.path), step, tool.name, csynth.tool, round(seconds, 2),
                             datetime.now(timezone.utc).isoformat(timespec="seconds"), str(log_path), csynth, vsynth)
        write_json_atomic(out / RESULT_FILE, result.as_dict())
        return result


@dataclass(frozen=True)
class SynthOutcome:
    """One project of a batch: its result, or the one line saying why there is none."""

    project: str
    result: Optional[SynthResult] = None
    error: Optional[str] = None
    exit_code: int = 0


@dataclass(frozen=True)
class SynthTask:
    project: str
    step: str
    tool_settings: Optional[str]
    timeout: Optional[float]


def synth_task(task: SynthTask) -> SynthOutcome:
    """One project on one (Dask) worker; the tool is looked for where the task runs."""
    try:
        result = run_synth(task.project, task.step, tool_settings=task.tool_settings, timeout=task.timeout)
    except HcpError as exc:
        return SynthOutcome(task.project, error=str(exc), exit_code=exc.exit_code)
    return SynthOutcome(task.project, result=result)


def synth_projects(projects: Sequence[Path | str], step: SynthStep | str, executor, tool_settings=None,
                   timeout: Optional[float] = None, progress=None) -> list[SynthOutcome]:
    """Several projects, one per executor worker (``search.executors``), in the given order."""
    for p in projects:  # refuse a folder that is not a project before any tool starts
        read_project(p)
    tasks = [SynthTask(str(Path(p).resolve()), str(SynthStep(step)), str(tool_settings) if tool_settings else None, timeout)
             for p in projects]
    return executor.map(synth_task, tasks, label="synthesis", progress=progress)
