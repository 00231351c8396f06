"""The contract CI scripts rely on (issue #17): nothing passes that should fail, many inputs, any locale, clean pipes.

Through one ``CliRunner`` where the process does not matter, and through a real ``agent-ft`` process where encodings,
signals and pipes do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer.main
from conftest import REPO
from typer.testing import CliRunner

from agent_ft_cli import session as fmt
from agent_ft_cli.cli import app

runner = CliRunner()
SAMPLES = REPO / "sample_sessions"
CAPITAL = SAMPLES / "capital.jsonl"
CAPITAL_PREFS = SAMPLES / "capital.prefs.json"
TRIVIA = SAMPLES / "trivia.jsonl"
AGENT_FT = str(Path(sys.executable).parent / "agent-ft")
COMMAND = typer.main.get_command(app)


def _session(path: Path, messages: list[dict[str, Any]], *, client: bool = True, names: tuple[str, str] = ("assistant", "user")) -> Path:
    a, u = names
    llm: Any = {"config_list": [{"model": "m", "model_client_cls": "C"}]} if client else False
    header = fmt.make_header([{"name": a, "llm_config": llm}, {"name": u, "llm_config": False}])
    fmt.write_session(path, header, [(a, u, messages), (u, a, messages)])
    return path


QA = [{"content": "What is the capital of Australia?", "role": "user"}, {"content": "Sydney.", "role": "assistant"}]


def _run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, **kw: Any) -> subprocess.CompletedProcess[bytes]:
    full = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run([AGENT_FT, *args], capture_output=True, env=full, cwd=cwd, timeout=120, **kw)


# -- 1. a repeated single-value option is a usage error, in every command ------------------------------------------

def _single_value_options() -> list[tuple[str, str]]:
    out = []
    for name, cmd in sorted(COMMAND.commands.items()):  # type: ignore[attr-defined]
        for param in cmd.params:
            if param.param_type_name == "option" and not (param.multiple or param.is_flag or param.count):
                out.append((name, max(param.opts, key=len)))
    return out


SINGLE = _single_value_options()


def test_every_command_has_single_value_options() -> None:
    assert {name for name, _ in SINGLE} >= {"inspect", "update", "validate", "record", "export", "import"}


@pytest.mark.parametrize(("command", "option"), SINGLE, ids=[f"{c}{o}" for c, o in SINGLE])
def test_a_repeated_single_value_option_is_a_usage_error(command: str, option: str) -> None:
    result = runner.invoke(app, [command, option, "1", option, "2"])
    assert result.exit_code == 2, result.output
    assert f"Option {option}" in result.stderr and "more than once" in result.stderr, result.stderr
    assert f"Usage: agent-ft {command} " in result.stderr


def test_update_with_two_sessions_does_not_use_the_last_one(isolated: Path) -> None:
    result = runner.invoke(
        app, ["update", "-s", str(CAPITAL), "-s", str(TRIVIA), "--prefs", str(CAPITAL_PREFS), "-c", str(REPO / "configs" / "local.yaml")]
    )
    assert result.exit_code == 2
    assert "--session / -s was given more than once" in result.stderr
    assert not (isolated / ".agent-ft").exists()  # nothing learned


def test_short_and_long_spellings_count_as_one_option() -> None:
    result = runner.invoke(app, ["update", "-s", "a.jsonl", "--session", "b.jsonl", "--prefs", "p.json"])
    assert result.exit_code == 2 and "--session / -s" in result.stderr


def test_repeatable_options_stay_repeatable(isolated: Path) -> None:
    result = runner.invoke(app, ["validate", "-s", str(CAPITAL), "-s", str(TRIVIA), "--json"])
    assert result.exit_code == 0, result.output
    files = {c.get("file") for c in json.loads(result.stdout)["checks"]}
    assert {str(CAPITAL), str(TRIVIA)} <= files


# -- 2. validate and inspect take files, folders and globs, as export does ---------------------------------------------

@pytest.fixture
def folder(isolated: Path) -> Path:
    d = isolated / "sessions"
    d.mkdir()
    _session(d / "a.jsonl", QA)
    _session(d / "b.jsonl", QA)
    return d


def test_validate_checks_a_folder_and_reports_each_file(folder: Path) -> None:
    result = runner.invoke(app, ["validate", "-s", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [(c["name"], Path(c["file"]).name) for c in report["checks"] if c["name"] == "session"] == [
        ("session", "a.jsonl"),
        ("session", "b.jsonl"),
    ]


def test_validate_fails_when_any_file_fails_and_names_it(folder: Path) -> None:
    (folder / "c.jsonl").write_bytes((folder / "a.jsonl").read_bytes() + b'{"type": "message", "agent"\n{}\n')  # a damaged line
    result = runner.invoke(app, ["validate", "-s", str(folder)])
    assert result.exit_code == 3
    assert "c.jsonl:" in result.stderr and result.stderr.startswith("Error:")
    lines = result.stdout.splitlines()
    assert any(ln.startswith("ok  session") and "a.jsonl" in ln for ln in lines)
    assert any(ln.startswith("FAIL  session") and "c.jsonl" in ln for ln in lines)


def test_validate_takes_a_quoted_glob(folder: Path) -> None:
    result = runner.invoke(app, ["validate", "-s", str(folder / "*.jsonl"), "--json"])
    assert result.exit_code == 0, result.output
    assert sum(c["name"] == "session" for c in json.loads(result.stdout)["checks"]) == 2


def test_inspect_shows_every_session_as_one_json_object_per_line(folder: Path) -> None:
    result = runner.invoke(app, ["inspect", "-s", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    objects = [json.loads(ln) for ln in result.stdout.splitlines()]
    assert [Path(o["session"]).name for o in objects] == ["a.jsonl", "b.jsonl"]
    assert all(o["messages"] == QA and (o["agent"], o["peer"]) == ("assistant", "user") for o in objects)
    one = runner.invoke(app, ["inspect", "-s", str(folder / "a.jsonl"), "--json"])
    assert json.loads(one.stdout) == {"agent": "assistant", "peer": "user", "messages": QA}  # one file: as before


def test_inspect_shows_every_session_of_a_folder(folder: Path) -> None:
    result = runner.invoke(app, ["inspect", "-s", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("session: ") == 2 and "a.jsonl" in result.stdout and "b.jsonl" in result.stdout


# -- 3. --strict means strict ------------------------------------------------------------------------------------------

def test_validate_reports_every_pair_update_would_skip(isolated: Path) -> None:
    path = _session(isolated / "s.jsonl", QA)
    prefs = isolated / "p.json"
    prefs.write_text(json.dumps([["Canberra.", "Sydney."], ["x", "never said"], {"a": 1}]))
    result = runner.invoke(app, ["validate", "-s", str(path), "--prefs", str(prefs), "--json"])
    assert result.exit_code == 0, result.output  # warnings, not failures
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["prefs"]["warnings"] == ["item 2: not a [chosen, rejected] pair nor an object with 'chosen' and 'rejected'"]
    assert checks["pairs"]["detail"] == "1 of 2 pair(s) tied to the thread assistant->user"
    assert checks["pairs"]["warnings"] == ["pair 1: the rejected answer does not appear in the thread"]
    plain = runner.invoke(app, ["validate", "-s", str(path), "--prefs", str(prefs)])
    assert "warn  pairs  " in plain.stdout and "  warning: pair 1: the rejected answer" in plain.stdout
    strict = runner.invoke(app, ["validate", "-s", str(path), "--prefs", str(prefs), "--strict", "--json"])
    assert strict.exit_code == 3
    assert "--strict refuses every warning" in strict.stderr


@pytest.mark.parametrize("prefs", ['{"a": 1}', '"str"', "[]", "3"])
def test_validate_strict_refuses_prefs_that_are_not_pairs(isolated: Path, prefs: str) -> None:
    path = _session(isolated / "s.jsonl", QA)
    (isolated / "p.json").write_text(prefs)
    lenient = runner.invoke(app, ["validate", "-s", str(path), "--prefs", "p.json", "--json"])
    assert lenient.exit_code == 0, lenient.output
    assert next(c for c in json.loads(lenient.stdout)["checks"] if c["name"] == "prefs")["warnings"]
    strict = runner.invoke(app, ["validate", "-s", str(path), "--prefs", "p.json", "--strict"])
    assert strict.exit_code == 3, strict.output
    assert strict.stderr.startswith("Error: prefs: preference data")


def test_export_strict_fails_on_a_skipped_session_and_writes_nothing(folder: Path) -> None:
    (folder / "broken.jsonl").write_text("not a session\n")
    lenient = runner.invoke(app, ["export", "-s", str(folder), "-f", "trl-sft", "-o", "out.jsonl", "--json"])
    assert lenient.exit_code == 0, lenient.output
    assert len(json.loads(lenient.stdout)["skipped_sessions"]) == 1
    Path("out.jsonl").unlink()
    strict = runner.invoke(app, ["export", "-s", str(folder), "-f", "trl-sft", "-o", "out.jsonl", "--strict"])
    assert strict.exit_code == 3
    assert "skipped session" in strict.stderr and "broken.jsonl" in strict.stderr and "--strict" in strict.stderr
    assert not Path("out.jsonl").exists()


def test_export_strict_fails_on_a_skipped_pair(folder: Path) -> None:
    Path("p.json").write_text(json.dumps([["Canberra.", "Sydney."], ["x", "never said"]]))
    args = ["export", "-s", str(folder), "--prefs", "p.json", "-f", "trl-preference", "-o", "out.jsonl"]
    assert runner.invoke(app, args).exit_code == 0
    Path("out.jsonl").unlink()
    strict = runner.invoke(app, [*args, "--strict"])
    assert strict.exit_code == 3
    assert "1 preference pair(s) skipped (pair 1:" in strict.stderr
    assert not Path("out.jsonl").exists()


def test_validate_a_session_where_no_agent_has_a_model_client(isolated: Path) -> None:
    path = _session(isolated / "s.jsonl", QA, client=False)
    result = runner.invoke(app, ["validate", "--session", str(path), "--json"])
    assert result.exit_code == 0, result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert "no agent has a model client; every thread was read and checked" in checks["agents"]["detail"]
    damaged = isolated / "d.jsonl"
    damaged.write_bytes(path.read_bytes() + b"{oops\n" + path.read_bytes().splitlines(keepends=True)[1])
    bad = runner.invoke(app, ["validate", "--session", str(damaged)])
    assert bad.exit_code == 3 and "d.jsonl:" in bad.stderr


# -- 4. one cause, one exit code ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["inspect"], ["validate"], ["export", "-f", "trl-sft", "-o", "o.jsonl"]])
def test_a_missing_file_an_unmatched_glob_and_an_empty_folder_are_one_cause(isolated: Path, command: list[str]) -> None:
    (isolated / "empty").mkdir()
    codes = {}
    for given in ("missing.jsonl", "nothing-*.jsonl", "empty"):
        result = runner.invoke(app, [command[0], "-s", given, *command[1:]])
        codes[given] = result.exit_code
        assert given in result.stderr, result.stderr
    assert set(codes.values()) == {3}, codes


def test_a_pretty_printed_json_given_as_a_session_is_named_as_such(isolated: Path) -> None:
    header = json.loads(CAPITAL.read_text().splitlines()[0])
    Path("chat.json").write_text(json.dumps(header, indent=2))
    for command in (["inspect"], ["validate"], ["update", "--prefs", str(CAPITAL_PREFS)]):
        result = runner.invoke(app, [command[0], "-s", "chat.json", *command[1:]])
        assert result.exit_code == 3
        assert "chat.json:1: a JSON document spread over several lines (pretty-printed), not a session file" in result.stderr


# -- 5. any locale, any encoding ---------------------------------------------------------------------------------------

LOCALES = [
    {"PYTHONIOENCODING": "latin-1"},
    {"PYTHONIOENCODING": "ascii"},
    {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "PYTHONIOENCODING": ""},
]


@pytest.fixture
def unicode_session(isolated: Path) -> Path:
    return _session(isolated / "u.jsonl", [{"content": "Quel temps à Zürich ? 🌦️", "role": "user"}, {"content": "Il pleut ☔", "role": "assistant"}])


@pytest.mark.parametrize("env", LOCALES, ids=["latin-1", "ascii", "C-locale"])
def test_output_never_fails_on_encoding(env: dict[str, str], unicode_session: Path, isolated: Path) -> None:
    shown = _run("inspect", "-s", str(unicode_session), env=env)
    assert shown.returncode == 0, shown.stderr
    # a character the terminal cannot show is \u00fc (a raw byte of a file name would be \xfc: never alike)
    assert b"Z\\u00fcrich" in shown.stdout or "Zürich".encode("latin-1") in shown.stdout
    assert b"\\U0001f326" in shown.stdout  # escaped, never a crash
    as_json = _run("inspect", "-s", str(unicode_session), "--json", env=env)
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout.decode("utf-8"))["messages"][0]["content"] == "Quel temps à Zürich ? 🌦️"  # UTF-8 bytes
    for args in (["validate", "-s", str(unicode_session)], ["inspect", "-s", str(CAPITAL)]):
        assert _run(*args, env=env).returncode == 0
    missing = _run("inspect", "-s", "été.jsonl", env=env)
    assert missing.returncode == 3 and b"unexpected" not in missing.stderr


def test_paths_with_undecodable_bytes(isolated: Path) -> None:
    name = b"caf\xe9.jsonl"
    target = os.fsencode(str(isolated)) + b"/" + name
    with open(target, "wb") as f:
        f.write(CAPITAL.read_bytes())
    result = subprocess.run([os.fsencode(AGENT_FT), b"inspect", b"-s", name, b"--json"], capture_output=True, cwd=isolated, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["agent"] == "assistant"
    folder = subprocess.run([os.fsencode(AGENT_FT), b"validate", b"-s", b"."], capture_output=True, cwd=isolated, timeout=60)
    assert folder.returncode == 0, folder.stderr
    assert b"caf\\xe9.jsonl" in folder.stdout  # shown visibly, never as a lone surrogate or a crash
    missing = subprocess.run([os.fsencode(AGENT_FT), b"inspect", b"-s", b"x\xff.jsonl"], capture_output=True, cwd=isolated, timeout=60)
    assert missing.returncode == 3 and b"x\\xff.jsonl" in missing.stderr


# -- 6. piped human output: plain lines ------------------------------------------------------------------------------

def test_piped_output_is_plain_unpadded_and_never_cuts_a_path(isolated: Path) -> None:
    deep = isolated / ("a-rather-long-folder-name-" * 4)
    deep.mkdir()
    path = _session(deep / "session-with-a-long-name.jsonl", QA)
    for args in (["inspect", "-s", str(path)], ["validate", "-s", str(path)]):
        result = _run(*args, env={"COLUMNS": "40"})
        assert result.returncode == 0, result.stderr
        text = result.stdout.decode()
        assert str(path) in text, text  # never cut or folded
        assert all(ln == ln.rstrip() for ln in text.splitlines()), text  # no padding
        assert "…" not in text


def test_ci_counts_as_not_a_terminal(isolated: Path) -> None:
    script = f"import os, sys; os.execv({AGENT_FT!r}, [{AGENT_FT!r}, 'validate', '-s', {str(CAPITAL)!r}])"
    env = {**os.environ, "CI": "true", "TERM": "xterm"}
    # `script` gives the command a real terminal on stdout
    proc = subprocess.run(["script", "-qec", f"{sys.executable} -c \"{script}\"", "/dev/null"], capture_output=True, env=env, timeout=60)
    if proc.returncode != 0 and b"script" in proc.stderr:
        pytest.skip("no `script` to give the command a terminal")
    out = proc.stdout.decode(errors="replace")
    assert "ok  session  " in out and "validation" not in out, out


@pytest.mark.parametrize("json_out", [False, True])
def test_a_closed_pipe_exits_0(isolated: Path, json_out: bool) -> None:
    path = _session(isolated / "s.jsonl", [{"content": f"line {i}\n" * 3, "role": "user"} for i in range(3000)])
    cmd = f"{AGENT_FT} inspect -s {path} {'--json' if json_out else ''} | head -c 20 >/dev/null; echo \"${{PIPESTATUS[0]}}\""
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, timeout=60)
    assert proc.stdout.strip() == b"0", proc.stderr
    assert b"Error" not in proc.stderr and b"Traceback" not in proc.stderr


# -- 7. --quiet everywhere, completion ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(COMMAND.commands))  # type: ignore[attr-defined]
def test_every_command_takes_quiet(name: str) -> None:
    opts = {o for p in COMMAND.commands[name].params for o in getattr(p, "opts", [])}  # type: ignore[attr-defined]
    assert {"--quiet", "-q"} <= opts
    assert {"--strict"} <= opts


def test_quiet_silences_warnings_not_errors(isolated: Path) -> None:
    cut = isolated / "cut.jsonl"
    cut.write_bytes(CAPITAL.read_bytes() + b'{"type": "mess')
    loud = runner.invoke(app, ["inspect", "-s", str(cut), "--json"])
    assert loud.exit_code == 0 and "Warning:" in loud.stderr
    quiet = runner.invoke(app, ["inspect", "-s", str(cut), "--json", "-q"])
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == loud.stdout
    report = runner.invoke(app, ["validate", "-s", str(cut), "-q"])
    assert report.exit_code == 0 and report.stderr == "" and report.stdout.startswith("warn  session")  # output stays
    failed = runner.invoke(app, ["inspect", "-s", "missing.jsonl", "-q"])
    assert failed.exit_code == 3 and failed.stderr.startswith("Error:")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion(shell: str) -> None:
    result = _run("--show-completion", shell, env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert result.returncode == 0, result.stderr
    assert b"agent-ft" in result.stdout or b"agent_ft" in result.stdout
    completed = _run(env={"_AGENT_FT_COMPLETE": f"complete_{shell}", "_TYPER_COMPLETE_ARGS": "agent-ft ins", "COMP_WORDS": "agent-ft ins", "COMP_CWORD": "1",
                         "_TYPER_COMPLETE_FISH_ACTION": "get-args"})
    assert b"inspect" in completed.stdout, completed


# -- #15 at the CLI: signals, closed streams, terminal sequences, a deleted folder --------------------------------------

def test_sigterm_exits_143(isolated: Path) -> None:
    proc = subprocess.Popen([AGENT_FT, "validate", "-s", str(CAPITAL), "--prefs", "-"], stdin=subprocess.PIPE, stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    time.sleep(1.5)  # reading stdin, which never ends
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert err.strip().endswith(b"Error: terminated")


def test_a_closed_stdout_or_stdin_is_no_internal_error(isolated: Path) -> None:
    closed_out = subprocess.run(["bash", "-c", f"{AGENT_FT} inspect -s {CAPITAL} >&-"], capture_output=True, timeout=60)
    assert closed_out.returncode == 0, closed_out.stderr
    closed_in = subprocess.run(["bash", "-c", f"{AGENT_FT} validate -s {CAPITAL} --prefs - <&- >/dev/null"], capture_output=True, timeout=60)
    assert closed_in.returncode != 1 and b"unexpected" not in closed_in.stderr, closed_in.stderr


def test_a_deleted_working_directory_is_a_clean_error(isolated: Path) -> None:
    gone = isolated / "gone"
    gone.mkdir()
    proc = subprocess.run(["bash", "-c", f"cd {gone} && rmdir {gone} && {AGENT_FT} inspect -s chat.jsonl"], capture_output=True, timeout=60)
    assert proc.returncode in (2, 3), proc.stderr
    assert b"unexpected" not in proc.stderr and proc.stderr.count(b"\n") == 1, proc.stderr


HOSTILE = "evil\n\x1b]0;owned\x07Error: forged\x1b[2J"


def test_terminal_sequences_in_names_and_messages_are_inert(isolated: Path) -> None:
    path = _session(isolated / "s.jsonl", [{"content": "hi \x1b[2J there", "role": "user", "name": HOSTILE}], names=(HOSTILE, "user"))
    for args in (["inspect", "-s", str(path)], ["validate", "-s", str(path)], ["inspect", "-s", str(path), "--agent", "nobody"]):
        result = _run(*args)
        for stream in (result.stdout, result.stderr):
            assert b"\x1b" not in stream and b"\x07" not in stream, (args, stream)
            assert not any(ln.startswith(b"Error: forged") for ln in stream.splitlines()), (args, stream)
        assert b"\\x1b" in result.stdout + result.stderr
    as_json = _run("inspect", "-s", str(path), "--agent", HOSTILE, "--peer", "user", "--json")
    assert json.loads(as_json.stdout)["messages"][0]["content"] == "hi \x1b[2J there"  # --json keeps the data exactly


def test_inspect_full_is_linear_in_the_message_size(isolated: Path) -> None:
    def timed(n: int) -> float:
        path = _session(isolated / f"big{n}.jsonl", [{"content": "q", "role": "user"}, {"content": ("word " * 20 + "\n") * n, "role": "assistant"}])
        best = 99.0
        for _ in range(2):
            start = time.perf_counter()
            proc = subprocess.run(["script", "-qec", f"{AGENT_FT} inspect -s {path} --full", "/dev/null"], capture_output=True, timeout=300)
            best = min(best, time.perf_counter() - start)
            assert proc.returncode == 0
        return best

    small, big = timed(5_000), timed(40_000)  # 0.5 MB and 4 MB, on a terminal (where rich wraps)
    assert big < 3 + small * 8 * 1.5, (small, big)


def test_skipped_pairs_is_what_strict_refuses() -> None:
    from agent_ft_cli.workflows.validate import skipped_pairs

    assert skipped_pairs([["Canberra.", "Sydney."]], QA) == []
    assert skipped_pairs([["Canberra.", "Sydney."], ["x", "nope"], "odd"], QA) == [
        "item 2: not a [chosen, rejected] pair nor an object with 'chosen' and 'rejected'",
        "pair 1: the rejected answer does not appear in the thread",
    ]
    assert skipped_pairs({"a": 1}, QA)[0].startswith("preference data is a mapping")
