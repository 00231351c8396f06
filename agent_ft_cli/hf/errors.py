"""The Hugging Face client's refusals, each an :class:`~agent_ft_cli.errors.AgentFtError` with a documented exit code.

====================================  ====  ==================================================================
error                                 code  when
====================================  ====  ==================================================================
:class:`ExtraMissingError`            4     torch / transformers / trl / peft / accelerate not installed
:class:`ModelNotFoundError`           4     the model is neither a local folder nor in the Hugging Face cache
:class:`NoChatTemplateError`          4     the tokenizer has no chat template
:class:`NothingTiedError`             3     no preference pair is tied to an answer in the thread
:class:`TrainingSettingError`         2     an unknown or invalid trainer setting (``--kwarg``)
:class:`OutOfMemoryError`             1     training or generation ran out of (GPU or host) memory
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


class NothingTiedError(InputDataError):
    """No pair tied to a prompt: nothing was trained and the checkpoint is untouched."""


class TrainingSettingError(UsageError):
    """A trainer setting the chosen TRL config does not have, or a bad method."""


class OutOfMemoryError(ClientUpdateError):
    """Out of memory; nothing was published."""
