"""Streams and signals as CI scripts meet them: ``-`` and ``/dev/stdout`` as outputs and inputs, a closed pipe under
``--help``, Ctrl-C in a script's background job, damaged import sources, plain output that is never cut.

Through a real ``agent-ft`` process (or a real Python process for the library) wherever descriptors, signals and
redirections matter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

SAMPLES = REPO / "sample_sessions"
CONFIG = REPO / "configs" / "local.yaml"
AGENT_FT = str(Path(sys.executable).parent / "agent-ft")


def _run(*args: str, cwd: Path, stdin: Any = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    full = {**os.environ, "NO_COLOR": "1", "AGENT_FT_LOCAL_STATE": str(cwd / "state.json"), **(env or {})}
    full.pop("CI", None)
    return subprocess.run([AGENT_FT, *args], capture_output=True, env=full, cwd=cwd, stdin=stdin, timeout=120)


# -- --help and --version into a closed pipe: exit 0, like every command ----------------------------------------------

@pytest.mark.parametrize("args", [["--version"], ["--help"], ["inspect", "--help"]])
def test_help_and_version_into_a_closed_pipe_exit_0(args: list[str], tmp_path: Path) -> None:
    # the reader closes its end before agent-ft writes: the write fails with EPIPE
    script = f'"{AGENT_FT}" {" ".join(args)} | (exec 0<&-; sleep 1); echo "rc=${{PIPESTATUS[0]}}"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert out.stdout.strip() == "rc=0", out.stderr


# -- SIGINT reaches a command started in a script's background (where shells ignore it) --------------------------------

def test_kill_int_stops_a_background_job_of_a_script_with_exit_130(tmp_path: Path) -> None:
    # a non-interactive shell starts `cmd &` with SIGINT ignored; agent-ft still answers it as Ctrl-C
    script = textwrap.dedent(
        f"""
        mkfifo feed
        "{AGENT_FT}" inspect -s - < feed > out.txt 2> err.txt &
        pid=$!
        exec 3>feed   # a writer that never writes: inspect waits for the session on stdin
        # once agent-ft catches SIGINT (bit 2 of SigCgt), one Ctrl-C; again after a while if it is still running
        for i in $(seq 1 200); do
          grep -q '^SigCgt:.*[2367abef]$' /proc/$pid/status 2>/dev/null && break; sleep 0.1
        done
        sleep 0.5
        for i in 1 2 3; do kill -INT $pid 2>/dev/null || break; sleep 5; done
        wait $pid; echo "rc=$?"
        """
    )
    spool = tmp_path / "tmp"  # where stdin is spooled: nothing may be left there
    spool.mkdir()
    env = {**os.environ, "TMPDIR": str(spool)}
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert out.stdout.strip() == "rc=130", (out.stdout, (tmp_path / "err.txt").read_text())
    assert (tmp_path / "err.txt").read_text().strip() == "Error: interrupted"
    assert list(spool.iterdir()) == []


# -- update --output -: stdout holds the result document alone --------------------------------------------------------

def test_update_output_dash_prints_one_json_document_and_the_table_on_stderr(tmp_path: Path) -> None:
    args = ["update", "-s", str(SAMPLES / "capital.jsonl"), "--prefs", str(SAMPLES / "capital.prefs.json"), "-c", str(CONFIG)]
    out = _run(*args, "-o", "-", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)  # one document, nothing after it
    assert result["update_stats"]["learned"] == 1
    assert b"learned: 1" in out.stderr and b"result printed on stdout" in out.stderr
    both = _run(*args, "-o", "-", "--json", cwd=tmp_path)
    assert both.returncode == 2 and both.stdout == b""
    assert b"--json and --output - both print the result on stdout" in both.stderr


# -- - for stdin where one session is read; a config is not read from stdin ------------------------------------------

def test_eval_reads_its_session_from_stdin(tmp_path: Path) -> None:
    prefs = str(SAMPLES / "trivia.prefs.json")
    with open(SAMPLES / "trivia.jsonl", "rb") as fh:
        piped = _run("eval", "-s", "-", "--prefs", prefs, "-c", str(CONFIG), "--json", cwd=tmp_path, stdin=fh)
    named = _run("eval", "-s", str(SAMPLES / "trivia.jsonl"), "--prefs", prefs, "-c", str(CONFIG), "--json", cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    p, n = json.loads(piped.stdout), json.loads(named.stdout)
    assert p["pairs"] == 3 and {k: v for k, v in p.items() if k != "session"} == {k: v for k, v in n.items() if k != "session"}
    with open(SAMPLES / "trivia.jsonl", "rb") as fh:
        clash = _run("eval", "-s", "-", "--prefs", "-", "-c", str(CONFIG), cwd=tmp_path, stdin=fh)
    assert clash.returncode == 2 and b"cannot all read stdin" in clash.stderr


def test_config_dash_is_a_usage_error_saying_so(tmp_path: Path) -> None:
    out = _run("validate", "-s", str(SAMPLES / "capital.jsonl"), "-c", "-", cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert out.returncode == 2
    assert out.stderr.decode().strip() == "Error: config '-': a config is not read from stdin; give the YAML file's path"
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    named = _run("validate", "-s", str(SAMPLES / "capital.jsonl"), "-c", str(fifo), cwd=tmp_path)
    assert named.returncode == 3 and b"for stdin" not in named.stderr  # no offer of what does not work


# -- /dev/stdout and friends are the stream this process holds ------------------------------------------------------

def test_save_session_and_the_recorder_onto_dev_stdout_redirected_to_a_file_keep_everything_printed(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(
        textwrap.dedent(
            """
            from autogen import ConversableAgent
            from agent_ft_cli import SessionRecorder, save_session
            a = ConversableAgent("a", llm_config=False, human_input_mode="NEVER")
            u = ConversableAgent("u", llm_config=False, human_input_mode="NEVER")
            a.chat_messages[u] = [{"role": "user", "content": "hi", "name": "u"}]
            print("BEFORE", flush=True)
            save_session("/dev/stdout", a, u)
            print("BETWEEN", flush=True)
            with SessionRecorder("/dev/stdout", a, u, mode="w"):
                a.chat_messages[u].append({"role": "assistant", "content": "hello", "name": "a"})
            print("AFTER", flush=True)
            """
        )
    )
    log = tmp_path / "log.txt"
    with open(log, "wb") as fh:
        subprocess.run([sys.executable, str(script)], stdout=fh, check=True, cwd=tmp_path, timeout=120)
    lines = log.read_text().splitlines()
    assert lines[0] == "BEFORE" and "BETWEEN" in lines and lines[-1] == "AFTER"
    kinds = [json.loads(ln)["type"] for ln in lines if ln.startswith("{")]
    assert kinds == ["header", "message", "header", "message", "message"]


def test_export_onto_dev_stdout_into_a_pipe_and_a_file(tmp_path: Path) -> None:
    args = ["export", "-s", str(SAMPLES / "capital.jsonl"), "-f", "trl-sft", "-o", "/dev/stdout", "-q"]
    piped = _run(*args, cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    assert [json.loads(ln)["messages"][-1]["role"] for ln in piped.stdout.splitlines()] == ["assistant"]
    log = tmp_path / "rows.txt"
    log.write_text("kept\n")
    with open(log, "ab") as fh:
        full = {**os.environ, "NO_COLOR": "1"}
        subprocess.run([AGENT_FT, *args], stdout=fh, env=full, cwd=tmp_path, check=True, timeout=120)
    assert log.read_text().splitlines()[0] == "kept" and len(log.read_text().splitlines()) == 2


def test_an_output_through_a_dangling_link_names_the_missing_folder_of_its_target(tmp_path: Path) -> None:
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "rows.jsonl").symlink_to(tmp_path / "gone" / "rows.jsonl")
    out = _run("export", "-s", str(SAMPLES / "capital.jsonl"), "-f", "trl-sft", "-o", "here/rows.jsonl", cwd=tmp_path)
    assert out.returncode == 2
    assert f"folder '{tmp_path / 'gone'}' does not exist" in out.stderr.decode()


# -- import: a crashed writer's last line is skipped with a warning; --strict refuses it ----------------------------

def _conv(q: str, a: str) -> str:
    return json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]})


def test_import_openai_jsonl_skips_a_cut_final_line_unless_strict(tmp_path: Path) -> None:
    src = tmp_path / "chats.jsonl"
    src.write_text(_conv("Q1", "A1") + "\n" + _conv("Q2", "A2")[:30])
    out = _run("import", str(src), "-o", "out", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert b"skipped 1 line(s) cut short or damaged (line(s) 2)" in out.stderr
    assert len(list((tmp_path / "out").iterdir())) == 1
    strict = _run("import", str(src), "-o", "strict-out", "--strict", cwd=tmp_path)
    assert strict.returncode == 3 and b"chats.jsonl:2" in strict.stderr and b"drop --strict" in strict.stderr
    assert not (tmp_path / "strict-out").exists()


def test_import_never_takes_a_message_out_of_the_middle_of_a_conversation(tmp_path: Path) -> None:
    src = tmp_path / "one.jsonl"  # one message per line: the whole file is one conversation
    src.write_text('{"role": "user", "content": "Q"}\n{"role": "assistant", "cont\n{"role": "user", "content": "again"}\n')
    out = _run("import", str(src), "-o", "out", cwd=tmp_path)
    assert out.returncode == 3 and b"one.jsonl:2" in out.stderr and b"take a message out of the conversation" in out.stderr
    cut_end = tmp_path / "end.jsonl"  # only its final line cut short: the conversation ends before it
    cut_end.write_text('{"role": "user", "content": "Q"}\n{"role": "assistant", "content": "A"}\n{"role": "user", "cont')
    ok = _run("import", str(cut_end), "-o", "out2", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert b"the conversation ends before them" in ok.stderr


# -- plain output is never cut; completion offers the registries' values ------------------------------------------

def test_eval_verbose_never_cuts_a_prompt_in_plain_output(tmp_path: Path) -> None:
    out = _run("eval", "-s", str(SAMPLES / "trivia.jsonl"), "--prefs", str(SAMPLES / "trivia.prefs.json"), "-c", str(CONFIG), "-v", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "At what temperature does water boil at sea level, in Fahrenheit?" in out.stdout.decode()
    assert "…" not in out.stdout.decode()


@pytest.mark.parametrize(("words", "expected"), [("export --format trl", {"trl-preference", "trl-sft", "trl-kto"}), ("import --from sq", {"sqlite"})])
def test_completion_offers_the_registries_values(words: str, expected: set[str], tmp_path: Path) -> None:
    env = {**os.environ, "_AGENT_FT_COMPLETE": "complete_bash", "COMP_WORDS": f"agent-ft {words}", "COMP_CWORD": str(len(words.split()))}
    out = subprocess.run([AGENT_FT], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert set(out.stdout.split()) == expected


# -- validate over several sessions names the file whose client cannot be had -------------------------------------

def test_validate_over_a_folder_names_the_session_whose_client_is_missing(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    for name in ("capital.jsonl", "weather_tool.jsonl"):  # the second records a script's __main__ client
        (folder / name).write_bytes((SAMPLES / name).read_bytes())
    out = _run("validate", "-s", str(folder), cwd=tmp_path)
    assert out.returncode == 4, out.stderr
    first_error = [ln for ln in out.stderr.decode().splitlines() if ln.startswith("Error:")]
    assert first_error[0].startswith(f"Error: {folder / 'weather_tool.jsonl'}: no client for agent 'assistant'")


def test_record_out_dash_is_a_usage_error_and_writes_nothing(tmp_path: Path) -> None:
    out = _run("record", "-c", str(CONFIG), "-m", "What is the capital of Australia?", "-o", "-", cwd=tmp_path)
    assert out.returncode == 2 and out.stdout == b""
    assert b"--out -: record streams the session to a file while stdout carries the reply" in out.stderr
    assert not (tmp_path / "-").exists()


def _two_clients(path: Path) -> Path:
    from agent_ft_cli import session as fmt

    llm = {"config_list": [{"model": "m", "model_client_cls": "C"}]}
    header = fmt.make_header([{"name": "alice", "llm_config": llm}, {"name": "bob", "llm_config": llm}])
    qa = [{"content": "Q?", "role": "user"}, {"content": "A.", "role": "assistant"}]
    fmt.write_session(path, header, [("alice", "bob", qa), ("bob", "alice", qa)])
    return path


def test_export_warnings_spell_the_library_keys_as_flags_and_name_the_file_once(tmp_path: Path) -> None:
    both = _two_clients(tmp_path / "both.jsonl")
    out = _run("export", "-s", str(SAMPLES / "capital.jsonl"), "-s", str(both), "-f", "trl-sft", "-o", "rows.jsonl", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    warning = [ln for ln in out.stderr.decode().splitlines() if ln.startswith("Warning: skipped session")]
    assert len(warning) == 1 and "pass --agent and --peer" in warning[0] and "pass agent and" not in warning[0]
    assert warning[0].count(str(both)) == 1


def test_validate_fails_a_session_whose_thread_to_update_is_empty_as_update_does(tmp_path: Path) -> None:
    header_only = tmp_path / "h.jsonl"
    header_only.write_bytes((SAMPLES / "capital.jsonl").read_bytes().split(b"\n", 1)[0] + b"\n")
    checked = _run("validate", "-s", str(header_only), "-c", str(CONFIG), cwd=tmp_path)
    updated = _run("update", "-s", str(header_only), "--prefs", str(SAMPLES / "capital.prefs.json"), "-c", str(CONFIG), cwd=tmp_path)
    assert checked.returncode == updated.returncode == 3
    line = "no messages in thread assistant->user; nothing to learn from"
    assert line in checked.stderr.decode() and line in updated.stderr.decode()


def test_dash_reads_stdin_among_other_sessions_in_every_command_that_takes_several(tmp_path: Path) -> None:
    trivia = str(SAMPLES / "trivia.jsonl")
    with open(SAMPLES / "capital.jsonl", "rb") as fh:
        rows = _run("export", "-s", "-", "-s", trivia, "-f", "trl-sft", "-o", "-", "-q", cwd=tmp_path, stdin=fh)
    assert rows.returncode == 0, rows.stderr
    named = _run("export", "-s", str(SAMPLES / "capital.jsonl"), "-s", trivia, "-f", "trl-sft", "-o", "-", "-q", cwd=tmp_path)
    assert rows.stdout == named.stdout and rows.stdout.count(b"\n") == named.stdout.count(b"\n") >= 2
    for command in (["inspect", "--json"], ["validate", "--json"]):
        with open(SAMPLES / "capital.jsonl", "rb") as fh:
            out = _run(*command, "-s", "-", "-s", trivia, cwd=tmp_path, stdin=fh)
        assert out.returncode == 0, (command, out.stderr)
    twice = _run("export", "-s", "-", "-s", "-", "-f", "trl-sft", "-o", "x.jsonl", cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert twice.returncode == 2 and b"--session - is given more than once" in twice.stderr
