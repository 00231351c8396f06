"""A crash loses nothing: a process recording with SessionRecorder is killed with SIGKILL in the middle of a chat
(from inside the model client's ``create``), and every message the agents had appended before the kill is in the
session file, read back exactly by ``load_session`` and ``agent-ft inspect --json``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import ASSETS, REPO

from agent_ft_cli import load_session

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

SCRIPT = textwrap.dedent(
    """
    import json, os, signal, sys

    from conftest import make_pair
    from clientpkg.clients import ScriptedClient

    from agent_ft_cli import SessionRecorder

    session_path, side_path, kill_on = sys.argv[1], sys.argv[2], int(sys.argv[3])
    PAIR = []


    class KillingClient(ScriptedClient):
        def create(self, params):
            if self.calls + 1 == kill_on:
                snapshot = {
                    f"{agent.name}->{peer.name}": list(messages)
                    for agent in PAIR
                    for peer, messages in agent.chat_messages.items()
                }
                with open(side_path, "w", encoding="utf-8") as fh:
                    json.dump(snapshot, fh, ensure_ascii=False)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.kill(os.getpid(), signal.SIGKILL)
            return super().create(params)


    assistant, user = make_pair(KillingClient, max_auto_reply=10)
    PAIR[:] = [assistant, user]
    with SessionRecorder(session_path, assistant, user):
        user.initiate_chat(assistant, message="Combien font 21,5 °C en °F ? 🌡️", max_turns=10, silent=True)
    print("the chat ended without being killed", file=sys.stderr)
    sys.exit(3)
    """
)


def _env(env_with_assets: dict[str, str]) -> dict[str, str]:
    env = dict(env_with_assets)
    env["PYTHONPATH"] = __import__("os").pathsep.join([str(REPO / "tests"), str(ASSETS), env.get("PYTHONPATH", "")])
    return env


@pytest.mark.parametrize("kill_on", [1, 3, 4])
def test_sigkill_mid_chat_loses_nothing(kill_on: int, tmp_path: Path, env_with_assets: dict[str, str]) -> None:
    script = tmp_path / "record_and_die.py"
    script.write_text(SCRIPT, encoding="utf-8")
    session, side = tmp_path / "crash.jsonl", tmp_path / "side.json"
    env = _env(env_with_assets)
    proc = subprocess.run(
        [sys.executable, str(script), str(session), str(side), str(kill_on)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=180,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    expected: dict[str, list[dict[str, Any]]] = json.loads(side.read_text(encoding="utf-8"))
    assert expected["assistant->user"], "the agents had appended messages before the kill"

    warnings: list[str] = []
    loaded = load_session(session, on_warning=warnings.append)
    got = {f"{a}->{p}": msgs for (a, p), msgs in loaded.threads.items()}
    assert got == expected
    assert not warnings or all("final line" in w for w in warnings)

    for agent, peer in (("assistant", "user"), ("user", "assistant")):
        out = subprocess.run(
            [str(Path(sys.executable).parent / "agent-ft"), "inspect", "-s", str(session), "--json",
             "--agent", agent, "--peer", peer],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
        )
        assert out.returncode == 0, out.stderr
        assert "Traceback" not in out.stderr
        assert json.loads(out.stdout)["messages"] == expected[f"{agent}->{peer}"]
        last = subprocess.run(
            [str(Path(sys.executable).parent / "agent-ft"), "inspect", "-s", str(session), "--json", "--last", "2",
             "--agent", agent, "--peer", peer],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
        )
        assert last.returncode == 0, last.stderr
        assert json.loads(last.stdout)["messages"] == expected[f"{agent}->{peer}"][-2:]


def test_a_write_cut_by_the_crash_is_skipped_and_the_rest_used(tmp_path: Path, env_with_assets: dict[str, str]) -> None:
    """SIGKILL between two whole-line writes leaves no partial line, but a power cut can: simulate it by cutting
    the file of a killed recording inside its last line, as the OS may leave it."""
    script = tmp_path / "record_and_die.py"
    script.write_text(SCRIPT, encoding="utf-8")
    session, side = tmp_path / "crash.jsonl", tmp_path / "side.json"
    env = _env(env_with_assets)
    proc = subprocess.run(
        [sys.executable, str(script), str(session), str(side), "4"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=180,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    data = session.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    session.write_bytes(data[: last_start + 20])
    n_lines = data.count(b"\n")
    expected = json.loads(side.read_text(encoding="utf-8"))
    last_rec = json.loads(data[last_start:])
    key = f"{last_rec['agent']}->{last_rec['peer']}"
    expected[key] = expected[key][:-1]
    warnings: list[str] = []
    got = {f"{a}->{p}": m for (a, p), m in load_session(session, on_warning=warnings.append).threads.items()}
    assert got == expected
    assert warnings == [f"{session}:{n_lines}: skipped the final line, cut short (the writer probably crashed mid-write)"]
    strict = subprocess.run(
        [str(Path(sys.executable).parent / "agent-ft"), "inspect", "-s", str(session), "--strict"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert strict.returncode == 3 and f"crash.jsonl:{n_lines}: final line is cut short" in strict.stderr
