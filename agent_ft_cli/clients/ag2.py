"""An agent-ft model client as the model of an AG2 1.x ``ag2.Agent`` (the thin adapter; the model logic stays in
the client).

:class:`ModelClientConfig` is an ag2 ``ModelConfig`` around any agent-ft / autogen ``ModelClient``
(``create(params)`` returning ``choices[0].message``, ``message_retrieval``, ``cost``, ``get_usage``), e.g. the
bundled :class:`agent_ft_cli.local.LocalLearningClient` or the Hugging Face client::

    agent = Agent("assistant", "Answer in one sentence.", config=ModelClientConfig(LocalLearningClient))

The client is built once per config and called in a worker thread with the thread in OpenAI form (system prompt
first, tool results unrolled, as classic autogen sends it), so one model implementation serves both frameworks.
"""

from __future__ import annotations

import asyncio
import pkgutil
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from ..adapters.ag2 import DEFAULT_AGENT, DEFAULT_PEER, openai_messages, thread_from_events
from ..adapters.ag2_header import tool_schema


def _resolve_client(client: Any) -> Any:
    if isinstance(client, str):
        return pkgutil.resolve_name(client)
    return client


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


class ModelClientConfig:
    """An ag2 ``ModelConfig`` that runs an agent-ft (autogen ``ModelClient``) client as the agent's model.

    ``client`` is the client class (built once, as autogen builds it: ``cls(config, **client_args)``, where
    ``config`` is ``{"model": model, "model_client_cls": name}``), an import string ``"pkg.mod:Class"``, or an
    instance already built.
    """

    def __init__(self, client: Any, *, model: str | None = None, **client_args: Any) -> None:
        client = _resolve_client(client)
        self._instance: Any = None if isinstance(client, type) else client
        self.client_class: type = client if isinstance(client, type) else type(client)
        self._model = model or getattr(self._instance, "model", None) or self.client_class.__name__
        self.client_args = client_args
        self._build_lock = threading.Lock()

    @property
    def provider(self) -> Any:
        raise NotImplementedError("an agent-ft model client has no ag2 provider")

    @property
    def model(self) -> str:
        return str(self._model)

    def copy(self) -> ModelClientConfig:
        return self

    @property
    def client(self) -> Any:
        """The model client, built on first use and shared by every turn."""
        with self._build_lock:
            if self._instance is None:
                config = {"model": self.model, "model_client_cls": self.client_class.__name__}
                self._instance = self.client_class(config, **self.client_args)
            return self._instance

    def create(self) -> _ModelClientLLM:
        return _ModelClientLLM(self)

    def create_files_client(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not support Files API.")


class _ModelClientLLM:
    """The ag2 ``LLMClient`` of a :class:`ModelClientConfig`: events in, the client's reply as a ``ModelResponse``."""

    def __init__(self, config: ModelClientConfig) -> None:
        self.config = config

    async def __call__(
        self,
        messages: Sequence[Any],
        context: Any,
        *,
        tools: Iterable[Any] = (),
        response_schema: Any = None,
        serializer: Any = None,
    ) -> Any:
        from ag2.events import ModelMessage, ModelResponse, ToolCallEvent, ToolCallsEvent, Usage

        prompt = [p for p in getattr(context, "prompt", ()) or () if isinstance(p, str)]
        if response_schema is not None and getattr(response_schema, "system_prompt", None):
            prompt.append(response_schema.system_prompt)
        thread = thread_from_events(messages, agent=DEFAULT_AGENT, peer=DEFAULT_PEER, serializer=serializer)
        params: dict[str, Any] = {
            "model": self.config.model,
            "messages": openai_messages(thread, "\n".join(prompt) if prompt else None),
        }
        schemas = [s for s in (tool_schema(t) for t in tools) if s is not None]
        if schemas:
            params["tools"] = schemas
        client = self.config.client
        response = await asyncio.to_thread(client.create, params)
        retrieved = client.message_retrieval(response) if hasattr(client, "message_retrieval") else None
        first = retrieved[0] if retrieved else _get(_get(response, "choices")[0], "message")
        text = first if isinstance(first, str) else _get(first, "content")
        calls = [] if isinstance(first, str) else list(_get(first, "tool_calls") or [])
        message = ModelMessage(text) if text else None
        if message is not None:
            await context.send(message)
        usage = client.get_usage(response) if hasattr(client, "get_usage") else {}
        usage = usage if isinstance(usage, dict) else {}
        return ModelResponse(
            message=message,
            tool_calls=ToolCallsEvent(
                [
                    ToolCallEvent(
                        id=str(_get(c, "id")),
                        name=str(_get(_get(c, "function"), "name")),
                        arguments=str(_get(_get(c, "function"), "arguments") or "{}"),
                    )
                    for c in calls
                ]
            ),
            usage=Usage(
                prompt_tokens=usage.get("prompt_tokens"),
                completion_tokens=usage.get("completion_tokens"),
                total_tokens=usage.get("total_tokens"),
            ),
            model=_get(response, "model") or self.config.model,
            finish_reason=_get(_get(response, "choices")[0], "finish_reason") if _get(response, "choices") else None,
        )
