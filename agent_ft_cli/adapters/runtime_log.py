"""``runtime-log``: the file logger's ``autogen_logs/runtime.log``.

A plain-text "Started new session" line, then one JSON object per line, told apart by their keys. Its ``response``
is a Python ``repr``: it is read back without evaluating anything where it is made of literals and keyword
constructors (``ChatCompletion(...)``, ``namespace(...)``); anything else cannot be recovered and that completion is
skipped with a warning. Threads are rebuilt by :mod:`.threads`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import orjson

from ..errors import InputDataError, listed
from ..fsutil import iter_lines
from .model import Conversation, Probe, SourceOptions, WarnFn
from .threads import AgentDefs, Completion, build_conversations

OPTIONS = frozenset({"session_id"})
_SESSION_LINE = re.compile(r"^Started new session with Session ID:\s*(\S+)")


def sniff(probe: Probe) -> bool:
    """The logger's session line, or one of its records (a completion, an agent, an event)."""
    if _SESSION_LINE.match(probe.line):
        return True
    rec = probe.record
    return isinstance(rec, dict) and (
        "invocation_id" in rec or ("agent_name" in rec and "agent_type" in rec) or "event_name" in rec
    )


class _NotLiteral(Exception):
    pass


def _literal(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [_literal(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {_literal(k) if k is not None else None: _literal(v) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.Call):  # ChatCompletion(id=..., choices=[...]) / namespace(...): keyword fields
        if node.args:
            raise _NotLiteral
        return {kw.arg: _literal(kw.value) for kw in node.keywords if kw.arg is not None}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _literal(node.operand)
        if isinstance(value, (int, float)):
            return -value
    raise _NotLiteral


def parse_repr(text: str) -> Any:
    """A response written with ``str()``, read back without evaluating it; None when it is not made of literals."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
        return _literal(tree.body)
    except (SyntaxError, ValueError, _NotLiteral, RecursionError):
        return None


def _runtime_response(text: Any) -> Any:
    if isinstance(text, dict):
        return text
    if not isinstance(text, str):
        return None
    parsed = parse_repr(text)
    if isinstance(parsed, dict) and "choices" in parsed:
        return parsed
    if not re.match(r"^\s*[A-Za-z_][\w.]*\(", text) and not text.lstrip().startswith(("<", "{", "[")):
        return {"response": text}  # a plain string response is logged as itself
    return None


def read(path: Path, options: SourceOptions, on_warning: WarnFn) -> list[Conversation]:
    """Conversations from the file logger's ``runtime.log``."""
    session_id = options.session_id
    current: str | None = None
    completions: list[Completion] = []
    agent_defs: AgentDefs = {}
    lost = 0
    cut: list[int] = []
    for lineno, raw in iter_lines(path, noun="runtime log", error=InputDataError):
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            continue
        m = _SESSION_LINE.match(text)
        if m:
            current = m.group(1)
            continue
        try:
            rec = orjson.loads(text)
        except ValueError:
            if text.startswith("{"):  # a record cut short (the logger or the copy crashed) or damaged
                cut.append(lineno)
            continue  # else the logger's own error lines ("[file_logger] Failed to log ...")
        if not isinstance(rec, dict):
            continue
        if "invocation_id" in rec and "request" in rec:
            sid = current
            if session_id is not None and sid != session_id:
                continue
            response = _runtime_response(rec.get("response"))
            if response is None:
                lost += 1
            completions.append(
                Completion(
                    f"{path}:{lineno}",
                    sid,
                    rec.get("source_name") or None,
                    rec["request"] if isinstance(rec["request"], dict) else {},
                    response,
                    bool(rec.get("is_cached")),
                )
            )
        elif "agent_name" in rec and "agent_type" in rec:
            args = rec.get("args")
            if not isinstance(args, dict):
                args = {}
            d = {k: args.get(k) for k in ("system_message", "human_input_mode", "description", "llm_config")}
            d["class"] = rec.get("agent_type")
            agent_defs[(rec.get("session_id") or current, str(rec["agent_name"]))] = d
    if cut:
        shown = listed(cut)
        if options.strict:
            raise InputDataError(
                f"{path}: {len(cut)} record line(s) are cut short or damaged (line(s) {shown}); drop {{strict}} to "
                "import the rest",
                options=("strict",),
            )
        on_warning(
            f"{path}: skipped {len(cut)} record line(s) cut short or damaged (line(s) {shown}); the completions and "
            "agents they held are missing from the imported sessions"
        )
    if session_id is not None and not completions:
        raise InputDataError(
            f"{path}: no chat completions for {{session_id}} {session_id!r}", options=("session_id",)
        )
    if lost:
        on_warning(
            f"{path}: {lost} response(s) were logged as a Python repr that cannot be read back; "
            "those completions are skipped (use the SQLite logger for exact responses)"
        )
    return build_conversations(completions, agent_defs, kind="runtime-log", source=path, on_warning=on_warning)
