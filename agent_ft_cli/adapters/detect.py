"""Which kind of source a file is: the one place detection happens (each adapter only says yes or no)."""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from ..errors import InputDataError
from .model import HEAD_BYTES, Probe
from .registry import get_adapter, kinds

_LINES = 5  # how many of the file's first lines are shown to the adapters
_PROBE_BYTES = 1024 * 1024  # of each, at most this much (a longer line is shown cut, so it reads as no JSON)


def probes(path: Path) -> list[Probe]:
    """The file's first bytes with each of its first non-blank lines (one probe with no line for an empty file), from
    one open of the file."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
            fh.seek(0)
            lines = [fh.readline(_PROBE_BYTES) for _ in range(_LINES)]  # bounded: a huge first line is cut
    except OSError as e:
        raise InputDataError(f"cannot read {str(path)!r}: {e.strerror or e}") from None
    out = []
    for raw in lines:
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            continue
        try:
            record = orjson.loads(text)
        except ValueError:
            record = None
        out.append(Probe(path, head, text, record))
    return out or [Probe(path, head, "", None)]


def detect_kind(path: Path) -> str:
    """The first kind whose adapter recognises the file: probes in file order, adapters in registry order."""
    adapters = [get_adapter(kind) for kind in kinds()]
    for probe in probes(path):
        for adapter in adapters:
            if adapter.sniff is not None and adapter.sniff(probe):
                return adapter.kind
    _explain_undetected(path)
    raise InputDataError(
        f"{path}: cannot tell what this is (none of: {', '.join(kinds())}); pass {{kind}} {'|'.join(kinds())}",
        options=("kind",),
    )


_AG2_EVENT = re.compile(rb'"__(?:event|pydantic|enum|dataclass)__"\s*:\s*"ag2\.')


def _explain_undetected(path: Path) -> None:
    """Before "cannot tell what this is": ag2 1.x's own event JSON points to the way to record it, and JSON that does
    not parse says where and why (``file:line:column`` and the whole reason), whatever kind it was meant to be."""
    import json

    from ..fsutil import read_text

    with open(path, "rb") as fh:
        head = fh.read(_PROBE_BYTES)
    if _AG2_EVENT.search(head):  # event.to_dict() / ag2's serialisation: qualified ag2 class names
        raise InputDataError(
            f"{path}: this looks like ag2 1.x events, not a chat log agent-ft imports; record the agent with "
            "agent_ft_cli.adapters.ag2.SessionStorage, or snapshot a finished conversation with save_ag2_session "
            "(docs/frameworks.md)"
        )
    if head.lstrip()[:1] not in (b"{", b"["):
        return
    try:
        json.loads(read_text(path, noun="import source", error=InputDataError))
    except json.JSONDecodeError as e:
        if e.msg == "Extra data":  # several JSON values: JSON Lines, told apart line by line
            bad = next((p for p in probes(path) if p.record is None and p.line[:1] in ("{", "[")), None)
            if bad is None:
                return
            try:
                orjson.loads(bad.line)
            except orjson.JSONDecodeError as err:
                line = next((n for n, raw in enumerate(head.splitlines(), 1) if raw.decode("utf-8", "replace").strip() == bad.line), 1)
                raise InputDataError(
                    f"{path}:{line}: not valid JSON ({err.msg} at column {err.colno}); or pass {{kind}} {'|'.join(kinds())}",
                    options=("kind",),
                ) from None
            return
        raise InputDataError(
            f"{path}: not valid JSON at line {e.lineno}, column {e.colno} ({e.msg}); or pass {{kind}} {'|'.join(kinds())}",
            options=("kind",),
        ) from None
    except (ValueError, RecursionError):  # not text, or nested deeper than any reader goes: "cannot tell" says it
        return
