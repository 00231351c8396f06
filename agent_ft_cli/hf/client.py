"""``HFClient``: a local Hugging Face causal LM as an autogen model client that learns in ``update_model``.

* ``create`` applies the model's own chat template to the thread (system and tool messages included when the
  template takes them), generates, and answers with a response every supported autogen line reads.
* ``score(messages, candidates)`` is the mean log-probability per token of each candidate reply after the thread
  (:mod:`.scoring`: length-fair); ``logprobs`` the summed one (TRL's ``logps``); ``reward`` the implicit reward of
  this process's update (the policy's log-ratio to the model it started from, as TRL's ``rewards/*``).
* ``update_model`` ties each preference pair to the answer it judges (:func:`agent_ft_cli.align.align`), checks the
  pairs, the settings and the ``output_dir`` before the weights are loaded (they load on first use), trains with
  TRL (:mod:`.train`: DPO, SFT or KTO; LoRA unless ``lora=False``), and publishes the result atomically as
  ``output_dir/current`` (:mod:`.checkpoint`). Every later client with the same ``output_dir`` starts from it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ..align import Aligned, align, prompt_thread, text_of
from ..clients.protocol import ModelClientBase, chat_response, rounded_mean
from ..redact import describe_exception
from . import checkpoint as ckpt
from . import preflight as checks
from .errors import CheckpointWriteError, ModelNotFoundError, NoChatTemplateError, NothingTiedError, OutOfMemoryError
from .scoring import SCORE_LABEL, implicit_rewards, logprobs, logprobs_many, per_token

Message = dict[str, Any]

#: Generation settings read from the config entry, the client's keyword args, or ``create``'s params.
GENERATION_KEYS = ("max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "do_sample")
#: Set to 1 by ``agent-ft update -q``: the client then silences its libraries' progress bars and notices.
QUIET_ENV = "AGENT_FT_QUIET"
#: DPO's beta when the settings give none (TRL's default), for the implicit reward of other methods too.
DEFAULT_BETA = 0.1


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
        self.score_label = SCORE_LABEL
        self._model: Any = None
        self._reference: Any = None  # how to get the model this process's update started from (see ``reward``)
        current = ckpt.current_checkpoint(self.output_dir)
        self.loaded_from = str(current or self.model_id)
        checks.check_model(self.loaded_from)  # config.json and tokenizer files only: no weights yet
        self.tokenizer = self._load_tokenizer(self.loaded_from)

    @staticmethod
    def preflight(config_entry: dict[str, Any] | None, client_args: dict[str, Any] | None,
                  update_kwargs: dict[str, Any] | None = None, preference_data: Any = None) -> list[str]:
        """Checks before anything is loaded (``validate``, ``update``): the model folder or hub id resolves, its
        config is a causal LM, a tokenizer and a chat template exist; for an update also the pairs (some given),
        ``output_dir`` and the trainer setting names. Raises the typed error the constructor or ``update_model``
        would; imports no torch, transformers or TRL. Returns what it could not check that way (notes)."""
        return checks.preflight(config_entry, client_args, update_kwargs, preference_data)

    # -- loading ---------------------------------------------------------------------------------------------------
    def _device(self) -> str:
        import torch

        if self.device_name:
            return self.device_name
        if torch.cuda.is_available():
            return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        return "cpu"

    @staticmethod
    def _load_tokenizer(source: str) -> Any:
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
        except (OSError, ValueError) as e:
            raise ModelNotFoundError(f"model {source!r} cannot be loaded: its tokenizer does not load ({describe_exception(e, limit=200)})") from None
        if not getattr(tokenizer, "chat_template", None):
            raise NoChatTemplateError.of(source)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        return tokenizer

    @property
    def model(self) -> Any:
        """The model, its weights loaded on first use (so an update's checks come before the load)."""
        if self._model is None:
            self._model = self._load_weights(self.loaded_from)
        return self._model

    @model.setter
    def model(self, value: Any) -> None:
        self._model = value

    def _load_weights(self, source: str) -> Any:
        from transformers import AutoModelForCausalLM

        from .train import quiet_libraries

        with quiet_libraries(os.environ.get(QUIET_ENV) == "1"):
            try:
                model = AutoModelForCausalLM.from_pretrained(source, dtype=self.dtype_name or "auto")
            except MemoryError:
                raise
            except Exception as e:  # OSError, ValueError, safetensors' own SafetensorError, ...
                raise ModelNotFoundError(f"model {source!r} cannot be loaded: {_weights_problem(source, e)}") from None
        model = model.to(self._device())  # type: ignore[arg-type]
        model.eval()
        return model

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

    # -- ModelClient protocol --------------------------------------------------------------------------------------
    def create(self, params: dict[str, Any]) -> SimpleNamespace:
        import torch

        ids = self._template(chat_messages(params.get("messages") or []), add_generation_prompt=True, tools=params.get("tools"))
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
        """The mean log-probability per token of each candidate reply (a string or message) after ``messages``, the
        reply tokenised as the chat template writes an assistant turn (its end-of-turn token included): a margin
        between two answers that their lengths do not decide."""
        return per_token(logprobs(self.model, self, chat_messages(messages), candidates))

    def logprobs(self, messages: list[Message], candidates: list[Any]) -> list[float]:
        """The summed log-probability of each candidate reply after ``messages`` (TRL's ``logps/chosen``)."""
        return [total for total, _ in logprobs(self.model, self, chat_messages(messages), candidates)]

    def reward(self, messages: list[Message], candidates: list[Any]) -> list[float] | None:
        """The implicit reward of each candidate under this process's last update, as TRL's ``rewards/chosen``:
        ``beta * (log p_now - log p_before)`` (summed over the reply); None before any update here. With LoRA the
        model before is the same model with its adapter disabled; after full fine-tuning, DPO's reference copy."""
        if self._reference is None:
            return None
        beta, reference = self._reference
        chat = chat_messages(messages)
        now = [t for t, _ in logprobs(self.model, self, chat, candidates)]
        if reference == "adapter":
            with self.model.disable_adapter():
                before = [t for t, _ in logprobs(self.model, self, chat, candidates)]
        else:
            before = [t for t, _ in logprobs(reference, self, chat, candidates)]
        return implicit_rewards(beta, now, before)

    # -- learning --------------------------------------------------------------------------------------------------
    def update_model(
        self, preference_data: Any, inference_messages: list[Message], **kwargs: Any
    ) -> dict[str, Any]:
        """Train on the pairs tied to ``inference_messages``; publish a new current checkpoint; return the stats.

        Everything that can be refused without the model is refused first: no pair tied, an unknown setting, no
        ``output_dir`` (``output_dir`` may also be given here). The weights load after that."""
        from . import is_main_process
        from .train import TrainSpec, quiet_libraries, settings_for, train

        tied, skipped = align(preference_data, inference_messages)
        reasons = dict(Counter(s.reason for s in skipped))
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
        output_dir = Path(settings.pop("output_dir")).expanduser() if settings.get("output_dir") else self.output_dir
        spec = TrainSpec(method=method, lora=None if lora is False else (dict(lora) if lora is not None else None),
                         settings=settings_for(method, settings, lora=lora not in (None, False),
                                              defaults=self.train_defaults))
        checks.require_output_dir(output_dir)
        assert output_dir is not None
        beta = float(spec.settings.get("beta", DEFAULT_BETA))
        quiet = os.environ.get(QUIET_ENV) == "1"
        rows = [training_prompt(item, inference_messages) for item in tied]
        main = is_main_process()
        start = time.monotonic()
        if _is_peft(self._model):
            self.model = self.model.merge_and_unload()  # a second update in this process starts from the first
        self._reference = None
        lock = ckpt.writer_lock(output_dir, timeout=self.lock_timeout) if main else contextlib.nullcontext()
        with lock, contextlib.redirect_stdout(sys.stderr), quiet_libraries(quiet):
            before = logprobs_many(self.model, self, [(p, [c, r]) for p, c, r in rows])
            staging = ckpt.new_staging(output_dir) if main else None
            try:
                result = train(self, rows, spec, scratch=staging, quiet=quiet)
                self.model = result.model
                after = logprobs_many(self.model, self, [(p, [c, r]) for p, c, r in rows])
                ref = "adapter" if spec.lora is not None else result.reference
                self._reference = (beta, ref) if ref is not None else None
                stats = self._stats(method, spec, tied, skipped, reasons, result, before, after, beta, start)
                path: Path | None = None
                if staging is not None:
                    self._save_run(staging, spec, stats)
                    path = ckpt.publish(output_dir, staging, keep=self.keep)
                    self.loaded_from = str(path)
            except BaseException:
                ckpt.remove_staging(staging)  # on every way out: an error, Ctrl-C, SIGTERM, a full disk
                raise
            result.wait_for_everyone()
        stats["checkpoint"] = str(path) if path else None
        stats["run_dir"] = str(path) if path else None
        stats["seconds"] = round(time.monotonic() - start, 3)
        return stats

    def _stats(self, method: str, spec: Any, tied: list[Aligned], skipped: list[Any], reasons: dict[str, int],
               result: Any, before: list[list[tuple[float, int]]], after: list[list[tuple[float, int]]],
               beta: float, start: float) -> dict[str, Any]:
        summed = [b[0][0] - b[1][0] for b in before], [a[0][0] - a[1][0] for a in after]
        token = [per_token(b)[0] - per_token(b)[1] for b in before], [per_token(a)[0] - per_token(a)[1] for a in after]
        rewards = [(beta * (a[0][0] - b[0][0]), beta * (a[1][0] - b[1][0])) for b, a in zip(before, after, strict=True)]
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
            "margin_before": rounded_mean(summed[0]),
            "margin_after": rounded_mean(summed[1]),
            "token_margin_before": rounded_mean(token[0]),
            "token_margin_after": rounded_mean(token[1]),
            "reward_margin": rounded_mean([c - r for c, r in rewards]),
            "reward_accuracy": rounded_mean([float(c > r) for c, r in rewards]),
            "margins": [
                {"pair": item.pair.index, "before": round(b, 4), "after": round(a, 4), "token_before": round(tb, 4),
                 "token_after": round(ta, 4), "reward_chosen": round(rc, 4), "reward_rejected": round(rr, 4),
                 "reward_margin": round(rc - rr, 4)}
                for item, b, a, tb, ta, (rc, rr) in zip(tied, *summed, *token, rewards, strict=True)
            ],
            "history": result.history,
            "checkpoint": None,
            "run_dir": None,
            "processes": result.processes,
        }

    def _save_run(self, staging: Path, spec: Any, stats: dict[str, Any]) -> None:
        """The run's folder: the merged model and tokenizer (what ``current`` serves), with LoRA the adapter in
        PEFT's format under ``adapter/``, and ``agent-ft-run.json``. A full disk removes it and says so."""
        import copy

        from ..jsonio import to_json

        try:
            if spec.lora is not None:
                self.model.save_pretrained(staging / ckpt.ADAPTER)
                merged = copy.deepcopy(self.model).merge_and_unload()
            else:
                merged = self.model
            merged.save_pretrained(staging)
            self.tokenizer.save_pretrained(staging)
            if spec.lora is not None:
                self.tokenizer.save_pretrained(staging / ckpt.ADAPTER)
            record = {k: v for k, v in stats.items() if k not in ("history", "checkpoint", "run_dir")}
            (staging / ckpt.RUN_RECORD).write_bytes(to_json({**record, "adapter": ckpt.ADAPTER if spec.lora else None},
                                                            indent=True) + b"\n")
        except OSError as e:
            raise CheckpointWriteError(
                f"the checkpoint could not be written to {str(staging.parent)!r} ({e.strerror or e}); the trained "
                "model was NOT published: current is unchanged and the partial run was removed"
            ) from None

    def margin(self, prompt: list[Message], chosen: str, rejected: str) -> float:
        """log p(chosen | prompt) - log p(rejected | prompt) under the current model (summed over each reply)."""
        c, r = self.logprobs(prompt, [chosen, rejected])
        return c - r


def training_prompt(item: Aligned, messages: list[Message]) -> tuple[list[Message], str, str]:
    """(prompt thread, chosen text, rejected text): the agent's own thread up to the answer the pair judges."""
    return chat_messages(prompt_thread(item, messages)), text_of(item.pair.chosen) or "", text_of(item.pair.rejected) or ""


def _is_peft(model: Any) -> bool:
    return model is not None and callable(getattr(model, "merge_and_unload", None))


def _weights_problem(source: str, e: BaseException) -> str:
    """Which file failed to load, when one did (a truncated ``model.safetensors``)."""
    folder = Path(source)
    text = describe_exception(e, limit=200)
    if folder.is_dir():
        weights = sorted(p.name for p in folder.iterdir() if p.suffix in (".safetensors", ".bin"))
        for name in weights:
            try:
                from safetensors import safe_open

                if name.endswith(".safetensors"):
                    with safe_open(str(folder / name), framework="pt"):
                        pass
            except Exception:
                return f"the weights file {str(folder / name)!r} is damaged or truncated ({text})"
        if not weights:
            return f"the folder {str(folder)!r} has no weights file (model.safetensors) ({text})"
    return text
