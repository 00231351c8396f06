"""The AgentChat importer without AgentChat installed (it reads plain JSON): what it does not know is named, never
dropped silently, and refused under strict; JSON errors say where. tests/frameworks/ runs the same on real runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent_ft_cli.adapters import ImportOptions, run_import
from agent_ft_cli.adapters.agentchat import read_agentchat
from agent_ft_cli.errors import InputDataError, StrictError
from agent_ft_cli.session import read_header


def _msg(kind: str, source: str, content: Any, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "source": source, "content": content, "models_usage": None, "metadata": {}, **extra}


def task_result(call_type: str = "ToolCallRequestEvent") -> dict[str, Any]:
    usage = {"prompt_tokens": 1, "completion_tokens": 1}
    return {
        "messages": [
            _msg("TextMessage", "user", "21.5 °C en °F ?"),
            _msg(call_type, "assistant", [{"id": "call_1", "name": "convert", "arguments": "{}"}], models_usage=usage),
            _msg("ToolCallExecutionEvent", "assistant", [{"call_id": "call_1", "content": "70.7 °F", "is_error": False}]),
            _msg("TextMessage", "assistant", "70,7 °F.", models_usage=usage),
        ],
        "stop_reason": None,
    }


def test_a_known_run_imports_quietly(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text(json.dumps(task_result()), encoding="utf-8")
    warned: list[str] = []
    [conv] = read_agentchat(tmp_path / "run.json", on_warning=warned.append)
    assert warned == []
    assert [m["role"] for m in conv.threads[0][2]] == ["user", "assistant", "tool", "assistant"]


def test_an_unknown_type_is_named_and_strict_refuses_it(tmp_path: Path) -> None:
    source = tmp_path / "run.json"
    source.write_text(json.dumps(task_result("ToolCallRequestEventV2")), encoding="utf-8")
    warned: list[str] = []
    [conv] = read_agentchat(source, on_warning=warned.append)
    assert len(warned) == 1 and "message 2: unknown AgentChat message type 'ToolCallRequestEventV2'" in warned[0]
    assert [m["role"] for m in conv.threads[0][2]] == ["user", "tool", "assistant"]  # the orphan export refuses
    with pytest.raises(StrictError, match="ToolCallRequestEventV2"):
        run_import(source, tmp_path / "out", ImportOptions(strict=True))
    assert not (tmp_path / "out").exists()


def test_a_newer_state_version_is_named(tmp_path: Path) -> None:
    state = {"type": "AssistantAgentState", "version": "9.0.0", "llm_context": {"messages": [
        {"type": "UserMessage", "content": "hi", "source": "user"},
        {"type": "AssistantMessage", "content": "hello", "source": "assistant"},
    ]}}  # fmt: skip
    source = tmp_path / "state.json"
    source.write_text(json.dumps(state), encoding="utf-8")
    warned: list[str] = []
    run_import(source, tmp_path / "out", ImportOptions(), on_warning=warned.append)
    assert len(warned) == 1 and "version '9.0.0'" in warned[0]
    [session] = (tmp_path / "out").glob("*.jsonl")
    header, _ = read_header(session)
    assert header["autogen_version"] is None and header["framework"]["name"] == "autogen-agentchat"
    with pytest.raises(StrictError, match=r"'9\.0\.0'"):
        read_agentchat(source, strict=True)
    state["version"] = "1.0.0"
    source.write_text(json.dumps(state), encoding="utf-8")
    warned.clear()
    read_agentchat(source, on_warning=warned.append)
    assert warned == []


def test_a_json_error_gives_line_column_and_the_whole_reason(tmp_path: Path) -> None:
    source = tmp_path / "run.json"
    source.write_text('{"messages": [\n {"type": "TextMessage", "source": "user" "content": "x"}]}', encoding="utf-8")
    with pytest.raises(InputDataError, match=r"run\.json: not valid JSON at line 2, column 43 \(Expecting ',' delimiter\)"):
        read_agentchat(source)
