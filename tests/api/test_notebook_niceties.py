"""From a notebook: a Session shows as one line, a recorder works with `async with`, and library errors name keys,
not command-line flags (#16 items 8, 9)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent_ft_cli import SessionError, load_session
from agent_ft_cli.session import choose_pair

SAMPLES = Path(__file__).resolve().parents[2] / "sample_sessions"


def test_a_session_repr_is_one_short_line() -> None:
    session = load_session(SAMPLES / "capital.jsonl")
    text = repr(session)
    assert "\n" not in text and len(text) < 200
    assert text.startswith("Session(") and "assistant" in text and "messages=" in text


def test_async_with_records_like_with(tmp_path: Path) -> None:
    autogen = pytest.importorskip("autogen")
    from agent_ft_cli import SessionRecorder

    a = autogen.ConversableAgent("a", llm_config=False, human_input_mode="NEVER")
    b = autogen.ConversableAgent("b", llm_config=False, human_input_mode="NEVER")

    async def chat() -> None:
        async with SessionRecorder(tmp_path / "s.jsonl", a, b):
            a.send("hello", b, request_reply=False, silent=True)

    asyncio.run(chat())
    assert load_session(tmp_path / "s.jsonl").thread("b", "a")[0]["content"] == "hello"


def test_library_errors_name_keys_not_flags() -> None:
    header = {"agents": [{"name": "x"}, {"name": "y"}, {"name": "z"}]}
    with pytest.raises(SessionError) as err:
        choose_pair(header, path="s.jsonl")
    assert "--" not in str(err.value) and "agent" in str(err.value)
