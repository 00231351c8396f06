"""`agent-ft eval` and `update --eval` through the CLI: the bundled local model (score) and a client without score
(generation), held-out pairs reported apart, the CI gates' exit code 5, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from typer.testing import CliRunner

from agent_ft_cli.cli import app
from agent_ft_cli.errors import EXIT_BAD_INPUT, EXIT_GATE_FAILED, EXIT_USAGE

runner = CliRunner()
SAMPLES = REPO / "sample_sessions"
LOCAL = ["--config", str(REPO / "configs" / "local.yaml")]
CAPITAL = ["--session", str(SAMPLES / "capital.jsonl"), "--prefs", str(SAMPLES / "capital.prefs.json")]
TRIVIA = ["--session", str(SAMPLES / "trivia.jsonl"), "--prefs", str(SAMPLES / "trivia.prefs.json")]
MEMO = ["--client", "clientpkg.generating:MemoClient", "--client-arg", "state_path=memo.json"]
DONT_KNOW = "I don't know the answer to that yet."
AUSTRALIA = "What is the capital of Australia?"
CANBERRA = "The capital of Australia is Canberra."


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "200"})


def as_json(result: Any) -> dict[str, Any]:
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def one_error_line(result: Any, code: int, *needles: str) -> str:
    assert result.exit_code == code, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def write(path: str, data: Any) -> str:
    Path(path).write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def heldout() -> str:
    """Prompts that are not in the trivia prefs: one the capital sample teaches, one nobody teaches."""
    return write(
        "heldout.json",
        [
            {"prompt": AUSTRALIA, "chosen": CANBERRA, "rejected": DONT_KNOW},
            {"prompt": "What is the capital of France?", "chosen": "Paris is the capital of France.", "rejected": DONT_KNOW},
        ],
    )


# -- the bundled local model: score ---------------------------------------------------------------------------------


def test_eval_before_and_after_the_quickstart_update() -> None:
    before = cli("eval", *CAPITAL, *LOCAL, "--json")
    assert before.exit_code == 0, before.output
    b = as_json(before)
    assert (b["pairs"], b["preferred"], b["accuracy"], b["method"]) == (1, 0, 0.0, "score")
    assert b["mean_margin"] < 0 and b["heldout"] is None and b["skipped"] == []
    assert b["results"][0]["prompt"] == AUSTRALIA and b["results"][0]["preferred"] is False

    assert cli("update", *CAPITAL, *LOCAL, "--json").exit_code == 0

    after = as_json(cli("eval", *CAPITAL, *LOCAL, "--json"))
    assert (after["pairs"], after["preferred"], after["accuracy"]) == (1, 1, 1.0)
    assert after["mean_margin"] > 0
    assert after["results"][0]["chosen_score"] > after["results"][0]["rejected_score"]


def test_update_eval_json_reports_before_and_after_in_one_run(heldout: str) -> None:
    result = cli("update", *TRIVIA, *LOCAL, "--eval", "--heldout", heldout, "--json")
    assert result.exit_code == 0, result.output
    out = as_json(result)
    assert {"update_stats", "inference_messages", "preference_data", "eval"} <= set(out)
    before, after = out["eval"]["before"], out["eval"]["after"]
    assert before["pairs"] == after["pairs"] == 3
    assert before["accuracy"] < after["accuracy"] == 1.0
    assert before["mean_margin"] < 0 < after["mean_margin"]
    # the held-out pairs are reported on their own, and an update on other questions leaves them where they were
    assert before["heldout"]["pairs"] == after["heldout"]["pairs"] == 2
    assert before["heldout"]["accuracy"] == after["heldout"]["accuracy"] == 0.0
    assert before["heldout"]["source"] == heldout
    assert {r["prompt"] for r in after["heldout"]["results"]} == {AUSTRALIA, "What is the capital of France?"}
    assert out["eval"]["gates"] == []


def test_update_eval_prints_one_before_after_delta_table() -> None:
    result = cli("update", *CAPITAL, *LOCAL, "--eval")
    assert result.exit_code == 0, result.output
    table = result.stdout.split("evaluation before / after the update", 1)[1]
    rows = {ln.split("  ")[0]: ln.split() for ln in table.splitlines() if ln.startswith("pairs")}
    assert rows["pairs accuracy (1 pairs)"][-3:] == ["0", "1", "+1"]
    margin = rows["pairs mean margin"][-3:]
    assert float(margin[0]) < 0 < float(margin[1]) and margin[2].startswith("+")
    assert "score: log-probability" in result.stdout


def test_update_without_eval_keeps_the_seed_result_shape() -> None:
    out = as_json(cli("update", *CAPITAL, *LOCAL, "--json"))
    assert set(out) == {"update_stats", "inference_messages", "preference_data"}


def test_eval_table_and_verbose_rows(heldout: str) -> None:
    result = cli("eval", *TRIVIA, *LOCAL, "--heldout", heldout, "--verbose")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    summary = {ln.split()[0]: ln.split() for ln in lines[:4] if ln.startswith(("pairs ", "held-out "))}
    assert summary["pairs"][1:6] == ["3", "0", "0", summary["pairs"][4], "score"] and float(summary["pairs"][4]) < 0
    assert summary["held-out"][1:4] == ["2", "0", "0"]
    assert f"pairs: {SAMPLES / 'trivia.prefs.json'}\n" in result.stdout and f"held-out: {heldout}\n" in result.stdout
    assert "Who wrote 'Le Petit Prince'?" in result.stdout  # a per-pair row
    assert "What is the capital of France?" in result.stdout
    assert not result.stdout.lstrip().startswith("{")


# -- the gates ---------------------------------------------------------------------------------------------------------


def test_min_accuracy_fails_with_exit_5_only_when_missed() -> None:
    missed = cli("eval", *CAPITAL, *LOCAL, "--min-accuracy", "0.9", "--json")
    one_error_line(missed, EXIT_GATE_FAILED, "quality gate failed", "min-accuracy", "accuracy 0 ", "0.9")
    shown = as_json(missed)  # the results are printed before the gate fails the run
    assert shown["accuracy"] == 0.0 and shown["gates"] == [
        {"name": "min-accuracy", "ok": False, "detail": "accuracy 0 (needs at least 0.9)"}
    ]

    assert cli("update", *CAPITAL, *LOCAL).exit_code == 0
    met = cli("eval", *CAPITAL, *LOCAL, "--min-accuracy", "0.9")
    assert met.exit_code == 0, met.output
    assert "ok    gate min-accuracy: accuracy 1 (needs at least 0.9)" in met.stdout


def test_update_gate_fails_after_the_update_was_applied() -> None:
    assert cli("update", *CAPITAL, *LOCAL).exit_code == 0
    state = Path(os.environ["AGENT_FT_STATE"])
    taught = state.read_bytes()
    unlearn = write("unlearn.json", [{"prompt": AUSTRALIA, "chosen": DONT_KNOW, "rejected": CANBERRA}])
    gated = ["--heldout", str(SAMPLES / "capital.prefs.json"), "--baseline", "base.json", "--max-drop", "0.5"]
    missing = cli("update", CAPITAL[0], CAPITAL[1], "--prefs", unlearn, *LOCAL, *gated)
    one_error_line(missing, EXIT_BAD_INPUT, "base.json", "does not exist")  # checked before anything runs
    assert state.read_bytes() == taught

    base = cli("eval", *CAPITAL, *LOCAL, "--heldout", str(SAMPLES / "capital.prefs.json"), "--json")
    Path("base.json").write_text(base.stdout)
    assert as_json(base)["heldout"]["accuracy"] == 1.0
    result = cli("update", CAPITAL[0], CAPITAL[1], "--prefs", unlearn, *LOCAL, *gated, "--json")
    line = one_error_line(result, EXIT_GATE_FAILED, "max-drop (held-out)", "the update itself was applied")
    assert "max-drop (pairs)" not in line
    out = as_json(result)  # the whole result is printed before the gate fails the run
    assert out["update_stats"]["learned"] == 1
    assert out["eval"]["before"]["heldout"]["accuracy"] == 1.0
    assert out["eval"]["after"]["heldout"]["accuracy"] == 0.0
    assert [(g["name"], g["ok"]) for g in out["eval"]["gates"]] == [("max-drop (pairs)", True), ("max-drop (held-out)", False)]
    assert state.read_bytes() != taught
    assert as_json(cli("eval", *CAPITAL, *LOCAL, "--json"))["accuracy"] == 0.0


def test_baseline_drop_gate_on_held_out_prompts(heldout: str) -> None:
    assert cli("update", *CAPITAL, *LOCAL).exit_code == 0  # teaches the held-out Australia question
    base = cli("eval", *TRIVIA, *LOCAL, "--heldout", heldout, "--json")
    Path("nightly.json").write_text(base.stdout)
    assert as_json(base)["heldout"]["accuracy"] == 0.5

    same = cli("eval", *TRIVIA, *LOCAL, "--heldout", heldout, "--baseline", "nightly.json", "--max-drop", "0.02")
    assert same.exit_code == 0, same.output
    assert "ok    gate max-drop (held-out)" in same.stdout

    # the trivia update leaves the held-out prompts alone: an `update --json` result is a baseline too
    upd = cli("update", *TRIVIA, *LOCAL, "--heldout", heldout, "--baseline", "nightly.json", "--json")
    assert upd.exit_code == 0, upd.output
    Path("after-update.json").write_text(upd.stdout)

    unlearn = write("unlearn.json", [{"prompt": AUSTRALIA, "chosen": DONT_KNOW, "rejected": CANBERRA}])
    assert cli("update", *TRIVIA[:2], "--prefs", unlearn, *LOCAL).exit_code == 0
    for baseline in ("nightly.json", "after-update.json"):
        worse = cli("eval", *TRIVIA, *LOCAL, "--heldout", heldout, "--baseline", baseline, "--max-drop", "0.02")
        line = one_error_line(worse, EXIT_GATE_FAILED, "max-drop (held-out)", "held-out accuracy 0", "baseline 0.5")
        assert "max-drop (pairs)" not in line
        assert "FAIL  gate max-drop (held-out)" in worse.stdout
    lenient = cli("eval", *TRIVIA, *LOCAL, "--heldout", heldout, "--baseline", "nightly.json", "--max-drop", "0.5")
    assert lenient.exit_code == 0, lenient.output


def test_gate_exit_code_in_a_shell_script(env_with_assets: dict[str, str], tmp_path: Path) -> None:
    """What a CI job sees: the real process's exit code."""
    env = {**env_with_assets, "AGENT_FT_STATE": str(tmp_path / "state.json")}
    cmd = [sys.executable, "-m", "agent_ft_cli", "eval", *CAPITAL, *LOCAL, "--min-accuracy", "0.9"]
    missed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert missed.returncode == 5, missed.stderr
    assert missed.stderr.strip().splitlines()[-1].startswith("Error: quality gate failed")
    upd = [sys.executable, "-m", "agent_ft_cli", "update", *CAPITAL, *LOCAL, "--eval", "--min-accuracy", "0.9"]
    assert subprocess.run(upd, env=env, capture_output=True, timeout=120).returncode == 0
    assert subprocess.run(cmd, env=env, capture_output=True, timeout=120).returncode == 0


