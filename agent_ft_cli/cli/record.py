"""``record``: run a live chat with the configured pair and record it to a session file."""

# No ``from __future__ import annotations``: typer would eval every annotation string of every command (~8 ms of
# start-up on each run, docs/benchmarks.md); the annotations here are valid at runtime on Python 3.10+.
from pathlib import Path
from typing import Annotated

import typer

from .app import escape, guarded
from .options import ClientArgOpt, ClientOpt, QuietOpt, decoded, flag, parse_key_values


def record(
    config: Annotated[Path, flag("config", "YAML pair config (see configs/).", show_default=False)],
    message: Annotated[
        str,
        typer.Option(
            "--message",
            "-m",
            callback=decoded,
            help="First message, sent by the initiator (its bytes read as UTF-8, else in the locale's encoding).",
            show_default=False,
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Session file to write (streamed as the chat runs).", show_default=False)],
    client: ClientOpt = None,
    client_arg: ClientArgOpt = None,
    max_turns: Annotated[int | None, typer.Option("--max-turns", min=1, help="Stop the chat after N turns.")] = None,
    quiet: QuietOpt = False,
    json_out: Annotated[bool, flag("json_out", "Print a JSON summary on stdout and nothing else.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace a session file that already holds a recording.")] = False,
    strict: Annotated[
        bool,
        flag(
            "strict",
            "Fail (exit 3) on any warning: a value recorded through a documented fallback, a message not "
            "recorded, a config warning. The chat is never broken: it finishes and the session is kept.",
        ),
    ] = False,
) -> None:
    """Run a live chat with the configured pair and record it to a session file.

    Prints the agent's final reply on stdout. Example:
    agent-ft record --config configs/local.yaml --message "What is the capital of Australia?" --out chat.jsonl
    """
    from ..errors import UsageError
    from ..fsutil import check_output_path
    from ..workflows import record as workflow
    from .render import stderr_console, write_json

    def work() -> None:
        if str(out) == "-":  # stdout carries the reply (or the --json summary): the session needs a file of its own
            raise UsageError("--out -: record streams the session to a file while stdout carries the reply; give a file")
        check_output_path(out, option="--out", inputs=[config])
        if not force and out.is_file() and out.stat().st_size:
            raise UsageError(f"--out {out}: already holds a recording; pass --force to replace it, or choose a new file")
        result = workflow.run(
            workflow.RecordJob(
                config_path=config,
                message=message,
                out=out,
                client=client,
                client_args=parse_key_values(client_arg, "--client-arg"),
                max_turns=max_turns,
                quiet=quiet or json_out,
                force=force,
                strict=strict,
            )
        )
        if json_out:
            write_json(result.as_dict())
            return
        if not quiet:
            stderr_console().print(f"recorded {result.messages} message(s) to {escape(result.session)}")
        typer.echo(result.reply if result.reply is not None else "")

    guarded(work)
