"""Small session files read whole, for a caller that reads thousands of them (``export`` of a folder of sessions).

A fast path in the sense of :mod:`._scan`: it never says what a record means. :func:`read_small` reads a regular
file of at most :data:`SMALL` bytes with one open, one ``fstat`` and one read; :func:`small_conversations` feeds
every line after the header to the one :class:`.threads.ThreadReducer`, exactly as
:meth:`.reader.OpenSession.conversations` does, and gives up (``None``) at the first line that is not simply a
well-formed record (a blank, damaged or cut line, a bad record): the caller then reads the file the general way,
whose reader reports or warns about it as it always has. Nothing is warned about or raised here, so a caller can
fall back without anything having been said twice. ``tests/session/test_small_sessions.py`` holds both equal to the
general reader.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

import orjson

from .records import Message, message_line_prefix, record_problem
from .threads import END, ThreadKey, ThreadReducer

#: The largest file :func:`read_small` reads (the size :func:`.reader.open_session` also reads at once).
SMALL = 256 << 10
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)  # a FIFO never blocks the open


def read_small(path: str, limit: int) -> bytes | None:
    """The bytes of the regular file at ``path`` when it holds at most :data:`SMALL` and ``limit`` bytes (so no line
    of it is over the readers' line limit), else None (not a regular file, bigger, unreadable, changed while read:
    the general reader decides and says why)."""
    try:
        fd = os.open(path, _FLAGS)
    except (OSError, ValueError):
        return None
    try:
        st = os.fstat(fd)
        size = st.st_size
        if not stat.S_ISREG(st.st_mode) or size > SMALL or size > limit:
            return None
        data = os.read(fd, size + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) == size else None


def header_line(data: bytes) -> bytes | None:
    """Line 1 of a small file, its newline included (None when the file is that line alone, or empty)."""
    end = data.find(b"\n")
    return data[: end + 1] if end >= 0 and end + 1 < len(data) else None


def holds(data: bytes, agent: str, peer: str) -> bool:
    """:func:`._scan.thread_in_file` on the bytes of a small file: a message line of the thread in the canonical
    framing is in it."""
    return data.find(b"\n" + message_line_prefix(agent, peer)) >= 0


def small_conversations(data: bytes, start: int, key: ThreadKey) -> list[list[Message]] | None:
    """Every conversation of thread ``key`` in the records of ``data[start:]`` (``start``: just after the header's
    newline), oldest first, empty ones left out: :meth:`.reader.OpenSession.conversations`. None when a line is
    not a well-formed record, or the last line has no newline (the general reader judges those)."""
    return conversations_reader(key)(data, start)


def conversations_reader(key: ThreadKey) -> Callable[[bytes, int], list[list[Message]] | None]:
    """:func:`small_conversations` of thread ``key`` as a function of ``(data, start)``, for many files: one
    reducer, emptied before each file."""
    reducer = ThreadReducer(pairs=[key])
    run, apply, closed = reducer.feeding(), reducer.apply, reducer.closed
    threads, earlier, loads = reducer.threads, reducer.earlier, orjson.loads

    def read(data: bytes, start: int) -> list[list[Message]] | None:
        if not data.endswith(b"\n"):
            return None
        threads.clear()
        earlier.clear()
        convs: list[list[Message]] = []
        records = map(loads, data[start:-1].split(b"\n"))
        try:
            while (rec := run(records)) is not END:  # every message record fed; here the others
                if record_problem(rec) is not None:
                    return None
                apply(rec)
                convs.extend(conv for _key, conv in closed())
        except orjson.JSONDecodeError:
            return None
        current = threads.get(key)
        if current:
            convs.append(current)
        return convs

    return read
