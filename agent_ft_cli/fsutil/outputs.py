"""Output: checks before any work, atomic writes through symbolic links without debris, ``-`` for stdout."""

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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import OutputWriteError, UsageError
from .inputs import _kind


def is_stdout(path: Path | str | None) -> bool:
    """Whether an output path is ``-``, meaning stdout."""
    return path is not None and str(path) == "-"


@contextlib.contextmanager
def stdout_writer() -> Iterator[BinaryIO]:
    """stdout as a binary stream for an output given as ``-`` (flushed at the end, never closed)."""
    out = sys.stdout.buffer
    yield out
    out.flush()


_FD_LINK = re.compile(r"/dev/fd/(\d+)|/proc/(?:self|thread-self|(\d+))/fd/(\d+)")
_STD_LINK = {"/dev/stdout": 1, "/dev/stderr": 2}


def fd_alias(path: Path | str) -> int | None:
    """The descriptor of this process that ``path`` names, when it (or a link on its way) is ``/dev/stdout``,
    ``/dev/stderr``, ``/dev/fd/N`` or ``/proc/self/fd/N``; None otherwise.

    Such a path is written as the stream it names, through the descriptor the process already holds: opening it
    anew would truncate a file the shell redirected there (``> log``), and an atomic rename would replace that file
    behind the shell's back, losing everything else the program printed."""
    if is_stdout(path):
        return None
    current = os.path.abspath(os.fspath(path))
    for _ in range(40):  # the kernel's own bound on a chain of links
        if current in _STD_LINK:
            return _STD_LINK[current]
        m = _FD_LINK.fullmatch(current)
        if m and (m.group(2) is None or int(m.group(2)) == os.getpid()):
            return int(m.group(1) or m.group(3))
        try:
            link = os.readlink(current)
        except OSError:
            return None
        current = os.path.normpath(os.path.join(os.path.dirname(current), link))
    return None


def real_target(path: Path) -> Path:
    """Where writing ``path`` lands: the end of its chain of symbolic links (the path itself if it is none)."""
    return Path(os.path.realpath(path))


def same_file(out: Path | str, given: Path | str) -> bool:
    """Whether writing ``out`` would land on ``given``: the same file (``samefile``, hard links), or the same
    target once symbolic links are followed (also when ``out`` does not exist yet)."""
    out, given = Path(out), Path(given)
    with contextlib.suppress(OSError, ValueError):
        if out.exists() and given.exists():
            return os.path.samefile(out, given)
    with contextlib.suppress(OSError, ValueError):
        return real_target(out) == real_target(given)
    return False


def check_output_path(path: Path, *, option: str = "--output", inputs: Iterable[Path | str | None] = ()) -> Path:
    """Refuse, before any work is done, an output path that is one of the command's ``inputs`` (the same file
    through links, hard links, or the path an input resolves to), whose folder is missing or not writable, or that
    is a folder or a block device/socket. A symbolic link is checked at its target; a character device or FIFO
    (``/dev/stdout``, ``/dev/null``) is accepted and will be written directly. ``-`` (stdout) is accepted as is."""
    if is_stdout(path):
        return Path("-")
    path = Path(path)
    fd = fd_alias(path)
    if fd is not None:  # a stream this process holds (/dev/stdout): written through its descriptor
        try:
            os.fstat(fd)
        except OSError:
            raise UsageError(f"{option} {str(path)!r}: descriptor {fd} is not open") from None
        return path
    for given in inputs:
        if given is None or is_stdout(given):
            continue
        if same_file(path, given):
            raise UsageError(f"{option} {str(path)!r} is also an input of this command ({str(given)!r}); write to another file")
    try:  # through links, /proc/self/fd/N's magic ones (/dev/stdout into a pipe) too
        st: os.stat_result | None = os.stat(path)
    except OSError:
        st = None
    if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):  # written directly
        if not os.access(path, os.W_OK):
            raise UsageError(f"{option} {str(path)!r} exists and is not writable")
        return path
    target = real_target(path)
    if target.is_dir():
        raise UsageError(f"{option} {str(path)!r} is a folder; give a file name")
    parent = target.parent
    # the folder that is missing is the link's target's (a dangling link), else the one the user named
    shown = parent if path.is_symlink() else path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise UsageError(f"{option} {str(path)!r}: folder {str(shown)!r} does not exist; create it first")
    if not parent.is_dir():
        raise UsageError(f"{option} {str(path)!r}: {str(shown)!r} is not a folder")
    if st is not None and not stat.S_ISREG(st.st_mode):
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


def os_reason(e: OSError) -> str:
    """An operating system error as a reason in a message: ``No space left on device, ENOSPC``."""
    code = errno.errorcode.get(e.errno or 0, "")
    return f"{e.strerror or e}" + (f", {code}" if code else "")


def _write_error(path: Path, e: OSError, what: str) -> OutputWriteError:
    reason = os_reason(e)
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


# Temporary siblings of an atomic write: ".<name>.<pid>.<random>.tmp" (a file, or a folder being filled), and
# ".<name>.<pid>.<random>.old" (a folder moved aside to be removed); only these are ever cleaned up.
_TEMP = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{12}\.(?P<kind>tmp|old)")


