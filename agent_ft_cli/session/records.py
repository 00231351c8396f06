"""What a session file holds, record by record: the header, agent definitions and the record constructors.

Format v1 (documented in README.md; JSON Schema in ``agent_ft_cli/schemas/session-v1.schema.json``)::

    {"type":"header","format":"agent-ft-session","version":"1.0","created_at":...,"autogen_version":...,
     "agent_ft_version":...,"agents":[{"name":...,"class":...,"system_message":...,"llm_config":...}, ...]}
    {"type":"message","agent":"assistant","peer":"user","message":{...exactly as in chat_messages[peer]...}}
    {"type":"clear","agent":"assistant","peer":"user"}        # peer null: every thread of that agent

This module builds records and checks their *shape* (:func:`check_header`, :func:`check_record`); what a record
*means* for a thread is said once, in :mod:`.threads`. Records are serialised by :func:`dumps_record` only, so the
byte layout the fast readers in :mod:`._scan` rely on comes from here too (:func:`message_line_prefix`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import orjson

from ..errors import SessionError
from ..jsonio import RECORD_FALLBACKS, dumps_line, json_default, recordable  # noqa: F401  (json_default re-exported)
from ..types import AgentDefinition, Message, SessionHeader  # noqa: F401  (Message re-exported: its one owner is agent_ft_cli.types)

FORMAT = "agent-ft-session"
VERSION = "1.0"
MAJOR = 1

WarnFn = Callable[[str], None]


def dumps_record(record: dict[str, Any]) -> bytes:
    """One record as a line of bytes (compact JSON plus ``\\n``)."""
    return dumps_line(record)


# Values JSON (as every reader parses it) cannot hold exactly, and what a recording writes instead (documented in
# docs/session-format.md): only the value concerned is replaced, so the line stays valid JSON and nothing around it
# is lost or silently changed.
FALLBACKS = RECORD_FALLBACKS
_PLAIN = (str, int, bool, type(None))


def _needs_walk(value: Any, depth: int = 0) -> bool:
    """Whether a value orjson wrote may hold a NaN or infinity it wrote as ``null``: a non-finite float, or any type
    other than the plain JSON ones (a dataclass, a subclass) that may hide one."""
    t = type(value)
    if t is float:
        return value != value or value in (float("inf"), float("-inf"))
    if t is dict:
        return depth > 200 or any(_needs_walk(v, depth + 1) for v in value.values())
    if t in (list, tuple):
        return depth > 200 or any(_needs_walk(v, depth + 1) for v in value)
    return t not in _PLAIN


def dumps_record_safe(record: dict[str, Any], on_fallback: Callable[[set[str]], None] | None = None) -> bytes:
    """:func:`dumps_record` for values that came from a live chat: never raises on a value, never silently changes
    one. Only a value JSON cannot hold exactly is replaced, as :data:`FALLBACKS` says (the rest of the record is
    kept exactly); ``on_fallback`` is told which kinds were needed. The common case costs one ``orjson`` call and a
    byte search."""
    try:
        data = orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)  # plain JSON types only: no silent default
    except (TypeError, ValueError, RecursionError):  # orjson.JSONEncodeError is a TypeError
        pass
    else:
        try:
            if b"null" not in data or not _needs_walk(record):
                return data
        except RecursionError:  # deep, and the caller's stack too: the walk below decides
            pass
    notes: set[str] = set()
    data = orjson.dumps(recordable(record, notes), option=orjson.OPT_APPEND_NEWLINE)
    if notes and on_fallback is not None:
        on_fallback(notes)
    return data


def make_header(agents: list[dict[str, Any]], *, autogen_version: str | None = None, **extra: Any) -> dict[str, Any]:
    """A v1 header record for the given agent definitions (already redacted)."""
    from .. import __version__

    header: dict[str, Any] = {
        "type": "header",
        "format": FORMAT,
        "version": VERSION,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "agent_ft_version": __version__,
        "autogen_version": autogen_version,
        "agents": agents,
    }
    header.update(extra)
    return header


def message_record(agent: str, peer: str, message: Mapping[str, Any]) -> dict[str, Any]:
    """A message of ``agent.chat_messages[peer]``."""
    return {"type": "message", "agent": agent, "peer": peer, "message": message}


def clear_record(agent: str, peer: str | None, *, rewrite: bool = False) -> dict[str, Any]:
    """``agent``'s thread with ``peer`` emptied (``peer=None``: every thread of ``agent``).

    ``rewrite=True`` marks a history changed in place (the recorder writes it as this clear followed by the new
    content): for the threads nothing differs, but it does not start a new conversation
    (:meth:`.threads.Session.conversations`)."""
    record: dict[str, Any] = {"type": "clear", "agent": agent, "peer": peer}
    if rewrite:
        record["rewrite"] = True
    return record


@functools.lru_cache(maxsize=256)
def message_line_prefix(agent: str, peer: str) -> bytes:
    """The bytes every line :func:`dumps_record` writes for a message of this thread starts with, up to and
    including the ``{`` that opens the message object (a line is this prefix, the message, then ``}}\\n``)."""
    line = dumps_record(message_record(agent, peer, {}))
    return line[: -len(b"}}\n")]


# ---------------------------------------------------------------------------------------------------------------
# agent definitions


def agent_def(header: Mapping[str, Any], name: str) -> AgentDefinition | None:
    """A copy of the header's definition of the agent called ``name`` (``None`` when there is none)."""
    for a in header.get("agents") or []:
        if a.get("name") == name:
            return cast(AgentDefinition, dict(a))
    return None


