"""What an adapter receives and returns (see the package docstring for the contract)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..types import RawMessage, WarnFn

AgentDef = dict[str, Any]  # a session header's agent definition: name, class, system_message, llm_config ...


@dataclass
class Conversation:
    """One session file to write: the agents' definitions and their threads."""

    name: str
    agents: list[AgentDef]
    threads: list[tuple[str, str, list[RawMessage]]]  # (agent, peer, agent.chat_messages[peer])
    source: dict[str, Any] = field(default_factory=dict)  # written to the header as ``imported_from``


@dataclass(frozen=True)
class SourceOptions:
    """The choices a user can make about one source; an adapter declares in ``OPTIONS`` which ones it reads."""

    session_id: str | None = None  # only this logging session
    agent: str | None = None  # the name to give the answering side, for sources that do not name agents
    peer: str | None = None  # the name to give the asking side
    strict: bool = False  # a line cut short (a crashed logger) is an error instead of a counted, named warning

    def given(self) -> list[str]:
        """The names of the options that are set (an empty string counts as not set)."""
        return [k for k in ("session_id", "agent", "peer") if getattr(self, k)]


#: How many of a file's first bytes every probe carries (a pretty-printed JSON's head, a SQLite magic).
HEAD_BYTES = 1 << 16


@dataclass(frozen=True)
class Probe:
    """What detection shows an adapter's ``sniff``: the file, its first bytes, and one of its first lines."""

    path: Path
    head: bytes  # the file's first bytes (HEAD_BYTES at most)
    line: str  # one of the first five non-blank lines, stripped ("" for a file with none)
    record: Any  # that line parsed as JSON, or None when it is not JSON


#: The adapter function: ``read(source, options, on_warning) -> conversations``.
Reader = Callable[[Path, SourceOptions, WarnFn], list[Conversation]]
#: The optional detection hook: ``sniff(probe) -> True`` when the probe shows this kind.
Sniffer = Callable[[Probe], bool]
