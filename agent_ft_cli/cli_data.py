"""Dataset commands (``export``, ``import``): registered on the main Typer app by :func:`register`."""

from __future__ import annotations

from typing import Any


def register(app: Any) -> None:
    """Add the dataset commands to ``app``."""
