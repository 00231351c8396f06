"""Training with TRL: the dataset rows, the trainer settings and one run of DPO, SFT or KTO (LoRA by default).

Rows are TRL's conversational formats, so TRL applies the model's chat template itself:

* dpo: ``{"prompt": thread, "chosen": [assistant turn], "rejected": [assistant turn]}``
* sft: ``{"prompt": thread, "completion": [chosen turn]}`` (loss on the completion only)
* kto: ``{"prompt": thread, "completion": [turn], "label": True|False}``, one desirable and one undesirable row
  per pair.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .errors import OutOfMemoryError, TrainingSettingError
from .sources import CONFIGS

Message = dict[str, Any]


class Trainable(Protocol):
    """What training needs of the client (:class:`~agent_ft_cli.hf.client.HFClient` is one)."""

    model: Any
    tokenizer: Any
    loaded_from: str

METHODS = tuple(CONFIGS)  # dpo, sft, kto: CONFIGS names TRL's config class of each
ALIASES = {
    "epochs": "num_train_epochs",
    "batch_size": "per_device_train_batch_size",
    "gradient_accumulation": "gradient_accumulation_steps",
    "lr": "learning_rate",
}
#: LoRA settings used unless the client's ``lora`` dict says otherwise.
LORA_DEFAULTS: dict[str, Any] = {"r": 16, "lora_alpha": 32, "lora_dropout": 0.0, "target_modules": "all-linear"}
#: Learning rate for LoRA when none is given (TRL's DPO/KTO default of 1e-6 is meant for full fine-tuning).
LORA_LEARNING_RATE = 1e-4
#: The run folder's record files (kept when a pruned run's weights are removed).
TRAINER_STATE = "trainer_state.json"
LOGS = "logs"


@dataclass
class TrainSpec:
    method: str
    lora: dict[str, Any] | None  # None: full fine-tuning
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainResult:
    model: Any
    steps: int
    rows: int
    metrics: dict[str, Any]
    started_from: str
    processes: int
    wait_for_everyone: Callable[[], None]
    #: one dict per logged step, as TRL logs it ("step", "epoch", "loss", "rewards/margins", ...)
    history: list[dict[str, Any]] = field(default_factory=list)
    #: full fine-tuning with DPO/KTO: the trainer's frozen copy of the model it started from (the reference)
    reference: Any = None


def _config_class(method: str) -> Any:
    """TRL's config class of ``method`` (checked by :func:`settings_for`, whose settings every run starts from)."""
    import trl

    return getattr(trl, CONFIGS[method][0])


def _fields(method: str) -> Collection[str]:
    return {f.name for f in dataclasses.fields(_config_class(method))}


def settings_for(
    method: str, settings: dict[str, Any], *, lora: bool, defaults: dict[str, Any] | None = None,
    fields: Callable[[str], Collection[str]] | None = None,
) -> dict[str, Any]:
    """The TRL config fields for ``method`` from the user's settings (aliases resolved, unknown names refused).

    ``defaults`` (the client's ``train`` dict) may hold settings of other methods too (``beta`` is DPO's and
    KTO's, not SFT's): those are left out for this method; a name no method knows is refused. ``fields`` gives a
    method's field names (default: from TRL's imported config classes; preflight reads them from TRL's source).
    """
    if method not in METHODS:
        raise TrainingSettingError(f"unknown training method {method!r}; use one of {', '.join(METHODS)}")
    fields = fields or _fields
    known = fields(method)
    cls_name = CONFIGS[method][0]
    out: dict[str, Any] = {}
    if "output_dir" in settings or "output_dir" in (defaults or {}):
        raise TrainingSettingError(
            "output_dir is the client's checkpoint folder, not a trainer setting: give it as a client arg (or as "
            "update_model's output_dir)"
        )
    for key, value in (defaults or {}).items():
        name = ALIASES.get(key, key)
        if name in known:
            out[name] = value
        elif not any(name in fields(m) for m in METHODS):
            raise TrainingSettingError(f"unknown training setting {key!r} in the client's train settings (no TRL "
                                       f"config has such a field){_did_you_mean(name, {n for m in METHODS for n in fields(m)})}")
    for key, value in settings.items():
        name = ALIASES.get(key, key)
        if name not in known:
            raise TrainingSettingError(f"unknown training setting {key!r} for {method} ({cls_name} has no such "
                                       f"field){_did_you_mean(name, known)}")
        out[name] = value
    if lora:
        out.setdefault("learning_rate", LORA_LEARNING_RATE)
    return out


