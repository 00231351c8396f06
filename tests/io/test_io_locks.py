"""Exclusive advisory locks, tried with real processes: a second writer waits, then is refused clearly; under the
lock a read-modify-write loses nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agent_ft_cli.errors import LockTimeoutError, UsageError
from agent_ft_cli.fsutil import LOCK_TIMEOUT_ENV, exclusive_lock, lock_fd, lock_path_for, lock_timeout

_HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from agent_ft_cli.fsutil import exclusive_lock
    with exclusive_lock(Path(sys.argv[1]), timeout=0):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def _hold(path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


@pytest.mark.parametrize("kind", ["file", "folder", "missing-file"])
def test_a_second_process_is_refused_clearly_after_the_timeout(tmp_path: Path, kind: str) -> None:
    path = tmp_path / ("state" if kind == "folder" else "state.json")
    if kind == "folder":
        path.mkdir()
    elif kind == "file":
        path.write_text("{}")
    holder = _hold(path, 5)
    try:
        started = time.monotonic()
        with pytest.raises(LockTimeoutError) as info, exclusive_lock(path, timeout=0.3, what="model state"):
            pytest.fail("the lock was taken twice")
        waited = time.monotonic() - started
        assert 0.25 <= waited < 3
        assert str(info.value) == (
            f"model state {str(path)!r} is in use by another agent-ft process (refused after waiting 0.3 s); "
            f"wait for it to finish, or set {LOCK_TIMEOUT_ENV} to wait longer"
        )
        assert isinstance(info.value, UsageError) and info.value.exit_code == 2
    finally:
        holder.kill()
        holder.wait()


def test_a_second_process_waits_and_then_gets_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.mkdir()
    holder = _hold(path, 0.5)
    started = time.monotonic()
    with exclusive_lock(path, timeout=10):
        assert time.monotonic() - started >= 0.3
        assert holder.poll() is not None or holder.wait(timeout=5) == 0


def test_a_killed_holder_releases_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    holder = _hold(path, 60)
    holder.kill()
    holder.wait()
    with exclusive_lock(path, timeout=2):
        pass


_COUNTER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from agent_ft_cli.fsutil import atomic_write_bytes, exclusive_lock
    state = Path(sys.argv[1])
    for _ in range(int(sys.argv[2])):
        with exclusive_lock(state, timeout=30):
            data = json.loads(state.read_text()) if state.exists() else {"n": 0}
            data["n"] += 1
            atomic_write_bytes(state, json.dumps(data).encode())
    """
)


def test_concurrent_read_modify_write_of_an_atomically_replaced_file_loses_nothing(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    state = tmp_path / "m" / "local-model.json"
    procs = [subprocess.Popen([sys.executable, "-c", _COUNTER, str(state), "25"]) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert json.loads(state.read_text()) == {"n": 75}
    assert sorted(p.name for p in state.parent.iterdir()) == [".local-model.json.lock", "local-model.json"]


def test_lock_fd_refuses_at_once_with_timeout_zero(tmp_path: Path) -> None:
    """The recorder's use: it holds its session file's descriptor and refuses a second recorder at once."""
    session = tmp_path / "chat.jsonl"
    with open(session, "ab") as first, open(session, "ab") as second:
        lock_fd(first.fileno(), where=str(session), timeout=0, what="session file")
        with pytest.raises(LockTimeoutError, match=r"session file '.*chat.jsonl' is in use .* \(refused at once\)"):
            lock_fd(second.fileno(), where=str(session), timeout=0, what="session file")


def test_lock_path_and_timeout_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "real.json")
    assert lock_path_for(link) == tmp_path / ".real.json.lock"  # the link and its target share one lock
    monkeypatch.delenv(LOCK_TIMEOUT_ENV, raising=False)
    assert lock_timeout() == 10.0
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "2.5")
    assert lock_timeout() == 2.5
    monkeypatch.setenv(LOCK_TIMEOUT_ENV, "soon")
    with pytest.raises(UsageError, match=LOCK_TIMEOUT_ENV):
        lock_timeout()
