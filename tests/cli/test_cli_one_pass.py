"""Each command reads its inputs once: the session file is opened at most twice (the header, then one pass) where
the pair is known from the header and the config, and the preference data once (counted with an audit hook in a
fresh interpreter, as ``strace -e openat`` would count them)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO

SAMPLE = REPO / "sample_sessions" / "capital.jsonl"
PREFS = REPO / "sample_sessions" / "capital.prefs.json"
CONFIG = REPO / "configs" / "local.yaml"

PROBE = """
import os, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
from agent_ft_cli.cli import run
sys.argv = ["agent-ft", *sys.argv[1:]]
try:
    run()
except SystemExit as e:
    code = e.code
sample, prefs = os.environ["PROBE_SAMPLE"], os.environ["PROBE_PREFS"]
sys.stderr.write(f"\\nOPENED {opened.count(sample)} {opened.count(prefs)} EXIT {code}\\n")
"""


def _opens(*args: str, tmp: str) -> tuple[int, int]:
    env = {**os.environ, "AGENT_FT_STATE": f"{tmp}/state.json", "PYTHONPATH": os.pathsep.join(sys.path)}
    env.update(PROBE_SAMPLE=str(SAMPLE), PROBE_PREFS=str(PREFS))
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120, env=env)
    last = proc.stderr.strip().splitlines()[-1].split()
    assert last[0] == "OPENED" and last[4] in ("0", "None"), proc.stderr
    return int(last[1]), int(last[2])


@pytest.mark.parametrize(
    ("args", "most"),
    [
        (["inspect", "-s", str(SAMPLE)], 2),
        (["update", "-s", str(SAMPLE), "--prefs", str(PREFS), "--config", str(CONFIG), "--conversation", "1", "--json"], 2),
        (["validate", "-s", str(SAMPLE), "--prefs", str(PREFS)], 3),
    ],
)
def test_the_session_is_read_once_through(args: list[str], most: int, tmp_path: object) -> None:
    session, prefs = _opens(*args, tmp=str(tmp_path))
    assert 1 <= session <= most, (args, session)
    assert prefs == (1 if "--prefs" in args else 0), (args, prefs)
