"""``update``: replay a saved session into the client's ``update_model`` (the whole walk, then the seed's contract).

Hostile clients and odd results (docs/errors.md):

* the output file (``job.output``) is made absolute and checked against every input (the session, the preference
  data, the config and the client's state file when it is known) before any client code runs, so neither a
  client's ``chdir`` nor a state file named as the output can make the result replace an input;
* client code (import, construction, ``update_model``) runs with stdout on stderr, file descriptor 1 included;
* whatever the client raises, ``SystemExit`` and ``GeneratorExit`` included, is the client's failure: exit 4 from
  its import or construction, exit 1 from ``update_model``; Ctrl-C stays an interrupt;
* the stats are made showable once (:func:`agent_ft_cli.jsonio.sanitize`: cycles, depth, keys, values) and scrubbed
  of secrets, so showing them never fails after the model changed; an output that cannot be written then says
  that the model was updated.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..clients.loading import client_stdout_to_stderr
from ..distributed import is_main_process
from ..errors import AgentFtError, ClientLoadError, ClientUpdateError, OutputWriteError, UsageError
from ..pairing import require_client
from ..redact import describe_exception, known_secrets, remember_secrets, scrub_data
from ..types import Message, UpdateResultDict
from .walk import Target, WarnFn, plan, replay

if TYPE_CHECKING:  # pragma: no cover
    from .eval import Evaluator


@dataclass
class UpdateJob(Target):
    """An ``update``: the walk's :class:`~.walk.Target` and what only ``update`` takes."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    #: Evaluate before and after the update in this run (``update --eval``): a :class:`.eval.Evaluator`.
    evaluator: Any = None
    #: Also write the whole result as JSON here (atomically; ``-``: stdout), checked against the inputs first.
    output: Path | None = None
    #: Other files the command reads (a held-out set, a baseline): the output may not replace them either.
    extra_inputs: list[Path | str] = field(default_factory=list)
    #: Where run records go when the client keeps no run folder of its own (None: agent_ft_cli.runs.record.runs_dir).
    runs_dir: Path | None = None
    #: Write the run record (``--no-run-record``: False).
    run_record: bool = True


@dataclass
class UpdateResult:
    """The seed's result (``update_stats``, ``inference_messages``, ``preference_data``) and what produced it."""

    update_stats: Any
    inference_messages: list[Message]
    preference_data: Any
    session: str
    agent: str
    peer: str
    client: str
    evaluation: Evaluator | None = None  # the job's evaluator, after its runs before and after the update
    output: str | None = None  # where the result was written, when it was
    run_record: str | None = None  # the run record (run.json), when it was written

    @property
    def messages(self) -> int:
        return len(self.inference_messages)

    def as_dict(self) -> UpdateResultDict:
        """The seed's result dict, as ``update_model`` returns it (what ``--json`` and ``--output`` write)."""
        out: UpdateResultDict = {
            "update_stats": self.update_stats,
            "inference_messages": self.inference_messages,
            "preference_data": self.preference_data,
        }
        if self.evaluation is not None:
            out["eval"] = self.evaluation.as_dict()
        return out


def _check_output(output: Path | None, inputs: list[Any]) -> None:
    if output is not None:
        from ..fsutil import check_output_path

        check_output_path(output, inputs=inputs)


def _absolute(path: Path | None) -> Path | None:
    """An output path made absolute now, so client code that changes the working folder cannot move it."""
    from ..fsutil import is_stdout

    if path is None or is_stdout(path):
        return path
    try:
        return Path(os.path.abspath(path))
    except OSError:  # the working folder was deleted: the output check names the problem
        return path


def _client_failure(exc: BaseException) -> bool:
    """Whether an exception raised while client code ran is the client's failure (all but an interrupt and agent-ft's
    own errors, which keep their code)."""
    return not isinstance(exc, (KeyboardInterrupt, AgentFtError))


