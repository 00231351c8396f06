"""Finding and reading run records: which folder ``agent-ft runs`` lists, and which run ``runs show RUN`` means.

A folder lists the runs of its sub-folders that hold a ``run.json`` and those its ``index.jsonl`` points at
(:mod:`.record`); a Hugging Face ``output_dir`` lists its ``runs/``; a run folder or a ``run.json`` is that one
run. Without a folder: the config's (``--config``: the client's ``output_dir/runs`` when it has one) or the runs
dir (:func:`~.record.runs_dir`). Nothing here prints; unreadable records are passed to ``on_warning`` and skipped.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import InputDataError, UsageError
from ..types import WarnFn
from .record import FORMAT, INDEX, RECORD, runs_dir


@dataclass
class Run:
    """One run record read from ``path``."""

    path: Path
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data.get("id") or self.path.parent.name)

    @property
    def time(self) -> str:
        return str(self.data.get("time") or "")


def default_folder(config_path: Path | None) -> Path:
    """The folder ``agent-ft runs`` lists without ``DIR``: the config's client ``output_dir/runs`` when it names
    one (the Hugging Face client's run folders), else the runs dir."""
    if config_path is not None:
        from ..config import load_config

        out = load_config(config_path).client_args.get("output_dir")
        if isinstance(out, str) and out:
            return Path(out).expanduser() / "runs"
    return runs_dir()


def record_paths(folder: Path) -> list[Path]:
    """The ``run.json`` files ``folder`` stands for (see the module doc); one listed twice (a sub-folder's, also in
    the index) is taken once by :func:`list_runs`."""
    if folder.is_file():
        return [folder]
    if (folder / RECORD).is_file():
        return [folder / RECORD]
    if not (folder / INDEX).is_file() and (folder / "runs").is_dir():  # a Hugging Face output_dir
        folder = folder / "runs"
    found: list[Path] = []
    with contextlib.suppress(OSError):  # not a folder, or unreadable: only the index (if any) counts
        found = sorted(child / RECORD for child in folder.iterdir() if (child / RECORD).is_file())
    found += _indexed(folder / INDEX)
    return [path for path in found if path.is_file()]


def _indexed(index: Path) -> list[Path]:
    try:
        lines = index.read_bytes().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:  # a line cut short by a crash: the rest still counts
            continue
        if isinstance(entry, dict) and isinstance(entry.get("record"), str):
            out.append(Path(entry["record"]))
    return out


def read(path: Path) -> dict[str, Any]:
    """One run record; :class:`InputDataError` naming the file when it is not one."""
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as e:
        raise InputDataError(f"{path}: cannot read the run record ({e.strerror or e})") from None
    except orjson.JSONDecodeError as e:
        raise InputDataError(f"{path}: not a run record (invalid JSON: {e})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputDataError(f"{path}: not an agent-ft run record (no \"format\": \"{FORMAT}\")")
    return data


def list_runs(folders: list[Path], on_warning: WarnFn | None = None) -> list[Run]:
    """Every run of ``folders``, newest first; a folder that does not exist is bad input."""
    runs: list[Run] = []
    seen: set[str] = set()
    for folder in folders:
        if not folder.exists():
            raise InputDataError(f"{folder}: no such runs folder")
        for path in record_paths(folder):
            key = os.path.realpath(path)
            if key in seen:
                continue
            seen.add(key)
            try:
                runs.append(Run(path, read(path)))
            except InputDataError as e:
                if on_warning is not None:
                    on_warning(f"{e}; skipped")
    return sorted(runs, key=lambda r: (r.time, r.id), reverse=True)


def find_run(name: str, folders: list[Path], on_warning: WarnFn | None = None) -> Run:
    """The run ``name`` means: a run folder or ``run.json`` path, ``latest`` (``latest~1`` the one before it, ...),
    or a run id or a unique start of one among the runs of ``folders``."""
    given = Path(name).expanduser()
    if given.is_file() or (given / RECORD).is_file():
        path = given if given.is_file() else given / RECORD
        return Run(path, read(path))
    runs = list_runs([f for f in folders if f.exists()], on_warning)
    if name == "latest" or (name.startswith("latest~") and name[7:].isdigit()):
        n = 0 if name == "latest" else int(name[7:])
        if n < len(runs):
            return runs[n]
        raise UsageError(f"run {name!r}: there are {len(runs)} run(s) in {_names(folders)}")
    matches = [r for r in runs if r.id == name] or [r for r in runs if r.id.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        newest = ", ".join(r.id for r in runs[:3])
        hint = f"; newest: {newest}" if newest else "; there are no runs there"
        raise UsageError(f"run {name!r}: no such run in {_names(folders)}{hint} (give an id, 'latest', 'latest~1' or a run folder)")
    raise UsageError(f"run {name!r}: {len(matches)} runs start so ({', '.join(r.id for r in matches[:3])}); give more of the id")


def _names(folders: list[Path]) -> str:
    return ", ".join(str(f) for f in folders) or "no folder"
