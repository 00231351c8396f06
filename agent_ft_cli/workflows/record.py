"""``record``: run a live chat between the configured pair and stream it to a session file."""

from __future__ import annotations

import contextlib
import errno
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AgentFtError, ClientLoadError, ClientUpdateError, OutputWriteError
from ..pairing import check_config_client, resolve_client, resolve_pair
from ..redact import describe_exception
from ..types import RecordResultDict
from .walk import load_config, stdout_to_stderr


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


@dataclass
class RecordResult:
    """Where the chat was written, between whom, how many messages, and the agent's final reply."""

    session: str
    agent: str
    peer: str
    messages: int
    reply: str | None

    def as_dict(self) -> RecordResultDict:
        return {
            "session": self.session,
            "agent": self.agent,
            "peer": self.peer,
            "messages": self.messages,
            "reply": self.reply,
        }


_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _chat_failed(job: RecordJob, rec: Any, e: BaseException) -> ClientUpdateError:
    return ClientUpdateError(
        f"the chat failed after {rec.messages_written} recorded message(s) (kept in {job.out}): "
        f"{type(e).__name__}: {describe_exception(e)}"
    )


def _no_space(out: Path, e: OSError, written: int) -> OutputWriteError:
    """Disk full or quota exceeded while recording: one line naming the file and what it holds."""
    code = errno.errorcode.get(e.errno or 0, "")
    reason = f"{e.strerror or e}" + (f", {code}" if code else "")
    kept = f"the {written} message(s) recorded before it are kept there" if written else "no message was recorded"
    with contextlib.suppress(OSError):
        if written == 0 and out.stat().st_size == 0:
            out.unlink()  # an empty file is not a session: leave nothing
            kept += " (the empty file was removed)"
    err = OutputWriteError(f"cannot write session file {str(out)!r} ({reason}); {kept}")
    err.path, err.reason = str(out), reason
    return err


def run(job: RecordJob) -> RecordResult:
    """Run a live chat between the configured pair (the initiator sends ``message``) and stream it to ``job.out``."""
    from ..classic.compat import require_autogen, silence_autogen_logging
    from ..classic.recorder import SessionRecorder
    from ..classic.replay import ClientToRegister, build_pair
    from ..clients.loading import load_client

    config = load_config(job.config_path)
    agent, peer = resolve_pair({"agents": config.header_agents()}, None, None, path=job.config_path, config=config)
    choice = resolve_client(job.client, config, client_args=job.client_args)
    updated_spec = config.agents[agent]
    client_cls = load_client(choice.spec, need_update=False) if choice is not None else None
    check_config_client(job.config_path, agent, updated_spec, choice)
    require_autogen()
    silence_autogen_logging()
    with stdout_to_stderr(quiet=job.quiet):
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
