"""Sessions (+ preference pairs) out as training data: TRL and OpenAI fine-tuning formats.

The thread exported is the updated agent's view (``agent.chat_messages[peer]``, chosen with
:func:`~agent_ft_cli.session.choose_pair`): its own answers have role ``assistant``, what it received role ``user``.
The agent's system message (from the session header) comes first. Each preference pair is tied to the prompt it
answers by :mod:`agent_ft_cli.align` (the same code the bundled local model learns with); a pair that cannot be tied
is reported in the summary with its reason, never dropped silently.

Message mapping (documented in ``docs/export-import.md``):

* an autogen tool result is ONE message ``{"role": "tool", "tool_responses": [...], "content": "a\\n\\nb"}``; it
  becomes one ``{"role": "tool", "tool_call_id": ..., "content": ...}`` message per response (the joined
  ``content`` is dropped, it only repeats the responses);
* ``tool_calls`` are kept in OpenAI form (``id``, ``type``, ``function.name``, ``function.arguments`` as a JSON
  string); ``function_call`` and role ``function`` messages (the legacy API) are kept as they are;
* ``name``: kept by the OpenAI formats on system/user/assistant messages when it matches OpenAI's
  ``^[a-zA-Z0-9_-]{1,64}$``, dropped otherwise and always dropped by the TRL formats;
* ``content: null`` next to tool calls: omitted by the OpenAI formats, ``""`` in the TRL formats;
* anything else autogen keeps on a message (``context``, ``override_role`` ...) is dropped.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .align import Aligned, Pair, align_pairs, normalize_pairs, text_of
from .errors import InputDataError, SessionError, UsageError
from .session import agent_def, choose_pair, load_session, read_header

Message = dict[str, Any]
Row = dict[str, Any]
WarnFn = Callable[[str], None]

FORMATS = ("trl-preference", "trl-sft", "trl-kto", "openai-sft", "openai-dpo")
PAIR_FORMATS = ("trl-preference", "trl-kto", "openai-dpo")
_OPENAI_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_GLOB = re.compile(r"[*?\[]")


# ---------------------------------------------------------------------------------------------------------------
# messages


def _is_openai(fmt: str) -> bool:
    return fmt.startswith("openai")


def _tool_call(call: Any) -> Any:
    if not isinstance(call, dict):
        return call
    out: dict[str, Any] = {}
    if call.get("id") is not None:
        out["id"] = call["id"]
    out["type"] = call.get("type") or "function"
    fn = call.get("function")
    if isinstance(fn, dict):
        args = fn.get("arguments", "")
        if not isinstance(args, str):
            from .jsonio import to_json

            args = to_json(args).decode()
        out["function"] = {"name": fn.get("name"), "arguments": args}
    elif fn is not None:
        out["function"] = fn
    return out


def _content(value: Any) -> Any:
    if value is None or isinstance(value, (str, list)):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    from .jsonio import to_json

    return to_json(value).decode()


def convert_message(message: Message, fmt: str) -> list[Message]:
    """One autogen message as the messages a format wants (a tool result becomes one message per response)."""
    openai = _is_openai(fmt)
    role = message.get("role")
    responses = message.get("tool_responses")
    if isinstance(responses, list) and responses:
        out: list[Message] = []
        for r in responses:
            if not isinstance(r, dict):
                continue
            m: Message = {"role": "tool"}
            if r.get("tool_call_id") is not None:
                m["tool_call_id"] = r["tool_call_id"]
            m["content"] = _content(r.get("content")) or ""
            out.append(m)
        if role != "tool":  # autogen sends such a parent message to the model after its responses
            rest = {k: v for k, v in message.items() if k != "tool_responses"}
            out.extend(convert_message(rest, fmt))
        return out
    if role == "tool":
        m = {"role": "tool"}
        if message.get("tool_call_id") is not None:
            m["tool_call_id"] = message["tool_call_id"]
        m["content"] = _content(message.get("content")) or ""
        return [m]
    if role == "function":
        return [{"role": "function", "name": message.get("name"), "content": _content(message.get("content")) or ""}]
    m = {"role": role if isinstance(role, str) else "user"}
    content = _content(message.get("content"))
    calls = message.get("tool_calls")
    if content is None:
        if not openai:
            m["content"] = ""
    else:
        m["content"] = content
    if calls:
        m["tool_calls"] = [_tool_call(c) for c in calls]
    if message.get("function_call"):
        m["function_call"] = message["function_call"]
    name = message.get("name")
    if openai and isinstance(name, str) and _OPENAI_NAME.match(name):
        m["name"] = name
    return [m]


def convert_thread(messages: Iterable[Message], fmt: str) -> list[Message]:
    out: list[Message] = []
    for m in messages:
        out.extend(convert_message(m, fmt))
    return out


def answer_message(side: Any, fmt: str) -> Message:
    """A preference side (text or message dict) as one assistant message."""
    if isinstance(side, dict):
        converted = convert_message({**side, "role": "assistant"}, fmt)
        msg = converted[0]
        msg.pop("name", None)
        return msg
    return {"role": "assistant", "content": text_of(side) or ""}


def system_messages(header: dict[str, Any], agent: str) -> list[Message]:
    definition = agent_def(header, agent) or {}
    text = definition.get("system_message")
    if isinstance(text, str) and text:
        return [{"role": "system", "content": text}]
    if isinstance(text, list) and text:  # some autogen versions keep a list of system messages
        return [{"role": "system", "content": text_of(t) or ""} for t in text]
    return []


def tools_of(header: dict[str, Any], agent: str) -> list[Any] | None:
    cfg = (agent_def(header, agent) or {}).get("llm_config")
    tools = cfg.get("tools") if isinstance(cfg, dict) else None
    return list(tools) if isinstance(tools, list) and tools else None


# ---------------------------------------------------------------------------------------------------------------
# inputs


def expand_sessions(items: Iterable[Path | str]) -> list[Path]:
    """Session arguments as files: a file, a folder (its ``*.jsonl``) or a glob pattern, in order, no duplicates."""
    seen: set[Path] = set()
    out: list[Path] = []
    for item in items:
        text = str(item)
        p = Path(text)
        if p.is_dir():
            found = sorted(p.glob("*.jsonl"))
            if not found:
                raise UsageError(f"--session {text!r}: folder holds no *.jsonl session files")
        elif not p.exists() and _GLOB.search(text):
            found = sorted(Path(f) for f in glob.glob(text, recursive=True) if Path(f).is_file())
            if not found:
                raise UsageError(f"--session {text!r}: pattern matches no files")
        else:
            if not p.exists():
                raise SessionError(f"session file {text!r} does not exist")
            found = [p]
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                out.append(f)
    if not out:
        raise UsageError("give at least one --session")
    return out


# ---------------------------------------------------------------------------------------------------------------
# export


@dataclass
class ExportOptions:
    format: str
    standard: bool = False
    train_last_only: bool = False
    agent: str | None = None
    peer: str | None = None
    strict: bool = False


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
        if options.format not in FORMATS:
            raise UsageError(f"--format {options.format!r} is not one of: {', '.join(FORMATS)}")
        if options.standard and options.format != "trl-preference":
            raise UsageError("--standard applies to --format trl-preference only")
        if options.train_last_only and options.format != "openai-sft":
            raise UsageError("--train-last-only applies to --format openai-sft only")
        if prefs is None and options.format in PAIR_FORMATS:
            raise UsageError(f"--format {options.format} needs preference pairs: pass --prefs")
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
            if "does not appear" not in s.reason:
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
                rows.extend(self._pair_rows(tie, prompt, None))
                if self.fmt in ("trl-sft", "openai-sft"):
                    rows.append(self._sft_row([*prompt, answer_message(pair.chosen, self.fmt)], None))
            else:
                reason = self._last_reason.get(pair.index, "the rejected answer does not appear in any exported thread")
                self.summary.skipped_pairs.append({"pair": pair.index, "reason": reason})
        self.summary.skipped_pairs.sort(key=lambda s: s["pair"])
        return rows

    # -- rows --------------------------------------------------------------------------------------------------
    def _rows_for(
        self, path: Path, thread: list[Message], system: list[Message], tools: list[Any] | None, tied: list[Aligned]
    ) -> list[Row]:
        fmt = self.fmt
        if fmt in ("trl-sft", "openai-sft"):
            by_answer = {t.answer_index: t for t in tied}
            converted: list[Message] = list(system)
            for i, m in enumerate(thread):
                t = by_answer.get(i)
                converted.extend([answer_message(t.pair.chosen, fmt)] if t is not None else convert_message(m, fmt))
            while converted and converted[-1].get("role") != "assistant":
                converted.pop()
            if not any(m.get("role") == "assistant" for m in converted):
                self._skip_session(path, "the thread has no assistant answer to train on")
                return []
            return [self._sft_row(converted, tools)]
        rows: list[Row] = []
        for t in tied:
            assert t.answer_index is not None
            prompt = system + convert_thread(thread[: t.answer_index], fmt)
            rows.extend(self._pair_rows(t, prompt, tools))
        return rows

    def _sft_row(self, messages: list[Message], tools: list[Any] | None) -> Row:
        if self.fmt == "openai-sft" and self.options.train_last_only:
            last = max(i for i, m in enumerate(messages) if m.get("role") == "assistant")
            messages = [
                {**m, "weight": 0} if m.get("role") == "assistant" and i != last else m for i, m in enumerate(messages)
            ]
        row: Row = {"messages": messages}
        if tools:
            row["tools"] = tools
        return row

    def _pair_rows(self, tie: Aligned, prompt: list[Message], tools: list[Any] | None) -> list[Row]:
        fmt = self.fmt
        chosen = answer_message(tie.pair.chosen, fmt)
        rejected = answer_message(tie.pair.rejected, fmt)
        if fmt == "trl-preference":
            if self.options.standard:
                return [{"prompt": tie.prompt, "chosen": text_of(tie.pair.chosen) or "", "rejected": text_of(tie.pair.rejected) or ""}]
            return [{"prompt": prompt, "chosen": [chosen], "rejected": [rejected]}]
        if fmt == "trl-kto":
            return [
                {"prompt": prompt, "completion": [chosen], "label": True},
                {"prompt": prompt, "completion": [rejected], "label": False},
            ]
        if fmt == "openai-dpo":
            inp: dict[str, Any] = {"messages": prompt}
            if tools:
                inp["tools"] = tools
            return [{"input": inp, "preferred_output": [chosen], "non_preferred_output": [rejected]}]
        return []

    def rows(self, paths: Iterable[Path], on_session: Callable[[Path], None] | None = None) -> Iterator[Row]:
        for path in paths:
            yield from self.session_rows(path)
            if on_session is not None:
                on_session(path)
        yield from self.finish_rows()


# ---------------------------------------------------------------------------------------------------------------
# writing


def is_dataset_dir(out: Path | str) -> bool:
    """``--out folder/`` (or an existing folder) asks for a Hugging Face dataset instead of a JSONL file."""
    return str(out).endswith(("/", "\\")) or Path(out).is_dir()


def export(
    sessions: list[Path],
    out: Path | str,
    options: ExportOptions,
    prefs: Any = None,
    *,
    on_warning: WarnFn | None = None,
    on_session: Callable[[Path], None] | None = None,
) -> ExportSummary:
    """Write the rows of ``sessions`` to ``out`` (JSON Lines, atomically) or, for a folder, a HF dataset."""
    from .fsutil import atomic_writer, check_output_path
    from .jsonio import to_json

    exporter = Exporter(options, prefs, on_warning=on_warning)
    as_dataset = is_dataset_dir(out)
    if as_dataset:
        try:
            import datasets  # noqa: F401
        except ImportError:
            raise UsageError(
                f"--out {str(out)!r} is a folder: saving a Hugging Face dataset needs the 'datasets' library "
                "(pip install datasets), or give a .jsonl file name"
            ) from None
        parent = Path(str(out).rstrip("/\\")).parent
        if not parent.is_dir():
            raise UsageError(f"--out {str(out)!r}: folder {str(parent)!r} does not exist; create it first")
        rows = list(exporter.rows(sessions, on_session))
        if not rows:
            raise InputDataError(_nothing(exporter.summary))
        _save_dataset(rows, Path(str(out).rstrip("/\\")))
        exporter.summary.rows = len(rows)
        exporter.summary.dataset = str(out)
        return exporter.summary
    out = Path(out)
    check_output_path(out, option="--out")
    if out.exists() and any(out.resolve() == s.resolve() for s in sessions):
        raise UsageError(f"--out {str(out)!r} is also a --session; write to another file")
    with atomic_writer(out) as fh:
        n = 0
        for row in exporter.rows(sessions, on_session):
            fh.write(to_json(row) + b"\n")
            n += 1
        if n == 0:
            raise InputDataError(_nothing(exporter.summary))
    exporter.summary.rows = n
    exporter.summary.out = str(out)
    return exporter.summary


def _nothing(summary: ExportSummary) -> str:
    why = ""
    if summary.skipped_pairs:
        first = summary.skipped_pairs[0]
        why = f"; pair {first['pair']}: {first['reason']}"
    elif summary.skipped_sessions:
        first = summary.skipped_sessions[0]
        why = f"; {first['reason']}"
    return f"nothing to export: no row could be built for --format {summary.format} (output not written){why}"


def _save_dataset(rows: list[Row], folder: Path) -> None:  # pragma: no cover - needs the optional 'datasets'
    import datasets

    datasets.Dataset.from_list(rows).save_to_disk(str(folder))
