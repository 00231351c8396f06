"""Sessions shared among worker processes, rows out in the order one process writes them.

``export --jobs N`` with many sessions: a ``multiprocessing`` pool's ordered ``imap`` hands each worker a batch of
sessions at a time (:data:`BATCH`); a worker builds each session's rows with its one :class:`~.exporter.Exporter`
(the same code as a single process, its header cache kept across sessions), encodes them as the single process does (:func:`~.formats.row_line` per JSON
Lines row), and sends them back with what it would have told the summary (conversations, skipped sessions,
warnings, in order). The parent replays those events on its own exporter, so the rows, the summary and the
warnings are the single process's, byte for byte. A session a worker cannot finish (an error, ``strict``) is
built again by the parent, which then raises exactly what a single process raises.

Without preference pairs only: tying decides every pair over every session at once.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from .exporter import Exporter
from .formats import row_line
from .options import ExportOptions

_STATE: dict[str, Any] = {}
#: Sessions a worker is handed at a time (fewer when there are few sessions, so both workers get some).
BATCH = 200


class _Done(NamedTuple):
    """One session's result from a worker (a tuple: a batch of them is pickled back cheaply)."""

    rows: Any = None  # bytes (JSON Lines) or a list of row dicts; None when the worker could not finish
    events: tuple[tuple[Any, ...], ...] = ()  # ("warn", text) / ("skip", label, reason, keys, hint)
    sessions: int = 0
    conversations: int = 0
    made: int = 0  # rows


_FAILED = _Done()


def _init(options: ExportOptions, encoded: bool) -> None:
    # the parent handles Ctrl-C and SIGTERM (and ends the pool); a worker just stops
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    events: list[tuple[Any, ...]] = []
    _STATE["events"], _STATE["encoded"] = events, encoded
    # one exporter per worker (what it learns of a header shape serves every session): its warnings and skips go
    # to the session's events, replayed by the parent in order; its summary is read as a difference per session
    _STATE["exporter"] = Exporter(
        options,
        None,
        on_warning=lambda text: events.append(("warn", str(text))),
        on_skip=lambda *skip: events.append(("skip", *skip)),
    )


def _one(path: str) -> _Done:
    exporter: Exporter = _STATE["exporter"]
    events: list[tuple[Any, ...]] = _STATE["events"]
    events.clear()
    summary = exporter.summary
    before = summary.sessions, summary.conversations, summary.rows
    try:
        rows = list(exporter.rows([path]))
    except Exception:  # the parent builds this session again and raises what one process raises
        return _FAILED
    return _Done(
        b"".join(map(row_line, rows)) if _STATE["encoded"] else rows,
        tuple(events),
        summary.sessions - before[0],
        summary.conversations - before[1],
        summary.rows - before[2],
    )


def _many(paths: list[str]) -> list[_Done]:
    """A batch of sessions, one :class:`_Done` each (one message to the parent per batch)."""
    return [_one(path) for path in paths]


def parallel_rows(
    exporter: Exporter, sessions: list[Path], jobs: int, *, encoded: bool, on_session: Callable[[Path], None]
) -> Iterator[Any]:
    """The rows of ``sessions`` (no preference pairs) from ``jobs`` processes, in order, ``exporter.summary`` and its
    warnings kept as one process keeps them. ``encoded``: JSON Lines (one ``bytes`` per session), else dicts."""
    # fork is cheapest; not once torch is loaded (a Python caller, a test run): its threads can hang a forked child
    method = "fork" if "torch" not in sys.modules else "forkserver"
    if method not in multiprocessing.get_all_start_methods():
        method = "spawn"
    context = multiprocessing.get_context(method)
    batch = max(1, min(BATCH, len(sessions) // (jobs * 8)))
    paths = [os.fspath(p) for p in sessions]
    batches = [paths[i : i + batch] for i in range(0, len(paths), batch)]
    summary = exporter.summary
    pool = context.Pool(jobs, initializer=_init, initargs=(exporter.options, encoded))
    try:
        for path, done in zip(sessions, itertools.chain.from_iterable(pool.imap(_many, batches)), strict=True):
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
            summary.rows += done.made
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
