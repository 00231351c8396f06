"""The client protocol, written once, and a base class with the boilerplate every model client repeats.

:class:`ModelClient` is what classic autogen reads from a custom model client (``create``, ``message_retrieval``,
``cost``, ``get_usage``); :class:`UpdateableModelClient` adds agent-ft's ``update_model``; :class:`ScoringModelClient`
is the optional ``score`` that ``eval`` compares answers with (:func:`can_score`). The method-name tuples the
loader checks (:data:`MODEL_CLIENT_METHODS`, :data:`UPDATE_METHODS`) are read off these two classes, so the
protocol has one source.

:class:`ModelClientBase` carries what every supported autogen version (pyautogen 0.2-0.9, autogen 0.10-0.14) needs
besides the reply itself: a client implements :meth:`~ModelClientBase.create` by building its reply with
:func:`chat_response` and gets ``message_retrieval``, ``cost`` and ``get_usage`` for free. Nothing here imports
autogen.
"""

from __future__ import annotations

import uuid
from types import FunctionType, SimpleNamespace
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class ModelClient(Protocol):
    """What classic autogen calls on a custom model client (its ``ModelClient`` protocol)."""

    def create(self, params: dict[str, Any]) -> Any: ...

    def message_retrieval(self, response: Any) -> list[Any]: ...

    def cost(self, response: Any) -> float: ...

    @staticmethod
    def get_usage(response: Any) -> dict[str, Any]: ...


@runtime_checkable
class UpdateableModelClient(ModelClient, Protocol):
    """A custom autogen model client that can also learn from preference data.

    It has autogen's ModelClient methods (``create``, ``message_retrieval``, ``cost``, ``get_usage``) plus
    ``update_model``.
    """

    def update_model(
        self, preference_data: Any, inference_messages: list[dict[str, Any]], **kwargs: Any
    ) -> dict[str, Any]:
        """Learn from the preference data; return a dict of learning stats."""
        ...


@runtime_checkable
class ScoringModelClient(Protocol):
    """OPTIONAL, next to ``update_model``: a client that can say how likely each candidate reply is.

    ``score(messages, candidates)`` returns one float per candidate, in order: the log-probability of that candidate
    as the assistant's next reply after ``messages`` (the agent's own thread up to the answer being judged, ending
    with what it was asked). Higher means more preferred; only differences between candidates of one call are
    compared. A candidate is a string or a message dict. ``agent-ft eval`` and ``update --eval`` use it to tell whether
    a chosen answer beats its rejected one, and by how much; a client without it is evaluated by generation
    (``create``). Check with :func:`can_score`.
    """

    def score(self, messages: list[dict[str, Any]], candidates: list[Any]) -> list[float]:
        """The log-probability of each candidate reply after ``messages``."""
        ...


def can_score(client: Any) -> bool:
    """Whether ``client`` (an instance or a class) implements the optional :class:`ScoringModelClient` protocol."""
    return callable(getattr(client, "score", None))


def preflight(client_cls: Any, config_entry: dict[str, Any] | None, client_args: dict[str, Any] | None,
              update_kwargs: dict[str, Any] | None = None, preference_data: Any = None) -> list[str]:
    """OPTIONAL hook: a client class may define ``preflight(config_entry, client_args, update_kwargs=None,
    preference_data=None)`` (a static- or classmethod) that checks what it can before anything expensive (no
    weights, no autogen), raising its typed :class:`~agent_ft_cli.errors.AgentFtError`. ``validate`` calls it with
    the agent's ``config_list`` entry and the client args; ``update`` also passes its ``update_model`` keyword args
    and the preference data (as loaded, not yet tied to the thread). No hook: nothing checked. The hook may return
    strings saying what it could not check (``validate`` shows them as warnings); they are returned as a list."""
    from ..errors import AgentFtError, ClientLoadError

    hook = getattr(client_cls, "preflight", None)
    if not callable(hook):
        return []
    args: tuple[Any, ...] = (dict(config_entry or {}), dict(client_args or {}))
    try:
        if update_kwargs is None:
            notes = hook(*args)
        elif preference_data is None:
            notes = hook(*args, dict(update_kwargs))
        else:
            notes = hook(*args, dict(update_kwargs), preference_data)
    except AgentFtError:
        raise
    except Exception as e:
        name = getattr(client_cls, "__qualname__", str(client_cls))
        raise ClientLoadError(f"the preflight check of client {name} failed: {type(e).__name__}: {e}") from e
    return [str(n) for n in notes] if isinstance(notes, (list, tuple)) else []


