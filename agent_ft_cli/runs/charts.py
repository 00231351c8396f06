"""Terminal charts of a run with plotext (imported here only, when ``runs show`` draws).

Each chart is built as text (:func:`line_chart`, :func:`pairs_chart`) at the width it is given: the terminal's
when stdout is one, else ``$COLUMNS`` or 100. Colour only on a colour terminal (never with ``NO_COLOR`` or when
piped); without colour each series gets its own marker letter, so the legend still tells them apart.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from typing import Any

from .summary import PairMargin

#: Markers per series when there is no colour (the legend shows them).
PLAIN_MARKERS = ("o", "x", "+", "*")
HEIGHT = 16


def chart_width(tty: bool) -> int:
    """Columns for a chart: the terminal's on a terminal, else ``$COLUMNS`` or 100 (40 at least, 200 at most)."""
    if tty:
        cols = shutil.get_terminal_size((100, 24)).columns
    else:
        raw = os.environ.get("COLUMNS", "")
        cols = int(raw) if raw.isdigit() else 100
    return max(40, min(cols, 200))


def _figure(width: int, color: bool) -> Any:
    import plotext

    fig = plotext.figure
    fig.clear()
    fig.plot_size(width, HEIGHT)
    fig.theme("simple" if color else "colorless")  # "simple": colours, no background
    return fig


def _finish(fig: Any, title: str, xlabel: str, ylabel: str, color: bool) -> str:
    import plotext

    fig.title(title)
    fig.label(xlabel, "x")
    fig.label(ylabel, "y")
    text = str(fig.build())
    fig.clear()
    return text if color else plotext.uncolorize(text)


def line_chart(
    title: str,
    xlabel: str,
    ylabel: str,
    lines: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    *,
    width: int,
    color: bool,
) -> str:
    """One chart of one or more (label, x, y) lines, as text."""
    fig = _figure(width, color)
    for n, (label, xs, ys) in enumerate(lines):
        marker = "braille" if color else PLAIN_MARKERS[n % len(PLAIN_MARKERS)]
        signal = fig.signal(list(xs), list(ys), marker=marker)
        signal.lines(True)
        if len(lines) > 1 or label:
            signal.label(label)
        fig.draw(signal)
    _legend_away(fig, lines)
    return _finish(fig, title, xlabel, ylabel, color)


def _legend_away(fig: Any, lines: Sequence[tuple[str, Sequence[float], Sequence[float]]]) -> None:
    """The legend in the right-hand corner the first line leaves free: top when it falls, bottom when it rises."""
    xs = [x for _, x_, _ in lines for x in x_]
    ys = [y for _, _, y_ in lines for y in y_]
    if not xs or not ys:
        return
    first = lines[0][2]
    falls = first[0] >= first[-1]
    fig.legend(x=max(xs), y=max(ys) if falls else min(ys), ha="right", va="top" if falls else "bottom", relative=True)


def pairs_chart(pairs: Sequence[PairMargin], unit: str, *, width: int, color: bool) -> str:
    """Each pair's margin before (o) and after (x) the update, taught pairs first, then held-out, as text; a dotted
    zero line marks where the chosen answer starts to win. Markers, not a legend, tell before from after (a legend
    would hide the first pairs)."""
    fig = _figure(width, color)
    xs = list(range(1, len(pairs) + 1))
    zero = fig.signal([0.5, len(pairs) + 0.5], [0.0, 0.0], marker=".")
    zero.lines(True)
    fig.draw(zero)
    for marker, values in (("o", [p.before for p in pairs]), ("x", [p.after for p in pairs])):
        points = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
        if points:
            signal = fig.signal([x for x, _ in points], [v for _, v in points], marker=marker)
            signal.lines(False)
            fig.draw(signal)
    fig.ruler("x").lim(0.5, len(pairs) + 0.5)
    step = max(1, len(pairs) // max(1, width // 12))
    ticks = xs[::step]
    fig.ruler("x").ticks(ticks, [f"{pairs[x - 1].label} {'h' if pairs[x - 1].group == 'held-out' else 't'}" for x in ticks])
    title = "margin per pair: o before, x after the update (. = 0)"
    return _finish(fig, title, "pair (t = taught, h = held-out)", "margin (nats)" if unit.startswith("log p") else "similarity diff.", color)
