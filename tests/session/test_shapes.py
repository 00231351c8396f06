"""Every benchmark shape (two views interleaved, a group chat's many threads, long messages), written through the
real writers, reads back the same through every reader; the group-chat fast path is the one taken and still
refuses a damaged line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from agent_ft_cli import session as fmt
from agent_ft_cli.errors import SessionError
from agent_ft_cli.session import _scan

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks.generate import SHAPES, generate  # noqa: E402

SIZES = {
    "mixed": 400, "uniform-interleaved": 400, "group-chat": 12 * 30, "long-messages": 6, "two-threads": 200,
    "sequential": 200, "one-thread": 150, "short-chats": 2 * 8 * 12, "several-peers": 6 * 40,
}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("shapes")
    out = {}
    for shape in SHAPES:
        out[shape] = folder / f"{shape}.jsonl"
        generate(out[shape], SIZES[shape], seed=5, shape=shape)
    return out


def test_the_stream_writer_writes_what_save_session_writes(shapes: dict[str, Path], tmp_path: Path) -> None:
    for shape, path in shapes.items():
        other = tmp_path / f"{shape}.jsonl"
        generate(other, SIZES[shape], seed=5, shape=shape, writer="stream")
        assert other.read_bytes().split(b"\n")[1:] == path.read_bytes().split(b"\n")[1:], shape


def test_shapes_are_what_they_say(shapes: dict[str, Path]) -> None:
    group = fmt.load_session(shapes["group-chat"])
    assert len(group.threads) == 12 and {len(t) for t in group.threads.values()} == {30}
    assert ("assistant", "chat_manager") in group.threads and ("chat_manager", "peer5") in group.threads
    long = fmt.load_session(shapes["long-messages"])
    assert all(10_000 <= len(m["content"]) <= 100_000 for t in long.threads.values() for m in t)
    uniform = fmt.load_session(shapes["uniform-interleaved"]).threads[("assistant", "user")]
    assert all(270 <= len(m["content"]) <= 330 for m in uniform)
    lines = shapes["uniform-interleaved"].read_bytes().split(b"\n")[1:-1]
    assert all(b'"agent":"assistant"' in line for line in lines[::2])  # the two views alternate line by line
    assert all(b'"agent":"user"' in line for line in lines[1::2])
    seq = shapes["sequential"].read_bytes().split(b"\n")[1:-1]  # one thread after the other
    assert all(b'"agent":"assistant"' in line for line in seq[:100]) and all(b'"agent":"user"' in line for line in seq[100:])
    assert list(fmt.load_session(shapes["one-thread"]).threads) == [("assistant", "user")]
    assert len(fmt.load_session(shapes["several-peers"]).threads) == 6
    short = fmt.load_session(shapes["short-chats"])
    assert len(short.conversations("assistant", "user")) == 12 - 2  # a rewrite does not end a conversation
    assert sum(1 for e in short.events if e.get("rewrite")) == 2 * 2


@pytest.mark.parametrize("chunk", [1 << 20, 4096, 300])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_reader_agrees_on_every_shape(shapes: dict[str, Path], shape: str, chunk: int, monkeypatch: Any) -> None:
    path = shapes[shape]
    full = fmt.load_session(path).threads
    monkeypatch.setattr(_scan, "_CHUNK", chunk)
    assert fmt.thread_keys(path) == list(full)
    assert fmt.thread_counts(path) == {k: len(v) for k, v in full.items()}
    for (agent, peer), expected in full.items():
        assert list(fmt.iter_thread(path, agent, peer)) == expected
        assert b"".join(fmt.iter_thread(path, agent, peer, as_bytes=True)) == b"".join(
            fmt.dumps_record(m)[:-1] for m in expected
        )
        assert fmt.tail_thread(path, agent, peer, 7) == expected[-7:]


def test_a_group_chat_is_walked_by_its_fast_path(shapes: dict[str, Path], monkeypatch: Any) -> None:
    used = []
    framed = _scan.LineFilter.framed_block

    def spy(self: _scan.LineFilter, buf: bytes, hi: int, lo: int = 0) -> int:
        used.append(framed(self, buf, hi, lo))
        return used[-1]

    monkeypatch.setattr(_scan.LineFilter, "framed_block", spy)
    monkeypatch.setattr(_scan, "_CHUNK", 4096)
    path = shapes["group-chat"]
    assert len(list(fmt.iter_thread(path, "peer2", "chat_manager"))) == 30
    assert used and all(used), "every block of the group chat goes through framed_block"


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2] + b"\n",  # cut short in the middle of the file
        lambda raw: raw[:-1] + raw,  # two records run together
        lambda raw: raw[:40] + b"\x00\x00" + raw[42:],  # zeroed bytes
        lambda raw: raw[:-3] + b"]}\n",  # a broken end
        lambda raw: raw.replace(b'"message":{', b'"message": {', 1),  # another writer's spacing (not damage)
    ],
)
def test_a_damaged_line_of_another_thread_in_a_group_chat_is_still_seen(
    shapes: dict[str, Path], tmp_path: Path, damage: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(_scan, "_CHUNK", 4096)
    lines = shapes["group-chat"].read_bytes().split(b"\n")
    target = 100
    assert b'"agent":"peer3","peer":"chat_manager"' in lines[target]  # not the thread read below
    lines[target] = damage(lines[target] + b"\n")[:-1]
    path = tmp_path / "g.jsonl"
    path.write_bytes(b"\n".join(lines))
    if b'"message": {' in lines[target]:  # well formed: read, and the thread it belongs to keeps it
        assert list(fmt.iter_thread(path, "peer3", "chat_manager")) == fmt.load_session(path).threads[("peer3", "chat_manager")]
        assert fmt.thread_keys(path) == list(fmt.load_session(path).threads)
        return
    with pytest.raises(SessionError, match=rf"g\.jsonl:{target + 1}"):
        list(fmt.iter_thread(path, "assistant", "chat_manager"))
