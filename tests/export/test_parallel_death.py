"""``export --jobs``: a worker process that dies (the out-of-memory killer, ``kill -9``) is not a hang. This process
builds the sessions whose rows were not written yet, the output is byte for byte what ``--jobs 1`` writes, and one
warning names the death.

The deaths are real: each export runs in a subprocess whose ``parallel._one`` is replaced before the pool forks (the
workers inherit it), so a worker SIGKILLs itself, or is killed while idle, at a chosen session. The subprocess has a
deadline: a hang fails the test (its process group, workers included, is killed)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from conftest import REPO

SAMPLES = REPO / "sample_sessions"
DEADLINE = 90  # seconds; an export here takes one or two

#: The CLI, in a process whose workers die as ``DIE`` says: ``self:<name>`` SIGKILLs the worker that reaches session
#: ``<name>``; ``idle:<name>``: the worker that reaches ``<name>`` waits there while the other one builds every other
#: batch and goes back to the task queue (where it waits holding the queue's read lock); that one is then killed.
SCRIPT = """
import multiprocessing, os, signal, sys, threading, time
from pathlib import Path
from agent_ft_cli.export import parallel
from agent_ft_cli.cli import run

how, name = os.environ["DIE"].split(":")
flags = Path(os.environ["FLAGS"])
one = parallel._one

def dying(path):
    if path.endswith(name):
        os.kill(os.getpid(), signal.SIGKILL)
    return one(path)

def waiting(path):
    if path.endswith(name):
        (flags / "held").write_text(str(os.getpid()))
        while True:  # until the export, which waits for this batch, ends this worker
            time.sleep(0.01)
    done = one(path)
    if path.endswith(os.environ["LAST"]):
        (flags / "last").touch()
    return done

def killer():
    while not ((flags / "held").exists() and (flags / "last").exists()):
        time.sleep(0.01)
    time.sleep(0.5)  # the other worker has sent its last batch and waits on the task queue
    held = int((flags / "held").read_text())
    for worker in multiprocessing.active_children():
        if worker.pid != held:
            os.kill(worker.pid, signal.SIGKILL)

if how == "self":
    parallel._one = dying
else:
    parallel._one = waiting
    threading.Thread(target=killer, daemon=True).start()
sys.argv = ["agent-ft", *sys.argv[1:]]
run()
"""


def _folder(tmp_path: Path, n: int) -> Path:
    """``n`` sessions of three shapes; two unreadable ones and two cut short, before and after the deaths below (their
    skips and warnings are replayed in order around the death)."""
    folder = tmp_path / "many"
    folder.mkdir()
    shapes = ("trivia.jsonl", "weather_tool.jsonl", "capital.jsonl")
    for i in range(n):
        shutil.copy(SAMPLES / shapes[i % 3], folder / f"s{i:03d}.jsonl")
    cut = (SAMPLES / "trivia.jsonl").read_bytes()
    for i in (5, n - 6):
        (folder / f"s{i:03d}.jsonl").write_text("not a session\n")
    for i in (11, n - 3):
        (folder / f"s{i:03d}.jsonl").write_bytes(cut[: cut.rindex(b"\n", 0, len(cut) - 1) + 20])
    return folder


def _export(
    tmp_path: Path, folder: Path, jobs: str, die: str, last: str = ""
) -> tuple[bytes, dict[str, object], list[str]]:
    """The rows, the summary and the stderr lines of ``export --jobs JOBS`` in a subprocess (see :data:`SCRIPT`)."""
    out = tmp_path / f"j{jobs}.jsonl"
    flags = tmp_path / f"flags{jobs}"
    flags.mkdir()
    env = dict(os.environ, DIE=die, LAST=last, FLAGS=str(flags), NO_COLOR="1", COLUMNS="1000")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    args = ["export", "-s", str(folder), "-f", "openai-sft", "-o", str(out), "--jobs", jobs, "--json"]
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its workers
        proc.communicate()
        raise AssertionError(f"export --jobs {jobs} still running after {DEADLINE} s (a worker died: {die})") from None
    assert proc.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary.pop("out") == str(out)
    return out.read_bytes(), summary, stderr.splitlines()


def _death_warnings(lines: list[str]) -> list[str]:
    return [line for line in lines if "worker process" in line]


def test_a_worker_killed_mid_batch_leaves_its_sessions_to_this_process(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 40)
    one = _export(tmp_path, folder, "1", "self:s020.jsonl")
    rows, summary, stderr = _export(tmp_path, folder, "2", "self:s020.jsonl")
    assert rows == one[0] and summary == one[1]
    assert summary["sessions"] == 38 and len(summary["skipped_sessions"]) == 2  # type: ignore[arg-type]
    [death] = _death_warnings(stderr)
    assert "died (killed by signal 9, SIGKILL)" in death and "sessions left in this process" in death, death
    assert "building the 20 sessions left" in death  # s020 on: its batch (2 sessions: 40 // (2 jobs * 8)) and after
    assert [line for line in stderr if line != death] == one[2]  # every other warning once, in order
    assert not _death_warnings(one[2])


def test_an_idle_worker_killed_holding_the_task_queue_lock_is_no_hang(tmp_path: Path) -> None:
    """A worker killed while it waits for a batch holds the task queue's read lock for ever, and ``Pool.terminate``
    waits for that lock: the export still ends, byte for byte (the other worker never sends its batch)."""
    folder = _folder(tmp_path, 40)
    one = _export(tmp_path, folder, "1", "idle:s003.jsonl", "s039.jsonl")
    rows, summary, stderr = _export(tmp_path, folder, "2", "idle:s003.jsonl", "s039.jsonl")
    assert rows == one[0] and summary == one[1]
    [death] = _death_warnings(stderr)
    assert "died (killed by signal 9, SIGKILL); building the 38 sessions left" in death, death  # s002 on
    assert [line for line in stderr if line != death] == one[2]
