"""Tie each preference pair to the prompt it answers in a thread (or in many threads).

The ONE tying code: export, the bundled local model, eval and any client that learns per question use it. A pair is
``[chosen, rejected]`` (the seed's shape, a list or tuple) or ``{"chosen": ..., "rejected": ..., "prompt": ...?}``;
each side is a string or a message dict.

A thread is the updated agent's view (``agent.chat_messages[peer]``): its own answers have role ``assistant``,
what it was asked has role ``user``. The rules, applied pair by pair in order:

* the *candidates* of a pair are the assistant answers whose text equals the rejected side (whitespace-normalised;
  a rejected tool call without text matches the same calls: names and arguments), in every thread given; each answer's *question* is the nearest user message with text before it;
* a pair with an explicit ``prompt`` keeps only the candidates whose question is that prompt (whitespace and case
  aside): an explicit prompt always matches the question it is tied to;
* a candidate another pair already took is not free; when every candidate is taken the pair is skipped as
  ``consumed`` (naming the pair that took it), not as "does not appear";
* when the free candidates answer more than one distinct question and no ``prompt`` says which, the pair is
  skipped as ``ambiguous``, its reason listing the candidate questions (never tied to a guessed one);
* otherwise the pair is tied to the free candidate in the first thread that has one, the most recent there;
* a pair with an ``occurrence`` N (``agent-ft review`` writes it when the same answer to the same question was
  given more than once) keeps only the N-th of those candidates (0 = the oldest: conversations oldest first, turns
  in order); fewer candidates than that is ``not-found``, never another turn;
* a pair with an explicit ``prompt`` that no candidate answers (the question is asked nowhere, or was answered
  with something else than the rejected side) is tied to that prompt alone (no answer in a thread): the prompt
  says which question, so nothing is guessed.

A thread the agent holds now is one *conversation* of its whole thread (autogen clears the history at each new
chat): :func:`align` takes the other conversations too: passed (``conversations=``), carried by the thread it is
given (a :class:`RecordedThread`: ``agent-ft update`` and a replayed pair hand the client one), or for a scope
(:func:`known_conversations`); so a client tying against the conversation it was handed decides every pair as
``export`` does over the whole thread: the same pairs tied, ambiguous, consumed or missing. Pairs are numbered from 0 (their index in the preference data)
in every message.

A *label* (``{"completion": answer, "label": true|false, "prompt"?, "occurrence"?}``: a good or a bad answer
without a correction, TRL's KTO shape, :func:`is_label`) is not a pair: :func:`normalize_pairs` leaves it out
(neither a pair nor a skip) unless asked for labels (``labels=True``, the ``trl-kto`` export), when it is tied by
the same rules as a pair whose rejected side is its completion (:attr:`Pair.label` set).

Anything not tied is reported as skipped, with the reason, never dropped silently: a :class:`Skipped` carries its
:class:`SkipKind` for code to act on and the human text for people.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .errors import UsageError
from .recorded import RecordedThread as RecordedThread  # re-exported: the thread a replayed pair hands the client
from .recorded import conversations_of, in_order
from .recorded import known_conversations as known_conversations
from .types import RawMessage


@dataclass
class Pair:
    index: int
    chosen: Any
    rejected: Any
    prompt: str | None = None
    #: which of several identical answers to the same question (0 = the oldest), see the rules above
    occurrence: int | None = None
    #: a label's verdict (True: a good answer, False: a bad one); None for a pair
    label: bool | None = None


@dataclass
class Aligned:
    """A pair tied to the question it answers: ``prompt`` is that question (or the pair's own ``prompt``)."""

    pair: Pair
    prompt: str
    prompt_index: int | None  # index of the prompt message in the thread (None for an explicit prompt)
    answer_index: int | None  # index of the rejected answer in the thread (None when not found)
    thread: Any = None  # the label of the thread the answer is in (see :class:`Tying`)
    #: the messages ``prompt_index`` and ``answer_index`` point into, when :func:`align` knows them: the thread it
    #: was given, or another conversation of the same thread where the answer was given (None for a prompt alone)
    conversation: list[RawMessage] | None = None

    @property
    def chosen_text(self) -> str:
        """The chosen answer's text (a tied pair's chosen side has text or tool calls; ``""`` for calls alone)."""
        return text_of(self.pair.chosen) or ""

    @property
    def rejected_text(self) -> str:
        """The rejected answer's text (``""`` for a tool call without text)."""
        return text_of(self.pair.rejected) or ""


class SkipKind(str, Enum):
    """Why a pair was not tied (what code reads; :attr:`Skipped.reason` is the text people read)."""

    NOT_A_LIST = "not-a-list"  # the preference data as a whole is not a list of pairs
    NOT_A_PAIR = "not-a-pair"  # an item is neither [chosen, rejected] nor {"chosen", "rejected"}
    NO_CHOSEN_TEXT = "no-chosen-text"
    NO_PROMPT = "no-prompt"  # the rejected answer was found but nothing was asked before it
    NOT_FOUND = "not-found"  # the rejected answer does not appear in the thread
    AMBIGUOUS = "ambiguous"  # the rejected answer answers several questions and no prompt says which
    CONSUMED = "consumed"  # every turn with the rejected answer was already tied to another pair
    OTHER = "other"  # a caller's own reason (e.g. the bundled local model's)


@dataclass
class Skipped:
    index: int
    reason: str
    kind: SkipKind = SkipKind.OTHER


def text_of(value: Any) -> str | None:
    """The text of a string or a message dict (multimodal lists joined), or None."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return text_of(value.get("content"))
    if isinstance(value, list):
        parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in value]
        return "".join(parts) if parts else None
    return None


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


def question_key(text: str | None) -> str:
    """What makes two questions the same question for a pair's ``prompt``: whitespace and case aside."""
    return _norm(text).casefold()


def _calls(value: Any) -> list[Any]:
    """The tool calls of a message (``tool_calls``, or the legacy ``function_call``), as ``[name, arguments]``."""
    if not isinstance(value, dict):
        return []
    raw = list(value.get("tool_calls") or [])
    if value.get("function_call"):
        raw.append({"function": value["function_call"]})
    out: list[Any] = []
    for call in raw:
        fn = call.get("function") if isinstance(call, dict) else None
        if isinstance(fn, dict):
            args = fn.get("arguments")
            if isinstance(args, str):
                with contextlib.suppress(ValueError):  # not JSON: compared as the text it is
                    args = json.loads(args) if args.strip() else {}
            out.append([fn.get("name"), args])
    return out


def answer_key(value: Any) -> str:
    """What makes two answers the same answer: their whitespace-normalised text, or, for a tool call without text
    (a message with ``tool_calls``), the calls' names and arguments. ``""`` for an answer with neither."""
    text = _norm(text_of(value))
    if text:
        return text
    calls = _calls(value)
    return "\x00calls:" + json.dumps(calls, sort_keys=True, default=str) if calls else ""


def is_label(item: Any) -> bool:
    """Whether ``item`` is a label (``{"completion", "label": bool}`` without ``chosen``/``rejected``)."""
    return (
        isinstance(item, dict)
        and "completion" in item
        and isinstance(item.get("label"), bool)
        and "chosen" not in item
        and "rejected" not in item
    )


def _occurrence(item: dict[str, Any]) -> int | None:
    n = item.get("occurrence")
    return n if isinstance(n, int) and not isinstance(n, bool) and n >= 0 else None


def normalize_pairs(preference_data: Any, *, labels: bool = False) -> tuple[list[Pair], list[Skipped]]:
    """Accept the seed's ``[chosen, rejected]`` pairs and ``{"chosen", "rejected"}`` objects (and the labels,
    :func:`is_label`, when ``labels``; left out otherwise)."""
    if isinstance(preference_data, dict) and ("chosen" in preference_data or "pairs" in preference_data):
        preference_data = preference_data.get("pairs", [preference_data])
    if not isinstance(preference_data, (list, tuple)):
        return [], [Skipped(0, f"preference data is a {type(preference_data).__name__}, not a list of pairs", SkipKind.NOT_A_LIST)]
    pairs: list[Pair] = []
    skipped: list[Skipped] = []
    for i, item in enumerate(preference_data):
        if isinstance(item, (list, tuple)) and len(item) == 2:
            pairs.append(Pair(i, item[0], item[1]))
        elif isinstance(item, dict) and "chosen" in item and "rejected" in item:
            prompt = text_of(item.get("prompt")) if item.get("prompt") is not None else None
            pairs.append(Pair(i, item["chosen"], item["rejected"], prompt, _occurrence(item)))
        elif is_label(item):
            if labels:
                prompt = text_of(item.get("prompt")) if item.get("prompt") is not None else None
                c = item["completion"]
                pairs.append(Pair(i, c, c, prompt, _occurrence(item), item["label"]))
            continue
        else:
            reason = "not a [chosen, rejected] pair nor an object with 'chosen' and 'rejected'"
            skipped.append(Skipped(i, reason, SkipKind.NOT_A_PAIR))
            continue
        p = pairs[-1]
        if text_of(p.chosen) is None and not _calls(p.chosen):  # a tool call is an answer too
            pairs.pop()
            skipped.append(Skipped(i, "the chosen answer has no text", SkipKind.NO_CHOSEN_TEXT))
    return pairs, skipped


def is_prompt(message: RawMessage) -> bool:
    """A message the agent was asked: role user, with text, not a tool result."""
    return (
        message.get("role") == "user"
        and bool(_norm(text_of(message)))  # (text_of gives a str or None, which _norm makes "")
        and not message.get("tool_responses")
    )


def align(
    preference_data: Any, messages: list[RawMessage], *, conversations: Sequence[list[RawMessage]] | None = None
) -> tuple[list[Aligned], list[Skipped]]:
    """Tie every usable pair to its prompt in ``messages``; return (tied, skipped).

    ``messages`` is a thread (``agent.chat_messages[peer]``, a system message first or not). ``conversations`` are
    every conversation of that thread (:meth:`agent_ft_cli.Session.conversations`, oldest first; ``messages`` is
    one of them, their join, or the thread the agent holds now): the answers in the others count too, so a pair is
    decided as ``export`` decides it (an answer also given to other questions in an earlier chat is ambiguous; a
    pair whose answer is only there is tied there, :attr:`Aligned.conversation`). Without ``conversations``, those
    :func:`conversations_of` ``messages`` are used (a :class:`RecordedThread`'s, or a :func:`known_conversations`
    scope's).
    """
    thread = _checked_thread(messages)
    pairs, skipped = normalize_pairs(preference_data)
    if conversations is None:
        conversations = conversations_of(messages)
    elif isinstance(conversations, (str, bytes, dict)) or not isinstance(conversations, Sequence):
        raise UsageError(
            f"align: conversations must be a list of threads (lists of message dicts), not {type(conversations).__name__}"
        )
    tying = Tying(pairs)
    where: dict[Any, list[RawMessage]] = {}
    for label, conv in in_order(thread, [_checked_thread(c, f"conversations[{k}]") for k, c in enumerate(conversations or ())]):
        tying.scan(label, conv)  # oldest first, as export scans them: the same pair tied in the same conversation
        where[label] = conv
    tied, more = tying.resolve()
    for t in tied:
        if t.answer_index is not None:
            t.conversation = where[t.thread]
    return tied, skipped + more


def _checked_thread(messages: Any, name: str = "messages") -> list[RawMessage]:
    """``messages`` as a list of message dicts, or an :class:`~agent_ft_cli.errors.UsageError` naming the argument."""
    if isinstance(messages, (str, bytes, dict)) or not isinstance(messages, Sequence):
        raise UsageError(
            f"align: {name} must be a thread, a list of message dicts (such as agent.chat_messages[peer]), "
            f"not {type(messages).__name__}"
        )
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise UsageError(f"align: {name}[{i}] is a {type(m).__name__}, not a message dict")
    return list(messages) if not isinstance(messages, list) else messages


def prompt_thread(item: Aligned, messages: list[RawMessage]) -> list[RawMessage]:
    """The thread a tied pair is judged on and trained on (``eval``, the Hugging Face client): the conversation its
    answer is in (``messages``, or another conversation of the thread, :attr:`Aligned.conversation`, after the
    system message ``messages`` starts with) up to the tied answer, or a fresh one holding the pair's own prompt
    (after the thread's system message, if any) when its answer is not in a thread or its ``prompt`` is not the
    question asked before that answer."""
    system = [m for m in messages[:1] if m.get("role") == "system"]
    source = messages
    if item.conversation is not None and item.conversation is not messages:
        source = item.conversation if item.conversation[:1] and item.conversation[0].get("role") == "system" else [
            *system, *item.conversation
        ]
        shift = len(source) - len(item.conversation)
        item = Aligned(
            item.pair,
            item.prompt,
            None if item.prompt_index is None else item.prompt_index + shift,
            None if item.answer_index is None else item.answer_index + shift,
            item.thread,
            source,
        )
    own = item.pair.prompt
    asked = text_of(source[item.prompt_index]) if item.prompt_index is not None else None
    same = not own or (asked is not None and question_key(own) == question_key(asked))
    if same and item.answer_index is not None and item.prompt_index is not None:
        return source[: item.answer_index]
    if same and item.prompt_index is not None:
        return source[: item.prompt_index + 1]
    return [*system, {"role": "user", "content": item.prompt}]


@dataclass(frozen=True)
class Candidate:
    """An assistant answer whose text is a pair's rejected side: where it is and the question it answers."""

    thread: Any
    answer_index: int
    prompt_index: int | None
    question: str


class Tying:
    """Ties pairs over many threads: :meth:`scan` each thread (in order), then :meth:`resolve` once.

    Only the candidates are kept between the two (never the threads), so an export can scan every conversation of
    every session before it decides, and a pair is never tied to a guessed question because the other candidate was
    in a thread not read yet. ``thread`` labels are the caller's (returned on :attr:`Aligned.thread`).
    """

    def __init__(self, pairs: list[Pair]) -> None:
        self.pairs = list(pairs)
        self._by_text: dict[str, list[Pair]] = {}
        for pair in self.pairs:
            text = answer_key(pair.rejected)
            if text:
                self._by_text.setdefault(text, []).append(pair)
        self._candidates: dict[int, list[Candidate]] = {p.index: [] for p in self.pairs}
        self._rank: dict[Any, int] = {}  # thread label -> the order it was scanned in

    def scan(self, thread: Any, messages: list[RawMessage]) -> None:
        """Record the candidates ``messages`` (one thread, labelled ``thread``) holds for every pair."""
        self._rank.setdefault(thread, len(self._rank))
        prompt_index: int | None = None
        for i, m in enumerate(messages):
            if is_prompt(m):
                prompt_index = i
            elif m.get("role") == "assistant" and self._by_text:
                text = answer_key(m)
                if text in self._by_text:
                    question = (text_of(messages[prompt_index]) or "") if prompt_index is not None else ""
                    c = Candidate(thread, i, prompt_index, question)
                    for pair in self._by_text[text]:
                        self._candidates[pair.index].append(c)

    def forget(self, drop: Callable[[Any], bool]) -> None:
        """Drop the candidates of every thread whose label ``drop`` says (a session found unusable after a scan)."""
        for index, cands in self._candidates.items():
            self._candidates[index] = [c for c in cands if not drop(c.thread)]

    def resolve(self) -> tuple[list[Aligned], list[Skipped]]:
        """Tie the pairs (in order) to the candidates scanned; return (tied, skipped)."""
        taken: dict[tuple[Any, int], int] = {}  # (thread, answer index) -> the pair that took it
        rank = self._rank
        tied: list[Aligned] = []
        skipped: list[Skipped] = []
        for pair in self.pairs:
            cands = sorted(self._candidates.get(pair.index, []), key=lambda c: (rank.get(c.thread, 0), -c.answer_index))
            if pair.prompt is not None and pair.prompt.strip():
                wanted = question_key(pair.prompt)
                cands = [c for c in cands if question_key(c.question) == wanted]
                if not cands:  # no answer with its text answers that question: tied to its own prompt alone
                    tied.append(Aligned(pair, pair.prompt, None, None))
                    continue
            if pair.occurrence is not None and cands:
                ordered = sorted(cands, key=lambda c: (rank.get(c.thread, 0), c.answer_index))
                if pair.occurrence >= len(ordered):
                    reason = (
                        f"occurrence {pair.occurrence} of the rejected answer is not in the thread (it is given "
                        f"{len(ordered)} time(s) there)"
                    )
                    skipped.append(Skipped(pair.index, reason, SkipKind.NOT_FOUND))
                    continue
                cands = [ordered[pair.occurrence]]
            elif not answer_key(pair.rejected):
                skipped.append(Skipped(pair.index, "the rejected answer has no text", SkipKind.NOT_FOUND))
                continue
            if not cands:
                skipped.append(Skipped(pair.index, "the rejected answer does not appear in the thread", SkipKind.NOT_FOUND))
                continue
            free = [c for c in cands if (c.thread, c.answer_index) not in taken]
            if not free:
                owners = ", ".join(map(str, sorted({taken[(c.thread, c.answer_index)] for c in cands})))
                reason = f"the rejected answer appears only where it was already tied by pair {owners}"
                skipped.append(Skipped(pair.index, reason, SkipKind.CONSUMED))
                continue
            questions = _first_per_question(free)
            if len(questions) > 1:
                shown = ", ".join(_q(c.question) for c in questions)
                reason = (
                    f"ambiguous: the rejected answer answers {len(questions)} different questions ({shown}); "
                    "give the pair a 'prompt' to say which"
                )
                skipped.append(Skipped(pair.index, reason, SkipKind.AMBIGUOUS))
                continue
            best = free[0]
            if best.prompt_index is None:
                reason = "the rejected answer has no user prompt before it in the thread"
                skipped.append(Skipped(pair.index, reason, SkipKind.NO_PROMPT))
                continue
            taken[(best.thread, best.answer_index)] = pair.index
            prompt = pair.prompt if pair.prompt is not None and pair.prompt.strip() else best.question
            tied.append(Aligned(pair, prompt, best.prompt_index, best.answer_index, best.thread))
        return tied, skipped


def _q(text: str) -> str:
    short = " ".join(text.split())
    short = short if len(short) <= 80 else short[:77] + "..."
    return repr(short) if short else "(no question)"


def _first_per_question(cands: list[Candidate]) -> list[Candidate]:
    seen: dict[str, Candidate] = {}
    for c in cands:
        seen.setdefault(question_key(c.question), c)
    return list(seen.values())
