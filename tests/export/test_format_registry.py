"""The format registry: each format once, with its row builder and its own options; an unknown format or an option
for another format is one line naming the choices, in the library's words (the CLI spells the flags)."""

from __future__ import annotations

import pytest

from agent_ft_cli.align import Aligned, Pair
from agent_ft_cli.errors import UsageError
from agent_ft_cli.export import FORMATS, PAIR_FORMATS, Exporter, ExportOptions, Style, formats_text, get_format

NAMES = ("trl-preference", "trl-sft", "trl-kto", "openai-sft", "openai-dpo")


def test_each_format_once_with_one_builder() -> None:
    assert tuple(FORMATS) == NAMES
    assert PAIR_FORMATS == ("trl-preference", "trl-kto", "openai-dpo")
    assert formats_text() == "trl-preference, trl-sft, trl-kto, openai-sft or openai-dpo"
    for name, fmt in FORMATS.items():
        assert fmt.name == name and (fmt.pair_rows is None) != (fmt.thread_row is None)
        assert fmt.style is (Style.OPENAI if name.startswith("openai") else Style.TRL)


def test_unknown_format_is_one_line_naming_the_choices() -> None:
    with pytest.raises(UsageError) as info:
        Exporter(ExportOptions(format="nope"))
    assert str(info.value) == f"format 'nope' is not one of: {', '.join(NAMES)}"
    info.value.spell_options(lambda key: f"--{key}")
    assert str(info.value) == f"--format 'nope' is not one of: {', '.join(NAMES)}"


@pytest.mark.parametrize(
    ("options", "text"),
    [
        (ExportOptions(format="trl-sft", standard=True), "standard applies to format trl-preference only"),
        (ExportOptions(format="trl-kto", train_last_only=True), "train_last_only applies to format openai-sft only"),
        (ExportOptions(format="openai-dpo"), "format openai-dpo needs preference pairs: pass prefs"),
    ],
)
def test_options_checked_against_the_registry(options: ExportOptions, text: str) -> None:
    with pytest.raises(UsageError) as info:
        Exporter(options)
    assert str(info.value) == text


def test_builders_write_the_published_shapes() -> None:
    tie = Aligned(Pair(0, "good", {"content": "bad", "name": "bot"}), "Q?", 0, 1)
    prompt = [{"role": "user", "content": "Q?"}]
    plain = ExportOptions(format="trl-preference")
    pair_rows = get_format("trl-preference").pair_rows
    assert pair_rows is not None
    assert pair_rows(tie, prompt, None, plain) == [
        {"prompt": prompt, "chosen": [{"role": "assistant", "content": "good"}], "rejected": [{"role": "assistant", "content": "bad"}]}
    ]
    standard = ExportOptions(format="trl-preference", standard=True)
    assert pair_rows(tie, prompt, None, standard) == [{"prompt": "User: Q?\n\nAssistant:", "chosen": " good", "rejected": " bad"}]
    dpo = get_format("openai-dpo").pair_rows
    assert dpo is not None
    [row] = dpo(tie, prompt, [{"type": "function"}], ExportOptions(format="openai-dpo"))
    assert row["input"] == {"messages": prompt, "tools": [{"type": "function"}]}
    sft = get_format("openai-sft").thread_row
    assert sft is not None
    messages = [{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}, {"role": "assistant", "content": "c"}]
    weighted = sft(messages, None, ExportOptions(format="openai-sft", train_last_only=True))
    assert [m.get("weight") for m in weighted["messages"]] == [0, None, None]
