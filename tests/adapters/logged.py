"""Shared by the adapter tests: a REAL autogen.runtime_logging chat (classic agents, a custom client, a tool
call) logged to SQLite or the file logger, and the checks on what is imported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, make_pair, run_chat
from typer.testing import CliRunner

from agent_ft_cli.cli import app

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
