"""``record --strict``: any warning fails the run with exit 3, but only after the chat; the session stays on disk.

Driven through the CLI (``CliRunner`` and the installed ``agent-ft``) with clients written as files
(``--client path/file.py:Class``) whose replies carry what JSON cannot hold, or that warn.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from typer.testing import CliRunner

from agent_ft_cli.cli import app
from agent_ft_cli.errors import EXIT_BAD_INPUT

runner = CliRunner()
AGENT_FT = str(Path(sys.executable).parent / "agent-ft")
LOCAL = REPO / "configs" / "local.yaml"

CLIENTS = '''
import warnings
from agent_ft_cli.clients.protocol import ModelClientBase, chat_response


class BigIntClient(ModelClientBase):
    """Replies with a tool call whose id JSON cannot hold exactly (an int beyond 64 bits)."""
    model = "odd"

    def create(self, params):
        call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}, "index": 2**70}
        return chat_response({"content": "calling f", "tool_calls": [call]}, model=self.model)


class NanClient(ModelClientBase):
    model = "odd"

    def create(self, params):
        call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}, "score": float("nan")}
        return chat_response({"content": "calling f", "tool_calls": [call]}, model=self.model)


class Opaque:
    def __repr__(self):
        return "<Opaque 7>"


class ObjectClient(ModelClientBase):
    """A tool call carrying an object JSON has no type for (written as its repr)."""
    model = "odd"

    def create(self, params):
        call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}, "meta": Opaque()}
        return chat_response({"content": "calling f", "tool_calls": [call]}, model=self.model)


class WarningClient(ModelClientBase):
    """A plain answer, after a warning of its own."""
    model = "odd"

    def create(self, params):
        warnings.warn("the odd client is deprecated", UserWarning)
        return chat_response("fine", model=self.model)


class InitWarningClient(ModelClientBase):
    """Warns while it is created (before the chat starts)."""
    model = "odd"

    def __init__(self, config, **kwargs):
        warnings.warn("the odd client has no GPU", UserWarning)
        super().__init__(config)

    def create(self, params):
        return chat_response("fine", model=self.model)


class PlainClient(ModelClientBase):
    model = "odd"

    def create(self, params):
        return chat_response("fine", model=self.model)
'''

CONFIG = """\
agents:
  assistant:
    class: AssistantAgent
    human_input_mode: NEVER
    llm_config:
      config_list:
        - {model: odd, model_client_cls: %(cls)s}
      cache_seed: null
  user:
    class: UserProxyAgent
    human_input_mode: NEVER
    code_execution_config: false
    max_consecutive_auto_reply: 0
update: assistant
peer: user
chat:
  initiator: user
"""


def _setup(work: Path, cls: str) -> tuple[Path, str]:
    (work / "odd_clients.py").write_text(CLIENTS)
    config = work / f"{cls}.yaml"
    config.write_text(CONFIG % {"cls": cls})
    return config, f"{work / 'odd_clients.py'}:{cls}"


def _record(config: Path, client: str, out: Path, *extra: str) -> object:
    return runner.invoke(app, ["record", "-c", str(config), "--client", client, "-m", "hi", "-o", str(out), *extra])


def _messages(path: Path) -> list[dict[str, object]]:
    records = [json.loads(line) for line in path.read_bytes().splitlines()]
    return [r["message"] for r in records if r.get("type") == "message"]


@pytest.mark.parametrize(
    ("cls", "fallback", "written"),
    [
        ("BigIntClient", "an integer beyond 64 bits is written as its decimal string", str(2**70)),
        ("NanClient", 'NaN and infinities are written as the strings "NaN"', "NaN"),
        ("ObjectClient", "an object JSON has no form for is written as its repr", "<Opaque 7>"),
    ],
)
def test_a_value_recorded_through_a_fallback_fails_strict_after_the_chat(
    isolated: Path, cls: str, fallback: str, written: str
) -> None:
    config, client = _setup(isolated, cls)
    loose = _record(config, client, isolated / "loose.jsonl")
    assert loose.exit_code == 0, loose.output
    assert fallback in loose.stderr  # a warning, not a failure, without --strict

    out = isolated / "strict.jsonl"
    strict = _record(config, client, out, "--strict")
    assert strict.exit_code == EXIT_BAD_INPUT, strict.output
    error = [ln for ln in strict.stderr.splitlines() if ln.startswith("Error:")]
    assert len(error) == 1, strict.stderr
    assert f"the chat finished and the session is kept in {str(out)!r}" in error[0]
    assert fallback in error[0] and "--strict refuses every warning" in error[0]
    assert strict.stdout == ""  # no reply printed: the run failed
    # the chat ran to its end exactly as without --strict: the same messages, the value as documented
    assert len(_messages(out)) == len(_messages(isolated / "loose.jsonl")) == 4
    calls = [m for m in _messages(out) if m.get("tool_calls")]
    assert calls and any(written in json.dumps(m) for m in calls)


def test_a_warning_from_the_client_fails_strict_and_json_stays_empty(isolated: Path) -> None:
    config, client = _setup(isolated, "WarningClient")
    out = isolated / "w.jsonl"
    result = _record(config, client, out, "--strict", "--json")
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert result.stdout == ""
    assert "Warning: the odd client is deprecated" in result.stderr  # shown as it happened, then counted
    assert "Error: " in result.stderr and "the odd client is deprecated" in result.stderr.split("Error: ")[1]
    assert [m["content"] for m in _messages(out)][-1] == "fine"  # the chat finished: the reply is recorded


def test_strict_passes_a_clean_recording(isolated: Path) -> None:
    config, client = _setup(isolated, "PlainClient")
    result = _record(config, client, isolated / "ok.jsonl", "--strict", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reply"] == "fine"
    assert "Warning" not in result.stderr


def test_a_warning_before_the_chat_fails_strict_with_nothing_recorded(isolated: Path) -> None:
    config, client = _setup(isolated, "InitWarningClient")
    loose = _record(config, client, isolated / "a.jsonl")
    assert loose.exit_code == 0 and "Warning: the odd client has no GPU" in loose.stderr, loose.output
    out = isolated / "b.jsonl"
    strict = _record(config, client, out, "--strict")
    assert strict.exit_code == EXIT_BAD_INPUT, strict.output
    assert "the odd client has no GPU" in strict.stderr.split("Error: ")[1]
    assert "nothing was recorded (the chat did not start)" in strict.stderr
    assert not out.exists()  # no chat, no session file


def test_strict_through_the_installed_command(isolated: Path) -> None:
    config, client = _setup(isolated, "BigIntClient")
    out = isolated / "p.jsonl"
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(
        [AGENT_FT, "record", "-c", str(config), "--client", client, "-m", "hi", "-o", str(out), "--strict", "-q"],
        capture_output=True, env=env, cwd=isolated, timeout=120,
    )
    assert proc.returncode == EXIT_BAD_INPUT, proc.stderr
    assert proc.stdout == b""
    assert proc.stderr.count(b"\n") == 1 and proc.stderr.startswith(b"Error: ")  # -q: the one error line only
    assert b"Traceback" not in proc.stderr
    assert len(_messages(out)) == 4
