"""Which agent, which peer, which client: one resolution (``agent_ft_cli.pairing``) for update, validate and record.

The client rule: the given client, else the config's, else the one the session header recorded for the agent;
``validate`` checks exactly the client ``update`` would load (issue #9, item 7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bad_input import good_session
from typer.testing import CliRunner

from agent_ft_cli.cli import app
from agent_ft_cli.config import AgentConfig, PairConfig
from agent_ft_cli.errors import ClientLoadError
from agent_ft_cli.pairing import (
    ClientChoice,
    NoClientError,
    recorded_client,
    require_client,
    resolve_client,
    resolve_pair,
)

runner = CliRunner()


def _header(*clients: str) -> dict[str, Any]:
    return {
        "agents": [
            {"name": "assistant", "llm_config": {"config_list": [{"model": "m", "model_client_cls": "C"}]},
             "model_clients": list(clients)},
            {"name": "user", "llm_config": False},
        ]
    }


def _config(path: str | None = "cfg.mod:Client", args: dict[str, Any] | None = None) -> PairConfig:
    agents = {"assistant": AgentConfig("assistant"), "user": AgentConfig("user")}
    return PairConfig(agents, update="assistant", peer="user", client_path=path, client_args=args or {})


def test_given_client_wins_and_drops_the_configs_args() -> None:
    choice = resolve_client("my.mod:Given", _config(args={"temperature": 0}), header=_header("rec.mod:R"),
                            agent="assistant", client_args={"seed": 1})
    assert choice == ClientChoice("my.mod:Given", "given", {"seed": 1})


def test_config_client_comes_next_with_its_args_overlaid() -> None:
    choice = resolve_client(None, _config(args={"temperature": 0, "seed": 0}), header=_header("rec.mod:R"),
                            agent="assistant", client_args={"seed": 1})
    assert choice == ClientChoice("cfg.mod:Client", "config", {"temperature": 0, "seed": 1})


def test_session_recorded_client_comes_last() -> None:
    choice = resolve_client(
        None, _config(path=None), header=_header("rec.mod:R"), agent="assistant", trust_session_client=True
    )
    assert choice == ClientChoice("rec.mod:R", "session", {})
    assert resolve_client(
        None, None, header=_header("rec.mod:R"), agent="assistant", trust_session_client=True
    ) == ClientChoice("rec.mod:R", "session", {})


def test_a_client_named_only_by_the_session_needs_consent() -> None:
    from agent_ft_cli.pairing import UntrustedSessionClientError

    with pytest.raises(UntrustedSessionClientError) as info:
        resolve_client(None, None, header=_header("payload/dir/x.py:C"), agent="assistant")
    err = info.value
    assert err.exit_code == 2 and "'payload/dir/x.py:C'" in str(err) and "'assistant'" in str(err)
    err.spell_options(lambda k: "--" + k.replace("_", "-"))
    assert "--trust-session-client" in str(err) and "--client" in str(err)
    # naming it is consent; the config naming another client is the user's choice, not the session's
    assert resolve_client("payload/dir/x.py:C", None, header=_header("payload/dir/x.py:C"), agent="assistant")
    assert resolve_client(None, _config(), header=_header("payload/dir/x.py:C"), agent="assistant") == ClientChoice(
        "cfg.mod:Client", "config", {}
    )


@pytest.mark.parametrize(
    "spec", ["agent_ft_cli.local:LocalLearningClient", "agent_ft_cli.hf:HFClient", "agent_ft_cli.clients.local:LocalLearningClient"]
)
def test_bundled_clients_need_no_consent(spec: str) -> None:
    assert resolve_client(None, None, header=_header(spec), agent="assistant") == ClientChoice(spec, "session", {})


@pytest.mark.parametrize("clients", [(), ("__main__:Local",), ("a.b:One", "a.b:Two")])
def test_no_single_importable_recorded_client_means_none(clients: tuple[str, ...]) -> None:
    assert recorded_client(_header(*clients), "assistant") is None
    assert resolve_client(None, None, header=_header(*clients), agent="assistant") is None


def test_without_a_header_the_session_is_not_asked() -> None:
    assert resolve_client(None, None) is None


def test_missing_client_error_speaks_of_the_config_not_of_flags() -> None:
    with pytest.raises(NoClientError) as info:
        require_client(None, "assistant")
    assert isinstance(info.value, ClientLoadError) and info.value.exit_code == 4
    assert "no client for agent 'assistant'" in str(info.value)
    assert "--" not in str(info.value)


def test_pair_from_the_config_then_inference() -> None:
    header = _header("rec.mod:R")
    assert resolve_pair(header, None, None, path="s.jsonl") == ("assistant", "user")
    config = _config()
    config.update, config.peer = "user", "assistant"
    assert resolve_pair(header, None, None, path="s.jsonl", config=config) == ("user", "assistant")
    assert resolve_pair(header, "assistant", "user", path="s.jsonl", config=config) == ("assistant", "user")


def _session_recording(work: Path, client: str) -> Path:
    lines = good_session().split(b"\n")
    header = json.loads(lines[0])
    header["agents"][0]["model_clients"] = [client]
    path = work / "recorded.jsonl"
    path.write_bytes(json.dumps(header).encode() + b"\n" + b"\n".join(lines[1:]))
    return path


def test_validate_checks_the_client_update_would_load(isolated: Path) -> None:
    """Without a client given, update imports the session's recorded client: validate checks that same one."""
    path = _session_recording(isolated, "clientpkg.clients:MissingMethods")
    (isolated / "prefs.json").write_text("[]")
    trust = ["--trust-session-client"]
    validate = runner.invoke(app, ["validate", "-s", str(path), "--json", *trust])
    update = runner.invoke(app, ["update", "-s", str(path), "--prefs", "prefs.json", *trust])
    assert validate.exit_code == update.exit_code == 4, (validate.output, update.output)
    report = json.loads(validate.stdout)
    assert report["checks"][-1]["name"] == "client"
    assert "missing message_retrieval" in report["checks"][-1]["detail"]
    assert "missing message_retrieval" in update.stderr


