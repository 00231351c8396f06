"""Sessions (+ preference pairs) out as training data: TRL and OpenAI fine-tuning formats.

Every conversation of the thread (a ``clear`` starts the next) is exported. The thread is the updated agent's view (``agent.chat_messages[peer]``, chosen with
:func:`~agent_ft_cli.session.choose_pair`): its own answers have role ``assistant``, what it received role ``user``.
The agent's system message (from the session header) comes first. Each preference pair is tied to the prompt it
answers by :mod:`agent_ft_cli.align` (the same code the bundled local model learns with); a pair that cannot be tied
is reported in the summary with its reason, never dropped silently.

The package: :mod:`.exporter` (orchestration: sessions in, rows and a summary out), :mod:`.messages` (autogen
messages as a format's messages), :mod:`.formats` (one row builder per format, in the :data:`FORMATS` registry),
:mod:`.sessions` (session arguments as files) and :mod:`.writing` (JSON Lines or a dataset folder).

Message mapping (documented in ``docs/export-import.md``):

* an autogen tool result is ONE message ``{"role": "tool", "tool_responses": [...], "content": "a\\n\\nb"}``; it
  becomes one ``{"role": "tool", "tool_call_id": ..., "content": ...}`` message per response (the joined
  ``content`` is dropped, it only repeats the responses);
* ``tool_calls`` keep ``id``, ``type`` and ``function.name``; ``function.arguments`` is a JSON string in the OpenAI
  formats and an object in the TRL formats (chat templates encode it themselves); ``function_call`` and role
  ``function`` messages (the legacy API) are kept by the OpenAI formats and become a tool call and a ``tool``
  message paired by a stable id in the TRL formats (:func:`~.messages.legacy_call_ids`); the agent's
  ``llm_config.functions`` become ``tools`` there and stay ``functions`` in the OpenAI rows;
* ``name``: kept by the OpenAI formats on system/user/assistant messages when it matches OpenAI's
  ``^[a-zA-Z0-9_-]{1,64}$``, dropped otherwise and always dropped by the TRL formats;
* ``content: null`` next to tool calls: omitted by the OpenAI formats, ``""`` in the TRL formats; an empty user or
  assistant turn (no content, no call) is dropped by the OpenAI formats;
* anything else autogen keeps on a message (``context``, ``override_role`` ...) is dropped.
"""

from __future__ import annotations

from typing import cast

from ..session import Message
from ..session.paths import expand_sessions
from ..types import RowMessage
from . import messages as _messages
from .api import export_rows
from .exporter import Exporter, ExportSummary
from .formats import FORMATS, PAIR_FORMATS, Format, formats_text, get_format
from .messages import Style, answer_message, system_messages, tools_of
from .options import ExportOptions
from .sessions import conversations
from .writing import export, is_dataset_dir, to_dataset

__all__ = [
    "FORMATS",
    "PAIR_FORMATS",
    "ExportOptions",
    "ExportSummary",
    "Exporter",
    "Format",
    "Message",
    "Style",
    "answer_message",
    "conversations",
    "convert_message",
    "convert_thread",
    "expand_sessions",
    "export",
    "export_rows",
    "formats_text",
    "get_format",
    "is_dataset_dir",
    "system_messages",
    "to_dataset",
    "tools_of",
]


def _style(format: str | Style) -> Style:
    return format if isinstance(format, Style) else get_format(format).style


def convert_message(message: Message, format: str | Style) -> list[RowMessage]:
    """One autogen message as ``format`` (a name such as ``"openai-sft"``, or a :class:`Style`) wants it."""
    return cast("list[RowMessage]", _messages.convert_message(message, _style(format)))


def convert_thread(messages: list[Message], format: str | Style) -> list[RowMessage]:
    """:func:`convert_message` over a thread."""
    return cast("list[RowMessage]", _messages.convert_thread(messages, _style(format)))
