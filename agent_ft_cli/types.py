"""The shapes of agent-ft's data, as ``TypedDict`` classes: what a session holds, the rows ``export`` writes and the results
the commands print with ``--json``. This module is their one owner; it imports nothing but :mod:`typing`, so type
checkers (and ``from agent_ft_cli import Message``) see them at no cost.

They describe plain dicts, exactly as read from a session file or written as JSON: nothing is converted, and a value
is still a ``dict`` at run time. A key marked optional (a ``total=False`` part) is one a record may lack; a record
may also carry keys not declared here (autogen adds its own to a message; a session's unknown fields are kept), but
every key agent-ft itself writes is declared, which a test holds against real outputs.

* a session: :class:`SessionHeader` (line 1) with an :class:`AgentDefinition` per agent, and the :class:`Message`
  list of each thread (``agent.chat_messages[peer]`` as autogen held them);
* training rows, per format (:data:`ExportRow`): :class:`MessagesRow` (``trl-sft``, ``openai-sft``),
  :class:`PreferenceRow` (``trl-preference``), :class:`StandardPreferenceRow` (``trl-preference`` with
  ``standard``), :class:`KTORow` (``trl-kto``), :class:`OpenAIDPORow` (``openai-dpo``), whose messages are
  :class:`RowMessage` dicts;
* results (each an ``as_dict()`` and what ``--json`` prints): :class:`RecordResultDict`, :class:`UpdateResultDict`,
  :class:`ValidateReport`, :class:`EvalResultDict`, :class:`ExportSummaryDict`, and the parts they share.
"""

import sys
from collections.abc import Callable
from typing import Any, Literal, TypedDict

if sys.version_info >= (3, 11):
    from typing import NotRequired
else:  # pragma: no cover
    from typing_extensions import NotRequired

# No ``from __future__ import annotations`` here: the classes' annotations are evaluated when they are made, so at run
# time too ``__required_keys__`` and ``__optional_keys__`` say which keys a record may lack (``NotRequired``).

__all__ = [
    "AgentDefinition",
    "CheckDict",
    "Content",
    "EvalReportDict",
    "EvalResultDict",
    "EvalRunsDict",
    "EvalSkipDict",
    "EvaluationDict",
    "ExportRow",
    "ExportSummaryDict",
    "FunctionCall",
    "GateDict",
    "KTORow",
    "Message",
    "MessagesRow",
    "OpenAIDPOInput",
    "OpenAIDPORow",
    "PairCounts",
    "PairResultDict",
    "PreferenceRow",
    "RecordResultDict",
    "RowFunction",
    "RowMessage",
    "RowToolCall",
    "SessionHeader",
    "SkippedPairDict",
    "SkippedSessionDict",
    "StandardPreferenceRow",
    "TieDict",
    "ToolCall",
    "ToolResponse",
    "UpdateResultDict",
    "ValidateReport",
]

# ---------------------------------------------------------------------------------------------------------------
# a session

RawMessage = dict[str, Any]
"""A message as code that reads any shape handles it (adapters, tying, export): a plain dict holding the keys of
:class:`Message` and whatever else the framework put there. The one alias; :class:`Message` is the typed shape."""

WarnFn = Callable[[str], None]
"""Called with each warning's one-line text (the CLI prints it to stderr; a library caller may collect it)."""

Content = str | list[Any] | dict[str, Any] | None
"""A message's ``content``: text, a list of parts (multimodal), an object, or ``None`` (next to a tool call)."""


class FunctionCall(TypedDict, total=False):
    """The function a tool call (or a legacy ``function_call``) names: ``arguments`` is the JSON text of them."""

    name: str
    arguments: str


class ToolCall(TypedDict, total=False):
    """One entry of a message's ``tool_calls``."""

    id: str
    type: str
    function: FunctionCall


class ToolResponse(TypedDict, total=False):
    """One entry of a message's ``tool_responses`` (a tool's result, as autogen keeps it)."""

    tool_call_id: str | None
    role: str
    content: Content


class Message(TypedDict, total=False):
    """One message of a thread, exactly as autogen held it in ``agent.chat_messages[peer]`` (and as the session
    stores it). autogen writes ``role`` and ``content`` always, the other keys when they apply; a key autogen adds
    that is not declared here is kept as it is."""

    role: str
    content: Content
    name: str
    tool_calls: list[ToolCall]
    tool_responses: list[ToolResponse]
    tool_call_id: str | None
    function_call: FunctionCall
    context: dict[str, Any] | None


