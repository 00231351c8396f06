"""The bundled local model reports a per-step history (TRL's log_history keys) so its runs have curves."""

from __future__ import annotations

from pathlib import Path

from agent_ft_cli.clients.local import DEFAULT_REPLY, HISTORY_STEPS, LocalLearningClient


def _thread(n: int) -> list[dict[str, str]]:
    out = []
    for i in range(n):
        out += [{"content": f"k{i}qa k{i}qb k{i}qc?", "role": "user"},  # made-up words: no question paraphrases another
                {"content": DEFAULT_REPLY, "role": "assistant"}]
    return out


def _prefs(n: int) -> list[dict[str, str]]:
    """One pair per question of the thread: the answer given (the default reply) rejected, a new one chosen."""
    return [{"prompt": f"k{i}qa k{i}qb k{i}qc?", "chosen": f"v{i}ra v{i}rb.", "rejected": DEFAULT_REPLY} for i in range(n)]


def test_learning_three_new_answers_is_three_steps_with_falling_loss(tmp_path: Path) -> None:
    client = LocalLearningClient({}, state_path=tmp_path / "s.json")
    stats = client.update_model(_prefs(3), _thread(3))
    history = stats["history"]
    assert [h["step"] for h in history] == [1, 2, 3] and history[-1]["epoch"] == 1.0
    losses = [h["loss"] for h in history]
    assert losses[0] > losses[1] > losses[2] and losses[-1] < losses[0] / 3
    assert [h["rewards/accuracies"] for h in history] == [round(1 / 3, 4), round(2 / 3, 4), 1.0]
    assert stats["margin_before"] < 0 < stats["margin_after"] == history[-1]["rewards/margins"]
    assert [m["pair"] for m in stats["margins"]] == [0, 1, 2] and stats["steps"] == 3


def test_many_pairs_are_learned_in_at_most_the_history_steps(tmp_path: Path) -> None:
    client = LocalLearningClient({}, state_path=tmp_path / "s.json")
    n = HISTORY_STEPS * 2 + 5
    stats = client.update_model(_prefs(n), _thread(n))
    assert len(stats["history"]) == HISTORY_STEPS and stats["learned"] == n
    assert stats["history"][-1]["rewards/accuracies"] == 1.0


def test_an_update_that_teaches_nothing_new_has_a_flat_history(tmp_path: Path) -> None:
    client = LocalLearningClient({}, state_path=tmp_path / "s.json")
    client.update_model(_prefs(1), _thread(1))
    again = client.update_model(_prefs(1), _thread(1))
    assert again["already_known"] == 1 and again["margin_before"] == again["margin_after"] > 0
