"""Each command reads its inputs once: the session file is opened at most twice (the header and the pair's peek
share one open; a one-thread reader may open it once more), the preference data and the config once, whatever the
options (counted with an audit hook, as ``strace -e openat`` would count them; every command runs in one fresh
interpreter, its opens counted apart)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

SAMPLE = str(REPO / "sample_sessions" / "capital.jsonl")
PREFS = str(REPO / "sample_sessions" / "capital.prefs.json")
CONFIG = str(REPO / "configs" / "local.yaml")
LOCAL = "agent_ft_cli.local:LocalLearningClient"
S, P, C = ["-s", SAMPLE], ["--prefs", PREFS], ["--config", CONFIG]

CASES = {
    "inspect": ["inspect", *S],
    "inspect --json": ["inspect", *S, "--json"],
    "inspect --last": ["inspect", *S, "--last", "2"],
    "inspect --json --last": ["inspect", *S, "--json", "--last", "2"],
    "inspect --conversation": ["inspect", *S, "--conversation", "1"],
    "inspect --json --conversation": ["inspect", *S, "--json", "--conversation", "1"],
    "validate": ["validate", *S],
    "validate --prefs": ["validate", *S, *P],
    "validate --prefs --config --strict --json": ["validate", *S, *P, *C, "--strict", "--json"],
    "validate --client": ["validate", *S, *P, "--client", LOCAL],
    "update --config --conversation": ["update", *S, *P, *C, "--conversation", "1", "--json"],
    "update --client": ["update", *S, *P, "--client", LOCAL, "--json"],
    "update --strict --eval": ["update", *S, *P, *C, "--strict", "--eval", "--json"],
    "update --no-run-record": ["update", *S, *P, *C, "--no-run-record", "--json"],
    "eval": ["eval", *S, *P, *C, "--json"],
    "eval --strict": ["eval", *S, *P, *C, "--strict", "--json"],
    "export": ["export", *S, "-f", "trl-sft", "-o", "OUT/sft.jsonl"],
    "export --prefs": ["export", *S, *P, "-f", "trl-preference", "-o", "OUT/dpo.jsonl", "--json"],
    "review --list": ["review", *S, "--list"],
    "review --reply --better": ["review", *S, "--prefs", "OUT/review.jsonl", "--reply", "1", "--better", "Canberra."],
}

PROBE = """
import json, os, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
from agent_ft_cli.cli import run
counts = {}
for name, args in json.loads(sys.argv[1]).items():
    opened.clear()
    sys.argv = ["agent-ft", *args]
    code = 0
    try:
        run()
    except SystemExit as e:
        code = e.code
    counts[name] = [code, *(opened.count(os.environ[k]) for k in ("PROBE_SAMPLE", "PROBE_PREFS", "PROBE_CONFIG"))]
sys.stderr.write("\\nOPENED " + json.dumps(counts) + "\\n")
"""


def probe(cases: dict[str, list[str]], tmp: Path, sample: str = SAMPLE) -> dict[str, list[int]]:
    """[exit code, opens of ``sample``, of the prefs, of the config] for each command line of ``cases``."""
    cases = {name: [a.replace("OUT", str(tmp)) for a in args] for name, args in cases.items()}
    env = {**os.environ, "AGENT_FT_STATE": f"{tmp}/state.json", "AGENT_FT_RUNS_DIR": f"{tmp}/runs", "HOME": str(tmp)}
    env.update(PYTHONPATH=os.pathsep.join(sys.path), PROBE_SAMPLE=sample, PROBE_PREFS=PREFS, PROBE_CONFIG=CONFIG)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(cases)], capture_output=True, text=True, timeout=300, env=env, cwd=tmp
    )
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("OPENED "), proc.stderr[-2000:]
    return json.loads(last.removeprefix("OPENED "))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def opens(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[int]]:
    tmp = tmp_path_factory.mktemp("one-pass")
    counts = probe(CASES, tmp)
    assert any(Path(tmp, "runs").glob("*/run.json"))  # the run record (hashing every input) was written
    return counts


@pytest.mark.parametrize("name", list(CASES))
def test_each_input_is_read_once_through(name: str, opens: dict[str, list[int]]) -> None:
    args = CASES[name]
    code, session, prefs, config = opens[name]
    assert code in (0, None), (name, code)
    assert 1 <= session <= 2, (name, session)
    assert prefs == (1 if PREFS in args else 0), (name, prefs)
    assert config == (1 if CONFIG in args else 0), (name, config)


def test_import_reads_its_source_at_most_twice(tmp_path: Path) -> None:
    """Detection (every adapter's sniff shares one read of the file's head and first lines) and the read."""
    source = tmp_path / "chat.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]} for i in range(2)]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    counts = probe({"import": ["import", str(source), "--out", "OUT/sessions"]}, tmp_path, sample=str(source))
    code, opened, _, _ = counts["import"]
    assert code in (0, None)
    assert len(list((tmp_path / "sessions").glob("*.jsonl"))) == 2
    assert 1 <= opened <= 2, opened
