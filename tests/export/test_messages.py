"""Autogen messages as each format's messages (the mapping documented in docs/export-import.md)."""

from __future__ import annotations

from agent_ft_cli.export import convert_message


def test_one_tool_message_per_response() -> None:
    msg = {
        "content": "a\n\nb",
        "tool_responses": [
            {"tool_call_id": "c1", "role": "tool", "content": "a"},
            {"tool_call_id": "c2", "role": "tool", "content": "b"},
        ],
        "role": "tool",
        "name": "user",
    }
    expected = [
        {"role": "tool", "tool_call_id": "c1", "content": "a"},
        {"role": "tool", "tool_call_id": "c2", "content": "b"},
    ]
    assert convert_message(msg, "openai-sft") == expected
    assert convert_message(msg, "trl-sft") == expected


def test_names_kept_only_where_allowed() -> None:
    assert convert_message({"role": "user", "content": "hi", "name": "user"}, "openai-sft") == [
        {"role": "user", "content": "hi", "name": "user"}
    ]
    assert convert_message({"role": "user", "content": "hi", "name": "Zoë B."}, "openai-sft") == [
        {"role": "user", "content": "hi"}
    ]
    assert convert_message({"role": "user", "content": "hi", "name": "user", "context": {}}, "trl-sft") == [
        {"role": "user", "content": "hi"}
    ]


def test_tool_call_arguments_are_objects_for_trl_and_strings_for_openai() -> None:
    from agent_ft_cli.export import convert_message

    msg = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"city": "Paris"}'}}]}
    [trl] = convert_message(msg, "trl-sft")
    [oai] = convert_message(msg, "openai-sft")
    assert trl["tool_calls"][0]["function"]["arguments"] == {"city": "Paris"}
    assert oai["tool_calls"][0]["function"]["arguments"] == '{"city": "Paris"}'
    # not a JSON object: kept as the text it is, never guessed
    odd = {"role": "assistant", "tool_calls": [{"id": "c2", "function": {"name": "f", "arguments": "[1, 2"}}]}
    assert convert_message(odd, "trl-sft")[0]["tool_calls"][0]["function"]["arguments"] == "[1, 2"


def test_legacy_function_call_thread_uses_roles_trl_templates_know() -> None:
    from agent_ft_cli.export import convert_thread

    thread = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "function_call": {"name": "weather", "arguments": '{"city": "Paris"}'}},
        {"role": "function", "name": "weather", "content": "sunny"},
        {"role": "assistant", "content": "Sunny."},
    ]
    trl = convert_thread(thread, "trl-sft")
    assert [m["role"] for m in trl] == ["user", "assistant", "tool", "assistant"]
    assert trl[1]["tool_calls"] == [{"type": "function", "function": {"name": "weather", "arguments": {"city": "Paris"}}}]
    assert trl[2] == {"role": "tool", "name": "weather", "content": "sunny"}
    oai = convert_thread(thread, "openai-sft")  # OpenAI's fine-tuning still reads the legacy shape
    assert oai[1]["function_call"] == thread[1]["function_call"] and oai[2]["role"] == "function"


def test_openai_formats_drop_empty_turns() -> None:
    from agent_ft_cli.export import convert_thread

    thread = [
        {"role": "user", "content": "Hi?"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "", "name": "user"},  # the user proxy's empty auto-reply
        {"role": "assistant", "content": None},  # an answer with no content and no call
        {"role": "assistant", "content": "Anything else?"},
    ]
    oai = convert_thread(thread, "openai-sft")
    assert [m.get("content") for m in oai] == ["Hi?", "Hello.", "Anything else?"]
    assert all(m.get("content") for m in oai)
    assert len(convert_thread(thread, "trl-sft")) == 5  # TRL rows keep the turns, as ""
