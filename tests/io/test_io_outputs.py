"""Outputs: written through symbolic links, never over an input, clean errors on a full disk, no debris after
SIGTERM or SIGKILL, ``-`` for stdout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agent_ft_cli.errors import EXIT_TERMINATED, OutputWriteError, UsageError
from agent_ft_cli.fsutil import (
    atomic_write_bytes,
    atomic_writer,
    check_output_path,
    is_stdout,
    remove_stale_temps,
    write_output,
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder of its own (tmp_path also holds the isolated HOME and working folder)."""
    made = tmp_path / "outputs"
    made.mkdir()
    return made


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_symlinked_output_is_written_through_to_its_target(folder: Path) -> None:
    target = folder / "real" / "out.json"
    target.parent.mkdir()
    target.write_text("old")
    link = folder / "link.json"
    link.symlink_to(target)
    check_output_path(link)
    write_output(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"
    assert _listing(target.parent) == ["out.json"] and _listing(folder) == ["link.json", "real"]


def test_a_dangling_symlink_creates_its_target(folder: Path) -> None:
    link = folder / "link.json"
    link.symlink_to(folder / "made.json")
    check_output_path(link)
    atomic_write_bytes(link, b"x")
    assert link.is_symlink() and (folder / "made.json").read_bytes() == b"x"


def test_a_character_device_target_is_written_directly_never_replaced(folder: Path) -> None:
    link = folder / "sink"
    link.symlink_to("/dev/null")
    check_output_path(link)
    write_output(link, b"data")
    assert link.is_symlink() and Path("/dev/null").is_char_device()
    check_output_path(Path("/dev/null"))
    write_output(Path("/dev/null"), b"data")
    assert Path("/dev/null").is_char_device()


def test_a_fifo_target_is_written_directly(folder: Path) -> None:
    fifo = folder / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    write_output(fifo, b"through the pipe\n")
    out, _ = reader.communicate(timeout=10)
    assert out == b"through the pipe\n"
    assert fifo.is_fifo()


def test_dash_means_stdout(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    assert is_stdout("-") and is_stdout(Path("-")) and not is_stdout("out.json") and not is_stdout(None)
    assert check_output_path(Path("-")) == Path("-")
    write_output(Path("-"), b'{"ok": true}\n')
    assert capfdbinary.readouterr().out == b'{"ok": true}\n'
    assert not Path("-").exists()


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "dotted", "link-to-missing"])
def test_an_output_that_is_an_input_is_refused_before_any_work(folder: Path, how: str) -> None:
    prefs = folder / "p.json"
    prefs.write_text("[]")
    out: Path
    if how == "same":
        out = prefs
    elif how == "symlink":
        out = folder / "alias.json"
        out.symlink_to(prefs)
    elif how == "hardlink":
        out = folder / "hard.json"
        os.link(prefs, out)
    elif how == "dotted":
        (folder / "sub").mkdir()
        out = folder / "sub" / ".." / "p.json"
    else:  # the output does not exist yet but the input is a link that resolves to where it would be written
        state = folder / "state.json"
        link_in = folder / "in.json"
        link_in.symlink_to(state)
        with pytest.raises(UsageError, match="is also an input"):
            check_output_path(state, inputs=[link_in])
        return
    with pytest.raises(UsageError, match="is also an input of this command"):
        check_output_path(out, inputs=[None, "-", folder / "other.json", prefs])
    assert prefs.read_text() == "[]"


def test_other_special_outputs_are_refused(folder: Path) -> None:
    with pytest.raises(UsageError, match="is a folder"):
        check_output_path(folder)
    link = folder / "dirlink"
    link.symlink_to(folder)
    with pytest.raises(UsageError, match="is a folder"):
        check_output_path(link)


def test_a_full_device_is_a_clean_error_naming_the_path() -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with pytest.raises(OutputWriteError) as info:
        write_output(Path("/dev/full"), b"x" * 100_000)
    assert str(info.value) == "--output '/dev/full': cannot write it (No space left on device, ENOSPC); nothing was written"
    assert info.value.exit_code == 2


_CHILD = textwrap.dedent(
    """
    import os, sys, time, signal, resource
    from pathlib import Path
    import agent_ft_cli.fsutil.outputs as fsutil
    from agent_ft_cli.errors import raise_on_sigterm, Terminated, OutputWriteError
    mode, target = sys.argv[1], Path(sys.argv[2])
    if "named" in mode:
        fsutil._open_unnamed = lambda parent: None   # the fallback: a named temporary file
    if "fsize" in mode:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            fsutil.write_output(target, b"y" * 100_000)
        except OutputWriteError as e:
            print(e, flush=True)
        sys.exit(0)
    raise_on_sigterm()
    try:
        with fsutil.atomic_writer(target) as fh:
            fh.write(b"partial " * 1000)
            fh.flush()
            print("ready", flush=True)
            if "finish" in mode:
                sys.stdin.readline()
            else:
                time.sleep(60)
            fh.write(b"done")
    except Terminated as e:
        sys.exit(e.exit_code)
    """
)


