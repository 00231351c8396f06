"""agent-ft export: every format field by field against TRL's and OpenAI's published shapes, on a live chat with a
tool call; the docs' examples reproduced exactly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from exportkit import (
    CHOSEN,
    DOC,
    REJECTED,
    SYSTEM,
    _check_answer,
    _check_conversation,
    _doc_block,
    _rows,
    _run,
    legacy_session,
    save_live,
    write_prefs,
)


@pytest.fixture
def live(tmp_path: Path) -> Path:
    return save_live(tmp_path)


@pytest.fixture
def prefs(tmp_path: Path) -> Path:
    return write_prefs(tmp_path)


def test_trl_preference_rows(live: Path, prefs: Path, tmp_path: Path) -> None:
    out = tmp_path / "dpo.jsonl"
    result = _run("-s", str(live), "--prefs", str(prefs), "-f", "trl-preference", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    [row] = _rows(out)
    assert set(row) == {"prompt", "chosen", "rejected", "tools"}  # tools: the column TRL's DPOTrainer reads
    assert row["tools"][0]["function"]["name"] == "convert_temperature"
    _check_conversation(row["prompt"], openai=False)
    # the prompt is the thread up to the rejected answer: question, tool call, tool result
    assert [m["role"] for m in row["prompt"]] == ["system", "user", "assistant", "tool"]
    assert row["prompt"][1]["content"] == "Combien font 21,5 °C en °F ? 🌡️"
    assert row["prompt"][2]["content"] == "" and row["prompt"][2]["tool_calls"][0]["id"] == "call_0001"
    assert row["prompt"][3] == {"role": "tool", "tool_call_id": "call_0001", "content": "70.7 °F"}
    _check_answer(row["chosen"], CHOSEN)
    _check_answer(row["rejected"], REJECTED)


def test_trl_preference_standard(live: Path, prefs: Path, tmp_path: Path) -> None:
    out = tmp_path / "std.jsonl"
    assert _run("-s", str(live), "--prefs", str(prefs), "-f", "trl-preference", "--standard", "-o", str(out)).exit_code == 0
    # the whole prefix (the tool call and its result included), the answers after TRL's leading separator
    prompt = (
        f"{SYSTEM}\n\nUser: Combien font 21,5 °C en °F ? 🌡️\n\n"
        'Assistant: [tool call] convert_temperature({"celsius":21.5})\n\nTool: 70.7 °F\n\nAssistant:'
    )
    assert _rows(out) == [{"prompt": prompt, "chosen": " " + CHOSEN, "rejected": " " + REJECTED}]


def test_trl_sft_rows(live: Path, prefs: Path, tmp_path: Path) -> None:
    out = tmp_path / "sft.jsonl"
    assert _run("-s", str(live), "--prefs", str(prefs), "-f", "trl-sft", "-o", str(out)).exit_code == 0
    [row] = _rows(out)
    assert set(row) == {"messages", "tools"}
    _check_conversation(row["messages"], openai=False)
    contents = [m["content"] for m in row["messages"]]
    assert CHOSEN in contents and REJECTED not in contents  # the chosen answer in place of the rejected one
    assert row["messages"][-1]["role"] == "assistant"
    assert row["tools"][0]["function"]["name"] == "convert_temperature"
    # without prefs: the thread as it was
    out2 = tmp_path / "sft2.jsonl"
    assert _run("-s", str(live), "-f", "trl-sft", "-o", str(out2)).exit_code == 0
    assert REJECTED in [m["content"] for m in _rows(out2)[0]["messages"]]


def test_trl_kto_rows(live: Path, prefs: Path, tmp_path: Path) -> None:
    out = tmp_path / "kto.jsonl"
    assert _run("-s", str(live), "--prefs", str(prefs), "-f", "trl-kto", "-o", str(out)).exit_code == 0
    good, bad = _rows(out)
    for row in (good, bad):
        assert set(row) == {"prompt", "completion", "label", "tools"}
        _check_conversation(row["prompt"], openai=False)
    assert good["label"] is True and bad["label"] is False
    assert good["prompt"] == bad["prompt"]
    _check_answer(good["completion"], CHOSEN)
    _check_answer(bad["completion"], REJECTED)


def test_openai_sft_rows(live: Path, tmp_path: Path) -> None:
    out = tmp_path / "oai.jsonl"
    assert _run("-s", str(live), "-f", "openai-sft", "--train-last-only", "-o", str(out)).exit_code == 0
    [row] = _rows(out)
    assert set(row) == {"messages", "tools"}
    messages = row["messages"]
    _check_conversation(messages, openai=True)
    assistants = [m for m in messages if m["role"] == "assistant"]
    assert len(assistants) == 3
    assert [m.get("weight") for m in assistants] == [0, 0, None]  # only the last answer is trained on
    call = assistants[0]
    assert "content" not in call and call["tool_calls"][0]["id"] == "call_0001"
    tool = next(m for m in messages if m["role"] == "tool")
    assert tool == {"role": "tool", "tool_call_id": "call_0001", "content": "70.7 °F"}
    assert messages[1]["name"] == "user"


def test_openai_dpo_rows(live: Path, prefs: Path, tmp_path: Path) -> None:
    out = tmp_path / "oai-dpo.jsonl"
    assert _run("-s", str(live), "--prefs", str(prefs), "-f", "openai-dpo", "-o", str(out)).exit_code == 0
    [row] = _rows(out)
    assert set(row) == {"input", "preferred_output", "non_preferred_output"}
    assert set(row["input"]) == {"messages", "tools"}
    _check_conversation(row["input"]["messages"], openai=True)
    assert row["input"]["messages"][-1]["role"] == "tool"
    _check_answer(row["preferred_output"], CHOSEN)
    _check_answer(row["non_preferred_output"], REJECTED)


def test_doc_examples_are_what_export_writes(tmp_path: Path) -> None:
    session = tmp_path / "chat.jsonl"
    session.write_text(_doc_block("<!-- example-session -->") + "\n", encoding="utf-8")
    prefs = tmp_path / "prefs.json"
    prefs.write_text(_doc_block("<!-- example-prefs -->"), encoding="utf-8")
    examples = re.findall(r"<!-- example-output: (.*?) -->\n```jsonl\n(.*?)\n```", DOC, re.S)
    assert {a.split()[1] for a, _ in examples} == {"trl-preference", "trl-sft", "trl-kto", "openai-sft", "openai-dpo"}
    for args, block in examples:
        out = tmp_path / "out.jsonl"
        result = _run("-s", str(session), "--prefs", str(prefs), *args.split(), "-o", str(out), "--json")
        assert result.exit_code == 0, (args, result.output)
        assert _rows(out) == [json.loads(line) for line in block.splitlines()], args


def test_legacy_functions_reach_every_format(tmp_path: Path) -> None:
    """review of #9/#16, item 8: ``llm_config.functions`` (``register_for_llm(api_style="function")``) are the
    ``tools`` of the TRL rows (their calls are tool calls there) and the ``functions`` of the OpenAI rows (which
    keep ``function_call``); the TRL call and its result share a stable id."""
    from exportkit import CONVERT

    session = legacy_session(tmp_path / "l.jsonl")
    prefs = tmp_path / "p.json"
    prefs.write_text('[["21.5 C is 70.7 F.", "It is 70.7 F."]]')
    rows = {}
    for fmt in ("trl-sft", "trl-preference", "trl-kto", "openai-sft", "openai-dpo"):
        out = tmp_path / f"{fmt}.jsonl"
        result = _run("-s", str(session), "--prefs", str(prefs), "-f", fmt, "-o", str(out))
        assert result.exit_code == 0, result.output
        rows[fmt] = _rows(out)
    tool = {"type": "function", "function": CONVERT}
    assert rows["trl-sft"][0]["tools"] == [tool] and rows["trl-preference"][0]["tools"] == [tool]
    assert [r["tools"] for r in rows["trl-kto"]] == [[tool], [tool]]
    assert rows["openai-sft"][0]["functions"] == [CONVERT] and "tools" not in rows["openai-sft"][0]
    assert rows["openai-dpo"][0]["input"]["functions"] == [CONVERT]
    for row in (rows["trl-sft"][0]["messages"], rows["trl-preference"][0]["prompt"]):
        [call] = [m["tool_calls"][0] for m in row if m.get("tool_calls")]
        [result] = [m for m in row if m["role"] == "tool"]
        assert call["id"] == result["tool_call_id"] == "fn0000001"
    openai = rows["openai-sft"][0]["messages"]
    assert [m["role"] for m in openai] == ["system", "user", "assistant", "function", "assistant"]
    assert openai[2]["function_call"] == {"name": "convert", "arguments": '{"celsius": 21.5}'}
