"""align: pairs tied to the prompt they answer, or skipped with a typed reason (code reads the kind, people the text)."""

from __future__ import annotations

from agent_ft_cli.align import SkipKind, Skipped, align, normalize_pairs

THREAD = [
    {"role": "user", "content": "Capital of France?"},
    {"role": "assistant", "content": "Lyon."},
    {"role": "assistant", "content": "Said without a question."},
]


def test_each_skip_has_its_kind_and_text() -> None:
    pairs = [["Paris.", "Lyon."], ["x", "never said"], "not a pair", [None, "y"]]
    tied, skipped = align(pairs, THREAD)
    assert [(t.pair.index, t.prompt, t.answer_index) for t in tied] == [(0, "Capital of France?", 1)]
    kinds = {s.index: (s.kind, s.reason) for s in skipped}
    assert kinds[1] == (SkipKind.NOT_FOUND, "the rejected answer does not appear in the thread")
    assert kinds[2][0] is SkipKind.NOT_A_PAIR and "not a [chosen, rejected] pair" in kinds[2][1]
    assert kinds[3] == (SkipKind.NO_CHOSEN_TEXT, "the chosen answer has no text")
    _, [first] = align([["z", "Said without a question."]], THREAD[2:])
    assert first.kind is SkipKind.NO_PROMPT
    assert normalize_pairs("nope")[1][0].kind is SkipKind.NOT_A_LIST


def test_skipped_stays_constructible_positionally() -> None:
    s = Skipped(3, "the prompt has no words")
    assert (s.index, s.reason, s.kind) == (3, "the prompt has no words", SkipKind.OTHER)
