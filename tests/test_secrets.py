"""Secrets stay secret: API keys and similar values (key, token, secret, password, authorization ...) given in an
llm_config, a YAML config, client arguments or the environment never reach a session file, ``inspect``,
``validate``, ``--json`` output or an error message, even when a client or autogen echoes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, run_chat
from typer.testing import CliRunner

from agent_ft_cli import SessionRecorder, save_session
from agent_ft_cli.cli import app
from agent_ft_cli.redact import REDACTED, describe_exception, redact, scrub_known, secret_values

runner = CliRunner()
KEY = "sk-live-SECRET-a1b2c3d4e5"
TOKEN = "tok-SECRET-998877665544"
PASSWORD = "hunter2-SECRET-pw"
BEARER = "Bearer SECRET-bearer-xyz-123"
ALL = [KEY, TOKEN, PASSWORD, BEARER, "SECRET"]

LEAKY = '''
from clientpkg.clients import ScriptedClient


class LeakyInit(ScriptedClient):
    """Raises in its constructor with the key it was given, as careless clients do."""

    def __init__(self, config, api_key=None, **kwargs):
        raise ValueError(f"could not authenticate with api_key={api_key!r} / {config.get('api_key')!r}")


class LeakyUpdate(ScriptedClient):
    def __init__(self, config, api_key=None, **kwargs):
        super().__init__(config, **kwargs)
        self.api_key = api_key

    def update_model(self, preference_data, inference_messages, **kwargs):
        raise RuntimeError(f"401 Unauthorized for key {self.api_key}")


class LeakyStats(ScriptedClient):
    def __init__(self, config, api_key=None, **kwargs):
        super().__init__(config, **kwargs)
        self.api_key = api_key

    def update_model(self, preference_data, inference_messages, **kwargs):
        return {"used_key": self.api_key, "note": f"authenticated as {self.api_key}", "tokens_seen": 12}


class EnvLeak(ScriptedClient):
    def update_model(self, preference_data, inference_messages, **kwargs):
        import os

        raise RuntimeError("bad credentials: " + os.environ["MY_SERVICE_API_KEY"])
'''


def _no_secret(*texts: str) -> None:
    for text in texts:
        for s in ALL:
            assert s not in text, f"secret {s!r} leaked: {text[:300]}"


def _pair_with_secrets() -> tuple[Any, Any]:
    import autogen
    from clientpkg.clients import ScriptedClient

    assistant = autogen.AssistantAgent(
        "assistant",
        system_message="You help.",
        llm_config={
            "config_list": [
                {
                    "model": "scripted",
                    "model_client_cls": "ScriptedClient",
                    "api_key": KEY,
                    "default_headers": {"Authorization": BEARER, "X-Trace": "visible"},
                }
            ],
            "cache_seed": None,
        },
    )
    user = autogen.UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False,
                                  max_consecutive_auto_reply=1)
    assistant.register_model_client(model_client_cls=ScriptedClient)
    return assistant, user


@pytest.fixture(params=["save_session", "SessionRecorder"])
def secret_session(request: pytest.FixtureRequest, isolated: Path) -> Path:
    assistant, user = _pair_with_secrets()
    path = isolated / "chat.jsonl"
    if request.param == "save_session":
        run_chat(assistant, user, turns=1)
        save_session(path, assistant, user)
    else:
        with SessionRecorder(path, assistant, user):
            run_chat(assistant, user, turns=1)
    (isolated / "prefs.json").write_text('[["good", "bad"]]')
    (isolated / "leaky.py").write_text(LEAKY)
    return path


def test_session_file_holds_no_secret_but_keeps_the_shape(secret_session: Path) -> None:
    text = secret_session.read_text(encoding="utf-8")
    _no_secret(text)
    entry = json.loads(text.splitlines()[0])["agents"][0]["llm_config"]["config_list"][0]
    assert entry["api_key"] == REDACTED
    assert entry["default_headers"] == {"Authorization": REDACTED, "X-Trace": "visible"}


def test_inspect_and_validate_show_no_secret(secret_session: Path) -> None:
    for args in (["inspect", "-s", "chat.jsonl"], ["inspect", "-s", "chat.jsonl", "--json"],
                 ["inspect", "-s", "chat.jsonl", "--last", "1", "--include-system-message"],
                 ["validate", "-s", "chat.jsonl", "--prefs", "prefs.json", "--client", "leaky.py:LeakyInit"],
                 ["validate", "-s", "chat.jsonl", "--json", "--trust-session-client"]):
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        _no_secret(result.output)


def test_client_constructor_echoing_its_key_is_scrubbed(secret_session: Path) -> None:
    result = runner.invoke(app, ["update", "-s", "chat.jsonl", "--prefs", "prefs.json", "--client", "leaky.py:LeakyInit",
                                 "--client-arg", f"api_key={KEY}"])
    assert result.exit_code == 4
    assert "could not be created or registered: ValueError: could not authenticate with api_key='<redacted>'" in result.stderr
    _no_secret(result.output)


def test_update_model_echoing_its_key_is_scrubbed(secret_session: Path) -> None:
    result = runner.invoke(app, ["update", "-s", "chat.jsonl", "--prefs", "prefs.json", "--client", "leaky.py:LeakyUpdate",
                                 "--client-arg", f"api_key={KEY}", "--json"])
    assert result.exit_code == 1
    assert "RuntimeError: 401 Unauthorized for key <redacted>" in result.stderr
    assert result.stdout == ""
    _no_secret(result.output)


def test_stats_echoing_the_key_are_scrubbed_in_json_table_and_output_file(secret_session: Path) -> None:
    args = ["update", "-s", "chat.jsonl", "--prefs", "prefs.json", "--client", "leaky.py:LeakyStats",
            "--client-arg", f"api_key={KEY}"]
    as_json = runner.invoke(app, [*args, "--json", "-o", "out.json"])
    assert as_json.exit_code == 0, as_json.output
    stats = json.loads(as_json.stdout)["update_stats"]
    assert stats == {"used_key": REDACTED, "note": f"authenticated as {REDACTED}", "tokens_seen": 12}
    table = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert table.exit_code == 0
    _no_secret(as_json.output, table.output, Path("out.json").read_text())


def test_secret_environment_values_are_scrubbed(secret_session: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_API_KEY", TOKEN)
    result = runner.invoke(app, ["update", "-s", "chat.jsonl", "--prefs", "prefs.json", "--client", "leaky.py:EnvLeak"])
    assert result.exit_code == 1
    assert "bad credentials: <redacted>" in result.stderr
    _no_secret(result.output)


def test_malformed_client_arg_is_not_echoed(secret_session: Path) -> None:
    result = runner.invoke(app, ["update", "-s", "chat.jsonl", "--prefs", "prefs.json", "--client", "leaky.py:LeakyStats",
                                 "--client-arg", f"api_key:{KEY}"])
    assert result.exit_code == 2
    assert "--client-arg #1" in result.stderr
    _no_secret(result.output)


YAML = """\
agents:
  assistant:
    class: AssistantAgent
    llm_config:
      config_list:
        - model: agent-ft-local
          model_client_cls: LocalLearningClient
          api_key: {api_key}
  user:
    class: UserProxyAgent
    code_execution_config: false
    max_consecutive_auto_reply: {reply}
