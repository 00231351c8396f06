"""No export row holds a tool result without its call, or a call left unanswered mid-conversation: the check of
:mod:`agent_ft_cli.export.tool_pairs`, and every format fuzzed over hand-made sessions (orphan results, unanswered
calls, legacy function calls, a preferred answer put in place of a tool call) against an independent oracle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_ft_cli.errors import StrictError
from agent_ft_cli.export import ExportOptions
from agent_ft_cli.export.exporter import Exporter
from agent_ft_cli.export.formats import FORMATS
from agent_ft_cli.export.tool_pairs import tool_pair_problems

HEADER = {
    "type": "header",
    "format": "agent-ft-session",
    "version": "1.0",
    "created_at": "2026-01-01T00:00:00+00:00",
    "autogen_version": None,
    "agents": [
        {"name": "assistant", "class": "AssistantAgent", "system_message": "sys", "human_input_mode": "NEVER", "llm_config": {"config_list": []}},
        {"name": "user", "class": "UserProxyAgent", "system_message": None, "human_input_mode": "NEVER", "llm_config": False},
    ],
}


def call(cid: str, name: str = "f") -> dict[str, Any]:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": "{}"}}


def results(*ids: str) -> dict[str, Any]:
    responses = [{"tool_call_id": i, "role": "tool", "content": f"r-{i}"} for i in ids]
    return {"content": "\n\n".join(r["content"] for r in responses), "tool_responses": responses, "role": "tool", "name": "user"}


def write(path: Path, thread: list[dict[str, Any]]) -> Path:
    lines = [HEADER] + [{"type": "message", "agent": "assistant", "peer": "user", "message": m} for m in thread]
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    return path


# -- the check itself -------------------------------------------------------------------------------------------


def test_a_paired_conversation_has_no_problem() -> None:
    thread = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": None, "tool_calls": [call("a"), call("b")]},
        {"role": "tool", "tool_call_id": "b", "content": "1"},
        {"role": "tool", "tool_call_id": "a", "content": "2"},
        {"role": "assistant", "content": "done"},
        {"role": "assistant", "content": None, "tool_calls": [call("c")]},  # unanswered at the very end: fine
    ]
    assert tool_pair_problems(thread) == []
    assert tool_pair_problems([{"role": "user", "content": "q"}, results("x")] ) == [
        "message 2: tool result 'x' answers no call before it (a tool result without its call)"
    ]


def test_an_unanswered_call_mid_conversation_and_at_a_prompts_end() -> None:
    thread = [{"role": "user", "content": "q"}, {"role": "assistant", "content": None, "tool_calls": [call("a", "g")]}]
    assert tool_pair_problems(thread) == []
    assert tool_pair_problems(thread, prompt=True) == ["the prompt ends with call(s) a (g) unanswered before the answer"]
    problems = tool_pair_problems([*thread, {"role": "user", "content": "and?"}])
    assert problems == [
        "message 3 (user) follows call(s) a (g) that were never answered (a call left unanswered in the middle of "
        "the conversation)"
    ]


def test_legacy_function_calls_pair_by_name() -> None:
    ok = [
        {"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": "{}"}},
        {"role": "function", "name": "f", "content": "1"},
        {"role": "assistant", "content": "x"},
    ]
    assert tool_pair_problems(ok) == []
    assert tool_pair_problems(ok[1:]) == ["message 1: function result 'f' answers no call before it"]


# -- every format, fuzzed ------------------------------------------------------------------------------------------

IDS = ["c1", "c2", "c3"]
ANSWERS = ["a1", "a2", "a3"]

steps = st.one_of(
    st.builds(lambda t: {"role": "user", "name": "user", "content": t}, st.sampled_from(["q1", "q2"])),
    st.builds(lambda t: {"role": "assistant", "name": "assistant", "content": t}, st.sampled_from(ANSWERS)),
    st.builds(
        lambda ids: {"role": "assistant", "content": None, "tool_calls": [call(i) for i in dict.fromkeys(ids)]},
        st.lists(st.sampled_from(IDS), min_size=1, max_size=2),
    ),
    st.builds(lambda ids: results(*dict.fromkeys(ids)), st.lists(st.sampled_from(IDS), min_size=1, max_size=2)),
    st.just({"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": "{}"}}),
    st.just({"role": "function", "name": "f", "content": "fr"}),
)


def oracle(messages: list[dict[str, Any]], *, final_call_ok: bool) -> None:
    """Independent of the module: what a chat-completions API accepts. Results follow their calls' assistant
    message directly (only results between), and a call is answered before anything else is said."""
    open_ids: set[str] = set()
    open_fn = 0
    for i, m in enumerate(messages):
        role = m.get("role")
        if role == "tool":
            assert m.get("tool_call_id") in open_ids, (i, messages)
            open_ids.discard(m["tool_call_id"])
            continue
        if role == "function":
            assert open_fn > 0, (i, messages)
            open_fn -= 1
            continue
        assert not open_ids and not open_fn, (i, messages)
        open_ids = {c["id"] for c in m.get("tool_calls") or []}
        open_fn = 1 if m.get("function_call") and not m.get("tool_calls") else 0
    if not final_call_ok:
        assert not open_ids and not open_fn, messages


def sequences(fmt: str, row: dict[str, Any]) -> list[tuple[list[dict[str, Any]], bool]]:
    """Each message sequence a row holds, and whether a call may stay unanswered at its end."""
    if "messages" in row:
        return [(row["messages"], True)]
    if "input" in row:
        prompt = row["input"]["messages"]
        return [(prompt, False), *((prompt + row[k], True) for k in ("preferred_output", "non_preferred_output"))]
    if isinstance(row["prompt"], str):  # --standard: plain text, built from the prompt the checked rows hold
        return []
    sides = [row[k] for k in ("chosen", "rejected", "completion") if k in row]
    return [(row["prompt"], False), *((row["prompt"] + s, True) for s in sides)]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(thread=st.lists(steps, min_size=1, max_size=9), chosen=st.sampled_from(["better", None]), rejected=st.sampled_from(ANSWERS))
def test_no_format_ever_writes_an_unpaired_tool_message(tmp_path: Path, thread: list[dict[str, Any]], chosen: str | None, rejected: str) -> None:
    session = write(tmp_path / "s.jsonl", thread)
    last = max((i for i, m in enumerate(thread) if m["role"] == "assistant"), default=-1)
    source_bad = bool(tool_pair_problems(thread[: last + 1]))  # what a thread row holds: up to the last answer
    for fmt in FORMATS:
        for standard in ((False, True) if fmt == "trl-preference" else (False,)):
            prefs = [{"chosen": chosen or {"content": None, "tool_calls": [call("c9")]}, "rejected": rejected}]
            warned: list[str] = []
            exporter = Exporter(ExportOptions(format=fmt, standard=standard), prefs, on_warning=lambda w, out=warned: out.append(str(w)))
            rows = list(exporter.rows([session]))
            for row in rows:
                for messages, final_ok in sequences(fmt, row):
                    oracle(messages, final_call_ok=final_ok)
            refused = [w for w in warned if "row refused" in w]
            assert all(str(session) in w and "conversation 1" in w for w in refused)
            if source_bad and FORMATS[fmt].thread_row is not None:  # the thread is one row: it is refused, said so
                assert not rows and refused, (fmt, thread)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_an_orphan_result_is_refused_in_every_format_and_fails_under_strict(tmp_path: Path, fmt: str) -> None:
    session = write(
        tmp_path / "s.jsonl",
        [{"role": "user", "name": "user", "content": "q"}, results("c1"), {"role": "assistant", "name": "assistant", "content": "a1"}],
    )
    prefs = [{"chosen": "better", "rejected": "a1"}]
    warned: list[str] = []
    assert list(Exporter(ExportOptions(format=fmt), prefs, on_warning=lambda w: warned.append(str(w))).rows([session])) == []
    assert any("row refused" in w and "tool result 'c1' answers no call" in w for w in warned), warned
    with pytest.raises(StrictError, match="row refused"):
        list(Exporter(ExportOptions(format=fmt, strict=True), prefs).rows([session]))
