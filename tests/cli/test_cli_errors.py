"""Bad input gets a clear error through the CLI: the table of ``tests/bad_input.py`` (sessions, preference files, YAML
configs, outputs and arguments; the client paths are in ``tests/clients/test_client_loading.py``), ``--debug``, and
the same through a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from bad_input import (
    ARGUMENT_CASES,
    CAP,
    CASES,
    CONFIG_CASES,
    OUTPUT_CASES,
    PREFS_CASES,
    SESSION_CASES,
    Case,
    P,
    S,
    _snapshot,
    check_refused,
    write_inputs,
)
from conftest import REPO
from typer.testing import CliRunner

from agent_ft_cli.cli import app

runner = CliRunner()
CLI_CASES = SESSION_CASES + PREFS_CASES + CONFIG_CASES + OUTPUT_CASES + ARGUMENT_CASES


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_bad_input_is_refused_clearly(case: Case, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_refused(case, isolated, monkeypatch)


def test_debug_shows_the_traceback(isolated: Path) -> None:
    write_inputs(isolated)
    result = runner.invoke(app, ["--debug", "inspect", "-s", "cutmid.jsonl"])
    assert result.exit_code != 0
    from agent_ft_cli.errors import SessionError

    assert isinstance(result.exception, SessionError)
    assert "cutmid.jsonl:5" in str(result.exception)


# -- the same through a real process --------------------------------------------------------------------------------

SUBPROCESS_CASES = [
    (["inspect", "-s", "cutmid.jsonl", "--json"], 3, "cutmid.jsonl:5: not valid JSON"),
    (["update", *S, *P, "--client", "clientpkg.broken_syntax:Broken"], 4, "broken_syntax.py:2: SyntaxError"),
    (["update", *S, *P, "--config", "y_tag.yaml"], 3, "y_tag.yaml:1:9"),
    (["update", *S, *P, *CAP, "-o", "nodir/out.json"], 2, "folder 'nodir' does not exist"),
    (["update", *S, *P, "--client", "clientpkg.clients:FailingUpdateClient"], 1, "CUDA out of memory (simulated)"),
]


def _agent_ft(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "agent-ft"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


@pytest.mark.parametrize("args,code,message", SUBPROCESS_CASES, ids=[c[2][:30] for c in SUBPROCESS_CASES])
def test_real_process(args: list[str], code: int, message: str, isolated: Path, env_with_assets: dict[str, str]) -> None:
    write_inputs(isolated)
    before = _snapshot(isolated)
    proc = _agent_ft(args, env_with_assets, isolated)
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("Error: ") and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert _snapshot(isolated) == before


def test_real_process_json_with_warning_pipes_into_a_json_reader(isolated: Path, env_with_assets: dict[str, str]) -> None:
    write_inputs(isolated)
    proc = _agent_ft(["inspect", "-s", "cutend.jsonl", "--json"], env_with_assets, isolated)
    assert proc.returncode == 0, proc.stderr
    assert "Warning: cutend.jsonl:13" in proc.stderr
    assert json.loads(proc.stdout)["agent"] == "assistant"


def test_real_process_debug_has_the_traceback(isolated: Path, env_with_assets: dict[str, str]) -> None:
    write_inputs(isolated)
    proc = _agent_ft(["--debug", "inspect", "-s", "cutmid.jsonl"], env_with_assets, isolated)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "SessionError" in proc.stderr


def test_every_kind_has_its_code(isolated: Path) -> None:
    """The exit codes of the table match errors.py (the documented contract)."""
    from agent_ft_cli import errors

    assert (errors.EXIT_CLIENT_FAILED, errors.EXIT_USAGE, errors.EXIT_BAD_INPUT, errors.EXIT_CLIENT_LOAD,
            errors.EXIT_INTERRUPTED) == (1, 2, 3, 4, 130)
    codes = {c.code for c in CASES}
    assert codes == {1, 2, 3, 4}


@pytest.mark.parametrize("option", ["--config", "--prefs"])
def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path, option: str) -> None:
    rows = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    rows += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join([*rows, "agents: {x: {}}"]) + "\n")
    sample = REPO / "sample_sessions" / "capital.jsonl"
    result = CliRunner().invoke(app, ["validate", "-s", str(sample), option, str(bomb), "--json"])
    assert result.exit_code == 3
    assert "YAML aliases expand to more than 1,000,000 values" in result.stderr
