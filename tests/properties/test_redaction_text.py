"""Secrets by shape: URL userinfo, auth headers, values under secret-named keys, YAML error excerpts; and the
secret registry as an object that a scope can replace."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_ft_cli.config import load_config, parse_yaml
from agent_ft_cli.errors import ConfigError
from agent_ft_cli.redact import (
    REDACTED,
    SecretRegistry,
    describe_exception,
    known_secrets,
    redact,
    remember_secrets,
    scrub_known,
    scrub_patterns,
    secret_scope,
)

KEY = "sk-proj-A1b2C3d4E5f6G7h8"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("base_url: https://user:s3cretpw@host/v1", f"base_url: https://{REDACTED}@host/v1"),
        ("https://only-a-user@host/v1 and http://host/ok", f"https://{REDACTED}@host/v1 and http://host/ok"),
        ("Authorization: Bearer abc.def-123456", f"Authorization: Bearer {REDACTED}"),
        ("headers: {Authorization: Basic dXNlcjpwYXNz}", f"headers: {{Authorization: Basic {REDACTED}}}"),
        ('{"X-Api-Key": "k-123456789"}', f'{{"X-Api-Key": "{REDACTED}"}}'),
        ("curl -H 'x-api-key: abc1234567'", f"curl -H 'x-api-key: {REDACTED}'"),
        ("api_key: *sk-an-alias-name", f"api_key: {REDACTED}"),
        ("client_secret=zz9-top", f"client_secret={REDACTED}"),
        ("sent Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", f"sent Bearer {REDACTED}"),
        (f"failed with key {KEY} at startup", f"failed with key {REDACTED} at startup"),
        # left alone: prose, numbers, placeholders, error class names, non-secret keys
        ("api_key: Input should be a valid string", "api_key: Input should be a valid string"),
        ("max_tokens: 512, token_count=3, tokens_used: 40", "max_tokens: 512, token_count=3, tokens_used: 40"),
        ("password: 123456", f"password: {REDACTED}"),
        ("expected KEY=VALUE with KEY a Python identifier", "expected KEY=VALUE with KEY a Python identifier"),
        ("unexpected KeyError: 'assistant'", "unexpected KeyError: 'assistant'"),
        (f"api_key: {REDACTED}, password: null", f"api_key: {REDACTED}, password: null"),
        ("model: gpt-4o, base_url: http://localhost:8000/v1", "model: gpt-4o, base_url: http://localhost:8000/v1"),
    ],
)
def test_scrub_patterns(text: str, expected: str) -> None:
    assert scrub_patterns(text) == expected


def test_redact_of_a_config_removes_userinfo_and_headers() -> None:
    config = {
        "config_list": [
            {
                "model": "m",
                "base_url": "https://me:pw-123456@proxy.example/v1",
                "default_headers": {"Authorization": "Bearer tok-123456", "X-Trace": "t"},
                "extra": ["Authorization: Bearer tok-abcdef"],
            }
        ]
    }
    out = redact(config)
    entry = out["config_list"][0]
    assert entry["base_url"] == f"https://{REDACTED}@proxy.example/v1"
    assert entry["default_headers"] == {"Authorization": REDACTED, "X-Trace": "t"}
    assert entry["extra"] == [f"Authorization: Bearer {REDACTED}"]
    assert "pw-123456" not in repr(out) and "tok-" not in repr(out)


def test_userinfo_is_remembered_and_scrubbed_everywhere() -> None:
    with secret_scope():
        remember_secrets({"base_url": "https://me:pw-never-shown@proxy/v1"})
        assert "pw-never-shown" in known_secrets()
        assert scrub_known("connection refused (password pw-never-shown)") == f"connection refused (password {REDACTED})"


def test_describe_exception_scrubs_shapes_and_known_secrets() -> None:
    exc = RuntimeError(f"401 from https://u:{KEY}@api.example/v1 with headers {{'Authorization': 'Bearer tok-999999'}}")
    text = describe_exception(exc)
    assert KEY not in text and "tok-999999" not in text and REDACTED in text


@pytest.mark.parametrize(
    "yaml_text",
    [
        "agents:\n  a:\n    llm_config:\n      config_list:\n        - api_key: *sk-my-alias-secret\n",
        "api_key: *plainaliasname\n",
        "token: !!python/name:letmein123 x\n",
        'password: "unterminated hunter2-secret\n',
    ],
)
def test_yaml_errors_never_quote_a_secret_line(yaml_text: str, tmp_path: Path) -> None:
    path = tmp_path / "pair.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    for secret in ("sk-my-alias-secret", "plainaliasname", "letmein123", "hunter2-secret"):
        assert secret not in message
    assert message.startswith(f"{path}:")


def test_yaml_errors_on_other_lines_still_quote() -> None:
    with pytest.raises(ConfigError, match="found undefined alias 'colour'"):
        parse_yaml("name: *colour\n", "p.yaml")


@pytest.mark.parametrize("bad", ["[sk-a, sk-b]", "{value: sk-abcdef}", "12345"])
def test_a_non_string_api_key_is_refused_by_config_loading(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "pair.yaml"
    path.write_text(
        "agents:\n  assistant:\n    llm_config:\n      config_list:\n"
        f"        - model: m\n          api_key: {bad}\n  user: {{}}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(
        f"{path}: agents.assistant.llm_config.config_list[0].api_key: Input should be a valid string (got "
    )
    assert "sk-" not in str(info.value) and "12345" not in str(info.value)


def test_registries_are_objects_and_scopes_keep_secrets_apart() -> None:
    outer = SecretRegistry(include_env=False)
    with secret_scope(outer):
        remember_secrets({"api_key": "outer-secret-1"})
        seen_in_thread: list[list[str]] = []

        def job() -> None:  # another thread starts from the process registry, not this scope's
            with secret_scope() as mine:
                remember_secrets({"api_key": "thread-secret-2"})
                seen_in_thread.append(mine.known())

        t = threading.Thread(target=job)
        t.start()
        t.join()
        assert "outer-secret-1" in known_secrets() and "thread-secret-2" not in known_secrets()
        assert "thread-secret-2" in seen_in_thread[0] and "outer-secret-1" not in seen_in_thread[0]
        assert outer.scrub("x outer-secret-1 y") == f"x {REDACTED} y"
    assert "outer-secret-1" not in known_secrets()  # the scope ended; the process registry never saw it


_TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", min_size=8, max_size=40).filter(
    lambda t: any(c.isdigit() for c in t) and any(c.isalpha() for c in t)
)


@given(
    key=st.sampled_from(["api_key", "API-KEY", "x-api-key", "token", "client_secret", "password", "Authorization"]),
    sep=st.sampled_from([": ", "=", " = ", ":"]),
    quote=st.sampled_from(["", '"', "'"]),
    token=_TOKEN,
    before=st.sampled_from(["", "error: ", "headers: {", "config "]),
)
def test_a_credential_after_a_secret_key_never_survives(key: str, sep: str, quote: str, token: str, before: str) -> None:
    text = f"{before}{key}{sep}{quote}{token}{quote} and more"
    out = scrub_patterns(text)
    assert token not in out, out
    assert scrub_patterns(out) == out  # idempotent


@given(user=_TOKEN, password=_TOKEN, host=st.sampled_from(["host", "api.example.com:8443", "10.0.0.1"]))
def test_url_userinfo_never_survives(user: str, password: str, host: str) -> None:
    out = scrub_patterns(f"base_url https://{user}:{password}@{host}/v1")
    assert password not in out and user not in out and out.endswith(f"@{host}/v1")
