"""Sessions shared among worker processes, rows out in the order one process writes them.

``export --jobs N`` with many sessions: a ``multiprocessing`` pool's ordered ``imap`` hands each worker a few
sessions at a time; a worker builds each session's rows with its own :class:`~.exporter.Exporter` (the same code
as a single process), encodes them as the single process does (:func:`~.formats.row_line` per JSON
Lines row), and sends them back with what it would have told the summary (conversations, skipped sessions,
warnings, in order). The parent replays those events on its own exporter, so the rows, the summary and the
warnings are the single process's, byte for byte. A session a worker cannot finish (an error, ``strict``) is
built again by the parent, which then raises exactly what a single process raises.

Without preference pairs only: tying decides every pair over every session at once.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .exporter import Exporter
from .formats import row_line
from .options import ExportOptions

_STATE: dict[str, Any] = {}


@dataclass
class _Done:
    """One session's result from a worker."""

    path: str
    rows: Any = None  # bytes (JSON Lines) or a list of row dicts; None when the worker could not finish
    events: list[tuple[Any, ...]] = field(default_factory=list)  # ("warn", text) / ("skip", label, reason, keys, hint)
    sessions: int = 0
    conversations: int = 0
    count: int = 0


def _init(options: ExportOptions, encoded: bool) -> None:
    # the parent handles Ctrl-C and SIGTERM (and ends the pool); a worker just stops
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _STATE["options"], _STATE["encoded"] = options, encoded


def _one(path: str) -> _Done:
    done = _Done(path)
    events = done.events
    exporter = Exporter(
        _STATE["options"],
        None,
        on_warning=lambda text: events.append(("warn", str(text))),
        on_skip=lambda *skip: events.append(("skip", *skip)),  # replayed by the parent, in order
    )
    try:
        rows = list(exporter.rows([Path(path)]))
    except Exception:  # the parent builds this session again and raises what one process raises
        return _Done(path)
    done.rows = b"".join(map(row_line, rows)) if _STATE["encoded"] else rows
    done.sessions, done.conversations, done.count = (
        exporter.summary.sessions, exporter.summary.conversations, exporter.summary.rows
    )
    return done


def parallel_rows(
    exporter: Exporter, sessions: list[Path], jobs: int, *, encoded: bool, on_session: Callable[[Path], None]
) -> Iterator[Any]:
    """The rows of ``sessions`` (no preference pairs) from ``jobs`` processes, in order, ``exporter.summary`` and its
    warnings kept as one process keeps them. ``encoded``: JSON Lines (one ``bytes`` per session), else dicts."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    chunk = max(1, min(64, len(sessions) // (jobs * 8)))
    summary = exporter.summary
    pool = context.Pool(jobs, initializer=_init, initargs=(exporter.options, encoded))
    try:
        for done in pool.imap(_one, [os.fspath(p) for p in sessions], chunksize=chunk):
            path = Path(done.path)
            if done.rows is None:  # rebuilt here: its rows, or the error one process raises
                again = exporter.rows([path])
                yield from (map(row_line, again) if encoded else again)
                on_session(path)
                continue
            for event in done.events:
                if event[0] == "warn":
                    exporter.warn(event[1])
                else:
                    exporter.skip_session(*event[1:])
            summary.sessions += done.sessions
            summary.conversations += done.conversations
            summary.rows += done.count
            if encoded:
                if done.rows:
                    yield done.rows
            else:
                yield from done.rows
            on_session(path)
        pool.close()
    finally:
        pool.terminate()
        pool.join()
