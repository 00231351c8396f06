"""OpenAI-style chat JSONL in, per line and per file, and back out as OpenAI fine-tuning data."""

from __future__ import annotations

import json
from pathlib import Path

from logged import _import, _validate
from typer.testing import CliRunner

from agent_ft_cli.cli import app
from agent_ft_cli.session import load_session

runner = CliRunner()


def test_openai_jsonl_per_line_and_per_file(tmp_path: Path) -> None:
    lines = [
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Weather?"},
                {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
                {"role": "assistant", "content": "Sunny.", "weight": 1},
            ],
            "tools": [{"type": "function", "function": {"name": "w", "parameters": {}}}],
        },
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]},
    ]
    src = tmp_path / "chats.jsonl"
    src.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    result = _import(str(src), "--out", str(tmp_path / "s"), "--json", "--agent", "helper", "--peer", "customer")
    assert result.exit_code == 0, result.output
    files = [Path(p) for p in json.loads(result.stdout)]
    assert len(files) == 2
    for f in files:
        _validate(f)
    s = load_session(files[0])
    assert s.agent_def("helper")["system_message"] == "Be brief."  # type: ignore[index]
    assert s.threads[("helper", "customer")] == [
        {"role": "user", "content": "Weather?", "name": "customer"},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}}], "content": None},
        {"content": "sunny", "tool_responses": [{"tool_call_id": "c1", "role": "tool", "content": "sunny"}], "role": "tool", "name": "customer"},
        {"role": "assistant", "content": "Sunny.", "name": "helper"},
    ]
    # back out as OpenAI fine-tuning data: the same conversation (weight dropped, names added)
    out = tmp_path / "back.jsonl"
    assert runner.invoke(app, ["export", "-s", str(files[0]), "-f", "openai-sft", "-o", str(out)]).exit_code == 0
    back = json.loads(out.read_text())
    strip = [{k: v for k, v in m.items() if k not in ("name", "weight")} for m in back["messages"]]
    assert strip == [{k: v for k, v in m.items() if k != "weight"} for m in lines[0]["messages"]]
    assert back["tools"] == lines[0]["tools"]
    # one message per line: one session for the file
    one = tmp_path / "one.jsonl"
    one.write_text('{"role": "user", "content": "Hi"}\n{"role": "assistant", "content": "Hello."}\n')
    per_file = _import(str(one), "--out", str(tmp_path / "s1"), "--json")
    assert per_file.exit_code == 0 and len(json.loads(per_file.stdout)) == 1
