"""The session file format (v1): JSON Lines, one record per line, streamed in and out. This package is its only
owner; the rest of agent-ft imports the names below from ``agent_ft_cli.session``.

Each line belongs to one *thread*: ``agent.chat_messages[peer]``. Both agents' views are stored, so replay is a
plain assignment on every autogen version. A ``clear`` record empties a thread (``clear_history``, or a history
replaced wholesale, which is written as ``clear`` followed by the new messages).

* :mod:`.records`: the header, agent definitions, record constructors and the shape checks of a record;
* :mod:`.threads`: :data:`ThreadKey` and :class:`ThreadReducer`, the one place that says what a record means for a
  thread (message append, clear); the :class:`Session` model and :func:`choose_pair`;
* :mod:`.reader`: every reader (:func:`load_session`, :func:`iter_conversations`, :func:`iter_records`, :func:`thread_counts`,
  :func:`iter_thread`, :func:`tail_thread`), their lines judged by :mod:`.lines` (one judge, one location string);
* :mod:`._scan`: byte-level fast paths that only decide which lines the one-thread readers may skip;
* :mod:`.stdin`: a session given as ``-`` (stdin spooled into a private file);
* :mod:`.writer`: whole sessions written atomically.

Readers never hold more than they need: :func:`load_session` keeps the selected threads, :func:`iter_thread`
streams one thread with flat memory, and :func:`tail_thread` walks the file backwards from its end.
"""

from ..jsonio import json_default
from .choice import choose_pair
from .one_thread import iter_thread, tail_thread
from .reader import (
    OpenSession,
    iter_conversations,
    iter_records,
    load_session,
    open_session,
    parse_header,
    read_header,
    thread_counts,
    thread_keys,
)
from .records import (
    FALLBACKS,
    FORMAT,
    MAJOR,
    VERSION,
    Message,
    WarnFn,
    agent_def,
    clear_record,
    dumps_record,
    dumps_record_safe,
    has_model_client,
    make_header,
    message_record,
)
from .stdin import session_input
from .threads import Session, ThreadKey, ThreadReducer
from .writer import write_records, write_session

__all__ = [
    "FALLBACKS",
    "FORMAT",
    "MAJOR",
    "VERSION",
    "Message",
    "OpenSession",
    "Session",
    "ThreadKey",
    "ThreadReducer",
    "WarnFn",
    "agent_def",
    "choose_pair",
    "clear_record",
    "dumps_record",
    "dumps_record_safe",
    "has_model_client",
    "iter_conversations",
    "iter_records",
    "iter_thread",
    "json_default",
    "load_session",
    "make_header",
    "message_record",
    "open_session",
    "parse_header",
    "read_header",
    "session_input",
    "tail_thread",
    "thread_counts",
    "thread_keys",
    "write_records",
    "write_session",
]
