"""Where export writes: ``-`` is stdout, devices are written through, and a dataset folder only where it loses
nothing (the reviews of #9/#16/#17: ``-o -`` made a file named ``-``, ``-o .`` replaced the user's ``state.json``,
``-o /dev/full`` was an unexpected error)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from exportkit import _rows, _run, load_folder, parallel_tools_session, plain_session, write_session

import agent_ft_cli
from agent_ft_cli.errors import SessionWarning


@pytest.fixture
def session(tmp_path: Path) -> Path:
    return plain_session(tmp_path / "s.jsonl")


# -- stdout and devices ------------------------------------------------------------------------------------------


def test_dash_writes_the_rows_on_stdout(session: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    assert _run("-s", str(session), "-f", "trl-sft", "-o", str(out)).exit_code == 0
    result = _run("-s", str(session), "-f", "trl-sft", "-o", "-")
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines()] == _rows(out)
    assert not Path("-").exists()  # the cwd: no file named "-"
    assert "rows written: 1 to stdout" in result.stderr


def test_dash_with_json_is_a_usage_error(session: Path) -> None:
    result = _run("-s", str(session), "-f", "trl-sft", "-o", "-", "--json")
    assert result.exit_code == 2
    assert "--json" in result.stderr and "--out -" in result.stderr and result.stdout == ""
    assert not Path("-").exists()


def test_dash_leaves_stdout_empty_when_the_run_fails(session: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(session.read_bytes()[:-20])  # its final line cut short: a skip, which --strict refuses
    result = _run("-s", str(session), "-s", str(cut), "-f", "trl-sft", "-o", "-", "--strict")
    assert result.exit_code == 3 and result.stdout == ""
    nothing = _run("-s", str(session), "-f", "trl-sft", "--agent", "nobody", "-o", "-")
    assert nothing.exit_code == 3 and nothing.stdout == ""


def test_strict_names_its_flag(session: Path, tmp_path: Path) -> None:
    """review-cli F13: the reader's reason was rendered before the CLI could spell ``{strict}``."""
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(session.read_bytes()[:-20])
    result = _run("-s", str(cut), "-f", "trl-sft", "-o", str(tmp_path / "o.jsonl"), "--strict")
    assert result.exit_code == 3
    assert "drop --strict to skip it" in result.stderr and "drop strict" not in result.stderr
    with pytest.raises(agent_ft_cli.AgentFtError) as info:  # the library keeps the bare key
        agent_ft_cli.export_rows(cut, format="trl-sft", strict=True)
    assert "drop strict to skip it" in str(info.value) and "--" not in str(info.value)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_full_device_is_a_usage_error_naming_it(session: Path) -> None:
    result = _run("-s", str(session), "-f", "trl-sft", "-o", "/dev/full")
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: cannot write output file '/dev/full' (No space left on device, ENOSPC); nothing was written"
    )


