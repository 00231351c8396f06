"""Pairs are numbered from 0 everywhere (review finding 16): the messages, ``export --json`` and docs/errors.md's
examples say the same, and the docs' lines are what the commands print, word for word."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import REPO
from typer.testing import CliRunner

from agent_ft_cli.cli import app

runner = CliRunner()
DOC = (REPO / "docs" / "errors.md").read_text(encoding="utf-8")


def _error_line(args: list[str]) -> str:
    result = runner.invoke(app, args, env={"NO_COLOR": "1", "COLUMNS": "400"})
    assert result.exit_code == 3, result.output
    [line] = [ln for ln in result.stderr.splitlines() if ln.startswith("Error: ")]
    return line


def test_the_docs_pair_and_item_examples_are_the_commands_text(isolated: Path) -> None:
    shutil.copy(REPO / "sample_sessions" / "capital.jsonl", isolated / "chat.jsonl")
    (isolated / "nf.json").write_text(json.dumps([["good", "never said"]]))
    (isolated / "prefs.json").write_text(json.dumps([["a", "b"], "x"]))
    lines = [
        _error_line(["validate", "-s", "chat.jsonl", "--prefs", "nf.json", "--strict"]),
        _error_line(["export", "-s", "chat.jsonl", "--prefs", "nf.json", "-f", "trl-sft", "-o", "o.jsonl", "--strict"]),
        _error_line(["validate", "-s", "chat.jsonl", "--prefs", "prefs.json", "--strict"]),
    ]
    assert "pair 0: " in lines[0] and "pair 0: " in lines[1] and "item 1: " in lines[2]
    for line in lines:
        assert line in DOC.splitlines(), line
    # the JSON summary numbers the same pair the same way
    result = runner.invoke(app, ["export", "-s", "chat.jsonl", "--prefs", "nf.json", "-f", "trl-sft", "-o", "o.jsonl", "--json"])
    assert [s["pair"] for s in json.loads(result.stdout)["skipped_pairs"]] == [0]
    assert "numbered from 0" in DOC
