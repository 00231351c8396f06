"""How things look: rich views for people, plain JSON for scripts.

One serializer (:func:`to_json`) is shared by every command that prints or writes a message, a thread or a result,
so ``inspect --json``, ``update --json`` and ``export`` agree on how a message looks. JSON goes to stdout only;
talk (warnings, progress, summaries) goes to stderr through :func:`stderr_console`.
"""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

import orjson

from ..jsonio import json_default, sanitize, to_json
from ..textsafe import inert, legible

FOLD_CHARS = 600
FOLD_LINES = 12
_LONG = 20_000  # characters past which the terminal, not rich, wraps a message (see render_thread)


def write_json(value: Any) -> None:
    sys.stdout.buffer.write(to_json(value, indent=False) + b"\n")
    sys.stdout.buffer.flush()


def write_thread_json(
    agent: str, peer: str, messages: Iterable[Any], stream: IO[bytes] | None = None, *, session: str | None = None
) -> int:
    """Stream ``{"agent": ..., "peer": ..., "messages": [...]}`` without building the list; returns the count.

    Each message is a dict, or already its JSON text (bytes, from ``iter_thread(as_bytes=True)``). ``session``
    (several sessions, one object per line) is written first as ``"session"``."""
    out = stream or sys.stdout.buffer
    named = b'{"session":' + to_json(session) + b"," if session is not None else b"{"
    out.write(named + b'"agent":' + to_json(agent) + b',"peer":' + to_json(peer) + b',"messages":[')
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
    return itertools.chain(list(itertools.islice(it, limit)), it)


def plain_output(stream: Any = None) -> bool:
    """Whether ``stream`` (stdout by default) gets plain lines (no table padding, no hard wrap, no colour): it is not
    a terminal, or ``CI`` is set."""
    import os

    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    try:
        tty = (stream or sys.stdout).isatty()
    except (ValueError, AttributeError):
        tty = False
    return ci or not tty


def _console_class() -> Any:
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich exits 1 on a closed pipe; the CLI's one closed-pipe rule (exit 0, as with --json) decides instead
            raise BrokenPipeError()

    return _Console


