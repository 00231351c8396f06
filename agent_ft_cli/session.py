"""The session file format (v1): JSON Lines, one record per line, streamed in and out.

Layout (documented in README.md; JSON Schema in ``agent_ft_cli/schemas/session-v1.schema.json``)::

    {"type":"header","format":"agent-ft-session","version":"1.0","created_at":...,"autogen_version":...,
     "agent_ft_version":...,"agents":[{"name":...,"class":...,"system_message":...,"llm_config":...}, ...]}
    {"type":"message","agent":"assistant","peer":"user","message":{...exactly as in chat_messages[peer]...}}
    {"type":"clear","agent":"assistant","peer":"user"}        # peer null: every thread of that agent

Each line belongs to one *thread*: ``agent.chat_messages[peer]``. Both agents' views are stored, so replay is a
plain assignment on every autogen version. A ``clear`` record empties a thread (``clear_history``, or a history
replaced wholesale, which is written as ``clear`` followed by the new messages).

Readers never hold more than they need: :func:`load_session` keeps the selected threads, :func:`iter_thread`
streams one thread with flat memory, and :func:`tail_thread` reads the header and then walks the file backwards
from its end, so ``inspect --last N`` costs the same on a 1 MB or a 1 GB file.

A final line without its newline that does not parse is what a crash mid-write leaves: it is skipped with a
:class:`~agent_ft_cli.errors.SessionWarning` (an error with ``strict=True``). Any other bad line is an error that
names the file and line. Unknown record types and unknown fields are kept (``Session.events``) and ignored.
"""

from __future__ import annotations

import gc
import mmap
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from .errors import SessionError, SessionWarning
from .fsutil import atomic_writer
from .jsonio import dumps_line, json_default  # noqa: F401  (json_default re-exported)

FORMAT = "agent-ft-session"
VERSION = "1.0"
MAJOR = 1

Message = dict[str, Any]
Pair = tuple[str, str]
WarnFn = Callable[[str], None]

_CHUNK = 1 << 20
_WINDOW = 16 << 20  # bytes mapped at a time when searching a file
_SKIP, _STOP = object(), object()  # what a reader's line parser says besides "here is a message"


# ---------------------------------------------------------------------------------------------------------------
# writing


def dumps_record(record: dict[str, Any]) -> bytes:
    """One record as a line of bytes (compact JSON plus ``\\n``)."""
    return dumps_line(record)


def make_header(agents: list[dict[str, Any]], *, autogen_version: str | None = None, **extra: Any) -> dict[str, Any]:
    """A v1 header record for the given agent definitions (already redacted)."""
    from . import __version__

    header: dict[str, Any] = {
        "type": "header",
        "format": FORMAT,
        "version": VERSION,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "agent_ft_version": __version__,
        "autogen_version": autogen_version,
        "agents": agents,
    }
    header.update(extra)
    return header


def message_record(agent: str, peer: str, message: Message) -> dict[str, Any]:
    return {"type": "message", "agent": agent, "peer": peer, "message": message}


def clear_record(agent: str, peer: str | None) -> dict[str, Any]:
    return {"type": "clear", "agent": agent, "peer": peer}


def write_records(path: Path | str, header: dict[str, Any], records: Iterable[dict[str, Any]]) -> None:
    """Write a header and records atomically, streaming (records may be a generator)."""
    with atomic_writer(Path(path)) as fh:
        fh.write(dumps_record(header))
        for record in records:
            fh.write(dumps_record(record))


def _end_aligned(threads: list[tuple[str, str, Sequence[Message]]]) -> Iterator[dict[str, Any]]:
    rounds = max((len(msgs) for _, _, msgs in threads), default=0)
    for r in range(rounds):
        for agent, peer, msgs in threads:
            i = r - (rounds - len(msgs))
            if i >= 0:
                yield message_record(agent, peer, msgs[i])


def write_session(path: Path | str, header: dict[str, Any], threads: Iterable[tuple[str, str, Iterable[Message]]]) -> None:
    """Write a whole session atomically: the header, then every thread's messages in order.

    When the threads are lists, they are interleaved *aligned at their ends* (the last message of every thread is
    in the last round), as a live recording lays them out: the tail of every thread is then at the end of the file,
    where ``inspect --last N`` reads. Threads given as iterators are written one after the other.
    """
    items = list(threads)
    seqs = [(agent, peer, msgs) for agent, peer, msgs in items if isinstance(msgs, Sequence)]
    if len(seqs) == len(items):
        write_records(path, header, _end_aligned(seqs))
    else:
        write_records(path, header, (message_record(a, p, m) for a, p, msgs in items for m in msgs))


