"""Atomic checkpoints in ``output_dir``, guarded by a lock.

Layout::

    output_dir/
      current -> runs/<name>      a symlink; a finished run becomes current by one rename of a new symlink over it
      runs/<name>/                finished runs: the merged model and tokenizer (what ``current`` serves), with LoRA
                                  ``adapter/`` (PEFT's format), and the records: agent-ft-run.json,
                                  trainer_state.json (per-step history), logs/ (report_to); pruning removes the
                                  weights of all but the newest ``keep`` and keeps the records
      .staging-<pid>-<hex>/       a run being written; removed on the way out (error, Ctrl-C, SIGTERM, full disk),
                                  and a SIGKILLed run's by the next update
      .lock                       fcntl lock held by the process that writes (update), so writers take turns

A reader (``record``, ``score``) never takes the lock: it resolves ``current`` once and loads that folder, which is
never modified after it was published. No torch here: plain files only.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
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
#: With LoRA, the adapter in PEFT's format inside a run folder (``PeftModel.from_pretrained(base, run/adapter)``).
ADAPTER = "adapter"
#: A run's record files: what pruning its weights leaves (``run.json`` is written by agent-ft's run records).
RUN_RECORD = "agent-ft-run.json"
RECORDS = frozenset({RUN_RECORD, "run.json", "trainer_state.json", "history.jsonl", "logs"})


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
    """Hold ``output_dir/.lock`` (an flock through :func:`agent_ft_cli.fsutil.lock_fd`, released by the OS if the
    process dies); the holder's pid is written in it, so a waiter can say whom it waits for.

    ``timeout`` None waits as long as it takes (saying so on stderr once); 0 refuses at once; otherwise waits that
    many seconds, then refuses with :class:`CheckpointBusyError`.
    """
    from ..errors import LockTimeoutError
    from ..fsutil.locks import lock_fd

    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        start = time.monotonic()
        try:
            lock_fd(fd, where=str(path), timeout=0, what="checkpoint lock")
        except LockTimeoutError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            if timeout is not None and timeout <= 0:
                raise _busy(output_dir, holder, 0.0) from None
            print(f"waiting for another update (pid {holder}) to finish writing {output_dir}", file=sys.stderr)
            try:
                lock_fd(fd, where=str(path), timeout=math.inf if timeout is None else timeout, what="checkpoint lock")
            except LockTimeoutError:
                raise _busy(output_dir, holder, time.monotonic() - start) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _busy(output_dir: Path, holder: str, waited: float) -> CheckpointBusyError:
    return CheckpointBusyError(
        f"checkpoint folder {str(output_dir)!r} is being written by another update (pid {holder}); "
        f"waited {waited:.0f}s; try again when it has finished"
    )


def new_staging(output_dir: Path) -> Path:
    """A fresh folder to write a run into (under the lock); stale ones left by killed runs are removed first."""
    output_dir.mkdir(parents=True, exist_ok=True)
    for stale in output_dir.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    path = output_dir / f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    return path


def remove_staging(staging: Path | None) -> None:
    """Remove a run's staging folder on the way out (an error, Ctrl-C, SIGTERM, a full disk)."""
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)


def _fsync(path: str | Path) -> None:
    """A file's or a folder's data on disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(output_dir: Path, staging: Path, *, keep: int = 2) -> Path:
    """Make ``staging`` the current checkpoint: move it under ``runs/``, then swap the ``current`` link in one
    rename. Older runs beyond the newest ``keep`` are removed afterwards (never the current one)."""
    for root, _, files in os.walk(staging):
        for name in files:
            _fsync(os.path.join(root, name))
    _fsync(staging)
    runs = output_dir / RUNS
    runs.mkdir(exist_ok=True)
    now = time.time_ns()  # names sort in publishing order (the newest last)
    name = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now / 1e9)) + f"-{now % 10**9:09d}"
    final = runs / name
    os.rename(staging, final)
    tmp_link = output_dir / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.join(RUNS, name), tmp_link)
    os.replace(tmp_link, output_dir / CURRENT)  # the one rename that publishes the run
    _fsync(output_dir)
    prune(runs, keep=keep, current=final)
    return final


def has_weights(run: Path) -> bool:
    """Whether a run folder still holds its model (pruning keeps only its records)."""
    return (run / "config.json").is_file()


def prune(runs: Path, *, keep: int, current: Path) -> None:
    """Remove the weights of finished runs beyond the newest ``keep`` that still have them (never the current run),
    keeping each run's small record files (:data:`RECORDS`) so every run stays listable."""
    finished = sorted((p for p in runs.iterdir() if p.is_dir() and has_weights(p)), key=lambda p: p.name)
    for old in finished[: max(0, len(finished) - max(keep, 1))]:
        if old.resolve() == current.resolve():
            continue
        for item in sorted(old.iterdir(), key=lambda p: p.name == "config.json"):  # its config last
            if item.name in RECORDS:
                continue
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    item.unlink()
