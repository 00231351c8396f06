"""What a run record says (agent_ft_cli/runs/summary.py) and how its charts look as text (runs/charts.py)."""

from __future__ import annotations

from agent_ft_cli.runs.charts import line_chart, pairs_chart
from agent_ft_cli.runs.summary import PairMargin, curves, has_history, pair_margins, row, series

HISTORY = [
    {"step": 1, "loss": 0.69, "rewards/margins": 0.0, "learning_rate": 1e-4},
    {"step": 2, "loss": 0.4, "rewards/margins": 0.8},
    {"step": 3, "loss": 0.2, "rewards/margins": 1.6},
    {"step": 3, "train_runtime": 2.0, "train_loss": 0.43},
]


def test_series_come_from_the_history_and_skip_the_final_summary() -> None:
    assert series({"history": HISTORY}, "loss") == ([1.0, 2.0, 3.0], [0.69, 0.4, 0.2])
    assert series({"history": HISTORY}, "learning_rate") == ([1.0], [1e-4])
    assert [c[0] for c in curves({"history": HISTORY})] == ["loss", "rewards/margins"]  # one point is no curve


def test_without_a_history_the_first_and_last_logged_step_make_the_line() -> None:
    record = {"stats": {"metrics": {"first_step": {"step": 1, "loss": 0.69}, "last_step": {"step": 8, "loss": 0.01}}}}
    assert series(record, "loss") == ([1.0, 8.0], [0.69, 0.01]) and not has_history(record)
    assert row(record, "r.json")["loss_first"] == 0.69 and row(record, "r.json")["loss_last"] == 0.01


def test_pair_margins_tell_taught_from_held_out_and_match_pairs_by_index() -> None:
    before = {"method": "score", "results": [{"index": 0, "margin": -1.0}, {"index": 2, "margin": -2.0}],
              "heldout": {"results": [{"index": 0, "margin": 0.5}]}}
    after = {"method": "score", "results": [{"index": 2, "margin": 3.0}, {"index": 0, "margin": 1.0}],
             "heldout": {"results": [{"index": 0, "margin": 0.25}]}}
    pairs, unit = pair_margins({"eval": {"before": before, "after": after}})
    assert [(p.label, p.group, p.before, p.after) for p in pairs] == [
        ("#2", "taught", -2.0, 3.0), ("#0", "taught", -1.0, 1.0), ("#0", "held-out", 0.5, 0.25)]
    assert "log p(chosen)" in unit
    generated = {"eval": {"after": {"method": "generation", "results": [
        {"index": 0, "chosen_similarity": 0.9, "rejected_similarity": 0.3}]}}}
    [pair], unit = pair_margins(generated)
    assert pair.before is None and round(pair.after or 0, 6) == 0.6 and "similarity" in unit


def test_pair_margins_fall_back_on_the_clients_own() -> None:
    pairs, _ = pair_margins({"stats": {"margins": [{"pair": 4, "before": 1.0, "after": 2.0}]}})
    assert [(p.label, p.group, p.before, p.after) for p in pairs] == [("#4", "taught", 1.0, 2.0)]


def test_plain_charts_have_no_colour_fit_the_width_and_mark_each_series() -> None:
    text = line_chart("loss", "step", "loss", [("a", [1, 2, 3], [3.0, 2.0, 1.0]), ("b", [1, 2], [2.5, 2.4])], width=60, color=False)
    assert "\x1b[" not in text and max(len(line) for line in text.splitlines()) <= 60
    assert "o a" in text and "x b" in text  # the legend names each run by its marker
    coloured = line_chart("loss", "step", "loss", [("", [1, 2], [1.0, 0.5])], width=60, color=True)
    assert "\x1b[" in coloured
    pairs = pairs_chart([PairMargin("#0", "taught", -1.0, 2.0), PairMargin("#1", "held-out", 0.5, 0.4)], "margin", width=70, color=False)
    assert "#0 t" in pairs and "#1 h" in pairs and "o before, x after" in pairs
