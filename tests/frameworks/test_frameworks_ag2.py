"""AG2 1.x: a live chat recorded through the history Storage, snapshots, and the local model served to ag2.

Skipped unless ``ag2`` (1.x) is installed: ``pip install -e '.[ag2,test]'`` (``.ci/frameworks`` does).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ag2 = pytest.importorskip("ag2", reason="ag2 1.x is not installed (pip install 'agent-ft[ag2]')")

from ag2 import Agent, MemoryStream  # noqa: E402
from ag2.events import ModelRequest, ModelResponse, ToolCallEvent, ToolResultsEvent  # noqa: E402
from ag2.testing import TestConfig  # noqa: E402
from framework_helpers import (  # noqa: E402
    FOLLOW_UP,
    LAST_ANSWER,
    LOCAL,
    QUESTION,
    SYSTEM,
    TOOL_ANSWER,
    agent_ft,
    convert_temperature,
    expected_thread,
    validate_and_export_everything,
    write_prefs,
)

from agent_ft_cli.adapters.ag2 import (  # noqa: E402
    SessionStorage,
    ag2_version,
    openai_messages,
    save_ag2_session,
    thread_from_events,
)
from agent_ft_cli.clients.ag2 import ModelClientConfig  # noqa: E402
from agent_ft_cli.local import LocalLearningClient  # noqa: E402
from agent_ft_cli.session import load_session, read_header  # noqa: E402


def scripted_agent() -> Agent:
    config = TestConfig(
        ToolCallEvent(name="convert_temperature", id="call_1", arguments='{"celsius": 21.5}'), TOOL_ANSWER, LAST_ANSWER
    )
    return Agent("assistant", SYSTEM, config=config, tools=[convert_temperature])


async def record_chat(path: Path) -> tuple[Agent, list[Any]]:
    agent = scripted_agent()
    with SessionStorage(path, agent) as storage:
        reply = await agent.ask(QUESTION, stream=MemoryStream(storage))
        assert reply.body == TOOL_ANSWER
        reply = await reply.ask(FOLLOW_UP)
        assert reply.body == LAST_ANSWER
    return agent, list(await reply.history.get_events())


def test_live_recording_equals_the_history_ag2_holds(tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    agent, events = asyncio.run(record_chat(path))
    thread = load_session(path).thread("assistant", "user")
    assert thread == expected_thread("call_1")
    # Message for message: one per event the model reads, in the order ag2 holds them.
    read = [e for e in events if isinstance(e, (ModelRequest, ModelResponse, ToolResultsEvent))]
    assert len(thread) == len(read) == 6
    assert thread == thread_from_events(events, agent="assistant", peer="user")
    # What ag2 itself sends a chat-completions model for this history (its own OpenAI mapper), names aside.
    mappers = pytest.importorskip("ag2.config.openai.mappers", reason="ag2[openai] not installed")
    theirs = mappers.convert_messages(agent.system_prompt, events, agent.serializer)
    ours = [{k: v for k, v in m.items() if k != "name"} for m in openai_messages(thread, "\n".join(agent.system_prompt))]
    assert ours == theirs


def test_header_names_the_framework_and_keeps_secrets_out(tmp_path: Path) -> None:
    class KeyedConfig(TestConfig):
        api_key = "sk-live-SECRET-0123456789"

    agent = Agent("assistant", SYSTEM, config=KeyedConfig("ok"), tools=[convert_temperature])

    async def chat() -> None:
        with SessionStorage(tmp_path / "s.jsonl", agent) as storage:
            await agent.ask("Hi", stream=MemoryStream(storage))

    asyncio.run(chat())
    header, _ = read_header(tmp_path / "s.jsonl")
    assert header["framework"] == {"name": "ag2", "version": ag2_version()}
    assert ag2_version() and ag2_version().startswith("1.")  # type: ignore[union-attr]
    me, peer = header["agents"]
    assert (me["name"], me["class"], me["source_class"], me["system_message"]) == ("assistant", "AssistantAgent", "ag2.agent.Agent", SYSTEM)
    assert me["llm_config"]["tools"][0]["function"]["name"] == "convert_temperature"
    assert (peer["name"], peer["llm_config"]) == ("user", False)
    assert "SECRET" not in (tmp_path / "s.jsonl").read_text(encoding="utf-8")


def test_every_message_is_on_disk_when_the_process_dies(tmp_path: Path) -> None:
    """Killed without closing the storage: each message ag2 saved is already in the file."""
    path = tmp_path / "crash.jsonl"
    script = textwrap.dedent(
        f"""
        import asyncio, os, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_frameworks_ag2 import scripted_agent
        from framework_helpers import QUESTION
        from ag2 import MemoryStream
        from agent_ft_cli.adapters.ag2 import SessionStorage

        async def main():
            agent = scripted_agent()
            storage = SessionStorage({str(path)!r}, agent)
            await agent.ask(QUESTION, stream=MemoryStream(storage))
            os._exit(9)

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 9, done.stderr
    assert load_session(path, strict=True).thread("assistant", "user") == expected_thread("call_1")[:4]


