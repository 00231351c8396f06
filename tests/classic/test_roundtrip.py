"""Record a live chat (tool call, tool response, None content, unicode, several turns) and replay it exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import make_pair, run_chat

from agent_ft_cli import SessionRecorder, load_session, save_session
from agent_ft_cli.classic.replay import replay_pair


def _plain(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the messages look like after a JSON round trip (tuples become lists)."""
    return json.loads(json.dumps(messages, ensure_ascii=False))


def _live_threads(*agents: Any) -> dict[tuple[str, str], list[dict[str, Any]]]:
    return {(a.name, p.name): _plain(list(msgs)) for a in agents for p, msgs in a.chat_messages.items()}


@pytest.fixture(params=["save_session", "SessionRecorder"])
def recorded(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[tuple[str, str], list[dict[str, Any]]]]:
    assistant, user = make_pair()
    path = tmp_path / "chat.jsonl"
    if request.param == "save_session":
        run_chat(assistant, user)
        save_session(path, assistant, user)
    else:
        with SessionRecorder(path, assistant, user):
            run_chat(assistant, user)
    return path, _live_threads(assistant, user)


def test_live_chat_has_the_interesting_parts(recorded: Any) -> None:
    _, live = recorded
    thread = live[("assistant", "user")]
    assert any(m.get("tool_calls") for m in thread)
    assert any(m.get("tool_responses") for m in thread)
    assert any(m.get("content") is None for m in thread)
    assert any("你好" in (m.get("content") or "") for m in thread)
    assert len(thread) >= 4


def test_load_session_equals_live(recorded: Any) -> None:
    path, live = recorded
    session = load_session(path)
    assert session.threads == live


def test_replay_assigns_exact_histories(recorded: Any) -> None:
    from clientpkg.clients import CaptureClient

    path, live = recorded
    session = load_session(path)
    pair = replay_pair(session, "assistant", "user", client_cls=CaptureClient)
    assert _plain(pair.agent.chat_messages[pair.peer]) == live[("assistant", "user")]
    assert _plain(pair.peer.chat_messages[pair.agent]) == live[("user", "assistant")]


def test_secrets_never_reach_the_file(recorded: Any) -> None:
    path, _ = recorded
    text = path.read_text(encoding="utf-8")
    assert "sk-test-SECRET-123456" not in text
    header = json.loads(text.splitlines()[0])
    entry = header["agents"][0]["llm_config"]["config_list"][0]
    assert entry["api_key"] == "<redacted>"


def test_recorder_streams_each_message_before_the_chat_ends(tmp_path: Path) -> None:
    assistant, user = make_pair(tools=False)
    path = tmp_path / "stream.jsonl"
    seen: list[int] = []

    def spy(recipient: Any, messages: Any, sender: Any, config: Any) -> tuple[bool, None]:
        seen.append(sum(1 for line in path.read_text(encoding="utf-8").splitlines() if '"type":"message"' in line))
        return False, None

    assistant.register_reply([object, None], spy, position=0)
    with SessionRecorder(path, assistant, user):
        run_chat(assistant, user, turns=2)
    # When the assistant is asked to reply, the message it received is already on disk.
    assert seen and seen[0] >= 2


def test_recorder_writes_clear_history(tmp_path: Path) -> None:
    assistant, user = make_pair(tools=False)
    path = tmp_path / "clear.jsonl"
    with SessionRecorder(path, assistant, user):
        run_chat(assistant, user, turns=1)
        assistant.clear_history(user)
        user.initiate_chat(assistant, message="second chat", max_turns=1, silent=True, clear_history=False)
    session = load_session(path)
    assert session.threads[("assistant", "user")] == _plain(assistant.chat_messages[user])
    assert session.threads[("assistant", "user")][0]["content"] == "second chat"
    assert session.threads[("user", "assistant")] == _plain(user.chat_messages[assistant])


def test_recorder_restores_plain_history_on_exit(tmp_path: Path) -> None:
    assistant, user = make_pair(tools=False)
    with SessionRecorder(tmp_path / "x.jsonl", assistant, user):
        run_chat(assistant, user, turns=1)
        before = _plain(assistant.chat_messages[user])
    assert type(assistant.chat_messages).__name__ == "defaultdict"
    assert _plain(assistant.chat_messages[user]) == before


def test_save_session_puts_the_end_of_every_thread_at_the_end_of_the_file(tmp_path: Path) -> None:
    import autogen

    a = autogen.ConversableAgent("a", llm_config=False)
    b = autogen.ConversableAgent("b", llm_config=False)
    c = autogen.ConversableAgent("c", llm_config=False)
    a.chat_messages[b] = [{"content": f"ab{i}", "role": "user"} for i in range(50)]
    a.chat_messages[c] = [{"content": f"ac{i}", "role": "user"} for i in range(3)]
    b.chat_messages[a] = [{"content": f"ba{i}", "role": "assistant"} for i in range(50)]
    path = save_session(tmp_path / "s.jsonl", a, b, c)
    last = [json.loads(line)["message"]["content"] for line in path.read_text().splitlines()[-3:]]
    assert last == ["ab49", "ac2", "ba49"]
    session = load_session(path)
    assert session.threads[("a", "c")] == a.chat_messages[c]
    assert session.threads[("a", "b")] == a.chat_messages[b]
