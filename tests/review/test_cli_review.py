"""`agent-ft review` through the CLI: the flags for scripts, the usage errors, and `update`/`eval` on what it wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent_ft_cli.cli import app
from agent_ft_cli.errors import EXIT_USAGE
from agent_ft_cli.review import label

from .reviewkit import CAPITAL

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
LOCAL = ["--config", str(REPO / "configs" / "local.yaml")]


def cli(*args: Any, input: str | None = None) -> Any:
    return runner.invoke(app, [str(a) for a in args], env={"NO_COLOR": "1", "COLUMNS": "200"}, input=input)


def test_list_json_numbers_the_replies(chat: Path) -> None:
    result = cli("review", "-s", chat, "--list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["reply"], r["conversation"], r["turn"], r.get("occurrence")) for r in rows] == [
        (1, 1, 1, 0), (2, 1, 3, None), (3, 2, 1, 1), (4, 3, 1, None), (5, 3, 3, None)
    ]
    assert rows[0]["proposal"] == "It is Canberra." and rows[0]["answer"] is None


def test_the_flags_write_the_file_the_python_function_writes(chat: Path, tmp_path: Path) -> None:
    by_flags, by_python = tmp_path / "flags.jsonl", tmp_path / "python.jsonl"
    for args in (["--reply", 1, "--better", "Canberra."], ["--reply", 2, "--keep"], ["--reply", 3, "--bad"]):
        result = cli("review", "-s", chat, "--prefs", by_flags, *args)
        assert result.exit_code == 0, result.output
        assert result.stdout == ""  # talk goes to stderr
    label(chat, by_python, reply=1, better="Canberra.")
    label(chat, by_python, reply=2, keep=True)
    label(chat, by_python, reply=3, bad=True)
    assert by_flags.read_bytes() == by_python.read_bytes()
    listed = json.loads(cli("review", "-s", chat, "--prefs", by_flags, "--list", "--json").stdout)
    assert [(r["answer"], r.get("better")) for r in listed] == [
        ("better", "Canberra."), ("keep", None), ("bad", None), (None, None), (None, None)
    ]


def test_reply_json_prints_the_line_written(chat: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.jsonl"
    result = cli("review", "-s", chat, "--prefs", prefs, "--reply", 3, "--bad", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(prefs.read_bytes())


def test_a_pipe_for_stdin_without_reply_is_a_usage_error_naming_the_flags(chat: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.jsonl"
    result = cli("review", "-s", chat, "--prefs", prefs, input="k\n")
    assert result.exit_code == EXIT_USAGE
    for flag in ("--reply N --better TEXT", "--reply N --bad", "--list"):
        assert flag in result.stderr
    assert not prefs.exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--bad"], "give --reply N"),
        (["--reply", "1"], "exactly one of --better TEXT, --bad or --keep"),
        (["--reply", "1", "--bad", "--keep"], "got --bad and --keep"),
        (["--list", "--reply", "1", "--bad"], "--list and --reply cannot be combined"),
        (["--json"], "--json prints the --list or the --reply answer"),
        (["--reply", "9", "--bad"], "--reply 9: the thread holds 5 replies"),
        (["--conversation", "4", "--list"], "--conversation 4: thread assistant->user holds 3 conversation(s)"),
    ],
)
def test_usage_errors_name_the_flags(chat: Path, tmp_path: Path, args: list[str], says: str) -> None:
    result = cli("review", "-s", chat, "--prefs", tmp_path / "p.jsonl", *args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert says in result.stderr


@pytest.mark.parametrize("prefs", ["p.json", "-"])
def test_the_prefs_file_must_be_json_lines(chat: Path, prefs: str) -> None:
    result = cli("review", "-s", chat, "--prefs", prefs, "--reply", "1", "--keep")
    assert result.exit_code == EXIT_USAGE and "--prefs" in result.stderr and ".jsonl" in result.stderr


def test_update_and_eval_tie_every_pair_review_wrote(chat: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.jsonl"
    for args in (["--reply", 3, "--better", "Canberra."], ["--reply", 1, "--bad"], ["--reply", 2, "--keep"],
                 ["--reply", 4, "--better", "Saint-Exupéry."], ["--reply", 1, "--better", "The capital is Canberra."]):
        assert cli("review", "-s", chat, "--prefs", prefs, *args).exit_code == 0
    update = cli("update", "-s", chat, "--prefs", prefs, *LOCAL, "--json", "--strict")
    assert update.exit_code == 0, update.output
    stats = json.loads(update.stdout)["update_stats"]
    assert (stats["pairs_seen"], stats["skipped"]) == (3, 0)  # reply 1's bad was replaced by its better answer
    evaluation = cli("eval", "-s", chat, "--prefs", prefs, *LOCAL, "--json", "--strict")
    assert evaluation.exit_code == 0, evaluation.output
    report = json.loads(evaluation.stdout)
    assert (report["pairs"], report["skipped"]) == (3, [])
    assert [r["prompt"] for r in report["results"]] == [CAPITAL, "Who wrote 'Le Petit Prince'?", CAPITAL]
    exported = cli("export", "-s", chat, "--prefs", prefs, "-f", "trl-kto", "-o", tmp_path / "kto.jsonl", "--json", "--strict")
    assert exported.exit_code == 0, exported.output
    ties = {(t["conversation"], t["answer_index"]) for t in json.loads(exported.stdout)["ties"]}
    assert ties == {(1, 1), (2, 1), (0, 3), (0, 1)}  # replies 3, 4, 2, 1: each on its own turn (0-based conversations)


def test_a_final_line_cut_short_is_a_warning_and_under_strict_an_error(chat: Path) -> None:
    with chat.open("ab") as fh:
        fh.write(b'{"type":"message","agent":"assistant","peer":"us')
    loose = cli("review", "-s", chat, "--list", "--json")
    assert loose.exit_code == 0 and "Warning:" in loose.stderr and len(json.loads(loose.stdout)) == 5
    strict = cli("review", "-s", chat, "--list", "--json", "--strict")
    assert strict.exit_code == 3 and strict.stdout == ""
