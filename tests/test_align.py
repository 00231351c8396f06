"""align: pairs tied to the prompt they answer, or skipped with a typed reason (code reads the kind, people the text)."""

from __future__ import annotations

from typing import Any

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


# -- one decision over every conversation of a thread (review finding 2) -------------------------------------------

CONVS = [
    [{"role": "user", "content": "Capital of Australia?"}, {"role": "assistant", "content": IDK}],
    [{"role": "user", "content": "Capital of Peru?"}, {"role": "assistant", "content": "Lima."}],
    [{"role": "user", "content": "Who painted Guernica?"}, {"role": "assistant", "content": IDK}],
]


def test_the_other_conversations_of_the_thread_count_for_ambiguity_and_ties() -> None:
    from agent_ft_cli.align import RecordedThread, known_conversations

    pairs = [["Canberra.", IDK], ["Lima, Peru.", "Lima."]]
    assert [t.prompt for t in align(pairs, CONVS[2])[0]] == ["Who painted Guernica?"]  # one conversation: no way to know
    for given in (CONVS[2], list(CONVS[2]), [{"role": "system", "content": "SYS"}, *CONVS[2]], CONVS[2] + CONVS[1]):
        tied, [skip] = align(pairs, given, conversations=CONVS)
        assert skip.index == 0 and skip.kind is SkipKind.AMBIGUOUS and "Capital of Australia?" in skip.reason
        [t] = tied  # tied where its answer is, though that is not the conversation given
        assert (t.prompt, t.conversation, t.answer_index) == ("Capital of Peru?", CONVS[1], 1)
    # the join of every conversation: nothing else to look at
    joined = [m for c in CONVS for m in c]
    assert [s.kind for s in align(pairs, joined, conversations=CONVS)[1]] == [SkipKind.AMBIGUOUS]
    # registered by whoever knows them (a replay, agent-ft update): the same decision without the argument
    thread = list(CONVS[2])
    with known_conversations(thread, CONVS):
        assert [s.kind for s in align(pairs, thread)[1]] == [SkipKind.AMBIGUOUS]
        assert [s.kind for s in align(pairs, [{"role": "system", "content": "S"}, *thread])[1]] == [SkipKind.AMBIGUOUS]
    assert [s.kind for s in align(pairs, thread)[1]] == [SkipKind.NOT_FOUND]  # forgotten after the block

    # carried by the thread a replayed pair or agent-ft update hands the client: no registry, no id() keys
    carried = RecordedThread(CONVS[2], CONVS)
    assert carried == CONVS[2] and [s.kind for s in align(pairs, carried)[1]] == [SkipKind.AMBIGUOUS]
    carried.append({"role": "user", "content": "And?"})  # autogen appends to it as to any list
    assert [s.kind for s in align(pairs, carried)[1]] == [SkipKind.AMBIGUOUS]
    assert [s.kind for s in align(pairs, list(carried))[1]] == [SkipKind.NOT_FOUND]  # a plain copy carries nothing


def test_an_explicit_prompt_no_answer_answers_is_tied_to_that_prompt_alone_everywhere() -> None:
    """Asked and answered otherwise, or asked nowhere: the prompt says which question, the pair is its own
    preference (docs/export-import.md), the same with and without the other conversations."""
    pairs = [
        {"prompt": "capital of  PERU?", "chosen": "Lima, Peru.", "rejected": IDK},  # asked; answered "Lima."
        {"prompt": "Capital of Chile?", "chosen": "Santiago.", "rejected": IDK},  # asked nowhere
    ]
    for conversations in (None, CONVS):
        tied, skipped = align(pairs, CONVS[2], conversations=conversations)
        assert skipped == []
        assert [(t.prompt, t.prompt_index, t.answer_index, t.conversation) for t in tied] == [
            ("capital of  PERU?", None, None, None), ("Capital of Chile?", None, None, None)
        ]


def test_wrong_arguments_are_agent_ft_errors_naming_the_argument() -> None:
    import pytest

    from agent_ft_cli.errors import AgentFtError

    for messages, named in (("text", "messages must be a thread"), ({"role": "user"}, "not dict"), (["x"], r"messages\[0\] is a str")):
        with pytest.raises(AgentFtError, match=named):
            align([["a", "b"]], messages)  # type: ignore[arg-type]
    with pytest.raises(AgentFtError, match="conversations must be a list of threads"):
        align([["a", "b"]], [], conversations="abc")  # type: ignore[arg-type]
    with pytest.raises(AgentFtError, match=r"conversations\[1\]\[0\] is a int"):
        align([["a", "b"]], [], conversations=[[], [1]])  # type: ignore[list-item]


def test_a_tied_pair_gives_its_texts_as_str() -> None:
    [t], _ = align([[{"role": "assistant", "content": "Paris."}, "Lyon."]], THREAD)
    learned: dict[str, str] = {t.prompt: t.chosen_text}  # what mypy --strict sees: str, not str | None
    assert learned == {"Capital of France?": "Paris."} and t.rejected_text == "Lyon."


TYPED_LEARNER = '''
from typing import Any

from agent_ft_cli.align import align
from agent_ft_cli.clients.protocol import ModelClientBase, chat_response


class EchoLearner(ModelClientBase):
    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(config)
        self.learned: dict[str, str] = {}

    def create(self, params: dict[str, Any]) -> Any:
        return chat_response(self.learned.get(params["messages"][-1]["content"], "I don't know."), model=self.model)

    def update_model(self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        tied, skipped = align(preference_data, inference_messages)
        for t in tied:
            self.learned[t.prompt] = t.chosen_text
        return {"pairs": len(tied), "messages": len(inference_messages), "skipped": [s.reason for s in skipped]}
'''


def test_the_readme_learner_with_annotations_passes_mypy_strict(tmp_path: Any) -> None:
    """The README's EchoLearner, annotated as a user would (``dict[str, str]``), type-checks: a tied pair's prompt
    and chosen text are ``str`` (review finding 16). The README uses the same line."""
    import os
    import subprocess
    import sys

    import pytest
    from conftest import REPO

    pytest.importorskip("mypy")
    assert "self.learned[t.prompt] = t.chosen_text" in (REPO / "README.md").read_text(encoding="utf-8")
    script = tmp_path / "learner.py"
    script.write_text(TYPED_LEARNER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-executable", sys.executable, str(script)],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
