"""Rows out: JSON Lines written atomically (``-``: on stdout), or a dataset folder of Parquet shards, as they stream.

Where a dataset folder goes (the rule, documented in ``docs/export-import.md``):

* ``out`` ending in a separator (``/``), or naming an existing folder, asks for a dataset;
* the folder must be new, empty, or a dataset an earlier export wrote there (its ``dataset_info.json`` says so and
  it holds nothing else): any other existing folder is refused, never written into, and so is the current folder
  (or one above it) and a folder that holds one of the inputs;
* the shards are written into a temporary sibling folder and renamed into place at the end
  (:func:`~agent_ft_cli.fsutil.atomic_folder`), so a failed or interrupted run leaves the old folder (or none).

Rows leave as conversations end (:meth:`~.exporter.Exporter.rows`); with ``jobs`` above 1 the sessions are shared
among worker processes (:mod:`.parallel`) and the rows still come out in the order one process writes them. How a
dataset stores rows: :mod:`.dataset`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import InputDataError, OutputWriteError, StrictError, UsageError
from ..fsutil import atomic_folder, atomic_writer, check_output_path, first_same_file, is_stdout, stdout_writer
from .dataset import DATASET_MARK, to_dataset  # noqa: F401  (re-exported; pyarrow and datasets load lazily)
from .exporter import Exporter, ExportSummary, WarnFn
from .formats import row_line
from .options import ExportOptions

#: Progress is reported (``on_progress``) after every this many rows, and after each session.
PROGRESS_EVERY = 4096
#: ``jobs=None`` uses ``min(2, cores)`` worker processes from this many sessions on (and one below it).
MANY_SESSIONS = 64


def is_dataset_dir(out: Path | str) -> bool:
    """``out`` ending in a separator (or an existing folder) asks for a Hugging Face dataset, not a JSONL file."""
    return not is_stdout(out) and (str(out).endswith(("/", "\\")) or Path(out).is_dir())


def default_jobs(sessions: int, has_prefs: bool) -> int:
    """How many processes ``jobs=None`` means: 2 for :data:`MANY_SESSIONS` sessions or more without preference
    pairs (tying needs every session in one process) when the machine has a second core that is idle (its load
    average leaves one), else 1. The output is the same either way."""
    if has_prefs or sessions < MANY_SESSIONS:
        return 1
    cores = os.cpu_count() or 1
    try:  # a core already busy with other work: a second process costs CPU and gains no time (measured)
        idle = cores - os.getloadavg()[0]
    except (OSError, AttributeError):  # no load average here (Windows)
        idle = cores
    return 2 if cores >= 2 and idle >= 1 else 1


def export(
    sessions: list[Path],
    out: Path | str,
    options: ExportOptions,
    prefs: Any = None,
    *,
    on_warning: WarnFn | None = None,
    on_session: Callable[[Path], None] | None = None,
    inputs: Iterable[Path | str] = (),
    progress: bool = True,
    jobs: int | None = 1,
    shard_size: int | None = None,
    on_progress: Callable[[ExportSummary], None] | None = None,
) -> ExportSummary:
    """Write the rows of ``sessions`` to ``out`` as they stream: JSON Lines (atomically; ``-`` means stdout) or, for
    a folder, a dataset of Parquet shards of about ``shard_size`` bytes of rows each (:mod:`.dataset`).

    ``inputs``: other files the run reads (the prefs file), never written over (the writers refuse it themselves).
    ``jobs``: worker processes sharing the sessions (None: :func:`default_jobs`); the output is byte for byte the
    one of a single process. ``on_progress`` is called with the summary so far every :data:`PROGRESS_EVERY` rows
    and after each session; ``on_session`` with each session's path once it is done. ``progress`` is kept for
    callers of earlier versions (nothing here draws a bar)."""
    del progress
    exporter = Exporter(options, prefs, on_warning=on_warning)
    if jobs is None:
        jobs = default_jobs(len(sessions), exporter.has_prefs)
    if jobs < 1:
        raise UsageError(f"{{jobs}} {jobs}: give 1 or more worker processes", options=("jobs",))
    if shard_size is not None and shard_size < 1:
        raise UsageError(f"{{shard_size}} {shard_size}: give a size of 1 byte or more", options=("shard_size",))
    to_folder = not is_stdout(out) and is_dataset_dir(out)
    rows = _rows(exporter, sessions, on_session, on_progress, jobs, encoded=not to_folder)
    if is_stdout(out):
        return _to_stdout(exporter, rows)
    if to_folder:
        return _to_folder(exporter, rows, Path(str(out).rstrip("/\\") or "/"), str(out), sessions, inputs, shard_size)
    out = Path(out)
    if first_same_file(out, sessions) is not None:
        raise UsageError(f"{{out}} {str(out)!r} is also a {{session}}; write to another file", options=("out", "session"))
    try:
        check_output_path(out, option="{out}", inputs=inputs)
    except UsageError as e:  # fsutil names the option as given: here a field the CLI spells as its flag
        raise UsageError(e.message, hint=e.hint, options=("out",)) from None
    # the writer's own guard checks the other inputs; the sessions were checked just above (one stat each)
    with atomic_writer(out, inputs=inputs) as fh:
        write = fh.write
        for line in rows:
            write(line)
        if exporter.summary.rows == 0:
            raise InputDataError(exporter.summary.nothing_built(output=True), options=("format",))
    exporter.summary.out = str(out)
    return exporter.summary


def _rows(
    exporter: Exporter,
    sessions: list[Path],
    on_session: Callable[[Path], None] | None,
    on_progress: Callable[[ExportSummary], None] | None,
    jobs: int,
    *,
    encoded: bool,
) -> Iterator[Any]:
    """The rows, as JSON Lines (``encoded``: one ``bytes`` line each, :func:`~.formats.row_line`, which
    also writes rows deeper than orjson does) or as dicts; from ``jobs`` processes or this one."""
    summary = exporter.summary

    def session_done(path: Path) -> None:
        summary.done += 1
        if on_session is not None:
            on_session(path)
        if on_progress is not None:
            on_progress(summary)

    if jobs > 1 and len(sessions) > 1 and not exporter.has_prefs:
        from .parallel import parallel_rows

        source: Iterator[Any] = parallel_rows(exporter, sessions, jobs, encoded=encoded, on_session=session_done)
    else:
        source = exporter.rows(sessions, session_done if on_session or on_progress else None)
        if encoded:
            source = map(row_line, source)
    if on_progress is None:
        yield from source
        return
    for n, row in enumerate(source, 1):
        yield row
        if n % PROGRESS_EVERY == 0:
            on_progress(summary)


def _to_stdout(exporter: Exporter, lines: Iterator[bytes]) -> ExportSummary:
    """``-``: the rows on stdout, once every row is built (kept in a temporary file past a few MB), so a run that
    fails (nothing to export, ``strict``) leaves stdout empty as it leaves a file untouched."""
    import shutil
    import tempfile

    with tempfile.SpooledTemporaryFile(max_size=8 << 20) as spool:
        for line in lines:
            spool.write(line)
        if exporter.summary.rows == 0:
            raise InputDataError(exporter.summary.nothing_built(output=True), options=("format",))
        spool.seek(0)
        with stdout_writer() as fh:
            shutil.copyfileobj(spool, fh)
    exporter.summary.out = "-"
    return exporter.summary


# -- the dataset folder ------------------------------------------------------------------------------------------


def _is_export_dataset(folder: Path) -> bool:
    """Whether ``folder`` holds a dataset an export saved, and nothing else (so replacing it loses nothing)."""
    import json

    try:
        names = os.listdir(folder)
        info = json.loads((folder / "dataset_info.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(info, dict) or info.get("description") != DATASET_MARK:
        return False
    arrow = re.compile(r"data-\d{5}-of-\d{5}\.arrow")  # the layout of exports before the Parquet shards
    shard = re.compile(r"train-\d{5}-of-\d{5}\.parquet")
    if "data" in names:
        try:
            if not (folder / "data").is_dir() or not all(shard.fullmatch(n) for n in os.listdir(folder / "data")):
                return False
        except OSError:
            return False
    return all(n in ("dataset_info.json", "state.json", "data") or arrow.fullmatch(n) for n in names)


def _check_folder(folder: Path, shown: str, sessions: list[Path], inputs: Iterable[Path | str]) -> Path:
    """The folder the dataset replaces (through a symbolic link: its target), after the rule's checks."""
    target = Path(os.path.realpath(folder))
    parent = target.parent
    if not parent.is_dir():
        where = parent if folder.is_symlink() else folder.parent
        raise UsageError(f"{{out}} {shown!r}: folder {str(where)!r} does not exist; create it first", options=("out",))
    if target.exists() and not target.is_dir():
        raise UsageError(f"{{out}} {shown!r} exists and is not a folder", options=("out",))
    cwd = Path.cwd().resolve()
    if cwd == target or target in cwd.parents:
        raise UsageError(
            f"{{out}} {shown!r} is the current folder (or holds it): a dataset is saved into a folder of its own; "
            "name a new one",
            options=("out",),
        )
    for given in [*sessions, *inputs]:
        if is_stdout(given):
            continue
        real = Path(os.path.realpath(given))
        if target == real or target in real.parents:
            raise UsageError(
                f"{{out}} {shown!r} holds an input of this export ({str(given)!r}); save the dataset elsewhere",
                options=("out",),
            )
    if target.is_dir():
        try:
            empty = not os.listdir(target)
        except OSError as e:
            raise UsageError(f"{{out}} {shown!r}: cannot read the folder ({e.strerror or e})", options=("out",)) from None
        if not empty and not _is_export_dataset(target):
            raise UsageError(
                f"{{out}} {shown!r} is a folder that holds other files: a dataset is written only to a new or empty "
                "folder, or over a dataset an earlier export saved there; name a new folder",
                options=("out",),
            )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{{out}} {shown!r}: folder {str(parent)!r} is not writable", options=("out",))
    return target


