"""Sessions (+ preference pairs) as rows of one format, streamed while a summary is kept."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..align import Aligned, Pair, Tying, normalize_pairs
from ..errors import KeyedText, SessionError, StrictError, UsageError
from ..session import Session, WarnFn, choose_pair, read_header
from ..session.choice import PairChoiceError
from ..types import ExportSummaryDict, SkippedPairDict, SkippedSessionDict, TieDict
from .formats import PAIR_FORMATS, Format, Row, Tools, check_options, get_format
from .messages import (
    Message,
    Style,
    answer_message,
    convert_message,
    convert_thread,
    definitions_of,
    legacy_call_ids,
    system_messages,
)
from .options import ExportOptions
from .sessions import ALL_AGENTS, conversations, model_threads, thread_listing
from .tool_pairs import refusal, tool_pair_problems

SessionSource = Path | str | Session

__all__ = ["ExportSummary", "Exporter", "WarnFn"]


@dataclass
class ExportSummary:
    format: str
    out: str | None = None
    sessions: int = 0
    conversations: int = 0
    rows: int = 0
    pairs_total: int = 0
    pairs_tied: int = 0
    skipped_pairs: list[SkippedPairDict] = field(default_factory=list)
    skipped_sessions: list[SkippedSessionDict] = field(default_factory=list)
    ties: list[TieDict] = field(default_factory=list)
    dataset: str | None = None

    def nothing_built(self, *, output: bool) -> str:
        """Why no row at all could be built (the first skipped pair's reason, else the first skipped session's, else
        empty preference data), as the one-line error; ``output``: a file was asked for (and is not written)."""
        why = ""
        if self.skipped_pairs:
            pair = self.skipped_pairs[0]
            why = f"; pair {pair['pair']}: {pair['reason']}"
        elif self.skipped_sessions:
            why = f"; {self.skipped_sessions[0]['reason']}"
        elif self.pairs_total == 0 and self.format in PAIR_FORMATS:
            why = "; the preference data hold no pair"
        written = " (output not written)" if output else ""
        return f"nothing to export: no row could be built for {{format}} {self.format}{written}{why}"

    def as_dict(self) -> ExportSummaryDict:
        return {
            "format": self.format,
            "out": self.out,
            "dataset": self.dataset,
            "sessions": self.sessions,
            "conversations": self.conversations,
            "rows": self.rows,
            "pairs": {"total": self.pairs_total, "tied": self.pairs_tied, "skipped": len(self.skipped_pairs)},
            "skipped_pairs": self.skipped_pairs,
            "skipped_sessions": self.skipped_sessions,
            "ties": self.ties,
        }


class Exporter:
    """Turns sessions into rows of one format; :meth:`rows` streams them while filling :attr:`summary`."""

    def __init__(self, options: ExportOptions, prefs: Any = None, *, on_warning: WarnFn | None = None) -> None:
        self.format: Format = get_format(options.format)
        check_options(self.format, options)
        if prefs is None and self.format.needs_pairs:
            raise UsageError(
                f"{{format}} {options.format} needs preference pairs: pass {{prefs}}", options=("format", "prefs")
            )
        self.options = options
        self.fmt = options.format
        self.on_warning = on_warning
        self.summary = ExportSummary(format=options.format)
        self.pairs: list[Pair] = []
        self.has_prefs = prefs is not None
        if prefs is not None:
            pairs, bad = normalize_pairs(prefs, labels=self.format.labels)
            self.pairs = pairs
            self.summary.pairs_total = len(pairs) + len(bad)
            for s in bad:
                self.summary.skipped_pairs.append({"pair": s.index, "reason": s.reason, "kind": s.kind.value})
        self._prompt_only: list[Aligned] = []
        self._first_system: list[Message] | None = None

    # -- sessions ----------------------------------------------------------------------------------------------
    def _open(self, source: SessionSource, on_warning: WarnFn | None) -> list[_Opened]:
        """The conversations of one session's chosen thread (every model's thread for ``agent="all"``); a session
        that cannot be used is recorded, and gives none."""
        label = _label(source)
        try:
            if isinstance(source, Session):
                header = source.header
            else:
                header, _ = read_header(source)
            if self.options.agent == ALL_AGENTS and not any(a.get("name") == ALL_AGENTS for a in header.get("agents") or []):
                pairs = model_threads(header, source, self.options.peer)
            else:
                pairs = [choose_pair(header, self.options.agent, self.options.peer, path=Path(label))]
            opened = [
                _Opened(label, header, a, conversations(source, a, p, strict=self.options.strict, on_warning=on_warning), p)
                for a, p in pairs
            ]
        except SessionError as e:  # its template, not its text: the keys it names stay fields the CLI spells
            reason, keys = e.template, e.options
            if isinstance(e, PairChoiceError):  # the threads to choose from, and the way to take them all
                listed = thread_listing(source, e.choices if e.option == "agent" else [e.agent or ""])
                every = f"; threads: {listed} ({{agent}} {ALL_AGENTS} exports every one)"
                reason = reason.replace("; pass ", every + "; pass ", 1) if "; pass " in reason else reason + every
                keys = tuple(dict.fromkeys((*keys, "agent")))
            self._skip_session(label, reason, keys, e.hint)
            return []
        if not any(o.convs for o in opened):
            what = f"thread {pairs[0][0]}->{pairs[0][1]}" if len(pairs) == 1 else "any thread of an agent with a model"
            self._skip_session(label, f"no messages in {what}")
            return []
        return [o for o in opened if o.convs]

    def _skip_session(self, label: str | Path, reason: str, keys: tuple[str, ...] = (), hint: str | None = None) -> None:
        """Record a session that cannot be used; ``reason`` may name input keys as ``{key}`` fields (``keys``)."""
        if self.options.strict:  # nothing is written: the rows are streamed into an atomic writer
            why = "" if "{strict}" in reason else "; {strict} refuses every skip"  # the reason may say it already
            raise StrictError(
                f"skipped session {label}: {reason}{why}",
                hint=hint,
                options=tuple(dict.fromkeys(("strict", *keys))),
            )
        if reason.startswith(f"{label}: "):  # the reader's message names the file already
            reason = reason[len(f"{label}: ") :]
        text = str(SessionError(reason, hint=hint, options=keys))  # the library's spelling: the bare keys
        self.summary.skipped_sessions.append({"session": str(label), "reason": text})
        if self.on_warning is not None:  # the command line spells the keys as flags (KeyedText.error)
            self.on_warning(KeyedText.of(SessionError(f"skipped session {label}: {reason}", hint=hint, options=keys)))

    def _tie_all(self, sources: list[SessionSource]) -> tuple[dict[tuple[int, int], list[Aligned]], set[int]]:
        """First pass (only with pairs): every conversation of every session scanned, then the pairs tied once."""
        tying = Tying(self.pairs)
        usable: set[int] = set()
        for n, source in enumerate(sources):
            opened = self._open(source, self.on_warning)
            if opened:
                usable.add(n)
            for k, conv in enumerate(c for o in opened for c in o.convs):  # k: across the session's threads
                tying.scan((n, k), conv)  # type: ignore[arg-type]  # recorded Messages are the dicts tying reads
        tied, skipped = tying.resolve()
        by_thread: dict[tuple[int, int], list[Aligned]] = {}
        for t in tied:
            if t.answer_index is None:
                self._prompt_only.append(t)
                continue
            by_thread.setdefault(t.thread, []).append(t)
            n, k = t.thread
            self.summary.ties.append(
                {
                    "pair": t.pair.index,
                    "session": _label(sources[n]),
                    "conversation": k,
                    "answer_index": t.answer_index,
                    "prompt_index": t.prompt_index,
                }
            )
        self.summary.pairs_tied += len(tied) - len(self._prompt_only)
        for s in skipped:
            reason = s.reason.replace("does not appear in the thread", "does not appear in any exported thread")
            self.summary.skipped_pairs.append({"pair": s.index, "reason": reason, "kind": s.kind.value})
        if self.options.strict and self.summary.skipped_pairs:  # decided before any row is built or written
            self.summary.skipped_pairs.sort(key=lambda s: s["pair"])
            first, n = self.summary.skipped_pairs[0], len(self.summary.skipped_pairs)
            raise StrictError(
                f"{n} preference pair(s) skipped (pair {first['pair']}: {first['reason']}); {{strict}} refuses every "
                "skip",
                options=("strict",),
            )
        return by_thread, usable

    def finish_rows(self) -> list[Row]:
        """Rows for pairs tied to an explicit prompt only (asked in no exported conversation)."""
        rows: list[Row] = []
        system = self._first_system or []
        for tie in self._prompt_only:
            pair = tie.pair
            self.summary.pairs_tied += 1
            self.summary.ties.append({"pair": pair.index, "session": None, "answer_index": None, "prompt_index": None})
            prompt = [*system, {"role": "user", "content": tie.prompt}]
            if self.format.pair_rows is not None:
                rows.extend(self.format.pair_rows(tie, prompt, None, self.options))
            if self.format.thread_row is not None:
                answer = answer_message(pair.chosen, self.format.style)
                rows.append(self.format.thread_row([*prompt, answer], None, self.options))
        self._prompt_only = []
        self.summary.skipped_pairs.sort(key=lambda s: s["pair"])
        if self.options.strict and self.summary.skipped_pairs:
            first = self.summary.skipped_pairs[0]
            n = len(self.summary.skipped_pairs)
            raise StrictError(
                f"{n} preference pair(s) skipped (pair {first['pair']}: {first['reason']}); {{strict}} refuses every "
                "skip",
                options=("strict",),
            )
        return rows

    # -- rows --------------------------------------------------------------------------------------------------
    def _rows_for(
        self, label: str, thread: Sequence[Mapping[str, Any]], system: list[Message], tools: Tools, tied: list[Aligned]
    ) -> list[Row]:
        style = self.format.style
        if self.format.thread_row is not None:
            by_answer = {t.answer_index: t for t in tied}
            converted: list[Message] = list(system)
            ids = legacy_call_ids(thread) if style is Style.TRL else {}
            for i, m in enumerate(thread):
                t = by_answer.get(i)
                if t is not None:
                    converted.append(answer_message(t.pair.chosen, style))
                else:
                    converted.extend(convert_message(m, style, ids.get(i), speaker_names=self.options.speaker_names))
            while converted and converted[-1].get("role") != "assistant":
                converted.pop()
            if not any(m.get("role") == "assistant" for m in converted):
                return []
            if problems := tool_pair_problems(converted):  # a row never holds a result without its call
                self._skip_session(label, refusal(problems))
                return []
            return [self.format.thread_row(converted, tools, self.options)]
        rows: list[Row] = []
        assert self.format.pair_rows is not None
        for t in tied:
            assert t.answer_index is not None
            prompt = system + convert_thread(thread[: t.answer_index], style, speaker_names=self.options.speaker_names)
            if problems := tool_pair_problems(prompt, prompt=True):  # a row never holds a result without its call
                self._skip_session(label, refusal(problems))
                continue
            rows.extend(self.format.pair_rows(t, prompt, tools, self.options))
        return rows

    def rows(
        self, sources: Iterable[SessionSource], on_session: Callable[[Path], None] | None = None
    ) -> Iterator[Row]:
        """Every row: each conversation of each session (oldest first), then the explicit-prompt-only rows.

        With preference pairs the sessions are read twice: once to tie every pair knowing every candidate answer
        (so a pair is never tied to a guessed question), once to build the rows; memory stays one session.
        """
        sources = list(sources)
        by_thread: dict[tuple[int, int], list[Aligned]] = {}
        usable: set[int] | None = None
        if self.pairs:
            by_thread, usable = self._tie_all(sources)
        for n, source in enumerate(sources):
            if usable is not None and n not in usable:
                continue
            threads = self._open(source, None if usable is not None else self.on_warning)
            if not threads:
                continue
            self.summary.sessions += 1
            got = k = 0
            refused = len(self.summary.skipped_sessions)
            for opened in threads:
                system = system_messages(opened.header, opened.agent)
                tools = definitions_of(opened.header, opened.agent, self.format.style)
                if self._first_system is None:
                    self._first_system = system
                for c, conv in enumerate(opened.convs, 1):
                    self.summary.conversations += 1
                    where = f"{opened.label} (thread {opened.agent}->{opened.peer}, conversation {c})"
                    for row in self._rows_for(where, conv, system, tools, by_thread.get((n, k), [])):
                        got += 1
                        self.summary.rows += 1
                        yield row
                    k += 1
            if got == 0 and self.format.thread_row is not None and len(self.summary.skipped_sessions) == refused:
                self._skip_session(threads[0].label, "the thread has no assistant answer to train on")
            if on_session is not None:
                on_session(Path(threads[0].label))
        for row in self.finish_rows():
            self.summary.rows += 1
            yield row

    def session_rows(self, source: SessionSource) -> list[Row]:
        """The rows of one session alone (its pairs tied within it), then its explicit-prompt-only rows."""
        return list(self.rows([source]))


@dataclass
class _Opened:
    label: str
    header: Mapping[str, Any]
    agent: str
    convs: Sequence[Sequence[Mapping[str, Any]]]
    peer: str = ""


def _label(source: SessionSource) -> str:
    return str(source.path) if isinstance(source, Session) else str(source)
