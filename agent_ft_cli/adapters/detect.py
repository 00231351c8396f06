"""Which kind of source a file is: the one place detection happens (each adapter only says yes or no)."""

from __future__ import annotations

from pathlib import Path

import orjson

from ..errors import InputDataError
from .model import Probe
from .registry import get_adapter, kinds

_LINES = 5  # how many of the file's first lines are shown to the adapters
_PROBE_BYTES = 1024 * 1024  # of each, at most this much (a longer line is shown cut, so it reads as no JSON)


def probes(path: Path) -> list[Probe]:
    """The file's first bytes with each of its first non-blank lines (one probe with no line for an empty file)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
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
    raise InputDataError(
        f"{path}: cannot tell what this is (none of: {', '.join(kinds())}); pass {{kind}} {'|'.join(kinds())}",
        options=("kind",),
    )
