"""Helpers for the review tests: a session with three conversations, identical replies (to the same question and to another one), a human
user proxy that corrects the agent, and a long reply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

DONT_KNOW = "I don't know the answer to that yet."
CAPITAL = "What is the capital of Australia?"
AUTHOR = "Who wrote 'Le Petit Prince'?"
LONG = "\n".join(f"Line {i} of a long answer about rivers, with enough words to wrap at eighty columns." for i in range(40))

AGENTS: list[dict[str, Any]] = [
    {
        "name": "assistant",
        "class": "autogen.agentchat.assistant_agent.AssistantAgent",
        "system_message": "You are a concise assistant.",
        "human_input_mode": "NEVER",
        "llm_config": {"config_list": [{"model": "agent-ft-local", "model_client_cls": "LocalLearningClient"}]},
        "model_clients": ["agent_ft_cli.local:LocalLearningClient"],
    },
    {
        "name": "user",
        "class": "autogen.agentchat.user_proxy_agent.UserProxyAgent",
        "system_message": "",
        "human_input_mode": "ALWAYS",
        "llm_config": False,
    },
]

#: the conversations, as (speaker, text) turns; the user starts each one
CONVERSATIONS = [
    [("user", CAPITAL), ("assistant", DONT_KNOW), ("user", "No: it is Canberra."), ("assistant", "Thanks, noted.")],
    [("user", CAPITAL), ("assistant", DONT_KNOW), ("user", "exit")],
    [("user", AUTHOR), ("assistant", DONT_KNOW), ("user", "Tell me about rivers."), ("assistant", LONG)],
]


def write_session(path: Path) -> Path:
    lines = [{"type": "header", "format": "agent-ft-session", "version": "1.0", "created_at": "2026-12-07T00:00:00+00:00",
              "agent_ft_version": "0.1.0", "autogen_version": "0.9.0", "agents": AGENTS}]
    for n, conv in enumerate(CONVERSATIONS):
        if n:
            lines += [{"type": "clear", "agent": "assistant", "peer": "user"}, {"type": "clear", "agent": "user", "peer": "assistant"}]
        for speaker, text in conv:
            other = "assistant" if speaker == "user" else "user"
            lines.append({"type": "message", "agent": speaker, "peer": other,
                          "message": {"content": text, "role": "assistant", "name": speaker}})
            lines.append({"type": "message", "agent": other, "peer": speaker,
                          "message": {"content": text, "role": "user", "name": speaker}})
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    return path
