"""Every reader of conversations equals the one reducer (issue #21 item 1): ``Session.conversations``, the streaming
:func:`~agent_ft_cli.session.iter_conversations` and the rows ``export`` writes, on random sessions of one pair with
messages, clears (with a peer, with ``null``, of the other agent) and rewrites of a history in place.

The reference is a plain model of the rules, built from the records: a ``clear`` ends the thread's conversation, a
``clear`` marked ``rewrite`` replaces its history without ending it, empty conversations are left out."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import agent_ft_cli
from agent_ft_cli.export.messages import Style, convert_thread
from agent_ft_cli.session import clear_record, iter_conversations, make_header, message_record, write_records

A, U = "assistant", "user"
contents = st.sampled_from(["Q?", "A.", "", "clear", '"rewrite":true', "é"])
message = st.builds(lambda role, c: {"role": role, "content": c}, st.sampled_from(["user", "assistant"]), contents)
record = st.one_of(
    st.builds(lambda m: message_record(A, U, m), message),
    st.builds(lambda m: message_record(U, A, m), message),
    st.sampled_from([clear_record(A, U), clear_record(A, None), clear_record(U, A), clear_record(A, U, rewrite=True),
                     clear_record(A, None, rewrite=True)]),
)


def _model(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    done: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    for rec in records:
        if rec["type"] == "message" and (rec["agent"], rec["peer"]) == (A, U):
            current.append(rec["message"])
        elif rec["type"] == "clear" and rec["agent"] == A and rec["peer"] in (None, U):
            if current and not rec.get("rewrite"):
                done.append(current)
            current = []
    return [c for c in [*done, current] if c]


def _sft_row(conversation: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    converted = convert_thread(conversation, Style.TRL)
    while converted and converted[-1].get("role") != "assistant":
        converted.pop()
    return converted or None


@settings(max_examples=60, deadline=None)
@given(records=st.lists(record, max_size=30))
def test_session_conversations_iter_conversations_and_export_rows_equal_the_reducer(records: list[dict[str, Any]]) -> None:
    expected = _model(records)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(tmp) / "s.jsonl"
        write_records(path, make_header([{"name": A}, {"name": U}]), records)
        session = agent_ft_cli.load_session(path)
        if (A, U) in session.threads:
            assert session.conversations(A, U) == expected
        else:
            assert expected == []
        assert list(iter_conversations(path, A, U)) == expected
        wanted = [r for r in map(_sft_row, expected) if r is not None]
        for source in (path, session):
            try:
                rows = agent_ft_cli.export_rows(source, format="trl-sft", agent=A, peer=U)
            except agent_ft_cli.AgentFtError as e:
                assert wanted == [] and "nothing to export" in str(e)
                continue
            assert [r["messages"] for r in rows] == wanted
