"""Preference data from a file (JSON, JSON Lines or YAML) or stdin (``-``), passed on to the client as-is.

The shape belongs to the client's author (the seed's contract); agent-ft only parses, and
:func:`check_prefs_shape` says (for ``validate``/``--strict``) when the data cannot be preference pairs. The format
is chosen by extension (``.json``, ``.jsonl``/``.ndjson``, ``.yaml``/``.yml``); stdin and other names are detected
from the content (JSON, then JSON Lines, then YAML). Errors give the file and the line (and column) of the problem.
What is read is bounded (:func:`~agent_ft_cli.fsutil.max_input_bytes`).

Answers ``agent-ft review`` appended (records with ``"review": {"key": ...}``) may answer the same reply more than
once: the last record for a key wins, the earlier ones are left out when the data are loaded (:func:`latest`, the
one owner of that rule), so ``update``, ``eval`` and ``export`` see each reply's latest answer only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from .errors import PrefsError
from .fsutil import read_stdin_text, read_text


def _parse_json(text: str, where: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as e:
        raise PrefsError(f"{where}:{e.lineno}:{e.colno}: invalid JSON ({e.msg})") from None


def _parse_jsonl(text: str, where: str) -> list[Any]:
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(orjson.loads(line))
        except orjson.JSONDecodeError as e:
            raise PrefsError(f"{where}:{lineno}: invalid JSON Lines record ({e.msg})") from None
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


def _looks_like_jsonl(text: str) -> bool:
    """Two or more lines, each of the first few a JSON value of its own."""
    lines = [ln for ln in text.splitlines() if ln.strip()][:3]
    if len(lines) < 2:
        return False
    try:
        for ln in lines:
            orjson.loads(ln)
    except orjson.JSONDecodeError:
        return False
    return True


def parse_prefs(text: str, where: str, kind: str | None = None) -> Any:
    """Parse preference text of a given kind (``json``, ``jsonl``, ``yaml``, or ``None`` to detect it from the
    content: JSON, JSON Lines, then YAML)."""
    if not text.strip():
        raise PrefsError(f"{where} is empty; preference data is JSON, JSON Lines or YAML (see the README)")
    if kind == "json":
        try:
            return _parse_json(text, where)
        except PrefsError as e:
            if _looks_like_jsonl(text):
                raise PrefsError(e.message, hint="the file holds JSON Lines, one record per line: name it .jsonl") from None
            raise
    if kind == "jsonl":
        return _parse_jsonl(text, where)
    if kind == "yaml":
        data = _parse_yaml(text, where)
        if data is None:
            raise PrefsError(f"{where} holds no data")
        return data
    try:
        return _parse_json(text, where)
    except PrefsError as first:
        json_error = first
    if _looks_like_jsonl(text):
        return _parse_jsonl(text, where)
    start = text.lstrip()[:1]
    if start in ("{", "[", '"'):  # JSON (or JSON Lines) that is broken: say where, as JSON
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) > 1 and all(ln.lstrip()[:1] in "{[\"" for ln in lines[:3]):
            return _parse_jsonl(text, where)
        raise json_error
    data = _parse_yaml(text, where)
    if not isinstance(data, (dict, list)):
        raise PrefsError(
            f"{where}: not JSON, JSON Lines or YAML preference data (the text reads only as a YAML "
            f"{'plain string' if isinstance(data, str) else type(data).__name__})"
        )
    return data


def review_key(item: Any) -> str | None:
    """The key of a record ``agent-ft review`` wrote (``item["review"]["key"]``), or None."""
    meta = item.get("review") if isinstance(item, dict) else None
    key = meta.get("key") if isinstance(meta, dict) else None
    return key if isinstance(key, str) and key else None


def latest(data: Any) -> Any:
    """``data`` with every review record but the last one for its key left out (in place of the last one); data
    without review records, or not a list, is returned as it is."""
    if not isinstance(data, list):
        return data
    last = {k: i for i, item in enumerate(data) if (k := review_key(item)) is not None}
    if not last:
        return data
    return [item for i, item in enumerate(data) if (k := review_key(item)) is None or last[k] == i]


def load_prefs(path: str | Path, *, on_text: Callable[[str], None] | None = None) -> Any:
    """Read preference data from ``path`` (``-`` for stdin); of several review answers to one reply, the last
    (:func:`latest`). ``on_text`` gets a file's text as read (a run record hashes it: the file is read once)."""
    if str(path) == "-":
        return latest(parse_prefs(read_stdin_text(error=PrefsError), "<stdin>"))
    p = Path(path)
    text = read_text(p, noun="preference file", error=PrefsError, stdin=True)
    if on_text is not None:
        on_text(text)
    kind = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".yaml": "yaml", ".yml": "yaml"}.get(p.suffix.lower())
    return latest(parse_prefs(text, str(p), kind))


MAX_SHAPE_PROBLEMS = 20


def check_prefs_shape(data: Any) -> list[str]:
    """What keeps ``data`` from being preference pairs (``[[chosen, rejected], ...]`` or ``{"chosen", "rejected",
    "prompt"?}`` objects, or ``{"pairs": [...]}``); empty when it can be.

    Never used to refuse data on its own: the seed passes ``preference_data`` to the client as-is and its shape
    belongs to the client's author. ``validate`` and ``--strict`` report these problems.
    """
    from .align import is_label, normalize_pairs

    if isinstance(data, dict) and not ("chosen" in data or "pairs" in data):
        keys = ", ".join(map(repr, list(data)[:5])) or "no keys"
        return [f"preference data is a mapping ({keys}) without 'chosen'/'rejected' or 'pairs'; expected a list of pairs"]
    if isinstance(data, dict) and "pairs" in data and not isinstance(data["pairs"], (list, tuple)):
        return [f"key 'pairs' is a {type(data['pairs']).__name__}, not a list of pairs"]
    if not isinstance(data, (list, tuple, dict)):
        name = type(data).__name__
        return [f"preference data is {'an' if name[:1] in 'aeiou' else 'a'} {name}, not a list of [chosen, rejected] pairs"]
    pairs, skipped = normalize_pairs(data)
    problems = [f"item {s.index}: {s.reason}" for s in skipped]
    if not pairs and not skipped and not (isinstance(data, list) and any(is_label(x) for x in data)):
        problems.append("preference data holds no pairs")
    if len(problems) > MAX_SHAPE_PROBLEMS:
        problems = [*problems[:MAX_SHAPE_PROBLEMS], f"... and {len(problems) - MAX_SHAPE_PROBLEMS} more"]
    return problems
