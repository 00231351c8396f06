"""The review screen, driven by keys: through prompt_toolkit's pipe input, and once in a real terminal (a pty)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from agent_ft_cli.review import Review
from agent_ft_cli.review.ui import Screen, body_of, run_screen

from .reviewkit import DONT_KNOW

CTRL_C, ENTER, CTRL_A, CTRL_K = "\x03", "\r", "\x01", "\x0b"


def drive(review: Review, keys: list[str]) -> str:
    """Run the screen with ``keys`` typed one after the other; what it returned."""
    with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
        for k in keys:
            inp.send_text(k)
        return run_screen(review)


def lines(path: Path) -> list[dict]:
    return [orjson.loads(x) for x in path.read_bytes().splitlines()]


def test_reject_keep_bad_then_ctrl_c_keeps_every_answer(chat: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.jsonl"
    rv = Review.open(chat, prefs)
    got = drive(rv, ["r", CTRL_A, CTRL_K, "Canberra is the capital.", ENTER, "k", "b", CTRL_C])
    assert got == "interrupt"
    written = lines(prefs)
    assert [(w["review"]["reply"], w.get("chosen"), w.get("label")) for w in written] == [
        (1, "Canberra is the capital.", None), (2, None, True), (3, None, False)
    ]
    assert written[2]["completion"] == DONT_KNOW and written[2]["occurrence"] == 1


def test_resume_starts_at_the_first_reply_without_an_answer_and_back_shows_the_answered(chat: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.jsonl"
    drive(Review.open(chat, prefs), ["k", "k", "q"])
    rv = Review.open(chat, prefs)
    screen = Screen(rv)
    assert screen.reply.number == 3 and screen.status.startswith("resuming: 2/5")
    screen.back()
    assert screen.reply.number == 2
    assert "answered: kept" in body_of(screen.reply, 5)[0]
    # skip to the end, then back to the first reply still without an answer
    assert drive(rv, ["s", "s", "s", "q"]) == "quit"
    assert len(lines(prefs)) == 2


def test_the_proposed_correction_is_prefilled_and_answering_the_last_reply_finishes(chat: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.jsonl"
    assert drive(Review.open(chat, prefs), ["r", ENTER, "k", "k", "k", "b"]) == "done"
    written = lines(prefs)
    assert written[0]["chosen"] == "It is Canberra."  # the human's correction, as proposed
    assert len(written) == 5


def test_an_empty_better_answer_is_not_saved_and_escape_cancels(chat: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.jsonl"
    rv = Review.open(chat, prefs)
    drive(rv, ["r", CTRL_A, CTRL_K, ENTER, "\x1b", "q"])
    assert not prefs.exists() or not prefs.read_bytes()


def test_a_two_line_better_answer(chat: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.jsonl"
    drive(Review.open(chat, prefs), ["s", "r", "one", "\x1b\r", "two", ENTER, "q"])
    assert lines(prefs)[0]["chosen"] == "one\ntwo"


# -- a real terminal ----------------------------------------------------------------------------------------------
@pytest.fixture
def terminal(chat: Path, tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes], Path]]:
    import fcntl
    import pty
    import struct
    import termios

    prefs = tmp_path / "p.jsonl"
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # an 80x24 terminal
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm", "COLUMNS": "80", "LINES": "24"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent_ft_cli", "review", "--session", str(chat), "--prefs", str(prefs)],
        stdin=follower, stdout=follower, stderr=follower, env=env, start_new_session=True,
    )
    os.close(follower)
    try:
        yield leader, proc, prefs
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(leader)


def read_until(fd: int, needle: bytes, timeout: float = 20.0) -> bytes:
    seen = b""
    end = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def test_in_a_terminal_ctrl_c_exits_130_with_the_answers_kept(terminal: tuple[int, subprocess.Popen[bytes], Path]) -> None:
    fd, proc, prefs = terminal
    screen = read_until(fd, b"reject+better")
    assert b"reply 1" in screen
    assert b"\x1b[3" not in screen  # NO_COLOR: no foreground colour
    os.write(fd, b"k")
    read_until(fd, b"reply 2 of 5")
    os.write(fd, CTRL_C.encode())
    out = read_until(fd, b"interrupted")
    assert proc.wait(timeout=20) == 130, out
    assert [w["review"]["reply"] for w in lines(prefs)] == [1]


def test_answering_the_last_unanswered_reply_finishes_wherever_it_is(chat: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.jsonl"
    # skip reply 1, answer 2..5, come back to 1 from the end and answer it: done, not on to reply 2
    assert drive(Review.open(chat, prefs), ["s", "k", "k", "k", "k", "b"]) == "done"
    assert [w["review"]["reply"] for w in lines(prefs)] == [2, 3, 4, 5, 1]
    screen = Screen(Review.open(chat, tmp_path / "q.jsonl"))
    screen.back()
    assert screen.status == "this is the first reply"
    screen.next()
    assert screen.status == "0/5 answered"
