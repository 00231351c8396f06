"""The bundled local model really learns: record -> update -> record returns the preferred answer, also for a
paraphrase, and leaves unrelated questions alone; its state is written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import REPO
from typer.testing import CliRunner

from agent_ft_cli.cli import app
from agent_ft_cli.local import DEFAULT_REPLY, LocalLearningClient, content_words, normalize

runner = CliRunner()
CONFIG = str(REPO / "configs" / "local.yaml")
CHOSEN = "The capital of Australia is Canberra."


def record(message: str, out: str) -> str:
    result = runner.invoke(app, ["record", "--config", CONFIG, "--message", message, "--out", out, "--quiet"])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_record_update_record_learns(tmp_path: Path) -> None:
    first = record("What is the capital of Australia?", "one.jsonl")
    assert first == DEFAULT_REPLY
    prefs = tmp_path / "prefs.json"
    prefs.write_text(json.dumps([[CHOSEN, first]]))
    result = runner.invoke(app, ["update", "--session", "one.jsonl", "--prefs", str(prefs), "--config", CONFIG, "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)["update_stats"]
    assert stats["pairs_seen"] == 1 and stats["learned"] == 1 and stats["skipped"] == 0
    assert stats["learned_answers"] == [{"question": "What is the capital of Australia?", "answer": CHOSEN}]

    assert record("What is the capital of Australia?", "two.jsonl") == CHOSEN
    assert record("WHAT IS THE CAPITAL OF AUSTRALIA", "three.jsonl") == CHOSEN
    assert record("what's australia's capital city??", "four.jsonl") == CHOSEN
    assert record("Tell me the capital of Australia, please.", "five.jsonl") == CHOSEN
    assert record("What is the capital of France?", "six.jsonl") == DEFAULT_REPLY
    assert record("How many legs does a spider have?", "seven.jsonl") == DEFAULT_REPLY
    # the recorded session holds the learned answer too
    shown = runner.invoke(app, ["inspect", "--session", "two.jsonl", "--json"])
    assert json.loads(shown.stdout)["messages"][-1]["content"] == CHOSEN


def test_update_reports_skipped_pairs_honestly(tmp_path: Path) -> None:
    record("How many moons does Mars have?", "mars.jsonl")
    prefs = tmp_path / "prefs.json"
    prefs.write_text(
        json.dumps(
            [
                {"chosen": "Mars has two moons.", "rejected": DEFAULT_REPLY},
                ["An answer", "something the agent never said"],
                "not a pair",
            ]
        )
    )
    result = runner.invoke(app, ["update", "-s", "mars.jsonl", "--prefs", str(prefs), "-c", CONFIG, "--json"])
    stats = json.loads(result.stdout)["update_stats"]
    assert stats["pairs_seen"] == 3
    assert stats["learned"] == 1
    assert stats["skipped"] == 2
    assert set(stats["skipped_reasons"]) == {
        "the rejected answer does not appear in the thread",
        "not a [chosen, rejected] pair nor an object with 'chosen' and 'rejected'",
    }
    again = runner.invoke(app, ["update", "-s", "mars.jsonl", "--prefs", str(prefs), "-c", CONFIG, "--json"])
    assert json.loads(again.stdout)["update_stats"]["already_known"] == 1


def test_explicit_prompt_ties_identical_answers_to_the_right_question(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    client = LocalLearningClient({"model": "m"}, state_path=state)
    thread = [
        {"content": "Who wrote Le Petit Prince?", "role": "user"},
        {"content": DEFAULT_REPLY, "role": "assistant"},
        {"content": "How many moons does Mars have?", "role": "user"},
        {"content": DEFAULT_REPLY, "role": "assistant"},
    ]
    prefs = [
        {"prompt": "Who wrote Le Petit Prince?", "chosen": "Saint-Exupéry.", "rejected": DEFAULT_REPLY},
        {"prompt": "How many moons does Mars have?", "chosen": "Two.", "rejected": DEFAULT_REPLY},
    ]
    stats = client.update_model(prefs, thread)
    assert stats["learned"] == 2
    assert client.answer_for("who wrote le petit prince") == "Saint-Exupéry."
    assert client.answer_for("How many moons has Mars got?") == "Two."


def test_state_file_is_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "model" / "state.json"
    client = LocalLearningClient({}, state_path=state)
    thread = [{"content": "Q one?", "role": "user"}, {"content": DEFAULT_REPLY, "role": "assistant"}]
    client.update_model([["A one.", DEFAULT_REPLY]], thread)
    before = state.read_bytes()

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    thread2 = [{"content": "Q two?", "role": "user"}, {"content": DEFAULT_REPLY, "role": "assistant"}]
    with pytest.raises(OSError):
        client.update_model([["A two.", DEFAULT_REPLY]], thread2)
    assert state.read_bytes() == before
    # the state and the empty lock file that guards its read-modify-write (it stays, by design): no temporary file
    assert sorted(p.name for p in state.parent.iterdir()) == [".state.json.lock", "state.json"]


def test_normalisation() -> None:
    assert normalize("What's   Australia's CAPITAL?!") == "what is australia capital"
    assert content_words("Tell me the capitals of Australia, please") == frozenset({"capital", "australia"})


@pytest.mark.parametrize(
    ("question", "learned"),
    [
        ("Which city is the capital of Australia", True),
        ("What city serves as Australia's capital?", True),
        ("Name the Australian capital", True),
        ("Can you tell me what the capital city of the country Australia is?", True),
        ("Tell me about Australia", False),
        ("What is the capital of France?", False),
        ("What is the capital of Austria?", False),
        ("What is the capital?", False),
        ("What is the population of Australia?", False),
    ],
)
def test_paraphrases_match_and_unrelated_questions_do_not(tmp_path: Path, question: str, learned: bool) -> None:
    client = LocalLearningClient({}, state_path=tmp_path / "s.json")
    thread = [{"content": "What is the capital of Australia?", "role": "user"}, {"content": DEFAULT_REPLY, "role": "assistant"}]
    client.update_model([[CHOSEN, DEFAULT_REPLY]], thread)
    assert (client.answer_for(question) == CHOSEN) is learned


def test_questions_sharing_common_words_stay_apart(tmp_path: Path) -> None:
    client = LocalLearningClient({}, state_path=tmp_path / "s.json")
    thread = [{"content": "How many moons does Mars have?", "role": "user"}, {"content": DEFAULT_REPLY, "role": "assistant"}]
    client.update_model([["Two: Phobos and Deimos.", DEFAULT_REPLY]], thread)
    assert client.answer_for("how many moons has mars got") == "Two: Phobos and Deimos."
    assert client.answer_for("How many moons does Jupiter have?") is None


def test_atomic_writes_leave_the_old_file_and_no_temporary(isolated: Path) -> None:
    from agent_ft_cli.fsutil import atomic_writer
    from agent_ft_cli.local import LocalLearningClient

    target = isolated / "out.json"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_writer(target) as fh:
        fh.write(b"half of the new cont")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in isolated.iterdir()) == ["out.json"]

    # the bundled local model saves its state the same way: a failing save keeps the previous state whole
    state = isolated / "state.json"
    client = LocalLearningClient({}, state_path=state)
    client._save([{"key": "q", "answer": "a"}])
    before = state.read_bytes()

    import agent_ft_cli.fsutil.outputs as fsutil

    def fail_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    real_fsync = fsutil.os.fsync
    fsutil.os.fsync = fail_fsync  # type: ignore[assignment]
    try:
        with pytest.raises(OSError):
            client._save([{"key": "q", "answer": "a new answer, never half written"}])
    finally:
        fsutil.os.fsync = real_fsync  # type: ignore[assignment]
    assert state.read_bytes() == before
    assert sorted(p.name for p in isolated.iterdir()) == ["out.json", "state.json"]


def test_recordings_name_the_local_model_by_its_stable_path() -> None:
    """Session headers (and configs/local.yaml) say agent_ft_cli.local:LocalLearningClient; the class lives in
    agent_ft_cli.clients.local and both paths are the same class."""
    from conftest import make_pair

    from agent_ft_cli.classic.recorder import describe_agent
    from agent_ft_cli.clients import local
    from agent_ft_cli.clients.loading import load_client

    assert load_client("agent_ft_cli.local:LocalLearningClient") is local.LocalLearningClient is LocalLearningClient
    assistant, _ = make_pair(LocalLearningClient, tools=False)
    assert describe_agent(assistant)["model_clients"] == ["agent_ft_cli.local:LocalLearningClient"]
