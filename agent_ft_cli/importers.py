"""Sessions in: rebuild v1 session files from logs users already have.

Sources (detected from content, or forced with ``--from``):

* ``sqlite``: an ``autogen.runtime_logging`` database (``logs.db``). Every ``chat_completions`` row holds the exact
  request (system message first) and the response; ``agents`` holds names, classes and constructor arguments.
* ``runtime-log``: the file logger's ``autogen_logs/runtime.log`` (a plain-text "Started new session" line, then
  one JSON object per line, told apart by their keys). Its ``response`` is a Python ``repr``: it is read back
  without evaluating anything where it is made of literals and keyword constructors (``ChatCompletion(...)``,
  ``namespace(...)``); anything else cannot be recovered and that completion is skipped with a warning.
* ``openai-jsonl``: OpenAI-style chat JSON Lines: ``{"messages": [...]}`` per line (one session per line), or one
  message per line (the whole file is one session).

How a thread is rebuilt from completions: autogen sends ``system messages + agent.chat_messages[peer]`` to the model,
with each tool result message (one message holding a ``tool_responses`` list) unrolled into one ``role: tool``
message per response. So the request minus its leading system messages, with consecutive ``tool`` messages folded
back into one autogen tool message, plus the response (as autogen appends it: ``name`` = the agent unless it is a
tool call), is the agent's thread at that moment. Consecutive requests of one agent that extend each other are one
conversation; a request that does not extend the previous one (history cleared, a new chat) starts a new one.
The leading system messages become the agent's ``system_message`` in the header (joined by a blank line when there
are several). Not recoverable from logs: the peer's own view, and messages the agent received after its last model
call (the rebuilt thread ends with the agent's last answer).
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputDataError, UsageError
from .fsutil import read_text

Message = dict[str, Any]
WarnFn = Callable[[str], None]

KINDS = ("sqlite", "runtime-log", "openai-jsonl")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SESSION_LINE = re.compile(r"^Started new session with Session ID:\s*(\S+)")
_MESSAGE_KEYS = ("content", "function_call", "tool_calls", "tool_responses", "tool_call_id", "name", "role")


@dataclass
class ImportOptions:
    kind: str | None = None
    session_id: str | None = None
    agent: str | None = None
    peer: str | None = None
    force: bool = False


@dataclass
class Conversation:
    """One session file to write: the agents' definitions and their threads."""

    name: str
    agents: list[dict[str, Any]]
    threads: list[tuple[str, str, list[Message]]]
    source: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportResult:
    kind: str
    written: list[Path]
    conversations: list[Conversation]


# ---------------------------------------------------------------------------------------------------------------
# detection


