"""Property-based tests: arbitrary bytes and arbitrary JSON records fed to the session readers and the prefs/config
loaders. The only outcomes allowed are a result or the project's own error (:class:`AgentFtError`); the readers
also agree with each other whenever they all succeed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agent_ft_cli.cli.render import message_renderable
from agent_ft_cli.config import config_from_dict, load_config
from agent_ft_cli.errors import AgentFtError
from agent_ft_cli.prefs import load_prefs, parse_prefs
from agent_ft_cli.session import choose_pair, iter_thread, load_session, read_header, tail_thread

FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
NAMES = st.sampled_from(["assistant", "user", "bob"])
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
HEADER = {
    "type": "header",
    "format": "agent-ft-session",
    "version": "1.0",
    "agents": [{"name": "assistant", "llm_config": {"config_list": [{"model_client_cls": "X"}]}}, {"name": "user"}],
}


def _line(value: Any) -> bytes:
    return json.dumps(value).encode() + b"\n"


def _read_everything(path: Path) -> None:
    """What inspect, inspect --last, update and validate do to a session file; errors must be AgentFtError."""
    warnings: list[str] = []
    try:
        header, _ = read_header(path)
        agent, peer = choose_pair(header, None, None, path=path)
    except AgentFtError:
        agent, peer = "assistant", "user"
    outcomes = []
    for read in (
        lambda: load_session(path, on_warning=warnings.append).threads.get((agent, peer), []),
        lambda: list(iter_thread(path, agent, peer, on_warning=warnings.append)),
        lambda: tail_thread(path, agent, peer, 3, on_warning=warnings.append),
        lambda: load_session(path, strict=True, agents=[]),
    ):
        try:
            outcomes.append(read())
        except AgentFtError as e:
            assert str(e)
            outcomes.append(e)
    full, streamed, tail, _ = outcomes
    if not isinstance(full, Exception) and not isinstance(streamed, Exception):
        assert full == streamed
    if not isinstance(full, Exception) and not isinstance(tail, Exception):
        assert tail == full[-3:]


@FUZZ
@given(data=st.binary(max_size=600))
@example(data=b"")
@example(data=b"\x00\x01\x02")
@example(data=b'{"type":"header","format":"agent-ft-session","version":"1.0","agents":[]}')
def test_session_readers_on_arbitrary_bytes(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(data)
    _read_everything(path)


@FUZZ
@given(body=st.binary(max_size=600))
def test_session_readers_on_a_header_then_arbitrary_bytes(body: bytes, tmp_path: Path) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(_line(HEADER) + body)
    _read_everything(path)


@FUZZ
@given(header=st.dictionaries(st.sampled_from(["type", "format", "version", "agents", "x"]), JSON, max_size=5)
       | st.fixed_dictionaries({"type": st.just("header"), "format": st.just("agent-ft-session"),
                                "version": JSON | st.sampled_from(["1.0", "1.7", "2.0", "0.9", "1"]),
                                "agents": st.lists(st.dictionaries(st.sampled_from(["name", "llm_config", "class"]),
                                                                   JSON | NAMES, max_size=3), max_size=3)}))
def test_arbitrary_headers(header: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(_line(header) + _line({"type": "message", "agent": "assistant", "peer": "user", "message": {}}))
    _read_everything(path)


RECORD = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["message", "clear", "header", "other"]) | JSON, "agent": NAMES | JSON,
         "peer": NAMES | st.none() | JSON, "message": st.dictionaries(st.text(max_size=8), JSON, max_size=3) | JSON}
    ),
    st.fixed_dictionaries(
        {"type": st.just("message"), "agent": NAMES, "peer": NAMES,
         "message": st.fixed_dictionaries({"content": st.text(max_size=30), "role": st.sampled_from(["user", "assistant"])})}
    ),
    st.fixed_dictionaries({"type": st.just("clear"), "agent": NAMES, "peer": NAMES | st.none()}),
)


@FUZZ
@given(records=st.lists(RECORD, max_size=12), cut=st.integers(min_value=0, max_value=40), newline=st.booleans())
def test_arbitrary_records(records: list[Any], cut: int, newline: bool, tmp_path: Path) -> None:
    path = tmp_path / "fuzz.jsonl"
    body = b"".join(_line(r) for r in records)
    if not newline and body:  # the final line cut short, as a crash leaves it
        body = body[: max(len(body) - 1 - cut, 0)]
    path.write_bytes(_line(HEADER) + body)
    _read_everything(path)


@FUZZ
@given(messages=st.lists(st.dictionaries(st.sampled_from(
    ["content", "role", "name", "tool_calls", "function_call", "tool_responses", "tool_call_id"]), JSON, max_size=5),
    max_size=5))
def test_inspect_renders_any_message(messages: list[dict[str, Any]]) -> None:
    for i, m in enumerate(messages, 1):
        message_renderable(i, m, full=False)
        message_renderable(i, m, full=True)


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".json", ".jsonl", ".yaml", ".txt", ""]))
@example(data=b"[" * 5000, suffix=".yaml")
@example(data=b"[" * 5000, suffix=".json")
@example(data=b"- " * 3000, suffix=".yml")
def test_prefs_loader_on_arbitrary_bytes(data: bytes, suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"prefs{suffix}"
    path.write_bytes(data)
    try:
        load_prefs(path)
    except AgentFtError as e:
        assert str(e)


@FUZZ
@given(text=st.text(max_size=300), kind=st.sampled_from(["json", "jsonl", "yaml", None]))
def test_prefs_parser_on_arbitrary_text(text: str, kind: str | None) -> None:
    try:
        parse_prefs(text, "<fuzz>", kind)
    except AgentFtError as e:
        assert "<fuzz>" in str(e)


@FUZZ
@given(data=st.binary(max_size=400))
@example(data=b"agents: !!python/object/apply:os.system ['echo hi']\n")
@example(data=b"[" * 5000)
def test_config_loader_on_arbitrary_bytes(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "pair.yaml"
    path.write_bytes(data)
    try:
        load_config(path)
    except AgentFtError as e:
        assert str(e)


AGENT_SPEC = st.dictionaries(
    st.sampled_from(["class", "system_message", "human_input_mode", "llm_config", "description",
                     "max_consecutive_auto_reply", "code_execution_config", "default_auto_reply", "kwargs", "bogus"]),
    JSON | st.sampled_from(["AssistantAgent", "NEVER", "x.y:Z"]),
    max_size=5,
)


@FUZZ
@given(
    data=st.fixed_dictionaries(
        {"agents": st.dictionaries(NAMES, AGENT_SPEC | JSON, max_size=3) | JSON},
        optional={
            "update": NAMES | JSON, "peer": NAMES | JSON, "version": JSON,
            "client": st.dictionaries(st.sampled_from(["path", "args", "x"]), JSON, max_size=2) | JSON,
            "chat": st.dictionaries(st.sampled_from(["initiator", "max_turns", "clear_history", "silent", "x"]),
                                    JSON | NAMES, max_size=3) | JSON,
        },
    )
    | JSON
)
def test_config_validation_on_arbitrary_trees(data: Any) -> None:
    try:
        config_from_dict(data, "<fuzz>")
    except AgentFtError as e:
        assert "<fuzz>" in str(e)


@pytest.mark.parametrize("n", [1, 2, 5, 50])
def test_readers_agree_on_a_real_session(n: int, tmp_path: Path) -> None:
    lines = [_line(HEADER)]
    for i in range(20):
        lines.append(_line({"type": "message", "agent": "assistant", "peer": "user", "message": {"content": f"m{i}"}}))
        if i == 7:
            lines.append(_line({"type": "clear", "agent": "assistant", "peer": "user"}))
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"".join(lines))
    full = load_session(path).threads[("assistant", "user")]
    assert [m["content"] for m in full] == [f"m{i}" for i in range(8, 20)]
    assert list(iter_thread(path, "assistant", "user")) == full
    assert tail_thread(path, "assistant", "user", n) == full[-n:]
    assert json.loads(json.dumps(full)) == full


def test_json_output_never_crashes_on_odd_values() -> None:
    from agent_ft_cli.cli.render import to_json

    deep: Any = "leaf"
    for _ in range(300):  # orjson refuses to write this deep
        deep = [deep]
    assert json.loads(to_json({"deep": deep, "big": 2**70, "obj": object(), "set": {1}}))["big"] == 2**70
    assert json.loads(to_json({"k": deep}, indent=True))["k"][0][0]
    deeper: Any = "leaf"
    for _ in range(5000):
        deeper = [deeper]
    # issue #15: only the part too deep to show is replaced, the rest is kept
    kept = json.loads(to_json({"k": deeper, "other": 1}))
    assert kept["other"] == 1
    node, depth = kept["k"], 0
    while isinstance(node, list):
        node, depth = node[0], depth + 1
    assert node == "<nested too deeply to show>" and depth >= 100
