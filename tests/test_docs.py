"""The docs cannot drift: every command and option is documented, every command's help has an example, the
README's client example works, and CI runs the README's own test command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer.main
from conftest import REPO
from typer.testing import CliRunner

from agent_ft_cli.cli import app

README = (REPO / "README.md").read_text(encoding="utf-8")
DOCS = README + "".join(p.read_text(encoding="utf-8") for p in sorted((REPO / "docs").glob("*.md")))
COMMAND = typer.main.get_command(app)
NAMES = sorted(COMMAND.commands)  # type: ignore[attr-defined]
runner = CliRunner()


def test_core_commands_exist() -> None:
    assert {"inspect", "update", "validate", "record"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_command_and_option_is_documented(name: str) -> None:
    assert f"agent-ft {name}" in DOCS, f"command {name} is not in the README or docs/"
    for param in COMMAND.commands[name].params:  # type: ignore[attr-defined]
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and opt != "--help":
                assert opt in DOCS, f"option {opt} of `agent-ft {name}` is not documented"


@pytest.mark.parametrize("name", NAMES)
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example" in result.stdout, f"`agent-ft {name} --help` has no example"


def _quickstart_lines() -> list[str]:
    block = re.search(r"## Quickstart\s+(?:<!--.*?-->\s+)?```bash\n(.*?)```", README, re.S)
    assert block
    return [ln for ln in block.group(1).splitlines() if ln.strip() and not ln.startswith("#")]


def test_ci_runs_the_readmes_test_command() -> None:
    lines = _quickstart_lines()
    assert len(lines) == 2
    assert "pytest" in lines[1]
    assert lines[1] in (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "agent-ft update" in lines[0] and "sample_sessions/" in lines[0] and "configs/local.yaml" in lines[0]


def test_readme_client_example_works(isolated: Path) -> None:
    code = re.search(r"```python\n(# mypkg/clients.py\n.*?)```", README, re.S)
    assert code, "README lost its client example"
    pkg = isolated / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "clients.py").write_text(code.group(1), encoding="utf-8")
    sample = REPO / "sample_sessions" / "capital.jsonl"
    prefs = REPO / "sample_sessions" / "capital.prefs.json"
    ok = runner.invoke(app, ["validate", "-s", str(sample), "--prefs", str(prefs), "--client", "mypkg.clients:EchoLearner"])
    assert ok.exit_code == 0, ok.output
    result = runner.invoke(
        app, ["update", "-s", str(sample), "--prefs", str(prefs), "--client", "mypkg.clients:EchoLearner", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["update_stats"] == {"pairs": 1, "messages": 2, "skipped": []}
