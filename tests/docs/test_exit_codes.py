"""The exit-code tables (docs/errors.md, the README, the app's --help) are tested against agent_ft_cli/errors.py."""

from __future__ import annotations

import inspect
import re

from conftest import REPO
from typer.testing import CliRunner

from agent_ft_cli import errors
from agent_ft_cli.cli import app

CODES = {name: value for name, value in vars(errors).items() if name.startswith("EXIT_") and isinstance(value, int)}
CLASSES = {
    name: cls
    for name, cls in vars(errors).items()
    if inspect.isclass(cls) and issubclass(cls, errors.AgentFtError) and cls.__module__ == errors.__name__
}


def _table(path: str) -> dict[int, str]:
    text = (REPO / path).read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1]
    rows = re.findall(r"^\| (\d+) \|(.*)\|\s*$", section, re.M)
    return {int(code): rest for code, rest in rows}


def test_errors_md_lists_every_code_and_every_class_with_its_code() -> None:
    table = _table("docs/errors.md")
    assert set(table) == set(CODES.values())
    named = {}
    for code, rest in table.items():
        for name in re.findall(r"`(\w+)`", rest.split("|")[-1]):
            named[name] = code
    for name, cls in CLASSES.items():
        if name == "AgentFtError":
            continue
        assert name in named, f"{name} (exit {cls.exit_code}) is not in docs/errors.md's table"
        assert named[name] == cls.exit_code, f"{name} exits {cls.exit_code}, docs/errors.md says {named[name]}"
    assert named.get("Terminated") == errors.Terminated.exit_code == errors.EXIT_TERMINATED


def test_the_readme_lists_the_same_codes() -> None:
    assert set(_table("README.md")) == set(CODES.values())


def test_the_apps_help_lists_every_code() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    for code in CODES.values():
        assert re.search(rf"\b{code}\b", result.stdout), code
