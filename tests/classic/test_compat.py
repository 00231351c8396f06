"""Compatibility with every classic autogen (pyautogen 0.2, AG2's pyautogen 0.9, AG2's autogen 0.14).

The first half runs against whichever classic autogen is installed (``.ci/compat`` runs the whole suite once per
version): the recorder must follow every way a history changes (clear_history, initiate_chats carry-over,
register_reply and hooks, TransformMessages' deep copies, nested chats, group chats) and an ``LLMConfig`` object
must be recorded and replayed like a dict. The second half simulates an ``autogen`` that is not the classic API, or
none at all, in a subprocess: the CLI must print one ``Error:`` line naming what to install and exit 4.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys
import textwrap
from collections import defaultdict
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from conftest import ASSETS, make_pair, run_chat

from agent_ft_cli import SessionRecorder, load_session, save_session
from agent_ft_cli.errors import EXIT_CLIENT_LOAD

# ---------------------------------------------------------------------------------------------------------------
# helpers


def _plain(messages: Any) -> Any:
    return json.loads(json.dumps(messages, ensure_ascii=False))


def _live(*agents: Any) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every non-empty history the agents hold, keyed (agent, peer), as it looks after a JSON round trip."""
    return {
        (a.name, p.name): _plain(list(msgs)) for a in agents for p, msgs in a.chat_messages.items() if len(msgs)
    }


def _recorded(path: Path) -> dict[tuple[str, str], list[dict[str, Any]]]:
    return {k: v for k, v in load_session(path).threads.items() if v}


def _scripted_assistant(name: str) -> Any:
    import autogen
    from clientpkg.clients import ScriptedClient

    agent = autogen.AssistantAgent(
        name, llm_config={"config_list": [{"model": "scripted", "model_client_cls": "ScriptedClient"}]}
    )
    agent.register_model_client(model_client_cls=ScriptedClient)
    return agent


def _installed_dist() -> tuple[str, str]:
    for dist in ("pyautogen", "autogen", "ag2"):
        try:
            return dist, metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    raise AssertionError("no autogen distribution installed")


# ---------------------------------------------------------------------------------------------------------------
# the installed classic autogen


def test_require_autogen_accepts_the_installed_classic_autogen() -> None:
    from agent_ft_cli.classic.compat import autogen_version, require_autogen

    autogen = require_autogen()
    assert hasattr(autogen.ConversableAgent, "register_model_client")
    _, version = _installed_dist()
    assert autogen_version() == version


def test_autogen_is_imported_without_its_graph_drawing_which_still_works_when_called(tmp_path: Path) -> None:
    # AG2's autogen imports matplotlib and networkx (~1 s) only for visualize_speaker_transitions_dict: agent-ft
    # leaves them out of its import, and the function imports them when it is called.
    import importlib.util

    if not all(importlib.util.find_spec(m) for m in ("matplotlib", "networkx")):
        pytest.skip("matplotlib and networkx are not both installed")
    script = textwrap.dedent(
        f"""
        import sys
        from agent_ft_cli.classic.compat import require_autogen
        autogen = require_autogen()
        print("loaded early:", sorted(m for m in ("matplotlib", "networkx") if m in sys.modules))
        import autogen.graph_utils as graph
        a, b = autogen.ConversableAgent("a", llm_config=False), autogen.ConversableAgent("b", llm_config=False)
        graph.visualize_speaker_transitions_dict({{a: [b]}}, [a, b], export_path={str(tmp_path / "g.png")!r})
        import networkx
        print("drawn with", networkx.__name__)
        """
    )
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    if (Path(metadata.distribution(_installed_dist()[0]).locate_file("autogen")) / "import_utils.py").is_file():
        assert "loaded early: []" in done.stdout
    assert "drawn with networkx" in done.stdout
    assert (tmp_path / "g.png").stat().st_size > 0


def _clear_all(assistant: Any, user: Any) -> None:
    run_chat(assistant, user, turns=2)
    assistant.clear_history()
    user.clear_history()
    user.initiate_chat(assistant, message="after clearing everything", max_turns=1, silent=True, clear_history=False)


def _clear_preserving(assistant: Any, user: Any) -> None:
    run_chat(assistant, user, turns=2)
    assistant.clear_history(nr_messages_to_preserve=1)  # reassigns each thread to its tail
    user.initiate_chat(assistant, message="after trimming", max_turns=1, silent=True, clear_history=False)


