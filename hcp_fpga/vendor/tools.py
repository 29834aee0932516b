"""Finding the vendor HLS tools (Vivado HLS, Vitis HLS, Vivado) and the command that runs an hls4ml
project's own build script with them. Nothing here runs a tool; nothing here is faked: where no
tool exists, ``find_tool`` says what it looked for and how to point at one.

The commands are fixed argument lists (no shell): the project folder is the working directory and
never appears on the command line; the build options are literals."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from hcp_fpga.cbuild import check_project_name
from hcp_fpga.errors import ConfigError, ToolError
from hcp_fpga.vocab import SynthStep

#: the executables each hls4ml backend's build_prj.tcl runs under, in order of preference
#: (Vitis HLS also runs the Vivado backend's script; hls4ml 1.3's Vitis backend uses vitis-run,
#: earlier ones vitis_hls)
TOOLS_BY_BACKEND: dict[str, tuple[str, ...]] = {
    "vivado": ("vivado_hls", "vitis_hls"),
    "vivadoaccelerator": ("vivado_hls", "vitis_hls"),
    "vitis": ("vitis-run", "vitis_hls"),
}
#: build_prj.tcl runs ``vivado -mode batch -source vivado_synth.tcl`` for logic synthesis
LOGIC_SYNTHESIS_TOOL = "vivado"


class ToolNotFound(ToolError):
    """No vendor tool for this project on PATH or in the settings script's environment."""


@dataclass(frozen=True)
class HlsProject:
    """What the build needs to know of an exported hls4ml project (read from its project.tcl)."""

    path: Path
    name: str  # the top function; reports are <name>_prj/solution1/syn/report/<name>_csynth.*
    backend: str  # vivado | vivadoaccelerator | vitis


@dataclass(frozen=True)
class HlsTool:
    """A vendor executable and the environment it runs in."""

    name: str  # vivado_hls | vitis_hls | vitis-run
    path: str
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    def command(self, project: HlsProject, step: SynthStep) -> list[str]:
        """The argument list that runs ``build_prj.tcl`` for ``step`` (C synthesis, plus Vivado logic
        synthesis for ``vsynth``); csim, cosim and export stay off (hcp-fpga csim does the C simulation)."""
        if self.name == "vitis-run":
            return [self.path, "--tcl", "build_prj.tcl", "--mode", "hls"]
        if project.backend == "vitis":  # options come from build_opt.tcl (see build_options)
            return [self.path, "-f", "build_prj.tcl"]
        vsynth = int(step is SynthStep.VSYNTH)
        return [self.path, "-f", "build_prj.tcl",
                f"reset=0 csim=0 synth=1 cosim=0 validation=0 export=0 vsynth={vsynth} fifo_opt=0"]


def build_options(step: SynthStep) -> str:
    """build_opt.tcl of hls4ml's Vitis backend (its build_prj.tcl reads the options from there)."""
    vsynth = int(step is SynthStep.VSYNTH)
    return ("array set opt {\n    reset      0\n    csim       0\n    synth      1\n    cosim      0\n"
            f"    validation 0\n    export     0\n    vsynth     {vsynth}\n    fifo_opt   0\n}}\n")


_TCL_SET = re.compile(r'^\s*set\s+(\w+)\s+"?([^"\n]*)"?\s*$', re.M)


def read_project(path: Path | str) -> HlsProject:
    """The hls4ml project in ``path``; a clear error when it is not one hcp-fpga can build."""
    path = Path(path)
    if not path.is_dir():
        raise ConfigError(f"'{path}' is not a folder; pass an hls4ml project folder (hcp-fpga export writes one)")
    missing = [f for f in ("build_prj.tcl", "project.tcl") if not (path / f).is_file()]
    if missing:
        raise ConfigError(f"'{path}' has no {' or '.join(missing)}: not an hls4ml project with build scripts; "
                          "export it with hcp-fpga export (or hls4ml's write())")
    values = dict(_TCL_SET.findall((path / "project.tcl").read_text(errors="replace")))
    name = check_project_name(values.get("project_name"))
    backend = (values.get("backend") or "vivado").lower()
    if backend not in TOOLS_BY_BACKEND:
        raise ConfigError(f"project backend '{backend}' in {path / 'project.tcl'} is not one hcp-fpga synth runs; "
                          f"it runs {', '.join(sorted(TOOLS_BY_BACKEND))} projects")
    return HlsProject(path, name, backend)


def settings_environment(settings: Path | str) -> dict[str, str]:
    """The environment after sourcing a vendor settings script (e.g. /tools/Xilinx/Vitis_HLS/2023.1/
    settings64.sh). The script path is passed to bash as an argument, never spliced into a command."""
    settings = Path(settings)
    if not settings.is_file():
        raise ConfigError(f"tool settings script '{settings}' does not exist; pass the vendor's settings64.sh, "
                          "e.g. --tool-settings /tools/Xilinx/Vivado/2020.1/settings64.sh")
    bash = shutil.which("bash")
    if bash is None:
        raise ToolError("bash is needed to source a tool settings script and was not found on PATH")
    done = subprocess.run([bash, "-c", 'source "$1" >/dev/null 2>&1 </dev/null; env -0', "hcp-settings", str(settings)],
                          capture_output=True, timeout=120, check=False)
    if done.returncode != 0:
        raise ToolError(f"sourcing '{settings}' failed (exit {done.returncode}); check the script runs in bash")
    env = {}
    for item in done.stdout.split(b"\0"):
        key, sep, value = item.decode(errors="replace").partition("=")
        if sep and key:
            env[key] = value
    return env


def find_tool(project: HlsProject, step: SynthStep = SynthStep.CSYNTH, settings: Path | str | None = None,
              env: Optional[Mapping[str, str]] = None) -> HlsTool:
    """The tool for ``project`` (``find_tool_for_backend``)."""
    return find_tool_for_backend(project.backend, step, settings, env)


def find_tool_for_backend(backend: str, step: SynthStep = SynthStep.CSYNTH, settings: Path | str | None = None,
                          env: Optional[Mapping[str, str]] = None) -> HlsTool:
    """The first tool of ``TOOLS_BY_BACKEND[backend]`` on PATH (of ``settings``' environment when
    given). ``vsynth`` also needs ``vivado``. Raises ``ToolNotFound`` naming what it looked for."""
    backend = str(backend).lower()
    if backend not in TOOLS_BY_BACKEND:
        raise ConfigError(f"backend '{backend}' is not one hcp-fpga synth runs; it runs {', '.join(sorted(TOOLS_BY_BACKEND))}")
    environment = dict(env if env is not None else (settings_environment(settings) if settings else os.environ))
    search = environment.get("PATH", "")
    names = TOOLS_BY_BACKEND[backend]
    where = f"the PATH of {settings}" if settings else "PATH"
    fix = ("pass --tool-settings /path/to/Xilinx/<tool>/<version>/settings64.sh, or put the tool on PATH; "
           "hcp-fpga estimate works without it")
    found = next(((n, p) for n in names if (p := shutil.which(n, path=search))), None)
    if found is None:
        raise ToolNotFound(f"no vendor HLS tool for a {backend} project: looked for {', '.join(names)} on {where}; {fix}")
    if step is SynthStep.VSYNTH and shutil.which(LOGIC_SYNTHESIS_TOOL, path=search) is None:
        raise ToolNotFound(f"logic synthesis (--step vsynth) runs '{LOGIC_SYNTHESIS_TOOL}', not found on {where}; {fix}")
    return HlsTool(found[0], found[1], environment)
