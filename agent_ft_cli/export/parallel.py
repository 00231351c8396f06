"""Sessions shared among worker processes, rows out in the order one process writes them.

``export --jobs N`` with many sessions: a ``multiprocessing`` pool's ordered ``imap`` hands each worker a batch of
sessions at a time (:data:`BATCH`); a worker builds each session's rows with its one :class:`~.exporter.Exporter`
(the same code as a single process, its header cache kept across sessions), encodes them as the single process does (:func:`~.formats.row_line` per JSON
Lines row), and sends them back with what it would have told the summary (conversations, skipped sessions,
warnings, in order). The parent replays those events on its own exporter, so the rows, the summary and the
warnings are the single process's, byte for byte. A session a worker cannot finish (an error, ``strict``) is
built again by the parent, which then raises exactly what a single process raises.

A worker that dies (the out-of-memory killer, ``kill -9``) is not a hang. ``multiprocessing.Pool`` replaces it but
loses the batch it held, and a plain ``imap`` would wait for that batch forever. So the parent waits for each batch
at most :data:`POLL` seconds at a time (a result that arrives ends the wait at once: no cost while results flow)
and, each time the wait runs out, reads the exit code of the pool's first workers. The pool is made without
``maxtasksperchild``, so a worker ends only when it dies, and the first death is always one of these (a
replacement exists only after one of them died). They are found with the public ``multiprocessing.active_children()``
(the children started by the pool, told apart from this process's earlier ones) rather than the pool's private
``_pool`` list, which loses a dead worker as soon as the pool's own thread reaps it; ``Process.exitcode`` stays
readable on our reference after that. On a death the parent stops the pool and builds every session whose rows were
not yielded yet itself, one process, exactly as for a session a worker could not finish, and warns once (through
the exporter's warning channel). Rows already yielded came whole from finished batches, so each session's rows are
yielded once, in order; the output and the summary are the single process's.

Stopping the pool (:func:`_stop`) is ``Pool.terminate``, bounded: a worker killed while it held one of the pool's
queue locks (an idle worker waits for its next batch holding the task queue's read lock) makes ``terminate`` wait for
that lock forever, so it runs in a thread the parent waits :data:`STOP_WAIT` seconds for, then kills the workers
itself. Ctrl-C ends the pool at once, as before: the parent's wait is interruptible and ``terminate`` kills the
workers' current batches rather than waiting for them (``concurrent.futures`` waits for them, and hung at exit).

Without preference pairs only: tying decides every pair over every session at once.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from multiprocessing.pool import IMapIterator, Pool
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, NamedTuple

from .exporter import Exporter
from .formats import row_line
from .options import ExportOptions

_STATE: dict[str, Any] = {}
#: Sessions a worker is handed at a time (fewer when there are few sessions, so both workers get some).
BATCH = 200
#: Seconds the parent waits for the next batch before it looks whether a worker died (then waits again).
POLL = 0.25
#: Seconds ``Pool.terminate`` gets before the parent kills the workers itself (it takes ~0.05 s; see :func:`_stop`).
STOP_WAIT = 2.0


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


def _next(results: IMapIterator[list[_Done]], workers: list[BaseProcess]) -> list[_Done] | BaseProcess:
    """The next batch's results from the ordered ``imap`` iterator, or the worker found dead while waiting for it."""
    while True:
        try:
            return results.next(timeout=POLL)
        except multiprocessing.TimeoutError:
            for worker in workers:
                if worker.exitcode is not None:
                    return worker


def _stop(pool: Pool, before: set[BaseProcess]) -> None:
    """``pool.terminate()``, which ends its workers and threads at once, given :data:`STOP_WAIT` seconds: past that it
    waits for a queue lock a killed worker held (it never will), and the workers still alive are killed here."""
    ending = threading.Thread(target=pool.terminate, name="agent-ft-pool-stop", daemon=True)
    ending.start()
    ending.join(STOP_WAIT)
    if ending.is_alive():  # left waiting (a daemon thread: it does not hold the exit); the pool's finalizer has run
        for worker in multiprocessing.active_children():
            if worker not in before:
                worker.kill()
                worker.join()


def _death(worker: BaseProcess, left: int) -> str:
    """The warning for a dead worker, naming how it ended and what happens to the sessions it leaves."""
    code = worker.exitcode or 0
    if code < 0:
        try:
            how = f"killed by signal {-code}, {signal.Signals(-code).name}"
        except ValueError:
            how = f"killed by signal {-code}"
    else:
        how = f"exit code {code}"
    sessions = "session" if left == 1 else "sessions"
    return f"export worker process {worker.pid} died ({how}); building the {left} {sessions} left in this process"


def _here(exporter: Exporter, path: Path, encoded: bool) -> Iterator[Any]:
    """One session built in this process (its rows, warnings and summary as one process has them, or its error)."""
    rows = exporter.rows([path])
    return map(row_line, rows) if encoded else iter(rows)


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
    before = set(multiprocessing.active_children())
    pool = context.Pool(jobs, initializer=_init, initargs=(exporter.options, encoded))
    done_to = 0  # the sessions before this one have had their rows yielded
    dead: BaseProcess | None = None
    try:
        # the pool's first workers (all started by now); their deaths are watched (see the module's doc)
        workers = [p for p in multiprocessing.active_children() if p not in before]
        results = pool.imap(_many, batches)
        for _ in batches:
            got = _next(results, workers)
            if isinstance(got, BaseProcess):
                dead = got
                break
            for path, done in zip(sessions[done_to : done_to + len(got)], got, strict=True):
                if done.rows is None:  # rebuilt here: its rows, or the error one process raises
                    yield from _here(exporter, path, encoded)
                else:
                    for event in done.events:
                        if event[0] == "warn":
                            exporter.warn(event[1])
                        else:
                            exporter.skip_session(*event[1:])
                    summary.sessions += done.sessions
                    summary.conversations += done.conversations
                    summary.rows += done.made
                    if not encoded:
                        yield from done.rows
                    elif done.rows:
                        yield done.rows
                on_session(path)
                done_to += 1
    finally:
        _stop(pool, before)
    if dead is not None:
        exporter.warn(_death(dead, len(sessions) - done_to))
        for path in sessions[done_to:]:
            yield from _here(exporter, path, encoded)
            on_session(path)
