"""The option group every command shares, declared once, and the walk target built from it.

Each shared flag's names, type and behaviour are declared once in :data:`FLAGS` (:func:`flag`); a command gives
only its help text where the flag means something else there (``--json`` prints a summary in one command, the
whole result in another). The flags that say what a command walks (the session, the preference data, the config,
the pair, the client, strictness, consent, the conversation) fill one :class:`agent_ft_cli.workflows.walk.Target`
through :func:`target`, the way TRL's dataclass configs are its options; the Python API fills the same dataclass.
"""

# No ``from __future__ import annotations``: typer would eval the strings at start-up (see app.py).
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ..errors import UsageError
from .app import _set_quiet, fail

T = TypeVar("T")


# -- arguments given as bytes ------------------------------------------------------------------------------------
def text_arg(value: str, option: str) -> str:
    """A text argument (a message, an agent name) as the text the user typed, whatever the locale.

    Python decodes ``argv`` with the locale's encoding; this recovers the exact bytes and reads them as UTF-8 when
    they are valid UTF-8, else in the locale's encoding (:func:`agent_ft_cli.textsafe.typed_text`). Bytes that are
    text in neither are a usage error naming ``option`` (exit 2): what is recorded or matched is never a guess.
    File-name arguments never go through here: they are opened with their exact bytes.
    """
    from ..textsafe import locale_codec, typed_text, undecodable

    text = typed_text(value)
    if text is None:
        raise UsageError(
            f"{option}: the argument is neither UTF-8 nor text in the locale's encoding ({locale_codec()}): bytes "
            f"{undecodable(value)}; pass it as UTF-8"
        )
    return text


def decoded(param: typer.CallbackParam, value: Any) -> Any:
    """Option callback: :func:`text_arg` on the option's value (each value of a repeatable one)."""
    if value is None:
        return None
    option = max(param.opts, key=len) if param.opts else str(param.name)
    try:
        if isinstance(value, (list, tuple)):
            return [text_arg(v, option) for v in value]
        return text_arg(value, option)
    except UsageError as e:
        fail(str(e), e.exit_code)


# -- the shared flags --------------------------------------------------------------------------------------------
#: Each shared flag once: the command parameter's name -> its flag names and fixed settings.
FLAGS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "session": (("--session", "-s"), {"show_default": False}),
    "prefs": (("--prefs",), {}),
    "config": (("--config", "-c"), {}),
    "agent": (("--agent", "-a"), {"callback": decoded}),
    "peer": (("--peer", "-p"), {"callback": decoded}),
    "client": (("--client",), {"show_default": False}),
    "client_arg": (("--client-arg",), {}),
    "include_system_message": (("--include-system-message",), {}),
    "conversation": (("--conversation",), {}),
    "strict": (("--strict",), {}),
    "trust_session_client": (("--trust-session-client",), {}),
    "json_out": (("--json",), {}),
    "quiet": (("--quiet", "-q"), {"callback": _set_quiet}),
}


def flag(name: str, help: str, **settings: Any) -> Any:
    """The ``typer.Option`` of the shared flag ``name`` (:data:`FLAGS`), with the command's ``help``."""
    names, fixed = FLAGS[name]
    return typer.Option(*names, help=help, **{**fixed, **settings})


SessionOpt = Annotated[Path, flag("session", "Session file (JSON Lines) written by agent-ft, or - for stdin.")]
SessionsOpt = Annotated[
    list[str],
    flag("session", "Session file, folder of *.jsonl sessions, a quoted glob, or - for stdin (once); repeatable."),
]
PrefsOpt = Annotated[str, flag("prefs", "Preference data: JSON, JSON Lines or YAML file, or - for stdin.", show_default=False)]
ConfigOpt = Annotated[Path | None, flag("config", "YAML pair config (see configs/).")]
AgentOpt = Annotated[str | None, flag("agent", "Agent whose model is updated (default: inferred).")]
PeerOpt = Annotated[str | None, flag("peer", "The other agent of the thread (default: inferred).")]
ClientOpt = Annotated[str | None, flag("client", "Client class: 'pkg.module:Class' or 'path/file.py:Class'.")]
ClientArgOpt = Annotated[
    list[str] | None, flag("client_arg", "KEY=VALUE passed to the client's constructor (JSON values); repeatable.")
]
SystemMessageOpt = Annotated[bool, flag("include_system_message", "Prepend the agent's system message to the thread.")]
StrictOpt = Annotated[
    bool,
    flag(
        "strict",
        "Fail (exit 3) on any warning or skip: a final line cut short, a pair that cannot be tied, a skipped session.",
    ),
]
TrustSessionClientOpt = Annotated[
    bool,
    flag(
        "trust_session_client",
        "Import the client the session file names (without --client) even though it is not bundled with "
        "agent-ft: only for sessions you trust.",
    ),
]
JsonOpt = Annotated[bool, flag("json_out", "Print JSON on stdout and nothing else.")]
QuietOpt = Annotated[bool, flag("quiet", "Print nothing on stderr but errors.")]


# -- the walk target ---------------------------------------------------------------------------------------------
#: Command parameter -> field of :class:`~agent_ft_cli.workflows.walk.Target` (the others keep their name).
_FIELDS = {"session": "session_path", "prefs": "prefs_path", "config": "config_path", "client_arg": "client_args"}
_TARGET = (*_FIELDS, "client", "agent", "peer", "include_system_message", "strict", "trust_session_client", "conversation")


def target(cls: type[T], given: Mapping[str, Any], **own: Any) -> T:
    """The walk target ``cls`` (:class:`~agent_ft_cli.workflows.walk.Target` or a job extending it) filled from a
    command's parameters ``given`` (its ``locals()``: the shared flags it declares) and its own fields ``own``."""
    values = {_FIELDS.get(k, k): v for k, v in given.items() if k in _TARGET}
    if "client_args" in values:
        values["client_args"] = parse_key_values(values["client_args"], "--client-arg")
    return cls(**values, **own)


def parse_key_values(items: list[str] | None, option: str) -> dict[str, Any]:
    """``KEY=VALUE`` pairs from the command line; values are JSON when they parse, strings otherwise."""
    import orjson

    out: dict[str, Any] = {}
    for position, item in enumerate(items or [], 1):
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or not key.replace("_", "a").replace("-", "a").isalnum() or key[0].isdigit():
            # never echo the item: a mistyped --client-arg may well carry an API key
            shown = f" (key {key!r})" if sep and key and len(key) <= 40 else ""
            raise UsageError(f"{option} #{position}{shown}: expected KEY=VALUE with KEY a Python identifier")
        try:
            value: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            value = raw
        name = key.replace("-", "_")
        if name in out:
            raise UsageError(f"{option} #{position}: key {name!r} is given more than once")
        out[name] = value
    return out
