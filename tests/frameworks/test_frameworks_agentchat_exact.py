"""AgentChat, nothing lost without a word: unknown message types and newer save_state() versions are named (and
fail under --strict), no orphan tool result reaches an export, a team's threads are listed and can all be exported,
the header names the framework, and JSON errors say where.

Skipped unless ``autogen-agentchat`` and ``autogen-ext`` are installed (``.ci/frameworks`` installs them).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("autogen_agentchat", reason="autogen-agentchat is not installed (pip install 'agent-ft[agentchat]')")
pytest.importorskip("autogen_ext.models.replay", reason="autogen-ext is not installed (pip install 'agent-ft[agentchat]')")

from importlib import metadata

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.conditions import MaxMessageTermination
from autogen_agentchat.teams import RoundRobinGroupChat, Swarm
from autogen_core import FunctionCall
from autogen_core.models import CreateResult, RequestUsage
from autogen_ext.models.replay import ReplayChatCompletionClient
from framework_helpers import FORMATS, QUESTION, TOOL_ANSWER, agent_ft, convert_temperature, write_prefs

from agent_ft_cli.adapters.agentchat import read_agentchat
from agent_ft_cli.errors import StrictError
from agent_ft_cli.session import read_header

MODEL_INFO = {"vision": False, "function_calling": True, "json_output": False, "family": "unknown", "structured_output": False}


def replay(*answers: Any) -> ReplayChatCompletionClient:
    return ReplayChatCompletionClient(list(answers), model_info=MODEL_INFO)  # type: ignore[arg-type]


async def tool_run(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    call = FunctionCall(id="call_1", name="convert_temperature", arguments='{"celsius": 21.5}')
    first = CreateResult(finish_reason="function_calls", content=[call], usage=RequestUsage(0, 0), cached=False)
    agent = AssistantAgent("assistant", model_client=replay(first, TOOL_ANSWER), tools=[convert_temperature], reflect_on_tool_use=True)
    result = await agent.run(task=QUESTION)
    return json.loads(result.model_dump_json()), dict(await agent.save_state())


def test_an_unknown_message_type_warns_naming_it_fails_under_strict_and_exports_no_orphan(tmp_path: Path) -> None:
    result, _ = asyncio.run(tool_run(tmp_path))
    kinds = [m["type"] for m in result["messages"]]
    assert "ToolCallRequestEvent" in kinds
    for m in result["messages"]:
        if m["type"] == "ToolCallRequestEvent":
            m["type"] = "ToolCallRequestEventV2"  # what a newer AgentChat (or a custom type) would write
    source = tmp_path / "run.json"
    source.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    warned: list[str] = []
    assert len(read_agentchat(source, on_warning=warned.append)) == 1
    assert len(warned) == 1 and "'ToolCallRequestEventV2'" in warned[0] and "left out" in warned[0]
    with pytest.raises(StrictError, match="ToolCallRequestEventV2"):
        read_agentchat(source, strict=True)
    strict = agent_ft("import", str(source), "--out", str(tmp_path / "strict"), "--strict", check=False)
    assert strict.returncode == 3 and "ToolCallRequestEventV2" in strict.stderr and "--strict" in strict.stderr
    done = agent_ft("import", str(source), "--out", str(tmp_path / "s"))
    assert "Warning:" in done.stderr and "ToolCallRequestEventV2" in done.stderr
    [session] = list((tmp_path / "s").glob("*.jsonl"))
    prefs = write_prefs(tmp_path / "prefs.json", TOOL_ANSWER)
    for fmt in FORMATS:
        out = tmp_path / f"{fmt}.jsonl"
        refused = agent_ft("export", "-s", str(session), "-f", fmt, "-o", str(out), "--prefs", str(prefs), check=False)
        assert refused.returncode == 3, (fmt, refused.stderr)
        assert "row refused" in refused.stderr and "tool result 'call_1' answers no call" in refused.stderr, refused.stderr
        assert not out.exists()


@pytest.mark.parametrize("version", ["9.0.0", "2.0"])
def test_an_unknown_save_state_version_is_not_imported_silently(tmp_path: Path, version: str) -> None:
    _, state = asyncio.run(tool_run(tmp_path))
    assert state["version"] == "1.0.0"
    state["version"] = version
    source = tmp_path / "state.json"
    source.write_text(json.dumps(state), encoding="utf-8")
    warned: list[str] = []
    read_agentchat(source, on_warning=warned.append)
    assert len(warned) == 1 and f"version {version!r}" in warned[0]
    strict = agent_ft("import", str(source), "--out", str(tmp_path / "strict"), "--strict", check=False)
    assert strict.returncode == 3 and version in strict.stderr
    assert not (tmp_path / "strict").exists() or not list((tmp_path / "strict").iterdir())
    loose = agent_ft("import", str(source), "--out", str(tmp_path / "s"))
    assert version in loose.stderr


def test_a_nested_state_with_a_newer_version_is_named_too(tmp_path: Path) -> None:
    _, state = asyncio.run(tool_run(tmp_path))
    team = {"type": "TeamState", "version": "1.0.0", "agent_states": {"assistant": {"type": "ChatAgentContainerState", "version": "1.0.0", "agent_state": {**state, "version": "3.1.0"}, "message_buffer": []}}}
    source = tmp_path / "team.json"
    source.write_text(json.dumps(team), encoding="utf-8")
    with pytest.raises(StrictError, match=r"'3\.1\.0'"):
        read_agentchat(source, strict=True)


async def team_runs(tmp_path: Path) -> list[Path]:
    rr = RoundRobinGroupChat(
        [AssistantAgent("a1", model_client=replay("Bonjour de a1")), AssistantAgent("a2", model_client=replay("Salut de a2"))],
        termination_condition=MaxMessageTermination(3),
    )
    rr_result = await rr.run(task="Présentez-vous.")
    call = FunctionCall(id="h1", name="transfer_to_bob", arguments="{}")
    handoff = CreateResult(finish_reason="function_calls", content=[call], usage=RequestUsage(0, 0), cached=False)
    swarm = Swarm(
        [
            AssistantAgent("alice", model_client=replay(handoff), handoffs=["bob"]),
            AssistantAgent("bob", model_client=replay("Bob ici.")),
        ],
        termination_condition=MaxMessageTermination(3),
    )
    swarm_result = await swarm.run(task="Qui répond ?")
    paths = []
    for name, data in (("rr-state", await rr.save_state()), ("rr-run", json.loads(rr_result.model_dump_json())), ("swarm-run", json.loads(swarm_result.model_dump_json()))):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    return paths


def test_a_teams_threads_are_listed_and_can_all_be_exported(tmp_path: Path) -> None:
    for source in asyncio.run(team_runs(tmp_path)):
        out = tmp_path / source.stem
        agent_ft("import", str(source), "--out", str(out))
        [session] = list(out.glob("*.jsonl"))
        header, _ = read_header(session)
        assert header["autogen_version"] is None
        assert header["framework"] == {"name": "autogen-agentchat", "version": metadata.version("autogen-agentchat")}
        members = [a["name"] for a in header["agents"] if a["llm_config"]]
        assert len(members) == 2, members
        listed = agent_ft("inspect", "-s", str(session)).stdout
        assert all(f"{m} -> " in listed for m in members), listed
        refused = agent_ft("export", "-s", str(session), "-f", "trl-sft", "-o", str(tmp_path / "x.jsonl"), check=False)
        assert refused.returncode == 3
        assert "--agent" in refused.stderr and all(f"{m}->" in refused.stderr for m in members), refused.stderr
        rows_path = tmp_path / f"{source.stem}-all.jsonl"
        agent_ft("export", "-s", str(session), "-f", "trl-sft", "-o", str(rows_path), "--agent", "all")
        rows = [json.loads(line) for line in rows_path.read_text(encoding="utf-8").splitlines()]
        assert 1 <= len(rows) <= 2  # one per member that answered
        agent_ft("export", "-s", str(session), "-f", "trl-sft", "-o", str(rows_path), "--agent", "all", "--speaker-names", "prefix")
        named = [json.loads(line) for line in rows_path.read_text(encoding="utf-8").splitlines()]
        others = [m for r in named for m in r["messages"] if m["role"] == "user"]
        assert others and all(m["content"].startswith(f"{m['name']}: ") for m in others)
        agent_ft("export", "-s", str(session), "-f", "trl-sft", "-o", str(rows_path), "--agent", "all", "--speaker-names", "keep")
        kept = [json.loads(line) for line in rows_path.read_text(encoding="utf-8").splitlines()]
        assert [[m.get("name") for m in r["messages"] if m["role"] == "user"] for r in kept] == [
            [m["name"] for m in r["messages"] if m["role"] == "user"] for r in named
        ]
        assert all("name" not in m for r in rows for m in r["messages"])  # the TRL default drops it


def test_a_cut_json_file_names_its_line_and_column_and_the_whole_reason(tmp_path: Path) -> None:
    source = tmp_path / "run.json"
    source.write_text('{"messages": [\n  {"type": "TextMessage", "source": "user" "content": "hi"}\n]}', encoding="utf-8")
    result = agent_ft("import", str(source), "--out", str(tmp_path / "s"), check=False)
    assert result.returncode == 3
    assert "line 2, column 44 (Expecting ',' delimiter)" in result.stderr, result.stderr
