"""Record agents' chat histories to a session file: a snapshot (:func:`save_session`) or a stream
(:class:`SessionRecorder`).

Every classic autogen keeps ``agent.chat_messages`` as a ``defaultdict(list)`` keyed by peer, and every code path
that changes a history (``_append_oai_message`` in all its signatures, ``clear_history``, carry-over in
``initiate_chats``) goes through that mapping. So the recorder does not patch any private method: it swaps the
mapping for an observing twin (same type, same content) whose lists report each append. An append is written and
flushed as one ``write`` on an unbuffered file descriptor, so a process killed at any point leaves every message
already appended on disk. Any other change to a thread (items removed, a list replaced) is written as a ``clear``
record followed by the thread's new content, which keeps replay exact.
"""

from __future__ import annotations

import copy
import os
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

from .. import session as fmt
from ..redact import redact


def describe_agent(agent: Any) -> dict[str, Any]:
    """An agent's definition for the session header, with secrets removed from its llm_config."""
    cls = type(agent)
    llm_config = getattr(agent, "llm_config", None)
    definition: dict[str, Any] = {
        "name": agent.name,
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "system_message": getattr(agent, "system_message", None),
        "human_input_mode": getattr(agent, "human_input_mode", None),
        "description": getattr(agent, "description", None),
        "llm_config": redact(llm_config) if llm_config not in (None, False) else False,
    }
    clients = model_client_paths(agent)
    if clients:
        definition["model_clients"] = clients
    return definition


def model_client_paths(agent: Any) -> list[str]:
    """Import paths of the custom clients registered on an agent (``agent.client._clients``)."""
    paths = []
    for client in getattr(getattr(agent, "client", None), "_clients", None) or []:
        cls = type(client)
        if cls.__name__ == "PlaceHolderClient" or cls.__module__.startswith(("autogen.", "openai")):
            continue
        paths.append(f"{cls.__module__}:{cls.__qualname__}")
    return paths


def _peer_name(peer: Any) -> str:
    return str(getattr(peer, "name", peer))


def _autogen_version() -> str | None:
    from .compat import autogen_version

    return autogen_version()


def _thread_items(agent: Any) -> list[tuple[str, str, list[dict[str, Any]]]]:
    return [(agent.name, _peer_name(peer), list(msgs)) for peer, msgs in agent.chat_messages.items()]


def save_session(path: str | os.PathLike[str], *agents: Any) -> Path:
    """Write a snapshot of the agents' current histories (every peer of each) to ``path``, atomically."""
    if not agents:
        raise ValueError("save_session needs at least one agent")
    header = fmt.make_header([describe_agent(a) for a in agents], autogen_version=_autogen_version())
    threads = [t for a in agents for t in _thread_items(a)]
    fmt.write_session(Path(path), header, threads)
    return Path(path)


class _ObservedThread(list):  # type: ignore[type-arg]
    """A history list that reports every change to its recorder."""

    __slots__ = ("_owner", "_peer")

    def __init__(self, owner: _ObservedHistory, peer: str, items: Any = ()) -> None:
        super().__init__(items)
        self._owner = owner
        self._peer = peer

    def append(self, message: Any) -> None:
        super().append(message)
        self._owner._recorder._message(self._owner._agent_name, self._peer, message)

    def extend(self, messages: Any) -> None:
        for m in messages:
            self.append(m)

    def __iadd__(self, messages: Any) -> _ObservedThread:  # type: ignore[override, misc]
        self.extend(messages)
        return self

    def _rewritten(self) -> None:
        self._owner._recorder._reset(self._owner._agent_name, self._peer, list(self))

    # A copy of a history is a plain list (TransformMessages and nested-chat carryover deep-copy threads).
    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        result: list[Any] = []
        memo[id(self)] = result
        result.extend(copy.deepcopy(m, memo) for m in self)
        return result

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (list, (list(self),))

    def clear(self) -> None:
        if self:
            super().clear()
            self._owner._recorder._clear(self._owner._agent_name, self._peer)

    def _wrap(name: str) -> Any:  # type: ignore[misc]
        base = getattr(list, name)

        def method(self: _ObservedThread, *args: Any, **kwargs: Any) -> Any:
            result = base(self, *args, **kwargs)
            self._rewritten()
            return result

        method.__name__ = name
        return method

    insert = _wrap("insert")
    pop = _wrap("pop")
    remove = _wrap("remove")
    sort = _wrap("sort")
    reverse = _wrap("reverse")
    __setitem__ = _wrap("__setitem__")
    __delitem__ = _wrap("__delitem__")
    __imul__ = _wrap("__imul__")
    del _wrap


