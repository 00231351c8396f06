"""Regenerate the bundled sample sessions: ``python sample_sessions/generate.py`` from the repository root.

Every sample is recorded live with :class:`agent_ft_cli.SessionRecorder` on classic autogen agents named
``assistant`` and ``user`` (so ``configs/local.yaml`` replays all of them):

* ``capital.jsonl``: one question to the bundled local model (the Quickstart sample).
* ``trivia.jsonl``: three questions to the bundled local model in one session, several turns.
* ``weather_tool.jsonl``: a tool call and its tool response, recorded with a scripted client (below), unicode.

Each has a ``.prefs.json`` beside it. The local model's state is kept in a temporary folder, so the samples are
recorded as an untrained model answers.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import autogen

from agent_ft_cli import SessionRecorder
from agent_ft_cli.clients.local import DEFAULT_REPLY, LocalLearningClient
from agent_ft_cli.clients.protocol import ModelClientBase, chat_response

HERE = Path(__file__).resolve().parent
SYSTEM = "You are a concise assistant. Answer in one sentence."


class WeatherDemoClient(ModelClientBase):
    """A scripted model: asks for the weather tool once, then answers from the tool's result."""

    model = "weather-demo"

    def create(self, params: dict[str, Any]) -> Any:
        messages = params.get("messages") or []
        last = messages[-1] if messages else {}
        if last.get("role") == "tool":
            content = "Il fait 21,5 °C à Paris — plutôt agréable. ☀️"
            message: dict[str, Any] = {"role": "assistant", "content": content}
        else:
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_w1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})},
                    }
                ],
            }
        return chat_response(message, model=self.model)


def _pair(client_cls: type, state: Path | None = None) -> tuple[Any, Any]:
    assistant = autogen.AssistantAgent(
        "assistant",
        system_message=SYSTEM,
        llm_config={"config_list": [{"model": "agent-ft-local", "model_client_cls": client_cls.__name__}], "cache_seed": None},
    )
    user = autogen.UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, max_consecutive_auto_reply=0)
    return assistant, user


def record_local(name: str, questions: list[str], prefs: Any, state: Path) -> None:
    assistant, user = _pair(LocalLearningClient)
    assistant.register_model_client(model_client_cls=LocalLearningClient, state_path=str(state))
    with SessionRecorder(HERE / f"{name}.jsonl", assistant, user):
        for i, q in enumerate(questions):
            user.initiate_chat(assistant, message=q, silent=True, clear_history=(i == 0))
    (HERE / f"{name}.prefs.json").write_text(json.dumps(prefs, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def record_weather() -> None:
    assistant, user = _pair(WeatherDemoClient)
    user._max_consecutive_auto_reply = 2  # run the tool, then stop after the answer

    def get_weather(city: str) -> str:
        return json.dumps({"city": city, "temperature_c": 21.5, "sky": "ensoleillé"}, ensure_ascii=False)

    assistant.register_for_llm(name="get_weather", description="Current weather for a city")(get_weather)
    user.register_for_execution(name="get_weather")(get_weather)
    assistant.register_model_client(model_client_cls=WeatherDemoClient)
    with SessionRecorder(HERE / "weather_tool.jsonl", assistant, user):
        user.initiate_chat(assistant, message="Quel temps fait-il à Paris ? 🌦️", max_turns=2, silent=True)
    prefs = [
        {
            "prompt": "Quel temps fait-il à Paris ? 🌦️",
            "chosen": "À Paris il fait 21,5 °C et le ciel est ensoleillé : une veste légère suffit.",
            "rejected": "Il fait 21,5 °C à Paris — plutôt agréable. ☀️",
        }
    ]
    (HERE / "weather_tool.prefs.json").write_text(json.dumps(prefs, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state.json"
        record_local(
            "capital",
            ["What is the capital of Australia?"],
            [["The capital of Australia is Canberra.", DEFAULT_REPLY]],
            state,
        )
        record_local(
            "trivia",
            [
                "Who wrote 'Le Petit Prince'?",
                "At what temperature does water boil at sea level, in Fahrenheit?",
                "How many moons does Mars have?",
            ],
            [
                {"prompt": "Who wrote 'Le Petit Prince'?", "chosen": "Antoine de Saint-Exupéry wrote it.", "rejected": DEFAULT_REPLY},
                {
                    "prompt": "At what temperature does water boil at sea level, in Fahrenheit?",
                    "chosen": "Water boils at 212 °F at sea level.",
                    "rejected": DEFAULT_REPLY,
                },
                {"prompt": "How many moons does Mars have?", "chosen": "Mars has two moons, Phobos and Deimos.", "rejected": DEFAULT_REPLY},
            ],
            state,
        )
    record_weather()
    for f in sorted(HERE.glob("*.jsonl")):
        print(f"wrote {f.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
