"""Export at scale (issue #24): rows stream with flat memory, a dataset folder is Parquet shards that read back as
the JSON Lines rows, and ``--jobs`` writes exactly what one process writes."""

from __future__ import annotations

import json
import shutil
import tracemalloc
from pathlib import Path

import pytest
from exportkit import _rows, _run

from agent_ft_cli.export import ExportOptions, export
from agent_ft_cli.session import clear_record, dumps_record, make_header, message_record

SAMPLES = Path(__file__).resolve().parents[2] / "sample_sessions"


def _service(path: Path, conversations: int) -> Path:
    """A long-running service's session: per chat a clear of each view, then both views of four messages."""
    header = make_header([{"name": "assistant", "system_message": "Be brief.", "llm_config": {"config_list": [{"model": "m", "model_client_cls": "C"}]}}, {"name": "user"}])
    with open(path, "wb") as fh:
        fh.write(dumps_record(header))
        for k in range(conversations):
            fh.write(dumps_record(clear_record("assistant", "user")) + dumps_record(clear_record("user", "assistant")))
            for turn, text in enumerate((f"Q{k}?", f"A{k}.", f"More on {k}?", f"Yes, {k}.")):
                role = "user" if turn % 2 == 0 else "assistant"
                fh.write(dumps_record(message_record("assistant", "user", {"content": text, "role": role})))
                fh.write(dumps_record(message_record("user", "assistant", {"content": text, "role": "assistant" if role == "user" else "user"})))
    return path


def _peak(session: Path, out: Path) -> int:
    tracemalloc.start()
    try:
        summary = export([session], out, ExportOptions(format="trl-sft"))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        assert summary.rows == summary.conversations


def test_memory_does_not_grow_with_the_number_of_conversations(tmp_path: Path) -> None:
    small, big = _service(tmp_path / "s.jsonl", 500), _service(tmp_path / "b.jsonl", 5000)
    for out in (tmp_path / "rows.jsonl", tmp_path / "ds"):
        if out.name == "ds":
            pytest.importorskip("pyarrow")
            out = Path(f"{out}/")
        peaks = []
        for session in (small, big):
            shutil.rmtree(tmp_path / "ds", ignore_errors=True)
            peaks.append(_peak(session, out))
        assert peaks[1] < peaks[0] * 1.5 + (1 << 20), (out, peaks)  # ten times the conversations, not ten times the memory


def test_the_dataset_folder_reads_back_as_the_json_lines_rows_in_shards(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    pq = pytest.importorskip("pyarrow.parquet")
    session = _service(tmp_path / "s.jsonl", 300)
    sources = ["-s", str(session), "-s", str(SAMPLES / "weather_tool.jsonl"), "--agent", "assistant", "--peer", "user"]
    assert _run(*sources, "-f", "trl-sft", "-o", str(tmp_path / "rows.jsonl")).exit_code == 0
    result = _run(*sources, "-f", "trl-sft", "-o", f"{tmp_path}/ds/", "--shard-size", "20KB", "--json")
    assert result.exit_code == 0, result.output
    shards = sorted((tmp_path / "ds" / "data").iterdir())
    assert len(shards) > 1 and shards[0].name == f"train-00000-of-{len(shards):05d}.parquet"
    expected = _rows(tmp_path / "rows.jsonl")
    files = str(tmp_path / "ds" / "data" / "*.parquet")
    streamed = datasets.load_dataset("parquet", data_files=files, split="train", streaming=True)
    got = [{k: v for k, v in row.items() if v is not None} for row in streamed]
    assert got == expected
    assert pq.read_table(str(tmp_path / "ds" / "data")).num_rows == len(expected)  # any Parquet reader
    try:
        import duckdb
    except ImportError:
        return
    [(count, first)] = duckdb.sql(f"SELECT count(*), min(messages[2]) FROM '{files}'").fetchall()
    assert count == len(expected) and json.loads(first) in [row["messages"][1] for row in expected]


def test_jobs_write_byte_for_byte_what_one_process_writes(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(70):
        shutil.copy(SAMPLES / ("trivia.jsonl" if i % 3 else "weather_tool.jsonl"), folder / f"s{i:03d}.jsonl")
    (folder / "s005.jsonl").write_text("not a session\n")  # skipped, reported in its place
    cut = (SAMPLES / "trivia.jsonl").read_bytes()
    (folder / "s011.jsonl").write_bytes(cut[: cut.rindex(b"\n", 0, len(cut) - 1) + 20])  # a final line cut short
    runs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"j{jobs}.jsonl"
        result = _run("-s", str(folder), "-f", "openai-sft", "-o", str(out), "--jobs", jobs, "--json")
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert summary.pop("out") == str(out)
        runs[jobs] = (out.read_bytes(), summary, result.stderr)
    assert runs["1"] == runs["2"]
    summary = runs["1"][1]
    assert summary["sessions"] == 69 and [s["session"] for s in summary["skipped_sessions"]] == [str(folder / "s005.jsonl")]
    strict = _run("-s", str(folder), "-f", "openai-sft", "-o", str(tmp_path / "x.jsonl"), "--jobs", "2", "--strict")
    assert strict.exit_code == 3 and "s005.jsonl" in strict.stderr and not (tmp_path / "x.jsonl").exists()


def test_json_lines_export_never_imports_pyarrow_or_datasets(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom pathlib import Path\nfrom agent_ft_cli.export import ExportOptions, export\n"
        f"export([Path({str(SAMPLES / 'trivia.jsonl')!r})], Path({str(tmp_path / 'o.jsonl')!r}), ExportOptions(format='trl-sft'))\n"
        "print(sorted(m for m in ('pyarrow', 'datasets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
