"""Helpers for the run tests: the CLI runner, the sample inputs, and updates that leave run records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import REPO
from typer.testing import CliRunner

from agent_ft_cli.cli import app

runner = CliRunner()
SAMPLES = REPO / "sample_sessions"
LOCAL = ["--config", str(REPO / "configs" / "local.yaml")]
TRIVIA = ["--session", str(SAMPLES / "trivia.jsonl"), "--prefs", str(SAMPLES / "trivia.prefs.json")]
CAPITAL = ["--session", str(SAMPLES / "capital.jsonl"), "--prefs", str(SAMPLES / "capital.prefs.json")]
STEPS = str(Path(__file__).parent / "steps_client.py") + ":StepsClient"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def cli(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "120", **(env or {})})


def ok(*args: str, env: dict[str, str] | None = None) -> Any:
    result = cli(*args, env=env)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def listed(*args: str) -> list[dict[str, Any]]:
    return json.loads(ok("runs", *args, "--json").stdout)  # type: ignore[no-any-return]


def png_size(path: Path) -> tuple[int, int]:
    """The picture's (width, height) as matplotlib reads it back (so it is a whole, valid PNG)."""
    from matplotlib.image import imread

    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    image = imread(path)
    return image.shape[1], image.shape[0]
