"""Hostile input, faults and concurrency (issue #15), through real processes where the fault needs one.

Data never chooses code; endless inputs end in seconds with bounded memory; concurrent updates lose nothing; no
output replaces an input; nothing a client prints reaches ``--json`` stdout and every client exit is the client's
failure; odd stats survive; disk full is a clean error with nothing partial; kills leave no temporary files once the
next write has run; no secret in any output; no internal error (exit 1 "unexpected") for the listed inputs.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_sessions"
EXE = str(Path(sys.executable).parent / "agent-ft")
LOCAL = "agent_ft_cli.local:LocalLearningClient"


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"NO_COLOR": "1", "COLUMNS": "200"}, **extra)
    env.pop("AGENT_FT_DEBUG", None)
    return env


def _limit_memory() -> None:  # runs in the child: 1.5 GB of address space is plenty for agent-ft + autogen
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024**2, 1536 * 1024**2))


def run(
    *args: str, cwd: Path, stdin: object = subprocess.DEVNULL, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, *args], cwd=cwd, env=_env(**env), stdin=stdin, capture_output=True, text=True, timeout=timeout,
        preexec_fn=_limit_memory,
    )


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "unexpected" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("Error: ")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture
def chat(isolated: Path) -> Path:
    for name in ("capital.jsonl", "capital.prefs.json", "trivia.jsonl", "trivia.prefs.json"):
        shutil.copy(SAMPLES / name, isolated / name)
    return isolated


CLIENTS = '''
import logging, os, subprocess, sys
from agent_ft_cli.clients.protocol import ModelClientBase, chat_response

print("import-time print")
os.write(1, b"import-time os.write\\n")

class Base(ModelClientBase):
    def __init__(self, config, **kwargs):
        super().__init__(config)
        print("init print")
    def create(self, params):
        return chat_response("x", model="m")
    def update_model(self, preference_data, inference_messages, **kwargs):
        return {"ok": 1}

class Noisy(Base):
    def update_model(self, preference_data, inference_messages, **kwargs):
        print("update print")
        os.write(1, b"update os.write\\n")
        sys.__stdout__.write("dunder stdout, unflushed\\n")
        subprocess.run(["echo", "from a subprocess"])
        handler = logging.StreamHandler(sys.__stdout__)
        log = logging.getLogger("noisy")
        log.addHandler(handler)
        log.warning("logged to stdout")
        log.removeHandler(handler)
        import this  # noqa: F401  (prints the Zen of Python at import)
        return {"seen": len(inference_messages)}

class ExitZero(Base):
    def update_model(self, *a, **k):
        sys.exit(0)

class ExitThree(Base):
    def update_model(self, *a, **k):
        sys.exit(3)

class GenExit(Base):
    def update_model(self, *a, **k):
        raise GeneratorExit("closing")

class ExitInInit(Base):
    def __init__(self, config, **kwargs):
        sys.exit(0)

class ChdirAway(Base):
    def __init__(self, config, **kwargs):
        super().__init__(config)
        os.makedirs("/tmp/agent-ft-chdir-elsewhere", exist_ok=True)
        os.chdir("/tmp/agent-ft-chdir-elsewhere")

class Leaky(Base):
    def update_model(self, *a, **k):
        return {
            "endpoint": "https://bob:sk-verysecretvalue123456@api.example.com/v1",
            "headers": {"Authorization": "Bearer abcdefSECRETTOKEN123"},
            "note": "sent Authorization: Bearer abcdefSECRETTOKEN123",
        }

class LeakyFail(Base):
    def update_model(self, *a, **k):
        raise RuntimeError("401 from https://bob:sk-verysecretvalue123456@api.example.com with Bearer abcdefSECRETTOKEN123")

class OddStats(Base):
    def update_model(self, *a, **k):
        me = {"name": "me"}
        me["self"] = me
        deep = leaf = {}
        for _ in range(5000):
            leaf["n"] = {}
            leaf = leaf["n"]
        return {"kept": 7, "self": me, "deep": deep, ("a", 1): "tuple key", "obj": object(), "set": {3, 1}}
'''

EXIT_CODES = {"ExitZero": (1, "SystemExit"), "ExitThree": (1, "SystemExit"), "GenExit": (1, "GeneratorExit"),
              "ExitInInit": (4, "SystemExit")}


@pytest.fixture
def hostile(chat: Path) -> Path:
    (chat / "hostile.py").write_text(CLIENTS)
    return chat


def update(cwd: Path, client: str, *more: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run("update", "-s", "capital.jsonl", "--prefs", "capital.prefs.json", "--client", client, *more, cwd=cwd,
               **env)


# -- 1. data never chooses code ----------------------------------------------------------------------------------


@pytest.mark.parametrize("recorded", ["hostile.py:Base", "payload/evil.py:C", "this:X", "os:system"])
def test_a_session_cannot_make_update_or_validate_import_code(hostile: Path, recorded: str) -> None:
    marker = hostile / "ran"
    (hostile / "payload").mkdir()
    (hostile / "payload" / "evil.py").write_text(f"open({str(marker)!r}, 'w')\nclass C: pass\n")
    lines = (hostile / "capital.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    header["agents"][0]["model_clients"] = [recorded]
    (hostile / "capital.jsonl").write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    for args in (["update", "-s", "capital.jsonl", "--prefs", "capital.prefs.json", "--json"],
                 ["validate", "-s", "capital.jsonl", "--json"]):
        proc = run(*args, cwd=hostile)
        assert proc.returncode == 2, proc.stderr
        error = one_line_error(proc)
        assert repr(recorded) in error and "--trust-session-client" in error
        assert "import-time" not in proc.stdout + proc.stderr and "Beautiful is better" not in proc.stdout + proc.stderr
    assert not marker.exists()
    trusted = run("update", "-s", "capital.jsonl", "--prefs", "capital.prefs.json", "--json",
                  "--trust-session-client", cwd=hostile)
    if recorded == "hostile.py:Base":
        assert trusted.returncode == 0, trusted.stderr
        assert json.loads(trusted.stdout)["update_stats"] == {"ok": 1}


def test_a_session_cannot_name_an_agent_class_to_import(hostile: Path) -> None:
    marker = hostile / "ran"
    (hostile / "payload").mkdir()
    (hostile / "payload" / "__init__.py").write_text("")
    (hostile / "payload" / "evil.py").write_text(f"open({str(marker)!r}, 'w')\nclass Evil: pass\n")
    lines = (hostile / "capital.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    header["agents"][0]["class"] = "payload.evil.Evil"
    (hostile / "capital.jsonl").write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    proc = update(hostile, "hostile.py:Base", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "agent class 'payload.evil.Evil' from the session is not importable here" in proc.stderr
    assert not marker.exists()


# -- 2. endless input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,stdin",
    [
        (["update", "-s", "capital.jsonl", "--prefs", "/dev/zero", "--client", LOCAL], None),
        (["update", "-s", "capital.jsonl", "--prefs", "-", "--client", LOCAL], "/dev/zero"),
        (["update", "-s", "capital.jsonl", "--prefs", "capital.prefs.json", "--config", "/dev/zero"], None),
        (["validate", "-s", "capital.jsonl", "--config", "/dev/zero"], None),
        (["import", "/dev/zero", "-o", "out"], None),
        (["import", "fifo", "-o", "out"], None),
        (["update", "-s", "capital.jsonl", "--prefs", "fifo", "--client", LOCAL], None),
    ],
    ids=["prefs-dev-zero", "prefs-stdin-zero", "config-dev-zero", "validate-config-zero", "import-dev-zero",
         "import-fifo", "prefs-fifo"],
)
def test_endless_inputs_end_within_seconds(chat: Path, args: list[str], stdin: str | None) -> None:
    os.mkfifo(chat / "fifo")  # nobody ever writes it: opening it would block forever
    started = time.monotonic()
    with open(stdin or os.devnull, "rb") as fh:
        proc = run(*args, cwd=chat, stdin=fh, timeout=60, AGENT_FT_MAX_INPUT_BYTES="16M")
    assert time.monotonic() - started < 30
    assert proc.returncode == 3, proc.stderr
    error = one_line_error(proc)
    assert "limit" in error or "not a" in error
    assert not (chat / "out").exists() or not any((chat / "out").iterdir())


def test_endless_jsonl_line_is_refused_naming_the_limit(chat: Path) -> None:
    with open(chat / "chat.jsonl", "wb") as fh:
        fh.write(b'{"role": "user", "content": "' + b"x" * (3 * 1024 * 1024))
    proc = run("import", "chat.jsonl", "--from", "openai-jsonl", "-o", "out", cwd=chat, AGENT_FT_MAX_INPUT_BYTES="1M")
    assert proc.returncode == 3
    assert "chat.jsonl:1: line larger than the 1 MiB limit; set AGENT_FT_MAX_INPUT_BYTES" in one_line_error(proc)


# -- 3. concurrent writers ---------------------------------------------------------------------------------------------


def _learn(state: str, question: str, answer: str, start: float) -> None:
    from agent_ft_cli.clients.local import LocalLearningClient

    client = LocalLearningClient({}, state_path=state)
    while time.time() < start:
        pass
    thread = [{"role": "user", "content": question, "name": "u"}, {"role": "assistant", "content": "no", "name": "a"}]
    stats = client.update_model([{"chosen": answer, "rejected": "no"}], thread)
    assert stats["learned"] == 1, stats


def test_concurrent_updates_of_the_local_model_keep_every_answer(tmp_path: Path) -> None:
    """Many trials of two processes learning different answers on one state at the same instant."""
    ctx = multiprocessing.get_context("fork")
    for trial in range(40):
        state = str(tmp_path / f"state{trial}.json")
        start = time.time() + 0.05
        procs = [
            ctx.Process(target=_learn, args=(state, f"What is the capital of country {n}?", f"City {n}", start))
            for n in range(2)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
            assert p.exitcode == 0
        answers = json.loads(Path(state).read_text())["answers"]
        assert sorted(a["answer"] for a in answers) == ["City 0", "City 1"], f"trial {trial} lost an answer"


def test_two_update_commands_on_one_state_both_keep_their_answers(chat: Path) -> None:
    state = chat / "state.json"
    for _ in range(3):
        state.unlink(missing_ok=True)
        procs = [
            subprocess.Popen(
                [EXE, "update", "-s", f"{name}.jsonl", "--prefs", f"{name}.prefs.json", "--client", LOCAL, "--json"],
                cwd=chat, env=_env(AGENT_FT_LOCAL_STATE=str(state)), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
            for name in ("capital", "trivia")
        ]
        learned = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            learned += [a["answer"] for a in json.loads(out)["update_stats"]["learned_answers"]]
        kept = {a["answer"] for a in json.loads(state.read_text())["answers"]}
        assert learned and set(learned) <= kept


# -- 4. outputs never replace inputs -------------------------------------------------------------------------------


def test_update_output_onto_the_configs_state_is_refused(chat: Path) -> None:
    state = chat / "st.json"
    first = run("update", "-s", "capital.jsonl", "--prefs", "capital.prefs.json", "--config",
                str(REPO / "configs" / "local.yaml"), cwd=chat, AGENT_FT_STATE=str(state))
    assert first.returncode == 0, first.stderr
    before = state.read_bytes()
    proc = run("update", "-s", "capital.jsonl", "--prefs", "capital.prefs.json", "--config",
               str(REPO / "configs" / "local.yaml"), "--output", str(state), cwd=chat, AGENT_FT_STATE=str(state))
    assert proc.returncode == 2 and "is also an input" in one_line_error(proc)
    assert state.read_bytes() == before


def test_update_output_onto_the_model_state_is_refused(chat: Path) -> None:
    state = chat / "state.json"
    first = update(chat, LOCAL, AGENT_FT_LOCAL_STATE=str(state))
    assert first.returncode == 0, first.stderr
    before = state.read_bytes()
    for extra, env in (
        (["--output", str(state)], {"AGENT_FT_LOCAL_STATE": str(state)}),
        (["--output", "state.json"], {"AGENT_FT_LOCAL_STATE": "state.json"}),
        (["--output", "st.json", "--client-arg", "state_path=st.json"], {}),
        (["--output", ".agent-ft/local-model.json"], {}),
    ):
        if "st.json" in extra:
            shutil.copy(state, chat / "st.json")
        if ".agent-ft/local-model.json" in extra:
            (chat / ".agent-ft").mkdir(exist_ok=True)
            shutil.copy(state, chat / ".agent-ft" / "local-model.json")
        proc = update(chat, LOCAL, *extra, **env)
        assert proc.returncode == 2, proc.stderr
        assert "is also an input" in one_line_error(proc)
    assert state.read_bytes() == before


def test_a_client_chdir_does_not_move_the_output(hostile: Path) -> None:
    proc = update(hostile, "hostile.py:ChdirAway", "--output", "result.json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((hostile / "result.json").read_text())["update_stats"] == {"ok": 1}
    assert not Path("/tmp/agent-ft-chdir-elsewhere/result.json").exists()


def test_import_never_writes_onto_its_source(chat: Path) -> None:
    source = chat / "conv.jsonl"
    source.write_text(json.dumps({"role": "user", "content": "hi"}) + "\n"
                      + json.dumps({"role": "assistant", "content": "hello"}) + "\n")
    before = source.read_bytes()
    proc = run("import", "conv.jsonl", "-o", ".", "--force", cwd=chat)
    assert proc.returncode == 2, proc.stderr
    assert "would replace the import source" in one_line_error(proc)
    assert source.read_bytes() == before


# -- 5. client isolation ---------------------------------------------------------------------------------------------


def test_nothing_a_client_prints_reaches_json_stdout(hostile: Path) -> None:
    proc = update(hostile, "hostile.py:Noisy", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["update_stats"] == {"seen": 2}
    for text in ("import-time print", "import-time os.write", "init print", "update print", "update os.write",
                 "dunder stdout", "from a subprocess", "logged to stdout", "Beautiful is better"):
        assert text in proc.stderr, text


def test_this_module_as_client_prints_nothing_to_stdout(chat: Path) -> None:
    proc = update(chat, "this:X", "--json")
    assert proc.returncode == 4 and proc.stdout == ""
    assert "Beautiful is better" in proc.stderr


@pytest.mark.parametrize("cls", sorted(EXIT_CODES))
def test_every_client_exit_is_the_clients_failure(hostile: Path, cls: str) -> None:
    code, kind = EXIT_CODES[cls]
    proc = update(hostile, f"hostile.py:{cls}", "--json", "--output", "out.json")
    assert proc.returncode == code, proc.stderr
    error = one_line_error(proc)
    assert kind in error and ("update_model" in error if code == 1 else "could not be created" in error)
    assert proc.stdout == "" and not (hostile / "out.json").exists()


def test_a_client_exiting_in_its_constructor_during_record_is_a_load_failure(hostile: Path) -> None:
    (hostile / "pair.yaml").write_text(
        "agents:\n  assistant:\n    class: AssistantAgent\n  user:\n    class: UserProxyAgent\n"
        "    human_input_mode: NEVER\n    max_consecutive_auto_reply: 0\nupdate: assistant\npeer: user\n"
    )
    proc = run("record", "--config", "pair.yaml", "-m", "hi", "--out", "rec.jsonl",
               "--client", "hostile.py:ExitInInit", "--json", cwd=hostile)
    assert proc.returncode == 4, proc.stderr
    assert "SystemExit" in one_line_error(proc) and proc.stdout == ""


def test_a_client_exiting_at_import_is_a_load_failure(hostile: Path) -> None:
    (hostile / "quits.py").write_text("import sys\nsys.exit(0)\n")
    proc = update(hostile, "quits.py:C", "--json")
    assert proc.returncode == 4 and proc.stdout == ""
    assert "SystemExit" in one_line_error(proc)


# -- 6. odd stats ------------------------------------------------------------------------------------------------------


def test_odd_stats_keep_every_part_that_can_be_shown(hostile: Path) -> None:
    as_json = update(hostile, "hostile.py:OddStats", "--json", "--output", "out.json")
    assert as_json.returncode == 0, as_json.stderr
    stats = json.loads(as_json.stdout)["update_stats"]
    assert json.loads((hostile / "out.json").read_text())["update_stats"] == stats
    assert stats["kept"] == 7 and stats["self"] == {"name": "me", "self": "<refers to itself>"}
    assert stats["a, 1"] == "tuple key" and stats["set"] == [1, 3] and stats["obj"].startswith("<object")
    depth, node = 0, stats["deep"]
    while isinstance(node, dict):
        node, depth = node["n"], depth + 1
    assert node == "<nested too deeply to show>" and depth > 100
    table = update(hostile, "hostile.py:OddStats")
    assert table.returncode == 0, table.stderr
    assert "tuple key" in table.stdout and "refers to itself" in table.stdout


def test_sanitize_is_total() -> None:
    from agent_ft_cli.jsonio import sanitize, to_json

    class Bad:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    cyc: list[object] = []
    cyc.append(cyc)
    value = {1: "int key", None: "none", (1, (2, 3)): cyc, "bad": Bad(), "nan": float("nan"), "big": 10**40}
    out = json.loads(to_json(value))
    assert out == sanitize(value) | {"big": 10**40}
    assert out["1"] == "int key" and out["null"] == "none" and out["1, 2, 3"] == ["<refers to itself>"]
    assert out["bad"] == "<Bad that cannot be shown>" and out["nan"] is None


# -- 7. disk full ---------------------------------------------------------------------------------------------------


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_update_output_on_a_full_disk_says_the_model_changed(chat: Path, full_disk: Path) -> None:
    state = chat / "state.json"
    prefs = json.loads((chat / "capital.prefs.json").read_text())
    (chat / "capital.prefs.json").write_text(json.dumps([*prefs, {"padding": "x" * 200_000}]))  # > 64 KB of result
    proc = update(chat, LOCAL, "--output", str(full_disk / "out.json"), AGENT_FT_LOCAL_STATE=str(state))
    assert proc.returncode == 2, proc.stderr
    error = one_line_error(proc)
    assert "WAS updated" in error and "No space left on device" in error and "out.json" in error
    assert json.loads(state.read_text())["answers"]  # it was
    assert os.listdir(full_disk) == []
    full = update(chat, LOCAL, "--output", "/dev/full", AGENT_FT_LOCAL_STATE=str(state))
    assert full.returncode == 2 and "WAS updated" in one_line_error(full)


def test_import_on_a_full_disk_names_what_was_written(chat: Path, full_disk: Path) -> None:
    source = chat / "many.jsonl"
    with open(source, "w") as fh:
        for i in range(40):
            msgs = [{"role": "user", "content": f"q{i} " + "y" * 3000}, {"role": "assistant", "content": f"a{i}"}]
            fh.write(json.dumps({"messages": msgs}) + "\n")
    proc = run("import", str(source), "-o", str(full_disk / "out"), cwd=chat)
    assert proc.returncode == 2, proc.stderr
    error = one_line_error(proc)
    assert "No space left on device" in error and "were written before it" in error
    written = sorted(os.listdir(full_disk / "out"))
    assert written and all(name in error for name in written)
    for name in written:  # nothing partial: each file is a whole session
        lines = (full_disk / "out" / name).read_text().splitlines()
        assert len(lines) == 3 and all(json.loads(line) for line in lines)


def test_record_on_a_full_disk_is_a_clean_error(chat: Path, full_disk: Path) -> None:
    (full_disk / "filler").write_bytes(b"\0" * 60 * 1024)
    config = REPO / "configs" / "local.yaml"
    proc = run("record", "--config", str(config), "-m", "What is the capital of Australia? " + "z" * 8000,
               "--out", str(full_disk / "chat.jsonl"), "--quiet", cwd=chat)
    assert proc.returncode == 2, proc.stderr
    error = one_line_error(proc)
    assert "No space left on device" in error and "chat.jsonl" in error


# -- 8. no debris after kills -------------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_updates_leave_no_temporary_file_once_the_next_write_ran(chat: Path, sig: signal.Signals) -> None:
    rng = random.Random(sig)
    state = chat / "state.json"
    env = _env(AGENT_FT_LOCAL_STATE=str(state))
    args = [EXE, "update", "-s", "capital.jsonl", "--prefs", "capital.prefs.json", "--client", LOCAL, "-o", "out.json"]
    for _ in range(6):
        p = subprocess.Popen(args, cwd=chat, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 4.0))
        p.send_signal(sig)
        p.wait(30)
    final = subprocess.run(args, cwd=chat, env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    debris = [n for n in os.listdir(chat) if n.endswith((".tmp", ".probe"))]
    assert debris == []
    assert json.loads((chat / "out.json").read_text())["update_stats"]["known_answers"] == 1


# -- 9. secrets --------------------------------------------------------------------------------------------------------


def test_secrets_in_stats_and_client_errors_are_redacted(hostile: Path) -> None:
    for cls in ("Leaky", "LeakyFail"):
        proc = update(hostile, f"hostile.py:{cls}", "--json", "--output", "out.json")
        out = proc.stdout + proc.stderr + ((hostile / "out.json").read_text() if proc.returncode == 0 else "")
        assert "sk-verysecretvalue123456" not in out and "abcdefSECRETTOKEN123" not in out, out
        assert "<redacted>" in out
        (hostile / "out.json").unlink(missing_ok=True)


# -- 11, 12, 15: import sources ------------------------------------------------------------------------------------


def _logs_db(path: Path, request: str, response: str = '{"response": "hi"}') -> None:
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE chat_completions (id INTEGER PRIMARY KEY, invocation_id TEXT, client_id INTEGER, wrapper_id"
        " INTEGER, session_id TEXT, source_name TEXT, request TEXT, response TEXT, is_cached INTEGER, cost REAL,"
        " start_time TEXT, end_time TEXT)"
    )
    con.execute("INSERT INTO chat_completions (session_id, source_name, request, response, is_cached) VALUES"
                " ('s1', 'assistant', ?, ?, 0)", (request, response))
    con.commit()
    con.close()


def test_sqlite_name_with_hash_opens_that_file(chat: Path) -> None:
    request = json.dumps({"messages": [{"role": "user", "content": "hello", "name": "user"}]})
    _logs_db(chat / "my#logs.db", request)
    proc = run("import", "my#logs.db", "-o", "out", cwd=chat)
    assert proc.returncode == 0, proc.stderr
    assert not (chat / "my").exists()
    assert len(os.listdir(chat / "out")) == 1


def _deep(n: int) -> str:
    return "[" * n + "]" * n


@pytest.mark.parametrize("depth", [300, 900, 5000])
def test_deep_json_in_import_sources_is_never_an_internal_error(chat: Path, depth: int) -> None:
    deep_request = '{"messages": [{"role": "user", "name": "user", "content": ' + _deep(depth) + "}]}"
    _logs_db(chat / "deep.db", deep_request)
    (chat / "deep.jsonl").write_text('{"messages": [{"role": "user", "content": ' + _deep(depth) + "}, "
                                     '{"role": "assistant", "content": "ok"}]}\n')
    for name in ("deep.db", "deep.jsonl"):
        proc = run("import", name, "-o", f"out-{name}", cwd=chat)
        assert proc.returncode in (0, 3), proc.stderr
        if proc.returncode:
            one_line_error(proc)


def test_sqlite_rows_cut_short_are_counted_and_fail_under_strict(chat: Path) -> None:
    request = json.dumps({"messages": [{"role": "user", "content": "hello", "name": "user"}]})
    _logs_db(chat / "logs.db", request[: len(request) // 2])
    proc = run("import", "logs.db", "-o", "out", cwd=chat)
    assert proc.returncode == 3  # nothing left to import
    assert "skipped 1 row(s) whose request is not JSON (row(s) 1)" in proc.stderr
    strict = run("import", "logs.db", "-o", "out", "--strict", cwd=chat)
    assert strict.returncode == 3 and "drop --strict" in one_line_error(strict)


def test_mixed_openai_jsonl_is_a_clear_error(chat: Path) -> None:
    (chat / "mixed.jsonl").write_text(
        json.dumps({"messages": [{"role": "user", "content": "a"}]}) + "\n" + json.dumps({"role": "user", "content": "b"}) + "\n"
    )
    proc = run("import", "mixed.jsonl", "-o", "out", cwd=chat)
    assert proc.returncode == 3
    assert "mixes conversations" in one_line_error(proc)


def test_a_very_long_agent_name_imports(chat: Path) -> None:
    (chat / "long.jsonl").write_text(
        json.dumps({"role": "user", "content": "a"}) + "\n" + json.dumps({"role": "assistant", "content": "b"}) + "\n"
    )
    proc = run("import", "long.jsonl", "-o", "out", "--agent", "a" * 300, cwd=chat)
    assert proc.returncode == 0, proc.stderr
    [name] = os.listdir(chat / "out")
    assert len(name) < 200


def test_runtime_log_lines_cut_short_are_counted_named_and_fail_under_strict(chat: Path) -> None:
    lines = ["Started new session with Session ID: s1"]
    request = {"messages": [{"role": "user", "content": "q", "name": "user"}], "model": "m"}
    for i in range(5):
        rec = {"invocation_id": f"i{i}", "source_name": f"agent{i}", "request": request, "response": "answer",
               "is_cached": 0}
        text = json.dumps(rec)
        lines.append(text[: len(text) // 2] if i in (1, 3) else text)
    (chat / "runtime.log").write_text("\n".join(lines) + "\n")
    proc = run("import", "runtime.log", "-o", "out", cwd=chat)
    assert proc.returncode == 0, proc.stderr
    assert "skipped 2 record line(s) cut short or damaged (line(s) 3, 5)" in proc.stderr
    assert len(os.listdir(chat / "out")) == 3
    strict = run("import", "runtime.log", "-o", "out2", "--strict", cwd=chat)
    assert strict.returncode == 3
    assert "line(s) 3, 5" in one_line_error(strict) and not (chat / "out2").exists()
