"""File-system helpers: bounded input, atomic output through links, advisory locks.

Input
    :func:`read_text` / :func:`read_stdin_text` read a whole input (config, preference data) in chunks, so Ctrl-C
    stays effective, and refuse more than :func:`max_input_bytes` (64 MiB unless ``AGENT_FT_MAX_INPUT_BYTES`` says
    otherwise). :func:`check_input_file` refuses devices, FIFOs and sockets where a file is read whole.
    :func:`readline_bounded` / :func:`line_too_long` bound one JSON Lines record the same way.

Output
    :func:`check_output_path` checks an output before any work (folder, permissions, never one of the inputs, also
    through symbolic links); :func:`atomic_writer` writes through a symbolic link to its target, atomically when the
    target is a regular file (Linux: an unnamed ``O_TMPFILE`` linked in at the end, so a ``SIGKILL`` leaves
    nothing; elsewhere a named temporary file that the next write to the same place removes once its writer is
    dead), and directly when the target is a device or FIFO (``/dev/stdout``). ``-`` means stdout
    (:func:`is_stdout`, :func:`stdout_writer`). A failed write is an :class:`~agent_ft_cli.errors.OutputWriteError`
    naming the path, and leaves the old file (or none).

Locks
    :func:`exclusive_lock` (a context manager) and :func:`lock_fd` take an exclusive ``flock`` with a timeout: a
    second writer waits up to the timeout, then is refused with :class:`~agent_ft_cli.errors.LockTimeoutError`.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import secrets
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

from .errors import AgentFtError, LockTimeoutError, OutputWriteError, UsageError

# -- bounded input -------------------------------------------------------------------------------------------------

MAX_INPUT_ENV = "AGENT_FT_MAX_INPUT_BYTES"
DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


def max_input_bytes() -> int:
    """The most agent-ft reads whole: one input file, stdin, or one JSON Lines record.

    ``AGENT_FT_MAX_INPUT_BYTES`` (a byte count, optionally with a ``K``/``M``/``G`` suffix, powers of 1024) raises or
    lowers it; an unreadable value is a :class:`UsageError`.
    """
    raw = os.environ.get(MAX_INPUT_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_INPUT_BYTES
    m = re.fullmatch(r"(\d+)\s*([KMG]i?B?)?", raw, re.IGNORECASE)
    if not m or int(m.group(1)) <= 0:
        raise UsageError(f"{MAX_INPUT_ENV}={raw!r} is not a positive byte count (such as 268435456 or 256M)")
    scale = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[(m.group(2) or "")[:1].upper()]
    return int(m.group(1)) * scale


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
    from .errors import SessionError

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
    path: Path, *, noun: str, error: type[AgentFtError], kind: str = "a file", allow_fifo: bool = False
) -> os.stat_result:
    """Refuse, with one line naming the file, an input that is missing, a folder, a device, a socket or (unless
    ``allow_fifo``) a FIFO: what is read whole must be a regular file (stdin is given as ``-``)."""
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
        raise error(f"{noun} {str(path)!r} is {special}, not {kind}; give a regular file (or - for stdin)")
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
    path: Path, *, noun: str, error: type[AgentFtError], kind: str = "a file", limit: int | None = None
) -> str:
    """A UTF-8 text input file, or one clear error naming it: missing, a folder, a device/FIFO/socket, larger than
    :func:`max_input_bytes` (or ``limit``), not UTF-8, unreadable."""
    path = Path(path)
    check_input_file(path, noun=noun, error=error, kind=kind)
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
            text = stream.read((max_input_bytes() if limit is None else limit) + 1)
            data = text.encode("utf-8", "surrogatepass")
            if len(text) > (max_input_bytes() if limit is None else limit):
                raise too_big(where, max_input_bytes() if limit is None else limit, error)
    except OSError as e:
        raise error(f"cannot read {where}: {e.strerror or e}") from None
    return _decode(data, where, error)


# -- outputs -------------------------------------------------------------------------------------------------------


def is_stdout(path: Path | str | None) -> bool:
    """Whether an output path is ``-``, meaning stdout."""
    return path is not None and str(path) == "-"


@contextlib.contextmanager
def stdout_writer() -> Iterator[BinaryIO]:
    """stdout as a binary stream for an output given as ``-`` (flushed at the end, never closed)."""
    out = sys.stdout.buffer
    yield out
    out.flush()


def real_target(path: Path) -> Path:
    """Where writing ``path`` lands: the end of its chain of symbolic links (the path itself if it is none)."""
    return Path(os.path.realpath(path))


def _same_file(out: Path, given: Path | str) -> bool:
    given = Path(given)
    with contextlib.suppress(OSError, ValueError):
        if out.exists() and given.exists():
            return os.path.samefile(out, given)
    with contextlib.suppress(OSError, ValueError):
        return real_target(out) == real_target(given)
    return False


def same_file(out: Path | str, given: Path | str) -> bool:
    """Whether writing ``out`` would land on ``given``: the same file (``samefile``, hard links), or the same
    target once symbolic links are followed (also when ``out`` does not exist yet)."""
    return _same_file(Path(out), given)


def check_output_path(path: Path, *, option: str = "--output", inputs: Iterable[Path | str | None] = ()) -> Path:
    """Refuse, before any work is done, an output path that is one of the command's ``inputs`` (the same file
    through links, hard links, or the path an input resolves to), whose folder is missing or not writable, or that
    is a folder or a block device/socket. A symbolic link is checked at its target; a character device or FIFO
    (``/dev/stdout``, ``/dev/null``) is accepted and will be written directly. ``-`` (stdout) is accepted as is."""
    if is_stdout(path):
        return Path("-")
    path = Path(path)
    for given in inputs:
        if given is None or is_stdout(given):
            continue
        if _same_file(path, given):
            raise UsageError(f"{option} {str(path)!r} is also an input of this command ({str(given)!r}); write to another file")
    target = real_target(path)
    if target.is_dir():
        raise UsageError(f"{option} {str(path)!r} is a folder; give a file name")
    parent = target.parent
    shown = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise UsageError(f"{option} {str(path)!r}: folder {str(shown)!r} does not exist; create it first")
    if not parent.is_dir():
        raise UsageError(f"{option} {str(path)!r}: {str(shown)!r} is not a folder")
    try:
        st: os.stat_result | None = os.stat(target)
    except OSError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            if not os.access(target, os.W_OK):
                raise UsageError(f"{option} {str(path)!r} exists and is not writable")
            return path
        raise UsageError(f"{option} {str(path)!r} exists and is {_kind(st.st_mode) or 'not a regular file'}; give a file name")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {str(path)!r}: folder {str(shown)!r} is not writable")
    if st is not None and not os.access(target, os.W_OK):
        raise UsageError(f"{option} {str(path)!r} exists and is not writable")
    # os.access says yes to root everywhere and knows nothing of read-only or special file systems: really try
    # to create the temporary file the atomic write will need (unnamed where possible: nothing to leave behind).
    unnamed = _open_unnamed(parent)
    if unnamed is not None:
        os.close(unnamed)
        return path
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=f".{target.name}.", suffix=".probe")
    except OSError as e:
        raise UsageError(f"{option} {str(path)!r}: cannot create files in {str(shown)!r} ({e.strerror or e})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return path


def _write_error(path: Path, e: OSError, what: str) -> OutputWriteError:
    code = errno.errorcode.get(e.errno or 0, "")
    reason = f"{e.strerror or e}" + (f", {code}" if code else "")
    err = OutputWriteError(f"cannot write {what} {str(path)!r} ({reason}); nothing was written")
    err.path, err.reason = str(path), reason
    return err


def write_output(path: Path, data: bytes, *, option: str = "--output") -> None:
    """Write a command's output file atomically (``-``: stdout); a failure is an :class:`OutputWriteError`
    (a :class:`UsageError`, exit 2) naming the path, and leaves no partial file."""
    if is_stdout(path):
        with stdout_writer() as out:
            out.write(data)
        return
    try:
        atomic_write_bytes(path, data)
    except OutputWriteError as e:
        err = OutputWriteError(f"{option} {str(path)!r}: cannot write it ({e.reason}); nothing was written")
        err.path, err.reason = str(path), e.reason
        raise err from None
    except OSError as e:
        raise _write_error(path, e, option) from None


# Temporary files of a named atomic write: ".<name>.<pid>.<random>.tmp"; only these are ever cleaned up.
_TMP_SUFFIX = ".tmp"


def _tmp_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(name)}\.(\d+)\.[0-9a-f]{{12}}{re.escape(_TMP_SUFFIX)}")


def _tmp_name(name: str) -> str:
    return f".{name}.{os.getpid()}.{secrets.token_hex(6)}{_TMP_SUFFIX}"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, someone else's
        return True
    return True


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove the temporary files that earlier, killed atomic writes of ``path`` left beside it.

    Only names of our own pattern (``.<name>.<pid>.<random>.tmp``) are touched, and only when their writer is gone:
    its process no longer exists *and* nobody holds the file's lock (a live writer always does). Returns what was
    removed.
    """
    import fcntl

    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    pattern = _tmp_pattern(path.name)
    removed: list[Path] = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        m = pattern.fullmatch(name)
        if not m or (_pid_alive(int(m.group(1))) and int(m.group(1)) != os.getpid()):
            continue
        candidate = parent / name
        try:
            fd = os.open(candidate, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live writer holds it
            with contextlib.suppress(OSError):
                os.unlink(candidate)
                removed.append(candidate)
        finally:
            os.close(fd)
    return removed


def _open_unnamed(parent: Path) -> int | None:
    """An ``O_TMPFILE`` descriptor in ``parent`` (Linux), or None where the system or file system lacks it."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(parent, flag | os.O_WRONLY, 0o600)
    except OSError:
        return None


def _link_unnamed(fd: int, parent: Path, name: str) -> None:
    """``linkat(AT_FDCWD, "/proc/self/fd/N", parent, name, AT_SYMLINK_FOLLOW)``: give an O_TMPFILE file a name.

    (``os.link`` uses plain ``link()``, which does not follow the /proc magic link, unless a dir fd is passed.)
    """
    dfd = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dfd, follow_symlinks=True)
    finally:
        os.close(dfd)


def _mode_for(target: Path) -> int:
    with contextlib.suppress(OSError):
        return os.stat(target).st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class _Raw(io.FileIO):
    """The temporary file's raw stream: remembers a failed write, so an ``OSError`` from the caller's own work
    (reading an input inside the block) is not mistaken for a failure to write the output."""

    failed: OSError | None = None

    def write(self, b: Any) -> int:
        try:
            return super().write(b)
        except OSError as e:
            self.failed = e
            raise


@contextlib.contextmanager
def atomic_writer(path: Path, *, what: str = "output file") -> Iterator[BinaryIO]:
    """Write ``path`` so that readers see the old content or the whole new one, never a part.

    A symbolic link is written through, to its target (the link stays). A regular (or absent) target gets a
    temporary file beside it, renamed into place only when the block succeeds; a character device or FIFO target is
    written directly. A failed, interrupted (Ctrl-C, SIGTERM via :func:`~agent_ft_cli.errors.raise_on_sigterm`) or
    killed write leaves ``path`` as it was and no temporary file (after a ``SIGKILL`` where ``O_TMPFILE`` is
    missing, the next write to the same place removes it). An ``OSError`` while writing (disk full, quota) becomes
    an :class:`OutputWriteError` naming the path.
    """
    import fcntl

    path = Path(path)
    target = real_target(path)
    try:
        mode: int | None = os.stat(target).st_mode
    except OSError:
        mode = None
    if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        with _direct_writer(path, target, what) as direct:
            yield direct
        return
    parent = target.parent
    remove_stale_temps(target)
    fd = _open_unnamed(parent)
    tmp: Path | None = None
    if fd is None:
        try:
            tmp = parent / _tmp_name(target.name)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except OSError as e:
            raise _write_error(path, e, what) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # marks the temporary file as live for remove_stale_temps
        raw = _Raw(fd, "wb", closefd=False)
        fh = io.BufferedWriter(raw)
        try:
            try:
                yield fh
            except OSError as e:
                if raw.failed is None:  # the caller's own work failed (reading an input, say): not ours to rename
                    raise
                raise _write_error(path, e, what) from None
            try:
                fh.flush()
                os.fchmod(fd, _mode_for(target))
                os.fsync(fd)
            except OSError as e:
                raise _write_error(path, e, what) from None
            if tmp is None:  # give the unnamed file a name (already locked), then rename it over the target
                linked = parent / _tmp_name(target.name)
                try:
                    _link_unnamed(fd, parent, linked.name)
                except OSError as e:
                    raise _write_error(path, e, what) from None
                tmp = linked
            try:
                os.replace(tmp, target)
            except OSError as e:
                raise _write_error(path, e, what) from None
            tmp = None
        finally:
            raw.failed = None
            with contextlib.suppress(OSError, ValueError):
                fh.close()
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        os.close(fd)


@contextlib.contextmanager
def _direct_writer(path: Path, target: Path, what: str) -> Iterator[BinaryIO]:
    try:
        fh = open(target, "wb")  # noqa: SIM115 - closed below
    except OSError as e:
        raise _write_error(path, e, what) from None
    with fh:
        try:
            yield fh
            fh.flush()
        except OSError as e:
            raise _write_error(path, e, what) from None


def atomic_write_bytes(path: Path, data: bytes, *, what: str = "output file") -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`)."""
    with atomic_writer(path, what=what) as fh:
        fh.write(data)


# -- locks ---------------------------------------------------------------------------------------------------------

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
