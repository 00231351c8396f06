"""The TypedDicts of ``agent_ft_cli.types`` say what the data really holds (issue #16 item 9): every session, export
row and ``--json`` result agent-ft makes here is checked against its type, recursively. A key an output gains that
its type does not declare fails here, and so does a declared required key an output lacks or a value of another
type: the types cannot drift from the JSON the docs show."""

from __future__ import annotations

import json
import sys
import types as pytypes
import typing
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import pytest
from conftest import REPO
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "export"))

from exportkit import save_live, write_prefs

import agent_ft_cli
from agent_ft_cli import types as t
from agent_ft_cli.cli import app
from agent_ft_cli.session import make_header, write_session

SAMPLES = REPO / "sample_sessions"
LOCAL = ["--config", str(REPO / "configs" / "local.yaml")]
runner = CliRunner()


def problems(value: Any, tp: Any, where: str = "$") -> list[str]:
    """What in ``value`` its type ``tp`` does not allow (nothing: it conforms). A TypedDict allows its declared keys
    only and needs its required ones."""
    if tp is Any:
        return []
    origin = get_origin(tp)
    if origin in (Union, pytypes.UnionType):
        found = [problems(value, option, where) for option in get_args(tp)]
        return [] if any(not f for f in found) else min(found, key=len)
    if origin is Literal:
        ok = any(value == a and type(value) is type(a) for a in get_args(tp))
        return [] if ok else [f"{where}: {value!r} is not one of {get_args(tp)}"]
    if typing.is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__}, not an object ({tp.__name__})"]
        hints = get_type_hints(tp)
        out = [f"{where}: key {k!r} is not declared in {tp.__name__}" for k in value if k not in hints]
        out += [f"{where}: required key {k!r} of {tp.__name__} missing" for k in sorted(tp.__required_keys__) if k not in value]
        for k, v in value.items():
            if k in hints:
                out += problems(v, hints[k], f"{where}.{k}")
        return out
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: {type(value).__name__}, not a list"]
        (item,) = get_args(tp)
        return [p for i, v in enumerate(value) for p in problems(v, item, f"{where}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__}, not an object"]
        _, item = get_args(tp)
        return [p for k, v in value.items() for p in problems(v, item, f"{where}.{k}")]
    if tp is type(None) or tp is None:
        return [] if value is None else [f"{where}: {value!r}, not null"]
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, tp)
    return [] if ok else [f"{where}: {value!r} is not a {getattr(tp, '__name__', tp)}"]


def conforms(value: Any, tp: Any) -> None:
    found = problems(value, tp)
    assert not found, "\n".join(found[:20])


# -- the checker itself: it refuses what it must -------------------------------------------------------------------


def test_the_checker_refuses_an_undeclared_key_a_missing_key_and_a_wrong_type() -> None:
    gate = {"name": "min-accuracy", "ok": True, "detail": "accuracy 1 >= 0.5"}
    conforms(gate, t.GateDict)
    assert problems({**gate, "extra": 1}, t.GateDict) == ["$: key 'extra' is not declared in GateDict"]
    assert problems({"name": "x", "ok": True}, t.GateDict) == ["$: required key 'detail' of GateDict missing"]
    assert problems({**gate, "ok": "yes"}, t.GateDict) == ["$.ok: 'yes' is not a bool"]
    row = {"messages": [{"role": "user", "content": "hi", "wieght": 0}]}
    assert problems(row, t.MessagesRow) == ["$.messages[0]: key 'wieght' is not declared in RowMessage"]
    conforms({"messages": [{"role": "user", "content": "hi", "weight": 0}], "tools": []}, t.MessagesRow)


# -- sessions --------------------------------------------------------------------------------------------------------


def _sessions(tmp_path: Path) -> list[Path]:
    recorded = tmp_path / "recorded.jsonl"
    result = runner.invoke(app, ["record", *LOCAL, "-m", "How many moons does Mars have?", "-o", str(recorded), "-q"])
    assert result.exit_code == 0, result.output
    return [save_live(tmp_path), recorded, *sorted(SAMPLES.glob("*.jsonl"))]


