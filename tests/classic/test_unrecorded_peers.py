"""Issue #9 item 1: threads whose peer is not a recorded agent work in every command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent_ft_cli import SessionRecorder, load_session
from agent_ft_cli.cli import app
from agent_ft_cli.errors import SessionError
from agent_ft_cli.session import choose_pair, read_header
from agent_ft_cli.session.reader import thread_keys

PREFS = Path(__file__).resolve().parents[2] / "sample_sessions" / "capital.prefs.json"


def _conv(name: str, reply: str) -> Any:
    import autogen

    return autogen.ConversableAgent(name, llm_config=False, human_input_mode="NEVER", default_auto_reply=reply)


@pytest.fixture
def single(tmp_path: Path) -> Path:
    """Only the agent being tuned is recorded; its user proxy is not."""
    import autogen

    from agent_ft_cli.clients.local import LocalLearningClient

    assistant = autogen.AssistantAgent(
        "assistant", llm_config={"config_list": [{"model": "m", "model_client_cls": "LocalLearningClient"}]}
    )
    assistant.register_model_client(model_client_cls=LocalLearningClient)
    user = autogen.UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    path = tmp_path / "single.jsonl"
    with SessionRecorder(path, assistant):
        user.initiate_chat(assistant, message="What is the capital of Australia?", max_turns=1, silent=True)
    return path


@pytest.fixture
def group(tmp_path: Path) -> Path:
    """A group chat whose manager is not recorded: alice's and bob's peer is the manager, not each other."""
    import autogen

    alice, bob = _conv("alice", "alice says hi"), _conv("bob", "bob says hi")
    chat = autogen.GroupChat([alice, bob], messages=[], max_round=4, speaker_selection_method="round_robin")
    manager = autogen.GroupChatManager(chat, llm_config=False)
    path = tmp_path / "group.jsonl"
    with SessionRecorder(path, alice, bob):
        alice.initiate_chat(manager, message="start", silent=True)
    return path


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_the_file_threads_are_the_truth(single: Path, group: Path) -> None:
    assert thread_keys(single) == [("assistant", "user")]
    assert thread_keys(group) == [("alice", "chat_manager"), ("bob", "chat_manager")]
    header, _ = read_header(group)
    assert choose_pair(header, "alice", path=group) == ("alice", "chat_manager")  # not bob, the other header agent
    assert choose_pair(header, "bob", path=group) == ("bob", "chat_manager")
    header, _ = read_header(single)
    assert choose_pair(header, path=single) == ("assistant", "user")


def test_thread_keys_without_the_canonical_framing_agree(tmp_path: Path, group: Path) -> None:
    lines = group.read_text().splitlines()
    odd = [lines[0]] + [json.dumps(dict(reversed(list(json.loads(ln).items())))) for ln in lines[1:]]
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(odd) + "\n")
    assert thread_keys(path) == thread_keys(group)


def test_a_group_member_without_peer_is_offered_only_its_own_threads(tmp_path: Path) -> None:
    import autogen

    alice, bob = _conv("alice", "a"), _conv("bob", "b")
    m1 = autogen.GroupChatManager(autogen.GroupChat([alice, bob], messages=[]), llm_config=False)
    m2 = autogen.GroupChatManager(autogen.GroupChat([alice, bob], messages=[]), llm_config=False, name="other")
    path = tmp_path / "two.jsonl"
    with SessionRecorder(path, alice, bob):
        alice.send("to one", m1, request_reply=False, silent=True)
        alice.send("to other", m2, request_reply=False, silent=True)
    header, _ = read_header(path)
    with pytest.raises(SessionError, match=r"choices: chat_manager, other$"):
        choose_pair(header, "alice", path=path)


def test_every_command_works_on_a_single_agent_recording(single: Path, tmp_path: Path) -> None:
    shown = _run("inspect", "-s", str(single), "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["peer"] == "user"
    checked = _run("validate", "-s", str(single), "--json")
    assert checked.exit_code == 0, checked.output
    updated = _run("update", "-s", str(single), "--prefs", str(PREFS), "--json")
    assert updated.exit_code == 0, updated.output
    assert json.loads(updated.stdout)["inference_messages"] == load_session(single).threads[("assistant", "user")]
    out = tmp_path / "rows.jsonl"
    exported = _run("export", "-s", str(single), "--format", "trl-sft", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    assert len(out.read_text().splitlines()) == 1


def test_every_command_works_on_a_group_chat_member(group: Path, tmp_path: Path) -> None:
    shown = _run("inspect", "-s", str(group), "--agent", "alice", "--json")
    assert shown.exit_code == 0, shown.output
    got = json.loads(shown.stdout)
    assert got["peer"] == "chat_manager" and len(got["messages"]) == 4
    checked = _run("validate", "-s", str(group), "--agent", "alice")
    assert checked.exit_code == 0 and "'chat_manager'" in checked.stdout
    updated = _run(
        "update", "-s", str(group), "--agent", "alice", "--prefs", str(PREFS), "--client",
        "agent_ft_cli.clients.local:LocalLearningClient", "--json",
    )
    assert updated.exit_code == 0, updated.output
    assert [m["content"] for m in json.loads(updated.stdout)["inference_messages"]] == [m["content"] for m in got["messages"]]
    out = tmp_path / "rows.jsonl"
    exported = _run("export", "-s", str(group), "--agent", "bob", "--format", "trl-sft", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    row = json.loads(out.read_text().splitlines()[0])
    assert "bob says hi" in json.dumps(row)


def test_an_unknown_peer_lists_the_peers_in_the_threads(group: Path) -> None:
    header, _ = read_header(group)
    with pytest.raises(SessionError, match="other peers in its threads: chat_manager"):
        choose_pair(header, "alice", "nobody", path=group)