def has_model_client(agent: Mapping[str, Any]) -> bool:
    """Whether an agent definition's llm_config names a custom ``model_client_cls``."""
    cfg = agent.get("llm_config")
    if not isinstance(cfg, dict):
        return False
    entries = cfg.get("config_list") or []
    return any(isinstance(e, dict) and e.get("model_client_cls") for e in entries)


# ---------------------------------------------------------------------------------------------------------------
# shape checks (the location string ``where`` comes from :func:`.lines.where`)


def check_header(path: Path, header: Any) -> SessionHeader:
    """Validate the parsed line 1 of a session file."""
    if not isinstance(header, dict) or header.get("type") != "header" or header.get("format") != FORMAT:
        raise SessionError(
            f"{path}:1: not an agent-ft session (the first line must be a header with format {FORMAT!r}); "
            "record sessions with save_session, SessionRecorder or agent-ft record"
        )
    version = header.get("version")
    try:
        major = int(str(version).split(".", 1)[0])
    except ValueError:
        raise SessionError(f"{path}:1: header has an invalid format version {version!r}") from None
    if major > MAJOR:
        raise SessionError(
            f"{path}: written in session format {version}, newer than this agent-ft reads ({VERSION}); "
            "upgrade agent-ft"
        )
    if major < 1:
        raise SessionError(f"{path}:1: header has an invalid format version {version!r}")
    agents = header.get("agents")
    if not isinstance(agents, list) or not all(isinstance(a, dict) and isinstance(a.get("name"), str) for a in agents):
        raise SessionError(f"{path}:1: header field 'agents' must be a list of objects with a 'name'")
    return cast(SessionHeader, header)


def is_message(rec: Any) -> bool:
    """Whether a parsed line is a well-formed message record (the common case, checked first by every reader)."""
    return (
        type(rec) is dict
        and rec.get("type") == "message"
        and type(rec.get("message")) is dict
        and type(rec.get("agent")) is str
        and type(rec.get("peer")) is str
    )


def record_problem(rec: Any) -> str | None:
    """What is wrong with a parsed line as a record (``None``: a well-formed record, known type or not)."""
    if type(rec) is not dict:
        return f"each line must be a JSON object, got {type(rec).__name__}"
    kind = rec.get("type")
    if kind == "message":
        if type(rec.get("agent")) is not str or type(rec.get("peer")) is not str:
            return "message record needs string fields 'agent' and 'peer'"
        if type(rec.get("message")) is not dict:
            return "message record needs an object in field 'message'"
    elif kind == "clear":
        if type(rec.get("agent")) is not str or not (rec.get("peer") is None or type(rec.get("peer")) is str):
            return "clear record needs a string 'agent' and a string or null 'peer'"
    elif kind == "header":
        return "a second header; sessions cannot be concatenated, record into a new file"
    elif not isinstance(kind, str):
        return "record has no 'type' field"
    return None
