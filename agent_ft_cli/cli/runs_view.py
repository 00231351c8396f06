"""How ``runs show`` and ``runs diff`` look: a field table (one column per run), the stats, then terminal charts."""

from __future__ import annotations

import os
import sys
from typing import Any

from ..jsonio import to_json
from ..runs import summary


def num(value: Any) -> str:
    """A table cell: ``-`` for None, a float to 4 significant digits (``runs`` lists and shows alike)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def arrow(a: Any, b: Any) -> str:
    return "-" if a is None and b is None else f"{num(a)} -> {num(b)}"


def _ref(ref: Any) -> str:
    if not isinstance(ref, dict):
        return "-"
    digest = ref.get("sha256")
    return f"{ref.get('path')} (sha256 {digest[:12]})" if isinstance(digest, str) else f"{ref.get('path')} (unreadable)"


def _accuracy(record: dict[str, Any], which: str) -> str:
    evaluation = record.get("eval") if isinstance(record.get("eval"), dict) else {}
    before, after = (evaluation or {}).get("before") or {}, (evaluation or {}).get("after") or {}
    if which == "heldout":
        before, after = before.get("heldout") or {}, after.get("heldout") or {}
    if not after:
        return "-"
    return arrow(before.get("accuracy"), after.get("accuracy"))


def fields(record: dict[str, Any], path: str) -> list[tuple[str, str]]:
    """The run's facts, one (name, text) per line of the table."""
    row = summary.row(record, path)
    client: dict[str, Any] = record["client"] if isinstance(record.get("client"), dict) else {}
    stats: dict[str, Any] = record["stats"] if isinstance(record.get("stats"), dict) else {}
    sessions: list[Any] = record["sessions"] if isinstance(record.get("sessions"), list) else []
    return [
        ("id", num(record.get("id"))),
        ("time (UTC)", num(record.get("time"))),
        ("record", path),
        ("client", num(client.get("spec"))),
        ("client args", to_json(client.get("args") or {}).decode()),
        ("update_model kwargs", to_json(record.get("kwargs") or {}).decode()),
        ("agent -> peer", f"{record.get('agent')} -> {record.get('peer')}"),
        ("sessions", "; ".join(_ref(s) for s in sessions) or "-"),
        ("prefs", _ref(record.get("prefs"))),
        ("held-out", _ref(record.get("heldout"))),
        ("method", num(record.get("method"))),
        ("steps", num(row["steps"])),
        ("seconds", num(record.get("seconds"))),
        ("loss first -> last", arrow(row["loss_first"], row["loss_last"])),
        ("margin before -> after", arrow(row["margin_before"], row["margin_after"])),
        ("pairs used", num(stats.get("pairs_used", stats.get("learned")))),
        ("eval accuracy", _accuracy(record, "pairs")),
        ("eval held-out accuracy", _accuracy(record, "heldout")),
        ("checkpoint", num(record.get("checkpoint")) if record.get("published") else "not published"),
    ]


def _scalar_stats(record: dict[str, Any]) -> dict[str, Any]:
    from .render import flatten

    stats = record.get("stats")
    return {k: v for k, v in flatten(stats) if isinstance(v, (int, float, str, bool))} if isinstance(stats, dict) else {}


def render_runs(runs: list[Any], *, charts: bool = True) -> None:
    """One run (its fields, its stats, its charts) or two side by side (fields, every scalar stat, shared charts)."""
    from .render import render_stats, stdout_console, table

    facts = [fields(r.data, str(r.path)) for r in runs]  # every run has the same fields, in order
    rows = [[name, *(run[i][1] for run in facts)] for i, (name, _) in enumerate(facts[0])]
    if len(runs) == 1:
        table(f"run {runs[0].id}", ["", "value"], rows)
        render_stats(stdout_console(), runs[0].data.get("stats"), title="stats")
    else:
        stats = [_scalar_stats(r.data) for r in runs]
        keys = [k for k in {**stats[0], **stats[1]}]
        rows += [[f"stats.{k}", *(num(s.get(k)) for s in stats)] for k in keys]
        table(f"runs {runs[0].id} vs {runs[1].id}", ["", runs[0].id, runs[1].id], rows)
    if charts:
        render_charts(runs)


def render_charts(runs: list[Any]) -> None:
    """The per-step curves (every run in one chart per value) and each run's per-pair margins, as text charts."""
    from ..runs.charts import chart_width, line_chart, pairs_chart
    from .render import plain_output

    color = not plain_output() and os.environ.get("NO_COLOR", "") == ""
    width = chart_width(tty=not plain_output())
    out: list[str] = []
    drawn: set[str] = set()
    curves = [(r.id if len(runs) > 1 else "", summary.curves(r.data)) for r in runs]  # the curves each run has
    for key, title, unit in summary.CURVES:
        lines = [(name, steps, values) for name, have in curves for k, _, _, steps, values in have if k == key]
        if lines:
            drawn.add(key)
            out.append(line_chart(f"{title} per step", "training step", unit, lines, width=width, color=color))
    for r in runs:
        pairs, unit = summary.pair_margins(r.data)
        if pairs:
            out.append((f"run {r.id}\n" if len(runs) > 1 else "") + pairs_chart(pairs, unit, width=width, color=color))
    if "loss" not in drawn:
        out.append("(no loss curve: the client logged fewer than two training steps)")
    sys.stdout.write("\n" + "\n\n".join(out) + "\n")
    sys.stdout.flush()
