"""Issue #16 item 1 (session side): every conversation of a thread is reachable, oldest first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent_ft_cli import SessionRecorder, load_session
from agent_ft_cli.errors import SessionError
from agent_ft_cli.session import Session, clear_record, make_header, message_record, write_records


def _pair() -> tuple[Any, Any]:
    import autogen

    a = autogen.ConversableAgent("a", llm_config=False, human_input_mode="NEVER", default_auto_reply="reply")
    u = autogen.ConversableAgent("u", llm_config=False, human_input_mode="NEVER", default_auto_reply="next")
    return a, u


def _texts(conversations: list[list[dict[str, Any]]]) -> list[list[Any]]:
    return [[m.get("content") for m in c] for c in conversations]


def test_three_chats_recorded_by_one_recorder_are_three_conversations(tmp_path: Path) -> None:
    a, u = _pair()
    path = tmp_path / "s.jsonl"
    with SessionRecorder(path, a, u):
        for q in ("q1", "q2", "q3"):
            u.initiate_chat(a, message=q, max_turns=1, silent=True)
    session = load_session(path)
    conversations = session.conversations("a", "u")
    assert _texts(conversations) == [["q1", "reply"], ["q2", "reply"], ["q3", "reply"]]
    assert conversations[-1] == session.thread("a", "u")  # the last is the thread as the agent holds it now
    assert _texts(session.conversations("u", "a")) == _texts(conversations)


def test_chats_that_keep_the_history_are_one_conversation(tmp_path: Path) -> None:
    a, u = _pair()
    path = tmp_path / "s.jsonl"
    with SessionRecorder(path, a, u):
        u.initiate_chat(a, message="q1", max_turns=1, silent=True)
        u.initiate_chat(a, message="q2", max_turns=1, silent=True, clear_history=False)
    assert _texts(load_session(path).conversations("a", "u")) == [["q1", "reply", "q2", "reply"]]


def test_a_history_changed_in_place_is_not_a_new_conversation(tmp_path: Path) -> None:
    a, u = _pair()
    path = tmp_path / "s.jsonl"
    with SessionRecorder(path, a, u):
        u.initiate_chat(a, message="q1", max_turns=1, silent=True)
        a.chat_messages[u].pop()  # rewritten: a clear marked rewrite, then the new content
        u.initiate_chat(a, message="q2", max_turns=1, silent=True)
    assert _texts(load_session(path).conversations("a", "u")) == [["q1"], ["q2", "reply"]]


def test_conversations_from_records_and_clears_of_every_thread(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    m = lambda text: {"content": text, "role": "user"}  # noqa: E731
    records = [
        message_record("a", "u", m("1")),
        message_record("a", "v", m("v1")),
        clear_record("a", None),  # ends both threads' conversations
        clear_record("a", "u"),  # on an empty thread: no empty conversation
        message_record("a", "u", m("2")),
        clear_record("a", "u", rewrite=True),
        message_record("a", "u", m("2b")),
    ]
    write_records(path, make_header([{"name": "a"}]), records)
    session = load_session(path)
    assert _texts(session.conversations("a", "u")) == [["1"], ["2b"]]
    assert _texts(session.conversations("a", "v")) == [["v1"]]  # cleared: nothing now, the earlier one stays
    assert session.thread("a", "v") == []
    with pytest.raises(SessionError, match="threads in this session"):
        session.conversations("a", "nobody")


def test_conversations_signature_is_public() -> None:
    import inspect

    import agent_ft_cli.session as fmt

    assert fmt.Session is Session
    sig = inspect.signature(Session.conversations)
    assert list(sig.parameters) == ["self", "agent", "peer"]
    assert sig.return_annotation in ("list[list[Message]]", list[list[dict[str, Any]]])


def test_inspect_lists_and_shows_each_conversation(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from agent_ft_cli.cli import app

    a, u = _pair()
    path = tmp_path / "s.jsonl"
    with SessionRecorder(path, a, u):
        for q in ("q1", "q2", "q3"):
            u.initiate_chat(a, message=q, max_turns=1, silent=True)
    run = CliRunner().invoke
    base = ["inspect", "-s", str(path), "--agent", "a", "--peer", "u"]
    now = run(app, [*base, "--json"])
    assert [m["content"] for m in json.loads(now.stdout)["messages"]] == ["q3", "reply"]  # as the agent holds it
    first = run(app, [*base, "--json", "--conversation", "1"])
    assert first.exit_code == 0, first.output
    assert [m["content"] for m in json.loads(first.stdout)["messages"]] == ["q1", "reply"]
    shown = run(app, base)
    assert shown.exit_code == 0 and "conversation 3 of 3" in shown.stdout
    too_far = run(app, [*base, "--conversation", "4"])
    assert too_far.exit_code == 2 and "holds 3 conversation(s)" in too_far.stderr


def test_update_can_be_pointed_at_another_conversation_or_all(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from agent_ft_cli.cli import app

    a, u = _pair()
    path = tmp_path / "s.jsonl"
    with SessionRecorder(path, a, u):
        for q in ("q1", "q2", "q3"):
            u.initiate_chat(a, message=q, max_turns=1, silent=True)
    prefs = tmp_path / "prefs.json"
    prefs.write_text("[]")
    base = ["update", "-s", str(path), "--prefs", str(prefs), "--agent", "a", "--peer", "u",
            "--client", "clientpkg.clients:CaptureClient", "--json"]

    def sent(*extra: str) -> list[Any]:
        result = CliRunner().invoke(app, [*base, *extra])
        assert result.exit_code == 0, result.output
        return [m["content"] for m in json.loads(result.stdout)["inference_messages"]]

    assert sent() == ["q3", "reply"]  # the seed's meaning: the thread as the agent holds it now
    assert sent("--conversation", "1") == ["q1", "reply"]
    assert sent("--conversation", "all") == ["q1", "reply", "q2", "reply", "q3", "reply"]
    for bad in ("4", "0", "first"):
        refused = CliRunner().invoke(app, [*base, "--conversation", bad])
        assert refused.exit_code == 2, refused.output
