"""`agent-ft runs`, `runs show`, `runs diff` and `--plot` (runs show, eval) through the CLI."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from runkit import CAPITAL, LOCAL, STEPS, TRIVIA, cli, listed, ok, png_size

ANSI = re.compile(r"\x1b\[")


@pytest.fixture
def three_runs(isolated: Path) -> list[str]:
    """A local update, then two runs of the steps client (its own run folders under out/): ids oldest first."""
    ok("update", *TRIVIA, *LOCAL, "--eval", "-q")
    ok("update", *CAPITAL, "--client", STEPS, "--client-arg", "run_root=out", "-q")
    ok("update", *CAPITAL, "--client", STEPS, "--client-arg", "run_root=out", "--client-arg", "steps=8", "-q")
    return [r["id"] for r in reversed(listed())]


def test_runs_lists_every_run_newest_first_with_its_numbers(three_runs: list[str]) -> None:
    rows = listed()
    assert [r["id"] for r in rows] == three_runs[::-1]
    newest, _, local = rows
    assert (newest["method"], newest["steps"], newest["loss_first"], newest["published"]) == ("dpo", 8, 0.6931, True)
    assert newest["loss_last"] == round(0.6931 / 8, 4) and (newest["margin_before"], newest["margin_after"]) == (-0.5, 1.5)
    assert local["client"].endswith(":LocalLearningClient") and local["stats"]["learned"] == 3
    assert local["loss_first"] > local["loss_last"] and local["margin_before"] < 0 < local["margin_after"]
    assert all("history" not in r["stats"] for r in rows)
    table = ok("runs").stdout
    assert table.index(three_runs[2]) < table.index(three_runs[1]) < table.index(three_runs[0])
    assert "0.6931 -> 0.0866" in table and "published" in table


def test_runs_of_an_output_dir_are_its_own(three_runs: list[str]) -> None:
    assert [r["id"] for r in listed("out")] == three_runs[:0:-1]
    assert [r["id"] for r in listed("out/runs")] == three_runs[:0:-1]


def test_show_prints_details_and_plain_charts_when_piped(three_runs: list[str]) -> None:
    out = ok("runs", "show", "latest", env={"COLUMNS": "90"}).stdout
    assert three_runs[-1] in out and "loss first -> last" in out
    assert "training loss per step" in out and "reward margin (chosen - rejected) per step" in out
    assert "margin per pair" in out and "┤" in out and not ANSI.search(out)
    chart = out[out.index("training loss per step"):]
    assert max(len(line) for line in chart.splitlines()) <= 90


def test_show_finds_a_run_by_start_of_id_or_latest_n_and_prints_json(three_runs: list[str]) -> None:
    record = json.loads(ok("runs", "show", "latest~2", "--json").stdout)
    assert record["id"] == three_runs[0] and record["record"].endswith("run.json")
    assert json.loads(ok("runs", "show", three_runs[1][:-2], "--json").stdout)["id"] == three_runs[1]


def test_diff_puts_two_runs_side_by_side(three_runs: list[str]) -> None:
    out = ok("runs", "diff", "latest~1", "latest", env={"COLUMNS": "200"}).stdout
    header = next(line for line in out.splitlines() if line.startswith("runs "))
    assert three_runs[1] in header and three_runs[2] in header
    steps = next(line for line in out.splitlines() if line.startswith("stats.steps"))
    assert steps.split()[1:] == ["5", "8"]
    legend = out[out.index("training loss per step"):]
    assert three_runs[1] in legend and three_runs[2] in legend  # one chart, both runs


def test_unknown_runs_and_folders_are_one_line_errors(three_runs: list[str]) -> None:
    missing = cli("runs", "show", "nope")
    assert missing.exit_code == 2 and "run 'nope': no such run" in missing.stderr and three_runs[-1] in missing.stderr
    assert cli("runs", "show", "latest~3").exit_code == 2
    folder = cli("runs", "no-such-folder")
    assert folder.exit_code == 3 and "no-such-folder: no such runs folder" in folder.stderr


def test_show_plot_writes_a_png_of_the_run(three_runs: list[str], isolated: Path) -> None:
    result = ok("runs", "show", "latest", "--plot", "run.png", "--no-charts")
    assert "picture written to run.png" in result.stderr
    width, height = png_size(isolated / "run.png")
    assert width >= 800 and height > 3 * 300  # loss, margin and per-pair panels
    ok("runs", "diff", "latest~1", "latest", "--plot", "diff.png", "--no-charts")
    assert png_size(isolated / "diff.png")[1] >= height


def test_plot_never_replaces_the_record_it_reads(three_runs: list[str]) -> None:
    record = json.loads(ok("runs", "show", "latest", "--json").stdout)["record"]
    before = Path(record).read_bytes()
    result = cli("runs", "show", "latest", "--plot", record)
    assert result.exit_code == 2 and "--plot" in result.stderr
    assert Path(record).read_bytes() == before


def test_plot_without_matplotlib_names_the_extra(three_runs: list[str], monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the plot extra were not installed
    result = cli("runs", "show", "latest", "--plot", "x.png")
    assert result.exit_code == 2
    assert "pip install 'agent-ft[plot]'" in result.stderr and "Traceback" not in result.stderr
    assert not (isolated / "x.png").exists()
    evaluated = cli("eval", *TRIVIA, *LOCAL, "--plot", "e.png")
    assert evaluated.exit_code == 2 and "agent-ft[plot]" in evaluated.stderr


def test_eval_plot_shows_taught_and_held_out_pairs(isolated: Path) -> None:
    heldout = isolated / "heldout.json"
    heldout.write_text(json.dumps([{"prompt": "What is the capital of France?", "chosen": "Paris.", "rejected": "I don't know the answer to that yet."}]))
    result = ok("eval", *TRIVIA, *LOCAL, "--heldout", str(heldout), "--json", "--plot", "eval.png")
    assert json.loads(result.stdout)["pairs"] == 3  # stdout stays the JSON alone
    assert png_size(isolated / "eval.png")[0] >= 800
    base = isolated / "base.json"
    base.write_text(result.stdout)
    ok("update", *TRIVIA, *LOCAL, "-q")
    ok("eval", *TRIVIA, *LOCAL, "--heldout", str(heldout), "--baseline", str(base), "--plot", "after.png")
    assert png_size(isolated / "after.png")[0] >= 800


def test_show_imports_plotext_and_list_does_not(three_runs: list[str]) -> None:
    """The lazy-import guard can see plotext: `runs show` imports it (and `runs` alone does not)."""
    from test_lazy_imports import _modules_after

    code, heavy = _modules_after("runs", "show", "latest")
    assert code == 0 and "plotext" in heavy and "matplotlib" not in heavy
    code, heavy = _modules_after("runs")
    assert code == 0 and "plotext" not in heavy


def test_an_unreadable_record_is_skipped_with_a_warning_and_refused_under_strict(three_runs: list[str], tmp_path: Path) -> None:
    bad = tmp_path / "runs" / "20990101-000000-bad000"
    bad.mkdir()
    (bad / "run.json").write_text('{"format": "agent-ft-run", "id": ')
    loud = ok("runs", "--json")
    assert [r["id"] for r in json.loads(loud.stdout)] == three_runs[::-1]
    assert "Warning:" in loud.stderr and "invalid JSON" in loud.stderr and "skipped" in loud.stderr
    for args in (["runs", "--strict"], ["runs", "--strict", "show", "latest"], ["runs", "show", "latest", "--strict"]):
        refused = cli(*args)
        assert refused.exit_code == 3, args
        assert "run.json: not a run record" in refused.stderr and "--strict" in refused.stderr
    assert json.loads(ok("runs", "-q", "show", "latest", "--json").stdout)["id"] == three_runs[-1]
