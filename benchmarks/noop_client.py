"""A model client that does nothing, so ``agent-ft update`` benchmarks measure agent-ft and not a model.

    agent-ft update --session s.jsonl --prefs prefs.json --client benchmarks/noop_client.py:NoopClient
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any


class NoopClient:
    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        self.model = config.get("model", "noop")

    def create(self, params: dict[str, Any]) -> Any:
        message = SimpleNamespace(content="ok", role="assistant", tool_calls=None, function_call=None)
        return SimpleNamespace(choices=[SimpleNamespace(message=message)], model=self.model, cost=0.0)

    def message_retrieval(self, response: Any) -> list[Any]:
        return [c.message for c in response.choices]

    def cost(self, response: Any) -> float:
        return 0.0

    @staticmethod
    def get_usage(response: Any) -> dict[str, Any]:
        return {}

    def update_model(self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        return {"messages": len(inference_messages), "preferences": len(preference_data or [])}
