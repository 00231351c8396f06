"""The ``agent-ft`` command: parse arguments, call the library, render. No logic of its own.

Errors from the library (:class:`~agent_ft_cli.errors.AgentFtError`) are caught once, in :func:`_run`, printed as
one ``Error: ...`` line on stderr and turned into the documented exit code; ``--debug`` (or ``AGENT_FT_DEBUG=1``)
re-raises them with the traceback instead.
"""

# No ``from __future__ import annotations``: typer would eval every annotation string of every command (~8 ms of
# start-up on each run, docs/benchmarks.md); the annotations here are valid at runtime on Python 3.10+.
import itertools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from . import __version__
from .errors import EXIT_INTERRUPTED, AgentFtError, UsageError

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


def _fail(message: str, code: int) -> NoReturn:
    from .redact import scrub_known
    from .render import stderr_console

    stderr_console().print(f"[bold red]Error:[/] {_escape(scrub_known(message))}")
    raise typer.Exit(code)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _warn(text: str) -> None:
    from .redact import scrub_known
    from .render import stderr_console

    stderr_console().print(f"[yellow]Warning:[/] {_escape(scrub_known(text))}")


def _run(fn: Callable[[], T]) -> T:
    """Call into the library; turn its errors into a message and an exit code, its warnings into Warning: lines."""
    import warnings

    def show(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
        _warn(str(message))

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show  # type: ignore[assignment]
            return fn()
    except AgentFtError as e:
        if _debug():
            raise
        _fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        if _debug():
            raise
        _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:  # e.g. `agent-ft inspect --json | head`
        sys.stderr.close()
        raise typer.Exit(0) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as e:  # a bug or an unexpected environment problem: one line unless --debug
        if _debug():
            raise
        from .redact import describe_exception

        _fail(f"unexpected {type(e).__name__}: {describe_exception(e)} (run with --debug for the traceback)", 1)


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


def _client_args(items: list[str] | None) -> dict[str, Any]:
    from .clients import parse_key_values

    return parse_key_values(items, "--client-arg")


# -- inspect -----------------------------------------------------------------------------------------------------
@app.command()
def inspect(
    session: SessionOpt,
    agent: AgentOpt = None,
    peer: PeerOpt = None,
    last: Annotated[
        int | None, typer.Option("--last", "-n", min=1, help="Only the last N messages (reads from the end).")
    ] = None,
    json_out: JsonOpt = False,
    full: Annotated[bool, typer.Option("--full", help="Show long content in full instead of folded.")] = False,
    include_system_message: Annotated[
        bool, typer.Option("--include-system-message", help="Show the agent's system message first, as update would.")
    ] = False,
    strict: StrictOpt = False,
) -> None:
    """Show the exact thread that update would hand to the client.

    Example: agent-ft inspect --session chat.jsonl --last 5
    """
    from . import session as fmt
    from .render import prefetch, render_thread, render_thread_header, stdout_console, write_thread_json

    def work() -> None:
        header, _ = fmt.read_header(session)
        a, p = fmt.choose_pair(header, agent, peer, path=session)
        system: list[dict[str, Any]] = []
        if include_system_message:
            definition = fmt.agent_def(header, a) or {}
            if definition.get("system_message"):
                system = [{"content": definition["system_message"], "role": "system"}]
        if last is not None:
            messages: Any = system + fmt.tail_thread(session, a, p, last, strict=strict, on_warning=_warn)
        else:
            thread = fmt.iter_thread(session, a, p, strict=strict, on_warning=_warn, as_bytes=json_out)
            messages = itertools.chain(system, thread)
        messages = prefetch(messages)  # a bad line is an error before anything reaches stdout
        if json_out:
            write_thread_json(a, p, messages)
            return
        console = stdout_console()
        counts = None if last is not None else fmt.thread_counts(session, strict=strict, on_warning=lambda _: None)
        note = f"(last {last})" if last is not None else ""
        render_thread_header(console, header, a, p, str(session), note, counts=counts)
        n = render_thread(console, messages, full=full)
        console.rule(style="dim")
        console.print(f"{n} message(s)", style="dim")

    _run(work)


# -- update ------------------------------------------------------------------------------------------------------
@app.command()
def update(
    session: SessionOpt,
    prefs: Annotated[
        str, typer.Option("--prefs", help="Preference data: JSON, JSON Lines or YAML file, or - for stdin.", show_default=False)
    ],
    client: ClientOpt = None,
    config: ConfigOpt = None,
    agent: AgentOpt = None,
    peer: PeerOpt = None,
    client_arg: ClientArgOpt = None,
    kwarg: Annotated[
        list[str] | None,
        typer.Option("--kwarg", help="KEY=VALUE passed to update_model (JSON values); repeatable."),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the whole result as JSON on stdout and nothing else.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the whole result as JSON to this file (atomically).")
    ] = None,
    include_system_message: Annotated[
        bool, typer.Option("--include-system-message", help="Prepend the agent's system message to the thread.")
    ] = False,
    strict: StrictOpt = False,
) -> None:
    """Replay a saved session into the client's update_model and show the stats.

    Example: agent-ft update --session chat.jsonl --prefs prefs.json --client mypkg.mod:MyClient
    """
    from .clients import parse_key_values
    from .fsutil import check_output_path, write_output
    from .jobs import UpdateJob, run_update
    from .render import render_stats, stderr_console, stdout_console, to_json, write_json

    def work() -> None:
        if output is not None:
            check_output_path(output, inputs=[session, prefs, config])
        job = UpdateJob(
            session_path=session,
            prefs_path=prefs,
            client=client,
            client_args=_client_args(client_arg),
            config_path=config,
            agent=agent,
            peer=peer,
            kwargs=parse_key_values(kwarg, "--kwarg"),
            include_system_message=include_system_message,
            strict=strict,
        )
        result = run_update(job, on_warning=_warn)
        meta = result.pop("meta")
        if os.environ.get("RANK", "0") not in ("", "0"):
            return  # a secondary process of `accelerate launch`/torchrun: only the main one prints and writes --output
        if output is not None:
            write_output(output, to_json(result, indent=True) + b"\n")
        if json_out:
            write_json(result)
            return
        stderr_console().print(
            f"updated [bold]{_escape(meta['agent'])}[/] from {meta['messages']} message(s) of its thread with "
            f"[bold]{_escape(meta['peer'])}[/] using {_escape(meta['client'])}"
            + (f"; result written to {_escape(str(output))}" if output else "")
        )
        render_stats(stdout_console(), result["update_stats"])

    _run(work)


# -- validate ----------------------------------------------------------------------------------------------------
@app.command()
def validate(
    session: SessionOpt,
    prefs: Annotated[str | None, typer.Option("--prefs", help="Preference data file to check.")] = None,
    client: ClientOpt = None,
    config: ConfigOpt = None,
    agent: AgentOpt = None,
    peer: PeerOpt = None,
    json_out: JsonOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Check every input without running update_model; exit 0 only when all pass.

    Example: agent-ft validate --session chat.jsonl --prefs prefs.json --client mypkg.mod:MyClient
    """
    from .jobs import validate as run_validate
    from .render import checks_text, render_checks, stderr_console, stdout_console, write_json

    def work() -> int:
        checks = run_validate(
            session, prefs_path=prefs, client=client, config_path=config, agent=agent, peer=peer, strict=strict,
            on_warning=_warn,
        )
        ok = all(c.ok for c in checks)
        if json_out:
            write_json({"ok": ok, "checks": [c.as_dict() for c in checks]})
        elif sys.stdout.isatty():
            render_checks(stdout_console(), [c.as_dict() for c in checks])
        else:  # CI logs and pipes get plain aligned lines (and skip loading rich)
            sys.stdout.write(checks_text([c.as_dict() for c in checks]))
        failed = next((c for c in checks if not c.ok), None)
        if failed is not None:  # the report is on stdout; the first failure is also the one-line error on stderr
            stderr_console().print(f"[bold red]Error:[/] {_escape(failed.detail)}")
            return failed.exit_code
        return 0

    code = _run(work)
    if code:
        raise typer.Exit(code)


# -- record ------------------------------------------------------------------------------------------------------
@app.command()
def record(
    config: Annotated[Path, typer.Option("--config", "-c", help="YAML pair config (see configs/).", show_default=False)],
    message: Annotated[str, typer.Option("--message", "-m", help="First message, sent by the initiator.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Session file to write (streamed as the chat runs).", show_default=False)],
    client: ClientOpt = None,
    client_arg: ClientArgOpt = None,
    max_turns: Annotated[int | None, typer.Option("--max-turns", min=1, help="Stop the chat after N turns.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not echo the chat on stderr.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout and nothing else.")] = False,
) -> None:
    """Run a live chat with the configured pair and record it to a session file.

    Prints the agent's final reply on stdout. Example:
    agent-ft record --config configs/local.yaml --message "What is the capital of Australia?" --out chat.jsonl
    """
    from .fsutil import check_output_path
    from .jobs import RecordJob
    from .jobs import record as run_record
    from .render import stderr_console, write_json

    def work() -> None:
        check_output_path(out, option="--out", inputs=[config])
        result = run_record(
            RecordJob(
                config_path=config,
                message=message,
                out=out,
                client=client,
                client_args=_client_args(client_arg),
                max_turns=max_turns,
                quiet=quiet or json_out,
            )
        )
        if json_out:
            write_json(result)
            return
        stderr_console().print(f"recorded {result['messages']} message(s) to {_escape(result['session'])}")
        typer.echo(result["reply"] if result["reply"] is not None else "")

    _run(work)


from . import cli_data  # noqa: E402  (the dataset commands live in their own module)

cli_data.register(app)


def run() -> None:
    """Console-script entry point."""
    try:
        app()
    except UsageError as e:  # pragma: no cover - raised only outside commands
        print(f"Error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
