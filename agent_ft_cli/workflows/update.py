"""``update``: replay a saved session into the client's ``update_model`` (the whole walk, then the seed's contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AgentFtError, ClientLoadError, ClientUpdateError, UsageError
from ..pairing import require_client
from ..redact import describe_exception, known_secrets, remember_secrets, scrub_data
from .walk import WarnFn, plan, replay, stdout_to_stderr


@dataclass
class UpdateJob:
    session_path: Path
    prefs_path: str
    client: str | None = None
    client_args: dict[str, Any] = field(default_factory=dict)
    config_path: Path | None = None
    agent: str | None = None
    peer: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    include_system_message: bool = False
    strict: bool = False
    #: Which conversation of the thread the client gets: None = the thread as the agent holds it now (the seed's
    #: meaning), N = the N-th (1 = oldest, :meth:`~agent_ft_cli.session.Session.conversations`), "all" = every one,
    #: oldest first, joined into one thread.
    conversation: int | str | None = None


@dataclass
class UpdateResult:
    """The seed's result (``update_stats``, ``inference_messages``, ``preference_data``) and what produced it."""

    update_stats: Any
    inference_messages: list[dict[str, Any]]
    preference_data: Any
    session: str
    agent: str
    peer: str
    client: str

    @property
    def messages(self) -> int:
        return len(self.inference_messages)

    def as_dict(self) -> dict[str, Any]:
        """The seed's result dict, as ``update_model`` returns it (what ``--json`` and ``--output`` write)."""
        return {
            "update_stats": self.update_stats,
            "inference_messages": self.inference_messages,
            "preference_data": self.preference_data,
        }


def run(job: UpdateJob, on_warning: WarnFn | None = None) -> UpdateResult:
    """Everything ``agent-ft update`` does: the walk, then the client's ``update_model`` through the seed's contract."""
    from ..classic.update import reserved_kwargs

    clash = reserved_kwargs(job.kwargs)
    if clash:  # checked before any work: a usage error, not the client's failure
        raise UsageError(f"update_model keyword {clash[0]!r} is reserved (update_model passes it itself); rename it")
    from ..clients.loading import load_client
    from ..prefs import load_prefs

    walk = plan(
        job.session_path,
        agent=job.agent,
        peer=job.peer,
        config_path=job.config_path,
        client=job.client,
        client_args=job.client_args,
    )
    agent, peer = walk.agent, walk.peer
    prefs = load_prefs(job.prefs_path)
    choice = require_client(walk.client, agent)
    client_cls = load_client(choice.spec)

    from ..classic.update import run_update, the_client

    secrets = remember_secrets([choice.args, job.kwargs])
    with stdout_to_stderr():
        pair = replay(walk, client_cls, strict=job.strict, on_warning=on_warning)
        if job.conversation is not None:
            pair.agent.chat_messages[pair.peer] = _conversation(job, agent, peer)
        try:
            the_client(pair.agent)  # the seed's own checks: exactly one client, with update_model
        except (ValueError, NotImplementedError) as e:
            raise ClientLoadError(f"cannot update {agent!r}: {e}") from e
        try:
            result = run_update(pair.agent, prefs, pair.peer, job.kwargs, include_system_message=job.include_system_message)
        except AgentFtError:
            raise
        except Exception as e:  # anything the client's own update_model raises (ValueError included)
            raise ClientUpdateError(
                f"the client's update_model ({choice.spec}) failed: {type(e).__name__}: {describe_exception(e, secrets)}"
            ) from e
    return UpdateResult(
        update_stats=scrub_data(result["update_stats"], known_secrets()),
        inference_messages=result["inference_messages"],
        preference_data=result["preference_data"],
        session=str(job.session_path),
        agent=agent,
        peer=peer,
        client=choice.spec,
    )


def _conversation(job: UpdateJob, agent: str, peer: str) -> list[dict[str, Any]]:
    """The messages of the conversation ``job.conversation`` names (see :attr:`UpdateJob.conversation`)."""
    from ..session import load_session

    conversations = load_session(job.session_path, pairs=[(agent, peer)], strict=job.strict, on_warning=lambda _: None).conversations(agent, peer)
    if job.conversation == "all":
        return [m for c in conversations for m in c]
    if not isinstance(job.conversation, int) or not 1 <= job.conversation <= len(conversations):
        raise UsageError(
            f"conversation {job.conversation!r}: thread {agent}->{peer} holds {len(conversations)} conversation(s); "
            "choose a number from 1 (the oldest) or 'all'"
        )
    return conversations[job.conversation - 1]
