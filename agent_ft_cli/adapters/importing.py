"""``agent-ft import`` as a library call: detect or check the kind, run its adapter, write one session per
conversation (refusing, before writing anything, to overwrite without ``force``)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputDataError, OutputWriteError, UsageError, either
from ..textsafe import legible
from .detect import detect_kind
from .model import Conversation, SourceOptions, WarnFn
from .registry import get_adapter, kinds, kinds_text

_UNSAFE = re.compile(r"[^\w.-]+")
_MAX_STEM = 120  # characters of a session file name (file systems allow 255 bytes; a name may be non-ASCII)


def _stem(name: str) -> str:
    """A file name for a conversation: unsafe characters replaced, a long name cut (with a hash of the whole, so two
    long names stay apart)."""
    stem = _UNSAFE.sub("_", name).strip("._") or "session"
    if len(stem) > _MAX_STEM or len(stem.encode("utf-8")) > 2 * _MAX_STEM:
        digest = hashlib.sha1(stem.encode("utf-8")).hexdigest()[:10]
        stem = stem[: _MAX_STEM // 2].rstrip("._-") + "-" + digest
    return stem


@dataclass
class ImportOptions:
    kind: str | None = None  # a registered kind; None: detected from the file
    session_id: str | None = None
    agent: str | None = None
    peer: str | None = None
    force: bool = False
    strict: bool = False  # lines cut short in the source are an error instead of a warning that names them


@dataclass
class ImportResult:
    kind: str
    written: list[Path]
    conversations: list[Conversation]


def write_conversations(
    conversations: list[Conversation], out: Path, *, force: bool = False, sources: list[Path] | None = None
) -> list[Path]:
    """One session file per conversation in ``out``; refuses (before writing anything) to overwrite without force,
    or to write onto one of ``sources`` (the file imported). Each file is written atomically; a failure (disk full,
    a message too deeply nested to write) names the file and lists those written before it."""
    from .. import session
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
        stem = _stem(conv.name)
        name, n = stem, 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name)
        paths.append(out / f"{name}.jsonl")
    from ..fsutil import first_same_file, os_reason

    for path in paths:
        src = first_same_file(path, sources or [])
        if src is not None:
            raise UsageError(
                f"{{out}}: the session file {str(path)!r} would replace the import source {str(src)!r}; "
                "write to another folder",
                options=("out",),
            )
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        raise UsageError(
            f"{{out}}: {str(existing[0])!r}{more} already exist(s); pass {{force}} to overwrite", options=("out", "force")
        )
    version = autogen_version()
    written: list[Path] = []
    for conv, path in zip(conversations, paths, strict=True):
        # the source's file name as valid text (a name with undecodable bytes: UTF-8 where valid, else \xNN)
        source = {k: legible(v) if isinstance(v, str) else v for k, v in conv.source.items()}
        framework = conv.source.get("framework")
        if isinstance(framework, dict) and framework.get("name"):  # another framework's: say which, not classic's
            header = session.make_header(
                conv.agents,
                autogen_version=None,
                framework={"name": framework["name"], "version": framework.get("version")},
                imported_from=source,
            )
        else:
            header = session.make_header(conv.agents, autogen_version=version, imported_from=source)
        try:
            session.write_session(path, header, conv.threads)
        except OutputWriteError as e:
            raise _partial(path, e.reason or str(e), written, len(paths)) from None
        except OSError as e:
            raise _partial(path, os_reason(e), written, len(paths)) from None
        except (ValueError, TypeError, RecursionError) as e:  # orjson: a message nested deeper than it writes
            where = conv.source.get("path", "the source")
            line = conv.source.get("line")
            raise InputDataError(
                f"{where}{f':{line}' if line else ''}: conversation {conv.name!r} cannot be written as a session "
                f"({str(e) or type(e).__name__}; a message nested too deeply?); "
                + (f"{len(written)} session file(s) were written before it: {', '.join(map(str, written))}" if written else "nothing was written")
            ) from None
        written.append(path)
    return paths


def _partial(path: Path, reason: str, written: list[Path], total: int) -> OutputWriteError:
    done = (
        f"{len(written)} of {total} session file(s) were written before it: {', '.join(map(str, written))}"
        if written
        else "no session file was written"
    )
    err = OutputWriteError(f"cannot write session file {str(path)!r} ({reason}); nothing partial of it is left; {done}")
    err.path, err.reason = str(path), reason
    return err


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
    from ..fsutil import check_input_file

    source = Path(source)
    check_input_file(source, noun="import source", error=InputDataError, kind=f"a file ({kinds_text()})")
    kind = options.kind
    if kind is not None:
        get_adapter(kind)  # an unknown kind: a one-line error naming the choices
    kind = kind or detect_kind(source)
    wanted = SourceOptions(
        session_id=options.session_id, agent=options.agent, peer=options.peer, strict=options.strict
    )
    _check_options(kind, wanted)
    conversations = get_adapter(kind).read(source, wanted, on_warning or (lambda _text: None))
    if not conversations:
        raise InputDataError(f"{source}: no conversation could be rebuilt (no usable chat completions)")
    written = write_conversations(conversations, Path(out), force=options.force, sources=[source])
    return ImportResult(kind, written, conversations)

