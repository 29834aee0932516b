"""``report.html``: one self-contained page (no network: plots are embedded PNGs) for a person to read
what a run did. It only presents results other modules computed; it computes none itself.

Sources, all optional except one: ``result.json`` + ``history.json`` (an optimize run), an
``estimate.json``, ``hls_project/csim.json`` and the HLS/synthesis reports of ``hls_project``.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import json
from pathlib import Path
from typing import Optional

from hcp_fpga.errors import ConfigError
from hcp_fpga.outputs import write_text_atomic
from hcp_fpga.vocab import BUDGETED

RESOURCES = BUDGETED
LABEL = {"dsp": "DSP", "bram18": "BRAM18", "lut": "LUT", "ff": "FF", "uram": "URAM"}


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: list[dict]) -> Optional[str]:
    """Accuracy and each resource against its budget, per round (accepted designs)."""
    rows = [r for r in history if r.get("accepted") and "estimate" in r]
    if len(rows) < 1:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, 5, figsize=(17, 3.2))
    it = [r["iteration"] for r in rows]
    # markers, not lines: with a beam of several designs, consecutive rows are different lineages
    axes[0].plot(it, [r["accuracy"] for r in rows], "o", color="tab:green")
    axes[0].set_title("validation accuracy")
    axes[0].set_xlabel("iteration")
    for ax, res in zip(axes[1:], RESOURCES):
        ax.plot(it, [r["estimate"][res] for r in rows], "o", label="estimate")
        ax.axhline(rows[-1]["budget"][res], color="tab:red", ls="--", label="budget")
        ax.set_yscale("log")
        ax.set_title(f"{LABEL[res]} (estimate)")
        ax.set_xlabel("iteration")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def plot_layer_utilization(estimate: dict, budget: dict) -> Optional[str]:
    """Per-layer share of each board resource, stacked."""
    layers = [l for l in estimate.get("layers", []) if any(l[r] for r in RESOURCES)]
    if not layers or not budget:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 3.6))
    bottom = [0.0] * len(RESOURCES)
    for layer in layers:
        values = [100.0 * layer[r] / budget[r] if budget.get(r) else 0.0 for r in RESOURCES]
        ax.bar([LABEL[r] for r in RESOURCES], values, bottom=bottom, label=layer["name"])
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_ylabel("% of the board (estimate)")
    ax.legend(fontsize=7, ncol=2, bbox_to_anchor=(1.01, 1), loc="upper left")
    ax.set_title("per-layer utilization")
    fig.tight_layout()
    return _png(fig)


def plot_sparsity_bits(per_layer: list[dict]) -> Optional[str]:
    if not per_layer:
        return None
    plt = _plt()
    fig, ax1 = plt.subplots(figsize=(7, 3))
    names = [p["layer"] for p in per_layer]
    ax1.bar(names, [100 * p["sparsity"] for p in per_layer], color="tab:gray")
    ax1.set_ylabel("zero weights %")
    ax1.set_ylim(0, 100)  # a fraction: 0 % zero shows as an empty bar, not a -0.04..0.04 axis
    ax2 = ax1.twinx()
    ax2.plot(names, [p["weight_bits"] or 0 for p in per_layer], "o-", color="tab:orange", label="weight bits")
    ax2.set_ylabel("weight bits (0 = float)")
    ax1.set_title("sparsity and bits per layer")
    fig.tight_layout()
    return _png(fig)


def plot_pareto(history: list[dict], front: list[dict], chosen: Optional[int]) -> Optional[str]:
    """Every evaluated design: validation accuracy against LUT + 55 x DSP and against EBOPs, the
    Pareto front (all axes: pareto.json) marked, the chosen design circled."""
    rows = [r for r in history if "estimate" in r and r.get("point") is not None]
    if len(rows) < 2:
        return None
    plt = _plt()
    on_front = {p["point"] for p in front}
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, (label, cost) in zip(axes, (("LUT + 55 x DSP (estimate)", lambda r: r["estimate"]["lut"] + 55 * r["estimate"]["dsp"]),
                                        ("EBOPs", lambda r: r.get("ebops") or 0.0))):
        for group, style in ((False, dict(color="tab:gray", s=14, label="evaluated")),
                             (True, dict(color="tab:blue", s=26, label="Pareto front (all axes)"))):
            pts = [(cost(r), r["accuracy"]) for r in rows if (r["point"] in on_front) == group]
            if pts:
                ax.scatter(*zip(*pts), **style)
        best = [(cost(r), r["accuracy"]) for r in rows if r["point"] == chosen]
        if best:
            ax.scatter(*zip(*best), s=120, facecolors="none", edgecolors="tab:red", label="chosen")
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("validation accuracy")
    axes[0].legend(fontsize=8)
    axes[0].set_title("every evaluated design")
    fig.tight_layout()
    return _png(fig)


def plot_sweep(rows: list[dict]) -> Optional[str]:
    """Per board (and clock): the share of each budgeted resource the chosen design takes, and its
    latency; boards where it did not fit are hatched."""
    if not rows:
        return None
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.6), gridspec_kw={"width_ratios": [3, 1]})
    labels = [r["out_dir"] for r in rows]
    width = 0.8 / len(RESOURCES)
    for i, res in enumerate(RESOURCES):
        values = [100 * (r["utilization"].get(res) or 0.0) for r in rows]
        bars = ax1.bar([x + i * width for x in range(len(rows))], values, width, label=LABEL[res])
        for bar, r in zip(bars, rows):
            if not r["fits"]:
                bar.set_hatch("//")
    ax1.set_xticks([x + width * (len(RESOURCES) - 1) / 2 for x in range(len(rows))], labels, rotation=20, ha="right")
    ax1.set_ylabel("% of the board (estimate)")
    ax1.legend(fontsize=8)
    ax1.set_title("utilization of the chosen design (hatched: does not fit)")
    ax2.bar(labels, [r["latency_ns"] or 0.0 for r in rows], color="tab:purple")
    ax2.set_ylabel("latency ns (estimate)")
    ax2.tick_params(axis="x", rotation=20)
    fig.tight_layout()
    return _png(fig)


def build_sweep_report(out_dir: Path | str) -> Path:
    """report.html of a sweep: one table and one plot over the boards (each run has its own report)."""
    out_dir = Path(out_dir)
    rows = _load(out_dir / "sweep.json")
    table = [{"board": r["board"], "clock ns": r["clock_ns"], "fits": r["fits"], "val accuracy": r["val_accuracy"],
              "test accuracy": r["test_accuracy"], "csim accuracy": r["csim_accuracy"],
              **{f"{LABEL[k]} %": 100 * (r["utilization"].get(k) or 0.0) for k in RESOURCES},
              "latency": r["latency_cycles"], "settings": r["settings"],
              "run": f"<a href='{html.escape(r['out_dir'])}/report.html'>{html.escape(r['out_dir'])}</a>"} for r in rows]
    columns = ["board", "clock ns", "fits", "val accuracy", "test accuracy", "csim accuracy",
               *[f"{LABEL[k]} %" for k in RESOURCES], "latency", "settings"]
    links = "".join(f"<li>{t['run']}</li>" for t in table)
    plot = plot_sweep(rows)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>hcp_fpga sweep: {html.escape(out_dir.name)}</title>"
            f"<style>{CSS}</style><script>{SCRIPT}</script></head><body><h1>hcp_fpga sweep: {html.escape(out_dir.name)}</h1>"
            "<p class='note'>One optimize run per board (and clock); estimates are estimates (docs/estimator.md); "
            "accuracies: validation (decisions) and test (reported).</p>"
            + _table(table, columns) + (f"<img alt='sweep' src='{plot}'>" if plot else "") + f"<h2>Runs</h2><ul>{links}</ul>"
            + "</body></html>")
    path = out_dir / "report.html"
    write_text_atomic(path, page)
    return path


def plot_estimate_vs_report(rows: list[dict]) -> Optional[str]:
    points = [r for r in rows if r["csynth"] and r["estimate"] is not None and r["resource"] in RESOURCES]
    if not points:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for res in RESOURCES:
        pts = [(p["csynth"], p["estimate"]) for p in points if p["resource"] == res]
        if pts:
            ax.scatter(*zip(*pts), label=LABEL[res], s=18)
    lo = min(min(p["csynth"], p["estimate"]) for p in points if p["estimate"] > 0) if points else 1
    hi = max(max(p["csynth"], p["estimate"]) for p in points)
    ax.plot([max(lo, 1), hi], [max(lo, 1), hi], "k--", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("HLS report")
    ax.set_ylabel("estimate")
    ax.legend(fontsize=8)
    ax.set_title("estimate vs HLS report")
    fig.tight_layout()
    return _png(fig)


def plot_synthesis(checks: list[dict]) -> Optional[str]:
    """Estimate vs the vendor's report for each design the run synthesized (log scale)."""
    if not checks:
        return None
    plt = _plt()
    shown = ("dsp", "lut", "ff", "bram18")
    fig, axes = plt.subplots(1, len(shown), figsize=(10, 3))
    labels = [f"p{c['point']}" + (" (final)" if c.get("final") else "") for c in checks]
    x = range(len(checks))
    for ax, r in zip(axes, shown):
        ax.plot(x, [max(c["estimate"][r], 0.5) for c in checks], "o--", label="estimate (as the search had it)")
        ax.plot(x, [max(c["real"][r], 0.5) for c in checks], "s-", label="real report")
        ax.set_yscale("log")
        ax.set_title(LABEL[r])
        ax.set_xticks(list(x))
        ax.set_xticklabels(labels, rotation=45, fontsize=7)
    axes[0].legend(fontsize=7)
    fig.suptitle("estimate vs real report, per synthesized design", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def _synthesis_section(synthesis: dict) -> str:
    if not synthesis.get("requested"):
        return ""
    if not synthesis.get("tool_found"):
        return ("<h2>Estimate vs real (vendor synthesis)</h2><p class='note'>Requested, but no vendor tool was found: "
                f"{html.escape(str(synthesis.get('unavailable')))}. Every number in this report is an estimate.</p>")
    rows = [{"point": c["point"], "round": c["round"], "final": c.get("final"), "tool": c.get("tool"), "step": c["step"],
             "fits (real)": c["fits"], **{LABEL[r]: f"{c['estimate'][r]:,.0f} / {c['real'][r]:,.0f}" for r in RESOURCES},
             "cycles": f"{c['estimate']['latency_cycles']} / {c['real']['latency_cycles']}"} for c in synthesis.get("checks", [])]
    note = ("<p class='note'>Each cell: the estimate the search had for the design / the vendor's report. A real "
            "report wins for its design and its ratio corrects every later estimate of the run. The verdict comes from "
            f"the {html.escape(synthesis.get('verdict_from', 'estimate'))}.</p>")
    return "<h2>Estimate vs real (vendor synthesis)</h2>" + note + _table(
        rows, ["point", "round", "final", "tool", "step", "fits (real)"] + [LABEL[r] for r in RESOURCES] + ["cycles"])


def _table(rows: list[dict], columns: list[str]) -> str:
    def cell(v):
        if isinstance(v, float):
            return f"{v:,.4g}" if abs(v) < 10 else f"{v:,.0f}"
        return html.escape("-" if v is None else str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _per_layer_model(out_dir: Path, result: dict) -> list[dict]:
    """Sparsity and weight bits of each multiplier layer: from the run's per-layer changes (zeros as
    the hardware holds them, after quantization), else read from the saved model's own JSON and HDF5
    weights (no TensorFlow: a report is regenerated in a second, not after a 5 s import)."""
    if result.get("layer_changes"):
        return [{"layer": c["layer"], "sparsity": c["zero_after"], "weight_bits": c["bits_after"]}
                for c in result["layer_changes"]]
    model_dir = out_dir / "model"
    if not (model_dir / "model.json").exists():
        return []
    import h5py
    import numpy as np

    from hcp_fpga.estimator.graph import nodes_from_json
    from hcp_fpga.estimator.spec import MULT_BASES

    weights_file = model_dir / "model_weights.h5"
    with h5py.File(weights_file, "r") if weights_file.exists() else contextlib.nullcontext() as weights:
        nodes = nodes_from_json(json.loads((model_dir / "model.json").read_text()), weights)
    bits = result.get("bits") or {}
    return [{"layer": n.name, "sparsity": float(np.mean(np.asarray(n.weights[0]) == 0)),
             "weight_bits": (bits.get(n.name) or [None])[0]} for n in nodes if n.base in MULT_BASES and n.weights]


CSS = """body{font-family:system-ui,sans-serif;margin:24px;color:#222}h1{font-size:22px}h2{font-size:17px;margin-top:28px}
.card{border:1px solid #ccc;border-radius:8px;padding:12px 16px;display:inline-block;margin:4px 8px 4px 0;vertical-align:top}
.fits{color:#1a7f37;font-weight:bold}.nofit{color:#b42318;font-weight:bold}table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}
img{max-width:100%;margin:6px 0}.note{color:#666;font-size:13px}"""

# marks, for tests and people, whether every embedded plot decoded
SCRIPT = """window.addEventListener('load',function(){var imgs=[].slice.call(document.images);
var ok=imgs.every(function(i){return i.complete&&i.naturalWidth>0});
document.body.setAttribute('data-images',imgs.length);document.body.setAttribute('data-images-ok',ok?'yes':'no');});"""


# what hcp-fpga writes in the files a report is built from: (top-level type, keys holding resource
# counts (a mapping of numbers), keys holding lists of mappings); only what every writer writes
_DOCS = {"result.json": (dict, ("estimate",), ()), "estimate.json": (dict, (), ("layers",)), "history.json": (list, (), ()),
         "pareto.json": (list, (), ()), "csim.json": (dict, (), ()), "sweep.json": (list, (), ())}


def _load(path: Path):
    """The JSON document ``path`` (one of ``_DOCS``) as hcp-fpga wrote it, or None when absent; a
    ConfigError naming the file when it is not shaped so (truncated, hand-edited, of another kind)."""
    if not path.exists():
        return None
    kind, counts, lists = _DOCS[path.name]

    def damaged(why: str):
        raise ConfigError(f"{why}: it is not as hcp-fpga wrote it; re-run the command that wrote it")

    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        damaged(f"'{path}' is not readable JSON ({type(exc).__name__})")
    if not isinstance(doc, kind):
        damaged(f"'{path}' holds a {type(doc).__name__}, not a {kind.__name__}")
    if not all(isinstance(item, dict) for item in (doc if isinstance(doc, list) else [doc])):
        damaged(f"'{path}' holds entries that are not mappings")
    for key in counts:
        if not isinstance(doc.get(key), dict) or not all(isinstance(doc[key].get(r), (int, float)) for r in RESOURCES):
            damaged(f"'{path}': its '{key}' is not a mapping of resource counts")
    for key in lists:
        rows = doc.get(key)
        if not isinstance(rows, list) or not all(isinstance(r, dict) and all(isinstance(r.get(k), (int, float))
                                                                             for k in RESOURCES) for r in rows):
            damaged(f"'{path}': its '{key}' is not a list of per-layer resource counts")
    if path.name == "estimate.json" and not all(isinstance(doc.get(r), (int, float)) for r in RESOURCES):
        damaged(f"'{path}' lacks its resource totals")
    return doc


def build_report(out_dir: Path | str, title: Optional[str] = None) -> Path:
    """Write ``out_dir/report.html`` from what the folder holds; returns its path. The files it is
    built from are checked as they are read (``_load``): one ConfigError naming a file not shaped
    as hcp-fpga writes it, before anything is written."""
    from hcp_fpga.estimator.compare import compare
    from hcp_fpga.estimator.reports import project_reports

    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise ConfigError(f"'{out_dir}' is not a folder; pass the output folder of hcp-fpga optimize (or a project)")
    if (out_dir / "sweep.json").exists():
        return build_sweep_report(out_dir)
    project = out_dir / "hls_project" if (out_dir / "hls_project").is_dir() else out_dir
    result, estimate, csim = _load(out_dir / "result.json"), _load(out_dir / "estimate.json"), _load(project / "csim.json")
    history, front = _load(out_dir / "history.json") or [], _load(out_dir / "pareto.json") or []
    if result is None and estimate is None and csim is None:
        raise ConfigError(f"nothing to report in '{out_dir}' (no result.json, estimate.json or csim.json); "
                          "run hcp-fpga optimize, or estimate/csim with --html")
    budget = (result or {}).get("budget", {})
    sections = []
    cards = []
    if result:
        verdict = (f"<span class='fits'>fits</span>, binding {LABEL.get(result['binding'], result['binding'])}"
                   if result["fits"] else
                   f"<span class='nofit'>does not fit</span>: over on {', '.join(result['over']) or 'latency'}")
        judged = (result.get("synthesis") or {}).get("verdict_from")
        checks = (result.get("synthesis") or {}).get("checks") or []
        if judged == "real report" and checks:
            verdict += f" (by the real report of {html.escape(str(checks[-1].get('tool')))})"
        cards.append(f"<div class='card'><b>{html.escape(result['project'])}</b><br>board {html.escape(result['board'])} "
                     f"({html.escape(result['part'])})<br>clock {result['settings'].get('clock_ns')} ns<br>{verdict}</div>")
        acc = (f"baseline {result['baseline_accuracy']:.4f}<br>Keras {result['keras_accuracy']:.4f}<br>C simulation "
               f"{result['csim_accuracy']:.4f}" if result.get("csim_accuracy") is not None else "")
        cards.append(f"<div class='card'><b>test accuracy</b> (reported; decisions used validation)<br>{acc}</div>")
        lat_ns = f" = {result['latency_ns']:.0f} ns" if result.get("latency_ns") else ""
        cards.append(f"<div class='card'><b>latency (estimate)</b><br>{result['latency_cycles']} cycles{lat_ns}<br>"
                     f"II {result['ii']} cycles</div>")
        res_rows = [{"resource": LABEL[r], "estimate": result["estimate"][r], "budget (after headroom)": budget.get(r),
                     "% of budget": 100.0 * result["estimate"][r] / budget[r] if budget.get(r) else None} for r in RESOURCES]
        cards.append("<div class='card'><b>resources (estimate vs budget)</b>" +
                     _table(res_rows, ["resource", "estimate", "budget (after headroom)", "% of budget"]) + "</div>")
    elif csim:
        cards.append(f"<div class='card'><b>C simulation</b><br>{csim.get('n_samples')} samples on {html.escape(str(csim.get('data')))}"
                     f"<br>agreement {csim.get('argmax_agreement'):.4f}</div>")
    sections.append("<h2>Summary</h2>" + "".join(cards))
    plots = []
    if history:
        plots.append(("history", plot_history(history)))
    if estimate:
        board_budget = budget
        if not board_budget and result is None:
            from hcp_fpga.board_catalog import board_for_part

            board = board_for_part(estimate.get("part"))
            board_budget = board.budget() if board else {}
        plots.append(("layers", plot_layer_utilization(estimate, board_budget)))
    if result:
        plots.append(("bits", plot_sparsity_bits(_per_layer_model(out_dir, result))))
    synthesis = (result or {}).get("synthesis") or {}
    if synthesis.get("checks"):
        plots.append(("synthesis", plot_synthesis(synthesis["checks"])))
    if history and front:
        plots.append(("pareto", plot_pareto(history, front, (result or {}).get("point"))))
    reports = project_reports(project) if project.is_dir() else {}
    comparison = []
    if reports and estimate:
        from hcp_fpga.errors import HcpError
        from hcp_fpga.estimator.model import estimate_project

        try:
            est_obj = estimate_project(project)
        except HcpError:  # the report still renders without the comparison
            est_obj = None
        if est_obj is not None:
            comparison = [r.as_dict() for r in compare(est_obj, reports)]
            plots.append(("vs report", plot_estimate_vs_report(comparison)))
    images = "".join(f"<img alt='{html.escape(name)}' src='{src}'>" for name, src in plots if src)
    if images:
        sections.append("<h2>Plots</h2>" + images)
    if estimate:
        layer_rows = [{"layer": l["name"], "kind": l["kind"], "DSP": l["dsp"], "BRAM18": l["bram18"], "LUT": l["lut"],
                       "FF": l["ff"], "cycles": l["latency_cycles"], "II": l["ii"]} for l in estimate["layers"]]
        sections.append("<h2>Per-layer estimate</h2><p class='note'>Analytical estimate, not a vendor report; its "
                        "measured error is in docs/estimator.md.</p>" +
                        _table(layer_rows, ["layer", "kind", "DSP", "BRAM18", "LUT", "FF", "cycles", "II"]))
    if comparison:
        sections.append("<h2>Estimate vs real reports</h2>" + _table(
            comparison, ["scope", "resource", "estimate", "csynth", "error_vs_csynth_pct", "vsynth", "error_vs_vsynth_pct"]))
    if synthesis:
        sections.append(_synthesis_section(synthesis))
    if result and result.get("layer_changes"):
        change_rows = [{"layer": c["layer"], "units": f"{c['units_before']} -> {c['units_after']}",
                        "weights": f"{c['weights_before']:,} -> {c['weights_after']:,}",
                        "zero %": f"{100 * c['zero_before']:.0f} -> {100 * c['zero_after']:.0f}",
                        "weight bits": f"{c['bits_before'] or 'float'} -> {c['bits_after'] or 'float'}" + (
                            " (units: " + ", ".join(f"{n} at {b}" for b, n in sorted(c["unit_bits_after"].items(), reverse=True))
                            + ")" if c.get("unit_bits_after") else ""),
                        "accumulator": c.get("accum_after") or "inferred",
                        "strategy / RF": f"{c['strategy_before']} {c['reuse_before']} -> {c['strategy_after']} {c['reuse_after']}"}
                       for c in result["layer_changes"]]
        sections.append("<h2>What changed per layer (baseline -> chosen design)</h2>" + _table(
            change_rows, ["layer", "units", "weights", "zero %", "weight bits", "accumulator", "strategy / RF"]))
    if front:
        front_rows = [{"point": p["point"], "action": p["action"], "val accuracy": p["accuracy"], "DSP": p["dsp"],
                       "BRAM18": p["bram18"], "LUT": p["lut"], "FF": p["ff"], "EBOPs": p["ebops"],
                       "latency": p["latency_cycles"], "fits": p["meets_targets"]} for p in front]
        sections.append("<h2>Pareto front</h2><p class='note'>Every design here is best on some trade-off; export one "
                        "with <code>hcp-fpga export-point OUT_DIR N</code>.</p>" + _table(
                            front_rows, ["point", "action", "val accuracy", "DSP", "BRAM18", "LUT", "FF", "EBOPs", "latency", "fits"]))
    if history:
        hist_rows = [{"iteration": r.get("iteration"), "action": r.get("action"), "accepted": r.get("accepted"),
                      "accuracy": r.get("accuracy"), "note": r.get("note", ""),
                      **{LABEL[k]: (r.get("estimate") or {}).get(k) for k in RESOURCES}} for r in history]
        sections.append("<h2>Iterations</h2>" + _table(hist_rows, ["iteration", "action", "accepted", "accuracy", "DSP",
                                                                   "BRAM18", "LUT", "FF", "note"]))
    name = title or (result or {}).get("project") or out_dir.name
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>hcp_fpga report: {html.escape(name)}</title>"
            f"<style>{CSS}</style><script>{SCRIPT}</script></head><body><h1>hcp_fpga report: {html.escape(name)}</h1>"
            + "".join(sections) + "</body></html>")
    path = out_dir / "report.html"
    write_text_atomic(path, page)
    return path
