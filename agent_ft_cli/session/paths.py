"""Session arguments (files, folders, glob patterns) as the list of session files, for every command."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable
from pathlib import Path

from ..errors import SessionError, UsageError

_GLOB = re.compile(r"[*?\[]")


def expand_sessions(items: Iterable[Path | str]) -> list[Path]:
    """Session arguments as files: a file, a folder (its ``*.jsonl``) or a glob pattern, in order, no duplicates."""
    seen: set[str] = set()
    out: list[Path] = []
    for item in items:
        text = str(item)
        p = Path(text)
        if p.is_dir():
            found = _folder_sessions(p)
            if not found:
                raise SessionError(f"session folder {text!r} holds no *.jsonl session files")
        elif not p.exists() and _GLOB.search(text):
            found = [(f, None) for f in sorted(Path(f) for f in glob.glob(text, recursive=True) if Path(f).is_file())]
            if not found:
                raise SessionError(f"session pattern {text!r} matches no files")
        else:
            if not p.exists():
                raise SessionError(f"session file {text!r} does not exist")
            found = [(p, None)]
        for f, key in found:
            key = key or os.path.realpath(f)
            if key not in seen:
                seen.add(key)
                out.append(f)
    if not out:
        raise UsageError("give at least one {session}", options=("session",))
    return out


def _folder_sessions(folder: Path) -> list[tuple[Path, str | None]]:
    """A folder's ``*.jsonl`` entries in name order, each with its real path when that needs no system call (a
    plain file: the folder's real path and its name): one directory read for a folder of 100,000 sessions."""
    real = os.path.realpath(folder)
    with os.scandir(folder) as entries:
        named = sorted((e.name, e.is_symlink()) for e in entries if e.name.endswith(".jsonl"))
    return [(folder / name, None if link else os.path.join(real, name)) for name, link in named]
