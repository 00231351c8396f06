"""Preference data from a file (JSON, JSON Lines or YAML) or stdin (``-``), passed on to the client as-is.

The shape belongs to the client's author (the seed's contract); agent-ft only parses. The format is chosen by
extension (``.json``, ``.jsonl``/``.ndjson``, ``.yaml``/``.yml``); other names are tried as JSON, then JSON Lines.
Errors give the file and the line (and column) of the problem.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

from .errors import PrefsError
from .fsutil import read_text


def _json_position(text: str, err: orjson.JSONDecodeError) -> str:
    pos = getattr(err, "pos", None)
    if pos is None:
        return ""
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f":{line}:{col}"


def _parse_json(text: str, where: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as e:
        reason = str(e).split(":", 1)[0]
        raise PrefsError(f"{where}{_json_position(text, e)}: invalid JSON ({reason})") from None


def _parse_jsonl(text: str, where: str) -> list[Any]:
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(orjson.loads(line))
        except orjson.JSONDecodeError as e:
            reason = str(e).split(":", 1)[0]
            raise PrefsError(f"{where}:{lineno}: invalid JSON Lines record ({reason})") from None
    if not rows:
        raise PrefsError(f"{where}: no records in the JSON Lines file")
    return rows


def _parse_yaml(text: str, where: str) -> Any:
    from .config import parse_yaml
    from .errors import ConfigError

    try:
        return parse_yaml(text, where)
    except ConfigError as e:
        raise PrefsError(e.message) from None


def parse_prefs(text: str, where: str, kind: str | None = None) -> Any:
    """Parse preference text of a given kind (``json``, ``jsonl``, ``yaml``, or ``None`` to guess)."""
    if not text.strip():
        raise PrefsError(f"{where} is empty; preference data is JSON, JSON Lines or YAML (see the README)")
    if kind == "json":
        return _parse_json(text, where)
    if kind == "jsonl":
        return _parse_jsonl(text, where)
    if kind == "yaml":
        data = _parse_yaml(text, where)
        if data is None:
            raise PrefsError(f"{where} holds no data")
        return data
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as first:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) > 1 and lines[0].lstrip()[:1] in "{[\"":
            return _parse_jsonl(text, where)
        reason = str(first).split(":", 1)[0]
        raise PrefsError(f"{where}{_json_position(text, first)}: invalid JSON ({reason})") from None


def load_prefs(path: str | Path) -> Any:
    """Read preference data from ``path`` (``-`` for stdin)."""
    if str(path) == "-":
        return parse_prefs(sys.stdin.read(), "<stdin>")
    p = Path(path)
    text = read_text(p, noun="preference file", error=PrefsError)
    suffix = p.suffix.lower()
    kind = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".yaml": "yaml", ".yml": "yaml"}.get(suffix)
    return parse_prefs(text, str(p), kind)
