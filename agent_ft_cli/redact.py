"""Keep secrets out of files, terminals and error messages.

A value is secret when its *key* looks like one (``api_key``, ``token``, ``client_secret``, ``password``,
``Authorization`` ...). Redaction works on plain JSON-like data (dicts, lists, scalars) and also flattens the
objects autogen keeps configs in (pydantic models such as ``LLMConfig``, ``SecretStr``) so callers can serialise the
result. Secret values are replaced by :data:`REDACTED`, so the shape of a config stays visible.

Free text (error messages, YAML error excerpts, stats) is scrubbed of every secret this process has seen (see
:class:`SecretRegistry`) and of what looks like one whatever its value: the userinfo of a URL
(``https://user:sk-...@host`` -> ``https://<redacted>@host``), the credential of an ``Authorization``/``Bearer``
header, and the value after a secret-named key (``api_key: ...``, ``"X-Api-Key": "..."``, ``token=...``, a YAML
alias ``*sk-...`` included).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

REDACTED = "<redacted>"

_SECRET_KEY = re.compile(
    r"(api[_-]?key|apikey|key$|^key|token|secret|passw(or)?d|passphrase|authori[sz]ation|credential|"
    r"private[_-]?key|access[_-]?key|session[_-]?key|cookie|bearer|signature)",
    re.IGNORECASE,
)
# Keys that contain "key" but are not secrets.
_NOT_SECRET = {"key_name", "keys", "monkey", "max_tokens", "tokens", "token_count", "max_token", "tokenizer"}


# -- secrets in free text, found by their shape ----------------------------------------------------------------

# scheme://userinfo@host: the userinfo (user, or user:password) is replaced whole.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^\s/?#@\"'<>]+)@")
# An auth scheme and its credential, wherever it stands.
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer)(\s+)([A-Za-z0-9._~+/=\-]{6,})")
_SECRET_WORD = (
    r"(?:api[_-]?key|apikey|token|secret|passw(?:or)?d|passphrase|authori[sz]ation|credentials?|private[_-]?key|"
    r"access[_-]?key|session[_-]?key|cookie|signature|key)"
)
# key (maybe quoted) : or = value; the value quoted, an auth scheme + credential, or bare (a YAML alias too).
_KEY_VALUE = re.compile(
    rf"""(?ix)
    (?P<q>["']?)(?P<key>[A-Za-z0-9_.\-]*{_SECRET_WORD}[A-Za-z0-9_.\-]*)(?P=q)
    (?P<sep>\s*[:=]\s*)
    (?P<value>
        (?:bearer|basic|token)\s+[^\s"',;}}\]]+
      | "(?:[^"\\\n]|\\.)*"
      | '(?:[^'\\\n]|\\.)*'
      | (?![{{\[])[^\s"',;}}\]]+
    )"""
)
# Credentials with a well-known prefix (OpenAI, Anthropic, Hugging Face, GitHub, Slack, AWS access key ids).
_TOKEN_SHAPES = re.compile(
    r"\b(?:sk-[A-Za-z0-9_\-]{16,}|hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abpr]-[A-Za-z0-9\-]{10,}|"
    r"AKIA[0-9A-Z]{16})"
)
_NOT_A_SECRET_VALUE = {"", "none", "null", "~", "false", "true", REDACTED.lower(), f"'{REDACTED}'", f'"{REDACTED}"'}


# A bare value that is one short word of letters reads as prose; credentials carry digits or symbols, or are long.
_PROSE_WORD = re.compile(r"[A-Za-z]{1,15}")
_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")


def _text_key_is_secret(key: str) -> bool:
    low = key.lower()
    if low == "key":  # too common in prose ("KEY=VALUE", "press any key: ..."); known secrets still get scrubbed
        return False
    return is_secret_key(key) and not low.endswith(("error", "exception", "warning", "_id", "_name", "_path", "_file"))


def _redact_value(m: re.Match[str]) -> str:
    key, value = m.group("key"), m.group("value")
    bare = value.strip("\"'")
    counted = "token" in key.lower() and _NUMBER.fullmatch(bare)  # "tokens_used: 512" is a count, not a token
    if not _text_key_is_secret(key) or bare.lower() in _NOT_A_SECRET_VALUE or counted:
        return m.group(0)
    scheme = re.match(r"(?i)(bearer|basic|token)\s+", value)
    if value[:1] not in "\"'" and not scheme and _PROSE_WORD.fullmatch(value):
        return m.group(0)  # a plain word ("api_key: Input should be a valid string"), not a credential
    if scheme:
        shown = scheme.group(0) + REDACTED
    elif value[:1] in "\"'":
        shown = value[0] + REDACTED + value[0]
    else:
        shown = REDACTED
    return f"{m.group('q')}{key}{m.group('q')}{m.group('sep')}{shown}"


def scrub_patterns(text: str) -> str:
    """``text`` with everything that looks like a credential replaced: URL userinfo, ``Bearer``/``Basic``
    credentials, values after secret-named keys, tokens of well-known shapes (``sk-...``, ``hf_...``)."""
    if not text:
        return text
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    text = _KEY_VALUE.sub(_redact_value, text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}" if m.group(3) != "<redacted>" else m.group(0), text)
    return _TOKEN_SHAPES.sub(REDACTED, text)


def _secrets_in_text(text: str) -> list[str]:
    """Credentials a string holds by its shape (URL userinfo and its password, a Bearer credential)."""
    found: list[str] = []
    for m in _URL_USERINFO.finditer(text):
        userinfo = m.group(2)
        found.append(userinfo)
        if ":" in userinfo:
            found.append(userinfo.split(":", 1)[1])
    found.extend(m.group(3) for m in _AUTH_SCHEME.finditer(text))
    found.extend(m.group(0) for m in _TOKEN_SHAPES.finditer(text))
    return [f for f in found if len(f) >= 4 and f != REDACTED]


def is_secret_key(key: object) -> bool:
    """Whether a mapping key names a secret value."""
    if not isinstance(key, str):
        return False
    low = key.lower()
    if low in _NOT_SECRET or low.endswith("_tokens") or low.startswith("max_"):
        return False
    return bool(_SECRET_KEY.search(low))


def plain(value: Any) -> Any:
    """Turn pydantic models and similar config objects into plain dicts/lists, without revealing SecretStr."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if type(value).__name__ in {"SecretStr", "SecretBytes"}:
        return REDACTED
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return plain(dump(exclude_none=True))
        except TypeError:  # pragma: no cover - exotic model_dump signatures
            return plain(dump())
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if callable(value):
        return f"<callable {getattr(value, '__qualname__', type(value).__name__)}>"
    return repr(value)


def redact(value: Any) -> Any:
    """A copy of ``value`` with every secret-looking key's value replaced by :data:`REDACTED`."""
    value = plain(value)
    if isinstance(value, dict):
        return {k: (REDACTED if is_secret_key(k) and v not in (None, "") else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return scrub_patterns(value)
    return value


def secret_values(value: Any) -> list[str]:
    """Every string stored under a secret-looking key, to scrub from free text (error messages)."""
    found: list[str] = []
    value = value if isinstance(value, (dict, list)) else plain(value)
    if isinstance(value, dict):
        for k, v in value.items():
            if is_secret_key(k) and isinstance(v, (str, dict, list)):
                found.extend(_all_strings(v))
            else:
                found.extend(secret_values(v))
    elif isinstance(value, list):
        for v in value:
            found.extend(secret_values(v))
    elif isinstance(value, str):
        found.extend(_secrets_in_text(value))
    return found


def _all_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if len(value) >= 4 else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in _all_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _all_strings(v)]
    return []


def scrub(text: str, secrets: list[str]) -> str:
    """Replace each known secret in free text, and whatever looks like a credential (:func:`scrub_patterns`)."""
    for s in sorted(set(secrets), key=len, reverse=True):
        if s:
            text = text.replace(s, REDACTED)
    return scrub_patterns(text)


# ---------------------------------------------------------------------------------------------------------------
# secrets known to this process (or to one scope of it), scrubbed from every message the CLI prints

_ENV_MIN = 8


class SecretRegistry:
    """The secrets seen so far (configs, client arguments), to scrub from every later message.

    The module functions (:func:`remember_secrets`, :func:`known_secrets`, :func:`scrub_known`,
    :func:`describe_exception`) use the *current* registry: a process-wide one unless :func:`secret_scope` set
    another for this thread or task (a library host running several jobs keeps their secrets apart).
    """

    def __init__(self, *, include_env: bool = True) -> None:
        self._known: set[str] = set()
        self.include_env = include_env

    def remember(self, value: Any) -> list[str]:
        found = secret_values(value)
        self._known.update(found)
        return found

    def known(self) -> list[str]:
        env = (
            [v for k, v in os.environ.items() if is_secret_key(k) and len(v) >= _ENV_MIN] if self.include_env else []
        )
        return [*self._known, *env]

    def scrub(self, text: str, extra: list[str] | None = None) -> str:
        return scrub(text, [*self.known(), *(extra or [])])


_PROCESS_REGISTRY = SecretRegistry()
_CURRENT: ContextVar[SecretRegistry] = ContextVar("agent_ft_secrets", default=_PROCESS_REGISTRY)


def current_registry() -> SecretRegistry:
    """The registry the module functions use here (the process-wide one unless :func:`secret_scope` set one)."""
    return _CURRENT.get()


@contextlib.contextmanager
def secret_scope(registry: SecretRegistry | None = None) -> Iterator[SecretRegistry]:
    """Use ``registry`` (a new one by default) for the block, in this thread or task only."""
    registry = registry or SecretRegistry()
    token = _CURRENT.set(registry)
    try:
        yield registry
    finally:
        _CURRENT.reset(token)


def remember_secrets(value: Any) -> list[str]:
    """Note every secret in ``value`` (a config, client args ...) so later error messages can be scrubbed of it."""
    return current_registry().remember(value)


def known_secrets() -> list[str]:
    """Secrets noted with :func:`remember_secrets` plus the values of secret-looking environment variables."""
    return current_registry().known()


def scrub_known(text: str, extra: list[str] | None = None) -> str:
    """:func:`scrub` with every known secret (and ``extra``)."""
    return current_registry().scrub(text, extra)


def scrub_data(value: Any, secrets: list[str]) -> Any:
    """A copy of JSON-like data with each known secret replaced inside strings (keys and structure kept)."""
    if not secrets:
        return value
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: scrub_data(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_data(v, secrets) for v in value]
    return value


def describe_exception(exc: BaseException, secrets: list[str] | None = None, limit: int = 400) -> str:
    """One short line for an exception: pydantic errors as ``field: problem`` (never the input value), others as
    their first line; known secrets scrubbed."""
    errors = getattr(exc, "errors", None)
    text = ""
    if callable(errors) and type(exc).__name__ == "ValidationError":
        try:
            items = errors(include_input=False, include_url=False)
            text = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg', '')}" for e in items)
        except Exception:  # pragma: no cover - a different ValidationError
            text = ""
    if not text:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        text = lines[0] if lines else type(exc).__name__
    text = scrub_known(text, secrets)
    return text if len(text) <= limit else text[: limit - 1] + "…"
