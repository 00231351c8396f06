"""The eval workflow as a library: the local model's score, the prompt each pair is judged on, the two methods,
the gates and the baseline shapes, and a client whose score misbehaves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from typer.testing import CliRunner

from agent_ft_cli.align import align
from agent_ft_cli.cli import app
from agent_ft_cli.clients.protocol import SCORE_METHODS, ScoringModelClient, can_score
from agent_ft_cli.errors import EXIT_CLIENT_FAILED, EXIT_CLIENT_LOAD, InputDataError, QualityGateError
from agent_ft_cli.local import DEFAULT_REPLY, LocalLearningClient
from agent_ft_cli.workflows import eval as workflow
from agent_ft_cli.workflows import gates as gating

SAMPLES = REPO / "sample_sessions"
CONFIG = REPO / "configs" / "local.yaml"
CANBERRA = "The capital of Australia is Canberra."
THREAD = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is the capital of Australia?"},
    {"role": "assistant", "content": DEFAULT_REPLY},
    {"role": "user", "content": "And of France?"},
    {"role": "assistant", "content": "Paris."},
]


def test_scoring_is_an_optional_protocol_method() -> None:
    from clientpkg.generating import MemoClient

    assert SCORE_METHODS == ("score",)
    assert can_score(LocalLearningClient) and can_score(LocalLearningClient({}, state_path="s.json"))
    assert isinstance(LocalLearningClient({}, state_path="s.json"), ScoringModelClient)
    assert not can_score(MemoClient) and not can_score(object())


def test_local_score_prefers_what_it_would_answer(tmp_path: Path) -> None:
    client = LocalLearningClient({}, state_path=tmp_path / "state.json")
    prompt = THREAD[:2]
    chosen, rejected = client.score(prompt, [CANBERRA, DEFAULT_REPLY])
    assert chosen < rejected  # untaught: its default reply is what it would say
    client.update_model([[CANBERRA, DEFAULT_REPLY]], THREAD)
    chosen, rejected = client.score(prompt, [CANBERRA, {"role": "assistant", "content": DEFAULT_REPLY}])
    assert chosen > rejected
    # a paraphrase of the taught question too; a near answer beats an unrelated one; an unrelated question does not move
    para, near, far = client.score([{"role": "user", "content": "australia's capital city?"}],
                                   [CANBERRA, "The capital of Australia is Sydney.", "Mars has two moons."])
    assert para > near > far
    other = client.score([{"role": "user", "content": "How many moons does Mars have?"}], [CANBERRA, DEFAULT_REPLY])
    assert other[0] < other[1]


def test_prompt_thread_is_the_thread_up_to_the_tied_answer() -> None:
    prefs = [
        [CANBERRA, DEFAULT_REPLY],  # tied to answer #2: judged on the thread before it
        {"prompt": "What is the capital of Italy?", "chosen": "Rome.", "rejected": "Paris."},  # its own question
        {"prompt": "How many moons does Mars have?", "chosen": "Two.", "rejected": "None."},  # not in the thread
    ]
    tied, skipped = align(prefs, THREAD)
    assert not skipped
    threads = [workflow.prompt_thread(item, THREAD) for item in tied]
    assert threads[0] == THREAD[:2]
    # the pair's answer is in the thread, but after another question: it is asked its own question, fresh
    assert threads[1] == [THREAD[0], {"role": "user", "content": "What is the capital of Italy?"}]
    assert threads[2] == [THREAD[0], {"role": "user", "content": "How many moons does Mars have?"}]


def job(**kw: Any) -> workflow.EvalJob:
    return workflow.EvalJob(session_path=SAMPLES / "trivia.jsonl", prefs_path=str(SAMPLES / "trivia.prefs.json"),
                            config_path=CONFIG, **kw)


def test_run_reports_score_results_and_progress() -> None:
    seen: list[tuple[int, int]] = []
    result = workflow.run(job(), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    report = result.evaluation.pairs
    assert (report.method, report.pairs, report.preferred, report.accuracy) == ("score", 3, 0, 0.0)
    assert report.mean_margin is not None and report.mean_margin < 0
    out = result.as_dict()
    assert {"pairs", "accuracy", "mean_margin", "method", "skipped", "heldout", "results", "gates"} <= set(out)
    assert (out["agent"], out["peer"], out["client"]) == ("assistant", "user", "agent_ft_cli.local:LocalLearningClient")
    assert [r["margin"] for r in out["results"]] == [round(r.margin or 0, 4) for r in report.results]


def test_generation_similarity() -> None:
    assert workflow.similarity("  Paris.  ", "paris.") == 1.0
    assert workflow.similarity("Paris is the capital.", "Paris is the capital of France.") > workflow.similarity(
        "Paris is the capital.", "I don't know the answer to that yet."
    )


def evaluation(acc: float, heldout: float | None = None) -> workflow.Evaluation:
    def report(a: float) -> workflow.EvalReport:
        n = 4
        results = [workflow.PairResult(i, "q", i < round(a * n)) for i in range(n)]
        return workflow.EvalReport("p.json", workflow.GENERATION, results)

    return workflow.Evaluation(report(acc), report(heldout) if heldout is not None else None)


def test_gates() -> None:
    assert gating.check_gates(evaluation(0.75)) == []
    assert [g.ok for g in gating.check_gates(evaluation(0.75), min_accuracy=0.75)] == [True]
    assert [g.ok for g in gating.check_gates(evaluation(0.5), min_accuracy=0.75)] == [False]
    base = gating.Baseline("b.json", 1.0, heldout=0.75)
    gates = gating.check_gates(evaluation(1.0, heldout=0.5), baseline=base, max_drop=0.2)
    assert [(g.name, g.ok) for g in gates] == [("max-drop (pairs)", True), ("max-drop (held-out)", False)]
    assert [g.ok for g in gating.check_gates(evaluation(0.75, heldout=0.5), baseline=base, max_drop=0.25)] == [True, True]
    # without --max-drop no drop at all is allowed; a run without held-out pairs compares the pairs only
    assert [g.ok for g in gating.check_gates(evaluation(0.75), baseline=base)] == [False]
    gating.raise_on_failed_gates([gating.Gate("x", True, "fine")])
    with pytest.raises(QualityGateError) as err:
        gating.raise_on_failed_gates(gating.check_gates(evaluation(0.5), min_accuracy=0.75), hint="applied")
    assert err.value.exit_code == 5
    assert str(err.value) == "quality gate failed: min-accuracy: accuracy 0.5 (needs at least 0.75) (applied)"


def test_baseline_shapes(tmp_path: Path) -> None:
    eval_out = tmp_path / "eval.json"
    eval_out.write_text(json.dumps({"accuracy": 0.5, "heldout": {"accuracy": 1}}))
    assert gating.load_baseline(eval_out) == gating.Baseline(str(eval_out), 0.5, 1.0)
    update_out = tmp_path / "update.json"
    update_out.write_text(json.dumps({"update_stats": {}, "eval": {"before": {"accuracy": 0}, "after": {"accuracy": 1, "heldout": None}}}))
    assert gating.load_baseline(update_out) == gating.Baseline(str(update_out), 1.0, None)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"accuracy": True}))
    with pytest.raises(InputDataError, match="not an evaluation result"):
        gating.load_baseline(bad)


SCORERS = '''
from agent_ft_cli.clients.protocol import ModelClientBase, chat_response

class Base(ModelClientBase):
    def create(self, params):
        return chat_response("hi", model="x")
    def update_model(self, preference_data, inference_messages, **kwargs):
        return {}

class WrongShape(Base):
    def score(self, messages, candidates):
        return [1.0]

class Raises(Base):
    def score(self, messages, candidates):
        raise RuntimeError("GPU on fire")
'''


@pytest.mark.parametrize(("cls", "code", "needle"), [
    ("WrongShape", EXIT_CLIENT_LOAD, "must return one number per candidate"),
    ("Raises", EXIT_CLIENT_FAILED, "the client's score (scorers.py:Raises) failed: RuntimeError: GPU on fire"),
])
def test_a_misbehaving_score_is_one_line(cls: str, code: int, needle: str) -> None:
    Path("scorers.py").write_text(SCORERS)
    result = CliRunner().invoke(app, ["eval", "-s", str(SAMPLES / "capital.jsonl"), "--prefs",
                                      str(SAMPLES / "capital.prefs.json"), "--client", f"scorers.py:{cls}"])
    assert result.exit_code == code, result.output
    assert needle in result.stderr and "Traceback" not in result.stderr
