"""The one safe writer refuses to replace an input itself (issue #21 item 4), and a folder is written whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent_ft_cli.errors import OutputWriteError, UsageError
from agent_ft_cli.fsutil import atomic_folder, atomic_writer


def test_the_writer_refuses_to_replace_an_input_whoever_calls_it(tmp_path: Path) -> None:
    prefs = tmp_path / "prefs.json"
    prefs.write_text("[]")
    link = tmp_path / "link.json"
    link.symlink_to(prefs)
    for out in (prefs, link):
        with pytest.raises(UsageError, match="is also an input"), atomic_writer(out, inputs=[prefs]) as fh:
            fh.write(b"rows")
    assert prefs.read_text() == "[]"
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "s.jsonl").write_text("x")
    with pytest.raises(UsageError, match="is also an input"), atomic_folder(folder, inputs=[folder / "s.jsonl"]):
        pass
    assert (folder / "s.jsonl").read_text() == "x"


def test_a_folder_is_replaced_whole_or_not_at_all_and_nothing_is_left_beside_it(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    target = tmp_path / "ds"
    with atomic_folder(target) as tmp:
        (tmp / "a").write_text("1")
        assert not target.exists()
    assert sorted(os.listdir(tmp_path)) == ["ds"] and (target / "a").read_text() == "1"
    with pytest.raises(RuntimeError), atomic_folder(target) as tmp:
        (tmp / "b").write_text("2")
        raise RuntimeError("interrupted")
    assert sorted(os.listdir(tmp_path)) == ["ds"] and os.listdir(target) == ["a"]
    with atomic_folder(target) as tmp:
        (tmp / "c").write_text("3")
    assert sorted(os.listdir(tmp_path)) == ["ds"] and os.listdir(target) == ["c"]
    stale = tmp_path / ".ds.999999999.0123456789ab.tmp"  # a killed run's (no such process)
    stale.mkdir()
    with atomic_folder(target) as tmp:
        (tmp / "d").write_text("4")
    assert sorted(os.listdir(tmp_path)) == ["ds"]


def test_a_failed_swap_is_an_output_error_naming_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    target = tmp_path / "ds"

    def full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OutputWriteError, match="ds") as info, atomic_folder(target) as tmp:
        (tmp / "a").write_text("1")
    assert "nothing was written" in str(info.value) and not target.exists() and os.listdir(tmp_path) == []


def test_the_python_export_never_writes_over_its_prefs_file(tmp_path: Path) -> None:
    from agent_ft_cli.export import ExportOptions, export

    session = Path(__file__).resolve().parents[2] / "sample_sessions" / "capital.jsonl"
    prefs = tmp_path / "prefs.json"
    prefs.write_text((session.parent / "capital.prefs.json").read_text())
    before = prefs.read_bytes()
    with pytest.raises(UsageError, match="also an input"):
        export([session], prefs, ExportOptions(format="trl-sft"), prefs.read_text(), inputs=[prefs])
    assert prefs.read_bytes() == before
