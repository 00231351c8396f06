"""The update and record workflows through the CLI: a final line cut short, the client's own failures (exception,
ValueError, interrupt), odd stats, an unwritable output folder, an agent that cannot be built."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from bad_input import CAP, P, S, _snapshot, write_inputs
from conftest import REPO
from typer.testing import CliRunner

from agent_ft_cli.cli import app

runner = CliRunner()


# -- a final line cut short is skipped with a warning ----------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["inspect", "--json", "-s", "cutend.jsonl"],
        ["inspect", "--json", "--last", "3", "-s", "cutend.jsonl"],
        ["update", "--json", "-s", "cutend.jsonl", *P, *CAP],
        ["validate", "--json", "-s", "cutend.jsonl", "--trust-session-client"],
    ],
    ids=["inspect", "inspect-last", "update", "validate"],
)
def test_cut_final_line_is_skipped_with_a_warning(args: list[str], isolated: Path) -> None:
    write_inputs(isolated)
    before = _snapshot(isolated)
    result = runner.invoke(app, args, env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "Warning: cutend.jsonl:13: skipped the final line" in result.stderr
    out = json.loads(result.stdout)  # warnings never reach stdout: --json pipes into jq
    if args[0] == "inspect":
        full = json.loads(
            runner.invoke(app, ["inspect", "--json", "-s", "chat.jsonl"]).stdout
        )["messages"]
        # the cut line was the user's view; the assistant's thread is complete
        assert out["messages"] == (full if "--last" not in args else full[-3:])
    if args[0] == "update":
        assert out["update_stats"]["captured"] == len(out["inference_messages"]) > 0
        (isolated / "cap.json").unlink()
    if args[0] == "validate":
        assert out["ok"] is True
    assert _snapshot(isolated) == before


def test_client_exception_message_is_shown_and_no_output_is_left(isolated: Path) -> None:
    write_inputs(isolated)
    (isolated / "out.json").write_bytes(b'{"old": true}\n')
    result = runner.invoke(
        app, ["update", *S, *P, "--client", "clientpkg.clients:FailingUpdateClient", "-o", "out.json"]
    )
    assert result.exit_code == 1
    assert "CUDA out of memory (simulated)" in result.stderr
    assert (isolated / "out.json").read_bytes() == b'{"old": true}\n'
    assert sorted(p.name for p in isolated.iterdir() if p.name.startswith(".")) == []


def test_client_valueerror_is_the_clients_failure_not_a_protocol_error(isolated: Path) -> None:
    write_inputs(isolated)
    (isolated / "valclient.py").write_text(
        "from clientpkg.clients import ScriptedClient\n"
        "class ValueErrorClient(ScriptedClient):\n"
        "    def update_model(self, preference_data, inference_messages, **kw):\n"
        "        raise ValueError('preference pairs must be [chosen, rejected]\\nsecond line')\n"
    )
    result = runner.invoke(app, ["update", *S, *P, "--client", "valclient.py:ValueErrorClient"])
    assert result.exit_code == 1, result.output
    assert "ValueError: preference pairs must be [chosen, rejected]" in result.stderr
    assert "second line" not in result.stderr  # one short line


def test_interrupt_exits_130_and_leaves_no_output(isolated: Path) -> None:
    write_inputs(isolated)
    (isolated / "intclient.py").write_text(
        "from clientpkg.clients import ScriptedClient\n"
        "class Interrupted(ScriptedClient):\n"
        "    def update_model(self, preference_data, inference_messages, **kw):\n"
        "        raise KeyboardInterrupt\n"
    )
    before = _snapshot(isolated)
    result = runner.invoke(app, ["update", *S, *P, "--client", "intclient.py:Interrupted", "-o", "out.json"])
    assert result.exit_code == 130
    assert "Error: interrupted" in result.stderr
    after = _snapshot(isolated)
    assert not (isolated / "out.json").exists()
    assert {k for k in after if not k.startswith("__pycache__")} == {k for k in before if not k.startswith("__pycache__")}


def test_odd_stats_render_with_a_fallback(isolated: Path) -> None:
    write_inputs(isolated)
    table = runner.invoke(app, ["update", *S, *P, "--client", "clientpkg.clients:OddStatsClient"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "<object object at" in table.stdout and "values" in table.stdout
    as_json = runner.invoke(app, ["update", *S, *P, "--client", "clientpkg.clients:OddStatsClient", "--json", "-o", "o.json"])
    assert as_json.exit_code == 0, as_json.output
    stats = json.loads(as_json.stdout)["update_stats"]
    assert stats["values"] == [1, 2] and stats["when"].startswith("<object object at")
    assert json.loads((isolated / "o.json").read_text())["update_stats"]["values"] == [1, 2]


def test_unwritable_folder_is_refused_before_any_work(isolated: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can write into a read-only folder; /proc covers the probe")
    write_inputs(isolated)
    ro = isolated / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        result = runner.invoke(app, ["update", *S, *P, *CAP, "-o", "ro/out.json"])
        assert result.exit_code == 2
        assert "not writable" in result.stderr
        assert not (isolated / "cap.json").exists()
    finally:
        ro.chmod(0o755)


@pytest.mark.parametrize("command", ["record", "update"])
def test_agent_that_cannot_be_built_names_the_config_file_and_key(tmp_path: Path, command: str) -> None:
    config = tmp_path / "pair.yaml"
    config.write_text(
        "agents:\n  assistant:\n    class: AssistantAgent\n    kwargs: {no_such_argument: 1}\n"
        "  user:\n    class: UserProxyAgent\nupdate: assistant\npeer: user\n"
        "client: agent_ft_cli.local:LocalLearningClient\n"
    )
    repo = REPO
    args = {
        "record": ["record", "-c", str(config), "-m", "hi", "-o", str(tmp_path / "out.jsonl")],
        "update": ["update", "-s", str(repo / "sample_sessions" / "capital.jsonl"), "--prefs",
                   str(repo / "sample_sessions" / "capital.prefs.json"), "-c", str(config)],
    }[command]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith(f"Error: {config}: agents.assistant: AssistantAgent cannot be created")
    assert "no_such_argument" in result.stderr and "Traceback" not in result.output
