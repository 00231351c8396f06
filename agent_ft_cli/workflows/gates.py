"""Quality gates for ``eval`` and ``update --eval``: a minimum accuracy, and a largest drop from a baseline.

A baseline is an earlier ``eval --json`` result (``accuracy`` at the top) or ``update --eval --json`` result
(``eval.after``). A missed gate is :class:`~agent_ft_cli.errors.QualityGateError`, with its own exit code, raised by
:func:`raise_on_failed_gates` after the caller has shown the results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import InputDataError, QualityGateError, UsageError
from ..jsonio import shaped
from ..types import GateDict


class _Scored(Protocol):
    @property
    def accuracy(self) -> float: ...


class Evaluated(Protocol):
    """What the gates read of an evaluation (:class:`~agent_ft_cli.workflows.eval.Evaluation` is one)."""

    @property
    def pairs(self) -> _Scored: ...

    @property
    def heldout(self) -> _Scored | None: ...


@dataclass
class Gate:
    name: str
    ok: bool
    detail: str

    def as_dict(self) -> GateDict:
        return shaped(self, GateDict)  # type: ignore[no-any-return]




@dataclass
class Baseline:
    """The accuracies an earlier run reported: on the pairs, and on the held-out pairs when it had them."""

    source: str
    accuracy: float
    heldout: float | None = None
    #: the evaluation as the file holds it (``eval --plot`` draws its pairs: the file is read once)
    results: dict[str, Any] | None = field(default=None, compare=False, repr=False)


def _accuracy_of(value: Any) -> float | None:
    acc = value.get("accuracy") if isinstance(value, dict) else None
    if isinstance(acc, bool) or not isinstance(acc, (int, float)) or not 0 <= acc <= 1:
        return None
    return float(acc)


def load_baseline(path: str | Path) -> Baseline:
    """An earlier ``eval`` result (``accuracy`` at the top) or ``update`` result with evaluation (``eval.after``).

    Anything else is :class:`InputDataError`, one line naming the file."""
    import orjson

    from ..fsutil import read_text

    where = str(path)
    text = read_text(Path(path), noun="baseline", error=InputDataError)
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        raise InputDataError(f"baseline {where!r}: not valid JSON ({str(e).split(':', 1)[0]})") from None
    if isinstance(data, dict) and isinstance(data.get("eval"), dict):
        data = data["eval"].get("after")
    accuracy = _accuracy_of(data)
    if accuracy is None:
        raise InputDataError(
            f"baseline {where!r}: not an evaluation result; expected an object with 'accuracy' (0..1) as "
            "'agent-ft eval' prints it, or 'eval.after.accuracy' as 'agent-ft update' prints it when it evaluates"
        )
    heldout = data.get("heldout") if isinstance(data, dict) else None
    return Baseline(where, accuracy, _accuracy_of(heldout), data)


def check_options(
    min_accuracy: float | None, max_drop: float | None, baseline: Any, *, prefs: Any = None, heldout: Any = None
) -> None:
    """Refuse gate options out of range or given without what they need, and two inputs both from stdin."""
    if str(prefs) == "-" and str(heldout) == "-":
        raise UsageError("{prefs} and {heldout} cannot both be read from stdin (-)", options=("prefs", "heldout"))
    if min_accuracy is not None and not 0 <= min_accuracy <= 1:
        raise UsageError(f"{{min_accuracy}} {min_accuracy} is not between 0 and 1", options=("min_accuracy",))
    if max_drop is not None and not 0 <= max_drop <= 1:
        raise UsageError(f"{{max_drop}} {max_drop} is not between 0 and 1", options=("max_drop",))
    if max_drop is not None and baseline is None:
        raise UsageError("{max_drop} needs {baseline}: the earlier result to compare with", options=("max_drop", "baseline"))


def check_gates(
    evaluation: Evaluated, *, min_accuracy: float | None = None, baseline: Baseline | None = None, max_drop: float | None = None
) -> list[Gate]:
    """The gates asked for, each passed or not: accuracy on the pairs at least ``min_accuracy``; accuracy on the
    pairs, and on the held-out pairs when both runs have them, no more than ``max_drop`` (default 0) below
    ``baseline``."""
    gates: list[Gate] = []
    eps = 1e-9
    acc = evaluation.pairs.accuracy
    if min_accuracy is not None:
        gates.append(Gate("min-accuracy", acc + eps >= min_accuracy, f"accuracy {acc:.4g} (needs at least {min_accuracy:g})"))
    if baseline is not None:
        drop = max_drop or 0.0
        runs = [("pairs", acc, baseline.accuracy)]
        if evaluation.heldout is not None and baseline.heldout is not None:
            runs.append(("held-out", evaluation.heldout.accuracy, baseline.heldout))
        for name, now, before in runs:
            ok = now + eps >= before - drop
            detail = f"{name} accuracy {now:.4g}, baseline {before:.4g} (may drop by at most {drop:g})"
            gates.append(Gate(f"max-drop ({name})", ok, detail))
    return gates


def raise_on_failed_gates(gates: list[Gate], *, hint: str | None = None) -> None:
    """:class:`QualityGateError` naming every missed gate; nothing when all passed (or none was asked for)."""
    failed = [g for g in gates if not g.ok]
    if failed:
        raise QualityGateError("quality gate failed: " + "; ".join(f"{g.name}: {g.detail}" for g in failed), hint=hint)
