"""AG2 1.x (the ``ag2`` distribution, module ``ag2``): record its agents' conversations as sessions, and serve an
agent-ft model client as the model of an ``ag2.Agent``.

An ``ag2`` agent keeps its conversation as *events* on a stream, persisted by a pluggable history ``Storage``
(``save_event``, ``get_history``, ``set_history``, ``drop_history``). :mod:`.ag2_events` maps each event the model
reads to the message of a classic thread (``agent.chat_messages[peer]``), which is what makes ``inspect``,
``validate``, ``export`` and ``update`` work on these sessions unchanged. ``docs/frameworks.md`` lists what is mapped
and lost.

Recording the way ag2 intends: :class:`SessionStorage` *is* a ``Storage`` that streams every conversational
event to the session file as one ``write`` on an append-only descriptor, so a process killed at any point leaves
every message already handed to storage on disk::

    with SessionStorage("chat.jsonl", agent) as storage:
        reply = await agent.ask("Hi", stream=MemoryStream(storage))
        reply = await reply.ask("And then?")

:func:`save_ag2_session` writes a snapshot of a finished conversation instead. Both refuse a file that already holds
data unless ``mode="w"`` asks to replace it, and lock it while writing, as the classic
:class:`~agent_ft_cli.classic.recorder.SessionRecorder` does. :mod:`.ag2_header` owns the header: the agent's
definition (its system prompt, tools, model; never credentials), one peer definition per conversation (``user``,
``user-2`` ... for further streams), and ``framework: {"name": "ag2", "version": ...}``.

Serving an agent-ft model client to an ag2 agent is :mod:`agent_ft_cli.clients.ag2`.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import fsutil, session
from ..errors import InputDataError, RecordingError
from ..types import RawMessage
from .ag2_events import event_to_message, openai_messages, thread_from_events, unknown_event
from .ag2_header import (
    DEFAULT_AGENT,
    DEFAULT_PEER,
    ag2_version,
    agent_name,
    describe_ag2_agent,
    make_ag2_header,
    prompt_text,
    warn,
)

__all__ = [
    "DEFAULT_AGENT",
    "DEFAULT_PEER",
    "SessionStorage",
    "ag2_version",
    "describe_ag2_agent",
    "event_to_message",
    "make_ag2_header",
    "openai_messages",
    "save_ag2_session",
    "thread_from_events",
    "unknown_event",
]

# ---------------------------------------------------------------------------------------------------------------
# snapshot


async def _history_events(source: Any) -> list[Any]:
    history = getattr(source, "history", None)
    if history is not None and not hasattr(source, "get_events"):
        source = history
    if hasattr(source, "get_events"):
        return list(await source.get_events())
    if isinstance(source, (str, bytes, dict)) or not isinstance(source, Iterable):
        raise RecordingError(
            f"save_ag2_session: source is a {type(source).__name__}; pass an AgentReply, a stream, its History or "
            "a list of ag2 events"
        )
    return list(source)


def _check_events(events: list[Any]) -> None:
    from ag2.events import BaseEvent

    for i, e in enumerate(events, 1):
        if not isinstance(e, BaseEvent):
            raise RecordingError(
                f"save_ag2_session: item {i} of the source is a {type(e).__name__}, not an ag2 event; pass an "
                "AgentReply, a stream, its History or a list of ag2 events (a session file is written by "
                "agent_ft_cli.save_session or SessionStorage, not from message dicts)"
            )


async def save_ag2_session(
    path: str | os.PathLike[str],
    agent: Any,
    source: Any,
    *,
    peer: str = DEFAULT_PEER,
    mode: str = "x",
    tools: Iterable[Any] = (),
    prompt: Iterable[str] | None = None,
    strict: bool = False,
) -> Path:
    """Snapshot an ag2 conversation to a session file, atomically, under the session file's lock.

    ``source`` is what holds the conversation: an ``AgentReply``, a stream, its ``History``, or the events (anything
    else, such as message dicts or strings, is a :class:`RecordingError`, as is a conversation without one message
    the model read). ``mode="x"`` (the default) refuses a file that already holds data; ``mode="w"`` replaces it.
    ``tools`` and ``prompt``: what ``ask(tools=..., prompt=...)`` gave the model per call, when it differs from the
    agent's own (the header then says what the model was given). An event this mapping does not know is a
    :class:`SessionWarning` naming its type (an :class:`InputDataError` under ``strict``).
    """
    fsutil.check_recording_mode(mode, "save_ag2_session")
    events = await _history_events(source)
    _check_events(events)
    definition = describe_ag2_agent(agent, tools=tools)
    if prompt is not None:
        definition["system_message"] = prompt_text(prompt)
    header = make_ag2_header(agent, peer, definition=definition)
    name = definition["name"]
    target = Path(path)
    for kind in dict.fromkeys(k for k in map(unknown_event, events) if k):
        text = f"ag2 event {kind} is not mapped to a message; it is left out of the session"
        if strict:
            raise InputDataError(f"{target}: {text} (strict)")
        warn(target, text)
    thread = thread_from_events(events, agent=name, peer=peer, serializer=getattr(agent, "serializer", None))
    if not thread:
        raise RecordingError(f"save_ag2_session: the source holds no message the model read ({len(events)} event(s)); nothing to save")
    with fsutil.exclusive_lock(target, what="session file"):
        fd = None
        if target.exists():
            fd = os.open(target, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            if fd is not None and stat.S_ISREG(os.fstat(fd).st_mode):
                fsutil.lock_fd(fd, where=str(target), what="session file")  # a recording in progress holds it
                size = os.fstat(fd).st_size
                if size and mode == "x":
                    raise RecordingError(fsutil.recording_exists(target, size))
            session.write_session(target, header, [(name, peer, thread)])
        finally:
            if fd is not None:
                os.close(fd)
    return target



# ---------------------------------------------------------------------------------------------------------------
# live recording


class SessionStorage:
    """An ag2 history ``Storage`` that also streams the agent's view of every conversation to a session file.

    The header is written when the storage is created; each event the model will read is then written and flushed
    as it is saved (``fsync=True`` also syncs it to the disk). ``inner`` is the storage that keeps answering the
    agent (a fresh ``MemoryStorage`` by default). Usable as a context manager.

    ``mode="x"`` (the default) refuses a file that already holds data, so an earlier recording is never truncated;
    ``mode="w"`` replaces it. The file stays locked until :meth:`close` (a second recorder waits up to
    ``AGENT_FT_LOCK_TIMEOUT`` seconds, then gets a :class:`~agent_ft_cli.errors.LockTimeoutError`).

    The header always says what the file holds and what the model was given: each further stream is a conversation
    of its own, kept apart under the peer ``user-2``, ``user-3`` ... and listed in the header (rewritten atomically,
    under the lock, when a stream starts); the system prompt of the first turn recorded is the header's
    ``system_message`` (``ask(prompt=...)`` included). Tools given per call (``ask(tools=...)``) are not visible to a
    storage: pass them as ``tools=`` to have their schemas in the header. What cannot be recorded is a
    :class:`~agent_ft_cli.errors.SessionWarning` naming it (a later turn given another prompt, a call of a tool the
    header lacks, an ag2 event the mapping does not know); recording never breaks the chat.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        agent: Any,
        *,
        peer: str = DEFAULT_PEER,
        inner: Any = None,
        fsync: bool = False,
        mode: str = "x",
        tools: Iterable[Any] = (),
    ) -> None:
        from ag2.history import MemoryStorage

        fsutil.check_recording_mode(mode, "SessionStorage")
        self.path = Path(path)
        self.fsync = fsync
        self.messages_written = 0
        self._agent = agent_name(agent)
        self._peer = peer
        self._serializer = getattr(agent, "serializer", None)
        self._definition = describe_ag2_agent(agent, tools=tools)
        self._peers: dict[Any, str] = {}
        self._prompt_seen = False
        self._said: set[str] = set()
        self._lock = threading.Lock()
        header = make_ag2_header(agent, peer, definition=self._definition)
        self._fd: int | None = fsutil.open_recording(self.path, mode)
        try:
            self._write(session.dumps_record(header))
        except BaseException:
            self.close()
            raise
        self.inner = inner if inner is not None else MemoryStorage()

    # -- the ag2 Storage protocol ---------------------------------------------------------------------------------
    async def save_event(self, event: Any, context: Any) -> None:
        await self.inner.save_event(event, context)
        peer = self._peer_of(context.stream.id)
        message = event_to_message(event, agent=self._agent, peer=peer, serializer=self._serializer)
        if message is None:
            kind = unknown_event(event)
            if kind is not None:
                self._warn_once(kind, f"ag2 event {kind} is not mapped to a message; it is left out of the session")
            return
        if message.get("role") == "assistant":
            self._check_given(peer, message, getattr(context, "prompt", None))
        self.messages_written += 1
        self._write(session.dumps_record(session.message_record(self._agent, peer, message)))

    async def get_history(self, stream_id: Any) -> Iterable[Any]:
        return await self.inner.get_history(stream_id)

    async def set_history(self, stream_id: Any, events: Iterable[Any]) -> None:
        events = list(events)
        await self.inner.set_history(stream_id, events)
        peer = self._peer_of(stream_id)
        thread = thread_from_events(events, agent=self._agent, peer=peer, serializer=self._serializer)
        data = [session.dumps_record(session.clear_record(self._agent, peer))]
        data += [session.dumps_record(session.message_record(self._agent, peer, m)) for m in thread]
        self.messages_written += len(thread)
        self._write(b"".join(data))

    async def drop_history(self, stream_id: Any) -> None:
        await self.inner.drop_history(stream_id)
        self._write(session.dumps_record(session.clear_record(self._agent, self._peer_of(stream_id))))

    # -- what the model was given -----------------------------------------------------------------------------------
    def _check_given(self, peer: str, message: RawMessage, prompt: Any) -> None:
        """The header holds the prompt of the first answer recorded; a later different one is warned about. A tool
        called that the header does not list is warned about (its schema is unknown to a storage)."""
        if prompt is not None:
            text = prompt_text(prompt)
            if not self._prompt_seen:
                self._prompt_seen = True
                if text != self._definition.get("system_message"):
                    self._definition["system_message"] = text
                    self._rewrite_header()
            elif text != self._definition.get("system_message"):
                self._warn_once(
                    f"prompt:{text}",
                    f"an answer in conversation {peer!r} was given another system prompt (ask(prompt=...)) than the "
                    "one in the header; the session keeps the header's, record such turns in a session of their own",
                )
        listed = {t["function"]["name"] for t in self._definition["llm_config"].get("tools") or []}
        for call in message.get("tool_calls") or []:
            name = call["function"]["name"]
            if name not in listed:
                self._warn_once(
                    f"tool:{name}",
                    f"the model called tool {name!r}, which the agent does not hold (given per call with "
                    "ask(tools=...)?); its schema is not in the header: pass it as SessionStorage(..., tools=[...])",
                )

    # -- file -----------------------------------------------------------------------------------------------------
    def _peer_of(self, stream_id: Any) -> str:
        peer = self._peers.get(stream_id)
        if peer is None:
            peer = self._peer if not self._peers else f"{self._peer}-{len(self._peers) + 1}"
            self._peers[stream_id] = peer
            if len(self._peers) > 1:
                self._rewrite_header()
        return peer

    def _header(self) -> dict[str, Any]:
        peers = list(dict.fromkeys([self._peer, *self._peers.values()]))
        return make_ag2_header(None, peers, definition=self._definition)

    def _rewrite_header(self) -> None:
        """Replace the first line (the header) and keep every other byte, atomically: a locked copy beside the file
        is renamed over it, so the lock is never let go and a crash leaves the old file or the new one whole."""
        with self._lock:
            fd = self._fd
            if fd is None:
                return
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                self._warn_once("header", "the header cannot be rewritten on a stream (not a regular file); it does "
                                "not list every conversation or the prompt the model was given")
                return
            target = fsutil.real_target(self.path)
            tmp = target.parent / f".{target.name}.{os.getpid()}.{id(self)}.header"
            new = -1
            try:
                new = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o644)
                fsutil.lock_fd(new, where=str(tmp), timeout=0, what="session file")
                with open(target, "rb") as old:
                    old.readline()
                    data = session.dumps_record(self._header())
                    while data:
                        fsutil.write_all(new, data)
                        data = old.read(1 << 20)
                if self.fsync:
                    os.fsync(new)
                os.replace(tmp, target)
            except OSError as e:
                if new >= 0:
                    os.close(new)
                tmp.unlink(missing_ok=True)
                self._warn_once("header", f"cannot rewrite the header ({e.strerror or e}); it does not list every "
                                "conversation or the prompt the model was given")
                return
            os.close(fd)
            self._fd = new

    def _warn_once(self, kind: str, text: str) -> None:
        if kind not in self._said:
            self._said.add(kind)
            warn(self.path, text)

    def _write(self, data: bytes) -> None:
        with self._lock:
            fd = self._fd
            if fd is None:
                return
            fsutil.write_all(fd, data)
            if self.fsync:
                os.fsync(fd)

    def close(self) -> None:
        """Stop writing and let the file go (the inner storage keeps working); idempotent."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)  # closing releases the lock
                self._fd = None

    def __enter__(self) -> SessionStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
