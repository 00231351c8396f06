"""Reading sessions: every reader parses lines the same way and gives records the meaning of :mod:`.threads`.

Four readers serve different costs, one meaning:

* :func:`load_session` keeps the selected threads of the whole file (the hot path of ``update`` and ``validate``);
* :func:`iter_records` streams every record, and :func:`thread_counts` counts messages per thread from it;
* :func:`iter_thread` streams one thread with flat memory, from just after the last ``clear`` that applies to it;
* :func:`tail_thread` reads the header, then walks the file backwards from its end, so ``inspect --last N`` costs
  the same on a 1 MB or a 1 GB file.

The whole-file readers feed a :class:`.threads.ThreadReducer`; the one-thread readers ask :func:`.threads.clears`
(and compare ``agent``/``peer``) about every line their byte-level fast paths (:mod:`._scan`) did not skip. The
fast paths only skip whole message records of *other* threads, so they cannot change what a thread holds.

Lines are judged the same way by every reader (:mod:`.lines`). Unknown record types and unknown fields are kept
(``Session.events``) and ignored.
"""

from __future__ import annotations

import gc
import io
import os
import stat
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from ..errors import SessionError
from ..fsutil import check_input_file, line_too_long, max_input_bytes, readline_bounded
from ..types import SessionHeader
from . import _scan
from .lines import _STOP, _warn, check_record, unparsable
from .records import Message, WarnFn, check_header, is_message, message_line_prefix
from .threads import Session, ThreadKey, ThreadReducer

Known = tuple[SessionHeader, int]  # a header already read, and the offset after it (readers then skip it)


# ---------------------------------------------------------------------------------------------------------------
# opening and the header


def _open(path: Path | str) -> tuple[Path, Any]:
    p = Path(path)
    try:
        st = os.stat(p)  # one stat decides (every reader opens through here, export once per session file)
    except FileNotFoundError:
        raise SessionError(f"session file {str(p)!r} does not exist") from None
    except OSError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise SessionError(f"session {str(p)!r} is a folder, not a session file")
    if st is None or not stat.S_ISREG(st.st_mode):
        # devices, sockets and FIFOs are refused: every reader may read the file more than once, or from its end
        check_input_file(p, noun="session file", error=SessionError, kind="a session file", stdin=True)
    try:
        fh = open(p, "rb")  # noqa: SIM115 - closed by the callers
    except OSError as e:
        raise SessionError(f"cannot read session {str(p)!r}: {e.strerror or e}") from None
    return p, fh


def _first_line(path: Path, fh: Any) -> bytes:
    """Line 1, read at most :func:`~agent_ft_cli.fsutil.max_input_bytes` of it (a header longer than that is an
    error naming the line, never read whole into memory)."""
    limit = max_input_bytes()
    raw, complete = readline_bounded(fh, limit)
    if not complete:
        raise line_too_long(str(path), 1, limit, SessionError)
    return raw


def parse_header(path: Path, raw: bytes) -> SessionHeader:
    """Validate line 1 of a session file."""
    if not raw.strip():
        raise SessionError(f"{path} is empty; a session starts with a header line (record one with agent-ft record)")
    try:
        header = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        if raw.strip() in (b"{", b"[") or (raw.lstrip()[:1] in (b"{", b"[") and path.suffix.lower() == ".json"):
            raise SessionError(
                f"{path}:1: a JSON document spread over several lines (pretty-printed), not a session file; a "
                "session is JSON Lines, one record per line (record one with agent-ft record)"
            ) from None
        unparsable(path, 1, raw, e, cut=False, strict=True, on_warning=None)
        raise  # unreachable: the line is not blank and not cut
    return check_header(path, header)


def _past_header(p: Path, fh: Any, known: Known | None) -> SessionHeader:
    """Read the header, or skip it when the caller already read it (``known``: the header, the offset after it)."""
    if known is None:
        return parse_header(p, _first_line(p, fh))
    fh.seek(known[1])
    return known[0]


def read_header(path: Path | str) -> tuple[SessionHeader, int]:
    """The header record and the byte offset where the records after it start."""
    p, fh = _open(path)
    with fh:
        return parse_header(p, _first_line(p, fh)), fh.tell()


# ---------------------------------------------------------------------------------------------------------------
# whole-file readers


