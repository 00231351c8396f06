"""Microsoft AgentChat (``autogen-agentchat`` 0.7): sessions from what its agents and teams save as JSON.

Read without importing AgentChat (the files are plain JSON), three shapes, told apart by their content:

* an agent's ``save_state()``: ``{"type": "AssistantAgentState", "llm_context": {"messages": [...]}}``. The
  ``llm_context`` is exactly what the agent sends its model (its system message aside, which AgentChat keeps in the
  agent, not in the state): ``SystemMessage``, ``UserMessage`` (``source`` = who said it),
  ``AssistantMessage`` (text, or a list of ``FunctionCall`` with an optional ``thought``) and
  ``FunctionExecutionResultMessage`` (a batch of results). One thread, the agent's view.
* a team's ``save_state()``: ``{"type": "TeamState", "agent_states": {name: {"agent_state": {...}}}}``: one thread
  per agent state that holds an ``llm_context`` (nested teams, e.g. a society-of-mind agent's, are walked; agent
  names are unique across them, as AgentChat's messages name their source by name alone), followed
  by the chat messages of its ``message_buffer`` (delivered to it, added to its context on its next turn).
* a ``TaskResult`` saved as JSON (``result.model_dump_json()``), or a JSON list of them (several runs, in order):
  ``{"messages": [...], "stop_reason": ...}``. Each agent that spoke gets the view AgentChat builds for it: its
  own text answers and tool calls (a ``ThoughtEvent`` just before a tool call becomes that call's content), its tool
  results, and every *chat message* of the others as a user message; other agents' inner events are never shown to
  it, and its own ``ToolCallSummaryMessage``/``HandoffMessage`` are not in its model context either, so they are
  left out as AgentChat leaves them out.

Each thread becomes a classic one (``agent.chat_messages[peer]``): an ``AssistantMessage`` an assistant message
(``name`` = the agent unless it calls tools), a ``UserMessage`` a user message named after its ``source``, a result
batch ONE tool message with ``tool_responses``, images ``image_url`` parts with a data URI. The peer is whoever
spoke to the agent first (the task's ``user`` as a rule). ``docs/frameworks.md`` lists what is mapped and lost.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path
from typing import Any

from ..errors import InputDataError
from ..fsutil import read_text
from .model import Conversation

KIND = "agentchat"
#: The import options this adapter reads (the adapters registry's contract).
OPTIONS = frozenset({"agent", "peer"})
Message = dict[str, Any]

_STATE_TYPES = ("AssistantAgentState", "TeamState", "SocietyOfMindAgentState", "ChatAgentContainerState")
_HEAD = 1 << 16
_STATE_RE = re.compile(rb'"type"\s*:\s*"(' + b"|".join(t.encode() for t in _STATE_TYPES) + rb')"')
_EVENT_RE = re.compile(rb'"type"\s*:\s*"(TextMessage|MultiModalMessage|ToolCallRequestEvent|ToolCallExecutionEvent|ToolCallSummaryMessage|StopMessage|HandoffMessage|ThoughtEvent)"')
# Chat messages (BaseChatMessage): what one agent's turn delivers to the others. Everything else is an inner event.
_CHAT_MESSAGES = {"TextMessage", "MultiModalMessage", "StopMessage", "HandoffMessage", "ToolCallSummaryMessage", "StructuredMessage"}
_OWN_ANSWERS = {"TextMessage", "MultiModalMessage", "StopMessage", "StructuredMessage"}


def detect(path: Path) -> bool:
    """Whether ``path`` looks like an AgentChat ``save_state()`` or ``TaskResult`` JSON (its first 64 KiB)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEAD)
    except OSError:
        return False
    start = head.lstrip()[:1]
    if start not in (b"{", b"["):
        return False
    if _STATE_RE.search(head) and (b'"llm_context"' in head or b'"agent_states"' in head or b'"agent_state"' in head):
        return True
    # A TaskResult: its messages carry a source and (before a possibly huge content) models_usage, then a type.
    return bool(b'"messages"' in head and b'"source"' in head and (b'"models_usage"' in head or _EVENT_RE.search(head)))


def sniff(probe: Any) -> bool:
    """The registry's detection hook: :func:`detect` on the probed file (it reads the file's head itself, since a
    pretty-printed state spreads one object over many lines and a one-line TaskResult must not pass for chat JSONL)."""
    return detect(Path(probe.path))


def read(source: Path, options: Any, on_warning: Any = None) -> list[Conversation]:
    """The registry's adapter function: :func:`read_agentchat` with the ``agent``/``peer`` import options."""
    return read_agentchat(Path(source), agent=getattr(options, "agent", None) or None, peer=getattr(options, "peer", None) or None)


# ---------------------------------------------------------------------------------------------------------------
# message mapping

_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))


