"""The walk every workflow shares: read -> config -> pair -> client -> replay, each step once.

:class:`Target` is what a command walks (the session, the preference data, the config, the pair, the client,
strictness, consent, the conversation): one dataclass, filled once from the shared option group by the CLI
(:func:`agent_ft_cli.cli.options.target`) and by the Python API the same way; ``update``'s and ``eval``'s jobs
extend it. :func:`plan` reads the config and the session header and decides the agent, the peer and the client
(:mod:`agent_ft_cli.pairing`, the one owner); :meth:`Plan.session` loads the pair's threads once, starting after the
header the plan already read, and every later step (replay, the conversation chosen, the pairs tied) reads that
one :class:`~agent_ft_cli.session.Session`. Nothing here prints: client code runs with stdout pointed at stderr
(:func:`~agent_ft_cli.clients.loading.client_stdout_to_stderr`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SessionError, UsageError
from ..pairing import ClientChoice, require_client, resolve_client, resolve_pair
from ..session import Session, load_session, open_session
from ..types import WarnFn

if TYPE_CHECKING:  # pragma: no cover
    from ..classic.replay import ReplayedPair
    from ..config import PairConfig
    from ..types import Message, SessionHeader


def conversation_choice(value: int | str | None) -> int | str | None:
    """Which conversation of the thread: None (the thread as the agent holds it now), N >= 1, or ``"all"``."""
    if value is None or value == "all" or (type(value) is int and value >= 1):
        return value
    if isinstance(value, str) and value.isdigit() and int(value) >= 1:
        return int(value)
    raise UsageError(f"{{conversation}} {value}: expected a number from 1 or 'all'", options=("conversation",))


def pick_conversation(
    conversations: list[list[Message]], choice: int | str, agent: str, peer: str, *, all_ok: bool = True
) -> list[Message]:
    """The messages of conversation ``choice`` (:func:`conversation_choice`) of thread ``agent->peer``; ``"all"``
    joins every conversation, oldest first."""
    if choice == "all":
        return [m for c in conversations for m in c]
    if not isinstance(choice, int) or not 1 <= choice <= len(conversations):
        raise UsageError(
            f"{{conversation}} {choice}: thread {agent}->{peer} holds {len(conversations)} conversation(s); choose a "
            "number from 1 (the oldest)" + (" or 'all'" if all_ok else ""),
            options=("conversation",),
        )
    return conversations[choice - 1]


@dataclass
class Target:
    """What a command walks, decided by the caller: one object built once from the shared options."""

    session_path: Path
    prefs_path: str | None = None
    #: an import path ``"module:Class"`` (the Python API also takes the class itself)
    client: str | type | None = None
    client_args: dict[str, Any] = field(default_factory=dict)
    config_path: Path | None = None
    agent: str | None = None
    peer: str | None = None
    include_system_message: bool = False
    strict: bool = False
    #: Run a client named only by the session header (consent; see :func:`agent_ft_cli.pairing.resolve_client`).
    trust_session_client: bool = False
    #: Which conversation of the thread the client gets: None = the thread as the agent holds it now (the seed's
    #: meaning), N = the N-th (1 = oldest, :meth:`~agent_ft_cli.session.Session.conversations`), "all" = every one,
    #: oldest first, joined into one thread.
    conversation: int | str | None = None

    def __post_init__(self) -> None:
        self.conversation = conversation_choice(self.conversation)


@dataclass
class Plan:
    """What a workflow works on, decided before any heavy work: the session, its pair, the config and the client."""

    session_path: Path
    header: SessionHeader
    agent: str
    peer: str
    config: PairConfig | None
    client: ClientChoice | None
    target: Target | None = None
    #: where the records after the header start (the header is not read again)
    header_end: int = 0
    loaded: Session | None = None
    #: the header line as read, and the digests of what the walk read (:class:`~agent_ft_cli.runs.record.Digest`,
    #: by path): the config's as it was loaded, the session's when :meth:`session` is asked to keep one
    head: bytes | None = None
    read: dict[str, Any] = field(default_factory=dict)

    def session(self, *, on_warning: WarnFn | None = None, digest: bool = False) -> Session:
        """The pair's two threads, read once (from the end of the header on) and kept; with ``digest``, the file's
        sha256 is taken from that one read (``read[path]``)."""
        if self.loaded is None:
            pairs = [(self.agent, self.peer), (self.peer, self.agent)]
            strict = self.target.strict if self.target is not None else False
            kept = None
            if digest and self.head is not None:
                from ..runs.record import Digest

                kept = self.read[str(self.session_path)] = Digest(self.head)
            self.loaded = load_session(
                self.session_path, pairs=pairs, strict=strict, on_warning=on_warning, header=(self.header, self.header_end),
                digest=kept,
            )
        return self.loaded

    def client_class(self, *, need_update: bool = True) -> type:
        """The client class: the one the caller gave, else imported from the chosen import path (protocol checked)."""
        from ..clients.loading import check_protocol, load_client

        given = self.target.client if self.target is not None else None
        if isinstance(given, type):
            return check_protocol(given, need_update=need_update)
        return load_client(require_client(self.client, self.agent).spec, need_update=need_update)


def plan(target: Target | Path, *, session: Session | None = None, **fields: Any) -> Plan:
    """Read the config and the session header (or take them from ``session``, already loaded); resolve the pair
    and the client (the session's recorded client included, with consent: see
    :func:`agent_ft_cli.pairing.resolve_client`). ``fields`` fill a :class:`Target` when ``target`` is a path."""
    if not isinstance(target, Target):
        target = Target(Path(target), **fields)
    from ..runs.record import Digest

    read: dict[str, Any] = {}
    config = None
    if target.config_path:
        from ..config import load_config  # yaml only for a command given a config

        read[str(target.config_path)] = digest = Digest()
        config = load_config(target.config_path, on_text=digest.text)
    head = None
    if session is not None:
        header, end = session.header, 0
        a, p = resolve_pair(header, target.agent, target.peer, path=target.session_path, config=config)
    else:  # the header, and the peek that may decide the peer, from one open of the file
        with open_session(target.session_path) as opened:
            (header, end), head = opened.known, opened.head
            a, p = resolve_pair(header, target.agent, target.peer, path=target.session_path, config=config, opened=opened)
    choice: ClientChoice | None
    if isinstance(target.client, type):  # the Python API's class: given, not imported
        cls = target.client
        choice = ClientChoice(f"{cls.__module__}:{cls.__qualname__}", "given", dict(target.client_args))
    else:
        choice = resolve_client(
            target.client, config, header=header, agent=a, client_args=target.client_args,
            trust_session_client=target.trust_session_client,
        )
    return Plan(target.session_path, header, a, p, config, choice, target, end, session, head, read)


def replay(plan: Plan, client_cls: type | None, *, on_warning: WarnFn | None = None) -> ReplayedPair:
    """Build the live agents holding the pair's threads (:meth:`Plan.session`), ``client_cls`` registered on the
    agent; with :attr:`Target.conversation`, the agent holds that conversation instead.

    Run it inside :func:`~agent_ft_cli.clients.loading.client_stdout_to_stderr`: building agents and the client runs their code."""
    agent, peer = plan.agent, plan.peer
    session = plan.session(on_warning=on_warning)
    if (agent, peer) not in session.threads:
        raise SessionError(f"{plan.session_path}: no messages in thread {agent}->{peer}; nothing to learn from")
    from ..classic.compat import require_autogen
    from ..classic.replay import replay_pair

    require_autogen()
    args = plan.client.args if plan.client is not None else {}
    pair = replay_pair(session, agent, peer, client_cls=client_cls, client_args=args, config=plan.config)
    choice = plan.target.conversation if plan.target is not None else None
    if choice is not None:
        conversations = session.conversations(agent, peer)
        thread = pick_conversation(conversations, choice, agent, peer)
        # the client ties against this conversation, deciding over every conversation of the thread
        from ..recorded import RecordedThread

        pair.agent.chat_messages[pair.peer] = RecordedThread(thread, conversations)  # type: ignore[arg-type]  # recorded Messages are the dicts tying reads
    return pair
