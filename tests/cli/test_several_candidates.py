"""A session where several agents have a model client (a group chat, nested chats): nothing needs one thread to
look at or check the file, so ``validate`` alone validates every thread and ``inspect`` lists the threads update
could use; what needs one (``validate --prefs``, ``export``, ``update``) fails naming only the real candidates
(review finding 11, #9 item 11)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agent_ft_cli.cli import app

runner = CliRunner()
LLM = {"config_list": [{"model": "m", "model_client_cls": "MemoClient"}]}


def _group(path: Path) -> Path:
    header = {
        "type": "header", "format": "agent-ft-session", "version": "1.0",
        "agents": [
            {"name": "alice", "class": "AssistantAgent", "llm_config": LLM, "model_clients": ["clientpkg.generating:MemoClient"]},
            {"name": "bob", "class": "AssistantAgent", "llm_config": LLM, "model_clients": ["clientpkg.generating:MemoClient"]},
            {"name": "user", "class": "UserProxyAgent", "llm_config": False},
        ],
    }
    lines = [header]
    for agent in ("alice", "bob"):
        lines.append({"type": "message", "agent": agent, "peer": "chat_manager", "message": {"role": "user", "content": "Capital of Peru?", "name": "user"}})
        lines.append({"type": "message", "agent": agent, "peer": "chat_manager", "message": {"role": "assistant", "content": f"{agent} says Lima.", "name": agent}})
    path.write_text("".join(json.dumps(rec, separators=(",", ":"), ensure_ascii=False) + "\n" for rec in lines), encoding="utf-8")
    return path


def _invoke(*args: str) -> object:
    return runner.invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "300"})


def test_validate_alone_checks_the_file_and_every_thread(isolated: Path) -> None:
    _group(isolated / "g.jsonl")
    result = _invoke("validate", "-s", "g.jsonl", "--json", "--trust-session-client")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}  # type: ignore[attr-defined]
    assert "every thread was read and checked" in checks["agents"]["detail"]
    assert "agents alice, bob could be updated" in checks["agents"]["detail"]
    assert checks["client"]["ok"]  # the client update would load for those agents is checked
    # without consent the recorded client is refused, and the report speaks in flags, as the Error line does
    refused = _invoke("validate", "-s", "g.jsonl", "--json")
    assert refused.exit_code == 2  # type: ignore[attr-defined]
    clients = [c for c in json.loads(refused.stdout)["checks"] if c["name"] == "client"]  # type: ignore[attr-defined]
    assert [("'alice'" in c["detail"], "'bob'" in c["detail"]) for c in clients] == [(True, False), (False, True)]
    assert all("--trust-session-client" in c["detail"] and not c["ok"] for c in clients)


def test_what_needs_one_thread_names_only_the_candidates(isolated: Path) -> None:
    _group(isolated / "g.jsonl")
    (isolated / "p.json").write_text(json.dumps([["Lima.", "alice says Lima."]]))
    for args in (
        ["validate", "-s", "g.jsonl", "--prefs", "p.json", "--client", "clientpkg.generating:MemoClient"],
        ["export", "-s", "g.jsonl", "-f", "trl-sft", "-o", "o.jsonl"],
        ["update", "-s", "g.jsonl", "--prefs", "p.json", "--client", "clientpkg.generating:MemoClient"],
    ):
        result = _invoke(*args)
        assert result.exit_code == 3, (args, result.output)  # type: ignore[attr-defined]
        error = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")][-1]  # type: ignore[attr-defined]
        assert error.endswith("agents with a model client: alice, bob"), error
    ok = _invoke("export", "-s", "g.jsonl", "-f", "trl-sft", "-o", "o.jsonl", "--agent", "bob", "--peer", "chat_manager")
    assert ok.exit_code == 0, ok.output  # type: ignore[attr-defined]


def test_inspect_lists_the_threads_it_could_show(isolated: Path) -> None:
    _group(isolated / "g.jsonl")
    result = _invoke("inspect", "-s", "g.jsonl", "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert json.loads(result.stdout) == {  # type: ignore[attr-defined]
        "threads": [{"agent": "alice", "peer": "chat_manager", "messages": 2}, {"agent": "bob", "peer": "chat_manager", "messages": 2}]
    }
    assert "pass --agent and --peer" in result.stderr  # type: ignore[attr-defined]
    text = _invoke("inspect", "-s", "g.jsonl")
    assert text.exit_code == 0  # type: ignore[attr-defined]
    assert "alice -> chat_manager: 2 message(s)" in text.stdout and "bob -> chat_manager" in text.stdout  # type: ignore[attr-defined]
    one = _invoke("inspect", "-s", "g.jsonl", "--agent", "bob", "--peer", "chat_manager", "--json")
    assert [m["content"] for m in json.loads(one.stdout)["messages"]] == ["Capital of Peru?", "bob says Lima."]  # type: ignore[attr-defined]


def test_several_peers_of_one_agent_are_listed_and_all_validated(isolated: Path) -> None:
    header = {
        "type": "header", "format": "agent-ft-session", "version": "1.0",
        "agents": [
            {"name": "alice", "class": "AssistantAgent", "llm_config": LLM, "model_clients": ["clientpkg.generating:MemoClient"]},
            {"name": "user", "class": "UserProxyAgent", "llm_config": False},
        ],
    }
    lines = [header]
    for manager in ("chat_manager", "chat_manager#2"):
        lines.append({"type": "message", "agent": "alice", "peer": manager, "message": {"role": "user", "content": f"from {manager}"}})
    (isolated / "m.jsonl").write_text("".join(json.dumps(rec, separators=(",", ":"), ensure_ascii=False) + "\n" for rec in lines), encoding="utf-8")
    listed = _invoke("inspect", "-s", "m.jsonl", "--agent", "alice", "--json")
    assert listed.exit_code == 0, listed.output  # type: ignore[attr-defined]
    assert [(t["peer"], t["messages"]) for t in json.loads(listed.stdout)["threads"]] == [("chat_manager", 1), ("chat_manager#2", 1)]  # type: ignore[attr-defined]
    checked = _invoke("validate", "-s", "m.jsonl", "--agent", "alice", "--json", "--trust-session-client")
    assert checked.exit_code == 0, checked.output  # type: ignore[attr-defined]
    checks = {c["name"]: c for c in json.loads(checked.stdout)["checks"]}  # type: ignore[attr-defined]
    assert "chat_manager, chat_manager#2 could be updated" in checks["agents"]["detail"]
    assert checks["client"]["ok"] and "MemoClient" in checks["client"]["detail"]
    (isolated / "p.json").write_text(json.dumps([["x", "y"]]))
    refused = _invoke("update", "-s", "m.jsonl", "--agent", "alice", "--prefs", "p.json", "--client", "clientpkg.generating:MemoClient")
    assert refused.exit_code == 3 and "choices: chat_manager, chat_manager#2" in refused.stderr  # type: ignore[attr-defined]