update: assistant
peer: user
client:
  path: agent_ft_cli.local:LocalLearningClient
  args: {{state_path: state.json, token: {token}, password: {password}}}
"""


@pytest.mark.parametrize(
    "fields,code,message",
    [
        # a type error quoting the value of another key that is a secret
        ({"reply": PASSWORD}, 3, "'agents.user.max_consecutive_auto_reply' must be an integer or null, got str '<redacted>'"),
        # autogen (pydantic) refusing the secret itself: reported by field, never by value
        ({"api_key": f"[{KEY}]"}, 3, "api_key: Input should be a valid string"),
        # a secret given through the environment
        ({"reply": "${MY_TOKEN_FOR_TEST}"}, 3, "got str '<redacted>'"),
    ],
)
def test_yaml_errors_never_quote_a_secret(
    fields: dict[str, str], code: int, message: str, secret_session: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_TOKEN_FOR_TEST", "SECRET-from-env-4455")
    values = {"api_key": KEY, "password": PASSWORD, "token": TOKEN, "reply": "0", **fields}
    Path("pair.yaml").write_text(YAML.format(**values))
    for command in (["update", "-s", "chat.jsonl", "--prefs", "prefs.json", "--config", "pair.yaml"],
                    ["validate", "-s", "chat.jsonl", "--config", "pair.yaml", "--json"]):
        result = runner.invoke(app, command, env={"COLUMNS": "200"})
        assert result.exit_code == code, result.output
        assert message in result.stderr, result.stderr
        assert "Traceback" not in result.output
        _no_secret(result.output)


def test_record_with_secrets_in_the_config_writes_none(secret_session: Path) -> None:
    Path("pair.yaml").write_text(YAML.format(api_key=KEY, password=PASSWORD, token=TOKEN, reply="0"))
    result = runner.invoke(app, ["record", "--config", "pair.yaml", "-m", "What is the capital of France?",
                                 "--out", "rec.jsonl", "--json"])
    assert result.exit_code == 0, result.output
    _no_secret(result.output, Path("rec.jsonl").read_text(encoding="utf-8"))
    header = json.loads(Path("rec.jsonl").read_text(encoding="utf-8").splitlines()[0])
    entry = header["agents"][0]["llm_config"]["config_list"][0]
    assert entry["api_key"] == REDACTED


def test_redaction_helpers() -> None:
    cfg = {"config_list": [{"api_key": KEY, "model": "m", "max_tokens": 5, "headers": {"Authorization": BEARER}}],
           "client_secret": ["nested", TOKEN], "tokens": 3}
    red = redact(cfg)
    assert red["config_list"][0] == {"api_key": REDACTED, "model": "m", "max_tokens": 5,
                                     "headers": {"Authorization": REDACTED}}
    assert red["client_secret"] == REDACTED and red["tokens"] == 3
    assert set(secret_values(cfg)) == {KEY, BEARER, "nested", TOKEN}
    assert scrub_known(f"x {KEY} y", [KEY]) == f"x {REDACTED} y"
    assert KEY not in describe_exception(ValueError(f"bad {KEY}\nmore"), [KEY])


def test_readme_sample_sessions_hold_no_keys() -> None:
    for path in (REPO / "sample_sessions").glob("*.jsonl"):
        header = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
        assert secret_values(header) == [] or set(secret_values(header)) == {REDACTED}
