"""Sessions (+ preference pairs) as rows of one format, streamed while a summary is kept."""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import KeyedText, SessionError, SessionWarning, StrictError, UsageError
from ..jsonio import shaped
from ..session import OpenSession, Session, WarnFn, agent_def, choose_pair, open_session
from ..session.choice import PairChoiceError
from ..types import ExportSummaryDict, PairCounts, RawMessage, SkippedPairDict, SkippedSessionDict, TieDict
from .formats import PAIR_FORMATS, Format, Row, Tools, check_options, get_format
from .messages import (
    answer_message,
    convert_into,
    convert_thread,
    definitions_of,
    system_messages,
)
from .options import ExportOptions
from .sessions import ALL_AGENTS, model_threads, stream_conversations, thread_listing
from .small import SmallSessions
from .tool_pairs import refusal, tool_pair_problems

if TYPE_CHECKING:  # agent_ft_cli.align is imported with preference pairs only (start-up of a plain export)
    from ..align import Aligned, Pair

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
    #: sessions finished so far, skipped ones included (for progress; not part of :meth:`as_dict`)
    done: int = field(default=0, repr=False)

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

    @property
    def pairs(self) -> PairCounts:
        return {"total": self.pairs_total, "tied": self.pairs_tied, "skipped": len(self.skipped_pairs)}

    def as_dict(self) -> ExportSummaryDict:
        return shaped(self, ExportSummaryDict)  # type: ignore[no-any-return]


