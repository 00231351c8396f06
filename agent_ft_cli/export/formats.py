"""The training formats, one row builder each, in one registry (:data:`FORMATS`).

A format builds its rows in one of two ways:

* from a **tied pair** (``pair_rows``): the conversation up to the answer the pair replaces is the prompt, the two
  sides are the answers (TRL preference and KTO, OpenAI DPO);
* from a **whole thread** (``thread_row``): one conversation per session, the chosen side in place of each tied
  rejected answer (TRL and OpenAI SFT).

Adding a format is one builder here plus one :data:`FORMATS` entry; its options (``standard``,
``train_last_only``) are declared on the entry and checked by the exporter, never by comparing names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import UsageError, either
from ..jsonio import to_json
from ..types import RawMessage
from .messages import Style, answer_message
from .options import ExportOptions

if TYPE_CHECKING:  # agent_ft_cli.align: imported by the pair formats when they build rows
    from ..align import Aligned

Row = dict[str, Any]
#: The definitions a row carries beside its messages: a list of tools, or by row key (``{"tools": [...]}``, and in
#: the OpenAI formats ``{"functions": [...]}`` for the legacy API: :func:`~.messages.definitions_of`); None: none.
Tools = list[Any] | dict[str, list[Any]] | None
PairRows = Callable[["Aligned", list[RawMessage], Tools, ExportOptions], list[Row]]
ThreadRow = Callable[[list[RawMessage], Tools, ExportOptions], Row]


@dataclass(frozen=True)
class Format:
    name: str
    style: Style
    pair_rows: PairRows | None = None
    thread_row: ThreadRow | None = None
    options: frozenset[str] = frozenset()  # the ExportOptions fields only this format reads
    labels: bool = False  # builds rows from labels too (a good or bad answer alone: agent_ft_cli.align.is_label)
    #: the row's columns, in order, each with how a dataset folder stores it (:func:`dataset_columns`)
    columns: tuple[tuple[str, str], ...] = ()

    @property
    def needs_pairs(self) -> bool:
        return self.pair_rows is not None


# -- pair formats ---------------------------------------------------------------------------------------------------


def _side_text(message: RawMessage) -> str:
    """One message of a conversation as plain text: its content, then its tool calls as ``name(arguments)``."""
    from ..align import text_of

    parts = [text_of(message) or ""] if text_of(message) else []
    for call in message.get("tool_calls") or []:
        fn = call.get("function") if isinstance(call, dict) else None
        if isinstance(fn, dict):
            args = fn.get("arguments")
            shown = args if isinstance(args, str) else to_json(args).decode()
            parts.append(f"[tool call] {fn.get('name')}({shown})")
    return "\n".join(parts)


_SPEAKER = {"user": "User", "assistant": "Assistant", "tool": "Tool", "function": "Tool"}


def standard_prompt(prompt: list[RawMessage]) -> str:
    """The whole prefix as one plain-text prompt (TRL's standard format): the system message first, then every turn
    as ``User: ...`` / ``Assistant: ...`` / ``Tool: ...`` blocks, ending in ``Assistant:``; the answers then start
    with a space, as TRL's standard preference rows do (``{"prompt": "The sky is", "chosen": " blue."}``)."""
    blocks: list[str] = []
    for m in prompt:
        role = m.get("role")
        text = _side_text(m)
        if role == "system":
            blocks.append(text)
        else:
            blocks.append(f"{_SPEAKER.get(str(role), str(role).title())}: {text}".rstrip())
    blocks.append("Assistant:")
    return "\n\n".join(b for b in blocks if b)


def standard_answer(message: RawMessage) -> str:
    """An answer continuing :func:`standard_prompt`: its text after one separating space."""
    return " " + _side_text(message).lstrip()


def _with_tools(row: Row, tools: Tools) -> Row:
    for key, value in ({"tools": tools} if isinstance(tools, list) else tools or {}).items():
        if value:
            row[key] = value  # "tools": the column TRL's trainers pass to the chat template
    return row


def trl_preference(tie: Aligned, prompt: list[RawMessage], tools: Tools, options: ExportOptions) -> list[Row]:
    chosen, rejected = answer_message(tie.pair.chosen, Style.TRL), answer_message(tie.pair.rejected, Style.TRL)
    if options.standard:
        return [{"prompt": standard_prompt(prompt), "chosen": standard_answer(chosen), "rejected": standard_answer(rejected)}]
    return [_with_tools({"prompt": prompt, "chosen": [chosen], "rejected": [rejected]}, tools)]


def trl_kto(tie: Aligned, prompt: list[RawMessage], tools: Tools, options: ExportOptions) -> list[Row]:
    if tie.pair.label is not None:  # a label: its one row
        completion = answer_message(tie.pair.rejected, Style.TRL)
        return [_with_tools({"prompt": prompt, "completion": [completion], "label": tie.pair.label}, tools)]
    chosen, rejected = answer_message(tie.pair.chosen, Style.TRL), answer_message(tie.pair.rejected, Style.TRL)
    return [
        _with_tools({"prompt": prompt, "completion": [chosen], "label": True}, tools),
        _with_tools({"prompt": prompt, "completion": [rejected], "label": False}, tools),
    ]


def openai_dpo(tie: Aligned, prompt: list[RawMessage], tools: Tools, options: ExportOptions) -> list[Row]:
    chosen, rejected = answer_message(tie.pair.chosen, Style.OPENAI), answer_message(tie.pair.rejected, Style.OPENAI)
    inp: dict[str, Any] = _with_tools({"messages": prompt}, tools)
    return [{"input": inp, "preferred_output": [chosen], "non_preferred_output": [rejected]}]


# -- thread formats -------------------------------------------------------------------------------------------------


def trl_sft(messages: list[RawMessage], tools: Tools, options: ExportOptions) -> Row:
    return _with_tools({"messages": messages}, tools)


def openai_sft(messages: list[RawMessage], tools: Tools, options: ExportOptions) -> Row:
    if options.train_last_only:
        last = max(i for i, m in enumerate(messages) if m.get("role") == "assistant")
        messages = [{**m, "weight": 0} if m.get("role") == "assistant" and i != last else m for i, m in enumerate(messages)]
    return trl_sft(messages, tools, options)


_M, _O = "messages", "object"  # a list of objects (messages, tools), one object: each kept as its own JSON text
_TOOLS = (("tools", _M),)
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("trl-preference", Style.TRL, pair_rows=trl_preference, options=frozenset({"standard"}),
               columns=(("prompt", _M), ("chosen", _M), ("rejected", _M), *_TOOLS)),
        Format("trl-sft", Style.TRL, thread_row=trl_sft, columns=(("messages", _M), *_TOOLS)),
        Format("trl-kto", Style.TRL, pair_rows=trl_kto, labels=True,
               columns=(("prompt", _M), ("completion", _M), ("label", "bool"), *_TOOLS)),
        Format("openai-sft", Style.OPENAI, thread_row=openai_sft, options=frozenset({"train_last_only"}),
               columns=(("messages", _M), *_TOOLS, ("functions", _M))),
        Format("openai-dpo", Style.OPENAI, pair_rows=openai_dpo,
               columns=(("input", _O), ("preferred_output", _M), ("non_preferred_output", _M))),
    )
}


