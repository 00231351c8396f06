"""``sqlite``: an ``autogen.runtime_logging`` database (``logs.db``).

Every ``chat_completions`` row holds the exact request (system message first) and the response; ``agents`` holds
names, classes and constructor arguments. Threads are rebuilt by :mod:`.threads`. ``sqlite3`` is imported only when a
database is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputDataError, UsageError, listed
from .model import Conversation, Probe, SourceOptions, WarnFn
from .threads import AgentDefs, Completion, build_conversations, loads

OPTIONS = frozenset({"session_id"})
_MAGIC = b"SQLite format 3\x00"


def sniff(probe: Probe) -> bool:
    """A SQLite database (any: :func:`read` tells one without autogen's tables)."""
    return probe.head[: len(_MAGIC)] == _MAGIC


def read(path: Path, options: SourceOptions, on_warning: WarnFn) -> list[Conversation]:
    """Conversations from an ``autogen.runtime_logging`` SQLite database (any schema version seen so far)."""
    import sqlite3

    session_id = options.session_id

    from ..fsutil import check_input_file

    check_input_file(path, noun="SQLite database", error=InputDataError)
    # A URI built by pathlib: '#', '?' and '%' in the name are escaped (never a file 'my' for 'my#logs.db'); read-only
    try:
        con = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise InputDataError(f"{path}: cannot open the SQLite database ({e})") from None
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "chat_completions" not in tables:
            raise InputDataError(
                f"{path}: no chat_completions table; not an autogen runtime_logging database (autogen.runtime_logging.start)"
            )
        cols = {r[1] for r in con.execute("PRAGMA table_info(chat_completions)")}
        if "request" not in cols or "response" not in cols:
            raise InputDataError(f"{path}: table chat_completions has no request/response columns")

        def col(name: str) -> str:
            return name if name in cols else "NULL"

        order = "id" if "id" in cols else "rowid"
        query = (
            f"SELECT {order}, {col('session_id')}, {col('source_name')}, request, response, {col('is_cached')} "
            f"FROM chat_completions"
        )
        args: tuple[Any, ...] = ()
        if session_id is not None:
            if "session_id" not in cols:
                raise UsageError(f"{{session_id}}: {path} has no session_id column", options=("session_id",))
            query += " WHERE session_id = ?"
            args = (session_id,)
        rows = con.execute(query + f" ORDER BY {order}", args).fetchall()
        agent_defs: AgentDefs = {}
        if "agents" in tables:
            acols = {r[1] for r in con.execute("PRAGMA table_info(agents)")}
            aq = "SELECT {}, {}, {}, {} FROM agents ORDER BY {}".format(
                *(c if c in acols else "NULL" for c in ("session_id", "name", "class", "init_args")),
                "id" if "id" in acols else "rowid",
            )
            for sid, name, cls, init_args in con.execute(aq):
                if not name:
                    continue
                d = loads(init_args)
                d = dict(d) if isinstance(d, dict) else {}
                d["class"] = cls
                agent_defs[(sid, name)] = d
    except sqlite3.DatabaseError as e:
        raise InputDataError(f"{path}: not a readable SQLite database ({e})") from None
    finally:
        con.close()
    if session_id is not None and not rows:
        raise InputDataError(
            f"{path}: no chat completions for {{session_id}} {session_id!r}", options=("session_id",)
        )
    completions = []
    damaged: list[str] = []
    for rid, sid, source_name, request, response, is_cached in rows:
        where = f"{path} row {rid}"
        req = loads(request)
        if not isinstance(req, dict):
            damaged.append(str(rid))
            continue
        completions.append(Completion(where, sid, source_name or None, req, loads(response), bool(is_cached)))
    if damaged:
        shown = listed(damaged)
        if options.strict:
            raise InputDataError(
                f"{path}: the request of {len(damaged)} row(s) is not JSON (cut short or damaged; row(s) {shown}); "
                "drop {strict} to import the rest",
                options=("strict",),
            )
        on_warning(f"{path}: skipped {len(damaged)} row(s) whose request is not JSON (row(s) {shown})")
    return build_conversations(completions, agent_defs, kind="sqlite", source=path, on_warning=on_warning)
