"""``validate``: every step of the walk but the last, each recorded as a :class:`Check` instead of raised.

Many sessions are checked in one run (the CLI expands files, folders and globs with
:func:`agent_ft_cli.session.paths.expand_sessions`, the one expansion rule); the config, the preference data and each
distinct client are checked once. The client checked is the one ``update`` would load
(:func:`agent_ft_cli.pairing.resolve_client`, the session's recorded client included). autogen is imported only
when the caller names a client (directly or in the config).

A check passes, fails, or passes with *warnings*: a final line cut short, preference data that cannot be pairs
(:func:`agent_ft_cli.prefs.check_prefs_shape`), a pair that cannot be tied to the thread (the one tying code,
:func:`agent_ft_cli.align.align`), that is every pair ``update`` would skip, and why. ``strict`` turns every
warning into a failure with exit code 3 (bad input data).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AgentFtError, SessionError, StrictError
from ..jsonio import shaped
from ..pairing import ClientChoice, NoClientError, recorded_clients, resolve_client, resolve_pair
from ..redact import scrub_known
from ..session import Message, OpenSession, has_model_client, open_session
from ..session.choice import PairChoiceError
from ..types import CheckDict
from .walk import Target, WarnFn

if TYPE_CHECKING:  # pragma: no cover
    from ..config import PairConfig


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    exit_code: int = 0
    error: AgentFtError | None = None
    #: the session file this check is about (None for the config, the prefs and a client named by the caller)
    file: str | None = None
    #: what passes but would be skipped or dropped; a failure under ``strict``
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> CheckDict:
        return shaped(self, CheckDict)  # type: ignore[no-any-return]


@dataclass
class _Read:
    """What one session's checks found, for the checks after them."""

    path: Path
    header: Mapping[str, Any] = field(default_factory=dict)
    pair: tuple[str, str] | None = None
    thread: list[Message] | None = None
    pair_error: AgentFtError | None = None
    no_client: bool = False
    #: several threads could be updated and nothing needs one (no preference data): every one is checked
    choices: PairChoiceError | None = None
    #: whether the file holds the thread (a cleared one included)
    present: bool = False
    #: every conversation of the thread (the pairs are decided over all of them, as export decides them)
    conversations: list[list[dict[str, Any]]] | None = None


def _strict_error(what: str, warnings: list[str]) -> StrictError:
    more = f" (and {len(warnings) - 1} more)" if len(warnings) > 1 else ""
    return StrictError(f"{what}: {warnings[0]}{more}; {{strict}} refuses every warning", options=("strict",))


