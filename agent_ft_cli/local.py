"""Old home of the bundled local model, kept because recorded session headers and ``configs/local.yaml`` name
``agent_ft_cli.local:LocalLearningClient``. The model lives in :mod:`agent_ft_cli.clients.local`."""

from .clients.local import DEFAULT_REPLY, DEFAULT_STATE, LocalLearningClient, content_words, normalize, similarity

__all__ = ["DEFAULT_REPLY", "DEFAULT_STATE", "LocalLearningClient", "content_words", "normalize", "similarity"]
