"""Helpers shared by the framework tests: run the installed CLI, export every format, the expected chat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

FORMATS = ("trl-preference", "trl-sft", "trl-kto", "openai-sft", "openai-dpo")
QUESTION = "Combien font 21,5 °C en °F ? 🌡️"
TOOL_ANSWER = "Il fait 70,7 °F. 🌡️"
FOLLOW_UP = "Merci — et « bonjour » en japonais ?"
LAST_ANSWER = "こんにちは ✨"
CHOSEN = "21,5 °C font 70,7 °F (conversion exacte)."
SYSTEM = "You convert temperatures. Réponds en français."
LOCAL = "agent_ft_cli.local:LocalLearningClient"


def convert_temperature(celsius: float) -> str:
    """Celsius to Fahrenheit"""
    return f"{celsius * 9 / 5 + 32:.1f} °F"


def expected_thread(call_id: str, *, thought: str | None = None) -> list[dict[str, Any]]:
    """The scripted chat as a classic thread (assistant.chat_messages[user])."""
    return [
        {"content": QUESTION, "role": "user", "name": "user"},
        {
            "content": thought,
            "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": "convert_temperature", "arguments": '{"celsius": 21.5}'}}
            ],
            "role": "assistant",
        },
        {
            "content": "70.7 °F",
            "tool_responses": [{"tool_call_id": call_id, "role": "tool", "content": "70.7 °F"}],
            "role": "tool",
            "name": "user",
        },
        {"content": TOOL_ANSWER, "role": "assistant", "name": "assistant"},
        {"content": FOLLOW_UP, "role": "user", "name": "user"},
        {"content": LAST_ANSWER, "role": "assistant", "name": "assistant"},
    ]


def agent_ft(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The installed CLI in a subprocess (``python -m agent_ft_cli``), as a user runs it."""
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    result = subprocess.run(
        [sys.executable, "-m", "agent_ft_cli", *args], capture_output=True, text=True, env=env, timeout=120
    )
    if check:
        assert result.returncode == 0, f"agent-ft {' '.join(args)} -> {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def write_prefs(path: Path, rejected: str, chosen: str = CHOSEN) -> Path:
    path.write_text(json.dumps([{"chosen": chosen, "rejected": rejected}], ensure_ascii=False), encoding="utf-8")
    return path


def validate_and_export_everything(session: Path, prefs: Path, work: Path) -> dict[str, list[dict[str, Any]]]:
    """``validate`` passes and every export format writes rows; returns the rows per format."""
    assert_schema_valid(session)
    agent_ft("validate", "--session", str(session), "--prefs", str(prefs), "--client", LOCAL)
    rows: dict[str, list[dict[str, Any]]] = {}
    for fmt in FORMATS:
        out = work / f"{fmt}.jsonl"
        agent_ft("export", "--session", str(session), "--prefs", str(prefs), "--format", fmt, "--out", str(out))
        rows[fmt] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert rows[fmt], fmt
    return rows


def assert_schema_valid(session: Path) -> None:
    """Every line of the session validates against the shipped JSON Schema."""
    import jsonschema

    schema_path = Path(__file__).resolve().parents[2] / "agent_ft_cli" / "schemas" / "session-v1.schema.json"
    validator = jsonschema.Draft202012Validator(json.loads(schema_path.read_text(encoding="utf-8")))
    for lineno, line in enumerate(session.read_text(encoding="utf-8").splitlines(), 1):
        errors = [e.message for e in validator.iter_errors(json.loads(line))]
        assert not errors, f"{session}:{lineno}: {errors}"
