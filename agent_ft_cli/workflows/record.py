"""``record``: run a live chat between the configured pair and stream it to a session file.

Under ``strict`` every warning the run emits counts (:func:`run` collects them while passing each on to whoever
shows warnings): a value recorded through a documented fallback (``agent_ft_cli.session.FALLBACKS``), a message
that could not be recorded, two peers with one name, a failed write, a warning from the config or the client.
One emitted before the chat starts stops the run there, with nothing recorded; one emitted during the chat never
breaks it: the chat finishes, the session stays on disk, and then :class:`~agent_ft_cli.errors.StrictError`
(exit 3) names the file and the first warning.
"""

from __future__ import annotations

import contextlib
import errno
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..clients.loading import client_stdout_to_stderr
from ..errors import AgentFtError, ClientLoadError, ClientUpdateError, OutputWriteError, StrictError
from ..jsonio import shaped
from ..pairing import check_config_client, resolve_client, resolve_pair
from ..redact import describe_exception
from ..types import RecordResultDict


@dataclass
class RecordJob:
    config_path: Path
    message: str
    out: Path
    client: str | None = None
    client_args: dict[str, Any] = field(default_factory=dict)
    max_turns: int | None = None
    quiet: bool = False
    force: bool = False  # replace a session file that already holds a recording (else refused)
    strict: bool = False  # any warning fails the run (after the chat, the session kept)


@dataclass
class RecordResult:
    """Where the chat was written, between whom, how many messages, and the agent's final reply."""

    session: str
    agent: str
    peer: str
    messages: int
    reply: str | None
    #: Every warning the run emitted (each was also shown as usual).
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> RecordResultDict:
        return shaped(self, RecordResultDict)  # type: ignore[no-any-return]


_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _chat_failed(job: RecordJob, rec: Any, e: BaseException) -> ClientUpdateError:
    return ClientUpdateError(
        f"the chat failed after {rec.messages_written} recorded message(s) (kept in {job.out}): "
        f"{type(e).__name__}: {describe_exception(e)}"
    )


def _no_space(out: Path, e: OSError, written: int) -> OutputWriteError:
    """Disk full or quota exceeded while recording: one line naming the file and what it holds."""
    from ..fsutil import os_reason

    reason = os_reason(e)
    kept = f"the {written} message(s) recorded before it are kept there" if written else "no message was recorded"
    with contextlib.suppress(OSError):
        if written == 0 and out.stat().st_size == 0:
            out.unlink()  # an empty file is not a session: leave nothing
            kept += " (the empty file was removed)"
    err = OutputWriteError(f"cannot write session file {str(out)!r} ({reason}); {kept}")
    err.path, err.reason = str(out), reason
    return err


