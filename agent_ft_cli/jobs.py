"""The commands' work, as plain functions: each is a short walk along read -> config -> prefs -> client -> replay.

``cli.py`` parses arguments, calls one of these and renders what comes back; everything here raises
:class:`~agent_ft_cli.errors.AgentFtError` subclasses and never prints. ``inspect`` needs nothing from here but
:func:`resolve_pair` and never imports autogen; ``validate`` imports autogen only when asked to check a client.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import AgentFtError, ClientLoadError, ClientUpdateError, SessionError
from .redact import describe_exception, known_secrets, remember_secrets, scrub_data, scrub_known
from .session import choose_pair, load_session, read_header

if TYPE_CHECKING:  # pragma: no cover
    from .config import PairConfig


def load_config(path: Path) -> PairConfig:
    """The YAML config (imported on demand: yaml is not needed by a command without --config)."""
    from .config import load_config as load

    return load(path)

WarnFn = Callable[[str], None]


@contextlib.contextmanager
def stdout_to_stderr(*, quiet: bool = False) -> Iterator[None]:
    """Everything autogen or a client prints goes to stderr (or nowhere when ``quiet``), so stdout carries only
    the requested output."""
    import io

    with contextlib.redirect_stdout(io.StringIO() if quiet else sys.stderr):
        yield


def resolve_pair(
    header: dict[str, Any],
    agent: str | None,
    peer: str | None,
    *,
    path: Path | str,
    config: PairConfig | None = None,
) -> tuple[str, str]:
    """Command-line choice first, then the config's ``update``/``peer``, then inference from the session."""
    if config is not None:
        agent = agent or config.update
        peer = peer or config.peer
    return choose_pair(header, agent, peer, path=path)


def resolve_client_spec(client: str | None, config: PairConfig | None, header: dict[str, Any], agent: str) -> str:
    """``--client``, else the config's client, else the client the session recorded for the agent."""
    if client:
        return client
    if config is not None and config.client_path:
        return config.client_path
    for a in header.get("agents") or []:
        if a.get("name") == agent:
            recorded = [p for p in a.get("model_clients") or [] if not p.startswith("__main__:")]
            if len(recorded) == 1:
                return str(recorded[0])
    raise ClientLoadError(
        f"no client for agent {agent!r}: pass --client 'package.module:ClassName' or set 'client' in the --config YAML"
    )


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


def run_update(job: UpdateJob, on_warning: WarnFn | None = None) -> dict[str, Any]:
    """Everything ``agent-ft update`` does; returns the seed's result dict plus a ``meta`` entry for display."""
    from .clients import load_client
    from .prefs import load_prefs

    config = load_config(job.config_path) if job.config_path else None
    header, _ = read_header(job.session_path)
    agent, peer = resolve_pair(header, job.agent, job.peer, path=job.session_path, config=config)
    prefs = load_prefs(job.prefs_path)
    spec = resolve_client_spec(job.client, config, header, agent)
    client_cls = load_client(spec)
    client_args = {**(config.client_args if config and not job.client else {}), **job.client_args}
    session = load_session(job.session_path, pairs=[(agent, peer), (peer, agent)], strict=job.strict, on_warning=on_warning)
    if (agent, peer) not in session.threads:
        raise SessionError(f"{job.session_path}: no messages in thread {agent}->{peer}; nothing to learn from")

    from .compat import require_autogen
    from .replay import replay_pair
    from .update import _the_client as the_client
    from .update import run_update as seed_update

    require_autogen()
    secrets = remember_secrets([client_args, job.kwargs])
    with stdout_to_stderr():
        pair = replay_pair(session, agent, peer, client_cls=client_cls, client_args=client_args, config=config)
        try:
            the_client(pair.agent)  # the seed's own checks: exactly one client, with update_model
        except (ValueError, NotImplementedError) as e:
            raise ClientLoadError(f"cannot update {agent!r}: {e}") from e
        try:
            result = seed_update(
                pair.agent, prefs, pair.peer, _include_system_message=job.include_system_message, **job.kwargs
            )
        except AgentFtError:
            raise
        except Exception as e:  # anything the client's own update_model raises (ValueError included)
            raise ClientUpdateError(
                f"the client's update_model ({spec}) failed: {type(e).__name__}: {describe_exception(e, secrets)}"
            ) from e
    result["update_stats"] = scrub_data(result["update_stats"], known_secrets())
    result["meta"] = {
        "session": str(job.session_path),
        "agent": agent,
        "peer": peer,
        "client": spec,
        "messages": len(result["inference_messages"]),
    }
    return result


