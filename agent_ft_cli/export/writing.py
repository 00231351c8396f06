"""Rows out: JSON Lines written atomically (``-``: on stdout), or a Hugging Face dataset folder (optional ``datasets``).

Where a dataset folder goes (the rule, documented in ``docs/export-import.md``):

* ``out`` ending in a separator (``/``), or naming an existing folder, asks for a dataset;
* the folder must be new, empty, or a dataset an earlier export wrote there (its ``dataset_info.json`` says so and
  it holds nothing else): any other existing folder is refused, never written into, and so is the current folder
  (or one above it) and a folder that holds one of the inputs;
* the dataset is saved into a temporary sibling folder (``.<name>.<pid>.<random>.tmp``) and renamed into place at
  the end, so a failed or interrupted run leaves the old folder (or none) and no temporary folder.

How rows are stored (:func:`to_dataset`): a column of message lists (``messages``, ``prompt``, ``chosen`` ...) and
the ``tools`` column are ``List(Json())``, a column of objects (``input``) is ``Json()``: each message or tool is
kept as its own JSON text, so no message gains another's keys (Arrow's struct inference would give every tool call
the argument names of every other tool as ``null``, and every message a ``tool_calls: null``). This is the schema
``datasets`` itself gives chat data (``load_dataset("json")`` on the JSON Lines, its agent-trace schema) and the one
TRL's trainers read. Other columns (strings, booleans) are plain Arrow columns.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import InputDataError, StrictError, UsageError
from ..fsutil import atomic_writer, check_output_path, is_stdout, stdout_writer
from ..jsonio import to_json
from .exporter import Exporter, ExportSummary, WarnFn
from .formats import Row
from .options import ExportOptions

#: ``dataset_info.json``'s ``description`` in every dataset folder an export writes: the mark that lets a later
#: export replace the folder.
DATASET_MARK = "agent-ft export"


def is_dataset_dir(out: Path | str) -> bool:
    """``out`` ending in a separator (or an existing folder) asks for a Hugging Face dataset, not a JSONL file."""
    return not is_stdout(out) and (str(out).endswith(("/", "\\")) or Path(out).is_dir())


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
) -> ExportSummary:
    """Write the rows of ``sessions`` to ``out``: JSON Lines (atomically; ``-`` means stdout) or, for a folder, a
    Hugging Face dataset. ``inputs``: other files the run reads (the prefs file), never written over. ``progress``:
    whether ``datasets`` may show its progress bars."""
    exporter = Exporter(options, prefs, on_warning=on_warning)
    if is_stdout(out):
        return _to_stdout(exporter, sessions, on_session)
    if is_dataset_dir(out):
        return _to_folder(exporter, sessions, Path(str(out).rstrip("/\\") or "/"), str(out), on_session, inputs, progress)
    out = Path(out)
    try:
        check_output_path(out, option="{out}")
    except UsageError as e:  # fsutil names the option as given: here a field the CLI spells as its flag
        raise UsageError(e.message, hint=e.hint, options=("out",)) from None
    if out.exists() and any(out.resolve() == s.resolve() for s in sessions):
        raise UsageError(f"{{out}} {str(out)!r} is also a {{session}}; write to another file", options=("out", "session"))
    with atomic_writer(out) as fh:
        n = 0
        for row in exporter.rows(sessions, on_session):
            fh.write(to_json(row) + b"\n")  # to_json: rows deeper than orjson writes still go out
            n += 1
        if n == 0:
            raise InputDataError(exporter.summary.nothing_built(output=True), options=("format",))
    exporter.summary.rows = n
    exporter.summary.out = str(out)
    return exporter.summary


def _to_stdout(exporter: Exporter, sessions: list[Path], on_session: Callable[[Path], None] | None) -> ExportSummary:
    """``-``: the rows on stdout, once every row is built (kept in a temporary file past a few MB), so a run that
    fails (nothing to export, ``strict``) leaves stdout empty as it leaves a file untouched."""
    import tempfile

    with tempfile.SpooledTemporaryFile(max_size=8 << 20) as spool:
        n = 0
        for row in exporter.rows(sessions, on_session):
            spool.write(to_json(row) + b"\n")
            n += 1
        if n == 0:
            raise InputDataError(exporter.summary.nothing_built(output=True), options=("format",))
        spool.seek(0)
        with stdout_writer() as fh:
            shutil.copyfileobj(spool, fh)
    exporter.summary.rows = n
    exporter.summary.out = "-"
    return exporter.summary


# -- the dataset -------------------------------------------------------------------------------------------------


def _json_cell(value: Any) -> bool:
    return isinstance(value, dict)


def _json_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _column_kind(values: list[Any]) -> str:
    """``"list"`` (every value a list of objects: messages, tools), ``"object"`` (every value an object), else
    ``"arrow"`` (left to Arrow's inference); ``None`` values do not count."""
    present = [v for v in values if v is not None]
    if present and all(_json_list(v) for v in present):
        return "list"
    if present and all(_json_cell(v) for v in present):
        return "object"
    return "arrow"


def _encode(value: Any) -> str:
    return to_json(value).decode()  # the one serializer: exact numbers (datasets' own encoder rounds floats)


def _build(rows: list[Row]) -> tuple[Any, str | None]:
    """The dataset, and the first value ``datasets`` does not read back exactly (None when every one is)."""
    odd = rows if not isinstance(rows, (list, tuple)) else next((r for r in rows if not isinstance(r, dict)), rows)
    if odd is not rows or not isinstance(rows, (list, tuple)):
        got = type(rows).__name__ if odd is rows else f"a row of type {type(odd).__name__}"
        raise UsageError(f"to_dataset: expected a list of rows (dicts, as export_rows returns), got {got}")
    try:
        import datasets
        import pyarrow as pa
        from datasets.utils.json import ujson_loads
    except ImportError:
        raise UsageError(
            "to_dataset needs the 'datasets' library: pip install datasets (or pip install 'agent-ft[hf]')"
        ) from None

    columns = list(dict.fromkeys(key for row in rows for key in row))
    kinds = {c: _column_kind([row.get(c) for row in rows]) for c in columns}
    filled: list[dict[str, Any]] = []
    differs: str | None = None
    for i, row in enumerate(rows):
        cells: dict[str, Any] = {}
        for c in columns:
            value = row.get(c)
            if value is None or kinds[c] == "arrow":
                cells[c] = value
                continue
            items = value if kinds[c] == "list" else [value]
            texts = [_encode(v) for v in items]
            if differs is None:  # datasets decodes Json cells with pandas' ujson, which rounds some decimals
                for original, text in zip(items, texts, strict=True):
                    try:
                        same = ujson_loads(text) == original
                    except (ValueError, OverflowError):
                        same = False
                    if not same:
                        differs = f"row {i}, column {c!r}: {text[:200]}"
                        break
            cells[c] = texts if kinds[c] == "list" else texts[0]
        filled.append(cells)
    try:
        arrow_columns = [c for c in columns if kinds[c] == "arrow"]
        schema = pa.Table.from_pylist([{c: r[c] for c in arrow_columns} for r in filled]).schema if arrow_columns else None
        features = datasets.Features(
            {
                c: datasets.List(datasets.Json())
                if kinds[c] == "list"
                else datasets.Json()
                if kinds[c] == "object"
                else datasets.Features.from_arrow_schema(pa.schema([schema.field(c)]))[c]  # type: ignore[union-attr]
                for c in columns
            }
        )
        info = datasets.DatasetInfo(description=DATASET_MARK, features=features)
        return datasets.Dataset.from_list(filled, features=features, info=info), differs
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError) as e:
        raise InputDataError(
            f"the rows cannot be one Hugging Face dataset (a field has values of different types across rows: {e}); "
            "write JSON Lines instead"
        ) from None