# -- a client without score: generation --------------------------------------------------------------------------------


def test_client_without_score_is_evaluated_by_generation(heldout: str) -> None:
    result = cli("update", *TRIVIA, *MEMO, "--eval", "--heldout", heldout, "--json")
    assert result.exit_code == 0, result.output
    ev = as_json(result)["eval"]
    for report in (ev["before"], ev["after"], ev["before"]["heldout"]):
        assert report["method"] == "generation" and report["mean_margin"] is None
        assert "text similarity" in report["comparison"]
    assert ev["before"]["accuracy"] == 0.0 and ev["after"]["accuracy"] == 1.0
    first_before, first_after = ev["before"]["results"][0], ev["after"]["results"][0]
    assert first_before["reply"] == DONT_KNOW and first_before["rejected_similarity"] == 1.0
    assert first_after["reply"] == "Antoine de Saint-Exupéry wrote it." and first_after["chosen_similarity"] == 1.0
    assert ev["after"]["heldout"]["accuracy"] == 0.0  # never taught
    # create was really called: 3 pairs + 2 held-out, before and after
    assert json.loads(Path("memo.json").read_text())["calls"] == 10

    table = cli("eval", *TRIVIA, *MEMO, "--verbose")
    assert table.exit_code == 0
    # its last pair (Mars) was judged on the agent's thread up to its answer, exactly
    thread = as_json(cli("inspect", "--session", TRIVIA[1], "--json"))["messages"]
    answer = max(i for i, m in enumerate(thread) if m["role"] == "assistant")
    assert json.loads(Path("memo.json").read_text())["last_messages"] == thread[:answer]
    assert thread[answer - 1]["content"] == "How many moons does Mars have?"
    assert "generation: the client's reply (create) compared by text similarity" in table.stdout
    assert "Antoine de Saint-Exupéry wrote it." in table.stdout


