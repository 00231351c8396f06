"""The workflows as a Python caller sees them: typed results, one shared walk, messages without CLI flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bad_input import good_session
from conftest import REPO
from typer.testing import CliRunner

from agent_ft_cli.cli import app
from agent_ft_cli.pairing import ConfigNeedsClientError, NoClientError
from agent_ft_cli.workflows import record, update, validate, walk

CAPTURE = "clientpkg.clients:CaptureClient"
SAMPLE = REPO / "sample_sessions" / "capital.jsonl"


def test_update_returns_a_typed_result(isolated: Path) -> None:
    (isolated / "chat.jsonl").write_bytes(good_session())
    (isolated / "prefs.json").write_text('[["good", "bad"]]')
    result = update.run(update.UpdateJob(Path("chat.jsonl"), "prefs.json", client=CAPTURE, kwargs={"beta": 0.1}))
    assert (result.agent, result.peer, result.client, result.session) == ("assistant", "user", CAPTURE, "chat.jsonl")
    assert result.messages == len(result.inference_messages) > 0
    assert result.update_stats["captured"] == result.messages
    assert list(result.as_dict()) == ["update_stats", "inference_messages", "preference_data"]
    assert result.preference_data == [["good", "bad"]]


def test_the_walk_builds_the_pair_once_with_one_client(isolated: Path) -> None:
    (isolated / "chat.jsonl").write_bytes(good_session())
    plan = walk.plan(Path("chat.jsonl"), client=CAPTURE, client_args={"capture_path": "c.json"})
    assert (plan.agent, plan.peer) == ("assistant", "user")
    assert plan.client is not None and (plan.client.origin, plan.client.args) == ("given", {"capture_path": "c.json"})
    from clientpkg.clients import CaptureClient

    from agent_ft_cli.clients.loading import client_stdout_to_stderr

    with client_stdout_to_stderr():
        pair = walk.replay(plan, CaptureClient)
    clients = pair.agent.client._clients
    assert [type(c).__name__ for c in clients] == ["CaptureClient"]
    assert clients[0].capture_path == "c.json"
    assert pair.agent.chat_messages[pair.peer] and pair.peer.chat_messages[pair.agent]


def test_core_errors_name_no_flags(isolated: Path) -> None:
    lines = good_session().split(b"\n")
    header = json.loads(lines[0])
    for agent in header["agents"]:
        agent.pop("model_clients", None)
    (isolated / "s.jsonl").write_bytes(json.dumps(header).encode() + b"\n" + b"\n".join(lines[1:]))
    (isolated / "prefs.json").write_text("[]")
    with pytest.raises(NoClientError) as info:
        update.run(update.UpdateJob(Path("s.jsonl"), "prefs.json"))
    assert "--" not in str(info.value)

    config = isolated / "pair.yaml"
    config.write_text(
        "agents:\n  assistant:\n    class: AssistantAgent\n    llm_config:\n      config_list:\n"
        "        - {model: m, model_client_cls: LocalLearningClient}\n  user:\n    class: UserProxyAgent\n"
        "update: assistant\npeer: user\n"
    )
    with pytest.raises(ConfigNeedsClientError) as cfg_info:
        record.run(record.RecordJob(config, "hi", isolated / "out.jsonl"))
    assert "--" not in str(cfg_info.value) and "set 'client.path' in the config" in str(cfg_info.value)
    cli = CliRunner().invoke(app, ["record", "-c", str(config), "-m", "hi", "-o", str(isolated / "out.jsonl")])
    assert cli.exit_code == 3
    assert "set 'client.path' in the config or pass --client" in cli.stderr


def test_record_returns_a_typed_result(isolated: Path) -> None:
    result = record.run(
        record.RecordJob(REPO / "configs" / "local.yaml", "What is the capital of Australia?", isolated / "r.jsonl",
                         quiet=True)
    )
    assert (result.agent, result.peer, result.session) == ("assistant", "user", str(isolated / "r.jsonl"))
    assert result.messages == 4 and isinstance(result.reply, str)
    assert list(result.as_dict()) == ["session", "agent", "peer", "messages", "reply"]


def test_validate_returns_checks_with_their_errors() -> None:
    checks = validate.run(SAMPLE, client="clientpkg.clients:MissingMethods")
    assert [c.name for c in checks] == ["session", "agents", "client"]
    failed = checks[-1]
    assert not failed.ok and failed.exit_code == 4 and failed.error is not None
    assert failed.as_dict() == {"name": "client", "ok": False, "detail": str(failed.error)}
