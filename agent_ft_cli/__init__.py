"""agent-ft: record AutoGen chats, inspect them, and replay them into a custom model client's ``update_model``.

The public API is re-exported lazily, so ``import agent_ft_cli`` stays cheap and never imports autogen::

    from agent_ft_cli import save_session, SessionRecorder, load_session, update_model, UpdateableModelClient
    from agent_ft_cli import Session, export_rows, to_dataset, replay, align, AgentFtError, SessionError

* recording: :class:`SessionRecorder`, :func:`save_session`;
* reading: :func:`load_session` gives a :class:`Session`;
* training data: :func:`export_rows` (the rows ``agent-ft export`` writes), :func:`to_dataset` (those rows as a
  ``datasets.Dataset`` with explicit features), :func:`align` (the tying of preference pairs to the questions they
  answer that export and the bundled model use);
* learning: :func:`replay` (the live pair ``update`` rebuilds), :func:`update_model` (the seed's call),
  :class:`UpdateableModelClient` (the protocol a client implements);
* errors: every error raised is an :class:`AgentFtError`; :class:`SessionError` for a session that cannot be read,
  :class:`SessionWarning` for what is read past with a warning;
* types (``TypedDict`` classes of :mod:`agent_ft_cli.types`, for type checkers; the values stay plain dicts): a
  session's :class:`SessionHeader`, :class:`AgentDefinition` and :class:`Message`; the rows of
  :func:`export_rows` (:class:`MessagesRow`, :class:`PreferenceRow`, :class:`StandardPreferenceRow`,
  :class:`KTORow`, :class:`OpenAIDPORow`, any of them :data:`ExportRow`, their messages :class:`RowMessage`);
  the commands' ``--json`` results (:class:`RecordResultDict`, :class:`UpdateResultDict`, :class:`ValidateReport`,
  :class:`EvalResultDict`, :class:`ExportSummaryDict`).
"""

from __future__ import annotations

import importlib
import sys
import types

TYPE_CHECKING = False  # (not imported from typing: ``agent-ft --version`` imports this package and nothing else)

__version__ = "0.1.0"

__all__ = [
    "AgentDefinition",
    "AgentFtError",
    "EvalResultDict",
    "ExportRow",
    "ExportSummaryDict",
    "KTORow",
    "Message",
    "MessagesRow",
    "OpenAIDPORow",
    "PreferenceRow",
    "RecordResultDict",
    "RowMessage",
    "Session",
    "SessionError",
    "SessionHeader",
    "SessionRecorder",
    "SessionWarning",
    "StandardPreferenceRow",
    "UpdateResultDict",
    "UpdateableModelClient",
    "ValidateReport",
    "__version__",
    "align",
    "export_rows",
    "load_session",
    "replay",
    "save_session",
    "to_dataset",
    "update_model",
]


def _lazy_table(modules: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """``{module: (name, ...)}`` as ``{name: module}``."""
    return {name: module for module, names in modules.items() for name in names}


def _lazy_getattr(package: str, table: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) for ``package``: a name of ``table`` is imported from its (relative)
    module on first use and kept in ``namespace`` (the package's globals); any other name is an AttributeError.
    This package's lazy API and :mod:`agent_ft_cli.fsutil`'s lazy helpers both use it (it lives here because
    ``import agent_ft_cli`` imports no submodule)."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    return __getattr__


_LAZY = _lazy_table(  # public name -> the module that defines it, imported on first use
    {
        ".align": ("align",),
        ".api": ("replay",),
        ".classic.recorder": ("SessionRecorder", "save_session"),
        ".classic.update": ("update_model",),
        ".clients.protocol": ("UpdateableModelClient",),
        ".errors": ("AgentFtError", "SessionError", "SessionWarning"),
        ".export.api": ("export_rows",),
        ".export.writing": ("to_dataset",),
        ".session": ("Session", "load_session"),
        ".types": (
            "AgentDefinition", "EvalResultDict", "ExportRow", "ExportSummaryDict", "KTORow", "Message", "MessagesRow",
            "OpenAIDPORow", "PreferenceRow", "RecordResultDict", "RowMessage", "SessionHeader", "StandardPreferenceRow",
            "UpdateResultDict", "ValidateReport",
        ),
    }
)

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable
    from typing import Any

    from .align import align
    from .api import replay
    from .classic.recorder import SessionRecorder, save_session
    from .classic.update import update_model
    from .clients.protocol import UpdateableModelClient
    from .errors import AgentFtError, SessionError, SessionWarning
    from .export.api import export_rows
    from .export.writing import to_dataset
    from .session import Session, load_session
    from .types import (
        AgentDefinition,
        EvalResultDict,
        ExportRow,
        ExportSummaryDict,
        KTORow,
        Message,
        MessagesRow,
        OpenAIDPORow,
        PreferenceRow,
        RecordResultDict,
        RowMessage,
        SessionHeader,
        StandardPreferenceRow,
        UpdateResultDict,
        ValidateReport,
    )


__getattr__ = _lazy_getattr(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


#: Public names that are also the name of a submodule (the function ``align`` lives in ``align.py``).
_SHADOWED = frozenset(name for name in _LAZY if _LAZY[name] == "." + name)


class _Package(types.ModuleType):
    """This package's module type: its public functions win over its submodules of the same name.

    The import system binds a submodule as an attribute of its package when it first loads it (``import
    agent_ft_cli.align``, which export and replay do, would set ``agent_ft_cli.align`` to the module, and
    :func:`__getattr__` is never asked again). That binding is skipped for :data:`_SHADOWED` names, so
    ``agent_ft_cli.align`` and ``from agent_ft_cli import align`` are the function whatever was imported before,
    while the function stays lazy; the module itself is ``sys.modules["agent_ft_cli.align"]`` (``from
    agent_ft_cli.align import Tying`` works as ever).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