# "class" is a keyword: that one key is declared in the functional form, the class below adds the others
_AgentClass = TypedDict("_AgentClass", {"class": NotRequired[str]})


class AgentDefinition(_AgentClass, TypedDict):
    """An agent as the session header defines it: ``name`` always; ``class`` (the agent's class as
    ``module.QualName``) and the others as recorded. ``llm_config`` has every secret redacted and is ``False`` when
    the agent has no LLM; ``model_clients`` are the import paths (``module:Class``) of the custom model clients
    registered on the agent."""

    name: str
    system_message: NotRequired[str | None]
    human_input_mode: NotRequired[str | None]
    description: NotRequired[str | None]
    llm_config: NotRequired[dict[str, Any] | Literal[False] | None]
    model_clients: NotRequired[list[str]]


class SessionHeader(TypedDict):
    """Line 1 of a session file (``Session.header``). ``imported_from`` says where an imported session came from
    (``agent-ft import``), ``framework`` which framework wrote it when that is not classic autogen
    (``{"name": ..., "version": ...}``)."""

    type: Literal["header"]
    format: Literal["agent-ft-session"]
    version: str
    created_at: NotRequired[str | None]
    agent_ft_version: NotRequired[str | None]
    autogen_version: NotRequired[str | None]
    agents: list[AgentDefinition]
    imported_from: NotRequired[dict[str, Any]]
    framework: NotRequired[dict[str, Any]]


# ---------------------------------------------------------------------------------------------------------------
# training rows (:func:`agent_ft_cli.export_rows`, ``agent-ft export``), per format


class RowFunction(TypedDict):
    """The function of a tool call in a row: ``arguments`` is JSON text in the OpenAI formats, an object in the TRL
    formats (chat templates encode it themselves), text when it was not a JSON object."""

    name: str | None
    arguments: Any


class RowToolCall(TypedDict):
    """A tool call as a training format spells it."""

    id: NotRequired[str]
    type: str
    function: NotRequired[RowFunction]


class RowMessage(TypedDict):
    """A message as a training format spells it (see ``docs/export-import.md``): the TRL formats write ``""`` for
    missing content and drop ``name``; the OpenAI formats omit missing content and keep ``name`` where OpenAI allows
    it. ``weight`` is ``0`` on the assistant turns ``openai-sft`` with ``train_last_only`` leaves out of training."""

    role: str
    content: NotRequired[str | list[Any]]
    name: NotRequired[str | None]
    tool_calls: NotRequired[list[RowToolCall]]
    tool_call_id: NotRequired[Any]
    function_call: NotRequired[dict[str, Any]]
    weight: NotRequired[int]


class MessagesRow(TypedDict):
    """A row of ``trl-sft`` and ``openai-sft``: one conversation; ``tools`` when the agent had tools (and in the
    OpenAI format ``functions`` for the legacy function API)."""

    messages: list[RowMessage]
    tools: NotRequired[list[Any]]
    functions: NotRequired[list[Any]]


class PreferenceRow(TypedDict):
    """A row of ``trl-preference`` (conversational): the conversation up to the answer, and the two answers."""

    prompt: list[RowMessage]
    chosen: list[RowMessage]
    rejected: list[RowMessage]
    tools: NotRequired[list[Any]]


class StandardPreferenceRow(TypedDict):
    """A row of ``trl-preference`` with ``standard``: plain text, the answers each starting with a space."""

    prompt: str
    chosen: str
    rejected: str


class KTORow(TypedDict):
    """A row of ``trl-kto``: each pair gives two, the chosen answer labelled ``True``, the rejected ``False``."""

    prompt: list[RowMessage]
    completion: list[RowMessage]
    label: bool
    tools: NotRequired[list[Any]]


class OpenAIDPOInput(TypedDict):
    """The ``input`` of an ``openai-dpo`` row."""

    messages: list[RowMessage]
    tools: NotRequired[list[Any]]
    functions: NotRequired[list[Any]]


class OpenAIDPORow(TypedDict):
    """A row of ``openai-dpo``."""

    input: OpenAIDPOInput
    preferred_output: list[RowMessage]
    non_preferred_output: list[RowMessage]


