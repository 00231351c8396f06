"""Bounded, interruptible input: devices and FIFOs are refused by name, what is read whole is bounded."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent_ft_cli.errors import ConfigError, PrefsError, SessionError, UsageError
from agent_ft_cli.fsutil import (
    DEFAULT_MAX_INPUT_BYTES,
    MAX_INPUT_ENV,
    check_input_file,
    line_too_long,
    max_input_bytes,
    parse_byte_size,
    read_bounded,
    read_stdin_text,
    read_text,
    readline_bounded,
)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_character_devices_are_refused_by_name(device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    with pytest.raises(PrefsError, match=rf"preference file '{device}' is a character device, not a file"):
        read_text(Path(device), noun="preference file", error=PrefsError)


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(ConfigError, match="is a FIFO"):
        read_text(fifo, noun="config file", error=ConfigError, kind="a YAML file")
    assert time.monotonic() - started < 2  # refused by its type, never opened (opening a FIFO blocks)
    assert check_input_file(fifo, noun="session", error=SessionError, allow_fifo=True)


def test_missing_and_folder_keep_their_messages(tmp_path: Path) -> None:
    with pytest.raises(PrefsError, match="does not exist"):
        read_text(tmp_path / "nope.json", noun="preference file", error=PrefsError)
    with pytest.raises(PrefsError, match="is a folder, not a file"):
        read_text(tmp_path, noun="preference file", error=PrefsError)


def test_a_file_over_the_limit_is_refused_naming_the_limit_and_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b"[" + b"1," * 600 + b"1]")
    monkeypatch.setenv(MAX_INPUT_ENV, "1K")
    assert max_input_bytes() == 1024
    with pytest.raises(PrefsError) as info:
        read_text(big, noun="preference file", error=PrefsError)
    assert str(big) in str(info.value) and "1 KiB limit" in str(info.value) and MAX_INPUT_ENV in str(info.value)
    monkeypatch.setenv(MAX_INPUT_ENV, "4096")
    assert read_text(big, noun="preference file", error=PrefsError).startswith("[1,")


def test_default_limit_and_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MAX_INPUT_ENV, raising=False)
    assert max_input_bytes() == DEFAULT_MAX_INPUT_BYTES == 64 * 1024 * 1024
    monkeypatch.setenv(MAX_INPUT_ENV, "256M")
    assert max_input_bytes() == 256 * 1024 * 1024
    for bad in ("lots", "-5", "0", "1.5G"):
        monkeypatch.setenv(MAX_INPUT_ENV, bad)
        with pytest.raises(UsageError, match=MAX_INPUT_ENV):
            max_input_bytes()


def test_byte_sizes_are_read_the_gnu_coreutils_way(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [parse_byte_size(t) for t in ("100", "100B", "1K", "1KiB", "1KB", "2M", "2MB", "1G", "1.5GB")] == [
        100, 100, 1024, 1024, 1000, 2 << 20, 2_000_000, 1 << 30, 1_500_000_000,
    ]
    for bad in ("lots", "-5", "KB", "1T", "1.5.5K"):
        with pytest.raises(ValueError):
            parse_byte_size(bad)
    with pytest.raises(ValueError):
        parse_byte_size("1.5G", fractions=False)
    monkeypatch.setenv(MAX_INPUT_ENV, "2KB")  # the env var and --shard-size read units alike
    assert max_input_bytes() == 2000


def test_read_bounded_stops_reading_at_the_limit() -> None:
    class Endless(io.RawIOBase):
        reads = 0

        def readable(self) -> bool:
            return True

        def readinto(self, b: bytearray) -> int:  # type: ignore[override]
            Endless.reads += 1
            b[:] = b"\0" * len(b)
            return len(b)

    with pytest.raises(PrefsError, match="<stdin>: input larger than the 3 MiB limit"):
        read_bounded(Endless(), "<stdin>", error=PrefsError, limit=3 * 1024 * 1024)
    assert Endless.reads <= 5  # read in chunks and stopped, never grown without end


def test_stdin_from_dev_zero_is_refused_within_seconds_and_bounded_memory() -> None:
    code = (
        "import sys\n"
        "from agent_ft_cli.fsutil import read_stdin_text\n"
        "from agent_ft_cli.errors import PrefsError\n"
        "try:\n"
        "    read_stdin_text(error=PrefsError)\n"
        "except PrefsError as e:\n"
        "    print(e)\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child of a big pytest process would report
        # its parent's size; the high-water mark of this process's own memory starts afresh at exec.
        "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')))\n"
    )
    started = time.monotonic()
    with open("/dev/zero", "rb") as zero:
        out = subprocess.run([sys.executable, "-c", code], stdin=zero, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 30
    message, maxrss_kb = out.stdout.strip().splitlines()
    assert message.startswith("<stdin>: input larger than the 64 MiB limit")
    assert int(maxrss_kb) < 400 * 1024  # a bounded amount of memory, not 24 GB


def test_stdin_text_stream_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("x" * 100))
    with pytest.raises(PrefsError, match="limit"):
        read_stdin_text(error=PrefsError, limit=10)
    monkeypatch.setattr(sys, "stdin", io.StringIO("[1]"))
    assert read_stdin_text(error=PrefsError) == "[1]"


def test_a_blocked_read_stays_interruptible(tmp_path: Path) -> None:
    """Ctrl-C during a read of stdin that never ends (a pipe nobody writes to) interrupts it at once."""
    code = (
        "import sys\n"
        "from agent_ft_cli.fsutil import read_stdin_text\n"
        "from agent_ft_cli.errors import PrefsError\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    read_stdin_text(error=PrefsError)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    r, w = os.pipe()
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=r, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        os.write(w, b"[1, 2")  # some data, then nothing: the reader waits
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        assert proc.stdout.readline().strip() == "interrupted"
        assert proc.wait(timeout=10) == 0
    finally:
        os.close(w)
        os.close(r)
        if proc.poll() is None:
            proc.kill()


def test_readline_bounded_and_the_line_error() -> None:
    fh = io.BytesIO(b"short\n" + b"y" * 5000 + b"\nafter\n")
    assert readline_bounded(fh, 100) == (b"short\n", True)
    line, complete = readline_bounded(fh, 100)
    assert not complete and len(line) == 100
    assert readline_bounded(fh, 100) == (b"after\n", True)  # the over-long line was skipped whole
    assert readline_bounded(fh, 100) == (b"", True)
    err = line_too_long("chat.jsonl", 7, 2048)
    assert isinstance(err, SessionError)
    assert str(err) == (
        f"chat.jsonl:7: line larger than the 2 KiB limit; set {MAX_INPUT_ENV} to a larger byte count to read it"
    )