# ---------------------------------------------------------------------------------------------------------------
# validate


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    exit_code: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def validate(
    session_path: Path,
    *,
    prefs_path: str | None = None,
    client: str | None = None,
    config_path: Path | None = None,
    agent: str | None = None,
    peer: str | None = None,
    strict: bool = False,
    on_warning: WarnFn | None = None,
) -> list[Check]:
    """Check every input without calling update_model; each check records its outcome instead of raising.

    Warnings (a final line cut short) are kept in the session check's detail and also passed to ``on_warning``."""
    checks: list[Check] = []

    def attempt(name: str, fn: Callable[[], str]) -> bool:
        try:
            checks.append(Check(name, True, fn()))
            return True
        except AgentFtError as e:
            checks.append(Check(name, False, scrub_known(str(e)), e.exit_code))
            return False

    config: PairConfig | None = None
    if config_path is not None:

        def check_config() -> str:
            nonlocal config
            config = load_config(config_path)
            return f"{config_path}: agents {', '.join(config.agents)}"

        attempt("config", check_config)

    header: dict[str, Any] = {}
    warnings: list[str] = []

    def warn(text: str) -> None:
        warnings.append(text)
        if on_warning is not None:
            on_warning(text)

    def check_session() -> str:
        nonlocal header
        s = load_session(session_path, agents=[], strict=strict, on_warning=warn)
        header = s.header
        note = f"; {len(warnings)} warning(s): {warnings[0]}" if warnings else ""
        return f"{session_path}: format {header.get('version')}, {s.messages_total} messages, agents {', '.join(s.agent_names)}{note}"

    session_ok = attempt("session", check_session)
    pair: tuple[str, str] | None = None
    if session_ok:

        def check_pair() -> str:
            nonlocal pair
            pair = resolve_pair(header, agent, peer, path=session_path, config=config)
            return f"update {pair[0]!r} from its thread with {pair[1]!r}"

        attempt("agents", check_pair)

    if prefs_path is not None:
        from .prefs import load_prefs

        def check_prefs() -> str:
            data = load_prefs(prefs_path)
            size = f"{len(data)} item(s)" if isinstance(data, (list, dict)) else type(data).__name__
            return f"{prefs_path}: {size}"

        attempt("prefs", check_prefs)

    wants_client = client is not None or (config is not None and config.client_path is not None)
    if wants_client:
        from .clients import load_client

        def check_client() -> str:
            spec = resolve_client_spec(client, config, header, pair[0] if pair else "?")
            cls = load_client(spec)
            return f"{spec} -> {cls.__module__}.{cls.__qualname__} follows the protocol"

        if attempt("client", check_client):

            def check_autogen() -> str:
                from .compat import autogen_version

                return f"classic autogen {autogen_version()}"

            attempt("autogen", check_autogen)
    return checks


# ---------------------------------------------------------------------------------------------------------------
# record


@dataclass
class RecordJob:
    config_path: Path
    message: str
    out: Path
    client: str | None = None
    client_args: dict[str, Any] = field(default_factory=dict)
    max_turns: int | None = None
    quiet: bool = False


def record(job: RecordJob) -> dict[str, Any]:
    """Run a live chat between the configured pair (the initiator sends ``message``) and stream it to ``job.out``."""
    from .clients import load_client
    from .compat import require_autogen, silence_autogen_logging
    from .config import errors_name
    from .errors import ConfigError
    from .recorder import SessionRecorder
    from .replay import build_agent, client_llm_config

    config = load_config(job.config_path)
    agent, peer = resolve_pair({"agents": config.header_agents()}, None, None, path=job.config_path, config=config)
    spec = job.client or config.client_path
    updated_spec = config.agents[agent]
    client_cls = load_client(spec, need_update=False) if spec else None
    if client_cls is None and updated_spec.has_model_client():
        raise ConfigError(
            f"{job.config_path}: agents.{agent} uses a custom model_client_cls but no client import path is given; "
            "set 'client.path' in the config or pass --client"
        )
    client_args = {**(config.client_args if not job.client else {}), **job.client_args}
    require_autogen()
    silence_autogen_logging()
    with stdout_to_stderr(quiet=job.quiet):
        with errors_name(job.config_path):
            llm_config = (
                client_llm_config(updated_spec, client_cls, from_config=True) if client_cls else updated_spec.llm_config
            )
            updated = build_agent(updated_spec, from_config=True, llm_config=llm_config)
            other = build_agent(config.agents[peer], from_config=True, llm_config=config.agents[peer].llm_config)
        if client_cls is not None:
            try:
                updated.register_model_client(model_client_cls=client_cls, **client_args)
            except Exception as e:
                reason = describe_exception(e, remember_secrets([client_args, llm_config]))
                raise ClientLoadError(
                    f"client {spec!r} could not be created or registered: {type(e).__name__}: {reason}"
                ) from e
        by_name = {agent: updated, peer: other}
        initiator_name = config.chat.get("initiator", peer)
        initiator = by_name[initiator_name]
        recipient = other if initiator is updated else updated
        chat_kwargs: dict[str, Any] = {"message": job.message, "silent": job.quiet or config.chat.get("silent", False)}
        max_turns = job.max_turns if job.max_turns is not None else config.chat.get("max_turns")
        if max_turns is not None:
            chat_kwargs["max_turns"] = max_turns
        with SessionRecorder(job.out, updated, other) as rec:
            try:
                initiator.initiate_chat(recipient, **chat_kwargs)
            except AgentFtError:
                raise
            except Exception as e:
                raise ClientUpdateError(
                    f"the chat failed after {rec.messages_written} recorded message(s) (kept in {job.out}): "
                    f"{type(e).__name__}: {describe_exception(e)}"
                ) from e
    thread = updated.chat_messages[other]
    reply = next((m.get("content") for m in reversed(thread) if m.get("role") == "assistant"), None)
    return {
        "session": str(job.out),
        "agent": agent,
        "peer": peer,
        "messages": rec.messages_written,
        "reply": reply,
    }