def has_preflight(client_cls: Any) -> bool:
    """Whether a client class defines the optional :func:`preflight` hook."""
    return callable(getattr(client_cls, "preflight", None))


def config_entry(agent_def: Any) -> dict[str, Any]:
    """The first ``config_list`` entry of an agent definition's ``llm_config`` (a dict or an object), or {}."""
    llm = agent_def.get("llm_config") if isinstance(agent_def, dict) else getattr(agent_def, "llm_config", None)
    entries = llm.get("config_list") if isinstance(llm, dict) else None
    return dict(entries[0]) if isinstance(entries, list) and entries and isinstance(entries[0], dict) else {}


def agent_entry(config: Any, header: Any, agent: str | None) -> dict[str, Any]:
    """An agent's first ``config_list`` entry: from the pair config when it defines the agent, else from the
    session header's agent definitions."""
    agents = getattr(config, "agents", None) or {}
    if agent in agents:
        return config_entry(agents[agent])
    return next((config_entry(a) for a in (header or {}).get("agents") or [] if a.get("name") == agent), {})


def _methods(protocol: type) -> tuple[str, ...]:
    """The methods a protocol class defines itself, in the order it defines them."""
    return tuple(
        name
        for name, value in vars(protocol).items()
        if not name.startswith("_") and isinstance(value, (FunctionType, staticmethod, classmethod))
    )


#: What autogen's ModelClient protocol needs from a custom client class.
MODEL_CLIENT_METHODS = _methods(ModelClient)
#: What agent-ft needs on top of it to run an update.
UPDATE_METHODS = _methods(UpdateableModelClient)

#: The optional scoring method (see :class:`ScoringModelClient`).
SCORE_METHODS = _methods(ScoringModelClient)


class ChatMessage(dict):  # type: ignore[type-arg]
    """A reply message that is a dict (autogen 0.2-0.9 read dicts) and has attributes (autogen 0.10+ reads them)."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def chat_response(
    reply: str | dict[str, Any] | None,
    *,
    model: str,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
    cost: float = 0.0,
) -> SimpleNamespace:
    """An OpenAI-shaped completion holding one reply: its text, or a whole message (e.g. with ``tool_calls``).

    The ``id`` makes autogen 0.14 call ``message_retrieval`` instead of reading the message's attributes itself.
    Token counts, when given, are reported by :meth:`ModelClientBase.get_usage`.
    """
    if isinstance(reply, dict):
        message = ChatMessage(reply)
        message.setdefault("role", "assistant")
    else:
        message = ChatMessage(content=reply, role="assistant", function_call=None, tool_calls=None)
    usage = None
    if prompt_tokens is not None or completion_tokens is not None:
        p, c = prompt_tokens or 0, completion_tokens or 0
        usage = SimpleNamespace(prompt_tokens=p, completion_tokens=c, total_tokens=p + c)
    return SimpleNamespace(
        id=f"{model}-{uuid.uuid4().hex}",
        choices=[SimpleNamespace(message=message, finish_reason="stop")],
        model=model,
        cost=cost,
        usage=usage,
    )


def rounded_mean(values: list[float]) -> float | None:
    """The mean of a run's margins as the bundled clients report it: 4 decimals, None for no values."""
    return round(sum(values) / len(values), 4) if values else None


class ModelClientBase:
    """The model-client boilerplate: a subclass writes ``create`` (returning :func:`chat_response`) and, to learn,
    ``update_model``."""

    model: str = "agent-ft"

    def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.model = (config or {}).get("model", self.model)

    def create(self, params: dict[str, Any]) -> Any:  # pragma: no cover - every subclass writes its own
        raise NotImplementedError

    def message_retrieval(self, response: Any) -> list[Any]:
        """Each choice's text; the whole message when it carries tool or function calls."""
        out: list[Any] = []
        for choice in response.choices:
            message = choice.message
            calls = getattr(message, "tool_calls", None) or getattr(message, "function_call", None)
            out.append(message if calls else getattr(message, "content", None))
        return out

    def cost(self, response: Any) -> float:
        return float(getattr(response, "cost", 0.0) or 0.0)

    @staticmethod
    def get_usage(response: Any) -> dict[str, Any]:
        usage = getattr(response, "usage", None)
        if usage is None:
            return {}
        return {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
            "cost": float(getattr(response, "cost", 0.0) or 0.0),
            "model": getattr(response, "model", None),
        }
