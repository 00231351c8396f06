"""``runs``: the run records every update leaves (docs/runs.md): list them, show one with charts, compare two.

``agent-ft runs [DIR...]`` lists (``runs list`` spelled out), ``runs show RUN [RUN]`` shows, ``runs diff A B``
compares. plotext (terminal charts) and matplotlib (``--plot``) are imported only by ``show``/``diff``.
"""

# No ``from __future__ import annotations``: typer would eval every annotation string of every command (~8 ms of
# start-up on each run, docs/benchmarks.md); the annotations here are valid at runtime on Python 3.10+.
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .app import _Group, guarded, warn
from .options import ConfigOpt, JsonOpt, QuietOpt, StrictOpt

#: The group's own flags (``agent-ft runs -q show ...``): taking no value, they may come before the command.
GROUP_FLAGS = ("-q", "--quiet", "--strict")


class RunsGroup(_Group):
    """``agent-ft runs`` and ``agent-ft runs DIR`` mean ``agent-ft runs list [DIR]``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        i = 0
        while i < len(args) and args[i] in GROUP_FLAGS:
            i += 1
        if i == len(args) or (args[i] not in self.commands and args[i] not in ("-h", "--help")):
            args = [*args[:i], "list", *args[i:]]
        return super().parse_args(ctx, args)


runs_app = typer.Typer(
    cls=RunsGroup,
    name="runs",
    help="List, show and compare the runs that updates left (run records: docs/runs.md).\n\n"
    "agent-ft runs [DIR]: list the runs, newest first; runs show RUN: details and charts; runs diff A B: side by side.\n\n"
    "Example: agent-ft runs show latest --plot run.png",
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

@runs_app.callback()
def runs_options(ctx: typer.Context, quiet: QuietOpt = False, strict: StrictOpt = False) -> None:
    """The options every runs command takes, also before the command's name."""
    ctx.obj = {"strict": strict}


def _warn_or_refuse(ctx: typer.Context, strict: bool) -> Any:
    """``warn``, or under ``--strict`` (here or on the group) an error: an unreadable run record is exit 3."""
    if not (strict or (ctx.parent is not None and (ctx.parent.obj or {}).get("strict"))):
        return warn

    def refuse(message: str) -> None:
        from ..errors import StrictError

        raise StrictError(f"{message} (refused under --strict)")

    return refuse


DirsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Runs folder(s), a Hugging Face output_dir or a run folder (default: the --config client's "
        "output_dir/runs, else --runs-dir's default: $AGENT_FT_RUNS_DIR or .agent-ft/runs).",
        show_default=False,
    ),
]
DirOpt = Annotated[
    list[Path] | None,
    typer.Option("--dir", "-d", help="Where to look for RUN (as runs' DIR); repeatable.", show_default=False),
]
PlotOpt = Annotated[
    Path | None,
    typer.Option("--plot", help="Also write a PNG picture here: loss and margin curves, per-pair margins (needs: pip install 'agent-ft[plot]').", show_default=False),
]
NoChartsOpt = Annotated[bool, typer.Option("--no-charts", help="Details only, no terminal charts.")]


def _folders(dirs: list[Path] | None, config: Path | None) -> list[Path]:
    from ..runs.store import default_folder

    return list(dirs) if dirs else [default_folder(config)]


@runs_app.command("list")
def list_runs(
    ctx: typer.Context,
    dirs: DirsArg = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    strict: StrictOpt = False,
) -> None:
    """List the runs newest first: id, time, client, method, steps, loss first -> last, margin before -> after.

    Example: agent-ft runs --config configs/hf-dpo.yaml
    """
    from ..runs import store, summary

    def work() -> None:
        folders = _folders(dirs, config)
        defaulted = not dirs
        runs = store.list_runs([f for f in folders if f.exists()] if defaulted else folders, on_warning=_warn_or_refuse(ctx, strict))
        rows = [summary.row(r.data, str(r.path)) for r in runs]
        if json_out:
            from .render import write_json

            write_json(rows)
            return
        if not rows:
            warn(f"no runs in {', '.join(str(f) for f in folders)}")
            return
        from .render import table
        from .runs_view import arrow, num

        cells = [
            [str(r["id"]), _time(r["time"]), summary.short_client(r["client"]), str(r["method"] or "-"),
             num(r["steps"]), arrow(r["loss_first"], r["loss_last"]), arrow(r["margin_before"], r["margin_after"]),
             "published" if r["published"] else "-"]
            for r in rows
        ]
        table(f"runs in {', '.join(str(f) for f in folders)}",
               ["id", "time (UTC)", "client", "method", "steps", "loss", "margin", "checkpoint"], cells)

    guarded(work)


