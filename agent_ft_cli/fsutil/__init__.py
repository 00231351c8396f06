"""File-system helpers: bounded input, atomic output through links, advisory locks.

Input
    :func:`read_text` / :func:`read_stdin_text` read a whole input (config, preference data) in chunks, so Ctrl-C
    stays effective, and refuse more than :func:`max_input_bytes` (64 MiB unless ``AGENT_FT_MAX_INPUT_BYTES`` says
    otherwise). :func:`check_input_file` refuses devices, FIFOs and sockets where a file is read whole.
    :func:`readline_bounded` / :func:`line_too_long` bound one JSON Lines record the same way.

Output
    :func:`check_output_path` checks an output before any work (folder, permissions, never one of the inputs, also
    through symbolic links); :func:`atomic_writer` writes through a symbolic link to its target, atomically when the
    target is a regular file (Linux: an unnamed ``O_TMPFILE`` linked in at the end, so a ``SIGKILL`` leaves
    nothing; elsewhere a named temporary file that the next write to the same place removes once its writer is
    dead), and directly when the target is a device or FIFO; :func:`atomic_folder` does the same for a folder
    written whole (a dataset of shards). Both refuse, themselves, to replace one of the command's inputs
    (:func:`refuse_inputs`), whoever calls them. A path naming a descriptor of this process
    (``/dev/stdout``, ``/dev/fd/N``: :func:`fd_alias`) is written through that descriptor, whatever it points to
    (a file the shell redirected there is appended to, never replaced). ``-`` means stdout
    (:func:`is_stdout`, :func:`stdout_writer`). A failed write is an :class:`~agent_ft_cli.errors.OutputWriteError`
    naming the path, and leaves the old file (or none).

Locks
    :func:`exclusive_lock` (a context manager) and :func:`lock_fd` take an exclusive ``flock`` with a timeout: a
    second writer waits up to the timeout, then is refused with :class:`~agent_ft_cli.errors.LockTimeoutError`.

The package: :mod:`.inputs`, :mod:`.outputs`, :mod:`.folders`, :mod:`.locks`; every name is importable from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _lazy_getattr, _lazy_table
from .inputs import (  # noqa: F401
    DEFAULT_MAX_INPUT_BYTES,
    MAX_INPUT_ENV,
    check_input_file,
    installed_version,
    iter_lines,
    line_too_long,
    max_input_bytes,
    package_folder,
    parse_byte_size,
    read_bounded,
    read_stdin_text,
    read_text,
    readline_bounded,
    too_big,
)

# The output, folder and lock helpers are imported on first use: the session readers need only .inputs, and
# inspect/validate start faster without secrets/hmac/tempfile.
_LAZY = _lazy_table(
    {
        ".folders": ("atomic_folder",),
        ".locks": (
            "DEFAULT_LOCK_TIMEOUT", "LOCK_TIMEOUT_ENV", "RECORDING_MODES", "append_line", "check_recording_mode",
            "exclusive_lock", "lock_fd", "lock_path_for", "lock_timeout", "open_recording", "recording_exists",
            "write_all",
        ),
        ".outputs": (
            "atomic_write_bytes", "atomic_writer", "check_output_path", "fd_alias", "first_same_file", "is_stdout",
            "os_reason", "real_target", "refuse_inputs", "remove_stale_temps", "same_file", "stdout_writer", "write_output",
        ),
    }
)
__getattr__ = _lazy_getattr(__name__, _LAZY, globals())

if TYPE_CHECKING:  # pragma: no cover
    from .folders import atomic_folder  # noqa: F401
    from .locks import (  # noqa: F401
        DEFAULT_LOCK_TIMEOUT,
        LOCK_TIMEOUT_ENV,
        RECORDING_MODES,
        append_line,
        check_recording_mode,
        exclusive_lock,
        lock_fd,
        lock_path_for,
        lock_timeout,
        open_recording,
        recording_exists,
        write_all,
    )
    from .outputs import (  # noqa: F401
        atomic_write_bytes,
        atomic_writer,
        check_output_path,
        fd_alias,
        first_same_file,
        is_stdout,
        os_reason,
        real_target,
        refuse_inputs,
        remove_stale_temps,
        same_file,
        stdout_writer,
        write_output,
    )

