"""Atomic checkpoints in ``output_dir``, guarded by a lock.

Layout::

    output_dir/
      current -> runs/<name>      a symlink; a finished run becomes current by one rename of a new symlink over it
      runs/<name>/                finished checkpoints (model, tokenizer, agent-ft-run.json); the newest few are kept
      .staging-<pid>-<hex>/       a run being written; left behind by a killed run and removed by the next one
      .lock                       fcntl lock held by the process that writes (update), so writers take turns

A reader (``record``, ``score``) never takes the lock: it resolves ``current`` once and loads that folder, which is
never modified after it was published. No torch here: plain files only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from ..errors import UsageError

CURRENT = "current"
RUNS = "runs"
STAGING_PREFIX = ".staging-"
LOCK = ".lock"


class CheckpointBusyError(UsageError):
    """Another process is writing a checkpoint in the same ``output_dir``."""


def current_checkpoint(output_dir: str | os.PathLike[str] | None) -> Path | None:
    """The folder ``output_dir/current`` points at, or None when there is no finished run yet."""
    if output_dir is None:
        return None
    link = Path(output_dir) / CURRENT
    try:
        target = link.resolve(strict=True)
    except (FileNotFoundError, RuntimeError, OSError):
        return None
    return target if target.is_dir() else None


@contextlib.contextmanager
def writer_lock(output_dir: Path, *, timeout: float | None = None) -> Iterator[None]:
    """Hold ``output_dir/.lock`` (fcntl, released by the OS if the process dies).

    ``timeout`` None waits as long as it takes (saying so on stderr once); 0 refuses at once; otherwise waits that
    many seconds, then refuses with :class:`CheckpointBusyError`.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        start = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                waited = time.monotonic() - start
                if timeout is not None and waited >= timeout:
                    raise CheckpointBusyError(
                        f"checkpoint folder {str(output_dir)!r} is being written by another update (pid {holder}); "
                        f"waited {waited:.0f}s; try again when it has finished"
                    ) from None
                if not told:
                    print(f"waiting for another update (pid {holder}) to finish writing {output_dir}", file=sys.stderr)
                    told = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def new_staging(output_dir: Path) -> Path:
    """A fresh folder to write a run into (under the lock); stale ones left by killed runs are removed first."""
    output_dir.mkdir(parents=True, exist_ok=True)
    for stale in output_dir.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    path = output_dir / f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    return path


def _fsync_tree(folder: Path) -> None:
    for root, _, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(output_dir: Path, staging: Path, *, keep: int = 2) -> Path:
    """Make ``staging`` the current checkpoint: move it under ``runs/``, then swap the ``current`` link in one
    rename. Older runs beyond the newest ``keep`` are removed afterwards (never the current one)."""
    _fsync_tree(staging)
    runs = output_dir / RUNS
    runs.mkdir(exist_ok=True)
    now = time.time_ns()  # names sort in publishing order (the newest last)
    name = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now / 1e9)) + f"-{now % 10**9:09d}"
    final = runs / name
    os.rename(staging, final)
    tmp_link = output_dir / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.join(RUNS, name), tmp_link)
    os.replace(tmp_link, output_dir / CURRENT)  # the one rename that publishes the run
    _fsync_dir(output_dir)
    finished = sorted((p for p in runs.iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in finished[: max(0, len(finished) - max(keep, 1))]:
        if old.resolve() != final.resolve():
            shutil.rmtree(old, ignore_errors=True)
    return final
