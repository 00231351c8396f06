"""Dataset commands (``export``, ``import``): registered on the main Typer app by :func:`register`.

Same rules as every command (:mod:`agent_ft_cli.cli.app`): the work runs in a ``work()`` closure through
``guarded`` (errors become one line and an exit code), stdout carries only the requested output (``--json``),
talk goes to stderr.
"""

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from .app import escape, guarded, stdin_among, warn
from .options import QuietOpt, SessionsOpt, StrictOpt, flag

# No ``from __future__ import annotations`` (typer would eval the strings at start-up; see app.py).


def _summary_rows(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The export summary as (label, text) rows, every name and reason made inert."""
    from .render import shown

    where = summary.get("out") or summary.get("dataset") or "-"
    where = "stdout" if where == "-" else shown(str(where))
    rows = [("rows written", f"{summary['rows']} to {where}"), ("sessions read", str(summary["sessions"]))]
    pairs = summary["pairs"]
    if pairs["total"]:
        rows.append(("pairs tied", f"{pairs['tied']} of {pairs['total']}"))
    rows.extend((f"skipped pair {s['pair']}", shown(s["reason"])) for s in summary["skipped_pairs"])
    rows.extend(("skipped session", shown(f"{s['session']}: {s['reason']}")) for s in summary["skipped_sessions"])
    return rows


def _summary_table(summary: Mapping[str, Any]) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"export ({summary['format']})", title_justify="left")
    table.add_column("", style="bold")
    table.add_column("", overflow="fold")
    table.show_header = False
    for label, text in _summary_rows(summary):
        style = "yellow" if label.startswith("skipped") else None
        table.add_row(Text(label, style=style or ""), Text(text))
    return table


@contextlib.contextmanager
def _export_progress(console: Any, sessions: int) -> Iterator[Callable[[Any], None]]:
    """A rich progress line on stderr (rows, sessions, rate), fed the export summary as it grows."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TextColumn("sessions · {task.fields[rows]} rows · {task.fields[rate]} rows/s"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("export", total=sessions, rows=0, rate=0)

        def update(summary: Any) -> None:
            elapsed = progress.tasks[0].elapsed or 0.0
            rate = int(summary.rows / elapsed) if elapsed > 0 else 0
            progress.update(task, completed=summary.done, rows=summary.rows, rate=rate)

        yield update


def _complete_formats(incomplete: str) -> list[str]:
    """Shell completion of ``export --format``: the registry's formats (imported only when completing)."""
    from ..export.formats import FORMATS

    return [name for name in FORMATS if name.startswith(incomplete)]


def _complete_kinds(incomplete: str) -> list[str]:
    """Shell completion of ``import --from``: the adapter registry's kinds (imported only when completing)."""
    from ..adapters.registry import kinds

    return [name for name in kinds() if name.startswith(incomplete)]


def register(app: Any) -> None:
    """Add the dataset commands to ``app``."""

    @app.command("export")
    def export_cmd(
        session: SessionsOpt,
        format_name: Annotated[
            str,
            typer.Option(
                "--format",
                "-f",
                help="trl-preference, trl-sft, trl-kto, openai-sft or openai-dpo.",
                show_default=False,
                autocompletion=_complete_formats,
            ),
        ],
        out: Annotated[
            str,
            typer.Option(
                "--out",
                "-o",
                help="JSON Lines file to write (atomically), - for stdout; a new folder/ gets Parquet shards (a HF dataset).",
                show_default=False,
            ),
        ],
        prefs: Annotated[
            str | None, flag("prefs", "Preference pairs: JSON, JSON Lines or YAML file, or - for stdin.")
        ] = None,
        agent: Annotated[
            str | None, flag("agent", "Agent whose thread is exported (default: inferred); all: every agent's.")
        ] = None,
        peer: Annotated[str | None, flag("peer", "The other agent of the thread (default: inferred).")] = None,
        standard: Annotated[
            bool, typer.Option("--standard", help="trl-preference: plain-string rows instead of conversational.")
        ] = False,
        train_last_only: Annotated[
            bool, typer.Option("--train-last-only", help="openai-sft: weight 0 on every assistant turn but the last.")
        ] = False,
        speaker_names: Annotated[
            str | None,
            typer.Option(
                "--speaker-names",
                help="Who said each turn (team chats): keep (the name field, in the TRL formats too) or prefix "
                "(also 'alice: ' before a user turn's text).",
            ),
        ] = None,
        json_out: Annotated[bool, flag("json_out", "Print the summary as JSON on stdout and nothing else.")] = False,
        strict: StrictOpt = False,
        quiet: QuietOpt = False,
        jobs: Annotated[
            int | None,
            typer.Option("--jobs", "-j", min=1, help="Worker processes (default: 2 for 64+ sessions without --prefs when a core is idle, else 1); same output."),
        ] = None,
        shard_size: Annotated[
            str, typer.Option("--shard-size", help="Dataset folder: row data per Parquet shard, e.g. 256MB or 1GB.")
        ] = "256MB",
    ) -> None:
        """Write sessions (and preference pairs) as TRL or OpenAI fine-tuning data.

        Example: agent-ft export --session chats/ --prefs prefs.json --format trl-preference --out dpo.jsonl
        """
        from ..errors import UsageError
        from ..export import ExportOptions, expand_sessions
        from ..export import export as run_export
        from ..fsutil import is_stdout
        from .render import plain_output, stderr_console, write_json

        def work() -> None:
            if json_out and is_stdout(out):  # both would be on stdout: one stream, one document
                raise UsageError(
                    "--json prints the summary on stdout, where --out - writes the rows; write the rows to a file, "
                    "or drop --json (the summary then goes to stderr)"
                )
            with stdin_among(session, also=[("--prefs", prefs)]) as given:
                _export(expand_sessions(given))

        def _export(paths: list[Path]) -> None:
            options = ExportOptions(
                format=format_name, standard=standard, train_last_only=train_last_only, agent=agent, peer=peer, strict=strict,
                speaker_names=speaker_names,
            )
            data = None
            if prefs is not None:
                from ..fsutil import same_file
                from ..prefs import load_prefs

                if prefs != "-" and not is_stdout(out) and same_file(out, prefs):  # inputs are never replaced
                    raise UsageError(f"--out {str(out)!r} is also the --prefs file; write to another file")
                data = load_prefs(prefs)
            bars = not quiet and not json_out and not plain_output(sys.stderr)  # a bar only on a terminal, never with -q
            inputs = [prefs] if prefs is not None and prefs != "-" else []
            from ..export.dataset import parse_size

            shard_bytes = parse_size(shard_size)
            # rows, sessions and rate while it runs; nothing when piped or quiet
            with _export_progress(stderr_console(), len(paths)) if bars else contextlib.nullcontext() as on_progress:
                summary = run_export(
                    paths, out, options, data, on_warning=warn, inputs=inputs, jobs=jobs, shard_size=shard_bytes,
                    on_progress=on_progress,
                )
            result = summary.as_dict()
            if json_out:
                write_json(result)
                return
            if quiet:
                return
            from rich.text import Text  # (rich only when something is shown)

            console = stderr_console()
            if plain_output(sys.stderr):  # CI logs: plain lines, nothing padded or cut
                for key, value in _summary_rows(result):
                    console.print(Text(f"{key}: {value}"))
            else:
                console.print(_summary_table(result))

        guarded(work)

    @app.command("import")
    def import_cmd(
        source: Annotated[
            Path,
            typer.Argument(
                help="logs.db (SQLite), autogen_logs/runtime.log, OpenAI-style chat JSONL, or AgentChat JSON (an agent's "
                "or team's save_state(), a TaskResult).",
                show_default=False,
            ),
        ],
        out: Annotated[
            Path, typer.Option("--out", "-o", help="Folder to write one session file per conversation.", show_default=False)
        ],
        kind: Annotated[
            str | None,
            typer.Option(
                "--from",
                help="Source kind: sqlite, runtime-log, agentchat or openai-jsonl (default: detected).",
                autocompletion=_complete_kinds,
            ),
        ] = None,
        session_id: Annotated[
            str | None, typer.Option("--session-id", help="Only this autogen logging session (SQLite / runtime log).")
        ] = None,
        agent: Annotated[
            str | None,
            flag(
                "agent",
                "openai-jsonl: name of the assistant (default 'assistant'); agentchat: keep this agent's view only "
                "(default: every agent's).",
            ),
        ] = None,
        peer: Annotated[
            str | None,
            flag(
                "peer",
                "openai-jsonl: name of the user side (default 'user'); agentchat: name of the other side (default: "
                "whoever spoke to the agent first).",
            ),
        ] = None,
        force: Annotated[bool, typer.Option("--force", help="Overwrite session files that already exist.")] = False,
        json_out: Annotated[
            bool, flag("json_out", "Print the list of files written as JSON on stdout and nothing else.")
        ] = False,
        quiet: QuietOpt = False,
        strict: Annotated[
            bool,
            flag(
                "strict",
                "Fail when source lines are cut short, or (agentchat) a message type or save_state() version is "
                "unknown, instead of a warning.",
            ),
        ] = False,
    ) -> None:
        """Rebuild session files from AutoGen runtime logs, OpenAI-style chat JSONL or AgentChat JSON.

        AgentChat (autogen-agentchat 0.7): one session per file, one thread per agent's view; inspect lists a
        team's threads, export takes --agent NAME or --agent all. ag2 1.x is recorded live, not imported
        (docs/frameworks.md).

        Example: agent-ft import logs.db --out sessions/
        """
        from ..adapters import ImportOptions, run_import
        from .render import stderr_console, write_json

        def work() -> None:
            result = run_import(
                source,
                out,
                ImportOptions(kind=kind, session_id=session_id, agent=agent, peer=peer, force=force, strict=strict),
                on_warning=warn,
            )
            if json_out:
                write_json([str(p) for p in result.written])
                return
            if not quiet:
                stderr_console().print(
                    f"imported {len(result.written)} conversation(s) from {escape(str(source))} ({result.kind})"
                )
            from .render import shown

            for p in result.written:
                typer.echo(shown(str(p)))

        guarded(work)
