"""The review tests' session (:mod:`reviewkit`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .reviewkit import write_session


@pytest.fixture
def chat(tmp_path: Path) -> Path:
    return write_session(tmp_path / "chat.jsonl")
