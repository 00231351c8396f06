"""Issue #16 items 7-8 from a script: every public function refuses wrong input with an ``AgentFtError`` that names
the argument and no command-line flag; ``export_rows`` fails where the CLI exits 3 and warns its skips;
``agent_ft_cli.align`` is the function whatever was imported first; ``replay`` takes the consent its message names."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import agent_ft_cli
from agent_ft_cli import session as fmt
from agent_ft_cli.cli import app
from agent_ft_cli.errors import InputDataError, SessionWarning, UsageError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "export"))

from exportkit import save_live

FLAG = re.compile(r"(?<![\w-])--?[a-z][\w-]*")
THREAD = [
    {"content": "Capital of France?", "role": "user", "name": "user"},
    {"content": "Paris.", "role": "assistant", "name": "assistant"},
]


def _session(path: Path, assistant_view: list[dict[str, Any]]) -> Path:
    """A session whose ``assistant->user`` thread is ``assistant_view`` (the user's view mirrors it)."""
    header = fmt.make_header(
        [
            {"name": "assistant", "llm_config": {"config_list": [{"model": "m", "model_client_cls": "C"}]}},
            {"name": "user", "llm_config": False},
        ]
    )
    mirror = [dict(m, role="assistant" if m["role"] == "user" else "user") for m in assistant_view]
    fmt.write_session(path, header, [("assistant", "user", assistant_view), ("user", "assistant", mirror)])
    return path


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


# -- align: the function, whatever was imported before ----------------------------------------------------------

FIRST_IMPORTS = [
    "from agent_ft_cli import export_rows",
    "from agent_ft_cli import replay",
    "import agent_ft_cli.export",
    "import agent_ft_cli.align",
    "from agent_ft_cli.align import Tying",
    "import agent_ft_cli.local",
    "",
]


@pytest.mark.parametrize("first", FIRST_IMPORTS)
def test_align_is_the_function_after_any_import(first: str) -> None:
    """Fresh interpreters: export and replay import the module ``agent_ft_cli.align``; the package attribute and
    ``from agent_ft_cli import align`` stay the documented function, and it ties a pair."""
    probe = f"""
{first}
import agent_ft_cli
from agent_ft_cli import align
import agent_ft_cli.align as also
tied, skipped = agent_ft_cli.align([["Paris, of course.", "Paris."]], {THREAD!r})
print(type(align).__name__, align is agent_ft_cli.align is also, [t.prompt for t in tied], skipped)
"""
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["function", "True", "['Capital", "of", "France?']", "[]"]


def test_every_public_name_is_its_definition_once_every_submodule_is_loaded() -> None:
    for info in pkgutil.iter_modules(agent_ft_cli.__path__, "agent_ft_cli."):
        try:
            importlib.import_module(info.name)
        except ImportError:  # optional extras (torch for .hf)
            continue
    for name, module in agent_ft_cli._LAZY.items():
        assert getattr(agent_ft_cli, name) is getattr(importlib.import_module(module, "agent_ft_cli"), name), name
    assert callable(agent_ft_cli.align)
    assert sys.modules["agent_ft_cli.align"].align is agent_ft_cli.align  # the module stays importable by name


def test_import_agent_ft_cli_loads_no_submodule() -> None:
    """The fix keeps ``align`` lazy: ``import agent_ft_cli`` imports no module of the package but its own."""
    probe = "import sys, agent_ft_cli; print(sorted(m for m in sys.modules if m.startswith('agent_ft_cli.')))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# -- export_rows: where the CLI exits 3, the library raises; skips are warned ------------------------------------


def test_export_rows_raises_where_the_cli_exits_3_for_an_agent_not_in_the_session(tmp_path: Path) -> None:
    live = save_live(tmp_path)
    result = _cli("export", "-s", str(live), "-f", "trl-sft", "--agent", "nobody", "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 3
    with (
        pytest.warns(SessionWarning, match="agent 'nobody' is not in this session") as record,
        pytest.raises(InputDataError) as info,
    ):
        agent_ft_cli.export_rows(live, format="trl-sft", agent="nobody")
    assert info.value.exit_code == 3
    assert "agent 'nobody' is not in this session" in str(info.value) and "agents: assistant, user" in str(info.value)
    assert not FLAG.search(str(info.value)), str(info.value)
    assert "agent 'nobody' is not in this session" in result.stderr  # the same reason as the command's
    assert record[0].filename == __file__  # the warning points at the caller's line


def test_export_rows_raises_for_a_thread_without_an_answer_and_warns_when_others_give_rows(tmp_path: Path) -> None:
    empty = _session(tmp_path / "empty.jsonl", THREAD[:1])  # a question, no answer yet
    good = _session(tmp_path / "good.jsonl", THREAD)
    assert _cli("export", "-s", str(empty), "-f", "trl-sft", "-o", str(tmp_path / "o.jsonl")).exit_code == 3
    with (
        pytest.warns(SessionWarning, match="empty.jsonl: the thread has no assistant answer"),
        pytest.raises(InputDataError, match="no assistant answer to train on"),
    ):
        agent_ft_cli.export_rows(empty, format="trl-sft")
    with pytest.warns(SessionWarning, match="empty.jsonl: the thread has no assistant answer") as record:
        rows = agent_ft_cli.export_rows([empty, good], format="trl-sft")
    assert len(record) == 1
    assert rows == agent_ft_cli.export_rows(good, format="trl-sft")
    assert [m["content"] for m in rows[0]["messages"]] == ["Capital of France?", "Paris."]


def test_export_rows_warns_each_untied_pair_and_returns_the_tied_ones(tmp_path: Path) -> None:
    good = _session(tmp_path / "good.jsonl", THREAD)
    prefs = [["Paris, of course.", "Paris."], ["x", "an answer never given"]]
    with pytest.warns(SessionWarning, match=r"skipped pair 1: the rejected answer does not appear") as record:
        rows = agent_ft_cli.export_rows(good, format="trl-preference", prefs=prefs)
    assert len(record) == 1 and len(rows) == 1
    assert rows[0]["chosen"][-1]["content"] == "Paris, of course."
    with pytest.warns(SessionWarning), pytest.raises(InputDataError, match="pair 0: the rejected answer"):
        agent_ft_cli.export_rows(good, format="trl-preference", prefs=prefs[1:])
    with pytest.raises(InputDataError, match="the preference data hold no pair"):
        agent_ft_cli.export_rows(good, format="trl-preference", prefs=[])


def test_an_on_warning_function_gets_the_skips_instead_of_warnings(tmp_path: Path) -> None:
    empty = _session(tmp_path / "empty.jsonl", THREAD[:1])
    good = _session(tmp_path / "good.jsonl", THREAD)
    got: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warnings.warn would raise here
        rows = agent_ft_cli.export_rows([empty, good], format="trl-sft", on_warning=got.append)
        pairs = agent_ft_cli.export_rows(
            good, format="trl-preference", prefs=[["P.", "Paris."], ["x", "never"]], on_warning=got.append
        )
    assert len(rows) == 1 and len(pairs) == 1
    assert got == [
        f"skipped session {empty}: the thread has no assistant answer to train on",
        "skipped pair 1: the rejected answer does not appear in any exported thread",
    ]


def test_strict_still_raises_at_the_first_skip(tmp_path: Path) -> None:
    empty = _session(tmp_path / "empty.jsonl", THREAD[:1])
    good = _session(tmp_path / "good.jsonl", THREAD)
    with pytest.raises(agent_ft_cli.AgentFtError, match="strict refuses every skip"):
        agent_ft_cli.export_rows([empty, good], format="trl-sft", strict=True)


# -- wrong types, missing files, folders, empty inputs -----------------------------------------------------------


def _bad_export_calls(tmp_path: Path) -> list[tuple[Any, dict[str, Any], type[Exception], str]]:
    good = _session(tmp_path / "good.jsonl", THREAD)
    (tmp_path / "nothing").mkdir()
    return [
        (42, {}, UsageError, "sessions: expected a path"),
        (None, {}, UsageError, "got NoneType"),
        (str(good).encode(), {}, UsageError, "got bytes"),
        ({"path": str(good)}, {}, UsageError, "got dict"),
        ([good, 3], {}, UsageError, "got int"),
        ([], {}, UsageError, "give at least one session"),
        ("", {}, UsageError, "sessions: an empty path"),
        (tmp_path / "missing.jsonl", {}, agent_ft_cli.SessionError, "does not exist"),
        (tmp_path / "nothing", {}, agent_ft_cli.SessionError, "holds no *.jsonl"),
        (good, {"agent": 3}, UsageError, "agent: expected a name or None, got int"),
        (good, {"peer": ["user"]}, UsageError, "peer: expected a name or None, got list"),
        (good, {"strict": "no"}, UsageError, "strict: expected True or False, got str"),
        (good, {"on_warning": 3}, UsageError, "on_warning: expected a function"),
        (good, {"format": "trl-preference", "prefs": ""}, UsageError, "prefs: an empty path"),
        (good, {"format": "trl-preference", "prefs": tmp_path / "nothing"}, agent_ft_cli.AgentFtError, "is a folder"),
        (good, {"format": "trl-preference", "prefs": tmp_path / "no.json"}, agent_ft_cli.AgentFtError, "does not exist"),
        (good, {"format": "trl-preference", "prefs": 42}, InputDataError, "preference data is a int"),
    ]


def test_export_rows_refuses_wrong_input_with_an_error_naming_it(tmp_path: Path) -> None:
    for sessions, kwargs, cls, text in _bad_export_calls(tmp_path):
        kwargs = {"format": "trl-sft", **kwargs}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SessionWarning)
            with pytest.raises(cls) as info:
                agent_ft_cli.export_rows(sessions, **kwargs)
        assert text in str(info.value), (sessions, kwargs, str(info.value))
        assert not FLAG.search(str(info.value)), str(info.value)


def test_to_dataset_refuses_what_is_not_rows() -> None:
    for value, text in [("abc", "got str"), (None, "got NoneType"), ([{"a": 1}, "b"], "a row of type str"), (3, "got int")]:
        with pytest.raises(UsageError, match="to_dataset: expected a list of rows") as info:
            agent_ft_cli.to_dataset(value)  # type: ignore[arg-type]
        assert text in str(info.value)


def test_to_dataset_without_datasets_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # what an environment without the library gives: ImportError
    with pytest.raises(UsageError) as info:
        agent_ft_cli.to_dataset([{"messages": []}])
    assert "pip install datasets" in str(info.value) and "agent-ft[hf]" in str(info.value)
    assert not FLAG.search(str(info.value).replace("pip install", ""))


# -- replay: consent, and its arguments --------------------------------------------------------------------------


def _recorded_with_own_client(tmp_path: Path) -> Path:
    live = save_live(tmp_path)
    header, _ = fmt.read_header(live)
    [assistant] = [a for a in header["agents"] if a["name"] == "assistant"]
    assert assistant["model_clients"] == ["clientpkg.clients:ScriptedClient"]  # not bundled: needs consent
    return live


def test_replay_without_consent_names_its_own_parameter(tmp_path: Path) -> None:
    from agent_ft_cli.pairing import UntrustedSessionClientError

    live = _recorded_with_own_client(tmp_path)
    with pytest.raises(UntrustedSessionClientError) as info:
        agent_ft_cli.replay(live)
    message = str(info.value)
    assert "trust_session_client=True" in message and "clientpkg.clients:ScriptedClient" in message
    assert not FLAG.search(message), message
    assert "trust_session_client" in agent_ft_cli.replay.__doc__  # type: ignore[operator]


def test_replay_with_consent_registers_the_recorded_client(tmp_path: Path) -> None:
    from clientpkg.clients import ScriptedClient

    live = _recorded_with_own_client(tmp_path)
    agent, peer = agent_ft_cli.replay(live, trust_session_client=True)
    assert [type(c) for c in agent.client._clients] == [ScriptedClient]
    assert agent.chat_messages[peer] == agent_ft_cli.load_session(live).thread("assistant", "user")


def test_replay_refuses_wrong_arguments_naming_them(tmp_path: Path) -> None:
    from clientpkg.clients import ScriptedClient

    live = _session(tmp_path / "good.jsonl", THREAD)
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (42, {}, "session: expected a path or a Session"),
        (None, {}, "got NoneType"),
        ([live], {}, "got list"),
        ("", {}, "session: an empty path"),
        (live, {"client": 3}, "client: expected a model client class"),
        (live, {"client": ScriptedClient({})}, "pass the class, not an instance"),
        (live, {"client": " "}, "client: an empty import path"),
        (live, {"client": ScriptedClient, "client_args": "x"}, "client_args: expected a dict"),
        (live, {"client": ScriptedClient, "agent": 3}, "agent: expected an agent name"),
        (live, {"client": ScriptedClient, "on_warning": "print"}, "on_warning: expected a function"),
    ]
    for session, kwargs, text in cases:
        with pytest.raises(UsageError) as info:
            agent_ft_cli.replay(session, **kwargs)
        assert text in str(info.value), (session, kwargs, str(info.value))
        assert not FLAG.search(str(info.value)), str(info.value)
    with pytest.raises(agent_ft_cli.SessionError, match="does not exist"):
        agent_ft_cli.replay(tmp_path / "missing.jsonl")
    with pytest.raises(agent_ft_cli.SessionError, match="is a folder"):
        agent_ft_cli.replay(tmp_path)


def test_the_readme_table_names_replays_consent() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `replay("))
    assert "trust_session_client" in row
