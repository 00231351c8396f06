"""The source kinds: :data:`ADAPTERS` maps each kind to its adapter function as an import string.

Adapter modules are imported only when a kind is used (or detection asks them), so importing this package stays
cheap. The order of :data:`ADAPTERS` is the order detection asks the adapters in.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

from ..errors import UsageError, either
from .model import Reader, Sniffer

#: ``{kind: "module:function"}``: adding a source is one module plus one line here.
ADAPTERS: dict[str, str] = {
    "sqlite": "agent_ft_cli.adapters.sqlite:read",
    "runtime-log": "agent_ft_cli.adapters.runtime_log:read",
    # before openai-jsonl: a one-line TaskResult has "messages" too, which openai-jsonl's sniff would claim
    "agentchat": "agent_ft_cli.adapters.agentchat:read",
    "openai-jsonl": "agent_ft_cli.adapters.openai_jsonl:read",
}


def kinds() -> tuple[str, ...]:
    """Every registered kind, in detection order."""
    return tuple(ADAPTERS)


def kinds_text() -> str:
    """The kinds for help text: ``"a, b or c"``."""
    return either(kinds())


@dataclass(frozen=True)
class Adapter:
    kind: str
    read: Reader
    options: frozenset[str]  # the SourceOptions fields the adapter reads (its module's ``OPTIONS``)
    sniff: Sniffer | None  # its module's ``sniff``, if it can recognise its sources


def get_adapter(kind: str) -> Adapter:
    """The adapter registered for ``kind``; an unknown kind is a one-line error naming the choices."""
    if kind not in ADAPTERS:
        raise UsageError(f"{{kind}} {kind!r} is not one of: {', '.join(ADAPTERS)}", options=("kind",))
    return _load(kind, ADAPTERS[kind])


@cache
def _load(kind: str, target: str) -> Adapter:
    module_name, _, function = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:  # an adapter whose optional dependency is missing (an extra not installed)
        missing = f"module {e.name!r}, which is not installed" if e.name else f"what it imports ({e})"
        raise UsageError(f"source kind {kind!r} needs {missing}") from None
    return Adapter(
        kind=kind,
        read=getattr(module, function),
        options=frozenset(getattr(module, "OPTIONS", ())),
        sniff=getattr(module, "sniff", None),
    )