# ---------------------------------------------------------------------------------------------------------------
# reading


@dataclass
class Session:
    """A session read from disk: its header and the threads that were selected."""

    path: Path
    header: dict[str, Any]
    threads: dict[Pair, list[Message]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lines: int = 0
    messages_total: int = 0

    @property
    def agents(self) -> list[dict[str, Any]]:
        return list(self.header.get("agents") or [])

    @property
    def agent_names(self) -> list[str]:
        return [a["name"] for a in self.agents]

    def agent_def(self, name: str) -> dict[str, Any] | None:
        return agent_def(self.header, name)

    def pairs(self) -> list[Pair]:
        return list(self.threads)

    def thread(self, agent: str, peer: str) -> list[Message]:
        """The messages of ``agent.chat_messages[peer]``; an error listing the threads when there is none."""
        try:
            return self.threads[(agent, peer)]
        except KeyError:
            have = ", ".join(f"{a}->{p}" for a, p in self.threads) or "none"
            raise SessionError(
                f"{self.path}: no messages in thread {agent}->{peer}; threads in this session: {have}"
            ) from None


def agent_def(header: dict[str, Any], name: str) -> dict[str, Any] | None:
    for a in header.get("agents") or []:
        if a.get("name") == name:
            return dict(a)
    return None


def _open(path: Path | str) -> tuple[Path, Any]:
    p = Path(path)
    if not p.exists():
        raise SessionError(f"session file {str(p)!r} does not exist")
    if p.is_dir():
        raise SessionError(f"session {str(p)!r} is a folder, not a session file")
    try:
        fh = open(p, "rb")  # noqa: SIM115 - closed by the callers
    except OSError as e:
        raise SessionError(f"cannot read session {str(p)!r}: {e.strerror or e}") from None
    return p, fh


def _bad_line(path: Path, lineno: int | str, raw: bytes, err: Exception | str) -> SessionError:
    where = f"{path}:{lineno}" if isinstance(lineno, int) else f"{path} ({lineno})"
    if b"\x00" in raw:
        return SessionError(f"{where}: binary data, not a session file (JSON Lines)")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return SessionError(f"{where}: invalid UTF-8 at byte {e.start} of the line; session files are UTF-8 JSON Lines")
    detail = str(err).split(": line", 1)[0]
    return SessionError(f"{where}: not valid JSON ({detail}); the line is damaged or cut short, fix or remove it")


def parse_header(path: Path, raw: bytes) -> dict[str, Any]:
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
        raise _bad_line(path, 1, raw, e) from None
    if not isinstance(header, dict) or header.get("type") != "header" or header.get("format") != FORMAT:
        raise SessionError(
            f"{path}:1: not an agent-ft session (the first line must be a header with format {FORMAT!r}); "
            "record sessions with save_session, SessionRecorder or agent-ft record"
        )
    version = header.get("version")
    try:
        major = int(str(version).split(".", 1)[0])
    except ValueError:
        raise SessionError(f"{path}:1: header has an invalid format version {version!r}") from None
    if major > MAJOR:
        raise SessionError(
            f"{path}: written in session format {version}, newer than this agent-ft reads ({VERSION}); "
            "upgrade agent-ft"
        )
    if major < 1:
        raise SessionError(f"{path}:1: header has an invalid format version {version!r}")
    agents = header.get("agents")
    if not isinstance(agents, list) or not all(isinstance(a, dict) and isinstance(a.get("name"), str) for a in agents):
        raise SessionError(f"{path}:1: header field 'agents' must be a list of objects with a 'name'")
    return header


def read_header(path: Path | str) -> tuple[dict[str, Any], int]:
    """The header record and the byte offset where the records after it start."""
    p, fh = _open(path)
    with fh:
        return parse_header(p, fh.readline()), fh.tell()


def _check_record(path: Path, lineno: int | str, rec: Any, raw: bytes) -> dict[str, Any]:
    where = f"{path}:{lineno}" if isinstance(lineno, int) else f"{path} ({lineno})"
    if type(rec) is not dict:
        raise SessionError(f"{where}: each line must be a JSON object, got {type(rec).__name__}")
    kind = rec.get("type")
    if kind == "message":
        if type(rec.get("agent")) is not str or type(rec.get("peer")) is not str:
            raise SessionError(f"{where}: message record needs string fields 'agent' and 'peer'")
        if type(rec.get("message")) is not dict:
            raise SessionError(f"{where}: message record needs an object in field 'message'")
    elif kind == "clear":
        if type(rec.get("agent")) is not str or not (rec.get("peer") is None or type(rec.get("peer")) is str):
            raise SessionError(f"{where}: clear record needs a string 'agent' and a string or null 'peer'")
    elif kind == "header":
        raise SessionError(f"{where}: a second header; sessions cannot be concatenated, record into a new file")
    elif not isinstance(kind, str):
        raise SessionError(f"{where}: record has no 'type' field")
    return rec


def _warn(on_warning: WarnFn | None, text: str) -> None:
    if on_warning is not None:
        on_warning(text)
    else:
        warnings.warn(text, SessionWarning, stacklevel=3)


def _cut_line(path: Path, lineno: int | str, strict: bool, on_warning: WarnFn | None) -> None:
    where = f"{path}:{lineno}" if isinstance(lineno, int) else f"{path} ({lineno})"
    if strict:
        raise SessionError(f"{where}: final line is cut short (the writer probably crashed); drop --strict to skip it")
    _warn(on_warning, f"{where}: skipped the final line, cut short (the writer probably crashed mid-write)")


def _records(
    path: Path, fh: Any, first_lineno: int, strict: bool, on_warning: WarnFn | None
) -> Iterator[tuple[int, dict[str, Any]]]:
    loads = orjson.loads
    lineno = first_lineno - 1
    for raw in fh:
        lineno += 1
        try:
            rec = loads(raw)
        except orjson.JSONDecodeError as e:
            if not raw.strip():
                continue
            if not raw.endswith(b"\n") and b"\x00" not in raw:
                _cut_line(path, lineno, strict, on_warning)
                return
            raise _bad_line(path, lineno, raw, e) from None
        if (
            type(rec) is dict
            and rec.get("type") == "message"
            and type(rec.get("message")) is dict
            and type(rec.get("agent")) is str
            and type(rec.get("peer")) is str
        ):
            yield lineno, rec
            continue
        yield lineno, _check_record(path, lineno, rec, raw)


def iter_records(
    path: Path | str, *, strict: bool = False, on_warning: WarnFn | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, record)`` for every record after the header, streaming."""
    p, fh = _open(path)
    with fh:
        parse_header(p, fh.readline())
        yield from _records(p, fh, 2, strict, on_warning)


def thread_counts(path: Path | str, *, strict: bool = False, on_warning: WarnFn | None = None) -> dict[Pair, int]:
    """How many messages each thread holds (after its last ``clear``), from one streaming pass over the file."""
    counts: dict[Pair, int] = {}
    for _, rec in iter_records(path, strict=strict, on_warning=on_warning):
        if rec["type"] == "message":
            key = (rec["agent"], rec["peer"])
            counts[key] = counts.get(key, 0) + 1
        elif rec["type"] == "clear":
            for key in counts:
                if key[0] == rec["agent"] and rec["peer"] in (None, key[1]):
                    counts[key] = 0
    return counts


def load_session(
    path: Path | str,
    *,
    pairs: Iterable[Pair] | None = None,
    agents: Iterable[str] | None = None,
    strict: bool = False,
    on_warning: WarnFn | None = None,
) -> Session:
    """Read a session. ``pairs`` or ``agents`` limit which threads are kept in memory (all by default)."""
    p, fh = _open(path)
    wanted_pairs = set(pairs) if pairs is not None else None
    wanted_agents = set(agents) if agents is not None else None
    threads: dict[Pair, list[Message]] = {}
    events: list[dict[str, Any]] = []
    messages = 0
    lineno = 1
    with fh:
        header = parse_header(p, fh.readline())
        session = Session(path=p, header=header, threads=threads, events=events)

        def warn(text: str) -> None:
            session.warnings.append(text)
            _warn(on_warning, text)

        # One flat loop (what _records does, inlined: this is the hot path of update and validate). The cyclic
        # GC is paused while the threads are built: they are acyclic, and each collection would walk them all.
        loads = orjson.loads
        keep_none = wanted_agents is not None and not wanted_agents
        last = 1
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            for raw in fh:
                lineno += 1
                try:
                    rec = loads(raw)
                except orjson.JSONDecodeError as e:
                    if not raw.strip():
                        continue
                    if not raw.endswith(b"\n") and b"\x00" not in raw:
                        _cut_line(p, lineno, strict, warn)
                        break
                    raise _bad_line(p, lineno, raw, e) from None
                last = lineno
                if type(rec) is dict and rec.get("type") == "message":
                    agent, peer, message = rec.get("agent"), rec.get("peer"), rec.get("message")
                    if type(agent) is str and type(peer) is str and type(message) is dict:
                        messages += 1
                        if keep_none:
                            continue
                        key = (agent, peer)
                        if (wanted_pairs is None or key in wanted_pairs) and (
                            wanted_agents is None or agent in wanted_agents
                        ):
                            thread = threads.get(key)
                            if thread is None:
                                thread = threads[key] = []
                            thread.append(message)
                        continue
                rec = _check_record(p, lineno, rec, raw)
                if rec["type"] == "clear":
                    agent, peer = rec["agent"], rec["peer"]
                    for key in list(threads):
                        if key[0] == agent and (peer is None or key[1] == peer):
                            threads[key] = []
                events.append(rec)
        finally:
            if gc_was_enabled:
                gc.enable()
    session.lines = last
    session.messages_total = messages
    return session


def _clears(rec: dict[str, Any], agent: str, peer: str) -> bool:
    return rec.get("type") == "clear" and rec.get("agent") == agent and rec.get("peer") in (None, peer)


def _start_after_last_clear(path: Path, fh: Any, start: int, agent: str, peer: str) -> int:
    """Byte offset just after the last ``clear`` record that applies to the thread (``start`` if none).

    Searches for the token ``"clear"`` from the end with mmap; inside a JSON string the quotes would be escaped, so
    only real ``type`` values (and a rare key) match, and each match is confirmed by parsing its line. The file is
    mapped one window at a time, so the pages it touches never add up to more than a window of resident memory.
    """
    fd = fh.fileno()
    size = os.fstat(fd).st_size
    token = b'"clear"'
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
                line_start, raw = _line_around(fd, base + hit, start, size)
                try:
                    rec = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    rec = None
                if isinstance(rec, dict) and _clears(rec, agent, peer):
                    return max(line_start + len(raw), start)
                end = hit
        if lo <= start:
            break
        hi = lo + len(token) - 1  # windows overlap so a token across their border is still found
    return start


def _line_around(fd: int, offset: int, start: int, size: int) -> tuple[int, bytes]:
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


def _line_at(fh: Any, offset: int) -> int:
    """The 1-based number of the line holding byte ``offset``; for error paths only (reads the file up to there)."""
    fd, pos, count = fh.fileno(), 0, 0
    while pos < offset:
        chunk = os.pread(fd, min(_CHUNK, offset - pos), pos)
        if not chunk:
            break
        count += chunk.count(b"\n")
        pos += len(chunk)
    return count + 1


def _check_lines_read(path: Path, fh: Any, offset: int, lines: list[bytes]) -> None:
    """Check complete lines (starting at byte ``offset``) that :func:`tail_thread` read but did not need.

    Called for files of one read block (1 MB) only, where it costs a few milliseconds: there a line cut in the middle
    of the file is refused with ``--last`` too. A bigger file is read only from its end, as ``--last`` promises;
    ``validate`` and the full readers check every line."""
    loads = orjson.loads
    for raw in lines:
        here = offset
        offset += len(raw) + 1
        if not raw.strip():
            continue
        try:
            rec = loads(raw)
        except orjson.JSONDecodeError as e:
            raise _bad_line(path, _line_at(fh, here), raw, e) from None
        if type(rec) is not dict or rec.get("type") != "message":
            _check_record(path, _line_at(fh, here), rec, raw)


_MSG_HEAD = b'{"type":"message","agent":'
_MSG_BODY = b',"message":{'


class _LineFilter:
    """Tells from its bytes alone that a line is a whole message record of *another* thread, so a reader that
    wants one thread can skip it without parsing it.

    Only lines that start the way agent-ft's writer starts them (``{"type":"message","agent":...,"peer":...,
    "message":{``) qualify; the agent/peer bytes are decoded with orjson once per distinct prefix and remembered.
    A skipped line must also look whole: it ends with ``}}`` (and its newline), holds exactly one ``{"type":`` (two
    records run together do not) and no NUL byte. Everything else (the wanted thread's lines, clear records,
    unknown records, damaged lines, a final line without its newline) goes to the full parser, so those errors are
    reported as before; ``validate`` and :func:`load_session` parse every line.
    """

    __slots__ = ("known", "ours", "pair")

    def __init__(self, agent: str, peer: str) -> None:
        self.pair = (agent, peer)
        self.ours = _MSG_HEAD + orjson.dumps(agent) + b',"peer":' + orjson.dumps(peer) + _MSG_BODY
        self.known: dict[bytes, bool] = {}

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
        return other and raw.endswith(end) and raw.count(b'{"type":') == 1 and b"\x00" not in raw

    def pair_block(self, buf: bytes, hi: int) -> int:
        """Whether every line of ``buf[:hi]`` (whole lines, ``hi`` just after a newline) is a message record framed
        as the writer frames it, either of this thread or of one single other thread: the layout of a two-agent
        session. Then a reader can walk this thread's lines with ``find`` and skip all the others at once.

        Checked for the whole block with a few counts of long patterns (the fast ones): every line break is ``}}``,
        newline, one of the two prefixes; the first line starts with one and the last ends with ``}}``; each line
        holds exactly one message head (two records run together do not) and there is no NUL byte."""
        n = buf.count(b"\n", 0, hi)
        if not n or buf.count(_MSG_HEAD, 0, hi) != n or not buf.endswith(b"}}\n", 0, hi) or b"\x00" in buf:
            return 0
        at = 0
        for _ in range(64):  # the first line that is not ours gives the other thread's prefix
            if not buf.startswith(self.ours, at):
                break
            at = buf.find(b"\n", at, hi) + 1
            if not at or at >= hi:
                return n if buf.count(b"}}\n" + self.ours, 0, hi) == n - 1 else 0  # only our lines
        else:
            return 0
        end = buf.find(b"\n", at, hi) + 1
        line = buf[at:end]
        cut = line.find(_MSG_BODY, len(_MSG_HEAD))
        if cut < 0 or not self.foreign(line):
            return 0
        other = line[: cut + len(_MSG_BODY)]
        if not (buf.startswith(self.ours) or buf.startswith(other)):
            return 0
        joins = buf.count(b"}}\n" + self.ours, 0, hi) + buf.count(b"}}\n" + other, 0, hi)
        return n if joins == n - 1 else 0

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


def iter_thread(
    path: Path | str,
    agent: str,
    peer: str,
    *,
    strict: bool = False,
    on_warning: WarnFn | None = None,
    as_bytes: bool = False,
) -> Iterator[Any]:
    """Stream the messages of one thread (``agent.chat_messages[peer]``) in order, with flat memory.

    With ``as_bytes=True`` each message comes as its JSON text (bytes), for output: the slice of the line when the line
    is in the writer's canonical form (it is still parsed, so a damaged line is an error as always), else
    ``orjson.dumps`` of the parsed message.

    The file is read a block (1 MB of whole lines) at a time. Lines that start with the wanted thread's record
    prefix are found with ``bytes.find`` and parsed one by one; the runs of lines between them are skipped at once
    when :meth:`_LineFilter.run_of_foreign` shows from their bytes that every one is a whole message record of
    another thread, and otherwise go line by line through the full checks (so a damaged, cut, clear or unknown
    line is handled exactly as a line-by-line reader would).
    """
    p, fh = _open(path)
    with fh:
        parse_header(p, fh.readline())
        after_header = fh.tell()
        start = _start_after_last_clear(p, fh, after_header, agent, peer)
        numbered = start == after_header  # else line numbers are worked out on the error paths only
        lineno = 2
        loads = orjson.loads
        lines = _LineFilter(agent, peer)
        ours, foreign, run_of_foreign = lines.ours, lines.foreign, lines.run_of_foreign
        next_ours = b"\n" + ours
        body = len(ours) - 1  # where the message object starts in a line that starts with ``ours``

        def parse_line(raw: bytes, number: int, at: int) -> Any:
            """A line the fast paths did not settle, parsed and checked in full: this thread's message, or
            ``_SKIP`` (another record, a blank line), or ``_STOP`` (a final line cut short, warned about)."""
            try:
                rec = loads(raw)
            except orjson.JSONDecodeError as e:
                if not raw.strip():
                    return _SKIP
                here = number if numbered else _line_at(fh, at)
                if not raw.endswith(b"\n") and b"\x00" not in raw:
                    _cut_line(p, here, strict, on_warning)
                    return _STOP
                raise _bad_line(p, here, raw, e) from None
            if (
                type(rec) is dict
                and rec.get("agent") == agent
                and rec.get("peer") == peer
                and rec.get("type") == "message"
                and type(rec.get("message")) is dict
            ):
                return rec["message"]
            _check_record(p, number if numbered else _line_at(fh, at), rec, raw)
            return _SKIP
        fd = fh.fileno()
        read_at = start
        pending = b""  # the start of a line longer than a block, gathered across reads
        while True:
            data = os.pread(fd, max(_CHUNK, len(pending)), read_at)
            block = pending + data if pending else data
            block_at = read_at - len(pending)  # file offset of block[0]
            at_end = len(data) < max(_CHUNK, len(pending))
            if not block:
                return
            hi = len(block) if at_end else block.rfind(b"\n") + 1  # whole lines only, but all at the end
            pending = b""
            if hi == 0:  # no whole line yet: keep reading
                pending = block
                read_at += len(data)
                continue
            i = 0
            n_lines = lines.pair_block(block, hi) if block[hi - 1 : hi] == b"\n" else 0
            if n_lines:
                # a two-agent block: visit this thread's lines only; a line that does not parse goes on below
                i = 0 if block.startswith(ours) else block.find(next_ours, 0, hi) + 1 or hi
                while i < hi:
                    j = block.find(b"\n", i, hi) + 1
                    text = block[i + body : j - 2]
                    try:
                        msg = loads(text)
                    except orjson.JSONDecodeError:
                        break
                    yield text if as_bytes else msg
                    i = block.find(next_ours, j - 1, hi) + 1 or hi
                lineno += n_lines if i >= hi else block.count(b"\n", 0, i)
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
    path: Path | str, agent: str, peer: str, n: int, *, strict: bool = False, on_warning: WarnFn | None = None
) -> list[Message]:
    """The last ``n`` messages of a thread, found by walking the file backwards from its end.

    Stops at ``n`` messages or at a ``clear`` record for the thread, whichever comes first; memory is bounded by
    ``n`` messages plus one read block, whatever the size of the file.
    """
    if n <= 0:
        return []
    p, fh = _open(path)
    found: list[Message] = []
    lines_filter = _LineFilter(agent, peer)
    ours, foreign = lines_filter.ours, lines_filter.foreign
    with fh:
        parse_header(p, fh.readline())
        start = fh.tell()
        fd = fh.fileno()
        size = os.fstat(fd).st_size
        pos = size
        carry = b""
        last_line = True
        from_end = 0
        while pos > start and len(found) < n:
            read = min(_CHUNK, pos - start)
            pos -= read
            block = os.pread(fd, read + len(carry), pos)  # = this block + the carried start of the line after it
            if not last_line:  # a block of other threads' whole records only: nothing to parse, nothing to split
                cut = block.find(b"\n") + 1 if pos > start else 0
                skipped = lines_filter.run_of_foreign(block, cut, len(block), closed=False) if cut or pos == start else 0
                if skipped:
                    carry = block[: cut - 1] if pos > start else b""
                    from_end += skipped
                    continue
            lines = block.split(b"\n")
            # the first piece may be the tail of a line that starts in the previous block
            carry = lines[0] if pos > start else b""
            body = lines[1:] if pos > start else lines
            body_at = pos + (len(lines[0]) + 1 if pos > start else 0)  # file offset of body[0] (error paths)
            for idx in range(len(body) - 1, -1, -1):
                raw = body[idx]
                if not last_line and not raw.startswith(ours) and foreign(raw, b"}}"):
                    from_end += 1
                    continue
                is_last = last_line
                if raw.strip() == b"" and is_last:
                    continue  # the empty piece after the final newline
                last_line = False
                from_end += 1
                if not raw.strip():
                    continue
                try:
                    rec = orjson.loads(raw)
                except orjson.JSONDecodeError as e:
                    here = _line_at(fh, body_at + sum(len(x) + 1 for x in body[:idx]))
                    if is_last and not block.endswith(b"\n") and b"\x00" not in raw:
                        _cut_line(p, here, strict, on_warning)
                        continue
                    raise _bad_line(p, here, raw, e) from None
                if type(rec) is not dict:
                    _check_record(p, _line_at(fh, body_at + sum(len(x) + 1 for x in body[:idx])), rec, raw)
                if rec.get("agent") == agent:
                    if rec.get("type") == "message" and rec.get("peer") == peer:
                        msg = rec.get("message")
                        if type(msg) is not dict:
                            _check_record(p, _line_at(fh, body_at + sum(len(x) + 1 for x in body[:idx])), rec, raw)
                        found.append(msg)
                        if len(found) >= n:
                            if size - start <= _CHUNK:  # a small file is checked whole; a big one only where read
                                _check_lines_read(p, fh, body_at, body[:idx])
                            break
                    elif _clears(rec, agent, peer):
                        if size - start <= _CHUNK:
                            _check_lines_read(p, fh, body_at, body[:idx])
                        pos = start  # nothing before a clear belongs to the thread
                        break
    found.reverse()
    return found


# ---------------------------------------------------------------------------------------------------------------
# choosing the pair


def has_model_client(agent: dict[str, Any]) -> bool:
    """Whether an agent definition's llm_config names a custom ``model_client_cls``."""
    cfg = agent.get("llm_config")
    if not isinstance(cfg, dict):
        return False
    entries = cfg.get("config_list") or []
    return any(isinstance(e, dict) and e.get("model_client_cls") for e in entries)


