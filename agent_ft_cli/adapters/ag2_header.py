"""The session header of an ag2 1.x recording, shared by the live recording and the snapshot (:mod:`.ag2`): the
agent's definition (its system prompt, tools, model; never credentials), one peer definition per conversation,
``framework: {"name": "ag2", "version": ...}``. The session file is opened as every recording opens it
(:func:`agent_ft_cli.fsutil.open_recording`)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .. import session
from ..errors import SessionWarning
from ..fsutil import installed_version
from ..redact import redact

FRAMEWORK = "ag2"
DEFAULT_AGENT = "assistant"
DEFAULT_PEER = "user"

def ag2_version() -> str | None:
    """The installed ``ag2`` distribution's version, or None."""
    return installed_version("ag2")


# ---------------------------------------------------------------------------------------------------------------
# header


def agent_name(agent: Any) -> str:
    return str(getattr(agent, "name", "") or DEFAULT_AGENT)


def tool_schema(schema: Any) -> dict[str, Any] | None:
    """An ag2 tool schema as an OpenAI one, or None when it names no function."""
    fn = getattr(schema, "function", None)
    if fn is None or not getattr(fn, "name", None):
        return None
    return {"type": "function", "function": {"name": fn.name, "description": fn.description, "parameters": dict(fn.parameters)}}


def _tools(agent: Any, extra: Iterable[Any] = ()) -> list[dict[str, Any]]:
    """The agent's tools, then ``extra`` ones (given per call with ``ask(tools=...)``), as OpenAI tool schemas."""
    out: list[dict[str, Any]] = []
    for tool in [*(getattr(agent, "tools", None) or []), *extra]:
        schema = tool_schema(getattr(tool, "schema", None))
        if schema is not None and all(t["function"]["name"] != schema["function"]["name"] for t in out):
            out.append(schema)
    return out


def _config_entry(config: Any) -> tuple[dict[str, Any], list[str]]:
    """The agent's model as a config_list entry (never its credentials), and the agent-ft client it runs on."""
    if config is None:
        return {}, []
    cls = getattr(config, "client_class", None)  # agent_ft_cli.clients.ag2.ModelClientConfig
    if isinstance(cls, type):
        return {"model": config.model, "model_client_cls": cls.__name__}, [f"{cls.__module__}:{cls.__qualname__}"]
    entry: dict[str, Any] = {}
    for key in ("model", "provider"):
        try:
            value = getattr(config, key)
        except Exception:  # TestConfig and others raise for what they do not know
            continue
        if value is not None:
            entry[key] = str(getattr(value, "value", value))
    entry["config_class"] = f"{type(config).__module__}.{type(config).__qualname__}"
    return entry, []


def describe_ag2_agent(agent: Any, *, tools: Iterable[Any] = ()) -> dict[str, Any]:
    """An ag2 agent's definition for the session header; ``class`` names the classic stand-in replay builds.
    ``tools``: tools given per call (``ask(tools=...)``), which the agent itself does not hold."""
    entry, clients = _config_entry(getattr(agent, "config", None))
    llm_config: dict[str, Any] = {"config_list": [entry] if entry else []}
    tools = _tools(agent, tools)
    if tools:
        llm_config["tools"] = tools
    prompt = [p for p in getattr(agent, "system_prompt", ()) or () if isinstance(p, str)]
    definition: dict[str, Any] = {
        "name": agent_name(agent),
        "class": "AssistantAgent",
        "system_message": "\n".join(prompt) if prompt else None,
        "human_input_mode": "NEVER",
        "description": None,
        "llm_config": redact(llm_config),
        "source_class": f"{type(agent).__module__}.{type(agent).__qualname__}",
    }
    if clients:
        definition["model_clients"] = clients
    return definition


def peer_definition(name: str) -> dict[str, Any]:
    """The other side of an ag2 conversation (the caller of ``ask``), as a classic user proxy."""
    return {
        "name": name,
        "class": "UserProxyAgent",
        "system_message": None,
        "human_input_mode": "NEVER",
        "description": None,
        "llm_config": False,
    }


def make_ag2_header(
    agent: Any, peer: str | Sequence[str] = DEFAULT_PEER, *, definition: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A session header for one ag2 agent and its callers (one peer per conversation); says which framework and
    version wrote it (``autogen_version`` is None: the classic package installed beside ag2 wrote nothing)."""
    definition = definition if definition is not None else describe_ag2_agent(agent)
    peers = [peer] if isinstance(peer, str) else list(peer)
    if definition["name"] in peers:
        raise ValueError(f"the agent and its peer are both named {definition['name']!r}; pass another peer name")
    return session.make_header(
        [definition, *(peer_definition(p) for p in peers)],
        autogen_version=None,
        framework={"name": FRAMEWORK, "version": ag2_version()},
    )


def prompt_text(prompt: Any) -> str | None:
    """The system prompt ag2 sends for a list of prompt fragments (joined with newlines), None for none."""
    parts = [str(p) for p in prompt or () if isinstance(p, str)]
    return "\n".join(parts) if parts else None


def warn(path: Path | str, text: str) -> None:
    """A recording problem the chat goes on through: a :class:`SessionWarning` naming the session file."""
    warnings.warn(f"{path}: {text}", SessionWarning, stacklevel=3)