def test_snapshot_equals_the_live_recording(tmp_path: Path) -> None:
    live = tmp_path / "live.jsonl"
    agent, events = asyncio.run(record_chat(live))
    snap = asyncio.run(save_ag2_session(tmp_path / "snap.jsonl", agent, events))
    assert load_session(snap).threads == load_session(live).threads


def test_replaced_history_and_second_stream(tmp_path: Path) -> None:
    """A history replaced wholesale is rewritten in the session; a second stream is a conversation of its own."""
    path = tmp_path / "s.jsonl"

    async def chat() -> None:
        agent = Agent("assistant", config=TestConfig("un", "deux"))
        with SessionStorage(path, agent) as storage:
            reply = await agent.ask("1", stream=MemoryStream(storage))
            await reply.ask("2")
            kept = list(await reply.history.get_events())[:2]
            await reply.history.replace(kept)  # what compaction and tool-call repair do
            second = MemoryStream(storage)
            await agent.ask("3", stream=second, config=TestConfig("trois"))
            third = MemoryStream(storage)
            await agent.ask("4", stream=third, config=TestConfig("quatre"))
            await third.history.storage.drop_history(third.id)

    asyncio.run(chat())
    session = load_session(path)
    assert [m["content"] for m in session.thread("assistant", "user")] == ["1", "un"]
    assert [m["content"] for m in session.thread("assistant", "user-2")] == ["3", "trois"]
    assert session.threads.get(("assistant", "user-3"), []) == []  # dropped: written as a clear after its 2 messages


