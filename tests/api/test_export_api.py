"""The Python API (issue #16 items 3 and 7): ``export_rows`` gives the CLI's rows from paths and from ``Session``
objects, ``replay`` rebuilds the pair with a client, and datasets keep every column."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "export"))

from exportkit import _rows, _run, load_folder, save_live
from test_conversations import QUESTIONS, record

import agent_ft_cli
from agent_ft_cli.local import DEFAULT_REPLY, LocalLearningClient


@pytest.mark.parametrize("fmt", ["trl-sft", "openai-sft", "trl-preference", "trl-kto", "openai-dpo"])
def test_export_rows_are_the_rows_the_cli_writes(tmp_path: Path, fmt: str) -> None:
    session = record(tmp_path, "three.jsonl", QUESTIONS)
    prefs = tmp_path / "p.json"
    prefs.write_text(json.dumps([{"prompt": QUESTIONS[2], "chosen": "Shakespeare.", "rejected": DEFAULT_REPLY}]))
    out = tmp_path / "o.jsonl"
    assert _run("-s", str(session), "--prefs", str(prefs), "-f", fmt, "-o", str(out)).exit_code == 0
    written = _rows(out)
    from_path = agent_ft_cli.export_rows(session, format=fmt, prefs=prefs)
    from_str = agent_ft_cli.export_rows([str(session)], format=fmt, prefs=json.loads(prefs.read_text()))
    from_session = agent_ft_cli.export_rows([agent_ft_cli.load_session(session)], format=fmt, prefs=prefs)
    assert json.loads(json.dumps(from_path)) == written
    assert from_str == from_path == from_session


def test_export_rows_options_and_errors(tmp_path: Path) -> None:
    live = save_live(tmp_path)
    [row] = agent_ft_cli.export_rows(live, format="openai-sft", train_last_only=True)
    assert [m.get("weight") for m in row["messages"] if m["role"] == "assistant"] == [0, 0, None]
    with pytest.raises(agent_ft_cli.AgentFtError) as info:
        agent_ft_cli.export_rows(live, format="openai-sft", last_only=True)
    assert "last_only" in str(info.value) and "--" not in str(info.value)
    with pytest.raises(agent_ft_cli.AgentFtError) as info:
        agent_ft_cli.export_rows(live, format="nope")
    assert "--" not in str(info.value)
    with pytest.raises(agent_ft_cli.SessionError):
        agent_ft_cli.export_rows(tmp_path / "missing.jsonl", format="trl-sft")


def test_replay_rebuilds_the_pair_with_a_client(tmp_path: Path) -> None:
    session = record(tmp_path, "three.jsonl", QUESTIONS)
    for source in (session, str(session), agent_ft_cli.load_session(session)):
        agent, peer = agent_ft_cli.replay(source, client=LocalLearningClient, client_args={"state_path": str(tmp_path / "m.json")})
        assert agent.name == "assistant" and peer.name == "user"
        # the thread as the agent holds it now: the last conversation
        assert [m["content"] for m in agent.chat_messages[peer]] == [QUESTIONS[2], DEFAULT_REPLY]
        assert [m["content"] for m in peer.chat_messages[agent]] == [QUESTIONS[2], DEFAULT_REPLY]
        # the same reply answered all three chats: without a prompt the pair is ambiguous over the recording's
        # conversations (as export decides it), never tied to the last chat's question by guess
        client = agent.client._clients[0]
        stats = client.update_model([["Shakespeare.", DEFAULT_REPLY]], agent.chat_messages[peer])
        assert stats["learned"] == 0 and next(iter(stats["skipped_reasons"])).startswith("ambiguous")
        prompted = [{"prompt": "Who wrote Hamlet?", "chosen": "Shakespeare.", "rejected": DEFAULT_REPLY}]
        stats = client.update_model(prompted, agent.chat_messages[peer])
        assert stats["learned"] == 1
        reply = agent.generate_reply(messages=[{"role": "user", "content": "Who wrote Hamlet?"}])
        assert (reply if isinstance(reply, str) else reply["content"]) == "Shakespeare."
        (tmp_path / "m.json").unlink()


def test_a_dataset_keeps_every_column(tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    rows = [{"messages": [{"role": "user", "content": "a"}]}, {"messages": [{"role": "user", "content": "b"}], "tools": [{"type": "function", "function": {"name": "f"}}]}]
    ds = agent_ft_cli.to_dataset(rows)
    assert ds.column_names == ["messages", "tools"]
    assert ds[0]["tools"] is None and ds[1]["tools"][0]["function"]["name"] == "f"


def test_out_folder_saves_a_dataset_with_every_row_and_column(tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    plain = record(tmp_path, "plain.jsonl", QUESTIONS[:1])  # no tools: its row comes first
    live = save_live(tmp_path)  # a tool chat: its row has the tools column
    folder = tmp_path / "ds"
    result = _run("-s", str(plain), "-s", str(live), "-f", "trl-sft", "-o", f"{folder}/", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"] == 2 and summary["dataset"] == f"{folder}/"
    ds = load_folder(folder)
    assert len(ds) == 2 and "tools" in ds.column_names
    assert ds[0]["tools"] is None
    assert ds[1]["tools"][0]["function"]["name"] == "convert_temperature"
    call = next(m for m in ds[1]["messages"] if m.get("tool_calls"))
    assert call["tool_calls"][0]["function"]["arguments"] == {"celsius": 21.5}
