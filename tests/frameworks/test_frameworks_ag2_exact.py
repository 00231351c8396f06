"""AG2 1.x, nothing lost or overwritten without a word: every stream in the header and the export, recordings never
truncated, what the model was given (per-call prompt and tools) in the header, unknown events named.

Skipped unless ``ag2`` (1.x) is installed (``.ci/frameworks`` installs it).
"""

from __future__ import annotations

import asyncio
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

ag2 = pytest.importorskip("ag2", reason="ag2 1.x is not installed (pip install 'agent-ft[ag2]')")

from ag2 import Agent, MemoryStream  # noqa: E402
from ag2.context import ConversationContext  # noqa: E402
from ag2.events import BaseEvent, ToolCallEvent  # noqa: E402
from ag2.testing import TestConfig  # noqa: E402
from ag2.tools import tool  # noqa: E402
from framework_helpers import SYSTEM, agent_ft, convert_temperature  # noqa: E402

from agent_ft_cli.adapters.ag2 import SessionStorage, save_ag2_session  # noqa: E402
from agent_ft_cli.errors import InputDataError, LockTimeoutError, RecordingError, SessionWarning  # noqa: E402
from agent_ft_cli.session import load_session, read_header  # noqa: E402


async def three_streams(path: Path, **storage_args: Any) -> None:
    agent = Agent("assistant", SYSTEM, config=TestConfig("un"))
    with SessionStorage(path, agent, **storage_args) as storage:
        await agent.ask("1", stream=MemoryStream(storage))
        await agent.ask("2", stream=MemoryStream(storage), config=TestConfig("deux"))
        await agent.ask("3", stream=MemoryStream(storage), config=TestConfig("trois"))


def test_every_stream_is_in_the_header_and_a_default_export_refuses_to_leave_one_out(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    asyncio.run(three_streams(path))
    header, _ = read_header(path)
    assert [a["name"] for a in header["agents"]] == ["assistant", "user", "user-2", "user-3"]
    session = load_session(path)
    assert [[m["content"] for m in session.thread("assistant", p)] for p in ("user", "user-2", "user-3")] == [
        ["1", "un"], ["2", "deux"], ["3", "trois"],
    ]  # fmt: skip
    assert "user-2" in agent_ft("validate", "--session", str(path)).stdout
    for fmt in ("trl-sft", "openai-sft"):
        refused = agent_ft("export", "-s", str(path), "-f", fmt, "-o", str(tmp_path / "o.jsonl"), check=False)
        assert refused.returncode == 3, refused.stderr
        assert "--peer" in refused.stderr and "user-2" in refused.stderr and "--agent all" in refused.stderr
        assert not (tmp_path / "o.jsonl").exists()
        agent_ft("export", "-s", str(path), "-f", fmt, "-o", str(tmp_path / "all.jsonl"), "--agent", "all")
        rows = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()]
        assert [[m["content"] for m in r["messages"] if m["role"] != "system"] for r in rows] == [
            ["1", "un"], ["2", "deux"], ["3", "trois"],
        ]  # fmt: skip
    listed = agent_ft("inspect", "-s", str(path)).stdout
    assert all(f"assistant -> {p}: 2 message(s)" in listed for p in ("user", "user-2", "user-3"))


def test_an_existing_recording_is_left_byte_for_byte_unless_replacing_is_asked(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    asyncio.run(three_streams(path))
    before = path.read_bytes()
    agent = Agent("assistant", config=TestConfig("x"))
    with pytest.raises(RecordingError, match=r"already holds a recording.*mode='w'"):
        SessionStorage(path, agent)
    reply = asyncio.run(agent.ask("y"))
    with pytest.raises(RecordingError, match="already holds a recording"):
        asyncio.run(save_ag2_session(path, agent, reply))
    assert path.read_bytes() == before


    async def replace() -> None:
        with SessionStorage(path, agent, mode="w") as storage:  # replacing, asked for
            await agent.ask("z", stream=MemoryStream(storage))

    asyncio.run(replace())
    assert [m["content"] for m in load_session(path).thread("assistant", "user")] == ["z", "x"]
    assert len(load_session(path).threads) == 1


def test_a_recording_in_progress_is_locked_even_after_its_header_is_rewritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_FT_LOCK_TIMEOUT", "0")
    path = tmp_path / "s.jsonl"
    agent = Agent("assistant", config=TestConfig("un", "deux"))

    async def chat() -> None:
        with SessionStorage(path, agent) as storage:
            await agent.ask("1", stream=MemoryStream(storage))
            await agent.ask("2", stream=MemoryStream(storage))  # a second stream: the header is rewritten
            with pytest.raises(LockTimeoutError):
                SessionStorage(path, agent, mode="w")
            with pytest.raises(LockTimeoutError):
                await save_ag2_session(path, agent, await storage.get_history(next(iter(storage._peers))), mode="w")

    asyncio.run(chat())
    assert [a["name"] for a in read_header(path)[0]["agents"]] == ["assistant", "user", "user-2"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".s.jsonl.") and p.suffix == ".header"]


@pytest.mark.parametrize("source", [[{"role": "user", "content": "hi"}], ["hi", "there"], "hi", [object()]])
def test_save_ag2_session_refuses_what_is_not_ag2_events(tmp_path: Path, source: Any) -> None:
    agent = Agent("assistant", config=TestConfig("x"))
    with pytest.raises(RecordingError, match=r"not an ag2 event|pass an AgentReply"):
        asyncio.run(save_ag2_session(tmp_path / "s.jsonl", agent, source))
    assert not (tmp_path / "s.jsonl").exists()


