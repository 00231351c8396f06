"""The library's export and replay: what the ``export`` command writes, and the live pair ``update`` rebuilds.

Both build on the code the commands use (the :class:`~.exporter.Exporter` and the shared replay walk), so a script
gets exactly the CLI's rows and agents.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, overload

from ..errors import UsageError
from ..session import Session, WarnFn
from ..types import ExportRow, KTORow, MessagesRow, OpenAIDPORow, PreferenceRow, StandardPreferenceRow
from .exporter import Exporter, SessionSource
from .options import ExportOptions
from .sessions import expand_sessions

_OPTIONS = ("standard", "train_last_only", "agent", "peer", "strict")

Sessions = SessionSource | Iterable[SessionSource]
"""What ``export_rows`` takes: a session (path, folder, glob or :class:`Session`) or several."""


def _sources(sessions: Sessions) -> list[SessionSource]:
    items: list[Any] = [sessions] if isinstance(sessions, (str, Path, Session)) else list(sessions)
    out: list[SessionSource] = []
    for item in items:
        if isinstance(item, Session):
            out.append(item)
        elif isinstance(item, (str, Path)):
            out.extend(expand_sessions([item]))
        else:
            raise UsageError(f"a session is a path or a Session, not a {type(item).__name__}")
    if not out:
        raise UsageError("give at least one {session}", options=("session",))
    return out


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
    ``agent``, ``peer``, ``strict`` as for the command. Pairs that cannot be tied are left out here; use
    :class:`~agent_ft_cli.export.Exporter` to read why (``Exporter.summary``).

    Raises :class:`~agent_ft_cli.errors.UsageError` for an unknown format or option, and
    :class:`~agent_ft_cli.errors.InputDataError` (a :class:`SessionError` or ``PrefsError``) for unreadable input.
    """
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise UsageError(f"unknown export option {unknown[0]!r}; options: {', '.join(_OPTIONS)}")
    if isinstance(prefs, (str, Path)):
        from ..prefs import load_prefs

        prefs = load_prefs(prefs)
    exporter = Exporter(ExportOptions(format=format, **options), prefs, on_warning=on_warning)
    return list(exporter.rows(_sources(sessions)))