def test_dev_stdout_into_a_pipe_is_written_through(session: Path) -> None:
    """``/dev/stdout`` into a pipe links to ``pipe:[...]``, which no folder holds: written as the stream it is."""
    cmd = [sys.executable, "-m", "agent_ft_cli", "export", "-s", str(session), "-f", "trl-sft", "-q"]
    for out in ("/dev/stdout", "-"):
        done = subprocess.run([*cmd, "-o", out], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["messages"][-1] == {"role": "assistant", "content": "Hello."}
        assert done.stderr == ""


# -- dataset folders ---------------------------------------------------------------------------------------------


def _entries(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative name: content)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_folder_that_holds_other_files_is_refused_and_left_alone(session: Path, tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "state.json").write_text('{"mine": 1}')
    for out in (str(mine), f"{mine}/"):
        result = _run("-s", str(session), "-f", "trl-sft", "-o", out)
        assert result.exit_code == 2 and "holds other files" in result.stderr
    assert _entries(mine) == ["state.json"] and (mine / "state.json").read_text() == '{"mine": 1}'


def test_the_current_folder_and_an_input_folder_are_refused(tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    runs = Path("runs")  # the test's own cwd (conftest)
    runs.mkdir()
    plain_session(runs / "s.jsonl")
    before = _entries(runs)
    for out in (".", "./", "runs", "runs/", str(Path.cwd().parent)):
        result = _run("-s", "runs", "-f", "trl-sft", "-o", out, "-q")
        assert result.exit_code == 2, (out, result.output)
    assert _entries(runs) == before and not Path("state.json").exists()
    prefs_dir = tmp_path / "prefs"
    prefs_dir.mkdir()
    (prefs_dir / "p.json").write_text('[["Hi there.", "Hello."]]')
    holds_prefs = _run("-s", "runs", "--prefs", str(prefs_dir / "p.json"), "-f", "trl-kto", "-o", str(prefs_dir))
    assert holds_prefs.exit_code == 2 and "holds an input" in holds_prefs.stderr


def test_a_dataset_goes_to_a_new_or_empty_folder_and_replaces_an_earlier_export(session: Path, tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _run("-s", str(session), "-f", "trl-sft", "-o", str(empty)).exit_code == 0
    assert len(load_folder(empty)) == 1
    other = parallel_tools_session(tmp_path / "t.jsonl")
    again = _run("-s", str(session), "-s", str(other), "-f", "trl-sft", "-o", f"{empty}/", "--json")
    assert again.exit_code == 0, again.output
    assert len(load_folder(empty)) == 2  # the earlier export's dataset, replaced
    new = tmp_path / "new"
    assert _run("-s", str(session), "-f", "trl-sft", "-o", f"{new}/").exit_code == 0
    assert _entries(new) == ["data", "dataset_info.json"] and _entries(new / "data") == ["train-00000-of-00001.parquet"]
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]  # no temporary folder left beside them
    link = tmp_path / "link"
    link.symlink_to(new)
    assert _run("-s", str(other), "-f", "trl-sft", "-o", str(link)).exit_code == 0
    assert link.is_symlink() and len(load_folder(new)) == 1


def test_a_failed_save_leaves_the_earlier_dataset(session: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("datasets")
    folder = tmp_path / "ds"
    assert _run("-s", str(session), "-f", "trl-sft", "-o", f"{folder}/").exit_code == 0
    before = _files(folder)

    import pyarrow.parquet as pq

    def broken(self: object, batch: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")  # half a shard written, then the disk is full

    monkeypatch.setattr(pq.ParquetWriter, "write_batch", broken)
    result = _run("-s", str(session), "-f", "trl-sft", "-o", f"{folder}/")
    assert result.exit_code == 2 and "nothing was written" in result.stderr
    assert _files(folder) == before
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]  # the temporary folder is gone


def test_quiet_and_json_silence_the_datasets_progress_bars(session: Path, tmp_path: Path) -> None:
    """review-cli F3 / review-data 16: ``Saving the dataset (1/1 shards)`` on stderr despite ``-q``."""
    pytest.importorskip("datasets")
    quiet = _run("-s", str(session), "-f", "trl-sft", "-o", f"{tmp_path}/a/", "-q")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    as_json = _run("-s", str(session), "-f", "trl-sft", "-o", f"{tmp_path}/b/", "--json")
    assert as_json.exit_code == 0 and as_json.stderr == "" and json.loads(as_json.stdout)["rows"] == 1
    piped = _run("-s", str(session), "-f", "trl-sft", "-o", f"{tmp_path}/c/")  # not a terminal: no bar either
    assert piped.exit_code == 0 and "Saving the dataset" not in piped.stderr and "rows written" in piped.stderr
    from datasets.utils import are_progress_bars_disabled

    assert not are_progress_bars_disabled()  # datasets' own setting is put back


def test_a_number_datasets_would_read_back_rounded_is_reported(tmp_path: Path) -> None:
    """datasets decodes its Json columns with pandas' ujson, which reads 0.3 as 0.30000000000000004: the export says
    so (a warning; under strict an error) rather than hand a trainer a changed value silently."""
    pytest.importorskip("datasets")
    call = {"id": "call_1", "type": "function", "function": {"name": "convert", "arguments": '{"celsius": 0.3}'}}
    session = write_session(
        tmp_path / "f.jsonl",
        {},
        [
            {"content": "0.3 C?", "role": "user"},
            {"tool_calls": [call], "content": None, "role": "assistant"},
            {"content": "32.54 F", "tool_responses": [{"tool_call_id": "call_1", "role": "tool", "content": "32.54 F"}], "role": "tool"},
            {"content": "32.54 F.", "role": "assistant"},
        ],
    )
    rows = agent_ft_cli.export_rows(session, format="trl-sft")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        agent_ft_cli.to_dataset(rows)
    assert [w.category for w in caught] == [SessionWarning] and "0.3" in str(caught[0].message)
    warned = _run("-s", str(session), "-f", "trl-sft", "-o", f"{tmp_path}/ds/")
    assert warned.exit_code == 0 and "reads back from 'datasets' changed" in warned.stderr
    stored = load_folder(tmp_path / "ds").data.column("messages").to_pylist()[0]
    assert '"celsius":0.3}' in stored[2]  # the text stored is exact
    strict = _run("-s", str(session), "-f", "trl-sft", "-o", f"{tmp_path}/ds2/", "--strict")
    assert strict.exit_code == 3 and "--strict" in strict.stderr and not (tmp_path / "ds2").exists()
    plain = plain_session(tmp_path / "p.jsonl")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to say when every value reads back as it was
        agent_ft_cli.to_dataset(agent_ft_cli.export_rows(plain, format="trl-sft"))


def test_a_dangling_link_names_the_missing_folder(session: Path, tmp_path: Path) -> None:
    """review of #9, item 16: the folder said missing was the link's own (which exists), not its target's."""
    link = tmp_path / "o.jsonl"
    link.symlink_to(tmp_path / "nowhere" / "o.jsonl")
    result = _run("-s", str(session), "-f", "trl-sft", "-o", str(link))
    assert result.exit_code == 2
    assert f"folder '{tmp_path / 'nowhere'}' does not exist" in result.stderr
