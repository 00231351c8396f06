"""The learning contract, kept exactly as the seed defines it.

``update_model(update_agent, preference_data, other_agent, **kwargs)`` finds
``update_agent.chat_messages[other_agent]``, requires exactly one registered model client, calls its
``update_model(preference_data, inference_messages, **kwargs)`` and returns
``{"update_stats": ..., "inference_messages": ..., "preference_data": ...}``.

No client: ``ValueError``; several: ``ValueError``; a client without ``update_model``: ``NotImplementedError``
(agent-ft's classes for them, :class:`~agent_ft_cli.errors.NoModelClientError`,
:class:`~agent_ft_cli.errors.ManyModelClientsError` and :class:`~agent_ft_cli.errors.UpdateNotImplementedError`, are
each an ``AgentFtError`` and the seed's builtin). An argument that is not an agent at all (where the seed fails with
whatever the object raises): :class:`~agent_ft_cli.errors.NotAnAgentError`, naming the argument.
``preference_data`` is passed on as-is. The protocol itself lives in :mod:`agent_ft_cli.clients.protocol`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ManyModelClientsError, NoModelClientError, NotAnAgentError, UpdateNotImplementedError

if TYPE_CHECKING:  # pragma: no cover
    from autogen import Agent, ConversableAgent

    from ..types import UpdateResultDict


def check_agent(value: Any, argument: str, *, holds_threads: bool = True) -> None:
    """:class:`NotAnAgentError` naming ``argument`` unless ``value`` looks like an autogen agent: a ``str`` ``name``
    (the ``Agent`` protocol), and for the agent that is updated its ``chat_messages``."""
    if isinstance(getattr(value, "name", None), str) and (not holds_threads or hasattr(value, "chat_messages")):
        return
    shown = f"{type(value).__name__} {value!r}" if isinstance(value, str) else type(value).__name__
    hint = ": pass the agent object, not its name" if isinstance(value, str) else ""
    raise NotAnAgentError(f"update_model: {argument} is not an autogen agent (got {shown[:80]}){hint}")


def registered_clients(update_agent: Any) -> list[Any]:
    """The model clients behind an agent (``agent.client._clients``); empty when it has no LLM client."""
    wrapper = getattr(update_agent, "client", None)
    if wrapper is None:
        return []
    return list(getattr(wrapper, "_clients", []))


def the_client(update_agent: Any) -> Any:
    """The one client able to learn, with the seed's errors: none or several (``ValueError``), no ``update_model``
    (``NotImplementedError``)."""
    if getattr(update_agent, "client", None) is None:
        raise NoModelClientError("No OpenAIWrapper client is found.")
    clients = registered_clients(update_agent)
    if len(clients) != 1:
        raise ManyModelClientsError("update_model is not supported for multiple model clients.")
    client = clients[0]
    if not callable(getattr(client, "update_model", None)):
        raise UpdateNotImplementedError(f"update_model is not implemented for {client.__class__.__name__}.")
    return client


def inference_thread(update_agent: Any, other_agent: Any, *, include_system_message: bool = False) -> list[dict[str, Any]]:
    """The thread handed to the client: ``update_agent.chat_messages[other_agent]``, optionally with the system message first."""
    messages = update_agent.chat_messages[other_agent]
    if include_system_message:
        system = getattr(update_agent, "system_message", None)
        if system:
            from ..recorded import RecordedThread

            with_system = [{"content": system, "role": "system"}, *messages]
            carried = getattr(messages, "conversations", None) if isinstance(messages, RecordedThread) else None
            return with_system if carried is None else RecordedThread(with_system, carried)
    return messages  # type: ignore[no-any-return]


#: Keywords ``update_model`` passes itself (the seed's own parameters and the client's positional ones): a caller's
#: keyword with one of these names would collide with them.
RESERVED_KWARGS = ("update_agent", "preference_data", "other_agent", "inference_messages")


def reserved_kwargs(kwargs: dict[str, Any]) -> list[str]:
    """The keys of ``kwargs`` that :func:`update_model` cannot forward (see :data:`RESERVED_KWARGS`)."""
    return [k for k in kwargs if k in RESERVED_KWARGS]


def update_model(
    update_agent: ConversableAgent, preference_data: Any, other_agent: Agent, **kwargs: Any
) -> UpdateResultDict:
    """Update the model behind ``update_agent`` from ``preference_data`` and its thread with ``other_agent``.

    Exactly the seed's contract: every keyword in ``kwargs`` reaches the client's ``update_model`` untouched (agent-ft
    reserves none of them), and the steps run in the seed's order: the agent's ``client`` is checked, its history
    with ``other_agent`` is read (``update_agent.chat_messages[other_agent]``, which, as in the seed, creates an
    empty thread when there is none), then the registered clients are checked and the one client is called.

    Returns ``{"update_stats": <client's dict>, "inference_messages": <the thread>, "preference_data": <as given>}``.

    Raises:
        ValueError: the agent has no model client, or more than one (``NoModelClientError``,
            ``ManyModelClientsError``: both are also :class:`~agent_ft_cli.errors.AgentFtError`).
        NotImplementedError: the client has no ``update_model`` (``UpdateNotImplementedError``, an ``AgentFtError``).
        NotAnAgentError: ``update_agent`` or ``other_agent`` is not an agent (an ``AgentFtError``, also a
            ``TypeError`` and a ``ValueError``); checked before anything is read or created.
    """
    return run_update(update_agent, preference_data, other_agent, kwargs)


def run_update(
    update_agent: Any,
    preference_data: Any,
    other_agent: Any,
    kwargs: dict[str, Any],
    *,
    include_system_message: bool = False,
) -> UpdateResultDict:
    """:func:`update_model` with agent-ft's own options kept out of the client's keyword space: ``kwargs`` go to the
    client as given; ``include_system_message`` prepends the agent's system message (the update workflow's
    ``--include-system-message``)."""
    check_agent(update_agent, "update_agent")
    if getattr(update_agent, "client", None) is None:  # the seed's first check, before the history is read
        raise NoModelClientError("No OpenAIWrapper client is found.")
    check_agent(other_agent, "other_agent", holds_threads=False)  # before a read creates a thread keyed by it
    messages = update_agent.chat_messages[other_agent]
    client = the_client(update_agent)
    inference_messages = messages
    if include_system_message:
        inference_messages = inference_thread(update_agent, other_agent, include_system_message=True)
    stats = client.update_model(preference_data, inference_messages, **kwargs)
    return {
        "update_stats": stats,
        "inference_messages": inference_messages,
        "preference_data": preference_data,
    }
