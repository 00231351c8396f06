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
