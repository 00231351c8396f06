"""What a run record says at a glance: the listing row, the per-step curves and the per-pair margins.

One reader of the record's shape for the table, the JSON listing, the terminal charts and the PNG, so they
never disagree. Curves come from the record's ``history`` (TRL's ``log_history`` keys: ``loss``,
``rewards/margins``, ...); without one, the first and last logged step the stats keep (``metrics.first_step``
/``last_step``) give a two-point line. Per-pair margins come from ``eval`` before/after (the preference pairs,
trained on, are "taught"; ``--heldout`` pairs are "held-out"), else from the client's own ``margins`` stats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The per-step values charted, in order: (history key, title, y-axis label).
CURVES = (
    ("loss", "training loss", "loss (nats)"),
    ("rewards/margins", "reward margin (chosen - rejected)", "margin (nats)"),
    ("rewards/accuracies", "reward accuracy", "share of pairs"),
    ("learning_rate", "learning rate", "learning rate"),
)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def series(record: dict[str, Any], key: str) -> tuple[list[float], list[float]]:
    """(steps, values) of ``key`` over the run's logged steps (training steps only, not the final summary)."""
    steps: list[float] = []
    values: list[float] = []
    history = record.get("history") if isinstance(record.get("history"), list) else []
    for position, entry in enumerate(history or [], 1):
        value = _num(_dict(entry).get(key))
        if value is None or "train_runtime" in entry:
            continue
        step = _num(entry.get("step"))
        steps.append(step if step is not None else float(position))
        values.append(value)
    if not values:
        metrics = _dict(_dict(record.get("stats")).get("metrics"))
        for name in ("first_step", "last_step"):
            entry = _dict(metrics.get(name))
            value, step = _num(entry.get(key)), _num(entry.get("step"))
            if value is not None and (not steps or step != steps[-1]):
                steps.append(step if step is not None else float(len(steps) + 1))
                values.append(value)
    return steps, values


def has_history(record: dict[str, Any]) -> bool:
    """Whether the run kept its per-step history (else its curves have the first and last step only)."""
    history = record.get("history")
    return isinstance(history, list) and len(history) > 0


def curves(record: dict[str, Any]) -> list[tuple[str, str, str, list[float], list[float]]]:
    """The curves the run has: (key, title, y label, steps, values), at least two points each."""
    out = []
    for key, title, unit in CURVES:
        steps, values = series(record, key)
        if len(values) >= 2:
            out.append((key, title, unit, steps, values))
    return out


LOGPROB_MARGIN = "log p(chosen) - log p(rejected) (nats)"


@dataclass
class PairMargin:
    label: str  # "#3" (the pair's index in its file)
    group: str  # "taught" or "held-out"
    before: float | None
    after: float | None


def _pair_value(result: dict[str, Any]) -> float | None:
    margin = _num(result.get("margin"))
    if margin is not None:
        return margin
    c, r = _num(result.get("chosen_similarity")), _num(result.get("rejected_similarity"))
    return c - r if c is not None and r is not None else None


def _eval_pairs(before: dict[str, Any], after: dict[str, Any], group: str) -> list[PairMargin]:
    first = {_dict(r).get("index"): _pair_value(_dict(r)) for r in before.get("results") or []}
    return [
        PairMargin(f"#{_dict(r).get('index')}", group, first.get(_dict(r).get("index")), _pair_value(_dict(r)))
        for r in after.get("results") or []
    ]


def pair_margins(record: dict[str, Any]) -> tuple[list[PairMargin], str]:
    """Per-pair margins before and after the update and what they measure (the y-axis label)."""
    evaluation = _dict(record.get("eval"))
    before, after = _dict(evaluation.get("before")), _dict(evaluation.get("after"))
    if after:
        out = _eval_pairs(before, after, "taught")
        if _dict(after.get("heldout")):
            out += _eval_pairs(_dict(before.get("heldout")), _dict(after.get("heldout")), "held-out")
        unit = LOGPROB_MARGIN if after.get("method") == "score" else "similarity to chosen - to rejected"
        return out, unit
    margins = _dict(record.get("stats")).get("margins")
    out = [
        PairMargin(f"#{m.get('pair')}", "taught", _num(m.get("before")), _num(m.get("after")))
        for m in (margins if isinstance(margins, list) else [])
        if isinstance(m, dict)
    ]
    return out, LOGPROB_MARGIN


def margin_change(record: dict[str, Any]) -> tuple[float | None, float | None]:
    """The mean margin on the taught pairs before and after (the client's stats, else ``eval``)."""
    stats = _dict(record.get("stats"))
    before, after = _num(stats.get("margin_before")), _num(stats.get("margin_after"))
    if before is None and after is None:
        evaluation = _dict(record.get("eval"))
        before = _num(_dict(evaluation.get("before")).get("mean_margin"))
        after = _num(_dict(evaluation.get("after")).get("mean_margin"))
    return before, after


def row(record: dict[str, Any], path: str) -> dict[str, Any]:
    """The listing's row (``agent-ft runs --json`` prints these, with the stats)."""
    stats = _dict(record.get("stats"))
    _, losses = series(record, "loss")
    before, after = margin_change(record)
    steps = _num(stats.get("steps"))
    return {
        "id": record.get("id"),
        "time": record.get("time"),
        "client": _dict(record.get("client")).get("spec"),
        "method": record.get("method"),
        "steps": int(steps) if steps is not None else (len(record.get("history") or []) or None),
        "loss_first": losses[0] if losses else None,
        "loss_last": losses[-1] if losses else None,
        "margin_before": before,
        "margin_after": after,
        "checkpoint": record.get("checkpoint"),
        "published": bool(record.get("published")),
        "record": path,
        "stats": record.get("stats"),
    }


def short_client(spec: Any) -> str:
    """``agent_ft_cli.hf:HFClient`` -> ``HFClient`` (the listing's column)."""
    text = str(spec or "-")
    return text.rsplit(":", 1)[-1].rsplit(".", 1)[-1] or text


def stats_for_table(stats: Any) -> Any:
    """The stats as the update's table shows them: a per-step ``history`` as its length (``runs show`` charts it)."""
    if isinstance(stats, dict) and isinstance(stats.get("history"), list):
        return {**stats, "history": f"{len(stats['history'])} logged step(s): agent-ft runs show latest"}
    return stats