def detect_kind(path: Path) -> str:
    """``sqlite``, ``runtime-log`` or ``openai-jsonl``, from the file's first bytes and first lines."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
            fh.seek(0)
            lines = [fh.readline() for _ in range(5)]
    except OSError as e:
        raise InputDataError(f"cannot read {str(path)!r}: {e.strerror or e}") from None
    if head == _SQLITE_MAGIC:
        return "sqlite"
    for raw in lines:
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            continue
        if _SESSION_LINE.match(text):
            return "runtime-log"
        try:
            rec = json.loads(text)
        except ValueError:
            continue
        if isinstance(rec, dict):
            if "invocation_id" in rec or ("agent_name" in rec and "agent_type" in rec) or "event_name" in rec:
                return "runtime-log"
            if "messages" in rec or "role" in rec:
                return "openai-jsonl"
    raise InputDataError(
        f"{path}: cannot tell what this is (not a SQLite logs.db, an autogen runtime.log nor chat JSONL); "
        "pass --from sqlite|runtime-log|openai-jsonl"
    )


# ---------------------------------------------------------------------------------------------------------------
# shared: completions -> threads


@dataclass
class Completion:
    where: str  # "logs.db row 12" / "runtime.log:7", for messages
    session_id: str | None
    source_name: str | None
    request: dict[str, Any]
    response: Any  # a dict (parsed), or None when it could not be recovered
    is_cached: bool = False


@dataclass
class _Chain:
    agent: str
    session_id: str | None
    request: list[Message]  # the last request, as autogen messages (no system)
    thread: list[Message]
    system: list[str]
    tools: list[Any] | None
    model: Any
    model_client_cls: Any
    rows: int = 1
    cached: int = 0


def _split_system(messages: list[Any]) -> tuple[list[str], list[Message]]:
    system: list[str] = []
    i = 0
    while i < len(messages) and isinstance(messages[i], dict) and messages[i].get("role") == "system":
        content = messages[i].get("content")
        system.append(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False))
        i += 1
    return system, [m for m in messages[i:] if isinstance(m, dict)]


def fold_tool_messages(messages: list[Message], peer: str | None) -> list[Message]:
    """Undo autogen's unrolling: consecutive ``role: tool`` messages become one message with ``tool_responses``."""
    out: list[Message] = []
    i = 0
    while i < len(messages):
        m = messages[i]
        if m.get("role") != "tool":
            out.append(dict(m))
            i += 1
            continue
        responses = []
        while i < len(messages) and messages[i].get("role") == "tool":
            t = messages[i]
            r: Message = {}
            if t.get("tool_call_id") is not None:
                r["tool_call_id"] = t["tool_call_id"]
            r["role"] = "tool"
            r["content"] = t.get("content") if isinstance(t.get("content"), str) else str(t.get("content", ""))
            responses.append(r)
            i += 1
        folded: Message = {
            "content": "\n\n".join(str(r["content"]) for r in responses),
            "tool_responses": responses,
            "role": "tool",
        }
        if peer:
            folded["name"] = peer
        out.append(folded)
    return out


def _clean_tool_calls(calls: Any) -> list[Any]:
    out = []
    for c in calls or []:
        if isinstance(c, dict):
            d = {k: c[k] for k in ("id", "function", "type") if c.get(k) is not None}
            fn = d.get("function")
            if isinstance(fn, dict):
                d["function"] = {k: fn[k] for k in ("name", "arguments") if k in fn}
            out.append(d)
        else:
            out.append(c)
    return out


def response_message(response: Any, agent: str) -> Message | None:
    """The message autogen appends to the agent's thread for a logged response (None when unrecoverable)."""
    if not isinstance(response, dict):
        return None
    if set(response) == {"response"}:  # the sqlite logger's form for a plain-string response
        text = response["response"]
        return {"content": text, "role": "assistant", "name": agent} if isinstance(text, str) else None
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    msg = choices[0].get("message")
    if isinstance(msg, str):
        msg = {"content": msg}
    if not isinstance(msg, dict):
        return None
    out: Message = {}
    if msg.get("content") is not None:
        out["content"] = msg["content"]
    if msg.get("function_call"):
        out["function_call"] = msg["function_call"]
    if msg.get("tool_calls"):
        out["tool_calls"] = _clean_tool_calls(msg["tool_calls"])
    if "content" not in out:
        if "function_call" not in out and "tool_calls" not in out:
            return None  # autogen appends nothing for an empty reply
        out["content"] = None
    out["role"] = "assistant"
    if not out.get("function_call") and not out.get("tool_calls"):
        out["name"] = agent
    return out


def _key(m: Message) -> str:
    """What two copies of one message share (names and key order aside)."""
    calls = [
        (c.get("id"), (c.get("function") or {}).get("name"), (c.get("function") or {}).get("arguments"))
        for c in m.get("tool_calls") or []
        if isinstance(c, dict)
    ]
    responses = [(r.get("tool_call_id"), r.get("content")) for r in m.get("tool_responses") or [] if isinstance(r, dict)]
    return json.dumps([m.get("role"), m.get("content"), calls, responses, m.get("tool_call_id")], default=str)


