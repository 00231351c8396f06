"""The seed's learning contract, on a live chat with the installed classic autogen.

``update_model(update_agent, preference_data, other_agent, **kwargs)`` hands the client exactly
``update_agent.chat_messages[other_agent]`` and returns exactly ``update_stats``/``inference_messages``/
``preference_data`` (the preference data as given); no client or several clients is a ``ValueError``, a client
without ``update_model`` a ``NotImplementedError``.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import make_pair, run_chat


class NoUpdateMethod:
    """The ModelClient protocol only: no ``update_model`` attribute at all."""

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        from clientpkg.clients import ScriptedClient

        self._scripted = ScriptedClient(config)

    def create(self, params: dict[str, Any]) -> Any:
        return self._scripted.create(params)

    def message_retrieval(self, response: Any) -> list[Any]:
        return self._scripted.message_retrieval(response)

    def cost(self, response: Any) -> float:
        return 0.0

    @staticmethod
    def get_usage(response: Any) -> dict[str, Any]:
        return {}


class RecordingClient(NoUpdateMethod):
    """Keeps the very objects ``update_model`` receives."""

    instances: list[RecordingClient] = []  # noqa: RUF012

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.received: list[tuple[Any, Any, dict[str, Any]]] = []
        RecordingClient.instances.append(self)

    def update_model(self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        self.received.append((preference_data, inference_messages, kwargs))
        return {"loss": 0.5, "seen": len(inference_messages)}


def test_public_imports() -> None:
    from agent_ft_cli import UpdateableModelClient, update_model

    assert callable(update_model)
    assert isinstance(RecordingClient({}), UpdateableModelClient)
    assert not isinstance(NoUpdateMethod({}), UpdateableModelClient)


def test_client_receives_exactly_the_thread_and_result_has_exactly_three_keys() -> None:
    from agent_ft_cli import update_model

    RecordingClient.instances.clear()
    assistant, user = make_pair(RecordingClient)
    run_chat(assistant, user)
    (client,) = RecordingClient.instances
    thread = assistant.chat_messages[user]
    assert any(m.get("tool_calls") for m in thread)  # a real thread, tool call included
    preference_data = [{"chosen": "a", "rejected": "b"}, ("tuple", "kept")]

    result = update_model(assistant, preference_data, user, beta=0.1, tag="run-1")

    assert set(result) == {"update_stats", "inference_messages", "preference_data"}
    assert result["preference_data"] is preference_data  # passed on as-is
    assert result["inference_messages"] is thread  # exactly update_agent.chat_messages[other_agent]
    assert result["update_stats"] == {"loss": 0.5, "seen": len(thread)}
    (received,) = client.received
    assert received[0] is preference_data
    assert received[1] is thread
    assert received[2] == {"beta": 0.1, "tag": "run-1"}


def test_thread_is_taken_from_the_update_agents_side() -> None:
    from agent_ft_cli import update_model

    RecordingClient.instances.clear()
    assistant, user = make_pair(RecordingClient, tools=False)
    run_chat(assistant, user, turns=2)
    result = update_model(assistant, [], user)
    assert [m["role"] for m in result["inference_messages"]] == [m["role"] for m in assistant.chat_messages[user]]
    assert result["inference_messages"] is not user.chat_messages[assistant]


def test_no_client_is_a_value_error() -> None:
    import autogen

    from agent_ft_cli import update_model

    agent = autogen.ConversableAgent("lonely", llm_config=False, human_input_mode="NEVER")
    other = autogen.ConversableAgent("other", llm_config=False, human_input_mode="NEVER")
    with pytest.raises(ValueError, match="No OpenAIWrapper client is found"):
        update_model(agent, [], other)


def _two_entry_agent() -> Any:
    import autogen

    entry = {"model_client_cls": "RecordingClient"}
    return autogen.AssistantAgent(
        "assistant", llm_config={"config_list": [dict(entry, model="m1"), dict(entry, model="m2")]}
    )


def test_same_client_registered_twice_is_a_value_error() -> None:
    import autogen

    from agent_ft_cli import update_model

    agent = _two_entry_agent()
    agent.register_model_client(model_client_cls=RecordingClient)
    agent.register_model_client(model_client_cls=RecordingClient)
    assert [type(c).__name__ for c in agent.client._clients] == ["RecordingClient", "RecordingClient"]
    other = autogen.UserProxyAgent("user", code_execution_config=False)
    with pytest.raises(ValueError, match="multiple model clients"):
        update_model(agent, [], other)


def test_two_entries_one_registration_is_still_two_clients() -> None:
    import autogen

    from agent_ft_cli import update_model

    agent = _two_entry_agent()
    agent.register_model_client(model_client_cls=RecordingClient)  # the second entry keeps its placeholder
    other = autogen.UserProxyAgent("user", code_execution_config=False)
    with pytest.raises(ValueError, match="multiple model clients"):
        update_model(agent, [], other)


@pytest.mark.parametrize("client_name", ["NoUpdateMethod", "NoUpdateClient"])
def test_client_without_update_model_is_not_implemented(client_name: str) -> None:
    from clientpkg import clients

    from agent_ft_cli import update_model

    client_cls = NoUpdateMethod if client_name == "NoUpdateMethod" else clients.NoUpdateClient
    assistant, user = make_pair(client_cls, tools=False)
    run_chat(assistant, user, turns=1)
    with pytest.raises(NotImplementedError, match=f"update_model is not implemented for {client_cls.__name__}"):
        update_model(assistant, [], user)


def test_the_seeds_errors_are_agent_ft_errors_too() -> None:
    """Issue #16 item 8: each seed case is the builtin the seed names *and* an AgentFtError with its exit code."""
    import autogen

    from agent_ft_cli import AgentFtError, update_model
    from agent_ft_cli.errors import ManyModelClientsError, NoModelClientError, UpdateNotImplementedError

    lonely = autogen.ConversableAgent("lonely", llm_config=False, human_input_mode="NEVER")
    other = autogen.ConversableAgent("other", llm_config=False, human_input_mode="NEVER")
    with pytest.raises(NoModelClientError) as info:
        update_model(lonely, [], other)
    assert isinstance(info.value, ValueError) and isinstance(info.value, AgentFtError) and info.value.exit_code == 4
    assert str(info.value) == "No OpenAIWrapper client is found."

    agent = _two_entry_agent()
    agent.register_model_client(model_client_cls=RecordingClient)
    with pytest.raises(ManyModelClientsError) as many:
        update_model(agent, [], other)
    assert isinstance(many.value, ValueError) and many.value.exit_code == 4

    assistant, user = make_pair(NoUpdateMethod, tools=False)
    with pytest.raises(UpdateNotImplementedError) as missing:
        update_model(assistant, [], user)
    assert isinstance(missing.value, NotImplementedError) and isinstance(missing.value, AgentFtError)


