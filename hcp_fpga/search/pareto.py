"""The Pareto front of every evaluated design: no other design is at least as good on every axis
and better on one. Axes: validation accuracy (higher is better), each budgeted resource, EBOPs,
latency and II (lower is better). An analysis: it returns data and changes nothing."""

from __future__ import annotations

from hcp_fpga.vocab import BUDGETED

AXES = ("accuracy", *BUDGETED, "ebops", "latency_cycles", "ii")


def _costs(trial) -> tuple:
    m = trial.measure
    return (-m.val_accuracy, *(m.resources[r] for r in BUDGETED), m.ebops, m.latency_cycles, m.ii)


def front(trials: list) -> list:
    """The non-dominated trials (the first of identical ones), in the order given."""
    costs = [_costs(t) for t in trials]
    out = []
    for i, c in enumerate(costs):
        dominated = any(all(o <= x for o, x in zip(other, c)) and (other != c or j < i)
                        for j, other in enumerate(costs) if j != i)
        if not dominated:
            out.append(trials[i])
    return out


def front_rows(trials: list) -> list[dict]:
    """pareto.json rows: the point id, the action that made it, and every axis."""
    rows = []
    for t in front(trials):
        m = t.measure
        rows.append({"point": t.point.id, "action": t.point.action, "round": t.round, "accuracy": m.val_accuracy,
                     **{r: m.resources[r] for r in BUDGETED}, "ebops": m.ebops, "latency_cycles": m.latency_cycles,
                     "ii": m.ii, "meets_targets": m.meets_targets, "objective": m.objective})
    return rows
