"""#22: nothing thrown away while the exit code says success, the right model found early, outputs people can use.

On the tiny model built on the spot, through the CLI (and peft/transformers to load what it left): a config without
``output_dir`` and an encoder folder are refused before any weights load, ``validate`` catches both and a missing
folder, a LoRA run leaves a PEFT adapter, its per-step history and its TensorBoard events, ``-q`` is quiet, and
prefs ``[]`` fail before the model is loaded."""

from __future__ import annotations

import errno
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from agent_ft_cli import session as fmt
from agent_ft_cli.cli import app

from .helpers import QUESTION, start_long_update, subprocess_env, write_config

runner = CliRunner()
REPLY = "I don't know."
CHOSEN = "The capital of Australia is Canberra."


def write_session(path: Path, model: Path | str) -> Path:
    """A recorded one-turn chat, written directly (no generation needed to train on it)."""
    header = fmt.make_header(
        [
            {"name": "assistant", "llm_config": {"config_list": [{"model": str(model), "model_client_cls": "HFClient"}]},
             "model_clients": ["agent_ft_cli.hf:HFClient"]},
            {"name": "user", "llm_config": False},
        ]
    )
    asked = {"content": QUESTION, "role": "user", "name": "user"}
    fmt.write_session(
        path, header,
        [("assistant", "user", [asked, {"content": REPLY, "role": "assistant"}]),
         ("user", "assistant", [{"content": QUESTION, "role": "assistant"}, {"content": REPLY, "role": "user", "name": "assistant"}])],
    )
    return path


def prefs_file(path: Path, data: object = None) -> Path:
    path.write_text(json.dumps([[CHOSEN, REPLY]] if data is None else data), encoding="utf-8")
    return path


def tree(folder: Path) -> dict[str, object]:
    """Every path under ``folder`` with its size (links: their target), to compare a folder before and after."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): (str(p.readlink()) if p.is_symlink() else p.stat().st_size if p.is_file() else "dir")
            for p in sorted(folder.rglob("*"))}


def build_bert(folder: Path, tokenizer_from: Path) -> Path:
    """An encoder-only folder (BertModel) with a tokenizer and a chat template: what transformers would "load" as
    BertLMHeadModel with a fresh head."""
    from transformers import BertConfig, BertModel

    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json"):
        if (tokenizer_from / name).exists():
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(tokenizer_from / name, folder / name)
    BertModel(BertConfig(vocab_size=400, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)).save_pretrained(folder)
    return folder


def _error(output: str) -> str:
    lines = [ln for ln in output.strip().splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1 and "Traceback" not in output, output
    return lines[0]


@pytest.fixture
def no_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading any model's weights fails the test: what is checked here must be refused before that."""
    import transformers

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the model's weights were loaded")

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", refuse)


def test_no_output_dir_is_refused_before_loading_and_keeps_nothing(tiny_model: Path, tmp_path: Path, no_weights: None,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path / "hf.yaml", tiny_model, tmp_path / "unused")
    data = yaml.safe_load(config.read_text())
    del data["client"]["args"]["output_dir"]
    config.write_text(yaml.safe_dump(data))
    session, prefs = write_session(tmp_path / "s.jsonl", tiny_model), prefs_file(tmp_path / "p.json")
    before = tree(tmp_path)
    result = runner.invoke(app, ["update", "-s", str(session), "--prefs", str(prefs), "--config", str(config)])
    assert result.exit_code == 3
    line = _error(result.output)
    assert "no output_dir" in line and "client args" in line and "nothing was trained" in line
    assert tree(tmp_path) == before  # nothing written anywhere
    checked = runner.invoke(app, ["validate", "-s", str(session), "--prefs", str(prefs), "--config", str(config)])
    assert checked.exit_code == 3 and "no output_dir" in checked.output


def test_an_encoder_folder_is_refused_by_update_and_validate_from_its_config(tiny_model: Path, tmp_path: Path, no_weights: None) -> None:
    bert = build_bert(tmp_path / "bert", tiny_model)
    ckpt = tmp_path / "ckpt"
    config = write_config(tmp_path / "hf.yaml", bert, ckpt)
    session, prefs = write_session(tmp_path / "s.jsonl", bert), prefs_file(tmp_path / "p.json")
    for command in (["validate"], ["update"]):
        result = runner.invoke(app, [*command, "-s", str(session), "--prefs", str(prefs), "--config", str(config)])
        assert result.exit_code == 4, result.output
        line = _error(result.output)
        assert "is not a causal language model" in line and "BertModel" in line and str(bert) in line
    assert not ckpt.exists()  # nothing published, not even a lock file


