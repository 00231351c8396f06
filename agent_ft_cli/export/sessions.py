"""Session arguments (files, folders, glob patterns) as the list of files to export."""

from __future__ import annotations

import glob
import re
from collections.abc import Iterable
from pathlib import Path

from ..errors import SessionError, UsageError

_GLOB = re.compile(r"[*?\[]")


def expand_sessions(items: Iterable[Path | str]) -> list[Path]:
    """Session arguments as files: a file, a folder (its ``*.jsonl``) or a glob pattern, in order, no duplicates."""
    seen: set[Path] = set()
    out: list[Path] = []
    for item in items:
        text = str(item)
        p = Path(text)
        if p.is_dir():
            found = sorted(p.glob("*.jsonl"))
            if not found:
                raise SessionError(f"session folder {text!r} holds no *.jsonl session files")
        elif not p.exists() and _GLOB.search(text):
            found = sorted(Path(f) for f in glob.glob(text, recursive=True) if Path(f).is_file())
            if not found:
                raise SessionError(f"session pattern {text!r} matches no files")
        else:
            if not p.exists():
                raise SessionError(f"session file {text!r} does not exist")
            found = [p]
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                out.append(f)
    if not out:
        raise UsageError("give at least one {session}", options=("session",))
    return out
