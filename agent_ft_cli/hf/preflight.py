"""What the Hugging Face client checks before it loads any weights or trains (``HFClient.preflight``).

Each check reads a few small files only: the model folder (or the hub cache) resolves, its ``config.json`` is a
causal LM (transformers' ``MODEL_FOR_CAUSAL_LM_MAPPING_NAMES``; an encoder such as BERT, which transformers would
load as ``BertLMHeadModel`` with a freshly initialised head, is refused), a tokenizer and a chat template are there,
an update has an ``output_dir`` to publish to, and every trainer setting is a field of the method's TRL config.
``validate`` and ``update`` call it through :func:`agent_ft_cli.clients.protocol.preflight` before anything
expensive; the client's constructor and ``update_model`` call the same functions, so a Python caller gets the same
refusals. Nothing here imports torch, transformers or TRL: their model mapping and config fields are read from
their installed source (:mod:`.sources`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..redact import describe_exception
from . import sources
from .errors import MissingOutputDirError, ModelNotFoundError, NoChatTemplateError, NotCausalLMError, NothingTiedError

#: Files that make a folder's tokenizer loadable by ``AutoTokenizer`` (one is enough).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json", "vocab.txt")
#: Where a saved tokenizer keeps its chat template (transformers 4.43+ writes a separate file).
TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")


def looks_like_path(model: str) -> bool:
    """Whether ``model`` names a folder rather than a hub id (``org/name``)."""
    return model.startswith(("/", "./", "../", "~", ".")) or model.count("/") > 1 or Path(model).expanduser().exists()


def resolve_model(model: str) -> Path:
    """The local folder holding ``model``: the folder itself, or its snapshot in the Hugging Face cache."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    if looks_like_path(model):
        what = "is not a folder" if path.exists() else "does not exist"
        raise ModelNotFoundError(f"model {model!r} cannot be loaded: the folder {str(path)!r} {what}")
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model, local_files_only=True))
    except Exception as e:  # LocalEntryNotFoundError, an invalid repo id, ...
        raise ModelNotFoundError(
            f"model {model!r} cannot be loaded: not a local folder, not in the Hugging Face cache, and the hub is not "
            f"reachable (offline?) ({describe_exception(e, limit=160)})"
        ) from None