def test_validate_refuses_a_missing_model_folder(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    config = write_config(tmp_path / "hf.yaml", missing, tmp_path / "ckpt")
    session = write_session(tmp_path / "s.jsonl", missing)
    result = runner.invoke(app, ["validate", "-s", str(session), "--config", str(config)])
    assert result.exit_code == 4
    line = _error(result.output)
    assert f"the folder '{missing}' does not exist" in line and "offline" not in line


def test_empty_prefs_and_a_misspelt_setting_fail_before_the_model_loads(tiny_model: Path, tmp_path: Path, no_weights: None) -> None:
    config = write_config(tmp_path / "hf.yaml", tiny_model, tmp_path / "ckpt")
    session = write_session(tmp_path / "s.jsonl", tiny_model)
    empty = runner.invoke(app, ["update", "-s", str(session), "--prefs", str(prefs_file(tmp_path / "e.json", [])), "--config", str(config)])
    assert empty.exit_code == 3 and "no pairs given" in _error(empty.output)
    untied = runner.invoke(app, ["update", "-s", str(session), "--prefs", str(prefs_file(tmp_path / "u.json", [["a", "b"]])), "--config", str(config)])
    assert untied.exit_code == 3 and "no preference pair is tied" in _error(untied.output)
    typo = runner.invoke(app, ["update", "-s", str(session), "--prefs", str(prefs_file(tmp_path / "p.json")), "--config", str(config),
                               "--kwarg", "learning_rat=0.1"])
    assert typo.exit_code == 2 and "did you mean 'learning_rate'" in _error(typo.output)


def test_a_truncated_weights_file_is_named(tiny_model: Path, tmp_path: Path) -> None:
    from agent_ft_cli.hf import HFClient
    from agent_ft_cli.hf.errors import ModelNotFoundError

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    client = HFClient({"model": str(broken)})  # the files a model needs are there; the weights load on first use
    with pytest.raises(ModelNotFoundError, match=r"model '.*broken' cannot be loaded: the weights file '.*model.safetensors' is damaged or truncated"):
        client.score([{"role": "user", "content": QUESTION}], [CHOSEN])


@pytest.mark.hf_slow
def test_a_lora_run_leaves_a_peft_adapter_its_history_and_tensorboard_events(tiny_model: Path, tmp_path: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ckpt = tmp_path / "ckpt"
    config = write_config(tmp_path / "hf.yaml", tiny_model, ckpt, train={"max_steps": 3, "learning_rate": 1e-2, "seed": 0})
    session, prefs = write_session(tmp_path / "s.jsonl", tiny_model), prefs_file(tmp_path / "p.json")
    args = ["update", "-s", str(session), "--prefs", str(prefs), "--config", str(config), "--json"]
    result = runner.invoke(app, [*args, "--kwarg", "report_to=tensorboard"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)["update_stats"]
    run = Path(stats["run_dir"])
    assert run == Path(stats["checkpoint"]) and run.parent == ckpt / "runs"
    assert json.loads((run / "run.json").read_text())["id"] == run.name  # the command's run record, in the run folder

    # per-step history, as TRL logged it: in the stats and in the run folder
    assert [h["step"] for h in stats["history"]] == [1, 2, 3]
    assert all({"loss", "learning_rate", "rewards/margins", "rewards/accuracies"} <= set(h) for h in stats["history"])
    state = json.loads((run / "trainer_state.json").read_text())
    assert [h["loss"] for h in state["log_history"] if "loss" in h] == pytest.approx([h["loss"] for h in stats["history"]])
    events = list((run / "logs").rglob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0

    # the adapter in PEFT's own format applies to the model the run started from and generates as the merged copy
    assert (run / "adapter" / "adapter_config.json").is_file()
    tok = AutoTokenizer.from_pretrained(run / "adapter")
    peft = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), run / "adapter").eval()
    merged = AutoModelForCausalLM.from_pretrained(ckpt / "current").eval()  # what serving loads
    ids = tok.apply_chat_template([{"role": "user", "content": QUESTION}], add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"]
    with torch.no_grad():
        assert torch.allclose(peft(input_ids=ids).logits, merged(input_ids=ids).logits, atol=1e-4)
        out = peft.generate(input_ids=ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] > ids.shape[1]

    # keep=1: the next run prunes this one's weights but keeps its records, so it stays listable
    again = runner.invoke(app, [*args, "--client-arg", "keep=1", "--kwarg", "max_steps=1"])
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in run.iterdir()) == ["agent-ft-run.json", "logs", "run.json", "trainer_state.json"]
    assert json.loads((run / "agent-ft-run.json").read_text())["steps"] == 3


@pytest.mark.hf_slow
def test_update_quiet_writes_nothing_on_stderr_but_warnings(tiny_model: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "hf.yaml", tiny_model, tmp_path / "ckpt", train={"max_steps": 2, "seed": 0})
    session, prefs = write_session(tmp_path / "s.jsonl", tiny_model), prefs_file(tmp_path / "p.json")
    proc = subprocess.run(
        [sys.executable, "-m", "agent_ft_cli", "update", "-s", str(session), "--prefs", str(prefs), "--config", str(config), "-q", "--json"],
        capture_output=True, text=True, env=subprocess_env(), timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout)["update_stats"]["steps"] == 2
    talk = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("Warning:")]
    assert talk == [], proc.stderr[-3000:]


@pytest.mark.hf_slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_update_leaves_the_output_folder_as_it_was(tiny_model: Path, tmp_path: Path, sig: int, code: int) -> None:
    ckpt = tmp_path / "ckpt"
    config = write_config(tmp_path / "hf.yaml", tiny_model, ckpt, train={"max_steps": 1, "seed": 0})
    session, prefs = write_session(tmp_path / "s.jsonl", tiny_model), prefs_file(tmp_path / "p.json")
    first = runner.invoke(app, ["update", "-s", str(session), "--prefs", str(prefs), "--config", str(config)])
    assert first.exit_code == 0, first.output
    before = tree(ckpt)
    proc, seen, reader = start_long_update(["-s", str(session), "--prefs", str(prefs), "--config", str(config)], timeout=180)
    assert list(ckpt.glob(".staging-*"))
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == code, seen.decode(errors="replace")[-2000:]
    reader.join(timeout=10)
    assert proc.stdout is not None and proc.stdout.read() == b""
    assert tree(ckpt) == before  # no staging folder left, current and the runs untouched


def test_a_full_disk_while_publishing_removes_the_run_and_says_nothing_was_published(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import PreTrainedModel

    ckpt = tmp_path / "ckpt"
    config = write_config(tmp_path / "hf.yaml", tiny_model, ckpt, train={"max_steps": 1, "seed": 0})
    session, prefs = write_session(tmp_path / "s.jsonl", tiny_model), prefs_file(tmp_path / "p.json")

    def full(self: object, folder: str | Path, *_: object, **__: object) -> None:
        (Path(folder) / "model.safetensors").write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(PreTrainedModel, "save_pretrained", full)
    result = runner.invoke(app, ["update", "-s", str(session), "--prefs", str(prefs), "--config", str(config), "--kwarg", "lora=false"])
    assert result.exit_code == 1
    line = _error(result.output)
    assert "No space left on device" in line and "NOT published" in line
    assert not list(ckpt.glob(".staging-*")) and not (ckpt / "current").exists() and not (ckpt / "runs").exists()


def test_an_output_that_cannot_be_written_after_training_prints_the_stats_on_stderr(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent_ft_cli.fsutil as fsutil
    from agent_ft_cli.errors import OutputWriteError

    def full(path: Path, data: bytes, **_: object) -> None:
        err = OutputWriteError(f"cannot write {path}: No space left on device")
        err.reason = "No space left on device"
        raise err

    monkeypatch.setattr(fsutil, "write_output", full)
    ckpt = tmp_path / "ckpt"
    config = write_config(tmp_path / "hf.yaml", tiny_model, ckpt, train={"max_steps": 1, "seed": 0})
    session, prefs = write_session(tmp_path / "s.jsonl", tiny_model), prefs_file(tmp_path / "p.json")
    result = runner.invoke(app, ["update", "-s", str(session), "--prefs", str(prefs), "--config", str(config),
                                 "-o", str(tmp_path / "result.json"), "-q"])
    assert result.exit_code == 2
    assert "WAS updated" in _error(result.stderr) and result.stdout == ""
    shown = result.stderr[result.stderr.index("{"): result.stderr.rindex("}") + 1]
    stats = json.loads(shown)
    assert stats["pairs_used"] == 1 and Path(stats["checkpoint"]) == (ckpt / "current").resolve()


@pytest.mark.parametrize("lora", [True, False])
def test_the_implicit_reward_is_the_log_ratio_to_the_model_before_the_update(tiny_model: Path, tmp_path: Path, lora: bool) -> None:
    from agent_ft_cli.hf import HFClient

    client = HFClient({"model": str(tiny_model)}, output_dir=tmp_path / "ckpt", lora=None if lora else False)
    prompt = [{"role": "user", "content": QUESTION}]
    assert client.reward(prompt, [CHOSEN, REPLY]) is None  # no update in this process yet: nothing to compare with
    before = client.logprobs(prompt, [CHOSEN, REPLY])
    stats = client.update_model([[CHOSEN, REPLY]], [*prompt, {"role": "assistant", "content": REPLY}],
                                max_steps=2, learning_rate=5e-3, beta=0.5, seed=0)
    after = client.logprobs(prompt, [CHOSEN, REPLY])
    rewards = client.reward(prompt, [CHOSEN, REPLY])
    assert rewards == pytest.approx([0.5 * (a - b) for a, b in zip(after, before, strict=True)], abs=1e-3)
    pair = stats["margins"][0]
    assert (pair["reward_chosen"], pair["reward_rejected"]) == pytest.approx(rewards, abs=1e-3)
    assert stats["reward_margin"] == pytest.approx(rewards[0] - rewards[1], abs=1e-3) and stats["reward_margin"] > 0
    # per token, and summed, the chosen answer gained on the rejected one
    assert stats["token_margin_after"] > stats["token_margin_before"] and stats["margin_after"] > stats["margin_before"]
