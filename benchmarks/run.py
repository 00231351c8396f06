"""Measure agent-ft against its floors, side by side, and print a table of wall time, peak memory and ratios.

Each command runs as a fresh process (its stdout to /dev/null) and so does each floor; the runs are interleaved
(floor, command, floor, command, ...) so a noisy machine hits both alike, and the table shows medians. Peak memory
is the child's own peak RSS (``wait4``), so no sampling is involved.

Floors (what the targets in docs/benchmarks.md are ratios of):

* ``import``: ``python -c "import typer, rich"``.
* ``parse``: a bare Python loop that ``orjson.loads`` every line of the session.
* ``autogen+parse``: ``import autogen`` and parse every line, keeping the two views of the updated thread.

Every session shape of :mod:`benchmarks.generate` is measured (``--shapes``), each against its own floors measured in
the same run, so a shape whose layout a fast path does not expect shows as a ratio over its target.

    python -m benchmarks.run                                   # every shape at ~30 MB: a few minutes on 2 cores
    python -m benchmarks.run --size 200 --repeat 5             # every shape at ~200 MB
    python -m benchmarks.run --shapes uniform-interleaved --messages 470000
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .generate import SHAPES, ensure, messages_for

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DATA = Path(os.environ.get("AGENT_FT_BENCH_DATA", "/tmp/agent-ft-bench"))
CLIENT = f"{HERE / 'noop_client.py'}:NoopClient"

PARSE_FLOOR = """
import sys, orjson
loads = orjson.loads
with open(sys.argv[1], "rb") as fh:
    for line in fh:
        loads(line)
"""

UPDATE_FLOOR = """
import sys, orjson, autogen
loads = orjson.loads
threads = {}
with open(sys.argv[1], "rb") as fh:
    fh.readline()
    for line in fh:
        rec = loads(line)
        threads.setdefault((rec["agent"], rec["peer"]), []).append(rec["message"])
"""

IMPORT_FLOOR = "import typer, rich"
AUTOGEN_ONLY = "import orjson, autogen"


@dataclass
class Case:
    name: str
    argv: list[str]
    floor: str | None  # the name of another case; None for a floor itself
    target: float | None = None
    note: str = ""
    codes: tuple[int, ...] = (0,)  # exit codes that count as a run (validate without --client: 2, no consent)
    times: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)

    @property
    def time(self) -> float:
        return statistics.median(self.times)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)

    @property
    def peak_mb(self) -> float:
        return statistics.median(self.rss)


PYCACHE = DEFAULT_DATA / "pycache"
CODE = REPO  # the checkout whose agent_ft_cli the commands run (``--code``: another one, to compare)


def measure(argv: list[str], cwd: Path, codes: tuple[int, ...] = (0,)) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds (user + system, the child's own from ``wait4``: what other work
    on a shared machine inflates least) of one run of ``argv``; raises when it fails.

    Bytecode is cached (outside the repo, in ``PYCACHE``) as it is for an installed package: with
    ``PYTHONDONTWRITEBYTECODE`` every run would compile agent-ft's own modules from source (~15 ms)."""
    env = dict(os.environ, NO_COLOR="1", COLUMNS="120", PYTHONPYCACHEPREFIX=str(PYCACHE))
    if CODE != REPO:
        env["PYTHONPATH"] = os.pathsep.join([str(CODE), str(REPO)])
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with open(os.devnull, "wb") as devnull:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=devnull, stderr=subprocess.PIPE, cwd=cwd, env=env)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in codes:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {err.decode(errors='replace')[-2000:]}")
    rss_kb = usage.ru_maxrss  # KB on Linux
    return elapsed, rss_kb / 1024, usage.ru_utime + usage.ru_stime


def agent_ft() -> list[str]:
    """The ``agent-ft`` console script as this checkout declares it (pyproject.toml), written the way pip writes
    one (an installed script may predate a change of entry point)."""
    import tomllib

    spec = tomllib.loads((CODE / "pyproject.toml").read_text())["project"]["scripts"]["agent-ft"]
    module, func = spec.split(":")
    script = PYCACHE.parent / ("agent-ft" if CODE == REPO else "agent-ft-" + CODE.name)
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(
        f"#!{sys.executable}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom {module} import {func}\n"
        f"if __name__ == '__main__':\n    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        f"    sys.exit({func}())\n"
    )
    return [sys.executable, str(script)]


