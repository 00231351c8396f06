"""``thread_keys`` (the fast path over canonical lines) names every thread once, in order of first appearance, on
any layout: threads that come back before a new one starts (sequential, nested and group chats in one file) too."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_ft_cli import session as fmt

NAMES = ["user", "alice", "bob", "chat_manager", 'q"uo\\te', "é"]
pairs = st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES))


def _write(path: Path, keys: list[tuple[str, str]]) -> None:
    records = [fmt.message_record(a, p, {"content": f"{i}", "role": "user"}) for i, (a, p) in enumerate(keys)]
    fmt.write_records(path, fmt.make_header([]), records)


def _first_seen(keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(keys))


def test_threads_that_come_back_are_named_once_and_later_threads_are_not_lost(tmp_path: Path) -> None:
    keys = [("user", "bob"), ("bob", "user"), ("bob", "user"), ("user", "bob"), ("alice", "chat_manager"), ("bob", "chat_manager")]
    path = tmp_path / "s.jsonl"
    _write(path, keys)
    assert fmt.thread_keys(path) == [("user", "bob"), ("bob", "user"), ("alice", "chat_manager"), ("bob", "chat_manager")]


def test_many_threads_take_one_pass_with_the_same_answer(tmp_path: Path) -> None:
    threads = [(f"agent{i % 7}", f"peer{i}") for i in range(40)]
    keys = [k for r in range(3) for k in threads[: 10 * (r + 1)]]  # threads come back while new ones start
    path = tmp_path / "s.jsonl"
    _write(path, keys)
    assert fmt.thread_keys(path) == threads[:30] == list(fmt.thread_counts(path))


@settings(max_examples=60, deadline=None)
@given(st.lists(pairs, max_size=40))
def test_thread_keys_equal_the_threads_in_order_of_first_appearance(keys: list[tuple[str, str]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.jsonl"
        _write(path, keys)
        assert fmt.thread_keys(path) == _first_seen(keys) == list(fmt.thread_counts(path))


def test_many_threads_cost_about_one_pass(tmp_path: Path) -> None:
    """A search per thread once made 400 threads of 10 messages (0.6 MB) take 30 s; one streaming pass takes 0.1 s.
    CPU time, with a wide margin: only a cost that grows with threads x file fails."""
    import time

    path = tmp_path / "s.jsonl"
    threads = [(f"agent{i % 9}", f"peer{i}") for i in range(400)]
    _write(path, [k for _ in range(10) for k in threads])
    start = time.process_time()
    assert list(fmt.thread_counts(path)) == threads
    one_pass = time.process_time() - start
    start = time.process_time()
    assert fmt.thread_keys(path) == threads
    assert time.process_time() - start < 20 * one_pass + 1.0


records = st.lists(
    st.one_of(
        pairs.map(lambda k: fmt.message_record(k[0], k[1], {"content": "m", "role": "user"})),
        st.tuples(st.sampled_from(NAMES), st.one_of(st.none(), st.sampled_from(NAMES)), st.booleans()).map(
            lambda c: fmt.clear_record(c[0], c[1], rewrite=c[2])
        ),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(records)
def test_the_scan_names_the_agents_that_clear_and_a_reader_told_so_reads_the_same(recs: list[dict]) -> None:
    """The byte scan also learns which agents have a ``clear`` record; ``inspect --json`` then reads a thread of an
    agent that never clears from the header on (no search for its last clear), with the same messages."""
    import tempfile

    from agent_ft_cli.session import _scan

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.jsonl"
        fmt.write_records(path, fmt.make_header([]), recs)
        with open(path, "rb") as fh:
            scanned = _scan.canonical_threads(fh.fileno(), fmt.read_header(path)[1] - 1)
        keys = _first_seen([(r["agent"], r["peer"]) for r in recs if r["type"] == "message"])
        clearing = {r["agent"] for r in recs if r["type"] == "clear"}
        if len(keys) + len(clearing) <= _scan.SEARCHED_THREADS:
            assert scanned == (keys, clearing)
        loaded = fmt.load_session(path).threads
        for agent, peer in keys:
            if agent not in clearing:
                assert list(fmt.iter_thread(path, agent, peer, uncleared=True)) == loaded[(agent, peer)]


def test_a_clear_written_after_the_scan_is_an_error_not_a_stale_thread(tmp_path: Path) -> None:
    """Told there is no clear (the scan ran before a recorder appended one), the reader refuses rather than stream
    messages the clear emptied."""
    import pytest

    path = tmp_path / "s.jsonl"
    recs = [fmt.message_record("user", "bob", {"content": "old", "role": "user"}), fmt.clear_record("user", "bob")]
    fmt.write_records(path, fmt.make_header([]), recs)
    assert list(fmt.iter_thread(path, "user", "bob")) == []
    from agent_ft_cli.errors import SessionError

    with pytest.raises(SessionError, match="written while it was being read"):
        list(fmt.iter_thread(path, "user", "bob", uncleared=True))


def test_a_group_chat_whose_members_all_clear_is_still_scanned(tmp_path: Path) -> None:
    """Clearing agents do not use up the scan's thread budget: a group chat of 12 threads whose 7 agents each clear
    their history between runs is still answered by the byte scan (not the streaming pass), clears included."""
    from agent_ft_cli.session import _scan

    members = [f"member{i}" for i in range(6)]
    threads = [(m, "chat_manager") for m in members] + [("chat_manager", m) for m in members]
    recs = []
    for run in range(2):
        recs += [fmt.clear_record(a, None) for a in [*members, "chat_manager"]]
        recs += [fmt.message_record(a, p, {"content": f"{run}", "role": "user"}) for a, p in threads]
    path = tmp_path / "s.jsonl"
    fmt.write_records(path, fmt.make_header([]), recs)
    with open(path, "rb") as fh:
        scanned = _scan.canonical_threads(fh.fileno(), fmt.read_header(path)[1] - 1)
    assert scanned == (threads, {*members, "chat_manager"})
    assert fmt.thread_keys(path) == threads
