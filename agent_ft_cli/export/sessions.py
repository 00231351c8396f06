"""Session arguments (files, folders, glob patterns) as the list of files to export."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import SessionError, UsageError
from ..session import Message, Session, WarnFn, iter_conversations

_GLOB = re.compile(r"[*?\[]")


def expand_sessions(items: Iterable[Path | str]) -> list[Path]:
    """Session arguments as files: a file, a folder (its ``*.jsonl``) or a glob pattern, in order, no duplicates."""
    seen: set[str] = set()
    out: list[Path] = []
    for item in items:
        text = str(item)
        p = Path(text)
        if p.is_dir():
            found = _folder_sessions(p)
            if not found:
                raise SessionError(f"session folder {text!r} holds no *.jsonl session files")
        elif not p.exists() and _GLOB.search(text):
            found = [(f, None) for f in sorted(Path(f) for f in glob.glob(text, recursive=True) if Path(f).is_file())]
            if not found:
                raise SessionError(f"session pattern {text!r} matches no files")
        else:
            if not p.exists():
                raise SessionError(f"session file {text!r} does not exist")
            found = [(p, None)]
        for f, key in found:
            key = key or os.path.realpath(f)
            if key not in seen:
                seen.add(key)
                out.append(f)
    if not out:
        raise UsageError("give at least one {session}", options=("session",))
    return out


def _folder_sessions(folder: Path) -> list[tuple[Path, str | None]]:
    """A folder's ``*.jsonl`` entries in name order, each with its real path when that needs no system call (a
    plain file: the folder's real path and its name): one directory read for a folder of 100,000 sessions."""
    real = os.path.realpath(folder)
    with os.scandir(folder) as entries:
        named = sorted((e.name, e.is_symlink()) for e in entries if e.name.endswith(".jsonl"))
    return [(folder / name, None if link else os.path.join(real, name)) for name, link in named]


def conversations(
    source: Path | str | Session,
    agent: str,
    peer: str,
    *,
    strict: bool = False,
    on_warning: WarnFn | None = None,
) -> list[list[Message]]:
    """Every conversation of thread ``agent->peer`` in a session, oldest first (empty ones left out), as the
    session package's reducer says (:meth:`Session.conversations`): a clear ends a conversation, a history rewritten
    in place (``"rewrite": true``) does not."""
    return list(stream_conversations(source, agent, peer, strict=strict, on_warning=on_warning))


def stream_conversations(
    source: Path | str | Session,
    agent: str,
    peer: str,
    *,
    strict: bool = False,
    on_warning: WarnFn | None = None,
) -> Iterator[list[Message]]:
    """:func:`conversations`, each handed on as it ends (from a file: one conversation in memory at a time,
    :func:`~agent_ft_cli.session.iter_conversations`)."""
    if isinstance(source, Session):
        if (agent, peer) not in source.threads:
            return iter(())
        return iter([c for c in source.conversations(agent, peer) if c])
    return iter_conversations(source, agent, peer, strict=strict, on_warning=on_warning)


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
