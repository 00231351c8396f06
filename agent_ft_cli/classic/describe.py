"""An agent's definition for a session header: name, class, system message, llm_config without secrets, clients."""

from __future__ import annotations

from typing import Any

from ..redact import redact


def describe_agent(agent: Any) -> dict[str, Any]:
    """An agent's definition for the session header, with secrets removed from its llm_config."""
    cls = type(agent)
    llm_config = getattr(agent, "llm_config", None)
    definition: dict[str, Any] = {
        "name": agent.name,
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "system_message": getattr(agent, "system_message", None),
        "human_input_mode": getattr(agent, "human_input_mode", None),
        "description": getattr(agent, "description", None),
        "llm_config": redact(llm_config) if llm_config not in (None, False) else False,
    }
    clients = model_client_paths(agent)
    if clients:
        definition["model_clients"] = clients
    return definition


def model_client_paths(agent: Any) -> list[str]:
    """Import paths of the custom clients registered on an agent (``agent.client._clients``)."""
    paths = []
    for client in getattr(getattr(agent, "client", None), "_clients", None) or []:
        cls = type(client)
        if cls.__name__ == "PlaceHolderClient" or cls.__module__.startswith(("autogen.", "openai")):
            continue
        paths.append(f"{cls.__module__}:{cls.__qualname__}")
    return paths