@runs_app.command("show")
def show(
    ctx: typer.Context,
    run: Annotated[list[str], typer.Argument(help="Run id (or its start), 'latest', 'latest~N' (N runs before it), or a run folder; two to compare.", show_default=False)],
    dirs: DirOpt = None,
    config: ConfigOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the whole record(s) as JSON on stdout and nothing else.")] = False,
    plot: PlotOpt = None,
    no_charts: NoChartsOpt = False,
    quiet: QuietOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Show a run: inputs, client, stats, eval before/after, and terminal charts of loss and margins per step.

    Two runs are shown side by side (as 'runs diff'). Example: agent-ft runs show latest --plot run.png
    """
    guarded(lambda: _show(run, dirs, config, json_out, plot, no_charts, _warn_or_refuse(ctx, strict)))


@runs_app.command("diff")
def diff(
    ctx: typer.Context,
    first: Annotated[str, typer.Argument(help="The first run (as for show).", show_default=False)],
    second: Annotated[str, typer.Argument(help="The second run.", show_default=False)],
    dirs: DirOpt = None,
    config: ConfigOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print both records as a JSON list on stdout and nothing else.")] = False,
    plot: PlotOpt = None,
    no_charts: NoChartsOpt = False,
    quiet: QuietOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Compare two runs: their numbers side by side and their curves in the same charts.

    Example: agent-ft runs diff latest~1 latest
    """
    guarded(lambda: _show([first, second], dirs, config, json_out, plot, no_charts, _warn_or_refuse(ctx, strict)))


def _show(
    names: list[str], dirs: list[Path] | None, config: Path | None, json_out: bool, plot: Path | None, no_charts: bool,
    on_warning: Any,
) -> None:
    from ..errors import UsageError
    from ..runs import store
    from .render import write_json

    if len(names) > 2:
        raise UsageError(f"runs show takes one run, or two to compare; {len(names)} were given")
    folders = _folders(dirs, config)
    runs = [store.find_run(name, folders, on_warning=on_warning) for name in names]
    if plot is not None:
        check_plot(plot, [r.path for r in runs])
    if json_out:
        write_json([{**r.data, "record": str(r.path)} for r in runs] if len(runs) > 1 else {**runs[0].data, "record": str(runs[0].path)})
    else:
        from .runs_view import render_runs

        render_runs(runs, charts=not no_charts)
    if plot is not None:
        from ..runs.pictures import runs_png

        runs_png([(r.id, r.data) for r in runs], plot)
        _written(plot)


def check_plot(plot: Path, inputs: list[Any]) -> None:
    """Before any work: matplotlib is there (else exit 2 naming the extra) and ``--plot`` replaces no input."""
    from ..fsutil import check_output_path
    from ..runs.pictures import require_matplotlib

    require_matplotlib()
    check_output_path(plot, option="--plot", inputs=[i for i in inputs if i is not None])


def eval_plot(result: Any, plot: Path, baseline: Any) -> None:
    """``eval --plot``: the per-pair margins of ``result`` (against ``baseline``'s, a loaded
    :class:`~agent_ft_cli.workflows.gates.Baseline`, when given) as a PNG."""
    from ..runs.pictures import eval_png

    eval_png(result, plot, baseline.results if baseline is not None else None)
    _written(plot)


def _written(plot: Path) -> None:
    from .app import quiet

    if not quiet():
        print(f"picture written to {plot}", file=sys.stderr)


def _time(iso: Any) -> str:
    text = str(iso or "-")
    return text[:19].replace("T", " ")


def register(app: Any) -> None:
    """Add the ``runs`` group to ``app``."""
    app.add_typer(runs_app, name="runs")
