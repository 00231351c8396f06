"""agent-ft: record AutoGen chats, inspect them, and replay them into a custom model client's ``update_model``.

The public API is re-exported lazily, so ``import agent_ft_cli`` stays cheap and never imports autogen::

    from agent_ft_cli import save_session, SessionRecorder, load_session, update_model, UpdateableModelClient
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "AgentFtError",
    "SessionRecorder",
    "UpdateableModelClient",
    "__version__",
    "load_session",
    "save_session",
    "update_model",
]

_LAZY = {
    "update_model": ".classic.update",
    "UpdateableModelClient": ".clients.protocol",
    "save_session": ".classic.recorder",
    "SessionRecorder": ".classic.recorder",
    "load_session": ".session",
    "AgentFtError": ".errors",
}

if TYPE_CHECKING:  # pragma: no cover
    from .classic.recorder import SessionRecorder, save_session
    from .classic.update import update_model
    from .clients.protocol import UpdateableModelClient
    from .errors import AgentFtError
    from .session import load_session


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'agent_ft_cli' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
