"""The CLI end to end: a live chat saved either way reaches a capture client through `update --json` and
`inspect --json` exactly as the live agent held it; every command through CliRunner and a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, make_pair, run_chat
from typer.testing import CliRunner

from agent_ft_cli import SessionRecorder, save_session
from agent_ft_cli.cli import app

runner = CliRunner()
CAPTURE = "clientpkg.clients:CaptureClient"


def _plain(messages: Any) -> Any:
    return json.loads(json.dumps(messages, ensure_ascii=False))


@pytest.fixture(params=["save_session", "SessionRecorder"])
def live_session(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    assistant, user = make_pair()
    path = tmp_path / "live.jsonl"
    if request.param == "save_session":
        run_chat(assistant, user)
        user.initiate_chat(assistant, message="Et à 30 °C ? Merci 🙏", max_turns=2, silent=True, clear_history=False)
        save_session(path, assistant, user)
    else:
        with SessionRecorder(path, assistant, user):
            run_chat(assistant, user)
            user.initiate_chat(assistant, message="Et à 30 °C ? Merci 🙏", max_turns=2, silent=True, clear_history=False)
    live = {
        "assistant": _plain(assistant.chat_messages[user]),
        "user": _plain(user.chat_messages[assistant]),
        "system": assistant.system_message,
    }
    return path, live


def test_update_json_hands_the_live_thread_to_the_client(live_session: Any, tmp_path: Path) -> None:
    path, live = live_session
    prefs = tmp_path / "prefs.json"
    prefs.write_text(json.dumps([["better answer", live["assistant"][-1]["content"]]], ensure_ascii=False))
    capture = tmp_path / "capture.json"
    result = runner.invoke(
        app,
        ["update", "--session", str(path), "--prefs", str(prefs), "--client", CAPTURE,
         "--client-arg", f"capture_path={capture}", "--kwarg", "beta=0.1", "--kwarg", "tag=run-1", "--json"],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"update_stats", "inference_messages", "preference_data"}
    assert out["inference_messages"] == live["assistant"]
    assert out["update_stats"] == {"captured": len(live["assistant"]), "loss": 0.25, "nested": {"lr": 1e-5, "steps": [1, 2]}}
    got = json.loads(capture.read_text(encoding="utf-8"))
    assert got["inference_messages"] == live["assistant"]
    assert got["preference_data"] == [["better answer", live["assistant"][-1]["content"]]]
    assert got["kwargs"] == {"beta": 0.1, "tag": "run-1"}
    assert got["init_kwargs"] == {}


def test_inspect_json_is_the_live_thread(live_session: Any) -> None:
    path, live = live_session
    result = runner.invoke(app, ["inspect", "--session", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out == {"agent": "assistant", "peer": "user", "messages": live["assistant"]}
    peer_view = runner.invoke(app, ["inspect", "-s", str(path), "--agent", "user", "--peer", "assistant", "--json"])
    assert json.loads(peer_view.stdout)["messages"] == live["user"]


@pytest.mark.parametrize("n", [1, 3, 100])
def test_inspect_last_n_is_the_tail_of_the_thread(live_session: Any, n: int) -> None:
    path, live = live_session
    result = runner.invoke(app, ["inspect", "-s", str(path), "--last", str(n), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["messages"] == live["assistant"][-n:]


def test_include_system_message_prepends_it(live_session: Any, tmp_path: Path) -> None:
    path, live = live_session
    prefs = tmp_path / "p.json"
    prefs.write_text("[]")
    result = runner.invoke(
        app, ["update", "-s", str(path), "--prefs", str(prefs), "--client", CAPTURE, "--include-system-message", "--json"]
    )
    assert result.exit_code == 0, result.output
    messages = json.loads(result.stdout)["inference_messages"]
    assert messages[0] == {"content": live["system"], "role": "system"}
    assert messages[1:] == live["assistant"]
    shown = runner.invoke(app, ["inspect", "-s", str(path), "--include-system-message", "--json"])
    assert json.loads(shown.stdout)["messages"] == messages


def test_update_output_file_and_table(live_session: Any, tmp_path: Path) -> None:
    path, live = live_session
    prefs = tmp_path / "p.yaml"
    prefs.write_text("- chosen: good answer\n  rejected: bad answer\n")
    out_file = tmp_path / "result.json"
    result = runner.invoke(app, ["update", "-s", str(path), "--prefs", str(prefs), "--client", CAPTURE, "-o", str(out_file)])
    assert result.exit_code == 0, result.output
    assert "captured" in result.stdout and "nested.lr" in result.stdout  # nested stats flattened in the table
    written = json.loads(out_file.read_text(encoding="utf-8"))
    assert written["preference_data"] == [{"chosen": "good answer", "rejected": "bad answer"}]
    assert written["inference_messages"] == live["assistant"]
    assert not list(tmp_path.glob(".result.json.*"))  # no temporary file left behind


def test_inspect_rich_view_shows_tool_calls_and_responses(live_session: Any) -> None:
    path, _ = live_session
    result = runner.invoke(app, ["inspect", "-s", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "tool call convert_temperature" in result.stdout
    assert "tool response [call_0001]" in result.stdout
    assert "你好" in result.stdout
    assert "autogen" in result.stdout and "assistant.chat_messages[user]" in result.stdout
    n_assistant, n_user = len(live_session[1]["assistant"]), len(live_session[1]["user"])
    assert f"assistant.chat_messages[user]: {n_assistant} message(s)" in result.stdout
    assert f"assistant→user {n_assistant}" in result.stdout and f"user→assistant {n_user}" in result.stdout


def test_inspect_folds_long_content_unless_full(tmp_path: Path) -> None:
    assistant, user = make_pair(tools=False)
    long_text = "word " * 2000
    assistant.chat_messages[user] = [{"content": long_text, "role": "user", "name": "user"}]
    path = save_session(tmp_path / "long.jsonl", assistant, user)
    folded = runner.invoke(app, ["inspect", "-s", str(path)], env={"COLUMNS": "200"})
    assert "more characters (--full shows all)" in folded.stdout
    full = runner.invoke(app, ["inspect", "-s", str(path), "--full"], env={"COLUMNS": "200"})
    assert "more characters" not in full.stdout
    assert full.stdout.count("word") >= 2000


def test_pair_inference_errors_list_the_choices(tmp_path: Path) -> None:
    import autogen

    a = autogen.ConversableAgent("alice", llm_config=False)
    b = autogen.ConversableAgent("bob", llm_config=False)
    c = autogen.ConversableAgent("carol", llm_config=False)
    a.chat_messages[b] = [{"content": "hi", "role": "user", "name": "bob"}]
    path = save_session(tmp_path / "three.jsonl", a, b, c)
    result = runner.invoke(app, ["inspect", "-s", str(path), "--json"])
    assert result.exit_code == 3
    assert "pass --agent and --peer" in result.stderr and "alice, bob, carol" in result.stderr
    result = runner.invoke(app, ["inspect", "-s", str(path), "--agent", "alice", "--peer", "dave"])
    assert result.exit_code == 3 and "'dave' is not in this session" in result.stderr
    ok = runner.invoke(app, ["inspect", "-s", str(path), "--agent", "alice", "--peer", "bob", "--json"])
    assert json.loads(ok.stdout)["messages"] == [{"content": "hi", "role": "user", "name": "bob"}]


def test_client_from_the_config(live_session: Any, tmp_path: Path) -> None:
    path, live = live_session
    capture = tmp_path / "cap.json"
    config = tmp_path / "pair.yaml"
    config.write_text(
        f"""
