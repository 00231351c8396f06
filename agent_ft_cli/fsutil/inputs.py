"""Bounded input: whole files and stdin read in chunks up to a limit, one JSON Lines record bounded the same way,
and devices, FIFOs and sockets refused where a file is read whole; where an installed package's source lies."""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..errors import AgentFtError, UsageError

# -- bounded input -------------------------------------------------------------------------------------------------

MAX_INPUT_ENV = "AGENT_FT_MAX_INPUT_BYTES"
DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:([KMG])(i?)(B?)|B)?\s*", re.IGNORECASE)


def parse_byte_size(text: str, *, fractions: bool = True) -> int:
    """A byte count written as ``256M``, ``1GB``, ``512KiB`` or a plain number, the GNU coreutils way: ``K``/``KiB``
    (and ``M``, ``G``) are powers of 1024, ``KB`` powers of 1000; ``fractions=False`` refuses ``1.5G``.
    A text that is not such a size is a :class:`ValueError` (each caller words its own message)."""
    m = _SIZE.fullmatch(text)
    if m is None or (not fractions and "." in m.group(1)):
        raise ValueError(text)
    unit, binary, b = (m.group(2) or "").upper(), m.group(3), m.group(4)
    base = 1000 if b and not binary else 1024
    number = float(m.group(1)) if "." in m.group(1) else int(m.group(1))
    return int(number * base ** " KMG".index(unit or " "))


