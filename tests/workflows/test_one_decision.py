"""Every command decides the same pairs (review finding 2, #16 item 2, #9 item 6): ``export`` ties over every
conversation of the thread, and ``update`` (the client's own ``align``, the bundled model), ``update --strict``,
``validate``, ``eval``, the library's ``replay`` + ``update_model`` and ``align`` with the thread's conversations
decide each pair the same way (tied, ambiguous, consumed, not found), though the client is handed the last
conversation only. The recording is the review's s06 shape: "I don't know." answered to Australia and Hamlet
(one chat, ``clear_history=False``), Peru (a second chat, then "Peru again?" answered "Lima.") and Guernica
(a third chat)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import agent_ft_cli
from agent_ft_cli import SessionRecorder
from agent_ft_cli.align import align
from agent_ft_cli.cli import app

runner = CliRunner()
IDK = "I don't know."
AMBIGUOUS = [["The capital of Australia is Canberra.", IDK]]
MIXED = [
    {"prompt": "who wrote  HAMLET?", "chosen": "Shakespeare.", "rejected": IDK},  # tied (conversation 1)
    {"prompt": "Who wrote Hamlet?", "chosen": "William Shakespeare.", "rejected": IDK},  # consumed by pair 0
    {"prompt": "Capital of Peru again?", "chosen": "Lima.", "rejected": IDK},  # answered "Lima.": its prompt alone
    ["Lima is the capital.", "Lima."],  # tied (conversation 2)
    ["Lima is the capital of Peru.", "Lima."],  # consumed by pair 3
    {"prompt": "Capital of Chile?", "chosen": "Santiago.", "rejected": IDK},  # asked nowhere: its prompt alone
    ["Picasso.", "never said"],  # not found
]
EXPECTED = {
    "ambiguous": ({}, {"0": "ambiguous"}),
    "mixed": (
        {"0": "who wrote  HAMLET?", "2": "Capital of Peru again?", "3": "Capital of Peru again?", "5": "Capital of Chile?"},
        {"1": "consumed", "4": "consumed", "6": "not-found"},
    ),
}




def _record(tmp_path: Path) -> tuple[Path, Any, Any]:
    import autogen

    from agent_ft_cli.clients.protocol import ModelClientBase, chat_response

    plan = [IDK, IDK, IDK, "Lima.", IDK]

    class Planned(ModelClientBase):
        def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
            super().__init__(config)

        def create(self, params: dict[str, Any]) -> Any:
            return chat_response(plan.pop(0), model=self.model)

    llm = {"config_list": [{"model": "planned", "model_client_cls": "Planned"}], "cache_seed": None}
    a = autogen.AssistantAgent("assistant", llm_config=llm, system_message="SYS")
    a.register_model_client(model_client_cls=Planned)
    u = autogen.UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, max_consecutive_auto_reply=0)
    path = tmp_path / "s06.jsonl"
    with SessionRecorder(path, a, u):
        u.initiate_chat(a, message="Capital of Australia?", silent=True)
        u.initiate_chat(a, message="Who wrote Hamlet?", clear_history=False, silent=True)
        u.initiate_chat(a, message="Capital of Peru?", silent=True)
        u.initiate_chat(a, message="Capital of Peru again?", clear_history=False, silent=True)
        u.initiate_chat(a, message="Who painted Guernica?", silent=True)
    return path, a, u


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, _, _ = _record(tmp_path_factory.mktemp("s06"))
    return path


def _invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "200"})


def _prefs(tmp_path: Path, name: str) -> Path:
    p = tmp_path / f"{name}.json"
    p.write_text(json.dumps(AMBIGUOUS if name == "ambiguous" else MIXED))
    return p


def _from_export(session: Path, prefs: Path, tmp_path: Path) -> tuple[dict[str, str], dict[str, str]]:
    result = _invoke("export", "-s", str(session), "--prefs", str(prefs), "-f", "trl-sft", "-o", str(tmp_path / "x.jsonl"), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    ties = {str(t["pair"]) for t in summary["ties"]}
    prompts = {k: v for k, v in EXPECTED["mixed"][0].items() if k in ties}  # export does not print prompts
    return prompts, {str(s["pair"]): s["kind"] for s in summary["skipped_pairs"]}


@pytest.mark.parametrize("name", ["ambiguous", "mixed"])
def test_export_update_validate_eval_and_the_library_decide_the_same_pairs(recorded: Path, tmp_path: Path, name: str) -> None:
    prefs = _prefs(tmp_path, name)
    tied, skipped = EXPECTED[name]
    assert _from_export(recorded, prefs, tmp_path) == (tied, skipped)

    # update: the client is handed the last conversation (Guernica) and ties against it with align()
    for conversation in ([], ["--conversation", "2"], ["--conversation", "all"]):
        result = _invoke("update", "-s", str(recorded), "--prefs", str(prefs), "--client", "clientpkg.tying:TyingClient", "--json", *conversation)
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        if not conversation:
            assert [m["content"] for m in out["inference_messages"]] == ["Who painted Guernica?", IDK]
        assert (out["update_stats"]["tied"], out["update_stats"]["skipped"]) == (tied, skipped), conversation

    # update --strict and validate --strict refuse exactly the pairs export skips
    strict = _invoke("update", "-s", str(recorded), "--prefs", str(prefs), "--client", "clientpkg.tying:TyingClient", "--strict")
    assert strict.exit_code == 3 and f"pair {min(skipped, key=int)}: " in strict.stderr
    report = _invoke("validate", "-s", str(recorded), "--prefs", str(prefs), "--client", "clientpkg.tying:TyingClient", "--json")
    assert report.exit_code == 0, report.output
    [pairs] = [c for c in json.loads(report.stdout)["checks"] if c["name"] == "pairs"]
    assert pairs["detail"].startswith(f"{len(tied)} of {len(tied) + len(skipped)} pair(s) tied")
    assert [w.split(":")[0] for w in pairs["warnings"]] == [f"pair {k}" for k in sorted(skipped, key=int)]
    bad = _invoke("validate", "-s", str(recorded), "--prefs", str(prefs), "--client", "clientpkg.tying:TyingClient", "--strict")
    assert bad.exit_code == 3 and f"pair {min(skipped, key=int)}: " in bad.stderr

    # the library: replay + update_model, and align with the thread's conversations
    agent, peer = agent_ft_cli.replay(recorded, client="clientpkg.tying:TyingClient")
    stats = agent_ft_cli.update_model(agent, json.loads(prefs.read_text()), peer)["update_stats"]
    assert (stats["tied"], stats["skipped"]) == (tied, skipped)
    session = agent_ft_cli.load_session(recorded)
    got, why = align(json.loads(prefs.read_text()), session.thread("assistant", "user"), conversations=session.conversations("assistant", "user"))
    assert ({str(t.pair.index): t.prompt for t in got}, {str(s.index): s.kind.value for s in why}) == (tied, skipped)


def test_the_bundled_model_and_eval_never_learn_or_judge_a_guessed_question(recorded: Path, tmp_path: Path) -> None:
    prefs = _prefs(tmp_path, "ambiguous")
    state = ["--client", "agent_ft_cli.local:LocalLearningClient", "--client-arg", f"state_path={tmp_path / 'st.json'}"]
    result = _invoke("update", "-s", str(recorded), "--prefs", str(prefs), *state, "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)["update_stats"]
    assert stats["learned"] == 0 and stats["learned_answers"] == []
    [reason] = stats["skipped_reasons"]
    assert reason.startswith("ambiguous: the rejected answer answers 4 different questions")
    evaluated = _invoke("eval", "-s", str(recorded), "--prefs", str(prefs), *state)
    assert evaluated.exit_code == 3 and "ambiguous" in evaluated.stderr and "Guernica" in evaluated.stderr


def test_a_pair_tied_in_an_earlier_conversation_is_trained_on_that_conversation(recorded: Path) -> None:
    """prompt_thread (what eval judges and the Hugging Face client trains on) is the conversation the answer is in."""
    from agent_ft_cli.align import prompt_thread

    session = agent_ft_cli.load_session(recorded)
    thread = [{"role": "system", "content": "SYS"}, *session.thread("assistant", "user")]
    [t], [] = align([["Lima is the capital.", "Lima."]], thread, conversations=session.conversations("assistant", "user"))
    assert t.conversation is not None and t.conversation is not thread
    assert [m["content"] for m in prompt_thread(t, thread)] == ["SYS", "Capital of Peru?", IDK, "Capital of Peru again?"]