def _read_json(path: Path, model: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelNotFoundError(f"model {model!r} cannot be loaded: {str(path)!r} is not readable JSON ({e})") from None
    if not isinstance(data, dict):
        raise ModelNotFoundError(f"model {model!r} cannot be loaded: {str(path)!r} is not a JSON object")
    return data


def _imported_mappings() -> tuple[dict[str, Any], frozenset[str]]:
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    return dict(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES), frozenset(MODEL_FOR_MASKED_LM_MAPPING_NAMES)


def check_causal_lm(folder: Path, model: str, *, light: bool = False) -> str | None:
    """Refuse a model that is not a decoder-only causal LM, from ``config.json`` alone; return its architecture.

    transformers' mappings are read from its source (:func:`.sources.lm_mappings`); when they cannot be, they are
    imported, or with ``light`` (no heavy import allowed) the architecture is not checked and None is returned."""
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise ModelNotFoundError(f"model {model!r} cannot be loaded: the folder {str(folder)!r} has no config.json")
    config = _read_json(config_file, model)
    mappings = sources.lm_mappings()
    if mappings is None:
        if light:
            return None
        mappings = _imported_mappings()
    causal_mapping, masked_types = mappings
    model_type = str(config.get("model_type") or "")
    archs = [str(a) for a in config.get("architectures") or []]
    arch = archs[0] if archs else model_type or "unknown"
    causal: set[str] = set()
    for names in causal_mapping.values():
        causal.update([names] if isinstance(names, str) else names)
    ok = model_type in causal_mapping and not config.get("is_encoder_decoder")
    if ok and archs:
        ok = any(a in causal for a in archs)
    if ok and model_type in masked_types and not config.get("is_decoder"):
        ok = False  # an encoder (BERT, RoBERTa, ...): its LM-head class is a causal LM only when built as a decoder
    if not ok:
        raise NotCausalLMError(
            f"model {model!r} is not a causal language model: {str(config_file)!r} says {arch} (model_type "
            f"{model_type or 'missing'!r}); the Hugging Face client needs a decoder-only model (...ForCausalLM) with a "
            "chat template"
        )
    return arch


def check_tokenizer(folder: Path, model: str) -> None:
    """A tokenizer and a chat template are saved with the model."""
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise ModelNotFoundError(
            f"model {model!r} cannot be loaded: the folder {str(folder)!r} has no tokenizer (none of "
            f"{', '.join(TOKENIZER_FILES)})"
        )
    template = any((folder / name).is_file() for name in TEMPLATE_FILES)
    config_file = folder / "tokenizer_config.json"
    if not template and config_file.is_file():
        template = bool(_read_json(config_file, model).get("chat_template"))
    if not template:
        raise NoChatTemplateError.of(model)


def check_model(model: str, *, light: bool = False) -> str | None:
    """Every model check that needs no weights; returns the architecture (``Qwen2ForCausalLM``), None when
    ``light`` and it could not be checked without importing transformers (:func:`check_causal_lm`)."""
    folder = resolve_model(model)
    arch = check_causal_lm(folder, model, light=light)
    check_tokenizer(folder, model)
    return arch


def require_output_dir(output_dir: Any) -> None:
    """An update must have somewhere to publish: never train and keep nothing."""
    if not output_dir:
        raise MissingOutputDirError(
            "the Hugging Face client has no output_dir, so an update would train and keep nothing: set output_dir in "
            "the config's client args (client: {args: {output_dir: ./ckpt}}, or --client-arg output_dir=DIR, or "
            "--kwarg output_dir=DIR); nothing was trained"
        )


def preflight(config_entry: dict[str, Any] | None, client_args: dict[str, Any] | None,
              update_kwargs: dict[str, Any] | None = None, preference_data: Any = None) -> list[str]:
    """The client's checks before loading, cheapest first: for an update (``update_kwargs`` given) some pairs at all
    (``preference_data``; whether they tie to the thread is ``update_model``'s first check), its ``output_dir`` and
    its trainer setting names; then the model (from the config entry or the ``model`` client arg).

    Imports neither transformers nor TRL: their model mapping and config fields are read from their source
    (:mod:`.sources`). Returns what could not be checked that way (one sentence each; ``validate`` shows them):
    ``update_model`` and the constructor check those with the imported libraries before any weights load."""
    if preference_data is not None:
        from ..align import normalize_pairs

        pairs, skipped = normalize_pairs(preference_data)
        if not pairs:
            why = "; ".join(s.reason for s in skipped[:1]) or "no pairs given"
            raise NothingTiedError(
                f"no preference pair is tied to an answer in the thread ({why}); nothing trained, checkpoint untouched"
            )
    entry, args = dict(config_entry or {}), dict(client_args or {})
    model = str(args.get("model") or entry.get("model") or "")
    if not model:
        raise ModelNotFoundError("the Hugging Face client needs a model: set 'model' in the config entry")
    notes: list[str] = []
    if update_kwargs is not None:
        require_output_dir(update_kwargs.get("output_dir") or args.get("output_dir"))
        notes += _check_setting_names(args, update_kwargs)
    from .checkpoint import current_checkpoint

    current = current_checkpoint(update_kwargs.get("output_dir") if update_kwargs else None) or current_checkpoint(
        args.get("output_dir")
    )
    if check_model(str(current) if current is not None else model, light=True) is None:
        notes.append(
            "the model's architecture was not checked (transformers' model mapping could not be read from its source "
            "without importing it); the client checks it when it is created, before any weights load"
        )
    return notes


def _check_setting_names(args: dict[str, Any], update_kwargs: dict[str, Any]) -> list[str]:
    """The trainer setting names, against TRL's config fields as its source defines them (not imported)."""
    from .train import METHODS, check_settings

    unreadable = [m for m in METHODS if sources.config_fields(m) is None]
    if unreadable:
        return [
            f"the trainer setting names were not checked (TRL's {unreadable[0]} config could not be read from its "
            f"source without importing it: {sources.why_unreadable(unreadable[0])}); update checks them before the "
            "model loads"
        ]

    def fields(method: str) -> frozenset[str]:
        names = sources.config_fields(method)
        assert names is not None  # all were readable (above)
        return names

    check_settings(args, update_kwargs, fields=fields)
    return []
