"""The library's export and replay: what the ``export`` command writes, and the live pair ``update`` rebuilds.

Both build on the code the commands use (the :class:`~.exporter.Exporter` and the shared replay walk), so a script
gets exactly the CLI's rows and agents.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from typing import Any, Literal, overload

from ..errors import InputDataError, SessionWarning, UsageError
from ..session import Session, WarnFn
from ..session.paths import expand_sessions
from ..types import ExportRow, KTORow, MessagesRow, OpenAIDPORow, PreferenceRow, StandardPreferenceRow
from .exporter import Exporter, SessionSource
from .options import ExportOptions

_OPTIONS = ("standard", "train_last_only", "agent", "peer", "strict")

Sessions = SessionSource | Iterable[SessionSource]
"""What ``export_rows`` takes: a session (path, folder, glob or :class:`Session`) or several."""


def _not_a_session(item: Any) -> UsageError:
    return UsageError(
        f"sessions: expected a path (str or os.PathLike: a session file, a folder of *.jsonl or a glob pattern), a "
        f"Session from load_session, or a list of them; got {type(item).__name__}"
    )


def _path(value: Any, argument: str) -> str | None:
    """``value`` as a path string when it is one (``str`` or ``os.PathLike``), else None; an empty one is refused."""
    if not isinstance(value, (str, os.PathLike)):
        return None
    path = os.fspath(value)
    if not isinstance(path, str):
        return None
    if not path:
        raise UsageError(f"{argument}: an empty path")
    return path


def _sources(sessions: Sessions) -> list[SessionSource]:
    if isinstance(sessions, (str, os.PathLike, Session)):
        items: list[Any] = [sessions]
    elif isinstance(sessions, (bytes, bytearray, dict)) or not isinstance(sessions, Iterable):
        raise _not_a_session(sessions)  # bytes and dicts iterate, but not over sessions
    else:
        items = list(sessions)
    out: list[SessionSource] = []
    for item in items:
        if isinstance(item, Session):
            out.append(item)
        elif (path := _path(item, "sessions")) is not None:
            out.extend(expand_sessions([path]))
        else:
            raise _not_a_session(item)
    if not out:
        raise UsageError("give at least one {session}", options=("session",))
    return out


def _check_types(options: dict[str, Any], on_warning: Any) -> None:
    for key, value in options.items():
        flag = key in ("standard", "train_last_only", "strict")
        if not (isinstance(value, bool) if flag else value is None or isinstance(value, str)):
            want = "True or False" if flag else "a name or None"
            raise UsageError(f"{key}: expected {want}, got {type(value).__name__}")
    if on_warning is not None and not callable(on_warning):
        raise UsageError(f"on_warning: expected a function of one message, got {type(on_warning).__name__}")


# The row type follows the format: a literal ``format`` (and ``standard``) gives its own TypedDict, any other string
# the union of them. The keyword options are spelled out for type checkers; at run time ``**options`` takes them.
@overload
def export_rows(
    sessions: Sessions, *, format: Literal["trl-sft", "openai-sft"], prefs: Any = ..., on_warning: WarnFn | None = ...,
    train_last_only: bool = ..., agent: str | None = ..., peer: str | None = ..., strict: bool = ...,
) -> list[MessagesRow]: ...
@overload
def export_rows(
    sessions: Sessions, *, format: Literal["trl-preference"], prefs: Any = ..., on_warning: WarnFn | None = ...,
    standard: Literal[False] = ..., agent: str | None = ..., peer: str | None = ..., strict: bool = ...,
) -> list[PreferenceRow]: ...
@overload
def export_rows(
    sessions: Sessions, *, format: Literal["trl-preference"], prefs: Any = ..., on_warning: WarnFn | None = ...,
    standard: Literal[True], agent: str | None = ..., peer: str | None = ..., strict: bool = ...,
) -> list[StandardPreferenceRow]: ...
@overload
def export_rows(
    sessions: Sessions, *, format: Literal["trl-kto"], prefs: Any = ..., on_warning: WarnFn | None = ...,
    agent: str | None = ..., peer: str | None = ..., strict: bool = ...,
) -> list[KTORow]: ...
@overload
def export_rows(
    sessions: Sessions, *, format: Literal["openai-dpo"], prefs: Any = ..., on_warning: WarnFn | None = ...,
    agent: str | None = ..., peer: str | None = ..., strict: bool = ...,
) -> list[OpenAIDPORow]: ...
@overload
def export_rows(
    sessions: Sessions, *, format: str, prefs: Any = ..., on_warning: WarnFn | None = ..., standard: bool = ...,
    train_last_only: bool = ..., agent: str | None = ..., peer: str | None = ..., strict: bool = ...,
) -> list[ExportRow]: ...
def export_rows(
    sessions: Sessions,
    *,
    format: str,
    prefs: Any = None,
    on_warning: WarnFn | None = None,
    **options: Any,
) -> list[Any]:
    """The rows ``agent-ft export`` writes, as a list of dicts (typed per format: :mod:`agent_ft_cli.types`).

    ``sessions``: a path (a session file, a folder of ``*.jsonl`` or a glob pattern), a :class:`Session` from
    :func:`load_session`, or a list of them. ``format``: ``"trl-preference"``, ``"trl-sft"``, ``"trl-kto"``,
    ``"openai-sft"`` or ``"openai-dpo"``. ``prefs``: the preference pairs (the data, as ``update_model`` takes it)
    or the path of a prefs file (JSON, JSON Lines or YAML). ``options``: ``standard``, ``train_last_only``,
    ``agent``, ``peer``, ``strict`` as for the command.

    What the command reports as skipped is reported here too, one message each: a session that cannot be used (the
    agent is not in it, its thread has no answer to train on, ...), a pair that cannot be tied (with its reason),
    a line of a session read past. They go to ``on_warning(message)`` when it is given; otherwise each is a
    :class:`~agent_ft_cli.errors.SessionWarning` (``warnings.warn``, so ``warnings.catch_warnings`` or ``-W error``
    handle them). The rows built from everything else are returned. With ``strict=True`` the first skip raises
    instead (:class:`~agent_ft_cli.errors.StrictError`). :class:`~agent_ft_cli.export.Exporter` gives the whole
    summary (``Exporter.summary``).

    Raises :class:`~agent_ft_cli.errors.UsageError` for an unknown format or option or ``sessions`` that are not
    paths or :class:`Session` objects, and :class:`~agent_ft_cli.errors.InputDataError` (a :class:`SessionError` or
    ``PrefsError``) for unreadable input, and when no row at all can be built (every session skipped or every
    pair untied: where the command exits with code 3), its message giving the first reason.
    """
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise UsageError(f"unknown export option {unknown[0]!r}; options: {', '.join(_OPTIONS)}")
    _check_types(options, on_warning)
    prefs_path = _path(prefs, "prefs")
    if prefs_path is not None:
        from ..prefs import load_prefs

        prefs = load_prefs(prefs_path)
    held: list[str] = []
    report = on_warning if on_warning is not None else held.append
    exporter = Exporter(ExportOptions(format=format, **options), prefs, on_warning=report)
    try:
        rows = list(exporter.rows(_sources(sessions)))
        for skipped in exporter.summary.skipped_pairs:
            report(f"skipped pair {skipped['pair']}: {skipped['reason']}")
    finally:  # warned from here, so each warning points at the caller's line
        for text in held:
            warnings.warn(text, SessionWarning, stacklevel=2)
    if not rows:
        raise InputDataError(exporter.summary.nothing_built(output=False), options=("format",))
    return rows
