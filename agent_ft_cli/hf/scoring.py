"""How the Hugging Face client scores replies: log-probabilities of a reply after a thread, summed and per token.

* :func:`logprobs` gives, per candidate, the summed log-probability of its tokens and their count, the reply
  tokenised as the chat template writes an assistant turn (its end-of-turn token included): the quantity TRL's
  ``logps/chosen`` is, and what DPO's implicit reward is built from.
* ``HFClient.score`` is the mean per token (:data:`SCORE_LABEL`): a short answer does not beat a long one on
  length alone, so an untrained model's accuracy says something.
* The implicit reward of an update, as TRL's ``rewards/*``: ``beta * (log p_policy - log p_reference)`` summed over
  the reply, the reference being the model before the update (:func:`implicit_rewards`).
"""

from __future__ import annotations

from typing import Any, Protocol

from ..align import text_of

Message = dict[str, Any]

#: What ``HFClient.score`` means (``eval`` shows it as its comparison).
SCORE_LABEL = "mean log-probability per token of the chosen vs the rejected answer (the Hugging Face client's score)"


class Templating(Protocol):
    def _template(self, chat: list[Message], *, add_generation_prompt: bool, tools: Any = None) -> list[int]: ...


#: Most logits one batched forward pass may hold (positions x vocabulary, float32): batching saves the per-call
#: cost on small models and never holds more than one sequence's logits would on large ones.
LOGITS_BUDGET = 32 * 1024 * 1024


def logprobs(model: Any, client: Templating, chat: list[Message], candidates: list[Any]) -> list[tuple[float, int]]:
    """(summed log-probability, token count) of each candidate reply after the chat-template ``chat``."""
    return logprobs_many(model, client, [(chat, candidates)])[0]


def logprobs_many(model: Any, client: Templating, items: list[tuple[list[Message], list[Any]]]) -> list[list[tuple[float, int]]]:
    """:func:`logprobs` of many (chat, candidates) at once: the sequences go through the model in right-padded
    batches (an attention mask hides the padding, so each sequence's numbers are its own), as many per pass as
    :data:`LOGITS_BUDGET` allows."""
    import torch

    seqs: list[tuple[list[int], int]] = []  # (token ids of thread + reply, where the reply starts)
    for chat, candidates in items:
        prompt = client._template(chat, add_generation_prompt=True)
        for candidate in candidates:
            full = client._template([*chat, {"role": "assistant", "content": text_of(candidate) or ""}],
                                    add_generation_prompt=False)
            seqs.append((full, len(prompt) if full[: len(prompt)] == prompt else _common_prefix(prompt, full)))
    device = next(model.parameters()).device
    vocab = int(getattr(getattr(model, "config", None), "vocab_size", 0) or 0) or 1
    was_training = model.training
    model.eval()
    scored: list[tuple[float, int]] = []
    try:
        for batch in _batches(seqs, max(1, LOGITS_BUDGET // vocab)):
            width = max(len(ids) for ids, _ in batch)
            ids = torch.zeros((len(batch), width), dtype=torch.long, device=device)
            mask = torch.zeros_like(ids)
            for row, (full, _) in enumerate(batch):
                ids[row, : len(full)] = torch.tensor(full, dtype=torch.long)
                mask[row, : len(full)] = 1
            with torch.no_grad():
                logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
            picked = torch.log_softmax(logits, dim=-1).gather(2, ids[:, 1:].unsqueeze(2)).squeeze(2)
            for row, (full, start) in enumerate(batch):
                reply = picked[row, max(start - 1, 0) : len(full) - 1]
                scored.append((float(reply.sum()), int(reply.numel())))
    finally:
        model.train(was_training)
    out, at = [], 0
    for _, candidates in items:
        out.append(scored[at : at + len(candidates)])
        at += len(candidates)
    return out


def _batches(seqs: list[tuple[list[int], int]], budget: int) -> list[list[tuple[list[int], int]]]:
    """Consecutive sequences grouped so that (batch size x longest sequence) stays within ``budget`` positions
    (a sequence longer than that goes alone)."""
    out: list[list[tuple[list[int], int]]] = []
    for seq in seqs:
        if out and (len(out[-1]) + 1) * max(len(seq[0]), *(len(s) for s, _ in out[-1])) <= budget:
            out[-1].append(seq)
        else:
            out.append([seq])
    return out


def per_token(scored: list[tuple[float, int]]) -> list[float]:
    return [total / max(n, 1) for total, n in scored]


def implicit_rewards(beta: float, policy: list[float], reference: list[float]) -> list[float]:
    """TRL's implicit DPO reward of each reply: ``beta * (log p_policy - log p_reference)`` (summed log-probs)."""
    return [beta * (p - r) for p, r in zip(policy, reference, strict=True)]


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
