"""Batched scoring (what ``update_model`` scores every pair with, before and after training) gives each sequence
the numbers it gets alone: the padding is masked, the reply's positions are its own, and a small logits budget
(one sequence per pass) changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_ft_cli.hf import scoring

THREADS = [
    ([{"role": "user", "content": "What is the capital of Australia?"}],
     ["The capital of Australia is Canberra.", "I don't know."]),
    ([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Tell me a joke."},
      {"role": "assistant", "content": "No."}, {"role": "user", "content": "Please, a long one about a chicken."}],
     ["Why did the chicken cross the road? To get to the other side, of course.", "Fox."]),
    ([{"role": "user", "content": "Say hello."}], ["Hello!", "Goodbye, and a much longer answer than the other one."]),
]


@pytest.mark.parametrize("budget", [scoring.LOGITS_BUDGET, 1])
def test_batched_scores_equal_each_sequence_scored_alone(tiny_model: Path, budget: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from agent_ft_cli.hf import HFClient

    client = HFClient({"model": str(tiny_model)})
    alone = [[_one(client, chat, c) for c in candidates] for chat, candidates in THREADS]
    monkeypatch.setattr(scoring, "LOGITS_BUDGET", budget)
    batched = scoring.logprobs_many(client.model, client, THREADS)
    assert [[n for _, n in row] for row in batched] == [[n for _, n in row] for row in alone]
    for got, want in zip(batched, alone, strict=True):
        assert [t for t, _ in got] == pytest.approx([t for t, _ in want], abs=1e-4)
    assert len({n for row in alone for _, n in row}) > 1  # the replies differ in length: padding was needed


def _one(client, chat: list[dict], candidate: str) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """The reply's summed log-probability computed directly: one unpadded sequence, no batching code."""
    import torch

    prompt = client._template(chat, add_generation_prompt=True)
    full = client._template([*chat, {"role": "assistant", "content": candidate}], add_generation_prompt=False)
    assert full[: len(prompt)] == prompt
    ids = torch.tensor([full])
    with torch.no_grad():
        logits = client.model(input_ids=ids).logits[0, :-1].float()
    picked = torch.log_softmax(logits, dim=-1).gather(1, ids[0, 1:].unsqueeze(1)).squeeze(1)[len(prompt) - 1 :]
    return float(picked.sum()), int(picked.numel())
