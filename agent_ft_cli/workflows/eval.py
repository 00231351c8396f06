"""``eval``: does the model behind an agent prefer the chosen answers? Accuracy, margin, held-out drift, gates.

The walk is the one ``update`` takes (:mod:`.walk`: plan, then replay with the client registered on the agent), and
each preference pair is tied to its prompt by the one tying code (:mod:`agent_ft_cli.align`) in the agent's own
thread, deciding over every conversation of that thread (the replay registers them), exactly as ``export`` and
``update`` tie it: a pair ambiguous there is not judged. The prompt a pair is judged on is the conversation of the
tied answer up to that answer (``messages[:answer_index]``, what the Hugging Face client trains on); a pair whose
answer is in no conversation, or whose own ``prompt`` is not the question asked before that answer, is judged on a
fresh thread: the agent's system message (when the thread has one) and that prompt.

Two methods, chosen by what the client can do:

* ``score``: a client with the optional ``score(messages, candidates)`` (:class:`~agent_ft_cli.clients.protocol.
  ScoringModelClient`) gives the log-probability of the chosen and the rejected answer after the prompt; the pair is
  preferred when chosen > rejected, its margin is chosen - rejected.
* ``generation``: any other client is asked for a reply (``create`` on the prompt thread); the reply is compared
  with both answers by text similarity (:func:`similarity`: difflib's ratio on case-folded, whitespace-normalised
  text, 1.0 for the same text); the pair is preferred when the reply is closer to the chosen answer than to the
  rejected one (a tie is not preferred). There is no margin.

Accuracy is the share of tied pairs preferred. Held-out pairs (a second preference file, prompts that were not
trained on) are tied the same way against the same thread and reported separately: give them a ``prompt`` so
they are asked as their own question. No pair tied is bad input (:class:`~agent_ft_cli.errors.InputDataError`).

Gates (:mod:`.gates`): a minimum accuracy on the pairs, and a largest drop of accuracy (pairs and held-out)
from a baseline, an earlier ``eval`` or ``update`` result (:func:`~.gates.load_baseline`). A missed gate is
:class:`~agent_ft_cli.errors.QualityGateError` (its own exit code), raised by :func:`~.gates.raise_on_failed_gates` after
the caller has shown the results. Nothing here prints.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..align import Skipped, align, prompt_thread, question_key, text_of
from ..clients.loading import client_stdout_to_stderr
from ..clients.protocol import can_score
from ..errors import AgentFtError, ClientLoadError, ClientUpdateError, InputDataError, UsageError
from ..jsonio import shaped
from ..redact import describe_exception, known_secrets, remember_secrets
from ..types import EvalReportDict, EvalResultDict, EvalRunsDict, EvaluationDict, PairResultDict
from .gates import Baseline, Gate, check_gates
from .walk import Target, WarnFn, plan, replay

#: Called after each pair with (pairs done, pairs in all).
ProgressFn = Callable[[int, int], None]

SCORE = "score"
GENERATION = "generation"
COMPARISONS = {
    SCORE: "log-probability of the chosen vs the rejected answer (the client's score)",
    GENERATION: "the client's reply (create) compared by text similarity with the chosen vs the rejected answer",
}


# ---------------------------------------------------------------------------------------------------------------
# results


@dataclass
class PairResult:
    """One tied pair: was the chosen answer preferred, and by how much (scores) or how close (generation)."""

    index: int
    prompt: str
    preferred: bool
    chosen_score: float | None = None
    rejected_score: float | None = None
    reply: str | None = None
    chosen_similarity: float | None = None
    rejected_similarity: float | None = None

    @property
    def margin(self) -> float | None:
        if self.chosen_score is None or self.rejected_score is None:
            return None
        return self.chosen_score - self.rejected_score

    def as_dict(self) -> PairResultDict:
        return shaped(self, PairResultDict, digits=4)  # type: ignore[no-any-return]


@dataclass
class EvalReport:
    """One preference file evaluated: the keys ``--json`` prints (:meth:`as_dict`)."""

    source: str
    method: str
    results: list[PairResult]
    skipped: list[Skipped] = field(default_factory=list)
    #: what the numbers mean, when the client says (its ``score_label``); else :data:`COMPARISONS`' line
    label: str | None = None

    @property
    def comparison(self) -> str:
        return self.label or COMPARISONS[self.method]

    @property
    def pairs(self) -> int:
        return len(self.results)

    @property
    def preferred(self) -> int:
        return sum(r.preferred for r in self.results)

    @property
    def accuracy(self) -> float:
        return self.preferred / self.pairs if self.pairs else 0.0

    @property
    def mean_margin(self) -> float | None:
        margins = [m for m in (r.margin for r in self.results) if m is not None]
        return sum(margins) / len(margins) if margins and len(margins) == len(self.results) else None

    def as_dict(self) -> EvalReportDict:
        return shaped(self, EvalReportDict, digits=4)  # type: ignore[no-any-return]


@dataclass
class Evaluation:
    """The pairs and, when given, the held-out pairs, evaluated on one model state."""

    pairs: EvalReport
    heldout: EvalReport | None = None

    def as_dict(self) -> EvaluationDict:
        return {**self.pairs.as_dict(), "heldout": self.heldout.as_dict() if self.heldout else None}


# ---------------------------------------------------------------------------------------------------------------
# evaluating one model state


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0..1: difflib's ratio on case-folded, whitespace-normalised text."""
    x, y = question_key(a), question_key(b)
    if x == y:
        return 1.0
    return difflib.SequenceMatcher(None, x, y, autojunk=False).ratio()


