"""The Hugging Face client's refusals, each an :class:`~agent_ft_cli.errors.AgentFtError` with a documented exit code.

====================================  ====  ==================================================================
error                                 code  when
====================================  ====  ==================================================================
:class:`ExtraMissingError`            4     torch / transformers / trl / peft / accelerate not installed
:class:`ModelNotFoundError`           4     the model is neither a local folder nor in the Hugging Face cache, or its files
                                            cannot be loaded (a truncated weights file is named)
:class:`NotCausalLMError`             4     the model's config.json is not a decoder-only causal LM (BERT, T5, ...)
:class:`MissingOutputDirError`        3     an update without ``output_dir``: it would train and keep nothing
:class:`NoChatTemplateError`          4     the tokenizer has no chat template
:class:`NothingTiedError`             3     no preference pair is tied to an answer in the thread
:class:`TrainingSettingError`         2     an unknown or invalid trainer setting (``--kwarg``)
:class:`OutOfMemoryError`             1     training or generation ran out of (GPU or host) memory
:class:`CheckpointWriteError`         1     the checkpoint could not be written (disk full); nothing was published
``CheckpointBusyError``               2     another update holds the ``output_dir`` lock (see checkpoint.py)
====================================  ====  ==================================================================
"""

from __future__ import annotations

from ..errors import ClientLoadError, ClientUpdateError, InputDataError, UsageError

INSTALL = "pip install 'agent-ft[hf]'"


class ExtraMissingError(ClientLoadError):
    """The optional ``hf`` extra is not installed."""


class ModelNotFoundError(ClientLoadError):
    """A model id or folder that cannot be loaded (offline, misspelt, or not a model)."""


class NoChatTemplateError(ClientLoadError):
    """A tokenizer without a chat template: the client cannot turn a thread into a prompt."""

    @classmethod
    def of(cls, model: str) -> NoChatTemplateError:
        return cls(
            f"model {model!r} has no chat template, so a thread cannot be turned into a prompt; use an instruct/"
            "chat model or set tokenizer.chat_template and save it with the model"
        )


class NothingTiedError(InputDataError):
    """No pair tied to a prompt: nothing was trained and the checkpoint is untouched."""


class TrainingSettingError(UsageError):
    """A trainer setting the chosen TRL config does not have, or a bad method."""


class OutOfMemoryError(ClientUpdateError):
    """Out of memory; nothing was published."""


class NotCausalLMError(ClientLoadError):
    """A model that is not a decoder-only causal LM (an encoder such as BERT, an encoder-decoder such as T5)."""


class MissingOutputDirError(InputDataError):
    """An update with nowhere to publish: it would train and keep nothing."""


class CheckpointWriteError(ClientUpdateError):
    """Writing the checkpoint failed (a full disk); the staging folder was removed and nothing was published."""
