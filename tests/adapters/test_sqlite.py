"""Sessions rebuilt from a REAL autogen.runtime_logging database equal what the agent saw; schema variants; two
chats; one logging session; never overwrite."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from logged import _chat_logged, _import, _plain, _validate
from typer.testing import CliRunner

from agent_ft_cli.adapters import ImportOptions, run_import
from agent_ft_cli.cli import app
from agent_ft_cli.session import load_session

runner = CliRunner()


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
