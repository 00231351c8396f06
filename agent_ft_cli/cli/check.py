"""``inspect`` (stops after reading the session; never imports autogen) and ``validate`` (every step but the last)."""

# No ``from __future__ import annotations``: typer would eval every annotation string of every command (~8 ms of
# start-up on each run, docs/benchmarks.md); the annotations here are valid at runtime on Python 3.10+.
import itertools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .app import cli_message, escape, guarded, stdin_among, warn
from .options import (
    AgentOpt,
    ClientOpt,
    ConfigOpt,
    JsonOpt,
    PeerOpt,
    QuietOpt,
    SessionsOpt,
    StrictOpt,
    TrustSessionClientOpt,
    flag,
    target,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..types import Message, ValidateReport
    from ..workflows.validate import Check


def inspect(
    session: SessionsOpt,
    agent: AgentOpt = None,
    peer: PeerOpt = None,
    last: Annotated[
        int | None, typer.Option("--last", "-n", min=1, help="Only the last N messages (reads from the end).")
    ] = None,
    json_out: JsonOpt = False,
    full: Annotated[bool, typer.Option("--full", help="Show long content in full instead of folded.")] = False,
    include_system_message: Annotated[
        bool, flag("include_system_message", "Show the agent's system message first, as update would.")
    ] = False,
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    conversation: Annotated[
        int | None,
        flag("conversation", "Show conversation N of the thread (1 = oldest; default: the thread as the agent holds it now).", min=1),
    ] = None,
) -> None:
    """Show the exact thread that update would hand to the client.

    Several sessions (files, folders, globs) are shown one after the other; with --json, one object per line.

    Example: agent-ft inspect --session chat.jsonl --last 5
    """
    from .. import session as reading
    from ..pairing import resolve_pair
    from ..session.choice import PairChoiceError
    from ..session.paths import expand_sessions
    from ..workflows.walk import pick_conversation
    from .render import (
        prefetch,
        render_thread,
        render_thread_header,
        rule,
        stdout_console,
        write_json,
        write_thread_json,
    )
    from .render import shown as shown_line

    def show(path: Path, name_it: bool, opened: "reading.OpenSession") -> None:
        header, known = opened.header, opened.known  # the header is read once: the readers below start after it
        whole = last is None and (conversation is not None or not json_out)  # one pass over the file, every thread
        loaded = opened.load(strict=strict, on_warning=warn) if whole else None
        try:
            a, p = resolve_pair(header, agent, peer, path=path, threads=loaded.threads if loaded else None, opened=opened)
        except PairChoiceError as e:  # several threads could be shown: list them (nothing to choose to look)
            list_threads(path, e, name_it, known, loaded)
            return
        system: list[Message] = []
        if include_system_message:
            definition = reading.agent_def(header, a)
            if definition and definition.get("system_message"):
                system = [{"content": definition["system_message"], "role": "system"}]
        conversations: list[list[Message]] | None = None
        counts = None
        if loaded is None and conversation is None and last is not None:
            messages: Any = system + reading.tail_thread(path, a, p, last, strict=strict, on_warning=warn, header=known)
        elif loaded is None and conversation is None:  # --json: the thread's lines streamed as they are
            thread = reading.iter_thread(
                path, a, p, strict=strict, on_warning=warn, as_bytes=True, header=known, uncleared=opened.never_cleared(a)
            )
            messages = itertools.chain(system, thread)
        else:  # the rich view or a chosen conversation: the thread, its conversations, every thread's count
            if loaded is None:
                loaded = opened.load(pairs=[(a, p)], strict=strict, on_warning=warn)
            conversations = loaded.conversations(a, p) if (a, p) in loaded.threads else []
            if conversation is not None:
                chosen = pick_conversation(conversations, conversation, a, p, all_ok=False)
                messages = system + (chosen[-last:] if last is not None else chosen)
            else:
                messages = system + loaded.threads.get((a, p), [])
                counts = _counts(loaded)
        messages = prefetch(messages)  # a bad line is an error before anything reaches stdout
        if json_out:
            write_thread_json(a, p, messages, session=str(path) if name_it else None)
            return
        console = stdout_console()
        note = f"(last {last})" if last is not None else ""
        if conversations is not None and (conversation is not None or len(conversations) > 1):
            shown = conversation or len(conversations)
            note = f"{note} (conversation {shown} of {len(conversations)}; --conversation N shows another)".strip()
        render_thread_header(console, header, a, p, str(path), note, counts=counts)
        n = render_thread(console, messages, full=full)
        rule(console)
        console.print(f"{n} message(s)", style="dim")

    def list_threads(path: Path, choice: PairChoiceError, name_it: bool, known: Any, loaded: Any) -> None:
        counts = _counts(loaded) if loaded is not None else reading.thread_counts(path, strict=strict, on_warning=warn, header=known)
        if choice.option == "agent":
            keys = [k for k in counts if k[0] in choice.choices]
        else:
            keys = [k for k in counts if k[1] in choice.choices and k[0] == (agent or choice.agent)]
        threads = [{"agent": k[0], "peer": k[1], "messages": counts[k]} for k in keys]
        warn(f"{cli_message(choice)}; listing the threads update could use")
        if json_out:
            write_json({"session": str(path), "threads": threads} if name_it else {"threads": threads})
            return
        lines = [f"{path}: {len(threads)} thread(s) could be updated; show one with --agent and --peer"]
        lines += [f"  {t['agent']} -> {t['peer']}: {t['messages']} message(s)" for t in threads]
        sys.stdout.write("".join(shown_line(line) + "\n" for line in lines))
        sys.stdout.flush()

    def work() -> None:
        with stdin_among(session) as given:  # ``-``: stdin, spooled so every reader can read it
            paths = expand_sessions(given)
            for path in paths:
                # one open for the header, the pair's peek and the whole-file view; a one-thread reader opens it again
                with reading.open_session(path) as opened:
                    show(path, len(paths) > 1, opened)

    guarded(work)


def _counts(loaded: Any) -> dict[tuple[str, str], int]:
    return {key: len(thread) for key, thread in loaded.threads.items()}


def validate(
    session: SessionsOpt,
    prefs: Annotated[str | None, flag("prefs", "Preference data file to check.")] = None,
    client: ClientOpt = None,
    config: ConfigOpt = None,
    agent: AgentOpt = None,
    peer: PeerOpt = None,
    json_out: JsonOpt = False,
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    trust_session_client: TrustSessionClientOpt = False,
) -> None:
    """Check every input without running update_model; exit 0 only when all pass.

    Reports every pair update would skip, and why (a failure under --strict). Sessions may be files, folders or
    quoted globs; each is checked and reported.

    Example: agent-ft validate --session chat.jsonl --prefs prefs.json --client mypkg.mod:MyClient
    """
    from ..session.paths import expand_sessions
    from ..workflows import validate as workflow
    from ..workflows.walk import Target
    from .render import checks_text, plain_output, render_checks, stderr_console, stdout_console, write_json

    given = dict(locals())

    def work(paths: list[Path]) -> int:
        checks = workflow.run(paths, target(Target, {**given, "session": paths[0] if paths else ""}), on_warning=warn)
        ok = all(c.ok for c in checks)
        # a failed check's detail in the command line's words (flags, not the library's keys), as its Error line
        report = [{**c.as_dict(), "detail": failed_message(c)} if c.error is not None else c.as_dict() for c in checks]
        if json_out:
            result: ValidateReport = {"ok": ok, "checks": report}  # type: ignore[typeddict-item]  # CheckDicts
            write_json(result)
        elif plain_output():  # CI logs and pipes get plain lines (and skip loading rich)
            sys.stdout.write(checks_text(report))
            sys.stdout.flush()
        else:
            render_checks(stdout_console(), report)
        failed = [c for c in checks if not c.ok]
        if failed:  # the report is on stdout; the first failure is also the one-line error on stderr
            more = f" ({len(failed)} checks failed; see the report)" if len(failed) > 1 else ""
            stderr_console().print(f"[bold red]Error:[/] {escape(failed_message(failed[0]) + more)}")
            return failed[0].exit_code
        return 0

    def from_input() -> int:  # ``--session -``: stdin, spooled so every reader can read it
        if list(session) != ["-"]:
            with stdin_among(session, also=[("--prefs", prefs)]) as given:
                return work(expand_sessions(given))
        from ..session import session_input

        with session_input("-") as path:
            return work([path])

    code = guarded(from_input)
    if code:
        raise typer.Exit(code)


def failed_message(check: "Check") -> str:
    """A failed check's detail in the command line's words."""
    if check.error is None:
        return check.detail
    from ..redact import scrub_known

    message = cli_message(check.error)
    if check.file and check.file not in message:  # several sessions: say which one failed
        message = f"{check.file}: {message}"
    return scrub_known(message)
