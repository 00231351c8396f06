"""Issue #9 items 2-5 and 8: the recorder and the snapshot never merge, duplicate, drop or crash."""

from __future__ import annotations

import math
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import orjson
import pytest

from agent_ft_cli import SessionRecorder, load_session, save_session
from agent_ft_cli.errors import AgentFtError, LockTimeoutError, OutputWriteError, RecordingError, SessionWarning


def _agent(name: str) -> Any:
    import autogen

    return autogen.ConversableAgent(name, llm_config=False, human_input_mode="NEVER", code_execution_config=False)


def _say(sender: Any, recipient: Any, text: str | dict[str, Any]) -> None:
    sender.send(text, recipient, request_reply=False, silent=True)


def _contents(messages: list[dict[str, Any]]) -> list[Any]:
    return [m.get("content") for m in messages]


# -- item 2: two peers with one name ------------------------------------------------------------------------------


def _two_managers() -> tuple[Any, Any, Any]:
    alice, m1, m2 = _agent("alice"), _agent("chat_manager"), _agent("chat_manager")
    _say(m1, alice, "one-1")
    _say(m2, alice, "two-1")
    _say(alice, m1, "one-2")
    _say(alice, m2, "two-2")
    return alice, m1, m2


def test_save_session_keeps_same_named_peers_apart(tmp_path: Path) -> None:
    alice, *_managers = _two_managers()
    path = tmp_path / "s.jsonl"
    with pytest.warns(SessionWarning, match="chat_manager#2"):
        save_session(path, alice)
    threads = load_session(path).threads
    assert _contents(threads[("alice", "chat_manager")]) == ["one-1", "one-2"]
    assert _contents(threads[("alice", "chat_manager#2")]) == ["two-1", "two-2"]


def test_recorder_keeps_same_named_peers_apart(tmp_path: Path) -> None:
    alice, m1, m2 = _agent("alice"), _agent("chat_manager"), _agent("chat_manager")
    path = tmp_path / "s.jsonl"
    with pytest.warns(SessionWarning, match="chat_manager#2"), SessionRecorder(path, alice):
        _say(m1, alice, "one-1")
        _say(m2, alice, "two-1")
        _say(alice, m1, "one-2")
        _say(alice, m2, "two-2")
    threads = load_session(path).threads
    assert _contents(threads[("alice", "chat_manager")]) == ["one-1", "one-2"]
    assert _contents(threads[("alice", "chat_manager#2")]) == ["two-1", "two-2"]


def test_a_recorded_agent_keeps_its_own_name_as_peer(tmp_path: Path) -> None:
    """The recorded agent named X owns the id X even when a same-named stranger talked first."""
    alice, m1, m2 = _agent("alice"), _agent("chat_manager"), _agent("chat_manager")
    _say(m2, alice, "stranger")
    _say(m1, alice, "recorded")
    path = tmp_path / "s.jsonl"
    with pytest.warns(SessionWarning):
        save_session(path, alice, m1)
    threads = load_session(path).threads
    assert _contents(threads[("alice", "chat_manager")]) == ["recorded"]
    assert _contents(threads[("alice", "chat_manager#2")]) == ["stranger"]
    assert _contents(threads[("chat_manager", "alice")]) == ["recorded"]


def test_two_different_recorded_agents_with_one_name_are_refused_before_writing(tmp_path: Path) -> None:
    a, b = _agent("x"), _agent("x")
    path = tmp_path / "s.jsonl"
    for call in (lambda: save_session(path, a, b), lambda: SessionRecorder(path, a, b)):
        with pytest.raises(RecordingError, match="both named 'x'") as info:
            call()
        assert isinstance(info.value, ValueError) and isinstance(info.value, AgentFtError)
    assert not path.exists()


# -- item 3: the same agent twice ---------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["save_session", "SessionRecorder"])
def test_the_same_agent_twice_is_recorded_once(tmp_path: Path, how: str) -> None:
    a, u = _agent("a"), _agent("u")
    path = tmp_path / "s.jsonl"
    if how == "save_session":
        _say(u, a, "hi")
        _say(a, u, "hello")
        save_session(path, a, u, a)
    else:
        with SessionRecorder(path, a, u, a, u):
            _say(u, a, "hi")
            _say(a, u, "hello")
    threads = load_session(path).threads
    assert _contents(threads[("a", "u")]) == ["hi", "hello"]
    assert _contents(threads[("u", "a")]) == ["hi", "hello"]
    assert [d["name"] for d in load_session(path).agents] == ["a", "u"]


@pytest.mark.parametrize("bad", [(), ("not an agent",), (object(),)])
def test_bad_agent_arguments_are_agent_ft_errors(tmp_path: Path, bad: tuple[Any, ...]) -> None:
    for call in (lambda: save_session(tmp_path / "s.jsonl", *bad), lambda: SessionRecorder(tmp_path / "s.jsonl", *bad)):
        with pytest.raises(RecordingError):
            call()


