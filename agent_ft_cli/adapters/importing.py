"""``agent-ft import`` as a library call: detect or check the kind, run its adapter, write one session per
conversation (refusing, before writing anything, to overwrite without ``force``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputDataError, UsageError
from .detect import detect_kind
from .model import Conversation, SourceOptions, WarnFn
from .registry import either, get_adapter, kinds, kinds_text

_UNSAFE = re.compile(r"[^\w.-]+")


@dataclass
class ImportOptions:
    kind: str | None = None  # a registered kind; None: detected from the file
    session_id: str | None = None
    agent: str | None = None
    peer: str | None = None
    force: bool = False


@dataclass
class ImportResult:
    kind: str
    written: list[Path]
    conversations: list[Conversation]


def write_conversations(conversations: list[Conversation], out: Path, *, force: bool = False) -> list[Path]:
    """One session file per conversation in ``out``; refuses (before writing anything) to overwrite without force."""
    from .. import session as fmt
    from ..classic.compat import autogen_version

    if out.exists() and not out.is_dir():
        raise UsageError(f"{{out}} {str(out)!r} is a file; give a folder for the session files", options=("out",))
    if not out.exists():
        if not out.parent.is_dir():
            raise UsageError(
                f"{{out}} {str(out)!r}: folder {str(out.parent)!r} does not exist; create it first", options=("out",)
            )
        try:
            out.mkdir()
        except OSError as e:
            raise UsageError(f"{{out}} {str(out)!r}: cannot create the folder ({e.strerror or e})", options=("out",)) from None
    paths: list[Path] = []
    taken: set[str] = set()
    for conv in conversations:
        stem = _UNSAFE.sub("_", conv.name).strip("._") or "session"
        name, n = stem, 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name)
        paths.append(out / f"{name}.jsonl")
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        raise UsageError(
            f"{{out}}: {str(existing[0])!r}{more} already exist(s); pass {{force}} to overwrite", options=("out", "force")
        )
    version = autogen_version()
    for conv, path in zip(conversations, paths, strict=True):
        header = fmt.make_header(conv.agents, autogen_version=version, imported_from=conv.source)
        fmt.write_session(path, header, conv.threads)
    return paths


def _check_options(kind: str, options: SourceOptions) -> None:
    """Refuse an option the kind's adapter does not read, naming the kinds that do."""
    readers = get_adapter(kind).options
    for key in options.given():
        if key not in readers:
            takers = [k for k in kinds() if key in get_adapter(k).options]
            raise UsageError(
                f"{{{key}}} applies to {{kind}} {either(takers)} only, not {kind}", options=(key, "kind")
            )


def run_import(source: Path, out: Path, options: ImportOptions, *, on_warning: WarnFn | None = None) -> ImportResult:
    """Everything ``agent-ft import`` does."""
    source = Path(source)
    if not source.exists():
        raise InputDataError(f"import source {str(source)!r} does not exist")
    if source.is_dir():
        raise InputDataError(f"import source {str(source)!r} is a folder; give a file ({kinds_text()})")
    kind = options.kind
    if kind is not None:
        get_adapter(kind)  # an unknown kind: a one-line error naming the choices
    kind = kind or detect_kind(source)
    wanted = SourceOptions(session_id=options.session_id, agent=options.agent, peer=options.peer)
    _check_options(kind, wanted)
    conversations = get_adapter(kind).read(source, wanted, on_warning or (lambda _text: None))
    if not conversations:
        raise InputDataError(f"{source}: no conversation could be rebuilt (no usable chat completions)")
    written = write_conversations(conversations, Path(out), force=options.force)
    return ImportResult(kind, written, conversations)

