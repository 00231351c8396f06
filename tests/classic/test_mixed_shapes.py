"""Issue #9 item 1's neighbours: sequential chats (``initiate_chats`` with carry-over), a nested chat, a classic group
chat with an unrecorded manager and, on AG2's lines, a pattern group chat whose handoff is a tool returning a
``ReplyResult``, all in one recording. Recorded while they run or afterwards, the file holds exactly the live threads
(no thread listed twice, none lost behind another: the fast ``thread_keys`` once lost the later ones), and every
command works on every thread through the CLI, on every autogen line.
"""

from __future__ import annotations

import json
import warnings
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent_ft_cli import SessionRecorder, load_session, save_session
from agent_ft_cli.cli import app
from agent_ft_cli.errors import SessionWarning
from agent_ft_cli.session import thread_keys

LOCAL = "agent_ft_cli.clients.local:LocalLearningClient"


def _has_patterns() -> bool:
    try:
        return find_spec("autogen.agentchat.group.patterns") is not None
    except ModuleNotFoundError:  # pyautogen 0.2: no autogen.agentchat.group package
        return False


def _agent(name: str, client: str = "TurnClient", **kwargs: Any) -> Any:
    import autogen
    from clientpkg import clients

    config = {"config_list": [{"model": name, "model_client_cls": client}]}
    agent = autogen.ConversableAgent(name, llm_config=config, human_input_mode="NEVER", **kwargs)
    agent.register_model_client(model_client_cls=getattr(clients, client))
    return agent


def _live(*agents: Any) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The agents' non-empty histories keyed (agent, peer id): a peer id names one object in the whole file, so a
    second object with a taken name (the pattern's own chat_manager after the classic one) is ``name#2``."""
    ids: dict[int, str] = {id(a): a.name for a in agents}
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for a in agents:
        for peer, msgs in a.chat_messages.items():
            if id(peer) not in ids:
                taken = sum(1 for pid in ids.values() if pid.split("#")[0] == peer.name)
                ids[id(peer)] = f"{peer.name}#{taken + 1}" if taken else peer.name
            if len(msgs):
                out[(a.name, ids[id(peer)])] = json.loads(json.dumps(list(msgs), ensure_ascii=False))
    return out


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output)
    return result


def _chats(user: Any, alice: Any, bob: Any, carol: Any, dave: Any) -> None:
    """Every shape, one after the other, as one script would run them."""
    import autogen

    user.initiate_chats(
        [
            {"recipient": bob, "message": "seq one", "max_turns": 1, "summary_method": "last_msg"},
            {"recipient": carol, "message": "seq two", "max_turns": 1, "summary_method": "last_msg"},
        ]
    )
    alice.register_nested_chats([{"recipient": dave, "max_turns": 1, "summary_method": "last_msg"}], trigger=user)
    user.initiate_chat(alice, message="nested please", max_turns=1, silent=True)
    group = autogen.GroupChat([alice, dave], messages=[], max_round=3, speaker_selection_method="round_robin")
    user.initiate_chat(autogen.GroupChatManager(group, llm_config=False), message="classic group", silent=True)
    if _has_patterns():
        from autogen.agentchat import initiate_group_chat
        from autogen.agentchat.group import TerminateTarget
        from autogen.agentchat.group.patterns import DefaultPattern

        bob.handoffs.set_after_work(TerminateTarget())
        initiate_group_chat(
            pattern=DefaultPattern(initial_agent=carol, agents=[carol, bob]), messages="handoff go", max_rounds=6
        )


def _agents() -> list[Any]:
    import autogen

    user = autogen.UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, max_consecutive_auto_reply=1)
    alice, bob, dave = _agent("alice"), _agent("bob"), _agent("dave")
    if not _has_patterns():
        return [user, alice, bob, _agent("carol"), dave]
    from autogen.agentchat.group import AgentTarget, ReplyResult

    def transfer_to_bob() -> ReplyResult:
        """Hand the task to bob."""  # no context_variables: AG2 re-registers such a tool and drops the custom client
        return ReplyResult(message="routed to bob", target=AgentTarget(bob))

    transfer_to_bob.__annotations__["return"] = ReplyResult  # resolved by autogen in its own namespace otherwise
    carol = _agent("carol", "HandoffTurnClient", functions=[transfer_to_bob])
    return [user, alice, bob, carol, dave]


