"""The bundled local model: a small learnable client that runs offline, for the Quickstart, samples and tests.

It answers from what it has learned and otherwise with a fixed "don't know" reply. ``update_model`` ties each
preference pair to the question it answers (:mod:`agent_ft_cli.align`) and remembers the chosen answer for that
question. Questions are matched by their content words (case, punctuation, contractions, plurals and small words
such as "what", "the", "tell me" do not matter), so a paraphrase gets the learned answer and an unrelated question
does not. What it learned is written atomically to a JSON state file (``state_path``), read again on every call,
so a later process (the next ``agent-ft record``) uses it. ``update_model`` reads, changes and writes the state under
an exclusive lock (:func:`agent_ft_cli.fsutil.exclusive_lock`), so two concurrent updates both keep their answers.

``update_model`` learns the tied pairs in order, in up to :data:`HISTORY_STEPS` steps, and reports a per-step
``history`` in TRL's ``log_history`` keys (docs/runs.md): after each step, the margin ``log p(chosen) - log
p(rejected)`` of every tied pair under :meth:`score` (``rewards/margins``: their mean; ``rewards/accuracies``: the
share above 0) and ``loss``, the mean of ``-log sigmoid(margin)`` (DPO's loss with beta 1), so its runs have
curves as the Hugging Face client's do. ``margin_before``/``margin_after`` and per-pair ``margins`` too.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson

from ..align import Skipped, align, is_prompt, text_of
from ..errors import InputDataError
from ..fsutil import atomic_write_bytes, exclusive_lock, read_bounded
from .protocol import ModelClientBase, chat_response, rounded_mean

DEFAULT_STATE = ".agent-ft/local-model.json"

#: At most this many learning steps are reported in the history (pairs are learned in that many even batches).
HISTORY_STEPS = 20
#: The history's margins are measured on at most this many tied pairs (evenly spaced) to bound the cost.
HISTORY_PAIRS = 20
DEFAULT_REPLY = "I don't know the answer to that yet."

_STOP = set(
    """a an the is are was were be been being am do does did of to in on at for by with about from as into and or
    what whats which who whom whose when where why how please tell me my i you your could would can will shall
    should may might must it its this that these those there here give show explain describe say know let us we
    any some name called call q have has had get got many much more most also just like want need make does
    happen happens""".split()
)
_CONTRACTIONS = {"what's": "what is", "who's": "who is", "where's": "where is", "it's": "it is", "how's": "how is"}


def state_file(state_path: Any = None) -> Path:
    """Where the local model keeps its state: ``state_path``, else ``$AGENT_FT_LOCAL_STATE``, else
    :data:`DEFAULT_STATE` (``~`` expanded)."""
    return Path(str(state_path or os.environ.get("AGENT_FT_LOCAL_STATE") or DEFAULT_STATE)).expanduser()


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def normalize(text: str) -> str:
    """Lower-case, contractions expanded, punctuation dropped, whitespace collapsed."""
    low = text.casefold().replace("\u2019", "'")
    for short, full in _CONTRACTIONS.items():
        low = low.replace(short, full)
    low = re.sub(r"'s\b", "", low)
    return " ".join(re.sub(r"[^\w\s]", " ", low).split())


def content_words(text: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in normalize(text).split() if w not in _STOP)


def _same_word(a: str, b: str) -> bool:
    """Equal, or one a prefix of the other when both are words of substance (boil/boiling, australia/australian)."""
    return a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)))


def _key(word: str) -> str:
    """What two words :func:`_same_word` calls the same always share: the first four letters (the word if shorter)."""
    return word[:4]


def similarity(question: frozenset[str], learned: frozenset[str]) -> float:
    """How well a question matches a learned one, 0..1: the F1 of their content words (prefix-tolerant).

    Recall (the share of the learned question's words the question has) must be at least 0.6, so a question that
    shares only one of two words ("Tell me about Australia" against "capital of Australia") scores 0.
    """
    if not question or not learned:
        return 0.0
    recall = sum(w in question or any(_same_word(w, q) for q in question) for w in learned) / len(learned)
    precision = sum(q in learned or any(_same_word(q, w) for w in learned) for q in question) / len(question)
    if recall < 0.6 or not precision:
        return 0.0
    return 2 * recall * precision / (recall + precision)


class Learned:
    """The learned answers made ready for lookups: by normalised question (the newest wins) and, newest first, with
    their content words (so many lookups against one state build them once)."""

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.by_key = {str(e.get("key")): str(e["answer"]) for e in answers if "answer" in e}
        self.newest_first = [
            (frozenset(e.get("words", [])), tuple(_key(w) for w in e.get("words", [])), str(e["answer"]))
            for e in reversed(answers)
            if "answer" in e
        ]


class LocalLearningClient(ModelClientBase):
    """A custom model client (autogen's ModelClient protocol) that learns question -> answer from preferences."""

    model = "agent-ft-local"

    def __init__(
        self,
        config: dict[str, Any],
        state_path: str | os.PathLike[str] | None = None,
        default_reply: str = DEFAULT_REPLY,
        threshold: float = 0.6,
        **_: Any,
    ) -> None:
        super().__init__(config)
        self.state_path = state_file(state_path)
        self.default_reply = default_reply
        self.threshold = float(threshold)

    # -- state ----------------------------------------------------------------------------------------------------
    def _load(self) -> list[dict[str, Any]]:
        try:
            with open(self.state_path, "rb") as fh:
                data = orjson.loads(read_bounded(fh, str(self.state_path), error=InputDataError))
        except FileNotFoundError:
            return []
        except (OSError, orjson.JSONDecodeError, InputDataError) as e:
            raise RuntimeError(f"local model state {str(self.state_path)!r} is unreadable: {e}") from None
        return list(data.get("answers", [])) if isinstance(data, dict) else []

    def _save(self, answers: list[dict[str, Any]]) -> None:  # under update_model's lock, in the folder it made
        data = {"format": "agent-ft-local-model", "version": 1, "answers": answers}
        atomic_write_bytes(self.state_path, orjson.dumps(data, option=orjson.OPT_INDENT_2), what="model state")

    def answer_for(self, question: str, answers: list[dict[str, Any]] | Learned | None = None) -> str | None:
        """The learned answer for a question (or a paraphrase of it), or None (``answers``: the state's, by default)."""
        learned = answers if isinstance(answers, Learned) else Learned(self._load() if answers is None else answers)
        key = normalize(question)
        if key in learned.by_key:
            return learned.by_key[key]
        words = content_words(question)
        keys = {_key(w) for w in words}
        best, best_score = None, 0.0
        for entry_words, entry_keys, answer in learned.newest_first:
            # a learned word the question has shares its key with one of the question's: too few shared keys, and
            # the recall similarity needs (0.6) cannot be reached; skip the word-by-word comparison
            if not entry_keys or 5 * sum(k in keys for k in entry_keys) < 3 * len(entry_keys):
                continue
            score = similarity(words, entry_words)
            if score > best_score:
                best, best_score = answer, score
        if best is not None and best_score >= self.threshold:
            return best
        return None

    # -- ModelClient protocol -------------------------------------------------------------------------------------
    def create(self, params: dict[str, Any]) -> SimpleNamespace:
        messages = params.get("messages") or []
        question = next((text_of(m) for m in reversed(messages) if is_prompt(m)), None)
        reply = (self.answer_for(question) if question else None) or self.default_reply
        return chat_response(reply, model=self.model)

    # -- scoring (the optional protocol ``eval`` compares answers with) ---------------------------------------------
    def score(self, messages: list[dict[str, Any]], candidates: list[Any]) -> list[float]:
        """The log-probability of each candidate as this model's reply after ``messages``.

        The model is certain-ish of what :meth:`create` would answer (the learned answer of a matching question,
        else the default reply): that reply gets probability 0.9. Any other candidate gets a share of the remaining
        0.1 by how many content words it has in common with that reply (Jaccard), never below 0.001. So before an
        update the taught question's chosen answer scores below the default reply it rejected, and after it above.
        """
        question = next((text_of(m) for m in reversed(messages) if is_prompt(m)), None)
        return self._scores(question, [text_of(c) or "" for c in candidates], None)

    def _scores(self, question: str | None, candidates: list[str], answers: Learned | None) -> list[float]:
        expected = (self.answer_for(question, answers) if question else None) or self.default_reply
        key, words = normalize(expected), content_words(expected)
        scores: list[float] = []
        for text in candidates:
            if normalize(text) == key:
                p = 0.9
            else:
                other = content_words(text)
                overlap = len(words & other) / len(words | other) if words | other else 0.0
                p = max(0.001, 0.1 * overlap)
            scores.append(math.log(p))
        return scores

    # -- learning -------------------------------------------------------------------------------------------------
    def update_model(self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        """Remember the chosen answer for each question a preference pair is tied to."""
        tied, skipped = align(preference_data, inference_messages)
        seen = len(tied) + len(skipped)
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(self.state_path, what="model state"):
            return self._learn(tied, skipped, seen)

    def _margins(self, rows: list[tuple[str, str, str]], state: list[dict[str, Any]]) -> list[float]:
        """log p(chosen) - log p(rejected) of each (question, chosen, rejected) under the answers ``state``."""
        answers = Learned(state)
        out = []
        for question, chosen, rejected in rows:
            c, r = self._scores(question, [chosen, rejected], answers)
            out.append(c - r)
        return out

    def _learn(self, tied: list[Any], skipped: list[Skipped], seen: int) -> dict[str, Any]:
        answers = self._load()
        learned, unchanged = [], 0
        rows = [(item.prompt, text_of(item.pair.chosen) or "", text_of(item.pair.rejected) or "") for item in tied]
        measured = rows if len(rows) <= HISTORY_PAIRS else [rows[i * len(rows) // HISTORY_PAIRS] for i in range(HISTORY_PAIRS)]
        before = self._margins(rows, answers)
        history: list[dict[str, Any]] = []
        steps = min(len(tied), HISTORY_STEPS)
        for step in range(1, steps + 1):
            for item in tied[(step - 1) * len(tied) // steps : step * len(tied) // steps]:
                chosen = text_of(item.pair.chosen) or ""
                key = normalize(item.prompt)
                if not key:
                    skipped.append(Skipped(item.pair.index, "the prompt has no words"))
                    continue
                existing = next((e for e in answers if e.get("key") == key), None)
                if existing is not None and existing.get("answer") == chosen:
                    unchanged += 1
                    continue
                answers = [e for e in answers if e.get("key") != key]
                answers.append({"key": key, "question": item.prompt, "words": sorted(content_words(item.prompt)), "answer": chosen})
                learned.append({"question": item.prompt, "answer": chosen})
            history.append(_logged(step, steps, self._margins(measured, answers)))
        after = self._margins(rows, answers)
        if learned:
            self._save(answers)
        reasons = dict(Counter(s.reason for s in skipped))
        return {
            "pairs_seen": seen,
            "learned": len(learned),
            "already_known": unchanged,
            "skipped": sum(reasons.values()),
            "skipped_reasons": reasons,
            "known_answers": len(answers),
            "learned_answers": learned,
            "state_path": str(self.state_path),
            "method": "remember",
            "steps": steps,
            "margin_before": rounded_mean(before),
            "margin_after": rounded_mean(after),
            "margins": [{"pair": item.pair.index, "before": round(b, 4), "after": round(a, 4)}
                        for item, b, a in zip(tied, before, after, strict=True)],
            "history": history,
        }


def _logged(step: int, steps: int, margins: list[float]) -> dict[str, Any]:
    """One history entry in TRL's ``log_history`` keys: the state after ``step`` of ``steps``."""
    losses = [math.log1p(math.exp(-abs(m))) + max(-m, 0.0) for m in margins]  # -log sigmoid(m), overflow-free
    return {
        "step": step,
        "epoch": round(step / steps, 4),
        "loss": round(sum(losses) / len(losses), 6) if losses else None,
        "rewards/margins": rounded_mean(margins),
        "rewards/accuracies": round(sum(m > 0 for m in margins) / len(margins), 4) if margins else None,
        "pairs_measured": len(margins),
    }


# Session headers name a client by its class's module; this stable path (a shim re-exporting this module) is the
# one written since agent-ft 0.1, so sessions recorded now replay with earlier releases too.
LocalLearningClient.__module__ = "agent_ft_cli.local"