def test_the_prompt_the_model_was_given_is_the_headers(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    agent = Agent("assistant", SYSTEM, config=TestConfig("un", "deux"))

    async def chat() -> None:
        with SessionStorage(path, agent) as storage:
            reply = await agent.ask("1", stream=MemoryStream(storage), prompt=["Per-call prompt."])
            with pytest.warns(SessionWarning, match="another system prompt"):
                await reply.ask("2", prompt=["Yet another."])

    asyncio.run(chat())
    assert read_header(path)[0]["agents"][0]["system_message"] == "Per-call prompt."
    agent_ft("export", "-s", str(path), "-f", "openai-sft", "-o", str(tmp_path / "o.jsonl"))
    row = json.loads((tmp_path / "o.jsonl").read_text(encoding="utf-8"))
    assert row["messages"][0] == {"role": "system", "content": "Per-call prompt."}


def _tool_chat(path: Path, **storage_args: Any) -> None:
    config = TestConfig(ToolCallEvent(name="convert_temperature", id="c1", arguments='{"celsius": 1}'), "fini")
    agent = Agent("assistant", SYSTEM, config=config)

    async def chat() -> None:
        with SessionStorage(path, agent, **storage_args) as storage:
            await agent.ask("1 °C ?", stream=MemoryStream(storage), tools=[tool(convert_temperature)])

    asyncio.run(chat())


def test_tools_given_per_call_are_named_or_recorded(tmp_path: Path) -> None:
    with pytest.warns(SessionWarning, match="tool 'convert_temperature'.*tools=\\[...\\]"):
        _tool_chat(tmp_path / "warned.jsonl")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SessionWarning)
        _tool_chat(tmp_path / "s.jsonl", tools=[tool(convert_temperature)])
    agent_ft("export", "-s", str(tmp_path / "s.jsonl"), "-f", "openai-sft", "-o", str(tmp_path / "o.jsonl"))
    row = json.loads((tmp_path / "o.jsonl").read_text(encoding="utf-8"))
    assert [t["function"]["name"] for t in row["tools"]] == ["convert_temperature"]
    assert row["messages"][2]["tool_calls"][0]["function"]["name"] == "convert_temperature"


class AuditEvent(BaseEvent):
    """A user's own conversational event: ag2 keeps it in the history, the mapping does not know it."""

    note: str


def test_an_unknown_event_is_named_never_dropped_silently(tmp_path: Path) -> None:
    agent = Agent("assistant", config=TestConfig("un"))

    async def chat() -> list[Any]:
        with SessionStorage(tmp_path / "s.jsonl", agent) as storage:
            stream = MemoryStream(storage)
            reply = await agent.ask("1", stream=stream)
            with pytest.warns(SessionWarning, match=r"ag2 event .*AuditEvent is not mapped"):
                await stream.send(AuditEvent(note="n"), ConversationContext(stream=stream))
            return [*await reply.history.get_events(), AuditEvent(note="n")]

    events = asyncio.run(chat())
    with pytest.warns(SessionWarning, match="AuditEvent"):
        asyncio.run(save_ag2_session(tmp_path / "snap.jsonl", agent, events))
    with pytest.raises(InputDataError, match="AuditEvent"):
        asyncio.run(save_ag2_session(tmp_path / "strict.jsonl", agent, events, strict=True))
    assert not (tmp_path / "strict.jsonl").exists()


def test_ag2_event_json_given_to_import_points_to_the_recorder(tmp_path: Path) -> None:
    agent = Agent("assistant", config=TestConfig("un"))

    async def chat() -> list[Any]:
        reply = await agent.ask("Bonjour")
        return list(await reply.history.get_events())

    dump = tmp_path / "events.json"
    dump.write_text(json.dumps([e.to_dict() | {"type": type(e).__name__} for e in asyncio.run(chat())], default=str), encoding="utf-8")
    result = agent_ft("import", str(dump), "--out", str(tmp_path / "out"), check=False)
    assert result.returncode == 3 and "save_ag2_session" in result.stderr and "SessionStorage" in result.stderr, result.stderr



def test_a_process_killed_after_its_header_was_rewritten_leaves_every_message(tmp_path: Path) -> None:
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "crash.jsonl"
    script = textwrap.dedent(
        f"""
        import asyncio, os
        from ag2 import Agent, MemoryStream
        from ag2.testing import TestConfig
        from agent_ft_cli.adapters.ag2 import SessionStorage

        async def main():
            agent = Agent("assistant", config=TestConfig("un"))
            storage = SessionStorage({str(path)!r}, agent)
            await agent.ask("1", stream=MemoryStream(storage))
            await agent.ask("2", stream=MemoryStream(storage), config=TestConfig("deux"))
            os._exit(9)

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 9, done.stderr
    session = load_session(path, strict=True)
    assert [a["name"] for a in session.header["agents"]] == ["assistant", "user", "user-2"]
    assert {k: [m["content"] for m in v] for k, v in session.threads.items()} == {
        ("assistant", "user"): ["1", "un"], ("assistant", "user-2"): ["2", "deux"],
    }  # fmt: skip
    assert [p.name for p in tmp_path.iterdir() if "crash" in p.name] == ["crash.jsonl"]  # no copy left beside it