agents:
  assistant:
    class: AssistantAgent
    llm_config:
      config_list:
        - model: m
  user:
    class: UserProxyAgent
update: assistant
peer: user
client:
  path: {CAPTURE}
  args: {{capture_path: "{capture}"}}
""",
        encoding="utf-8",
    )
    prefs = tmp_path / "p.json"
    prefs.write_text('[["a", "b"]]')
    result = runner.invoke(app, ["update", "-s", str(path), "--prefs", str(prefs), "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(capture.read_text(encoding="utf-8"))["inference_messages"] == live["assistant"]


def test_validate_passes_on_good_inputs_and_fails_on_bad(live_session: Any, tmp_path: Path) -> None:
    path, _ = live_session
    prefs = tmp_path / "p.json"
    prefs.write_text("[]")
    ok = runner.invoke(app, ["validate", "-s", str(path), "--prefs", str(prefs), "--client", CAPTURE, "--json"])
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.stdout)
    assert report["ok"] is True
    assert [c["name"] for c in report["checks"]] == ["session", "agents", "prefs", "client", "autogen"]
    bad = runner.invoke(app, ["validate", "-s", str(path), "--client", "clientpkg.clients:MissingMethods", "--json"])
    assert bad.exit_code == 4
    report = json.loads(bad.stdout)
    assert report["ok"] is False
    assert "message_retrieval" in report["checks"][-1]["detail"]


def _agent_ft(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "agent-ft"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_installed_command_and_module_agree(live_session: Any, env_with_assets: dict[str, str], tmp_path: Path) -> None:
    path, live = live_session
    via_script = _agent_ft("inspect", "--session", str(path), "--json", env=env_with_assets, cwd=tmp_path)
    via_module = subprocess.run(
        [sys.executable, "-m", "agent_ft_cli", "inspect", "--session", str(path), "--json"],
        capture_output=True, text=True, env=env_with_assets, cwd=tmp_path, timeout=120,
    )
    assert via_script.returncode == 0, via_script.stderr
    assert via_script.stdout == via_module.stdout
    assert json.loads(via_script.stdout)["messages"] == live["assistant"]
    prefs = tmp_path / "p.json"
    prefs.write_text("[]")
    upd = _agent_ft("update", "-s", str(path), "--prefs", str(prefs), "--client", CAPTURE, "--json", env=env_with_assets, cwd=tmp_path)
    assert upd.returncode == 0, upd.stderr
    assert json.loads(upd.stdout)["inference_messages"] == live["assistant"]  # nothing but JSON on stdout
    version = _agent_ft("--version", env=env_with_assets, cwd=tmp_path)
    assert version.stdout.startswith("agent-ft ")


def test_client_given_as_a_file_path(live_session: Any, tmp_path: Path) -> None:
    path, live = live_session
    client_file = tmp_path / "my_client.py"
    client_file.write_text((REPO / "tests" / "assets" / "clientpkg" / "clients.py").read_text(encoding="utf-8"))
    prefs = tmp_path / "p.json"
    prefs.write_text("[]")
    result = runner.invoke(app, ["update", "-s", str(path), "--prefs", str(prefs), "--client", f"{client_file}:CaptureClient", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["update_stats"]["captured"] == len(live["assistant"])


def test_library_warnings_become_warning_lines_on_stderr(tmp_path: Path) -> None:
    sample = (REPO / "sample_sessions" / "capital.jsonl").read_text(encoding="utf-8")
    session = tmp_path / "fancy.jsonl"
    session.write_text(sample.replace("autogen.agentchat.assistant_agent.AssistantAgent", "myproj.agents.FancyAgent"))
    prefs = tmp_path / "p.json"
    prefs.write_text("[]")
    result = runner.invoke(app, ["update", "-s", str(session), "--prefs", str(prefs), "--client", CAPTURE, "--json"])
    assert result.exit_code == 0, result.output
    assert "Warning: agent class 'myproj.agents.FancyAgent' from the session is not importable here" in result.stderr
    assert json.loads(result.stdout)["update_stats"]["captured"] == 2


def test_record_update_validate_through_the_installed_command(env_with_assets: dict[str, str], tmp_path: Path) -> None:
    config = str(REPO / "configs" / "local.yaml")
    env = dict(env_with_assets, AGENT_FT_STATE=str(tmp_path / "state.json"))
    first = _agent_ft("record", "-c", config, "-m", "How many moons does Mars have?", "-o", "mars.jsonl", "-q", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "I don't know the answer to that yet."
    prefs = tmp_path / "prefs.json"
    prefs.write_text(json.dumps([["Mars has two moons.", first.stdout.strip()]]))
    checked = _agent_ft("validate", "-s", "mars.jsonl", "--prefs", str(prefs), "-c", config, "--json", env=env, cwd=tmp_path)
    assert checked.returncode == 0 and json.loads(checked.stdout)["ok"] is True
    updated = _agent_ft("update", "-s", "mars.jsonl", "--prefs", str(prefs), "-c", config, env=env, cwd=tmp_path)
    assert updated.returncode == 0, updated.stderr
    assert "learned" in updated.stdout and "updated assistant" in updated.stderr
    again = _agent_ft("record", "-c", config, "-m", "how many moons has mars", "-o", "mars2.jsonl", "--json", env=env, cwd=tmp_path)
    assert json.loads(again.stdout)["reply"] == "Mars has two moons."


def test_validate_report_is_plain_lines_when_piped(tmp_path: Path) -> None:
    sample = REPO / "sample_sessions" / "capital.jsonl"
    result = runner.invoke(app, ["validate", "-s", str(sample), "--client", "clientpkg.clients:MissingMethods"])
    assert result.exit_code == 4
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["ok", "session"]
    assert lines[-1].startswith("FAIL  client") and "missing message_retrieval, cost, get_usage, update_model" in lines[-1]
    assert result.stderr.startswith("Error: client 'clientpkg.clients:MissingMethods'")
