"""The session readers against the bare orjson loop, in one process (no start-up, no typer): what each command's
read path costs on each shape, without the noise of starting a process.

Cases run interleaved round by round (floor, readers, floor, ...) and are timed in CPU time of this process
(``time.process_time``), so other work on a shared machine inflates them much less than wall time; the table shows
the best and the median of the rounds, as ratios to the floor of the same round set.

    python -m benchmarks.inproc /tmp/agent-ft-bench/session-group-chat-75000.jsonl --repeat 7
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson


def cases(path: Path) -> dict[str, Callable[[], object]]:
    from agent_ft_cli import session as fmt
    from agent_ft_cli.cli.render import write_thread_json
    from agent_ft_cli.pairing import resolve_pair

    header, _ = fmt.read_header(path)
    pair = resolve_pair(header, None, None, path=path)

    def floor() -> None:
        loads = orjson.loads
        with open(path, "rb") as fh:
            for line in fh:
                loads(line)

    def inspect_json() -> None:
        with open(os.devnull, "wb") as out:
            write_thread_json(*pair, fmt.iter_thread(path, *pair, as_bytes=True), out)

    return {
        "floor: orjson.loads every line": floor,
        "iter_thread (inspect --json)": inspect_json,
        "tail_thread 5 (inspect --last 5)": lambda: fmt.tail_thread(path, *pair, 5),
        "load_session(agents=[]) (validate)": lambda: fmt.load_session(path, agents=[]),
        "load_session(pairs) (update, export)": lambda: fmt.load_session(path, pairs=[pair, pair[::-1]]),
        "thread_counts (inspect's header)": lambda: fmt.thread_counts(path),
        "thread_keys (choosing a pair)": lambda: fmt.thread_keys(path),
    }


TARGETS = {"iter_thread (inspect --json)": 1.5, "tail_thread 5 (inspect --last 5)": 0.3, "load_session(agents=[]) (validate)": 1.5}


def measure(path: Path, repeat: int) -> dict[str, list[float]]:
    todo = cases(path)
    times: dict[str, list[float]] = {k: [] for k in todo}
    for fn in todo.values():  # warm-up: page cache, first-call costs
        fn()
    for _ in range(repeat):
        for name, fn in todo.items():
            gc.collect()
            t0 = time.process_time()
            fn()
            times[name].append(time.process_time() - t0)
    return times


def table(path: Path, times: dict[str, list[float]]) -> str:
    floor = times["floor: orjson.loads every line"]
    best_floor, med_floor = min(floor), statistics.median(floor)
    rows = [
        f"### {path.name} ({path.stat().st_size / 1e6:.0f} MB), CPU time, {len(floor)} rounds",
        "",
        "| case | best (s) | median (s) | best / best floor | median / median floor | target |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, ts in times.items():
        best, med = min(ts), statistics.median(ts)
        target = TARGETS.get(name)
        rows.append(
            f"| {name} | {best:.3f} | {med:.3f} | {best / best_floor:.2f}x | {med / med_floor:.2f}x | "
            f"{'' if target is None else f'{target}x'} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.inproc", description=__doc__.split("\n\n")[0])
    ap.add_argument("sessions", nargs="+", type=Path)
    ap.add_argument("--repeat", "-r", type=int, default=7)
    args = ap.parse_args(argv)
    for path in args.sessions:
        print(table(path, measure(path, args.repeat)) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
