"""Tie each preference pair to the prompt it answers in a thread.

Shared by the bundled local model and by ``export``. A pair is ``[chosen, rejected]`` (the seed's shape, a list or
tuple) or ``{"chosen": ..., "rejected": ..., "prompt": ...?}``; each side is a string or a message dict.

The thread is the updated agent's view (``agent.chat_messages[peer]``): its own answers have role ``assistant``,
what it was asked has role ``user``. A pair is tied to the *most recent* assistant answer whose text equals the
rejected side (whitespace-normalised) and not already used by another pair; its prompt is the nearest user message
with text before that answer. A pair with an explicit ``prompt`` and no matching answer is tied to that prompt.
Anything else is reported as skipped, with the reason, never dropped silently: a :class:`Skipped` carries its
:class:`SkipKind` for code to act on and the human text for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

Message = dict[str, Any]


@dataclass
class Pair:
    index: int
    chosen: Any
    rejected: Any
    prompt: str | None = None


@dataclass
class Aligned:
    pair: Pair
    prompt: str
    prompt_index: int | None  # index of the prompt message in the thread (None for an explicit prompt)
    answer_index: int | None  # index of the rejected answer in the thread (None when not found)


class SkipKind(str, Enum):
    """Why a pair was not tied (what code reads; :attr:`Skipped.reason` is the text people read)."""

    NOT_A_LIST = "not-a-list"  # the preference data as a whole is not a list of pairs
    NOT_A_PAIR = "not-a-pair"  # an item is neither [chosen, rejected] nor {"chosen", "rejected"}
    NO_CHOSEN_TEXT = "no-chosen-text"
    NO_PROMPT = "no-prompt"  # the rejected answer was found but nothing was asked before it
    NOT_FOUND = "not-found"  # the rejected answer does not appear in the thread
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


def normalize_pairs(preference_data: Any) -> tuple[list[Pair], list[Skipped]]:
    """Accept the seed's ``[chosen, rejected]`` pairs and ``{"chosen", "rejected"}`` objects."""
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
            pairs.append(Pair(i, item["chosen"], item["rejected"], prompt))
        else:
            reason = "not a [chosen, rejected] pair nor an object with 'chosen' and 'rejected'"
            skipped.append(Skipped(i, reason, SkipKind.NOT_A_PAIR))
            continue
        p = pairs[-1]
        if text_of(p.chosen) is None:
            pairs.pop()
            skipped.append(Skipped(i, "the chosen answer has no text", SkipKind.NO_CHOSEN_TEXT))
    return pairs, skipped


def is_prompt(message: Message) -> bool:
    """A message the agent was asked: role user, with text, not a tool result."""
    return (
        message.get("role") == "user"
        and isinstance(text_of(message), str)
        and bool(_norm(text_of(message)))
        and not message.get("tool_responses")
    )


def _prompt_before(messages: list[Message], index: int) -> str:
    j = next((j for j in range(index - 1, -1, -1) if is_prompt(messages[j])), None)
    return (text_of(messages[j]) or "") if j is not None else ""


def align(preference_data: Any, messages: list[Message]) -> tuple[list[Aligned], list[Skipped]]:
    """Tie every usable pair to its prompt in ``messages``; return (tied, skipped)."""
    pairs, skipped = normalize_pairs(preference_data)
    tied, more = align_pairs(pairs, messages)
    return tied, skipped + more


def align_pairs(
    pairs: list[Pair], messages: list[Message], *, used: set[int] | None = None
) -> tuple[list[Aligned], list[Skipped]]:
    """:func:`align` for pairs already normalised (their ``index`` kept), e.g. one prefs file over many threads.

    ``used`` holds answer indexes already taken by other pairs and is updated in place.
    """
    skipped: list[Skipped] = []
    used = set() if used is None else used
    tied: list[Aligned] = []
    for pair in pairs:
        rejected = _norm(text_of(pair.rejected))
        candidates = [
            i
            for i in range(len(messages) - 1, -1, -1)
            if rejected and i not in used and messages[i].get("role") == "assistant" and _norm(text_of(messages[i])) == rejected
        ]
        if pair.prompt and len(candidates) > 1:
            # The same answer given to several questions: the explicit prompt tells which one is meant.
            wanted = _norm(pair.prompt).casefold()
            matching = [i for i in candidates if _norm(_prompt_before(messages, i)).casefold() == wanted]
            candidates = matching or candidates
        answer_index = candidates[0] if candidates else None
        if answer_index is not None:
            prompt_index = next((j for j in range(answer_index - 1, -1, -1) if is_prompt(messages[j])), None)
            if prompt_index is None:
                if pair.prompt:
                    tied.append(Aligned(pair, pair.prompt, None, answer_index))
                    used.add(answer_index)
                else:
                    reason = "the rejected answer has no user prompt before it in the thread"
                    skipped.append(Skipped(pair.index, reason, SkipKind.NO_PROMPT))
                continue
            used.add(answer_index)
            prompt = pair.prompt or text_of(messages[prompt_index]) or ""
            tied.append(Aligned(pair, prompt, prompt_index, answer_index))
        elif pair.prompt:
            tied.append(Aligned(pair, pair.prompt, None, None))
        else:
            skipped.append(Skipped(pair.index, "the rejected answer does not appear in the thread", SkipKind.NOT_FOUND))
    return tied, skipped


def prompt_thread(item: Aligned, messages: list[Message]) -> list[Message]:
    """The thread a tied pair is judged on and trained on (``eval``, the Hugging Face client): the agent's thread up to the tied answer, or a fresh one holding the
    pair's own prompt (after the thread's system message, if any) when its answer is not in the thread or its
    ``prompt`` is not the question asked before that answer."""
    own = item.pair.prompt
    asked = text_of(messages[item.prompt_index]) if item.prompt_index is not None else None
    same = not own or (asked is not None and _norm(own).casefold() == _norm(asked).casefold())
    if same and item.answer_index is not None and item.prompt_index is not None:
        return messages[: item.answer_index]
    if same and item.prompt_index is not None:
        return messages[: item.prompt_index + 1]
    system = [m for m in messages[:1] if m.get("role") == "system"]
    return [*system, {"role": "user", "content": item.prompt}]