#: the thread each shape's commands show, where the CLI cannot infer it (several peers: it lists the threads)
PAIRS = {"several-peers": ["--agent", "assistant", "--peer", "user2"]}


def cases_for(
    session: Path | None, prefs: Path, export_to: Path | None = None, pair: list[str] | None = None
) -> list[Case]:
    py = sys.executable
    cli = agent_ft()
    out = [
        Case("floor: import typer, rich", [py, "-c", IMPORT_FLOOR], None),
        Case("agent-ft --help", [*cli, "--help"], "floor: import typer, rich", 1.5),
        Case("agent-ft --version", [*cli, "--version"], "floor: import typer, rich", 1.3),
    ]
    if session is None:
        return out
    s = str(session)
    pair = pair or []
    floor = "floor: orjson.loads every line"
    out += [
        Case(floor, [py, "-c", PARSE_FLOOR, s], None),
        Case("inspect --json", [*cli, "inspect", "-s", s, *pair, "--json"], floor, 1.5),
        Case("inspect --last 5 --json", [*cli, "inspect", "-s", s, *pair, "--last", "5", "--json"], floor, 0.3),
        Case("inspect --last 5", [*cli, "inspect", "-s", s, *pair, "--last", "5"], floor, 0.3, "rendered (rich)"),
        # the read path alone: the session's recorded client is not imported without consent (exit 2 then)
        Case("validate", [*cli, "validate", "-s", s, *pair], floor, 1.5, "no client named", (0, 2)),
        Case(
            "export -f trl-sft",
            [*cli, "export", "-s", s, *pair, "-f", "trl-sft", "-o", str(export_to or os.devnull), "-q"],
            "floor: orjson.loads every line",
            None,
            "no target (one thread read whole, then written as a row)",
        ),
        Case("floor: import autogen", [py, "-c", AUTOGEN_ONLY], None),
        Case("floor: import autogen + parse", [py, "-c", UPDATE_FLOOR, s], None),
        # validate checks the client update will use, so it imports autogen (the session names a client: --client
        # is the consent); the read path alone is in the in-process table (load_session(agents=[]))
        Case(
            "validate --client",
            [*cli, "validate", "-s", s, *pair, "--client", CLIENT],
            "floor: import autogen + parse",
            1.5,
        ),
        Case(
            "update (no-op client)",
            [*cli, "update", "-s", s, *pair, "--prefs", str(prefs), "--client", CLIENT],
            "floor: import autogen + parse",
            2.0,
        ),
    ]
    return out


def run_cases(cases: list[Case], repeat: int, warmup: bool = True) -> None:
    if warmup:  # fill the page cache and the bytecode cache (PYCACHE); not counted
        for c in cases:
            measure(c.argv, REPO, c.codes)
    for _ in range(repeat):
        for c in cases:
            t, m, cpu = measure(c.argv, REPO, c.codes)
            c.times.append(t)
            c.rss.append(m)
            c.cpus.append(cpu)


def ratios(cases: list[Case], cpu: bool = False) -> dict[str, float | None]:
    """Each case's median (wall time, or CPU time with ``cpu``) over its floor's."""
    by_name = {c.name: c for c in cases}
    out: dict[str, float | None] = {}
    for c in cases:
        if c.floor:
            out[c.name] = c.cpu / by_name[c.floor].cpu if cpu else c.time / by_name[c.floor].time
        else:
            out[c.name] = None
    return out


def memory_notes(cases: list[Case]) -> dict[str, str]:
    """update: extra memory over ``import autogen`` compared with the thread held as Python objects."""
    by_name = {c.name: c for c in cases}
    notes: dict[str, str] = {}
    if "update (no-op client)" in by_name:
        base = by_name["floor: import autogen"].peak_mb
        thread = by_name["floor: import autogen + parse"].peak_mb - base
        extra = by_name["update (no-op client)"].peak_mb - base
        if thread > 0:
            notes["update (no-op client)"] = f"mem {extra / thread:.2f}x threads as objects ({thread:.0f} MB)"
    return notes


