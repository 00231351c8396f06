"""Every fast reading path equals the one reducer fed every record, on random sessions.

A session is generated as a list of records (messages of several agents and peers as in group chats, clears with a
peer and with ``null``, unknown record types, records in the writer's framing and hand-written spellings, blank
lines, a final line cut short), or as a live recorder lays them out (both views of a chat, or the many threads of
a group chat, interleaved record by record, with a few oddities), written, then read back by every reader with varied block and mmap-window sizes.
The reference is :class:`~agent_ft_cli.session.ThreadReducer` applied to every line parsed with the standard
``json`` module, and the reducer itself is checked against a plain model of the two rules built from the records.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_ft_cli import session as fmt
from agent_ft_cli.session import ThreadReducer, _scan

NAMES = ["alice", "bob", "chat_manager", 'q"uo\\te', "é"]

pieces = st.sampled_from(["a", "é", '"', "\\", "}", "}}", "{", "\n", "\x00", " ", "clear", '"clear"', "😀"])
texts = st.lists(pieces, max_size=8).map("".join)
messages = st.fixed_dictionaries(
    {"content": st.one_of(texts, st.none(), st.just("clear")), "role": st.sampled_from(["user", "assistant"])},
    optional={"name": st.sampled_from(NAMES), "n": st.integers(-5, 10**6), "x": st.floats(allow_nan=False, allow_infinity=False)},
)


@st.composite
def sessions(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, Any]], str]:
    """(agent names, records as (spelling, record or None for a blank line), how the file ends)."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=4, unique=True))
    two = names[:2]
    agent = st.sampled_from(names)
    message = st.builds(lambda a, p, m: fmt.message_record(a, p, m), agent, agent, messages)
    pair_message = st.builds(lambda i, m: fmt.message_record(two[i], two[1 - i], m), st.integers(0, 1), messages)
    clear = st.builds(fmt.clear_record, agent, st.one_of(st.none(), agent))
    other = st.one_of(
        st.builds(lambda t: {"type": "note", "text": t}, texts),
        st.just({"type": "note", "clear": "clear"}),
        st.just({"type": "future_kind", "agent": names[0], "peer": names[1], "message": {"content": "not a message"}}),
    )
    # mostly the layout of a real recording (long stretches of two threads in the writer's framing), with oddities;
    # weights by sampled_from (one_of would merge repeated branches)
    kinds = {"pair": pair_message, "message": message, "clear": clear, "other": other}
    record = st.sampled_from(["pair"] * 6 + ["message", "message", "clear", "other"]).flatmap(kinds.__getitem__)
    spelling = st.sampled_from(["canonical"] * 8 + ["spaced", "reordered", "ascii", "loose"])
    item = st.sampled_from([False] * 9 + [True]).flatmap(
        lambda blank: st.just(("blank", None)) if blank else st.tuples(spelling, record)
    )
    layout = draw(st.sampled_from(["mixed", "mixed", "interleaved", "group"]))
    if layout == "mixed":
        n = draw(st.integers(0, 80))  # (plain st.lists stays short: long runs of other threads are the point here)
        items = draw(st.lists(item, min_size=n, max_size=n))
    else:
        # as a live recorder writes them: record by record, in the writer's framing, round after round over the
        # threads (the two views of one conversation, or every member's and the manager's threads of a group
        # chat), with at most a few oddities dropped in
        if layout == "interleaved":
            threads = [(two[0], two[1]), (two[1], two[0])]
        else:
            threads = [(a, b) for a in names for b in names if a != b]
            threads = draw(st.lists(st.sampled_from(threads), min_size=2, max_size=len(threads), unique=True))
        rounds = draw(st.integers(1, 40))
        items = [("canonical", fmt.message_record(a, b, draw(messages))) for _ in range(rounds) for a, b in threads]
        for _ in range(draw(st.integers(0, 2))):
            items.insert(draw(st.integers(0, len(items))), draw(item))
    end = draw(st.sampled_from(["newline", "no-newline", "cut", "cut", "spaces"]))
    return names, items, end