class Exporter:
    """Turns sessions into rows of one format; :meth:`rows` streams them while filling :attr:`summary`."""

    def __init__(
        self,
        options: ExportOptions,
        prefs: Any = None,
        *,
        on_warning: WarnFn | None = None,
        on_skip: Callable[[str, str, tuple[str, ...], str | None], None] | None = None,
    ) -> None:
        """``on_skip(label, reason, keys, hint)``: called instead of recording a skipped session (a worker process
        of ``--jobs`` hands its skips to the parent, which records them in order: :mod:`.parallel`)."""
        self.on_skip = on_skip
        self.format: Format = get_format(options.format)
        check_options(self.format, options)
        if prefs is None and self.format.needs_pairs:
            raise UsageError(
                f"{{format}} {options.format} needs preference pairs: pass {{prefs}}", options=("format", "prefs")
            )
        self.options = options
        self.on_warning = on_warning
        self.summary = ExportSummary(format=options.format)
        self.pairs: list[Pair] = []
        self.has_prefs = prefs is not None
        if prefs is not None:
            from ..align import normalize_pairs

            pairs, bad = normalize_pairs(prefs, labels=self.format.labels)
            self.pairs = pairs
            self.summary.pairs_total = len(pairs) + len(bad)
            for s in bad:
                self.summary.skipped_pairs.append({"pair": s.index, "reason": s.reason, "kind": s.kind.value})
        self._prompt_only: list[Aligned] = []
        self._first_system: list[RawMessage] | None = None
        self._fast: SmallSessions | bool | None = None
        self._skips = 0  # sessions skipped so far (recorded here or handed to on_skip)

    # -- sessions ----------------------------------------------------------------------------------------------
    def _open(self, source: SessionSource, on_warning: WarnFn | None) -> list[_Opened]:
        """One session's chosen thread (every model's thread for ``agent="all"``), its conversations streamed (the
        first one read already, so a session without any is known here; a file is opened once for one thread); a
        session that cannot be used is recorded, and gives none."""
        label = _label(source)
        opened: OpenSession | None = None
        strict = self.options.strict
        try:
            if isinstance(source, Session):
                header = source.header
            else:
                opened = open_session(source)
                header = opened.header
            if self.options.agent == ALL_AGENTS and agent_def(header, ALL_AGENTS) is None:
                if opened is not None:
                    opened.close()
                    opened = None
                pairs = model_threads(header, source, self.options.peer)
                streams = [stream_conversations(source, a, p, strict=strict, on_warning=on_warning) for a, p in pairs]
            elif opened is not None:
                pairs = [choose_pair(header, self.options.agent, self.options.peer, path=opened.path, holds=opened.holds)]
                streams = [opened.conversations(*pairs[0], strict=strict, on_warning=on_warning)]
            else:
                pairs = [choose_pair(header, self.options.agent, self.options.peer, path=Path(label))]
                streams = [stream_conversations(source, *pairs[0])]
            threads = []
            for (agent, peer), convs in zip(pairs, streams, strict=True):
                first = next(convs, None)
                if first is not None:
                    threads.append(_Opened(label, header, agent, itertools.chain([first], convs), peer))  # type: ignore[list-item, arg-type]  # recorded Messages are the dicts rows read
        except SessionError as e:  # its template, not its text: the keys it names stay fields the CLI spells
            if opened is not None:
                opened.close()
            reason, keys = e.template, e.options
            if isinstance(e, PairChoiceError):  # the threads to choose from, and the way to take them all
                listed = thread_listing(source, e.choices if e.option == "agent" else [e.agent or ""])
                every = f"; threads: {listed} ({{agent}} {ALL_AGENTS} exports every one)"
                reason = reason.replace("; pass ", every + "; pass ", 1) if "; pass " in reason else reason + every
                keys = tuple(dict.fromkeys((*keys, "agent")))
            self.skip_session(label, reason, keys, e.hint)
            return []
        if not threads:
            what = f"thread {pairs[0][0]}->{pairs[0][1]}" if len(pairs) == 1 else "any thread of an agent with a model"
            self.skip_session(label, f"no messages in {what}")
        return threads

    def warn(self, text: str) -> None:
        """A reader's warning about a session, as a single run gives it: to ``on_warning``, else a
        :class:`~agent_ft_cli.errors.SessionWarning`."""
        if self.on_warning is not None:
            self.on_warning(text)
        else:
            warnings.warn(text, SessionWarning, stacklevel=2)

    def skip_session(self, label: str | Path, reason: str, keys: tuple[str, ...] = (), hint: str | None = None) -> None:
        """Record a session that cannot be used; ``reason`` may name input keys as ``{key}`` fields (``keys``)."""
        self._skips += 1
        if self.on_skip is not None:
            self.on_skip(str(label), reason, tuple(keys), hint)
            return
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
        from ..align import Tying

        tying = Tying(self.pairs)
        usable: set[int] = set()
        for n, source in enumerate(sources):
            threads = self._open(source, self.on_warning)
            if not threads:
                continue
            try:
                for k, conv in enumerate(c for o in threads for c in o.convs):  # k: across the session's threads
                    tying.scan((n, k), conv)  # type: ignore[arg-type]  # recorded Messages are the dicts tying reads
            except SessionError as e:  # a damaged line past the first conversation: the session is skipped whole
                tying.forget(lambda label, n=n: label[0] == n)  # type: ignore[misc]
                self.skip_session(threads[0].label, e.template, e.options, e.hint)
                continue
            usable.add(n)
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
        self._refuse_skipped_pairs()  # decided before any row is built or written
        return by_thread, usable

    def _refuse_skipped_pairs(self) -> None:
        """The skipped pairs in pair order; under ``strict``, any of them is the one error."""
        skipped = self.summary.skipped_pairs
        skipped.sort(key=lambda s: s["pair"])
        if self.options.strict and skipped:
            first = skipped[0]
            raise StrictError(
                f"{len(skipped)} preference pair(s) skipped (pair {first['pair']}: {first['reason']}); {{strict}} "
                "refuses every skip",
                options=("strict",),
            )

    def finish_rows(self) -> list[Row]:
        """Rows for pairs tied to an explicit prompt only (asked in no exported conversation)."""
        rows: list[Row] = []
        system = self._first_system or []
        for tie in self._prompt_only:
            from ..align import prompt_thread

            pair = tie.pair
            self.summary.pairs_tied += 1
            self.summary.ties.append({"pair": pair.index, "session": None, "answer_index": None, "prompt_index": None})
            prompt = [*system, *convert_thread(prompt_thread(tie, []), self.format.style)]
            if self.format.pair_rows is not None:
                rows.extend(self.format.pair_rows(tie, prompt, None, self.options))
            if self.format.thread_row is not None:
                answer = answer_message(pair.chosen, self.format.style)
                rows.append(self.format.thread_row([*prompt, answer], None, self.options))
        self._prompt_only = []
        self._refuse_skipped_pairs()
        return rows

    # -- rows --------------------------------------------------------------------------------------------------
    def _rows_for(
        self, label: str, thread: Sequence[Mapping[str, Any]], system: list[RawMessage], tools: Tools, tied: list[Aligned]
    ) -> list[Row]:
        style = self.format.style
        if self.format.thread_row is not None:
            converted = self.converted(thread, system, tied)
            if not converted:  # (else it ends with an answer)
                return []
            if problems := tool_pair_problems(converted):  # a row never holds a result without its call
                self.skip_session(label, refusal(problems))
                return []
            return [self.format.thread_row(converted, tools, self.options)]
        from ..align import prompt_thread

        rows: list[Row] = []
        assert self.format.pair_rows is not None
        for t in tied:
            assert t.answer_index is not None
            prompt = system + convert_thread(prompt_thread(t, thread), style, speaker_names=self.options.speaker_names)  # type: ignore[arg-type]
            if problems := tool_pair_problems(prompt, prompt=True):  # a row never holds a result without its call
                self.skip_session(label, refusal(problems))
                continue
            rows.extend(self.format.pair_rows(t, prompt, tools, self.options))
        return rows

    def converted(self, thread: Sequence[Mapping[str, Any]], system: list[RawMessage], tied: list[Aligned]) -> list[RawMessage]:
        """A conversation as the messages of its row (a thread format): the system message(s), each message mapped
        to the format's, the chosen side of a tied pair in place of its answer, cut after the last answer (empty:
        no row)."""
        style = self.format.style
        converted: list[RawMessage] = list(system)
        instead = {t.answer_index: answer_message(t.pair.chosen, style) for t in tied} if tied else None
        convert_into(converted, thread, style, self.options.speaker_names, instead)  # type: ignore[arg-type]
        while converted and converted[-1].get("role") != "assistant":
            converted.pop()
        return converted

    def rows(
        self, sources: Iterable[SessionSource], on_session: Callable[[Path], None] | None = None
    ) -> Iterator[Row]:
        """Every row: each conversation of each session (oldest first), then the explicit-prompt-only rows.

        Rows leave as conversations end (one conversation in memory at a time). A session's first
        :data:`HELD_ROWS` rows are held until it ends, so a session with a damaged line among them is skipped whole
        (as one that does not open); past them its rows stream, and a damaged line later in it is an error naming
        the line. With preference pairs the sessions are read twice: once to tie every pair knowing every
        candidate answer (so a pair is never tied to a guessed question), once to build the rows.
        """
        sources = list(sources)
        by_thread: dict[tuple[int, int], list[Aligned]] = {}
        usable: set[int] | None = None
        if self.pairs:
            by_thread, usable = self._tie_all(sources)
        small = self._small() if usable is None else None
        summary = self.summary
        for n, source in enumerate(sources):
            got = small.rows(os.fspath(source)) if small is not None and not isinstance(source, Session) else None
            if got is not None:  # a small file whose header shape is known: what _session gives, in one read
                rows, convs, system = got
                self._opened(system, convs)
                summary.rows += len(rows)
                yield from rows
            elif usable is None or n in usable:
                yield from self._session(n, source, by_thread, None if usable is not None else self.on_warning)
            if on_session is not None:  # every session, used or skipped
                on_session(Path(_label(source)))
        for row in self.finish_rows():
            self.summary.rows += 1
            yield row

    def _session(
        self, n: int, source: SessionSource, by_thread: dict[tuple[int, int], list[Aligned]], warn: WarnFn | None
    ) -> Iterator[Row]:
        threads = self._open(source, warn)
        if not threads:
            return
        label = threads[0].label
        held: list[Row] | None = []
        convs = 0
        refused = self._skips  # (counted here, not in the summary: a --jobs worker hands its skips on)
        system: list[RawMessage] = []
        k = 0  # across the session's threads, as the tying pass counts
        try:
            for opened in threads:
                system = system_messages(opened.header, opened.agent)
                tools = definitions_of(opened.header, opened.agent, self.format.style)
                for c, conv in enumerate(opened.convs, 1):
                    convs += 1
                    where = f"{label} (thread {opened.agent}->{opened.peer}, conversation {c})"
                    for row in self._rows_for(where, conv, system, tools, by_thread.get((n, k), [])):
                        if held is None:
                            self.summary.rows += 1
                            yield row
                            continue
                        held.append(row)
                        if len(held) >= HELD_ROWS:  # from here on the session streams
                            self._opened(system, convs)
                            convs = 0
                            self.summary.rows += len(held)
                            yield from held
                            held = None
                    k += 1
        except SessionError as e:
            if held is None:
                e.hint = (e.hint + "; " if e.hint else "") + f"rows of {label} were streamed already"
                raise
            self.skip_session(label, e.template, e.options, e.hint)
            return
        if held is None:
            self.summary.conversations += convs
            return
        self._opened(system_messages(threads[0].header, threads[0].agent), convs)
        if not held and self.format.thread_row is not None and self._skips == refused:
            self.skip_session(label, "the thread has no assistant answer to train on")
        self.summary.rows += len(held)
        yield from held

    def _small(self) -> SmallSessions | None:
        """The small-files fast path (:mod:`.small`), when this export can take it: one thread per session, rows
        from whole threads, no preference pairs."""
        if self._fast is False:
            return None
        if self._fast is None:
            fits = self.format.thread_row is not None and not self.has_prefs and self.options.agent != ALL_AGENTS
            try:
                self._fast = SmallSessions(self) if fits else False
            except UsageError:  # an unreadable input limit: the general readers say so
                self._fast = False
        return self._fast if isinstance(self._fast, SmallSessions) else None

    def _opened(self, system: list[RawMessage], conversations: int) -> None:
        self.summary.sessions += 1
        self.summary.conversations += conversations
        if self._first_system is None:
            self._first_system = system


#: How many rows of a session are held until it ends (see :meth:`Exporter.rows`).
HELD_ROWS = 1000


@dataclass
class _Opened:
    label: str
    header: Mapping[str, Any]
    agent: str
    convs: Iterator[list[RawMessage]]
    peer: str = ""


def _label(source: SessionSource) -> str:
    return str(source.path) if isinstance(source, Session) else str(source)
