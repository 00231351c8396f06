"""Commands that do not need autogen never import it: each runs in a fresh interpreter that then lists sys.modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent_ft_cli import save_session
from agent_ft_cli import session as fmt

PROBE = """
import sys
from agent_ft_cli.cli import app
try:
    app(sys.argv[1:], prog_name="agent-ft")
except SystemExit as e:
    code = e.code
else:
    code = 0
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("autogen", "openai", "rich", "pydantic_ai", "matplotlib", "plotext"))
sys.stderr.write(f"\\nEXIT={code} HEAVY={','.join(heavy)}\\n")
"""


def _session(path: Path) -> Path:
    header = fmt.make_header(
        [
            {"name": "assistant", "llm_config": {"config_list": [{"model": "m", "model_client_cls": "C"}]}},
            {"name": "user", "llm_config": False},
        ]
    )
    msgs = [{"content": "hi", "role": "user", "name": "user"}, {"content": "hello", "role": "assistant"}]
    fmt.write_session(path, header, [("assistant", "user", msgs), ("user", "assistant", msgs)])
    return path


def _modules_after(*argv: str) -> tuple[int, list[str]]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60)
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("EXIT="), proc.stderr
    code, heavy = line.split(" ", 1)
    return int(code.split("=")[1] or 0), [m for m in heavy.split("=", 1)[1].split(",") if m]


@pytest.mark.parametrize(
    "args",
    [
        ["inspect"],
        ["inspect", "--json"],
        ["inspect", "--json", "--last", "1"],
        ["inspect", "--last", "1", "--include-system-message"],
        ["validate"],
        ["validate", "--json"],
    ],
)
def test_commands_without_a_client_do_not_import_autogen(tmp_path: Path, args: list[str]) -> None:
    path = _session(tmp_path / "s.jsonl")
    code, heavy = _modules_after(args[0], "-s", str(path), *args[1:])
    assert code == 0
    assert not [m for m in heavy if m.startswith(("autogen", "openai"))], heavy


@pytest.mark.parametrize(
    "args",
    [
        ["inspect"],
        ["inspect", "--json"],
        ["validate"],
        ["validate", "--json"],
        ["export", "--format", "trl-sft", "--out", "OUT"],
        ["export", "--format", "openai-sft", "--out", "-"],
    ],
)
def test_inspect_validate_and_export_import_no_plotting_library(tmp_path: Path, args: list[str]) -> None:
    """Charts are for `runs show` and `--plot` only: plotext and matplotlib stay out of the data paths."""
    path = _session(tmp_path / "s.jsonl")
    args = [str(tmp_path / "out.jsonl") if a == "OUT" else a for a in args]
    code, heavy = _modules_after(args[0], "-s", str(path), *args[1:])
    assert code == 0
    assert not [m for m in heavy if m.startswith(("matplotlib", "plotext"))], heavy


def test_runs_list_imports_no_plotting_library(tmp_path: Path) -> None:
    code, heavy = _modules_after("runs", str(tmp_path), "--json")
    assert code == 0
    assert not [m for m in heavy if m.startswith(("matplotlib", "plotext"))], heavy


def test_inspect_json_does_not_import_rich(tmp_path: Path) -> None:
    """The --json path prints bytes with orjson; rich is for people."""
    path = _session(tmp_path / "s.jsonl")
    code, heavy = _modules_after("inspect", "-s", str(path), "--json")
    assert code == 0
    assert "rich.console" not in heavy, heavy


def test_help_and_version_do_not_import_autogen() -> None:
    for argv in (["--help"], ["--version"], ["inspect", "--help"], ["update", "--help"]):
        code, heavy = _modules_after(*argv)
        assert code == 0, argv
        assert not [m for m in heavy if m.startswith("autogen")], (argv, heavy)


def test_importing_the_package_is_cheap() -> None:
    code = "import sys, agent_ft_cli; print(','.join(m for m in sys.modules if m.startswith(('autogen', 'typer', 'rich'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.strip() == ""
    assert callable(save_session)


def test_version_and_help_load_no_command_dependencies() -> None:
    """Start-up is typer alone: the renderer, the serializer and orjson load when a command runs, not to print
    ``--version`` or ``--help``."""
    code = (
        "import sys\nfrom agent_ft_cli.cli import run\nsys.argv = ['agent-ft', sys.argv[1]]\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print(','.join(sorted(m for m in sys.modules if m in ('orjson', 'agent_ft_cli.jsonio', "
        "'agent_ft_cli.cli.render', 'agent_ft_cli.textsafe', 'yaml') or m.startswith('rich'))), file=sys.stderr)"
    )
    for flag in ("--version", "--help"):
        proc = subprocess.run([sys.executable, "-c", code, flag], capture_output=True, text=True, timeout=60)
        assert proc.stderr.strip().splitlines()[-1:] in ([], [""]), (flag, proc.stderr)



@pytest.mark.parametrize("argv", [["inspect", "--help"], ["--debug", "validate", "--help"], ["runs", "list", "--help"], ["--help", "inspect"], ["nosuch"]])
def test_building_only_the_named_command_changes_no_output(argv: list[str]) -> None:
    """The console script builds only the command it is given (start-up); help and errors read as they do with every
    command built (the Typer app called as it is)."""
    runs = [
        subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60)
        for code in (
            "import sys; sys.argv[0] = 'agent-ft'; from agent_ft_cli.__main__ import main; main()",
            "import sys; from agent_ft_cli.cli import app; app(sys.argv[1:], prog_name='agent-ft')",
        )
    ]
    only, every = ((r.returncode, r.stdout, r.stderr) for r in runs)
    assert only == every
    assert runs[0].stdout or runs[0].stderr
