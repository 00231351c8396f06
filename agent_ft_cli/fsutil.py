"""Small file-system helpers: atomic writes and up-front checks on output paths."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import AgentFtError, UsageError


def check_output_path(path: Path, *, option: str = "--output", inputs: Iterable[Path | str | None] = ()) -> Path:
    """Refuse, before any work is done, an output path whose folder is missing or not writable, or that is one of
    the command's ``inputs`` (input files are never modified)."""
    path = Path(path)
    for given in inputs:
        if given is None or str(given) == "-":
            continue
        with contextlib.suppress(OSError):
            if path.exists() and Path(given).exists() and os.path.samefile(path, given):
                raise UsageError(f"{option} {str(path)!r} is also an input of this command; write to another file")
    if path.is_dir():
        raise UsageError(f"{option} {str(path)!r} is a folder; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise UsageError(f"{option} {str(path)!r}: folder {str(parent)!r} does not exist; create it first")
    if not parent.is_dir():
        raise UsageError(f"{option} {str(path)!r}: {str(parent)!r} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {str(path)!r}: folder {str(parent)!r} is not writable")
    if path.exists() and not path.is_file():
        raise UsageError(f"{option} {str(path)!r} exists and is not a regular file; give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{option} {str(path)!r} exists and is not writable")
    # os.access says yes to root everywhere and knows nothing of read-only or special file systems: really try
    # to create the temporary file the atomic write will need.
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".probe")
    except OSError as e:
        raise UsageError(f"{option} {str(path)!r}: cannot create files in {str(parent)!r} ({e.strerror or e})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return path


def write_output(path: Path, data: bytes, *, option: str = "--output") -> None:
    """Write a command's output file atomically; a failure is a :class:`UsageError` and leaves no partial file."""
    try:
        atomic_write_bytes(path, data)
    except OSError as e:
        raise UsageError(f"{option} {str(path)!r}: cannot write it ({e.strerror or e}); nothing was written") from None


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """Write to a temporary file beside ``path`` and rename it into place only when the block succeeds.

    A failed or interrupted write leaves ``path`` as it was (absent or the old content) and no temporary file.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_writer(path) as fh:
        fh.write(data)


def read_text(path: Path, *, noun: str, error: type[AgentFtError], kind: str = "a file") -> str:
    """A UTF-8 text input file, or one clear error naming it: missing, a folder, not UTF-8, unreadable."""
    if not path.exists():
        raise error(f"{noun} {str(path)!r} does not exist")
    if path.is_dir():
        raise error(f"{noun} {str(path)!r} is a folder, not {kind}")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(f"{path}: not UTF-8 text (invalid byte at offset {e.start})") from None
    except OSError as e:
        raise error(f"cannot read {noun} {str(path)!r}: {e.strerror or e}") from None
