"""Advisory locks: an exclusive ``flock`` with a timeout, on a file descriptor or beside a path; and the one way a
recording opens its session file (:func:`open_recording`)."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import LockTimeoutError, OutputWriteError, RecordingError, UsageError
from .outputs import real_target

LOCK_TIMEOUT_ENV = "AGENT_FT_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 10.0


def lock_timeout() -> float:
    """How long a writer waits for another's lock: ``AGENT_FT_LOCK_TIMEOUT`` seconds, default 10."""
    raw = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise UsageError(f"{LOCK_TIMEOUT_ENV}={raw!r} is not a number of seconds")
    return value


def lock_fd(fd: int, *, where: str, timeout: float | None = None, what: str = "file") -> None:
    """Take an exclusive ``flock`` on an open descriptor, waiting up to ``timeout`` seconds (default
    :func:`lock_timeout`; 0 refuses at once); then a :class:`LockTimeoutError` naming ``where``."""
    import fcntl

    timeout = lock_timeout() if timeout is None else timeout
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise LockTimeoutError(f"cannot lock {what} {where!r}: {e.strerror or e}") from None
        if time.monotonic() >= deadline:
            waited = f"after waiting {timeout:g} s" if timeout else "at once"
            raise LockTimeoutError(
                f"{what} {where!r} is in use by another agent-ft process (refused {waited}); wait for it to finish, "
                f"or set {LOCK_TIMEOUT_ENV} to wait longer"
            )
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.2)


def lock_path_for(path: Path) -> Path:
    """The lock file guarding a file that is replaced atomically: ``.<name>.lock`` beside it (kept, empty).

    Locking the file itself would not do: an atomic replace swaps its inode, so a waiter would lock the old one.
    """
    path = real_target(Path(path))
    return path.parent / f".{path.name}.lock"


@contextlib.contextmanager
def exclusive_lock(path: Path, *, timeout: float | None = None, what: str = "file") -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` for the block: a folder is locked itself; for a file, its
    :func:`lock_path_for` lock file is (created if needed), so the file may be replaced atomically inside the
    block. A second holder waits up to ``timeout`` seconds, then gets a :class:`LockTimeoutError`."""
    import fcntl

    path = Path(path)
    if path.is_dir():
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    else:
        lock = lock_path_for(path)
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as e:
            raise LockTimeoutError(f"cannot lock {what} {str(path)!r}: cannot create {str(lock)!r} ({e.strerror or e})") from None
    try:
        lock_fd(fd, where=str(path), timeout=timeout, what=what)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def append_line(path: Path, line: bytes, *, what: str, fsync: bool = False) -> None:
    """Append one whole line to ``path`` (created if needed) under its lock (:func:`exclusive_lock`), in one
    ``write``, so concurrent appends never interleave; after a last line cut short (no newline), ours starts on a
    line of its own. ``fsync``: on disk before returning. An :class:`OSError` is the caller's to word."""
    with exclusive_lock(path, what=what):
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line
            os.write(fd, line)
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (``os.write`` may write part of it: a pipe, a signal, a full quota)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


#: How a recording treats a session file that already holds data: ``"x"`` refuses it (the default), ``"w"`` replaces it.
RECORDING_MODES = ("x", "w")


def check_recording_mode(mode: str, who: str) -> None:
    if mode not in RECORDING_MODES:
        raise RecordingError(f"{who}: mode must be 'x' (refuse an existing recording) or 'w' (replace it), got {mode!r}")


def recording_exists(path: Path | str, size: int) -> str:
    return (
        f"session file {str(path)!r} already holds a recording ({size} bytes); record into a new file, or replace "
        "it explicitly (mode='w')"
    )


def open_recording(path: Path, mode: str) -> int:
    """An append-only descriptor on the session file ``path``, locked (:func:`lock_fd`); a file that holds data is
    refused (``mode="x"``) or emptied (``mode="w"``) only once the lock is held, so a recording in progress is never
    truncated. A terminal or pipe is a stream: nothing to keep, nothing locked."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as e:
        raise OutputWriteError(f"cannot write session file {str(path)!r}: {e.strerror or e}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return fd
        lock_fd(fd, where=str(path), what="session file")
        size = os.fstat(fd).st_size
        if size and mode == "x":
            raise RecordingError(recording_exists(path, size))
        if size:
            os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    return fd
