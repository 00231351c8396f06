"""PNG pictures of runs and evaluations with matplotlib (the optional ``plot`` extra, imported only here).

:func:`runs_png` draws one or two runs: the loss per step, the reward margin per step (when the trainer logs
one), and each run's per-pair margins before and after. :func:`eval_png` draws an evaluation's per-pair margins
(against a baseline's when one is given). Taught pairs (the preference data) and held-out pairs (``--heldout``)
have their own colours. matplotlib's object API and the Agg canvas are used (no pyplot, no global state, no
display needed); the bytes are written atomically. A missing extra is :class:`PlotExtraMissingError` (exit 2).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .summary import PairMargin, curves, has_history, pair_margins

INSTALL = "pip install 'agent-ft[plot]'"
#: (before, after) colours of taught and held-out pairs.
COLOURS = {"taught": ("#9ecae1", "#2171b5"), "held-out": ("#fdd0a2", "#d94801")}
LINE_COLOURS = ("#2171b5", "#d94801", "#238b45", "#6a51a3")


class PlotExtraMissingError(UsageError):
    """``--plot`` without matplotlib installed."""


def require_matplotlib() -> None:
    """Raise :class:`PlotExtraMissingError` unless matplotlib can be imported (checked before any work)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotExtraMissingError(f"--plot needs matplotlib, which is not installed: {INSTALL}") from None


def _figure(panels: int) -> Any:
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.8 * panels), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _curve_panel(ax: Any, title: str, unit: str, lines: Sequence[tuple[str, list[float], list[float], bool]]) -> None:
    """One line per run; a run without its per-step history is dashed between its first and last logged step."""
    for n, (label, xs, ys, full) in enumerate(lines):
        ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.6, color=LINE_COLOURS[n % len(LINE_COLOURS)],
                linestyle="-" if full else "--", label=label if full else f"{label} (first and last step only)")
    from matplotlib.ticker import MaxNLocator

    ax.set_title(title)
    ax.set_xlabel("training step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
    ax.set_ylabel(unit)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")


def _pairs_panel(ax: Any, title: str, unit: str, pairs: Sequence[PairMargin], names: tuple[str, str]) -> None:
    """Two bars per pair (``names``: before, after), taught and held-out pairs in their own colours."""
    width = 0.38
    shown: set[str] = set()
    single = all(p.before is None for p in pairs)  # one state only (eval without a baseline): one centred bar
    for x, pair in enumerate(pairs):
        light, dark = COLOURS.get(pair.group, COLOURS["taught"])
        bars = ((-width / 2, pair.before, light, names[0]), (0.0 if single else width / 2, pair.after, dark, names[1]))
        for offset, value, colour, when in bars:
            if value is None:
                continue
            label = f"{pair.group}, {when}"
            ax.bar(x + offset, value, width, color=colour, edgecolor="#333333", linewidth=0.5,
                   label=None if label in shown else label)
            shown.add(label)
    ax.axhline(0, color="#333333", linewidth=0.8)
    if len(pairs) < 4:  # a few pairs: bars of their usual width, not stretched over the whole panel
        ax.set_xlim(-1.5, len(pairs) + 0.5)
    ax.set_xticks(range(len(pairs)), [f"{p.label}\n{p.group}" for p in pairs], fontsize=8)
    ax.set_title(title)
    ax.set_xlabel("preference pair (# = its index in its file)")
    ax.set_ylabel(unit)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="best", fontsize=8)


def runs_png(runs: Sequence[tuple[str, dict[str, Any]]], path: Path) -> None:
    """A picture of one run, or of runs side by side: (name, record) each; written atomically to ``path``."""
    from ..fsutil import write_output

    keys: list[tuple[str, str, str]] = []
    by_key: dict[str, list[tuple[str, list[float], list[float], bool]]] = {}
    for name, record in runs:
        for key, title, unit, xs, ys in curves(record):
            if key in ("loss", "rewards/margins"):
                if key not in by_key:
                    keys.append((key, title, unit))
                by_key.setdefault(key, []).append((name, xs, ys, has_history(record)))
    pair_sets = [(name, *pair_margins(record)) for name, record in runs]
    pair_sets = [p for p in pair_sets if p[1]]
    panels = len(keys) + len(pair_sets)
    if panels == 0:
        raise UsageError("nothing to plot: the run has no per-step history and no per-pair margins")
    fig = _figure(panels)
    axes = fig.subplots(panels, 1, squeeze=False)[:, 0]
    for ax, (key, title, unit) in zip(axes, keys, strict=False):
        _curve_panel(ax, f"{title} per training step", unit, by_key[key])
    for ax, (name, pairs, unit) in zip(axes[len(keys):], pair_sets, strict=True):
        _pairs_panel(ax, f"margin per pair before and after the update: {name}", unit, pairs, ("before", "after"))
    fig.suptitle("agent-ft run " + " vs ".join(f"{name} ({_what(record)})" for name, record in runs), fontsize=12)
    write_output(path, _png(fig), option="--plot")


def _what(record: dict[str, Any]) -> str:
    """``HFClient, dpo``: the client's class and the method, for a title."""
    client = record.get("client") if isinstance(record.get("client"), dict) else {}
    spec = str((client or {}).get("spec") or "?")
    return ", ".join(x for x in (spec.rsplit(":", 1)[-1], str(record.get("method") or "")) if x)


def eval_png(result: dict[str, Any], path: Path, baseline: dict[str, Any] | None = None) -> None:
    """A picture of an ``eval`` result (its ``--json`` dict): each pair's margin now, and in ``baseline`` (an
    earlier ``eval --json``, or ``update --eval --json``) when given; written atomically to ``path``."""
    from ..fsutil import write_output

    record = {"eval": {"before": baseline or {}, "after": result}}
    pairs, unit = pair_margins(record)
    if not pairs:
        raise UsageError("nothing to plot: no pair was evaluated")
    fig = _figure(1)
    ax = fig.subplots(1, 1)
    names = ("baseline", "now") if baseline else ("", "now")
    _pairs_panel(ax, "margin per preference pair" + (" against the baseline" if baseline else ""), unit, pairs, names)
    accuracy = result.get("accuracy")
    held = result.get("heldout") if isinstance(result.get("heldout"), dict) else None
    sub = f"taught pairs: accuracy {accuracy:.2f}" if isinstance(accuracy, (int, float)) else ""
    if held and isinstance(held.get("accuracy"), (int, float)):
        sub += f"; held-out pairs: accuracy {held['accuracy']:.2f}"
    fig.suptitle(f"agent-ft eval: {result.get('agent', '?')} ({result.get('client', '?')})\n{sub}", fontsize=11)
    write_output(path, _png(fig), option="--plot")