def run(
    session_paths: Path | str | Sequence[Path | str],
    target: Target | None = None,
    *,
    on_warning: WarnFn | None = None,
    **fields: Any,
) -> list[Check]:
    """Check every input without calling update_model; each check records its outcome instead of raising.

    Each session is checked with the options of ``target`` (:class:`~.walk.Target`; or its ``fields``: ``prefs_path``,
    ``client``, ``config_path``, ``agent``, ``peer``, ``strict``, ``trust_session_client``). Warnings are kept on
    their check (and passed to ``on_warning``); under ``strict`` a check with warnings fails."""
    paths = [session_paths] if isinstance(session_paths, (str, Path)) else list(session_paths)
    if target is None:
        target = Target(Path(paths[0] if paths else ""), **fields)
    prefs_path, config_path = target.prefs_path, target.config_path
    client = target.client if isinstance(target.client, str) else None
    agent, peer, strict = target.agent, target.peer, target.strict
    checks: list[Check] = []

    def add(check: Check) -> Check:
        if check.ok and check.warnings and strict:
            error = _strict_error(check.file or check.name, check.warnings)
            check.ok, check.exit_code, check.error = False, error.exit_code, error
        checks.append(check)
        return check

    def attempt(name: str, fn: Callable[[Check], str], file: str | None = None) -> bool:
        check = Check(name, True, "", file=file)
        try:
            check.detail = fn(check)
        except AgentFtError as e:
            checks.append(Check(name, False, scrub_known(str(e)), e.exit_code, e, file=file))
            return False
        return add(check).ok

    config: PairConfig | None = None
    if config_path is not None:

        def check_config(_: Check) -> str:
            nonlocal config
            from ..config import load_config

            config = load_config(config_path)
            return f"{config_path}: agents {', '.join(config.agents)}"

        attempt("config", check_config)

    # -- each session: readable, well-formed, its pair ------------------------------------------------------------
    read: list[_Read] = []
    for raw_path in paths:
        r = _Read(Path(raw_path))

        def check_session(check: Check, r: _Read = r) -> str:
            with open_session(r.path) as opened:  # one open: the header, who talked to whom, every line
                return read_session(check, r, opened)

        def read_session(check: Check, r: _Read, opened: OpenSession) -> str:
            r.header = opened.header

            def warn(text: str) -> None:
                check.warnings.append(text)
                if on_warning is not None:
                    on_warning(text)

            counted: dict[tuple[str, str], int] | None = None
            total = 0

            def count_threads() -> list[tuple[str, str]]:  # the one pass, made where the header cannot tell the pair
                nonlocal counted, total
                counted, total = opened.counts(strict=strict, on_warning=warn)
                return list(counted)

            try:  # the file's threads are looked up only when the header cannot tell
                lookup = count_threads if prefs_path is None else None
                r.pair = resolve_pair(r.header, agent, peer, path=r.path, config=config, opened=opened, lookup=lookup)
            except SessionError as e:
                r.pair_error = e
                r.no_client = (agent, peer, config) == (None, None, None) and not any(
                    has_model_client(a) for a in r.header.get("agents") or []
                )
                if isinstance(e, PairChoiceError) and prefs_path is None and not r.no_client:
                    r.choices = e  # several threads could be updated; nothing here needs one: all are checked

            if counted is not None:
                r.present = r.pair in counted
            else:
                r.present = r.pair is not None and opened.has_thread(*r.pair, on_warning=lambda _: None)
            if r.pair is not None and prefs_path is not None:  # the thread the pairs are tied to
                s = opened.load(pairs=[r.pair], strict=strict, on_warning=warn)
                r.thread = s.threads.get(r.pair, [])  # type: ignore[arg-type]
                if r.present:
                    r.conversations = s.conversations(*r.pair)  # type: ignore[assignment]
                total = s.messages_total
            elif counted is None:  # read and check every line, keep nothing
                total = opened.load(agents=[], strict=strict, on_warning=warn).messages_total
            note = f"; {len(check.warnings)} warning(s): {check.warnings[0]}" if check.warnings else ""
            names = ", ".join(a["name"] for a in r.header.get("agents") or [])
            return f"{r.path}: format {r.header.get('version')}, {total} messages, agents {names}{note}"

        if not attempt("session", check_session, str(r.path)):
            continue

        def check_pair(_: Check, r: _Read = r) -> str:
            if r.pair is not None:
                if not r.present:  # what update refuses: nothing to hand the client
                    raise SessionError(f"{r.path}: no messages in thread {r.pair[0]}->{r.pair[1]}; nothing to learn from")
                return f"update {r.pair[0]!r} from its thread with {r.pair[1]!r}"
            if r.no_client:  # nothing to update: the file and all its threads were read and checked
                return f"{r.path}: no agent has a model client; every thread was read and checked (nothing to update)"
            if r.choices is not None:  # nothing to choose: the file and all its threads were read and checked
                what = "agents" if r.choices.option == "agent" else f"threads of {r.choices.agent or agent!r} with"
                return (
                    f"{r.path}: every thread was read and checked; {what} {', '.join(r.choices.choices)} could be "
                    "updated (preference data is tied to one of them when it names its agent and peer)"
                )
            assert r.pair_error is not None
            raise r.pair_error

        attempt("agents", check_pair, str(r.path))
        read.append(r)

    # -- the preference data, then what update would skip in each thread --------------------------------------------
    if prefs_path is not None:
        from ..prefs import check_prefs_shape, load_prefs

        data: Any = None

        def check_prefs(check: Check) -> str:
            nonlocal data
            data = load_prefs(prefs_path)
            check.warnings.extend(check_prefs_shape(data))
            size = f"{len(data)} item(s)" if isinstance(data, (list, dict)) else type(data).__name__
            return f"{prefs_path}: {size}"

        if attempt("prefs", check_prefs):
            for r in read:
                if r.pair is not None and r.thread is not None:
                    _check_ties(add, r.path, r.pair, r.thread, data, r.conversations)  # type: ignore[arg-type]  # recorded Messages are the dicts tying reads

    # -- each distinct client: the one update would load, under the consent rule update applies -------------------
    seen: set[tuple[str, str]] = set()
    for choice, file in _client_choices(client, config, read, target.trust_session_client):
        if isinstance(choice, AgentFtError):
            checks.append(Check("client", False, scrub_known(str(choice)), choice.exit_code, choice, file=file))
            continue
        if (choice.spec, choice.origin) in seen:
            continue
        seen.add((choice.spec, choice.origin))
        checked = attempt("client", lambda _c, choice=choice: _check_client(choice), file)  # type: ignore[misc]
        if checked and choice.origin != "session":  # the client's own preflight (a model that would not load...)
            _preflight(attempt, choice, config, read)
        # autogen is checked (imported: ~2.5 s) when the caller names a client; a client found only in the session
        # header is imported and checked against the protocol, so validating a recorded session keeps its speed.
        if checked and choice.origin != "session" and not any(c.name == "autogen" for c in checks):

            def check_autogen(_: Check) -> str:
                from ..classic.compat import autogen_version

                return f"classic autogen {autogen_version()}"

            attempt("autogen", check_autogen)
    return checks


