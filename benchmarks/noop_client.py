"""A model client that does nothing, so ``agent-ft update`` benchmarks measure agent-ft and not a model.

    agent-ft update --session s.jsonl --prefs prefs.json --client benchmarks/noop_client.py:NoopClient
"""

from __future__ import annotations

from typing import Any

from agent_ft_cli.clients.protocol import ModelClientBase, chat_response


class NoopClient(ModelClientBase):
    model = "noop"

    def create(self, params: dict[str, Any]) -> Any:
        return chat_response("ok", model=self.model)

    def update_model(self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        return {"messages": len(inference_messages), "preferences": len(preference_data or [])}
