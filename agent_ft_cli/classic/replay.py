"""Turn a saved session (and optionally a YAML config) back into a live agent pair holding its histories.

Agents are built from the config when one is given, else from the definitions in the session header. Histories
are assigned directly (``agent.chat_messages[peer] = messages``), never re-sent through the agents, so replay is
exact and costs no more than the list itself. The updated agent gets the client class registered; its
``config_list`` is given ``model_client_cls`` = the class name where it names none.

:func:`build_pair` is the one place that builds two agents and registers a client: a replay (:func:`replay_pair`)
and a live recording (``workflows.record``) both go through it.
"""

from __future__ import annotations

import copy
import pkgutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..clients.loading import import_client
from ..config import AgentConfig, PairConfig, errors_name
from ..errors import ClientLoadError, ConfigError
from ..redact import describe_exception, remember_secrets
from ..session import Session
from .compat import require_autogen, silence_autogen_logging


@dataclass
class ReplayedPair:
    agent: Any
    peer: Any


_OWN_PACKAGES = ("autogen", "agent_ft_cli")  # installed code a session may name: never a module of its own choosing


def _resolve_class(name: str, *, from_config: bool) -> Any:
    autogen = require_autogen()
    if not from_config and name.replace(":", ".").split(".", 1)[0] not in _OWN_PACKAGES and "." in name.replace(":", "."):
        # data never chooses code: a class the session header names is imported only from autogen itself
        short = getattr(autogen, name.replace(":", ".").rsplit(".", 1)[-1], None)
        if short is not None:
            return short
        warnings.warn(
            f"agent class {name!r} from the session is not importable here (a session file never chooses code to "
            "import; give the agent in a config to use it); using ConversableAgent",
            stacklevel=2,
        )
        return autogen.ConversableAgent
    if ":" in name:
        try:
            return import_client(name)
        except ClientLoadError as e:
            raise ConfigError(f"agent class {name!r} cannot be loaded: {e.message}") from None
    short = getattr(autogen, name, None)
    if short is not None:
        return short
    try:
        return pkgutil.resolve_name(name)
    except Exception:
        if from_config:
            raise ConfigError(f"agent class {name!r} is not an autogen agent class nor an importable path") from None
        short = getattr(autogen, name.rsplit(".", 1)[-1], None)
        if short is not None:
            return short
        warnings.warn(f"agent class {name!r} from the session is not importable here; using ConversableAgent", stacklevel=2)
        return autogen.ConversableAgent


# Defaults autogen 0.9+ writes into every config entry it normalises. Another version may reject them (pyautogen
# 0.9 forbids 'stream', which autogen 0.14 adds), so they are dropped from recorded entries: a session recorded on
# one classic autogen replays on any other.
_NORMALISED_DEFAULTS: dict[str, Any] = {"api_type": "openai", "tags": [], "stream": False}


def _portable_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in _NORMALISED_DEFAULTS or _NORMALISED_DEFAULTS[k] != v}


def client_llm_config(spec: AgentConfig, client_cls: type, *, from_config: bool) -> dict[str, Any]:
    """The updated agent's llm_config with every entry pointing at ``client_cls``."""
    name = client_cls.__name__
    base = copy.deepcopy(spec.llm_config) if isinstance(spec.llm_config, dict) else {}
    entries = [e for e in base.get("config_list") or [] if isinstance(e, dict)]
    custom = [e for e in entries if e.get("model_client_cls")]
    if from_config:
        for e in custom:
            if e["model_client_cls"] != name:
                raise ConfigError(
                    f"agents.{spec.name}.llm_config.config_list names model_client_cls {e['model_client_cls']!r} "
                    f"but the client class is {name!r}; make them match or drop model_client_cls"
                )
        for e in entries:
            e.setdefault("model_client_cls", name)
        if not entries:
            entries = [{"model": name, "model_client_cls": name}]
    else:
        # A session records what the agent ran on; the client given now replaces it.
        entries = [dict(_portable_entry(e), model_client_cls=name) for e in custom] or [
            {"model": (entries[0].get("model") if entries else None) or name, "model_client_cls": name}
        ]
    base["config_list"] = entries
    return base


