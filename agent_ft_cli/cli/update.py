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
    trust_session_client: Annotated[
        bool,
        typer.Option(
            "--trust-session-client",
            help="Import the client the session file names (without --client) even though it is not bundled with agent-ft: only for sessions you trust.",
        ),
    ] = False,
) -> None:
    """Replay a saved session into the client's update_model and show the stats.

    Example: agent-ft update --session chat.jsonl --prefs prefs.json --client mypkg.mod:MyClient
    """
    from ..workflows import update as workflow
    from .render import render_stats, stderr_console, stdout_console, write_json

    def work() -> None:
        job = workflow.UpdateJob(
            session_path=session,
            prefs_path=prefs,
            client=client,
            client_args=client_args(client_arg),
            config_path=config,
            agent=agent,
            peer=peer,
            kwargs=parse_key_values(kwarg, "--kwarg"),
            include_system_message=include_system_message,
            strict=strict,
            trust_session_client=trust_session_client,
            output=output,
        )
        result = workflow.run(job, on_warning=warn)
        if json_out:
            write_json(result.as_dict())
            return
        stderr_console().print(
            f"updated [bold]{escape(result.agent)}[/] from {result.messages} message(s) of its thread with "
            f"[bold]{escape(result.peer)}[/] using {escape(result.client)}"
            + (f"; result written to {escape(str(output))}" if output else "")
        )
        render_stats(stdout_console(), result.update_stats)

    guarded(work)
