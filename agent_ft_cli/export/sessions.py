"""Session arguments (files, folders, glob patterns) as the list of files to export."""

from __future__ import annotations

import glob
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import SessionError, UsageError
from ..session import Message, Session, WarnFn, iter_conversations

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
