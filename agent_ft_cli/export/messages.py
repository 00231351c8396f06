"""Autogen messages as the messages a training format wants (the mapping documented in ``docs/export-import.md``).

Two styles exist: the OpenAI formats keep ``name`` where OpenAI allows it and omit ``content: null`` next to tool
calls; the TRL formats drop every ``name`` and write ``""`` for missing content. Everything else is shared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any

import orjson

from ..jsonio import to_json
from ..session import agent_def
from ..types import RawMessage  # a message as the export code builds it (a row's: types.RowMessage)

_OPENAI_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_PLAIN_KEYS = frozenset({"role", "content", "name"})


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


def legacy_call_ids(messages: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    """Ids for the legacy calls of a conversation and the results that answer them: ``{message index: id}``.

    A legacy call (``function_call``, no ``tool_calls``) carries no id, and its result (role ``function``) only the
    function's name; the TRL formats turn them into a tool call and a ``tool`` message, which templates pair by id.
    The id is ``fn`` and the call's index in the conversation on 7 digits (``fn0000002``): stable across runs and
    across the rows cut from one conversation, and 9 alphanumeric characters, the shape Mistral's templates demand.
    A result answers the latest unanswered call of the same name (else the latest unanswered call).
    """
    ids: dict[int, str] = {}
    pending: list[tuple[Any, str]] = []
    for i, m in enumerate(messages):
        if m.get("function_call") and not m.get("tool_calls") and not m.get("tool_responses"):
            legacy = m["function_call"]
            ids[i] = f"fn{i:07d}"
            pending.append((legacy.get("name") if isinstance(legacy, dict) else None, ids[i]))
        elif m.get("role") == "function" and pending:
            k = next((k for k in range(len(pending) - 1, -1, -1) if pending[k][0] == m.get("name")), len(pending) - 1)
            ids[i] = pending.pop(k)[1]
    return ids


def _tool_message(source: Mapping[str, Any]) -> RawMessage:
    m: RawMessage = {"role": "tool"}
    if source.get("tool_call_id") is not None:
        m["tool_call_id"] = source["tool_call_id"]
    m["content"] = _content(source.get("content")) or ""
    return m


def convert_message(
    message: Mapping[str, Any], style: Style, call_id: str | None = None, *, speaker_names: str | None = None
) -> list[RawMessage]:
    """One autogen message as the messages a format wants (a tool result becomes one message per response).

    ``call_id``: the id a legacy call or result gets in the TRL formats (:func:`legacy_call_ids`).
    ``speaker_names`` (who said a user or assistant turn, for team chats): ``"keep"`` keeps the message's ``name`` in
    every format (the OpenAI formats always keep it), ``"prefix"`` also writes it before a user turn's text
    (``"alice: ..."``, which every chat template shows); None: the TRL formats drop it."""
    role = message.get("role")
    content = message.get("content")
    if (role == "user" or role == "assistant") and type(content) is str and message.keys() <= _PLAIN_KEYS:
        # the common turn (text only): what the general path below gives it, without its checks
        if style is not Style.OPENAI and not speaker_names:
            return [{"role": role, "content": content}]
        if style is Style.OPENAI and speaker_names != "prefix":
            if not content:
                return []
            plain: RawMessage = {"role": role, "content": content}
            name = message.get("name")
            if isinstance(name, str) and _OPENAI_NAME.match(name):
                plain["name"] = name
            return [plain]
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
        if style is Style.OPENAI:
            return [{"role": "function", "name": message.get("name"), "content": _content(message.get("content")) or ""}]
        result: RawMessage = {"role": "tool"}
        if call_id is not None:
            result["tool_call_id"] = call_id
        result["name"] = message.get("name")
        result["content"] = _content(message.get("content")) or ""
        return [result]
    m: RawMessage = {"role": role if isinstance(role, str) else "user"}
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
            m["tool_calls"] = [_tool_call({"id": call_id, "type": "function", "function": legacy}, style)]
    if style is Style.OPENAI and not m.get("content") and not calls and not legacy and m["role"] in ("user", "assistant"):
        return []  # an empty turn (the user proxy's empty auto-reply, a null answer): no data, flagged by OpenAI
    name = message.get("name")
    if (style is Style.OPENAI or speaker_names) and isinstance(name, str) and _OPENAI_NAME.match(name):
        m["name"] = name
    if speaker_names == "prefix" and isinstance(name, str) and name and m["role"] == "user":
        content = m.get("content")
        if isinstance(content, str):
            m["content"] = f"{name}: {content}"
        elif isinstance(content, list) and content and isinstance(content[0], dict) and content[0].get("type") == "text":
            m["content"] = [{**content[0], "text": f"{name}: {content[0].get('text', '')}"}, *content[1:]]
        else:
            m["content"] = [{"type": "text", "text": f"{name}:"}, *(content or [])]
    return [m]


def convert_thread(messages: Iterable[Mapping[str, Any]], style: Style, *, speaker_names: str | None = None) -> list[RawMessage]:
    out: list[RawMessage] = []
    convert_into(out, list(messages), style, speaker_names)
    return out


def convert_into(
    out: list[RawMessage], messages: Sequence[Mapping[str, Any]], style: Style, speaker_names: str | None,
    instead: Mapping[int, RawMessage] | None = None,
) -> None:
    """:func:`convert_message` of every message of a conversation, appended to ``out`` (the legacy call ids of
    :func:`legacy_call_ids` worked out when a message needs them); ``instead[i]`` in place of message ``i`` (a tied
    pair's chosen answer). A text turn of the TRL formats takes :func:`convert_message`'s short path here, without
    the call: a row is mostly such turns."""
    ids: dict[int, str] | None = None
    short = style is not Style.OPENAI and not speaker_names
    append, extend = out.append, out.extend
    for i, m in enumerate(messages):
        if instead is not None and i in instead:
            append(instead[i])
            continue
        if short:
            role = m.get("role")
            if (role == "user" or role == "assistant") and type(m.get("content")) is str and m.keys() <= _PLAIN_KEYS:
                append({"role": role, "content": m["content"]})
                continue
        if ids is None:
            ids = legacy_call_ids(messages) if style is Style.TRL else {}
        extend(convert_message(m, style, ids.get(i), speaker_names=speaker_names))


def answer_message(side: Any, style: Style) -> RawMessage:
    """A preference side (text or message dict, a tool call included) as one assistant message."""
    if isinstance(side, dict):
        converted = convert_message({**side, "role": "assistant"}, style)
        msg = converted[0] if converted else {"role": "assistant", "content": ""}
        msg.pop("name", None)
        return msg
    from ..align import text_of

    return {"role": "assistant", "content": text_of(side) or ""}


def system_messages(header: Mapping[str, Any], agent: str) -> list[RawMessage]:
    """The agent's system message(s) from the session header, as the first messages of a conversation."""
    definition: Mapping[str, Any] = agent_def(header, agent) or {}
    text = definition.get("system_message")
    if isinstance(text, str) and text:
        return [{"role": "system", "content": text}]
    if isinstance(text, list) and text:  # some autogen versions keep a list of system messages
        from ..align import text_of

        return [{"role": "system", "content": text_of(t) or ""} for t in text]
    return []


def tools_of(header: Mapping[str, Any], agent: str) -> list[Any] | None:
    """The tools in the agent's ``llm_config``, or None."""
    return _config_list(header, agent, "tools")


def functions_of(header: Mapping[str, Any], agent: str) -> list[Any] | None:
    """The legacy function definitions in the agent's ``llm_config`` (``functions``, which
    ``register_for_llm(api_style="function")`` fills), or None."""
    return _config_list(header, agent, "functions")


def _config_list(header: Mapping[str, Any], agent: str, key: str) -> list[Any] | None:
    definition: Mapping[str, Any] = agent_def(header, agent) or {}
    cfg = definition.get("llm_config")
    value = cfg.get(key) if isinstance(cfg, dict) else None
    return list(value) if isinstance(value, list) and value else None


def definitions_of(header: Mapping[str, Any], agent: str, style: Style) -> dict[str, list[Any]] | None:
    """What the rows of ``agent``'s thread carry beside the messages, by row key, or None.

    The TRL formats: ``{"tools": [...]}``, the agent's tools followed by its legacy functions as tools
    (``{"type": "function", "function": definition}``, as their calls become tool calls). The OpenAI formats keep
    the legacy API as it is: ``{"tools": [...], "functions": [...]}``, each when the agent has it.
    """
    tools = tools_of(header, agent) or []
    functions = functions_of(header, agent) or []
    out: dict[str, list[Any]] = {}
    if style is Style.TRL:
        named = {t["function"].get("name") for t in tools if isinstance(t, dict) and isinstance(t.get("function"), dict)}
        tools = tools + [
            {"type": "function", "function": f} for f in functions if not (isinstance(f, dict) and f.get("name") in named)
        ]
        functions = []
    if tools:
        out["tools"] = tools
    if functions:
        out["functions"] = functions
    return out or None
