"""The dataset commands as a user meets them: help, stdout only for what was asked, talk on stderr, cheap imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from agent_ft_cli.cli import app

runner = CliRunner()

SESSION = "\n".join(
    [
        '{"type":"header","format":"agent-ft-session","version":"1.0","agents":[{"name":"bot","class":"AssistantAgent",'
        '"system_message":"Be kind.","llm_config":{"config_list":[{"model":"m","model_client_cls":"C"}]}},'
        '{"name":"human","class":"UserProxyAgent","llm_config":false}]}',
        '{"type":"message","agent":"bot","peer":"human","message":{"content":"Hi?","role":"user","name":"human"}}',
        '{"type":"message","agent":"bot","peer":"human","message":{"content":"Go away.","role":"assistant","name":"bot"}}',
    ]
)


def _session(folder: Path, name: str = "s.jsonl") -> Path:
    p = folder / name
    p.write_text(SESSION + "\n", encoding="utf-8")
    return p


def test_help_has_examples() -> None:
    for name in ("export", "import"):
        result = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0
        assert "Example" in result.stdout


def test_export_talks_on_stderr_only(tmp_path: Path) -> None:
    sessions = [_session(tmp_path, f"s{i}.jsonl") for i in range(3)]
    prefs = tmp_path / "p.json"
    prefs.write_text('[["Hello, welcome!", "Go away."]]')
    out = tmp_path / "o.jsonl"
    args = ["export", *[a for s in sessions for a in ("-s", str(s))], "--prefs", str(prefs), "-f", "trl-preference"]
    result = runner.invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "rows written" in result.stderr and "pairs tied" in result.stderr
    as_json = runner.invoke(app, [*args, "-o", str(out), "--json"])
    summary = json.loads(as_json.stdout)
    assert summary["rows"] == 1 and summary["sessions"] == 3 and summary["pairs"]["tied"] == 1
    [row] = [json.loads(line) for line in out.read_text().splitlines()]
    assert row == {
        "prompt": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi?"}],
        "chosen": [{"role": "assistant", "content": "Hello, welcome!"}],
        "rejected": [{"role": "assistant", "content": "Go away."}],
    }


def test_export_agent_and_peer_options(tmp_path: Path) -> None:
    s = _session(tmp_path)
    out = tmp_path / "o.jsonl"
    ok = runner.invoke(app, ["export", "-s", str(s), "--agent", "bot", "--peer", "human", "-f", "trl-sft", "-o", str(out)])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["export", "-s", str(s), "--agent", "nobody", "-f", "trl-sft", "-o", str(out), "--json"])
    assert bad.exit_code == 3  # every session skipped: nothing to export
    assert "nobody" in bad.stderr and bad.stdout == ""


def test_import_lists_files_on_stdout(tmp_path: Path) -> None:
    src = tmp_path / "chats.jsonl"
    src.write_text('{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}\n')
    result = runner.invoke(app, ["import", str(src), "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    assert Path(line).exists() and "imported 1 conversation" in result.stderr
    as_json = runner.invoke(app, ["import", str(src), "--out", str(tmp_path / "s"), "--json", "--force"])
    assert json.loads(as_json.stdout) == [line]


def test_dataset_modules_stay_cheap() -> None:
    code = (
        "import sys, agent_ft_cli.cli.data, agent_ft_cli.export, agent_ft_cli.adapters, agent_ft_cli.cli; "
        "bad = [m for m in ('autogen', 'sqlite3', 'datasets') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_export_out_dash_is_stdout_and_says_so(tmp_path: Path) -> None:
    """review-cli F1: ``--out -`` made a file named ``-``; the rows belong on stdout, the summary on stderr."""
    s = _session(tmp_path)
    help_text = runner.invoke(app, ["export", "--help"], env={"COLUMNS": "200"}).stdout
    assert "- for stdout" in help_text
    result = runner.invoke(app, ["export", "-s", str(s), "-f", "trl-sft", "-o", "-"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "messages": [
            {"role": "system", "content": "Be kind."},
            {"role": "user", "content": "Hi?"},
            {"role": "assistant", "content": "Go away."},
        ]
    }
    assert "rows written: 1 to stdout" in result.stderr and not Path("-").exists()
    both = runner.invoke(app, ["export", "-s", str(s), "-f", "trl-sft", "-o", "-", "--json"])
    assert both.exit_code == 2 and both.stdout == "" and "--json" in both.stderr
