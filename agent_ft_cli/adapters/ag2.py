"""AG2 1.x (the ``ag2`` distribution, module ``ag2``): record its agents' conversations as sessions, and serve an
agent-ft model client as the model of an ``ag2.Agent``.

An ``ag2`` agent keeps its conversation as *events* on a stream, persisted by a pluggable history ``Storage``
(``save_event``, ``get_history``, ``set_history``, ``drop_history``). The model sees that history as chat messages:
``ModelRequest`` -> a user message, ``ModelResponse`` -> an assistant message (text and/or tool calls),
``ToolResultsEvent`` -> the tool results, ``CompactionSummary`` -> a user message; every other event (usage,
``ToolCallsEvent`` and loose ``ToolResultEvent`` copies of what those carry, lifecycle, streaming chunks) is not part
of what the model reads. :func:`event_to_message` maps one event to the message of a classic thread
(``agent.chat_messages[peer]``): the same dicts the classic recorder writes, a tool result batch being ONE message
with ``tool_responses`` (so one ag2 event is one message), which is what makes ``inspect``, ``validate``,
``export`` and ``update`` work on these sessions unchanged. ``docs/frameworks.md`` lists what is mapped and lost.

Recording the way ag2 intends: :class:`SessionStorage` *is* a ``Storage`` (it wraps another one, a
``MemoryStorage`` by default, which keeps answering the agent), and streams every conversational event to the
session file as one ``write`` on an append-only descriptor, so a process killed at any point leaves every message
already handed to storage on disk (as :class:`agent_ft_cli.recorder.SessionRecorder` does for classic agents)::

    storage = SessionStorage("chat.jsonl", agent)
    reply = await agent.ask("Hi", stream=MemoryStream(storage))
    reply = await reply.ask("And then?")
    storage.close()

A history replaced wholesale (``set_history``: compaction, repair of unanswered tool calls) is written as a
``clear`` record followed by the new thread; a dropped history as ``clear``. Each further stream recorded through
one storage is a conversation of its own, kept apart under the peer ``user-2``, ``user-3`` ...
:func:`save_ag2_session` writes a snapshot of a finished conversation instead.

Serving an agent-ft model client to an ag2 agent is :mod:`agent_ft_cli.clients.ag2`.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import session as fmt
from ..redact import redact

FRAMEWORK = "ag2"
DEFAULT_AGENT = "assistant"
DEFAULT_PEER = "user"

Message = dict[str, Any]


def ag2_version() -> str | None:
    """The installed ``ag2`` distribution's version, or None."""
    try:
        return metadata.version("ag2")
    except metadata.PackageNotFoundError:
        return None


# ---------------------------------------------------------------------------------------------------------------
# events -> classic thread messages


def _encode(data: Any, serializer: Any) -> str:
    if serializer is not None:
        encoded = serializer.encode(data)
        return encoded.decode() if isinstance(encoded, bytes) else str(encoded)
    return json.dumps(data, ensure_ascii=False, default=str)


def _data_url(media_type: str, data: bytes) -> str:
    import base64

    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def _part(inp: Any, serializer: Any) -> dict[str, Any]:
    """One ag2 input as an OpenAI content part (the chat-completions shapes)."""
    from ag2.events import BinaryInput, BinaryType, DataInput, FileIdInput, TextInput, UrlInput

    if isinstance(inp, TextInput):
        return {"type": "text", "text": inp.content}
    if isinstance(inp, DataInput):
        return {"type": "text", "text": _encode(inp.data, serializer)}
    if isinstance(inp, UrlInput):
        if inp.kind == BinaryType.IMAGE:
            return {"type": "image_url", "image_url": {"url": inp.url}}
        return {"type": "file", "file": {"file_url": inp.url, "kind": str(getattr(inp.kind, "value", inp.kind))}}
    if isinstance(inp, FileIdInput):
        file: dict[str, Any] = {"file_id": inp.file_id}
        if inp.filename:
            file["filename"] = inp.filename
        return {"type": "file", "file": file}
    if isinstance(inp, BinaryInput):
        url = _data_url(str(inp.media_type), inp.data)
        if inp.kind == BinaryType.IMAGE:
            image: dict[str, Any] = {"url": url}
            if "detail" in inp.vendor_metadata:
                image["detail"] = inp.vendor_metadata["detail"]
            return {"type": "image_url", "image_url": image}
        if inp.kind == BinaryType.AUDIO:
            fmt_ = str(inp.media_type).rsplit("/", 1)[-1].replace("mpeg", "mp3").replace("x-wav", "wav")
            return {"type": "input_audio", "input_audio": {"data": url.split(",", 1)[1], "format": fmt_}}
        name = inp.vendor_metadata.get("filename") or f"file.{str(inp.media_type).rsplit('/', 1)[-1]}"
        return {"type": "file", "file": {"file_data": url, "filename": str(name)}}
    return {"type": "text", "text": str(getattr(inp, "content", inp))}


