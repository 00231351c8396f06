"""The library's entry points that rebuild live agents from a session (export's are in :mod:`.export.api`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .session import Session, WarnFn


def replay(
    session: str | os.PathLike[str] | Session,
    *,
    client: type | str | None = None,
    agent: str | None = None,
    peer: str | None = None,
    client_args: dict[str, Any] | None = None,
    strict: bool = False,
    on_warning: WarnFn | None = None,
) -> tuple[Any, Any]:
    """Rebuild the recorded pair as live autogen agents: ``(agent, peer)``, each holding its view of the thread.

    The same walk ``agent-ft update`` does before it calls ``update_model``: the agents are built from the session
    header's definitions (a peer the header does not define becomes a plain stand-in), ``agent.chat_messages[peer]``
    and ``peer.chat_messages[agent]`` are the threads as the agents held them when the session ended (the last
    conversation: see :meth:`Session.thread`), and the client is registered on ``agent``.

    ``session``: a path or a :class:`Session` from :func:`load_session`. ``client``: a model client class, an import
    path ``"module:Class"``, or None for the client the session recorded for ``agent`` (none is registered when it
    recorded none); ``client_args`` go to its constructor. ``agent``/``peer``: which thread, inferred as ``update``
    infers them (the agent with a model client) when not given.

    Raises :class:`~agent_ft_cli.errors.SessionError` (unreadable session, unknown agent or thread),
    :class:`~agent_ft_cli.errors.ClientLoadError` (the client cannot be imported, breaks the protocol or cannot be
    registered, or autogen is not the classic API).
    """
    from .classic.compat import require_autogen
    from .classic.replay import replay_pair
    from .clients.loading import check_protocol, load_client
    from .pairing import resolve_client, resolve_pair
    from .session import load_session

    if not isinstance(session, Session):
        session = load_session(Path(os.fspath(session)), strict=strict, on_warning=on_warning)
    a, p = resolve_pair(session.header, agent, peer, path=session.path)
    client_cls: type | None = None
    args = dict(client_args or {})
    if isinstance(client, type):
        client_cls = check_protocol(client)
    else:
        choice = resolve_client(client, None, header=session.header, agent=a, client_args=client_args)
        if choice is not None:
            client_cls, args = load_client(choice.spec), choice.args
    require_autogen()
    pair = replay_pair(session, a, p, client_cls=client_cls, client_args=args)
    return pair.agent, pair.peer
