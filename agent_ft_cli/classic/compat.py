"""The one place that imports ``autogen`` and checks it is the classic ConversableAgent API.

Supported: Microsoft's pyautogen 0.2.x, AG2's pyautogen 0.3-0.9 and AG2's ``autogen``/``ag2`` 0.10-0.14. Not
supported: pyautogen 0.10 (a proxy for the new AgentChat API, no ConversableAgent) and ag2 1.x (a new framework).
Everything else in agent-ft reaches autogen through :func:`require_autogen`, so a wrong install is one clear error.
"""

from __future__ import annotations

import functools
import importlib
import sys
import warnings
from types import ModuleType

from ..errors import AutogenUnavailableError
from ..fsutil import installed_version, package_folder

INSTALL_HINT = "install the classic API: pip install 'pyautogen>=0.2.20,<0.10' (or 'autogen>=0.10,<0.15')"


def _installed_version() -> str | None:
    """The classic autogen distribution installed, with its version (``pyautogen 0.9.0``), or None."""
    return next((f"{d} {v}" for d in ("pyautogen", "autogen", "ag2") if (v := installed_version(d))), None)


# AG2's autogen (0.3 and later) imports matplotlib.pyplot and networkx when they are installed (torch brings
# networkx), only for visualize_speaker_transitions_dict, which agent-ft never calls: ~1.1 s of a 2 s import.
_GRAPH_DRAWING = ("matplotlib", "networkx")


class _OnUse:
    """A module imported on first attribute use."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> object:
        return getattr(importlib.import_module(self._name), attr)


def _import_without_graph_drawing() -> ModuleType:
    """``import autogen`` with its optional graph drawing left out, when that is safe.

    Only on AG2's line (its ``autogen.import_utils`` guards those imports, so autogen loads without them) and only
    when neither library is imported yet. ``autogen.graph_utils`` then gets stand-ins that import them on first
    use, so its drawing function still works; they import normally afterwards. Anything else, or an import that
    fails this way, imports autogen as it is.
    """
    if "autogen" in sys.modules or any(name in sys.modules for name in _GRAPH_DRAWING):
        return importlib.import_module("autogen")
    folder = package_folder("autogen")  # find_spec of "autogen.import_utils" would import autogen itself
    if folder is None or not (folder / "import_utils.py").is_file():
        return importlib.import_module("autogen")
    for name in _GRAPH_DRAWING:
        sys.modules[name] = None  # type: ignore[assignment]  # import of it raises ImportError
    try:
        autogen = importlib.import_module("autogen")
        drawing = sys.modules.get("autogen.graph_utils")
        for alias, module in (("plt", "matplotlib.pyplot"), ("nx", "networkx")):
            if drawing is not None and not hasattr(drawing, alias):
                setattr(drawing, alias, _OnUse(module))  # the drawing function still works when called
        return autogen
    except ImportError:
        for name in [n for n in sys.modules if n == "autogen" or n.startswith("autogen.")]:
            del sys.modules[name]
    finally:
        for name in _GRAPH_DRAWING:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    return importlib.import_module("autogen")


@functools.cache
def require_autogen() -> ModuleType:
    """Import ``autogen`` and make sure it offers ConversableAgent and custom model clients."""
    try:
        with warnings.catch_warnings():
            # pyautogen 0.2 imports flaml, which warns on stderr at import time when flaml[automl] is absent.
            warnings.filterwarnings("ignore", message="flaml.automl is not available", category=UserWarning)
            autogen = _import_without_graph_drawing()
    except ImportError as e:
        installed = _installed_version()
        what = f"{installed} is installed but 'import autogen' fails ({e})" if installed else "autogen is not installed"
        raise AutogenUnavailableError(f"{what}; {INSTALL_HINT}") from None
    agent_cls = getattr(autogen, "ConversableAgent", None)
    if agent_cls is None or not hasattr(agent_cls, "register_model_client"):
        installed = _installed_version() or "an unknown autogen"
        # Name the file too: a stray 'autogen' directory or module shadowing the real package is a common cause.
        where = getattr(autogen, "__file__", None) or next(iter(getattr(autogen, "__path__", [])), None)
        found = f" ('import autogen' loads {where})" if where else ""
        raise AutogenUnavailableError(
            f"{installed} is not the classic autogen API{found}: it has no "
            f"ConversableAgent.register_model_client (pyautogen 0.10 and ag2 1.x are different frameworks); "
            f"{INSTALL_HINT}"
        )
    return autogen


def autogen_version() -> str | None:
    autogen = require_autogen()
    return getattr(autogen, "__version__", None)


def silence_autogen_logging() -> None:
    """Route autogen's logging away from stdout: it logs INFO lines when a custom client is configured."""
    import logging

    for name in ("autogen", "autogen.oai.client", "autogen.oai", "autogen.agentchat"):
        log = logging.getLogger(name)
        log.setLevel(logging.WARNING)
        for h in list(log.handlers):
            stream = getattr(h, "stream", None)
            if stream is sys.stdout:
                h.setStream(sys.stderr)  # type: ignore[attr-defined]
