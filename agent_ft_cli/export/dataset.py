"""Rows as a Hugging Face dataset: in memory (:func:`to_dataset`), or a folder of Parquet shards written as rows
stream (:class:`ShardWriter`).

How rows are stored: a column of message lists (``messages``, ``prompt``, ``chosen`` ...) and the ``tools``
column are ``List(Json())``, a column of objects (``input``) is ``Json()``: each message or tool is kept as its own
JSON text (Arrow's ``arrow.json`` extension type over strings, Parquet's JSON logical type), so no message gains
another's keys (Arrow's struct inference would give every tool call the argument names of every other tool as
``null``, and every message a ``tool_calls: null``). This is the schema ``datasets`` itself gives chat data and the
one TRL's trainers read. Other columns (strings, booleans) are plain Arrow columns.

A dataset folder is ``data/train-NNNNN-of-MMMMM.parquet`` (shards of about ``shard_size`` bytes of row data, written
one record batch at a time through ``pyarrow.parquet.ParquetWriter`` with the schema of
:func:`~.formats.dataset_columns`, its ``datasets`` features in the Parquet metadata) and ``dataset_info.json``
(``datasets.DatasetInfo``, whose description marks the folder as an export's). It loads with
``datasets.load_dataset("parquet", data_files="DIR/data/*.parquet")`` (streaming too), ``load_dataset("DIR")``,
and any Parquet reader (pyarrow, DuckDB, Spark, Polars). pyarrow and ``datasets`` are imported here only when a
dataset is asked for: JSON Lines export never loads them.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

import orjson

from ..errors import InputDataError, UsageError
from ..fsutil import parse_byte_size
from ..jsonio import DUMP_OPTS, json_default, to_json
from .formats import Row

#: ``dataset_info.json``'s ``description`` in every dataset folder an export writes: the mark that lets a later
#: export replace the folder.
DATASET_MARK = "agent-ft export"
#: Default ``shard_size``: bytes of row data (their JSON text) per Parquet shard, before compression.
DEFAULT_SHARD_BYTES = 256 << 20
_BATCH_ROWS = 2048  # rows per record batch (and Parquet row group): memory is bounded by one batch
_MAYBE_INEXACT = re.compile(r"\d[.eE]|\d{16}")  # a JSON text ujson may read back changed (a float, a big integer)


def parse_size(text: str | int) -> int:
    """A shard size as bytes: ``500MB``, ``1GB``, ``256MiB`` or a number of bytes (what ``--shard-size`` takes;
    units read by :func:`~agent_ft_cli.fsutil.parse_byte_size`)."""
    try:
        value = text if isinstance(text, int) else parse_byte_size(str(text))
    except ValueError:
        raise UsageError(f"{{shard_size}} {text!r}: give a size such as 256MB, 1GB or a number of bytes", options=("shard_size",)) from None
    if value < 1:
        raise UsageError(f"{{shard_size}} {text!r}: give a size of 1 byte or more", options=("shard_size",))
    return value


def _encode(value: Any) -> str:
    """``value`` as JSON text: the one serializer (:func:`~agent_ft_cli.jsonio.to_json`: exact numbers, where
    ``datasets``' own encoder rounds floats), its plain orjson call made here for the common value."""
    try:
        return orjson.dumps(value, default=json_default, option=DUMP_OPTS).decode()
    except (orjson.JSONEncodeError, RecursionError, TypeError, ValueError):
        return to_json(value).decode()


_BIG = 10**15  # an integer of 16 digits or more may read back changed (what _MAYBE_INEXACT looks for in the text)


def _plain(value: Any) -> bool:
    """Whether ``value``'s JSON text surely reads back from ``datasets`` as it is: strings, booleans, nulls and
    integers of fewer than 16 digits, in lists and objects (the common message). Else :func:`_first_inexact`
    looks at the text."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is dict or kind is list:
        for item in value.values() if kind is dict else value:
            if type(item) is not str and not _plain(item):
                return False
        return True
    return kind is int and -_BIG < value < _BIG


def _first_inexact(texts: list[str], originals: list[Any], where: str) -> str | None:
    """``where`` when one of ``texts`` reads back from ``datasets`` (pandas' ujson) as other than its original."""
    from datasets.utils.json import ujson_loads

    for original, text in zip(originals, texts, strict=True):
        if not _MAYBE_INEXACT.search(text):
            continue
        try:
            same = ujson_loads(text) == original
        except (ValueError, OverflowError):
            same = False
        if not same:
            return f"{where}: {text[:200]}"
    return None


def inexact_warning(where: str) -> str:
    return (
        f"a value in the dataset reads back from 'datasets' changed ({where}): its Json columns are decoded by "
        "pandas' ujson, which rounds some decimal numbers (0.3 becomes 0.30000000000000004); the text stored is "
        "exact, and JSON Lines read with Python's json keep every number"
    )


def _needs(what: str) -> UsageError:
    return UsageError(f"{what} needs the 'datasets' library (and pyarrow): pip install 'agent-ft[dataset]'")


def features_for(columns: dict[str, str]) -> Any:
    """The ``datasets.Features`` of columns declared as :func:`~.formats.dataset_columns` says."""
    import datasets

    kinds = {
        "messages": lambda: datasets.List(datasets.Json()),
        "object": datasets.Json,
        "string": lambda: datasets.Value("string"),
        "bool": lambda: datasets.Value("bool"),
    }
    return datasets.Features({c: kinds[k]() for c, k in columns.items()})


class ShardWriter:
    """Writes rows into ``folder/data/`` as Parquet shards while they stream: :meth:`write` each row, then
    :meth:`close` (which names the shards ``train-NNNNN-of-MMMMM.parquet`` and writes ``dataset_info.json``).

    Memory holds one record batch (:data:`_BATCH_ROWS` rows) at a time. :attr:`differs` is the first value
    ``datasets`` would read back changed (see :func:`inexact_warning`), or None."""

    def __init__(self, folder: Path, columns: dict[str, str], *, shard_size: int = DEFAULT_SHARD_BYTES) -> None:
        try:
            import datasets  # noqa: F401  (its features are the schema's)
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise _needs("a dataset folder (--out ending in /)") from None
        self._pa, self._pq = pa, pq
        self.folder = Path(folder)
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        self.columns = columns
        self.features = features_for(columns)
        self.schema = self.features.arrow_schema
        self.shard_size = max(1, int(shard_size))
        self.differs: str | None = None
        self.rows = 0
        self._cells: dict[str, list[Any]] = {c: [] for c in columns}
        self._names = set(columns)
        #: (column, kind, its cells), in order: the cells' lists are emptied in place after each batch
        self._layout = [(c, k, self._cells[c]) for c, k in columns.items()]
        self._shards: list[Path] = []
        self._writer: Any = None
        self._shard_bytes = 0

    def write(self, row: Row) -> None:
        if not isinstance(row, dict):
            raise UsageError(f"a dataset row must be a dict, got {type(row).__name__}")
        if not row.keys() <= self._names:
            extra = next(k for k in row if k not in self.columns)
            raise InputDataError(f"row {self.rows}: column {extra!r} is not one of this format's ({', '.join(self.columns)})")
        size = 0
        for column, kind, cells in self._layout:
            value = row.get(column)
            if value is None or kind in ("string", "bool"):
                cells.append(value)
                size += 8 if value is None or kind == "bool" else len(value)
                continue
            listed = kind == "messages" and isinstance(value, list)
            items = value if listed else [value]
            texts = [_encode(v) for v in items]
            size += sum(map(len, texts))
            if self.differs is None and not all(map(_plain, items)):
                self.differs = _first_inexact(texts, items, f"row {self.rows}, column {column!r}")
            cells.append(texts if listed else texts[0])
        self.rows += 1
        self._shard_bytes += size
        if len(self._layout[0][2]) >= _BATCH_ROWS:
            self._flush()
        if self._shard_bytes >= self.shard_size:
            self._flush()
            self._close_shard()

    def _array(self, kind: str, cells: list[Any]) -> Any:
        pa = self._pa
        if kind == "string":
            return pa.array(cells, pa.string())
        if kind == "bool":
            return pa.array(cells, pa.bool_())
        json_type = self.schema.field(next(c for c, k in self.columns.items() if k == kind)).type
        if kind == "object":
            return pa.ExtensionArray.from_storage(json_type, pa.array(cells, pa.string()))
        item_type = json_type.value_type
        offsets = [0]
        values: list[str] = []
        nulls: list[bool] = []
        for cell in cells:
            nulls.append(cell is None)
            if cell is not None:
                values.extend(cell)
            offsets.append(len(values))
        items = pa.ExtensionArray.from_storage(item_type, pa.array(values, pa.string()))
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), items, mask=pa.array(nulls, pa.bool_()))

    def _flush(self) -> None:
        first = self._cells[next(iter(self.columns))]
        if not first:
            return
        pa = self._pa
        try:
            arrays = [self._array(kind, self._cells[c]) for c, kind in self.columns.items()]
            batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as e:
            raise InputDataError(
                f"the rows cannot be one dataset (a column has values of different types across rows: {e}); write "
                "JSON Lines instead"
            ) from None
        if self._writer is None:
            path = self.folder / "data" / f"train-{len(self._shards):05d}.parquet"
            self._shards.append(path)
            self._writer = self._pq.ParquetWriter(str(path), self.schema, compression="zstd")
        self._writer.write_batch(batch)
        for cells in self._cells.values():
            cells.clear()  # (the batch holds its own copy)

    def _close_shard(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._shard_bytes = 0

    def close(self) -> list[Path]:
        """Flush, close the last shard, name every shard with the count and write ``dataset_info.json``; the
        shards' final paths."""
        import datasets

        self._flush()
        self._close_shard()
        n = len(self._shards)
        named = []
        for i, path in enumerate(self._shards):
            final = path.with_name(f"train-{i:05d}-of-{n:05d}.parquet")
            os.replace(path, final)
            named.append(final)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            datasets.DatasetInfo(description=DATASET_MARK, features=self.features).write_to_directory(str(self.folder))
        return named


# -- a dataset in memory -----------------------------------------------------------------------------------------


def _column_kind(values: list[Any]) -> str:
    """``"messages"`` (every value a list of objects: messages, tools), ``"object"`` (every value an object), else
    ``"arrow"`` (left to Arrow's inference); ``None`` values do not count."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, list) and all(isinstance(x, dict) for x in v) for v in present):
        return "messages"
    if present and all(isinstance(v, dict) for v in present):
        return "object"
    return "arrow"


def build(rows: list[Row]) -> tuple[Any, str | None]:
    """The dataset, and the first value ``datasets`` does not read back exactly (None when every one is)."""
    odd = rows if not isinstance(rows, (list, tuple)) else next((r for r in rows if not isinstance(r, dict)), rows)
    if odd is not rows or not isinstance(rows, (list, tuple)):
        got = type(rows).__name__ if odd is rows else f"a row of type {type(odd).__name__}"
        raise UsageError(f"to_dataset: expected a list of rows (dicts, as export_rows returns), got {got}")
    try:
        import datasets
        import pyarrow as pa
    except ImportError:
        raise UsageError(
            "to_dataset needs the 'datasets' library: pip install datasets (or pip install 'agent-ft[dataset]', also "
            "in 'agent-ft[hf]')"
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
            items = value if kinds[c] == "messages" else [value]
            texts = [_encode(v) for v in items]
            if differs is None:  # datasets decodes Json cells with pandas' ujson, which rounds some decimals
                differs = _first_inexact(texts, items, f"row {i}, column {c!r}")
            cells[c] = texts if kinds[c] == "messages" else texts[0]
        filled.append(cells)
    try:
        arrow_columns = [c for c in columns if kinds[c] == "arrow"]
        schema = pa.Table.from_pylist([{c: r[c] for c in arrow_columns} for r in filled]).schema if arrow_columns else None
        json_features = features_for({c: k for c, k in kinds.items() if k != "arrow"})
        features = datasets.Features(
            {
                c: json_features[c] if c in json_features
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


def to_dataset(rows: list[Row]) -> Any:
    """Rows as a ``datasets.Dataset`` (needs the optional ``datasets`` library), every row as the JSON Lines has it.

    Every column of every row is kept (``Dataset.from_list`` alone takes its columns from the first row); a row
    without a column has ``None`` there. Message lists and ``tools`` are ``List(Json())`` and objects ``Json()``, so
    each message, tool call and tool keeps exactly its own keys (see the module docstring); other columns are typed
    from all their values. A number that ``datasets`` would read back rounded is reported with a
    :class:`~agent_ft_cli.errors.SessionWarning`.
    """
    from ..errors import SessionWarning

    dataset, differs = build(rows)
    if differs is not None:
        warnings.warn(inexact_warning(differs), SessionWarning, stacklevel=2)
    return dataset