def test_validate_passes_a_good_recorded_client(isolated: Path) -> None:
    path = _session_recording(isolated, "clientpkg.clients:CaptureClient")
    result = runner.invoke(app, ["validate", "-s", str(path), "--json", "--trust-session-client"])
    assert result.exit_code == 0, result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["client"]["ok"] and checks["client"]["detail"].startswith("clientpkg.clients:CaptureClient -> ")
    assert "autogen" not in checks  # checked when a client is named; a recorded session validates at reading speed


def test_validate_and_update_refuse_a_recorded_client_without_consent(isolated: Path) -> None:
    """Data never chooses code: the session's client is not imported (its module would run) without consent."""
    payload = isolated / "payload"
    payload.mkdir()
    marker = isolated / "ran"
    (payload / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('x')\nclass C: pass\n")
    path = _session_recording(isolated, "payload/evil.py:C")
    (isolated / "prefs.json").write_text("[]")
    validate = runner.invoke(app, ["validate", "-s", str(path), "--json"])
    update = runner.invoke(app, ["update", "-s", str(path), "--prefs", "prefs.json", "--json"])
    assert validate.exit_code == update.exit_code == 2, (validate.output, update.output)
    for result in (validate, update):
        assert "'payload/evil.py:C'" in result.stderr and "--trust-session-client" in result.stderr
    assert json.loads(validate.stdout)["checks"][-1]["name"] == "client"
    assert update.stdout == ""
    assert not marker.exists()


def test_the_cli_names_the_flags_the_core_leaves_out(isolated: Path) -> None:
    lines = good_session().split(b"\n")
    header = json.loads(lines[0])
    for agent in header["agents"]:
        agent.pop("model_clients", None)
    (isolated / "s.jsonl").write_bytes(json.dumps(header).encode() + b"\n" + b"\n".join(lines[1:]))
    (isolated / "prefs.json").write_text("[]")
    result = runner.invoke(app, ["update", "-s", "s.jsonl", "--prefs", "prefs.json"])
    assert result.exit_code == 4
    assert "pass --client 'package.module:ClassName' or set 'client' in the --config YAML" in result.stderr