def _child(mode: str, target: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, mode, str(target)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_file_size_limit_is_a_clean_error_with_nothing_partial(folder: Path) -> None:
    target = folder / "out.json"
    target.write_text("old")
    for mode in ("fsize", "fsize-named"):
        out = subprocess.run([sys.executable, "-c", _CHILD, mode, str(target)], capture_output=True, text=True, timeout=30)
        assert f"--output '{target}': cannot write it (File too large, EFBIG); nothing was written" in out.stdout, out
        assert target.read_text() == "old"
        assert _listing(folder) == ["out.json"]


@pytest.mark.parametrize("mode", ["tmpfile", "named"])
def test_sigterm_exits_143_and_cleans_up(folder: Path, mode: str) -> None:
    target = folder / "out.jsonl"
    target.write_text("old")
    proc = _child(mode, target)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == EXIT_TERMINATED == 143
    assert target.read_text() == "old"
    assert _listing(folder) == ["out.jsonl"]


def test_sigkill_leaves_nothing_with_o_tmpfile(folder: Path) -> None:
    target = folder / "out.jsonl"
    proc = _child("tmpfile", target)
    proc.kill()
    proc.wait(timeout=10)
    assert _listing(folder) == []


def test_sigkill_debris_of_the_named_fallback_is_removed_by_the_next_write(folder: Path) -> None:
    target = folder / "out.jsonl"
    proc = _child("named", target)
    proc.kill()
    proc.wait(timeout=10)
    debris = _listing(folder)
    assert len(debris) == 1 and debris[0].startswith(".out.jsonl.") and debris[0].endswith(".tmp")
    unrelated = folder / ".out.jsonl.notours.tmp"
    unrelated.write_text("keep")
    atomic_write_bytes(target, b"new")
    assert _listing(folder) == [".out.jsonl.notours.tmp", "out.jsonl"]
    assert target.read_bytes() == b"new"


def test_a_live_concurrent_writers_temp_is_never_removed(folder: Path) -> None:
    target = folder / "out.jsonl"
    proc = _child("named-finish", target)
    try:
        live = [n for n in _listing(folder) if n.endswith(".tmp")]
        assert len(live) == 1
        assert remove_stale_temps(target) == []
        atomic_write_bytes(target, b"mine")  # another writer to the same place meanwhile
        assert (folder / live[0]).exists()
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert target.read_bytes().endswith(b"done")  # the live writer finished its own write
    assert _listing(folder) == ["out.jsonl"]


def test_a_dead_writers_temp_with_a_live_pid_of_another_process_is_kept(folder: Path) -> None:
    """A temp whose pid belongs to a live process (not a killed writer) is not ours to judge: kept."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        name = folder / f".out.jsonl.{sleeper.pid}.0123456789ab.tmp"
        name.write_text("x")
        assert remove_stale_temps(folder / "out.jsonl") == []
        assert name.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    time.sleep(0.05)
    assert remove_stale_temps(folder / "out.jsonl") == [name]


def test_an_error_of_the_callers_own_work_is_not_called_a_write_failure(folder: Path) -> None:
    target = folder / "out.jsonl"
    with pytest.raises(FileNotFoundError), atomic_writer(target) as fh:
        fh.write(b"row\n")
        open(folder / "missing-input.jsonl", "rb")  # noqa: SIM115 - the caller's input fails
    assert _listing(folder) == []


def test_new_file_mode_follows_umask_and_existing_mode_is_kept(folder: Path) -> None:
    target = folder / "out.json"
    old = os.umask(0o022)
    try:
        atomic_write_bytes(target, b"1")
        assert target.stat().st_mode & 0o777 == 0o644
        target.chmod(0o600)
        atomic_write_bytes(target, b"2")
        assert target.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_a_failing_fsync_is_a_write_error_and_leaves_nothing(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC/EDQUOT often surface only when the data is flushed to disk (network and quota file systems)."""
    import errno

    import agent_ft_cli.fsutil.outputs as fsutil

    target = folder / "out.json"
    target.write_text("old")

    def fsync(fd: int) -> None:
        raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))

    monkeypatch.setattr(fsutil.os, "fsync", fsync)
    with pytest.raises(OutputWriteError) as info:
        atomic_write_bytes(target, b"new")
    assert str(info.value) == f"cannot write output file '{target}' (Disk quota exceeded, EDQUOT); nothing was written"
    assert isinstance(info.value, OSError)
    assert target.read_text() == "old" and _listing(folder) == ["out.json"]