def stderr_console() -> Any:
    return _console_class()(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def stdout_console() -> Any:
    """The console for human output on stdout: rich on a terminal; plain, unwrapped lines otherwise."""
    if plain_output():
        return _console_class()(
            highlight=False, soft_wrap=True, emoji=False, no_color=True, color_system=None, force_terminal=False
        )
    return _console_class()(highlight=False, soft_wrap=False, emoji=False)


def rule(console: Any) -> None:
    """A separator line: rich's on a terminal, ``---`` when plain (no padding to a width)."""
    if plain_output() or not (console.encoding or "").lower().startswith("utf"):
        console.print("---", style="dim")
    else:
        console.rule(style="dim")


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
    out.append(shown(role), style=f"bold {_ROLE_STYLE.get(role, 'white')}")
    if message.get("name"):
        out.append(f" ({shown(str(message['name']))})", style="dim")
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
        folded, more = _fold(text, full)
        if not tool_responses:
            out.append(inert(folded) + "\n")
            if more:
                out.append(more + "\n", style="dim italic")
    for call in tool_calls:
        fn = call.get("function", {}) if isinstance(call, dict) else {}
        fn = fn if isinstance(fn, dict) else {}
        out.append("→ tool call ", style="yellow")
        out.append(shown(f"{fn.get('name', '?')}({_short_json(fn.get('arguments', ''), 10_000 if full else 300)})"), style="bold")
        if isinstance(call, dict) and call.get("id"):
            out.append(f"  [{shown(str(call['id']))}]", style="dim")
        out.append("\n")
    if function_call:
        fc = function_call
        out.append("→ function call ", style="yellow")
        out.append(shown(f"{fc.get('name', '?')}({_short_json(fc.get('arguments', ''), 300)})") + "\n", style="bold")
    for resp in tool_responses:
        if not isinstance(resp, dict):
            continue
        folded, more = _fold(str(resp.get("content", "")), full)
        out.append("← tool response", style="yellow")
        if resp.get("tool_call_id"):
            out.append(f" [{shown(str(resp['tool_call_id']))}]", style="dim")
        out.append(": " + inert(folded) + "\n")
        if more:
            out.append(more + "\n", style="dim italic")
    if message.get("tool_call_id") and not tool_responses:
        out.append(f"(response to {shown(str(message['tool_call_id']))})\n", style="dim")
    out.rstrip()
    return out


def render_thread_header(
    console: Any,
    header: Mapping[str, Any],
    agent: str,
    peer: str,
    path: str,
    note: str = "",
    *,
    counts: dict[tuple[str, str], int] | None = None,
) -> None:
    from rich.text import Text

    agents = ", ".join(
        shown(str(a.get("name"))) + f" ({shown(str(a.get('class', '?')).rsplit('.', 1)[-1])})"
        for a in header.get("agents") or []
    )
    framework = header.get("framework")  # another framework's recording (ag2 1.x, AgentChat): it, not autogen
    recorded_by = (
        {"framework": shown(f"{framework.get('name')} {framework.get('version') or '(version unknown)'}")}
        if isinstance(framework, dict) and framework.get("name")
        else {"autogen": shown(str(header.get("autogen_version") or "unknown"))}
    )
    rows = {
        "session": shown(path),
        "format": shown(f"{header.get('format')} {header.get('version')}"),
        **recorded_by,
        "agents": agents,
        "thread": f"{shown(agent)}.chat_messages[{shown(peer)}]"
        + (f": {counts.get((agent, peer), 0)} message(s)" if counts is not None else "")
        + (f"  {note}" if note else ""),
    }
    if counts is not None:
        rows["threads"] = ", ".join(f"{shown(a)}→{shown(p)} {n}" for (a, p), n in counts.items()) or "none"
    if plain_output():  # plain `key: value` lines: nothing padded, wrapped or cut
        for key, value in rows.items():
            console.print(Text(f"{key}: {value}"))
    else:
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for key, value in rows.items():
            table.add_row(key, Text(value))
        console.print(table)
    rule(console)


def render_thread(console: Any, messages: Iterable[dict[str, Any]], *, full: bool) -> int:
    """Print messages one by one (memory stays flat); returns how many were printed."""
    n = 0
    for n, m in enumerate(messages, 1):
        view = message_renderable(n, m, full=full)
        # rich's word wrap grows faster than the text (a 10 MB message took 31 s): a long message is left to the
        # terminal to wrap, which costs time in proportion to its length
        console.print(view, soft_wrap=len(view) > _LONG or None)
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


def _cell(value: Any, plain: bool) -> str:
    """A stat as text: a long list indented, except in ``plain`` output (one line, compact JSON: never wrapped)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.6g}"
    return to_json(value, indent=not plain and isinstance(value, list) and len(to_json(value)) > 80).decode()


def _stat_rows(stats: Any, plain: bool) -> list[tuple[str, str]]:
    """The stats as (stat, text) rows: each leaf by its dotted key, or one row for a result that is no dict."""
    if not isinstance(stats, dict):
        return [("(result)", _cell(stats, plain))]
    if not stats:
        return [("(empty)", "the client returned no stats")]
    return [(key, _cell(value, plain)) for key, value in flatten(stats)]


def render_stats(console: Any, stats: Any, title: str = "update stats") -> None:
    from rich.table import Table
    from rich.text import Text

    if plain_output():  # plain `key: value` lines: nothing padded, wrapped or cut
        for key, value in _stat_rows(stats, plain=True):
            console.print(Text(f"{shown(key)}: {inert(value)}"))
        return
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("stat", style="bold")
    table.add_column("value", overflow="fold")
    # the one sanitizer --json and --output use: cycles, depth, keys, values
    for key, value in _stat_rows(sanitize(stats), plain=False):
        table.add_row(Text(key), Text(value))
    console.print(table)


def _status(check: Mapping[str, Any]) -> str:
    return "FAIL" if not check["ok"] else ("warn" if check.get("warnings") else "ok")


def checks_text(checks: Iterable[Mapping[str, Any]]) -> str:
    """The validation report as plain lines (``ok``/``warn``/``FAIL``, the check, its detail; each warning on its own
    indented line): no padding, no wrapping, every name made inert."""
    lines = []
    for c in checks:
        detail = c["detail"]
        if c.get("file") and not detail.startswith(c["file"]):
            detail = f"{c['file']}: {detail}"
        lines.append(f"{_status(c)}  {c['name']}  {shown(detail)}\n")
        lines.extend(f"  warning: {shown(w)}\n" for w in c.get("warnings") or [])
    return "".join(lines)


def render_checks(console: Any, checks: Iterable[Mapping[str, Any]]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="validation", title_justify="left")
    table.add_column("check", style="bold")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    styles = {"ok": "green", "warn": "yellow", "FAIL": "bold red"}
    for c in checks:
        status = _status(c)
        detail = "\n".join([shown(c["detail"]), *(f"warning: {shown(w)}" for w in c.get("warnings") or [])])
        table.add_row(c["name"], Text(status, style=styles[status]), Text(detail))
    console.print(table)


_REPR_SURROGATE = re.compile(r"\\udc([89a-f][0-9a-f])")


def shown(text: str) -> str:
    """``text`` as a human may safely read it: terminal sequences inert (:func:`agent_ft_cli.textsafe.inert`, on one
    line), and bytes of a path that were not UTF-8 (surrogate escapes) shown as ``\\xNN``."""
    text = legible(text)
    if "\\udc" in text:  # a path's byte as repr() spells its surrogate escape: show the byte
        text = _REPR_SURROGATE.sub(r"\\x\1", text)
    return inert(text, one_line=True)


_TEXT_COLUMNS = ("prompt", "question", "reply", "answer", "")


def table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    """A rich table on a terminal; tab-free aligned plain text otherwise (pipes, files, CI logs)."""
    console = stdout_console()
    rows = [[inert(cell, one_line=True) for cell in row] for row in rows]
    if console.is_terminal:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title, title_justify="left")
        for c in columns:  # text folds; names and numbers stay whole
            table.add_column(c, overflow="fold", no_wrap=c not in _TEXT_COLUMNS, min_width=len(c) if c not in _TEXT_COLUMNS else None)
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
        return
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    lines = [title, "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
