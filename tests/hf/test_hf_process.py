"""The Hugging Face client as processes: a SIGKILL mid-training loses nothing, two accelerate processes train one
checkpoint and print one result, and each error a user meets is one line with its documented exit code."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent_ft_cli.cli import app
from agent_ft_cli.hf.checkpoint import writer_lock

from .helpers import QUESTION, start_long_update, subprocess_env, write_config
from .tiny_model import build_tiny_model

runner = CliRunner()
PROMPT = [{"role": "system", "content": "You are a concise assistant."}, {"role": "user", "content": QUESTION}]


def _record(config: Path, out: Path) -> str:
    result = runner.invoke(app, ["record", "--config", str(config), "-m", QUESTION, "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def _prefs(path: Path, reply: str) -> Path:
    path.write_text(json.dumps([["The capital of Australia is Canberra.", reply]]), encoding="utf-8")
    return path


def _answer_and_score(model: Path, ckpt: Path) -> tuple[str, str, float]:
    from agent_ft_cli.hf import HFClient

    client = HFClient({"model": str(model)}, output_dir=ckpt, max_new_tokens=12)
    text = client.create({"messages": PROMPT}).choices[0].message.content
    return client.loaded_from, text, client.score(PROMPT, ["The capital of Australia is Canberra."])[0]


@pytest.mark.hf_slow
def test_sigkill_during_training_leaves_the_previous_checkpoint_loading_and_answering(tiny_model: Path, tmp_path: Path) -> None:
    from agent_ft_cli.hf import HFClient

    ckpt = tmp_path / "ckpt"
    config = write_config(tmp_path / "hf.yaml", tiny_model, ckpt)
    session = tmp_path / "chat.jsonl"
    reply = _record(config, session)
    prefs = _prefs(tmp_path / "prefs.json", reply)
    first = HFClient({"model": str(tiny_model)}, output_dir=ckpt).update_model(
        json.loads(prefs.read_text()), [*PROMPT[1:], {"role": "assistant", "content": reply}], max_steps=2,
        learning_rate=1e-3,
    )
    before = _answer_and_score(tiny_model, ckpt)
    assert before[0] == str(Path(first["checkpoint"]).resolve())

    proc, _, reader = start_long_update(
        ["--session", str(session), "--prefs", str(prefs), "--config", str(config)], timeout=120
    )
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    reader.join(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert proc.stdout is not None and proc.stdout.read() == b""  # no result was printed

    assert [p.name for p in (ckpt / "runs").iterdir()] == [Path(first["checkpoint"]).name]
    assert list(ckpt.glob(".staging-*"))  # the killed run's half-written folder, never published
    assert _answer_and_score(tiny_model, ckpt) == before  # loads and answers exactly as before

    # the next update takes the lock the killed process held (the OS released it), clears the leftovers, publishes
    again = runner.invoke(
        app, ["update", "--session", str(session), "--prefs", str(prefs), "--config", str(config),
              "--kwarg", "max_steps=1", "--json"],
    )
    assert again.exit_code == 0, again.output
    stats = json.loads(again.stdout)["update_stats"]
    assert stats["started_from"] == before[0]
    assert not list(ckpt.glob(".staging-*"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.hf_slow
def test_accelerate_launch_two_processes_on_cpu_writes_one_checkpoint_and_prints_one_result(
    tiny_model: Path, tmp_path: Path
) -> None:
    ckpt = tmp_path / "ckpt"
    config = write_config(tmp_path / "hf.yaml", tiny_model, ckpt, train={"max_steps": 3, "learning_rate": 1e-3, "seed": 0})
    session = tmp_path / "chat.jsonl"
    prefs = _prefs(tmp_path / "prefs.json", _record(config, session))
    launcher = Path(sys.executable).parent / "accelerate"
    out = tmp_path / "result.json"
    proc = subprocess.run(
        # accelerate 1.15 runs `--cpu --num_processes 2` as ONE process (its multi-CPU mode needs MPI); `--multi_gpu`
        # starts two torchrun processes, which the client trains data-parallel on CPU (gloo) when there is no GPU.
        [str(launcher), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
         "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
         "-m", "agent_ft_cli", "update", "--session", str(session), "--prefs", str(prefs), "--config", str(config),
         "--json", "--output", str(out)],
        capture_output=True, text=True, env=subprocess_env(), timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)  # exactly one JSON document: only the main process printed
    stats = result["update_stats"]
    assert stats["processes"] == 2 and stats["steps"] == 3 and stats["pairs_used"] == 1
    assert [p.name for p in (ckpt / "runs").iterdir()] == [Path(stats["checkpoint"]).name]
    assert (ckpt / "current").resolve() == Path(stats["checkpoint"]).resolve()
    assert json.loads(out.read_text())["update_stats"]["checkpoint"] == stats["checkpoint"]
    assert not list(ckpt.glob(".staging-*"))


# -- errors: one line, a documented exit code ----------------------------------------------------------------------


def _one_line_error(output: str) -> str:
    lines = [ln for ln in output.strip().splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1 and "Traceback" not in output, output
    return lines[0]


def test_missing_extra_names_the_install_command(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trl", None)  # as if trl were not installed
    config = write_config(tmp_path / "hf.yaml", tiny_model, tmp_path / "ckpt")
    result = runner.invoke(app, ["record", "--config", str(config), "-m", QUESTION, "-o", str(tmp_path / "s.jsonl")])
    assert result.exit_code == 4
    line = _one_line_error(result.output)
    assert "pip install 'agent-ft[hf]'" in line and "trl" in line


def test_model_not_found_offline(tmp_path: Path) -> None:
    config = write_config(tmp_path / "hf.yaml", "no-such-org/no-such-model-xyz", tmp_path / "ckpt")
    result = runner.invoke(app, ["record", "--config", str(config), "-m", QUESTION, "-o", str(tmp_path / "s.jsonl")])
    assert result.exit_code == 4
    line = _one_line_error(result.output)
    assert "'no-such-org/no-such-model-xyz' cannot be loaded" in line and "offline" in line


def test_model_without_chat_template(tmp_path: Path) -> None:
    model = build_tiny_model(tmp_path / "plain", hidden_size=16, layers=1, chat_template=False)
    config = write_config(tmp_path / "hf.yaml", model, tmp_path / "ckpt")
    result = runner.invoke(app, ["record", "--config", str(config), "-m", QUESTION, "-o", str(tmp_path / "s.jsonl")])
    assert result.exit_code == 4
    assert "has no chat template" in _one_line_error(result.output)


@pytest.fixture
def recorded(tiny_model: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """A config whose output_dir already holds one checkpoint, and a session recorded with it."""
    from agent_ft_cli.hf import HFClient

    ckpt = tmp_path / "ckpt"
    HFClient({"model": str(tiny_model)}, output_dir=ckpt).update_model(
        [["Canberra.", "x"]], [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "x"}], max_steps=1
    )
    config = write_config(tmp_path / "hf.yaml", tiny_model, ckpt)
    session = tmp_path / "chat.jsonl"
    _record(config, session)
    return config, session, ckpt


def _update(config: Path, session: Path, prefs: object, tmp_path: Path, *extra: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "prefs-arg.json"
    path.write_text(json.dumps(prefs), encoding="utf-8")
    return runner.invoke(app, ["update", "--session", str(session), "--prefs", str(path), "--config", str(config), *extra])


def test_no_pair_tied_trains_nothing_and_leaves_the_checkpoint(recorded: tuple[Path, Path, Path], tmp_path: Path) -> None:
    config, session, ckpt = recorded
    current = (ckpt / "current").resolve()
    result = _update(config, session, [["good", "an answer the agent never gave"]], tmp_path)
    assert result.exit_code == 3
    line = _one_line_error(result.output)
    assert "no preference pair is tied" in line and "the rejected answer does not appear in the thread" in line
    assert "checkpoint untouched" in line
    assert (ckpt / "current").resolve() == current and len(list((ckpt / "runs").iterdir())) == 1


def test_unknown_training_setting_and_busy_checkpoint_are_usage_errors(recorded: tuple[Path, Path, Path], tmp_path: Path) -> None:
    config, session, ckpt = recorded
    reply = json.loads(
        runner.invoke(app, ["inspect", "--session", str(session), "--json"]).stdout
    )["messages"][-1]["content"]
    typo = _update(config, session, [["good", reply]], tmp_path, "--kwarg", "learning_rat=0.1")
    assert typo.exit_code == 2
    assert "unknown training setting 'learning_rat' for dpo" in _one_line_error(typo.output)
    assert "did you mean 'learning_rate'" in typo.output

    with writer_lock(ckpt):  # another update is writing this output_dir
        busy = _update(config, session, [["good", reply]], tmp_path, "--client-arg", "lock_timeout=0")
    assert busy.exit_code == 2
    assert f"pid {os.getpid()}" in _one_line_error(busy.output) and "being written by another update" in busy.output
