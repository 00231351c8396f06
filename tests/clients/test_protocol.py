"""The client protocol has one source, and the base class carries the boilerplate every classic autogen reads."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import make_pair, run_chat

from agent_ft_cli import UpdateableModelClient
from agent_ft_cli.clients.loading import check_protocol, missing_methods
from agent_ft_cli.clients.protocol import (
    MODEL_CLIENT_METHODS,
    UPDATE_METHODS,
    ModelClient,
    ModelClientBase,
    chat_response,
)
from agent_ft_cli.errors import ClientLoadError


class Echo(ModelClientBase):
    model = "echo"

    def create(self, params: dict[str, Any]) -> Any:
        last = (params.get("messages") or [{}])[-1]
        return chat_response(f"echo: {last.get('content')}", model=self.model, prompt_tokens=3, completion_tokens=2)

    def update_model(self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        return {"messages": len(inference_messages)}


def test_the_method_names_come_from_the_protocol_classes() -> None:
    assert MODEL_CLIENT_METHODS == ("create", "message_retrieval", "cost", "get_usage")
    assert UPDATE_METHODS == ("update_model",)
    assert UpdateableModelClient.__mro__[1] is ModelClient


def test_a_base_class_client_follows_the_protocol() -> None:
    assert missing_methods(Echo) == []
    assert check_protocol(Echo) is Echo
    assert isinstance(Echo({}), UpdateableModelClient)
    assert missing_methods(ModelClientBase) == ["update_model"]
    with pytest.raises(ClientLoadError, match="missing update_model"):
        check_protocol(ModelClientBase)


def test_text_reply_and_usage() -> None:
    client = Echo({"model": "echo-2"})
    response = client.create({"messages": [{"content": "hi", "role": "user"}]})
    assert client.message_retrieval(response) == ["echo: hi"]
    assert response.choices[0].message.content == response.choices[0].message["content"] == "echo: hi"
    assert response.model == "echo-2" and response.id.startswith("echo-2-")
    assert client.cost(response) == 0.0
    assert client.get_usage(response) == {
        "prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5, "cost": 0.0, "model": "echo-2"
    }


def test_a_tool_call_reply_is_retrieved_as_the_message() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    response = chat_response({"content": None, "tool_calls": [call]}, model="m")
    [message] = ModelClientBase().message_retrieval(response)
    assert message == {"content": None, "tool_calls": [call], "role": "assistant"}
    assert message.tool_calls == [call]
    assert ModelClientBase.get_usage(response) == {}


def test_a_base_class_client_runs_a_live_chat_and_learns() -> None:
    from agent_ft_cli import update_model

    assistant, user = make_pair(Echo, tools=False, max_auto_reply=1)
    run_chat(assistant, user, message="bonjour ☀️", turns=1)
    thread = assistant.chat_messages[user]
    assert [m.get("content") for m in thread] == ["bonjour ☀️", "echo: bonjour ☀️"]
    assert update_model(assistant, [], user)["update_stats"] == {"messages": 2}
