"""The replies an agent gave in a session, as ``agent-ft review`` shows and numbers them.

A reply is an assistant answer in the thread ``update`` would use (``agent.chat_messages[peer]``), every
conversation of it oldest first, numbered from 1 in that order whatever ``--conversation`` shows (so ``--reply N``
names the same reply in every view). Each carries what the tying rules (:mod:`agent_ft_cli.align`) need to tie an
answer to exactly this turn: the question it answers (the nearest user message with text before it, as align reads
it) and, when the same answer to the same question was given more than once in the thread, its ``occurrence``
(0 = the oldest), which align honours. A reply nothing was asked before cannot be tied and is not listed.

Its :attr:`Reply.key` (session file name, thread, conversation, turn, a hash of the answer) is what the answers
appended to the prefs file are matched by (:mod:`.answers`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..align import answer_key, is_prompt, question_key, text_of
from ..errors import UsageError
from ..session import agent_def
from ..types import RawMessage

#: ``human_input_mode`` values under which the peer's replies were typed by a person (a user proxy that answered)
HUMAN_MODES = ("ALWAYS", "TERMINATE")


@dataclass
class Reply:
    """One reply of the agent, where it is, what it answers, and (with a prefs file) its latest answer."""

    number: int  # 1-based, over every conversation of the thread
    conversation: int  # 1-based (1 = the oldest), as ``update --conversation`` counts
    turn: int  # the reply's index in its conversation (0-based)
    message: RawMessage  # the reply exactly as recorded
    prompt: str  # the question it answers
    context: list[RawMessage]  # its conversation up to the reply
    key: str
    occurrence: int | None = None
    #: a correction the human peer typed right after the reply (:data:`HUMAN_MODES`), proposed as the better answer
    proposal: str | None = None
    #: the latest answer in the prefs file for this reply (its record), if any
    answer: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        """The reply's text (``""`` for a tool call without text)."""
        return text_of(self.message) or ""

    @property
    def rejected(self) -> Any:
        """The reply as a pair's side: its recorded text, or the message itself for a tool call without text."""
        text = text_of(self.message)
        if text:
            return text
        return {k: self.message[k] for k in ("role", "content", "tool_calls", "function_call") if k in self.message}

    def as_dict(self) -> dict[str, Any]:
        """The reply as ``--list --json`` prints it."""
        out: dict[str, Any] = {
            "reply": self.number,
            "conversation": self.conversation,
            "turn": self.turn,
            "prompt": self.prompt,
            "text": self.text,
            "key": self.key,
        }
        if not self.text:
            out["message"] = self.rejected
        if self.occurrence is not None:
            out["occurrence"] = self.occurrence
        if self.proposal is not None:
            out["proposal"] = self.proposal
        out["answer"] = verdict(self.answer)
        if self.answer is not None and out["answer"] == "better":
            out["better"] = text_of(self.answer.get("chosen"))
        return out


def reply_key(session: Path | str, agent: str, peer: str, conversation: int, turn: int, message: RawMessage) -> str:
    """The stable key of a reply: session file name, thread, conversation, turn and a hash of the answer."""
    digest = hashlib.sha256(answer_key(message).encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{Path(session).name}|{agent}>{peer}|c{conversation}|t{turn}|{digest}"


def _human_peer(header: Mapping[str, Any], peer: str) -> bool:
    d = agent_def(header, peer)
    return d is not None and d.get("human_input_mode") in HUMAN_MODES and not d.get("llm_config")


#: how a human's reply that corrects the agent starts (the rest is proposed as the better answer)
_DENIALS = re.compile(r"^\s*(no|nope|wrong|incorrect|not quite|not really|actually|that's wrong|that is wrong)\b[\s,.:;!—-]*", re.I)
#: how a correction may start without a denial: it states the answer
_STATEMENTS = re.compile(r"^\s*(it is|it's|the (correct |right )?answer is|the answer should be|you should (say|answer))\b", re.I)


def correction_of(text: str) -> str | None:
    """The better answer a human's reply proposes, when it reads as a correction (it starts by denying the reply,
    ``"No, it is Canberra."`` -> ``"It is Canberra."``, or by stating the answer); None for anything else (a new
    question, an ``exit``)."""
    denial = _DENIALS.match(text)
    if denial:
        rest = text[denial.end() :].strip()
        return rest[:1].upper() + rest[1:] if rest else None
    return text.strip() if _STATEMENTS.match(text) else None


def _proposal(conv: list[RawMessage], turn: int, human: bool) -> str | None:
    """The correction in the human's next message after the reply, when the peer is a person who answered."""
    if not human or turn + 1 >= len(conv) or not is_prompt(conv[turn + 1]):
        return None
    return correction_of(text_of(conv[turn + 1]) or "")


def replies_in(
    conversations: list[list[RawMessage]], *, session: Path | str, agent: str, peer: str, header: Mapping[str, Any]
) -> list[Reply]:
    """Every reply the agent gave in ``conversations`` (its thread with ``peer``, oldest first), numbered."""
    human = _human_peer(header, peer)
    out: list[Reply] = []
    seen: dict[tuple[str, str], list[Reply]] = {}
    for c, conv in enumerate(conversations, 1):
        prompt: str | None = None
        for i, m in enumerate(conv):
            if is_prompt(m):
                prompt = text_of(m) or ""
                continue
            if m.get("role") != "assistant" or prompt is None or not answer_key(m):
                continue
            r = Reply(len(out) + 1, c, i, m, prompt, conv[:i], reply_key(session, agent, peer, c, i, m))
            r.proposal = _proposal(conv, i, human)
            out.append(r)
            seen.setdefault((answer_key(m), question_key(prompt)), []).append(r)
    for same in seen.values():
        if len(same) > 1:  # the same answer to the same question: which one, by align's order (oldest first)
            for n, r in enumerate(same):
                r.occurrence = n
    return out


def pick(replies: list[Reply], number: int) -> Reply:
    """The reply numbered ``number``; a usage error naming the range otherwise."""
    if not 1 <= number <= len(replies):
        raise UsageError(
            f"{{reply}} {number}: the thread holds {len(replies)} repl{'y' if len(replies) == 1 else 'ies'}; "
            "choose a number from 1 (list them with {list})",
            options=("reply", "list"),
        )
    return replies[number - 1]


def verdict(record: dict[str, Any] | None) -> str | None:
    """``better``, ``bad`` or ``keep`` for a line review wrote (None for none)."""
    if record is None:
        return None
    if "chosen" in record:
        return "better"
    return "keep" if record.get("label") is True else "bad"
