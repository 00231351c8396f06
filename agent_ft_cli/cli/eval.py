"""``eval``: does the model prefer the chosen answers? The table, the JSON, and the CI gates.

The views here are shared with ``update --eval`` (:func:`render_before_after`, :func:`gate_results`).
"""

# No ``from __future__ import annotations``: typer would eval every annotation string of every command (~8 ms of
# start-up on each run, docs/benchmarks.md); the annotations here are valid at runtime on Python 3.10+.
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from .app import guarded, stdin_among, warn
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
    target,
)
from .runs import PlotOpt, check_plot, eval_plot

HeldoutOpt = Annotated[
    str | None,
    typer.Option(
        "--heldout",
        help="Held-out preference pairs (prompts not trained on), reported separately; give each a 'prompt'.",
    ),
]
MinAccuracyOpt = Annotated[
    float | None,
    typer.Option("--min-accuracy", help="Gate: exit 5 when accuracy on the pairs is below this (0..1)."),
]
BaselineOpt = Annotated[
    Path | None,
    typer.Option("--baseline", help="Gate: an earlier 'eval --json' or 'update --eval --json' output to compare with."),
]
MaxDropOpt = Annotated[
    float | None,
    typer.Option("--max-drop", help="Gate: exit 5 when accuracy (pairs or held-out) fell more than this below --baseline (default 0)."),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Also show one row per pair.")]

#: Show a progress bar on stderr (when it is a terminal) from this many pairs on.
PROGRESS_FROM = 20


def eval_(
    session: SessionOpt,
    prefs: PrefsOpt,
    client: ClientOpt = None,
    config: ConfigOpt = None,
    agent: AgentOpt = None,
    peer: PeerOpt = None,
    client_arg: ClientArgOpt = None,
    heldout: HeldoutOpt = None,
    min_accuracy: MinAccuracyOpt = None,
    baseline: BaselineOpt = None,
    max_drop: MaxDropOpt = None,
    verbose: VerboseOpt = False,
    json_out: Annotated[bool, flag("json_out", "Print the result as one JSON object on stdout and nothing else.")] = False,
    include_system_message: SystemMessageOpt = False,
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    trust_session_client: TrustSessionClientOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Show whether the client prefers the chosen answers: accuracy, margin, held-out pairs, CI gates.

    Each pair is tied to its prompt as update ties it; a client with score() is compared by log-probability,
    any other by generation (its reply's similarity to chosen vs rejected). Exit 5 when a gate fails.
    Example: agent-ft eval --session chat.jsonl --prefs prefs.json --config configs/local.yaml --min-accuracy 0.9
    """
    from ..workflows import eval as workflow
    from ..workflows import gates
    from .render import write_json

    given = dict(locals())

    def from_input() -> None:  # ``--session -``: stdin, spooled so every reader can read it
        with stdin_among([session], also=[("--prefs", prefs), ("--heldout", heldout)]) as (path,):
            given["session"] = Path(path)
            work()

    def work() -> None:
        gates.check_options(min_accuracy, max_drop, baseline, prefs=prefs, heldout=heldout)
        if plot is not None:
            check_plot(plot, [session, prefs, heldout, config, baseline])
        base = gates.load_baseline(baseline) if baseline is not None else None
        job = target(
            workflow.EvalJob, given, heldout_path=heldout, min_accuracy=min_accuracy, baseline=base, max_drop=max_drop
        )
        with progress_bar() as progress:
            result = workflow.run(job, on_warning=warn, progress=progress)
        if json_out:
            write_json(result.as_dict())
        else:
            render_evaluation(result.evaluation, verbose=verbose)
            render_gates(result.gates)
        if plot is not None:
            eval_plot(result.as_dict(), plot, base)
        gates.raise_on_failed_gates(result.gates)

    guarded(from_input)


@contextlib.contextmanager
def progress_bar() -> Iterator[Any]:
    """A progress callback drawing a bar on stderr once there are many pairs (and stderr is a terminal)."""
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if total < PROGRESS_FROM or not sys.stderr.isatty():
            return
        if "bar" not in state:
            from rich.progress import Progress

            from .render import stderr_console

            bar = Progress(console=stderr_console(), transient=True)
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task("evaluating pairs", total=total)
        if state["bar"].tasks[0].total != total:  # the held-out pairs after the pairs
            state["bar"].reset(state["task"], total=total)
        state["bar"].update(state["task"], completed=done)

    try:
        yield update
    finally:
        if "bar" in state:
            state["bar"].stop()


# ---------------------------------------------------------------------------------------------------------------
# views


def _num(value: Any, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4g}" if signed else f"{value:.4g}"


def _skipped_text(report: Any) -> str:
    from ..workflows.eval import reasons_text

    return f"{len(report.skipped)} ({reasons_text(report.skipped)})" if report.skipped else "0"


def _sets(evaluation: Any) -> list[tuple[str, Any]]:
    out = [("pairs", evaluation.pairs)]
    if evaluation.heldout is not None:
        out.append(("held-out", evaluation.heldout))
    return out


def _short(text: str, limit: int = 60) -> str:
    """``text`` on one line; cut to ``limit`` characters only on a terminal (plain output, for pipes, files and CI
    logs, is never cut)."""
    from .render import plain_output

    text = " ".join(text.split())
    return text if len(text) <= limit or plain_output() else text[: limit - 1] + "…"


def render_evaluation(evaluation: Any, *, verbose: bool = False) -> None:
    """The summary table (pairs, accuracy, mean margin, skipped, method) and, with ``verbose``, one row per pair."""
    from .render import table

    rows = [
        [name, str(r.pairs), str(r.preferred), _num(r.accuracy), _num(r.mean_margin), r.method, str(len(r.skipped))]
        for name, r in _sets(evaluation)
    ]
    table("evaluation", ["set", "pairs", "preferred", "accuracy", "mean margin", "method", "skipped"], rows)
    _sources(evaluation)
    _comparison_line(evaluation)
    if verbose:
        for name, report in _sets(evaluation):
            render_pairs(name, report)


def _sources(evaluation: Any) -> None:
    """Where each set's pairs come from, and why pairs were skipped (below the table: paths and reasons are long)."""
    from ..textsafe import inert

    lines = []
    for name, r in _sets(evaluation):
        lines.append(f"{name}: {r.source}" + (f"; skipped {_skipped_text(r)}" if r.skipped else ""))
    sys.stdout.write(inert("\n".join(lines)) + "\n")
    sys.stdout.flush()


def _comparison_line(evaluation: Any) -> None:
    from ..textsafe import inert

    shown = {r.method: r.comparison for _, r in _sets(evaluation)}  # the client's own label when it gives one
    for m in sorted(shown):
        sys.stdout.write(f"{m}: {inert(shown[m])}\n")
    sys.stdout.flush()


def render_pairs(name: str, report: Any) -> None:
    from .render import table

    # the texts come last, so a long one (never cut in plain output) does not push the numbers out of line
    if report.method == "score":
        columns = ["#", "preferred", "chosen", "rejected", "margin", "prompt"]
        rows = [
            [str(p.index), "yes" if p.preferred else "no", _num(p.chosen_score), _num(p.rejected_score),
             _num(p.margin, signed=True), _short(p.prompt)]
            for p in report.results
        ]
    else:
        columns = ["#", "preferred", "sim. chosen", "sim. rejected", "prompt", "reply"]
        rows = [
            [str(p.index), "yes" if p.preferred else "no", _num(p.chosen_similarity), _num(p.rejected_similarity),
             _short(p.prompt), _short(p.reply or "", 40)]
            for p in report.results
        ]
    table(f"{name}: {report.source}", columns, rows)


def render_before_after(before: Any, after: Any) -> None:
    """``update --eval``'s one table: each set's accuracy and mean margin before, after, and the change."""
    from .render import table

    rows: list[list[str]] = []
    for (name, b), (_, a) in zip(_sets(before), _sets(after), strict=True):
        rows.append([f"{name} accuracy ({a.pairs} pairs)", _num(b.accuracy), _num(a.accuracy), _num(a.accuracy - b.accuracy, signed=True)])
        if a.mean_margin is not None and b.mean_margin is not None:
            rows.append([f"{name} mean margin", _num(b.mean_margin), _num(a.mean_margin), _num(a.mean_margin - b.mean_margin, signed=True)])
        if a.skipped:
            rows.append([f"{name} skipped", _skipped_text(b), _skipped_text(a), ""])
    table("evaluation before / after the update", ["", "before", "after", "delta"], rows)
    _comparison_line(after)


def render_gates(gates: list[Any]) -> None:
    if not gates:
        return
    sys.stdout.write("".join(f"{'ok' if g.ok else 'FAIL':<4}  gate {g.name}: {g.detail}\n" for g in gates))
    sys.stdout.flush()
