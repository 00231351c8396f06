"""agent-ft import on sources it cannot use: one line, the documented exit code, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from logged import _import


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
