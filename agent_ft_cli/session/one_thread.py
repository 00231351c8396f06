"""The one-thread readers: :func:`iter_thread` streams one thread with flat memory, from just after the last
``clear`` that applies to it, and :func:`tail_thread` walks the file backwards from its end, so ``inspect --last N``
costs the same on a 1 MB or a 1 GB file. Both judge lines with :mod:`.reader`'s functions and ask
:func:`.threads.clears` (and compare ``agent``/``peer``) about every line the byte fast paths (:mod:`._scan`) did not
skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ..errors import SessionError
from ..fsutil import line_too_long, max_input_bytes
from . import _scan
from .lines import _SKIP, _STOP, LineNo, check_record, unparsable
from .reader import Known, _open, _past_header
from .records import Message, WarnFn, is_message
from .threads import ThreadKey, clears


def _after_last_clear(fd: int, start: int, key: ThreadKey) -> int:
    """Byte offset just after the last record that clears the thread (``start`` if none)."""

    def clears_line(raw: bytes) -> bool:
        try:
            rec = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return False
        return isinstance(rec, dict) and clears(rec, key)

    return _scan.last_match_end(fd, start, b'"clear"', clears_line)


def iter_thread(
    path: Path | str,
    agent: str,
    peer: str,
    *,
    strict: bool = False,
    on_warning: WarnFn | None = None,
    as_bytes: bool = False,
    header: Known | None = None,
    uncleared: bool = False,
) -> Iterator[Any]:
    """Stream the messages of one thread (``agent.chat_messages[peer]``) in order, with flat memory.

    With ``as_bytes=True`` each message comes as its JSON text (bytes), for output: the slice of the line when the line
    is in the writer's canonical form (it is still parsed, so a damaged line is an error as always), else
    ``orjson.dumps`` of the parsed message.

    The file is read a block (1 MB of whole lines) at a time, from just after the last ``clear`` of the thread
    (found by searching from the end; ``uncleared``: the caller knows there is none, see
    :meth:`.reader.OpenSession.never_cleared`, and reading starts after the header; a ``clear`` of the thread met
    anyway, appended since, is an error: what was already streamed is not the thread any more).
    Lines that start with the wanted thread's record prefix are found with ``bytes.find`` and parsed one by one; the
    runs of lines between them are skipped at once when :meth:`._scan.LineFilter.run_of_foreign` shows from their
    bytes that every one is a whole message record of another thread, and otherwise go line by line through the
    full checks (so a damaged, cut, clear or unknown line is handled exactly as a line-by-line reader would).
    """
    key = (agent, peer)
    p, fh = _open(path)
    with fh:
        _past_header(p, fh, header)
        after_header = fh.tell()
        fd = fh.fileno()
        start = after_header if uncleared else _after_last_clear(fd, after_header, key)
        numbered = start == after_header  # else line numbers are worked out on the error paths only
        lineno = 2
        loads = orjson.loads
        lines = _scan.LineFilter(agent, peer)
        ours, foreign, run_of_foreign = lines.ours, lines.foreign, lines.run_of_foreign
        pair_block, framed_block = lines.pair_block, lines.framed_block
        group = False  # whether the last block was a group chat's (framed_block), not a two-agent one (pair_block)
        next_ours = b"\n" + ours
        body = len(ours) - 1  # where the message object starts in a line that starts with ``ours``

        def parse_line(raw: bytes, number: int, at: int) -> Any:
            """A line the fast paths did not settle, parsed and checked in full: this thread's message, or
            ``_SKIP`` (another record, a blank line), or ``_STOP`` (a final line cut short, warned about)."""
            here: LineNo = number if numbered else lambda: _scan.line_at(fd, at)
            try:
                rec = loads(raw)
            except orjson.JSONDecodeError as e:
                return unparsable(p, here, raw, e, cut=not raw.endswith(b"\n"), strict=strict, on_warning=on_warning)
            if is_message(rec) and rec["agent"] == agent and rec["peer"] == peer:
                return rec["message"]
            check_record(p, here, rec)
            if uncleared and clears(rec, key):  # appended since the caller looked: what was streamed is stale
                raise SessionError(
                    f"{p}: a clear of the thread {agent} -> {peer} was written while it was being read; run it again"
                )
            return _SKIP

        read_at = start
        limit = max_input_bytes()
        pending = b""  # the start of a line longer than a block, gathered across reads (at most ``limit``)
        while True:
            chunk = _scan._CHUNK
            data = block = b""  # the last block freed first: a read while it lives gets fresh pages (~0.25 ms a MB)
            data = os.pread(fd, max(chunk, len(pending)), read_at)
            block = pending + data if pending else data
            block_at = read_at - len(pending)  # file offset of block[0]
            at_end = len(data) < max(chunk, len(pending))
            if not block:
                return
            hi = len(block) if at_end else block.rfind(b"\n") + 1  # whole lines only, but all at the end
            if pending and (block.find(b"\n", 0, hi) + 1 or hi) > limit + 1:  # the gathered line is too long
                raise line_too_long(str(p), _scan.line_at(fd, block_at), limit, SessionError)
            pending = b""
            if hi == 0:  # no whole line yet: keep reading
                pending = block
                if len(pending) > limit:  # a line longer than any reader holds: an error naming it
                    raise line_too_long(str(p), _scan.line_at(fd, block_at), limit, SessionError)
                read_at += len(data)
                continue
            i = 0
            while block.startswith(ours, i):  # a run of this thread's lines (one thread, or a stretch of it): each
                j = block.find(b"\n", i, hi) + 1  # is parsed whole below, so nothing needs counting
                if not j or not block.endswith(b"}}\n", i, j):
                    break
                text = block[i + body : j - 2]
                try:
                    msg = loads(text)
                except orjson.JSONDecodeError:
                    break
                yield text if as_bytes else msg
                lineno += 1
                i = j
            lo = i
            n_lines = 0
            if i < hi and block[hi - 1 : hi] == b"\n":  # (the layout of the last block is tried first)
                n_lines = (framed_block(block, hi, lo) or pair_block(block, hi, lo)) if group else pair_block(block, hi, lo)
                if not n_lines and not group:
                    n_lines = framed_block(block, hi, lo)
                    group = n_lines > 0
            if n_lines:
                # a block of message records only (two agents, or a group chat with plain names): visit this
                # thread's lines only; a line that does not parse goes on below
                i = lo if block.startswith(ours, lo) else block.find(next_ours, lo, hi) + 1 or hi
                while i < hi:
                    j = block.find(b"\n", i, hi) + 1
                    text = block[i + body : j - 2]
                    try:
                        msg = loads(text)
                    except orjson.JSONDecodeError:
                        break
                    yield text if as_bytes else msg
                    i = j if block.startswith(ours, j) else block.find(next_ours, j - 1, hi) + 1 or hi
                lineno += n_lines if i >= hi else block.count(b"\n", lo, i)
            while i < hi:
                if block.startswith(ours, i):
                    j = block.find(b"\n", i, hi) + 1 or hi
                    if block.endswith(b"}\n", i, j):
                        # the line is ``ours`` + one JSON object + ``}``: parsing just that object checks the line
                        # as a whole parse would, and the record around it can only be this thread's message
                        text = block[i + body : j - 2]
                        try:
                            msg = loads(text)
                        except orjson.JSONDecodeError:
                            pass  # damaged: the whole line goes through the full parse below for its error
                        else:
                            yield text if as_bytes else msg
                            lineno += 1
                            i = j
                            continue
                    got = parse_line(block[i:j], lineno, block_at + i)
                    if got is _STOP:
                        return
                    if got is not _SKIP:
                        yield orjson.dumps(got) if as_bytes else got
                    lineno += 1
                    i = j
                    continue
                k = block.find(next_ours, i, hi)
                j = k + 1 if k >= 0 else hi
                n = run_of_foreign(block, i, j) if block[j - 1 : j] == b"\n" else 0
                if n:
                    lineno += n
                    i = j
                    continue
                while i < j:  # line by line: the same checks as any full reader
                    e_ = block.find(b"\n", i, j) + 1 or j
                    raw = block[i:e_]
                    here_at = block_at + i
                    i = e_
                    lineno += 1
                    if foreign(raw):
                        continue
                    got = parse_line(raw, lineno - 1, here_at)
                    if got is _STOP:
                        return
                    if got is not _SKIP:
                        yield orjson.dumps(got) if as_bytes else got
            if at_end:
                return
            read_at = block_at + hi  # the piece after the last newline is read again with the next block


def tail_thread(
    path: Path | str, agent: str, peer: str, n: int, *, strict: bool = False, on_warning: WarnFn | None = None,
    header: Known | None = None,
) -> list[Message]:
    """The last ``n`` messages of a thread, found by walking the file backwards from its end.

    Stops at ``n`` messages or at a ``clear`` record for the thread, whichever comes first; memory is bounded by
    ``n`` messages plus one read block, whatever the size of the file.
    """
    if n <= 0:
        return []
    key = (agent, peer)
    p, fh = _open(path)
    found: list[Message] = []
    lines_filter = _scan.LineFilter(agent, peer)
    ours, foreign = lines_filter.ours, lines_filter.foreign
    with fh:
        _past_header(p, fh, header)
        start = fh.tell()
        fd = fh.fileno()
        size = os.fstat(fd).st_size
        chunk = _scan._CHUNK
        limit = max_input_bytes()
        pos = size
        carry = b""
        last_line = True
        while pos > start and len(found) < n:
            read = min(chunk, pos - start)
            pos -= read
            block = b""  # the last block freed first (see iter_thread)
            block = os.pread(fd, read + len(carry), pos)  # = this block + the carried start of the line after it
            if not last_line:  # a block of other threads' whole records only: nothing to parse, nothing to split
                cut = block.find(b"\n") + 1 if pos > start else 0
                skipped = lines_filter.run_of_foreign(block, cut, len(block), closed=False) if cut or pos == start else 0
                if skipped:
                    carry = block[: cut - 1] if pos > start else b""
                    continue
            lines = block.split(b"\n")
            # the first piece may be the tail of a line that starts in the previous block
            carry = lines[0] if pos > start else b""
            if len(carry) > limit:  # the end of a line longer than any reader holds: an error naming it
                raise line_too_long(str(p), _scan.line_at(fd, pos), limit, SessionError)
            body = lines[1:] if pos > start else lines
            body_at = pos + (len(lines[0]) + 1 if pos > start else 0)  # file offset of body[0] (error paths)
            for idx in range(len(body) - 1, -1, -1):
                raw = body[idx]
                if not last_line and not raw.startswith(ours) and foreign(raw, b"}}"):
                    continue
                is_last = last_line
                if raw.strip() == b"" and is_last:
                    continue  # the empty piece after the final newline
                last_line = False

                def here(idx: int = idx, body: list[bytes] = body, body_at: int = body_at) -> int:
                    return _scan.line_at(fd, body_at + sum(len(x) + 1 for x in body[:idx]))

                if len(raw) > limit:
                    raise line_too_long(str(p), here(), limit, SessionError)

                try:
                    rec = orjson.loads(raw)
                except orjson.JSONDecodeError as e:
                    cut_short = is_last and not block.endswith(b"\n")
                    unparsable(p, here, raw, e, cut=cut_short, strict=strict, on_warning=on_warning)
                    continue
                if type(rec) is not dict:
                    check_record(p, here, rec)
                if rec.get("agent") == agent:
                    if rec.get("type") == "message" and rec.get("peer") == peer:
                        msg = rec.get("message")
                        if type(msg) is not dict:
                            check_record(p, here, rec)
                        found.append(msg)
                        if len(found) >= n:
                            if size - start <= chunk:  # a small file is checked whole; a big one only where read
                                _check_lines_read(p, fd, body_at, body[:idx])
                            break
                    elif clears(rec, key):
                        if size - start <= chunk:
                            _check_lines_read(p, fd, body_at, body[:idx])
                        pos = start  # nothing before a clear belongs to the thread
                        break
    found.reverse()
    return found


def _check_lines_read(path: Path, fd: int, offset: int, lines: list[bytes]) -> None:
    """Check complete lines (starting at byte ``offset``) that :func:`tail_thread` read but did not need.

    Called for files of one read block (1 MB) only, where it costs a few milliseconds: there a line cut in the middle
    of the file is refused with ``--last`` too. A bigger file is read only from its end, as ``--last`` promises;
    ``validate`` and the full readers check every line."""
    loads = orjson.loads
    for raw in lines:

        def here(at: int = offset) -> int:
            return _scan.line_at(fd, at)

        offset += len(raw) + 1
        try:
            rec = loads(raw)
        except orjson.JSONDecodeError as e:
            unparsable(path, here, raw, e, cut=False, strict=True, on_warning=None)
            continue
        if type(rec) is not dict or rec.get("type") != "message":
            check_record(path, here, rec)
