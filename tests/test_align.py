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


IDK = "I don't know the answer to that."
THREE = [
    {"role": "user", "content": "What is the capital of Australia?"},
    {"role": "assistant", "content": IDK},
    {"role": "user", "content": "What is the capital of Peru?"},
    {"role": "assistant", "content": IDK},
    {"role": "user", "content": "Who wrote Hamlet?"},
    {"role": "assistant", "content": "  I don't know the answer\nto that. "},
]


def test_an_answer_given_to_several_questions_is_skipped_with_its_candidates() -> None:
    tied, [skip] = align([["The capital of Australia is Canberra.", IDK]], THREE)
    assert tied == []
    assert skip.kind is SkipKind.AMBIGUOUS
    for q in ("What is the capital of Australia?", "What is the capital of Peru?", "Who wrote Hamlet?"):
        assert q in skip.reason
    assert "'prompt'" in skip.reason


def test_an_explicit_prompt_picks_the_question_and_must_match_it() -> None:
    pairs = [
        {"prompt": "what is the capital of  PERU?", "chosen": "Lima.", "rejected": IDK},
        {"prompt": "Who wrote Hamlet?", "chosen": "Shakespeare.", "rejected": IDK},
        {"prompt": "What is the capital of Chile?", "chosen": "Santiago.", "rejected": IDK},
    ]
    tied, skipped = align(pairs, THREE)
    assert skipped == []
    got = {t.pair.index: (t.prompt, t.prompt_index, t.answer_index) for t in tied}
    assert got[0] == ("what is the capital of  PERU?", 2, 3)
    assert got[1] == ("Who wrote Hamlet?", 4, 5)
    # asked nowhere in the thread: tied to its own prompt alone, never to another question's answer
    assert got[2] == ("What is the capital of Chile?", None, None)


def test_a_turn_taken_by_an_earlier_pair_is_reported_as_consumed() -> None:
    thread = THREE[:2]
    tied, [skip] = align([["Canberra.", IDK], ["Canberra!", IDK]], thread)
    assert [(t.pair.index, t.answer_index) for t in tied] == [(0, 1)]
    assert skip.index == 1 and skip.kind is SkipKind.CONSUMED
    assert "already tied by pair 0" in skip.reason and "does not appear" not in skip.reason


def test_the_same_question_asked_twice_is_not_ambiguous() -> None:
    thread = THREE[:2] + THREE[:2]
    tied, skipped = align([["Canberra.", IDK], ["Canberra.", IDK]], thread)
    assert skipped == []
    assert [t.answer_index for t in tied] == [3, 1]  # the most recent first, then the next one


def test_tying_over_many_threads_sees_every_candidate_before_it_decides() -> None:
    from agent_ft_cli.align import Tying

    hamlet = [{"role": "user", "content": "Who wrote Hamlet?"}, {"role": "assistant", "content": IDK}]
    peru = [{"role": "user", "content": "What is the capital of Peru?"}, {"role": "assistant", "content": IDK}]
    pairs, _ = normalize_pairs(
        [
            {"prompt": "What is the capital of Peru?", "chosen": "Lima.", "rejected": IDK},
            {"prompt": "Who wrote Hamlet?", "chosen": "Shakespeare.", "rejected": IDK},
            ["Nobody knows.", IDK],
        ]
    )
    tying = Tying(pairs)
    tying.scan("hamlet", hamlet)
    tying.scan("peru", peru)
    tied, skipped = tying.resolve()
    assert {t.pair.index: (t.thread, t.prompt) for t in tied} == {
        0: ("peru", "What is the capital of Peru?"),
        1: ("hamlet", "Who wrote Hamlet?"),
    }
    [skip] = skipped  # both turns were taken by the pairs that named their question
    assert skip.index == 2 and skip.kind is SkipKind.CONSUMED
    # without prompts, two sessions answering two questions the same way are ambiguous, not "the first one"
    only, _ = normalize_pairs([["Lima.", IDK]])
    tying = Tying(only)
    tying.scan("hamlet", hamlet)
    tying.scan("peru", peru)
    assert tying.resolve()[1][0].kind is SkipKind.AMBIGUOUS


def test_a_tool_call_is_a_side_a_pair_can_have() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}}
    thread = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "content": "sunny", "tool_responses": [{"tool_call_id": "c1", "role": "tool", "content": "sunny"}]},
        {"role": "assistant", "content": "Sunny."},
    ]
    # the rejected side a tool call without text: found by its call (arguments compared as data, not as text)
    rejected = {"content": None, "tool_calls": [{"function": {"name": "weather", "arguments": '{ "city":"Paris" }'}}]}
    chosen_call = {"content": None, "tool_calls": [{"id": "c9", "type": "function", "function": {"name": "forecast", "arguments": "{}"}}]}
    tied, skipped = align([["It is sunny in Paris.", rejected], [chosen_call, "Sunny."]], thread)
    assert skipped == []
    assert [(t.pair.index, t.prompt, t.answer_index) for t in tied] == [(0, "Weather in Paris?", 1), (1, "Weather in Paris?", 3)]