def _image_part(data: str) -> dict[str, Any]:
    try:
        raw = base64.b64decode(data[:64] + "=" * (-len(data[:64]) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    mime = next((m for sig, m in _MAGIC if raw.startswith(sig)), None)
    if mime is None:
        mime = "image/webp" if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP" else "image/jpeg"
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


def _results(results: Any, peer: str, where: str) -> Message:
    if not isinstance(results, list):
        raise InputDataError(f"{where}: function results must be a list")
    responses = []
    for r in results:
        if not isinstance(r, dict):
            raise InputDataError(f"{where}: a function result must be an object")
        text = r.get("content")
        responses.append({"tool_call_id": str(r.get("call_id") or ""), "role": "tool", "content": text if isinstance(text, str) else json.dumps(text)})
    return {"content": "\n\n".join(r["content"] for r in responses), "tool_responses": responses, "role": "tool", "name": peer}


def _calls_message(calls: Any, thought: Any, where: str) -> Message:
    return {"content": thought if isinstance(thought, str) and thought else None, "tool_calls": _tool_calls(calls, where), "role": "assistant"}


def context_thread(messages: list[Any], agent: str, peer: str, where: str) -> tuple[list[str], list[Message]]:
    """An ``llm_context`` (LLMMessage dicts) as (leading system messages, classic thread)."""
    system: list[str] = []
    thread: list[Message] = []
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


def _first_source(messages: list[Any], agent: str, kinds: tuple[str, ...]) -> str | None:
    for m in messages:
        if isinstance(m, dict) and m.get("type") in kinds and m.get("source") not in (None, agent):
            return str(m["source"])
    return None


def task_thread(messages: list[Any], agent: str, peer: str, where: str) -> list[Message]:
    """The view AgentChat gives ``agent`` of a run's transcript (``TaskResult.messages``)."""
    thread: list[Message] = []
    thought: Any = None
    for i, m in enumerate(messages):
        at = f"{where}, message {i + 1}"
        if not isinstance(m, dict):
            raise InputDataError(f"{at}: not an object")
        kind, source, content = m.get("type"), m.get("source"), m.get("content")
        if source != agent:
            if kind in _CHAT_MESSAGES:
                thread.append({"content": _content(content, at), "role": "user", "name": str(source or peer)})
            continue
        if kind == "ThoughtEvent":
            thought = content
            continue
        if kind == "ToolCallRequestEvent":
            thread.append(_calls_message(content, thought, at))
        elif kind == "ToolCallExecutionEvent":
            thread.append(_results(content, peer, at))
        elif kind in _OWN_ANSWERS:
            thread.append({"content": _content(content, at), "role": "assistant", "name": agent})
        thought = None
    return thread


# ---------------------------------------------------------------------------------------------------------------
# files


def _agent_def(name: str, system: list[str], state_type: str) -> dict[str, Any]:
    return {
        "name": name,
        "class": "AssistantAgent",
        "system_message": "\n\n".join(system) if system else None,
        "human_input_mode": "NEVER",
        "description": None,
        "llm_config": {"config_list": []},
        "source_class": f"autogen_agentchat {state_type}",
    }


def _peer_def(name: str) -> dict[str, Any]:
    return {"name": name, "class": "UserProxyAgent", "system_message": None, "human_input_mode": "NEVER", "llm_config": False}


def _agent_states(state: dict[str, Any], where: str) -> list[tuple[str, dict[str, Any]]]:
    """(agent name, AssistantAgentState) for every agent in a (possibly nested) team state."""
    found: list[tuple[str, dict[str, Any]]] = []
    states = state.get("agent_states")
    if not isinstance(states, dict):
        raise InputDataError(f"{where}: 'agent_states' must be an object")
    for name, sub in states.items():
        if not isinstance(sub, dict):
            continue
        inner = sub.get("agent_state") if sub.get("type") == "ChatAgentContainerState" else sub
        if not isinstance(inner, dict):
            continue
        if "llm_context" in inner:
            buffered = sub.get("message_buffer") if inner is not sub else None
            found.append((str(name), dict(inner, _buffer=buffered if isinstance(buffered, list) else [])))
        elif isinstance(inner.get("inner_team_state"), dict):
            found.extend(_agent_states(inner["inner_team_state"], f"{where} ({name})"))
    names = [n for n, _ in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputDataError(f"{where}: agent name(s) {', '.join(map(repr, twice))} used in more than one nested team")
    return found


def _state_agent_name(messages: list[Any], fallback: str) -> str:
    names = {m.get("source") for m in messages if isinstance(m, dict) and m.get("type") == "AssistantMessage"}
    names.discard(None)
    return str(names.pop()) if len(names) == 1 else fallback


def _from_states(
    states: list[tuple[str | None, dict[str, Any]]], where: str, agent: str | None, peer: str | None, state_type: str
) -> tuple[list[dict[str, Any]], list[tuple[str, str, list[Message]]]]:
    defs: dict[str, dict[str, Any]] = {}
    threads: list[tuple[str, str, list[Message]]] = []
    for name, st in states:
        ctx = st.get("llm_context")
        messages = ctx.get("messages") if isinstance(ctx, dict) else None
        if not isinstance(messages, list):
            raise InputDataError(f"{where}: 'llm_context.messages' must be a list")
        who = name or agent or _state_agent_name(messages, "assistant")
        if agent is not None and name is not None and who != agent:
            continue
        other = peer or _first_source(messages, who, ("UserMessage",)) or "user"
        system, thread = context_thread(messages, who, other, f"{where} ({who})")
        # Chat messages delivered to a team member but not yet in its context (it adds them on its next turn).
        thread += task_thread(st.get("_buffer") or [], who, other, f"{where} ({who}, message_buffer)")
        if not thread:
            continue
        defs[who] = _agent_def(who, system, state_type)
        threads.append((who, other, thread))
    for _, other, _ in threads:
        defs.setdefault(other, _peer_def(other))
    return list(defs.values()), threads


def _from_task_results(
    results: list[Any], where: str, agent: str | None, peer: str | None
) -> tuple[list[dict[str, Any]], list[tuple[str, str, list[Message]]]]:
    messages: list[Any] = []
    for r in results:
        if not isinstance(r, dict) or not isinstance(r.get("messages"), list):
            raise InputDataError(f"{where}: a TaskResult must be an object with a 'messages' list")
        messages.extend(r["messages"])
    speakers: list[str] = []
    for m in messages:
        if not isinstance(m, dict):
            continue
        spoke = m.get("models_usage") is not None or m.get("type") in ("ToolCallRequestEvent", "ThoughtEvent")
        if spoke and isinstance(m.get("source"), str) and m["source"] not in speakers:
            speakers.append(m["source"])
    if agent is not None:
        if agent not in {m.get("source") for m in messages if isinstance(m, dict)}:
            raise InputDataError(f"{where}: no message from agent {agent!r} in this TaskResult")
        speakers = [agent]
    defs: dict[str, dict[str, Any]] = {}
    threads: list[tuple[str, str, list[Message]]] = []
    for who in speakers:
        other = peer or _first_source(messages, who, tuple(_CHAT_MESSAGES)) or "user"
        thread = task_thread(messages, who, other, where)
        if thread:
            defs[who] = _agent_def(who, [], "TaskResult")
            threads.append((who, other, thread))
    for _, other, _ in threads:
        defs.setdefault(other, _peer_def(other))
    return list(defs.values()), threads


def read_agentchat(path: Path, *, agent: str | None = None, peer: str | None = None) -> list[Conversation]:
    """One conversation (one session file) from an AgentChat ``save_state()`` or ``TaskResult`` JSON file."""
    path = Path(path)
    text = read_text(path, noun="AgentChat JSON file", error=InputDataError)
    try:
        data = json.loads(text)
    except ValueError as e:
        raise InputDataError(f"{path}: not valid JSON ({str(e).split(':', 1)[0]})") from None
    where = str(path)
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(d, dict) for d in items):
        raise InputDataError(f"{path}: expected a save_state() object or a TaskResult object (or a list of TaskResults)")
    first = items[0]
    kind = first.get("type")
    if isinstance(data, dict) and kind == "TeamState":
        found = _agent_states(data, where)
        if agent is not None and agent not in {n for n, _ in found}:
            have = ", ".join(n for n, _ in found) or "none"
            raise InputDataError(f"{path}: no agent {agent!r} in this team state; agents: {have}")
        agents, threads = _from_states([(n, s) for n, s in found], where, agent, peer, "TeamState")
        source_type = "TeamState"
    elif isinstance(data, dict) and "llm_context" in data:
        agents, threads = _from_states([(None, data)], where, agent, peer, str(kind or "AgentState"))
        source_type = str(kind or "AgentState")
    elif isinstance(data, dict) and kind == "ChatAgentContainerState" and isinstance(data.get("agent_state"), dict):
        agents, threads = _from_states([(None, data["agent_state"])], where, agent, peer, "ChatAgentContainerState")
        source_type = "ChatAgentContainerState"
    elif isinstance(data, dict) and kind == "SocietyOfMindAgentState" and isinstance(data.get("inner_team_state"), dict):
        found = _agent_states(data["inner_team_state"], where)
        agents, threads = _from_states([(n, s) for n, s in found], where, agent, peer, "SocietyOfMindAgentState")
        source_type = "SocietyOfMindAgentState"
    elif all("messages" in d for d in items):
        agents, threads = _from_task_results(items, where, agent, peer)
        source_type = "TaskResult"
    else:
        raise InputDataError(
            f"{path}: not an AgentChat save_state() (type {kind!r}) nor a TaskResult (an object with 'messages')"
        )
    if not threads:
        raise InputDataError(f"{path}: no agent view with messages in this {source_type}")
    source = {
        "kind": KIND,
        "path": str(path),
        "framework": {"name": "autogen-agentchat", "saved": source_type, "state_version": first.get("version")},
    }
    return [Conversation(path.stem, agents, threads, source)]
