"""agent-ft export: every format field by field against TRL's and OpenAI's published shapes, on a live chat with a
tool call; the docs' examples reproduced exactly; pairs tied through the shared alignment, or reported."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, make_pair, run_chat
from typer.testing import CliRunner

from agent_ft_cli import save_session
from agent_ft_cli.cli import app
from agent_ft_cli.export import Exporter, ExportOptions, convert_message, export

runner = CliRunner()
DOC = (REPO / "docs" / "export-import.md").read_text(encoding="utf-8")
REJECTED = "Réponse n°2: 21.5 °C ≈ 70.7 °F ✓ — 你好"
CHOSEN = "21,5 °C font 70,7 °F."
SYSTEM = "You convert temperatures. Réponds en français si possible."


@pytest.fixture
def live(tmp_path: Path) -> Path:
    assistant, user = make_pair()
    run_chat(assistant, user)
    path = tmp_path / "live.jsonl"
    save_session(path, assistant, user)
    return path


@pytest.fixture
def prefs(tmp_path: Path) -> Path:
    p = tmp_path / "prefs.json"
    p.write_text(json.dumps([[CHOSEN, REJECTED]], ensure_ascii=False), encoding="utf-8")
    return p


def _run(*args: str) -> Any:
    return runner.invoke(app, ["export", *args])


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- published shapes ---------------------------------------------------------------------------------------------

TRL_MESSAGE_KEYS = {"role", "content", "tool_calls", "tool_call_id"}
OPENAI_KEYS = {
    "system": {"role", "content", "name"},
    "user": {"role", "content", "name"},
    "assistant": {"role", "content", "name", "tool_calls", "function_call", "weight"},
    "tool": {"role", "content", "tool_call_id"},
}


def _check_tool_call(call: dict[str, Any]) -> None:
    assert set(call) == {"id", "type", "function"}
    assert call["type"] == "function"
    assert set(call["function"]) == {"name", "arguments"}
    assert isinstance(call["function"]["arguments"], str)
    json.loads(call["function"]["arguments"])


def _check_conversation(messages: list[dict[str, Any]], *, openai: bool) -> None:
    assert messages[0] == {"role": "system", "content": SYSTEM}
    call_ids: set[str] = set()
    for m in messages:
        assert m["role"] in {"system", "user", "assistant", "tool"}
        if openai:
            assert set(m) <= OPENAI_KEYS[m["role"]], m
        else:
            assert set(m) <= TRL_MESSAGE_KEYS, m
            assert isinstance(m["content"], str)
        assert "tool_responses" not in m
        for call in m.get("tool_calls", []):
            _check_tool_call(call)
            call_ids.add(call["id"])
        if m["role"] == "tool":
            assert m["tool_call_id"] in call_ids  # answers a call made before it
            assert isinstance(m["content"], str)


def _check_answer(side: list[dict[str, Any]], text: str) -> None:
    assert side == [{"role": "assistant", "content": text}]


def test_trl_preference_rows(live: Path, prefs: Path, tmp_path: Path) -> None:
    out = tmp_path / "dpo.jsonl"
    result = _run("-s", str(live), "--prefs", str(prefs), "-f", "trl-preference", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    [row] = _rows(out)
    assert set(row) == {"prompt", "chosen", "rejected"}
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
    assert _rows(out) == [{"prompt": "Combien font 21,5 °C en °F ? 🌡️", "chosen": CHOSEN, "rejected": REJECTED}]


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
        assert set(row) == {"prompt", "completion", "label"}
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


# -- mapping ------------------------------------------------------------------------------------------------------


def test_one_tool_message_per_response() -> None:
    msg = {
        "content": "a\n\nb",
        "tool_responses": [
            {"tool_call_id": "c1", "role": "tool", "content": "a"},
            {"tool_call_id": "c2", "role": "tool", "content": "b"},
        ],
        "role": "tool",
        "name": "user",
    }
    expected = [
        {"role": "tool", "tool_call_id": "c1", "content": "a"},
        {"role": "tool", "tool_call_id": "c2", "content": "b"},
    ]
    assert convert_message(msg, "openai-sft") == expected
    assert convert_message(msg, "trl-sft") == expected


def test_names_kept_only_where_allowed() -> None:
    assert convert_message({"role": "user", "content": "hi", "name": "user"}, "openai-sft") == [
        {"role": "user", "content": "hi", "name": "user"}
    ]
    assert convert_message({"role": "user", "content": "hi", "name": "Zoë B."}, "openai-sft") == [
        {"role": "user", "content": "hi"}
    ]
    assert convert_message({"role": "user", "content": "hi", "name": "user", "context": {}}, "trl-sft") == [
        {"role": "user", "content": "hi"}
    ]


# -- the docs' examples -------------------------------------------------------------------------------------------


def _doc_block(marker: str) -> str:
    m = re.search(re.escape(marker) + r"\n```\w*\n(.*?)\n```", DOC, re.S)
    assert m, f"docs lost the block {marker}"
    return m.group(1)


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


# -- pairs, sessions, summary -------------------------------------------------------------------------------------


def test_untied_pairs_are_reported(live: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.json"
    pairs = [
        [CHOSEN, REJECTED],
        {"chosen": "x", "rejected": "never said"},
        {"chosen": "Paris.", "rejected": "Lyon.", "prompt": "Capital of France?"},
        "not a pair",
    ]
    prefs.write_text(json.dumps(pairs, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "o.jsonl"
    result = _run("-s", str(live), "--prefs", str(prefs), "-f", "trl-preference", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"] == 2
    assert summary["pairs"] == {"total": 4, "tied": 2, "skipped": 2}
    reasons = {s["pair"]: s["reason"] for s in summary["skipped_pairs"]}
    assert "does not appear" in reasons[1]
    assert "not a [chosen, rejected] pair" in reasons[3]
    rows = _rows(out)
    assert rows[1]["prompt"] == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Capital of France?"}]
    # the table on stderr tells the same
    table = _run("-s", str(live), "--prefs", str(prefs), "-f", "trl-preference", "-o", str(out))
    assert table.stdout == ""
    assert "rows written" in table.stderr and "skipped pair 1" in table.stderr


def test_many_sessions_folder_and_glob(live: Path, prefs: Path, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(3):
        (folder / f"s{i}.jsonl").write_bytes(live.read_bytes())
    (folder / "broken.jsonl").write_text("not a session\n")
    out = tmp_path / "o.jsonl"
    result = _run("-s", str(folder), "--prefs", str(prefs), "-f", "trl-sft", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["sessions"] == 3 and summary["rows"] == 3
    assert summary["pairs"]["tied"] == 1  # one pair, tied once (in the first session that has its answer)
    assert [s["session"] for s in summary["skipped_sessions"]] == [str(folder / "broken.jsonl")]
    glob = _run("-s", str(folder / "s*.jsonl"), "-f", "openai-sft", "-o", str(out), "--json")
    assert glob.exit_code == 0 and json.loads(glob.stdout)["rows"] == 3


def test_library_export(live: Path, tmp_path: Path) -> None:
    out = tmp_path / "lib.jsonl"
    summary = export([live], out, ExportOptions(format="trl-sft"))
    assert summary.rows == 1 and summary.out == str(out)
    rows = list(Exporter(ExportOptions(format="openai-sft")).rows([live]))
    assert rows[0]["messages"][0]["role"] == "system"


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["-f", "trl-preference"], 2, "needs preference pairs"),
        (["-f", "nope"], 2, "--format 'nope'"),
        (["-f", "trl-sft", "--standard"], 2, "--standard"),
        (["-f", "trl-sft", "--train-last-only"], 2, "--train-last-only"),
    ],
)
def test_usage_errors(live: Path, tmp_path: Path, args: list[str], code: int, text: str) -> None:
    out = tmp_path / "o.jsonl"
    result = _run("-s", str(live), *args, "-o", str(out))
    assert result.exit_code == code, result.output
    assert text in result.stderr
    assert not out.exists()


def test_bad_inputs_and_outputs(live: Path, tmp_path: Path) -> None:
    missing = _run("-s", str(tmp_path / "nope.jsonl"), "-f", "trl-sft", "-o", str(tmp_path / "o.jsonl"))
    assert missing.exit_code == 3 and "does not exist" in missing.stderr
    no_dir = _run("-s", str(live), "-f", "trl-sft", "-o", str(tmp_path / "no" / "o.jsonl"))
    assert no_dir.exit_code == 2 and "--out" in no_dir.stderr
    same = _run("-s", str(live), "-f", "trl-sft", "-o", str(live))
    assert same.exit_code == 2
    # nothing to export: exit 3 and the previous output is left as it was
    out = tmp_path / "keep.jsonl"
    out.write_text("old\n")
    prefs = tmp_path / "p.json"
    prefs.write_text('[["a", "b"]]')
    result = _run("-s", str(live), "--prefs", str(prefs), "-f", "openai-dpo", "-o", str(out))
    assert result.exit_code == 3 and "nothing to export" in result.stderr
    assert out.read_text() == "old\n"
    assert not list(tmp_path.glob(".keep.jsonl.*"))


def test_dataset_folder_needs_datasets(live: Path, tmp_path: Path) -> None:
    try:
        import datasets  # noqa: F401
    except ImportError:
        result = _run("-s", str(live), "-f", "trl-sft", "-o", str(tmp_path / "ds") + "/")
        assert result.exit_code == 2 and "datasets" in result.stderr
        return
    result = _run("-s", str(live), "-f", "trl-sft", "-o", str(tmp_path / "ds") + "/", "--json")  # pragma: no cover
    assert result.exit_code == 0 and (tmp_path / "ds").is_dir()  # pragma: no cover