def _second_chat_clears(assistant: Any, user: Any) -> None:
    run_chat(assistant, user, turns=2)
    user.initiate_chat(assistant, message="a fresh chat", max_turns=1, silent=True)  # clear_history=True


def _initiate_chats_carryover(assistant: Any, user: Any) -> None:
    second = _scripted_assistant("assistant2")
    user.initiate_chats(
        [
            {"recipient": assistant, "message": "first", "max_turns": 1, "summary_method": "last_msg", "silent": True},
            {"recipient": second, "message": "second", "max_turns": 1, "summary_method": "last_msg", "silent": True},
        ]
    )
    carried = user.chat_messages[second][0]["content"]
    assert carried.startswith("second") and "Context" in carried  # the carry-over reached the second chat


def _register_reply_and_hooks(assistant: Any, user: Any) -> None:
    import autogen

    def reply(recipient: Any, messages: Any, sender: Any, config: Any) -> tuple[bool, str]:
        return True, f"hooked reply after {len(messages)} message(s)"

    assistant.register_reply([autogen.Agent, None], reply, position=0)
    assistant.register_hook("process_last_received_message", lambda content: content)
    assistant.register_hook("process_all_messages_before_reply", lambda messages: messages)
    run_chat(assistant, user, turns=2)
    assert user.chat_messages[assistant][-1]["content"].startswith("hooked reply")


def _transform_messages(assistant: Any, user: Any) -> None:
    try:
        from autogen.agentchat.contrib.capabilities import transform_messages, transforms
    except ImportError:  # pragma: no cover - every supported version has it
        pytest.skip("this autogen has no TransformMessages")
    # TransformMessages deep-copies the live thread before every reply.
    capability = transform_messages.TransformMessages(transforms=[transforms.MessageHistoryLimiter(max_messages=2)])
    capability.add_to_agent(assistant)
    run_chat(assistant, user, turns=3)


def _nested_chat(assistant: Any, user: Any) -> None:
    inner = _scripted_assistant("inner")
    assistant.register_nested_chats(
        [{"recipient": inner, "message": "inner question", "max_turns": 1, "summary_method": "last_msg", "silent": True}],
        trigger=user,
    )
    run_chat(assistant, user, turns=1)
    assert assistant.chat_messages[inner]  # the nested chat ran


def _copies_while_recording(assistant: Any, user: Any) -> None:
    run_chat(assistant, user, turns=1)
    thread = assistant.chat_messages[user]
    for clone in (copy.copy(thread), copy.deepcopy(thread), pickle.loads(pickle.dumps(thread)), thread[:]):
        assert clone == thread and type(clone) is list  # detached from the recorder
    for mapping in (copy.copy(assistant.chat_messages), copy.deepcopy(assistant.chat_messages)):
        assert type(mapping) is defaultdict and all(type(v) is list for v in mapping.values())
        assert [list(v) for v in mapping.values()] == [list(v) for v in assistant.chat_messages.values()]
    trimmed = copy.deepcopy(assistant.chat_messages[user])
    trimmed.append({"content": "only in the copy", "role": "user"})  # must not reach the session
    user.initiate_chat(assistant, message="still recording", max_turns=1, silent=True, clear_history=False)


