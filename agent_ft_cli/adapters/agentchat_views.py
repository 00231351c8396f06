"""AgentChat's messages as the messages of a classic thread: an agent's model context (``llm_context``: LLM
messages) and the view a run's transcript (``TaskResult.messages``: chat messages and events) gives one agent. Used
by :mod:`.agentchat`, which reads the files; see its docstring for what each shape becomes.

Every message type is known or told: a type this module does not know (a newer AgentChat's, a custom one) is left
out *and named* through :class:`Notes` (a warning, or a :class:`~agent_ft_cli.errors.StrictError` under strict),
never dropped silently.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ..errors import InputDataError, StrictError
from ..jsonio import image_mime
from ..types import RawMessage
from .model import WarnFn

# Chat messages (BaseChatMessage): what one agent's turn delivers to the others. Everything else is an inner event.
CHAT_MESSAGES = {"TextMessage", "MultiModalMessage", "StopMessage", "HandoffMessage", "ToolCallSummaryMessage", "StructuredMessage"}
_OWN_ANSWERS = {"TextMessage", "MultiModalMessage", "StopMessage", "StructuredMessage"}
# AgentChat 0.7's inner events (BaseAgentEvent) that no other agent's model reads, and that the agent's own model
# context holds in another form or not at all: known, and left out as AgentChat leaves them out.
_OTHER_EVENTS = {
    "ToolCallRequestEvent", "ToolCallExecutionEvent", "ThoughtEvent", "CodeGenerationEvent", "CodeExecutionEvent",
    "UserInputRequestedEvent", "MemoryQueryEvent", "ModelClientStreamingChunkEvent", "SelectSpeakerEvent",
    "SelectorEvent",
}  # fmt: skip


class Notes:
    """What an import warns about (once per kind): an unknown message type, a newer state version. Under
    ``strict`` each is a :class:`~agent_ft_cli.errors.StrictError` instead (exit 3)."""

    def __init__(self, on_warning: WarnFn | None = None, *, strict: bool = False) -> None:
        self.on_warning = on_warning
        self.strict = strict
        self._said: set[str] = set()

    def __call__(self, kind: str, text: str) -> None:
        if self.strict:
            raise StrictError(f"{text}; {{strict}} refuses it", options=("strict",))
        if kind not in self._said:
            self._said.add(kind)
            if self.on_warning is not None:
                self.on_warning(text)
            else:
                import warnings

                from ..errors import SessionWarning

                warnings.warn(text, SessionWarning, stacklevel=3)


def _is_chat_message(kind: Any) -> bool:
    """A chat message type (StructuredMessage's type is its class name: ``StructuredMessage[Content]``)."""
    return kind in CHAT_MESSAGES or (isinstance(kind, str) and kind.startswith("StructuredMessage"))


def _image_part(data: str) -> dict[str, Any]:
    try:
        raw = base64.b64decode(data[:64] + "=" * (-len(data[:64]) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    mime = image_mime(raw) or "image/jpeg"
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}


def _content(value: Any, where: str) -> Any:
    """A string stays a string; a multimodal list becomes OpenAI parts (text, image_url)."""
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, str):
                parts.append({"type": "text", "text": item})
            elif isinstance(item, dict) and isinstance(item.get("data"), str):
                parts.append(_image_part(item["data"]))
            else:
                raise InputDataError(f"{where}: a content item is neither text nor an image ({json.dumps(item)[:60]})")
        return parts
    if isinstance(value, dict):  # a StructuredMessage's content
        return json.dumps(value, ensure_ascii=False)
    raise InputDataError(f"{where}: content must be text or a list, got {type(value).__name__}")


def _tool_calls(calls: Any, where: str) -> list[dict[str, Any]]:
    out = []
    for c in calls:
        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
            raise InputDataError(f"{where}: a function call needs a 'name'")
        args = c.get("arguments")
        out.append(
            {
                "id": str(c.get("id") or ""),
                "type": "function",
                "function": {"name": c["name"], "arguments": args if isinstance(args, str) else json.dumps(args or {})},
            }
        )
    return out


def _results(results: Any, peer: str, where: str) -> RawMessage:
    if not isinstance(results, list):
        raise InputDataError(f"{where}: function results must be a list")
    responses = []
    for r in results:
        if not isinstance(r, dict):
            raise InputDataError(f"{where}: a function result must be an object")
        text = r.get("content")
        responses.append({"tool_call_id": str(r.get("call_id") or ""), "role": "tool", "content": text if isinstance(text, str) else json.dumps(text)})
    return {"content": "\n\n".join(r["content"] for r in responses), "tool_responses": responses, "role": "tool", "name": peer}


def _calls_message(calls: Any, thought: Any, where: str) -> RawMessage:
    return {"content": thought if isinstance(thought, str) and thought else None, "tool_calls": _tool_calls(calls, where), "role": "assistant"}


def context_thread(messages: list[Any], agent: str, peer: str, where: str) -> tuple[list[str], list[RawMessage]]:
    """An ``llm_context`` (LLMMessage dicts) as (leading system messages, classic thread)."""
    system: list[str] = []
    thread: list[RawMessage] = []
    for i, m in enumerate(messages):
        at = f"{where}, message {i + 1}"
        if not isinstance(m, dict):
            raise InputDataError(f"{at}: not an object")
        kind = m.get("type")
        content = m.get("content")
        if kind == "SystemMessage":
            if not thread:
                system.append(str(content))
            else:
                thread.append({"content": str(content), "role": "system"})
        elif kind == "UserMessage":
            thread.append({"content": _content(content, at), "role": "user", "name": str(m.get("source") or peer)})
        elif kind == "AssistantMessage":
            if isinstance(content, list):
                thread.append(_calls_message(content, m.get("thought"), at))
            else:
                thread.append({"content": _content(content, at), "role": "assistant", "name": agent})
        elif kind == "FunctionExecutionResultMessage":
            thread.append(_results(content, peer, at))
        else:
            raise InputDataError(f"{at}: unknown LLM message type {kind!r}")
    return system, thread


def first_source(messages: list[Any], agent: str, kinds: tuple[str, ...]) -> str | None:
    for m in messages:
        if isinstance(m, dict) and m.get("type") in kinds and m.get("source") not in (None, agent):
            return str(m["source"])
    return None


def task_thread(messages: list[Any], agent: str, peer: str, where: str, notes: Notes | None = None) -> list[RawMessage]:
    """The view AgentChat gives ``agent`` of a run's transcript (``TaskResult.messages``). A message of a type this
    importer does not know is left out and told to ``notes`` (naming it), never dropped silently."""
    thread: list[RawMessage] = []
    thought: Any = None
    for i, m in enumerate(messages):
        at = f"{where}, message {i + 1}"
        if not isinstance(m, dict):
            raise InputDataError(f"{at}: not an object")
        kind, source, content = m.get("type"), m.get("source"), m.get("content")
        if not _is_chat_message(kind) and kind not in _OTHER_EVENTS:
            (notes or Notes())(
                f"type:{kind}",
                f"{at}: unknown AgentChat message type {kind!r} (from {source!r}) is left out of every view; a newer "
                "AgentChat's or a custom message type? (a tool call it stood for leaves its results without a call, "
                "which export refuses)",
            )
            continue
        if source != agent:
            if _is_chat_message(kind):
                thread.append({"content": _content(content, at), "role": "user", "name": str(source or peer)})
            continue
        if kind == "ThoughtEvent":
            thought = content
            continue
        if kind == "ToolCallRequestEvent":
            thread.append(_calls_message(content, thought, at))
        elif kind == "ToolCallExecutionEvent":
            thread.append(_results(content, peer, at))
        elif kind in _OWN_ANSWERS or (isinstance(kind, str) and kind.startswith("StructuredMessage")):
            thread.append({"content": _content(content, at), "role": "assistant", "name": agent})
        thought = None
    return thread
