"""The ``agent-ft review`` screen, built on prompt_toolkit (full screen, any terminal size from 80x24 up).

One reply at a time: its conversation up to it (the question marked), the reply, and what is already answered or
proposed (a human's correction recorded right after it). The body scrolls (arrows, PgUp/PgDn, Home/End, the
mouse wheel); the bar on top says where you are, the one at the bottom which keys do what. Answers go through
:meth:`agent_ft_cli.review.Review.answer`, appended and flushed as they are given. Colours follow ``NO_COLOR``
(prompt_toolkit then renders in one bit: bold and reverse only). Ctrl-C leaves with ``"interrupt"`` (the command
exits 130); every answer given is already in the file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prompt_toolkit.application import Application
from prompt_toolkit.document import Document
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.layout import ConditionalContainer, HSplit, Layout, Window
from prompt_toolkit.layout.controls import FormattedTextControl
from prompt_toolkit.layout.dimension import Dimension
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.styles import Style
from prompt_toolkit.widgets import TextArea

from ..align import text_of
from . import Review
from .replies import Reply, verdict

STYLE = Style.from_dict(
    {
        "bar": "reverse",
        "keys": "reverse",
        "role": "bold ansicyan",
        "question": "bold ansiyellow",
        "reply": "bold ansigreen",
        "answer": "bold ansimagenta",
        "editor": "",
        "editor-title": "bold",
    }
)
KEYS = " k keep  r reject+better  b bad  s skip  p back  q quit  ↑↓ PgUp PgDn scroll"
EDIT_KEYS = " Enter save  Esc Enter new line  Esc cancel  Ctrl-C quit (answers kept)"


class _Lines(Lexer):
    """Styles whole lines of the body by the style given for each line."""

    def __init__(self) -> None:
        self.styles: list[str] = []

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        lines = document.lines

        def line(n: int) -> StyleAndTextTuples:
            style = self.styles[n] if n < len(self.styles) else ""
            return [(style, lines[n])] if n < len(lines) else []

        return line


def body_of(reply: Reply, total: int) -> tuple[str, list[str], int]:
    """The body text for ``reply``, a style per line, and the line its heading is on."""
    lines: list[str] = []
    styles: list[str] = []

    def add(text: str, style: str = "") -> None:
        for ln in text.split("\n"):
            lines.append(ln)
            styles.append(style)

    asked = max((i for i, m in enumerate(reply.context) if text_of(m) == reply.prompt and m.get("role") == "user"), default=-1)
    for i, m in enumerate(reply.context):
        who = m.get("name") or m.get("role") or "?"
        mark = "  (the question)" if i == asked else ""
        add(f"── {who} ({m.get('role')}){mark}", "class:role")
        add(_shown(m), "class:question" if i == asked else "")
    heading = len(lines)
    occ = f" · occurrence {reply.occurrence}" if reply.occurrence is not None else ""
    add(f"━━ reply {reply.number} of {total} · conversation {reply.conversation} · turn {reply.turn}{occ} ━━", "class:reply")
    add(_shown(reply.message))
    given = verdict(reply.answer)
    if given is not None:
        add("── answered: " + {"better": "rejected, better answer:", "bad": "bad", "keep": "kept"}[given], "class:answer")
        if given == "better" and reply.answer is not None:
            add(text_of(reply.answer.get("chosen")) or "")
    elif reply.proposal is not None:
        add("── proposed better answer (the human's reply after it; r to edit and save)", "class:answer")
        add(reply.proposal)
    return "\n".join(lines), styles, heading


def _shown(message: dict[str, Any]) -> str:
    text = text_of(message)
    if text:
        return text
    calls = [c.get("function", {}) for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    if calls:
        return "\n".join(f"[tool call] {f.get('name')}({f.get('arguments')})" for f in calls)
    return "(no text)"


def _rows(text: str, width: int = 78, most: int = 6) -> int:
    """How many rows the editor takes: its text's lines, wrapped, at most ``most``."""
    return max(1, min(most, sum(1 + len(ln) // width for ln in text.split("\n"))))


class Screen:
    """The state of one review screen (kept apart from prompt_toolkit's objects so it can be tested)."""

    def __init__(self, review: Review) -> None:
        self.review = review
        self.replies = review.shown()
        first = next((i for i, r in enumerate(self.replies) if r.answer is None), 0)
        self.index = first
        self.status = "resuming: " + self._progress() if review.answered() else self._progress()
        self.editing = False

    @property
    def reply(self) -> Reply:
        return self.replies[self.index]

    def _progress(self) -> str:
        return f"{self.review.answered()}/{len(self.replies)} answered"

    def answer(self, kind: str, better: str | None = None) -> bool:
        """Record the answer and move on; True when every reply now has an answer (the review is done)."""
        r = self.reply
        self.review.answer(r, kind, better)
        if all(x.answer is not None for x in self.replies):
            return True  # every reply answered: done
        self.next()
        self.status = f"reply {r.number}: {kind} (saved) · {self._progress()}"
        return False

    def next(self) -> bool:
        """Move to the next reply (from the last: to the first without an answer); True when there is none left."""
        self.status = self._progress()
        if self.index + 1 < len(self.replies):
            self.index += 1
            return False
        left = next((i for i, r in enumerate(self.replies) if r.answer is None), None)
        if left is None:
            return True
        self.index = left
        self.status = f"back to the first unanswered · {self._progress()}"
        return False

    def back(self) -> None:
        self.status = self._progress()
        if self.index:
            self.index -= 1
        else:
            self.status = "this is the first reply"

    def header(self) -> str:
        r = self.reply
        given = verdict(r.answer)
        state = f" · [{given}]" if given else ""
        return f" review {self.review.agent}->{self.review.peer} · reply {r.number} ({self.index + 1}/{len(self.replies)}){state} · {self.status}"


def run_screen(review: Review) -> str:
    """Run the screen until the user quits (``"quit"``), answers the last reply (``"done"``) or presses Ctrl-C
    (``"interrupt"``)."""
    if not review.shown():
        return "done"
    screen = Screen(review)
    lexer = _Lines()
    body = TextArea(read_only=True, scrollbar=True, wrap_lines=True, lexer=lexer, focus_on_click=True)
    editor = TextArea(multiline=True, wrap_lines=True, height=lambda: Dimension.exact(_rows(editor.text)), style="class:editor")
    editing = Condition(lambda: screen.editing)

    def show() -> None:
        text, styles, heading = body_of(screen.reply, len(review.replies))
        lexer.styles = styles
        offset = sum(len(ln) + 1 for ln in text.split("\n")[:heading])
        body.document = Document(text, cursor_position=offset)
        body.window.vertical_scroll = max(0, heading - 2)

    kb = KeyBindings()

    @kb.add("c-c")
    def _interrupt(event: Any) -> None:
        event.app.exit(result="interrupt")

    @kb.add("q", filter=~editing)
    def _quit(event: Any) -> None:
        event.app.exit(result="quit")

    def answered(event: Any, kind: str, better: str | None = None) -> None:
        if screen.answer(kind, better):
            event.app.exit(result="done")
        else:
            show()

    for key, kind in (("k", "keep"), ("b", "bad")):
        kb.add(key, filter=~editing)(lambda event, kind=kind: answered(event, kind))

    @kb.add("s", filter=~editing)
    @kb.add("n", filter=~editing)
    @kb.add("right", filter=~editing)
    def _skip(event: Any) -> None:
        if screen.next():
            event.app.exit(result="done")
        else:
            show()

    @kb.add("p", filter=~editing)
    @kb.add("left", filter=~editing)
    def _back(event: Any) -> None:
        screen.back()
        show()

    @kb.add("r", filter=~editing)
    @kb.add("e", filter=~editing)
    def _reject(event: Any) -> None:
        r = screen.reply
        prefill = (text_of(r.answer.get("chosen")) if r.answer is not None and "chosen" in r.answer else None) or r.proposal or ""
        editor.buffer.document = Document(prefill, len(prefill))
        screen.editing = True
        event.app.layout.focus(editor)

    @kb.add("enter", filter=editing)
    def _save(event: Any) -> None:
        text = editor.text
        if not text.strip():
            screen.status = "type the better answer first (Esc cancels)"
            return
        screen.editing = False
        event.app.layout.focus(body)
        answered(event, "better", text)

    @kb.add("escape", "enter", filter=editing)
    def _newline(event: Any) -> None:
        editor.buffer.insert_text("\n")

    @kb.add("escape", filter=editing)
    def _cancel(event: Any) -> None:
        screen.editing = False
        screen.status = "cancelled"
        event.app.layout.focus(body)

    @kb.add("home", filter=~editing)
    def _top(event: Any) -> None:
        body.buffer.cursor_position = 0

    @kb.add("end", filter=~editing)
    def _bottom(event: Any) -> None:
        body.buffer.cursor_position = len(body.text)

    top = Window(FormattedTextControl(lambda: [("class:bar", screen.header())]), height=1, style="class:bar")
    edit_title = Window(
        FormattedTextControl(lambda: [("class:editor-title", f" better answer for reply {screen.reply.number}:")]),
        height=1,
    )
    bottom = Window(
        FormattedTextControl(lambda: [("class:keys", EDIT_KEYS if screen.editing else KEYS)]),
        height=Dimension(min=1, max=2),
        wrap_lines=True,
        style="class:keys",
    )
    root = HSplit([top, body, ConditionalContainer(HSplit([edit_title, editor]), filter=editing), bottom])
    show()
    app: Application[str] = Application(
        layout=Layout(root, focused_element=body),
        key_bindings=kb,
        style=STYLE,
        full_screen=True,
        mouse_support=True,
    )
    return app.run() or "quit"
