"""docs/cli.md is generated from the app (``python -m agent_ft_cli.cli.reference > docs/cli.md``) and current."""

from __future__ import annotations

import typer.main
from conftest import REPO

from agent_ft_cli.cli import app
from agent_ft_cli.cli.reference import reference

CLI_MD = REPO / "docs" / "cli.md"


def test_the_cli_reference_is_current() -> None:
    assert CLI_MD.read_text(encoding="utf-8") == reference(), (
        "docs/cli.md is stale: run `.venv/bin/python -m agent_ft_cli.cli.reference > docs/cli.md`"
    )


def test_the_reference_names_every_command_and_every_flag_short_ones_included() -> None:
    text = CLI_MD.read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        assert f"## `agent-ft {name}`" in text
        section = text.split(f"## `agent-ft {name}`", 1)[1].split("\n## ", 1)[0]
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                assert opt in section, f"{opt} of {name} is not in its section"
    for short in ("-s,", "-a,", "-p,", "-c,", "-o,", "-m,", "-n,", "-q,", "-f,"):
        assert short in text
