"""The Typer app, the one error translation, and the option types the commands share.

Errors from the library (:class:`~agent_ft_cli.errors.AgentFtError`) are caught once, in :func:`guarded`, printed
as one ``Error: ...`` line on stderr and turned into the documented exit code; ``--debug`` (or
``AGENT_FT_DEBUG=1``) re-raises them with the traceback instead. Core messages speak of files, keys and values;
:func:`cli_message` adds the flag names where the core names what a command line gives as a flag.

The commands live one group per module (:mod:`.check`, :mod:`.update`, :mod:`.record`, :mod:`.data`) and are
registered on :data:`app` by :mod:`agent_ft_cli.cli`.
"""

# No ``from __future__ import annotations``: typer would eval every annotation string of every command (~8 ms of
# start-up on each run, docs/benchmarks.md); the annotations here are valid at runtime on Python 3.10+.
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from .. import __version__
from ..errors import EXIT_INTERRUPTED, AgentFtError, UsageError

T = TypeVar("T")

app = typer.Typer(
    name="agent-ft",
    help="Record AutoGen chats, inspect them, and replay them into a custom model client's update_model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,  # plain click help: typer's rich help costs ~3x the startup of the whole CLI (docs/benchmarks.md)
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state: dict[str, bool] = {"debug": False}


def _debug() -> bool:
    return _state["debug"] or os.environ.get("AGENT_FT_DEBUG", "") not in ("", "0")


def fail(message: str, code: int) -> NoReturn:
    """Print ``Error: message`` on stderr and exit with ``code``."""
    from ..redact import scrub_known
    from .render import stderr_console

    stderr_console().print(f"[bold red]Error:[/] {escape(scrub_known(message))}")
    raise typer.Exit(code)


def escape(text: str) -> str:
    """``text`` made inert for rich markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def warn(text: str) -> None:
    """Print ``Warning: text`` on stderr."""
    from ..redact import scrub_known
    from .render import stderr_console

    stderr_console().print(f"[yellow]Warning:[/] {escape(scrub_known(text))}")


def cli_message(error: AgentFtError) -> str:
    """The error's message in the command line's words: where the core names a thing the user gives as a flag."""
    from ..pairing import ConfigNeedsClientError, NoClientError

    if isinstance(error, NoClientError):
        return (
            f"no client for agent {error.agent!r}: pass --client 'package.module:ClassName' or set 'client' in the "
            "--config YAML"
        )
    if isinstance(error, ConfigNeedsClientError):
        return f"{error} or pass --client"
    error.spell_options(flag_name)
    return str(error)


#: Library option keys whose flag is not ``--key-with-dashes``.
_FLAGS = {"kind": "--from"}


def flag_name(key: str) -> str:
    """The command-line flag for a library option key (``session_id`` -> ``--session-id``)."""
    return _FLAGS.get(key) or "--" + key.replace("_", "-")


def guarded(fn: Callable[[], T]) -> T:
    """Call into the library; turn its errors into a message and an exit code, its warnings into Warning: lines."""
    import warnings

    def show(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
        warn(str(message))

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show  # type: ignore[assignment]
            return fn()
    except AgentFtError as e:
        if _debug():
            raise
        fail(cli_message(e), e.exit_code)
    except KeyboardInterrupt:
        if _debug():
            raise
        fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:  # e.g. `agent-ft inspect --json | head`
        sys.stderr.close()
        raise typer.Exit(0) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as e:  # a bug or an unexpected environment problem: one line unless --debug
        if _debug():
            raise
        from ..redact import describe_exception

        fail(f"unexpected {type(e).__name__}: {describe_exception(e)} (run with --debug for the traceback)", 1)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"agent-ft {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")] = False,
) -> None:
    """Record AutoGen chats, inspect them, and replay them into a custom model client's update_model.

    Exit codes: 0 ok, 1 the client's update_model failed, 2 usage error, 3 bad input data (session, prefs,
    config), 4 client cannot be loaded or breaks the protocol, 130 interrupted.
    """
    _state["debug"] = debug


# -- shared options ----------------------------------------------------------------------------------------------
SessionOpt = Annotated[
    Path, typer.Option("--session", "-s", help="Session file (JSON Lines) written by agent-ft.", show_default=False)
]
AgentOpt = Annotated[
    str | None, typer.Option("--agent", "-a", help="Agent whose model is updated (default: inferred).")
]
PeerOpt = Annotated[str | None, typer.Option("--peer", "-p", help="The other agent of the thread (default: inferred).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout and nothing else.")]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Treat a final line cut short by a crash as an error instead of a warning.")
]
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML pair config (see configs/).")]
ClientOpt = Annotated[
    str | None,
    typer.Option("--client", help="Client class: 'pkg.module:Class' or 'path/file.py:Class'.", show_default=False),
]
ClientArgOpt = Annotated[
    list[str] | None,
    typer.Option("--client-arg", help="KEY=VALUE passed to the client's constructor (JSON values); repeatable."),
]


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


def client_args(items: list[str] | None) -> dict[str, Any]:
    """The ``--client-arg`` items as keyword arguments."""
    return parse_key_values(items, "--client-arg")


def run() -> None:
    """Console-script entry point."""
    try:
        app()
    except UsageError as e:  # pragma: no cover - raised only outside commands
        print(f"Error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
