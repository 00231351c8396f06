"""Helpers for the Hugging Face client tests (constants, a pair config for the tiny model, subprocess env)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

QUESTION = "What is the capital of Australia?"
REPO_CONFIGS = Path(__file__).resolve().parents[2] / "configs"

def write_config(path: Path, model: Path | str, output_dir: Path, *, train: dict[str, Any] | None = None) -> Path:
    """A pair config like configs/hf-dpo.yaml, for the tiny model: greedy, 12 new tokens, one-turn chat."""
    import yaml

    config = {
        "agents": {
            "assistant": {
                "class": "AssistantAgent",
                "system_message": "You are a concise assistant.",
                "human_input_mode": "NEVER",
                "llm_config": {
                    "config_list": [{"model": str(model), "model_client_cls": "HFClient"}],
                    "cache_seed": None,
                },
            },
            "user": {
                "class": "UserProxyAgent",
                "human_input_mode": "NEVER",
                "code_execution_config": False,
                "max_consecutive_auto_reply": 0,
            },
        },
        "update": "assistant",
        "peer": "user",
        "client": {
            "path": "agent_ft_cli.hf:HFClient",
            "args": {"output_dir": str(output_dir), "max_new_tokens": 12, "train": train or {"max_steps": 8, "learning_rate": 1e-3, "seed": 0}},
        },
        "chat": {"initiator": "user"},
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(NO_COLOR="1", COLUMNS="200", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return env


def start_long_update(args: list[str], *, timeout: float) -> tuple[subprocess.Popen[bytes], bytearray, threading.Thread]:
    """``agent-ft update ARGS --kwarg max_steps=100000 --json`` in a subprocess, returned once training has started
    (its progress bar is on stderr): the process, the stderr read so far (still filling) and the thread reading it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent_ft_cli", "update", *args, "--kwarg", "max_steps=100000", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env(),
    )
    seen = bytearray()

    def drain() -> None:
        assert proc.stderr is not None
        while chunk := proc.stderr.read1(4096):  # type: ignore[attr-defined]
            seen.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while b"/100000 [" not in seen and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)  # the progress bar on stderr: training has started (the staging folder exists)
    assert b"/100000 [" in seen, seen.decode(errors="replace")[-2000:]
    return proc, seen, reader
