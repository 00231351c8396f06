"""Issue #9 item 10: keywords reach the client exactly as the seed passes them, in the seed's order of steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_pair, run_chat
from test_seed_contract import NoUpdateMethod, RecordingClient
from typer.testing import CliRunner

from agent_ft_cli.cli import app

SAMPLES = Path(__file__).resolve().parents[2] / "sample_sessions"


def test_agent_ft_reserves_no_keyword_of_the_client() -> None:
    from agent_ft_cli import update_model

    RecordingClient.instances.clear()
    assistant, user = make_pair(RecordingClient, tools=False)
    run_chat(assistant, user, turns=1)
    (client,) = RecordingClient.instances
    result = update_model(assistant, [], user, _include_system_message=True, include_system_message=True)
    (received,) = client.received
    assert received[2] == {"_include_system_message": True, "include_system_message": True}
    assert received[1] is assistant.chat_messages[user]  # no system message prepended by agent-ft
    assert result["inference_messages"] is received[1]


def test_the_history_is_read_before_the_clients_are_checked() -> None:
    """As in the seed: ``update_agent._oai_messages[other_agent]`` is read (a defaultdict: a missing thread is
    created) before the registered clients are checked, so a NotImplementedError leaves that side effect."""
    import autogen

    from agent_ft_cli import update_model

    assistant, _ = make_pair(NoUpdateMethod, tools=False)
    stranger = autogen.ConversableAgent("stranger", llm_config=False)
    assert stranger not in assistant.chat_messages
    with pytest.raises(NotImplementedError):
        update_model(assistant, [], stranger)
    assert assistant.chat_messages[stranger] == [] and stranger in assistant._oai_messages


def test_no_client_at_all_is_checked_before_the_history() -> None:
    import autogen

    from agent_ft_cli import update_model

    plain = autogen.ConversableAgent("plain", llm_config=False)
    stranger = autogen.ConversableAgent("stranger", llm_config=False)
    with pytest.raises(ValueError, match="No OpenAIWrapper client"):
        update_model(plain, [], stranger)
    assert stranger not in plain._oai_messages


@pytest.mark.parametrize("key", ["inference_messages", "preference_data", "update_agent", "other_agent"])
def test_reserved_kwarg_is_a_usage_error_naming_the_key(key: str) -> None:
    result = CliRunner().invoke(app, [
        "update", "-s", str(SAMPLES / "capital.jsonl"), "--prefs", str(SAMPLES / "capital.prefs.json"),
        "--kwarg", f"{key}=1",
    ])
    assert result.exit_code == 2, result.output
    assert key in result.stderr and "--kwarg" in result.stderr


def test_reserved_kwarg_in_the_workflow_names_no_flag() -> None:
    from agent_ft_cli.errors import UsageError
    from agent_ft_cli.workflows import update

    with pytest.raises(UsageError) as info:
        update.run(update.UpdateJob(SAMPLES / "capital.jsonl", str(SAMPLES / "capital.prefs.json"), kwargs={"other_agent": 1}))
    assert "'other_agent'" in str(info.value) and "--" not in str(info.value)


@pytest.mark.parametrize("option", ["--kwarg", "--client-arg"])
def test_a_repeated_key_is_a_usage_error(option: str) -> None:
    result = CliRunner().invoke(app, [
        "update", "-s", str(SAMPLES / "capital.jsonl"), "--prefs", str(SAMPLES / "capital.prefs.json"),
        option, "beta=0.1", option, "beta=0.2",
    ])
    assert result.exit_code == 2, result.output
    assert "'beta'" in result.stderr and "more than once" in result.stderr and option in result.stderr


def test_underscore_kwarg_reaches_the_client_from_the_cli(tmp_path: Path) -> None:
    """``--kwarg _include_system_message=true`` is the client's keyword; agent-ft's own option is the flag."""
    capture = tmp_path / "capture.json"
    result = CliRunner().invoke(app, [
        "update", "-s", str(SAMPLES / "capital.jsonl"), "--prefs", str(SAMPLES / "capital.prefs.json"),
        "--client", "clientpkg.clients:CaptureClient", "--client-arg", f"capture_path={capture}",
        "--kwarg", "_include_system_message=true", "--json",
    ])
    assert result.exit_code == 0, result.output
    got = json.loads(capture.read_text())
    assert got["kwargs"] == {"_include_system_message": True}
    assert got["inference_messages"][0]["role"] != "system"
    with_flag = CliRunner().invoke(app, [
        "update", "-s", str(SAMPLES / "capital.jsonl"), "--prefs", str(SAMPLES / "capital.prefs.json"),
        "--client", "clientpkg.clients:CaptureClient", "--client-arg", f"capture_path={capture}",
        "--include-system-message", "--json",
    ])
    assert with_flag.exit_code == 0, with_flag.output
    got = json.loads(capture.read_text())
    assert got["kwargs"] == {} and got["inference_messages"][0]["role"] == "system"
