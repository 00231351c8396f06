"""The adapter registry: kinds listed once, detection picks each kind, an unknown kind or a misplaced option is one
line naming the choices, a new source plugs in with one module and one registry line, imports stay lazy."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agent_ft_cli.adapters import (
    ADAPTERS,
    ImportOptions,
    detect_kind,
    get_adapter,
    kinds,
    kinds_text,
    registry,
    run_import,
)
from agent_ft_cli.errors import InputDataError, UsageError

CHAT = '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}\n'


def _write(folder: Path, name: str, text: str) -> Path:
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return p


def test_kinds_come_from_the_registry() -> None:
    assert kinds() == tuple(ADAPTERS) == ("sqlite", "runtime-log", "agentchat", "openai-jsonl")
    assert kinds_text() == "sqlite, runtime-log, agentchat or openai-jsonl"
    for kind in kinds():
        adapter = get_adapter(kind)
        assert adapter.kind == kind and callable(adapter.read) and adapter.sniff is not None
    assert get_adapter("sqlite").options == get_adapter("runtime-log").options == {"session_id"}
    assert get_adapter("openai-jsonl").options == {"agent", "peer"}


def test_unknown_kind_is_one_line_naming_the_choices(tmp_path: Path) -> None:
    src = _write(tmp_path, "c.jsonl", CHAT)
    with pytest.raises(UsageError) as info:
        run_import(src, tmp_path / "s", ImportOptions(kind="nope"))
    assert str(info.value) == "kind 'nope' is not one of: sqlite, runtime-log, agentchat, openai-jsonl"
    info.value.spell_options(lambda key: "--from")
    assert str(info.value) == "--from 'nope' is not one of: sqlite, runtime-log, agentchat, openai-jsonl"
    assert not (tmp_path / "s").exists()


def test_detection_picks_each_kind(tmp_path: Path) -> None:
    db = tmp_path / "logs.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    assert detect_kind(db) == "sqlite"
    assert detect_kind(_write(tmp_path, "a.log", "Started new session with Session ID: 1234\n")) == "runtime-log"
    assert detect_kind(_write(tmp_path, "b.log", '{"invocation_id": "x", "request": {}}\n')) == "runtime-log"
    assert detect_kind(_write(tmp_path, "c.log", 'junk\n{"agent_name": "a", "agent_type": "B"}\n')) == "runtime-log"
    assert detect_kind(_write(tmp_path, "d.jsonl", CHAT)) == "openai-jsonl"
    assert detect_kind(_write(tmp_path, "e.jsonl", '\n\n{"role": "user", "content": "Hi"}\n')) == "openai-jsonl"
    # the first line that shows a kind decides
    assert detect_kind(_write(tmp_path, "f.jsonl", '{"role": "user"}\n{"invocation_id": "x"}\n')) == "openai-jsonl"


@pytest.mark.parametrize("text", ["hello world\n", "", '{"x": 1}\n', "[" * 100_000 + "\n", "6\n" * 6 + CHAT])
def test_undetectable_is_one_line_naming_the_choices(tmp_path: Path, text: str) -> None:
    src = _write(tmp_path, "x.txt", text)
    with pytest.raises(InputDataError) as info:
        detect_kind(src)
    message = str(info.value)
    assert "cannot tell" in message and "\n" not in message and "--" not in message
    assert "sqlite|runtime-log|agentchat|openai-jsonl" in message


def test_an_option_the_kind_does_not_read_names_the_kinds_that_do(tmp_path: Path) -> None:
    src = _write(tmp_path, "c.jsonl", CHAT)
    with pytest.raises(UsageError) as info:
        run_import(src, tmp_path / "s", ImportOptions(session_id="x"))
    assert str(info.value) == "session_id applies to kind sqlite or runtime-log only, not openai-jsonl"
    with pytest.raises(UsageError, match="agent applies to kind agentchat or openai-jsonl only, not runtime-log"):
        run_import(_write(tmp_path, "r.log", "Started new session with Session ID: 1\n"), tmp_path / "s", ImportOptions(agent="a"))


def test_deep_or_bad_json_is_a_clean_error(tmp_path: Path) -> None:
    deep = _write(tmp_path, "deep.jsonl", '{"messages": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    with pytest.raises(InputDataError, match=r"deep\.jsonl:1: not valid JSON"):
        run_import(deep, tmp_path / "s", ImportOptions(kind="openai-jsonl"))
    bad = _write(tmp_path, "bad.jsonl", CHAT + "{nope\n")
    with pytest.raises(InputDataError, match=r"bad\.jsonl:2: not valid JSON"):  # --strict: damage fails
        run_import(bad, tmp_path / "s", ImportOptions(strict=True))
    warnings: list[str] = []  # else the damaged conversation line is skipped, counted and named
    result = run_import(bad, tmp_path / "s2", ImportOptions(), on_warning=warnings.append)
    assert len(result.written) == 1
    assert warnings == [f"{bad}: skipped 1 line(s) cut short or damaged (line(s) 2); the conversations they held are not imported"]
    many = _write(tmp_path, "many.jsonl", CHAT + "{nope\n" * 12 + CHAT)  # past ten, the rest are counted
    warnings.clear()
    run_import(many, tmp_path / "s4", ImportOptions(), on_warning=warnings.append)
    assert warnings == [
        f"{many}: skipped 12 line(s) cut short or damaged (line(s) 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 2 more); "
        "the conversations they held are not imported"
    ]
    garbage = _write(tmp_path, "garbage.jsonl", "nope\n")  # not even an object: not a chat file at all
    with pytest.raises(InputDataError, match=r"garbage\.jsonl:1: not valid JSON"):
        run_import(garbage, tmp_path / "s3", ImportOptions(kind="openai-jsonl"))


TOY = '''
from agent_ft_cli.adapters import Conversation

OPTIONS = frozenset({"agent"})


def sniff(probe):
    return probe.line.startswith("TOY ")


def read(source, options, on_warning):
    on_warning("toy warning")
    agent = options.agent or "bot"
    thread = [{"content": line[4:], "role": "assistant", "name": agent} for line in source.read_text().splitlines()]
    agents = [{"name": agent, "class": "ConversableAgent", "system_message": None, "llm_config": False},
              {"name": "human", "class": "ConversableAgent", "system_message": None, "llm_config": False}]
    return [Conversation("toy", agents, [(agent, "human", thread)], {"kind": "toy"})]
'''


def test_a_new_source_is_one_module_and_one_registry_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_ft_cli.session import load_session

    _write(tmp_path, "toy_adapter.py", TOY)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry.ADAPTERS, "toy", "toy_adapter:read")
    assert kinds_text() == "sqlite, runtime-log, agentchat, openai-jsonl or toy"
    src = _write(tmp_path, "chat.toy", "TOY hello\nTOY again\n")
    assert detect_kind(src) == "toy"
    warnings: list[str] = []
    result = run_import(src, tmp_path / "s", ImportOptions(agent="robot"), on_warning=warnings.append)
    assert result.kind == "toy" and warnings == ["toy warning"]
    [path] = result.written
    assert [m["content"] for m in load_session(path).threads[("robot", "human")]] == ["hello", "again"]
    with pytest.raises(UsageError, match="agent applies to kind agentchat, openai-jsonl or toy only, not sqlite"):
        run_import(src, tmp_path / "s2", ImportOptions(kind="sqlite", agent="robot"))


def test_importing_the_adapters_stays_cheap() -> None:
    code = (
        "import sys, agent_ft_cli.adapters as a; [a.get_adapter(k) for k in a.kinds()]; "
        "print([m for m in ('sqlite3', 'autogen', 'typer', 'rich') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_adapter_that_cannot_be_imported_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.ADAPTERS, "absent", "agent_ft_cli_no_such_module:read")
    with pytest.raises(UsageError) as info:
        get_adapter("absent")
    assert str(info.value) == "source kind 'absent' needs module 'agent_ft_cli_no_such_module', which is not installed"
