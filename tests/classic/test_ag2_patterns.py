"""Issue #9 item 1 on AG2's pattern group chats, run live: ``initiate_group_chat`` makes the ``GroupChatManager``
itself, so a recording holds threads whose peer has no definition in the header. Recorded while the chat runs
(``SessionRecorder`` on the participants) or afterwards (``save_session``), the file must hold exactly what the agents
held live, and every command must work on it through the CLI.

The agents answer through a test client registered with ``register_model_client`` (no network). The patterns that
need no LLM to pick the next speaker run here: ``RoundRobinPattern`` and ``DefaultPattern`` with handoffs (after-work
targets, and a tool that returns a ``ReplyResult``). ``AutoPattern`` cannot run without a real LLM: its manager picks
each speaker through an internal agent built from the manager's ``llm_config``, in a ``GroupChat`` the pattern makes
itself, so a custom model client can never be registered on it (autogen raises "Model client(s) [...] are not
activated"). pyautogen 0.2 has no pattern group chats: skipped there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent_ft_cli import SessionRecorder, load_session, save_session
from agent_ft_cli.cli import app
from agent_ft_cli.errors import SessionWarning
from agent_ft_cli.session import choose_pair, read_header, thread_keys

LOCAL = "agent_ft_cli.clients.local:LocalLearningClient"
FORMATS = ["trl-preference", "trl-sft", "trl-kto", "openai-sft", "openai-dpo"]


@pytest.fixture(autouse=True)
def _ag2() -> None:
    pytest.importorskip(
        "autogen.agentchat.group.patterns", reason="this autogen has no pattern group chats (pyautogen 0.2: AG2 0.9+ only)"
    )


def _agent(name: str, client: str = "TurnClient", **kwargs: Any) -> Any:
    import autogen
    from clientpkg import clients

    config = {"config_list": [{"model": name, "model_client_cls": client}]}
    agent = autogen.ConversableAgent(name, llm_config=config, human_input_mode="NEVER", **kwargs)
    agent.register_model_client(model_client_cls=getattr(clients, client))
    return agent


def _plain(messages: Any) -> Any:
    return json.loads(json.dumps(list(messages), ensure_ascii=False))


def _live(*agents: Any) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every non-empty history the agents hold, keyed (agent, peer name), as after a JSON round trip."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for a in agents:
        for peer, msgs in a.chat_messages.items():
            if len(msgs):
                key = (a.name, peer.name)
                assert key not in out, f"two live peers named {peer.name!r}: the test must look at them apart"
                out[key] = _plain(msgs)
    return out


def _recorded(path: Path) -> dict[tuple[str, str], list[dict[str, Any]]]:
    return {k: v for k, v in load_session(path).threads.items() if v}


def _contents(messages: list[dict[str, Any]]) -> list[Any]:
    return [m.get("content") for m in messages]


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def _ok(*args: str) -> Any:
    result = _cli(*args)
    assert result.exit_code == 0, (args, result.output)
    return result


def _run_pattern(kind: str, agents: list[Any], message: str = "start") -> Any:
    from autogen.agentchat import initiate_group_chat
    from autogen.agentchat.group import AgentTarget, TerminateTarget
    from autogen.agentchat.group.patterns import DefaultPattern, RoundRobinPattern

    alice, bob, carol = agents
    if kind == "round_robin":
        pattern: Any = RoundRobinPattern(initial_agent=alice, agents=[alice, bob, carol])
        rounds = 7
    else:  # handoffs: each agent names who speaks after it, the last one ends the chat
        alice.handoffs.set_after_work(AgentTarget(carol))
        carol.handoffs.set_after_work(AgentTarget(bob))
        bob.handoffs.set_after_work(TerminateTarget())
        pattern = DefaultPattern(initial_agent=alice, agents=[alice, bob, carol])
        rounds = 10
    result, _context, _last = initiate_group_chat(pattern=pattern, messages=message, max_rounds=rounds)
    return result


# the group transcript each pattern gives: every answer names its speaker, turn and the message it answered
TRANSCRIPTS = {
    "round_robin": [
        "start",
        "alice turn 1 (re start)",
        "bob turn 1 (re alice turn 1)",
        "carol turn 1 (re bob turn 1)",
        "alice turn 2 (re carol turn 1)",
        "bob turn 2 (re alice turn 2)",
        "carol turn 2 (re bob turn 2)",
    ],
    "handoffs": ["start", "alice turn 1 (re start)", "carol turn 1 (re alice turn 1)", "bob turn 1 (re carol turn 1)"],
}


@dataclass
class Recorded:
    kind: str
    how: str
    path: Path
    agents: list[Any]
    result: Any
    live: dict[tuple[str, str], list[dict[str, Any]]]


@pytest.fixture(params=[(k, h) for k in TRANSCRIPTS for h in ("recorder", "save_session")], ids=lambda p: "-".join(p))
def recorded(request: pytest.FixtureRequest, tmp_path: Path) -> Recorded:
    kind, how = request.param
    agents = [_agent("alice"), _agent("bob"), _agent("carol")]
    path = tmp_path / f"{kind}.jsonl"
    if how == "recorder":
        with SessionRecorder(path, *agents):
            result = _run_pattern(kind, agents)
    else:
        result = _run_pattern(kind, agents)
        save_session(path, *agents)
    return Recorded(kind, how, path, agents, result, _live(*agents))


# ---------------------------------------------------------------------------------------------------------------
# the data: exactly the live threads


def test_the_file_holds_exactly_the_live_threads(recorded: Recorded) -> None:
    names = ["alice", "bob", "carol"]
    managers = {id(peer): peer for a in recorded.agents for peer in a.chat_messages}
    assert len(managers) == 1 and type(next(iter(managers.values()))).__name__ == "GroupChatManager"
    assert sorted(recorded.live) == [(n, "chat_manager") for n in names]
    assert _recorded(recorded.path) == recorded.live  # nothing merged, duplicated, reordered or dropped
    assert sorted(thread_keys(recorded.path)) == sorted(recorded.live)
    transcript = TRANSCRIPTS[recorded.kind]
    assert _contents(recorded.result.chat_history) == transcript
    for name in names:  # every member holds the whole group transcript, its own turns as the assistant's
        thread = recorded.live[(name, "chat_manager")]
        assert _contents(thread) == transcript
        assert [m["role"] for m in thread[1:]] == ["assistant" if m["name"] == name else "user" for m in thread[1:]]
    header, _ = read_header(recorded.path)
    assert [a["name"] for a in header["agents"]] == names  # the manager was never recorded: no definition


def test_the_live_chat_is_the_same_with_or_without_the_recorder(recorded: Recorded, tmp_path: Path) -> None:
    agents = [_agent("alice"), _agent("bob"), _agent("carol")]
    _run_pattern(recorded.kind, agents)
    assert _live(*agents) == recorded.live


# ---------------------------------------------------------------------------------------------------------------
# every command, through the CLI


def test_inspect_and_validate_work_on_every_thread(recorded: Recorded) -> None:
    for name in ("alice", "bob", "carol"):
        shown = json.loads(_ok("inspect", "-s", str(recorded.path), "--agent", name, "--json").stdout)
        assert (shown["agent"], shown["peer"]) == (name, "chat_manager")  # only its real thread is offered
        assert shown["messages"] == recorded.live[(name, "chat_manager")]
        explicit = json.loads(_ok("inspect", "-s", str(recorded.path), "-a", name, "-p", "chat_manager", "--json").stdout)
        assert explicit == shown
        checked = _ok("validate", "-s", str(recorded.path), "--agent", name, "--trust-session-client")
        assert f"update '{name}' from its thread with 'chat_manager'" in checked.stdout
        assert "clientpkg.clients:TurnClient" in checked.stdout
    header, _ = read_header(recorded.path)
    assert choose_pair(header, "bob", path=recorded.path) == ("bob", "chat_manager")
    listed = _cli("inspect", "-s", str(recorded.path), "--json")  # three agents have a client: their threads listed
    assert listed.exit_code == 0 and "several agents have a model client" in listed.stderr
    offered = {(t["agent"], t["peer"]) for t in json.loads(listed.stdout)["threads"]}
    assert offered == {k for k in recorded.live if k[0] in ("alice", "bob", "carol")}


def test_update_replays_the_thread_with_a_stand_in_manager(recorded: Recorded, tmp_path: Path) -> None:
    thread = recorded.live[("alice", "chat_manager")]
    rejected = "alice turn 2 (re carol turn 1)" if recorded.kind == "round_robin" else "alice turn 1 (re start)"
    prefs = tmp_path / "prefs.json"
    prefs.write_text(json.dumps([["alice knows better", rejected]]))
    local = json.loads(
        _ok("update", "-s", str(recorded.path), "--agent", "alice", "--prefs", str(prefs), "--client", LOCAL, "--json").stdout
    )
    assert local["inference_messages"] == thread
    question = _contents(thread)[_contents(thread).index(rejected) - 1]  # carol's turn, or the opening message
    assert local["update_stats"]["learned"] == 1
    assert local["update_stats"]["learned_answers"] == [{"question": question, "answer": "alice knows better"}]
    recorded_client = json.loads(
        _ok("update", "-s", str(recorded.path), "-a", "bob", "--prefs", str(prefs), "--trust-session-client", "--json").stdout
    )
    assert recorded_client["update_stats"] == {"pairs": 1, "messages": len(recorded.live[("bob", "chat_manager")])}
    assert recorded_client["inference_messages"] == recorded.live[("bob", "chat_manager")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_in_every_format_ties_the_pair_to_its_question(recorded: Recorded, tmp_path: Path, fmt: str) -> None:
    thread = recorded.live[("alice", "chat_manager")]
    contents = _contents(thread)
    rejected = "alice turn 2 (re carol turn 1)" if recorded.kind == "round_robin" else "alice turn 1 (re start)"
    before = contents[: contents.index(rejected)]  # the conversation up to the answer the pair replaces
    prefs = tmp_path / "prefs.json"
    prefs.write_text(json.dumps([["alice knows better", rejected]]))
    out = tmp_path / f"{fmt}.jsonl"
    _ok("export", "-s", str(recorded.path), "--agent", "alice", "--prefs", str(prefs), "-f", fmt, "-o", str(out), "-q")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    if fmt in ("trl-sft", "openai-sft"):
        assert len(rows) == 1
        assert _contents(rows[0]["messages"][1:]) == [*before, "alice knows better"]
        if fmt == "openai-sft":  # the speakers stay named: bob's and carol's turns are not one user turn
            assert [m.get("name") for m in rows[0]["messages"][1:-1]] == [m.get("name") for m in thread[: len(before)]]
        return
    prompt_key, sides = {
        "trl-preference": ("prompt", ("chosen", "rejected")),
        "openai-dpo": ("input", ("preferred_output", "non_preferred_output")),
        "trl-kto": ("prompt", ("completion", "completion")),
    }[fmt]
    expected_sides = ["alice knows better", rejected]
    assert len(rows) == (2 if fmt == "trl-kto" else 1)
    for row in rows:
        prompt = row[prompt_key]["messages"] if fmt == "openai-dpo" else row[prompt_key]
        assert _contents(prompt[1:]) == before
    if fmt == "trl-kto":
        assert [(r["completion"][0]["content"], r["label"]) for r in rows] == [(expected_sides[0], True), (rejected, False)]
    else:
        assert [rows[0][side][0]["content"] for side in sides] == expected_sides


# ---------------------------------------------------------------------------------------------------------------
# two pattern chats in one recording: two managers, both named chat_manager


@pytest.mark.parametrize("how", ["recorder", "save_session"])
def test_two_pattern_chats_keep_their_managers_apart(tmp_path: Path, how: str) -> None:
    agents = [_agent("alice"), _agent("bob"), _agent("carol")]
    path = tmp_path / "two.jsonl"
    with pytest.warns(SessionWarning, match="chat_manager#2"):
        if how == "recorder":
            with SessionRecorder(path, *agents):
                _run_pattern("round_robin", agents)
                _run_pattern("handoffs", agents, message="again")
        else:
            _run_pattern("round_robin", agents)
            _run_pattern("handoffs", agents, message="again")
            save_session(path, *agents)
    threads = _recorded(path)
    for agent in agents:
        first, second = (list(agent.chat_messages.values())[i] for i in (0, 1))
        assert threads[(agent.name, "chat_manager")] == _plain(first)
        assert threads[(agent.name, "chat_manager#2")] == _plain(second)
    assert _contents(threads[("alice", "chat_manager")]) == TRANSCRIPTS["round_robin"]
    second_run = ["again", "alice turn 3 (re again)", "carol turn 3 (re alice turn 3)", "bob turn 3 (re carol turn 3)"]
    assert _contents(threads[("alice", "chat_manager#2")]) == second_run
    assert len(threads) == 6
    offered = _cli("inspect", "-s", str(path), "--agent", "alice", "--json")  # alice's two threads, listed
    assert offered.exit_code == 0 and offered.stderr.rstrip().split("; listing")[0].endswith("choices: chat_manager, chat_manager#2")
    assert [t["peer"] for t in json.loads(offered.stdout)["threads"]] == ["chat_manager", "chat_manager#2"]
    second = json.loads(_ok("inspect", "-s", str(path), "-a", "alice", "-p", "chat_manager#2", "--json").stdout)
    assert second["messages"] == threads[("alice", "chat_manager#2")]
    prefs = tmp_path / "prefs.json"
    prefs.write_text(json.dumps([["alice knows better", "alice turn 3 (re again)"]]))
    where = ("-s", str(path), "-a", "alice", "-p", "chat_manager#2", "--prefs", str(prefs), "--json")
    updated = json.loads(_ok("update", *where, "--client", LOCAL).stdout)  # a stand-in peer named chat_manager#2
    assert updated["inference_messages"] == threads[("alice", "chat_manager#2")]
    assert updated["update_stats"]["learned_answers"] == [{"question": "again", "answer": "alice knows better"}]
    out = tmp_path / "sft.jsonl"
    _ok("export", "-s", str(path), "-a", "carol", "-p", "chat_manager#2", "-f", "trl-sft", "-o", str(out), "-q")
    assert _contents(json.loads(out.read_text())["messages"][1:]) == second_run[:3]


def test_save_session_with_the_manager_reached_through_chat_messages(tmp_path: Path) -> None:
    """The manager is internal, but a member's ``chat_messages`` holds it: recording it too gives its definition and
    its own threads, each with the member it talked to (the temporary ``_User`` included)."""
    agents = [_agent("alice"), _agent("bob"), _agent("carol")]
    _run_pattern("round_robin", agents)
    (manager,) = agents[0].chat_messages
    path = tmp_path / "with-manager.jsonl"
    save_session(path, *agents, manager)
    live = _live(*agents, manager)
    assert _recorded(path) == live
    assert {("chat_manager", n) for n in ("alice", "bob", "carol", "_User")} <= set(live)
    shown = json.loads(_ok("inspect", "-s", str(path), "-a", "chat_manager", "-p", "_User", "--json").stdout)
    assert shown["messages"] == live[("chat_manager", "_User")]
    _ok("validate", "-s", str(path), "-a", "alice", "-p", "chat_manager", "--client", LOCAL)


# ---------------------------------------------------------------------------------------------------------------
# the other ways to run a pattern: async, and (AG2 0.10+) in a background thread


def test_a_initiate_group_chat_under_an_async_recorder(tmp_path: Path) -> None:
    import asyncio

    from autogen.agentchat import a_initiate_group_chat
    from autogen.agentchat.group.patterns import RoundRobinPattern

    agents = [_agent("alice"), _agent("bob"), _agent("carol")]
    path = tmp_path / "async.jsonl"

    async def run() -> None:
        async with SessionRecorder(path, *agents):
            pattern = RoundRobinPattern(initial_agent=agents[0], agents=agents)
            await a_initiate_group_chat(pattern=pattern, messages="start", max_rounds=7)

    asyncio.run(run())
    live = _live(*agents)
    assert _contents(live[("alice", "chat_manager")]) == TRANSCRIPTS["round_robin"]
    assert _recorded(path) == live
    _ok("inspect", "-s", str(path), "--agent", "carol", "--json")


def test_run_group_chat_in_its_background_thread(tmp_path: Path) -> None:
    from autogen import agentchat
    from autogen.agentchat.group.patterns import RoundRobinPattern

    if not hasattr(agentchat, "run_group_chat"):
        pytest.skip("this autogen has no run_group_chat (AG2 0.9 has initiate_group_chat only)")
    agents = [_agent("alice"), _agent("bob"), _agent("carol")]
    path = tmp_path / "run.jsonl"
    with SessionRecorder(path, *agents):
        response = agentchat.run_group_chat(
            pattern=RoundRobinPattern(initial_agent=agents[0], agents=agents), messages="start", max_rounds=7
        )
        response.process()  # waits for the chat's thread, printing its events
    live = _live(*agents)
    assert _contents(live[("bob", "chat_manager")]) == TRANSCRIPTS["round_robin"]
    assert _recorded(path) == live
    shown = json.loads(_ok("inspect", "-s", str(path), "--agent", "bob", "--json").stdout)
    assert shown["messages"] == live[("bob", "chat_manager")]


def test_resuming_a_pattern_chat_keeps_what_autogen_clears(tmp_path: Path) -> None:
    """``initiate_group_chat`` with several messages resumes: autogen clears every member's whole history first (the
    earlier two-agent chat included). The file holds the threads as the agents hold them after, and the cleared
    conversation stays readable."""
    import autogen
    from autogen.agentchat import initiate_group_chat
    from autogen.agentchat.group.patterns import RoundRobinPattern

    user = autogen.UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    agents = [_agent("alice"), _agent("bob"), _agent("carol")]
    path = tmp_path / "resume.jsonl"
    earlier = [
        {"role": "user", "content": "earlier question", "name": "user"},
        {"role": "assistant", "content": "earlier answer", "name": "alice"},
        {"role": "user", "content": "go on", "name": "user"},
    ]
    with SessionRecorder(path, user, *agents):
        user.initiate_chat(agents[0], message="before", max_turns=1, silent=True)
        pattern = RoundRobinPattern(initial_agent=agents[0], agents=agents, user_agent=user)
        initiate_group_chat(pattern=pattern, messages=earlier, max_rounds=4)
    live = _live(user, *agents)
    assert _recorded(path) == live
    assert _contents(live[("bob", "chat_manager")])[:3] == ["earlier question", "earlier answer", "go on"]
    session = load_session(path)
    assert session.threads[("alice", "user")] == [] and not agents[0].chat_messages[user]
    assert [_contents(c) for c in session.conversations("alice", "user")] == [["before", "alice turn 1 (re before)"]]
    cleared = json.loads(_ok("inspect", "-s", str(path), "-a", "alice", "-p", "user", "--conversation", "1", "--json").stdout)
    assert _contents(cleared["messages"]) == ["before", "alice turn 1 (re before)"]
    shown = json.loads(_ok("inspect", "-s", str(path), "-a", "bob", "--json").stdout)
    assert shown["messages"] == live[("bob", "chat_manager")]


def test_random_pattern_threads_are_the_live_truth(tmp_path: Path) -> None:
    from autogen.agentchat import initiate_group_chat
    from autogen.agentchat.group.patterns import RandomPattern

    agents = [_agent("alice"), _agent("bob"), _agent("carol")]
    path = tmp_path / "random.jsonl"
    with SessionRecorder(path, *agents):
        result, _, _ = initiate_group_chat(
            pattern=RandomPattern(initial_agent=agents[0], agents=agents), messages="start", max_rounds=8
        )
    live = _live(*agents)
    assert _recorded(path) == live
    for agent in agents:  # whatever order the speakers came in, each member holds the whole transcript
        assert _contents(live[(agent.name, "chat_manager")]) == _contents(result.chat_history)
        assert json.loads(_ok("inspect", "-s", str(path), "-a", agent.name, "--json").stdout)["peer"] == "chat_manager"


def test_a_context_handoff_to_a_nested_chat_records_the_wrapped_agents_thread(tmp_path: Path) -> None:
    """An ``OnContextCondition`` (no LLM) hands alice's turn to a ``NestedChatTarget``: autogen wraps the nested chat
    in an internal agent, which becomes dave's peer: a thread with no definition in the header, one conversation per
    nested chat (each starts with a cleared history)."""
    from autogen.agentchat import initiate_group_chat
    from autogen.agentchat.group import (
        ContextExpression,
        ContextVariables,
        ExpressionContextCondition,
        NestedChatTarget,
        OnContextCondition,
    )
    from autogen.agentchat.group.patterns import DefaultPattern

    alice, bob, carol, dave = (_agent(n) for n in ("alice", "bob", "carol", "dave"))
    nested = {"chat_queue": [{"recipient": dave, "message": "nested from alice", "max_turns": 1, "summary_method": "last_msg"}]}
    condition = ExpressionContextCondition(ContextExpression("${go} == True"))
    alice.handoffs.add_context_condition(OnContextCondition(target=NestedChatTarget(nested_chat_config=nested), condition=condition))
    pattern = DefaultPattern(initial_agent=alice, agents=[alice, bob, carol], context_variables=ContextVariables(data={"go": True}))
    path = tmp_path / "nested.jsonl"
    with SessionRecorder(path, alice, bob, carol, dave):
        initiate_group_chat(pattern=pattern, messages="start", max_rounds=6)
    live = _live(alice, bob, carol, dave)
    assert _recorded(path) == live
    ((peer, thread),) = [(p, t) for (a, p), t in live.items() if a == "dave"]
    assert peer.startswith("wrapped_nested_alice")
    assert _contents(thread) == ["nested from alice", "dave turn 2 (re nested from alice)"]
    conversations = load_session(path).conversations("dave", peer)
    assert [_contents(c)[1] for c in conversations] == ["dave turn 1 (re nested from alice)", "dave turn 2 (re nested from alice)"]
    shown = json.loads(_ok("inspect", "-s", str(path), "-a", "dave", "--conversation", "1", "--json").stdout)
    assert shown["peer"] == peer and shown["messages"] == conversations[0]
    prefs = tmp_path / "prefs.json"
    prefs.write_text(json.dumps([["dave knows", "dave turn 2 (re nested from alice)"]]))
    updated = json.loads(_ok("update", "-s", str(path), "-a", "dave", "--prefs", str(prefs), "--client", LOCAL, "--json").stdout)
    assert updated["update_stats"]["learned_answers"] == [{"question": "nested from alice", "answer": "dave knows"}]