def _content(parts: list[dict[str, Any]]) -> Any:
    """A single text part is a plain string (what a classic thread and ag2's own OpenAI mapper both use)."""
    if len(parts) == 1 and parts[0].get("type") == "text":
        return parts[0]["text"]
    return parts


def _tool_call(call: Any) -> dict[str, Any]:
    arguments = call.arguments or "{}"
    with contextlib.suppress(ValueError):  # the canonical JSON text, as ag2 sends it back to a provider
        arguments = json.dumps(json.loads(arguments))
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": arguments}}


def event_to_message(event: Any, *, agent: str, peer: str, serializer: Any = None) -> Message | None:
    """The classic-thread message for one ag2 event, or None when the model never reads the event."""
    from ag2.compact import CompactionSummary
    from ag2.events import ModelRequest, ModelResponse, ToolResultsEvent

    if isinstance(event, ModelResponse):
        calls = [_tool_call(c) for c in event.tool_calls.calls] if event.tool_calls else []
        text = event.message.content if event.message is not None else None
        if calls:
            return {"content": text, "tool_calls": calls, "role": "assistant"}
        return {"content": text, "role": "assistant", "name": agent}
    if isinstance(event, ToolResultsEvent):
        responses = []
        for r in event.results:
            parts = [_part(p, serializer) for p in r.result.parts]
            responses.append({"tool_call_id": r.parent_id, "role": "tool", "content": _content(parts)})
        joined = "\n\n".join(c if isinstance(c, str) else json.dumps(c, ensure_ascii=False) for c in (r["content"] for r in responses))
        return {"content": joined, "tool_responses": responses, "role": "tool", "name": peer}
    if isinstance(event, ModelRequest):
        return {"content": _content([_part(p, serializer) for p in event.parts]), "role": "user", "name": peer}
    if isinstance(event, CompactionSummary):
        return {"content": f"[Summary of earlier conversation]\n{event.summary}", "role": "user", "name": peer}
    return None


def thread_from_events(events: Iterable[Any], *, agent: str, peer: str, serializer: Any = None) -> list[Message]:
    """The classic thread (``agent.chat_messages[peer]``) for an ag2 history."""
    out = []
    for event in events:
        message = event_to_message(event, agent=agent, peer=peer, serializer=serializer)
        if message is not None:
            out.append(message)
    return out


def openai_messages(thread: Iterable[Message], system: str | None = None) -> list[Message]:
    """A classic thread as classic autogen sends it to a model: system first, each tool result on its own."""
    out: list[Message] = [{"role": "system", "content": system}] if system else []
    for m in thread:
        responses = m.get("tool_responses")
        if responses:
            out.extend(dict(r) for r in responses)
        else:
            out.append(dict(m))
    return out


# ---------------------------------------------------------------------------------------------------------------
# header


def _agent_name(agent: Any) -> str:
    return str(getattr(agent, "name", "") or DEFAULT_AGENT)


def _tools(agent: Any) -> list[dict[str, Any]]:
    out = []
    for tool in getattr(agent, "tools", None) or []:
        schema = getattr(tool, "schema", None)
        fn = getattr(schema, "function", None)
        if fn is None or not getattr(fn, "name", None):
            continue
        out.append(
            {"type": "function", "function": {"name": fn.name, "description": fn.description, "parameters": dict(fn.parameters)}}
        )
    return out


def _config_entry(config: Any) -> tuple[dict[str, Any], list[str]]:
    """The agent's model as a config_list entry (never its credentials), and the agent-ft client it runs on."""
    if config is None:
        return {}, []
    cls = getattr(config, "client_class", None)  # agent_ft_cli.clients.ag2.ModelClientConfig
    if isinstance(cls, type):
        return {"model": config.model, "model_client_cls": cls.__name__}, [f"{cls.__module__}:{cls.__qualname__}"]
    entry: dict[str, Any] = {}
    for key in ("model", "provider"):
        try:
            value = getattr(config, key)
        except Exception:  # TestConfig and others raise for what they do not know
            continue
        if value is not None:
            entry[key] = str(getattr(value, "value", value))
    entry["config_class"] = f"{type(config).__module__}.{type(config).__qualname__}"
    return entry, []


def describe_ag2_agent(agent: Any) -> dict[str, Any]:
    """An ag2 agent's definition for the session header; ``class`` names the classic stand-in replay builds."""
    entry, clients = _config_entry(getattr(agent, "config", None))
    llm_config: dict[str, Any] = {"config_list": [entry] if entry else []}
    tools = _tools(agent)
    if tools:
        llm_config["tools"] = tools
    prompt = [p for p in getattr(agent, "system_prompt", ()) or () if isinstance(p, str)]
    definition: dict[str, Any] = {
        "name": _agent_name(agent),
        "class": "AssistantAgent",
        "system_message": "\n".join(prompt) if prompt else None,
        "human_input_mode": "NEVER",
        "description": None,
        "llm_config": redact(llm_config),
        "source_class": f"{type(agent).__module__}.{type(agent).__qualname__}",
    }
    if clients:
        definition["model_clients"] = clients
    return definition