def build_agent(spec: AgentConfig, *, from_config: bool, llm_config: Any = False) -> Any:
    """Construct one agent; falls back to ConversableAgent for a recorded class that cannot be built here."""
    autogen = require_autogen()
    cls = _resolve_class(spec.cls, from_config=from_config)
    kwargs: dict[str, Any] = {
        "name": spec.name,
        "human_input_mode": spec.human_input_mode,
        "llm_config": llm_config,
        "code_execution_config": False,
    }
    if spec.system_message is not None:
        kwargs["system_message"] = spec.system_message
    if spec.description is not None:
        kwargs["description"] = spec.description
    kwargs.update(spec.extra)
    try:
        return cls(**kwargs)
    except Exception as e:
        reason = describe_exception(e, remember_secrets(kwargs))
        if from_config:
            name = getattr(cls, "__name__", cls)
            raise ConfigError(f"agents.{spec.name}: {name} cannot be created: {reason}") from None
        warnings.warn(
            f"agent {spec.name!r}: recorded class {spec.cls!r} cannot be built here ({reason}); using ConversableAgent",
            stacklevel=2,
        )
        return autogen.ConversableAgent(**kwargs)


@dataclass
class ClientToRegister:
    """A loaded client class, the keyword arguments for its constructor and how to name it in errors."""

    cls: type
    args: dict[str, Any] = field(default_factory=dict)
    label: str = ""


def build_pair(
    agent: AgentConfig,
    peer: AgentConfig,
    *,
    client: ClientToRegister | None,
    agent_from_config: bool,
    peer_from_config: bool,
    source: Path | None = None,
    agent_llm_config: Any = False,
    peer_llm_config: Any = False,
) -> ReplayedPair:
    """Build both agents (errors name ``source``, a config file) and register ``client`` on the first.

    With a client, the agent's llm_config points every entry at the client class; without one it is
    ``agent_llm_config``."""
    require_autogen()
    silence_autogen_logging()
    llm_config: Any = agent_llm_config
    with errors_name(source):
        if client is not None:
            llm_config = client_llm_config(agent, client.cls, from_config=agent_from_config)
        updated = build_agent(agent, from_config=agent_from_config, llm_config=llm_config)
        other = build_agent(peer, from_config=peer_from_config, llm_config=peer_llm_config)
    if client is not None:
        try:
            updated.register_model_client(model_client_cls=client.cls, **client.args)
        except Exception as e:
            reason = describe_exception(e, remember_secrets([client.args, llm_config]))
            raise ClientLoadError(
                f"client {client.label or client.cls.__name__} could not be created or registered: "
                f"{type(e).__name__}: {reason}"
            ) from e
    return ReplayedPair(agent=updated, peer=other)


def replay_pair(
    session: Session,
    agent: str,
    peer: str,
    *,
    client_cls: type | None,
    client_args: dict[str, Any] | None = None,
    config: PairConfig | None = None,
) -> ReplayedPair:
    """Build the pair, assign both views of their thread, and register ``client_cls`` on ``agent``."""
    specs: dict[str, AgentConfig] = {}
    for name in (agent, peer):
        if config is not None and name in config.agents:
            specs[name] = config.agents[name]
        elif config is not None and name == agent:
            raise ConfigError(f"{config.source}: agent {agent!r} is not defined under 'agents'")
        elif (d := session.agent_def(name)) is not None:
            specs[name] = AgentConfig.from_definition(d)
        else:  # a peer the session names only in its threads (e.g. a group chat manager)
            specs[name] = AgentConfig(name=name)
    client = ClientToRegister(client_cls, dict(client_args or {})) if client_cls is not None else None
    pair = build_pair(
        specs[agent],
        specs[peer],
        client=client,
        agent_from_config=config is not None and agent in config.agents,
        peer_from_config=config is not None and peer in config.agents,
        source=config.source if config is not None else None,
    )
    thread = session.threads.get((agent, peer), [])
    if (agent, peer) in session.threads:  # the tying code decides over every conversation, as export does
        from ..recorded import RecordedThread

        thread = RecordedThread(thread, session.conversations(agent, peer))  # type: ignore[arg-type]  # recorded Messages are the dicts tying reads
    pair.agent.chat_messages[pair.peer] = thread
    if (peer, agent) in session.threads:
        pair.peer.chat_messages[pair.agent] = session.threads[(peer, agent)]
    return pair
