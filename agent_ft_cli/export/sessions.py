"""A session's conversations for export (the session arguments are expanded by :mod:`agent_ft_cli.session.paths`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import SessionError
from ..session import Message, Session, WarnFn, iter_conversations


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
