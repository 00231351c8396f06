"""Every conversation of a session is exported (issue #16 item 1), and a pair is tied over all of them at once:
never to a guessed question (#16 item 2), an explicit prompt to its own question only (#9 item 6)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from exportkit import _rows, _run

from agent_ft_cli import SessionRecorder
from agent_ft_cli.export.sessions import conversations
from agent_ft_cli.local import DEFAULT_REPLY, LocalLearningClient

QUESTIONS = ["What is the capital of Australia?", "What is the capital of Peru?", "Who wrote Hamlet?"]


def _pair(tmp_path: Path) -> tuple[Any, Any]:
    import autogen

    assistant = autogen.AssistantAgent(
        "assistant",
        system_message="Be brief.",
        llm_config={"config_list": [{"model": "agent-ft-local", "model_client_cls": "LocalLearningClient"}], "cache_seed": None},
    )
    assistant.register_model_client(model_client_cls=LocalLearningClient, state_path=str(tmp_path / "state.json"))
    user = autogen.UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, max_consecutive_auto_reply=0)
    return assistant, user


def record(tmp_path: Path, name: str, questions: list[str], *, clear: bool = True) -> Path:
    assistant, user = _pair(tmp_path)
    path = tmp_path / name
    with SessionRecorder(path, assistant, user):
        for q in questions:
            user.initiate_chat(assistant, message=q, max_turns=1, silent=True, clear_history=clear)
    return path


def test_every_chat_of_a_recording_is_exported_with_its_own_context(tmp_path: Path) -> None:
    session = record(tmp_path, "three.jsonl", QUESTIONS)
    convs = conversations(session, "assistant", "user")
    assert [[m["content"] for m in c] for c in convs] == [[q, DEFAULT_REPLY] for q in QUESTIONS]
    out = tmp_path / "sft.jsonl"
    result = _run("-s", str(session), "-f", "openai-sft", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"] == 3 and summary["conversations"] == 3 and summary["sessions"] == 1
    rows = _rows(out)
    assert [[m["content"] for m in r["messages"]] for r in rows] == [["Be brief.", q, DEFAULT_REPLY] for q in QUESTIONS]
    # a pair given with its question lands in that chat, and that chat's prompt holds nothing of the others
    prefs = tmp_path / "p.json"
    prefs.write_text(json.dumps([{"prompt": QUESTIONS[1], "chosen": "Lima.", "rejected": DEFAULT_REPLY}]))
    pref_out = tmp_path / "pref.jsonl"
    result = _run("-s", str(session), "--prefs", str(prefs), "-f", "trl-preference", "-o", str(pref_out), "--json")
    assert result.exit_code == 0, result.output
    [row] = _rows(pref_out)
    assert row["prompt"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTIONS[1]}]
    assert json.loads(result.stdout)["ties"][0]["conversation"] == 1


@pytest.mark.parametrize("clear", [True, False])
def test_an_ambiguous_pair_is_skipped_with_its_candidates_in_export(tmp_path: Path, clear: bool) -> None:
    session = record(tmp_path, "idk.jsonl", QUESTIONS, clear=clear)
    prefs = tmp_path / "p.json"
    prefs.write_text(json.dumps([["The capital of Australia is Canberra.", DEFAULT_REPLY]]))
    for args in (["-f", "trl-preference", "--standard"], ["-f", "trl-preference"], ["-f", "trl-sft"]):
        out = tmp_path / "o.jsonl"
        result = _run("-s", str(session), "--prefs", str(prefs), *args, "-o", str(out), "--json")
        summary = json.loads(result.stdout) if result.exit_code == 0 else None
        if summary is not None:  # thread formats still write the chats, untouched
            assert summary["pairs"]["tied"] == 0
            [skip] = summary["skipped_pairs"]
            assert skip["kind"] == "ambiguous" and all(q in skip["reason"] for q in QUESTIONS)
            assert "Canberra" not in out.read_text()
        else:  # nothing could be built: the error names the ambiguity
            assert result.exit_code == 3 and "ambiguous" in result.output
    strict = _run("-s", str(session), "--prefs", str(prefs), "-f", "trl-sft", "--strict", "-o", str(tmp_path / "s.jsonl"))
    assert strict.exit_code == 3 and "ambiguous" in strict.output and not (tmp_path / "s.jsonl").exists()


def test_explicit_prompts_tie_across_sessions_to_their_own_question(tmp_path: Path) -> None:
    hamlet = record(tmp_path, "hamlet.jsonl", ["Who wrote Hamlet?"])
    peru = record(tmp_path, "peru.jsonl", ["What is the capital of Peru?"])
    prefs = tmp_path / "p.json"
    prefs.write_text(
        json.dumps(
            [
                {"prompt": "What is the capital of Peru?", "chosen": "Lima.", "rejected": DEFAULT_REPLY},
                {"prompt": "Who wrote Hamlet?", "chosen": "Shakespeare.", "rejected": DEFAULT_REPLY},
            ]
        )
    )
    for standard in ([], ["--standard"]):
        out = tmp_path / "o.jsonl"
        result = _run("-s", str(hamlet), "-s", str(peru), "--prefs", str(prefs), "-f", "trl-preference", *standard, "-o", str(out))
        assert result.exit_code == 0, result.output
        got = {}
        for row in _rows(out):
            prompt = row["prompt"] if isinstance(row["prompt"], str) else row["prompt"][-1]["content"]
            chosen = row["chosen"] if isinstance(row["chosen"], str) else row["chosen"][0]["content"]
            got[chosen.strip()] = prompt
        assert "Peru" in got["Lima."] and "Hamlet" not in got["Lima."]
        assert "Hamlet" in got["Shakespeare."] and "Peru" not in got["Shakespeare."]
    # one pair more than there are turns: reported as consumed, not as "does not appear"
    prefs.write_text(json.dumps([["Lima.", DEFAULT_REPLY], ["Shakespeare.", DEFAULT_REPLY], ["Nobody.", DEFAULT_REPLY]]))
    one = _run("-s", str(hamlet), "--prefs", str(prefs), "-f", "trl-preference", "-o", str(tmp_path / "c.jsonl"), "--json")
    skipped = {s["pair"]: s for s in json.loads(one.stdout)["skipped_pairs"]}
    assert skipped[1]["kind"] == skipped[2]["kind"] == "consumed"
    assert "already tied by pair 0" in skipped[1]["reason"]


def test_the_local_model_does_not_learn_a_guessed_question(tmp_path: Path) -> None:
    client = LocalLearningClient({}, state_path=tmp_path / "s.json")
    thread = [m for q in QUESTIONS for m in ({"role": "user", "content": q}, {"role": "assistant", "content": DEFAULT_REPLY})]
    stats = client.update_model([["The capital of Australia is Canberra.", DEFAULT_REPLY]], thread)
    assert stats["learned"] == 0 and stats["skipped"] == 1
    [reason] = stats["skipped_reasons"]
    assert reason.startswith("ambiguous") and "Who wrote Hamlet?" in reason
    assert client.answer_for("Who wrote Hamlet?") is None


def test_a_history_rewritten_in_place_is_one_conversation_in_every_reader_and_format(tmp_path: Path) -> None:
    """Issue #21 item 1: Q1/A1, then a rewrite clear and Q1/"A1 edited": one conversation, one row, everywhere."""
    import agent_ft_cli
    from agent_ft_cli.session import clear_record, iter_conversations, make_header, message_record, write_records

    q, a, edited = {"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}, {"role": "assistant", "content": "A1 edited"}
    path = tmp_path / "rewrite.jsonl"
    records = [message_record("assistant", "user", q), message_record("assistant", "user", a),
               clear_record("assistant", "user", rewrite=True),
               message_record("assistant", "user", q), message_record("assistant", "user", edited)]
    write_records(path, make_header([{"name": "assistant"}, {"name": "user"}]), records)
    session = agent_ft_cli.load_session(path)
    assert session.conversations("assistant", "user") == [[q, edited]]
    assert list(iter_conversations(path, "assistant", "user")) == [[q, edited]]
    assert conversations(path, "assistant", "user") == [[q, edited]]
    for source in (path, session):
        for fmt in ("trl-sft", "openai-sft"):
            rows = agent_ft_cli.export_rows(source, format=fmt, agent="assistant", peer="user")
            assert [[m["content"] for m in r["messages"]] for r in rows] == [["Q1", "A1 edited"]], (source, fmt)
    out = tmp_path / "rows.jsonl"
    result = _run("-s", str(path), "-f", "trl-sft", "--agent", "assistant", "--peer", "user", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert [[m["content"] for m in r["messages"]] for r in _rows(out)] == [["Q1", "A1 edited"]]
    prefs = [{"chosen": "A1 better", "rejected": "A1 edited"}]
    rows = agent_ft_cli.export_rows(path, format="trl-preference", prefs=prefs, agent="assistant", peer="user")
    assert [[m["content"] for m in r["prompt"]] for r in rows] == [["Q1"]]
    with pytest.raises(agent_ft_cli.AgentFtError, match="does not appear"), pytest.warns(agent_ft_cli.SessionWarning):  # replaced: not training data
        agent_ft_cli.export_rows(path, format="trl-preference", prefs=[{"chosen": "x", "rejected": "A1"}], agent="assistant", peer="user")