def _records(
    path: Path, fh: Any, first_lineno: int, strict: bool, on_warning: WarnFn | None
) -> Iterator[tuple[int, dict[str, Any]]]:
    loads, readline = orjson.loads, fh.readline
    limit = max_input_bytes()
    lineno = first_lineno - 1
    while raw := readline(limit + 1):  # each line bounded (the rest of an over-long line is never read)
        lineno += 1
        if len(raw) == limit + 1 and not raw.endswith(b"\n"):
            raise line_too_long(str(path), lineno, limit, SessionError)
        try:
            rec = loads(raw)
        except orjson.JSONDecodeError as e:
            got = unparsable(path, lineno, raw, e, cut=not raw.endswith(b"\n"), strict=strict, on_warning=on_warning)
            if got is _STOP:
                return
            continue
        yield lineno, rec if is_message(rec) else check_record(path, lineno, rec)


def iter_records(
    path: Path | str, *, strict: bool = False, on_warning: WarnFn | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, record)`` for every record after the header, streaming."""
    p, fh = _open(path)
    with fh:
        parse_header(p, _first_line(p, fh))
        yield from _records(p, fh, 2, strict, on_warning)


def thread_counts(
    path: Path | str, *, strict: bool = False, on_warning: WarnFn | None = None, header: Known | None = None
) -> dict[ThreadKey, int]:
    """How many messages each thread holds (after its last ``clear``), from one streaming pass over the file."""
    reducer = ThreadReducer(count_only=True)
    p, fh = _open(path)
    with fh:
        _past_header(p, fh, header)
        _reduce(p, fh, reducer, strict, on_warning, None)
    return reducer.threads


def _reduce(
    p: Path, fh: Any, reducer: ThreadReducer, strict: bool, warn: WarnFn | None, events: list[dict[str, Any]] | None
) -> tuple[int, int]:
    """Feed every record after the header to ``reducer`` (other records to ``events`` too); returns the number of
    the last line that held a record and how many message records there were."""
    steps = _reducing(p, fh, reducer, strict, warn, events)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


def _reducing(
    p: Path,
    fh: Any,
    reducer: ThreadReducer,
    strict: bool,
    warn: WarnFn | None,
    events: list[dict[str, Any]] | None,
) -> Generator[None, None, tuple[int, int]]:
    """:func:`_reduce` as a generator that stops (yields) after each record that is not a message (a ``clear`` may
    have ended a conversation: :meth:`ThreadReducer.closed`), so a streaming reader hands conversations on as they
    end; its return value is :func:`_reduce`'s.

    One flat loop (what :func:`_records` does, inlined: this is the hot path of ``update``, ``validate``, the
    thread counts and export); what a record means is :meth:`ThreadReducer.feed`'s and :meth:`ThreadReducer.apply`'s.
    The cyclic GC is paused while the threads are built: they are acyclic, and each collection would walk them all."""
    loads = orjson.loads
    feed, apply = reducer.feeder(), reducer.apply
    messages = 0
    lineno = 1
    last = 1
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        limit = max_input_bytes()
        size = limit + 1
        readline = fh.readline
        while raw := readline(size):  # each line bounded (the rest of an over-long line is never read)
            lineno += 1
            if len(raw) == size and raw[-1] != 10:
                raise line_too_long(str(p), lineno, limit, SessionError)
            try:
                rec = loads(raw)
            except orjson.JSONDecodeError as e:
                if unparsable(p, lineno, raw, e, cut=not raw.endswith(b"\n"), strict=strict, on_warning=warn) is _STOP:
                    break
                continue
            last = lineno
            if feed(rec):
                messages += 1
                continue
            apply(check_record(p, lineno, rec))
            if events is not None:
                events.append(rec)
            yield
    finally:
        if gc_was_enabled:
            gc.enable()
    return last, messages


def iter_conversations(
    path: Path | str, agent: str, peer: str, *, strict: bool = False, on_warning: WarnFn | None = None
) -> Iterator[list[Message]]:
    """Every conversation of ``agent.chat_messages[peer]``, oldest first, each handed on as soon as it ends: what
    :meth:`Session.conversations` gives, read with memory for one conversation (the whole-file reader and the
    :class:`ThreadReducer` every reader shares). Empty conversations are left out. A thread the file does not hold
    gives nothing."""
    return open_session(path).conversations(agent, peer, strict=strict, on_warning=on_warning)


class OpenSession:
    """A session file opened once, its header read: what a caller uses to learn the header, ask which threads it
    holds (:meth:`holds`, :meth:`thread_keys`: the pair's inference) and then read it (:meth:`load`,
    :meth:`conversations`) without opening the file again (:func:`open_session`; ``export``, ``validate``, ``inspect``
    and the walk's header read it this way). Closed when :meth:`conversations` ends, by :meth:`close`, or as a
    context manager."""

    def __init__(self, path: Path, fh: Any, header: SessionHeader, head: bytes = b"") -> None:
        self.path, self.header, self._fh, self._start = path, header, fh, fh.tell()
        #: the header line as read (its bytes start the file's sha256 when a later read continues it)
        self.head = head
        #: the agents with a ``clear`` record in the file, when :meth:`thread_keys`' byte scan saw every line
        self._cleared: set[str] | None = None

    def __enter__(self) -> OpenSession:
        return self

    def __exit__(self, *_: object) -> None:
        self._fh.close()

    @property
    def known(self) -> Known:
        """The header and the offset after it, for a reader that opens the file again (it skips the header)."""
        return self.header, self._start

    def thread_keys(self, *, strict: bool = False, on_warning: WarnFn | None = None) -> list[ThreadKey]:
        """:func:`thread_keys` of the open file."""
        keys, self._cleared = _keys(self.path, self._fh, self._start, strict, on_warning)
        return keys

    def never_cleared(self, agent: str) -> bool:
        """Whether :meth:`thread_keys` (called before) saw, from the bytes of every line, that no ``clear`` record of
        ``agent`` is in the file: a reader of its thread may then start after the header (``iter_thread(uncleared=)``)
        instead of searching for the last one. False when that is not known."""
        return self._cleared is not None and agent not in self._cleared

    def load(
        self, *, pairs: Iterable[ThreadKey] | None = None, agents: Iterable[str] | None = None, strict: bool = False,
        on_warning: WarnFn | None = None,
    ) -> Session:
        """:func:`load_session` of the open file (the header is not read again)."""
        self._fh.seek(self._start)
        return _load(self.path, self._fh, self.header, pairs, agents, strict, on_warning, None)

    def counts(self, *, strict: bool = False, on_warning: WarnFn | None = None) -> tuple[dict[ThreadKey, int], int]:
        """:func:`thread_counts` of the open file and how many message records it holds: one pass that reads and
        checks every line and tells who talked to whom (its keys are :meth:`thread_keys`)."""
        reducer = ThreadReducer(count_only=True)
        self._fh.seek(self._start)
        _, messages = _reduce(self.path, self._fh, reducer, strict, on_warning, None)
        return reducer.threads, messages

    def has_thread(self, agent: str, peer: str, *, on_warning: WarnFn | None = None) -> bool:
        """Whether the file holds a message of ``agent.chat_messages[peer]`` (a cleared thread included): its line in
        the canonical framing found from the start of the file (at once when the thread is there), else
        :meth:`thread_keys` decides (another writer's lines, a thread that is not there)."""
        return self._finds_line(agent, peer) or (agent, peer) in self.thread_keys(on_warning=on_warning)

    def holds(self, agent: str, peer: str) -> bool:
        """:func:`thread_in_file` on the open file: its line in the canonical framing found, and True too when the
        file cannot be judged this way (not a session: the caller's own reader will say)."""
        if isinstance(self._fh, io.BytesIO):
            return self._finds_line(agent, peer)
        return _scan.holds(self._fh.fileno(), agent, peer)

    def _finds_line(self, agent: str, peer: str) -> bool:
        """Whether a line of the thread in the canonical framing is in the file (one ``find`` from its start)."""
        needle = b"\n" + message_line_prefix(agent, peer)
        if isinstance(self._fh, io.BytesIO):  # a small file, read whole
            return self._fh.getbuffer().tobytes().find(needle) >= 0
        return _scan.finds(self._fh.fileno(), needle)

    def conversations(
        self, agent: str, peer: str, *, strict: bool = False, on_warning: WarnFn | None = None
    ) -> Iterator[list[Message]]:
        """:func:`iter_conversations` of the open file (closing it at the end)."""
        key = (agent, peer)
        reducer = ThreadReducer(pairs=[key])
        fh = self._fh
        try:
            fh.seek(self._start)
            for _ in _reducing(self.path, fh, reducer, strict, on_warning, None):
                for _key, conv in reducer.closed():
                    yield conv
        finally:
            fh.close()
        current = reducer.threads.get(key)
        if current:
            yield current

    def close(self) -> None:
        self._fh.close()


def open_session(path: Path | str) -> OpenSession:
    """The session file at ``path`` opened and its header checked (see :class:`OpenSession`)."""
    p, fh = _open(path)
    try:
        size = os.fstat(fh.fileno()).st_size
        if size <= _SMALL:  # read at once (a folder of many small sessions: one read each)
            with fh:
                fh = io.BytesIO(fh.read(size + 1))
        head = _first_line(p, fh)
        return OpenSession(p, fh, parse_header(p, head), head)
    except BaseException:
        fh.close()
        raise


_SMALL = 256 << 10  # a session file up to this size is read whole by :func:`open_session`


def thread_keys(
    path: Path | str, *, strict: bool = False, on_warning: WarnFn | None = None, header: Known | None = None
) -> list[ThreadKey]:
    """Every thread the file holds, in order of first appearance (a cleared thread included): the truth about who
    talked to whom, which the header's agent list is not (a peer that was not recorded has no definition there).

    When every line has the canonical framing :func:`.records.dumps_record` writes, this reads the file in blocks
    and, per block, searches for the first line that is neither a ``clear`` nor a message of a thread already found
    (one regular-expression search whose pattern excludes the known prefixes), so only the first line of each
    thread is looked at: one pass at close to memory speed, however many threads. Otherwise (a blank line, another
    writer's key order, an unknown record, a final line without its newline that starts a thread, or more than
    ``_scan.SEARCHED_THREADS`` threads) the same answer comes from :func:`thread_counts`."""
    p = Path(path)
    start = header[1] if header is not None else read_header(p)[1]
    with open(p, "rb") as fh:
        return _keys(p, fh, start, strict, on_warning)[0]


def _keys(
    p: Path, fh: Any, start: int, strict: bool, on_warning: WarnFn | None
) -> tuple[list[ThreadKey], set[str] | None]:
    """:func:`thread_keys` of ``fh``, its records starting at ``start``, and the agents with a ``clear`` record when
    known: the byte scan on a file, else (a file read into memory, or one the scan cannot judge) one streaming pass
    of the full reader (then None: not known)."""
    if not isinstance(fh, io.BytesIO):
        try:
            found = _scan.canonical_threads(fh.fileno(), start - 1)
            if found is not None:
                return found
        except (OSError, ValueError, orjson.JSONDecodeError):  # unreadable or odd bytes: the full reader decides
            pass
    reducer = ThreadReducer(count_only=True)
    fh.seek(start)
    _reduce(p, fh, reducer, strict, on_warning, None)
    return list(reducer.threads), None


def load_session(
    path: Path | str,
    *,
    pairs: Iterable[ThreadKey] | None = None,
    agents: Iterable[str] | None = None,
    strict: bool = False,
    on_warning: WarnFn | None = None,
    header: Known | None = None,
    digest: Any = None,
) -> Session:
    """Read a session file into a :class:`~agent_ft_cli.session.Session`.

    Args:
        path: the session file (JSON Lines written by agent-ft).
        pairs: keep only these ``(agent, peer)`` threads in memory; ``agents``: only these agents' threads
            (all by default; every line is still read and checked).
        header: what :func:`read_header` gave the caller: reading starts after the header, not read again.
        digest: a ``hashlib`` object fed every byte read after the header, to the end of the file (fed the header
            line first, it gives the file's sha256 from this one read: the run record's).
        strict: a final line cut short by a crash is an error instead of a warning.
        on_warning: called with each warning's text; without it, warnings are issued as
            :class:`~agent_ft_cli.errors.SessionWarning`.

    Clears apply as the recorder wrote them: a ``clear`` record empties the thread it names (every thread of its
    agent when its peer is null), so ``threads`` hold each thread as the agent held it at the end; the
    conversations before each clear stay available from :meth:`Session.conversations`.

    Raises:
        SessionError: the file is missing, unreadable, not a session, of a newer major version, or has a damaged
            line (named by file and line).
    """
    p, fh = _open(path)
    with fh:
        return _load(p, fh, _past_header(p, fh, header), pairs, agents, strict, on_warning, digest)


def _load(
    p: Path,
    fh: Any,
    header: SessionHeader,
    pairs: Iterable[ThreadKey] | None,
    agents: Iterable[str] | None,
    strict: bool,
    on_warning: WarnFn | None,
    digest: Any,
) -> Session:
    """:func:`load_session`'s work on ``fh``, positioned after the header."""
    reducer = ThreadReducer(pairs=pairs, agents=agents)
    events: list[dict[str, Any]] = []
    session = Session(path=p, header=header, threads=reducer.threads, events=events, earlier=reducer.earlier)

    def warn(text: str) -> None:
        session.warnings.append(text)
        _warn(on_warning, text)

    source = fh if digest is None else _Hashing(fh, digest)
    last, messages = _reduce(p, source, reducer, strict, warn, events)
    if digest is not None:  # the rest after a final line cut short: the digest covers every byte of the file
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    session.lines = last
    session.messages_total = messages
    return session


class _Hashing:
    """A file whose lines, as they are read, are also fed to ``digest`` (the file's sha256 from the one read)."""

    def __init__(self, fh: Any, digest: Any) -> None:
        self._readline, self._update = fh.readline, digest.update

    def readline(self, size: int = -1) -> bytes:
        raw: bytes = self._readline(size)
        self._update(raw)
        return raw
