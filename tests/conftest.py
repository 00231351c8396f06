"""Shared fixtures: an isolated environment for every test and helpers to build live agent pairs."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

ASSETS = Path(__file__).parent / "assets"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test runs in its own empty folder with its own HOME; sys.path and test client modules are restored."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AGENT_FT_STATE", str(work / ".agent-ft" / "local-model.json"))
    monkeypatch.delenv("AGENT_FT_DEBUG", raising=False)
    monkeypatch.delenv("AGENT_FT_LOCAL_STATE", raising=False)
    monkeypatch.setenv("AGENT_FT_RUNS_DIR", str(tmp_path / "runs"))  # run records beside the work folder, not in it
    monkeypatch.chdir(work)
    monkeypatch.syspath_prepend(str(ASSETS))
    before = set(sys.modules)
    yield work
    for name in set(sys.modules) - before:
        if name.startswith(("clientpkg", "_agent_ft_client_")):
            del sys.modules[name]


@pytest.fixture
def env_with_assets() -> dict[str, str]:
    """Environment for subprocesses: test clients importable, no colour."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ASSETS), env.get("PYTHONPATH", "")])
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    return env


def make_pair(client_cls: Any = None, *, tools: bool = True, max_auto_reply: int = 3) -> tuple[Any, Any]:
    """A classic assistant (custom client) and user proxy, with one tool registered when ``tools``."""
    import autogen
    from clientpkg.clients import ScriptedClient

    client_cls = client_cls or ScriptedClient
    assistant = autogen.AssistantAgent(
        "assistant",
        system_message="You convert temperatures. Réponds en français si possible.",
        llm_config={"config_list": [{"model": "scripted", "model_client_cls": client_cls.__name__, "api_key": "sk-test-SECRET-123456"}]},
    )
    user = autogen.UserProxyAgent(
        "user", human_input_mode="NEVER", code_execution_config=False, max_consecutive_auto_reply=max_auto_reply
    )
    if tools:

        def convert_temperature(celsius: float) -> str:
            return f"{celsius * 9 / 5 + 32:.1f} °F"

        assistant.register_for_llm(name="convert_temperature", description="Celsius to Fahrenheit")(convert_temperature)
        user.register_for_execution(name="convert_temperature")(convert_temperature)
    assistant.register_model_client(model_client_cls=client_cls)
    return assistant, user


def run_chat(assistant: Any, user: Any, message: str = "Combien font 21,5 °C en °F ? 🌡️", turns: int = 3) -> None:
    user.initiate_chat(assistant, message=message, max_turns=turns, silent=True)
