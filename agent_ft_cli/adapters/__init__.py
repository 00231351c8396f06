"""Sessions in: rebuild v1 session files from logs and chats users already have, one adapter per kind of source.

Kinds (the registry :data:`ADAPTERS`, in detection order): ``sqlite`` (an ``autogen.runtime_logging`` database),
``runtime-log`` (the file logger's ``runtime.log``), ``agentchat`` (AgentChat's ``save_state()`` and ``TaskResult``
JSON) and ``openai-jsonl`` (OpenAI-style chat JSON Lines). ag2 1.x is recorded live, not imported (:mod:`.ag2`). Each has
its own module here; :mod:`.threads` holds what the log adapters share (completions rebuilt into threads).

The adapter contract (how ``ag2``, ``agentchat`` and any later source plug in)
-----------------------------------------------------------------------------
A source is **one module** in this package plus **one line** in :data:`ADAPTERS`
(``"kind": "agent_ft_cli.adapters.module:read"``). The module defines:

* ``read(source: Path, options: SourceOptions, on_warning: WarnFn) -> list[Conversation]``: the conversations
  in ``source``, each becoming one session file (:class:`Conversation`: a name, the agents' header definitions,
  and ``(agent, peer, messages)`` threads in classic ``chat_messages`` form, plus ``source`` facts written to
  the header as ``imported_from``). Bad input raises :class:`~agent_ft_cli.errors.InputDataError` naming the
  file (and line) in one line; anything recoverable goes to ``on_warning`` (always callable). Error messages name
  options as ``{key}`` fields with ``options=(key,)`` on the error, never as flags (the CLI spells them).
* ``OPTIONS``: a frozenset of the :class:`SourceOptions` fields it reads (``session_id``, ``agent``, ``peer``); a
  user who sets another one is told which kinds do read it. Absent: none.
* ``sniff(probe: Probe) -> bool`` (optional): True when the probe (the path, its first 16 bytes, and one of its
  first five non-blank lines with that line parsed as JSON) shows this kind. :func:`detect_kind` asks the adapters
  in registry order, line by line; an adapter that needs the whole file may read ``probe.path`` itself.

Import optional dependencies (``sqlite3``, a framework) inside ``read``, not at module level: detection imports
every adapter module, and ``import agent_ft_cli.adapters`` must stay cheap.
"""

from __future__ import annotations

from .detect import detect_kind
from .importing import ImportOptions, ImportResult, run_import, write_conversations
from .model import Conversation, Probe, RawMessage, SourceOptions, WarnFn
from .registry import ADAPTERS, Adapter, get_adapter, kinds, kinds_text

__all__ = [
    "ADAPTERS",
    "Adapter",
    "Conversation",
    "ImportOptions",
    "ImportResult",
    "Probe",
    "RawMessage",
    "SourceOptions",
    "WarnFn",
    "detect_kind",
    "get_adapter",
    "kinds",
    "kinds_text",
    "run_import",
    "write_conversations",
]
