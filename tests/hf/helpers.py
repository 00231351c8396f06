"""Helpers for the Hugging Face client tests (constants, a pair config for the tiny model, subprocess env)."""

from __future__ import annotations

import os
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
