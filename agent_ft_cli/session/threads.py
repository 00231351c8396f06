"""Threads: the one place that says what a record means for a thread.

A *thread* is ``agent.chat_messages[peer]``, named by a :data:`ThreadKey`. Two rules make the whole format:

* a ``message`` record appends its message to the thread of its key (its ``agent`` and ``peer``);
* a ``clear`` record empties threads (:func:`clears`): the one with its peer, or, when its peer is ``null``, every
  thread of its agent.

:class:`ThreadReducer` applies these rules record by record and is the meaning every reader shares: the whole-file
loader and the counter feed it every record; the one-thread readers (:func:`.one_thread.iter_thread`,
:func:`.one_thread.tail_thread`) ask :func:`clears` about the lines their byte-level fast paths did not skip and
compare a message line's ``agent`` and ``peer`` with their key. A property test (``tests/session/test_reader_properties.py``) holds every reader equal to this reducer
fed every record.

A record's key is taken in :meth:`ThreadReducer.message` (and the one-thread readers' compare), and in :func:`clears`
only (the byte fast paths derive their prefixes from the same two names). Two distinct agent objects never share a
thread in a file: the writer gives each peer object its own id when it writes (``chat_manager``, then
``chat_manager#2`` for a different object with that name; ``agent_ft_cli.classic.recorder.PeerIds``) and refuses
two recorded agents with one name, so a key of two strings stays exact and every reader is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SessionError
from ..types import AgentDefinition, SessionHeader
from .records import Message, agent_def

ThreadKey = tuple[str, str]
"""Names ``agent.chat_messages[peer]``: the (agent, peer) pair of names, ``("assistant", "user")``."""


def clears(rec: dict[str, Any], key: ThreadKey) -> bool:
    """Whether a record empties the thread ``key``: a ``clear`` of its agent, with its peer or with ``null``."""
    return rec.get("type") == "clear" and rec.get("agent") == key[0] and rec.get("peer") in (None, key[1])


#: What :meth:`ThreadReducer.feeding`'s function returns when every record was a message record.
END = object()


class ThreadReducer:
    """The threads a sequence of well-formed records leaves: feed it records in file order.

    ``threads`` maps each kept thread to its messages after its last clear (a cleared thread stays, empty), or with
    ``count_only`` to how many there are. ``pairs``/``agents`` limit which threads are kept (all by default).
    Its keys are :data:`ThreadKey` tuples ``(agent, peer)``.
    """

    __slots__ = ("agents", "count_only", "earlier", "pairs", "threads")

    def __init__(
        self, *, pairs: Iterable[ThreadKey] | None = None, agents: Iterable[str] | None = None, count_only: bool = False
    ) -> None:
        self.threads: dict[ThreadKey, Any] = {}
        #: The conversations each kept thread held before its clears, oldest first (not with ``count_only``): a
        #: ``clear`` ends a conversation, a ``clear`` marked ``rewrite`` (a history changed in place) does not.
        self.earlier: dict[ThreadKey, list[list[Message]]] = {}
        self.pairs = set(pairs) if pairs is not None else None
        self.agents = set(agents) if agents is not None else None
        self.count_only = count_only

    def message(self, agent: str, peer: str, message: Mapping[str, Any]) -> None:
        """A message record: append to its thread (when kept). The hot path of every whole-file read."""
        key = (agent, peer)
        if (self.pairs is not None and key not in self.pairs) or (self.agents is not None and agent not in self.agents):
            return
        threads = self.threads
        thread = threads.get(key)
        if thread is None:
            threads[key] = 1 if self.count_only else [message]
        elif self.count_only:
            threads[key] = thread + 1
        else:
            thread.append(message)

    def feed(self, rec: Any) -> bool:
        """A parsed line: a well-formed message record (see :func:`.records.is_message`) is applied and True is
        returned; for anything else nothing is done and False returned, so the reader checks its shape
        (:func:`.records.record_problem`) and then calls :meth:`apply`. The one test of what a message record is,
        on the hot path of every whole-file read."""
        if type(rec) is dict and rec.get("type") == "message":
            agent, peer, message = rec.get("agent"), rec.get("peer"), rec.get("message")
            if type(agent) is str and type(peer) is str and type(message) is dict:
                self.message(agent, peer, message)
                return True
        return False

    def feeder(self) -> Callable[[Any], bool]:
        """:meth:`feed` as a function, specialised for the reducers the readers build (every thread kept, none kept
        as ``validate`` reads, one kept as ``export`` streams, every thread counted), with the same meaning: the
        property tests hold each equal to :meth:`apply`. The hot path of every whole-file read."""
        threads: dict[ThreadKey, Any] = self.threads
        if self.agents == set() or self.pairs == set():
            mode = "none"
        elif self.agents is not None or (self.pairs is not None and len(self.pairs) != 1):
            return self.feed
        elif self.count_only:
            if self.pairs is not None:
                return self.feed
            mode = "count"
        else:
            mode = "all" if self.pairs is None else "one"
        (only,) = self.pairs if mode == "one" and self.pairs is not None else ((None, None),)

        def feed(rec: Any) -> bool:
            if type(rec) is dict and rec.get("type") == "message":
                agent, peer, message = rec.get("agent"), rec.get("peer"), rec.get("message")
                if type(agent) is str and type(peer) is str and type(message) is dict:
                    if mode == "none" or (mode == "one" and (agent != only[0] or peer != only[1])):
                        return True
                    key = (agent, peer)
                    thread = threads.get(key)
                    if mode == "count":
                        threads[key] = 1 if thread is None else thread + 1
                    elif thread is None:
                        threads[key] = [message]
                    else:
                        thread.append(message)
                    return True
            return False

        return feed

    def feeding(self) -> Callable[[Iterator[Any]], Any]:
        """:meth:`feeder` for a run of parsed lines: the function returned feeds records from an iterator until one
        is not a well-formed message record, and returns that one (to be checked and :meth:`apply`-ed), or
        :data:`END` when the iterator is exhausted. The one-thread reducer (what ``export`` reads) is specialised
        (no call per record); the property tests hold it equal to :meth:`feed`."""
        if self.pairs is None or len(self.pairs) != 1 or self.agents is not None or self.count_only:
            feed = self.feeder()

            def run(recs: Iterator[Any]) -> Any:
                for rec in recs:
                    if not feed(rec):
                        return rec
                return END

            return run
        (only,) = self.pairs
        want_agent, want_peer = only
        threads: dict[ThreadKey, Any] = self.threads

        def run_one(recs: Iterator[Any]) -> Any:
            thread = threads.get(only)
            for rec in recs:
                if type(rec) is dict and rec.get("type") == "message":
                    agent, peer, message = rec.get("agent"), rec.get("peer"), rec.get("message")
                    if type(agent) is str and type(peer) is str and type(message) is dict:
                        if agent == want_agent and peer == want_peer:
                            if thread is None:
                                thread = threads[only] = [message]
                            else:
                                thread.append(message)
                        continue
                return rec
            return END

        return run_one

    def closed(self) -> Iterator[tuple[ThreadKey, list[Message]]]:
        """The conversations that ended since the last call (taken out of :attr:`earlier`), oldest first: what a
        streaming reader hands on as soon as a ``clear`` ends them (:func:`.reader.iter_conversations`)."""
        if self.earlier:
            earlier = dict(self.earlier)
            self.earlier.clear()
            for key, convs in earlier.items():
                for conv in convs:
                    yield key, conv

    def apply(self, rec: dict[str, Any]) -> None:
        """Any well-formed record: messages append, clears empty, other records mean nothing for threads."""
        kind = rec.get("type")
        if kind == "message":
            self.message(rec["agent"], rec["peer"], rec["message"])
        elif kind == "clear":
            if self.count_only:
                for key in self.threads:
                    if clears(rec, key):
                        self.threads[key] = 0
                return
            ends = not rec.get("rewrite")
            for key, thread in self.threads.items():
                if clears(rec, key):
                    if ends and thread:
                        self.earlier.setdefault(key, []).append(thread)
                    self.threads[key] = []


@dataclass
class Session:
    """A session read from disk: its header and the threads that were selected."""

    path: Path
    header: SessionHeader
    threads: dict[ThreadKey, list[Message]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lines: int = 0
    messages_total: int = 0
    earlier: dict[ThreadKey, list[list[Message]]] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        """One line (a notebook shows this): the file, its agents, how many threads and messages were read."""
        return (
            f"Session({str(self.path)!r}, agents={self.agent_names!r}, threads={len(self.threads)}, "
            f"messages={self.messages_total})"
        )

    @property
    def agents(self) -> list[AgentDefinition]:
        return list(self.header.get("agents") or [])

    @property
    def agent_names(self) -> list[str]:
        return [a["name"] for a in self.agents]

    def agent_def(self, name: str) -> AgentDefinition | None:
        return agent_def(self.header, name)

    def pairs(self) -> list[ThreadKey]:
        return list(self.threads)

    def thread(self, agent: str, peer: str) -> list[Message]:
        """The messages of ``agent.chat_messages[peer]``; an error listing the threads when there is none."""
        try:
            return self.threads[(agent, peer)]
        except KeyError:
            have = ", ".join(f"{a}->{p}" for a, p in self.threads) or "none"
            raise SessionError(
                f"{self.path}: no messages in thread {agent}->{peer}; threads in this session: {have}"
            ) from None


    def conversations(self, agent: str, peer: str) -> list[list[Message]]:
        """Every conversation of ``agent.chat_messages[peer]`` in the file, oldest first; the last is the thread as
        the agent holds it now (:meth:`thread`), unless a clear emptied it.

        A conversation ends where its thread was cleared (a new chat with ``clear_history=True``, autogen's default,
        or ``clear_history()``); a history changed in place is not a new conversation. Chats run with
        ``clear_history=False`` continue one conversation, as the agent held them. Empty conversations are left
        out. An error listing the threads when the file has no such thread."""
        key = (agent, peer)
        if key not in self.threads:
            self.thread(agent, peer)  # the error listing the threads
        current = self.threads[key]
        return [*self.earlier.get(key, []), *([current] if current else [])]
