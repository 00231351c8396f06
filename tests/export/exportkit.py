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


# -- hand-written sessions in the recorder's shape (the tool chats of pyautogen 0.9, as the review recorded them) --

CONVERT = {
    "description": "convert C to F",
    "name": "convert",
    "parameters": {"type": "object", "properties": {"celsius": {"type": "number", "description": "celsius"}}, "required": ["celsius"]},
}
WEATHER = {
    "description": "weather in a city",
    "name": "weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "city"}}, "required": ["city"]},
}


def write_session(path: Path, llm_config: dict[str, Any], messages: list[dict[str, Any]]) -> Path:
    """A session of ``assistant`` (with ``llm_config``) and ``user``: ``messages`` are the assistant's thread, the
    user's view mirrors it with the roles swapped, as the recorder writes it."""
    config = {**llm_config, "config_list": [{"model": "m", "model_client_cls": "C"}]}
    header = {
        "type": "header",
        "format": "agent-ft-session",
        "version": "1.0",
        "agents": [
            {"name": "assistant", "class": "AssistantAgent", "system_message": "SYS", "llm_config": config},
            {"name": "user", "class": "UserProxyAgent", "llm_config": False},
        ],
    }
    swap = {"user": "assistant", "assistant": "user"}
    lines = [header]
    for m in messages:
        lines.append({"type": "message", "agent": "assistant", "peer": "user", "message": m})
        lines.append({"type": "message", "agent": "user", "peer": "assistant", "message": {**m, "role": swap.get(m["role"], m["role"])}})
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    return path


def parallel_tools_session(path: Path) -> Path:
    """Two tools with disjoint arguments (convert: celsius, weather: city), called in parallel."""
    calls = [
        {"id": "call_1", "type": "function", "function": {"name": "convert", "arguments": '{"celsius": 21.5}'}},
        {"id": "call_2", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}},
    ]
    responses = [
        {"tool_call_id": "call_1", "role": "tool", "content": "70.7 F"},
        {"tool_call_id": "call_2", "role": "tool", "content": "sunny in Paris"},
    ]
    return write_session(
        path,
        {"tools": [{"type": "function", "function": CONVERT}, {"type": "function", "function": WEATHER}]},
        [
            {"content": "21.5 C in F? and weather in Paris", "role": "user", "name": "user"},
            {"tool_calls": calls, "content": None, "role": "assistant"},
            {"content": "70.7 F\n\nsunny in Paris", "tool_responses": responses, "role": "tool", "name": "user"},
            {"content": "It is 70.7 F and sunny.", "role": "assistant", "name": "assistant"},
        ],
    )


def one_tool_session(path: Path) -> Path:
    """One call of the weather tool (a template that refuses parallel calls, Llama 3.1's, renders it)."""
    call = {"id": "call_9", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Rome"}'}}
    return write_session(
        path,
        {"tools": [{"type": "function", "function": WEATHER}]},
        [
            {"content": "Weather in Rome?", "role": "user", "name": "user"},
            {"tool_calls": [call], "content": None, "role": "assistant"},
            {"content": "rain", "tool_responses": [{"tool_call_id": "call_9", "role": "tool", "content": "rain"}], "role": "tool", "name": "user"},
            {"content": "It rains in Rome.", "role": "assistant", "name": "assistant"},
        ],
    )


def plain_session(path: Path) -> Path:
    return write_session(
        path,
        {},
        [{"content": "Hi?", "role": "user", "name": "user"}, {"content": "Hello.", "role": "assistant", "name": "assistant"}],
    )


def legacy_session(path: Path) -> Path:
    """The legacy API (``register_for_llm(api_style="function")``): ``llm_config.functions``, a ``function_call`` and
    its ``function`` result."""
    return write_session(
        path,
        {"functions": [CONVERT]},
        [
            {"content": "21.5 C in F?", "role": "user", "name": "user"},
            {"function_call": {"name": "convert", "arguments": '{"celsius": 21.5}'}, "content": None, "role": "assistant"},
            {"content": "70.7 F", "name": "convert", "role": "function"},
            {"content": "It is 70.7 F.", "role": "assistant", "name": "assistant"},
        ],
    )


def load_folder(folder: Path | str) -> Any:
    """A dataset folder an export wrote, as a trainer loads it: its Parquet shards through ``datasets``."""
    import datasets

    return datasets.load_dataset("parquet", data_files=str(Path(folder) / "data" / "*.parquet"), split="train")