def _to_folder(
    exporter: Exporter,
    rows: Iterator[Any],
    folder: Path,
    shown: str,
    sessions: list[Path],
    inputs: Iterable[Path | str],
    shard_size: int | None,
) -> ExportSummary:
    from .dataset import DEFAULT_SHARD_BYTES, ShardWriter, inexact_warning
    from .formats import dataset_columns

    target = _check_folder(folder, shown, sessions, inputs)
    try:
        with atomic_folder(target, what="dataset folder", inputs=[*sessions, *inputs]) as tmp:
            writer = ShardWriter(tmp, dataset_columns(exporter.format, exporter.options), shard_size=shard_size or DEFAULT_SHARD_BYTES)
            for row in rows:
                writer.write(row)
            if writer.rows == 0:
                raise InputDataError(exporter.summary.nothing_built(output=True), options=("format",))
            if writer.differs is not None:
                if exporter.options.strict:
                    raise StrictError(f"{inexact_warning(writer.differs)}; {{strict}} refuses it", options=("strict",))
                if exporter.on_warning is not None:
                    exporter.on_warning(inexact_warning(writer.differs))
            writer.close()
    except OutputWriteError as e:
        raise UsageError(f"{{out}} {shown!r}: cannot save the dataset ({e.reason or e}); nothing was written", options=("out",)) from None
    except OSError as e:
        raise UsageError(
            f"{{out}} {shown!r}: cannot save the dataset ({e.strerror or e}); nothing was written", options=("out",)
        ) from None
    exporter.summary.dataset = shown
    return exporter.summary
