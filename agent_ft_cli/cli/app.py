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
import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from typer.core import TyperGroup

from .. import __version__
from ..errors import EXIT_INTERRUPTED, EXIT_TERMINATED, AgentFtError, Terminated, UsageError

T = TypeVar("T")


class _Group(TyperGroup):
    """The command group, with the one rule for repeated options: an option that takes one value, given twice, is a
    usage error naming it (click would silently keep the last one)."""

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, cmd, rest = super().resolve_command(ctx, args)
        if cmd is not None and name is not None:
            refuse_repeated_options(cmd, cmd.context_class(cmd, info_name=name, parent=ctx), rest)
        return name, cmd, rest


def refuse_repeated_options(cmd: Any, ctx: Any, args: list[str]) -> None:
    """Raise click's usage error (exit 2) when ``args`` give a single-value option of ``cmd`` more than once."""
    try:
        _, _, order = cmd.make_parser(ctx).parse_args(args=list(args))
    except Exception:  # click's UsageError: the command's own parsing reports it, the same way
        return
    seen: set[str] = set()
    for param in order:
        if param.param_type_name != "option" or param.multiple or param.is_flag or param.count:
            continue
        if param.name in seen:
            flags = " / ".join(sorted(param.opts, key=len, reverse=True))
            ctx.fail(f"Option {flags} was given more than once; it takes one value: give it once.")
        seen.add(param.name)


HELP = """Record AutoGen chats, inspect them, and replay them into a custom model client's update_model.

Exit codes: 0 ok, 1 the client's update_model failed, 2 usage error, 3 bad input data (session, prefs, config;
any warning or skip under --strict), 4 client cannot be loaded or breaks the protocol, 5 a quality gate failed
(eval, update --eval), 130 interrupted, 143 terminated (docs/errors.md).
"""

