"""Many small session files: each one's rows with one read of the file and its header judged once per shape.

A folder of 100,000 sessions recorded by one service holds a handful of distinct header lines. For each distinct
line, :class:`SmallSessions` parses and checks the header, chooses the thread and builds the system message and the
tool definitions once; per file it then reads the bytes (:func:`~agent_ft_cli.session.small.read_small`), finds
the header line in its cache, and reduces the records with the session package's reducer
(:func:`~agent_ft_cli.session.small.small_conversations`). It is an optimisation of
:meth:`.exporter.Exporter.rows` and never decides anything differently: whatever it is not sure of (a file that is
not small, a header it has not seen work, a thread choice that needed the file's threads, a damaged line, a row
refused, a session without rows) gives ``None``, and the exporter reads that session the general way, which
reports, warns or skips exactly as it always has. Nothing here warns, skips or counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SessionError
from ..fsutil import max_input_bytes
from ..session import choose_pair, parse_header
from ..session.small import conversations_reader, header_line, holds, read_small
from ..types import RawMessage
from .formats import Row, Tools
from .messages import definitions_of, system_messages
from .tool_pairs import tool_pair_problems


@dataclass(frozen=True)
class _Shape:
    """What a header line decides for every file that starts with it."""

    pair: tuple[str, str]
    #: threads the choice of ``pair`` assumed the file holds (:func:`~agent_ft_cli.session.small.holds`)
    held: tuple[tuple[str, str], ...]
    system: list[RawMessage]
    tools: Tools
    #: the thread's conversations from a file's bytes (:func:`~agent_ft_cli.session.small.conversations_reader`)
    read: Any


_NO_FILE = "/nonexistent/agent-ft-probe"  # a path that is no file: a probed choice reads no threads


class _Probe:
    """The path given to :func:`~agent_ft_cli.session.choose_pair`: it notes whether the choice wanted the file's
    threads (it opens the path for them), which a header alone cannot stand for."""

    def __init__(self, path: str) -> None:
        self.path, self.opened = path, False

    def __fspath__(self) -> str:
        self.opened = True
        return _NO_FILE

    def __str__(self) -> str:
        return self.path


class SmallSessions:
    """Rows of small session files for an exporter without preference pairs and one thread per session."""

    def __init__(self, exporter: Any) -> None:
        self.exporter = exporter
        self.options = exporter.options
        self.thread_row = exporter.format.thread_row
        self.style = exporter.format.style
        self.limit = max_input_bytes()
        self.shapes: dict[bytes, _Shape | None] = {}

    def _shape(self, path: str, head: bytes) -> _Shape | None:
        try:
            header = parse_header(Path(path), head)
            probe = _Probe(path)
            asked: list[tuple[str, str]] = []

            def held(agent: str, peer: str) -> bool:
                asked.append((agent, peer))
                return True

            pair = choose_pair(header, self.options.agent, self.options.peer, path=probe, holds=held)  # type: ignore[arg-type]
        except SessionError:
            return None
        if probe.opened:
            return None
        agent = pair[0]
        return _Shape(
            pair,
            tuple(asked),
            system_messages(header, agent),
            definitions_of(header, agent, self.style),
            conversations_reader(pair),
        )

    def rows(self, path: str) -> tuple[list[Row], int, list[RawMessage]] | None:
        """The rows of the session at ``path``, how many conversations it holds and its system message(s); None:
        read it the general way."""
        data = read_small(path, self.limit)
        if data is None:
            return None
        head = header_line(data)
        if head is None:
            return None
        shapes = self.shapes
        if head in shapes:
            shape = shapes[head]
        else:
            shape = shapes[head] = self._shape(path, head)
        if shape is None:
            return None
        for agent, peer in shape.held:
            if not holds(data, agent, peer):
                return None
        convs = shape.read(data, len(head))
        if not convs:
            return None
        rows: list[Row] = []
        converted_of, thread_row, system, tools, options = (
            self.exporter.converted, self.thread_row, shape.system, shape.tools, self.options
        )
        for conv in convs:
            converted = converted_of(conv, system, [])
            if not converted:
                continue
            if tool_pair_problems(converted):
                return None
            rows.append(thread_row(converted, tools, options))
        if not rows:
            return None
        return rows, len(convs), system
