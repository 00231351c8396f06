"""``thread_keys`` (the byte fast path over the writer's framing) equals the threads the reducer finds, in order of
first appearance, on files where threads interleave and a thread first appears late (a second group chat manager
with a name already used, ``chat_manager#2``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_ft_cli import session as fmt
from agent_ft_cli.session.reader import thread_counts, thread_keys

PAIRS = [
    ("alice", "chat_manager"),
    ("bob", "chat_manager"),
    ("alice", "chat_manager#2"),
    ("chat_manager", "alice"),
    ("user", "alice"),
    ("alice", "user"),
    ('q"uo\\te', "é"),
]


def _write(folder: Path, order: list[int], clears: list[int]) -> Path:
    path = folder / "s.jsonl"
    header = fmt.make_header([{"name": n} for n in ("alice", "bob", "user")])
    lines = [fmt.dumps_record(header)]
    for i, k in enumerate(order):
        agent, peer = PAIRS[k]
        lines.append(fmt.dumps_record(fmt.message_record(agent, peer, {"content": f"m{i}", "role": "user"})))
        if i in clears:
            lines.append(fmt.dumps_record(fmt.clear_record(agent, peer)))
    path.write_bytes(b"".join(lines))
    return path


@settings(max_examples=200, deadline=None)
@given(
    order=st.lists(st.integers(0, len(PAIRS) - 1), min_size=1, max_size=40),
    clears=st.lists(st.integers(0, 40), max_size=3),
)
def test_thread_keys_equal_the_reducer_in_order_of_first_appearance(order: list[int], clears: list[int]) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = _write(Path(d), order, clears)
        first_seen = list(dict.fromkeys(PAIRS[k] for k in order))
        assert list(thread_counts(path)) == first_seen
        assert thread_keys(path) == first_seen


def test_a_thread_that_first_appears_late_is_found(tmp_path: Path) -> None:
    # the shape of two group chats whose managers share a name: the second manager's thread starts after many lines
    # of the first's, interleaved with another member's
    path = _write(tmp_path, [0, 1, 0, 1, 0, 2, 1, 2], [])
    assert thread_keys(path) == [("alice", "chat_manager"), ("bob", "chat_manager"), ("alice", "chat_manager#2")]