def _inexact(where: str) -> str:
    return (
        f"a value in the dataset reads back from 'datasets' changed ({where}): its Json columns are decoded by "
        "pandas' ujson, which rounds some decimal numbers (0.3 becomes 0.30000000000000004); the text stored is "
        "exact, and JSON Lines read with Python's json keep every number"
    )


def to_dataset(rows: list[Row]) -> Any:
    """Rows as a ``datasets.Dataset`` (needs the optional ``datasets`` library), every row as the JSON Lines has it.

    Every column of every row is kept (``Dataset.from_list`` alone takes its columns from the first row); a row
    without a column has ``None`` there. Message lists and ``tools`` are ``List(Json())`` and objects ``Json()``, so
    each message, tool call and tool keeps exactly its own keys (see the module docstring); other columns are typed
    from all their values. A number that ``datasets`` would read back rounded is reported with a
    :class:`~agent_ft_cli.errors.SessionWarning`.
    """
    from ..errors import SessionWarning

    dataset, differs = _build(rows)
    if differs is not None:
        warnings.warn(_inexact(differs), SessionWarning, stacklevel=2)
    return dataset


@contextlib.contextmanager
def _progress_bars(shown: bool) -> Iterator[None]:
    """``datasets``' progress bars off (``shown=False``) for the block, as they were afterwards."""
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    was_disabled = are_progress_bars_disabled()
    with warnings.catch_warnings():  # HF_DATASETS_DISABLE_PROGRESS_BARS=0 wins, with a warning: it is the user's say
        warnings.simplefilter("ignore")
        if not shown:
            disable_progress_bars()
        try:
            yield
        finally:
            (disable_progress_bars if was_disabled else enable_progress_bars)()


