"""Session arguments (files, folders, glob patterns) as the list of files to export."""

from __future__ import annotations

import glob
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import SessionError, UsageError
from ..session import Message, Session, ThreadKey, WarnFn, iter_records
from ..session.threads import clears, message_key

_GLOB = re.compile(r"[*?\[]")


def expand_sessions(items: Iterable[Path | str]) -> list[Path]:
    """Session arguments as files: a file, a folder (its ``*.jsonl``) or a glob pattern, in order, no duplicates."""
    seen: set[Path] = set()
    out: list[Path] = []
    for item in items:
        text = str(item)
        p = Path(text)
        if p.is_dir():
            found = sorted(p.glob("*.jsonl"))
            if not found:
                raise SessionError(f"session folder {text!r} holds no *.jsonl session files")
        elif not p.exists() and _GLOB.search(text):
            found = sorted(Path(f) for f in glob.glob(text, recursive=True) if Path(f).is_file())
            if not found:
                raise SessionError(f"session pattern {text!r} matches no files")
        else:
            if not p.exists():
                raise SessionError(f"session file {text!r} does not exist")
            found = [p]
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                out.append(f)
    if not out:
        raise UsageError("give at least one {session}", options=("session",))
    return out


def conversations(
    source: Path | str | Session,
    agent: str,
    peer: str,
    *,
    strict: bool = False,
    on_warning: WarnFn | None = None,
) -> list[list[Message]]:
    """Every conversation of thread ``agent->peer`` in a session, oldest first (empty ones left out).

    A ``clear`` of the thread (autogen's ``clear_history`` at each new ``initiate_chat``) ends one conversation and
    starts the next; the last one is what ``load_session(...).thread(agent, peer)`` shows. This is the one place
    export reads conversations from: it becomes ``Session.conversations(agent, peer)`` when the session package
    offers it.
    """
    method = getattr(source, "conversations", None)
    if callable(method):  # a Session that knows its conversations (the session package's own reader)
        return [c for c in method(agent, peer) if c]
    if isinstance(source, Session):
        if not source.path.is_file():  # built in memory: only its threads are known
            thread = source.threads.get((agent, peer)) or []
            return [list(thread)] if thread else []
        source = source.path
    key = ThreadKey(agent, peer)
    done: list[list[Message]] = []
    current: list[Message] = []
    for _, rec in iter_records(source, strict=strict, on_warning=on_warning):
        kind = rec.get("type")
        if kind == "message":
            if message_key(rec) == key:
                current.append(rec["message"])
        elif kind == "clear" and clears(rec, key):
            if current:
                done.append(current)
            current = []
    if current:
        done.append(current)
    return done


#: ``agent="all"`` (``--agent all``): every thread of every agent with a model (a team's members, each stream of an
#: ag2 recording), unless the session has an agent of that name.
ALL_AGENTS = "all"


def model_threads(header: Any, source: Path | str | Session, peer: str | None = None) -> list[tuple[str, str]]:
    """Every thread the session holds whose agent has a model (``llm_config`` set in the header), in order of first
    appearance; with ``peer``, only the threads with it. What ``agent="all"`` exports."""
    from ..session import thread_keys

    with_model = {a["name"] for a in header.get("agents") or [] if a.get("llm_config")}
    keys = list(source.threads) if isinstance(source, Session) and not source.path.is_file() else thread_keys(
        source.path if isinstance(source, Session) else source
    )
    return [(a, p) for a, p in keys if a in with_model and (peer is None or p == peer)]


def thread_listing(source: Path | str | Session, agents: Iterable[str] | None = None) -> str:
    """The session's threads as ``agent->peer (N messages)`` (only ``agents``' when given), for a message that asks
    the user to choose one."""
    from ..session import thread_counts

    path = source.path if isinstance(source, Session) else Path(source)
    if not path.is_file():
        return ""
    wanted = set(agents) if agents is not None else None
    try:
        counts = thread_counts(path, on_warning=lambda _: None)
    except SessionError:  # a damaged line: the reader that reads the session says so, not this listing
        return "(cannot be listed)"
    return ", ".join(f"{a}->{p} ({n} messages)" for (a, p), n in counts.items() if wanted is None or a in wanted)