def test_eval_needs_no_update_model_and_passes_the_agents_config_to_create(tmp_path: Path) -> None:
    """A live chat with the scripted client (tool call, tool response, unicode); its last answer rejected."""
    from conftest import make_pair, run_chat

    from agent_ft_cli import save_session

    assistant, user = make_pair()
    run_chat(assistant, user)
    save_session("chat.jsonl", assistant, user)
    thread = assistant.chat_messages[user]
    last = max(i for i, m in enumerate(thread) if m.get("role") == "assistant" and m.get("content"))
    write("prefs.json", [["Environ 70,7 °F.", thread[last]["content"]]])
    result = cli("eval", "-s", "chat.jsonl", "--prefs", "prefs.json", "--client", "clientpkg.clients:NoUpdateClient",
                 "--json")
    assert result.exit_code == 0, result.output
    out = as_json(result)
    assert out["method"] == "generation" and out["pairs"] == 1 and out["mean_margin"] is None
    # create gets the agent's config entry (its tools) with the thread: the scripted client's first reply to a
    # request with tools is a tool call, shown as its JSON and like neither answer
    reply = out["results"][0]["reply"]
    assert reply.startswith("tool_calls: ") and "convert_temperature" in reply
    assert out["accuracy"] == 0.0 and out["results"][0]["preferred"] is False
    # update cannot use that client, eval can
    upd = cli("update", "-s", "chat.jsonl", "--prefs", "prefs.json", "--client", "clientpkg.clients:NoUpdateClient")
    assert upd.exit_code == 4