SCENARIOS: dict[str, Callable[[Any, Any], None]] = {
    "clear_history": _clear_all,
    "clear_history_preserve": _clear_preserving,
    "initiate_chat_clears": _second_chat_clears,
    "initiate_chats_carryover": _initiate_chats_carryover,
    "register_reply_and_hooks": _register_reply_and_hooks,
    "transform_messages": _transform_messages,
    "nested_chat": _nested_chat,
    "copies_while_recording": _copies_while_recording,
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_recorder_follows_every_history_change(scenario: str, tmp_path: Path) -> None:
    assistant, user = make_pair(tools=False, max_auto_reply=5)
    path = tmp_path / f"{scenario}.jsonl"
    with SessionRecorder(path, assistant, user):
        SCENARIOS[scenario](assistant, user)
    live = _live(assistant, user)
    assert live, "the scenario produced no history"
    assert _recorded(path) == live
    assert type(assistant.chat_messages) is defaultdict  # handed back as an ordinary mapping


def test_recorder_in_a_group_chat(tmp_path: Path) -> None:
    import autogen

    assistant, user = make_pair(tools=False)
    critic = _scripted_assistant("critic")
    chat = autogen.GroupChat(agents=[user, assistant, critic], messages=[], max_round=4, speaker_selection_method="round_robin")
    manager = autogen.GroupChatManager(chat, llm_config=False)
    path = tmp_path / "group.jsonl"
    with SessionRecorder(path, user, assistant, critic, manager):
        user.initiate_chat(manager, message="Bonjour à tous 👋", silent=True)
    live = _live(user, assistant, critic, manager)
    assert ("assistant", "chat_manager") in live and ("chat_manager", "critic") in live
    assert _recorded(path) == live


def _llm_config_object(entry: dict[str, Any]) -> Any:
    """An ``LLMConfig`` built the way this version wants it (0.9 takes config_list=, 0.10+ takes entries)."""
    import autogen

    cls = getattr(autogen, "LLMConfig", None)
    if cls is None:
        pytest.skip("this autogen has no LLMConfig (pyautogen 0.2 takes dicts only)")
    try:
        return cls(entry)
    except TypeError:
        return cls(config_list=[entry])


def test_llm_config_object_is_recorded_redacted_and_replayed(tmp_path: Path) -> None:
    import autogen
    from clientpkg.clients import CaptureClient, ScriptedClient

    from agent_ft_cli.classic.replay import replay_pair
    from agent_ft_cli.classic.update import update_model

    entry = {"model": "scripted", "model_client_cls": "ScriptedClient", "api_key": "sk-test-OBJECT-SECRET"}
    assistant = autogen.AssistantAgent("assistant", llm_config=_llm_config_object(entry))
    assistant.register_model_client(model_client_cls=ScriptedClient)
    user = autogen.UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    for kind in ("stream", "snapshot"):
        path = tmp_path / f"{kind}.jsonl"
        if kind == "stream":
            with SessionRecorder(path, assistant, user):
                run_chat(assistant, user, turns=1)
        else:
            save_session(path, assistant, user)
        text = path.read_text(encoding="utf-8")
        assert "sk-test-OBJECT-SECRET" not in text
        header = json.loads(text.splitlines()[0])
        llm = header["agents"][0]["llm_config"]
        assert isinstance(llm, dict)
        assert llm["config_list"][0]["model_client_cls"] == "ScriptedClient"
        session = load_session(path)
        pair = replay_pair(session, "assistant", "user", client_cls=CaptureClient)
        result = update_model(pair.agent, [["good", "bad"]], pair.peer)
        assert result["inference_messages"] == session.threads[("assistant", "user")]
        assert result["inference_messages"] == _plain(assistant.chat_messages[user])


class _DictClient:
    """A client whose messages are plain dicts.

    Its responses carry an ``id``: without one, autogen 0.14 does not call ``message_retrieval`` but reads
    ``choice.message.content``/``.tool_calls`` as attributes, and a plain dict message silently becomes "".
    """

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        self.calls = 0

    def create(self, params: dict[str, Any]) -> Any:
        from types import SimpleNamespace

        self.calls += 1
        if self.calls == 1 and params.get("tools"):
            from clientpkg.clients import TOOL_CALL

            message = {"content": None, "role": "assistant", "tool_calls": [dict(TOOL_CALL)]}
        else:
            message = {"content": f"plain dict n°{self.calls}", "role": "assistant"}
        return SimpleNamespace(
            id=f"dict-{self.calls}", choices=[SimpleNamespace(message=message, finish_reason="stop")], model="d", cost=0.0
        )

    def message_retrieval(self, response: Any) -> list[Any]:
        return [c.message for c in response.choices]

    def cost(self, response: Any) -> float:
        return 0.0

    @staticmethod
    def get_usage(response: Any) -> dict[str, Any]:
        return {}

    def update_model(self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        return {"messages": len(inference_messages)}


def test_client_returning_plain_dict_messages_records_tool_calls(tmp_path: Path) -> None:
    assistant, user = make_pair(_DictClient)
    path = tmp_path / "dicts.jsonl"
    with SessionRecorder(path, assistant, user):
        run_chat(assistant, user)
    thread = _recorded(path)[("assistant", "user")]
    assert any(m.get("tool_calls") for m in thread) and any(m.get("tool_responses") for m in thread)
    assert thread == _live(assistant, user)[("assistant", "user")]


# ---------------------------------------------------------------------------------------------------------------
# an autogen that is not the classic API, or none at all

NOT_CLASSIC = {
    # pyautogen 0.10 and later point at the new AgentChat API; a leftover or namespace 'autogen' has no agents.
    "no_conversable_agent": '__version__ = "0.10.0"\n',
    # a ConversableAgent of another framework, without custom model clients
    "no_register_model_client": '__version__ = "1.0.0"\n\nclass ConversableAgent:\n    pass\n',
}

# Runs the CLI with 'import autogen' failing and, unless AGENT_FT_TEST_KEEP_DIST is set, no autogen distribution.
MISSING_AUTOGEN = textwrap.dedent(
    """
    import importlib.abc, importlib.metadata as md, os, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "autogen" or name.startswith("autogen."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Block())
    if not os.environ.get("AGENT_FT_TEST_KEEP_DIST"):
        real = md.version
        def version(dist):
            if dist in ("pyautogen", "autogen", "ag2"):
                raise md.PackageNotFoundError(dist)
            return real(dist)
        md.version = version
    from agent_ft_cli.cli import run
    run()
    """
)


@pytest.fixture(scope="module")
def saved_session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A session saved with the real autogen, and a preference file, for the subprocesses below."""
    folder = tmp_path_factory.mktemp("compat")
    sys.path.insert(0, str(ASSETS))
    try:
        assistant, user = make_pair(tools=False)
        run_chat(assistant, user, turns=1)
        path = save_session(folder / "chat.jsonl", assistant, user)
    finally:
        sys.path.remove(str(ASSETS))
    prefs = folder / "prefs.json"
    prefs.write_text(json.dumps([["good", "bad"]]), encoding="utf-8")
    return path, prefs


def _env(*front: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in front), str(ASSETS), env.get("PYTHONPATH", "")])
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "80"  # a narrow terminal must not wrap the error line
    env.pop("AGENT_FT_DEBUG", None)
    return env


def _assert_one_error_line(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == EXIT_CLIENT_LOAD, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "AttributeError" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    assert "pip install 'pyautogen>=0.2.20,<0.10'" in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert proc.stdout == ""
    return lines[0]


def _cli(args: list[str], env: dict[str, str], cwd: Path, *, boot: str | None = None) -> subprocess.CompletedProcess[str]:
    head = [sys.executable, "-c", boot] if boot else [sys.executable, "-m", "agent_ft_cli"]
    return subprocess.run([*head, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def _update_args(saved: tuple[Path, Path]) -> list[str]:
    path, prefs = saved
    return ["update", "--session", str(path), "--prefs", str(prefs), "--client", "clientpkg.clients:CaptureClient"]


@pytest.mark.parametrize("variant", list(NOT_CLASSIC))
def test_update_with_a_non_classic_autogen_is_one_clear_error(
    variant: str, saved_session: tuple[Path, Path], tmp_path: Path
) -> None:
    fake = tmp_path / "fake"
    (fake / "autogen").mkdir(parents=True)
    (fake / "autogen" / "__init__.py").write_text(NOT_CLASSIC[variant], encoding="utf-8")
    proc = _cli(_update_args(saved_session), _env(fake), tmp_path)
    line = _assert_one_error_line(proc, "is not the classic autogen API", "register_model_client")
    assert str(fake / "autogen") in line  # names what 'import autogen' picked up


def test_record_and_validate_with_a_non_classic_autogen(saved_session: tuple[Path, Path], tmp_path: Path) -> None:
    from conftest import REPO

    fake = tmp_path / "fake"
    (fake / "autogen").mkdir(parents=True)
    (fake / "autogen" / "__init__.py").write_text(NOT_CLASSIC["no_conversable_agent"], encoding="utf-8")
    env = _env(fake)
    config = str(REPO / "configs" / "local.yaml")
    proc = _cli(["record", "--config", config, "--message", "hi", "--out", str(tmp_path / "x.jsonl")], env, tmp_path)
    _assert_one_error_line(proc, "is not the classic autogen API")
    assert not (tmp_path / "x.jsonl").exists()
    path, _ = saved_session
    proc = _cli(
        ["validate", "--session", str(path), "--client", "clientpkg.clients:CaptureClient", "--json"], env, tmp_path
    )
    assert proc.returncode == EXIT_CLIENT_LOAD, proc.stderr
    checks = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
    assert checks["client"]["ok"] and not checks["autogen"]["ok"]
    assert "pip install 'pyautogen" in checks["autogen"]["detail"]
    # inspect never needs autogen
    proc = _cli(["inspect", "--session", str(path), "--json"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_update_without_autogen_is_one_clear_error(saved_session: tuple[Path, Path], tmp_path: Path) -> None:
    proc = _cli(_update_args(saved_session), _env(), tmp_path, boot=MISSING_AUTOGEN)
    _assert_one_error_line(proc, "autogen is not installed")


def test_update_when_the_distribution_has_no_autogen_module(saved_session: tuple[Path, Path], tmp_path: Path) -> None:
    """pyautogen 0.10 (a shim for autogen-agentchat) and ag2 1.x install no 'autogen' module at all."""
    env = _env()
    env["AGENT_FT_TEST_KEEP_DIST"] = "1"
    proc = _cli(_update_args(saved_session), env, tmp_path, boot=MISSING_AUTOGEN)
    dist, version = _installed_dist()
    _assert_one_error_line(proc, f"{dist} {version} is installed but 'import autogen' fails")


def test_library_import_needs_no_autogen_and_fails_clearly_when_used(tmp_path: Path) -> None:
    code = MISSING_AUTOGEN.replace(
        "from agent_ft_cli.cli import run\nrun()",
        textwrap.dedent(
            """
            from agent_ft_cli import UpdateableModelClient, update_model, load_session
            from agent_ft_cli.errors import AutogenUnavailableError
            from agent_ft_cli.classic.compat import require_autogen
            try:
                require_autogen()
            except AutogenUnavailableError as e:
                print("OK", e.exit_code, e)
            """
        ),
    )
    assert "require_autogen()" in code
    proc = subprocess.run([sys.executable, "-c", code], env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"OK {EXIT_CLIENT_LOAD} autogen is not installed"), proc.stdout


def test_update_subprocess_with_the_real_autogen_keeps_stderr_quiet(
    saved_session: tuple[Path, Path], tmp_path: Path
) -> None:
    """Nothing autogen prints on import or while replaying (flaml's warning on 0.2, client INFO logs) leaks out."""
    proc = _cli([*_update_args(saved_session), "--json"], _env(), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert set(json.loads(proc.stdout)) == {"update_stats", "inference_messages", "preference_data"}


# How each version writes the assistant's config entry into the session header (0.9+ normalise it).
RECORDED_ENTRIES = {
    "pyautogen-0.2": {"model": "scripted", "model_client_cls": "ScriptedClient", "api_key": "<redacted>"},
    "pyautogen-0.9": {"api_type": "openai", "model": "scripted", "api_key": "<redacted>",
                      "model_client_cls": "ScriptedClient", "tags": []},
    "autogen-0.14": {"api_type": "openai", "model": "scripted", "api_key": "<redacted>",
                     "model_client_cls": "ScriptedClient", "tags": [], "stream": False},
}


@pytest.mark.parametrize("recorded_by", list(RECORDED_ENTRIES))
def test_a_session_recorded_on_any_version_replays_here(recorded_by: str, tmp_path: Path) -> None:
    from clientpkg.clients import CaptureClient

    from agent_ft_cli.classic.replay import replay_pair
    from agent_ft_cli.classic.update import update_model

    assistant, user = make_pair(tools=False)
    run_chat(assistant, user, turns=2)
    path = save_session(tmp_path / "chat.jsonl", assistant, user)
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    header["agents"][0]["llm_config"] = {"config_list": [RECORDED_ENTRIES[recorded_by]]}
    path.write_text("\n".join([json.dumps(header, ensure_ascii=False), *lines[1:]]) + "\n", encoding="utf-8")

    session = load_session(path)
    pair = replay_pair(session, "assistant", "user", client_cls=CaptureClient)
    assert type(pair.agent).__name__ == "AssistantAgent"  # built as recorded, no fallback
    assert [type(c).__name__ for c in pair.agent.client._clients] == ["CaptureClient"]
    result = update_model(pair.agent, [], pair.peer)
    assert result["inference_messages"] == _plain(assistant.chat_messages[user])
