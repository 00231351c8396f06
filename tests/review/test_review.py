"""The review core: replies, the prefs lines it appends, and every line tying to the very reply it was made on."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from agent_ft_cli.align import SkipKind, Tying, align, normalize_pairs
from agent_ft_cli.errors import UsageError
from agent_ft_cli.prefs import check_prefs_shape, latest, load_prefs
from agent_ft_cli.review import Review, label, list_replies
from agent_ft_cli.review.replies import correction_of
from agent_ft_cli.session import load_session

from .reviewkit import CAPITAL, DONT_KNOW


def conversations(chat: Path) -> list[list[dict]]:
    return load_session(chat).conversations("assistant", "user")  # type: ignore[return-value]


def lines(path: Path) -> list[dict]:
    return [orjson.loads(x) for x in path.read_bytes().splitlines()]


def test_replies_are_numbered_over_every_conversation_with_what_tying_needs(chat: Path) -> None:
    replies = list_replies(chat)
    assert [(r.number, r.conversation, r.turn) for r in replies] == [(1, 1, 1), (2, 1, 3), (3, 2, 1), (4, 3, 1), (5, 3, 3)]
    assert [r.prompt for r in replies[:4]] == [CAPITAL, "No: it is Canberra.", CAPITAL, "Who wrote 'Le Petit Prince'?"]
    # the same answer to the same question twice: told apart by occurrence; to another question: the prompt does
    assert [r.occurrence for r in replies] == [0, None, 1, None, None]
    assert len({r.key for r in replies}) == 5
    assert list_replies(chat, conversation=2) == [replies[2]]


def test_a_human_correction_is_proposed_and_a_new_question_is_not(chat: Path) -> None:
    replies = list_replies(chat)
    assert replies[0].proposal == "It is Canberra."
    assert replies[2].proposal is None  # "exit"
    assert replies[3].proposal is None  # "Tell me about rivers." asks something else
    assert correction_of("Wrong, the answer is 4.") == "The answer is 4."
    assert correction_of("The answer is 4.") == "The answer is 4."
    assert correction_of("Why?") is None


def test_a_session_whose_peer_is_not_a_human_proposes_nothing(tmp_path: Path) -> None:
    from .reviewkit import AGENTS, write_session

    AGENTS[1]["human_input_mode"] = "NEVER"
    try:
        assert all(r.proposal is None for r in list_replies(write_session(tmp_path / "bot.jsonl")))
    finally:
        AGENTS[1]["human_input_mode"] = "ALWAYS"


def test_the_three_answers_are_lines_update_eval_and_export_read(chat: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.jsonl"
    label(chat, prefs, reply=1, better="Canberra.")
    label(chat, prefs, reply=2, keep=True)
    label(chat, prefs, reply=3, bad=True)
    got = lines(prefs)
    assert {k: got[0][k] for k in ("prompt", "chosen", "rejected", "occurrence")} == {
        "prompt": CAPITAL, "chosen": "Canberra.", "rejected": DONT_KNOW, "occurrence": 0
    }
    assert (got[1]["completion"], got[1]["label"], "occurrence" in got[1]) == ("Thanks, noted.", True, False)
    assert (got[2]["completion"], got[2]["label"], got[2]["occurrence"]) == (DONT_KNOW, False, 1)
    assert [g["review"]["reply"] for g in got] == [1, 2, 3]
    data = load_prefs(prefs)
    pairs, skipped = normalize_pairs(data)
    assert ([p.index for p in pairs], skipped) == ([0], [])  # labels are not pairs, and not skips either
    assert check_prefs_shape(data) == []
    with_labels, _ = normalize_pairs(data, labels=True)
    assert [p.label for p in with_labels] == [None, True, False]


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("kind", ["better", "bad", "keep"])
def test_every_answer_ties_to_the_reply_it_was_made_on(chat: Path, tmp_path: Path, number: int, kind: str) -> None:
    prefs = tmp_path / "p.jsonl"
    label(chat, prefs, reply=number, **({"better": "A better answer."} if kind == "better" else {kind: True}))  # type: ignore[arg-type]
    reply = list_replies(chat)[number - 1]
    convs = conversations(chat)
    pairs, skipped = normalize_pairs(load_prefs(prefs), labels=True)
    tying = Tying(pairs)
    for k, conv in enumerate(convs):
        tying.scan(k, conv)  # type: ignore[arg-type]
    tied, more = tying.resolve()
    assert (skipped, more) == ([], [])
    assert [(t.thread + 1, t.answer_index) for t in tied] == [(reply.conversation, reply.turn)]


def test_all_answers_at_once_tie_each_to_its_own_reply_through_align(chat: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.jsonl"
    for n in (3, 4, 1):  # the second identical reply first: order in the file does not matter
        label(chat, prefs, reply=n, better=f"better {n}")
    convs = conversations(chat)
    tied, skipped = align(load_prefs(prefs), convs[-1], conversations=convs)  # as a client handed the live thread
    assert skipped == []
    where = {t.pair.chosen: (next(k for k, c in enumerate(convs, 1) if c is t.conversation), t.answer_index) for t in tied}
    assert where == {"better 3": (2, 1), "better 4": (3, 1), "better 1": (1, 1)}


def test_without_occurrence_the_second_identical_reply_would_be_tied_to_the_first(chat: Path) -> None:
    convs = conversations(chat)
    pair = {"prompt": CAPITAL, "chosen": "Canberra.", "rejected": DONT_KNOW}
    tied, _ = align([pair], convs[-1], conversations=convs)
    assert tied[0].conversation is convs[0]  # the rule without occurrence: why review writes it
    tied, _ = align([{**pair, "occurrence": 1}], convs[-1], conversations=convs)
    assert tied[0].conversation is convs[1]
    tied, skipped = align([{**pair, "occurrence": 2}], convs[-1], conversations=convs)
    assert tied == [] and skipped[0].kind is SkipKind.NOT_FOUND and "occurrence 2" in skipped[0].reason


def test_a_later_answer_to_the_same_reply_replaces_the_earlier_one(chat: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.jsonl"
    label(chat, prefs, reply=1, bad=True)
    label(chat, prefs, reply=2, keep=True)
    label(chat, prefs, reply=1, better="Canberra.")
    assert len(lines(prefs)) == 3  # appended, never rewritten
    data = load_prefs(prefs)
    assert [d["review"]["reply"] for d in data] == [2, 1] and data[1]["chosen"] == "Canberra."
    assert list_replies(chat, prefs=prefs)[0].answer == data[1]
    plain = [{"chosen": "a", "rejected": "b"}, {"chosen": "c", "rejected": "d"}]
    assert latest(plain) is plain


def test_resuming_shows_what_is_answered(chat: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.jsonl"
    label(chat, prefs, reply=2, keep=True)
    rv = Review.open(chat, prefs)
    assert [r.answer is not None for r in rv.replies] == [False, True, False, False, False]
    assert rv.answered() == 1


def test_appending_after_a_line_without_its_newline(chat: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.jsonl"
    prefs.write_text('{"chosen": "x", "rejected": "y"}', encoding="utf-8")
    label(chat, prefs, reply=1, keep=True)
    got = lines(prefs)
    assert got[0] == {"chosen": "x", "rejected": "y"} and got[1]["label"] is True


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"reply": 9, "keep": True}, "holds 5 replies"),
        ({"reply": 1}, "exactly one of"),
        ({"reply": 1, "bad": True, "keep": True}, "got bad, keep"),
        ({"reply": 1, "better": "  "}, "is empty"),
    ],
)
def test_label_refuses_what_it_cannot_write(chat: Path, tmp_path: Path, kwargs: dict, says: str) -> None:
    prefs = tmp_path / "p.jsonl"
    with pytest.raises(UsageError, match=says):
        label(chat, prefs, **kwargs)
    assert not prefs.exists() or not prefs.read_bytes()


@pytest.mark.parametrize("name", ["p.json", "-", "p.yaml"])
def test_the_prefs_file_must_be_json_lines(chat: Path, name: str) -> None:
    with pytest.raises(UsageError, match="jsonl"):
        label(chat, name, reply=1, keep=True)


def test_export_trl_kto_builds_one_row_per_label_on_its_reply(chat: Path, tmp_path: Path) -> None:
    from agent_ft_cli.export import export_rows

    prefs = tmp_path / "p.jsonl"
    label(chat, prefs, reply=3, bad=True)
    label(chat, prefs, reply=1, better="Canberra.")
    rows = export_rows(chat, format="trl-kto", prefs=load_prefs(prefs))
    assert [(r["completion"][0]["content"], r["label"]) for r in rows] == [
        ("Canberra.", True), (DONT_KNOW, False), (DONT_KNOW, False)
    ]
    preference = export_rows(chat, format="trl-preference", prefs=load_prefs(prefs))
    assert len(preference) == 1  # a label makes no preference row
