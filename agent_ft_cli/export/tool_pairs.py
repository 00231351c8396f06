"""Every tool result answers a call, and every call is answered before the conversation goes on: the one check an
export row passes before it is written, whatever format and whatever source the session came from.

A chat-completions API rejects a ``tool`` message whose call is not in the assistant message just before the
results, and an assistant tool call followed by anything but its results; a model trained on such a row learns a
conversation that cannot happen. Such rows come from sources that lost a message (an unknown event type left out
by an importer, a hand-edited session) or from a preference answer put in place of a tool call whose results follow.

The rule (``docs/export-import.md``): a row with a problem is **refused**, never cleaned. Cleaning would mean
dropping the orphan result or the unanswered call, and a session or export never drops a message silently; the
exporter skips the row with a warning naming the session, the conversation and the first problem (a failure under
``strict``). A call left unanswered at the very end of a conversation is no problem (the row ends with the model's
call, as a tool-calling SFT example does), but at the end of a *prompt* it is: the answer would follow it.

Messages are read in any of the shapes a row or a session holds: OpenAI/TRL (``tool_calls`` with ids, ``tool``
messages with ``tool_call_id``), the legacy ``function_call`` / ``function`` pair, and a classic thread's batch
(``tool_responses``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["refusal", "tool_pair_problems"]

_PLAIN = frozenset({"role", "content", "name"})  # a message of these keys asks for no call and answers none ...
_PLAIN_ROLES = ("system", "user", "assistant")  # ... in these roles


def _results(m: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    responses = m.get("tool_responses")
    if isinstance(responses, list) and responses:
        return [r for r in responses if isinstance(r, dict)]
    return [m] if m.get("role") == "tool" else None


def _calls(m: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """(tool call id -> name, legacy function-call names) that ``m`` asks for."""
    calls: dict[str, str] = {}
    for n, c in enumerate(m.get("tool_calls") or []):
        if isinstance(c, dict):
            fn = c.get("function")
            name = str(fn.get("name")) if isinstance(fn, dict) else "?"
            calls[str(c.get("id")) if c.get("id") is not None else f"#{n + 1}"] = name
    legacy = m.get("function_call")
    if not calls and isinstance(legacy, dict):
        return {}, [str(legacy.get("name"))]
    return calls, []


def tool_pair_problems(messages: Sequence[Mapping[str, Any]], *, prompt: bool = False) -> list[str]:
    """What is wrong with the tool calls and results of ``messages`` (empty: nothing), one line each.

    ``prompt``: the messages are a prompt an answer follows, so a call still unanswered at its end is a problem too.
    """
    for m in messages:  # text turns only (the common row): no call, no result
        if type(m) is not dict or not m.keys() <= _PLAIN or m.get("role") not in _PLAIN_ROLES:
            break
    else:
        return []
    problems: list[str] = []
    pending: dict[str, str] = {}
    legacy: list[str] = []
    for i, m in enumerate(messages, 1):
        if not isinstance(m, dict):
            continue
        results = _results(m)
        if results is not None:
            for r in results:
                cid = r.get("tool_call_id")
                if cid is not None and str(cid) in pending:
                    del pending[str(cid)]
                else:  # no id: nothing ties it to a call (an API refuses it; a template would guess)
                    what = f"tool result {cid!r}" if cid is not None else "a tool result without a call id"
                    problems.append(f"message {i}: {what} answers no call before it (a tool result without its call)")
            if m.get("role") == "tool" or not m.get("content"):
                continue
        elif m.get("role") == "function":
            name = m.get("name")
            if legacy:
                legacy.remove(name if name in legacy else legacy[-1])
            else:
                problems.append(f"message {i}: function result {name!r} answers no call before it")
            continue
        if pending or legacy:
            open_ = [f"{cid} ({name})" for cid, name in pending.items()] + [f"{name} (function_call)" for name in legacy]
            problems.append(
                f"message {i} ({m.get('role')}) follows call(s) {', '.join(open_)} that were never answered "
                "(a call left unanswered in the middle of the conversation)"
            )
            pending, legacy = {}, []
        pending, legacy = _calls(m)
    if prompt and (pending or legacy):
        open_ = [f"{cid} ({name})" for cid, name in pending.items()] + [f"{name} (function_call)" for name in legacy]
        problems.append(f"the prompt ends with call(s) {', '.join(open_)} unanswered before the answer")
    return problems


def refusal(problems: Sequence[str]) -> str:
    """The reason a row is refused, for the exporter's warning: the first problem and how many more."""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"row refused, its tool calls and results do not pair: {problems[0]}{more}"
