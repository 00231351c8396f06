"""agent-ft export: pairs tied through the shared alignment or reported, many sessions, the library call, usage
and input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from exportkit import (
    CHOSEN,
    REJECTED,
    SYSTEM,
    _rows,
    _run,
    save_live,
    write_prefs,
)

from agent_ft_cli.export import Exporter, ExportOptions, export


@pytest.fixture
def live(tmp_path: Path) -> Path:
    return save_live(tmp_path)


@pytest.fixture
def prefs(tmp_path: Path) -> Path:
    return write_prefs(tmp_path)


def test_untied_pairs_are_reported(live: Path, tmp_path: Path) -> None:
    prefs = tmp_path / "p.json"
    pairs = [
        [CHOSEN, REJECTED],
        {"chosen": "x", "rejected": "never said"},
        {"chosen": "Paris.", "rejected": "Lyon.", "prompt": "Capital of France?"},
        "not a pair",
    ]
    prefs.write_text(json.dumps(pairs, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "o.jsonl"
    result = _run("-s", str(live), "--prefs", str(prefs), "-f", "trl-preference", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"] == 2
    assert summary["pairs"] == {"total": 4, "tied": 2, "skipped": 2}
    reasons = {s["pair"]: s["reason"] for s in summary["skipped_pairs"]}
    assert "does not appear" in reasons[1]
    assert "not a [chosen, rejected] pair" in reasons[3]
    rows = _rows(out)
    assert rows[1]["prompt"] == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Capital of France?"}]
    # the table on stderr tells the same
    table = _run("-s", str(live), "--prefs", str(prefs), "-f", "trl-preference", "-o", str(out))
    assert table.stdout == ""
    assert "rows written" in table.stderr and "skipped pair 1" in table.stderr


def test_many_sessions_folder_and_glob(live: Path, prefs: Path, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(3):
        (folder / f"s{i}.jsonl").write_bytes(live.read_bytes())
    (folder / "broken.jsonl").write_text("not a session\n")
    out = tmp_path / "o.jsonl"
    result = _run("-s", str(folder), "--prefs", str(prefs), "-f", "trl-sft", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["sessions"] == 3 and summary["rows"] == 3
    assert summary["pairs"]["tied"] == 1  # one pair, tied once (in the first session that has its answer)
    assert [s["session"] for s in summary["skipped_sessions"]] == [str(folder / "broken.jsonl")]
    glob = _run("-s", str(folder / "s*.jsonl"), "-f", "openai-sft", "-o", str(out), "--json")
    assert glob.exit_code == 0 and json.loads(glob.stdout)["rows"] == 3


def test_library_export(live: Path, tmp_path: Path) -> None:
    out = tmp_path / "lib.jsonl"
    summary = export([live], out, ExportOptions(format="trl-sft"))
    assert summary.rows == 1 and summary.out == str(out)
    rows = list(Exporter(ExportOptions(format="openai-sft")).rows([live]))
    assert rows[0]["messages"][0]["role"] == "system"


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["-f", "trl-preference"], 2, "needs preference pairs"),
        (["-f", "nope"], 2, "--format 'nope'"),
        (["-f", "trl-sft", "--standard"], 2, "--standard"),
        (["-f", "trl-sft", "--train-last-only"], 2, "--train-last-only"),
    ],
)
def test_usage_errors(live: Path, tmp_path: Path, args: list[str], code: int, text: str) -> None:
    out = tmp_path / "o.jsonl"
    result = _run("-s", str(live), *args, "-o", str(out))
    assert result.exit_code == code, result.output
    assert text in result.stderr
    assert not out.exists()


def test_bad_inputs_and_outputs(live: Path, tmp_path: Path) -> None:
    missing = _run("-s", str(tmp_path / "nope.jsonl"), "-f", "trl-sft", "-o", str(tmp_path / "o.jsonl"))
    assert missing.exit_code == 3 and "does not exist" in missing.stderr
    no_dir = _run("-s", str(live), "-f", "trl-sft", "-o", str(tmp_path / "no" / "o.jsonl"))
    assert no_dir.exit_code == 2 and "--out" in no_dir.stderr
    same = _run("-s", str(live), "-f", "trl-sft", "-o", str(live))
    assert same.exit_code == 2
    # nothing to export: exit 3 and the previous output is left as it was
    out = tmp_path / "keep.jsonl"
    out.write_text("old\n")
    prefs = tmp_path / "p.json"
    prefs.write_text('[["a", "b"]]')
    result = _run("-s", str(live), "--prefs", str(prefs), "-f", "openai-dpo", "-o", str(out))
    assert result.exit_code == 3 and "nothing to export" in result.stderr
    assert out.read_text() == "old\n"
    assert not list(tmp_path.glob(".keep.jsonl.*"))


def test_dataset_folder_needs_datasets(live: Path, tmp_path: Path) -> None:
    try:
        import datasets  # noqa: F401
    except ImportError:
        result = _run("-s", str(live), "-f", "trl-sft", "-o", str(tmp_path / "ds") + "/")
        assert result.exit_code == 2 and "datasets" in result.stderr
        return
    result = _run("-s", str(live), "-f", "trl-sft", "-o", str(tmp_path / "ds") + "/", "--json")  # pragma: no cover
    assert result.exit_code == 0 and (tmp_path / "ds").is_dir()  # pragma: no cover
