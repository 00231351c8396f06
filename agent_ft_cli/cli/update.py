"""``update``: replay a saved session into the client's ``update_model`` and show the stats."""

# No ``from __future__ import annotations``: typer would eval every annotation string of every command (~8 ms of
# start-up on each run, docs/benchmarks.md); the annotations here are valid at runtime on Python 3.10+.
from pathlib import Path
from typing import Annotated

import typer

from .app import (
    AgentOpt,
    ClientArgOpt,
    ClientOpt,
    ConfigOpt,
    PeerOpt,
    SessionOpt,
    StrictOpt,
    client_args,
    escape,
    guarded,
    parse_key_values,
    warn,
)


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
    conversation: Annotated[
        str | None,
        typer.Option(
            "--conversation",
            help="Hand the client conversation N of the thread (1 = oldest) or 'all' of them, oldest first, joined; "
            "default: the thread as the agent holds it now, as the seed does.",
        ),
    ] = None,
) -> None:
    """Replay a saved session into the client's update_model and show the stats.

    Example: agent-ft update --session chat.jsonl --prefs prefs.json --client mypkg.mod:MyClient
    """
    from ..classic.update import reserved_kwargs
    from ..errors import UsageError
    from ..fsutil import check_output_path, write_output
    from ..jsonio import to_json
    from ..workflows import update as workflow
    from .render import render_stats, stderr_console, stdout_console, write_json

    def work() -> None:
        if output is not None:
            check_output_path(output, inputs=[session, prefs, config])
        kwargs = parse_key_values(kwarg, "--kwarg")
        clash = reserved_kwargs(kwargs)
        if clash:
            raise UsageError(f"--kwarg {clash[0]}: reserved, update_model passes {clash[0]!r} itself; use another key")
        chosen: int | str | None = conversation
        if conversation is not None and conversation != "all":
            if not conversation.isdigit() or int(conversation) < 1:
                raise UsageError(f"--conversation {conversation}: expected a number from 1 or 'all'")
            chosen = int(conversation)
        job = workflow.UpdateJob(
            session_path=session,
            prefs_path=prefs,
            client=client,
            client_args=client_args(client_arg),
            config_path=config,
            agent=agent,
            peer=peer,
            kwargs=kwargs,
            conversation=chosen,
            include_system_message=include_system_message,
            strict=strict,
        )
        result = workflow.run(job, on_warning=warn)
        if output is not None:
            write_output(output, to_json(result.as_dict(), indent=True) + b"\n")
        if json_out:
            write_json(result.as_dict())
            return
        stderr_console().print(
            f"updated [bold]{escape(result.agent)}[/] from {result.messages} message(s) of its thread with "
            f"[bold]{escape(result.peer)}[/] using {escape(result.client)}"
            + (f"; result written to {escape(str(output))}" if output else "")
        )
        render_stats(stdout_console(), result.update_stats)

    def from_input() -> None:  # ``--session -``: stdin, spooled so every reader can read it
        nonlocal session
        from ..errors import UsageError
        from ..session import session_input

        if str(session) == "-" and prefs == "-":
            raise UsageError("--session - and --prefs - cannot both read stdin; give one of them as a file")
        with session_input(session) as session:
            work()

    guarded(from_input)
