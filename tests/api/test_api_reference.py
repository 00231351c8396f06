"""The API reference is generated from the docstrings (issue #16 item 10), here, so it cannot rot: every public name
of ``agent_ft_cli`` gets its entry with its docstring. Build it yourself with ``pdoc agent_ft_cli -o site/``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import agent_ft_cli


def test_the_api_reference_builds_with_every_public_name(tmp_path: Path) -> None:
    pytest.importorskip("pdoc")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pdoc", "agent_ft_cli", "-o", str(site)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    # pdoc cannot find the line of a key declared in a TypedDict's functional form, which the key ``class`` of
    # AgentDefinition needs (a keyword); it documents the key all the same. Any other warning fails.
    warnings = [
        line
        for line in result.stderr.splitlines()
        if "Warn" in line and "AgentDefinition.class is taken from" not in line
    ]
    assert not warnings, result.stderr
    page = (site / "agent_ft_cli.html").read_text(encoding="utf-8")
    for name in agent_ft_cli.__all__:
        if name == "__version__":
            continue
        assert f'id="{name}"' in page or (site / "agent_ft_cli" / f"{name}.html").is_file(), name
    # the docstrings are the reference
    assert "The rows <code>agent-ft export</code> writes" in page
    assert "Rebuild the recorded pair as live autogen agents" in page
    # the data's types, every key with its type (agent_ft_cli.types)
    for key in (
        "AgentDefinition.class",
        "AgentDefinition.name",
        "SessionHeader.agents",
        "Message.tool_calls",
        "MessagesRow.tools",
        "EvalResultDict.gates",
        "ExportSummaryDict.skipped_pairs",
    ):
        assert f'id="{key}"' in page, key
