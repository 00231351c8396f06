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


def logprobs(model: Any, client: Templating, chat: list[Message], candidates: list[Any]) -> list[tuple[float, int]]:
    """(summed log-probability, token count) of each candidate reply after the chat-template ``chat``."""
    import torch

    prompt = client._template(chat, add_generation_prompt=True)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list[tuple[float, int]] = []
    try:
        for candidate in candidates:
            full = client._template([*chat, {"role": "assistant", "content": text_of(candidate) or ""}],
                                    add_generation_prompt=False)
            start = len(prompt) if full[: len(prompt)] == prompt else _common_prefix(prompt, full)
            ids = torch.tensor([full], device=device)
            with torch.no_grad():
                logits = model(input_ids=ids).logits[0, :-1].float()
            picked = torch.log_softmax(logits, dim=-1).gather(1, ids[0, 1:].unsqueeze(1)).squeeze(1)
            reply = picked[max(start - 1, 0) :]
            out.append((float(reply.sum()), int(reply.numel())))
    finally:
        model.train(was_training)
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
