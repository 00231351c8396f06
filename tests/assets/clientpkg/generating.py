"""A learnable client without ``score``: ``eval`` can only judge it by generation (its ``create`` reply).

``MemoClient`` answers a question with the chosen answer it was taught for exactly that question (the text of the
last user message), else with ``I don't know the answer to that yet.``; ``update_model`` ties each pair to its
prompt (:mod:`agent_ft_cli.align`) and remembers the chosen answer in the JSON file ``state_path``. It counts its
``create`` calls in the state file (``"calls"``) and keeps the last call's messages (``"last_messages"``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent_ft_cli.align import align, text_of
from agent_ft_cli.clients.protocol import ModelClientBase, chat_response

DONT_KNOW = "I don't know the answer to that yet."


class MemoClient(ModelClientBase):
    model = "memo"

    def __init__(self, config: dict[str, Any], state_path: str = "memo.json", **kwargs: Any) -> None:
        super().__init__(config)
        self.state_path = Path(state_path)

    def _state(self) -> dict[str, Any]:
        if not self.state_path.exists():
            return {"answers": {}, "calls": 0}
        return json.loads(self.state_path.read_text())  # type: ignore[no-any-return]

    def create(self, params: dict[str, Any]) -> Any:
        state = self._state()
        state["calls"] = state.get("calls", 0) + 1
        state["last_messages"] = params.get("messages", [])
        self.state_path.write_text(json.dumps(state))
        asked = [m for m in params.get("messages", []) if m.get("role") == "user"]
        question = " ".join((text_of(asked[-1]) or "").split()) if asked else ""
        return chat_response(state["answers"].get(question, DONT_KNOW), model=self.model)

    def update_model(self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        tied, skipped = align(preference_data, inference_messages)
        state = self._state()
        for item in tied:
            state["answers"][" ".join(item.prompt.split())] = text_of(item.pair.chosen)
        self.state_path.write_text(json.dumps(state))
        return {"learned": len(tied), "skipped": len(skipped)}
