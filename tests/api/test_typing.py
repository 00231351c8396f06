"""A user script passes ``mypy --strict`` against the installed package (issue #16 item 9): the README's
``pip install -e .`` puts a plain path in a ``.pth`` file (``package-dir`` in pyproject.toml), which type checkers
follow, and the public API is typed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = '''
from typing import Any

from agent_ft_cli import AgentFtError, Session, SessionError, export_rows, load_session, replay


def rows_of(path: str) -> list[dict[str, Any]]:
    try:
        return export_rows(path, format="trl-sft")
    except SessionError:
        return []
    except AgentFtError as e:
        raise SystemExit(str(e)) from e


def describe(path: str) -> str:
    session: Session = load_session(path)
    agent, peer = replay(session)
    return f"{len(session.threads)} threads, {agent!r} and {peer!r}"
'''


def test_a_user_script_passes_mypy_strict(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    script = tmp_path / "user_script.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-executable", sys.executable, str(script)],
        cwd=tmp_path,  # outside the repository: the package is found through the install, not the working folder
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
