"""Terminal control sequences in data are shown, never obeyed: textsafe.inert."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent_ft_cli.textsafe import inert, is_inert

CLEAR = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;pwned\x07"
LINK = "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"


def test_escape_sequences_become_visible() -> None:
    assert inert(f"hi{CLEAR}there") == "hi\\x1b[2J\\x1b[Hthere"
    assert inert(TITLE) == "\\x1b]0;pwned\\x07"
    assert inert(LINK) == "\\x1b]8;;https://evil.example\\x1b\\click\\x1b]8;;\\x1b\\"
    assert inert("\x9b2J \x9d0;t\x9c") == "\\x9b2J \\x9d0;t\\x9c"  # C1 CSI / OSC / ST
    assert inert("a\rb\x08c\x7f") == "a\\rb\\x08c\\x7f"
    assert inert("abc\u202edcba") == "abc\\u202edcba"  # right-to-left override ("Trojan source")


def test_newlines_are_kept_unless_one_line() -> None:
    assert inert("line 1\nline 2\tx") == "line 1\nline 2\tx"
    forged = "alice\nError: the session is corrupt"
    assert inert(forged, one_line=True) == "alice\\nError: the session is corrupt"
    assert "\n" not in inert(forged + "\r\n", one_line=True)


def test_ordinary_text_is_unchanged() -> None:
    text = "Réponds en français 🌏 — 東京 café\\x1b (a literal backslash stays)"
    assert inert(text) == text and inert(text, one_line=True) == text and is_inert(text)


@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    for one_line in (False, True):
        out = inert(text, one_line=one_line)
        assert is_inert(out, one_line=one_line)
        bad = {c for c in out if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F}
        assert bad <= ({"\n", "\t"} if not one_line else set())


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Zl", "Zp"))))
def test_printable_text_passes_through(text: str) -> None:
    assert inert(text, one_line=True) == text