def test_session_headers_and_messages_are_their_types(tmp_path: Path) -> None:
    for path in _sessions(tmp_path):
        session = agent_ft_cli.load_session(path)
        conforms(session.header, t.SessionHeader)
        assert session.threads, path
        for key, thread in session.threads.items():
            conforms(thread, list[t.Message])
            for conversation in session.conversations(*key):
                conforms(conversation, list[t.Message])
    # a header the importers write says where the session came from
    imported = tmp_path / "imported.jsonl"
    header = make_header([{"name": "assistant", "class": "x.Y", "llm_config": False}], imported_from={"kind": "openai"})
    write_session(imported, header, [("assistant", "user", [{"role": "user", "content": "hi"}])])
    conforms(agent_ft_cli.load_session(imported).header, t.SessionHeader)


# -- export rows -----------------------------------------------------------------------------------------------------

ROW_TYPES: dict[tuple[str, bool], Any] = {
    ("trl-sft", False): t.MessagesRow,
    ("openai-sft", False): t.MessagesRow,
    ("trl-preference", False): t.PreferenceRow,
    ("trl-preference", True): t.StandardPreferenceRow,
    ("trl-kto", False): t.KTORow,
    ("openai-dpo", False): t.OpenAIDPORow,
}


@pytest.mark.parametrize(("fmt", "standard"), list(ROW_TYPES))
def test_export_rows_are_their_formats_type(tmp_path: Path, fmt: str, standard: bool) -> None:
    live, live_prefs = save_live(tmp_path), write_prefs(tmp_path)
    inputs = [(live, live_prefs)] + [(s, s.with_suffix(".prefs.json")) for s in sorted(SAMPLES.glob("*.jsonl"))]
    options: dict[str, Any] = {"standard": True} if standard else {}
    total = 0
    for session, prefs in inputs:
        rows = agent_ft_cli.export_rows(session, format=fmt, prefs=prefs, **options)
        if fmt == "openai-sft":
            rows += agent_ft_cli.export_rows(session, format=fmt, train_last_only=True)
        conforms(rows, list[ROW_TYPES[(fmt, standard)]])
        conforms(rows, list[t.ExportRow])
        total += len(rows)
    assert total >= len(inputs)
    # the tool-call session's rows carry tools, tool calls and tool messages: their keys are checked too
    keys = json.dumps(agent_ft_cli.export_rows(live, format=fmt, prefs=live_prefs, **options))
    assert ('"tool_calls"' in keys and '"tools"' in keys) or standard


@pytest.mark.skipif(sys.version_info < (3, 11), reason="typing.get_overloads is Python 3.11+")
def test_export_rows_overloads_promise_the_row_type_each_format_gives() -> None:
    from agent_ft_cli.export import api

    promised: dict[tuple[str, bool], Any] = {}
    for overload in typing.get_overloads(api.export_rows):
        hints = get_type_hints(overload, vars(api))
        (row,) = get_args(hints["return"])
        if get_origin(hints["format"]) is not Literal:
            assert row == t.ExportRow  # any other format name: the union
            continue
        standards = get_args(hints["standard"]) if "standard" in hints else (False,)
        for fmt in get_args(hints["format"]):
            for standard in standards:
                promised[(fmt, standard)] = row
    assert promised == ROW_TYPES


# -- --json results --------------------------------------------------------------------------------------------------


