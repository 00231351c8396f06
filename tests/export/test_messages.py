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
    # the converted call gets a stable id (its index in the conversation) that its result names (#9 review item 8)
    call = {"id": "fn0000001", "type": "function", "function": {"name": "weather", "arguments": {"city": "Paris"}}}
    assert trl[1]["tool_calls"] == [call]
    assert trl[2] == {"role": "tool", "tool_call_id": "fn0000001", "name": "weather", "content": "sunny"}
    assert convert_thread(thread, "trl-sft") == trl  # stable across runs
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


def test_legacy_results_pair_with_their_own_calls() -> None:
    """Two legacy calls before their results (and a result of the first answered last): each result names the id of
    the call of its function; ids are 9 alphanumeric characters (the shape Mistral's templates require)."""
    from agent_ft_cli.export import convert_thread

    thread = [
        {"role": "user", "content": "Paris weather, and 21.5 C in F?"},
        {"role": "assistant", "content": None, "function_call": {"name": "weather", "arguments": '{"city": "Paris"}'}},
        {"role": "assistant", "content": None, "function_call": {"name": "convert", "arguments": '{"celsius": 21.5}'}},
        {"role": "function", "name": "convert", "content": "70.7"},
        {"role": "function", "name": "weather", "content": "sunny"},
        {"role": "assistant", "content": "Sunny, 70.7 F."},
        {"role": "assistant", "content": None, "function_call": {"name": "weather", "arguments": '{"city": "Rome"}'}},
        {"role": "function", "name": "weather", "content": "rain"},
    ]
    trl = convert_thread(thread, "trl-sft")
    calls = {m["tool_calls"][0]["function"]["name"] + str(i): m["tool_calls"][0]["id"] for i, m in enumerate(trl) if m.get("tool_calls")}
    assert calls == {"weather1": "fn0000001", "convert2": "fn0000002", "weather6": "fn0000006"}
    results = [(m["name"], m["tool_call_id"]) for m in trl if m["role"] == "tool"]
    assert results == [("convert", "fn0000002"), ("weather", "fn0000001"), ("weather", "fn0000006")]
    assert all(len(i) == 9 and i.isalnum() for i in calls.values())
    # the prompt of a pair row is a prefix of the same conversation: the same ids
    assert convert_thread(thread[:4], "trl-sft") == trl[:4]
    # a result whose call is not in the conversation (cut off before it) has no id to name
    assert "tool_call_id" not in convert_thread(thread[3:4], "trl-sft")[0]


def test_a_text_turn_keeps_its_speaker_when_asked_in_every_style() -> None:
    """The short path for text turns gives what the general path gives, ``speaker_names`` included."""
    from agent_ft_cli.export.messages import Style, convert_message, convert_thread

    turn = {"role": "user", "content": "hi", "name": "alice"}
    assert convert_message(turn, Style.TRL) == [{"role": "user", "content": "hi"}]
    assert convert_message(turn, Style.TRL, speaker_names="keep") == [{"role": "user", "content": "hi", "name": "alice"}]
    assert convert_message(turn, Style.TRL, speaker_names="prefix") == [{"role": "user", "content": "alice: hi", "name": "alice"}]
    assert convert_message(turn, Style.OPENAI, speaker_names="prefix") == [{"role": "user", "content": "alice: hi", "name": "alice"}]
    assert convert_thread([turn], Style.TRL, speaker_names="keep") == [{"role": "user", "content": "hi", "name": "alice"}]