def dataset_columns(format: Format, options: ExportOptions) -> dict[str, str]:
    """The columns of ``format``'s rows and how a dataset folder stores each: ``"messages"`` (a list of objects, each
    its own JSON text: ``List(Json())``), ``"object"`` (``Json()``), ``"string"`` or ``"bool"``. Declared per
    format, so shards written as rows stream all have one schema."""
    columns = dict(format.columns)
    if "standard" in format.options and options.standard:  # TRL's standard preference rows: plain text
        columns = {"prompt": "string", "chosen": "string", "rejected": "string"}
    return columns

#: The names of the formats built from preference pairs.
PAIR_FORMATS = tuple(name for name, f in FORMATS.items() if f.needs_pairs)


def row_line(row: Row) -> bytes:
    """A row as its JSON Lines line: plain orjson (the rows' own JSON types), else the one serializer
    (:func:`~agent_ft_cli.jsonio.to_json`, which writes what orjson cannot) for the rare row that needs it; the
    same bytes either way."""
    try:
        return orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)
    except (TypeError, ValueError, RecursionError):
        return to_json(row) + b"\n"


def formats_text() -> str:
    """The format names for help text: ``"a, b or c"``."""
    return either(list(FORMATS))


def get_format(name: str) -> Format:
    """The registered format called ``name``; an unknown name is a one-line error naming the choices."""
    try:
        return FORMATS[name]
    except KeyError:
        raise UsageError(f"{{format}} {name!r} is not one of: {', '.join(FORMATS)}", options=("format",)) from None


SPEAKER_NAMES = ("keep", "prefix")


def check_options(format: Format, options: ExportOptions) -> None:
    """Refuse a format-specific option set for a format that does not read it, and an unknown ``speaker_names``."""
    if options.speaker_names is not None and options.speaker_names not in SPEAKER_NAMES:
        raise UsageError(
            f"{{speaker_names}} {options.speaker_names!r} is not one of: {', '.join(SPEAKER_NAMES)}",
            options=("speaker_names",),
        )
    for key in ("standard", "train_last_only"):
        if getattr(options, key) and key not in format.options:
            takers = " or ".join(n for n, f in FORMATS.items() if key in f.options)
            raise UsageError(f"{{{key}}} applies to {{format}} {takers} only", options=(key, "format"))