def _line(spelling: str, rec: dict[str, Any] | None) -> bytes:
    if rec is None:
        return b"  \n"
    if spelling == "canonical":
        return fmt.dumps_record(rec)
    if spelling == "reordered":
        return json.dumps(dict(reversed(list(rec.items()))), ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    if spelling == "ascii":  # the writer's framing, names spelled with escapes: same meaning, other bytes
        return json.dumps(rec, separators=(",", ":")).encode() + b"\n"
    if spelling == "loose":  # the writer's head, a space before the message object
        return fmt.dumps_record(rec).replace(b'"message":{', b'"message": {', 1)
    return json.dumps(rec).encode() + b"\n"


def _model(items: list[tuple[str, Any]]) -> dict[tuple[str, str], list[Any]]:
    """The two rules, written as plainly as possible: a message appends, a clear empties (null peer: every one)."""
    threads: dict[tuple[str, str], list[Any]] = {}
    for _, rec in items:
        if rec is None:
            continue
        if rec["type"] == "message":
            threads.setdefault((rec["agent"], rec["peer"]), []).append(rec["message"])
        elif rec["type"] == "clear":
            for key in threads:
                if key[0] == rec["agent"] and rec["peer"] in (None, key[1]):
                    threads[key] = []
    return threads


def _reduced(data: bytes, **kwargs: Any) -> dict[Any, Any]:
    """The reference: every line parsed with the json module, in order, fed to the reducer."""
    reducer = ThreadReducer(**kwargs)
    lines = data.split(b"\n")
    for i, raw in enumerate(lines[1:], start=1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except ValueError:
            assert i == len(lines) - 1, "only the final line may be damaged here"
            continue
        reducer.apply(rec)
    return reducer.threads


def _clearing(data: bytes) -> set[Any]:
    """The agents of every ``clear`` record, every line parsed with the json module."""
    recs = []
    for raw in data.split(b"\n")[1:]:
        try:
            recs.append(json.loads(raw))
        except ValueError:
            continue
    return {r.get("agent") for r in recs if isinstance(r, dict) and r.get("type") == "clear"}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    session=sessions(),
    chunks=st.sampled_from([(16, 1000), (200, 1 << 20), (64, 4096)]),
    window=st.sampled_from([16, 100, 16 << 20]),
    cut_at=st.floats(0.05, 0.95),
)
def test_every_fast_path_equals_the_reducer(
    session: tuple[list[str], list[tuple[str, Any]], str], chunks: tuple[int, int], window: int, cut_at: float
) -> None:
    names, items, end = session
    header = fmt.make_header([{"name": n} for n in names])
    data = fmt.dumps_record(header) + b"".join(_line(s, r) for s, r in items)
    model = _model(items)
    if end == "no-newline" and data.count(b"\n") > 1:
        data = data[:-1]
    elif end == "spaces":
        data += b"   "
    elif end == "cut":
        last = fmt.dumps_record(fmt.message_record(names[0], names[1], {"content": "cut " * 5}))
        data += last[: max(1, int(len(last) * cut_at))]
    full = _reduced(data)
    assert full == model

    saved = _scan._CHUNK, _scan._WINDOW
    try:
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = Path(tmp) / "s.jsonl"
            path.write_bytes(data)
            for chunk in chunks:  # a block of a line or two, and blocks of many lines (the run and pair paths)
                _scan._CHUNK, _scan._WINDOW = chunk, window
                _check_readers(path, names, full)
    finally:
        _scan._CHUNK, _scan._WINDOW = saved


def _check_readers(path: Path, names: list[str], full: dict[Any, Any]) -> None:
    loaded = fmt.load_session(path)
    assert loaded.threads == full
    assert fmt.thread_counts(path) == {k: len(v) for k, v in full.items()}
    assert fmt.thread_keys(path) == list(full)  # in order of first appearance
    with open(path, "rb") as fh:  # the byte scan behind thread_keys: when it judges the file, the clearing agents too
        scanned = _scan.canonical_threads(fh.fileno(), fmt.read_header(path)[1] - 1)
    if scanned is not None:
        assert scanned[0] == list(full)
        assert scanned[1] == _clearing(path.read_bytes())
    pairs = [(a, p) for a in names for p in names]
    some = set(pairs[::2])
    assert fmt.load_session(path, pairs=some).threads == {k: v for k, v in full.items() if k in some}
    assert fmt.load_session(path, agents=names[:1]).threads == {k: v for k, v in full.items() if k[0] == names[0]}
    for agent, peer in pairs:
        expected = full.get((agent, peer), [])
        assert list(fmt.iter_thread(path, agent, peer)) == expected, (agent, peer)
        if scanned is not None and agent not in scanned[1]:  # inspect --json's read when the scan saw no clear
            assert list(fmt.iter_thread(path, agent, peer, uncleared=True)) == expected, (agent, peer)
        # the conversations, streamed (what export reads) and whole (Session.conversations): one reducer
        convs = list(fmt.iter_conversations(path, agent, peer))
        assert convs == ([c for c in loaded.conversations(agent, peer) if c] if (agent, peer) in loaded.threads else [])
        assert not expected or convs[-1] == expected, (agent, peer)
        as_bytes = list(fmt.iter_thread(path, agent, peer, as_bytes=True))
        assert all(type(b) is bytes for b in as_bytes)
        assert [orjson.loads(b) for b in as_bytes] == expected, (agent, peer)
        for n in {1, 2, 3, len(expected), len(expected) + 4}:
            assert fmt.tail_thread(path, agent, peer, n) == (expected[-n:] if n else []), (agent, peer, n)
