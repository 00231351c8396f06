"""Export at scale (issue #24): agent-ft export against a bare orjson read-filter-write loop, with peak memory.

Inputs (generated once under ``--data``, not in the repo):

* ``files``: 10,000 copies of the bundled trivia sample session (three chats, 2.7 KB each) in one folder;
* ``big``: one session of 100,000 conversations (~190 MB), laid out as a recorder writes a long-running service:
  per chat a ``clear`` of each view, then every message in both agents' views, record by record;
* ``big-20k``: the same at 20,000 conversations, for the memory check (peak memory must not grow with the count).

Floors, in the same run: a bare Python loop that ``orjson.loads`` every line of every input and writes one
``{"messages": [...]}`` row per conversation of the assistant's thread (what export does, minus the checks, the
message mapping and the system message). Each case is a fresh process; the table shows medians of ``--repeat``
runs, interleaved, and the child's own peak RSS (``wait4``).

    python -m benchmarks.export_bench                      # every case, 3 runs each
    python -m benchmarks.export_bench --conversations 100000 --files 10000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
from pathlib import Path

from .run import DEFAULT_DATA, REPO, Case, agent_ft, machine, run_cases, table

FLOOR = """
import sys, os, orjson
loads, dumps = orjson.loads, orjson.dumps
src, out = sys.argv[1], sys.argv[2]
files = sorted(os.path.join(src, f) for f in os.listdir(src) if f.endswith(".jsonl")) if os.path.isdir(src) else [src]
with open(out, "wb") as w:
    for path in files:
        current = []
        with open(path, "rb") as fh:
            fh.readline()
            for line in fh:
                rec = loads(line)
                if rec["agent"] != "assistant":
                    continue
                if rec["type"] == "clear":
                    if current:
                        w.write(dumps({"messages": current}) + b"\\n")
                    current = []
                elif rec["peer"] == "user":
                    current.append(rec["message"])
        if current:
            w.write(dumps({"messages": current}) + b"\\n")
"""

_WORDS = "the a of capital river mountain who wrote painted which year largest city country first ocean".split()


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize() + "."


def big_session(path: Path, conversations: int, seed: int = 0) -> Path:
    """A recorder-laid-out session of ``conversations`` chats (question, answer, follow-up, answer; both views)."""
    if path.exists():
        return path
    from agent_ft_cli.session import clear_record, dumps_record, make_header, message_record

    rng = random.Random(seed)
    header = make_header([
        {"name": "assistant", "class": "autogen.AssistantAgent", "system_message": "You are a concise assistant.",
         "llm_config": {"config_list": [{"model": "agent-ft-local", "model_client_cls": "LocalLearningClient"}]}},
        {"name": "user", "class": "autogen.UserProxyAgent", "system_message": ""},
    ])
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as fh:
        fh.write(dumps_record(header))
        for _ in range(conversations):
            fh.write(dumps_record(clear_record("assistant", "user")) + dumps_record(clear_record("user", "assistant")))
            for turn in range(4):
                role_a = "user" if turn % 2 == 0 else "assistant"
                content = _text(rng, 30 if turn % 2 else 12)
                name = "user" if turn % 2 == 0 else "assistant"
                fh.write(dumps_record(message_record("assistant", "user", {"content": content, "role": role_a, "name": name})))
                role_u = "assistant" if role_a == "user" else "user"
                fh.write(dumps_record(message_record("user", "assistant", {"content": content, "role": role_u, "name": name})))
    os.replace(tmp, path)
    return path


def many_files(folder: Path, files: int) -> Path:
    """``files`` copies of the bundled trivia session."""
    if folder.is_dir() and len(os.listdir(folder)) == files:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    data = (REPO / "sample_sessions" / "trivia.jsonl").read_bytes()
    for i in range(files):
        (folder / f"s{i:06d}.jsonl").write_bytes(data)
    return folder


def cases(files: Path, big: Path, small: Path, out: Path) -> list[list[Case]]:
    py, cli = sys.executable, agent_ft()

    def export(name: str, src: Path, dest: str, *extra: str, floor: str | None = None, target: float | None = 2.0) -> Case:
        return Case(name, [*cli, "export", "-s", str(src), "-f", "trl-sft", "-o", dest, "-q", *extra], floor, target)

    f_files, f_big = "floor: orjson loop, files -> JSONL", "floor: orjson loop, big -> JSONL"
    return [
        [
            Case(f_files, [py, "-c", FLOOR, str(files), str(out / "floor-files.jsonl")], None),
            export("export files -> JSONL", files, str(out / "files.jsonl"), floor=f_files),
            export("export files -> JSONL --jobs 1", files, str(out / "files1.jsonl"), "--jobs", "1", floor=f_files, target=None),
            export("export files -> JSONL --jobs 2", files, str(out / "files2.jsonl"), "--jobs", "2", floor=f_files, target=None),
        ],
        [
            Case(f_big, [py, "-c", FLOOR, str(big), str(out / "floor-big.jsonl")], None),
            export("export big -> JSONL", big, str(out / "big.jsonl"), floor=f_big),
            export("export big -> dataset folder", big, f"{out / 'big-ds'}/", floor=f_big, target=None),
            export("export 20k -> JSONL (memory)", small, str(out / "small.jsonl"), floor=None, target=None),
            export("export 20k -> dataset folder (memory)", small, f"{out / 'small-ds'}/", floor=None, target=None),
        ],
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.export_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--repeat", "-r", type=int, default=3)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    files = many_files(args.data / f"trivia-{args.files}", args.files)
    big = big_session(args.data / f"service-{args.conversations}.jsonl", args.conversations)
    small = big_session(args.data / f"service-{args.conversations // 5}.jsonl", args.conversations // 5)
    out = args.data / "export-out"
    out.mkdir(exist_ok=True)
    print(f"machine: {machine()}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    groups = cases(files, big, small, out)
    labels = [f"{args.files:,} trivia session files", f"one session, {args.conversations:,} conversations "
              f"({big.stat().st_size / 1e6:.0f} MB; memory cases: {args.conversations // 5:,})"]
    for label, group in zip(labels, groups, strict=True):
        run_cases(group, args.repeat)
        print(table(f"{label}, median of {args.repeat}", group) + "\n", flush=True)
    one = (out / "files1.jsonl").read_bytes()
    same = (out / "files.jsonl").read_bytes() == one == (out / "files2.jsonl").read_bytes()
    print(f"--jobs 2 and default --jobs output byte-identical to --jobs 1: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
