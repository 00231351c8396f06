"""Writing sessions: a header, then records, streamed into a temporary file that replaces the target atomically.

Records come from :mod:`.records` and are serialised by :func:`.records.dumps_record_safe` only, so every line has the
canonical framing the fast readers (:mod:`._scan`) recognise. The live recorder (``agent_ft_cli.recorder``) appends
the same records itself; this module writes whole sessions (``save_session``, the importers, the benchmarks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .records import dumps_record_safe, message_record


def write_records(
    path: Path | str,
    header: dict[str, Any],
    records: Iterable[dict[str, Any]],
    *,
    on_fallback: Callable[[set[str]], None] | None = None,
) -> None:
    """Write a header and records atomically, streaming (records may be a generator).

    Values JSON cannot hold exactly are written as documented by :func:`.records.dumps_record_safe`, which tells
    ``on_fallback`` about them; nothing raises on a value."""
    from ..fsutil import atomic_writer  # (on use: readers of sessions never need the output helpers)

    with atomic_writer(Path(path), what="session file") as fh:
        fh.write(dumps_record_safe(header, on_fallback))
        for record in records:
            fh.write(dumps_record_safe(record, on_fallback))


def _end_aligned(threads: list[tuple[str, str, Sequence[Mapping[str, Any]]]]) -> Iterator[dict[str, Any]]:
    rounds = max((len(msgs) for _, _, msgs in threads), default=0)
    for r in range(rounds):
        for agent, peer, msgs in threads:
            i = r - (rounds - len(msgs))
            if i >= 0:
                yield message_record(agent, peer, msgs[i])


def write_session(
    path: Path | str,
    header: dict[str, Any],
    threads: Iterable[tuple[str, str, Iterable[Mapping[str, Any]]]],
    *,
    on_fallback: Callable[[set[str]], None] | None = None,
) -> None:
    """Write a whole session atomically: the header, then every thread's messages in order.

    When the threads are lists, they are interleaved *aligned at their ends* (the last message of every thread is
    in the last round), as a live recording lays them out: the tail of every thread is then at the end of the file,
    where ``inspect --last N`` reads. Threads given as iterators are written one after the other.
    """
    items = list(threads)
    seqs = [(agent, peer, msgs) for agent, peer, msgs in items if isinstance(msgs, Sequence)]
    if len(seqs) == len(items):
        write_records(path, header, _end_aligned(seqs), on_fallback=on_fallback)
    else:
        write_records(path, header, (message_record(a, p, m) for a, p, msgs in items for m in msgs), on_fallback=on_fallback)
