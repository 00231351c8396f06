"""Sessions (+ preference pairs) as rows of one format, streamed while a summary is kept."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..align import Aligned, Pair, SkipKind, align_pairs, normalize_pairs
from ..errors import SessionError, StrictError, UsageError
from ..session import WarnFn, choose_pair, load_session, read_header
from .formats import Format, Row, Tools, check_options, get_format
from .messages import Message, answer_message, convert_message, convert_thread, system_messages, tools_of
from .options import ExportOptions

__all__ = ["ExportSummary", "Exporter", "WarnFn"]


@dataclass
class ExportSummary:
    format: str
    out: str | None = None
    sessions: int = 0
    rows: int = 0
    pairs_total: int = 0
    pairs_tied: int = 0
    skipped_pairs: list[dict[str, Any]] = field(default_factory=list)
    skipped_sessions: list[dict[str, Any]] = field(default_factory=list)
    ties: list[dict[str, Any]] = field(default_factory=list)
    dataset: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "out": self.out,
            "dataset": self.dataset,
            "sessions": self.sessions,
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
            pairs, bad = normalize_pairs(prefs)
            self.pairs = pairs
            self.summary.pairs_total = len(pairs) + len(bad)
            for s in bad:
                self.summary.skipped_pairs.append({"pair": s.index, "reason": s.reason})
        self._remaining: list[Pair] = list(self.pairs)
        self._last_reason: dict[int, str] = {}
        self._first_system: list[Message] | None = None

    # -- per session -------------------------------------------------------------------------------------------
    def session_rows(self, path: Path) -> list[Row]:
        """The rows of one session (ties its pairs); a session that cannot be used is recorded and skipped."""
        try:
            header, _ = read_header(path)
            agent, peer = choose_pair(header, self.options.agent, self.options.peer, path=path)
            session = load_session(path, pairs=[(agent, peer)], strict=self.options.strict, on_warning=self.on_warning)
        except SessionError as e:
            self._skip_session(path, str(e))
            return []
        self.summary.sessions += 1
        thread = session.threads.get((agent, peer))
        if not thread:
            self._skip_session(path, f"no messages in thread {agent}->{peer}")
            return []
        system = system_messages(header, agent)
        tools = tools_of(header, agent)
        if self._first_system is None:
            self._first_system = system
        tied = self._tie(path, thread)
        return self._rows_for(path, thread, system, tools, tied)

    def _skip_session(self, path: Path, reason: str) -> None:
        if self.options.strict:  # nothing is written: the rows are streamed into an atomic writer
            raise StrictError(f"skipped session {path}: {reason}; {{strict}} refuses every skip", options=("strict",))
        self.summary.skipped_sessions.append({"session": str(path), "reason": reason})
        if self.on_warning is not None:
            self.on_warning(f"skipped session {path}: {reason}")

    def _tie(self, path: Path, thread: list[Message]) -> list[Aligned]:
        if not self._remaining:
            return []
        tied, skipped = align_pairs(self._remaining, thread)
        accepted = [t for t in tied if t.answer_index is not None]
        done = {t.pair.index for t in accepted}
        for s in skipped:
            if s.kind is not SkipKind.NOT_FOUND:  # not found here may still be found in a later session
                self._last_reason[s.index] = f"{path}: {s.reason}"
        self._remaining = [p for p in self._remaining if p.index not in done]
        for t in accepted:
            self.summary.ties.append(
                {"pair": t.pair.index, "session": str(path), "answer_index": t.answer_index, "prompt_index": t.prompt_index}
            )
        self.summary.pairs_tied += len(accepted)
        return accepted

    def finish_rows(self) -> list[Row]:
        """Rows for pairs tied to an explicit prompt only, then the report of pairs tied nowhere."""
        rows: list[Row] = []
        leftovers = self._remaining
        self._remaining = []
        system = self._first_system or []
        for pair in leftovers:
            if pair.prompt:
                tie = Aligned(pair, pair.prompt, None, None)
                self.summary.pairs_tied += 1
                self.summary.ties.append({"pair": pair.index, "session": None, "answer_index": None, "prompt_index": None})
                prompt = [*system, {"role": "user", "content": pair.prompt}]
                if self.format.pair_rows is not None:
                    rows.extend(self.format.pair_rows(tie, prompt, None, self.options))
                if self.format.thread_row is not None:
                    answer = answer_message(pair.chosen, self.format.style)
                    rows.append(self.format.thread_row([*prompt, answer], None, self.options))
            else:
                reason = self._last_reason.get(pair.index, "the rejected answer does not appear in any exported thread")
                self.summary.skipped_pairs.append({"pair": pair.index, "reason": reason})
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
        self, path: Path, thread: list[Message], system: list[Message], tools: Tools, tied: list[Aligned]
    ) -> list[Row]:
        style = self.format.style
        if self.format.thread_row is not None:
            by_answer = {t.answer_index: t for t in tied}
            converted: list[Message] = list(system)
            for i, m in enumerate(thread):
                t = by_answer.get(i)
                converted.extend([answer_message(t.pair.chosen, style)] if t is not None else convert_message(m, style))
            while converted and converted[-1].get("role") != "assistant":
                converted.pop()
            if not any(m.get("role") == "assistant" for m in converted):
                self._skip_session(path, "the thread has no assistant answer to train on")
                return []
            return [self.format.thread_row(converted, tools, self.options)]
        rows: list[Row] = []
        assert self.format.pair_rows is not None
        for t in tied:
            assert t.answer_index is not None
            prompt = system + convert_thread(thread[: t.answer_index], style)
            rows.extend(self.format.pair_rows(t, prompt, tools, self.options))
        return rows

    def rows(self, paths: Iterable[Path], on_session: Callable[[Path], None] | None = None) -> Iterator[Row]:
        for path in paths:
            yield from self.session_rows(path)
            if on_session is not None:
                on_session(path)
        yield from self.finish_rows()
