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

import os
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import fsutil
from ..errors import OutputWriteError, RecordingError, SessionWarning
from ..session import FALLBACKS, clear_record, dumps_record_safe, make_header, message_record, write_session
from .describe import describe_agent, model_client_paths  # noqa: F401  (model_client_paths re-exported)
from .observed import ObservedHistory


def _peer_name(peer: Any) -> str:
    return str(getattr(peer, "name", peer))


def _autogen_version() -> str | None:
    from .compat import autogen_version

    return autogen_version()


def unique_agents(agents: tuple[Any, ...], what: str) -> tuple[Any, ...]:
    """The agents to record, each once (the same object twice, as ``*groupchat.agents`` plus one of them gives, is
    recorded once); an error for no agent, a non-agent, or two different agents with one name."""
    if not agents:
        raise RecordingError(f"{what} needs at least one agent")
    out: list[Any] = []
    by_name: dict[str, Any] = {}
    for i, agent in enumerate(agents, 1):
        name = getattr(agent, "name", None)
        if not isinstance(name, str) or not hasattr(agent, "chat_messages") or not hasattr(agent, "_oai_messages"):
            raise RecordingError(f"{what}: argument {i} is not an autogen agent (got {type(agent).__name__})")
        if any(a is agent for a in out):
            continue
        if name in by_name:
            raise RecordingError(
                f"{what}: two different agents are both named {name!r}; agent names must be unique in a session "
                "(rename one; nothing was written)"
            )
        by_name[name] = agent
        out.append(agent)
    return tuple(out)


class PeerIds:
    """The peer id of every peer object in one session file: distinct objects never share an id.

    A recorded agent's id is its name; any other peer gets its name too, unless a different object already holds
    that name in this file, then ``name#2``, ``name#3``, ... (first come, first named). Objects are kept alive here,
    so an ``id()`` is never reused while the file is written."""

    def __init__(self, agents: tuple[Any, ...], on_rename: Callable[[str, str], None] | None = None) -> None:
        self._ids: dict[int, tuple[Any, str]] = {}
        self._taken: set[str] = set()
        self._on_rename = on_rename
        self._lock = threading.Lock()
        for agent in agents:
            self._ids[id(agent)] = (agent, agent.name)
            self._taken.add(agent.name)

    def __call__(self, peer: Any) -> str:
        if isinstance(peer, str):
            return peer
        hit = self._ids.get(id(peer))
        if hit is not None and hit[0] is peer:
            return hit[1]
        with self._lock:
            hit = self._ids.get(id(peer))
            if hit is not None and hit[0] is peer:
                return hit[1]
            name = _peer_name(peer)
            pid, k = name, 2
            while pid in self._taken:
                pid, k = f"{name}#{k}", k + 1
            self._ids[id(peer)] = (peer, pid)
            self._taken.add(pid)
        if pid != name and self._on_rename is not None:
            self._on_rename(name, pid)
        return pid


def _thread_items(agent: Any, peer_id: PeerIds) -> list[tuple[str, str, list[dict[str, Any]]]]:
    return [(agent.name, peer_id(peer), list(msgs)) for peer, msgs in agent.chat_messages.items()]


