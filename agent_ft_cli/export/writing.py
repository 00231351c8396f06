"""Rows out: JSON Lines written atomically, or a Hugging Face dataset folder (optional ``datasets``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputDataError, UsageError
from ..fsutil import atomic_writer, check_output_path
from ..jsonio import to_json
from .exporter import Exporter, ExportSummary, WarnFn
from .formats import Row
from .options import ExportOptions


def is_dataset_dir(out: Path | str) -> bool:
    """``out`` ending in a separator (or an existing folder) asks for a Hugging Face dataset, not a JSONL file."""
    return str(out).endswith(("/", "\\")) or Path(out).is_dir()


def export(
    sessions: list[Path],
    out: Path | str,
    options: ExportOptions,
    prefs: Any = None,
    *,
    on_warning: WarnFn | None = None,
    on_session: Callable[[Path], None] | None = None,
) -> ExportSummary:
    """Write the rows of ``sessions`` to ``out`` (JSON Lines, atomically) or, for a folder, a HF dataset."""
    exporter = Exporter(options, prefs, on_warning=on_warning)
    if is_dataset_dir(out):
        try:
            import datasets  # noqa: F401
        except ImportError:
            raise UsageError(
                f"{{out}} {str(out)!r} is a folder: saving a Hugging Face dataset needs the 'datasets' library "
                "(pip install datasets), or give a .jsonl file name",
                options=("out",),
            ) from None
        parent = Path(str(out).rstrip("/\\")).parent
        if not parent.is_dir():
            raise UsageError(
                f"{{out}} {str(out)!r}: folder {str(parent)!r} does not exist; create it first", options=("out",)
            )
        rows = list(exporter.rows(sessions, on_session))
        if not rows:
            raise InputDataError(_nothing(exporter.summary), options=("format",))
        _save_dataset(rows, Path(str(out).rstrip("/\\")))
        exporter.summary.rows = len(rows)
        exporter.summary.dataset = str(out)
        return exporter.summary
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
            raise InputDataError(_nothing(exporter.summary), options=("format",))
    exporter.summary.rows = n
    exporter.summary.out = str(out)
    return exporter.summary


def _nothing(summary: ExportSummary) -> str:
    why = ""
    if summary.skipped_pairs:
        pair = summary.skipped_pairs[0]
        why = f"; pair {pair['pair']}: {pair['reason']}"
    elif summary.skipped_sessions:
        why = f"; {summary.skipped_sessions[0]['reason']}"
    return f"nothing to export: no row could be built for {{format}} {summary.format} (output not written){why}"


def to_dataset(rows: Sequence[Mapping[str, Any]]) -> Any:
    """Rows as a ``datasets.Dataset`` built with explicit features (needs the optional ``datasets`` library).

    ``Dataset.from_list`` takes its columns from the first row only, so a column the first row lacks (``tools``; or
    ``tool_calls`` when messages are the rows) is dropped from every row. Here the columns are the union over every row (a row without one has
    ``None`` there), and the features are inferred from every value of every row, then given explicitly.
    """
    odd = rows if not isinstance(rows, (list, tuple)) else next((r for r in rows if not isinstance(r, dict)), rows)
    if odd is not rows or not isinstance(rows, (list, tuple)):
        got = type(rows).__name__ if odd is rows else f"a row of type {type(odd).__name__}"
        raise UsageError(f"to_dataset: expected a list of rows (dicts, as export_rows returns), got {got}")
    try:
        import datasets
        import pyarrow as pa
    except ImportError:
        raise UsageError(
            "to_dataset needs the 'datasets' library: pip install datasets (or pip install 'agent-ft[hf]')"
        ) from None

    columns = list(dict.fromkeys(key for row in rows for key in row))
    filled = [{c: row.get(c) for c in columns} for row in rows]
    try:
        schema = pa.Table.from_pylist(filled).schema  # each column's type from all its values, not the first row's
        features = datasets.Features.from_arrow_schema(schema)
        return datasets.Dataset.from_list(filled, features=features)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError) as e:
        raise InputDataError(
            f"the rows cannot be one Hugging Face dataset (a field has values of different types across rows: {e}); "
            "write JSON Lines instead"
        ) from None


def _save_dataset(rows: list[Row], folder: Path) -> None:
    to_dataset(rows).save_to_disk(str(folder))
