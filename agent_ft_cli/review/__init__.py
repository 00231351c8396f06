"""``agent-ft review``: turn the replies an agent gave in a session into preference data, one answer at a time.

The core (no terminal code): :mod:`.replies` lists and numbers the replies with what tying needs,
:mod:`.answers` writes and reads the prefs lines. :class:`Review` holds one session's thread and a prefs file;
:func:`list_replies` and :func:`label` are the Python face of ``--list`` and ``--reply N --better/--bad/--keep``.
The interactive screen is :mod:`.ui` (prompt_toolkit, imported only there).

Example::

    from agent_ft_cli.review import label, list_replies

    for r in list_replies("chat.jsonl", prefs="prefs.jsonl"):
        print(r.number, r.prompt, "->", r.text, r.answer and r.answer.get("label"))
    label("chat.jsonl", "prefs.jsonl", reply=2, better="Canberra is the capital of Australia.")
    label("chat.jsonl", "prefs.jsonl", reply=3, bad=True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .answers import append, check_prefs_path, existing, record_for
from .replies import Reply, pick, replies_in, verdict

__all__ = ["Reply", "Review", "label", "list_replies", "verdict"]


@dataclass
class Review:
    """One session's thread (every conversation) and the prefs file its answers go to."""

    session: Path
    agent: str
    peer: str
    replies: list[Reply]
    prefs: Path | None = None
    #: the conversation shown (1-based), or None for all
    conversation: int | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def open(
        cls,
        session: Path | str,
        prefs: Path | str | None = None,
        *,
        agent: str | None = None,
        peer: str | None = None,
        conversation: int | None = None,
        strict: bool = False,
    ) -> Review:
        """Read the session's thread (the pair ``update`` would use, or ``agent``/``peer``) and the answers
        already in ``prefs``; ``strict``: a final line cut short is an error, not a warning."""
        from ..pairing import resolve_pair
        from ..session import open_session
        from ..workflows.walk import pick_conversation

        if str(session) == "-":
            raise UsageError("{session} -: review needs the session as a file (its name keys the answers)", options=("session",))
        path = Path(session)
        with open_session(path) as opened:  # one open: the header, the pair's peek, the thread
            header = opened.header
            a, p = resolve_pair(header, agent, peer, path=path, opened=opened)
            loaded = opened.load(pairs=[(a, p)], strict=strict)  # warnings: SessionWarning
        convs = loaded.conversations(a, p)
        replies = replies_in(convs, session=path, agent=a, peer=p, header=header)  # type: ignore[arg-type]  # recorded Messages are the dicts tying reads
        if conversation is not None:
            pick_conversation(convs, conversation, a, p, all_ok=False)  # the one range check (a usage error)
        prefs_path = check_prefs_path(prefs) if prefs is not None else None
        answers = existing(prefs_path)
        for r in replies:
            r.answer = answers.get(r.key)
        return cls(path, a, p, replies, prefs_path, conversation)

    def shown(self) -> list[Reply]:
        """The replies in view: those of :attr:`conversation`, or all."""
        return [r for r in self.replies if self.conversation is None or r.conversation == self.conversation]

    def answer(self, reply: Reply, kind: str, better: str | None = None) -> dict[str, Any]:
        """Append the answer to the prefs file now (flushed), and remember it on ``reply``; the line written."""
        if self.prefs is None:
            raise UsageError("{prefs}: give the preference file the answers are appended to", options=("prefs",))
        rec = record_for(reply, kind, better, agent=self.agent, peer=self.peer)
        append(self.prefs, rec)
        reply.answer = rec
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return rec

    def answered(self) -> int:
        return sum(1 for r in self.shown() if r.answer is not None)


def list_replies(
    session: Path | str,
    *,
    prefs: Path | str | None = None,
    agent: str | None = None,
    peer: str | None = None,
    conversation: int | None = None,
) -> list[Reply]:
    """The replies the agent gave in ``session`` (numbered from 1), each with its latest answer in ``prefs``."""
    return Review.open(session, prefs, agent=agent, peer=peer, conversation=conversation).shown()


def label(
    session: Path | str,
    prefs: Path | str,
    *,
    reply: int,
    better: str | None = None,
    bad: bool = False,
    keep: bool = False,
    agent: str | None = None,
    peer: str | None = None,
) -> dict[str, Any]:
    """Answer reply number ``reply`` of ``session`` in ``prefs`` (appended): ``better`` (the answer it should
    have been), ``bad=True`` or ``keep=True``, exactly one. Returns the line written."""
    given = [k for k, on in (("better", better is not None), ("bad", bad), ("keep", keep)) if on]
    if len(given) != 1:
        raise UsageError(
            "review: give exactly one of {better} TEXT, {bad} or {keep} with {reply}"
            + (f" (got {', '.join(given)})" if given else ""),
            options=("better", "bad", "keep", "reply"),
        )
    rv = Review.open(session, prefs, agent=agent, peer=peer)
    return rv.answer(pick(rv.replies, reply), given[0], better)