@contextlib.contextmanager
def _collect_warnings() -> Iterator[list[str]]:
    """Every warning shown inside the block, in order; each is still shown by the hook in place (the CLI's)."""
    seen: list[str] = []
    with warnings.catch_warnings():
        shown_by = warnings.showwarning

        def note(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            seen.append(str(message))
            shown_by(message, category, *args, **kwargs)

        warnings.showwarning = note
        yield seen


def _strict_error(job: RecordJob, seen: list[str], *, recorded: bool) -> StrictError:
    more = f" and {len(seen) - 1} more" if len(seen) > 1 else ""
    first = seen[0].removeprefix(f"{job.out}: ")  # the recorder's warnings name the file this message starts with
    where = (
        f"the chat finished and the session is kept in {str(job.out)!r}"
        if recorded
        else "nothing was recorded (the chat did not start)"
    )
    return StrictError(
        f"{job.out}: {len(seen)} warning(s) while recording ({first}{more}); {where}; {{strict}} refuses every warning",
        options=("strict",),
    )


def run(job: RecordJob) -> RecordResult:
    """Run a live chat between the configured pair (the initiator sends ``message``) and stream it to ``job.out``.

    Under ``job.strict`` a warning raises :class:`~agent_ft_cli.errors.StrictError`: before the chat, at once;
    during it, once the chat has finished (the session kept). The result lists every warning emitted."""
    with _collect_warnings() as seen:
        result = _run(job, seen)
    result.warnings = seen
    if job.strict and seen:
        raise _strict_error(job, seen, recorded=True)
    return result


def _run(job: RecordJob, seen: list[str]) -> RecordResult:
    from ..classic.compat import require_autogen, silence_autogen_logging
    from ..classic.recorder import SessionRecorder
    from ..classic.replay import ClientToRegister, build_pair
    from ..clients.loading import load_client
    from ..config import load_config

    config = load_config(job.config_path)
    agent, peer = resolve_pair({"agents": config.header_agents()}, None, None, path=job.config_path, config=config)
    choice = resolve_client(job.client, config, client_args=job.client_args)
    updated_spec = config.agents[agent]
    client_cls = load_client(choice.spec, need_update=False) if choice is not None else None
    check_config_client(job.config_path, agent, updated_spec, choice)
    require_autogen()
    silence_autogen_logging()
    with client_stdout_to_stderr(quiet=job.quiet):
        client = (
            ClientToRegister(client_cls, choice.args, repr(choice.spec))
            if client_cls is not None and choice is not None
            else None
        )
        try:
            pair = build_pair(
                updated_spec,
                config.agents[peer],
                client=client,
                agent_from_config=True,
                peer_from_config=True,
                source=job.config_path,
                agent_llm_config=updated_spec.llm_config,
                peer_llm_config=config.agents[peer].llm_config,
            )
        except (SystemExit, GeneratorExit) as e:  # a client constructor exiting: its failure, never agent-ft's exit
            label = repr(choice.spec) if choice is not None else "of the config"
            raise ClientLoadError(
                f"client {label} could not be created or registered: {type(e).__name__}: {describe_exception(e)}"
            ) from e
        if job.strict and seen:
            raise _strict_error(job, seen, recorded=False)
        updated, other = pair.agent, pair.peer
        by_name = {agent: updated, peer: other}
        initiator_name = config.chat.get("initiator", peer)
        initiator = by_name[initiator_name]
        recipient = other if initiator is updated else updated
        chat_kwargs: dict[str, Any] = {"message": job.message, "silent": job.quiet or config.chat.get("silent", False)}
        max_turns = job.max_turns if job.max_turns is not None else config.chat.get("max_turns")
        if max_turns is not None:
            chat_kwargs["max_turns"] = max_turns
        rec: Any = None
        try:
            with SessionRecorder(job.out, updated, other, mode="w" if job.force else "x") as rec:
                try:
                    initiator.initiate_chat(recipient, **chat_kwargs)
                except AgentFtError:
                    raise
                except OSError as e:
                    if e.errno not in _NO_SPACE:
                        raise _chat_failed(job, rec, e) from e
                    raise
                except BaseException as e:  # the client's create raising, SystemExit included; Ctrl-C stays one
                    if isinstance(e, KeyboardInterrupt):
                        raise
                    raise _chat_failed(job, rec, e) from e
        except OSError as e:
            if isinstance(e, AgentFtError) or e.errno not in _NO_SPACE:
                raise
            raise _no_space(job.out, e, rec.messages_written if rec is not None else 0) from None
    if rec.write_error is not None:  # the chat went on (the recorder never breaks it); the file misses messages
        failed = rec.write_error
        if isinstance(failed, OSError) and failed.errno in _NO_SPACE:
            raise _no_space(job.out, failed, rec.messages_written)
        raise OutputWriteError(
            f"cannot write session file {str(job.out)!r} ({getattr(failed, 'strerror', None) or failed}); messages "
            "appended after the failure are missing from it"
        )
    thread = updated.chat_messages[other]
    reply = next((m.get("content") for m in reversed(thread) if m.get("role") == "assistant"), None)
    return RecordResult(str(job.out), agent, peer, rec.messages_written, reply)
