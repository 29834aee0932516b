"""STAND-IN FOR A VENDOR HLS EXECUTABLE (vivado_hls / vitis_hls / vitis-run). NOT A VENDOR TOOL.

The tests install this script under the vendor's executable name on a private PATH to exercise
hcp-fpga's synth plumbing (tool discovery, the command line, log streaming, report reading,
failure handling) where no Vivado/Vitis exists. It synthesizes nothing: it copies a REAL report
that a real tool wrote for a real project in ../shared/reports (STANDIN_REPORT_FROM, default the
KERAS_3layer jet tagger on VU9P, Vivado HLS 2019.2, with its Vivado logic-synthesis report) into
the project it is run on, so every number that comes out is a real vendor number for *that* design,
not for the project being "synthesized".

STANDIN_MODE: ok (default) | fail (exit 1 with an ERROR line) | truncate (exit 0, report cut
short) | silent (exit 0, no report) | kill (killed by SIGKILL mid-run) | hang (sleeps; for timeouts)
STANDIN_ARGS: a file the stand-in appends its argv to (one JSON list per run).
"""

import json
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path

SOURCE = Path(os.environ.get("STANDIN_REPORT_FROM", ""))
MODE = os.environ.get("STANDIN_MODE", "ok")


def say(line: str) -> None:
    print(line, flush=True)


def main() -> int:
    if os.environ.get("STANDIN_ARGS"):
        with open(os.environ["STANDIN_ARGS"], "a") as fh:
            fh.write(json.dumps([Path(sys.argv[0]).name] + sys.argv[1:]) + "\n")
    tcl = Path("project.tcl").read_text()
    name = re.search(r'set project_name "([^"]+)"', tcl).group(1)
    options = " ".join(sys.argv[1:])
    if Path("build_opt.tcl").exists() and "vitis" in Path(sys.argv[0]).name:
        options = Path("build_opt.tcl").read_text()
    vsynth = bool(re.search(r"vsynth[= ]+1", options))
    say("****** STAND-IN for Vivado(TM) HLS (test double; copies a real report, synthesizes nothing)")
    say(f"INFO: [HLS 200-10] Analyzing design file 'firmware/{name}.cpp' ...")
    if MODE == "fail":
        say("ERROR: [HLS 200-70] Compilation errors found: In file included from firmware/myproject.cpp:1:")
        return 1
    say("INFO: [XFORM 203-502] Unrolling all loops for pipelining in function 'nnet::dense_latency'.")
    say("INFO: [SCHED 204-11] Starting scheduling ...")
    say("INFO: [HLS 200-10] -- Implementing module 'dense_latency_0_0_0_0' ")
    report = Path(f"{name}_prj/solution1/syn/report")
    report.mkdir(parents=True, exist_ok=True)
    src = SOURCE / "myproject_prj" / "solution1" / "syn" / "report"
    if MODE == "kill":
        (report / f"{name}_csynth.xml").write_text((src / "myproject_csynth.xml").read_text()[:200])
        os.kill(os.getpid(), signal.SIGKILL)
    if MODE == "hang":
        time.sleep(120)
    if MODE == "silent":
        say("INFO: [HLS 200-111] Finished Command csynth_design")
        return 0
    say("INFO: [BIND 205-100] Starting micro-architecture generation ...")
    say("INFO: [RTGEN 206-100] Generating core module 'mul_16s_16s_26_1_1': 64 instance(s).")
    for f in src.iterdir():
        text = f.read_text(errors="replace").replace("myproject", name)
        if MODE == "truncate" and f.name in ("myproject_csynth.xml", "myproject_csynth.rpt"):
            text = text[: len(text) // 4]
        (report / f.name.replace("myproject", name)).write_text(text)
    say("***** C/RTL SYNTHESIS COMPLETED IN 0h0m1s *****")
    if vsynth:
        say("Command: synth_design -top myproject -part xcvu9p-flga2577-2-e")
        say("Starting synth_design")
        shutil.copy(SOURCE / "vivado_synth.rpt", "vivado_synth.rpt")
        say("report_utilization -file vivado_synth.rpt")
        say("***** VIVADO SYNTHESIS COMPLETED IN 0h0m1s *****")
    return 0


if __name__ == "__main__":
    sys.exit(main())
