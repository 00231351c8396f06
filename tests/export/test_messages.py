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