class _ObservedHistory(defaultdict):  # type: ignore[type-arg]
    """Stands in for ``agent._oai_messages``: a defaultdict(list) whose threads report to the recorder."""

    def __init__(self, recorder: SessionRecorder, agent_name: str, existing: dict[Any, list[Any]]) -> None:
        super().__init__(list)
        self._recorder = recorder
        self._agent_name = agent_name
        for peer, msgs in existing.items():
            dict.__setitem__(self, peer, _ObservedThread(self, _peer_name(peer), msgs))

    def __missing__(self, peer: Any) -> _ObservedThread:
        thread = _ObservedThread(self, _peer_name(peer))
        dict.__setitem__(self, peer, thread)
        return thread

    def __setitem__(self, peer: Any, messages: Any) -> None:
        thread = _ObservedThread(self, _peer_name(peer), messages)
        dict.__setitem__(self, peer, thread)
        self._recorder._reset(self._agent_name, _peer_name(peer), list(thread))

    def __delitem__(self, peer: Any) -> None:
        dict.__delitem__(self, peer)
        self._recorder._clear(self._agent_name, _peer_name(peer))

    def pop(self, peer: Any, *default: Any) -> Any:
        had = peer in self
        result = dict.pop(self, peer, *default)
        if had:
            self._recorder._clear(self._agent_name, _peer_name(peer))
        return result

    def clear(self) -> None:
        if any(self.values()):
            self._recorder._clear(self._agent_name, None)
        dict.clear(self)

    # A copy of the mapping is an ordinary defaultdict(list) of plain lists, detached from the recorder.
    def __copy__(self) -> defaultdict[Any, list[Any]]:  # type: ignore[override]
        return self.plain()

    def __deepcopy__(self, memo: dict[int, Any]) -> defaultdict[Any, list[Any]]:
        result: defaultdict[Any, list[Any]] = defaultdict(list)
        memo[id(self)] = result
        for peer, msgs in self.items():
            result[copy.deepcopy(peer, memo)] = copy.deepcopy(msgs, memo)
        return result

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (defaultdict, (list,), None, None, iter(self.plain().items()))

    def plain(self) -> defaultdict[Any, list[Any]]:
        out: defaultdict[Any, list[Any]] = defaultdict(list)
        for peer, msgs in self.items():
            out[peer] = list(msgs)
        return out


class SessionRecorder:
    """Stream every message the agents append to their histories into a session file.

    ::

        with SessionRecorder("chat.jsonl", user, assistant):
            user.initiate_chat(assistant, message="...")

    The header and the histories the agents already hold are written on entry; each later append is written and
    flushed at once (``fsync=True`` also syncs it to the disk for power-loss safety). Works across any number of
    chats and peers; on exit the agents get their ordinary history mapping back, content unchanged.
    """

    def __init__(self, path: str | os.PathLike[str], *agents: Any, fsync: bool = False) -> None:
        if not agents:
            raise ValueError("SessionRecorder needs at least one agent")
        names = [a.name for a in agents]
        if len(set(names)) != len(names):
            raise ValueError(f"agent names must be unique in a session: {names}")
        self.path = Path(path)
        self.agents = agents
        self.fsync = fsync
        self.messages_written = 0
        self._fd: int | None = None
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> SessionRecorder:
        if self._fd is not None:
            raise RuntimeError("SessionRecorder is already recording")
        header = fmt.make_header([describe_agent(a) for a in self.agents], autogen_version=_autogen_version())
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        self._write(fmt.dumps_record(header))
        for agent in self.agents:
            for name, peer, msgs in _thread_items(agent):
                for m in msgs:
                    self._write(fmt.dumps_record(fmt.message_record(name, peer, m)))
            agent._oai_messages = _ObservedHistory(self, agent.name, agent.chat_messages)
        return self

    def stop(self) -> None:
        for agent in self.agents:
            history = getattr(agent, "_oai_messages", None)
            if isinstance(history, _ObservedHistory) and history._recorder is self:
                agent._oai_messages = history.plain()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SessionRecorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- events from the observed histories ----------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        fd = self._fd
        if fd is None:
            return
        with self._lock:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if self.fsync:
                os.fsync(fd)

    def _message(self, agent: str, peer: str, message: Any) -> None:
        self.messages_written += 1
        self._write(fmt.dumps_record(fmt.message_record(agent, peer, message)))

    def _clear(self, agent: str, peer: str | None) -> None:
        self._write(fmt.dumps_record(fmt.clear_record(agent, peer)))

    def _reset(self, agent: str, peer: str, messages: list[Any]) -> None:
        data = [fmt.dumps_record(fmt.clear_record(agent, peer))]
        data += [fmt.dumps_record(fmt.message_record(agent, peer, m)) for m in messages]
        self.messages_written += len(messages)
        self._write(b"".join(data))
