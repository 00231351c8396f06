"""How things look: rich views for people, plain JSON for scripts.

One serializer (:func:`to_json`) is shared by every command that prints or writes a message, a thread or a result,
so ``inspect --json``, ``update --json`` and ``export`` agree on how a message looks. JSON goes to stdout only;
talk (warnings, progress, summaries) goes to stderr through :func:`stderr_console`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson

from ..jsonio import json_default, sanitize, to_json

FOLD_CHARS = 600
FOLD_LINES = 12


def write_json(value: Any, stream: IO[bytes] | None = None) -> None:
    out = stream or sys.stdout.buffer
    out.write(to_json(value, indent=False) + b"\n")
    out.flush()


def write_thread_json(agent: str, peer: str, messages: Iterable[Any], stream: IO[bytes] | None = None) -> int:
    """Stream ``{"agent": ..., "peer": ..., "messages": [...]}`` without building the list; returns the count.

    Each message is a dict, or already its JSON text (bytes, from ``iter_thread(as_bytes=True)``)."""
    out = stream or sys.stdout.buffer
    out.write(b'{"agent":' + to_json(agent) + b',"peer":' + to_json(peer) + b',"messages":[')
    n = 0
    buf: list[bytes] = []
    dumps, opts, sep = orjson.dumps, orjson.OPT_NON_STR_KEYS, b""  # to_json's fast path, inlined (hot loop)
    for m in messages:
        if type(m) is bytes:
            buf.append(m)
        else:
            try:
                buf.append(dumps(m, default=json_default, option=opts))
            except orjson.JSONEncodeError:
                buf.append(to_json(m))
        if len(buf) >= 512:
            out.write(sep + b",".join(buf))
            n += len(buf)
            sep = b","
            buf.clear()
    n += len(buf)
    out.write((sep if buf else b"") + b",".join(buf) + b"]}\n")
    out.flush()
    return n


def prefetch(items: Iterable[Any], limit: int = 5000) -> Iterator[Any]:
    """Pull up to ``limit`` items before yielding any, so that an error in a streamed source (a bad session line)
    surfaces before anything is printed; longer streams continue lazily after that."""
    it = iter(items)
    head = []
    for item in it:
        head.append(item)
        if len(head) >= limit:
            break
    return _then(head, it)


def _then(head: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    yield from head
    head.clear()
    yield from rest


def stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def stdout_console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


# ---------------------------------------------------------------------------------------------------------------
# thread view


def _fold(text: str, full: bool) -> tuple[str, str | None]:
    if full:
        return text, None
    lines = text.splitlines()
    if len(text) <= FOLD_CHARS and len(lines) <= FOLD_LINES:
        return text, None
    cut = "\n".join(lines[:FOLD_LINES])[:FOLD_CHARS]
    return cut, f"… {len(text) - len(cut)} more characters (--full shows all)"


def _short_json(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else to_json(value).decode()
    return text if len(text) <= limit else text[:limit] + "…"


_ROLE_STYLE = {"user": "cyan", "assistant": "green", "system": "magenta", "tool": "yellow", "function": "yellow"}


def message_renderable(index: int, message: dict[str, Any], *, full: bool) -> Any:
    """One message as a rich renderable: role, name, content (folded), tool calls and tool responses."""
    from rich.text import Text

    role = str(message.get("role", "?"))
    out = Text()
    out.append(f"#{index} ", style="dim")
    out.append(role, style=f"bold {_ROLE_STYLE.get(role, 'white')}")
    if message.get("name"):
        out.append(f" ({message['name']})", style="dim")
    out.append("\n")
    content = message.get("content")
    tool_calls = message.get("tool_calls")
    tool_calls = tool_calls if isinstance(tool_calls, list) else []  # a session is data: odd shapes never crash
    function_call = message.get("function_call")
    function_call = function_call if isinstance(function_call, dict) else None
    tool_responses = message.get("tool_responses")
    tool_responses = tool_responses if isinstance(tool_responses, list) else []
    if content is None:
        if not tool_calls and not function_call:
            out.append("(no content)\n", style="dim italic")
    else:
        text = content if isinstance(content, str) else _short_json(content, 10_000 if full else FOLD_CHARS)
        shown, more = _fold(text, full)
        if not tool_responses:
            out.append(shown + "\n")
            if more:
                out.append(more + "\n", style="dim italic")
    for call in tool_calls:
        fn = call.get("function", {}) if isinstance(call, dict) else {}
        fn = fn if isinstance(fn, dict) else {}
        out.append("→ tool call ", style="yellow")
        out.append(f"{fn.get('name', '?')}({_short_json(fn.get('arguments', ''), 10_000 if full else 300)})", style="bold")
        if isinstance(call, dict) and call.get("id"):
            out.append(f"  [{call['id']}]", style="dim")
        out.append("\n")
    if function_call:
        fc = function_call
        out.append("→ function call ", style="yellow")
        out.append(f"{fc.get('name', '?')}({_short_json(fc.get('arguments', ''), 300)})\n", style="bold")
    for resp in tool_responses:
        if not isinstance(resp, dict):
            continue
        shown, more = _fold(str(resp.get("content", "")), full)
        out.append("← tool response", style="yellow")
        if resp.get("tool_call_id"):
            out.append(f" [{resp['tool_call_id']}]", style="dim")
        out.append(": " + shown + "\n")
        if more:
            out.append(more + "\n", style="dim italic")
    if message.get("tool_call_id") and not tool_responses:
        out.append(f"(response to {message['tool_call_id']})\n", style="dim")
    out.rstrip()
    return out


def render_thread_header(
    console: Any,
    header: dict[str, Any],
    agent: str,
    peer: str,
    path: str,
    note: str = "",
    *,
    counts: dict[tuple[str, str], int] | None = None,
) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    agents = ", ".join(a["name"] + f" ({str(a.get('class', '?')).rsplit('.', 1)[-1]})" for a in header.get("agents") or [])
    rows = {
        "session": path,
        "format": f"{header.get('format')} {header.get('version')}",
        "autogen": str(header.get("autogen_version") or "unknown"),
        "agents": agents,
        "thread": f"{agent}.chat_messages[{peer}]"
        + (f": {counts.get((agent, peer), 0)} message(s)" if counts is not None else "")
        + (f"  {note}" if note else ""),
    }
    if counts is not None:
        rows["threads"] = ", ".join(f"{a}→{p} {n}" for (a, p), n in counts.items()) or "none"
    for key, value in rows.items():
        table.add_row(key, Text(value))
    console.print(table)
    console.rule(style="dim")


def render_thread(console: Any, messages: Iterable[dict[str, Any]], *, full: bool, first_index: int = 1) -> int:
    """Print messages one by one (memory stays flat); returns how many were printed."""
    n = 0
    for n, m in enumerate(messages, 1):
        console.print(message_renderable(first_index + n - 1, m, full=full))
    return n


# ---------------------------------------------------------------------------------------------------------------
# stats and reports


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested dicts as dotted keys; everything else as a leaf."""
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    else:
        yield prefix, value


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.6g}"
    return to_json(value, indent=isinstance(value, list) and len(to_json(value)) > 80).decode()


def render_stats(console: Any, stats: Any, title: str = "update stats") -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("stat", style="bold")
    table.add_column("value", overflow="fold")
    stats = sanitize(stats)  # the one sanitizer --json and --output use: cycles, depth, keys, values
    if not isinstance(stats, dict):
        table.add_row("(result)", Text(_cell(stats)))
    elif not stats:
        table.add_row("(empty)", Text("the client returned no stats"))
    else:
        for key, value in flatten(stats):
            table.add_row(Text(key), Text(_cell(value)))
    console.print(table)


def checks_text(checks: list[dict[str, Any]]) -> str:
    """The validation report as plain aligned lines: ``ok``/``FAIL``, the check, its detail."""
    width = max((len(c["name"]) for c in checks), default=0)
    return "".join(f"{'ok' if c['ok'] else 'FAIL':<4}  {c['name']:<{width}}  {c['detail']}\n" for c in checks)


def render_checks(console: Any, checks: list[dict[str, Any]]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="validation", title_justify="left")
    table.add_column("check", style="bold")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for c in checks:
        status = Text("ok", style="green") if c["ok"] else Text("FAIL", style="bold red")
        table.add_row(c["name"], status, Text(c["detail"]))
    console.print(table)
