"""A folder written whole, atomically: built beside its place and renamed into it, under the one lock.

:func:`atomic_folder` is the folder counterpart of :func:`~.outputs.atomic_writer` (a dataset folder of shards is
its one user today): the caller fills a temporary sibling (``.<name>.<pid>.<random>.tmp``); when the block succeeds
it replaces the target (an existing folder is moved aside, then removed), otherwise it is removed. A folder an
earlier, killed run left (its process gone, its lock free) is removed by the next run into the same place: the
temporary folder is held locked (:func:`~.locks.lock_fd`, the one lock function) while it is filled, as
:func:`~.outputs.atomic_writer` holds its temporary file, so nothing is left beside the target. It never replaces
one of the command's inputs (:func:`~.outputs.refuse_inputs`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import OutputWriteError
from .locks import lock_fd
from .outputs import _sibling, _write_error, refuse_inputs, remove_stale_temps


@contextlib.contextmanager
def atomic_folder(
    target: Path, *, what: str = "output folder", inputs: Iterable[Path | str | None] = ()
) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``target``; when the block succeeds it becomes ``target`` (whatever
    was there moved aside and removed), otherwise it is removed and ``target`` is left as it was. An ``OSError``
    while swapping becomes an :class:`~agent_ft_cli.errors.OutputWriteError` naming the folder."""
    target = Path(target)
    refuse_inputs(target, inputs, what=what)
    remove_stale_temps(target)
    tmp = _sibling(target, "tmp")
    old: Path | None = None
    fd: int | None = None
    try:
        try:
            os.mkdir(tmp, 0o755)
            fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            lock_fd(fd, where=str(tmp), timeout=0, what=what)  # marks it live for remove_stale_temps
            yield tmp
            if target.is_dir() and os.listdir(target):  # the folder it replaces: moved aside, then removed
                old = _sibling(target, "old")
                os.rename(target, old)
            try:
                os.replace(tmp, target)  # over an empty folder, or where nothing is
            except OSError:
                if old is not None:
                    os.rename(old, target)
                    old = None
                raise
        except OSError as e:
            if isinstance(e, OutputWriteError):
                raise
            raise _write_error(target, e, what) from None
    finally:
        if fd is not None:
            os.close(fd)
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