def peer_definition(name: str) -> dict[str, Any]:
    """The other side of an ag2 conversation (the caller of ``ask``), as a classic user proxy."""
    return {
        "name": name,
        "class": "UserProxyAgent",
        "system_message": None,
        "human_input_mode": "NEVER",
        "description": None,
        "llm_config": False,
    }


def make_ag2_header(agent: Any, peer: str = DEFAULT_PEER) -> dict[str, Any]:
    """A session header for one ag2 agent and its caller; says which framework and version wrote it."""
    definition = describe_ag2_agent(agent)
    if definition["name"] == peer:
        raise ValueError(f"the agent and its peer are both named {peer!r}; pass another peer name")
    return fmt.make_header(
        [definition, peer_definition(peer)],
        autogen_version=None,
        framework={"name": FRAMEWORK, "version": ag2_version()},
    )


# ---------------------------------------------------------------------------------------------------------------
# recording


async def _history_events(source: Any) -> list[Any]:
    history = getattr(source, "history", None)
    if history is not None and not hasattr(source, "get_events"):
        source = history
    if hasattr(source, "get_events"):
        return list(await source.get_events())
    return list(source)


async def save_ag2_session(
    path: str | os.PathLike[str], agent: Any, source: Any, *, peer: str = DEFAULT_PEER
) -> Path:
    """Snapshot an ag2 conversation to a session file, atomically.

    ``source`` is what holds the conversation: an ``AgentReply``, a stream, its ``History``, or the events.
    """
    events = await _history_events(source)
    header = make_ag2_header(agent, peer)
    name = header["agents"][0]["name"]
    thread = thread_from_events(events, agent=name, peer=peer, serializer=getattr(agent, "serializer", None))
    fmt.write_session(Path(path), header, [(name, peer, thread)])
    return Path(path)


class SessionStorage:
    """An ag2 history ``Storage`` that also streams the agent's view of every conversation to a session file.

    The header is written when the storage is created (the file is replaced); each event the model will read is
    then written and flushed as it is saved (``fsync=True`` also syncs it to the disk). ``inner`` is the storage
    that keeps answering the agent (a fresh ``MemoryStorage`` by default). Usable as a context manager.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        agent: Any,
        *,
        peer: str = DEFAULT_PEER,
        inner: Any = None,
        fsync: bool = False,
    ) -> None:
        from ag2.history import MemoryStorage

        self.path = Path(path)
        self.inner = inner if inner is not None else MemoryStorage()
        self.fsync = fsync
        self.messages_written = 0
        self._agent = _agent_name(agent)
        self._peer = peer
        self._serializer = getattr(agent, "serializer", None)
        self._peers: dict[Any, str] = {}
        self._lock = threading.Lock()
        header = make_ag2_header(agent, peer)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        self._write(fmt.dumps_record(header))

    # -- the ag2 Storage protocol ---------------------------------------------------------------------------------
    async def save_event(self, event: Any, context: Any) -> None:
        await self.inner.save_event(event, context)
        message = event_to_message(event, agent=self._agent, peer=self._peer_of(context.stream.id), serializer=self._serializer)
        if message is not None:
            self.messages_written += 1
            self._write(fmt.dumps_record(fmt.message_record(self._agent, self._peer_of(context.stream.id), message)))

    async def get_history(self, stream_id: Any) -> Iterable[Any]:
        return await self.inner.get_history(stream_id)

    async def set_history(self, stream_id: Any, events: Iterable[Any]) -> None:
        events = list(events)
        await self.inner.set_history(stream_id, events)
        peer = self._peer_of(stream_id)
        thread = thread_from_events(events, agent=self._agent, peer=peer, serializer=self._serializer)
        data = [fmt.dumps_record(fmt.clear_record(self._agent, peer))]
        data += [fmt.dumps_record(fmt.message_record(self._agent, peer, m)) for m in thread]
        self.messages_written += len(thread)
        self._write(b"".join(data))

    async def drop_history(self, stream_id: Any) -> None:
        await self.inner.drop_history(stream_id)
        self._write(fmt.dumps_record(fmt.clear_record(self._agent, self._peer_of(stream_id))))

    # -- file -----------------------------------------------------------------------------------------------------
    def _peer_of(self, stream_id: Any) -> str:
        peer = self._peers.get(stream_id)
        if peer is None:
            peer = self._peer if not self._peers else f"{self._peer}-{len(self._peers) + 1}"
            self._peers[stream_id] = peer
        return peer

    def _write(self, data: bytes) -> None:
        with self._lock:
            fd = self._fd
            if fd is None:
                return
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if self.fsync:
                os.fsync(fd)

    def close(self) -> None:
        """Stop writing (the inner storage keeps working); idempotent."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> SessionStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