def _did_you_mean(name: str, names: Collection[str]) -> str:
    close = difflib.get_close_matches(name, sorted(names), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def rows_for(method: str, rows: list[tuple[list[Message], str, str]]) -> list[dict[str, Any]]:
    def turn(text: str) -> list[dict[str, str]]:
        return [{"role": "assistant", "content": text}]

    if method == "dpo":
        return [{"prompt": p, "chosen": turn(c), "rejected": turn(r)} for p, c, r in rows]
    if method == "sft":
        return [{"prompt": p, "completion": turn(c)} for p, c, _ in rows]
    out = []
    for p, c, r in rows:
        out.append({"prompt": p, "completion": turn(c), "label": True})
        out.append({"prompt": p, "completion": turn(r), "label": False})
    return out


def _is_oom(e: BaseException) -> bool:
    import torch

    if isinstance(e, (torch.OutOfMemoryError, MemoryError)):
        return True
    text = str(e).lower()
    return isinstance(e, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def check_settings(client_args: dict[str, Any], update_kwargs: dict[str, Any],
                   fields: Callable[[str], Collection[str]] | None = None) -> dict[str, Any]:
    """The trainer settings an update would use (the client's ``train`` defaults under its ``update_model`` keyword
    args), refused before any model is loaded when a name is unknown (:func:`settings_for`; ``fields`` as there)."""
    settings = {k: v for k, v in update_kwargs.items() if k not in CLIENT_KEYWORDS}
    method = str(update_kwargs.get("method", client_args.get("method", "dpo"))).lower()
    lora = update_kwargs.get("lora", client_args.get("lora"))
    full = bool(update_kwargs.get("full_finetune") or client_args.get("full_finetune"))
    defaults = client_args.get("train")
    return settings_for(method, settings, lora=not (full or lora is False),
                        defaults=defaults if isinstance(defaults, dict) else None, fields=fields)


#: ``update_model`` keyword args that are the client's, not the trainer's.
CLIENT_KEYWORDS = ("method", "lora", "full_finetune", "output_dir")


@contextlib.contextmanager
def quiet_libraries(quiet: bool) -> Iterator[None]:
    """Under ``-q``: transformers', datasets' and huggingface_hub's logging at error level, their progress bars
    off, and their deprecation/future warnings not shown (restored afterwards)."""
    if not quiet:
        yield
        return
    import warnings

    import datasets
    import huggingface_hub.utils as hub
    import transformers

    before = transformers.logging.get_verbosity()
    bars = datasets.is_progress_bar_enabled(), transformers.logging.is_progress_bar_enabled(), hub.are_progress_bars_disabled()
    transformers.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    transformers.logging.disable_progress_bar()
    hub.disable_progress_bars()
    try:
        with warnings.catch_warnings():
            for category in (DeprecationWarning, FutureWarning, UserWarning):
                warnings.simplefilter("ignore", category)
            yield
    finally:
        transformers.logging.set_verbosity(before)
        if bars[0]:
            datasets.enable_progress_bars()
        if bars[1]:
            transformers.logging.enable_progress_bar()
        if not bars[2]:
            hub.enable_progress_bars()


def train(
    client: Trainable, rows: list[tuple[list[Message], str, str]], spec: TrainSpec, *, scratch: Path | None,
    quiet: bool = False,
) -> TrainResult:
    """Train ``client.model`` on ``rows``; return the trained model (with LoRA: the PeftModel, adapter not merged)
    and what the trainer reported. With ``scratch`` (the run's staging folder) the trainer's logs (``report_to``)
    end up in ``scratch/logs`` and its state in ``scratch/trainer_state.json``."""
    import torch
    import trl
    from datasets import Dataset

    data = rows_for(spec.method, rows)
    trainer_cls = {"dpo": trl.DPOTrainer, "sft": trl.SFTTrainer, "kto": trl.KTOTrainer}[spec.method]
    settings = dict(spec.settings)
    settings.setdefault("report_to", "none")
    settings.setdefault("save_strategy", "no")
    settings.setdefault("logging_steps", 1)
    settings.setdefault("disable_tqdm", quiet)
    if quiet:
        settings.setdefault("log_level", "error")
    bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    settings.setdefault("bf16", bf16)
    if not bf16:
        settings.setdefault("fp16", False)
    if not torch.cuda.is_available():
        # also makes a torchrun / `accelerate launch --multi_gpu` run on a machine without GPUs data-parallel on CPU
        settings.setdefault("use_cpu", True)
    peft_config = None
    if spec.lora is not None:
        from peft import LoraConfig

        peft_config = LoraConfig(task_type="CAUSAL_LM", **{**LORA_DEFAULTS, **spec.lora})
    started_from = client.loaded_from
    with tempfile.TemporaryDirectory(prefix="agent-ft-trl-", dir=scratch) as tmp:
        try:
            args = _config_class(spec.method)(output_dir=tmp, **settings)
        except (TypeError, ValueError) as e:
            raise TrainingSettingError(f"invalid training settings for {spec.method}: {e}") from None
        client.model.train()
        trainer = trainer_cls(
            model=client.model,
            args=args,
            train_dataset=Dataset.from_list(data),
            processing_class=client.tokenizer,
            peft_config=peft_config,
        )
        if quiet:  # no per-step dicts on stderr either
            from transformers.trainer_callback import PrinterCallback

            trainer.remove_callback(PrinterCallback)
        try:
            output = trainer.train()
        except Exception as e:
            if _is_oom(e):
                raise OutOfMemoryError(
                    f"out of memory training {spec.method} on {started_from!r}; nothing was published: lower "
                    "per_device_train_batch_size or max_length, or use LoRA"
                ) from None
            raise
        if scratch is not None:
            _keep_run_records(Path(tmp), scratch, trainer)
    model = trainer.accelerator.unwrap_model(trainer.model)
    model.eval()
    history = [dict(h) for h in trainer.state.log_history if "train_runtime" not in h]  # as TRL logged each step
    return TrainResult(
        model=model,
        steps=int(output.global_step),
        rows=len(data),
        metrics=_metrics(output.metrics, trainer.state.log_history),
        started_from=started_from,
        processes=int(trainer.accelerator.num_processes),
        wait_for_everyone=trainer.accelerator.wait_for_everyone,
        history=history,
        reference=getattr(trainer, "ref_model", None) if peft_config is None else None,
    )


def _keep_run_records(trainer_dir: Path, run: Path, trainer: Any) -> None:
    """The run's own records, kept in its folder: the trainer state (per-step log history) and the report_to logs
    (transformers writes TensorBoard events under ``<trainer output_dir>/runs/<date_host>``)."""
    trainer.state.save_to_json(str(run / TRAINER_STATE))
    logs = run / LOGS
    tb_root = trainer_dir / "runs"
    if tb_root.is_dir():
        logs.mkdir(exist_ok=True)
        for item in tb_root.iterdir():
            shutil.move(str(item), str(logs / item.name))


def _metrics(final: dict[str, Any], history: list[dict[str, Any]]) -> dict[str, Any]:
    """The trainer's own numbers: its final summary, and the first and last logged step (loss, rewards/...)."""
    logged = [h for h in history if "loss" in h]
    out: dict[str, Any] = {k: _num(v) for k, v in final.items()}
    if logged:
        out["first_step"] = {k: _num(v) for k, v in logged[0].items()}
        out["last_step"] = {k: _num(v) for k, v in logged[-1].items()}
    return out


def _num(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value