ExportRow = MessagesRow | PreferenceRow | StandardPreferenceRow | KTORow | OpenAIDPORow
"""A row of any format (what :func:`agent_ft_cli.export_rows` returns when the format is not a literal)."""


# ---------------------------------------------------------------------------------------------------------------
# results: each an ``as_dict()`` and what the command prints with ``--json``


class RecordResultDict(TypedDict):
    """``agent-ft record --json``: where the chat was written, between whom, and the agent's final reply."""

    session: str
    agent: str
    peer: str
    messages: int
    reply: str | None


class GateDict(TypedDict):
    """A quality gate checked (``--min-accuracy``, ``--baseline`` with ``--max-drop``)."""

    name: str
    ok: bool
    detail: str


class EvalSkipDict(TypedDict):
    """A preference pair left out of an evaluation, and why."""

    index: int
    kind: str
    reason: str


class PairResultDict(TypedDict):
    """One evaluated pair: the scores and ``margin`` when the client scores, else the generated ``reply`` and its
    similarity to each side."""

    index: int
    prompt: str
    preferred: bool
    chosen_score: NotRequired[float | None]
    rejected_score: NotRequired[float | None]
    margin: NotRequired[float | None]
    reply: NotRequired[str | None]
    chosen_similarity: NotRequired[float | None]
    rejected_similarity: NotRequired[float | None]


class EvalReportDict(TypedDict):
    """One preference file evaluated on one model state."""

    source: str
    pairs: int
    preferred: int
    accuracy: float
    mean_margin: float | None
    method: str
    comparison: str
    skipped: list[EvalSkipDict]
    results: list[PairResultDict]


class EvaluationDict(EvalReportDict, TypedDict):
    """The pairs evaluated (the keys of :class:`EvalReportDict`), and the held-out pairs when given (``None``
    otherwise)."""

    heldout: EvalReportDict | None


class EvalRunsDict(TypedDict):
    """``eval`` in ``agent-ft update --eval --json``: the evaluations before and after the update, and the gates."""

    before: EvaluationDict | None
    after: EvaluationDict | None
    gates: list[GateDict]


class EvalResultDict(EvaluationDict, EvalReportDict, TypedDict):
    """``agent-ft eval --json``: the thread and client evaluated, the keys of :class:`EvaluationDict`, the gates."""

    session: str
    agent: str
    peer: str
    client: str
    gates: list[GateDict]


class UpdateResultDict(TypedDict):
    """``agent-ft update --json`` (and ``--output``): the seed's result dict, ``eval`` with ``--eval``."""

    update_stats: Any
    inference_messages: list[Message]
    preference_data: Any
    eval: NotRequired[EvalRunsDict]


class CheckDict(TypedDict):
    """One check of ``agent-ft validate``: ``file`` names the session it is about, ``warnings`` what would be
    skipped (a failure under ``strict``)."""

    name: str
    ok: bool
    detail: str
    file: NotRequired[str]
    warnings: NotRequired[list[str]]


class ValidateReport(TypedDict):
    """``agent-ft validate --json``."""

    ok: bool
    checks: list[CheckDict]


class PairCounts(TypedDict):
    """How many preference pairs an export was given, tied and skipped."""

    total: int
    tied: int
    skipped: int


class SkippedPairDict(TypedDict):
    """A preference pair an export left out: ``kind`` says why in a word, ``reason`` in a sentence."""

    pair: int
    reason: str
    kind: str


class SkippedSessionDict(TypedDict):
    """A session an export left out, and why."""

    session: str
    reason: str


class TieDict(TypedDict):
    """Where an export tied a preference pair: the session, its conversation (0 = oldest), the index of the answer
    the pair replaces and of the question it answers (``session`` ``None``: tied to its explicit prompt alone)."""

    pair: int
    session: str | None
    conversation: NotRequired[int]
    answer_index: int | None
    prompt_index: int | None


class ExportSummaryDict(TypedDict):
    """``agent-ft export --json``: what was written and what was left out."""

    format: str
    out: str | None
    dataset: str | None
    sessions: int
    conversations: int
    rows: int
    pairs: PairCounts
    skipped_pairs: list[SkippedPairDict]
    skipped_sessions: list[SkippedSessionDict]
    ties: list[TieDict]