def test_update_output_file_holds_the_evaluation_even_when_a_gate_fails() -> None:
    result = cli("update", *CAPITAL, *LOCAL, "--min-accuracy", "1", "--heldout", str(SAMPLES / "capital.prefs.json"),
                 "--output", "result.json")
    assert result.exit_code == 0, result.output
    saved = json.loads(Path("result.json").read_text())
    assert saved["eval"]["after"]["accuracy"] == 1.0 and saved["eval"]["before"]["accuracy"] == 0.0
    assert saved["eval"]["gates"] == [{"name": "min-accuracy", "ok": True, "detail": "accuracy 1 (needs at least 1)"}]
    assert as_json(cli("eval", *CAPITAL, *LOCAL, "--baseline", "result.json", "--json"))["gates"][0]["ok"] is True
    unlearn = write("unlearn.json", [{"prompt": AUSTRALIA, "chosen": DONT_KNOW, "rejected": CANBERRA}])
    missed = cli("update", CAPITAL[0], CAPITAL[1], "--prefs", unlearn, *LOCAL, "--heldout", str(SAMPLES / "capital.prefs.json"),
                 "--baseline", "result.json", "--output", "result2.json")
    one_error_line(missed, EXIT_GATE_FAILED, "max-drop (held-out)")
    saved = json.loads(Path("result2.json").read_text())
    assert [g["ok"] for g in saved["eval"]["gates"]] == [True, False]
    assert "evaluation before / after the update" in missed.stdout and "FAIL  gate max-drop (held-out)" in missed.stdout


# -- bad input: one line each -----------------------------------------------------------------------------------------


def test_no_pair_tied_is_bad_input() -> None:
    prefs = write("untied.json", [["a better answer", "an answer nobody gave"]])
    result = cli("eval", *CAPITAL[:2], "--prefs", prefs, *LOCAL)
    one_error_line(result, EXIT_BAD_INPUT, "untied.json: no preference pair is tied", "assistant->user",
                   "the rejected answer does not appear in the thread")
    assert result.stdout == ""
    heldout = cli("eval", *CAPITAL, *LOCAL, "--heldout", prefs)
    one_error_line(heldout, EXIT_BAD_INPUT, "untied.json: no preference pair is tied")
    # update --eval checks before it updates: the state file is never written
    upd = cli("update", *CAPITAL[:2], "--prefs", prefs, *LOCAL, "--eval")
    one_error_line(upd, EXIT_BAD_INPUT, "no preference pair is tied")
    assert not Path(os.environ["AGENT_FT_STATE"]).exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"accuracy": "high"}', "not an evaluation result"),
        ('{"accuracy": 1.5}', "not an evaluation result"),
        ("[0.9]", "not an evaluation result"),
        ('{"update_stats": {}, "inference_messages": []}', "not an evaluation result"),
        ('{"eval": {"before": {"accuracy": 1}}}', "not an evaluation result"),
        ("{not json", "not valid JSON"),
    ],
    ids=["string", "out-of-range", "list", "update-without-eval", "no-after", "invalid-json"],
)
def test_baseline_of_the_wrong_shape_is_bad_input(content: str, needle: str) -> None:
    Path("prev.json").write_text(content)
    result = cli("eval", *CAPITAL, *LOCAL, "--baseline", "prev.json", "--json")
    one_error_line(result, EXIT_BAD_INPUT, "prev.json", needle)
    assert result.stdout == ""
    upd = cli("update", *CAPITAL, *LOCAL, "--baseline", "prev.json")
    one_error_line(upd, EXIT_BAD_INPUT, "prev.json", needle)
    assert not Path(os.environ["AGENT_FT_STATE"]).exists()  # refused before the update


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--max-drop", "0.1"], "--max-drop needs --baseline"),
        (["--min-accuracy", "-0.1"], "--min-accuracy -0.1 is not between 0 and 1"),
        (["--baseline", "x.json", "--max-drop", "2"], "--max-drop 2.0 is not between 0 and 1"),
        (["--prefs", "-", "--heldout", "-"], "--prefs and --heldout cannot both be read from stdin (-)"),
    ],
)
def test_gate_options_out_of_range_are_usage_errors(args: list[str], needle: str) -> None:
    given = ["--prefs", CAPITAL[3]] if "--prefs" not in args else []
    one_error_line(cli("eval", *CAPITAL[:2], *given, *LOCAL, *args), EXIT_USAGE, needle)
