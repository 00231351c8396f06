"""The observing twin of ``agent.chat_messages`` (same type, same content): its threads report each append as a
message, and any other change (items removed, a list replaced, a clear) as a reset or a clear, to the recorders
observing the agent (:class:`~.recorder.SessionRecorder`). Copies are plain, detached from the recorders.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any


class ObservedThread(list):  # type: ignore[type-arg]
    """A history list that reports every change to the recorders observing its agent."""

    __slots__ = ("_owner", "_peer")

    def __init__(self, owner: ObservedHistory, peer: Any, items: Any = ()) -> None:
        super().__init__(items)
        self._owner = owner
        self._peer = peer

    def append(self, message: Any) -> None:
        super().append(message)
        self._owner._emit("_message", self._peer, message, self)

    def extend(self, messages: Any) -> None:
        for m in messages:
            self.append(m)

    def __iadd__(self, messages: Any) -> ObservedThread:  # type: ignore[override, misc]
        self.extend(messages)
        return self

    def _rewritten(self) -> None:
        self._owner._emit("_reset", self._peer, list(self))

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
            self._owner._emit("_clear", self._peer)

    def _wrap(name: str) -> Any:  # type: ignore[misc]
        base = getattr(list, name)

        def method(self: ObservedThread, *args: Any, **kwargs: Any) -> Any:
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


class ObservedHistory(defaultdict):  # type: ignore[type-arg]
    """Stands in for ``agent._oai_messages``: a defaultdict(list) whose threads report every change.

    One per agent, shared by every recorder observing it: stacked or overlapping recorders each subscribe and
    unsubscribe themselves, and the agent gets a plain mapping back when the last one stops."""

    def __init__(self, agent_name: str, existing: dict[Any, list[Any]]) -> None:
        super().__init__(list)
        self._agent_name = agent_name
        self._recorders: list[Any] = []  # the SessionRecorders observing: each has _message, _reset and _clear
        for peer, msgs in existing.items():
            dict.__setitem__(self, peer, ObservedThread(self, peer, msgs))

    def _emit(self, event: str, peer: Any, *args: Any) -> None:
        for recorder in list(self._recorders):
            getattr(recorder, event)(self._agent_name, peer, *args)

    def __missing__(self, peer: Any) -> ObservedThread:
        thread = ObservedThread(self, peer)
        dict.__setitem__(self, peer, thread)
        return thread

    def __setitem__(self, peer: Any, messages: Any) -> None:
        thread = ObservedThread(self, peer, messages)
        dict.__setitem__(self, peer, thread)
        self._emit("_reset", peer, list(thread))

    def __delitem__(self, peer: Any) -> None:
        dict.__delitem__(self, peer)
        self._emit("_clear", peer)

    def pop(self, peer: Any, *default: Any) -> Any:
        had = peer in self
        result = dict.pop(self, peer, *default)
        if had:
            self._emit("_clear", peer)
        return result

    def clear(self) -> None:
        if any(self.values()):
            self._emit("_clear", None)
        dict.clear(self)

    # A copy of the mapping is an ordinary defaultdict(list) of plain lists, detached from the recorders.
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