def the_one_client(agent: Any) -> Any:
    """The model client registered on the agent (exactly one, as ``update`` requires; ``update_model`` not needed)."""
    from ..classic.update import registered_clients

    clients = registered_clients(agent)
    if len(clients) != 1:
        found = "no model client" if not clients else f"{len(clients)} model clients"
        raise ClientLoadError(f"cannot evaluate {getattr(agent, 'name', 'the agent')!r}: it has {found}; it needs exactly one")
    return clients[0]


def _create_params(agent: Any, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """What autogen's wrapper would pass to the client's ``create``: its config entry (autogen's own keys dropped)
    and the messages."""
    wrapper = getattr(agent, "client", None)
    entries = getattr(wrapper, "_config_list", None) or [{}]
    own = set(getattr(wrapper, "extra_kwargs", ())) | {"cache_seed", "cache"}
    entry = entries[0] if isinstance(entries[0], dict) else {}
    return {**{k: v for k, v in entry.items() if k not in own}, "messages": messages}


def _reply_text(client: Any, agent: Any, prompt: list[dict[str, Any]]) -> str:
    """The client's reply to ``prompt`` (``create``): the first reply's text; a reply that only calls tools is
    written as its calls' JSON (``tool_calls: [...]``)."""
    replies = client.message_retrieval(client.create(_create_params(agent, prompt)))
    first = replies[0] if replies else None
    if first is None or isinstance(first, str):
        return first or ""
    text = text_of(first) or str(getattr(first, "content", "") or "")
    calls = _get(first, "tool_calls") or _get(first, "function_call")
    if text or not calls:
        return text
    from ..jsonio import to_json

    return "tool_calls: " + to_json(calls).decode()


def _get(message: Any, key: str) -> Any:
    return message.get(key) if isinstance(message, dict) else getattr(message, key, None)


def evaluate(
    agent: Any,
    peer: Any,
    preference_data: Any,
    *,
    source: str,
    include_system_message: bool = False,
    progress: ProgressFn | None = None,
    spec: str | None = None,
) -> EvalReport:
    """Evaluate the model behind ``agent`` (a live agent holding its thread with ``peer``) on ``preference_data``.

    Raises :class:`InputDataError` when no pair is tied to a prompt (``source`` names the file)."""
    from ..classic.update import inference_thread

    client = the_one_client(agent)
    messages = inference_thread(agent, peer, include_system_message=include_system_message)
    tied, skipped = align(preference_data, messages)
    if not tied:
        why = reasons_text(skipped) or "no pairs given"
        raise InputDataError(
            f"{source}: no preference pair is tied to a prompt in thread {getattr(agent, 'name', '?')}->"
            f"{getattr(peer, 'name', '?')} ({why}); nothing to evaluate"
        )
    method = SCORE if can_score(client) else GENERATION
    secrets = known_secrets()
    results: list[PairResult] = []
    for done, item in enumerate(tied, 1):
        prompt = prompt_thread(item, messages)
        chosen, rejected = text_of(item.pair.chosen) or "", text_of(item.pair.rejected) or ""
        if method == SCORE:
            scores = _client_call("score", spec, secrets, client.score, prompt, [chosen, rejected])
            c, r = _two_scores(scores, spec)
            results.append(PairResult(item.pair.index, item.prompt, c > r, chosen_score=c, rejected_score=r))
        else:
            reply = _client_call("create", spec, secrets, _reply_text, client, agent, prompt)
            sc, sr = similarity(reply, chosen), similarity(reply, rejected)
            results.append(
                PairResult(item.pair.index, item.prompt, sc > sr, reply=reply, chosen_similarity=sc, rejected_similarity=sr)
            )
        if progress is not None:
            progress(done, len(tied))
    label = getattr(client, "score_label", None) if method == SCORE else None
    return EvalReport(source, method, results, skipped, label if isinstance(label, str) else None)


def reasons_text(skipped: list[Skipped]) -> str:
    """Why pairs were skipped, each reason once with its count, in order: ``2 x reason; 1 x other``."""
    return "; ".join(f"{n} x {reason}" for reason, n in Counter(s.reason for s in skipped).items())


def _client_call(method: str, spec: str | None, secrets: list[str], call: Callable[..., Any], *args: Any) -> Any:
    """``call(*args)``, the client's ``method`` at work: what it raises (but agent-ft's own errors) is its failure."""
    try:
        return call(*args)
    except AgentFtError:
        raise
    except Exception as e:
        raise ClientUpdateError(
            f"the client's {method}{_named(spec)} failed: {type(e).__name__}: {describe_exception(e, secrets)}"
        ) from e


def _named(spec: str | None) -> str:
    return f" ({spec})" if spec else ""


def _two_scores(scores: Any, spec: str | None) -> tuple[float, float]:
    try:
        c, r = (float(s) for s in scores)
    except (TypeError, ValueError):
        raise ClientLoadError(
            f"the client's score{_named(spec)} must return one number per candidate (2 here), not {str(scores)[:80]!r}"
        ) from None
    if math.isnan(c) or math.isnan(r):
        raise ClientLoadError(f"the client's score{_named(spec)} returned NaN")
    return c, r


@dataclass
class Evaluator:
    """Evaluates a replayed pair on the pairs and the held-out pairs, and checks the gates on its latest run.

    ``update --eval`` calls it before and after the update, in one run on one client (:attr:`runs` holds both;
    :meth:`as_dict` is the result's ``eval``); ``eval`` calls it once. The held-out file is read when the evaluator
    is made, so a bad one fails before anything runs."""

    heldout_path: str | None = None
    include_system_message: bool = False
    progress: ProgressFn | None = None
    spec: str | None = None
    min_accuracy: float | None = None
    baseline: Baseline | None = None
    max_drop: float | None = None
    heldout_data: Any = None
    runs: list[Evaluation] = field(default_factory=list)
    #: the held-out file's digest, from its one read (:class:`~agent_ft_cli.runs.record.Digest`; a run record's)
    heldout_read: Any = None

    def __post_init__(self) -> None:
        if self.heldout_path is not None and self.heldout_data is None:
            from ..prefs import load_prefs
            from ..runs.record import Digest

            self.heldout_read = Digest()
            self.heldout_data = load_prefs(self.heldout_path, on_text=self.heldout_read.text)

    def __call__(self, agent: Any, peer: Any, preference_data: Any, *, source: str) -> Evaluation:
        options: dict[str, Any] = {
            "include_system_message": self.include_system_message, "progress": self.progress, "spec": self.spec
        }
        pairs = evaluate(agent, peer, preference_data, source=source, **options)
        heldout = None
        if self.heldout_path is not None:
            heldout = evaluate(agent, peer, self.heldout_data, source=self.heldout_path, **options)
        self.runs.append(Evaluation(pairs, heldout))
        return self.runs[-1]

    @property
    def before(self) -> Evaluation:
        return self.runs[0]

    @property
    def after(self) -> Evaluation:
        return self.runs[-1]

    @property
    def gates(self) -> list[Gate]:
        """The gates asked for, checked on the latest run (after the update)."""
        if not self.runs:
            return []
        return check_gates(self.after, min_accuracy=self.min_accuracy, baseline=self.baseline, max_drop=self.max_drop)

    def as_dict(self) -> EvalRunsDict:
        """``{"before": ..., "after": ..., "gates": [...]}``: what ``update --json`` adds as ``eval``."""
        return {
            "before": self.before.as_dict() if self.runs else None,
            "after": self.after.as_dict() if self.runs else None,
            "gates": [g.as_dict() for g in self.gates],
        }


# ---------------------------------------------------------------------------------------------------------------
# the eval command


@dataclass
class EvalJob(Target):
    """An ``eval``: the walk's :class:`~.walk.Target`, the held-out pairs and the gates."""

    heldout_path: str | None = None
    min_accuracy: float | None = None
    baseline: Baseline | None = None  # :func:`load_baseline`
    max_drop: float | None = None


@dataclass
class EvalResult:
    session: str
    agent: str
    peer: str
    client: str
    evaluation: Evaluation
    gates: list[Gate] = field(default_factory=list)

    def as_dict(self) -> EvalResultDict:
        return {
            "session": self.session,
            "agent": self.agent,
            "peer": self.peer,
            "client": self.client,
            **self.evaluation.as_dict(),
            "gates": [g.as_dict() for g in self.gates],
        }


def run(job: EvalJob, on_warning: WarnFn | None = None, progress: ProgressFn | None = None) -> EvalResult:
    """Everything ``agent-ft eval`` does: the walk, then :func:`evaluate` on the pairs and held-out pairs, and the
    job's gates checked. Raising on a missed gate is left to the caller, after it has shown the result
    (:func:`raise_on_failed_gates`)."""
    from ..pairing import require_client
    from ..prefs import load_prefs

    if job.prefs_path is None:
        raise UsageError("{prefs} is needed: eval judges preference pairs", options=("prefs",))
    walk = plan(job)
    prefs = load_prefs(job.prefs_path)
    choice = require_client(walk.client, walk.agent)
    evaluator = Evaluator(
        job.heldout_path, job.include_system_message, progress, choice.spec, job.min_accuracy, job.baseline, job.max_drop
    )
    client_cls = walk.client_class(need_update=False)
    remember_secrets([choice.args])
    with client_stdout_to_stderr():
        pair = replay(walk, client_cls, on_warning=on_warning)
        evaluation = evaluator(pair.agent, pair.peer, prefs, source=job.prefs_path)
    return EvalResult(str(job.session_path), walk.agent, walk.peer, choice.spec, evaluation, evaluator.gates)
