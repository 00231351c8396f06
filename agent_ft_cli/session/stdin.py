"""A session given as ``-``: stdin spooled into a private file, so every reader can read it as often as it needs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import AgentFtError, SessionError
from ..fsutil import max_input_bytes, too_big


@contextlib.contextmanager
def session_input(path: Path | str) -> Iterator[Path]:
    """The session file to read for ``path``: itself, or for ``-`` stdin spooled into a private temporary file
    (removed afterwards) so every reader can read it as often as it needs. Stdin is read in chunks, at most
    :func:`~agent_ft_cli.fsutil.max_input_bytes` of it."""
    if str(path) != "-":
        yield Path(path)
        return
    import shutil
    import sys
    import tempfile

    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise SessionError("<stdin>: stdin is closed or not binary; give the session file's path")
    limit = max_input_bytes()
    folder = Path(tempfile.mkdtemp(prefix="agent-ft-stdin-"))
    try:
        target = folder / "stdin.jsonl"
        size = 0
        with open(target, "wb") as out:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise too_big("<stdin>", limit, SessionError, "session on stdin")
                out.write(chunk)
        try:
            yield target
        except AgentFtError as e:  # name stdin, not the private copy
            shown = str(target)
            e.template, e.message = e.template.replace(shown, "<stdin>"), e.message.replace(shown, "<stdin>")
            e.args = (e.message,)
            raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
