"""Shared by the export tests: a live chat with a tool call saved as a session, a prefs file, the published
shapes' checks, the docs' example blocks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from conftest import REPO, make_pair, run_chat
from typer.testing import CliRunner

from agent_ft_cli import save_session
from agent_ft_cli.cli import app

runner = CliRunner()


DOC = (REPO / "docs" / "export-import.md").read_text(encoding="utf-8")
REJECTED = "Réponse n°2: 21.5 °C ≈ 70.7 °F ✓ — 你好"
CHOSEN = "21,5 °C font 70,7 °F."
SYSTEM = "You convert temperatures. Réponds en français si possible."


def save_live(tmp_path: Path) -> Path:
    """A live classic chat with a tool call, saved as a session (the ``live`` fixture of the export tests)."""
    assistant, user = make_pair()
    run_chat(assistant, user)
    path = tmp_path / "live.jsonl"
    save_session(path, assistant, user)
    return path


def write_prefs(tmp_path: Path) -> Path:
    """One pair: the chosen answer in place of the chat's rejected one (the ``prefs`` fixture)."""
    p = tmp_path / "prefs.json"
    p.write_text(json.dumps([[CHOSEN, REJECTED]], ensure_ascii=False), encoding="utf-8")
    return p


def _run(*args: str) -> Any:
    return runner.invoke(app, ["export", *args])


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


TRL_MESSAGE_KEYS = {"role", "content", "tool_calls", "tool_call_id"}
OPENAI_KEYS = {
    "system": {"role", "content", "name"},
    "user": {"role", "content", "name"},
    "assistant": {"role", "content", "name", "tool_calls", "function_call", "weight"},
    "tool": {"role", "content", "tool_call_id"},
}


def _check_tool_call(call: dict[str, Any], *, openai: bool) -> None:
    assert set(call) == {"id", "type", "function"}
    assert call["type"] == "function"
    assert set(call["function"]) == {"name", "arguments"}
    if openai:  # OpenAI's schema: a JSON string
        assert isinstance(call["function"]["arguments"], str)
        json.loads(call["function"]["arguments"])
    else:  # what chat templates encode themselves: an object
        assert isinstance(call["function"]["arguments"], dict)


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
            _check_tool_call(call, openai=openai)
            call_ids.add(call["id"])
        if m["role"] == "tool":
            assert m["tool_call_id"] in call_ids  # answers a call made before it
            assert isinstance(m["content"], str)


def _check_answer(side: list[dict[str, Any]], text: str) -> None:
    assert side == [{"role": "assistant", "content": text}]


def _doc_block(marker: str) -> str:
    m = re.search(re.escape(marker) + r"\n```\w*\n(.*?)\n```", DOC, re.S)
    assert m, f"docs lost the block {marker}"
    return m.group(1)
