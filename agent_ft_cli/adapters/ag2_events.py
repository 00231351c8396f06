"""AG2 1.x events as the messages of a classic thread (``agent.chat_messages[peer]``): the one mapping the live
recording (:class:`agent_ft_cli.adapters.ag2.SessionStorage`), the snapshot and the model-client bridge
(:mod:`agent_ft_cli.clients.ag2`) share.

``ModelRequest`` -> a user message, ``ModelResponse`` -> an assistant message (text and/or tool calls),
``ToolResultsEvent`` -> ONE tool message with ``tool_responses`` (as a classic thread holds a batch), and
``CompactionSummary`` -> a user message. Events the model never reads are left out: those ag2 itself marks as
transient or non-conversational (usage, streaming chunks, lifecycle), and the ones listed in :data:`NOT_READ`
(copies of what the mapped events carry, provider-side builtin tools, human-input plumbing, tasks, alerts, voice).
Any other event is *unknown* (a newer ag2's, or a user's own): :func:`unknown_event` names it so the recorder can
warn instead of dropping it silently.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from typing import Any

from ..types import RawMessage

#: ag2 1.2 events that are conversational to ag2 but that a chat-completions model never reads as such: copies of
#: what ``ModelResponse``/``ToolResultsEvent`` carry, provider-side builtin tools, human-input and approval
#: plumbing (the answer reaches the model as a request or tool result), tasks, alerts, voice, files, evals.
NOT_READ = frozenset(
    {
        "ToolCallEvent", "ToolCallsEvent", "ToolResultEvent", "ToolErrorEvent", "ToolNotFoundEvent",
        "ClientToolCallEvent", "BuiltinToolCallEvent", "BuiltinToolResultEvent", "OpenAIReasoningEvent",
        "OpenAIServerToolCallEvent", "OpenAIServerToolResultEvent", "HumanInputRequest", "HumanMessage",
        "ToolApprovalRequest", "TaskStarted", "TaskCompleted", "TaskFailed", "TaskCancelled",
        "TaskExpired", "HaltEvent", "ObserverAlert", "UploadedFile", "EvalEvent",
        "AudioInterruptedEvent", "AudioPlaybackCompletedEvent", "AudioPlaybackStartedEvent", "RecordedAudioEvent",
        "SynthesizedAudioEvent", "TranscriptionChunkEvent", "TranscriptionCompletedEvent",
    }
)  # fmt: skip




def _encode(data: Any, serializer: Any) -> str:
    if serializer is not None:
        encoded = serializer.encode(data)
        return encoded.decode() if isinstance(encoded, bytes) else str(encoded)
    return json.dumps(data, ensure_ascii=False, default=str)


def _data_url(media_type: str, data: bytes) -> str:
    import base64

    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def _part(inp: Any, serializer: Any) -> dict[str, Any]:
    """One ag2 input as an OpenAI content part (the chat-completions shapes)."""
    from ag2.events import BinaryInput, BinaryType, DataInput, FileIdInput, TextInput, UrlInput

    if isinstance(inp, TextInput):
        return {"type": "text", "text": inp.content}
    if isinstance(inp, DataInput):
        return {"type": "text", "text": _encode(inp.data, serializer)}
    if isinstance(inp, UrlInput):
        if inp.kind == BinaryType.IMAGE:
            return {"type": "image_url", "image_url": {"url": inp.url}}
        return {"type": "file", "file": {"file_url": inp.url, "kind": str(getattr(inp.kind, "value", inp.kind))}}
    if isinstance(inp, FileIdInput):
        file: dict[str, Any] = {"file_id": inp.file_id}
        if inp.filename:
            file["filename"] = inp.filename
        return {"type": "file", "file": file}
    if isinstance(inp, BinaryInput):
        url = _data_url(str(inp.media_type), inp.data)
        if inp.kind == BinaryType.IMAGE:
            image: dict[str, Any] = {"url": url}
            if "detail" in inp.vendor_metadata:
                image["detail"] = inp.vendor_metadata["detail"]
            return {"type": "image_url", "image_url": image}
        if inp.kind == BinaryType.AUDIO:
            fmt_ = str(inp.media_type).rsplit("/", 1)[-1].replace("mpeg", "mp3").replace("x-wav", "wav")
            return {"type": "input_audio", "input_audio": {"data": url.split(",", 1)[1], "format": fmt_}}
        name = inp.vendor_metadata.get("filename") or f"file.{str(inp.media_type).rsplit('/', 1)[-1]}"
        return {"type": "file", "file": {"file_data": url, "filename": str(name)}}
    return {"type": "text", "text": str(getattr(inp, "content", inp))}


def _content(parts: list[dict[str, Any]]) -> Any:
    """A single text part is a plain string (what a classic thread and ag2's own OpenAI mapper both use)."""
    if len(parts) == 1 and parts[0].get("type") == "text":
        return parts[0]["text"]
    return parts


def _tool_call(call: Any) -> dict[str, Any]:
    arguments = call.arguments or "{}"
    with contextlib.suppress(ValueError):  # the canonical JSON text, as ag2 sends it back to a provider
        arguments = json.dumps(json.loads(arguments))
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": arguments}}


def event_to_message(event: Any, *, agent: str, peer: str, serializer: Any = None) -> RawMessage | None:
    """The classic-thread message for one ag2 event, or None when the model never reads the event."""
    from ag2.compact import CompactionSummary
    from ag2.events import ModelRequest, ModelResponse, ToolResultsEvent

    if isinstance(event, ModelResponse):
        calls = [_tool_call(c) for c in event.tool_calls.calls] if event.tool_calls else []
        text = event.message.content if event.message is not None else None
        if calls:
            return {"content": text, "tool_calls": calls, "role": "assistant"}
        return {"content": text, "role": "assistant", "name": agent}
    if isinstance(event, ToolResultsEvent):
        responses = []
        for r in event.results:
            parts = [_part(p, serializer) for p in r.result.parts]
            responses.append({"tool_call_id": r.parent_id, "role": "tool", "content": _content(parts)})
        joined = "\n\n".join(c if isinstance(c, str) else json.dumps(c, ensure_ascii=False) for c in (r["content"] for r in responses))
        return {"content": joined, "tool_responses": responses, "role": "tool", "name": peer}
    if isinstance(event, ModelRequest):
        return {"content": _content([_part(p, serializer) for p in event.parts]), "role": "user", "name": peer}
    if isinstance(event, CompactionSummary):
        return {"content": f"[Summary of earlier conversation]\n{event.summary}", "role": "user", "name": peer}
    return None


def thread_from_events(events: Iterable[Any], *, agent: str, peer: str, serializer: Any = None) -> list[RawMessage]:
    """The classic thread (``agent.chat_messages[peer]``) for an ag2 history."""
    out = []
    for event in events:
        message = event_to_message(event, agent=agent, peer=peer, serializer=serializer)
        if message is not None:
            out.append(message)
    return out


def openai_messages(thread: Iterable[RawMessage], system: str | None = None) -> list[RawMessage]:
    """A classic thread as classic autogen sends it to a model: system first, each tool result on its own."""
    out: list[RawMessage] = [{"role": "system", "content": system}] if system else []
    for m in thread:
        responses = m.get("tool_responses")
        if responses:
            out.extend(dict(r) for r in responses)
        else:
            out.append(dict(m))
    return out


def unknown_event(event: Any) -> str | None:
    """The class name of an event this mapping does not know (neither mapped, nor one the model never reads), else
    None: what a recorder warns about instead of leaving it out silently."""
    if event_to_message(event, agent="a", peer="p") is not None:
        return None
    cls = type(event)
    if getattr(cls, "__transient__", False) or not getattr(cls, "__conversational__", True):  # ag2's own rule
        return None
    if cls.__name__ in NOT_READ and cls.__module__.startswith("ag2."):  # ag2's own, not a user's namesake
        return None
    if cls.__name__ == "UnknownEvent" and isinstance(getattr(event, "type_name", None), str):
        return f"{event.type_name} (an event ag2 could not load)"
    return f"{cls.__module__}.{cls.__qualname__}"