@pytest.fixture(params=["recorder", "save_session"])
def mixed(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[tuple[str, str], list[dict[str, Any]]]]:
    agents = _agents()
    path = tmp_path / "mixed.jsonl"
    with warnings.catch_warnings():  # the second chat_manager is announced (tested in test_recording_truth)
        warnings.simplefilter("ignore", SessionWarning)
        if request.param == "recorder":
            with SessionRecorder(path, *agents):
                _chats(*agents)
        else:
            _chats(*agents)
            save_session(path, *agents)
    return path, _live(*agents)


def test_every_shape_in_one_file_is_the_live_truth(mixed: tuple[Path, dict[tuple[str, str], list[dict[str, Any]]]]) -> None:
    path, live = mixed
    assert {k: v for k, v in load_session(path).threads.items() if v} == live
    keys = thread_keys(path)
    assert len(keys) == len(set(keys)) and set(keys) == set(live)
    expected = {("user", "bob"), ("user", "carol"), ("user", "alice"), ("alice", "dave"), ("dave", "alice")}
    expected |= {("user", "chat_manager"), ("alice", "chat_manager"), ("dave", "chat_manager")}
    assert expected <= set(live)
    if _has_patterns():  # the pattern's manager is another object named chat_manager: kept apart
        assert {("carol", "chat_manager#2"), ("bob", "chat_manager#2")} <= set(live)
        handoff = [m for m in live[("carol", "chat_manager#2")] if m.get("tool_calls")]
        assert [c["function"]["name"] for m in handoff for c in m["tool_calls"]] == ["transfer_to_bob"]
        assert [m.get("content") for m in live[("bob", "chat_manager#2")]][-2:] == ["routed to bob", "bob turn 2 (re routed to bob)"]


def test_every_command_works_on_every_thread(
    mixed: tuple[Path, dict[tuple[str, str], list[dict[str, Any]]]], tmp_path: Path
) -> None:
    path, live = mixed
    tied = []
    for (agent, peer), thread in live.items():
        where = ("-s", str(path), "-a", agent, "-p", peer)
        shown = json.loads(_cli("inspect", *where, "--json").stdout)
        assert shown["messages"] == thread, (agent, peer)
        _cli("validate", *where, "--client", LOCAL)
        asked = [i for i, m in enumerate(thread) if m.get("role") == "user"]
        answers = [
            m["content"]
            for i, m in enumerate(thread)
            if m.get("role") == "assistant" and isinstance(m.get("content"), str) and asked and asked[0] < i
        ]
        if not answers:  # e.g. the user proxy's side: its only "answer" opens the chat, no question before it
            continue
        tied.append((agent, peer))
        prefs = tmp_path / f"{agent}-{peer}.json"
        prefs.write_text(json.dumps([["a better answer", answers[-1]]]))
        updated = json.loads(_cli("update", *where, "--prefs", str(prefs), "--client", LOCAL, "--json").stdout)
        assert updated["inference_messages"] == thread
        out = tmp_path / "rows.jsonl"
        _cli("export", *where, "--prefs", str(prefs), "-f", "trl-preference", "-o", str(out), "-q")
        (row,) = [json.loads(line) for line in out.read_text().splitlines()]
        assert (row["chosen"][0]["content"], row["rejected"][0]["content"]) == ("a better answer", answers[-1])
        last = max(i for i, m in enumerate(thread) if m.get("content") == answers[-1] and m.get("role") == "assistant")
        assert len(row["prompt"]) - 1 == last  # the whole conversation before that answer (after the system message)
        _cli("export", *where, "-f", "openai-sft", "-o", str(out), "-q")
        (row,) = [json.loads(line) for line in out.read_text().splitlines()]
        assert [m.get("content") for m in row["messages"] if m["role"] == "assistant"][-1] in answers
    members = {("bob", "user"), ("alice", "user"), ("dave", "alice"), ("alice", "chat_manager"), ("dave", "chat_manager")}
    members |= {("bob", "chat_manager#2")} if _has_patterns() else {("carol", "user")}  # carol hands off: a tool call
    assert members <= set(tied)
