"""A user script passes ``mypy --strict`` against the installed package (issue #16 item 9): the README's
``pip install -e .`` puts a plain path in a ``.pth`` file (``package-dir`` in pyproject.toml), which type checkers
follow, and the public API is typed: a session's header and messages, ``export_rows``' rows and the results are
``TypedDict`` classes (``agent_ft_cli.types``), so a misspelt key is a type error, not a ``KeyError`` at run time."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "export"))

from exportkit import save_live, write_prefs

# Reads a header key, an agent definition, a message's content and tool calls, rows of three formats and two results:
# every access is checked against the TypedDicts, with no cast and no Any.
GOOD = '''
from pathlib import Path

from agent_ft_cli import (
    AgentFtError,
    ExportRow,
    ExportSummaryDict,
    Message,
    MessagesRow,
    RecordResultDict,
    Session,
    SessionError,
    SessionHeader,
    export_rows,
    load_session,
    replay,
)
from agent_ft_cli.export import Exporter, ExportOptions
from agent_ft_cli.workflows.record import RecordResult


def header_of(path: Path) -> str:
    session: Session = load_session(path)
    header: SessionHeader = session.header
    names = [a["name"] for a in header["agents"]]
    llm = [a.get("llm_config") for a in session.agents]
    return f"{header['format']} {header['version']} {header.get('autogen_version')} {names} {len(llm)}"


def texts(path: Path, agent: str, peer: str) -> list[str]:
    thread: list[Message] = load_session(path).thread(agent, peer)
    out: list[str] = []
    for message in thread:
        content = message.get("content")
        if isinstance(content, str):
            out.append(content)
        for call in message.get("tool_calls", []):
            out.append(call.get("function", {}).get("name", ""))
    return out


def sft_lengths(path: Path) -> list[int]:
    try:
        rows: list[MessagesRow] = export_rows(path, format="trl-sft")
    except SessionError:
        return []
    except AgentFtError as e:
        raise SystemExit(str(e)) from e
    return [len(row["messages"]) + len(row.get("tools", [])) for row in rows]


def preference_prompts(path: Path, prefs: Path) -> list[str]:
    standard = export_rows(path, format="trl-preference", prefs=prefs, standard=True)
    conversational = export_rows(path, format="trl-preference", prefs=prefs)
    dpo = export_rows(path, format="openai-dpo", prefs=prefs)
    return [
        *(row["prompt"] + row["chosen"] for row in standard),
        *(m["role"] for row in conversational for m in row["prompt"]),
        *(m["role"] for row in dpo for m in row["input"]["messages"]),
    ]


def any_format(path: Path, fmt: str) -> int:
    rows: list[ExportRow] = export_rows(path, format=fmt)
    return len(rows)


def summary_of(path: Path) -> int:
    exporter = Exporter(ExportOptions(format="openai-sft"))
    rows = list(exporter.rows([path]))
    summary: ExportSummaryDict = exporter.summary.as_dict()
    return summary["rows"] + summary["pairs"]["tied"] + len(summary["skipped_pairs"]) - len(rows)


def reply_of(result: RecordResult) -> str | None:
    record: RecordResultDict = result.as_dict()
    return record["reply"] if record["messages"] else None


def describe(path: str) -> str:
    session: Session = load_session(path)
    agent, peer = replay(session)
    return f"{len(session.threads)} threads, {agent!r} and {peer!r}"
'''

# The same reads with a key misspelt: each one is a type error naming the key.
BAD = '''
from pathlib import Path

from agent_ft_cli import export_rows, load_session
from agent_ft_cli.export import Exporter, ExportOptions
from agent_ft_cli.workflows.record import RecordResult


def misspelt(path: Path, result: RecordResult) -> list[object]:
    session = load_session(path)
    message = session.thread("assistant", "user")[0]
    row = export_rows(path, format="trl-sft")[0]
    summary = Exporter(ExportOptions(format="trl-sft")).summary.as_dict()
    return [
        session.header["agent"],
        message["contents"],
        row["mesages"],
        result.as_dict()["replies"],
        summary["skiped_pairs"],
        session.agents[0]["system_mesage"],
    ]
'''
MISSPELT = ["agent", "contents", "mesages", "replies", "skiped_pairs", "system_mesage"]


def readme_script() -> str:
    """The README's typed example (``# typed.py``)."""
    found = re.search(r"```python\n(# typed\.py\n.*?)```", (REPO / "README.md").read_text(encoding="utf-8"), re.S)
    assert found, "README lost its typed example"
    return found[1]


def test_a_user_script_passes_mypy_strict_and_a_misspelt_key_fails_it(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    (tmp_path / "user_script.py").write_text(GOOD, encoding="utf-8")
    (tmp_path / "misspelt.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "typed.py").write_text(readme_script(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    result = subprocess.run(
        [
            sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-executable", sys.executable,
            "--show-error-codes", "--no-error-summary", "user_script.py", "typed.py", "misspelt.py",
        ],
        cwd=tmp_path,  # outside the repository: the package is found through the install, not the working folder
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    report = result.stdout + result.stderr
    assert "user_script.py" not in report and "typed.py" not in report, report  # the good scripts type-check
    errors = [line for line in report.splitlines() if line.startswith("misspelt.py:") and ": error:" in line]
    # one error per misspelt key, each a TypedDict key error naming the key (what dict[str, Any] would never give)
    assert len(errors) == len(MISSPELT), report
    for key in MISSPELT:
        assert any(f'"{key}"' in e and "[typeddict-item]" in e for e in errors), (key, report)
    assert result.returncode == 1, report


def test_the_user_script_runs_on_a_real_session(tmp_path: Path) -> None:
    """The script mypy accepts also runs: the keys it reads are there."""
    (tmp_path / "user_script.py").write_text(GOOD, encoding="utf-8")
    script = runpy.run_path(str(tmp_path / "user_script.py"))
    live, prefs = save_live(tmp_path), write_prefs(tmp_path)
    assert re.match(r"agent-ft-session 1\.0 \S+ \['assistant', 'user'\] 2$", script["header_of"](live))
    assert script["texts"](live, "assistant", "user")
    [length] = script["sft_lengths"](live)
    assert length > 2
    assert script["preference_prompts"](live, prefs)
    assert script["any_format"](live, "openai-sft") == 1
    assert script["summary_of"](live) == 0


def test_the_readmes_typed_example_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "chat.jsonl").write_bytes((REPO / "sample_sessions" / "capital.jsonl").read_bytes())
    (tmp_path / "typed.py").write_text(readme_script(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    runpy.run_path("typed.py")
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("['assistant', 'user']")
    assert out[1] == "['What is the capital of Australia?', \"I don't know the answer to that yet.\"]"
    assert out[2] == "I don't know the answer to that yet. False"
