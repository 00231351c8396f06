"""The Hugging Face client end to end on a tiny local model: record with it, update it with DPO through the CLI,
and see the preference move where it was taught and barely elsewhere; SFT and KTO move it the intended way; a
second update starts from the first one's checkpoint. Nothing is mocked: real loading, generation, training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent_ft_cli.cli import app
from agent_ft_cli.session import load_session

from .helpers import QUESTION, write_config

runner = CliRunner()

CHOSEN = "The capital of Australia is Canberra."
BOILING_Q, BOILING_GOOD, BOILING_BAD = "At what temperature does water boil?", "Water boils at 100 degrees.", "Paris."
UNRELATED = ([{"role": "user", "content": "Tell me a joke."}], "Why did the chicken cross the road?", "The quick brown fox.")


def _record(config: Path, out: Path) -> str:
    result = runner.invoke(app, ["record", "--config", str(config), "-m", QUESTION, "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def _thread(session: Path) -> list[dict]:
    return load_session(session).threads[("assistant", "user")]


def _margin(client, prompt: list[dict], chosen: str, rejected: str) -> float:  # type: ignore[no-untyped-def]
    c, r = client.logprobs(prompt, [chosen, rejected])  # summed over each reply (score is per token)
    return float(c - r)


def test_record_then_dpo_update_through_the_cli_moves_the_taught_pairs_only(tiny_model: Path, tmp_path: Path) -> None:
    from agent_ft_cli.hf import HFClient

    ckpt = tmp_path / "ckpt"
    config = write_config(tmp_path / "hf.yaml", tiny_model, ckpt)
    session = tmp_path / "chat.jsonl"
    reply = _record(config, session)
    thread = _thread(session)
    assert reply and thread[-1]["content"] == reply  # the model's own (random-weight) answer, recorded
    assert thread[0] == {"content": QUESTION, "role": "user", "name": "user"}

    # The pair judging the recorded answer, and a pair with an explicit prompt; one unrelated pair is never taught.
    prefs = [[CHOSEN, reply], {"prompt": BOILING_Q, "chosen": BOILING_GOOD, "rejected": BOILING_BAD}]
    (tmp_path / "prefs.json").write_text(json.dumps(prefs), encoding="utf-8")
    taught = [(thread[:-1], CHOSEN, reply), ([{"role": "user", "content": BOILING_Q}], BOILING_GOOD, BOILING_BAD)]
    base = HFClient({"model": str(tiny_model)})
    before = [_margin(base, *t) for t in taught]
    unrelated_before = _margin(base, *UNRELATED)

    result = runner.invoke(
        app,
        ["update", "--session", str(session), "--prefs", str(tmp_path / "prefs.json"), "--config", str(config), "--json"],
    )
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)["update_stats"]  # stdout is pure JSON: progress went to stderr
    assert stats["method"] == "dpo" and stats["finetuning"] == "lora"
    assert (stats["pairs_used"], stats["pairs_skipped"], stats["steps"]) == (2, 0, 8)
    assert {"rewards/margins", "rewards/accuracies", "loss"} <= set(stats["metrics"]["last_step"])
    assert stats["metrics"]["last_step"]["rewards/margins"] > 0
    assert stats["margin_after"] > stats["margin_before"]
    checkpoint = Path(stats["checkpoint"])
    assert checkpoint.is_dir() and (ckpt / "current").resolve() == checkpoint.resolve()

    trained = HFClient({"model": str(tiny_model)}, output_dir=ckpt)  # loads output_dir/current
    assert trained.loaded_from == str(checkpoint.resolve())
    after = [_margin(trained, *t) for t in taught]
    gains = [a - b for a, b in zip(after, before, strict=True)]
    assert min(gains) > 5.0, gains  # summed log-probs over whole replies: a clear move on every taught pair
    assert stats["margin_before"] == pytest.approx(sum(before) / 2, abs=1e-2)
    assert stats["margin_after"] == pytest.approx(sum(after) / 2, abs=1e-2)
    unrelated_shift = abs(_margin(trained, *UNRELATED) - unrelated_before)
    assert unrelated_shift < 0.25 * min(gains), (unrelated_shift, gains)

    # A second update continues from the first checkpoint (training accumulates), publishing a new one.
    second = runner.invoke(
        app,
        ["update", "--session", str(session), "--prefs", str(tmp_path / "prefs.json"), "--config", str(config),
         "--kwarg", "max_steps=2", "--json"],
    )
    assert second.exit_code == 0, second.output
    stats2 = json.loads(second.stdout)["update_stats"]
    assert stats2["started_from"] == str(checkpoint.resolve())
    assert stats2["margin_before"] == pytest.approx(stats["margin_after"], abs=1e-2)
    assert stats2["steps"] == 2 and stats2["checkpoint"] != stats["checkpoint"]
    assert (ckpt / "current").resolve() == Path(stats2["checkpoint"]).resolve()

    # record again with the same config: the agent now talks with the trained model
    again = _record(config, tmp_path / "again.jsonl")
    assert again == HFClient({"model": str(tiny_model), "max_new_tokens": 12}, output_dir=ckpt).create(
        {"messages": [{"role": "system", "content": "You are a concise assistant."}, {"role": "user", "content": QUESTION}]}
    ).choices[0].message.content


@pytest.mark.hf_slow
@pytest.mark.parametrize("method", ["sft", "kto"])
def test_sft_and_kto_move_the_model_the_intended_way(tiny_model: Path, tmp_path: Path, method: str) -> None:
    from agent_ft_cli.hf import HFClient

    client = HFClient({"model": str(tiny_model)}, output_dir=tmp_path / "ckpt", lora=False if method == "sft" else None)
    thread = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "Paris."}]
    prompt = thread[:1]
    chosen_before, rejected_before = client.logprobs(prompt, [CHOSEN, "Paris."])
    settings = {"max_steps": 6, "learning_rate": 1e-3 if method == "sft" else 5e-3, "seed": 0}
    if method == "kto":
        settings["per_device_train_batch_size"] = 2
    stats = client.update_model([[CHOSEN, "Paris."]], thread, method=method, **settings)
    assert stats["method"] == method and stats["pairs_used"] == 1 and stats["steps"] == 6
    assert stats["finetuning"] == ("full" if method == "sft" else "lora")
    chosen_after, rejected_after = client.logprobs(prompt, [CHOSEN, "Paris."])
    if method == "sft":  # supervised on the chosen answer: it becomes much likelier
        assert chosen_after - chosen_before > 5.0, (chosen_before, chosen_after)
        assert stats["training_rows"] == 1
    else:  # desirable up, undesirable down: the margin grows
        assert (chosen_after - rejected_after) - (chosen_before - rejected_before) > 2.0
        assert stats["training_rows"] == 2
    reloaded = HFClient({"model": str(tiny_model)}, output_dir=tmp_path / "ckpt")
    assert reloaded.logprobs(prompt, [CHOSEN])[0] == pytest.approx(chosen_after, abs=1e-3)


@pytest.mark.hf_slow
def test_the_shipped_config_records_and_updates(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """configs/hf-dpo.yaml as shipped, pointed at the tiny model; then --kwarg method=sft on the same config (its
    DPO-only `beta` default is left out for SFT, a misspelt setting is refused)."""
    from .helpers import REPO_CONFIGS

    monkeypatch.setenv("HF_MODEL", str(tiny_model))
    monkeypatch.setenv("HF_OUTPUT_DIR", str(tmp_path / "ckpt"))
    config = REPO_CONFIGS / "hf-dpo.yaml"
    reply = _record(config, tmp_path / "chat.jsonl")
    (tmp_path / "prefs.json").write_text(json.dumps([[CHOSEN, reply]]), encoding="utf-8")
    base = ["update", "--session", str(tmp_path / "chat.jsonl"), "--prefs", str(tmp_path / "prefs.json"), "--config", str(config), "--json"]
    dpo = runner.invoke(app, base)
    assert dpo.exit_code == 0, dpo.output
    stats = json.loads(dpo.stdout)["update_stats"]
    assert (stats["method"], stats["finetuning"], stats["steps"]) == ("dpo", "lora", 3)  # 3 epochs of one batch
    assert stats["margin_after"] > stats["margin_before"]
    sft = runner.invoke(app, [*base, "--kwarg", "method=sft", "--kwarg", "max_steps=1"])
    assert sft.exit_code == 0, sft.output
    assert json.loads(sft.stdout)["update_stats"]["started_from"] == str(Path(stats["checkpoint"]).resolve())


def test_update_eval_shows_the_taught_preference_rise_before_and_after(tiny_model: Path, tmp_path: Path) -> None:
    """#11 with the Hugging Face client: `update --eval --json` scores the pairs (log-probability) before and after
    the DPO update in one run; every margin rises and accuracy with it (here 0.5 -> 1.0)."""
    config = write_config(tmp_path / "hf.yaml", tiny_model, tmp_path / "ckpt")
    session = tmp_path / "chat.jsonl"
    reply = _record(config, session)
    # per token, the untrained model prefers "Paris." here (-5.99 vs -6.53 nats/token): a pair it gets wrong before
    close = {"prompt": BOILING_Q, "chosen": BOILING_GOOD, "rejected": BOILING_BAD}
    (tmp_path / "prefs.json").write_text(json.dumps([[CHOSEN, reply], close]), encoding="utf-8")
    result = runner.invoke(
        app,
        ["update", "-s", str(session), "--prefs", str(tmp_path / "prefs.json"), "--config", str(config), "--eval", "--json"],
    )
    assert result.exit_code == 0, result.output
    evaluation = json.loads(result.stdout)["eval"]
    before, after = evaluation["before"], evaluation["after"]
    assert before["method"] == after["method"] == "score" and before["pairs"] == after["pairs"] == 2
    # the client's score is now per token (length-fair, #22.12): +1 nat per token is the old +5 nats over a
    # ~5-10 token reply; measured here: 0.34 -> 2.32
    assert after["mean_margin"] > before["mean_margin"] + 1
    assert evaluation["after"]["comparison"].startswith("mean log-probability per token")
    assert after["accuracy"] > before["accuracy"] and all(r["preferred"] for r in after["results"])
    margins = [{r["index"]: r["margin"] for r in run["results"]} for run in (before, after)]
    assert all(margins[1][i] > margins[0][i] for i in margins[0])  # every taught pair moved towards its chosen answer