def choose_pair(
    header: dict[str, Any],
    agent: str | None = None,
    peer: str | None = None,
    *,
    path: Path | str = "session",
    threads: Iterable[Pair] | None = None,
) -> Pair:
    """Pick the (updated agent, peer) pair: as given, or inferred when unambiguous.

    The agent with a custom model client is the one updated and the other is its peer. Anything ambiguous is an
    error that lists the choices.
    """
    defs = header.get("agents") or []
    names = [a["name"] for a in defs]
    known_threads = list(threads) if threads is not None else None
    listing = ", ".join(names) or "none"
    if agent is not None and agent not in names:
        raise SessionError(f"{path}: agent {agent!r} is not in this session; agents: {listing}")
    if peer is not None and peer not in names:
        peers_here = sorted({p for a, p in known_threads or []} - set(names))
        if peer not in peers_here:
            raise SessionError(f"{path}: peer {peer!r} is not in this session; agents: {listing}")
    if agent is None:
        candidates = [a["name"] for a in defs if has_model_client(a) and a["name"] != peer]
        if len(candidates) != 1:
            with_llm = [a["name"] for a in defs if a.get("llm_config") and a["name"] != peer]
            candidates = candidates or (with_llm if len(with_llm) == 1 else [])
        if len(candidates) != 1:
            reason = "several agents have" if len(candidates) > 1 else "no single agent has"
            raise SessionError(
                f"{path}: cannot tell which agent to update ({reason} a model client); "
                f"pass --agent and --peer; agents: {listing}"
            )
        agent = candidates[0]
    if peer is None:
        others = [n for n in names if n != agent]
        if known_threads is not None and len(others) != 1:
            with_thread = sorted({p for a, p in known_threads if a == agent})
            others = with_thread if with_thread else others
        if len(others) != 1:
            raise SessionError(
                f"{path}: cannot tell which peer's thread to use for {agent!r}; pass --peer; "
                f"choices: {', '.join(others) or 'none'}"
            )
        peer = others[0]
    if agent == peer:
        raise SessionError(f"{path}: --agent and --peer are both {agent!r}; choose two different agents")
    return agent, peer
