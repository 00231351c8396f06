"""A client that reports how the one tying code decided each pair on the thread it was handed (for the tests that
check every command decides the same pairs as ``export``)."""

from __future__ import annotations

from typing import Any

from agent_ft_cli.align import align
from agent_ft_cli.clients.protocol import ModelClientBase, chat_response


class TyingClient(ModelClientBase):
    model = "tying"

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(config)

    def create(self, params: dict[str, Any]) -> Any:
        return chat_response("I don't know.", model=self.model)

    def update_model(self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        tied, skipped = align(preference_data, inference_messages)
        return {
            "tied": {str(t.pair.index): t.prompt for t in tied},
            "skipped": {str(s.index): s.kind.value for s in skipped},
        }