@pytest.mark.parametrize("value", ["assistant", None, 3, object()])
def test_a_non_agent_update_agent_is_named(value: Any) -> None:
    import autogen

    from agent_ft_cli import AgentFtError, update_model
    from agent_ft_cli.errors import NotAnAgentError

    other = autogen.ConversableAgent("other", llm_config=False, human_input_mode="NEVER")
    with pytest.raises(NotAnAgentError) as info:
        update_model(value, [], other)
    message = str(info.value)
    assert isinstance(info.value, AgentFtError) and isinstance(info.value, (TypeError, ValueError))
    assert "update_agent is not an autogen agent" in message and type(value).__name__ in message
    assert "--" not in message
    if isinstance(value, str):
        assert "pass the agent object, not its name" in message


def test_a_non_agent_other_agent_is_named_after_the_seeds_client_check_and_creates_no_thread() -> None:
    import autogen

    from agent_ft_cli import update_model
    from agent_ft_cli.errors import NoModelClientError, NotAnAgentError

    RecordingClient.instances.clear()
    assistant, user = make_pair(RecordingClient, tools=False)
    run_chat(assistant, user, turns=1)
    with pytest.raises(NotAnAgentError, match=r"other_agent is not an autogen agent \(got str 'user'\)"):
        update_model(assistant, [], "user")
    assert "user" not in assistant._oai_messages  # checked before the read that would create the thread
    assert RecordingClient.instances[0].received == []
    plain = autogen.ConversableAgent("plain", llm_config=False)
    with pytest.raises(NoModelClientError):  # the seed's first check still comes first
        update_model(plain, [], "user")
