"""``update``: replay a saved session into the client's ``update_model`` and show the stats."""

# No ``from __future__ import annotations``: typer would eval every annotation string of every command (~8 ms of
# start-up on each run, docs/benchmarks.md); the annotations here are valid at runtime on Python 3.10+.
import contextlib
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from .app import escape, guarded, stdin_among, warn
from .eval import BaselineOpt, HeldoutOpt, MaxDropOpt, MinAccuracyOpt, progress_bar, render_before_after, render_gates
from .options import (
    AgentOpt,
    ClientArgOpt,
    ClientOpt,
    ConfigOpt,
    PeerOpt,
    PrefsOpt,
    QuietOpt,
    SessionOpt,
    StrictOpt,
    SystemMessageOpt,
    TrustSessionClientOpt,
    flag,
    parse_key_values,
    target,
)

#: Said with a missed gate: the update itself ran and was kept.
APPLIED = "the update itself was applied"


def update(
    session: SessionOpt,
    prefs: PrefsOpt,
    client: ClientOpt = None,
    config: ConfigOpt = None,
    agent: AgentOpt = None,
    peer: PeerOpt = None,
    client_arg: ClientArgOpt = None,
    kwarg: Annotated[
        list[str] | None,
        typer.Option("--kwarg", help="KEY=VALUE passed to update_model (JSON values); repeatable."),
    ] = None,
    json_out: Annotated[bool, flag("json_out", "Print the whole result as JSON on stdout and nothing else.")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the whole result as JSON to this file (atomically); - prints it on stdout, the tables then on stderr.")
    ] = None,
    include_system_message: SystemMessageOpt = False,
    strict: StrictOpt = False,
    evaluate: Annotated[
        bool,
        typer.Option("--eval", help="Evaluate before and after the update (as 'agent-ft eval') and show both."),
    ] = False,
    heldout: HeldoutOpt = None,
    min_accuracy: MinAccuracyOpt = None,
    baseline: BaselineOpt = None,
    max_drop: MaxDropOpt = None,
    quiet: QuietOpt = False,
    trust_session_client: TrustSessionClientOpt = False,
    conversation: Annotated[
        str | None,
        flag(
            "conversation",
            "Hand the client conversation N of the thread (1 = oldest) or 'all' of them, oldest first, joined; "
            "default: the thread as the agent holds it now, as the seed does.",
        ),
    ] = None,
    runs_dir: Annotated[
        Path | None,
        typer.Option("--runs-dir", help="Where run records go when the client keeps no run folder of its own, and the "
                     "index of all runs (default: $AGENT_FT_RUNS_DIR or .agent-ft/runs; docs/runs.md).", show_default=False),
    ] = None,
    no_run_record: Annotated[
        bool, typer.Option("--no-run-record", help="Write no run record for this update.")
    ] = False,
) -> None:
    """Replay a saved session into the client's update_model and show the stats.

    --eval (implied by --heldout and the gates) evaluates before and after; a missed gate exits 5 after the update.

    Example: agent-ft update --session chat.jsonl --prefs prefs.json --client mypkg.mod:MyClient
    """
    from ..classic.update import reserved_kwargs
    from ..distributed import is_main_process
    from ..errors import OutputWriteError, UsageError
    from ..runs.summary import stats_for_table
    from ..workflows import update as workflow
    from .render import render_stats, stderr_console, stdout_console, write_json

    given = dict(locals())

    def work() -> None:
        from ..fsutil import is_stdout
        from ..workflows import eval as evaluation
        from ..workflows import gates

        result_on_stdout = output is not None and is_stdout(output)
        if json_out and result_on_stdout:
            raise UsageError("--json and --output - both print the result on stdout; give one of them")
        if no_run_record and runs_dir is not None:
            raise UsageError("--runs-dir and --no-run-record: give one of them")

        gates.check_options(min_accuracy, max_drop, baseline, prefs=prefs, heldout=heldout)
        base = gates.load_baseline(baseline) if baseline is not None else None
        wants_eval = evaluate or heldout is not None or min_accuracy is not None or baseline is not None
        evaluator = evaluation.Evaluator(heldout, include_system_message, None, None, min_accuracy, base, max_drop)
        kwargs = parse_key_values(kwarg, "--kwarg")
        clash = reserved_kwargs(kwargs)
        if clash:
            raise UsageError(f"--kwarg {clash[0]}: reserved, update_model passes {clash[0]!r} itself; use another key")
        job = target(
            workflow.UpdateJob,
            given,
            kwargs=kwargs,
            evaluator=evaluator if wants_eval else None,
            output=output,
            extra_inputs=[p for p in (heldout, baseline) if p is not None],
            runs_dir=runs_dir,
            run_record=not no_run_record,
        )
        if quiet:  # tells the client (and its libraries) to keep stderr for errors and warnings
            os.environ["AGENT_FT_QUIET"] = "1"
        with progress_bar() as progress:
            evaluator.progress = progress
            try:
                result = workflow.run(job, on_warning=warn)
            except OutputWriteError as e:  # the model was updated: its stats go to stderr, not nowhere
                updated = getattr(e, "result", None)
                if updated is not None:
                    from ..jsonio import to_json

                    sys.stderr.write("update stats (the model was updated; --output could not be written):\n")
                    sys.stderr.write(to_json(updated.update_stats, indent=True).decode() + "\n")
                raise
        if not is_main_process():
            return  # a secondary process of `accelerate launch`/torchrun: only the main one prints
        if json_out:
            write_json(result.as_dict())
            gates.raise_on_failed_gates(evaluator.gates, hint=APPLIED)
            return
        if not quiet:
            stderr_console().print(
                f"updated [bold]{escape(result.agent)}[/] from {result.messages} message(s) of its thread with "
                f"[bold]{escape(result.peer)}[/] using {escape(result.client)}"
                + ("; result printed on stdout" if result_on_stdout else f"; result written to {escape(str(output))}" if output else "")
                + (f"; run recorded in {escape(result.run_record)} (agent-ft runs show latest)" if result.run_record else "")
            )
        if not (result_on_stdout and quiet):
            # stdout holds the result JSON alone (--output -): the tables go with the talk, on stderr
            with contextlib.redirect_stdout(sys.stderr) if result_on_stdout else contextlib.nullcontext():
                render_stats(stderr_console() if result_on_stdout else stdout_console(), stats_for_table(result.update_stats))
                if evaluator.runs:
                    render_before_after(evaluator.before, evaluator.after)
                    render_gates(evaluator.gates)
        gates.raise_on_failed_gates(evaluator.gates, hint=APPLIED)

    def from_input() -> None:  # ``--session -``: stdin, spooled so every reader can read it
        with stdin_among([session], also=[("--prefs", prefs)]) as (path,):
            given["session"] = Path(path)
            work()

    guarded(from_input)