class _Warner:
    """Warns once per kind of problem per session file (a recording must never fail the chat it observes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._said: set[str] = set()

    def once(self, kind: str, text: str) -> None:
        if kind in self._said:
            return
        self._said.add(kind)
        warnings.warn(f"{self.path}: {text}", SessionWarning, stacklevel=4)

    def fallback(self, notes: set[str]) -> None:
        for note in sorted(notes):
            self.once("value:" + note, f"a recorded value JSON cannot hold exactly ({note}): {FALLBACKS[note]}")

    def renamed(self, name: str, pid: str) -> None:
        self.once(
            "peer:" + pid,
            f"two different agents named {name!r} talk to the recorded agents; their threads are kept apart, "
            f"the later one is recorded as peer {pid!r}",
        )


def save_session(path: str | os.PathLike[str], *agents: Any) -> Path:
    """Write a snapshot of the agents' current histories (every peer of each) to ``path``, atomically.

    The same agent given twice is recorded once; two different agents with one name are refused
    (:class:`~agent_ft_cli.errors.RecordingError`, nothing written). Peers that are not given and share a name
    with another peer are kept apart (``name#2``, see :class:`PeerIds`). A symbolic link is written through to its
    target. Raises :class:`~agent_ft_cli.errors.OutputWriteError` when the file cannot be written.
    """
    agents = unique_agents(agents, "save_session")
    target = Path(path)
    parent = fsutil.real_target(target).parent
    if not parent.is_dir():
        raise OutputWriteError(f"cannot write session file {str(target)!r}: folder {str(parent)!r} does not exist")
    warner = _Warner(target)
    peer_id = PeerIds(agents, warner.renamed)
    header = make_header([describe_agent(a) for a in agents], autogen_version=_autogen_version())
    threads = [t for a in agents for t in _thread_items(a, peer_id)]
    write_session(target, header, threads, on_fallback=warner.fallback)
    return target



class SessionRecorder:
    """Stream every message the agents append to their histories into a session file.

    ::

        with SessionRecorder("chat.jsonl", user, assistant):
            user.initiate_chat(assistant, message="...")

    The header and the histories the agents already hold are written on entry; each later append is written and
    flushed at once (``fsync=True`` also syncs it to the disk for power-loss safety). Works across any number of
    chats and peers; on exit the agents get their ordinary history mapping back, content unchanged.

    ``mode="x"`` (the default) refuses a file that already holds data, so an earlier recording is never truncated;
    ``mode="w"`` replaces it. The file is locked while recording: a second recorder (in this or another process)
    on the same file waits up to ``AGENT_FT_LOCK_TIMEOUT`` seconds, then gets a
    :class:`~agent_ft_cli.errors.LockTimeoutError`. Recorders may be stacked or overlap on the same agents: each
    receives every append until it stops itself. Recording never breaks the chat it observes: a value JSON cannot
    hold exactly is written as documented (:data:`agent_ft_cli.session.FALLBACKS`), a failing write is warned about
    once (:class:`~agent_ft_cli.errors.SessionWarning`) and the chat goes on.
    """

    def __init__(self, path: str | os.PathLike[str], *agents: Any, fsync: bool = False, mode: str = "x") -> None:
        fsutil.check_recording_mode(mode, "SessionRecorder")
        self.agents = unique_agents(agents, "SessionRecorder")
        self.path = Path(path)
        self.fsync = fsync
        self.mode = mode
        self.messages_written = 0
        #: The first error writing an append while recording (disk full, say): the chat went on, warned once; a
        #: caller that must fail on it (``agent-ft record``) checks this after the chat.
        self.write_error: OSError | None = None
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._warn = _Warner(self.path)
        self._peer_id = PeerIds(self.agents, self._warn.renamed)
        # thread -> (peer, its last written message, that line): an in-place change to it is followed (_changed)
        self._tails: dict[tuple[str, int], tuple[Any, Any, bytes]] = {}

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def _open(self) -> int:
        alias = fsutil.fd_alias(self.path)
        if alias is None:
            return fsutil.open_recording(self.path, self.mode)
        try:  # /dev/stdout and the like: the stream this process holds, never truncated
            return os.dup(alias)
        except OSError as e:
            raise OutputWriteError(f"cannot write session file {str(self.path)!r}: {e.strerror or e}") from None

    def start(self) -> SessionRecorder:
        """Start recording: write the header and the histories the agents hold now, then stream every append.

        Returns the recorder (so ``rec = SessionRecorder(...).start()`` works). Raises
        :class:`~agent_ft_cli.errors.RecordingError` when already recording or when the file holds a recording and
        ``mode`` is ``"x"``, and :class:`~agent_ft_cli.errors.LockTimeoutError` while another recorder writes it.
        """
        if self._fd is not None:
            raise RecordingError("SessionRecorder is already recording")
        header = make_header([describe_agent(a) for a in self.agents], autogen_version=_autogen_version())
        self._fd = self._open()
        try:
            data = [dumps_record_safe(header, self._warn.fallback)]
            for agent in self.agents:
                for peer, msgs in list(agent.chat_messages.items()):
                    data += self._lines(agent.name, peer, list(msgs))
            self._write(b"".join(data), raise_errors=True)
        except BaseException:
            os.close(self._fd)
            self._fd = None
            raise
        for agent in self.agents:
            history = agent._oai_messages
            if not isinstance(history, ObservedHistory):
                history = ObservedHistory(agent.name, history)
                agent._oai_messages = history
            history._recorders.append(self)
        return self

    def stop(self) -> None:
        """Stop recording and close the file (the agents keep their histories; stopping twice is harmless)."""
        if self._fd is not None:
            self._follow_tails()
        for agent in self.agents:
            history = getattr(agent, "_oai_messages", None)
            if isinstance(history, ObservedHistory) and self in history._recorders:
                history._recorders.remove(self)
                if not history._recorders:
                    agent._oai_messages = history.plain()
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None

    def __enter__(self) -> SessionRecorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> SessionRecorder:
        """``async with SessionRecorder(...)``: the same as ``with`` (starting and stopping never wait)."""
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    # -- events from the observed histories ----------------------------------------------------------------------
    def _write(self, data: bytes, *, raise_errors: bool = False) -> None:
        fd = self._fd
        if fd is None:
            return
        with self._lock:
            try:
                fsutil.write_all(fd, data)
                if self.fsync:
                    os.fsync(fd)
            except OSError as e:
                if raise_errors:
                    err = OutputWriteError(f"cannot write session file {str(self.path)!r}: {e.strerror or e}")
                    err.errno, err.strerror = e.errno, e.strerror
                    raise err from None
                if self.write_error is None:
                    self.write_error = e
                self._warn.once("write", f"writing the session failed ({e.strerror or e}); later messages may be missing")

    def _line(self, agent: str, peer: Any, message: Any) -> bytes:
        return dumps_record_safe(message_record(agent, self._peer_id(peer), message), self._warn.fallback)

    def _lines(self, agent: str, peer: Any, messages: list[Any]) -> list[bytes]:
        lines = [self._line(agent, peer, m) for m in messages]
        if messages:
            self._tails[(agent, id(peer))] = (peer, messages[-1], lines[-1])
        return lines

    def _changed(self, agent: str, peer: Any, message: Any) -> bool:
        """Whether ``message``, the last one written for the thread, was changed in place since it was written."""
        tail = self._tails.get((agent, id(peer)))
        return tail is not None and tail[1] is message and self._line(agent, peer, message) != tail[2]

    def _follow_tails(self) -> None:
        agents = {a.name: a for a in self.agents}  # (generate_oai_reply pops "context" after the append)
        try:
            for (agent, _), (peer, message, _line) in list(self._tails.items()):
                thread = dict.get(agents[agent]._oai_messages, peer)
                if thread and thread[-1] is message and self._changed(agent, peer, message):
                    self._reset(agent, peer, list(thread))
        except Exception as e:  # never let the recording break the chat
            self._warn.once("record", f"a history could not be recorded ({type(e).__name__}: {e})")

    def _message(self, agent: str, peer: Any, message: Any, thread: list[Any] | None = None) -> None:
        try:
            if thread is not None and len(thread) > 1 and self._changed(agent, peer, thread[-2]):
                return self._reset(agent, peer, list(thread))  # the message before was changed in place
            data = self._lines(agent, peer, [message])
        except Exception as e:  # never let the recording break the chat
            self._warn.once("record", f"a message could not be recorded ({type(e).__name__}: {e})")
            return
        self.messages_written += 1
        self._write(data[0])

    def _clear(self, agent: str, peer: Any) -> None:
        for key in [k for k in self._tails if k[0] == agent and (peer is None or k[1] == id(peer))]:
            del self._tails[key]
        pid = None if peer is None else self._peer_id(peer)
        self._write(dumps_record_safe(clear_record(agent, pid), self._warn.fallback))

    def _reset(self, agent: str, peer: Any, messages: list[Any]) -> None:
        try:
            data = [dumps_record_safe(clear_record(agent, self._peer_id(peer), rewrite=True), self._warn.fallback)]
            data += self._lines(agent, peer, messages)
        except Exception as e:
            self._warn.once("record", f"a history could not be recorded ({type(e).__name__}: {e})")
            return
        self.messages_written += len(messages)
        self._write(b"".join(data))