def _client_choices(
    client: str | None, config: PairConfig | None, read: list[_Read], trust_session_client: bool
) -> list[tuple[ClientChoice | AgentFtError, str | None]]:
    """The client ``update`` would load for each session (the caller's, the config's or the recorded one), or the
    error update would raise choosing it (a client only the session names, without consent)."""
    out: list[tuple[ClientChoice | AgentFtError, str | None]] = []
    readings: list[_Read | None] = [*read] or [None]
    for r in readings:
        header = r.header if r is not None else {}
        file = str(r.path) if r is not None else None
        if r is not None and r.pair is not None:
            agents: list[str | None] = [r.pair[0]]
        elif r is not None and r.choices is not None:  # each agent update could be pointed at: its client
            agents = list(r.choices.choices) if r.choices.option == "agent" else [r.choices.agent]
        else:
            agents = [None]
        for agent in agents:
            try:
                choice = resolve_client(client, config, header=header, agent=agent, trust_session_client=trust_session_client)
            except AgentFtError as e:
                out.append((e, file))
                continue
            if choice is not None:
                out.append((choice, file if choice.origin == "session" else None))
            elif r is not None and agent is not None and recorded_clients(r.header, agent):
                # a client was recorded, but none update could import (a script's __main__ class, several): update fails
                out.append((NoClientError(agent), file))
    return out


def tie_warnings(
    data: Any, thread: list[dict[str, Any]], conversations: list[list[dict[str, Any]]] | None = None
) -> tuple[int, int, list[str]]:
    """(tied, pairs, why each other pair would be skipped) for ``data`` on ``thread``, decided over every
    conversation of the thread (``conversations``; see :func:`agent_ft_cli.align.align`), by the one tying code.
    Every skip is here (not found, no prompt, ambiguous, consumed) but the shape problems, which are
    :func:`agent_ft_cli.prefs.check_prefs_shape`'s."""
    from ..align import SkipKind, align

    tied, skipped = align(data, thread, conversations=conversations)
    shape = (SkipKind.NOT_A_LIST, SkipKind.NOT_A_PAIR, SkipKind.NO_CHOSEN_TEXT)
    here = sorted((s for s in skipped if s.kind not in shape), key=lambda s: s.index)
    # every pair (the shape problems aside) is either tied or skipped by the tying: their sum is the pairs
    return len(tied), len(tied) + len(here), [f"pair {s.index}: {s.reason}" for s in here]


def skipped_pairs(
    data: Any, thread: list[dict[str, Any]], conversations: list[list[dict[str, Any]]] | None = None
) -> list[str]:
    """Every pair ``update`` would skip on ``thread`` (deciding over every conversation of the thread,
    ``conversations``), and why (shape problems first): what ``--strict`` refuses.

    For a workflow that runs ``update_model`` under ``strict`` (refuse before the client runs when this is not
    empty), and for ``validate``'s report."""
    from ..prefs import check_prefs_shape

    return [*check_prefs_shape(data), *tie_warnings(data, thread, conversations)[2]]


def _check_ties(
    add: Callable[[Check], Check],
    path: Path,
    pair: tuple[str, str],
    thread: list[dict[str, Any]],
    data: Any,
    conversations: list[list[dict[str, Any]]] | None = None,
) -> None:
    """A ``pairs`` check: the pairs ``update`` would tie to this thread (over all its conversations), and every one
    it would skip, with why."""
    tied, total, warnings = tie_warnings(data, thread, conversations)
    if not total:
        return  # nothing to tie; the prefs check already says why
    n = len(conversations or ()) or 1
    over = f" ({n} conversations)" if n > 1 else ""
    detail = f"{tied} of {total} pair(s) tied to the thread {pair[0]}->{pair[1]}{over}"
    add(Check("pairs", True, detail, file=str(path), warnings=warnings))


def _check_client(choice: ClientChoice) -> str:
    from ..clients.loading import load_client

    cls = load_client(choice.spec)
    return f"{choice.spec} -> {cls.__module__}.{cls.__qualname__} follows the protocol"


def _preflight(attempt: Callable[..., bool], choice: ClientChoice, config: PairConfig | None, read: list[_Read]) -> None:
    """The client's optional preflight hook, as ``update`` runs it (:func:`agent_ft_cli.clients.protocol.preflight`)."""
    from ..clients.loading import load_client
    from ..clients.protocol import agent_entry, has_preflight, preflight

    cls = load_client(choice.spec)
    if not has_preflight(cls):
        return
    r = next((r for r in read if r.pair is not None), None)
    agent = r.pair[0] if r is not None and r.pair is not None else (config.update if config is not None else None)

    def check(done: Check) -> str:
        done.warnings.extend(preflight(cls, agent_entry(config, r.header if r is not None else {}, agent), choice.args, {}))
        return f"{choice.spec}: its preflight checks pass (what it needs before loading a model or training)"

    attempt("preflight", check)

