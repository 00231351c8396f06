"""iter_thread's block reader: the same messages, warnings and errors (file:line) as a full parse, whatever the block
size, and inspect --json prints exactly orjson.dumps of each parsed message."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from agent_ft_cli import load_session
from agent_ft_cli import session as fmt
from agent_ft_cli.cli import app
from agent_ft_cli.errors import SessionError, SessionWarning
from agent_ft_cli.session import _scan

PAIRS = [("assistant", "user"), ("user", "assistant"), ("assistant", "critic")]


def _lines() -> list[bytes]:
    header = fmt.make_header([{"name": "assistant"}, {"name": "user"}, {"name": "critic"}])
    out = [fmt.dumps_record(header)]
    for i in range(60):
        m = {"content": f"m{i} " + "x" * (i * 7 % 50) + ("é" if i % 5 == 0 else ""), "role": "user"}
        out.append(fmt.dumps_record(fmt.message_record("assistant", "user", m)))
        if i % 3 == 0:
            out.append(fmt.dumps_record(fmt.message_record("user", "assistant", dict(m, role="assistant"))))
    for i in range(40):  # a run of the other view, then some of another peer, as save_session lays them out
        out.append(fmt.dumps_record(fmt.message_record("user", "assistant", {"content": f"u{i}", "role": "user"})))
    out.append(fmt.dumps_record(fmt.message_record("assistant", "critic", {"content": "c", "n": 1.5, "k": [1, None]})))
    out.append(b'{"type":"note","text":"kept and ignored"}\n')
    out.append(b'{"type": "message", "agent": "assistant", "peer": "user", "message": {"content": "spaced"}}\n')
    out.append(b"\n")  # a blank line
    long = {"content": "L" * 3000, "role": "assistant"}  # longer than the small blocks below
    out.append(fmt.dumps_record(fmt.message_record("assistant", "user", long)))
    out.append(fmt.dumps_record(fmt.message_record("user", "assistant", long)))
    return out


@pytest.fixture(params=[64, 1000, 1 << 20], ids=["64B", "1KB", "1MB"])
def chunk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(_scan, "_CHUNK", request.param)
    return int(request.param)


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("final_newline", [True, False])
def test_same_messages_as_a_full_parse(tmp_path: Path, chunk: int, pair: tuple[str, str], final_newline: bool) -> None:
    path = tmp_path / "s.jsonl"
    data = b"".join(_lines())
    path.write_bytes(data if final_newline else data[:-1])
    expected = load_session(path).threads.get(pair, [])
    assert expected
    assert list(fmt.iter_thread(path, *pair)) == expected


def test_after_a_clear(tmp_path: Path, chunk: int) -> None:
    lines = _lines()
    lines.insert(30, fmt.dumps_record(fmt.clear_record("assistant", None)))
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"".join(lines))
    for pair in PAIRS:
        assert list(fmt.iter_thread(path, *pair)) == load_session(path).threads.get(pair, [])


def _damaged(tmp_path: Path, index: int, damage: Any, clear_at: int | None = None) -> Path:
    lines = _lines()
    lines[index] = damage(lines[index])
    if clear_at is not None:
        lines.insert(clear_at, fmt.dumps_record(fmt.clear_record("assistant", "user")))
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"".join(lines))
    return path


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2] + b"\n",  # cut short
        lambda raw: raw[:-1] + raw,  # two records run together
        lambda raw: raw[:-3] + b"]}\n",  # broken end
        lambda raw: raw.replace(b'"content":"', b'"content":"\xff', 1),  # invalid UTF-8 inside a string
        lambda raw: raw[:-2] + b"}}\n",  # an extra brace
    ],
)
@pytest.mark.parametrize("clear_before", [False, True])
def test_damaged_line_of_the_thread_is_an_error_with_its_line(
    tmp_path: Path, chunk: int, damage: Any, clear_before: bool
) -> None:
    lines = _lines()
    index = next(i for i, raw in enumerate(lines) if raw.startswith(b'{"type":"message","agent":"assistant","peer":"user"') and i > 50)
    path = _damaged(tmp_path, index, damage, clear_at=5 if clear_before else None)
    lineno = index + 1 + (1 if clear_before else 0)
    with pytest.raises(SessionError, match=rf"s\.jsonl:{lineno}\b"):
        list(fmt.iter_thread(path, "assistant", "user"))


def test_cut_final_line_is_a_warning_or_strict_error(tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "s.jsonl"
    lines = _lines()
    path.write_bytes(b"".join(lines)[:-40])
    n = len(lines)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = list(fmt.iter_thread(path, "assistant", "user"))
    assert any(issubclass(w.category, SessionWarning) and f"s.jsonl:{n}" in str(w.message) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert got == load_session(path).threads[("assistant", "user")]
    with pytest.raises(SessionError, match=rf"s\.jsonl:{n}: final line is cut short"):
        list(fmt.iter_thread(path, "user", "assistant", strict=True))


def test_inspect_json_is_orjson_dumps_of_each_parsed_message(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"".join(_lines()))
    result = CliRunner().invoke(app, ["inspect", "-s", str(path), "-a", "assistant", "-p", "user", "--json"])
    assert result.exit_code == 0, result.output
    thread = load_session(path).threads[("assistant", "user")]
    body = b",".join(orjson.dumps(m, option=orjson.OPT_NON_STR_KEYS) for m in thread)
    assert result.stdout_bytes == b'{"agent":"assistant","peer":"user","messages":[' + body + b"]}\n"


def _two_agent_lines(n: int = 400) -> list[bytes]:
    """A two-agent session laid out as save_session and SessionRecorder write it: the views interleaved."""
    header = fmt.make_header([{"name": "assistant"}, {"name": "user"}])
    out = [fmt.dumps_record(header)]
    for i in range(n):
        m = {"content": f"q{i} " + "y" * (i * 13 % 90), "role": "user", "name": "user"}
        out.append(fmt.dumps_record(fmt.message_record("assistant", "user", m)))
        out.append(fmt.dumps_record(fmt.message_record("user", "assistant", dict(m, role="assistant"))))
    return out


@pytest.mark.parametrize("block", [256, 4096, 1 << 20])
def test_two_agent_blocks_read_like_a_full_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(_scan, "_CHUNK", block)
    path = tmp_path / "pair.jsonl"
    path.write_bytes(b"".join(_two_agent_lines()))
    full = load_session(path)
    for pair in (("assistant", "user"), ("user", "assistant")):
        assert list(fmt.iter_thread(path, *pair)) == full.threads[pair]


@pytest.mark.parametrize("block", [256, 1 << 20])
@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw.replace(b'"content":"', b'"content":', 1),  # still framed as a record, not JSON inside
        lambda raw: raw[:-4] + b"\n",  # cut short in the middle of the file
    ],
)
def test_damaged_line_of_the_wanted_thread_in_a_two_agent_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int, damage: Any
) -> None:
    monkeypatch.setattr(_scan, "_CHUNK", block)
    lines = _two_agent_lines()
    target = 301  # an assistant->user line: index 301 is line 302 of the file
    assert lines[target].startswith(b'{"type":"message","agent":"assistant"')
    lines[target] = damage(lines[target])
    path = tmp_path / "damaged.jsonl"
    path.write_bytes(b"".join(lines))
    with pytest.raises(SessionError, match=rf"damaged\.jsonl:{target + 1}\b"):
        list(fmt.iter_thread(path, "assistant", "user"))


def test_json_output_of_hand_written_lines_means_the_same(tmp_path: Path) -> None:
    """A line in the writer's framing but not its spelling (spaces, escapes) is copied as it is: still valid JSON
    with the same meaning, and still checked by a parse."""
    lines = _two_agent_lines(3)
    prefix = b'{"type":"message","agent":"assistant","peer":"user","message":'
    lines.insert(3, prefix + b'{ "content" : "caf\\u00e9 \\ud83d\\ude00" , "role":"user", "n": 1E2 }}\n')
    path = tmp_path / "hand.jsonl"
    path.write_bytes(b"".join(lines))
    result = CliRunner().invoke(app, ["inspect", "-s", str(path), "-a", "assistant", "-p", "user", "--json"])
    assert result.exit_code == 0, result.output
    shown = orjson.loads(result.stdout)["messages"]
    assert shown == load_session(path).threads[("assistant", "user")]
    assert {"content": "café 😀", "role": "user", "n": 100.0} in shown
