"""``HFClient``: a local Hugging Face causal LM as an autogen model client that learns in ``update_model``.

* ``create`` applies the model's own chat template to the thread (system and tool messages included when the
  template takes them), generates, and answers with a response every supported autogen line reads.
* ``score(messages, candidates)`` is the summed log-probability of each candidate reply after the thread.
* ``update_model`` ties each preference pair to the answer it judges (:func:`agent_ft_cli.align.align`), trains
  with TRL (:mod:`.train`: DPO, SFT or KTO; LoRA unless ``lora=False``), and publishes the result atomically as
  ``output_dir/current`` (:mod:`.checkpoint`). Every later client with the same ``output_dir`` starts from it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ..align import Aligned, align, prompt_thread, text_of
from ..clients.protocol import ModelClientBase, chat_response
from . import checkpoint as ckpt
from .errors import ModelNotFoundError, NoChatTemplateError, NothingTiedError, OutOfMemoryError

Message = dict[str, Any]

#: Generation settings read from the config entry, the client's keyword args, or ``create``'s params.
GENERATION_KEYS = ("max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "do_sample")


def chat_messages(messages: list[Message]) -> list[Message]:
    """autogen messages as chat-template messages: role, text content, tool calls and ids kept, the rest dropped."""
    out: list[Message] = []
    for m in messages:
        role = m.get("role") or "user"
        if role == "function":
            role = "tool"
        item: Message = {"role": role, "content": text_of(m) or ""}
        if m.get("tool_calls"):
            item["tool_calls"] = m["tool_calls"]
        if m.get("tool_call_id"):
            item["tool_call_id"] = m["tool_call_id"]
        if m.get("name") and role == "tool":
            item["name"] = m["name"]
        out.append(item)
    return out


def _system_merged(chat: list[Message]) -> list[Message]:
    """For templates that reject a system role: its text goes in front of the first user message."""
    system = "\n\n".join(m["content"] for m in chat if m["role"] == "system" and m["content"])
    rest = [dict(m) for m in chat if m["role"] != "system"]
    if system:
        first = next((m for m in rest if m["role"] == "user"), None)
        if first is None:
            rest.insert(0, {"role": "user", "content": system})
        else:
            first["content"] = f"{system}\n\n{first['content']}"
    return rest


class HFClient(ModelClientBase):
    """A custom autogen model client around a local causal LM, with ``update_model`` and ``score``.

    Args:
        config: the ``config_list`` entry: ``model`` (hub id or folder) and optionally generation settings.
        output_dir: where checkpoints go; its current checkpoint, when there is one, is loaded instead of ``model``.
        lora: LoRA settings (``r``, ``lora_alpha``, ``lora_dropout``, ``target_modules``) or False for full
            fine-tuning (so does ``full_finetune=True``).
        method: the default training method, ``dpo``, ``sft`` or ``kto``.
        train: default trainer settings (TRL config fields), overridden by ``update_model``'s keyword args.
        device, dtype: where and how to load the model (default: cuda when present, else cpu; the model's dtype).
        lock_timeout: seconds an update waits for another one writing the same ``output_dir`` (None: no limit).
        keep: how many finished checkpoints to keep in ``output_dir/runs``.
    """

    def __init__(
        self,
        config: dict[str, Any] | None = None,
        output_dir: str | os.PathLike[str] | None = None,
        *,
        model: str | None = None,
        lora: dict[str, Any] | bool | None = None,
        full_finetune: bool = False,
        method: str = "dpo",
        train: dict[str, Any] | None = None,
        device: str | None = None,
        dtype: str | None = None,
        lock_timeout: float | None = None,
        keep: int = 2,
        **kwargs: Any,
    ) -> None:
        config = dict(config or {})
        self.model_id = str(model or config.get("model") or "")
        if not self.model_id:
            raise ModelNotFoundError("the Hugging Face client needs a model: set 'model' in the config entry")
        self.output_dir = Path(output_dir).expanduser() if output_dir else None
        self.lora: dict[str, Any] | None = None if (lora is False or full_finetune) else dict(lora if isinstance(lora, dict) else {})
        self.method = method
        self.train_defaults = dict(train or {})
        self.lock_timeout = lock_timeout
        self.keep = int(keep)
        self.generation = {k: v for k, v in {**config, **kwargs}.items() if k in GENERATION_KEYS}
        self.device_name = device
        self.dtype_name = dtype
        self.loaded_from = ""
        self.tokenizer: Any = None
        self.model: Any = None
        self._load(ckpt.current_checkpoint(self.output_dir) or self.model_id)

    # -- loading ---------------------------------------------------------------------------------------------------
    def _device(self) -> str:
        import torch

        if self.device_name:
            return self.device_name
        if torch.cuda.is_available():
            return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        return "cpu"

    def _load(self, source: str | Path) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        source = str(source)
        local = Path(source).expanduser().is_dir()
        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
            model = AutoModelForCausalLM.from_pretrained(source, dtype=self.dtype_name or "auto")
        except (OSError, ValueError) as e:
            where = "the folder has no loadable model" if local else (
                "not a local folder, not in the Hugging Face cache, and the hub is not reachable (offline?)"
            )
            reason = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
            raise ModelNotFoundError(f"model {source!r} cannot be loaded: {where} ({reason})") from None
        if not getattr(tokenizer, "chat_template", None):
            raise NoChatTemplateError(
                f"model {source!r} has no chat template, so a thread cannot be turned into a prompt; use an instruct/"
                "chat model or set tokenizer.chat_template and save it with the model"
            )
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.tokenizer = tokenizer
        self.model = model.to(self._device())  # type: ignore[arg-type]
        self.model.eval()
        self.loaded_from = source

    # -- prompts ---------------------------------------------------------------------------------------------------
    def _template(self, chat: list[Message], *, add_generation_prompt: bool, tools: Any = None) -> list[int]:
        from jinja2.exceptions import TemplateError

        kwargs: dict[str, Any] = {"tokenize": True, "return_dict": True, "add_generation_prompt": add_generation_prompt}
        if tools:
            kwargs["tools"] = tools
        try:
            enc = self.tokenizer.apply_chat_template(chat, **kwargs)
        except TemplateError:
            if not any(m["role"] == "system" for m in chat):
                raise
            enc = self.tokenizer.apply_chat_template(_system_merged(chat), **kwargs)
        return list(enc["input_ids"])

    def prompt_ids(self, messages: list[Message], tools: Any = None) -> list[int]:
        """The token ids of the thread with the assistant turn opened, by the model's chat template."""
        return self._template(chat_messages(messages), add_generation_prompt=True, tools=tools)

    # -- ModelClient protocol --------------------------------------------------------------------------------------
    def create(self, params: dict[str, Any]) -> SimpleNamespace:
        import torch

        ids = self.prompt_ids(params.get("messages") or [], tools=params.get("tools"))
        settings = {"max_new_tokens": 128, **self.generation, **{k: params[k] for k in GENERATION_KEYS if k in params}}
        temperature = float(settings.pop("temperature", 0.0) or 0.0)
        sample = bool(settings.pop("do_sample", temperature > 0))
        if sample:
            settings["temperature"] = temperature or 1.0
        else:
            settings.pop("top_p", None)
            settings.pop("top_k", None)
        device = next(self.model.parameters()).device
        input_ids = torch.tensor([ids], device=device)
        try:
            with torch.no_grad():
                out = self.model.generate(
                    input_ids=input_ids,
                    attention_mask=torch.ones_like(input_ids),
                    do_sample=sample,
                    pad_token_id=self.tokenizer.pad_token_id,
                    **settings,
                )
        except torch.OutOfMemoryError:
            raise OutOfMemoryError(
                f"out of memory generating with {self.loaded_from!r} ({len(ids)} prompt tokens); lower max_new_tokens"
            ) from None
        new = out[0, len(ids) :].tolist()
        text = self.tokenizer.decode(new, skip_special_tokens=True).strip()
        return chat_response(text, model=self.model_id, prompt_tokens=len(ids), completion_tokens=len(new))

    # -- scoring ---------------------------------------------------------------------------------------------------
    def score(self, messages: list[Message], candidates: list[Any]) -> list[float]:
        """The summed log-probability of each candidate reply (a string or message) after ``messages``, the reply
        tokenised as the chat template writes an assistant turn (its end-of-turn token included)."""
        return score_with(self.model, self, messages, candidates)

    # -- learning --------------------------------------------------------------------------------------------------
    def update_model(
        self, preference_data: Any, inference_messages: list[Message], **kwargs: Any
    ) -> dict[str, Any]:
        """Train on the pairs tied to ``inference_messages``; publish a new current checkpoint; return the stats."""
        from . import is_main_process
        from .train import TrainSpec, settings_for, train

        tied, skipped = align(preference_data, inference_messages)
        reasons: dict[str, int] = {}
        for s in skipped:
            reasons[s.reason] = reasons.get(s.reason, 0) + 1
        if not tied:
            why = "; ".join(f"{n} x {r}" for r, n in reasons.items()) or "no pairs given"
            raise NothingTiedError(
                f"no preference pair is tied to an answer in the thread ({why}); nothing trained, checkpoint untouched"
            )
        settings = dict(kwargs)
        method = str(settings.pop("method", self.method)).lower()
        lora = settings.pop("lora", self.lora)
        if settings.pop("full_finetune", False):
            lora = None
        spec = TrainSpec(method=method, lora=None if lora is False else (dict(lora) if lora is not None else None),
                         settings=settings_for(method, settings, lora=lora not in (None, False),
                                              defaults=self.train_defaults))
        rows = [training_prompt(item, inference_messages) for item in tied]
        main = is_main_process()
        start = time.monotonic()
        lock = (
            ckpt.writer_lock(self.output_dir, timeout=self.lock_timeout)
            if self.output_dir is not None and main
            else contextlib.nullcontext()
        )
        with lock, contextlib.redirect_stdout(sys.stderr):
            before = [self.margin(p, c, r) for p, c, r in rows]
            staging = ckpt.new_staging(self.output_dir) if self.output_dir is not None and main else None
            result = train(self, rows, spec, scratch=staging)
            self.model = result.model
            after = [self.margin(p, c, r) for p, c, r in rows]
            path: Path | None = None
            if staging is not None and self.output_dir is not None:
                self.model.save_pretrained(staging)
                self.tokenizer.save_pretrained(staging)
                path = ckpt.publish(self.output_dir, staging, keep=self.keep)
                self.loaded_from = str(path)
            result.wait_for_everyone()
        return {
            "method": method,
            "finetuning": "full" if spec.lora is None else "lora",
            "model": self.model_id,
            "started_from": result.started_from,
            "pairs_seen": len(tied) + len(skipped),
            "pairs_used": len(tied),
            "pairs_skipped": len(skipped),
            "skipped_reasons": reasons,
            "training_rows": result.rows,
            "steps": result.steps,
            "seconds": round(time.monotonic() - start, 3),
            "metrics": result.metrics,
            "margin_before": _mean(before),
            "margin_after": _mean(after),
            "margins": [{"pair": item.pair.index, "before": round(b, 4), "after": round(a, 4)}
                        for item, b, a in zip(tied, before, after, strict=True)],
            "checkpoint": str(path) if path else None,
            "processes": result.processes,
        }

    def margin(self, prompt: list[Message], chosen: str, rejected: str) -> float:
        """log p(chosen | prompt) - log p(rejected | prompt) under the current model."""
        c, r = self.score(prompt, [chosen, rejected])
        return c - r


def training_prompt(item: Aligned, messages: list[Message]) -> tuple[list[Message], str, str]:
    """(prompt thread, chosen text, rejected text): the agent's own thread up to the answer the pair judges."""
    return chat_messages(prompt_thread(item, messages)), text_of(item.pair.chosen) or "", text_of(item.pair.rejected) or ""


def score_with(model: Any, client: HFClient, messages: list[Message], candidates: list[Any]) -> list[float]:
    import torch

    chat = chat_messages(messages)
    prompt = client._template(chat, add_generation_prompt=True)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    scores: list[float] = []
    try:
        for candidate in candidates:
            full = client._template([*chat, {"role": "assistant", "content": text_of(candidate) or ""}],
                                    add_generation_prompt=False)
            start = len(prompt) if full[: len(prompt)] == prompt else _common_prefix(prompt, full)
            ids = torch.tensor([full], device=device)
            with torch.no_grad():
                logits = model(input_ids=ids).logits[0, :-1].float()
            logps = torch.log_softmax(logits, dim=-1)
            targets = ids[0, 1:]
            picked = logps.gather(1, targets.unsqueeze(1)).squeeze(1)
            scores.append(float(picked[max(start - 1, 0) :].sum()))
    finally:
        model.train(was_training)
    return scores


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None