def _extends(new: list[Message], old: list[Message]) -> bool:
    if len(new) < len(old):
        return False
    return all(_key(a) == _key(b) for a, b in zip(new, old, strict=False))


def _peer_of(messages: list[Message], agent: str, fallback: str | None) -> str:
    names = Counter(
        m["name"] for m in messages if m.get("role") == "user" and isinstance(m.get("name"), str) and m["name"] != agent
    )
    if len(names) == 1:
        return next(iter(names))
    return fallback or (names.most_common(1)[0][0] if names else "user")


def build_conversations(
    completions: Iterable[Completion],
    agent_defs: dict[tuple[str | None, str], dict[str, Any]],
    *,
    kind: str,
    source: Path,
    on_warning: WarnFn | None = None,
) -> list[Conversation]:
    """Group completions by logging session and agent, chain them into conversations, one session file each."""
    chains: list[_Chain] = []
    open_chain: dict[tuple[str | None, str], _Chain] = {}
    warn = on_warning or (lambda _t: None)
    for c in completions:
        messages = c.request.get("messages") if isinstance(c.request, dict) else None
        if not isinstance(messages, list):
            warn(f"{c.where}: the request has no 'messages' list; skipped")
            continue
        agent = c.source_name or _agent_by_system(agent_defs, c.session_id, messages) or "assistant"
        system, rest = _split_system(messages)
        reply = response_message(c.response, agent)
        if reply is None:
            warn(f"{c.where}: the response cannot be recovered (not a chat completion); this completion is skipped")
            continue
        request = fold_tool_messages(rest, None)
        key = (c.session_id, agent)
        chain = open_chain.get(key)
        if chain is not None and _extends(request, chain.request):
            chain.request = request
            chain.thread = [*request, reply]
            chain.rows += 1
            chain.cached += int(c.is_cached)
            chain.system = system or chain.system
            chain.tools = c.request.get("tools") or chain.tools
        else:
            chain = _Chain(
                agent=agent,
                session_id=c.session_id,
                request=request,
                thread=[*request, reply],
                system=system,
                tools=c.request.get("tools") or None,
                model=c.request.get("model"),
                model_client_cls=c.request.get("model_client_cls"),
                cached=int(c.is_cached),
            )
            chains.append(chain)
            open_chain[key] = chain
    return _group_chains(chains, agent_defs, kind=kind, source=source)


def _agent_by_system(
    agent_defs: dict[tuple[str | None, str], dict[str, Any]], session_id: str | None, messages: list[Any]
) -> str | None:
    """Older logs have no ``source_name``: the agent whose logged system message is the request's."""
    system, _ = _split_system(messages)
    if not system:
        return None
    matches = [name for (sid, name), d in agent_defs.items() if sid == session_id and d.get("system_message") == system[0]]
    return matches[0] if len(matches) == 1 else None


