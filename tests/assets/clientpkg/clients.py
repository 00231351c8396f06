"""Well-behaved custom model clients for the tests.

* ``ScriptedClient`` replies from a script: a tool call first, then plain answers (unicode included).
* ``CaptureClient`` writes what ``update_model`` receives to the JSON file named by ``capture_path`` (or the
  ``AGENT_FT_CAPTURE`` environment variable), so a test can compare it with what the live agent held.
"""

from __future__ import annotations

import json
import os
from typing import Any

from agent_ft_cli.clients.protocol import ModelClientBase, chat_response

TOOL_CALL = {
    "id": "call_0001",
    "type": "function",
    "function": {"name": "convert_temperature", "arguments": '{"celsius": 21.5}'},
}


class ScriptedClient(ModelClientBase):
    """Step 1: a tool call; afterwards: numbered answers with unicode."""

    model = "scripted"

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(config)
        self.calls = 0
        self.kwargs = kwargs

    def create(self, params: dict[str, Any]) -> Any:
        self.calls += 1
        if self.calls == 1 and params.get("tools"):
            msg = {"content": None, "role": "assistant", "tool_calls": [dict(TOOL_CALL)]}
        else:
            msg = {"content": f"Réponse n°{self.calls}: 21.5 °C ≈ 70.7 °F ✓ — 你好", "role": "assistant"}
        return chat_response(msg, model=self.model)

    def update_model(self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        return {"pairs": len(preference_data), "messages": len(inference_messages)}


class CaptureClient(ScriptedClient):
    """Writes ``{"preference_data", "inference_messages", "kwargs", "init_kwargs"}`` to a JSON file."""

    def __init__(self, config: dict[str, Any], capture_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.capture_path = capture_path or os.environ.get("AGENT_FT_CAPTURE")

    def update_model(self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        if self.capture_path:
            with open(self.capture_path, "w", encoding="utf-8") as fh:
                json.dump(
                    {
                        "preference_data": preference_data,
                        "inference_messages": inference_messages,
                        "kwargs": kwargs,
                        "init_kwargs": self.kwargs,
                    },
                    fh,
                    ensure_ascii=False,
                )
        return {"captured": len(inference_messages), "loss": 0.25, "nested": {"lr": 1e-5, "steps": [1, 2]}}


class NoUpdateClient(ScriptedClient):
    """Follows the ModelClient protocol but cannot learn."""

    update_model = None  # type: ignore[assignment]


class FailingUpdateClient(ScriptedClient):
    def update_model(self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("CUDA out of memory (simulated)")


class OddStatsClient(ScriptedClient):
    def update_model(self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        return {"when": object(), "values": {1, 2}, "blob": b"\xff\x00"}


class MissingMethods:
    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        pass

    def create(self, params: dict[str, Any]) -> Any:
        return None


not_a_class = 42


class TurnClient(ModelClientBase):
    """Replies ``<model> turn <n> (re <first three words of the last message>)``: every answer is distinct and says
    who gave it, when, and to what, so a test sees a merged, duplicated, reordered or mis-tied message (``model`` is
    the agent's name)."""

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(config)
        self.model = str(config.get("model", "turn"))
        self.calls = 0

    def create(self, params: dict[str, Any]) -> Any:
        self.calls += 1
        last = str((params.get("messages") or [{}])[-1].get("content"))
        tag = " ".join(last.split()[:3])
        return chat_response({"content": f"{self.model} turn {self.calls} (re {tag})", "role": "assistant"}, model=self.model)

    def update_model(self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        return {"pairs": len(preference_data), "messages": len(inference_messages)}


class HandoffTurnClient(TurnClient):
    """A :class:`TurnClient` that calls the first tool the agent offers (no arguments) unless the last message is a
    tool's result: a handoff."""

    def create(self, params: dict[str, Any]) -> Any:
        messages = params.get("messages") or [{}]
        if params.get("tools") and messages[-1].get("role") != "tool":
            self.calls += 1
            name = params["tools"][0]["function"]["name"]
            call = {"id": f"call_{self.model}_{self.calls}", "type": "function", "function": {"name": name, "arguments": "{}"}}
            return chat_response({"content": None, "role": "assistant", "tool_calls": [call]}, model=self.model)
        return super().create(params)