def table(label: str, cases: list[Case]) -> str:
    r = ratios(cases)
    rc = ratios(cases, cpu=True)
    notes = memory_notes(cases)
    rows = [
        f"## {label}",
        "",
        "| case | time (s) | CPU (s) | peak RSS (MB) | ratio | CPU ratio | target | |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in cases:
        ratio, cpu_ratio = r[c.name], rc[c.name]
        status = ""
        if ratio is not None and cpu_ratio is not None and c.target is not None:
            status = "ok" if ratio <= c.target else ("ok (CPU)" if cpu_ratio <= c.target else "OVER")
        extra = "; ".join(x for x in (notes.get(c.name, ""), c.note) if x)
        rows.append(
            f"| {c.name} | {c.time:.3f} | {c.cpu:.3f} | {c.peak_mb:.0f} | "
            f"{'' if ratio is None else f'{ratio:.2f}x'} | {'' if cpu_ratio is None else f'{cpu_ratio:.2f}x'} | "
            f"{'' if c.target is None else f'{c.target}x'} | {status}{' ' + extra if extra else ''} |"
        )
    return "\n".join(rows)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
        mem_gb = f"{int(mem.split()[1]) / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration):
        mem_gb = "? RAM"
    import orjson

    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_gb}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, orjson {orjson.__version__}"
    )


def summary(rows: list[tuple[str, list[Case]]]) -> str:
    """One line per shape: each command's ratio to its floor measured in the same run."""
    names = [c.name for c in rows[0][1] if c.floor] if rows else []
    out = [
        "## ratios to the floor, per shape (wall / CPU, medians)",
        "",
        "| shape | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for label, cases in rows:
        r, rc = ratios(cases), ratios(cases, cpu=True)
        by_name = {c.name: c for c in cases}
        cells = []
        for n in names:
            c = by_name[n]
            over = c.target is not None and min(r[n] or 0, rc[n] or 0) > c.target
            cells.append(f"{r[n]:.2f}x / {rc[n]:.2f}x{' OVER' if over else ''}")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--shapes", default=",".join(SHAPES), help=f"comma-separated, of: {', '.join(SHAPES)}")
    ap.add_argument("--size", default="30", help="comma-separated session sizes in MB, about (each shape)")
    ap.add_argument("--messages", default=None, help="comma-separated message counts (all threads) instead of --size")
    ap.add_argument("--repeat", "-r", type=int, default=5, help="runs per case; the table shows medians")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="where generated sessions are kept (not the repo)")
    ap.add_argument("--writer", choices=("save_session", "stream"), default="stream")
    ap.add_argument("--no-update", action="store_true", help="leave out update and its floors (import autogen: slow)")
    ap.add_argument("--code", type=Path, default=REPO, help="the checkout whose agent-ft runs (default: this one)")
    ap.add_argument("--only", default="", help="comma-separated case names to run (with their floors), e.g. 'validate'")
    args = ap.parse_args(argv)
    shapes = [x.strip() for x in args.shapes.split(",") if x.strip()]
    for shape in shapes:
        if shape not in SHAPES:
            ap.error(f"unknown shape {shape!r}; use: {', '.join(SHAPES)}")
    args.data.mkdir(parents=True, exist_ok=True)
    global PYCACHE, CODE
    PYCACHE = args.data / "pycache"
    CODE = args.code.resolve()
    prefs = args.data / "prefs.json"
    prefs.write_text('[{"prompt": "p", "chosen": "a", "rejected": "b"}]\n')
    print(f"machine: {machine()}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    help_cases = cases_for(None, prefs)
    run_cases(help_cases, args.repeat)
    print(table("startup", help_cases) + "\n", flush=True)
    rows: list[tuple[str, list[Case]]] = []
    for shape in shapes:
        if args.messages:
            counts = [int(x) for x in args.messages.split(",") if x.strip()]
            rounds = messages_for(shape, 0)  # a whole number of rounds (one message in each thread)
            counts = [max(rounds, n - n % rounds) for n in counts]
        else:
            counts = [messages_for(shape, float(x)) for x in args.size.split(",") if x.strip()]
        for n in counts:
            path = ensure(args.data / f"session-{shape}-{n}.jsonl", n, writer=args.writer, shape=shape)
            cases = cases_for(path, prefs, args.data / "export.jsonl", PAIRS.get(shape))[3:]
            if args.no_update:
                cases = [c for c in cases if "autogen" not in c.name and not c.name.startswith(("update", "validate --"))]
            if args.only:
                cases = [c for c in cases if c.floor is None or c.name in args.only.split(",")]
            run_cases(cases, args.repeat)
            mb = path.stat().st_size / 1e6
            label = f"{shape}, {n:,} messages ({mb:.0f} MB)"
            rows.append((label, cases))
            print(table(f"{label}, median of {args.repeat}", cases) + "\n", flush=True)
    print(summary(rows))
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
