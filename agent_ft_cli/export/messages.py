"""Autogen messages as the messages a training format wants (the mapping documented in ``docs/export-import.md``).

Two styles exist: the OpenAI formats keep ``name`` where OpenAI allows it and omit ``content: null`` next to tool
calls; the TRL formats drop every ``name`` and write ``""`` for missing content. Everything else is shared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum
from typing import Any

from ..align import text_of
from ..jsonio import to_json
from ..session import Message, agent_def

_OPENAI_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class Style(str, Enum):
    """How a format spells messages."""

    OPENAI = "openai"
    TRL = "trl"


def _tool_call(call: Any) -> Any:
    if not isinstance(call, dict):
        return call
    out: dict[str, Any] = {}
    if call.get("id") is not None:
        out["id"] = call["id"]
    out["type"] = call.get("type") or "function"
    fn = call.get("function")
    if isinstance(fn, dict):
        args = fn.get("arguments", "")
        if not isinstance(args, str):
            args = to_json(args).decode()
        out["function"] = {"name": fn.get("name"), "arguments": args}
    elif fn is not None:
        out["function"] = fn
    return out


def _content(value: Any) -> Any:
    if value is None or isinstance(value, (str, list)):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    return to_json(value).decode()


def _tool_message(source: Message) -> Message:
    m: Message = {"role": "tool"}
    if source.get("tool_call_id") is not None:
        m["tool_call_id"] = source["tool_call_id"]
    m["content"] = _content(source.get("content")) or ""
    return m


def convert_message(message: Message, style: Style) -> list[Message]:
    """One autogen message as the messages a format wants (a tool result becomes one message per response)."""
    role = message.get("role")
    responses = message.get("tool_responses")
    if isinstance(responses, list) and responses:
        out = [_tool_message(r) for r in responses if isinstance(r, dict)]
        if role != "tool":  # autogen sends such a parent message to the model after its responses
            rest = {k: v for k, v in message.items() if k != "tool_responses"}
            out.extend(convert_message(rest, style))
        return out
    if role == "tool":
        return [_tool_message(message)]
    if role == "function":
        return [{"role": "function", "name": message.get("name"), "content": _content(message.get("content")) or ""}]
    m: Message = {"role": role if isinstance(role, str) else "user"}
    content = _content(message.get("content"))
    calls = message.get("tool_calls")
    if content is None:
        if style is not Style.OPENAI:
            m["content"] = ""
    else:
        m["content"] = content
    if calls:
        m["tool_calls"] = [_tool_call(c) for c in calls]
    if message.get("function_call"):
        m["function_call"] = message["function_call"]
    name = message.get("name")
    if style is Style.OPENAI and isinstance(name, str) and _OPENAI_NAME.match(name):
        m["name"] = name
    return [m]


def convert_thread(messages: Iterable[Message], style: Style) -> list[Message]:
    out: list[Message] = []
    for m in messages:
        out.extend(convert_message(m, style))
    return out


def answer_message(side: Any, style: Style) -> Message:
    """A preference side (text or message dict) as one assistant message."""
    if isinstance(side, dict):
        msg = convert_message({**side, "role": "assistant"}, style)[0]
        msg.pop("name", None)
        return msg
    return {"role": "assistant", "content": text_of(side) or ""}


def system_messages(header: dict[str, Any], agent: str) -> list[Message]:
    """The agent's system message(s) from the session header, as the first messages of a conversation."""
    definition = agent_def(header, agent) or {}
    text = definition.get("system_message")
    if isinstance(text, str) and text:
        return [{"role": "system", "content": text}]
    if isinstance(text, list) and text:  # some autogen versions keep a list of system messages
        return [{"role": "system", "content": text_of(t) or ""} for t in text]
    return []


def tools_of(header: dict[str, Any], agent: str) -> list[Any] | None:
    """The tools in the agent's ``llm_config``, or None."""
    cfg = (agent_def(header, agent) or {}).get("llm_config")
    tools = cfg.get("tools") if isinstance(cfg, dict) else None
    return list(tools) if isinstance(tools, list) and tools else None