def _group_chains(
    chains: list[_Chain], agent_defs: dict[tuple[str | None, str], dict[str, Any]], *, kind: str, source: Path
) -> list[Conversation]:
    from .redact import redact

    conversations: list[Conversation] = []
    by_pair: dict[tuple[str | None, frozenset[str], int], Conversation] = {}
    counts: Counter[tuple[str | None, str, str]] = Counter()
    for chain in chains:
        others = [n for (sid, n) in agent_defs if sid == chain.session_id and n != chain.agent]
        fallback = others[0] if len(others) == 1 else None
        peer = _peer_of(chain.thread, chain.agent, fallback)
        thread = [
            {**m, "name": peer} if m.get("role") == "tool" and m.get("tool_responses") and "name" not in m else m
            for m in chain.thread
        ]
        ordinal = counts[(chain.session_id, chain.agent, peer)]
        counts[(chain.session_id, chain.agent, peer)] += 1
        definition = _agent_definition(chain, agent_defs.get((chain.session_id, chain.agent)), redact)
        pair_key = (chain.session_id, frozenset((chain.agent, peer)), ordinal)
        conv = by_pair.get(pair_key)
        if conv is not None and all(a != chain.agent for a, _p, _m in conv.threads):
            conv.threads.append((chain.agent, peer, thread))
            conv.agents = [d for d in conv.agents if d["name"] != chain.agent] + [definition]
            conv.source["rows"] += chain.rows
            conv.source["cached_rows"] += chain.cached
            continue
        peer_def = agent_defs.get((chain.session_id, peer))
        peer_definition = (
            _plain_definition(peer, peer_def, redact)
            if peer_def is not None
            else {"name": peer, "class": "ConversableAgent", "system_message": None, "llm_config": False}
        )
        sid = chain.session_id or "nosession"
        conv = Conversation(
            name=f"{source.stem}-{sid[:8]}-{chain.agent}-{peer}" + (f"-{ordinal + 1}" if ordinal else ""),
            agents=[definition, peer_definition],
            threads=[(chain.agent, peer, thread)],
            source={
                "kind": kind,
                "path": str(source),
                "session_id": chain.session_id,
                "rows": chain.rows,
                "cached_rows": chain.cached,
            },
        )
        by_pair[pair_key] = conv
        conversations.append(conv)
    return conversations


def _plain_definition(name: str, logged: dict[str, Any], redact: Callable[[Any], Any]) -> dict[str, Any]:
    llm_config = logged.get("llm_config")
    return {
        "name": name,
        "class": str(logged.get("class") or "ConversableAgent"),
        "system_message": logged.get("system_message") if isinstance(logged.get("system_message"), str) else None,
        "human_input_mode": logged.get("human_input_mode") if isinstance(logged.get("human_input_mode"), str) else None,
        "description": logged.get("description") if isinstance(logged.get("description"), str) else None,
        "llm_config": redact(llm_config) if isinstance(llm_config, dict) else False,
    }


def _agent_definition(chain: _Chain, logged: dict[str, Any] | None, redact: Callable[[Any], Any]) -> dict[str, Any]:
    definition = _plain_definition(chain.agent, logged or {}, redact)
    if chain.system:
        definition["system_message"] = "\n\n".join(chain.system)
    cfg = definition["llm_config"] if isinstance(definition["llm_config"], dict) else {}
    if not cfg.get("config_list"):
        entry = {k: v for k, v in (("model", chain.model), ("model_client_cls", chain.model_client_cls)) if v}
        cfg["config_list"] = [entry] if entry else []
    if chain.tools and not cfg.get("tools"):
        cfg["tools"] = chain.tools
    definition["llm_config"] = cfg
    return definition


# ---------------------------------------------------------------------------------------------------------------
# sqlite


