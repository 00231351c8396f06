"""AgentChat (autogen-agentchat 0.7): save_state() and TaskResult JSON imported as sessions.

Skipped unless ``autogen-agentchat`` and ``autogen-ext`` are installed: ``pip install -e '.[agentchat,test]'``
(``.ci/frameworks`` does). The importer itself reads plain JSON and needs neither.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("autogen_agentchat", reason="autogen-agentchat is not installed (pip install 'agent-ft[agentchat]')")
pytest.importorskip("autogen_ext.models.replay", reason="autogen-ext is not installed (pip install 'agent-ft[agentchat]')")

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.conditions import MaxMessageTermination
from autogen_agentchat.messages import MultiModalMessage
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_core import FunctionCall, Image
from autogen_core.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResultMessage,
    RequestUsage,
    UserMessage,
)
from autogen_ext.models.replay import ReplayChatCompletionClient
from framework_helpers import (
    FOLLOW_UP,
    LAST_ANSWER,
    QUESTION,
    SYSTEM,
    TOOL_ANSWER,
    convert_temperature,
    expected_thread,
    validate_and_export_everything,
    write_prefs,
)

from agent_ft_cli import session as fmt
from agent_ft_cli.adapters.agentchat import detect, read_agentchat
from agent_ft_cli.errors import InputDataError
from agent_ft_cli.local import LocalLearningClient

THOUGHT = "Je convertis d'abord…"
MODEL_INFO = {"vision": True, "function_calling": True, "json_output": False, "family": "unknown", "structured_output": False}


def replay(*answers: Any) -> ReplayChatCompletionClient:
    return ReplayChatCompletionClient(list(answers), model_info=MODEL_INFO)  # type: ignore[arg-type]


def tool_agent() -> AssistantAgent:
    call = FunctionCall(id="call_1", name="convert_temperature", arguments='{"celsius": 21.5}')
    first = CreateResult(finish_reason="function_calls", content=[call], usage=RequestUsage(0, 0), cached=False, thought=THOUGHT)
    client = replay(first, TOOL_ANSWER, LAST_ANSWER)
    return AssistantAgent("assistant", model_client=client, tools=[convert_temperature], system_message=SYSTEM, reflect_on_tool_use=True)


async def run_tool_chat(tmp_path: Path) -> tuple[AssistantAgent, Path, Path]:
    """Two runs, saved the framework's own ways: the agent's save_state() and both TaskResults."""
    agent = tool_agent()
    first = await agent.run(task=QUESTION)
    second = await agent.run(task=FOLLOW_UP)
    state = tmp_path / "state.json"
    state.write_text(json.dumps(await agent.save_state(), ensure_ascii=False), encoding="utf-8")
    results = tmp_path / "results.json"
    results.write_text(f"[{first.model_dump_json()},{second.model_dump_json()}]", encoding="utf-8")
    return agent, state, results


def write_session(conversation: Any, path: Path) -> Path:
    header = fmt.make_header(conversation.agents, autogen_version=None, imported_from=conversation.source)
    fmt.write_session(path, header, conversation.threads)
    return path


def test_save_state_and_task_results_equal_the_agents_model_context(tmp_path: Path) -> None:
    agent, state, results = asyncio.run(run_tool_chat(tmp_path))
    [from_state] = read_agentchat(state)
    [from_results] = read_agentchat(results)
    [(name, peer, thread)] = from_state.threads
    assert (name, peer) == ("assistant", "user")
    assert thread == expected_thread("call_1", thought=THOUGHT)
    assert from_results.threads == from_state.threads
    # Message for message against what the agent itself holds (its model context, as objects).
    held = asyncio.run(agent.model_context.get_messages())
    assert len(held) == len(thread)
    for ours, theirs in zip(thread, held, strict=True):
        if isinstance(theirs, UserMessage):
            assert (ours["role"], ours["content"], ours["name"]) == ("user", theirs.content, theirs.source)
        elif isinstance(theirs, AssistantMessage) and isinstance(theirs.content, list):
            assert ours["content"] == theirs.thought
            assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in ours["tool_calls"]] == [
                (c.id, c.name, c.arguments) for c in theirs.content
            ]
        elif isinstance(theirs, AssistantMessage):
            assert (ours["role"], ours["content"], ours["name"]) == ("assistant", theirs.content, theirs.source)
        else:
            assert isinstance(theirs, FunctionExecutionResultMessage)
            assert [(r["tool_call_id"], r["content"]) for r in ours["tool_responses"]] == [
                (r.call_id, r.content) for r in theirs.content
            ]
    assert from_state.source["framework"]["saved"] == "AssistantAgentState"
    assert from_results.source["framework"]["saved"] == "TaskResult"


def test_imported_session_validates_exports_and_trains_the_local_model(tmp_path: Path) -> None:
    _, state, _ = asyncio.run(run_tool_chat(tmp_path))
    session = write_session(read_agentchat(state)[0], tmp_path / "state.jsonl")
    prefs = write_prefs(tmp_path / "prefs.json", TOOL_ANSWER)
    rows = validate_and_export_everything(session, prefs, tmp_path)
    assert rows["trl-preference"][0]["prompt"][-1] == {"role": "tool", "tool_call_id": "call_1", "content": "70.7 °F"}
    # update: classic replay into the bundled local model, which then answers the question with the chosen text.
    from framework_helpers import LOCAL, agent_ft

    store = tmp_path / "local.json"
    done = agent_ft(
        "update", "--session", str(session), "--prefs", str(prefs),
        "--client", LOCAL, "--client-arg", f"state_path={json.dumps(str(store))}", "--json",
    )  # fmt: skip
    assert json.loads(done.stdout)["update_stats"]["learned"] == 1
    model = LocalLearningClient({}, state_path=store)
    answer = model.create({"messages": [{"role": "user", "content": QUESTION}]}).choices[0].message.content
    assert answer == "21,5 °C font 70,7 °F (conversion exacte)."


def pixel() -> Image:
    from PIL import Image as PILImage

    return Image.from_pil(PILImage.new("RGB", (1, 1), (255, 0, 0)))


async def run_team(tmp_path: Path) -> tuple[Path, Path]:
    a1 = AssistantAgent("a1", model_client=replay("Bonjour de a1 🌍"))
    a2 = AssistantAgent("a2", model_client=replay("Salut de a2 🌙"))
    team = RoundRobinGroupChat([a1, a2], termination_condition=MaxMessageTermination(3))
    result = await team.run(task=MultiModalMessage(content=["Regarde 👀", pixel()], source="user"))
    state = tmp_path / "team.json"
    state.write_text(json.dumps(await team.save_state(), ensure_ascii=False, indent=1), encoding="utf-8")
    results = tmp_path / "team-result.json"
    results.write_text(result.model_dump_json(indent=1), encoding="utf-8")
    return state, results


def test_team_state_and_result_give_one_thread_per_agent(tmp_path: Path) -> None:
    state, results = asyncio.run(run_team(tmp_path))
    [team] = read_agentchat(state)
    [run] = read_agentchat(results)
    assert [(a, p) for a, p, _ in team.threads] == [("a1", "user"), ("a2", "user")]
    assert run.threads == team.threads
    a2 = dict(((a, p), t) for a, p, t in team.threads)[("a2", "user")]
    image = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{pixel().to_base64()}"}}
    assert a2 == [
        {"content": [{"type": "text", "text": "Regarde 👀"}, image], "role": "user", "name": "user"},
        {"content": "Bonjour de a1 🌍", "role": "user", "name": "a1"},
        {"content": "Salut de a2 🌙", "role": "assistant", "name": "a2"},
    ]
    assert [a["name"] for a in team.agents] == ["a1", "a2", "user"]
    session = write_session(team, tmp_path / "team.jsonl")
    assert fmt.load_session(session).thread("a2", "user") == a2
    [only] = read_agentchat(state, agent="a2")
    assert [a for a, _, _ in only.threads] == ["a2"]


def test_detection_and_bad_input(tmp_path: Path) -> None:
    _, state, results = asyncio.run(run_tool_chat(tmp_path))
    assert detect(state) and detect(results)
    chat = tmp_path / "chat.jsonl"
    chat.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n', encoding="utf-8")
    assert not detect(chat)
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "AssistantAgentState", "llm_context": {"messages": [{"type": "Weird"}]}}', encoding="utf-8")
    with pytest.raises(InputDataError, match=r"bad\.json.*message 1: unknown LLM message type 'Weird'"):
        read_agentchat(bad)
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"bad\.json: not valid JSON"):
        read_agentchat(bad)
    bad.write_text('{"type": "Other"}', encoding="utf-8")
    with pytest.raises(InputDataError, match="not an AgentChat save_state"):
        read_agentchat(bad)


def test_nested_team_states_are_walked(tmp_path: Path) -> None:
    """A team inside an agent (society of mind) inside a team: each inner member is a view."""
    state, _ = asyncio.run(run_team(tmp_path))
    team_state = json.loads(state.read_text(encoding="utf-8"))
    som = {"type": "SocietyOfMindAgentState", "version": "1.0.0", "inner_team_state": team_state}
    outer = {"type": "TeamState", "version": "1.0.0", "agent_states": {"som": {"type": "ChatAgentContainerState", "agent_state": som, "message_buffer": []}}}
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps(outer, ensure_ascii=False), encoding="utf-8")
    [flat] = read_agentchat(state)
    [conv] = read_agentchat(nested)
    assert conv.threads == flat.threads
    outer["agent_states"]["a1"] = team_state["agent_states"]["a1"]
    nested.write_text(json.dumps(outer, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputDataError, match="agent name\\(s\\) 'a1' used in more than one nested team"):
        read_agentchat(nested)


def test_an_empty_state_is_an_error(tmp_path: Path) -> None:
    """A society-of-mind agent resets its inner team after each run: its saved state holds no conversation."""
    from autogen_agentchat.agents import SocietyOfMindAgent

    inner = RoundRobinGroupChat([AssistantAgent("writer", model_client=replay("Brouillon ✍️"))], termination_condition=MaxMessageTermination(2))
    som = SocietyOfMindAgent("som", team=inner, model_client=replay("Réponse finale 🎯"))

    async def run() -> dict[str, Any]:
        await som.run(task="Écris une phrase.")
        return dict(await som.save_state())

    state = tmp_path / "som.json"
    state.write_text(json.dumps(asyncio.run(run()), ensure_ascii=False), encoding="utf-8")
    assert detect(state)
    with pytest.raises(InputDataError, match=r"som\.json: no agent view with messages in this SocietyOfMindAgentState"):
        read_agentchat(state)


def test_agent_ft_import_detects_and_reads_agentchat_files(tmp_path: Path) -> None:
    """``agent-ft import`` through the adapters registry (its ``agentchat`` line), detection included."""
    import importlib.util

    if importlib.util.find_spec("agent_ft_cli.adapters.registry") is None:
        pytest.skip("no adapters registry in this tree yet (agent_ft_cli/adapters/registry.py)")
    from framework_helpers import agent_ft

    from agent_ft_cli.adapters.registry import ADAPTERS

    assert ADAPTERS.get("agentchat") == "agent_ft_cli.adapters.agentchat:read"
    kinds = list(ADAPTERS)
    assert kinds.index("agentchat") < kinds.index("openai-jsonl"), "a one-line TaskResult would pass for chat JSONL"
    _, state, results = asyncio.run(run_tool_chat(tmp_path))
    one_line = tmp_path / "run.json"
    one_line.write_text(json.dumps(json.loads(results.read_text(encoding="utf-8"))[0], ensure_ascii=False), encoding="utf-8")
    for source, length in ((state, 6), (one_line, 4)):
        out = tmp_path / f"out-{source.stem}"
        agent_ft("import", str(source), "--out", str(out))
        [written] = sorted(out.glob("*.jsonl"))
        thread = fmt.load_session(written).thread("assistant", "user")
        assert thread == expected_thread("call_1", thought=THOUGHT)[:length]
        header, _ = fmt.read_header(written)
        assert header["imported_from"]["kind"] == "agentchat"
    agent_ft("import", str(state), "--out", str(tmp_path / "x"), "--agent", "nobody", "--peer", "user")
    assert fmt.load_session(next((tmp_path / "x").glob("*.jsonl"))).pairs() == [("nobody", "user")]
