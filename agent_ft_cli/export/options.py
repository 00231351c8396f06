"""What an export is asked to do (the library's spelling of the ``export`` command's options)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ExportOptions:
    format: str
    standard: bool = False  # trl-preference: plain-string rows instead of conversational
    train_last_only: bool = False  # openai-sft: weight 0 on every assistant turn but the last
    agent: str | None = None
    peer: str | None = None
    strict: bool = False
    speaker_names: str | None = None  # "keep" / "prefix": who said each turn, in every format (team chats)