app = typer.Typer(
    cls=_Group,
    name="agent-ft",
    help=HELP,
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish (imports nothing at start-up)
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,  # plain click help: typer's rich help costs ~3x the startup of the whole CLI (docs/benchmarks.md)
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state: dict[str, bool] = {"debug": False, "quiet": False}


def _debug() -> bool:
    return _state["debug"] or os.environ.get("AGENT_FT_DEBUG", "") not in ("", "0")


def fail(message: str, code: int) -> NoReturn:
    """Print ``Error: message`` on stderr and exit with ``code``."""
    from ..redact import scrub_known
    from .render import stderr_console

    stderr_console().print(f"[bold red]Error:[/] {escape(scrub_known(message))}")
    raise typer.Exit(code)




def escape(text: str) -> str:
    """``text`` (a name, a path, a message: one line) made inert for rich markup and for the terminal (:func:`shown`)."""
    from rich.markup import escape as rich_escape

    from .render import shown

    return rich_escape(shown(text))


def warn(text: str) -> None:
    """Print ``Warning: text`` on stderr (one line, terminal sequences inert); nothing under ``--quiet``."""
    if _state["quiet"]:
        return
    from ..redact import scrub_known
    from .render import stderr_console

    error = getattr(text, "error", None)  # a KeyedText: the library's message with its keys, spelled as flags here
    if isinstance(error, AgentFtError):
        text = cli_message(error)

    stderr_console().print(f"[yellow]Warning:[/] {escape(scrub_known(text))}")


def quiet() -> bool:
    """Whether ``--quiet`` was given: nothing on stderr but errors."""
    return _state["quiet"]


def _set_quiet(value: bool) -> bool:
    _state["quiet"] = bool(value)
    return value


def cli_message(error: AgentFtError) -> str:
    """The error's message in the command line's words: where the core names a thing the user gives as a flag."""
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
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (Terminated, a subclass): clean-up has run
        if _debug():
            raise
        fail(*(("terminated", EXIT_TERMINATED) if isinstance(e, Terminated) else ("interrupted", EXIT_INTERRUPTED)))
    except BrokenPipeError:  # `agent-ft inspect | head`, with or without --json: the reader has what it wanted
        closed_pipe()
    except (typer.Exit, typer.Abort):
        raise
    except Exception as e:  # a bug or an unexpected environment problem: one line unless --debug
        if _debug():
            raise
        if isinstance(e, FileNotFoundError) and not _cwd_exists():
            fail("the current directory no longer exists (it was deleted or moved); cd to an existing folder", 2)
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
    """The options every command shares (the help text is :data:`HELP`)."""
    _state["debug"] = debug
    safe_streams()



def _cwd_exists() -> bool:
    try:
        os.getcwd()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def stdin_among(
    sessions: Sequence[str | Path] | None, *, also: Sequence[tuple[str, str | None]] = ()
) -> Iterator[list[str | Path]]:
    """The ``--session`` values, with ``-`` (stdin) spooled into a private temporary file for the block, so that
    ``-`` reads stdin wherever sessions are read, alone or among others. Stdin is read once: ``-`` given twice, or
    with one of the command's other inputs that can read it (``also``: ``(flag, value)`` pairs), is a usage error."""
    given: list[str | Path] = list(sessions or [])
    dashes = [i for i, s in enumerate(given) if str(s) == "-"]
    if not dashes:
        yield given
        return
    if len(dashes) > 1:
        raise UsageError("--session - is given more than once; stdin can be read once")
    if any(value == "-" for _, value in also):
        flags = "/".join(flag for flag, _ in also)
        raise UsageError(
            f"--session - and {flags} - cannot both read stdin; give one of them as a file"
            if len(also) == 1
            else f"--session - and {flags} - cannot all read stdin; give the others as files"
        )
    from ..session import session_input

    with session_input("-") as path:
        given[dashes[0]] = path
        yield given


def closed_pipe() -> NoReturn:
    """The reader of stdout went away (``| head``): exit 0 quietly, the same for every command and view."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # what is still buffered is dropped, not flushed into a closed pipe
    except (OSError, ValueError, AttributeError):
        pass
    raise typer.Exit(0)


def _escape_unshowable(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler ``agent-ft-escape``: a character the terminal cannot show as ``\\u00e0`` (``\\U0001f326``
    beyond the BMP), a file name's byte that was not text (a surrogate escape) as ``\\xe9``: so a character and a
    raw byte never print alike."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = []
    for ch in error.object[error.start : error.end]:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out), error.end


def safe_streams() -> None:
    """Make output never fail on encoding or on a closed stream.

    Human output that the terminal's encoding cannot show is escaped (``\\u00e0``, :func:`_escape_unshowable`)
    instead of raising (JSON is written as UTF-8 bytes and never goes through this); a stdout or stderr closed by
    the caller (``>&-``) is pointed at the null device, so the command still runs and exits with its own code."""
    import codecs

    codecs.register_error("agent-ft-escape", _escape_unshowable)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            with contextlib.suppress(OSError):
                setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the process
            continue
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # a detached or closed stream
                reconfigure(errors="agent-ft-escape")


def run() -> None:
    """Console-script entry point."""
    from ..errors import raise_on_sigterm

    safe_streams()
    raise_on_sigterm()
    interruptible()
    every = app.registered_commands, app.registered_groups
    app.registered_commands, app.registered_groups = _only_the_command_named(every)
    try:
        app()
    except UsageError as e:  # pragma: no cover - raised only outside commands
        print(f"Error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:  # Ctrl-C before a command took over (while starting up): the same one line
        print("Error: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except (BrokenPipeError, SystemExit) as e:
        # a pipe closed while click itself printed (--help | head); click turns that into exit 1 (after wrapping the
        # streams in its PacifyFlushWrapper): a closed pipe is exit 0 for every command, so here too
        if isinstance(e, SystemExit) and not (e.code == 1 and type(sys.stdout).__name__ == "PacifyFlushWrapper"):
            raise
        try:
            closed_pipe()
        except typer.Exit:
            sys.exit(0)
    finally:  # (run again in one process: every command)
        app.registered_commands, app.registered_groups = every


def _only_the_command_named(every: tuple[list[Any], list[Any]]) -> tuple[list[Any], list[Any]]:
    """What typer is to build: only the command the command line names (it builds every command's click parameters
    before parsing: ~10 ms a run); the group's help, shell completion and a name that is no command keep them all."""
    name = next((a for a in sys.argv[1:] if a != "--debug"), "")  # (an option there, --help first: no command matches)
    from typer.main import get_command_name

    commands = [c for c in every[0] if (c.name or get_command_name(c.callback.__name__)) == name]
    groups = [g for g in every[1] if g.name == name]
    return (commands, groups) if (commands or groups) and "_AGENT_FT_COMPLETE" not in os.environ else every


def interruptible() -> None:
    """Make SIGINT interrupt the command (exit 130, clean-up run) even where it was started with SIGINT ignored.

    POSIX shells start a script's background jobs (``agent-ft ... &``) with SIGINT ignored, and Python keeps an
    ignored SIGINT ignored, so ``kill -INT`` would let the command run to its end and exit 0; agent-ft answers
    SIGINT the same way wherever it was started."""
    import signal

    with contextlib.suppress(ValueError, OSError):  # not the main thread / no such signal
        if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.default_int_handler)
