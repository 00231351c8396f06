"""Every bundled sample and every session the project writes is valid against the shipped JSON Schema, and every
sample passes `agent-ft validate` with its prefs."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO, make_pair, run_chat
from typer.testing import CliRunner

from agent_ft_cli import SessionRecorder, save_session
from agent_ft_cli.cli import app

SCHEMA = json.loads((REPO / "agent_ft_cli" / "schemas" / "session-v1.schema.json").read_text(encoding="utf-8"))
SAMPLES = sorted((REPO / "sample_sessions").glob("*.jsonl"))
runner = CliRunner()


def check_against_schema(path: Path) -> int:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["type"] == "header"
    for n, line in enumerate(lines, 1):
        errors = list(validator.iter_errors(json.loads(line)))
        assert not errors, f"{path.name}:{n}: {errors[0].message}"
    return len(lines)


def test_there_are_samples_with_the_bundled_model_and_a_tool_call() -> None:
    names = {p.stem for p in SAMPLES}
    assert {"capital", "trivia", "weather_tool"} <= names
    texts = {p.stem: p.read_text(encoding="utf-8") for p in SAMPLES}
    assert "agent_ft_cli.local:LocalLearningClient" in texts["capital"]
    assert '"tool_calls"' in texts["weather_tool"] and '"tool_responses"' in texts["weather_tool"]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_sample_matches_schema_and_validates(sample: Path) -> None:
    assert check_against_schema(sample) > 1
    prefs = sample.with_suffix(".prefs.json")
    assert prefs.exists(), f"{sample.name} has no prefs file"
    result = runner.invoke(
        app,
        ["validate", "--session", str(sample), "--prefs", str(prefs), "--config", str(REPO / "configs" / "local.yaml"), "--json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] is True


def test_written_sessions_match_schema(tmp_path: Path) -> None:
    assistant, user = make_pair()
    with SessionRecorder(tmp_path / "streamed.jsonl", assistant, user):
        run_chat(assistant, user)
        assistant.clear_history()
        run_chat(assistant, user, message="encore")
    save_session(tmp_path / "snapshot.jsonl", assistant, user)
    assert check_against_schema(tmp_path / "streamed.jsonl") > 5
    assert check_against_schema(tmp_path / "snapshot.jsonl") > 3
    assert '"type":"clear"' in (tmp_path / "streamed.jsonl").read_text(encoding="utf-8")