_TMP = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{12}\.(?:tmp|old)")


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
    data = re.compile(r"data-\d{5}-of-\d{5}\.arrow")
    return all(n in ("dataset_info.json", "state.json") or data.fullmatch(n) for n in names)


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


def _remove_stale(parent: Path, name: str) -> None:
    """Temporary folders that earlier, killed exports of ``name`` left beside it (their process is gone)."""
    from ..fsutil.outputs import _pid_alive

    with contextlib.suppress(OSError):
        for entry in os.listdir(parent):
            m = _TMP.fullmatch(entry)
            if m and m.group("name") == name and not _pid_alive(int(m.group("pid"))):
                shutil.rmtree(parent / entry, ignore_errors=True)


def _sibling(target: Path, kind: str) -> Path:
    return target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(6)}.{kind}"


def _save(dataset: Any, target: Path, shown: str, progress: bool) -> None:
    """Save ``dataset`` beside ``target`` and rename it into place (an older export's dataset is swapped out)."""
    _remove_stale(target.parent, target.name)
    tmp = _sibling(target, "tmp")
    old: Path | None = None
    try:
        with _progress_bars(progress):
            dataset.save_to_disk(str(tmp))
        if target.is_dir() and os.listdir(target):  # an earlier export's dataset: moved aside, then removed
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
        raise UsageError(
            f"{{out}} {shown!r}: cannot save the dataset ({e.strerror or e}); nothing was written", options=("out",)
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _to_folder(
    exporter: Exporter,
    sessions: list[Path],
    folder: Path,
    shown: str,
    on_session: Callable[[Path], None] | None,
    inputs: Iterable[Path | str],
    progress: bool,
) -> ExportSummary:
    try:
        import datasets  # noqa: F401
    except ImportError:
        raise UsageError(
            f"{{out}} {shown!r} is a folder: saving a Hugging Face dataset needs the 'datasets' library "
            "(pip install datasets), or give a .jsonl file name",
            options=("out",),
        ) from None
    target = _check_folder(folder, shown, sessions, inputs)
    rows = list(exporter.rows(sessions, on_session))
    if not rows:
        raise InputDataError(exporter.summary.nothing_built(output=True), options=("format",))
    with _progress_bars(progress):
        dataset, differs = _build(rows)
    if differs is not None:
        if exporter.options.strict:
            raise StrictError(f"{_inexact(differs)}; {{strict}} refuses it", options=("strict",))
        if exporter.on_warning is not None:
            exporter.on_warning(_inexact(differs))
    _save(dataset, target, shown, progress)
    exporter.summary.rows = len(rows)
    exporter.summary.dataset = shown
    return exporter.summary

