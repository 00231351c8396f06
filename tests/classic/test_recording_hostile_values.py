"""Issue #9 item 5: recording never breaks the chat, and only the value JSON cannot hold falls back.

For any message built from JSON-ish values plus hostile ones (lone surrogates in keys and values, huge ints,
NaN/inf, cycles, objects whose repr/str raise, bytes, sets, deep nesting), the recorded message keeps role, name and
every faithfully writable field exactly; each hostile value is written as docs/session-format.md says (its kind
warned about once); the file is valid UTF-8 JSON every reader takes; the live chat never raises. Checked on the
record writer itself, then through save_session, SessionRecorder and the session writer on live agents.
"""

from __future__ import annotations

import base64
import json
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_ft_cli import SessionRecorder, load_session, save_session
from agent_ft_cli.errors import SessionWarning
from agent_ft_cli.jsonio import RECORD_DEPTH, RECORD_TOO_DEEP, restore_surrogates
from agent_ft_cli.session import (
    FALLBACKS,
    dumps_record_safe,
    iter_thread,
    make_header,
    message_record,
    tail_thread,
    write_session,
)

# -- values -----------------------------------------------------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)  # any text a JSON string holds exactly
FAITHFUL = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
LONE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr boom")

    def __str__(self) -> str:
        return "shown by str"


class BadBoth:
    def __repr__(self) -> str:
        raise RuntimeError("repr boom")

    def __str__(self) -> str:
        raise RuntimeError("str boom")


class Plain:
    def __repr__(self) -> str:
        return "Plain()"


Check = Callable[[Any], bool]


def _surrogate_text(parts: tuple[str, str, str]) -> str:
    return parts[0] + parts[1] + parts[2]


# (a text that already holds the six characters \udcff would restore ambiguously: documented, not generated)
SURROGATE_TEXT = st.tuples(TEXT, LONE, TEXT).map(_surrogate_text).filter(lambda s: "\\u" not in s)


def _cycle(n: int) -> tuple[Any, Check]:
    ring: list[Any] = [n]
    ring.append(ring)
    return ring, lambda got: got == [n, "<cycle>"]


def _deep(n: int) -> tuple[Any, Check]:
    value: Any = "leaf"
    for _ in range(n):
        value = [value]

    def check(got: Any) -> bool:
        depth = 0
        while isinstance(got, list) and len(got) == 1:
            got, depth = got[0], depth + 1
        # the value sits 3 levels below the record (record -> message -> context -> "bad")
        return (got, depth) == ("leaf", n) if n + 3 <= RECORD_DEPTH else (got, depth) == (RECORD_TOO_DEEP, RECORD_DEPTH - 3)

    return value, check


