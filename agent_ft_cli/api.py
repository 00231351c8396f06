"""The library's entry points that rebuild live agents from a session (export's are in :mod:`.export.api`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import UsageError
from .session import Session, WarnFn


def replay(
    session: str | os.PathLike[str] | Session,
    *,
    client: type | str | None = None,
    agent: str | None = None,
    peer: str | None = None,
    client_args: dict[str, Any] | None = None,
    config: str | os.PathLike[str] | None = None,
    strict: bool = False,
    on_warning: WarnFn | None = None,
    trust_session_client: bool = False,
) -> tuple[Any, Any]:
    """Rebuild the recorded pair as live autogen agents: ``(agent, peer)``, each holding its view of the thread.

    The same walk ``agent-ft update`` does before it calls ``update_model`` (:mod:`agent_ft_cli.workflows.walk`):
    the agents are built from the config, else from the session header's definitions (a peer the header does not
    define becomes a plain stand-in), ``agent.chat_messages[peer]`` and ``peer.chat_messages[agent]`` are the
    threads as the agents held them when the session ended (the last conversation: see :meth:`Session.thread`),
    and the client is registered on ``agent``.

    ``session``: a path or a :class:`Session` from :func:`load_session`. ``client``: a model client class, an import
    path ``"module:Class"``, or None for the config's client, else the one the session recorded for ``agent`` (none
    is registered when there is none); ``client_args`` go to its constructor. ``agent``/``peer``: which thread,
    inferred as ``update`` infers them (the config's ``update``/``peer``, else the agent with a model client) when
    not given. ``config``: a YAML pair config, as ``agent-ft update --config`` reads it.

    ``trust_session_client``: consent to import the client the session names when ``client`` is None. A session is
    data, and data never chooses code: without consent only agent-ft's bundled clients are imported from a session
    (as ``agent-ft update`` does; the convention of transformers' ``trust_remote_code``). Pass it only for sessions
    you trust, or name the client yourself.

    Raises :class:`~agent_ft_cli.errors.SessionError` (unreadable session, unknown agent or thread),
    :class:`~agent_ft_cli.errors.ConfigError` (an invalid config),
    :class:`~agent_ft_cli.errors.ClientLoadError` (the client cannot be imported, breaks the protocol or cannot be
    registered, or autogen is not the classic API), :class:`~agent_ft_cli.errors.UsageError` (an argument of the
    wrong type; the session names a client you did not consent to:
    :class:`~agent_ft_cli.pairing.UntrustedSessionClientError`).
    """
    from .classic.compat import require_autogen
    from .classic.replay import replay_pair
    from .errors import AgentFtError
    from .workflows.walk import Target, plan

    _check_arguments(session, client, agent, peer, client_args, on_warning)
    loaded = session if isinstance(session, Session) else None
    target = Target(
        Path(os.fspath(loaded.path if loaded is not None else session)),  # type: ignore[arg-type]
        client=client, client_args=dict(client_args or {}), config_path=Path(os.fspath(config)) if config else None,
        agent=agent, peer=peer, strict=strict, trust_session_client=trust_session_client,
    )
    try:
        walk = plan(target, session=loaded)
    except AgentFtError as e:  # named as this function's arguments
        spelled = {"client": "client=...", "trust_session_client": "trust_session_client=True", "config": "config=..."}
        e.spell_options(lambda key: spelled.get(key, key))
        raise
    client_cls = walk.client_class() if walk.client is not None else None
    require_autogen()
    pair = replay_pair(walk.session(on_warning=on_warning), walk.agent, walk.peer, client_cls=client_cls,
                       client_args=walk.client.args if walk.client is not None else {}, config=walk.config)
    return pair.agent, pair.peer


def _check_arguments(session: Any, client: Any, agent: Any, peer: Any, client_args: Any, on_warning: Any) -> None:
    """:class:`UsageError` naming the first argument of :func:`replay` that has the wrong type."""
    if not isinstance(session, Session):
        path = os.fspath(session) if isinstance(session, (str, os.PathLike)) else None
        if not isinstance(path, str):
            raise UsageError(f"session: expected a path or a Session from load_session, got {type(session).__name__}")
        if not path:
            raise UsageError("session: an empty path")
    if client is not None and not isinstance(client, (type, str)):
        hint = " (pass the class, not an instance: replay builds the client)" if hasattr(client, "create") else ""
        raise UsageError(
            "client: expected a model client class or an import path 'package.module:ClassName', got "
            f"{type(client).__name__}{hint}"
        )
    if isinstance(client, str) and not client.strip():
        raise UsageError("client: an empty import path; give 'package.module:ClassName', a class, or None")
    for name, value in (("agent", agent), ("peer", peer)):
        if value is not None and not isinstance(value, str):
            raise UsageError(f"{name}: expected an agent name or None, got {type(value).__name__}")
    if client_args is not None and not (isinstance(client_args, dict) and all(isinstance(k, str) for k in client_args)):
        raise UsageError(f"client_args: expected a dict of keyword arguments, got {type(client_args).__name__}")
    if on_warning is not None and not callable(on_warning):
        raise UsageError(f"on_warning: expected a function of one message, got {type(on_warning).__name__}")