def _loads(text: Any) -> Any:
    if not isinstance(text, (str, bytes)):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def read_sqlite(path: Path, *, session_id: str | None = None, on_warning: WarnFn | None = None) -> list[Conversation]:
    """Conversations from an ``autogen.runtime_logging`` SQLite database (any schema version seen so far)."""
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise InputDataError(f"{path}: cannot open the SQLite database ({e})") from None
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "chat_completions" not in tables:
            raise InputDataError(
                f"{path}: no chat_completions table; not an autogen runtime_logging database (autogen.runtime_logging.start)"
            )
        cols = {r[1] for r in con.execute("PRAGMA table_info(chat_completions)")}
        if "request" not in cols or "response" not in cols:
            raise InputDataError(f"{path}: table chat_completions has no request/response columns")

        def col(name: str) -> str:
            return name if name in cols else "NULL"

        order = "id" if "id" in cols else "rowid"
        query = (
            f"SELECT {order}, {col('session_id')}, {col('source_name')}, request, response, {col('is_cached')} "
            f"FROM chat_completions"
        )
        args: tuple[Any, ...] = ()
        if session_id is not None:
            if "session_id" not in cols:
                raise UsageError(f"--session-id: {path} has no session_id column")
            query += " WHERE session_id = ?"
            args = (session_id,)
        rows = con.execute(query + f" ORDER BY {order}", args).fetchall()
        agent_defs: dict[tuple[str | None, str], dict[str, Any]] = {}
        if "agents" in tables:
            acols = {r[1] for r in con.execute("PRAGMA table_info(agents)")}
            aq = "SELECT {}, {}, {}, {} FROM agents ORDER BY {}".format(
                *(c if c in acols else "NULL" for c in ("session_id", "name", "class", "init_args")),
                "id" if "id" in acols else "rowid",
            )
            for sid, name, cls, init_args in con.execute(aq):
                if not name:
                    continue
                d = _loads(init_args)
                d = dict(d) if isinstance(d, dict) else {}
                d["class"] = cls
                agent_defs[(sid, name)] = d
    except sqlite3.DatabaseError as e:
        raise InputDataError(f"{path}: not a readable SQLite database ({e})") from None
    finally:
        con.close()
    if session_id is not None and not rows:
        raise InputDataError(f"{path}: no chat completions for --session-id {session_id!r}")
    completions = []
    for rid, sid, source_name, request, response, is_cached in rows:
        where = f"{path} row {rid}"
        req = _loads(request)
        if not isinstance(req, dict):
            if on_warning:
                on_warning(f"{where}: the request is not JSON; skipped")
            continue
        completions.append(
            Completion(where, sid, source_name or None, req, _loads(response), bool(is_cached))
        )
    return build_conversations(completions, agent_defs, kind="sqlite", source=path, on_warning=on_warning)


# ---------------------------------------------------------------------------------------------------------------
# runtime.log (file logger)


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


def read_runtime_log(
    path: Path, *, session_id: str | None = None, on_warning: WarnFn | None = None
) -> list[Conversation]:
    """Conversations from the file logger's ``runtime.log``."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputDataError(f"cannot read {str(path)!r}: {e.strerror or e}") from None
    current: str | None = None
    completions: list[Completion] = []
    agent_defs: dict[tuple[str | None, str], dict[str, Any]] = {}
    lost = 0
    for lineno, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        text = line.strip()
        if not text:
            continue
        m = _SESSION_LINE.match(text)
        if m:
            current = m.group(1)
            continue
        try:
            rec = json.loads(text)
        except ValueError:
            continue  # the logger's own error lines ("[file_logger] Failed to log ...")
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
    if session_id is not None and not completions:
        raise InputDataError(f"{path}: no chat completions for --session-id {session_id!r}")
    if lost and on_warning:
        on_warning(
            f"{path}: {lost} response(s) were logged as a Python repr that cannot be read back; "
            "those completions are skipped (use the SQLite logger for exact responses)"
        )
    return build_conversations(completions, agent_defs, kind="runtime-log", source=path, on_warning=on_warning)


# ---------------------------------------------------------------------------------------------------------------
# OpenAI-style chat JSONL


def to_agent_view(messages: list[Any], agent: str, peer: str, where: str) -> tuple[list[str], list[Message]]:
    """OpenAI chat messages as the agent's thread: leading system messages apart, tool results folded, names set."""
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise InputDataError(f"{where}: message {i + 1} is not an object with a 'role'")
    system, rest = _split_system(messages)
    kept = []
    for m in rest:
        msg = {k: m[k] for k in _MESSAGE_KEYS if k in m}
        if msg.get("tool_calls"):
            msg["tool_calls"] = _clean_tool_calls(msg["tool_calls"])
            msg.setdefault("content", None)
        elif "name" not in msg and msg["role"] in ("user", "assistant"):
            msg["name"] = peer if msg["role"] == "user" else agent
        msg.setdefault("content", "" if msg["role"] != "assistant" else None)
        kept.append(msg)
    return system, fold_tool_messages(kept, peer)


