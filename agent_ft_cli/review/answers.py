"""The answers ``agent-ft review`` appends to a prefs file (JSON Lines), one line per answer, as it is given.

Three answers, each a line ``update``, ``eval`` and ``export`` read (:mod:`agent_ft_cli.prefs`,
:mod:`agent_ft_cli.align`):

* **better** (reject the reply, type the answer it should have been): a pair,
  ``{"prompt": question, "chosen": typed, "rejected": the reply exactly as recorded}``;
* **bad** (reject without a correction): a label, ``{"prompt", "completion": reply, "label": false}``;
* **keep** (a good answer): a label, ``{"prompt", "completion": reply, "label": true}``.

Labels are TRL's KTO shape: ``export --format trl-kto`` turns each into its one row; the pair formats,
``update`` and ``eval`` work on the pairs and leave labels out (neither used nor reported as skipped). Every line
also carries ``"occurrence"`` when the reply's answer to its question was given more than once in the thread, and
``"review"``: the reply's key (what a re-run matches lines to replies by: the session file's name, the thread, the
conversation, the turn and a hash of the reply) and its thread, conversation, turn and number (nothing that depends
on the folder the command ran in, so the same answers give the same file wherever they are given from). A later line for the same key replaces the earlier one in effect
(:func:`agent_ft_cli.prefs.latest`: the one owner of that rule, applied whenever prefs are loaded).

Appending takes the prefs file's lock (:func:`agent_ft_cli.fsutil.exclusive_lock`), writes one whole line and
flushes it to disk, so a crash or Ctrl-C loses nothing already answered and two reviewers never interleave.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import PrefsError, UsageError
from .replies import Reply

KINDS = ("better", "bad", "keep")
#: the names prefs files that review writes may have (JSON Lines, as prefs reads them by extension)
SUFFIXES = (".jsonl", ".ndjson")


def check_prefs_path(path: Path | str) -> Path:
    """A prefs file review may append to: JSON Lines by name (``.jsonl``), not stdin; a usage error otherwise."""
    if str(path) == "-":
        raise UsageError("{prefs} -: review appends its answers to a file; give a .jsonl file", options=("prefs",))
    p = Path(path)
    if p.suffix.lower() not in SUFFIXES:
        raise UsageError(
            f"{{prefs}} {str(p)!r}: review appends JSON Lines, one answer per line; name the file .jsonl",
            options=("prefs",),
        )
    if p.is_dir():
        raise UsageError(f"{{prefs}} {str(p)!r} is a folder; give a .jsonl file", options=("prefs",))
    return p


def record_for(reply: Reply, kind: str, better: str | None, *, agent: str, peer: str) -> dict[str, Any]:
    """The prefs line for an answer to ``reply``: ``kind`` is ``better`` (with the ``better`` text), ``bad`` or
    ``keep``."""
    if kind not in KINDS:
        raise UsageError(f"review: answer {kind!r} is not one of: {', '.join(KINDS)}")
    rec: dict[str, Any] = {"prompt": reply.prompt}
    if kind == "better":
        if better is None or not better.strip():
            raise UsageError("{better}: the better answer is empty; type the answer the agent should have given", options=("better",))
        rec.update(chosen=better, rejected=reply.rejected)
    else:
        rec.update(completion=reply.rejected, label=kind == "keep")
    if reply.occurrence is not None:
        rec["occurrence"] = reply.occurrence
    rec["review"] = {
        "key": reply.key,
        "agent": agent,
        "peer": peer,
        "conversation": reply.conversation,
        "turn": reply.turn,
        "reply": reply.number,
    }
    return rec


def append(path: Path, record: dict[str, Any]) -> None:
    """Append ``record`` as one line to ``path`` under its lock, flushed to disk before returning."""
    from ..fsutil import append_line
    from ..jsonio import to_json

    try:
        append_line(path, to_json(record) + b"\n", what="preference file", fsync=True)
    except OSError as e:
        raise UsageError(f"{{prefs}} {str(path)!r}: cannot append ({e.strerror or e})", options=("prefs",)) from None


def existing(path: Path | None) -> dict[str, dict[str, Any]]:
    """The latest answer in ``path`` for each reply key (none when the file does not exist or is empty)."""
    if path is None or not path.exists() or not path.stat().st_size:
        return {}
    from ..prefs import load_prefs, review_key

    data = load_prefs(path)  # the latest answer for each key only
    if not isinstance(data, list):
        raise PrefsError(f"{path}: not a JSON Lines list of answers; review appends to .jsonl preference files")
    return {k: item for item in data if (k := review_key(item)) is not None}
