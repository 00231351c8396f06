"""The small-files fast path (``session/small.py``) equals the general reader, or steps aside.

On the random sessions of ``test_reader_properties`` (several threads, clears with a peer and with ``null``,
unknown records, other spellings, blank lines, a final line cut short): for every thread, the conversations
:func:`~agent_ft_cli.session.small.small_conversations` gives are the general reader's
(:func:`~agent_ft_cli.session.iter_conversations`), or it gives None and the general reader decides; it gives None
only where a line is not a plain well-formed record. :meth:`ThreadReducer.feeding` is held equal to
:meth:`ThreadReducer.feed`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_ft_cli import session as fmt
from agent_ft_cli.session import ThreadReducer
from agent_ft_cli.session.small import SMALL, header_line, holds, read_small, small_conversations
from agent_ft_cli.session.threads import END

from .test_reader_properties import _line, sessions


def _data(session: tuple[list[str], list[tuple[str, Any]], str]) -> tuple[list[str], bytes]:
    names, items, end = session
    data = fmt.dumps_record(fmt.make_header([{"name": n} for n in names])) + b"".join(_line(s, r) for s, r in items)
    if end == "no-newline" and data.count(b"\n") > 1:
        data = data[:-1]
    elif end in ("spaces", "cut"):
        data += b"   " if end == "spaces" else b'{"type":"message","agent":"a'
    return names, data


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(session=sessions())
def test_small_conversations_equal_the_reader_or_step_aside(
    session: tuple[list[str], list[tuple[str, Any]], str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    names, data = _data(session)
    path = tmp_path_factory.mktemp("small") / "s.jsonl"
    path.write_bytes(data)
    assert read_small(str(path), 1 << 30) == data
    head = header_line(data)
    lines = data.split(b"\n")[1:]
    plain = data.endswith(b"\n") and all(_parses(raw) for raw in lines[:-1])
    for agent in names:
        for peer in names:
            got = small_conversations(data, len(head), (agent, peer)) if head is not None else None
            if head is not None and plain:
                assert got is not None, "every line is a record: the fast path must answer"
            if got is None:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # the fast path answers only where the reader says nothing
                assert got == list(fmt.iter_conversations(path, agent, peer)), (agent, peer)
            assert holds(data, agent, peer) == fmt._scan.thread_in_file(path, agent, peer)


def _parses(raw: bytes) -> bool:
    try:
        rec = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False
    return fmt.records.record_problem(rec) is None


@settings(max_examples=60, deadline=None)
@given(session=sessions(), pick=st.integers(0, 20))
def test_feeding_a_run_equals_feeding_each_record(session: tuple[list[str], list[tuple[str, Any]], str], pick: int) -> None:
    names, items, _ = session
    records: list[Any] = [rec for _, rec in items if rec is not None] + [[1], "x", {"type": "message", "agent": 1}]
    pairs = [(a, p) for a in names for p in names]
    for kwargs in ({"pairs": [pairs[pick % len(pairs)]]}, {}, {"agents": names[:1]}, {"count_only": True}):
        one, run = ThreadReducer(**kwargs), ThreadReducer(**kwargs)  # type: ignore[arg-type]
        feed, feeding = one.feeder(), run.feeding()
        expected = [rec for rec in records if not feed(rec)]  # what each record-at-a-time feed hands back
        left, it = [], iter(records)
        while (rec := feeding(it)) is not END:
            left.append(rec)
        assert left == expected
        assert run.threads == one.threads


def test_read_small_reads_only_small_regular_files(tmp_path: Path) -> None:
    small = tmp_path / "s.jsonl"
    small.write_bytes(b"x\n" * 10)
    assert read_small(str(small), 1 << 30) == b"x\n" * 10
    assert read_small(str(small), 5) is None  # over the line limit: the general reader judges it
    big = tmp_path / "b.jsonl"
    big.write_bytes(b"x" * (SMALL + 1))
    assert read_small(str(big), 1 << 30) is None
    assert read_small(str(tmp_path), 1 << 30) is None  # a folder
    assert read_small(str(tmp_path / "missing.jsonl"), 1 << 30) is None
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "f.jsonl"
        os.mkfifo(fifo)
        assert read_small(str(fifo), 1 << 30) is None  # never blocks on a FIFO
