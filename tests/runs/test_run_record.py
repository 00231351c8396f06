"""Every update leaves a run record (agent_ft_cli/runs/record.py): where it goes, what it holds, and that writing it
never fails the update."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from conftest import REPO
from runkit import CAPITAL, LOCAL, SAMPLES, STEPS, TRIVIA, cli, ok

SECRET = "sk-runrecordsecret0123456789"


def _records(folder: Path) -> list[Path]:
    return sorted(folder.glob("*/run.json"))


def test_a_local_update_leaves_one_record_with_inputs_settings_history_and_eval(isolated: Path, tmp_path: Path) -> None:
    result = ok("update", *TRIVIA, *LOCAL, "--client-arg", f"api_key={SECRET}", "--eval", "--kwarg", "note=1")
    [path] = _records(tmp_path / "runs")
    assert f"run recorded in {path}" in " ".join(result.stderr.split())
    raw = path.read_bytes()
    assert SECRET.encode() not in raw
    record = json.loads(raw)
    assert record["format"] == "agent-ft-run" and record["id"] == path.parent.name
    assert record["sessions"][0]["sha256"] == hashlib.sha256((SAMPLES / "trivia.jsonl").read_bytes()).hexdigest()
    assert record["prefs"]["sha256"] == hashlib.sha256((SAMPLES / "trivia.prefs.json").read_bytes()).hexdigest()
    assert record["config"]["path"].endswith("configs/local.yaml")
    assert record["client"]["spec"].endswith(":LocalLearningClient")
    assert record["client"]["args"]["api_key"] == "<redacted>"
    assert record["kwargs"] == {"note": 1}
    assert (record["agent"], record["peer"], record["method"]) == ("assistant", "user", "remember")
    # the per-step history is the record's own key, not repeated in the stats
    assert "history" not in record["stats"] and [h["step"] for h in record["history"]] == [1, 2, 3]
    assert record["history"][-1]["loss"] < record["history"][0]["loss"]
    assert record["eval"]["before"]["accuracy"] == 0 and record["eval"]["after"]["accuracy"] == 1
    assert record["published"] is False and record["checkpoint"] is None
    index = (tmp_path / "runs" / "index.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in index] == [{"id": record["id"], "record": str(path)}]


def test_a_client_with_its_own_run_folder_gets_the_record_there_and_the_index_points_at_it(isolated: Path, tmp_path: Path) -> None:
    ok("update", *CAPITAL, "--client", STEPS, "--client-arg", "run_root=out", "-q")
    [run_dir] = (isolated / "out" / "runs").iterdir()
    record = json.loads((run_dir / "run.json").read_text())
    assert record["id"] == run_dir.name and record["run_dir"] == str(run_dir)
    assert record["published"] is True and record["checkpoint"] == f"out/runs/{run_dir.name}"  # as the client said
    assert len(record["history"]) == 6 and record["stats"]["steps"] == 5
    assert _records(tmp_path / "runs") == []  # nothing but the index in the runs dir
    [line] = (tmp_path / "runs" / "index.jsonl").read_text().splitlines()
    assert json.loads(line)["record"] == str(run_dir / "run.json")


def test_a_run_folder_that_does_not_exist_is_not_used(isolated: Path, tmp_path: Path) -> None:
    ok("update", *CAPITAL, "--client", STEPS, "--client-arg", "claimed_run_dir=gone/run-1", "-q")
    [path] = _records(tmp_path / "runs")
    record = json.loads(path.read_text())
    assert record["run_dir"] is None and record["stats"]["run_dir"] == "gone/run-1" and not (isolated / "gone").exists()


def test_runs_dir_moves_the_records_and_no_run_record_writes_none(isolated: Path, tmp_path: Path) -> None:
    ok("update", *TRIVIA, *LOCAL, "--runs-dir", "mine", "-q")
    assert len(_records(isolated / "mine")) == 1 and not (tmp_path / "runs").exists()
    ok("update", *TRIVIA, *LOCAL, "--no-run-record", "-q")
    assert len(_records(isolated / "mine")) == 1 and not (tmp_path / "runs").exists()
    both = cli("update", *TRIVIA, *LOCAL, "--no-run-record", "--runs-dir", "x")
    assert both.exit_code == 2 and "--runs-dir and --no-run-record" in both.stderr


def test_a_record_that_cannot_be_written_is_a_warning_and_the_update_stands(isolated: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (isolated / "blocked").write_text("a file where the runs folder would be")
    monkeypatch.setenv("AGENT_FT_RUNS_DIR", str(isolated / "blocked"))
    result = cli("update", *TRIVIA, *LOCAL, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["update_stats"]["learned"] == 3  # stdout is still the result alone
    assert "Warning: the run record could not be written" in result.stderr
    assert "the update itself succeeded" in " ".join(result.stderr.split())
    assert (isolated / "blocked").read_text() == "a file where the runs folder would be"


def test_the_runs_dir_is_fixed_before_client_code_runs(isolated: Path) -> None:
    """A relative --runs-dir is the folder it names when the update starts, whatever the client does to the cwd."""
    (isolated / "elsewhere").mkdir()
    ok("update", *CAPITAL, "--client", STEPS, "--client-arg", "chdir=elsewhere", "--runs-dir", "rel", "-q")
    assert len(_records(isolated / "rel")) == 1
    assert list((isolated / "elsewhere").iterdir()) == []


def test_the_recorded_sha256_is_of_every_byte_though_each_input_is_read_once(isolated: Path, tmp_path: Path) -> None:
    """The digests come from the walk's one read of each input (no second open): they still cover every byte: a
    session over the size read at once, with blank lines, records the reader ignores and a final line cut short
    (warned about, not parsed, still the file's content), and a config with CRLF line ends."""
    session = isolated / "big.jsonl"
    note = b'{"type":"note","text":"' + b"x" * 900 + b'"}\n'
    session.write_bytes((SAMPLES / "capital.jsonl").read_bytes() + b"\n" + note * 400 + b'{"type":"note","te')
    config = isolated / "crlf.yaml"
    config.write_bytes((REPO / "configs" / "local.yaml").read_bytes().replace(b"\n", b"\r\n"))
    prefs = SAMPLES / "capital.prefs.json"
    result = ok("update", "--session", str(session), "--prefs", str(prefs), "--config", str(config), "--heldout", str(prefs))
    assert "cut short" in result.stderr
    [path] = _records(tmp_path / "runs")
    record = json.loads(path.read_text())
    for ref, file in [(record["sessions"][0], session), (record["prefs"], prefs), (record["config"], config), (record["heldout"], prefs)]:
        data = file.read_bytes()
        assert (ref["path"], ref["sha256"], ref["bytes"]) == (str(file), hashlib.sha256(data).hexdigest(), len(data))
    assert record["sessions"][0]["bytes"] > 256 << 10
