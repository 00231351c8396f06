"""Chat completions (a logged request and its response) rebuilt into threads: shared by the log adapters.

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

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..jsonio import to_json
from ..types import RawMessage, WarnFn
from .model import AgentDef, Conversation

#: The agents a log defines, by (logging session id, agent name).
AgentDefs = dict[tuple[str | None, str], dict[str, Any]]


def loads(text: Any) -> Any:
    """A logged JSON column or field, or None when it is not JSON (orjson: deep or bad input is just None)."""
    if not isinstance(text, (str, bytes)):
        return None
    try:
        return orjson.loads(text)
    except ValueError:
        return None



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
    request: list[RawMessage]  # the last request, as autogen messages (no system)
    thread: list[RawMessage]
    system: list[str]
    tools: list[Any] | None
    model: Any
    model_client_cls: Any
    rows: int = 1
    cached: int = 0


def split_system(messages: list[Any]) -> tuple[list[str], list[RawMessage]]:
    system: list[str] = []
    i = 0
    while i < len(messages) and isinstance(messages[i], dict) and messages[i].get("role") == "system":
        content = messages[i].get("content")
        system.append(content if isinstance(content, str) else to_json(content).decode())
        i += 1
    return system, [m for m in messages[i:] if isinstance(m, dict)]


def fold_tool_messages(messages: list[RawMessage], peer: str | None) -> list[RawMessage]:
    """Undo autogen's unrolling: consecutive ``role: tool`` messages become one message with ``tool_responses``."""
    out: list[RawMessage] = []
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
            r: RawMessage = {}
            if t.get("tool_call_id") is not None:
                r["tool_call_id"] = t["tool_call_id"]
            r["role"] = "tool"
            r["content"] = t.get("content") if isinstance(t.get("content"), str) else str(t.get("content", ""))
            responses.append(r)
            i += 1
        folded: RawMessage = {
            "content": "\n\n".join(str(r["content"]) for r in responses),
            "tool_responses": responses,
            "role": "tool",
        }
        if peer:
            folded["name"] = peer
        out.append(folded)
    return out


def clean_tool_calls(calls: Any) -> list[Any]:
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


def response_message(response: Any, agent: str) -> RawMessage | None:
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
    out: RawMessage = {}
    if msg.get("content") is not None:
        out["content"] = msg["content"]
    if msg.get("function_call"):
        out["function_call"] = msg["function_call"]
    if msg.get("tool_calls"):
        out["tool_calls"] = clean_tool_calls(msg["tool_calls"])
    if "content" not in out:
        if "function_call" not in out and "tool_calls" not in out:
            return None  # autogen appends nothing for an empty reply
        out["content"] = None
    out["role"] = "assistant"
    if not out.get("function_call") and not out.get("tool_calls"):
        out["name"] = agent
    return out


def _key(m: RawMessage) -> str:
    """What two copies of one message share (names and key order aside)."""
    calls = [
        (c.get("id"), (c.get("function") or {}).get("name"), (c.get("function") or {}).get("arguments"))
        for c in m.get("tool_calls") or []
        if isinstance(c, dict)
    ]
    responses = [(r.get("tool_call_id"), r.get("content")) for r in m.get("tool_responses") or [] if isinstance(r, dict)]
    return to_json([m.get("role"), m.get("content"), calls, responses, m.get("tool_call_id")]).decode()


def _extends(new: list[RawMessage], old: list[RawMessage]) -> bool:
    if len(new) < len(old):
        return False
    return all(_key(a) == _key(b) for a, b in zip(new, old, strict=False))


def _peer_of(messages: list[RawMessage], agent: str, fallback: str | None) -> str:
    names = Counter(
        m["name"] for m in messages if m.get("role") == "user" and isinstance(m.get("name"), str) and m["name"] != agent
    )
    if len(names) == 1:
        return next(iter(names))
    return fallback or (names.most_common(1)[0][0] if names else "user")


def build_conversations(
    completions: Iterable[Completion],
    agent_defs: AgentDefs,
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
        system, rest = split_system(messages)
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
    agent_defs: AgentDefs, session_id: str | None, messages: list[Any]
) -> str | None:
    """Older logs have no ``source_name``: the agent whose logged system message is the request's."""
    system, _ = split_system(messages)
    if not system:
        return None
    matches = [name for (sid, name), d in agent_defs.items() if sid == session_id and d.get("system_message") == system[0]]
    return matches[0] if len(matches) == 1 else None


def _group_chains(
    chains: list[_Chain], agent_defs: AgentDefs, *, kind: str, source: Path
) -> list[Conversation]:
    from ..redact import redact

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


def _plain_definition(name: str, logged: dict[str, Any], redact: Callable[[Any], Any]) -> AgentDef:
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
