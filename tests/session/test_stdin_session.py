"""Issue #9 item 8: ``--session -`` reads the session from stdin where a single session is expected."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agent_ft_cli.cli import app

SAMPLES = Path(__file__).resolve().parents[2] / "sample_sessions"


def test_inspect_validate_update_read_a_session_on_stdin() -> None:
    data = (SAMPLES / "capital.jsonl").read_bytes()
    run = CliRunner().invoke
    from_file = run(app, ["inspect", "-s", str(SAMPLES / "capital.jsonl"), "--json"])
    from_stdin = run(app, ["inspect", "-s", "-", "--json"], input=data)
    assert from_stdin.exit_code == 0, from_stdin.output
    assert json.loads(from_stdin.stdout) == json.loads(from_file.stdout)
    assert run(app, ["validate", "-s", "-"], input=data).exit_code == 0
    updated = run(app, ["update", "-s", "-", "--prefs", str(SAMPLES / "capital.prefs.json"), "--json"], input=data)
    assert updated.exit_code == 0, updated.output
    assert json.loads(updated.stdout)["inference_messages"] == json.loads(from_file.stdout)["messages"]


def test_stdin_cannot_be_both_the_session_and_the_prefs() -> None:
    result = CliRunner().invoke(app, ["update", "-s", "-", "--prefs", "-"], input=b"")
    assert result.exit_code == 2 and "cannot both read stdin" in result.stderr


def test_a_bad_session_on_stdin_is_bad_input() -> None:
    result = CliRunner().invoke(app, ["inspect", "-s", "-"], input=b"not a session\n")
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: <stdin>:1: not valid JSON"), result.stderr
