"""Make text from data inert before a human reads it on a terminal.

Messages, agent names and file names come from session files, configs and clients: they may hold terminal control
sequences (clear the screen, set the window title, OSC 8 hyperlinks, cursor moves that overwrite earlier lines) or
bidirectional overrides that display text in another order than it is stored. :func:`inert` shows every such
character as a visible escape (``\\x1b``, ``\\x9b``, ``\\u202e``), so a sequence is printed, never obeyed. With
``one_line=True`` line breaks are shown as ``\\n``/``\\r`` too, so a name cannot start a forged ``Error:`` line.

Only for human-readable output: ``--json`` output and files keep the data exactly (JSON escapes control characters
itself).
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls; line and paragraph separators; bidi embeddings, overrides and
# isolates; zero-width joiners stay (emoji need them).
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
_MULTI_LINE = re.compile(f"[{_UNSAFE}]")
_ONE_LINE = re.compile(f"[{_UNSAFE}\n\t]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}


def _show(m: re.Match[str]) -> str:
    ch = m.group(0)
    named = _NAMED.get(ch)
    if named:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def inert(text: str, *, one_line: bool = False) -> str:
    """``text`` with every control character, escape sequence introducer and bidi override shown visibly.

    Newlines (and tabs) are kept unless ``one_line``; a carriage return is always shown, since it lets later text
    overwrite a line already printed.
    """
    pattern = _ONE_LINE if one_line else _MULTI_LINE
    return pattern.sub(_show, text) if pattern.search(text) else text


def is_inert(text: str, *, one_line: bool = False) -> bool:
    """Whether :func:`inert` would leave ``text`` unchanged."""
    return (_ONE_LINE if one_line else _MULTI_LINE).search(text) is None
