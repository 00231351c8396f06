"""The one JSON serializer: orjson everywhere, with one fallback for values orjson cannot write.

Session records, ``inspect --json``, ``update --json``/``--output`` and every export row go through here, so a message
looks the same wherever it is written. Core modules use this; display code (``render``) builds on it.
"""

from __future__ import annotations

import contextlib
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


#: How deep :func:`sanitize` keeps a value (orjson itself writes at most 255 levels).
MAX_DEPTH = 200
TOO_DEEP = "<nested too deeply to show>"
CYCLE = "<refers to itself>"


def _legible(text: str) -> str:
    from .textsafe import legible  # only on the fallback path (textsafe compiles its patterns on import)

    return legible(text)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return _legible(key)
    if isinstance(key, (bool, int, float)) or key is None:
        return orjson.dumps(key).decode()
    if isinstance(key, tuple):
        return ", ".join(_key(k) for k in key)
    try:
        return str(key)
    except Exception:  # a key whose __str__ raises
        return f"<{type(key).__name__}>"


def _leaf(value: Any) -> Any:
    try:
        out = json_default(value)
    except Exception:  # a model_dump or __repr__ that raises
        return f"<{type(value).__name__} that cannot be shown>"
    return out


def sanitize(value: Any, *, max_depth: int = MAX_DEPTH) -> Any:
    """``value`` as plain JSON data, keeping every part that can be shown and replacing only what cannot.

    The one sanitizer for values agent-ft did not build (a client's stats): what the table view shows and what
    ``--json``/``--output`` write. Strings holding a file name's undecodable bytes become valid text
    (:func:`agent_ft_cli.textsafe.legible`: UTF-8 where valid, else ``\\xNN``). Keys become strings (a tuple key
    ``("a", 1)`` reads ``a, 1``); a container that contains itself becomes :data:`CYCLE` at the point it recurs;
    the part deeper than ``max_depth`` becomes :data:`TOO_DEEP`; sets, tuples, bytes, pydantic models and other
    objects get the :func:`json_default` fallback. Never raises (except an interrupt), never recurses deeper than
    ``max_depth``.
    """

    def walk(v: Any, depth: int, seen: frozenset[int]) -> Any:
        if isinstance(v, str):
            return _legible(v)  # a file name's undecodable bytes (surrogate escapes): orjson refuses them
        if v is None or isinstance(v, bool):
            return v
        if isinstance(v, float):
            return v if v == v and v not in (float("inf"), float("-inf")) else None  # as orjson writes them
        if isinstance(v, int):
            return int(v)  # an int subclass (an IntEnum) as the number
        if depth >= max_depth:
            return TOO_DEEP
        if isinstance(v, dict):
            if id(v) in seen:
                return CYCLE
            inner = seen | {id(v)}
            out: dict[str, Any] = {}
            for k, item in list(v.items()):
                name = _key(k)
                while name in out:  # two keys that read the same (1 and "1"): keep both
                    name += "'"
                out[name] = walk(item, depth + 1, inner)
            return out
        if isinstance(v, (list, tuple, set, frozenset)):
            if id(v) in seen:
                return CYCLE
            inner = seen | {id(v)}
            items = list(v)
            if isinstance(v, (set, frozenset)):
                with contextlib.suppress(TypeError):
                    items = sorted(items)
            return [walk(item, depth + 1, inner) for item in items]
        converted = _leaf(v)
        if converted is v or isinstance(converted, str):
            return converted
        return walk(converted, depth + 1, seen)

    return walk(value, 0, frozenset())


def to_json(value: Any, *, indent: bool = False) -> bytes:
    """``value`` as JSON bytes: orjson, non-string keys allowed, anything unknown rendered with :func:`json_default`;
    a value orjson cannot write whole (too deep, a cycle, a key it does not take) is passed through :func:`sanitize` first."""
    opts = DUMP_OPTS | (orjson.OPT_INDENT_2 if indent else 0)
    try:
        return orjson.dumps(value, default=json_default, option=opts)
    except (orjson.JSONEncodeError, RecursionError, TypeError, ValueError):
        clean = sanitize(value)
    try:
        return orjson.dumps(clean, default=_leaf, option=opts)
    except orjson.JSONEncodeError:  # an int too big for orjson: the stdlib writes it (clean is shallow and acyclic)
        import json

        seps = None if indent else (",", ":")
        text = json.dumps(clean, default=_leaf, ensure_ascii=False, indent=2 if indent else None, separators=seps)
        return text.encode("utf-8", "replace")


def dumps_line(record: dict[str, Any]) -> bytes:
    """One JSON Lines record (compact JSON plus ``\\n``), as the session writer appends it."""
    return orjson.dumps(record, default=json_default, option=DUMP_OPTS | orjson.OPT_APPEND_NEWLINE)
