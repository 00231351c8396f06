"""Writing the run record of an update: one ``run.json`` per run, atomically, never failing the update.

Where it goes (docs/runs.md):

* the client's own run folder when its stats name one (``stats["run_dir"]``: the Hugging Face client's
  ``output_dir/runs/<name>``, beside its checkpoint and its trainer logs);
* otherwise ``<runs dir>/<id>/run.json``, the runs dir being ``--runs-dir``, else ``$AGENT_FT_RUNS_DIR``, else
  ``.agent-ft/runs`` under the current folder (made absolute before any client code runs).

Every run, wherever its record is, is also listed in ``<runs dir>/index.jsonl`` (one line per run, appended under
a lock), so ``agent-ft runs`` in the folder the updates ran from lists them all.

The record holds the inputs (paths and sha256 of their bytes), the client and its settings (secrets redacted), the
update's stats, the per-step ``history`` the client gives (moved out of the stats), and ``eval`` before/after when
``update --eval`` ran. Nothing here raises: a record that cannot be written is one warning.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..jsonio import to_json

FORMAT = "agent-ft-run"
VERSION = 1
RECORD = "run.json"
INDEX = "index.jsonl"
RUNS_DIR_ENV = "AGENT_FT_RUNS_DIR"
DEFAULT_RUNS_DIR = Path(".agent-ft") / "runs"


def runs_dir(given: str | os.PathLike[str] | None = None) -> Path:
    """The runs folder: ``given`` (``--runs-dir``), else ``$AGENT_FT_RUNS_DIR``, else ``.agent-ft/runs``; absolute."""
    raw = given if given not in (None, "") else os.environ.get(RUNS_DIR_ENV) or DEFAULT_RUNS_DIR
    return Path(os.path.abspath(Path(str(raw)).expanduser()))


@dataclass
class RunStart:
    """Taken when the update starts (before any client code can change the working folder)."""

    started: float
    folder: Path | None  # None: no record (``--no-run-record``)


def start(given: str | os.PathLike[str] | None, *, enabled: bool = True) -> RunStart:
    try:
        folder = runs_dir(given) if enabled else None
    except OSError:  # the working folder is gone: the update says so itself
        folder = None
    return RunStart(time.time(), folder)


class Digest:
    """The sha256 and size of an input's bytes, fed by the reader as it reads them (the input is read once: the
    record does not open it again). ``first``: bytes already read (a session's header line)."""

    def __init__(self, first: bytes = b"") -> None:
        self._sha = hashlib.sha256(first)
        self.size = len(first)
        self.fed = bool(first)

    def update(self, data: bytes) -> None:
        self._sha.update(data)
        self.size += len(data)
        self.fed = True

    def text(self, text: str) -> None:
        """The text of a file read as strict UTF-8 (so its encoding gives back the file's bytes exactly)."""
        self.update(text.encode("utf-8"))

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def file_ref(path: str | os.PathLike[str] | None, read: Mapping[str, Digest] | None = None) -> dict[str, Any] | None:
    """``{"path", "sha256", "bytes"}`` of an input file: from ``read[path]`` when the walk kept the digest of the
    bytes it read, else read here in chunks; ``sha256`` None when it cannot be read."""
    if path is None:
        return None
    shown = str(path)
    kept = (read or {}).get(shown)
    if kept is not None and kept.fed:
        return {"path": os.path.abspath(shown), "sha256": kept.hexdigest(), "bytes": kept.size}
    digest = Digest()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return {"path": shown, "sha256": None, "bytes": None}
    absolute = os.path.abspath(shown) if shown != "-" else shown
    return {"path": absolute, "sha256": digest.hexdigest(), "bytes": digest.size}


def data_ref(source: str, data: Any) -> dict[str, Any]:
    """Preference data read from stdin: the sha256 of its canonical JSON (the bytes themselves are gone)."""
    return {"path": source, "sha256": hashlib.sha256(to_json(data)).hexdigest(), "bytes": None, "hashed": "json"}


def new_id(now: float) -> str:
    """A sortable run id: UTC time, then a short random part (``20261207-161000-3f2a9c``)."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(now)) + "-" + uuid.uuid4().hex[:6]


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def split_history(stats: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The stats without their ``history`` and that history (one dict per logged step; [] when none)."""
    if not isinstance(stats, dict):
        return stats, []
    history = stats.get("history")
    rest = {k: v for k, v in stats.items() if k != "history"}
    if not isinstance(history, list):
        return rest, []
    return rest, [h for h in history if isinstance(h, dict)]


def build(
    job: Any, outcome: Any, *, run_id: str, begun: float, finished: float, inputs: dict[str, Any],
    client_args: dict[str, Any], run_dir: Path | None,
) -> dict[str, Any]:
    """The record of an update as a dict (secrets in the client's settings and keyword args redacted; stats already
    scrubbed); ``run_dir``: the client's own run folder, when the record is there."""
    from .. import __version__
    from ..redact import known_secrets, redact, scrub_data

    rest, history = split_history(outcome.update_stats)
    info = rest if isinstance(rest, dict) else {}
    checkpoint = info.get("checkpoint")
    evaluator = outcome.evaluation
    return {
        "format": FORMAT,
        "version": VERSION,
        "id": run_id,
        "time": _iso(finished),
        "started": _iso(begun),
        "seconds": round(finished - begun, 3),
        "agent_ft": __version__,
        **inputs,
        "agent": outcome.agent,
        "peer": outcome.peer,
        "client": {"spec": outcome.client, "args": scrub_data(redact(client_args), known_secrets())},
        "kwargs": scrub_data(redact(job.kwargs), known_secrets()),
        "method": info.get("method") if isinstance(info.get("method"), str) else None,
        "stats": rest,
        "history": history,
        "eval": evaluator.as_dict() if evaluator is not None and evaluator.runs else None,
        "checkpoint": checkpoint if isinstance(checkpoint, str) else None,
        "published": isinstance(checkpoint, str) and bool(checkpoint),
        "run_dir": str(run_dir) if run_dir is not None else None,  # absolute, as the index names it
    }


def where(stats: Any, folder: Path, run_id: str) -> tuple[Path, str, bool]:
    """The record's folder, the run's id, and whether the folder is the client's own run folder (``run_dir``, an
    existing folder; its name is the id), else ``folder/<id>``."""
    own = stats.get("run_dir") if isinstance(stats, dict) else None
    if isinstance(own, str) and own and Path(own).is_dir():
        return Path(os.path.abspath(own)), Path(own).name, True
    return folder / run_id, run_id, False


def write(record: dict[str, Any], run_folder: Path, index_folder: Path) -> Path:
    """Write ``run_folder/run.json`` atomically, then append ``{"id", "record"}`` to ``index_folder/index.jsonl``
    under its lock (one write, so lines never interleave); the record's path."""
    from ..fsutil import append_line, atomic_write_bytes

    run_folder.mkdir(parents=True, exist_ok=True)
    path = run_folder / RECORD
    atomic_write_bytes(path, to_json(record, indent=True) + b"\n", what="run record")
    index_folder.mkdir(parents=True, exist_ok=True)
    append_line(index_folder / INDEX, to_json({"id": record["id"], "record": str(path)}) + b"\n", what="runs index")
    return path


def record_update(
    job: Any, outcome: Any, begun: RunStart, prefs: Any, on_warning: Any = None, *, client_args: dict[str, Any] | None = None,
    read: Mapping[str, Digest] | None = None,
) -> Path | None:
    """Write the run record of a finished update (``job``: an UpdateJob, ``outcome``: its UpdateResult;
    ``client_args``: the client's constructor arguments, the config's and ``--client-arg``'s together; ``read``:
    the digests the walk kept of the inputs it read, by path, so they are not opened again).

    Never raises: a record that cannot be written is a warning (``on_warning``, else stderr) and None."""
    if begun.folder is None:
        return None
    try:
        finished = time.time()
        folder, run_id, own = where(outcome.update_stats, begun.folder, new_id(finished))
        prefs_ref = data_ref("-", prefs) if str(job.prefs_path) == "-" else file_ref(job.prefs_path, read)
        evaluator = outcome.evaluation
        inputs = {
            "sessions": [file_ref(job.session_path, read)],
            "prefs": prefs_ref,
            "heldout": file_ref(getattr(evaluator, "heldout_path", None), read),
            "config": file_ref(job.config_path, read),
        }
        args = job.client_args if client_args is None else client_args
        record = build(
            job, outcome, run_id=run_id, begun=begun.started, finished=finished, inputs=inputs, client_args=args,
            run_dir=folder if own else None,
        )
        return write(record, folder, begun.folder)
    except Exception as e:  # the model was updated: a record that cannot be written must not say otherwise
        from ..redact import describe_exception

        message = f"the run record could not be written ({type(e).__name__}: {describe_exception(e)}); the update itself succeeded"
        if on_warning is not None:
            on_warning(message)
        else:
            import sys

            print(f"Warning: {message}", file=sys.stderr)
        return None
