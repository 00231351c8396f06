"""One exception family for everything agent-ft refuses.

Core modules raise these; the CLI catches :class:`AgentFtError` once, prints ``Error: <message>`` on stderr and
exits with the class's ``exit_code``. The codes are part of the public contract (CI scripts depend on them):

====  =====================================================================
code  meaning
====  =====================================================================
0     success
1     the client's own ``update_model`` failed
2     usage error (bad or conflicting arguments, unwritable output)
3     bad input data (session, preference data, YAML config)
4     the client cannot be imported or does not follow the protocol, or the installed autogen is not the classic API
5     a quality gate failed (``eval``/``update --eval``: accuracy below the minimum, or dropped from the baseline)
130   interrupted (Ctrl-C)
143   terminated (SIGTERM, once :func:`raise_on_sigterm` is installed); cleaned up the same way as Ctrl-C
====  =====================================================================

Core messages name files, keys and values, never command-line flags: a message about an option writes it as a
``{key}`` field and lists the key in ``options`` (``UsageError("{format} 'x' is not one of: ...",
options=("format",))``). ``str(error)`` reads ``format 'x' ...``; the CLI calls :meth:`AgentFtError.spell_options`
with its flag names first, so its users read ``--format 'x' ...``.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable, Sequence
from typing import Any

EXIT_OK = 0
EXIT_CLIENT_FAILED = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_CLIENT_LOAD = 4
EXIT_GATE_FAILED = 5
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class AgentFtError(Exception):
    """Base class: a one-line message for the user and the process exit code."""

    exit_code: int = EXIT_CLIENT_FAILED

    def __init__(self, message: str, *, hint: str | None = None, options: Iterable[str] = ()) -> None:
        super().__init__(message)
        #: The input keys (``"format"``, ``"session_id"``) this message names as ``{key}`` fields: the core speaks
        #: of keys, the CLI calls :meth:`spell_options` so its users read flags (``--format``, ``--session-id``).
        self.options = tuple(options)
        self.template = message
        self.message = self._render(str)
        self.hint = hint

    def _render(self, spell: Callable[[str], str]) -> str:
        text = self.template
        for key in self.options:
            text = text.replace("{" + key + "}", spell(key))
        return text

    def spell_options(self, spell: Callable[[str], str]) -> None:
        """Name the options this message is about as ``spell(key)`` does (the CLI passes its flag names)."""
        self.message = self._render(spell)

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(AgentFtError):
    """Bad or conflicting command-line arguments, or an output path that cannot be written."""

    exit_code = EXIT_USAGE


class InputDataError(AgentFtError):
    """A session, preference file or config that cannot be used."""

    exit_code = EXIT_BAD_INPUT


class SessionError(InputDataError):
    """A session file that is missing, unreadable or malformed, or lacks the requested agents."""


class PrefsError(InputDataError):
    """Preference data that cannot be read."""


class ConfigError(InputDataError):
    """A YAML pair config that is invalid."""


class StrictError(InputDataError):
    """Under ``strict``: what would otherwise be a warning or a skip (a pair that cannot be tied, a skipped session,
    a line cut short, preference data that are not pairs) is refused, with exit code 3."""


class ClientLoadError(AgentFtError):
    """The client import path cannot be resolved, or the class breaks the protocol."""

    exit_code = EXIT_CLIENT_LOAD


class AutogenUnavailableError(ClientLoadError):
    """The installed ``autogen`` is missing or is not the classic ConversableAgent API."""


class OutputWriteError(UsageError, OSError):
    """An output file could not be written (disk full, quota, I/O error); nothing partial was left behind.

    Also an ``OSError``, so code that already caught the operating system's error keeps catching it."""

    path: str = ""
    reason: str = ""


class LockTimeoutError(UsageError):
    """Another process holds the lock on a file or folder this one must write, and did not release it in time."""


class RecordingError(UsageError, ValueError):
    """A recorder or snapshot was called wrongly (no agents, a non-agent, two different agents with one name, a
    session file that exists). Also a ``ValueError``, as these were before."""


class ClientUpdateError(AgentFtError):
    """The client's own ``update_model`` raised."""

    exit_code = EXIT_CLIENT_FAILED


class QualityGateError(AgentFtError):
    """An evaluation ran and its results were shown, but missed a quality gate (a minimum accuracy, or a drop from
    a baseline larger than allowed)."""

    exit_code = EXIT_GATE_FAILED


# -- seed-compatible classes: where the seed (autogen's ``update_model`` contrib) raises a builtin, agent-ft raises a
# class that is both an AgentFtError and that builtin, so code written against the seed keeps catching it.


class NoModelClientError(ClientLoadError, ValueError):
    """The agent has no model client at all (the seed's ``ValueError("No OpenAIWrapper client is found.")``)."""


class ManyModelClientsError(ClientLoadError, ValueError):
    """The agent has several model clients: which one should learn is unclear (the seed's ``ValueError``)."""


class UpdateNotImplementedError(ClientLoadError, NotImplementedError):
    """The agent's model client has no ``update_model`` (the seed's ``NotImplementedError``)."""


class NotAnAgentError(UsageError, TypeError, ValueError):
    """An argument that must be an autogen agent is something else (``update_model("assistant", ...)``); the message
    names the argument. Also a ``TypeError`` (what it is) and a ``ValueError`` (what agent-ft raised before)."""


class SessionWarning(UserWarning):
    """A recoverable problem in a session file (such as a final line cut short by a crash)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process was (see :func:`raise_on_sigterm`).

    A ``KeyboardInterrupt`` subclass so every ``except BaseException``/``finally`` clean-up (atomic writers remove
    their temporary file) runs exactly as for Ctrl-C; the CLI catches it before ``KeyboardInterrupt`` and exits with
    :data:`EXIT_TERMINATED`.
    """

    exit_code = EXIT_TERMINATED


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def raise_on_sigterm() -> bool:
    """Turn SIGTERM into :class:`Terminated` in this process (main thread only; returns whether it was installed).

    Leaves a SIGTERM handler someone else installed (a host program, accelerate) alone.
    """
    try:
        if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None, _on_sigterm):
            return False
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread
        return False
    return True


class KeyedText(str):
    """A warning's text (the library's spelling, bare keys) that also carries its error, whose ``{key}`` fields the
    command line spells as flags (:attr:`error`)."""

    error: AgentFtError | None = None

    @classmethod
    def of(cls, error: AgentFtError) -> KeyedText:
        text = cls(str(error))
        text.error = error
        return text


# -- the wording of lists in messages -----------------------------------------------------------------------------


def either(names: Sequence[str]) -> str:
    """Names as prose: ``"a"``, ``"a or b"``, ``"a, b or c"``."""
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)


def listed(items: Sequence[Any], most: int = 10) -> str:
    """The first ``most`` items, comma-separated, then how many more: ``"3, 7, 9 and 12 more"``."""
    more = f" and {len(items) - most} more" if len(items) > most else ""
    return ", ".join(map(str, items[:most])) + more