# -- item 4: stacked and overlapping recorders --------------------------------------------------------------------


def test_stacked_recorders_each_keep_every_message(tmp_path: Path) -> None:
    a, u = _agent("a"), _agent("u")
    outer, inner = tmp_path / "outer.jsonl", tmp_path / "inner.jsonl"
    with SessionRecorder(outer, a, u):
        _say(u, a, "1")
        with SessionRecorder(inner, a):
            _say(a, u, "2")
        _say(u, a, "3")
    assert _contents(load_session(outer).threads[("a", "u")]) == ["1", "2", "3"]
    assert _contents(load_session(outer).threads[("u", "a")]) == ["1", "2", "3"]
    assert _contents(load_session(inner).threads[("a", "u")]) == ["1", "2"]  # held on entry, then the append
    assert isinstance(a._oai_messages, dict) and type(a._oai_messages).__name__ == "defaultdict"


def test_overlapping_start_stop_each_keep_every_message(tmp_path: Path) -> None:
    a, u = _agent("a"), _agent("u")
    r1 = SessionRecorder(tmp_path / "1.jsonl", a, u).start()
    _say(u, a, "1")
    r2 = SessionRecorder(tmp_path / "2.jsonl", a, u).start()
    _say(a, u, "2")
    r1.stop()  # the first stops while the second still records
    _say(u, a, "3")
    r2.stop()
    _say(a, u, "4")  # nobody records this one
    assert _contents(load_session(tmp_path / "1.jsonl").threads[("a", "u")]) == ["1", "2"]
    assert _contents(load_session(tmp_path / "2.jsonl").threads[("a", "u")]) == ["1", "2", "3"]
    assert _contents(a.chat_messages[u]) == ["1", "2", "3", "4"]
    assert type(a._oai_messages).__name__ == "defaultdict"


# -- item 5: values JSON cannot hold ------------------------------------------------------------------------------


def _odd_message() -> dict[str, Any]:
    cycle: dict[str, Any] = {"k": 1}
    cycle["self"] = cycle
    return {
        "content": "odd",
        "role": "user",
        "context": {"big": 2**80, "neg": -(2**70), "nan": math.nan, "inf": math.inf, "ninf": -math.inf, "cycle": cycle, "ok": 1.5},
    }


@pytest.mark.parametrize("how", ["save_session", "SessionRecorder"])
def test_odd_values_never_break_the_chat_and_are_written_as_documented(tmp_path: Path, how: str) -> None:
    a, u = _agent("a"), _agent("u")
    path = tmp_path / "s.jsonl"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if how == "save_session":
            _say(u, a, _odd_message())
            _say(u, a, _odd_message())
            save_session(path, a)
        else:
            with SessionRecorder(path, a):
                _say(u, a, _odd_message())  # must not raise inside the chat
                _say(u, a, _odd_message())
    texts = [str(w.message) for w in caught if issubclass(w.category, SessionWarning)]
    assert len(texts) == 3, texts  # once per kind, not once per message
    assert any("64 bits" in t for t in texts) and any("NaN" in t for t in texts) and any("<cycle>" in t for t in texts)
    thread = load_session(path).threads[("a", "u")]
    assert len(thread) == 2
    ctx = thread[0]["context"]
    assert ctx["big"] == str(2**80) and ctx["neg"] == str(-(2**70))
    assert (ctx["nan"], ctx["inf"], ctx["ninf"]) == ("NaN", "Infinity", "-Infinity")
    assert ctx["cycle"] == {"k": 1, "self": "<cycle>"} and ctx["ok"] == 1.5
    assert a.chat_messages[u][0]["context"]["big"] == 2**80  # the live message is untouched


def test_nan_alone_is_not_silently_null(tmp_path: Path) -> None:
    a, u = _agent("a"), _agent("u")
    path = tmp_path / "s.jsonl"
    with pytest.warns(SessionWarning, match="NaN"), SessionRecorder(path, a):
        _say(u, a, {"content": "n", "role": "user", "context": {"score": math.nan}})
    assert load_session(path).threads[("a", "u")][0]["context"]["score"] == "NaN"


def test_plain_values_are_written_by_the_fast_path_unchanged(tmp_path: Path) -> None:
    from agent_ft_cli.session import dumps_record, dumps_record_safe, message_record

    rec = message_record("a", "u", {"content": None, "role": "user", "n": 2**63, "x": [1.0, None, {"y": "z"}]})
    called: list[Any] = []
    assert dumps_record_safe(rec, called.append) == dumps_record(rec)
    assert called == []
    assert orjson.loads(dumps_record(rec))["message"]["n"] == 2**63


def test_save_session_into_a_missing_folder_is_an_output_error_naming_the_path(tmp_path: Path) -> None:
    a = _agent("a")
    target = tmp_path / "missing" / "s.jsonl"
    with pytest.raises(OutputWriteError) as info:
        save_session(target, a)
    assert str(target) in str(info.value) and ".tmp" not in str(info.value)
    assert isinstance(info.value, AgentFtError)


