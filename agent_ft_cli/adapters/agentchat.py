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

Nothing is dropped silently: a message type the views (:mod:`.agentchat_views`) do not know and a ``save_state()``
``version`` other than 1.x are warnings naming them (``on_warning``), errors under ``strict``. The header names the
framework (``autogen-agentchat`` and the version installed), not the classic autogen beside it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import InputDataError
from ..fsutil import installed_version, read_text
from ..types import RawMessage
from .agentchat_views import CHAT_MESSAGES, Notes, context_thread, first_source, task_thread
from .model import HEAD_BYTES, Conversation, WarnFn

KIND = "agentchat"
#: The import options this adapter reads (the adapters registry's contract).
OPTIONS = frozenset({"agent", "peer"})  # and strict, which every adapter reads
#: The save_state() format versions this importer knows (AgentChat 0.4 to 0.7 write "1.0.0").
KNOWN_STATE_MAJOR = "1"
_STATE_TYPES = ("AssistantAgentState", "TeamState", "SocietyOfMindAgentState", "ChatAgentContainerState")
_STATE_RE = re.compile(rb'"type"\s*:\s*"(' + b"|".join(t.encode() for t in _STATE_TYPES) + rb')"')
_EVENT_RE = re.compile(rb'"type"\s*:\s*"(TextMessage|MultiModalMessage|ToolCallRequestEvent|ToolCallExecutionEvent|ToolCallSummaryMessage|StopMessage|HandoffMessage|ThoughtEvent)"')

def detect(path: Path) -> bool:
    """Whether ``path`` looks like an AgentChat ``save_state()`` or ``TaskResult`` JSON (its first ``HEAD_BYTES``)."""
    try:
        with open(path, "rb") as fh:
            return detect_head(fh.read(HEAD_BYTES))
    except OSError:
        return False


def detect_head(head: bytes) -> bool:
    """:func:`detect` on a file's first bytes."""
    start = head.lstrip()[:1]
    if start not in (b"{", b"["):
        return False
    if _STATE_RE.search(head) and (b'"llm_context"' in head or b'"agent_states"' in head or b'"agent_state"' in head):
        return True
    # A TaskResult: its messages carry a source and (before a possibly huge content) models_usage, then a type.
    return bool(b'"messages"' in head and b'"source"' in head and (b'"models_usage"' in head or _EVENT_RE.search(head)))


def sniff(probe: Any) -> bool:
    """The registry's detection hook: :func:`detect` on the probed file's head (not its lines: a pretty-printed
    state spreads one object over many lines and a one-line TaskResult must not pass for chat JSONL)."""
    return detect_head(probe.head)


def read(source: Path, options: Any, on_warning: Any = None) -> list[Conversation]:
    """The registry's adapter function: :func:`read_agentchat` with the ``agent``/``peer``/``strict`` options."""
    return read_agentchat(
        Path(source),
        agent=getattr(options, "agent", None) or None,
        peer=getattr(options, "peer", None) or None,
        strict=bool(getattr(options, "strict", False)),
        on_warning=on_warning,
    )


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
    states: list[tuple[str | None, dict[str, Any]]],
    where: str,
    agent: str | None,
    peer: str | None,
    state_type: str,
    notes: Notes,
) -> tuple[list[dict[str, Any]], list[tuple[str, str, list[RawMessage]]]]:
    defs: dict[str, dict[str, Any]] = {}
    threads: list[tuple[str, str, list[RawMessage]]] = []
    for name, st in states:
        ctx = st.get("llm_context")
        messages = ctx.get("messages") if isinstance(ctx, dict) else None
        if not isinstance(messages, list):
            raise InputDataError(f"{where}: 'llm_context.messages' must be a list")
        who = name or agent or _state_agent_name(messages, "assistant")
        if agent is not None and name is not None and who != agent:
            continue
        other = peer or first_source(messages, who, ("UserMessage",)) or "user"
        system, thread = context_thread(messages, who, other, f"{where} ({who})")
        # Chat messages delivered to a team member but not yet in its context (it adds them on its next turn).
        thread += task_thread(st.get("_buffer") or [], who, other, f"{where} ({who}, message_buffer)", notes)
        if not thread:
            continue
        defs[who] = _agent_def(who, system, state_type)
        threads.append((who, other, thread))
    for _, other, _ in threads:
        defs.setdefault(other, _peer_def(other))
    return list(defs.values()), threads


