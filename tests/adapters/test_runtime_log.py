"""Sessions rebuilt from a REAL runtime.log (the file logger) equal what the agent saw; its Python-repr responses
read back without evaluating anything."""

from __future__ import annotations

import json
from pathlib import Path

from logged import _chat_logged, _import, _plain, _validate

from agent_ft_cli.adapters.runtime_log import parse_repr
from agent_ft_cli.session import load_session


def test_runtime_log_import_equals_the_agents_view(tmp_path: Path) -> None:
    log, assistant, user, _ = _chat_logged(tmp_path, logger="file")
    assert log.read_text(encoding="utf-8").startswith("Started new session")
    out = tmp_path / "sessions"
    result = _import(str(log), "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    [written] = json.loads(result.stdout)
    _validate(Path(written))
    session = load_session(written)
    assert session.threads == {("assistant", "user"): _plain(assistant.chat_messages[user])}
    assert "SECRET" not in Path(written).read_text(encoding="utf-8")  # the file logger does not redact; we do


def test_unrecoverable_repr_is_skipped_with_a_warning(tmp_path: Path) -> None:
    log, *_ = _chat_logged(tmp_path, logger="file")
    lines = log.read_text(encoding="utf-8").splitlines()
    last = max(i for i, ln in enumerate(lines) if '"invocation_id"' in ln)
    rec = json.loads(lines[last])
    rec["response"] = "<ChatCompletion object at 0x7f00>"
    lines[last] = json.dumps(rec)
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _import(str(log), "--out", str(tmp_path / "s"))
    assert result.exit_code == 0, result.output
    assert "cannot be recovered" in result.stderr


def test_parse_repr_reads_literals_only() -> None:
    text = "ChatCompletion(id='x', choices=[Choice(index=0, message=ChatCompletionMessage(content='hi', role='assistant', tool_calls=None))], cost=-0.5)"
    assert parse_repr(text) == {
        "id": "x",
        "choices": [{"index": 0, "message": {"content": "hi", "role": "assistant", "tool_calls": None}}],
        "cost": -0.5,
    }
    assert parse_repr("__import__('os').system('echo no')") is None
    assert parse_repr("<object at 0x1>") is None
