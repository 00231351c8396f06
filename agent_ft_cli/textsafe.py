"""Make text from data inert before a human reads it on a terminal.

Messages, agent names and file names come from session files, configs and clients: they may hold terminal control
sequences (clear the screen, set the window title, OSC 8 hyperlinks, cursor moves that overwrite earlier lines) or
bidirectional overrides that display text in another order than it is stored. :func:`inert` shows every such
character as a visible escape (``\\x1b``, ``\\x9b``, ``\\u202e``), so a sequence is printed, never obeyed. With
``one_line=True`` line breaks are shown as ``\\n``/``\\r`` too, so a name cannot start a forged ``Error:`` line.

Only for human-readable output: ``--json`` output and files keep the data exactly (JSON escapes control characters
itself).

Text the operating system gave as bytes (command-line arguments, file names) follows one rule, documented in
docs/cli.md ("Bytes, locales and file names"):

- :func:`typed_text` is what an argument *means* as text (a message, an agent name): its bytes as the user typed
  them (``os.fsencode``), read as UTF-8 when they are valid UTF-8, else in the locale's encoding; ``None`` when
  they are neither (the caller refuses the argument: no text is invented for training data).
- :func:`legible` is how a file name that is not valid text is written where only text can go (``--json``
  output, an ``Error:`` line): each byte the locale could not decode (Python keeps it as a surrogate escape) is
  read with its neighbours as UTF-8 where that is valid, else shown as the four characters ``\\xNN``. The file
  itself is always opened with its exact bytes.
"""

from __future__ import annotations

import codecs
import os
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


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def locale_codec() -> str:
    """The locale's own encoding (``LC_CTYPE``), even in Python's UTF-8 mode; the filesystem encoding elsewhere."""
    import sys

    try:
        import locale

        name = locale.nl_langinfo(locale.CODESET)
        return codecs.lookup(name).name if name else sys.getfilesystemencoding()
    except (AttributeError, LookupError, ValueError):  # Windows has no nl_langinfo; an unknown codeset
        return sys.getfilesystemencoding()


def typed_text(value: str) -> str | None:
    """The text the user typed for a command-line argument, or ``None`` when its bytes are text in no encoding tried.

    The argument's bytes are recovered exactly (``os.fsencode`` undoes Python's decoding of ``argv``), then read as
    UTF-8 if they are valid UTF-8 (so ``\\xc3\\xa0`` is ``à`` in a C or Latin-1 locale too), else in the locale's
    encoding (``\\xe0`` is ``à`` in a Latin-1 locale). Bytes valid in neither (``\\xe0`` in a C locale) give ``None``.
    """
    if value.isascii():
        return value
    try:
        raw = os.fsencode(value)
    except UnicodeEncodeError:  # not a string from argv (built by a caller): it is text already
        return None if _has_surrogates(value) else value
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if not _has_surrogates(value):
        return value  # the locale (which decoded argv) read every byte: that is the text
    try:  # in Python's UTF-8 mode argv was read as UTF-8; the locale may still be Latin-1
        return raw.decode(locale_codec())
    except (UnicodeDecodeError, LookupError):
        return None


def undecodable(value: str) -> str:
    """The first bytes of ``value`` that :func:`typed_text` could not read, shown as ``\\xNN`` (for a message)."""
    try:
        raw = os.fsencode(value)
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "surrogatepass")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return "".join(f"\\x{b:02x}" for b in raw[e.start : e.end]) + f" at byte {e.start}"
    return "?"


def legible(text: str) -> str:
    """``text`` with the bytes a file name held that were not decodable (surrogate escapes) made into valid text:
    a run of them that is valid UTF-8 becomes its characters, any other byte ``\\xNN``. Text without surrogates is
    returned unchanged; the result always encodes as UTF-8."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is not an escaped byte (from JSON "\ud800", say)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