def test_save_session_writes_through_a_symlink(tmp_path: Path) -> None:
    a, u = _agent("a"), _agent("u")
    _say(u, a, "hi")
    real = tmp_path / "real.jsonl"
    real.write_text("old")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    save_session(link, a)
    assert link.is_symlink()
    assert _contents(load_session(real).threads[("a", "u")]) == ["hi"]


# -- item 8: an existing file and two recorders on one file -------------------------------------------------------


def test_recorder_refuses_to_truncate_an_earlier_recording(tmp_path: Path) -> None:
    a, u = _agent("a"), _agent("u")
    path = tmp_path / "s.jsonl"
    with SessionRecorder(path, a):
        _say(u, a, "first")
    before = path.read_bytes()
    with pytest.raises(RecordingError, match="already holds a recording"):
        SessionRecorder(path, a).start()
    assert path.read_bytes() == before
    assert type(a._oai_messages).__name__ == "defaultdict"  # a refused start leaves the agent alone
    with SessionRecorder(path, a, mode="w"):
        _say(u, a, "second")
    assert _contents(load_session(path).threads[("a", "u")]) == ["first", "second"]
    with pytest.raises(RecordingError, match="mode"):
        SessionRecorder(path, a, mode="a")


def test_recorder_accepts_an_existing_empty_file(tmp_path: Path) -> None:
    a, u = _agent("a"), _agent("u")
    path = tmp_path / "s.jsonl"
    path.touch()
    with SessionRecorder(path, a):
        _say(u, a, "x")
    assert _contents(load_session(path).threads[("a", "u")]) == ["x"]


def test_second_recorder_on_the_same_file_waits_then_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_FT_LOCK_TIMEOUT", "0.2")
    a, b, u = _agent("a"), _agent("b"), _agent("u")
    path = tmp_path / "s.jsonl"
    with SessionRecorder(path, a):
        _say(u, a, "kept")
        with pytest.raises(LockTimeoutError, match="in use"):
            SessionRecorder(path, b, mode="w").start()
        _say(u, a, "still kept")
    assert _contents(load_session(path).threads[("a", "u")]) == ["kept", "still kept"]


def test_second_recorder_waits_for_the_first_to_finish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_FT_LOCK_TIMEOUT", "10")
    a, b, u = _agent("a"), _agent("b"), _agent("u")
    path = tmp_path / "s.jsonl"
    first = SessionRecorder(path, a).start()
    _say(u, a, "one")
    threading.Timer(0.3, first.stop).start()
    t0 = time.monotonic()
    with SessionRecorder(path, b, mode="w"):  # waits for the lock, then replaces as asked
        _say(u, b, "two")
    assert time.monotonic() - t0 >= 0.2
    assert list(load_session(path).threads) == [("b", "u")]


def test_record_cli_refuses_an_existing_recording_without_force(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from agent_ft_cli.cli.app import app

    config = str(Path(__file__).resolve().parents[2] / "configs" / "local.yaml")
    out = tmp_path / "r.jsonl"
    args = ["record", "-c", config, "-m", "What is the capital of Australia?", "-o", str(out), "-q"]
    assert CliRunner().invoke(app, args).exit_code == 0
    before = out.read_bytes()
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "--force" in refused.stderr and str(out) in refused.stderr
    assert out.read_bytes() == before
    assert CliRunner().invoke(app, [*args, "--force"]).exit_code == 0
    assert len(load_session(out).threads[("assistant", "user")]) == 2


def test_recorder_writes_through_a_symlink_and_names_a_missing_folder(tmp_path: Path) -> None:
    a, u = _agent("a"), _agent("u")
    real = tmp_path / "real.jsonl"
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    with SessionRecorder(link, a):
        _say(u, a, "through")
    assert link.is_symlink()
    assert _contents(load_session(real).threads[("a", "u")]) == ["through"]
    missing = tmp_path / "nope" / "s.jsonl"
    with pytest.raises(OutputWriteError, match=str(missing)):
        SessionRecorder(missing, a).start()
    assert type(a._oai_messages).__name__ == "defaultdict"


def test_a_failing_write_never_breaks_the_chat_and_is_kept_for_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    a, u = _agent("a"), _agent("u")
    path = tmp_path / "s.jsonl"
    rec = SessionRecorder(path, a).start()
    _say(u, a, "kept")

    def full(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("agent_ft_cli.classic.recorder.os.write", full)
    with pytest.warns(SessionWarning, match="No space left"):
        _say(u, a, "lost")  # the chat goes on
        _say(u, a, "lost too")  # warned once
    monkeypatch.undo()
    rec.stop()
    assert rec.write_error is not None and rec.write_error.errno == errno.ENOSPC
    assert _contents(a.chat_messages[u]) == ["kept", "lost", "lost too"]
    assert _contents(load_session(path).threads[("a", "u")]) == ["kept"]
