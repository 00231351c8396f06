"""agent-ft import: sessions rebuilt from a REAL autogen.runtime_logging database and runtime.log (classic agents, a
custom client, a tool call) equal what the agent saw; schema variants; OpenAI chat JSONL; never overwrite."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, make_pair, run_chat
from typer.testing import CliRunner

from agent_ft_cli.adapters import ImportOptions, run_import
from agent_ft_cli.adapters.runtime_log import parse_repr
from agent_ft_cli.cli import app
from agent_ft_cli.session import load_session

runner = CliRunner()
SCHEMA = REPO / "agent_ft_cli" / "schemas" / "session-v1.schema.json"


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False))


def _validate(path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    for line in path.read_text(encoding="utf-8").splitlines():
        jsonschema.validate(json.loads(line), schema)


def _chat_logged(tmp_path: Path, *, logger: str = "sqlite", chats: int = 1) -> tuple[Path, Any, Any, str]:
    import autogen.runtime_logging as rl

    db = tmp_path / "logs.db"
    if logger == "sqlite":
        sid = rl.start(config={"dbname": str(db)})
    else:
        sid = rl.start(logger_type="file", config={"filename": "runtime.log"})
    try:
        assistant, user = make_pair()
        run_chat(assistant, user)
        for _ in range(chats - 1):
            user.initiate_chat(assistant, message="Et 0 °C ?", max_turns=2, silent=True, clear_history=True)
    finally:
        rl.stop()
    path = db if logger == "sqlite" else Path("autogen_logs") / "runtime.log"
    return path, assistant, user, sid


def _import(*args: str) -> Any:
    return runner.invoke(app, ["import", *args])


def test_sqlite_import_equals_the_agents_view(tmp_path: Path) -> None:
    db, assistant, user, sid = _chat_logged(tmp_path)
    out = tmp_path / "sessions"
    result = _import(str(db), "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    [written] = json.loads(result.stdout)
    path = Path(written)
    assert path.parent == out and sid[:8] in path.name
    _validate(path)
    session = load_session(path)
    live = _plain(assistant.chat_messages[user])
    assert session.threads == {("assistant", "user"): live}
    # the last chat_completions row: its request (minus the system message) + response is exactly that thread
    con = sqlite3.connect(db)
    request, response = con.execute("SELECT request, response FROM chat_completions ORDER BY id DESC LIMIT 1").fetchone()
    con.close()
    request = json.loads(request)
    assert request["messages"][0] == {"content": assistant.system_message, "role": "system"}
    assert [m for m in request["messages"][1:] if m["role"] != "tool"] == [m for m in live[:-1] if m["role"] != "tool"]
    assert json.loads(response)["choices"][0]["message"]["content"] == live[-1]["content"]
    # the system message is the agent's, in the header; the agent with the client is inferred
    agent = session.agent_def("assistant")
    assert agent is not None and agent["system_message"] == assistant.system_message
    assert agent["llm_config"]["config_list"][0]["model_client_cls"] == "ScriptedClient"
    assert agent["llm_config"]["tools"][0]["function"]["name"] == "convert_temperature"
    assert session.header["imported_from"]["session_id"] == sid
    assert "SECRET" not in path.read_text(encoding="utf-8")
    # and the other commands work on it
    assert runner.invoke(app, ["inspect", "-s", str(path), "--json"]).exit_code == 0
    exported = runner.invoke(app, ["export", "-s", str(path), "-f", "openai-sft", "-o", str(tmp_path / "x.jsonl")])
    assert exported.exit_code == 0, exported.output


def test_runtime_log_import_equals_the_agents_view(tmp_path: Path) -> None:
    log, assistant, user, _ = _chat_logged(tmp_path, logger="file")
    assert log.read_text(encoding="utf-8").startswith("Started new session")
    out = tmp_path / "sessions"
    result = _import(str(log), "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    [written] = json.loads(result.stdout)
    _validate(Path(written))
    session = load_session(written)
    assert session.threads == {("assistant", "user"): _plain(assistant.chat_messages[user])}
    assert "SECRET" not in Path(written).read_text(encoding="utf-8")  # the file logger does not redact; we do


def test_unrecoverable_repr_is_skipped_with_a_warning(tmp_path: Path) -> None:
    log, *_ = _chat_logged(tmp_path, logger="file")
    lines = log.read_text(encoding="utf-8").splitlines()
    last = max(i for i, ln in enumerate(lines) if '"invocation_id"' in ln)
    rec = json.loads(lines[last])
    rec["response"] = "<ChatCompletion object at 0x7f00>"
    lines[last] = json.dumps(rec)
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _import(str(log), "--out", str(tmp_path / "s"))
    assert result.exit_code == 0, result.output
    assert "cannot be recovered" in result.stderr


def test_two_chats_two_conversations(tmp_path: Path) -> None:
    db, assistant, user, _ = _chat_logged(tmp_path, chats=2)
    result = _import(str(db), "--out", str(tmp_path / "s"), "--json")
    assert result.exit_code == 0, result.output
    files = [Path(p) for p in json.loads(result.stdout)]
    assert len(files) == 2
    assert load_session(files[1]).threads[("assistant", "user")] == _plain(assistant.chat_messages[user])


def test_older_schema_and_cached_rows(tmp_path: Path) -> None:
    db, assistant, user, _ = _chat_logged(tmp_path)
    old = tmp_path / "old.db"
    shutil.copy(db, old)
    con = sqlite3.connect(old)
    con.execute("ALTER TABLE chat_completions DROP COLUMN source_name")
    con.execute("DROP TABLE events")
    # a cached repeat of the first call, as a re-run with cache_seed logs it
    con.execute(
        "INSERT INTO chat_completions (invocation_id, client_id, wrapper_id, session_id, request, response, is_cached, cost)"
        " SELECT invocation_id, client_id, wrapper_id, session_id, request, response, 1, 0 FROM chat_completions"
        " ORDER BY id DESC LIMIT 1"
    )
    con.commit()
    con.close()
    result = run_import(old, tmp_path / "s", ImportOptions())
    [conv] = result.conversations
    session = load_session(result.written[0])
    assert session.threads == {("assistant", "user"): _plain(assistant.chat_messages[user])}  # found by system message
    assert conv.source["cached_rows"] == 1


def test_session_id_and_never_overwrite(tmp_path: Path) -> None:
    db, *_ = _chat_logged(tmp_path)
    out = tmp_path / "s"
    unknown = _import(str(db), "--out", str(out), "--session-id", "nope")
    assert unknown.exit_code == 3 and "nope" in unknown.stderr
    first = _import(str(db), "--out", str(out))
    assert first.exit_code == 0
    [path] = list(out.glob("*.jsonl"))
    path.write_text("mine\n")
    again = _import(str(db), "--out", str(out))
    assert again.exit_code == 2 and "--force" in again.stderr
    assert path.read_text() == "mine\n"
    forced = _import(str(db), "--out", str(out), "--force")
    assert forced.exit_code == 0 and path.read_text().startswith('{"type":"header"')


def test_openai_jsonl_per_line_and_per_file(tmp_path: Path) -> None:
    lines = [
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Weather?"},
                {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
                {"role": "assistant", "content": "Sunny.", "weight": 1},
            ],
            "tools": [{"type": "function", "function": {"name": "w", "parameters": {}}}],
        },
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]},
    ]
    src = tmp_path / "chats.jsonl"
    src.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    result = _import(str(src), "--out", str(tmp_path / "s"), "--json", "--agent", "helper", "--peer", "customer")
    assert result.exit_code == 0, result.output
    files = [Path(p) for p in json.loads(result.stdout)]
    assert len(files) == 2
    for f in files:
        _validate(f)
    s = load_session(files[0])
    assert s.agent_def("helper")["system_message"] == "Be brief."  # type: ignore[index]
    assert s.threads[("helper", "customer")] == [
        {"role": "user", "content": "Weather?", "name": "customer"},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}}], "content": None},
        {"content": "sunny", "tool_responses": [{"tool_call_id": "c1", "role": "tool", "content": "sunny"}], "role": "tool", "name": "customer"},
        {"role": "assistant", "content": "Sunny.", "name": "helper"},
    ]
    # back out as OpenAI fine-tuning data: the same conversation (weight dropped, names added)
    out = tmp_path / "back.jsonl"
    assert runner.invoke(app, ["export", "-s", str(files[0]), "-f", "openai-sft", "-o", str(out)]).exit_code == 0
    back = json.loads(out.read_text())
    strip = [{k: v for k, v in m.items() if k not in ("name", "weight")} for m in back["messages"]]
    assert strip == [{k: v for k, v in m.items() if k != "weight"} for m in lines[0]["messages"]]
    assert back["tools"] == lines[0]["tools"]
    # one message per line: one session for the file
    one = tmp_path / "one.jsonl"
    one.write_text('{"role": "user", "content": "Hi"}\n{"role": "assistant", "content": "Hello."}\n')
    per_file = _import(str(one), "--out", str(tmp_path / "s1"), "--json")
    assert per_file.exit_code == 0 and len(json.loads(per_file.stdout)) == 1


@pytest.mark.parametrize(
    ("content", "args", "code", "text"),
    [
        ("hello world\n", [], 3, "cannot tell"),
        ('{"messages": [{"role": "user", "content": "x"}]}\n', ["--from", "nope"], 2, "--from"),
        ('{"messages": [{"role": "user", "content": "x"}]}\n', ["--session-id", "x"], 2, "--session-id"),
        ('{"messages": 3}\n', [], 3, ":1"),
        ('{"x": 1}\n', ["--from", "openai-jsonl"], 3, ":1"),
        ("not json\n", ["--from", "sqlite"], 3, "SQLite"),
    ],
)
def test_bad_sources(tmp_path: Path, content: str, args: list[str], code: int, text: str) -> None:
    src = tmp_path / "src.jsonl"
    src.write_text(content)
    result = _import(str(src), "--out", str(tmp_path / "s"), *args)
    assert result.exit_code == code, result.output
    assert text in result.stderr
    assert not list((tmp_path / "s").glob("*")) if (tmp_path / "s").exists() else True


def test_parse_repr_reads_literals_only() -> None:
    text = "ChatCompletion(id='x', choices=[Choice(index=0, message=ChatCompletionMessage(content='hi', role='assistant', tool_calls=None))], cost=-0.5)"
    assert parse_repr(text) == {
        "id": "x",
        "choices": [{"index": 0, "message": {"content": "hi", "role": "assistant", "tool_calls": None}}],
        "cost": -0.5,
    }
    assert parse_repr("__import__('os').system('echo no')") is None
    assert parse_repr("<object at 0x1>") is None
