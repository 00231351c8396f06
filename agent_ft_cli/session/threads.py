"""Threads: the one place that says what a record means for a thread.

A *thread* is ``agent.chat_messages[peer]``, named by a :class:`ThreadKey`. Two rules make the whole format:

* a ``message`` record appends its message to the thread of its key (:func:`message_key`);
* a ``clear`` record empties threads (:func:`clears`): the one with its peer, or, when its peer is ``null``, every
  thread of its agent.

:class:`ThreadReducer` applies these rules record by record and is the meaning every reader shares: the whole-file
loader and the counter feed it every record; the one-thread readers (:func:`.reader.iter_thread`,
:func:`.reader.tail_thread`) ask :func:`clears` and :func:`message_key` about the lines their byte-level fast paths
did not skip. A property test (``tests/session/test_reader_properties.py``) holds every reader equal to this reducer
fed every record.

A record's key is taken in :func:`message_key` and :meth:`ThreadReducer.message`, and compared in :func:`clears`
only (the byte fast paths derive their prefixes from the same two names). Two distinct agent objects never share a
thread in a file: the writer gives each peer object its own id when it writes (``chat_manager``, then
``chat_manager#2`` for a different object with that name; ``agent_ft_cli.classic.recorder.PeerIds``) and refuses
two recorded agents with one name, so a key of two strings stays exact and every reader is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import SessionError
from .records import Message, agent_def, has_model_client

Pair = tuple[str, str]
"""An (agent, peer) pair of names, as callers pass them; a :class:`ThreadKey` is one (it is a tuple)."""


class ThreadKey(NamedTuple):
    """Names ``agent.chat_messages[peer]``. A tuple, so ``("assistant", "user")`` finds the same thread."""

    agent: str
    peer: str


def message_key(rec: dict[str, Any]) -> ThreadKey:
    """The thread a well-formed message record (see :func:`.records.is_message`) belongs to."""
    return ThreadKey(rec["agent"], rec["peer"])


def clears(rec: dict[str, Any], key: Pair) -> bool:
    """Whether a record empties the thread ``key``: a ``clear`` of its agent, with its peer or with ``null``."""
    return rec.get("type") == "clear" and rec.get("agent") == key[0] and rec.get("peer") in (None, key[1])


class ThreadReducer:
    """The threads a sequence of well-formed records leaves: feed it records in file order.

    ``threads`` maps each kept thread to its messages after its last clear (a cleared thread stays, empty), or with
    ``count_only`` to how many there are. ``pairs``/``agents`` limit which threads are kept (all by default).
    Its keys are plain ``(agent, peer)`` tuples, equal to the :class:`ThreadKey` of the thread: ``Session.threads``
    has always had tuple keys, and callers serialise them.
    """

    __slots__ = ("agents", "count_only", "earlier", "pairs", "threads")

    def __init__(
        self, *, pairs: Iterable[Pair] | None = None, agents: Iterable[str] | None = None, count_only: bool = False
    ) -> None:
        self.threads: dict[Pair, Any] = {}
        #: The conversations each kept thread held before its clears, oldest first (not with ``count_only``): a
        #: ``clear`` ends a conversation, a ``clear`` marked ``rewrite`` (a history changed in place) does not.
        self.earlier: dict[Pair, list[list[Message]]] = {}
        self.pairs = set(pairs) if pairs is not None else None
        self.agents = set(agents) if agents is not None else None
        self.count_only = count_only

    def keeps(self, agent: str, peer: str) -> bool:
        """Whether messages of this thread are kept at all."""
        return (self.pairs is None or (agent, peer) in self.pairs) and (self.agents is None or agent in self.agents)

    def message(self, agent: str, peer: str, message: Message) -> None:
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
    header: dict[str, Any]
    threads: dict[Pair, list[Message]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lines: int = 0
    messages_total: int = 0
    earlier: dict[Pair, list[list[Message]]] = field(default_factory=dict, repr=False)

    @property
    def agents(self) -> list[dict[str, Any]]:
        return list(self.header.get("agents") or [])

    @property
    def agent_names(self) -> list[str]:
        return [a["name"] for a in self.agents]

    def agent_def(self, name: str) -> dict[str, Any] | None:
        return agent_def(self.header, name)

    def pairs(self) -> list[Pair]:
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


def choose_pair(
    header: dict[str, Any],
    agent: str | None = None,
    peer: str | None = None,
    *,
    path: Path | str = "session",
    threads: Iterable[Pair] | None = None,
) -> Pair:
    """Pick the (updated agent, peer) pair: as given, or inferred when unambiguous.

    The agent with a custom model client is the one updated. Its peer is the one agent it holds a thread with *in
    the file* (the threads are the truth: a peer that was not recorded, such as a group chat's internal manager or
    the user proxy of a single-agent recorder, has no definition in the header; and in a group chat an agent's
    peer is the manager, not another member). ``threads`` are the file's thread keys; when not given and ``path``
    is a file, they are read from it when needed (:func:`.reader.thread_keys`). Anything ambiguous is an error that
    lists the choices.
    """
    defs = header.get("agents") or []
    names = [a["name"] for a in defs]
    listing = ", ".join(names) or "none"
    known: list[Pair] | None = list(threads) if threads is not None else None

    def file_threads() -> list[Pair] | None:
        nonlocal known
        if known is None and Path(path).is_file():
            from .reader import thread_keys

            try:
                known = thread_keys(path, on_warning=lambda _: None)  # the command's own reader warns
            except SessionError:  # not a readable session (a config's path, a damaged line): the header decides
                known = []
        return known

    def in_file(agent: str, peer: str) -> bool:
        if known is not None:
            return (agent, peer) in known
        if not Path(path).is_file():
            return True
        from .reader import thread_in_file

        return thread_in_file(path, agent, peer)

    if agent is not None and agent not in names:
        holders = sorted({a for a, _ in file_threads() or []} - set(names))
        if agent not in holders:
            raise SessionError(f"{path}: agent {agent!r} is not in this session; agents: {listing}")
    if peer is not None and peer not in names:
        peers_here = sorted({p for a, p in file_threads() or []} - set(names))
        if peer not in peers_here:
            extra = f"; other peers in its threads: {', '.join(peers_here)}" if peers_here else ""
            raise SessionError(f"{path}: peer {peer!r} is not in this session; agents: {listing}{extra}")
    if agent is None:
        candidates = [a["name"] for a in defs if has_model_client(a) and a["name"] != peer]
        if len(candidates) != 1:
            with_llm = [a["name"] for a in defs if a.get("llm_config") and a["name"] != peer]
            candidates = candidates or (with_llm if len(with_llm) == 1 else [])
        if len(candidates) != 1:
            reason = "several agents have" if len(candidates) > 1 else "no single agent has"
            raise SessionError(
                f"{path}: cannot tell which agent to update ({reason} a model client); "
                f"pass --agent and --peer; agents: {listing}"
            )
        agent = candidates[0]
    if peer is None:
        others = [n for n in names if n != agent]
        # The header's one other agent is the peer when the file holds that thread (found at once, the common
        # case); else the agent's threads in the file decide (a group member's peer is the manager).
        if len(others) != 1 or not in_file(agent, others[0]):
            held = [p for a, p in file_threads() or [] if a == agent and p != agent]
            others = list(dict.fromkeys(held)) if held else others
        if len(others) != 1:
            raise SessionError(
                f"{path}: cannot tell which peer's thread to use for {agent!r}; pass --peer; "
                f"choices: {', '.join(others) or 'none'}"
            )
        peer = others[0]
    if agent == peer:
        raise SessionError(f"{path}: --agent and --peer are both {agent!r}; choose two different agents")
    return agent, peer
