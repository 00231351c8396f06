"""The one JSON serializer: orjson everywhere, with one fallback for values orjson cannot write.

Session records, ``inspect --json``, ``update --json``/``--output`` and every export row go through here, so a message
looks the same wherever it is written. Core modules use this; display code (``render``) builds on it.

Two fallbacks over one walk (:func:`_plain`: cycles, depth, keys): :func:`sanitize` (values agent-ft shows: a
client's stats, rows) and :func:`recordable` (values a recording writes: only the value JSON cannot hold is
replaced, by kind, as :data:`RECORD_FALLBACKS` and docs/session-format.md say).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime
import enum
import functools
import io
import json
import math
import re
import types
import typing
import uuid
from collections.abc import Callable
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
    """``value`` as plain JSON data, keeping every part that can be shown and replacing only what cannot: what the
    table view shows and ``--json``/``--output`` write of values agent-ft did not build (a client's stats).

    Strings with a file name's undecodable bytes read as the terminal shows them (:func:`agent_ft_cli.textsafe.
    legible`; a recording keeps them restorable instead); a cycle is :data:`CYCLE`, the part deeper than
    ``max_depth`` :data:`TOO_DEEP`, NaN and infinities null (as orjson writes them), other objects the
    :func:`json_default` fallback (:func:`_plain`, the walk shared with :func:`recordable`). Never raises.
    """

    def number(n: Any) -> Any:
        if isinstance(n, float):
            return n if n == n and n not in (math.inf, -math.inf) else None
        return int(n)  # an int subclass (an IntEnum) as the number

    def other(v: Any, depth: int, walk: Callable[[Any, int], Any]) -> Any:
        if depth >= max_depth:
            return TOO_DEEP
        converted = _leaf(v)
        return converted if converted is v or isinstance(converted, str) else walk(converted, depth + 1)

    return _plain(value, _Policy(_legible, number, _key, other, TOO_DEEP, CYCLE, lambda kind: None), max_depth)


@dataclasses.dataclass(frozen=True)
class _Policy:
    """What :func:`_plain` does with each kind of value: the one difference between showing and recording."""

    text: Callable[[str], str]
    number: Callable[[Any], Any]
    key: Callable[[Any], str]
    other: Callable[[Any, int, Callable[[Any, int], Any]], Any]
    too_deep: str
    cycle: str
    note: Callable[[str], None]


def _plain(value: Any, policy: _Policy, max_depth: int) -> Any:
    """The one walk over a value that turns it into plain JSON data: scalars through ``policy``, containers
    rebuilt (keys made strings, two keys that read the same both kept, sets sorted when they can be), a container
    that holds itself as ``policy.cycle`` where it recurs, the part deeper than ``max_depth`` as
    ``policy.too_deep``, a part whose conversion raises as ``<TypeName>``. One frame per level."""
    path: set[int] = set()  # ids of the containers on the way down (a shared, non-cyclic value is walked twice)
    text, number, key, other, note = policy.text, policy.number, policy.key, policy.other, policy.note

    def walk(v: Any, depth: int) -> Any:
        try:
            if v is None or v is True or v is False:
                return v
            t = type(v)
            if t is str:
                return text(v)
            if t is int or t is float:
                return number(v)
            if isinstance(v, enum.Enum):
                return walk(v.value, depth)
            if isinstance(v, str):
                return text(v)
            if isinstance(v, (int, float)):  # an int or float subclass (numpy.float64): the number
                return number(int(v) if isinstance(v, int) else float(v))
            if not isinstance(v, (dict, list, tuple, set, frozenset)):
                return other(v, depth, walk)
            if depth >= max_depth:
                note("too deep")
                return policy.too_deep
            if id(v) in path:
                note("cycle")
                return policy.cycle
            path.add(id(v))
            try:
                if isinstance(v, dict):
                    out: dict[str, Any] = {}
                    for k, item in list(v.items()):
                        name = key(k)
                        while name in out:  # two keys that read the same (1 and "1"): keep both
                            name += "'"
                        out[name] = walk(item, depth + 1)
                    return out
                items = list(v)
                if isinstance(v, (set, frozenset)):
                    note("set")
                    with contextlib.suppress(TypeError):
                        items = sorted(items)
                for i, item in enumerate(items):
                    items[i] = walk(item, depth + 1)
                return items
            finally:
                path.discard(id(v))
        except RecursionError:
            note("too deep")
            return policy.too_deep
        except Exception:  # a conversion that raises: this part alone falls back
            note("object")
            return f"<{type(v).__name__}>"

    return walk(value, 0)


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
        seps = None if indent else (",", ":")
        text = json.dumps(clean, default=_leaf, ensure_ascii=False, indent=2 if indent else None, separators=seps)
        return text.encode("utf-8", "replace")


def shaped(obj: Any, shape: Any, *, digits: int | None = None) -> Any:
    """``obj`` (a result dataclass) as its TypedDict ``shape`` in ``agent_ft_cli.types`` says, in the shape's key
    order: each key from the attribute of that name; an optional key left out when it is None or empty; a value
    whose declared type is a shape (or a list of them) shaped alike; an enum as its value; floats rounded to
    ``digits``. The shapes are the one result model: a result gains a key by declaring it there."""
    out: dict[str, Any] = {}
    hints, optional = _keys(shape)
    for key, tp in hints.items():
        value = getattr(obj, key)
        if key in optional and (value is None or value == []):
            continue
        out[key] = _shaped_value(value, tp, digits)
    return out


@functools.cache
def _keys(shape: Any) -> tuple[dict[str, Any], frozenset[str]]:
    """A shape's keys with their types, and its optional keys (``NotRequired`` from typing_extensions on 3.10 too)."""
    hints, optional = {}, set(shape.__optional_keys__)
    for key, tp in typing.get_type_hints(shape).items():
        if getattr(typing.get_origin(tp), "_name", None) == "NotRequired":
            optional.add(key)
            tp = typing.get_args(tp)[0]
        hints[key] = tp
    return hints, frozenset(optional)


def _shaped_value(value: Any, tp: Any, digits: int | None) -> Any:
    if value is None:
        return None
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1:
        tp = args[0]
    if typing.is_typeddict(tp) and not isinstance(value, dict):
        return shaped(value, tp, digits=digits)
    if typing.get_origin(tp) is list and args and typing.is_typeddict(args[0]):
        return [v if isinstance(v, dict) else shaped(v, args[0], digits=digits) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, float) and digits is not None:
        return round(value, digits)
    return value


def dumps_line(record: dict[str, Any]) -> bytes:
    """One JSON Lines record (compact JSON plus ``\\n``), as the session writer appends it."""
    return orjson.dumps(record, default=json_default, option=DUMP_OPTS | orjson.OPT_APPEND_NEWLINE)


# ---------------------------------------------------------------------------------------------------------------
# values from a live chat, as a session record keeps them

#: What a session record holds in place of a value JSON (as every reader parses it) cannot hold exactly, by kind;
#: a recording warns once per kind and file. docs/session-format.md has the same table; only the value concerned
#: is replaced, everything around it is kept exactly.
RECORD_FALLBACKS: dict[str, str] = {
    "surrogate": (
        "a string with a lone surrogate (os.fsdecode, surrogateescape output, an odd file name) is written with each "
        "lone surrogate as the six characters \\udcff (Python's 'backslashreplace'), the rest of the string unchanged"
    ),
    "big int": "an integer beyond 64 bits is written as its decimal string",
    "NaN/inf": 'NaN and infinities are written as the strings "NaN", "Infinity", "-Infinity"',
    "key": 'a dict key that is not a string is written as its JSON text (1 -> "1", None -> "null", ("a", 1) -> "a, 1")',
    "set": "a set is written as a list (sorted when its items can be sorted)",
    "bytes": "bytes are written as a base64 data: URI (image/png, image/jpeg, ... when they are an image)",
    "image": "a PIL image is written as its PNG data: URI, as autogen sends it to the model",
    "object": "an object JSON has no form for is written as its repr (its str, or <TypeName>, when repr raises)",
    "cycle": 'a container that holds itself is written as the string "<cycle>" where it repeats',
    "too deep": 'the part of a value nested deeper than 254 levels (the whole line counted, the most orjson writes) is written as the string "<nested too deeply to record>"',
}
#: How many containers deep a record line goes (orjson writes at most 254); the part below falls back (``too deep``).
RECORD_DEPTH = 254
RECORD_TOO_DEEP = "<nested too deeply to record>"
RECORD_CYCLE = "<cycle>"
_I64_MIN, _U64_MAX = -(2**63), 2**64 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u(d[89a-f][0-9a-f]{2})")
_IMAGE_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"))


def escape_surrogates(text: str) -> str:
    """``text`` with each lone surrogate as the six characters ``\\udcff`` (what ``backslashreplace`` writes)."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def restore_surrogates(text: str) -> str:
    """The inverse of :func:`escape_surrogates`, for a string a recording warned about (kind ``surrogate``)."""
    return _ESCAPED_SURROGATE.sub(lambda m: chr(int(m[1], 16)), text)


def _plain_text(text: str, notes: set[str]) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        notes.add("surrogate")
        return escape_surrogates(str.__str__(text))
    return text if type(text) is str else str.__str__(text)


def image_mime(data: bytes) -> str | None:
    """The image type of ``data`` by its first bytes (PNG, JPEG, GIF, WebP), or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((m for magic, m in _IMAGE_MAGIC if data.startswith(magic)), None)


def _data_uri(data: bytes) -> str:
    return f"data:{image_mime(data) or 'application/octet-stream'};base64,{base64.b64encode(data).decode('ascii')}"


def _shown(value: Any) -> str:
    for show in (repr, str):
        try:
            shown = show(value)
        except Exception:  # a __repr__ / __str__ that raises
            continue
        if isinstance(shown, str):
            return shown
    return f"<{type(value).__name__}>"


def _record_key(key: Any, notes: set[str]) -> str:
    if isinstance(key, str):
        return _plain_text(key, notes)
    notes.add("key")
    if key is None or isinstance(key, bool):
        return {None: "null", True: "true", False: "false"}[key]
    if isinstance(key, enum.Enum):
        return _record_key(key.value, notes)
    if isinstance(key, int):
        return str(int(key))
    if isinstance(key, float):
        return json.dumps(float(key))  # 1.5 -> "1.5", nan -> "NaN"
    if isinstance(key, tuple):
        return ", ".join(_record_key(k, notes) for k in key)
    return _plain_text(_shown(key), notes)


def recordable(value: Any, notes: set[str], *, max_depth: int = RECORD_DEPTH) -> Any:
    """``value`` as plain JSON data every reader parses back exactly, replacing only what JSON cannot hold.

    Plain values (str without lone surrogates, int within 64 bits, finite float, bool, None, list, dict with str
    keys) are kept as they are; tuples are lists; pydantic models, dataclasses, enums, numpy values, dates and
    UUIDs are their data (as orjson writes them); anything else falls back as :data:`RECORD_FALLBACKS` says, and
    its kind is added to ``notes``. Never raises (except an interrupt): a part that fails to convert falls back
    alone (``object``; ``too deep`` for a RecursionError)."""

    def _number(n: Any) -> Any:
        if type(n) is int:
            if _I64_MIN <= n <= _U64_MAX:
                return n
            notes.add("big int")
            return str(n)
        if n != n:
            notes.add("NaN/inf")
            return "NaN"
        if n in (math.inf, -math.inf):
            notes.add("NaN/inf")
            return "Infinity" if n > 0 else "-Infinity"
        return n

    def _other(v: Any, depth: int, walk: Callable[[Any, int], Any]) -> Any:
        if isinstance(v, (bytes, bytearray, memoryview)):
            notes.add("bytes")
            return _data_uri(bytes(v))
        module = type(v).__module__ or ""
        if module.startswith("PIL.") and callable(getattr(v, "save", None)):
            buf = io.BytesIO()
            v.save(buf, format="PNG")
            notes.add("image")
            return _data_uri(buf.getvalue())
        dump = getattr(v, "model_dump", None)
        if callable(dump) and not isinstance(v, type):  # a pydantic model: its data
            return walk(dump(), depth)
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return walk({f.name: getattr(v, f.name) for f in dataclasses.fields(v)}, depth)
        if module.startswith("numpy") and callable(getattr(v, "tolist", None)):
            return walk(v.tolist(), depth)
        if isinstance(v, (datetime.date, datetime.time, uuid.UUID)):
            return orjson.loads(orjson.dumps(v))
        notes.add("object")
        return _plain_text(_shown(v), notes)

    policy = _Policy(
        lambda text: _plain_text(text, notes), _number, lambda k: _record_key(k, notes), _other, RECORD_TOO_DEEP,
        RECORD_CYCLE, notes.add,
    )
    return _plain(value, policy, max_depth)
