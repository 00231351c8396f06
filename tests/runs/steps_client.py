"""A test client whose ``update_model`` reports what the Hugging Face client reports: a per-step ``history`` in
TRL's ``log_history`` keys and its own ``run_dir`` (made under ``run_root``), so the run record's placement and the
charts are tested without training. Loaded as ``<this file>:StepsClient``."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from agent_ft_cli.clients.protocol import ModelClientBase, chat_response


class StepsClient(ModelClientBase):
    def __init__(
        self, config: dict[str, Any] | None = None, run_root: str | None = None, steps: int = 5, chdir: str | None = None,
        claimed_run_dir: str | None = None, **kwargs: Any,
    ) -> None:
        super().__init__(config)
        self.run_root = run_root
        self.chdir = chdir
        self.claimed_run_dir = claimed_run_dir  # a run_dir that does not exist
        self.steps = int(steps)

    def create(self, params: dict[str, Any]) -> Any:
        return chat_response("ok", model="steps")

    def update_model(self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        if self.chdir:  # a client that moves the working folder under agent-ft's feet
            os.chdir(self.chdir)
        run_dir = None
        if self.run_root:
            run_dir = Path(self.run_root) / "runs" / f"{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9:09d}"
            run_dir.mkdir(parents=True)
            (run_dir / "model.bin").write_bytes(os.urandom(8))
        history = [
            {"step": i, "epoch": float(i), "loss": round(0.6931 / i, 4), "rewards/margins": round(0.4 * i, 4),
             "rewards/accuracies": min(1.0, 0.25 * i), "learning_rate": 1e-4 * (self.steps - i + 1) / self.steps}
            for i in range(1, self.steps + 1)
        ]
        history.append({"train_runtime": 1.5, "train_loss": 0.3, "step": self.steps})  # TRL's final summary entry
        return {
            "method": "dpo",
            "steps": self.steps,
            "margin_before": -0.5,
            "margin_after": 1.5,
            "margins": [{"pair": 0, "before": -0.5, "after": 1.5}],
            "checkpoint": str(run_dir) if run_dir else None,
            "history": history,
            "run_dir": self.claimed_run_dir or (str(run_dir) if run_dir else None),
        }