def _sibling(target: Path, kind: str = "tmp") -> Path:
    return target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(6)}.{kind}"


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
    """Remove the temporary files and folders that earlier, killed atomic writes of ``path`` (:func:`atomic_writer`,
    :func:`~.folders.atomic_folder`) left beside it.

    Only names of our own pattern (``.<name>.<pid>.<random>.tmp``, a folder's ``.old``) are touched, and only when
    their writer is gone: its process no longer exists *and* nobody holds the file's lock (a live writer always
    does). Returns what was removed.
    """
    import fcntl
    import shutil

    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    removed: list[Path] = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        m = _TEMP.fullmatch(name)
        if not m or m.group("name") != path.name:
            continue
        pid = int(m.group("pid"))
        if _pid_alive(pid) and (pid != os.getpid() or m.group("kind") == "old"):  # ours: live while it is locked
            continue
        candidate = parent / name
        try:
            fd = os.open(candidate, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            mode = os.fstat(fd).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live writer holds it
            if stat.S_ISDIR(mode):
                shutil.rmtree(candidate, ignore_errors=True)
                removed.append(candidate)
            else:
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


def refuse_inputs(path: Path | str, inputs: Iterable[Path | str | None], *, what: str = "output file") -> None:
    """The writers' own guard: a :class:`UsageError` when writing ``path`` would replace one of ``inputs`` (the
    same file through links or hard links, or, for a folder, a file inside it; ``-`` and ``None`` are skipped).
    Called by :func:`atomic_writer` and :func:`~.folders.atomic_folder` before anything is written, whoever calls
    them (the CLI or a script)."""
    given = first_same_file(path, inputs)
    if given is not None:
        raise UsageError(f"{what} {str(path)!r} is also an input ({str(given)!r}); write to another place")


def first_same_file(path: Path | str, inputs: Iterable[Path | str | None]) -> Path | str | None:
    """The first of ``inputs`` that writing ``path`` would replace (see :func:`refuse_inputs`), else None. One
    ``stat`` of ``path`` and one of each input: an export may read 100,000 files."""
    try:
        st = os.stat(path)
    except OSError:
        return None  # nothing there (a dangling link's target included): no input can be it
    folder = stat.S_ISDIR(st.st_mode)
    real = real_target(Path(path)) if folder else None
    for given in inputs:
        if given is None or is_stdout(given):
            continue
        try:
            other = os.stat(given)
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
            return given
        if real is not None and real in real_target(Path(given)).parents:
            return given
    return None


@contextlib.contextmanager
def atomic_writer(
    path: Path, *, what: str = "output file", inputs: Iterable[Path | str | None] = ()
) -> Iterator[BinaryIO]:
    """Write ``path`` so that readers see the old content or the whole new one, never a part; never over one of
    ``inputs`` (:func:`refuse_inputs`).

    A symbolic link is written through, to its target (the link stays). A regular (or absent) target gets a
    temporary file beside it, renamed into place only when the block succeeds; a character device or FIFO target is
    written directly. A failed, interrupted (Ctrl-C, SIGTERM via :func:`~agent_ft_cli.errors.raise_on_sigterm`) or
    killed write leaves ``path`` as it was and no temporary file (after a ``SIGKILL`` where ``O_TMPFILE`` is
    missing, the next write to the same place removes it). An ``OSError`` while writing (disk full, quota) becomes
    an :class:`OutputWriteError` naming the path.
    """
    import fcntl

    path = Path(path)
    refuse_inputs(path, inputs, what=what)
    alias = fd_alias(path)
    if alias is not None:
        with _direct_writer(path, what, alias) as stream:
            yield stream
        return
    target = real_target(path)
    try:
        mode: int | None = os.stat(path).st_mode  # through links, /proc/self/fd/N's magic ones included
    except OSError:
        mode = None
    if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        with _direct_writer(path, what) as direct:
            yield direct
        return
    parent = target.parent
    remove_stale_temps(target)
    fd = _open_unnamed(parent)
    tmp: Path | None = None
    if fd is None:
        try:
            tmp = _sibling(target)
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
                linked = _sibling(target)
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
def _direct_writer(path: Path, what: str, fd: int | None = None) -> Iterator[BinaryIO]:
    """Write a device or FIFO directly, or this process's descriptor ``fd`` (see :func:`fd_alias`) at its current
    position, never truncating it."""
    # Opened by the given name, not its real path: /dev/stdout into a pipe is /proc/self/fd/1, whose real path
    # ("pipe:[...]") cannot be opened.
    try:
        raw = _Raw(str(path) if fd is None else os.dup(fd), "wb")
    except OSError as e:
        raise _write_error(path, e, what) from None
    fh = io.BufferedWriter(raw)
    try:
        yield fh
        fh.flush()
    except OSError as e:
        if raw.failed is None:  # the caller's own work failed (reading an input, say): its error, as it is
            raise
        raise _write_error(path, e, what) from None
    finally:
        # Closing flushes what is still buffered: after a failed write (ENOSPC on /dev/full) that would fail again
        # and replace the one-line error by a bare OSError, so the buffer is dropped quietly; the raw file is
        # closed either way.
        with contextlib.suppress(OSError, ValueError):
            fh.close()


def atomic_write_bytes(path: Path, data: bytes, *, what: str = "output file") -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`)."""
    with atomic_writer(path, what=what) as fh:
        fh.write(data)


# -- locks ---------------------------------------------------------------------------------------------------------