def read_openai_jsonl(path: Path, *, agent: str | None = None, peer: str | None = None) -> list[Conversation]:
    """One conversation per ``{"messages": [...]}`` line, or the whole file when each line is one message."""
    agent = agent or "assistant"
    peer = peer or "user"
    if agent == peer:
        raise UsageError(f"--agent and --peer are both {agent!r}; choose two different names")
    text = read_text(path, noun="chat JSONL file", error=InputDataError)
    records: list[tuple[int, Any]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append((lineno, json.loads(line)))
        except ValueError as e:
            raise InputDataError(f"{path}:{lineno}: not valid JSON ({str(e).split(':', 1)[0]})") from None
    if not records:
        raise InputDataError(f"{path}: no records; expected {{\"messages\": [...]}} per line")
    per_line = all(isinstance(r, dict) and "messages" in r for _, r in records)
    per_message = all(isinstance(r, dict) and "role" in r for _, r in records)
    if not per_line and not per_message:
        bad = next(n for n, r in records if not (isinstance(r, dict) and ("messages" in r or "role" in r)))
        raise InputDataError(f"{path}:{bad}: expected an object with 'messages' (or one message with 'role') per line")
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


# ---------------------------------------------------------------------------------------------------------------
# writing


_UNSAFE = re.compile(r"[^\w.-]+")


def write_conversations(conversations: list[Conversation], out: Path, *, force: bool = False) -> list[Path]:
    """One session file per conversation in ``out``; refuses (before writing anything) to overwrite without force."""
    from . import session as fmt
    from .classic.compat import autogen_version

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a file; give a folder for the session files")
    if not out.exists():
        if not out.parent.is_dir():
            raise UsageError(f"--out {str(out)!r}: folder {str(out.parent)!r} does not exist; create it first")
        try:
            out.mkdir()
        except OSError as e:
            raise UsageError(f"--out {str(out)!r}: cannot create the folder ({e.strerror or e})") from None
    paths: list[Path] = []
    taken: set[str] = set()
    for conv in conversations:
        stem = _UNSAFE.sub("_", conv.name).strip("._") or "session"
        name, n = stem, 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name)
        paths.append(out / f"{name}.jsonl")
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        raise UsageError(f"--out: {str(existing[0])!r}{more} already exist(s); pass --force to overwrite")
    version = autogen_version()
    for conv, path in zip(conversations, paths, strict=True):
        header = fmt.make_header(conv.agents, autogen_version=version, imported_from=conv.source)
        fmt.write_session(path, header, conv.threads)
    return paths


def run_import(
    source: Path, out: Path, options: ImportOptions, *, on_warning: WarnFn | None = None
) -> ImportResult:
    """Everything ``agent-ft import`` does."""
    source = Path(source)
    if not source.exists():
        raise InputDataError(f"import source {str(source)!r} does not exist")
    if source.is_dir():
        raise InputDataError(f"import source {str(source)!r} is a folder; give logs.db, runtime.log or a .jsonl file")
    kind = options.kind
    if kind is not None and kind not in KINDS:
        raise UsageError(f"--from {kind!r} is not one of: {', '.join(KINDS)}")
    kind = kind or detect_kind(source)
    if kind != "openai-jsonl" and (options.agent or options.peer):
        raise UsageError("--agent/--peer apply to --from openai-jsonl only (logs name the agents)")
    if kind == "openai-jsonl" and options.session_id:
        raise UsageError("--session-id applies to SQLite databases and runtime logs only")
    if kind == "sqlite":
        conversations = read_sqlite(source, session_id=options.session_id, on_warning=on_warning)
    elif kind == "runtime-log":
        conversations = read_runtime_log(source, session_id=options.session_id, on_warning=on_warning)
    else:
        conversations = read_openai_jsonl(source, agent=options.agent, peer=options.peer)
    if not conversations:
        raise InputDataError(f"{source}: no conversation could be rebuilt (no usable chat completions)")
    written = write_conversations(conversations, Path(out), force=options.force)
    return ImportResult(kind, written, conversations)
