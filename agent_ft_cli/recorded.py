"""The other conversations of a thread, handed on with it: what :func:`agent_ft_cli.align.align` decides over
when it is given none.

A thread an agent holds is one conversation of its whole recorded thread (autogen clears the history at each new
chat). ``agent-ft update`` and a replayed pair hand the client a :class:`RecordedThread`, a plain list that carries
every conversation; a caller holding a thread of its own can name them for a scope (:func:`known_conversations`).
No registry keyed by ``id()``: the conversations travel with the thread, or live as long as the ``with`` block.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .types import RawMessage


class RecordedThread(list):  # type: ignore[type-arg]
    """A thread (a list of messages, as ``agent.chat_messages[peer]`` holds it) that carries every conversation of
    the recorded thread it comes from (:attr:`conversations`, oldest first): a replayed pair and ``agent-ft update``
    hand the client one, so :func:`align` over it decides each pair as ``export`` does over the whole thread. It is
    a plain ``list`` to everything else (autogen appends to it; a copy is a plain list and carries nothing)."""

    def __init__(self, messages: Iterable[RawMessage], conversations: Sequence[list[RawMessage]]) -> None:
        super().__init__(messages)
        self.conversations: list[list[RawMessage]] = list(conversations)


_SCOPED: contextvars.ContextVar[tuple[tuple[list[RawMessage], list[list[RawMessage]]], ...]] = contextvars.ContextVar(
    "agent_ft_known_conversations", default=()
)


@contextlib.contextmanager
def known_conversations(thread: list[RawMessage], conversations: Sequence[list[RawMessage]]) -> Iterator[None]:
    """For the ``with`` block (this thread of execution or task only), :func:`align` called on ``thread`` (the same
    list, an equal copy, or it after a system message) without ``conversations`` decides over ``conversations``."""
    token = _SCOPED.set((*_SCOPED.get(), (thread, list(conversations))))
    try:
        yield
    finally:
        _SCOPED.reset(token)


def conversations_of(messages: list[RawMessage]) -> list[list[RawMessage]]:
    """The other conversations :func:`align` decides over when it is given none: those a
    :class:`RecordedThread` carries, else those of the enclosing :func:`known_conversations` scope, else none."""
    carried = getattr(messages, "conversations", None)
    if isinstance(messages, RecordedThread) and carried is not None:
        return carried
    scoped = _SCOPED.get()
    if not scoped:
        return []
    body = _without_system(messages)
    for thread, convs in reversed(scoped):
        if thread is messages or thread is body or (len(thread) in (len(messages), len(body)) and thread in (messages, body)):
            return convs
    return []


def _without_system(messages: list[RawMessage]) -> list[RawMessage]:
    k = 0
    while k < len(messages) and messages[k].get("role") == "system":
        k += 1
    return messages[k:] if k else messages


def in_order(messages: list[RawMessage], conversations: list[list[RawMessage]]) -> list[tuple[Any, list[RawMessage]]]:
    """The threads to scan, oldest first, labelled: ``messages`` (label None) in the place of the conversation it
    is (or grew from), the other conversations (label ``("conversation", k)``) around it; ``messages`` alone when
    it is the join of them all; last when it is none of them."""
    every: list[tuple[Any, list[RawMessage]]] = [(("conversation", k), c) for k, c in enumerate(conversations)]
    if not every:
        return [(None, messages)]
    body = _without_system(messages)
    at = next(
        (k for k, c in enumerate(conversations) if c is messages or c is body or (len(c) == len(body) and c == body)),
        None,
    )
    if at is None and sum(len(c) for c in conversations) == len(body) and [m for c in conversations for m in c] == body:
        return [(None, messages)]
    if at is None:  # the live thread went on after the last recorded message
        at = next(
            (k for k in range(len(conversations) - 1, -1, -1) if conversations[k] and len(conversations[k]) < len(body)
             and body[: len(conversations[k])] == conversations[k]),
            None,
        )
    if at is None:
        return [*every, (None, messages)]
    every[at] = (None, messages)
    return every
