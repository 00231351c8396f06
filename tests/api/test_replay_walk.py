"""``agent_ft_cli.replay`` walks the plan ``agent-ft update`` walks: the config's pair and client included."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO

import agent_ft_cli
from agent_ft_cli.errors import ConfigError

SAMPLE = REPO / "sample_sessions" / "capital.jsonl"
CONFIG = REPO / "configs" / "local.yaml"


def test_replay_takes_the_config_client_and_agents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_ft_cli.clients.local import LocalLearningClient

    monkeypatch.setenv("AGENT_FT_STATE", str(tmp_path / "state.json"))
    agent, peer = agent_ft_cli.replay(SAMPLE, config=CONFIG)
    clients = agent.client._clients
    assert [type(c) for c in clients] == [LocalLearningClient]
    assert Path(clients[0].state_path) == tmp_path / "state.json"  # the config's client.args, ${ENV} expanded
    assert agent.system_message == "You are a concise assistant. Answer in one sentence."  # built from the config
    assert agent.chat_messages[peer] == agent_ft_cli.load_session(SAMPLE).thread("assistant", "user")


def test_replay_reports_a_bad_config_as_the_cli_does(tmp_path: Path) -> None:
    bad = tmp_path / "pair.yaml"
    bad.write_text("agents: [1, 2]\n")
    with pytest.raises(ConfigError) as info:
        agent_ft_cli.replay(SAMPLE, config=bad)
    assert str(bad) in str(info.value) and "--" not in str(info.value)