def cli(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def test_record_json_is_a_record_result(tmp_path: Path) -> None:
    out = cli("record", *LOCAL, "-m", "How many moons does Mars have?", "-o", str(tmp_path / "m.jsonl"), "--json")
    conforms(out, t.RecordResultDict)


def test_update_and_eval_json_are_their_results(tmp_path: Path) -> None:
    trivia = ["--session", str(SAMPLES / "trivia.jsonl"), "--prefs", str(SAMPLES / "trivia.prefs.json")]
    heldout = tmp_path / "heldout.json"
    heldout.write_text(json.dumps([{"prompt": "What is the capital of France?", "chosen": "Paris.", "rejected": "No idea."}]))
    plain = cli("update", *trivia, *LOCAL, "--json")
    conforms(plain, t.UpdateResultDict)
    assert "eval" not in plain
    evaluated = cli("update", *trivia, *LOCAL, "--eval", "--heldout", str(heldout), "--min-accuracy", "0", "--json")
    conforms(evaluated, t.UpdateResultDict)
    assert evaluated["eval"]["gates"] and evaluated["eval"]["after"]["heldout"] is not None
    scored = cli("eval", *trivia, *LOCAL, "--heldout", str(heldout), "--min-accuracy", "0", "--json")
    conforms(scored, t.EvalResultDict)
    assert scored["gates"] and "chosen_score" in scored["results"][0]
    memo = ["--client", "clientpkg.generating:MemoClient", "--client-arg", f"state_path={tmp_path / 'memo.json'}"]
    generated = cli("eval", *trivia, *memo, "--json")
    conforms(generated, t.EvalResultDict)
    assert "reply" in generated["results"][0]
    skipping = tmp_path / "skipping.json"
    skipping.write_text(json.dumps([*json.loads((SAMPLES / "trivia.prefs.json").read_text()), ["a", "an answer nobody gave"]]))
    skipped = cli("eval", "--session", str(SAMPLES / "trivia.jsonl"), "--prefs", str(skipping), *LOCAL, "--json")
    conforms(skipped, t.EvalResultDict)
    assert skipped["skipped"]


def test_validate_json_is_a_validate_report(tmp_path: Path) -> None:
    ok = cli("validate", "-s", str(SAMPLES / "capital.jsonl"), "--prefs", str(SAMPLES / "capital.prefs.json"), *LOCAL, "--json")
    conforms(ok, t.ValidateReport)
    assert any("file" in c for c in ok["checks"])
    prefs = tmp_path / "p.json"
    prefs.write_text(json.dumps([["a", "an answer nobody gave"]]))
    warned = cli("validate", "-s", str(SAMPLES / "capital.jsonl"), "--prefs", str(prefs), *LOCAL, "--json")
    conforms(warned, t.ValidateReport)
    assert any(c.get("warnings") for c in warned["checks"])
    failed = cli("validate", "-s", str(SAMPLES / "capital.jsonl"), "--client", "clientpkg.clients:MissingMethods", "--json", code=4)
    conforms(failed, t.ValidateReport)
    assert failed["ok"] is False


def test_export_json_is_an_export_summary(tmp_path: Path) -> None:
    empty = tmp_path / "no-answer.jsonl"
    header = make_header([{"name": "assistant", "llm_config": False}, {"name": "user", "llm_config": False}])
    write_session(empty, header, [("assistant", "user", [{"role": "user", "content": "Anyone?"}])])
    prefs = tmp_path / "p.json"
    pairs = json.loads((SAMPLES / "capital.prefs.json").read_text())
    pairs += [["a", "an answer nobody gave"], {"prompt": "Never asked?", "chosen": "Yes.", "rejected": "No."}]
    prefs.write_text(json.dumps(pairs))
    for fmt in ("trl-sft", "trl-preference"):
        args = ["export", "-s", str(SAMPLES / "capital.jsonl"), "-s", str(empty), "-f", fmt, "-o", str(tmp_path / f"{fmt}.jsonl")]
        summary = cli(*args, "--prefs", str(prefs), "--json")
        conforms(summary, t.ExportSummaryDict)
        assert summary["skipped_pairs"] and summary["skipped_sessions"]
        assert {"conversation" in tie for tie in summary["ties"]} == {True, False}  # a pair tied to its own prompt too
