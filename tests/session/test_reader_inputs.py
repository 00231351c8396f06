"""Issue #9 item 8, reader side: every reader refuses devices and FIFOs and bounds the length of a line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent_ft_cli.errors import SessionError
from agent_ft_cli.session import (
    iter_records,
    load_session,
    make_header,
    message_record,
    read_header,
    thread_counts,
    write_records,
)


def _session(path: Path, content: str = "hi") -> Path:
    write_records(path, make_header([{"name": "a"}]), [message_record("a", "u", {"content": content, "role": "user"})])
    return path


@pytest.mark.parametrize("reader", [read_header, load_session, thread_counts, lambda p: list(iter_records(p))])
def test_a_fifo_or_device_is_refused_by_every_reader(tmp_path: Path, reader: object) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "FIFO"), (Path("/dev/zero"), "character device")):
        with pytest.raises(SessionError, match=kind):
            reader(path)  # type: ignore[operator]


def test_an_over_long_line_is_an_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _session(tmp_path / "s.jsonl", "x" * 5000)
    monkeypatch.setenv("AGENT_FT_MAX_INPUT_BYTES", "4096")
    for reader in (load_session, thread_counts, lambda p: list(iter_records(p))):
        with pytest.raises(SessionError, match=r"s\.jsonl:2: line larger than the 4 KiB limit"):
            reader(path)
    monkeypatch.setenv("AGENT_FT_MAX_INPUT_BYTES", "64")
    with pytest.raises(SessionError, match=r"s\.jsonl:1: line larger"):
        read_header(path)


def test_lines_within_the_limit_read_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _session(tmp_path / "s.jsonl", "x" * 3000)
    monkeypatch.setenv("AGENT_FT_MAX_INPUT_BYTES", "4096")
    assert load_session(path).threads[("a", "u")][0]["content"] == "x" * 3000


def test_the_one_thread_readers_bound_a_line_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A line several read blocks long (1 MB blocks) in iter_thread and tail_thread (``inspect`` and ``--last``)."""
    from agent_ft_cli.session import iter_thread, tail_thread

    path = tmp_path / "s.jsonl"
    write_records(path, make_header([{"name": "a"}]), [
        message_record("a", "u", {"content": "x" * (3 * 1024 * 1024), "role": "user"}),
        message_record("a", "v", {"content": "short", "role": "user"}),
    ])
    assert [m["content"] for m in iter_thread(path, "a", "v")] == ["short"]
    assert len(tail_thread(path, "a", "u", 1)[0]["content"]) == 3 * 1024 * 1024
    monkeypatch.setenv("AGENT_FT_MAX_INPUT_BYTES", "2M")
    with pytest.raises(SessionError, match=r"s\.jsonl:2: line larger than the 2 MiB limit"):
        list(iter_thread(path, "a", "u"))
    with pytest.raises(SessionError, match=r"s\.jsonl:2: line larger than the 2 MiB limit"):
        tail_thread(path, "a", "u", 1)
