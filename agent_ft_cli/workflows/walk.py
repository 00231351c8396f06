"""The walk every workflow shares: read -> config -> pair -> client -> replay, each step once.

:func:`plan` reads the config and the session header and decides the agent, the peer and the client
(:mod:`agent_ft_cli.pairing`); :func:`replay` loads the pair's threads and builds the live agents with the client
registered (:func:`agent_ft_cli.classic.replay.replay_pair`). ``update`` runs both and then the seed's contract;
a later ``eval`` runs both and then asks the agent for replies. Nothing here prints: client code runs with stdout
pointed at stderr (:func:`stdout_to_stderr`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SessionError
from ..pairing import ClientChoice, resolve_client, resolve_pair
from ..session import load_session, read_header

if TYPE_CHECKING:  # pragma: no cover
    from ..classic.replay import ReplayedPair
    from ..config import PairConfig
    from ..types import SessionHeader

WarnFn = Callable[[str], None]


def load_config(path: Path) -> PairConfig:
    """The YAML config (imported on demand: yaml is not needed by a command without a config)."""
    from ..config import load_config as load

    return load(path)


@contextlib.contextmanager
def stdout_to_stderr(*, quiet: bool = False) -> Iterator[None]:
    """Everything autogen or a client prints goes to stderr (or nowhere when ``quiet``), so stdout carries only
    the requested output: ``sys.stdout`` and file descriptor 1 both
    (:func:`agent_ft_cli.clients.loading.client_stdout_to_stderr`)."""
    from ..clients.loading import client_stdout_to_stderr

    with client_stdout_to_stderr(quiet=quiet):
        yield


@dataclass
class Plan:
    """What a workflow works on, decided before any heavy work: the session, its pair, the config and the client."""

    session_path: Path
    header: SessionHeader
    agent: str
    peer: str
    config: PairConfig | None
    client: ClientChoice | None


def plan(
    session_path: Path,
    *,
    agent: str | None = None,
    peer: str | None = None,
    config_path: Path | None = None,
    client: str | None = None,
    client_args: dict[str, Any] | None = None,
    trust_session_client: bool = False,
) -> Plan:
    """Read the config and the session header; resolve the pair and the client (the session's recorded client
    included, with consent: ``trust_session_client``, see :func:`agent_ft_cli.pairing.resolve_client`)."""
    config = load_config(config_path) if config_path else None
    header, _ = read_header(session_path)
    a, p = resolve_pair(header, agent, peer, path=session_path, config=config)
    choice = resolve_client(
        client, config, header=header, agent=a, client_args=client_args, trust_session_client=trust_session_client
    )
    return Plan(session_path, header, a, p, config, choice)


def replay(
    walk: Plan, client_cls: type | None, *, strict: bool = False, on_warning: WarnFn | None = None
) -> ReplayedPair:
    """Load the pair's two threads and build the live agents holding them, ``client_cls`` registered on the agent.

    Run it inside :func:`stdout_to_stderr`: building agents and the client runs their code."""
    agent, peer = walk.agent, walk.peer
    session = load_session(walk.session_path, pairs=[(agent, peer), (peer, agent)], strict=strict, on_warning=on_warning)
    if (agent, peer) not in session.threads:
        raise SessionError(f"{walk.session_path}: no messages in thread {agent}->{peer}; nothing to learn from")
    from ..classic.compat import require_autogen
    from ..classic.replay import replay_pair

    require_autogen()
    args = walk.client.args if walk.client is not None else {}
    return replay_pair(session, agent, peer, client_cls=client_cls, client_args=args, config=walk.config)