def max_input_bytes() -> int:
    """The most agent-ft reads whole: one input file, stdin, or one JSON Lines record.

    ``AGENT_FT_MAX_INPUT_BYTES`` (a byte count, optionally with a suffix read by :func:`parse_byte_size`: ``256M``)
    raises or lowers it; an unreadable value is a :class:`UsageError`.
    """
    raw = os.environ.get(MAX_INPUT_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_INPUT_BYTES
    try:
        value = parse_byte_size(raw, fractions=False)
    except ValueError:
        value = 0
    if value <= 0:
        raise UsageError(f"{MAX_INPUT_ENV}={raw!r} is not a positive byte count (such as 268435456 or 256M)")
    return value


def _human(n: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n:,} bytes"


def too_big(where: str, limit: int, error: type[AgentFtError], what: str = "input") -> AgentFtError:
    """The error for an input larger than ``limit``: names the limit and how to raise it."""
    return error(
        f"{where}: {what} larger than the {_human(limit)} limit; set {MAX_INPUT_ENV} to a larger byte count to read it"
    )


def line_too_long(where: str, lineno: int, limit: int | None = None, error: type[AgentFtError] | None = None) -> AgentFtError:
    """The error for one JSON Lines record longer than ``limit`` (default :func:`max_input_bytes`)."""
    from ..errors import SessionError

    return too_big(f"{where}:{lineno}", limit or max_input_bytes(), error or SessionError, "line")


def readline_bounded(fh: IO[bytes], limit: int) -> tuple[bytes, bool]:
    """One line of a binary file, read at most ``limit`` bytes of it: ``(line, complete)``.

    ``complete`` is False when the line (without its newline) is longer than ``limit``; the rest of that line is
    skipped (in chunks, never held in memory), so the caller can raise :func:`line_too_long` or go on.
    """
    line = fh.readline(limit + 1)
    if len(line) <= limit or line.endswith(b"\n"):
        return line, True
    while True:  # skip the rest of the over-long line without keeping it
        rest = fh.readline(_CHUNK)
        if not rest or rest.endswith(b"\n"):
            return line[:limit], False


def iter_lines(path: Path, *, noun: str, error: type[AgentFtError]) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` of a JSON Lines input read one bounded line at a time (:func:`readline_bounded`):
    the file is checked first (:func:`check_input_file`), a line longer than :func:`max_input_bytes` is
    :func:`line_too_long`, and nothing but the current line is held in memory."""
    path = Path(path)
    check_input_file(path, noun=noun, error=error)
    limit = max_input_bytes()
    try:
        with open(path, "rb") as fh:
            lineno = 0
            while True:
                line, complete = readline_bounded(fh, limit)
                if not line:
                    return
                lineno += 1
                if not complete:
                    raise line_too_long(str(path), lineno, limit, error)
                yield lineno, line
    except OSError as e:
        raise error(f"cannot read {noun} {str(path)!r}: {e.strerror or e}") from None


def _kind(mode: int) -> str | None:
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return None


def check_input_file(
    path: Path,
    *,
    noun: str,
    error: type[AgentFtError],
    kind: str = "a file",
    allow_fifo: bool = False,
    stdin: bool = False,
) -> os.stat_result:
    """Refuse, with one line naming the file, an input that is missing, a folder, a device, a socket or (unless
    ``allow_fifo``) a FIFO: what is read whole must be a regular file. ``stdin``: the input can also be given as
    ``-`` (the message then says so; it never offers stdin where it is not read)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(f"{noun} {str(path)!r} does not exist") from None
    except OSError as e:
        raise error(f"cannot read {noun} {str(path)!r}: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{noun} {str(path)!r} is a folder, not {kind}")
    special = _kind(st.st_mode)
    if special and not (allow_fifo and stat.S_ISFIFO(st.st_mode)):
        raise error(f"{noun} {str(path)!r} is {special}, not {kind}; give a regular file" + (" (or - for stdin)" if stdin else ""))
    return st


def read_bounded(fh: IO[bytes], where: str, *, error: type[AgentFtError], limit: int | None = None) -> bytes:
    """Everything ``fh`` holds, read in chunks (Ctrl-C is seen between them), refused past ``limit`` bytes."""
    limit = max_input_bytes() if limit is None else limit
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = fh.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise too_big(where, limit, error)


def _decode(data: bytes, where: str, error: type[AgentFtError]) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(f"{where}: not UTF-8 text (invalid byte at offset {e.start})") from None


def read_text(
    path: Path,
    *,
    noun: str,
    error: type[AgentFtError],
    kind: str = "a file",
    limit: int | None = None,
    stdin: bool = False,
) -> str:
    """A UTF-8 text input file, or one clear error naming it: missing, a folder, a device/FIFO/socket, larger than
    :func:`max_input_bytes` (or ``limit``), not UTF-8, unreadable."""
    path = Path(path)
    check_input_file(path, noun=noun, error=error, kind=kind, stdin=stdin)
    try:
        with open(path, "rb") as fh:
            data = read_bounded(fh, str(path), error=error, limit=limit)
    except OSError as e:
        raise error(f"cannot read {noun} {str(path)!r}: {e.strerror or e}") from None
    return _decode(data, str(path), error)


def read_stdin_text(*, error: type[AgentFtError], where: str = "<stdin>", limit: int | None = None) -> str:
    """All of stdin as UTF-8 text, bounded like :func:`read_text` (``--prefs - </dev/zero`` is refused)."""
    stream = sys.stdin
    if stream is None or getattr(stream, "closed", False):
        raise error(f"{where}: stdin is closed")
    buffer = getattr(stream, "buffer", None)
    try:
        if buffer is not None:
            data = read_bounded(buffer, where, error=error, limit=limit)
        else:  # a text-only stdin (tests, embedding hosts): bound it by characters
            limit = max_input_bytes() if limit is None else limit
            text = stream.read(limit + 1)
            if len(text) > limit:
                raise too_big(where, limit, error)
            data = text.encode("utf-8", "surrogatepass")
    except OSError as e:
        raise error(f"cannot read {where}: {e.strerror or e}") from None
    return _decode(data, where, error)


def package_folder(name: str) -> Path | None:
    """The folder of the installed package ``name`` (a top-level name), found without importing it: None when it
    cannot be imported here (not installed, blocked by ``sys.modules[name] = None``) or is not a package of source
    files (an ``__init__.py``)."""
    import importlib.util  # only where it is asked: not on every command's start

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):  # ValueError: an entry of sys.modules without a spec
        return None
    origin = spec.origin if spec is not None else None
    return Path(origin).parent if origin and origin.endswith("__init__.py") else None


def installed_version(distribution: str) -> str | None:
    """The version of the installed ``distribution`` (``"ag2"``, ``"autogen-agentchat"``), or None."""
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


# -- outputs -------------------------------------------------------------------------------------------------------