def _hostile() -> st.SearchStrategy[tuple[Any, Check, set[str]]]:
    """(value, check of what the file holds for it, the fallback kinds it needs)."""
    surrogate = SURROGATE_TEXT
    return st.one_of(
        surrogate.map(lambda s: (s, lambda got, s=s: restore_surrogates(got) == s, {"surrogate"})),
        st.one_of(st.integers(min_value=2**64), st.integers(max_value=-(2**63) - 1)).map(
            lambda n: (n, lambda got, n=n: got == str(n), {"big int"})
        ),
        st.sampled_from([(math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity")]).map(
            lambda p: (p[0], lambda got, w=p[1]: got == w, {"NaN/inf"})
        ),
        st.integers(0, 9).map(lambda n: (*_cycle(n), {"cycle"})),
        st.just((BadRepr(), lambda got: got == "shown by str", {"object"})),
        st.just((BadBoth(), lambda got: got == "<BadBoth>", {"object"})),
        st.just((Plain(), lambda got: got == "Plain()", {"object"})),
        st.binary(max_size=40).map(
            lambda b: (b, lambda got, b=b: got.startswith("data:") and base64.b64decode(got.split(",", 1)[1]) == b, {"bytes"})
        ),
        st.frozensets(st.integers(-50, 50), max_size=5).map(lambda s: (set(s), lambda got, s=s: got == sorted(s), {"set"})),
        st.integers(RECORD_DEPTH - 10, RECORD_DEPTH + 300).map(lambda n: (*_deep(n), {"too deep"} if n + 3 > RECORD_DEPTH else set())),
        st.tuples(surrogate, FAITHFUL).map(
            lambda kv: (
                {kv[0]: kv[1], "k": 1},
                lambda got, kv=kv: {restore_surrogates(k): v for k, v in got.items()} == {kv[0]: kv[1], "k": 1},
                {"surrogate"},
            )
        ),
        st.tuples(st.integers(-5, 5), TEXT).map(
            lambda kv: ({kv[0]: kv[1], (1, "a"): "t"}, lambda got, kv=kv: got == {str(kv[0]): kv[1], "1, a": "t"}, {"key"})
        ),
    )


def _written(record: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    kinds: set[str] = set()
    line = dumps_record_safe(record, kinds.update)
    text = line.decode("utf-8")  # strict: valid UTF-8
    assert text.endswith("\n") and text.count("\n") == 1
    parsed = orjson.loads(line)
    assert parsed == json.loads(text)  # both parsers agree
    return parsed, kinds


# -- the record writer ------------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(role=TEXT, name=TEXT, content=FAITHFUL, extra=st.dictionaries(TEXT, FAITHFUL, max_size=3), bad=_hostile())
def test_only_the_hostile_value_falls_back(role: str, name: str, content: Any, extra: dict[str, Any], bad: Any) -> None:
    value, check, kinds = bad
    message = {**extra, "role": role, "name": name, "content": content, "context": {"ok": content, "bad": value}}
    parsed, noted = _written(message_record("agent", "peer", message))
    assert (parsed["type"], parsed["agent"], parsed["peer"]) == ("message", "agent", "peer")
    got = parsed["message"]
    assert list(got) == list(message)  # every field kept, in order
    for key in message:
        if key != "context":
            assert got[key] == message[key]
    assert got["context"]["ok"] == content
    assert check(got["context"]["bad"]), got["context"]["bad"]
    assert noted == kinds  # exactly the kinds needed, each named
    assert noted <= set(FALLBACKS)


@settings(max_examples=200, deadline=None)
@given(message=st.dictionaries(TEXT, FAITHFUL, max_size=5))
def test_faithful_messages_are_written_exactly_and_silently(message: dict[str, Any]) -> None:
    record = message_record("a", "u", message)
    parsed, noted = _written(record)
    assert parsed["message"] == message and noted == set()
    assert dumps_record_safe(record) == orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


@given(text=SURROGATE_TEXT, role=TEXT)
@settings(max_examples=100, deadline=None)
def test_a_lone_surrogate_in_the_content_keeps_role_name_and_text(text: str, role: str) -> None:
    parsed, noted = _written(message_record("a", "u", {"content": text, "role": role, "name": "user"}))
    got = parsed["message"]
    assert (got["role"], got["name"]) == (role, "user")
    assert restore_surrogates(got["content"]) == text and noted == {"surrogate"}
    assert got["content"].encode("utf-8")  # the written text is plain UTF-8


def test_the_examples_of_the_fallback_table() -> None:
    class Model:  # a pydantic-like object: its data, no fallback
        def model_dump(self) -> dict[str, Any]:
            return {"a": 1, "b": [1.5, None]}

    message = {
        "content": "caf\udce9.txt",
        "role": "tool",
        "name": "ls",
        "context": {"big": 2**70, "nan": math.nan, 1: "one", None: "none", "model": Model(), "png": b"\x89PNG\r\n\x1a\nxx"},
    }
    parsed, noted = _written(message_record("a", "u", message))
    got = parsed["message"]
    assert got["content"] == "caf\\udce9.txt"
    ctx = got["context"]
    assert ctx == {
        "big": str(2**70),
        "nan": "NaN",
        "1": "one",
        "null": "none",
        "model": {"a": 1, "b": [1.5, None]},
        "png": "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nxx").decode(),
    }
    assert noted == {"surrogate", "big int", "NaN/inf", "key", "bytes"}


def test_keys_that_read_alike_are_both_kept() -> None:
    parsed, noted = _written(message_record("a", "u", {"content": "x", "context": {"1": "str", 1: "int"}}))
    assert parsed["message"]["context"] == {"1": "str", "1'": "int"} and noted == {"key"}


def test_a_pil_image_is_its_png_data_uri() -> None:
    image_mod = pytest.importorskip("PIL.Image")
    image = image_mod.new("RGB", (2, 2), (255, 0, 0))
    parts = [{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": image}}]
    parsed, noted = _written(message_record("a", "u", {"content": parts, "role": "user"}))
    got = parsed["message"]["content"]
    assert got[0] == parts[0] and noted == {"image"}
    uri = got[1]["image_url"]["url"]
    assert uri.startswith("data:image/png;base64,")
    import io

    assert image_mod.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).getpixel((0, 0)) == (255, 0, 0)


# -- live agents: save_session, SessionRecorder, the session writer ----------------------------------------------------


def _agent(name: str) -> Any:
    import autogen

    return autogen.ConversableAgent(name, llm_config=False, human_input_mode="NEVER", code_execution_config=False)


def _record(how: str, path: Path, a: Any, u: Any, messages: list[dict[str, Any]]) -> None:
    if how == "SessionRecorder":
        with SessionRecorder(path, a, u, mode="w"):
            for m in messages:
                u.send(m, a, request_reply=False, silent=True)  # must not raise inside the chat
        return
    for m in messages:
        u.send(m, a, request_reply=False, silent=True)
    if how == "save_session":
        save_session(path, a, u)
    else:
        threads = [(x.name, peer.name, msgs) for x in (a, u) for peer, msgs in x.chat_messages.items()]
        write_session(path, make_header([{"name": "a"}, {"name": "u"}]), threads, on_fallback=lambda kinds: None)


@pytest.mark.parametrize("how", ["SessionRecorder", "save_session", "write_session"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(content=TEXT, ok=FAITHFUL, bad=_hostile(), surrogate=st.booleans())
def test_live_chats_record_hostile_values_as_documented(
    tmp_path: Path, how: str, content: str, ok: Any, bad: Any, surrogate: bool
) -> None:
    value, check, kinds = bad
    text = content.replace("\\u", "") + ("\udcff" if surrogate else "")
    a, u = _agent("a"), _agent("u")
    path = tmp_path / f"{how}.jsonl"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _record(how, path, a, u, [{"content": text, "role": "user", "context": {"ok": ok, "bad": value}}, {"content": "next"}])
    raw = path.read_bytes()
    raw.decode("utf-8")
    for line in raw.splitlines():
        orjson.loads(line)
    session = load_session(path)
    for agent, peer, live in (("a", "u", a.chat_messages[u]), ("u", "a", u.chat_messages[a])):
        got = session.threads[(agent, peer)]
        assert list(iter_thread(path, agent, peer)) == got == tail_thread(path, agent, peer, 2)
        assert len(got) == len(live) == 2
        first = got[0]
        assert list(first) == list(live[0])
        assert (first["role"], first["name"]) == (live[0]["role"], live[0]["name"])
        assert restore_surrogates(first["content"]) == text
        assert first["context"]["ok"] == ok and check(first["context"]["bad"])
        assert got[1] == live[1]
    if how != "write_session":
        said = [str(w.message) for w in caught if issubclass(w.category, SessionWarning)]
        expected = kinds | ({"surrogate"} if surrogate else set())
        assert len(said) == len(expected)  # once per kind, though two threads hold the value
        for kind in expected:
            assert sum(f"({kind})" in s for s in said) == 1, said


def test_values_with_a_json_form_are_their_data_without_a_warning() -> None:
    import dataclasses
    import datetime
    import enum
    import uuid

    pydantic = pytest.importorskip("pydantic")

    class Tool(pydantic.BaseModel):
        name: str
        args: dict[str, int]

    @dataclasses.dataclass
    class Point:
        x: int
        y: float

    class Color(enum.Enum):
        RED = "red"

    class Level(enum.IntEnum):
        HIGH = 3

    context = {
        "model": Tool(name="f", args={"a": 1}),
        "point": Point(1, 2.5),
        "enums": [Color.RED, Level.HIGH],
        "when": datetime.datetime(2026, 1, 2, 3, 4, 5),
        "id": uuid.UUID(int=1),
        "tuple": (1, "a"),
        "nan": float("nan"),  # still a NaN: the documented fallback, not a silent null
    }
    try:
        import numpy as np
    except ImportError:  # numpy comes with the hf extra
        np = None
    else:
        context["np"] = [np.float64(1.5), np.int64(7), np.array([1, 2]), np.float64("inf")]
    parsed, noted = _written(message_record("a", "u", {"content": "c", "context": context}))
    assert parsed["message"]["context"] == {
        "model": {"name": "f", "args": {"a": 1}},
        "point": {"x": 1, "y": 2.5},
        "enums": ["red", 3],
        "when": "2026-01-02T03:04:05",
        "id": "00000000-0000-0000-0000-000000000001",
        "tuple": [1, "a"],
        "nan": "NaN",
        **({"np": [1.5, 7, [1, 2], "Infinity"]} if np is not None else {}),
    }
    assert noted == {"NaN/inf"}


def test_the_fallback_table_in_the_docs_names_every_kind() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "session-format.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip().strip("`") for line in doc.splitlines() if line.startswith("| `")}
    assert set(FALLBACKS) <= rows


def test_a_change_inside_the_last_message_is_followed(tmp_path: Path) -> None:
    """autogen's generate_oai_reply pops "context" from the last message after it was appended (and written)."""
    from conftest import make_pair

    assistant, user = make_pair(tools=False, max_auto_reply=1)
    path = tmp_path / "s.jsonl"
    with SessionRecorder(path, assistant, user):
        user.initiate_chat(assistant, message={"content": "hi", "context": {"k": 1}}, max_turns=2, silent=True)
        user.send({"content": "last", "context": {"k": 2}}, assistant, request_reply=False, silent=True)
        assistant.chat_messages[user][-1]["content"] = "edited in place"  # nothing appended after it: stop() sees it
    session = load_session(path)
    for agent, peer in ((assistant, user), (user, assistant)):
        assert session.threads[(agent.name, peer.name)] == agent.chat_messages[peer]
    live = assistant.chat_messages[user]
    assert "context" not in live[0] and live[-1]["content"] == "edited in place"  # what the file had to follow
    assert user.chat_messages[assistant][0].get("context") == {"k": 1}  # the sender keeps its own copy
    assert len(session.conversations(assistant.name, user.name)) == 1  # a rewrite, not a new conversation


def test_an_image_object_from_pil_is_found_without_pillow_installed() -> None:
    class FakeImage:  # what autogen's gpt4v_formatter puts in content parts: a PIL image (its module is PIL.*)
        def save(self, fh: Any, format: str) -> None:
            fh.write(b"\x89PNG\r\n\x1a\n" + format.encode())

    FakeImage.__module__ = "PIL.PngImagePlugin"
    parsed, noted = _written(message_record("a", "u", {"content": [{"type": "image_url", "image_url": {"url": FakeImage()}}]}))
    uri = parsed["message"]["content"][0]["image_url"]["url"]
    assert base64.b64decode(uri.removeprefix("data:image/png;base64,")) == b"\x89PNG\r\n\x1a\nPNG" and noted == {"image"}


@pytest.mark.parametrize("how", ["SessionRecorder", "save_session"])
def test_the_header_and_peer_names_fall_back_the_same_way(tmp_path: Path, how: str) -> None:
    a, u = _agent("a"), _agent("u")
    a.update_system_message("sys \udcff")
    path = tmp_path / "s.jsonl"
    with pytest.warns(SessionWarning, match=r"\(surrogate\)"):
        _record(how, path, a, u, [{"content": "hi"}])
    session = load_session(path)
    assert restore_surrogates(session.header["agents"][0]["system_message"]) == "sys \udcff"
    assert session.threads[("a", "u")][0]["content"] == "hi"


def test_the_display_serializer_shows_lone_surrogates_legibly() -> None:
    """to_json (inspect --json, update --json/--output, export rows built from live data) never writes "?": a
    file name's undecodable bytes read as the terminal view shows them (UTF-8 where valid, else \\xNN)."""
    from agent_ft_cli.jsonio import to_json

    for value in ({"k\udcff": "v\udcc3\udca9", "n": 1}, {"k\udcff": "v\udcc3\udca9", "n": 2**70}):
        text = to_json(value).decode("utf-8")
        assert orjson.loads(text) == {"k\\xff": "vé", "n": value["n"]} and "?" not in text