def run(job: UpdateJob, on_warning: WarnFn | None = None) -> UpdateResult:
    """Everything ``agent-ft update`` does: the walk, then the client's ``update_model`` through the seed's contract."""
    from ..classic.update import reserved_kwargs

    clash = reserved_kwargs(job.kwargs)
    if clash:  # checked before any work: a usage error, not the client's failure
        raise UsageError(f"update_model keyword {clash[0]!r} is reserved (update_model passes it itself); rename it")
    from ..prefs import load_prefs

    if job.prefs_path is None:
        raise UsageError("{prefs} is needed: update_model is handed preference data", options=("prefs",))
    source = job.prefs_path
    output = _absolute(job.output)
    from ..runs import record as run_record

    begun = run_record.start(job.runs_dir, enabled=job.run_record)
    inputs: list[Any] = [job.session_path, job.prefs_path, job.config_path, *job.extra_inputs]
    _check_output(job.output, inputs)
    walk = plan(job)
    agent, peer = walk.agent, walk.peer
    read = walk.read  # every input's digest, from the one read of it (the run record's sha256)
    read[str(source)] = prefs_read = run_record.Digest()
    prefs = load_prefs(source, on_text=prefs_read.text)
    choice = require_client(walk.client, agent)
    state = choice.state_file()
    if state is not None:
        inputs.append(state)
        _check_output(job.output, inputs)
    client_cls = walk.client_class()
    from ..clients.protocol import agent_entry, preflight

    with client_stdout_to_stderr():  # the client's own checks (no weights, no autogen): before anything expensive
        preflight(client_cls, agent_entry(walk.config, walk.header, agent), choice.args, job.kwargs, prefs)

    from ..classic.update import run_update, the_client

    secrets = remember_secrets([choice.args, job.kwargs])
    walk.session(on_warning=on_warning, digest=begun.folder is not None)  # read once, hashed as it is read
    with client_stdout_to_stderr():
        try:
            pair = replay(walk, client_cls, on_warning=on_warning)
        except BaseException as e:  # a SystemExit or GeneratorExit from the client's constructor
            if not _client_failure(e) or isinstance(e, Exception):
                raise
            raise ClientLoadError(
                f"client {choice.spec!r} could not be created or registered: {type(e).__name__}: "
                f"{describe_exception(e, secrets)}"
            ) from e
        if job.strict:  # --strict: every pair update_model would skip fails before the client runs
            conversations = walk.session().conversations(agent, peer) if job.conversation is not None else None
            _refuse_skips(prefs, pair.agent.chat_messages[pair.peer], conversations)
        try:
            client = the_client(pair.agent)  # the seed's own checks: exactly one client, with update_model
        except (ValueError, NotImplementedError) as e:
            raise ClientLoadError(f"cannot update {agent!r}: {e}") from e
        if job.evaluator is not None:  # before the update
            job.evaluator(pair.agent, pair.peer, prefs, source=source)
        known = getattr(client, "state_path", None)
        if isinstance(known, (str, os.PathLike)):
            inputs.append(Path(known))
            _check_output(output, inputs)
        try:
            result = run_update(pair.agent, prefs, pair.peer, job.kwargs, include_system_message=job.include_system_message)
        except BaseException as e:  # anything the client's update_model raises (SystemExit, GeneratorExit too)
            if not _client_failure(e):
                raise
            raise ClientUpdateError(
                f"the client's update_model ({choice.spec}) failed: {type(e).__name__}: {describe_exception(e, secrets)}"
            ) from e
        if job.evaluator is not None:  # and after it, on the same client
            try:
                job.evaluator(pair.agent, pair.peer, prefs, source=source)
            except AgentFtError as e:
                e.hint = "the model WAS updated: its client's update_model succeeded; only the evaluation after it failed"
                raise
    # From here on the model may have changed: nothing below may fail without saying so.
    outcome = UpdateResult(
        update_stats=showable_stats(result["update_stats"]),
        inference_messages=result["inference_messages"],
        preference_data=result["preference_data"],
        session=str(job.session_path),
        agent=agent,
        peer=peer,
        client=choice.spec,
        evaluation=job.evaluator,
    )
    if is_main_process():  # never fails: a record that cannot be written is a warning
        heldout = getattr(job.evaluator, "heldout_read", None)
        if heldout is not None:
            read[str(job.evaluator.heldout_path)] = heldout  # type: ignore[union-attr]  # an Evaluator's
        written = run_record.record_update(job, outcome, begun, prefs, on_warning, client_args=choice.args, read=read)
        outcome.run_record = str(written) if written else None
    if output is not None and is_main_process():  # under accelerate/torchrun only the main process writes
        write_result(outcome, output, shown=job.output)
    return outcome


def showable_stats(stats: Any) -> Any:
    """The client's stats as data every output can show: :func:`~agent_ft_cli.jsonio.sanitize` (only what cannot
    be shown is replaced), then secrets scrubbed (known values, URL userinfo, auth headers, token shapes)."""
    from ..jsonio import sanitize
    from ..redact import REDACTED, is_secret_key, scrub_patterns

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            return scrub_patterns(value)
        if isinstance(value, dict):
            return {
                k: (REDACTED if is_secret_key(k) and isinstance(v, str) and v else scrub(v)) for k, v in value.items()
            }
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    return scrub_data(scrub(sanitize(stats)), known_secrets())


def write_result(result: UpdateResult, output: Path, *, shown: Path | None = None) -> None:
    """Write the result JSON atomically; a failure says the model was updated all the same (it was)."""
    from ..fsutil import write_output
    from ..jsonio import to_json

    try:
        write_output(output, to_json(result.as_dict(), indent=True) + b"\n")
    except OutputWriteError as e:
        name = str(shown if shown is not None else output)
        err = OutputWriteError(
            f"the model of {result.agent!r} WAS updated (its client's update_model succeeded), but the result could "
            f"not be written to {{output}} {name!r} ({e.reason or e}); nothing partial was left there"
            , options=("output",)
        )
        err.path, err.reason = name, e.reason
        err.result = result  # type: ignore[attr-defined]  # the caller shows the stats some other way
        raise err from None
    result.output = str(output)


def _refuse_skips(prefs: Any, thread: list[dict[str, Any]], conversations: list[list[Message]] | None) -> None:
    """Under strict, a pair the client would skip (by the one tying code, over every conversation of the thread:
    ``conversations``, else those ``thread`` carries) or prefs of the wrong shape is an error."""
    from ..errors import StrictError
    from .validate import skipped_pairs

    skipped = skipped_pairs(prefs, thread, conversations)  # type: ignore[arg-type]  # recorded Messages are the dicts tying reads
    if skipped:
        more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
        raise StrictError(
            f"{skipped[0]}{more}; {{strict}} refuses every pair update_model would skip (nothing was updated)",
            options=("strict",),
        )
