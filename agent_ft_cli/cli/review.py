"""``review``: label the replies of a recorded session, interactively or with flags, into a prefs file."""

# No ``from __future__ import annotations``: typer would eval every annotation string of every command (~8 ms of
# start-up on each run, docs/benchmarks.md); the annotations here are valid at runtime on Python 3.10+.
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .app import escape, guarded
from .options import AgentOpt, PeerOpt, QuietOpt, StrictOpt, decoded

#: what a script or notebook uses instead of the screen (named by the non-terminal usage error)
NON_INTERACTIVE = "--list [--json], --reply N --better TEXT, --reply N --bad or --reply N --keep"


def review(
    session: Annotated[Path, typer.Option("--session", "-s", help="Session file (JSON Lines) written by agent-ft.", show_default=False)],
    prefs: Annotated[
        Path | None,
        typer.Option("--prefs", help="Preference file (.jsonl) the answers are appended to; re-running resumes it.", show_default=False),
    ] = None,
    agent: AgentOpt = None,
    peer: PeerOpt = None,
    conversation: Annotated[
        int | None, typer.Option("--conversation", min=1, help="Show conversation N of the thread only (1 = oldest).")
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the replies with their numbers (and answers) and exit.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="With --list or --reply: print JSON on stdout and nothing else.")] = False,
    reply: Annotated[int | None, typer.Option("--reply", min=1, help="Answer reply N (see --list) without the screen.")] = None,
    better: Annotated[
        str | None,
        typer.Option("--better", callback=decoded, help="With --reply: reject the reply; TEXT is the answer it should have been."),
    ] = None,
    bad: Annotated[bool, typer.Option("--bad", help="With --reply: mark the reply bad, without a correction.")] = False,
    keep: Annotated[bool, typer.Option("--keep", help="With --reply: keep the reply as a good answer.")] = False,
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Label the replies of a session (keep, reject with a better answer, bad) into a prefs file update reads.

    Without --reply or --list it opens a screen: k keep, r reject and type the better answer, b bad, s skip,
    p back, q quit (Ctrl-C: exit 130, every answer given is kept).

    Example: agent-ft review --session chat.jsonl --prefs prefs.jsonl
    """
    from ..errors import UsageError

    def work() -> None:
        answers = [flag for flag, on in (("--better", better is not None), ("--bad", bad), ("--keep", keep)) if on]
        if list_ and (reply is not None or answers):
            raise UsageError(f"--list and {'--reply' if reply is not None else answers[0]} cannot be combined; give one")
        if reply is None and answers:
            raise UsageError(f"{answers[0]} answers one reply: give --reply N (see --list)")
        if reply is not None and len(answers) != 1:
            raise UsageError(
                f"--reply {reply}: give exactly one of --better TEXT, --bad or --keep"
                + (f" (got {' and '.join(answers)})" if answers else "")
            )
        if json_out and not (list_ or reply is not None):
            raise UsageError("--json prints the --list or the --reply answer; give one of them")
        if not list_ and reply is None and prefs is None:
            raise UsageError("--prefs: give the .jsonl file the answers are appended to")
        if not list_ and reply is None and not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise UsageError(
                f"review is interactive and {'stdin' if not sys.stdin.isatty() else 'stdout'} is not a terminal; "
                f"in a script use {NON_INTERACTIVE}"
            )
        from ..review import Review
        from ..review.replies import pick

        rv = Review.open(session, prefs, agent=agent, peer=peer, conversation=conversation, strict=strict)
        if list_:
            _list(rv, json_out)
        elif reply is not None:
            rec = rv.answer(pick(rv.replies, reply), answers[0][2:], better)
            _answered(rec, json_out, quiet)
        else:
            _interactive(rv, quiet)

    guarded(work)


def _list(rv: Any, json_out: bool) -> None:
    from .render import table, write_json

    shown = rv.shown()
    if json_out:
        write_json([r.as_dict() for r in shown])
        return
    rows = []
    for r in shown:
        d = r.as_dict()
        answer = d["answer"] or ""
        if answer == "better":
            answer = f"better: {d.get('better') or ''}"
        rows.append([str(r.number), str(r.conversation), *(_short(c) for c in (r.prompt, r.text or "(tool call)", answer))])
    table(f"replies of {rv.agent} to {rv.peer} in {rv.session}", ["#", "conv", "question", "reply", "answer"], rows)


def _short(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _answered(rec: dict[str, Any], json_out: bool, quiet: bool) -> None:
    from ..review import verdict
    from .render import stderr_console, write_json

    if json_out:
        write_json(rec)
    elif not quiet:
        meta = rec["review"]
        stderr_console().print(f"reply {meta['reply']}: {verdict(rec)} (appended)")


def _interactive(rv: Any, quiet: bool) -> None:
    from ..review.ui import run_screen
    from .render import stderr_console

    outcome = run_screen(rv)
    if not quiet:
        given = ", ".join(f"{n} {k}" for k, n in sorted(rv.counts.items())) or "none"
        stderr_console().print(
            f"{rv.answered()} of {len(rv.shown())} replies answered in {escape(str(rv.prefs))} (this run: {given})"
        )
    if outcome == "interrupt":
        raise KeyboardInterrupt
