"""Arguments and file names given as bytes, in a C locale (Python's UTF-8 mode and locale coercion off) and in a
Latin-1 locale, through the installed ``agent-ft`` in pipes (docs/cli.md, "Bytes, locales and file names").

- A text argument (``--message``, ``--agent``, ``--peer``) is the text the user typed: its bytes read as UTF-8
  when valid, else in the locale's encoding; bytes text in neither are a one-line usage error (exit 2) naming it.
- A file name is opened with its exact bytes; where it is written as text (``--json``, a session header) it is
  valid UTF-8: the locale's reading, bytes the locale cannot read as UTF-8 where valid, else ``\\xNN``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

from agent_ft_cli.jsonio import escape_surrogates, restore_surrogates
from agent_ft_cli.textsafe import legible

AGENT_FT = os.fsencode(str(Path(sys.executable).parent / "agent-ft"))
CAPITAL = REPO / "sample_sessions" / "capital.jsonl"
PREFS = REPO / "sample_sessions" / "capital.prefs.json"
LOCAL = REPO / "configs" / "local.yaml"

C_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
LATIN1 = {"LANG": "en_US.ISO-8859-1", "LC_ALL": "en_US.ISO-8859-1", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
LATIN1_UTF8_MODE = {**LATIN1, "PYTHONUTF8": "1"}

TYPED = "à 🌦"  # what the user typed, as UTF-8 bytes below
TYPED_BYTES = TYPED.encode("utf-8")


def _env(locale_vars: dict[str, str]) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONIO", "PYTHONUTF8", "PYTHONCOERCE"))}
    return {**keep, "NO_COLOR": "1", **locale_vars}


def _encoding(locale_vars: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.getfilesystemencoding())"],
        capture_output=True, env=_env(locale_vars), check=True,
    )
    return proc.stdout.decode().strip()


def _need_latin1() -> None:
    if _encoding(LATIN1) != "iso8859-1":
        pytest.skip("no en_US.ISO-8859-1 locale on this machine (localedef -i en_US -f ISO-8859-1 en_US.ISO-8859-1)")


def _run(locale_vars: dict[str, str], *args: bytes | str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    argv = [AGENT_FT, *(a if isinstance(a, bytes) else os.fsencode(a) for a in args)]
    proc = subprocess.run(argv, capture_output=True, env=_env(locale_vars), cwd=cwd, timeout=120)
    assert b"Traceback" not in proc.stderr and b"unexpected" not in proc.stderr, proc.stderr
    return proc


def _messages(path: Path) -> list[dict[str, Any]]:
    records = [json.loads(line.decode("utf-8")) for line in path.read_bytes().splitlines()]  # strict UTF-8 JSON
    return [r["message"] for r in records if r.get("type") == "message"]


def _first_user_message(path: Path) -> str:
    return str(next(m["content"] for m in _messages(path) if m.get("role") == "user" or m.get("name") == "user"))


# -- text arguments --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("locale_vars", [C_LOCALE, LATIN1, LATIN1_UTF8_MODE], ids=["C", "latin-1", "latin-1-utf8-mode"])
def test_a_utf8_message_is_recorded_as_typed(isolated: Path, locale_vars: dict[str, str]) -> None:
    if locale_vars is not C_LOCALE:
        _need_latin1()
    proc = _run(locale_vars, "record", "-c", str(LOCAL), "-m", TYPED_BYTES, "-o", "s.jsonl", "-q", cwd=isolated)
    assert proc.returncode == 0, proc.stderr
    assert _first_user_message(isolated / "s.jsonl") == TYPED
    # every command reads the session back, in the same locale, in a pipe
    shown = _run(locale_vars, "inspect", "-s", "s.jsonl", "--json", cwd=isolated)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout.decode("utf-8"))["messages"][0]["content"] == TYPED
    for args in (["inspect", "-s", "s.jsonl"], ["validate", "-s", "s.jsonl"], ["export", "-s", "s.jsonl", "-f", "openai-sft", "-o", "x.jsonl"]):
        assert _run(locale_vars, *args, cwd=isolated).returncode == 0, args


def test_a_message_in_the_locales_own_encoding_is_recorded_as_typed(isolated: Path) -> None:
    _need_latin1()
    for env in (LATIN1, LATIN1_UTF8_MODE):  # \xe9 is é in Latin-1, and not UTF-8
        out = f"s{len(env)}{env['PYTHONUTF8']}.jsonl"
        proc = _run(env, "record", "-c", str(LOCAL), "-m", b"caf\xe9 cr\xe8me", "-o", out, "-q", cwd=isolated)
        assert proc.returncode == 0, proc.stderr
        assert _first_user_message(isolated / out) == "café crème"


def test_bytes_that_are_text_in_no_encoding_tried_are_a_usage_error_naming_the_argument(isolated: Path) -> None:
    proc = _run(C_LOCALE, "record", "-c", str(LOCAL), "-m", b"caf\xe9", "-o", "s.jsonl", cwd=isolated)
    assert proc.returncode == 2
    lines = proc.stderr.decode("ascii").splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --message: "), lines
    assert "neither UTF-8 nor text in the locale's encoding (ascii)" in lines[0] and "\\xe9 at byte 3" in lines[0]
    assert not (isolated / "s.jsonl").exists()  # refused before any chat
    for args in (["inspect", "-s", str(CAPITAL), "-a", b"\xff"], ["export", "-s", str(CAPITAL), "-f", "openai-sft", "-p", b"\xff", "-o", "x.jsonl"]):
        bad = _run(C_LOCALE, *args, cwd=isolated)
        assert bad.returncode == 2 and bad.stderr.startswith(b"Error: --"), bad.stderr
        assert bad.stderr.count(b"\n") == 1


def test_agent_names_given_as_bytes_match_and_are_imported_as_typed(isolated: Path) -> None:
    cafe = "café".encode()
    session = isolated / "s.jsonl"
    text = CAPITAL.read_text(encoding="utf-8").replace('"assistant"', '"café"')
    session.write_text(text, encoding="utf-8")
    shown = _run(C_LOCALE, "inspect", "-s", "s.jsonl", "-a", cafe, "--json", cwd=isolated)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["agent"] == "café"
    # import: the names given become the session's agent names, exactly
    chat = isolated / "chat.jsonl"
    chat.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}))
    imported = _run(C_LOCALE, "import", "chat.jsonl", "--out", "imp", "-a", cafe, "-p", "\u00e0".encode(), "--json", cwd=isolated)
    assert imported.returncode == 0, imported.stderr
    (path,) = json.loads(imported.stdout)
    header = json.loads((isolated / path).read_bytes().splitlines()[0].decode("utf-8"))
    assert [a["name"] for a in header["agents"]] == ["café", "à"]


# -- file names with bytes that are not UTF-8 ----------------------------------------------------------------------

def _bytes_tree(work: Path) -> dict[str, bytes]:
    """Inputs whose names hold a Latin-1 byte (not UTF-8), and a folder of sessions whose names are UTF-8."""
    base = os.fsencode(str(work)) + b"/"
    names = {
        "session": b"caf\xe9.jsonl", "prefs": b"caf\xe9.prefs.json", "config": b"caf\xe9.yaml", "folder": b"d\xe9",
    }
    for key, src in (("session", CAPITAL), ("prefs", PREFS), ("config", LOCAL)):
        with open(base + names[key], "wb") as f:
            f.write(src.read_bytes())
    os.mkdir(base + names["folder"])
    with open(base + names["folder"] + b"/" + "é.jsonl".encode(), "wb") as f:
        f.write(CAPITAL.read_bytes())
    return names


@pytest.mark.parametrize("locale_vars", [C_LOCALE, LATIN1], ids=["C", "latin-1"])
def test_every_command_opens_prints_and_writes_json_for_non_utf8_file_names(isolated: Path, locale_vars: dict[str, str]) -> None:
    if locale_vars is LATIN1:
        _need_latin1()
    n = _bytes_tree(isolated)
    # how the name caf\xe9 reads as text: the locale's reading (Latin-1: café); in a C locale \xe9 is no text: "\xe9"
    as_text = "café" if locale_vars is LATIN1 else "caf\\xe9"
    utf8_name = "Ã©" if locale_vars is LATIN1 else "é"  # a UTF-8 name (c3 a9): the locale's reading, or UTF-8

    def ok(*args: bytes | str) -> subprocess.CompletedProcess[bytes]:
        proc = _run(locale_vars, *args, cwd=isolated)
        assert proc.returncode == 0, (args, proc.stderr)
        return proc

    def as_json(*args: bytes | str) -> Any:
        return json.loads(ok(*args).stdout.decode("utf-8"))  # valid UTF-8 JSON, whatever the locale

    out = b"r" + n["session"]
    rec = as_json("record", "-c", n["config"], "-m", "What is the capital of Australia?", "-o", out, "--json")
    assert rec["session"] == "r" + as_text + ".jsonl"
    assert len(_messages(isolated / os.fsdecode(out))) == 4  # written at the exact bytes given

    assert as_json("inspect", "-s", n["session"], "--json")["agent"] == "assistant"
    assert b"caf\\xe9" in ok("inspect", "-s", n["session"]).stdout or b"caf\xe9" in ok("inspect", "-s", n["session"]).stdout
    checked = as_json("validate", "-s", n["session"], "-s", n["folder"], "--prefs", n["prefs"], "-c", n["config"], "--json")
    files = {c.get("file") for c in checked["checks"]} - {None}
    assert any(f.endswith(utf8_name + ".jsonl") for f in files), files
    assert any(as_text in f for f in files), files

    update = as_json("update", "-s", n["session"], "--prefs", n["prefs"], "-c", n["config"], "--json")
    assert update["update_stats"]["pairs_seen"] == 1
    ok("update", "-s", n["session"], "--prefs", n["prefs"], "-c", n["config"], "-o", b"u" + n["session"])
    assert json.loads((isolated / os.fsdecode(b"u" + n["session"])).read_bytes())["update_stats"]["pairs_seen"] == 1

    evaluated = as_json("eval", "-s", n["session"], "--prefs", n["prefs"], "-c", n["config"], "--json")
    assert (evaluated["session"], evaluated["source"]) == (as_text + ".jsonl", as_text + ".prefs.json")

    exported = b"e" + n["session"]
    ok("export", "-s", n["folder"], "-s", n["session"], "-f", "openai-sft", "-o", exported)
    rows = (isolated / os.fsdecode(exported)).read_bytes().decode("utf-8").splitlines()
    assert len(rows) == 2

    written = as_json("import", exported, "--out", n["folder"] + b"-imp", "--json")
    assert len(written) == 2 and all(p.startswith("d" + as_text[3:] + "-imp/") for p in written), written
    for path in sorted((isolated / os.fsdecode(n["folder"] + b"-imp")).iterdir()):
        header = json.loads(path.read_bytes().splitlines()[0].decode("utf-8"))  # the session stays UTF-8 JSON
        assert header["imported_from"]["path"].endswith("e" + as_text + ".jsonl")

    missing = _run(locale_vars, "inspect", "-s", b"no" + n["session"], cwd=isolated)
    assert missing.returncode == 3 and missing.stderr.count(b"\n") == 1


def test_legible_keeps_text_and_makes_escaped_bytes_valid_utf8() -> None:
    assert legible("plain café") == "plain café"
    assert legible("caf\udcc3\udca9/x\udce9") == "café/x\\xe9"  # a UTF-8 run decoded, a lone byte shown
    assert legible("a\ud800b") == "a\\ud800b"  # a lone surrogate that is no escaped byte
    for text in ("caf\udce9", "\udcff\udcfe", "x\ud800"):
        legible(text).encode("utf-8")  # never raises


def test_a_live_message_holding_a_file_names_bytes_is_recorded_restorably_with_a_warning(isolated: Path) -> None:
    import warnings

    import autogen

    from agent_ft_cli import SessionRecorder, load_session
    from agent_ft_cli.errors import SessionWarning

    a = autogen.ConversableAgent("a", llm_config=False, human_input_mode="NEVER")
    u = autogen.ConversableAgent("u", llm_config=False, human_input_mode="NEVER")
    name = os.fsdecode(b"caf\xc3\xa9-\xe9.txt") if sys.getfilesystemencoding() == "utf-8" else "caf\udcc3\udca9-\udce9.txt"
    with warnings.catch_warnings(record=True) as caught, SessionRecorder(isolated / "s.jsonl", a):
        warnings.simplefilter("always")
        u.send({"content": f"see {name}", "role": "user"}, a, request_reply=False)
    recorded = load_session(isolated / "s.jsonl").threads[("a", "u")][0]["content"]
    assert recorded == escape_surrogates(f"see {name}") and restore_surrogates(recorded) == f"see {name}"
    assert a.chat_messages[u][0]["content"] == f"see {name}"  # the live message is untouched
    texts = [str(w.message) for w in caught if issubclass(w.category, SessionWarning)]
    assert len(texts) == 1 and "(surrogate)" in texts[0], texts
