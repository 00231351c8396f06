"""Autogen messages as the messages a training format wants (the mapping documented in ``docs/export-import.md``).

Two styles exist: the OpenAI formats keep ``name`` where OpenAI allows it and omit ``content: null`` next to tool
calls; the TRL formats drop every ``name`` and write ``""`` for missing content. Everything else is shared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

import orjson

from ..align import text_of
from ..jsonio import to_json
from ..session import agent_def
from ..types import RowMessage

_OPENAI_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class Style(str, Enum):
    """How a format spells messages."""

    OPENAI = "openai"
    TRL = "trl"


def _arguments(args: Any, style: Style) -> Any:
    """OpenAI formats: a JSON string (their schema). TRL formats: an object, as chat templates expect (they encode it
    themselves: a string would be encoded twice); text that is not a JSON object stays a string."""
    if style is Style.OPENAI:
        return args if isinstance(args, str) else to_json(args).decode()
    if isinstance(args, str):
        try:
            parsed = orjson.loads(args) if args.strip() else {}
        except orjson.JSONDecodeError:
            return args
        return parsed if isinstance(parsed, dict) else args
    return args


def _tool_call(call: Any, style: Style) -> Any:
    if not isinstance(call, dict):
        return call
    out: dict[str, Any] = {}
    if call.get("id") is not None:
        out["id"] = call["id"]
    out["type"] = call.get("type") or "function"
    fn = call.get("function")
    if isinstance(fn, dict):
        out["function"] = {"name": fn.get("name"), "arguments": _arguments(fn.get("arguments", ""), style)}
    elif fn is not None:
        out["function"] = fn
    return out


def _content(value: Any) -> Any:
    if value is None or isinstance(value, (str, list)):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    return to_json(value).decode()


def _tool_message(source: Mapping[str, Any]) -> RowMessage:
    m: RowMessage = {"role": "tool"}
    if source.get("tool_call_id") is not None:
        m["tool_call_id"] = source["tool_call_id"]
    m["content"] = _content(source.get("content")) or ""
    return m


def convert_message(message: Mapping[str, Any], style: Style) -> list[RowMessage]:
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
    if role == "function":  # the legacy function result: TRL's chat templates know role "tool" only
        legacy_role = "function" if style is Style.OPENAI else "tool"
        return [{"role": legacy_role, "name": message.get("name"), "content": _content(message.get("content")) or ""}]
    m: RowMessage = {"role": role if isinstance(role, str) else "user"}
    content = _content(message.get("content"))
    calls = message.get("tool_calls")
    if content is None:
        if style is not Style.OPENAI:
            m["content"] = ""
    else:
        m["content"] = content
    if calls:
        m["tool_calls"] = [_tool_call(c, style) for c in calls]
    legacy = message.get("function_call")
    if legacy:
        if style is Style.OPENAI:
            m["function_call"] = legacy
        elif not calls:  # the legacy call as the one tool call TRL's chat templates render
            m["tool_calls"] = [_tool_call({"type": "function", "function": legacy}, style)]
    if style is Style.OPENAI and not m.get("content") and not calls and not legacy and m["role"] in ("user", "assistant"):
        return []  # an empty turn (the user proxy's empty auto-reply, a null answer): no data, flagged by OpenAI
    name = message.get("name")
    if style is Style.OPENAI and isinstance(name, str) and _OPENAI_NAME.match(name):
        m["name"] = name
    return [m]


def convert_thread(messages: Iterable[Mapping[str, Any]], style: Style) -> list[RowMessage]:
    out: list[RowMessage] = []
    for m in messages:
        out.extend(convert_message(m, style))
    return out


def answer_message(side: Any, style: Style) -> RowMessage:
    """A preference side (text or message dict, a tool call included) as one assistant message."""
    if isinstance(side, dict):
        converted = convert_message({**side, "role": "assistant"}, style)
        msg: RowMessage = converted[0] if converted else {"role": "assistant", "content": ""}
        msg.pop("name", None)
        return msg
    return {"role": "assistant", "content": text_of(side) or ""}


def system_messages(header: Mapping[str, Any], agent: str) -> list[RowMessage]:
    """The agent's system message(s) from the session header, as the first messages of a conversation."""
    definition: Mapping[str, Any] = agent_def(header, agent) or {}
    text = definition.get("system_message")
    if isinstance(text, str) and text:
        return [{"role": "system", "content": text}]
    if isinstance(text, list) and text:  # some autogen versions keep a list of system messages
        return [{"role": "system", "content": text_of(t) or ""} for t in text]
    return []


def tools_of(header: Mapping[str, Any], agent: str) -> list[Any] | None:
    """The tools in the agent's ``llm_config``, or None."""
    definition: Mapping[str, Any] = agent_def(header, agent) or {}
    cfg = definition.get("llm_config")
    tools = cfg.get("tools") if isinstance(cfg, dict) else None
    return list(tools) if isinstance(tools, list) and tools else None
