"""The one JSON serializer: orjson everywhere, with one fallback for values orjson cannot write.

Session records, ``inspect --json``, ``update --json``/``--output`` and every export row go through here, so a message
looks the same wherever it is written. Core modules use this; display code (``render``) builds on it.
"""

from __future__ import annotations

from typing import Any

import orjson

#: orjson options shared by every writer (dict keys that are not strings are allowed and written as strings).
DUMP_OPTS = orjson.OPT_NON_STR_KEYS


def json_default(value: Any) -> Any:
    """orjson fallback: pydantic models become dicts, anything else its repr (never a crash)."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


def to_json(value: Any, *, indent: bool = False) -> bytes:
    """``value`` as JSON bytes: orjson, non-string keys allowed, anything unknown rendered with :func:`json_default`."""
    opts = DUMP_OPTS | (orjson.OPT_INDENT_2 if indent else 0)
    try:
        return orjson.dumps(value, default=json_default, option=opts)
    except orjson.JSONEncodeError:  # deeper than orjson writes, or an int too big for it: the slower stdlib can
        import json

        seps = None if indent else (",", ":")
        try:
            text = json.dumps(value, default=json_default, ensure_ascii=False, indent=2 if indent else None, separators=seps)
        except (ValueError, RecursionError):
            text = '"<value nested too deeply to show>"'
        return text.encode("utf-8", "replace")


def dumps_line(record: dict[str, Any]) -> bytes:
    """One JSON Lines record (compact JSON plus ``\\n``), as the session writer appends it."""
    return orjson.dumps(record, default=json_default, option=DUMP_OPTS | orjson.OPT_APPEND_NEWLINE)
