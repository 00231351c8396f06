"""``openai-jsonl``: OpenAI-style chat JSON Lines.

``{"messages": [...]}`` per line (one session per line, with the line's ``tools`` in the agent's ``llm_config``),
or one message per line (the whole file is one session). The answering side is named ``agent`` (default
``assistant``), the asking side ``peer`` (default ``user``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from ..errors import InputDataError, UsageError, listed
from ..fsutil import iter_lines
from ..types import RawMessage, WarnFn
from .model import Conversation, Probe, SourceOptions
from .threads import clean_tool_calls, fold_tool_messages, split_system

OPTIONS = frozenset({"agent", "peer"})
_MESSAGE_KEYS = ("content", "function_call", "tool_calls", "tool_responses", "tool_call_id", "name", "role")


def sniff(probe: Probe) -> bool:
    """A JSON object with ``messages`` (a conversation) or ``role`` (a message)."""
    return isinstance(probe.record, dict) and ("messages" in probe.record or "role" in probe.record)


def to_agent_view(messages: list[Any], agent: str, peer: str, where: str) -> tuple[list[str], list[RawMessage]]:
    """OpenAI chat messages as the agent's thread: leading system messages apart, tool results folded, names set."""
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise InputDataError(f"{where}: message {i + 1} is not an object with a 'role'")
    system, rest = split_system(messages)
    kept = []
    for m in rest:
        msg = {k: m[k] for k in _MESSAGE_KEYS if k in m}
        if msg.get("tool_calls"):
            msg["tool_calls"] = clean_tool_calls(msg["tool_calls"])
            msg.setdefault("content", None)
        elif "name" not in msg and msg["role"] in ("user", "assistant"):
            msg["name"] = peer if msg["role"] == "user" else agent
        msg.setdefault("content", "" if msg["role"] != "assistant" else None)
        kept.append(msg)
    return system, fold_tool_messages(kept, peer)


def read(path: Path, options: SourceOptions, on_warning: WarnFn) -> list[Conversation]:
    """One conversation per ``{"messages": [...]}`` line, or the whole file when each line is one message."""
    agent = options.agent or "assistant"
    peer = options.peer or "user"
    if agent == peer:
        raise UsageError(
            f"{{agent}} and {{peer}} are both {agent!r}; choose two different names", options=("agent", "peer")
        )
    records: list[tuple[int, Any]] = []
    damaged: list[tuple[int, str, bool]] = []  # (line, why, whether it is a final line cut short)
    for lineno, raw in iter_lines(path, noun="chat JSONL file", error=InputDataError):
        if not raw.strip():
            continue
        try:
            records.append((lineno, orjson.loads(raw)))
        except orjson.JSONDecodeError as e:  # the position and the whole reason, as every reader gives them
            if not raw.lstrip().startswith(b"{"):
                raise InputDataError(f"{path}:{lineno}: not valid JSON ({e.msg} at column {e.colno})") from None
            damaged.append((lineno, f"{e.msg} at column {e.colno}", not raw.endswith(b"\n")))
    if damaged:
        _skip_damaged(path, damaged, records, options.strict, on_warning)
    if not records:
        raise InputDataError(f"{path}: no records; expected {{\"messages\": [...]}} per line")
    is_conv = [isinstance(r, dict) and "messages" in r for _, r in records]
    is_msg = [isinstance(r, dict) and "role" in r and "messages" not in r for _, r in records]
    per_line = all(is_conv)
    per_message = all(is_msg)
    if not per_line and not per_message:
        bad = next((n for (n, _), c, m in zip(records, is_conv, is_msg, strict=True) if not (c or m)), None)
        if bad is not None:
            raise InputDataError(
                f"{path}:{bad}: expected an object with 'messages' (or one message with 'role') per line"
            )
        first_conv = next(n for (n, _), c in zip(records, is_conv, strict=True) if c)
        first_msg = next(n for (n, _), m in zip(records, is_msg, strict=True) if m)
        raise InputDataError(
            f"{path}: mixes conversations ({{\"messages\": [...]}}, line {first_conv}) with single messages "
            f"(line {first_msg}); a file holds one kind: split it"
        )
    groups: list[tuple[str, int | None, list[Any], Any]] = []
    if per_line:
        width = max(4, len(str(len(records))))
        for i, (lineno, rec) in enumerate(records, 1):
            msgs = rec.get("messages")
            if not isinstance(msgs, list):
                raise InputDataError(f"{path}:{lineno}: 'messages' must be a list")
            groups.append((f"{path.stem}-{i:0{width}d}", lineno, msgs, rec.get("tools")))
    else:
        groups.append((path.stem, None, [r for _, r in records], None))
    conversations = []
    for name, at_line, msgs, tools in groups:
        where = f"{path}:{at_line}" if at_line else str(path)
        system, thread = to_agent_view(msgs, agent, peer, where)
        if not thread:
            raise InputDataError(f"{where}: no messages besides the system message")
        llm_config: dict[str, Any] = {"config_list": []}
        if isinstance(tools, list) and tools:
            llm_config["tools"] = tools
        agents: list[dict[str, Any]] = [
            {
                "name": agent,
                "class": "ConversableAgent",
                "system_message": "\n\n".join(system) if system else None,
                "human_input_mode": None,
                "description": None,
                "llm_config": llm_config,
            },
            {"name": peer, "class": "ConversableAgent", "system_message": None, "llm_config": False},
        ]
        conversations.append(
            Conversation(name, agents, [(agent, peer, thread)], {"kind": "openai-jsonl", "path": str(path), "line": at_line})
        )
    return conversations


def _skip_damaged(
    path: Path, damaged: list[tuple[int, str, bool]], records: list[tuple[int, Any]], strict: bool, on_warning: WarnFn
) -> None:
    """Lines that are JSON objects cut short or damaged: skipped with a warning that counts and names them, or an
    error under ``strict``. Skipping never takes a message out of the middle of a conversation: in a file of one
    message per line only a final line cut short (a crashed writer) can go."""
    lines = [n for n, _, _ in damaged]
    shown = listed(lines)
    first, why, _ = damaged[0]
    if not records:  # nothing else to import: the damage is the answer
        raise InputDataError(f"{path}:{first}: not valid JSON ({why})")
    if strict:
        raise InputDataError(
            f"{path}:{first}: not valid JSON ({why}); {len(lines)} line(s) cut short or damaged (line(s) {shown}); "
            "drop {strict} to import the rest",
            options=("strict",),
        )
    per_message = bool(records) and all(isinstance(r, dict) and "messages" not in r for _, r in records)
    cut_end = len(damaged) == 1 and damaged[0][2] and (not records or records[-1][0] < first)
    if per_message and not cut_end:
        raise InputDataError(
            f"{path}:{first}: not valid JSON ({why}); each line is one message of one conversation, so skipping it "
            "would take a message out of the conversation: repair or remove the line"
        )
    on_warning(
        f"{path}: skipped {len(lines)} line(s) cut short or damaged (line(s) {shown}); "
        + ("the conversation ends before them" if per_message else "the conversations they held are not imported")
    )
