"""Judging the lines of a session file, the same way for every reader (:mod:`.reader`, :mod:`.one_thread`):
:func:`unparsable` for a line orjson refuses, :func:`check_record` for a parsed line that is not a well-formed
record, both locating the line with :func:`where`."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import SessionError, SessionWarning
from .records import WarnFn, record_problem

_SKIP, _STOP = object(), object()  # what :func:`unparsable` says about a line besides raising
LineNo = int | str | Callable[[], int]  # a line number, a description, or how to work it out (error paths only)


def where(path: Path, lineno: LineNo) -> str:
    """The one way a reader names a line in its messages: ``path:line`` (or ``path (description)``)."""
    if callable(lineno):
        lineno = lineno()
    return f"{path}:{lineno}" if isinstance(lineno, int) else f"{path} ({lineno})"


def _warn(on_warning: WarnFn | None, text: str) -> None:
    if on_warning is not None:
        on_warning(text)
    else:
        warnings.warn(text, SessionWarning, stacklevel=3)


def unparsable(
    path: Path, lineno: LineNo, raw: bytes, err: Exception, *, cut: bool, strict: bool, on_warning: WarnFn | None
) -> object:
    """What a line that orjson refused is: ``_SKIP`` (blank), ``_STOP`` (``cut``: the final line without its newline,
    warned about) or an error, raised, that says why (binary data, bad UTF-8, damaged JSON)."""
    if not raw.strip():
        return _SKIP
    if cut and b"\x00" not in raw:
        if strict:
            raise SessionError(
                f"{where(path, lineno)}: final line is cut short (the writer probably crashed); drop {{strict}} to skip it",
                options=("strict",),
            )
        _warn(on_warning, f"{where(path, lineno)}: skipped the final line, cut short (the writer probably crashed mid-write)")
        return _STOP
    at = where(path, lineno)
    if b"\x00" in raw:
        raise SessionError(f"{at}: binary data, not a session file (JSON Lines)")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SessionError(f"{at}: invalid UTF-8 at byte {e.start} of the line; session files are UTF-8 JSON Lines") from None
    detail = str(err).split(": line", 1)[0]
    raise SessionError(f"{at}: not valid JSON ({detail}); the line is damaged or cut short, fix or remove it")


def check_record(path: Path, lineno: LineNo, rec: Any) -> dict[str, Any]:
    """A parsed line as a well-formed record (of any type), else an error naming the line."""
    problem = record_problem(rec)
    if problem is not None:
        raise SessionError(f"{where(path, lineno)}: {problem}")
    return rec  # type: ignore[no-any-return]
