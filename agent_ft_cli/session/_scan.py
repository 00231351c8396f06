"""Byte-level fast paths for the one-thread readers: they decide which lines to *skip*, never what a record means.

Reading one thread out of a big file is mostly skipping the lines of other threads. Parsing them to find that out
is the cost the readers avoid, so this module looks at bytes only:

* :class:`LineFilter` tells, from a line's bytes, that it is a whole message record of *another* thread (a line
  framed exactly as :func:`.records.dumps_record` writes it, see :func:`.records.message_line_prefix`); runs of such
  lines are skipped at once. Anything it cannot vouch for goes to the reader's full parse and checks.
* :func:`last_match_end` finds, from the end of the file with mmap, the last line holding a token (``"clear"``) for
  which the reader's predicate (parse + :func:`.threads.clears`) says yes: the reader then skips everything before.
* :func:`line_at` and :func:`line_around` locate lines by byte offset, for error messages and the search above.

``_CHUNK`` (the read block) and ``_WINDOW`` (the mmap window) are module knobs: tests shrink them to exercise the
block borders.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Callable
from pathlib import Path

import orjson

from ..fsutil import max_input_bytes
from .records import message_line_prefix

_CHUNK = 1 << 20
_WINDOW = 16 << 20  # bytes mapped at a time when searching a file

_PROBE = message_line_prefix("a", "p")  # {"type":"message","agent":"a","peer":"p","message":{
_MSG_HEAD = _PROBE[: _PROBE.index(b'"a",')]  # {"type":"message","agent":
_MSG_BODY = _PROBE[_PROBE.index(b'"p",') + len(b'"p"') :]  # ,"message":{
_REC_OPEN = _MSG_HEAD[: _MSG_HEAD.index(b":") + 1]  # {"type": (two of them: two records run together)
_JOIN = b"}}\n" + _MSG_HEAD  # a message record's end, then the next one's head
# a line break NOT followed by a message head in the writer's framing whose two names hold no quote, backslash or
# line break (so their bytes are the names themselves: a line is this thread's exactly when it starts with its prefix)
_ODD_HEAD = re.compile(
    rb"\n(?!" + re.escape(_MSG_HEAD) + rb'"[^"\\\n]*"' + re.escape(_PROBE[_PROBE.index(b'"a",') + 3 : _PROBE.index(b'"p",')])
    + rb'"[^"\\\n]*"' + re.escape(_MSG_BODY) + rb")"
)


class LineFilter:
    """Tells from its bytes alone that a line is a whole message record of *another* thread, so a reader that
    wants one thread can skip it without parsing it.

    Only lines that start the way agent-ft's writer starts them (``{"type":"message","agent":...,"peer":...,
    "message":{``) qualify; the agent/peer bytes are decoded with orjson once per distinct prefix and remembered.
    A skipped line must also look whole: it ends with ``}}`` (and its newline), holds exactly one ``{"type":`` (two
    records run together do not) and no NUL byte. Everything else (the wanted thread's lines, clear records,
    unknown records, damaged lines, a final line without its newline) goes to the full parser, so those errors are
    reported as before; ``validate`` and :func:`.reader.load_session` parse every line.
    """

    __slots__ = ("known", "ours", "pair", "plain")

    def __init__(self, agent: str, peer: str) -> None:
        self.pair = (agent, peer)
        self.ours = message_line_prefix(agent, peer)
        self.known: dict[bytes, bool] = {}
        #: this thread's names are written as their own bytes (no escape): :meth:`framed_block` may be used
        self.plain = _ODD_HEAD.match(b"\n" + self.ours) is None

    def foreign(self, raw: bytes, end: bytes = b"}}\n") -> bool:
        if not raw.startswith(_MSG_HEAD) or raw.startswith(self.ours):
            return False
        cut = raw.find(_MSG_BODY, len(_MSG_HEAD))
        if cut < 0:
            return False
        key = raw[:cut]
        other = self.known.get(key)
        if other is None:
            other = self._decide(key)
        return other and raw.endswith(end) and raw.count(_REC_OPEN) == 1 and b"\x00" not in raw

    def pair_block(self, buf: bytes, hi: int, lo: int = 0) -> int:
        """Whether every line of ``buf[lo:hi]`` (whole lines, ``hi`` just after a newline) is a message record framed
        as the writer frames it, either of this thread or of one single other thread: the layout of a two-agent
        session. Then a reader can walk this thread's lines with ``find`` and skip all the others at once.

        Checked for the whole block with a few counts of long patterns (the fast ones): every line break is ``}}``,
        newline, one of the two prefixes; the first line starts with one and the last ends with ``}}``; each line
        holds exactly one message head (two records run together do not) and there is no NUL byte."""
        n = buf.count(b"\n", lo, hi)
        if not n or buf.count(_MSG_HEAD, lo, hi) != n or not buf.endswith(b"}}\n", lo, hi) or buf.find(b"\x00", lo, hi) >= 0:
            return 0
        mine = buf.count(b"}}\n" + self.ours, lo, hi)  # our lines after the first
        if mine == n - 1 and buf.startswith(self.ours, lo):  # only our lines (one thread, or a long run of it)
            return n
        at = lo
        for _ in range(64):  # the first line that is not ours gives the other thread's prefix
            if not buf.startswith(self.ours, at):
                break
            at = buf.find(b"\n", at, hi) + 1
            if not at or at >= hi:
                return 0
        else:
            return 0
        end = buf.find(b"\n", at, hi) + 1
        line = buf[at:end]
        cut = line.find(_MSG_BODY, len(_MSG_HEAD))
        if cut < 0 or not self.foreign(line):
            return 0
        other = line[: cut + len(_MSG_BODY)]
        if not (buf.startswith(self.ours, lo) or buf.startswith(other, lo)):
            return 0
        joins = mine + buf.count(b"}}\n" + other, lo, hi)
        return n if joins == n - 1 else 0

    def framed_block(self, buf: bytes, hi: int, lo: int = 0) -> int:
        """Whether every line of ``buf[lo:hi]`` (whole lines, ``hi`` just after a newline) is a message record framed
        as the writer frames it, of any thread, with names that hold no quote or backslash: the layout of a group
        chat (many threads, record by record). Then a line is this thread's exactly when it starts with this
        thread's prefix, and a reader can walk those lines with ``find`` and skip all the others at once.

        Needs this thread's prefix to be plain bytes too (no escapes in its names); checked for the whole block with
        counts and one regular-expression search: every line starts with a message head with plain names
        (:data:`_ODD_HEAD` finds none other), every line break is ``}}`` then the next head, the last line ends with
        ``}}``, each line holds exactly one ``{"type":`` (two records run together do not) and there is no NUL byte.
        Returns the number of lines, or 0."""
        if not self.plain or not buf.startswith(_MSG_HEAD, lo):
            return 0
        n = buf.count(b"\n", lo, hi)
        if (
            not n
            or buf.count(_JOIN, lo, hi) != n - 1
            or not buf.endswith(b"}}\n", lo, hi)
            or buf.count(_REC_OPEN, lo, hi) != n
            or buf.find(b"\x00", lo, hi) >= 0
        ):
            return 0
        if _ODD_HEAD.match(b"\n" + buf[lo : buf.find(b"\n", lo) + 1]) is not None:  # the first line (no newline before it)
            return 0
        odd = _ODD_HEAD.search(buf, lo, hi - 1)
        return 0 if odd is not None else n

    def run_of_foreign(self, buf: bytes, lo: int, hi: int, closed: bool = True) -> int:
        """How many lines ``buf[lo:hi]`` holds (whole lines; the last ends with its newline at ``hi`` when ``closed``,
        else just before ``hi``) when every one of them would pass :meth:`foreign`, else 0. Checked for the whole
        range at once, in place (no copy): all lines start like the last one, end with ``}}``, hold one record
        each and no NUL byte."""
        last_at = buf.rfind(b"\n", lo, hi - 1 if closed else hi) + 1 or lo
        last = buf[last_at:hi]
        cut = last.find(_MSG_BODY, len(_MSG_HEAD))
        if cut < 0 or not self.foreign(last, b"}}\n" if closed else b"}}"):
            return 0
        if last_at == lo:
            return 1
        prefix = last[: cut + len(_MSG_BODY)]
        if not buf.startswith(prefix, lo):
            return 0
        n = buf.count(b"\n", lo, hi) + (0 if closed else 1)
        if (
            buf.count(b"}}\n" + prefix, lo, hi) == n - 1
            and buf.count(_MSG_HEAD, lo, hi) == n
            and buf.find(b"\x00", lo, hi) < 0
        ):
            return n
        return 0

    def _decide(self, key: bytes) -> bool:
        try:
            names = orjson.loads(b'{"agent":' + key[len(_MSG_HEAD) :] + b"}")
        except orjson.JSONDecodeError:
            return False
        other = (
            type(names) is dict
            and len(names) == 2
            and type(names.get("agent")) is str
            and type(names.get("peer")) is str
            and (names["agent"], names["peer"]) != self.pair
        )
        if len(self.known) < 1024:
            self.known[key] = other
        return other


def last_match_end(fd: int, start: int, token: bytes, matches: Callable[[bytes], bool]) -> int:
    """Byte offset just after the last line (at or after ``start``) that holds ``token`` and for which
    ``matches(line)`` is true; ``start`` if there is none.

    Searches for the token from the end with mmap, one window at a time, so the pages it touches never add up to
    more than a window of resident memory. With ``token=b'"clear"'``: inside a JSON string the quotes would be
    escaped, so only real ``type`` values (and a rare key) match, and the caller confirms each by parsing its line.
    """
    size = os.fstat(fd).st_size
    hi = size
    while hi > start:
        lo = max(start, hi - _WINDOW)
        base = lo - lo % mmap.ALLOCATIONGRANULARITY
        with mmap.mmap(fd, hi - base, offset=base, access=mmap.ACCESS_READ) as mm:
            end = hi - base
            while True:
                hit = mm.rfind(token, lo - base, end)
                if hit < 0:
                    break
                line_start, raw = line_around(fd, base + hit, start, size)
                if matches(raw):
                    return max(line_start + len(raw), start)
                end = hit
        if lo <= start:
            break
        hi = lo + len(token) - 1  # windows overlap so a token across their border is still found
    return start


def line_around(fd: int, offset: int, start: int, size: int) -> tuple[int, bytes]:
    """The offset and bytes (newline included) of the line holding byte ``offset``, read with pread."""
    lo = offset
    while lo > start:
        step = min(_CHUNK, lo - start)
        chunk = os.pread(fd, step, lo - step)
        nl = chunk.rfind(b"\n")
        if nl >= 0:
            lo = lo - step + nl + 1
            break
        lo -= step
    parts = []
    pos = lo
    while pos < size:
        chunk = os.pread(fd, _CHUNK, pos)
        if not chunk:
            break
        nl = chunk.find(b"\n", max(0, offset - pos))
        if nl >= 0:
            parts.append(chunk[: nl + 1])
            break
        parts.append(chunk)
        pos += len(chunk)
    return lo, b"".join(parts)


def line_at(fd: int, offset: int) -> int:
    """The 1-based number of the line holding byte ``offset``; for error paths only (reads the file up to there)."""
    pos, count = 0, 0
    while pos < offset:
        chunk = os.pread(fd, min(_CHUNK, offset - pos), pos)
        if not chunk:
            break
        count += chunk.count(b"\n")
        pos += len(chunk)
    return count + 1


# -- the thread keys of a file in the canonical framing (:func:`.reader.thread_keys`) ------------------------------

_KEY_MSG_HEAD = _MSG_HEAD + b'"'  # {"type":"message","agent":"
_KEY_CLEAR_HEAD = b'{"type":"clear","agent":"'
_MESSAGE_KEYS = re.compile(rb'\{"type":"message","agent":"((?:[^"\\\n]|\\.)*)","peer":"((?:[^"\\\n]|\\.)*)","message":')
_CLEAR_AGENT = re.compile(rb'\{"type":"clear","agent":"((?:[^"\\\n]|\\.)*)"')

#: Past this many threads (or agents that clear) :func:`.reader.thread_keys` leaves its search (whose pattern excludes
#: every thread and clearing agent found so far) for one streaming pass of :func:`.reader.thread_counts`.
SEARCHED_THREADS = 16


def _unknown_line(prefixes: list[bytes], clearing: list[bytes]) -> re.Pattern[bytes]:
    """A line break followed by anything but a canonical message of one of the known ``prefixes`` (each the bytes
    after ``{"type":"message","agent":"`` up to ``"message":``) or a canonical ``clear`` of one of the ``clearing``
    agents (each the bytes after ``{"type":"clear","agent":"`` up to the closing quote of the name)."""
    heads = [re.escape(_KEY_CLEAR_HEAD) + b"(?:" + b"|".join(map(re.escape, clearing)) + b")"] if clearing else []
    if prefixes:
        heads.append(re.escape(_KEY_MSG_HEAD) + b"(?:" + b"|".join(map(re.escape, prefixes)) + b")")
    return re.compile(b"\n(?!" + b"|".join(heads) + b")") if heads else re.compile(b"\n")


def canonical_threads(fd: int, at: int) -> tuple[list[tuple[str, str]], set[str]] | None:
    """:func:`.reader.thread_keys` of an open file whose header ends at byte ``at`` (its newline), and the agents
    that have a ``clear`` record in it; None when a line is not in the canonical framing. Reads blocks of whole
    lines (a block starts at the newline before its first line), so memory stays flat."""
    size = os.fstat(fd).st_size
    limit = max_input_bytes()
    step = max(_CHUNK, 64)  # (1 MB: searched while still in the cache; 8 MB blocks were slower)
    keys: list[tuple[str, str]] = []
    cleared: set[str] = set()
    prefixes: list[bytes] = []
    clearing: list[bytes] = []
    unknown = _unknown_line(prefixes, clearing)
    pos = at
    while pos < size:
        want = step
        while True:
            block = b""  # the last block freed first (see .one_thread.iter_thread)
            block = os.pread(fd, want, pos)
            at_end = pos + len(block) >= size
            hi = len(block) if at_end else block.rfind(b"\n")  # the next block starts at this newline
            if hi > 0:
                break
            if want > limit:  # a line longer than any reader holds: the full reader names it
                return None
            want *= 2
        i = 0
        while (hit := unknown.search(block, i, hi)) is not None:
            h = hit.start()
            if at_end and h == len(block) - 1:  # the newline that ends the file
                break
            if at_end and block.find(b"\n", h + 1) < 0:  # a last line without its newline
                return None
            m = _MESSAGE_KEYS.match(block, h + 1)
            if m is not None:
                key = (orjson.loads(b'"' + m[1] + b'"'), orjson.loads(b'"' + m[2] + b'"'))
                if key not in keys:  # (a thread found again under another spelling of its names, \u00e9 for é, is one)
                    keys.append(key)
                prefixes.append(block[h + 1 + len(_KEY_MSG_HEAD) : m.end()])
            elif (c := _CLEAR_AGENT.match(block, h + 1)) is not None:
                cleared.add(orjson.loads(b'"' + c[1] + b'"'))
                clearing.append(block[h + 1 + len(_KEY_CLEAR_HEAD) : c.end()])
            else:  # not canonical
                return None
            if max(len(prefixes), len(clearing)) > SEARCHED_THREADS:  # the pattern grows with each thread: past a
                return None  # few, one streaming pass (.reader.thread_counts) is cheaper (400 threads: 30 s -> 0.2 s)
            unknown = _unknown_line(prefixes, clearing)
            i = h
        pos += hi
    return keys, cleared


def thread_in_file(path: Path | str, agent: str, peer: str) -> bool:
    """Whether the session holds a message of ``agent.chat_messages[peer]`` in the canonical framing, found with one
    ``find`` from the start of the file (at once when the thread is there, one pass at memory speed when not).
    True also when the answer cannot be had this way (not a mappable session: the caller's own reader will say)."""
    try:
        with open(path, "rb") as fh:
            return holds(fh.fileno(), agent, peer)
    except OSError:
        return True


def holds(fd: int, agent: str, peer: str) -> bool:
    try:
        if not os.pread(fd, 16, 0).startswith(b'{"type":"header"'):
            return True
    except OSError:
        return True
    return finds(fd, b"\n" + message_line_prefix(agent, peer), default=True)


def finds(fd: int, needle: bytes, default: bool = False) -> bool:
    """Whether the file holds ``needle`` (one ``find`` from its start); ``default`` when it cannot be read so."""
    try:
        if os.fstat(fd).st_size <= _CHUNK:  # a small file: read, not mapped
            return os.pread(fd, _CHUNK, 0).find(needle) >= 0
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mapped:
            return mapped.find(needle) >= 0
    except (OSError, ValueError):
        return default
