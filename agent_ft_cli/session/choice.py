"""Which thread a command works on: :func:`choose_pair` picks the (updated agent, peer) pair as given, or inferred
from the header and, where the header cannot tell, from the threads the file really holds (read through
:mod:`.reader`). Kept apart from :mod:`.threads` so the thread rules do not depend on the readers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SessionError
from .records import has_model_client
from .threads import ThreadKey

if TYPE_CHECKING:  # pragma: no cover
    from .reader import OpenSession


class PairChoiceError(SessionError):
    """The session holds several threads a command could work on and nothing says which: :attr:`choices` are the
    real candidates (agents with a model client, or the peers the agent holds threads with), :attr:`option` is what
    to name (``"agent"`` or ``"peer"``). A command that needs no single thread (``validate`` without preference
    data, ``inspect`` listing the threads) works on all of them instead of failing."""

    def __init__(
        self, message: str, *, choices: list[str], option: str, agent: str | None = None, options: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, options=options)
        self.choices = list(choices)
        self.option = option
        #: the agent whose peer is to be chosen (``option == "peer"``)
        self.agent = agent


def choose_pair(
    header: Mapping[str, Any],
    agent: str | None = None,
    peer: str | None = None,
    *,
    path: Path | str = "session",
    threads: Iterable[ThreadKey] | None = None,
    holds: Callable[[str, str], bool] | None = None,
    opened: OpenSession | None = None,
    lookup: Callable[[], Iterable[ThreadKey]] | None = None,
) -> ThreadKey:
    """Pick the (updated agent, peer) pair: as given, or inferred when unambiguous.

    The agent with a custom model client is the one updated. Its peer is the one agent it holds a thread with *in
    the file* (the threads are the truth: a peer that was not recorded, such as a group chat's internal manager or
    the user proxy of a single-agent recorder, has no definition in the header; and in a group chat an agent's
    peer is the manager, not another member). ``threads`` are the file's thread keys; when not given and ``path``
    is a file, they are read from it when needed (:func:`.reader.thread_keys`); ``holds(agent, peer)`` answers
    whether the file holds a thread (default: :func:`._scan.thread_in_file`, which opens it). ``opened``: the file
    the caller holds open (:func:`.reader.open_session`), asked both questions without opening the file again.
    ``lookup``: how the caller learns the file's threads when the header cannot tell (a read it makes anyway, such
    as ``validate``'s one pass), instead of :func:`.reader.thread_keys`. Anything ambiguous is an error that lists
    the choices.
    """
    defs = header.get("agents") or []
    names = [a["name"] for a in defs]
    listing = ", ".join(names) or "none"
    known: list[ThreadKey] | None = list(threads) if threads is not None else None
    if opened is not None:
        holds = holds or opened.holds

    def file_threads() -> list[ThreadKey] | None:
        nonlocal known
        if known is None and (lookup is not None or opened is not None or Path(path).is_file()):
            from .reader import thread_keys

            try:  # the command's own reader warns
                quiet = lambda _: None  # noqa: E731
                if lookup is not None:
                    known = list(lookup())
                else:
                    known = opened.thread_keys(on_warning=quiet) if opened is not None else thread_keys(path, on_warning=quiet)
            except SessionError:  # not a readable session (a config's path, a damaged line): the header decides
                known = []
        return known

    def in_file(agent: str, peer: str) -> bool:
        if known is not None:
            return (agent, peer) in known
        if holds is not None:
            return holds(agent, peer)
        if not Path(path).is_file():
            return True
        from ._scan import thread_in_file

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
        with_llm = [a["name"] for a in defs if a.get("llm_config") and a["name"] != peer]
        if len(candidates) != 1:
            candidates = candidates or (with_llm if len(with_llm) == 1 else [])
        if len(candidates) != 1:
            if len(candidates) > 1:  # only the real candidates: the agents with a model client
                raise PairChoiceError(
                    f"{path}: cannot tell which agent to update (several agents have a model client); "
                    f"pass {{agent}} and {{peer}}; agents with a model client: {', '.join(candidates)}",
                    choices=candidates,
                    option="agent",
                    options=("agent", "peer"),
                )
            if len(with_llm) > 1:  # a team (AgentChat, group chat): each member's thread is a real candidate
                raise PairChoiceError(
                    f"{path}: cannot tell which agent's thread to use (no agent has a model client, several have a "
                    f"model); pass {{agent}} and {{peer}}; agents with a model: {', '.join(with_llm)}",
                    choices=with_llm,
                    option="agent",
                    options=("agent", "peer"),
                )
            raise SessionError(
                f"{path}: cannot tell which agent to update (no single agent has a model client); "
                f"pass {{agent}} and {{peer}}; agents: {listing}",
                options=("agent", "peer"),
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
            raise PairChoiceError(
                f"{path}: cannot tell which peer's thread to use for {agent!r}; pass {{peer}}; "
                f"choices: {', '.join(others) or 'none'}",
                choices=others,
                option="peer",
                agent=agent,
                options=("peer",),
            )
        peer = others[0]
    if agent == peer:
        raise SessionError(
            f"{path}: {{agent}} and {{peer}} are both {agent!r}; choose two different agents", options=("agent", "peer")
        )
    return agent, peer
