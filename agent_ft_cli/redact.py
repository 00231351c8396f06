"""Keep secrets out of files, terminals and error messages.

A value is secret when its *key* looks like one (``api_key``, ``token``, ``client_secret``, ``password``,
``Authorization`` ...). Redaction works on plain JSON-like data (dicts, lists, scalars) and also flattens the
objects autogen keeps configs in (pydantic models such as ``LLMConfig``, ``SecretStr``) so callers can serialise the
result. Secret values are replaced by :data:`REDACTED`, so the shape of a config stays visible.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "<redacted>"

_SECRET_KEY = re.compile(
    r"(api[_-]?key|apikey|key$|^key|token|secret|passw(or)?d|passphrase|authori[sz]ation|credential|"
    r"private[_-]?key|access[_-]?key|session[_-]?key|cookie|bearer|signature)",
    re.IGNORECASE,
)
# Keys that contain "key" but are not secrets.
_NOT_SECRET = {"key_name", "keys", "monkey", "max_tokens", "tokens", "token_count", "max_token", "tokenizer"}


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
    return value


def secret_values(value: Any) -> list[str]:
    """Every string stored under a secret-looking key, to scrub from free text (error messages)."""
    found: list[str] = []
    value = value if isinstance(value, (dict, list)) else plain(value)
    if isinstance(value, dict):
        for k, v in value.items():
            if is_secret_key(k) and isinstance(v, str):
                if len(v) >= 4:
                    found.append(v)
            elif is_secret_key(k) and isinstance(v, (dict, list)):
                found.extend(_all_strings(v))
            else:
                found.extend(secret_values(v))
    elif isinstance(value, list):
        for v in value:
            found.extend(secret_values(v))
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
    """Replace each known secret in free text."""
    for s in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(s, REDACTED)
    return text


# ---------------------------------------------------------------------------------------------------------------
# secrets known to this process, scrubbed from every message the CLI prints

_KNOWN: set[str] = set()
_ENV_MIN = 8


def remember_secrets(value: Any) -> list[str]:
    """Note every secret in ``value`` (a config, client args ...) so later error messages can be scrubbed of it."""
    found = secret_values(value)
    _KNOWN.update(found)
    return found


def known_secrets() -> list[str]:
    """Secrets noted with :func:`remember_secrets` plus the values of secret-looking environment variables."""
    import os

    env = [v for k, v in os.environ.items() if is_secret_key(k) and len(v) >= _ENV_MIN]
    return [*_KNOWN, *env]


def scrub_known(text: str, extra: list[str] | None = None) -> str:
    """:func:`scrub` with every known secret (and ``extra``)."""
    return scrub(text, [*known_secrets(), *(extra or [])])


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
