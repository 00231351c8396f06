"""Which agent, which peer, which client: resolved once, here, for every command.

* :func:`resolve_pair`: the caller's choice first, then the config's ``update``/``peer``, then inference from the
  session (:func:`agent_ft_cli.session.choose_pair`).
* :func:`resolve_client`: the caller's client, else the config's, else (when the caller allows it) the one client
  the session header recorded for the agent. ``update`` and ``validate`` both call it, so ``validate`` checks exactly
  the client ``update`` will import. The result says where the client came from (:attr:`ClientChoice.origin`):
  a client named only by session data runs only with consent (``trust_session_client``, or the caller naming it),
  except agent-ft's own bundled clients (:data:`BUNDLED_CLIENTS`): sessions are data people share, and data never
  chooses code (the convention of transformers' ``trust_remote_code``).

Nothing here imports autogen, yaml or the client: it only decides names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import ClientLoadError, ConfigError, UsageError
from .session import agent_def, choose_pair, has_model_client

if TYPE_CHECKING:  # pragma: no cover
    from .config import AgentConfig, PairConfig
    from .session import OpenSession

#: agent-ft's own clients: a session header naming one of these runs without consent (it runs nothing foreign).
#: Each maps to whether it keeps its state in the bundled local model's file (known before its code runs).
BUNDLED_CLIENTS = {
    "agent_ft_cli.local:LocalLearningClient": True,
    "agent_ft_cli.clients.local:LocalLearningClient": True,
    "agent_ft_cli.hf:HFClient": False,
}

#: Where a client import path came from: the caller (the command line), the YAML config, or the session header.
ClientOrigin = Literal["given", "config", "session"]


class NoClientError(ClientLoadError):
    """No client import path for an agent that needs one (none given, none in the config or the session)."""

    def __init__(self, agent: str) -> None:
        super().__init__(
            f"no client for agent {agent!r}: pass {{client}} 'package.module:ClassName' or set 'client' in the "
            "{config} YAML",
            options=("client", "config"),
        )
        self.agent = agent


class ConfigNeedsClientError(ConfigError):
    """A config whose updated agent names a custom ``model_client_cls`` but no client import path."""

    def __init__(self, config_path: Path, agent: str) -> None:
        super().__init__(
            f"{config_path}: agents.{agent} uses a custom model_client_cls but no client import path is given; "
            "set 'client.path' in the config or pass {client}",
            options=("client",),
        )
        self.config_path = config_path
        self.agent = agent


class UntrustedSessionClientError(UsageError):
    """The client would come from the session header only, and the caller did not consent to run it (exit 2)."""

    def __init__(self, spec: str, agent: str) -> None:
        super().__init__(
            f"the session records client {spec!r} for agent {agent!r}; code named by a session file is not imported "
            f"without consent: name the client with {{client}} or pass {{trust_session_client}} if you trust this "
            "session",
            options=("client", "trust_session_client"),
        )
        self.spec = spec
        self.agent = agent


@dataclass(frozen=True)
class ClientChoice:
    """The client to load: its import path, where the path came from, and its constructor's keyword arguments."""

    spec: str
    origin: ClientOrigin
    args: dict[str, Any] = field(default_factory=dict)

    def state_file(self) -> Path | None:
        """The bundled local model's state file, known before its code runs (its argument, the environment, the
        default); None for other clients (their ``state_path`` attribute is checked once they exist)."""
        if not BUNDLED_CLIENTS.get(self.spec.strip()):
            return None
        from .clients.local import state_file

        return state_file(self.args.get("state_path"))


def resolve_pair(
    header: Mapping[str, Any],
    agent: str | None,
    peer: str | None,
    *,
    path: Path | str,
    config: PairConfig | None = None,
    threads: Iterable[tuple[str, str]] | None = None,
    opened: OpenSession | None = None,
    lookup: Callable[[], Iterable[tuple[str, str]]] | None = None,
) -> tuple[str, str]:
    """Command-line choice first, then the config's ``update``/``peer``, then inference from the session (its
    ``threads`` when the caller already read them, else looked up in the file when needed: by ``lookup``, or in
    ``opened``, the file the caller holds open, when given)."""
    if config is not None:
        agent = agent or config.update
        peer = peer or config.peer
    return choose_pair(header, agent, peer, path=path, threads=threads, opened=opened, lookup=lookup)


def recorded_clients(header: Mapping[str, Any], agent: str) -> list[str]:
    """Every client import path the session header recorded for ``agent`` (usable by ``update`` or not)."""
    definition = agent_def(header, agent)
    return [str(p) for p in definition.get("model_clients") or []] if definition is not None else []


def recorded_client(header: Mapping[str, Any], agent: str) -> str | None:
    """The one importable client the session header recorded for ``agent`` (``__main__`` classes are not)."""
    recorded = [p for p in recorded_clients(header, agent) if not p.startswith("__main__:")]
    return recorded[0] if len(recorded) == 1 else None


def resolve_client(
    client: str | None,
    config: PairConfig | None,
    *,
    header: Mapping[str, Any] | None = None,
    agent: str | None = None,
    client_args: dict[str, Any] | None = None,
    trust_session_client: bool = False,
) -> ClientChoice | None:
    """The given client, else the config's, else the one ``header`` recorded for ``agent``; None when none is named.

    The constructor's arguments are the config's ``client.args`` (unless a client is given, which may not take
    them) overlaid with ``client_args``. A client that only the session names is refused with
    :class:`UntrustedSessionClientError` (exit 2) unless ``trust_session_client`` or it is one of
    :data:`BUNDLED_CLIENTS` (:func:`check_session_client`)."""
    args = {**(config.client_args if config is not None and not client else {}), **(client_args or {})}
    if client:
        return ClientChoice(client, "given", args)
    if config is not None and config.client_path:
        return ClientChoice(config.client_path, "config", args)
    if header is not None and agent is not None:
        spec = recorded_client(header, agent)
        if spec is not None:
            choice = ClientChoice(spec, "session", args)
            check_session_client(choice, agent, trusted=trust_session_client)
            return choice
    return None


def check_session_client(choice: ClientChoice | None, agent: str, *, trusted: bool = False) -> None:
    """The consent rule, once: a client named only by session data (``origin == "session"``) that is not bundled
    with agent-ft is refused unless ``trusted``."""
    if choice is None or choice.origin != "session" or trusted:
        return
    if choice.spec.strip() in BUNDLED_CLIENTS:
        return
    raise UntrustedSessionClientError(choice.spec, agent)


def require_client(choice: ClientChoice | None, agent: str) -> ClientChoice:
    """``choice``, or :class:`NoClientError` for ``agent``."""
    if choice is None:
        raise NoClientError(agent)
    return choice


def check_config_client(config_path: Path, agent: str, spec: AgentConfig, choice: ClientChoice | None) -> None:
    """A config agent with a custom ``model_client_cls`` cannot run without a client class."""
    if choice is None and has_model_client({"llm_config": spec.llm_config}):
        raise ConfigNeedsClientError(config_path, agent)