def _from_task_results(
    results: list[Any], where: str, agent: str | None, peer: str | None, notes: Notes
) -> tuple[list[dict[str, Any]], list[tuple[str, str, list[RawMessage]]]]:
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
    threads: list[tuple[str, str, list[RawMessage]]] = []
    for who in speakers:
        other = peer or first_source(messages, who, tuple(CHAT_MESSAGES)) or "user"
        thread = task_thread(messages, who, other, where, notes)
        if thread:
            defs[who] = _agent_def(who, [], "TaskResult")
            threads.append((who, other, thread))
    for _, other, _ in threads:
        defs.setdefault(other, _peer_def(other))
    return list(defs.values()), threads


def _check_versions(state: Any, where: str, notes: Notes) -> None:
    """A ``save_state()`` written by a newer AgentChat (another major ``version``, in it or a nested state) is told
    to ``notes``, naming the version: its shape may have changed in ways this importer cannot see."""
    if not isinstance(state, dict):
        return
    version = state.get("version")
    if version is not None and str(version).split(".", 1)[0] != KNOWN_STATE_MAJOR:
        notes(
            f"version:{version}",
            f"{where}: {state.get('type') or 'state'} has save_state() version {version!r}, which this importer does "
            f"not know (it reads version {KNOWN_STATE_MAJOR}.x, written by AgentChat 0.4 to 0.7); check the "
            "imported threads against what the agents held",
        )
    for key in ("agent_states", "agent_state", "inner_team_state"):
        sub = state.get(key)
        for value in (sub.values() if key == "agent_states" and isinstance(sub, dict) else [sub]):
            _check_versions(value, where, notes)


def read_agentchat(
    path: Path,
    *,
    agent: str | None = None,
    peer: str | None = None,
    strict: bool = False,
    on_warning: WarnFn | None = None,
) -> list[Conversation]:
    """One conversation (one session file) from an AgentChat ``save_state()`` or ``TaskResult`` JSON file.

    An unknown message type or a newer ``save_state()`` version is a warning naming it (``on_warning``, else a
    :class:`~agent_ft_cli.errors.SessionWarning`), a :class:`~agent_ft_cli.errors.StrictError` under ``strict``."""
    path = Path(path)
    notes = Notes(on_warning, strict=strict)
    text = read_text(path, noun="AgentChat JSON file", error=InputDataError)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputDataError(f"{path}: not valid JSON at line {e.lineno}, column {e.colno} ({e.msg})") from None
    except RecursionError:
        raise InputDataError(f"{path}: JSON nested too deeply to read") from None
    where = str(path)
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(d, dict) for d in items):
        raise InputDataError(f"{path}: expected a save_state() object or a TaskResult object (or a list of TaskResults)")
    first = items[0]
    kind = first.get("type")
    if isinstance(data, dict):
        _check_versions(data, where, notes)
    if isinstance(data, dict) and kind == "TeamState":
        found = _agent_states(data, where)
        if agent is not None and agent not in {n for n, _ in found}:
            have = ", ".join(n for n, _ in found) or "none"
            raise InputDataError(f"{path}: no agent {agent!r} in this team state; agents: {have}")
        agents, threads = _from_states([(n, s) for n, s in found], where, agent, peer, "TeamState", notes)
        source_type = "TeamState"
    elif isinstance(data, dict) and "llm_context" in data:
        agents, threads = _from_states([(None, data)], where, agent, peer, str(kind or "AgentState"), notes)
        source_type = str(kind or "AgentState")
    elif isinstance(data, dict) and kind == "ChatAgentContainerState" and isinstance(data.get("agent_state"), dict):
        agents, threads = _from_states([(None, data["agent_state"])], where, agent, peer, "ChatAgentContainerState", notes)
        source_type = "ChatAgentContainerState"
    elif isinstance(data, dict) and kind == "SocietyOfMindAgentState" and isinstance(data.get("inner_team_state"), dict):
        found = _agent_states(data["inner_team_state"], where)
        agents, threads = _from_states([(n, s) for n, s in found], where, agent, peer, "SocietyOfMindAgentState", notes)
        source_type = "SocietyOfMindAgentState"
    elif all("messages" in d for d in items):
        agents, threads = _from_task_results(items, where, agent, peer, notes)
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
        "framework": {
            "name": "autogen-agentchat",
            "version": installed_version("autogen-agentchat"),  # installed here: the JSON does not say which wrote it
            "saved": source_type,
            "state_version": first.get("version"),
        },
    }
    return [Conversation(path.stem, agents, threads, source)]