class ToolCallingClient:
    """A scripted agent-ft ModelClient: asks for the tool once, then answers from the tool result it was sent."""

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        self.seen: list[list[dict[str, Any]]] = []

    def create(self, params: dict[str, Any]) -> Any:
        from types import SimpleNamespace

        self.seen.append(params["messages"])
        last = params["messages"][-1]
        if last["role"] == "tool":
            message = SimpleNamespace(content=f"Résultat : {last['content']}", tool_calls=None)
        else:
            call = SimpleNamespace(id="c-9", type="function", function=SimpleNamespace(name="convert_temperature", arguments='{"celsius": 100}'))
            message = SimpleNamespace(content=None, tool_calls=[call])
        return SimpleNamespace(choices=[SimpleNamespace(message=message, finish_reason="stop")], model="scripted", usage=None)

    def message_retrieval(self, response: Any) -> list[Any]:
        return [c.message for c in response.choices]

    def cost(self, response: Any) -> float:
        return 0.0

    @staticmethod
    def get_usage(response: Any) -> dict[str, Any]:
        return {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def test_a_model_client_serves_an_ag2_agent_with_tools(tmp_path: Path) -> None:
    config = ModelClientConfig(ToolCallingClient)
    agent = Agent("assistant", SYSTEM, config=config, tools=[convert_temperature])

    async def chat() -> Any:
        with SessionStorage(tmp_path / "s.jsonl", agent) as storage:
            return await agent.ask("100 °C ?", stream=MemoryStream(storage))

    reply = asyncio.run(chat())
    assert reply.body == "Résultat : 212.0 °F"
    client = config.client
    # The client got what classic autogen sends: system first, the tool result unrolled with its call id.
    assert client.seen[1][0] == {"role": "system", "content": SYSTEM}
    assert client.seen[1][-1] == {"tool_call_id": "c-9", "role": "tool", "content": "212.0 °F"}
    thread = load_session(tmp_path / "s.jsonl").thread("assistant", "user")
    assert [m["role"] for m in thread] == ["user", "assistant", "tool", "assistant"]
    assert thread[1]["tool_calls"][0]["id"] == "c-9"
    header, _ = read_header(tmp_path / "s.jsonl")
    assert header["agents"][0]["model_clients"] == [f"{ToolCallingClient.__module__}:ToolCallingClient"]


def test_recorded_chat_validates_exports_and_trains_the_local_model(tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    asyncio.run(record_chat(path))
    prefs = write_prefs(tmp_path / "prefs.json", TOOL_ANSWER)
    rows = validate_and_export_everything(path, prefs, tmp_path)
    pref = rows["trl-preference"][0]
    assert pref["chosen"] == [{"role": "assistant", "content": "21,5 °C font 70,7 °F (conversion exacte)."}]
    assert pref["prompt"][0] == {"role": "system", "content": SYSTEM}
    assert pref["prompt"][-1] == {"role": "tool", "tool_call_id": "call_1", "content": "70.7 °F"}
    sft = rows["openai-sft"][0]["messages"]
    assert [m["role"] for m in sft] == ["system", "user", "assistant", "tool", "assistant", "user", "assistant"]
    assert rows["openai-sft"][0]["tools"][0]["function"]["name"] == "convert_temperature"


def test_record_update_record_returns_the_learned_answer(tmp_path: Path) -> None:
    """ag2 1.x chat on the local model -> agent-ft update (classic replay) -> the next ag2 chat has learned."""
    state = tmp_path / "state.json"
    question = "What is the capital of Australia?"
    learned = "The capital of Australia is Canberra."

    async def chat(out: Path) -> str | None:
        agent = Agent("assistant", "Answer in one sentence.", config=ModelClientConfig(LOCAL, state_path=str(state)))
        with SessionStorage(out, agent) as storage:
            reply = await agent.ask(question, stream=MemoryStream(storage))
        return reply.body

    first = asyncio.run(chat(tmp_path / "one.jsonl"))
    assert first == LocalLearningClient({}).default_reply
    prefs = write_prefs(tmp_path / "prefs.json", first, learned)
    done = agent_ft(
        "update", "--session", str(tmp_path / "one.jsonl"), "--prefs", str(prefs),
        "--client", LOCAL, "--client-arg", f"state_path={json.dumps(str(state))}", "--json",
    )  # fmt: skip
    assert json.loads(done.stdout)["update_stats"]["learned"] == 1
    assert asyncio.run(chat(tmp_path / "two.jsonl")) == learned
    assert load_session(tmp_path / "two.jsonl").thread("assistant", "user")[-1]["content"] == learned


def test_multimodal_request_is_kept_as_openai_parts(tmp_path: Path) -> None:
    from ag2 import DataInput, ImageInput

    png = b"\x89PNG\r\n\x1a\n" + bytes(range(16))
    agent = Agent("assistant", config=TestConfig("Deux images rouges 🟥"))

    async def chat() -> list[Any]:
        with SessionStorage(tmp_path / "s.jsonl", agent) as storage:
            reply = await agent.ask(
                "Décris 🖼️",
                ImageInput("https://example.invalid/red.png"),
                ImageInput(data=png, media_type="image/png"),
                DataInput({"taille": "1×1"}),
                stream=MemoryStream(storage),
            )
        return list(await reply.history.get_events())

    events = asyncio.run(chat())
    thread = load_session(tmp_path / "s.jsonl").thread("assistant", "user")
    parts = thread[0]["content"]
    assert parts[:3] == [
        {"type": "text", "text": "Décris 🖼️"},
        {"type": "image_url", "image_url": {"url": "https://example.invalid/red.png"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgoAAQIDBAUGBwgJCgsMDQ4P"}},
    ]
    assert parts[3]["type"] == "text" and json.loads(parts[3]["text"]) == {"taille": "1×1"}
    assert thread[1] == {"content": "Deux images rouges 🟥", "role": "assistant", "name": "assistant"}
    mappers = pytest.importorskip("ag2.config.openai.mappers", reason="ag2[openai] not installed")
    theirs = mappers.convert_messages(agent.system_prompt, events, agent.serializer)
    assert [{k: v for k, v in m.items() if k != "name"} for m in openai_messages(thread, "")] == theirs[1:]
