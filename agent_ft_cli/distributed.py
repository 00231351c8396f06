"""Which process of a distributed run this is (``accelerate launch``, ``torchrun``): read from the environment those
launchers set, so asking never imports torch. Only the main process writes checkpoints and outputs and prints."""

from __future__ import annotations

import os


def is_main_process() -> bool:
    """False in every process but the first of a distributed run."""
    return os.environ.get("RANK", "0") in ("", "0")
