"""``validate``: every step of the walk but the last, each recorded as a :class:`Check` instead of raised.

The client checked is the one ``update`` would load (:func:`agent_ft_cli.pairing.resolve_client`, the session's
recorded client included). autogen is imported only when the caller names a client (directly or in the config).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AgentFtError
from ..pairing import ClientChoice, NoClientError, resolve_client, resolve_pair
from ..redact import scrub_known
from ..session import load_session
from .walk import WarnFn, load_config

if TYPE_CHECKING:  # pragma: no cover
    from ..config import PairConfig


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    exit_code: int = 0
    error: AgentFtError | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def run(
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
            checks.append(Check(name, False, scrub_known(str(e)), e.exit_code, e))
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
        from ..prefs import load_prefs

        def check_prefs() -> str:
            data = load_prefs(prefs_path)
            size = f"{len(data)} item(s)" if isinstance(data, (list, dict)) else type(data).__name__
            return f"{prefs_path}: {size}"

        attempt("prefs", check_prefs)

    choice = resolve_client(client, config, header=header, agent=pair[0] if pair else None)
    checked = choice is not None and attempt("client", lambda: _check_client(choice))
    if choice is None and pair is not None and _recorded_clients(header, pair[0]):
        # a client was recorded, but none update could import (a script's __main__ class, several): update fails

        def no_usable_client() -> str:
            raise NoClientError(pair[0])

        attempt("client", no_usable_client)
    # autogen is checked (imported: ~2.5 s) when the caller names a client, as before; a client found only in the
    # session header is imported and checked against the protocol, so validating a recorded session stays as
    # cheap as reading it (docs/benchmarks.md).
    if checked and choice is not None and choice.origin != "session":

        def check_autogen() -> str:
            from ..classic.compat import autogen_version

            return f"classic autogen {autogen_version()}"

        attempt("autogen", check_autogen)
    return checks


def _check_client(choice: ClientChoice) -> str:
    from ..clients.loading import load_client

    cls = load_client(choice.spec)
    return f"{choice.spec} -> {cls.__module__}.{cls.__qualname__} follows the protocol"


def _recorded_clients(header: dict[str, Any], agent: str) -> list[str]:
    """The client paths the session header recorded for ``agent`` (usable by ``update`` or not)."""
    for a in header.get("agents") or []:
        if a.get("name") == agent:
            return list(a.get("model_clients") or [])
    return []
