"""Every shell example in README.md and docs/*.md runs verbatim (as sqlite-utils and llm test their docs).

Each ```bash/```sh block runs line by line with ``bash -eo pipefail`` in a scratch folder that holds what the
examples name: the repository's ``sample_sessions/`` and ``configs/``, ``chat.jsonl`` and ``prefs.json`` (the
capital sample), ``sessions/`` and ``more/`` (folders of samples), ``mypkg/clients.py`` (the README's client
example) and ``.venv`` (the environment running the tests, also first on ``PATH`` for bare ``agent-ft``). A block
that cannot run offline says so in the doc itself, on the line before it:
``<!-- docs-test: skip (the reason) -->``; it is reported as skipped with that reason, never dropped silently.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(bash|sh|shell|console)\s*$")
_SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((.+?)\)\s*-->")


@dataclass
class Block:
    doc: Path
    line: int
    commands: list[str]
    skip: str | None

    @property
    def id(self) -> str:
        return f"{self.doc.name}:{self.line}"


def _blocks() -> list[Block]:
    out = []
    for doc in DOCS:
        lines = doc.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            if _FENCE.match(lines[i]):
                start = i
                before = next((ln for ln in reversed(lines[:start]) if ln.strip()), "")
                skip = _SKIP.search(before)
                body = []
                i += 1
                while i < len(lines) and not lines[i].startswith("```"):
                    body.append(lines[i])
                    i += 1
                commands = [ln for ln in body if ln.strip() and not ln.lstrip().startswith("#")]
                out.append(Block(doc, start + 1, commands, skip.group(1) if skip else None))
            i += 1
    return out


BLOCKS = _blocks()


def test_the_docs_have_shell_examples_and_most_run() -> None:
    assert len(BLOCKS) >= 8
    assert sum(b.skip is None for b in BLOCKS) >= 3, [b.id for b in BLOCKS]


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_no_example_calls_a_bare_python(block: Block) -> None:
    """`python` may be Python 2, or a Python without agent-ft and autogen: examples say which one."""
    for command in block.commands:
        assert not re.match(r"\s*python\s", command), f"{block.id}: {command!r} calls a bare `python`"


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    work = tmp_path / "docs-run"
    work.mkdir()
    for folder in ("sample_sessions", "configs"):
        shutil.copytree(REPO / folder, work / folder)
    samples = REPO / "sample_sessions"
    shutil.copy(samples / "capital.jsonl", work / "chat.jsonl")
    shutil.copy(samples / "capital.prefs.json", work / "prefs.json")
    (work / "sessions").mkdir()
    (work / "more").mkdir()
    for s in samples.glob("*.jsonl"):
        shutil.copy(s, work / "sessions" / s.name)
    shutil.copy(samples / "trivia.jsonl", work / "more" / "trivia.jsonl")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    client = re.search(r"```python\n(# mypkg/clients.py\n.*?)```", readme, re.S)
    assert client
    (work / "mypkg").mkdir()
    (work / "mypkg" / "__init__.py").write_text("")
    (work / "mypkg" / "clients.py").write_text(client.group(1), encoding="utf-8")
    (work / ".venv").symlink_to(Path(sys.prefix))
    return work


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_every_shell_example_runs(block: Block, scratch: Path) -> None:
    if block.skip is not None:
        pytest.skip(f"marked in {block.id}: {block.skip}")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["AGENT_FT_STATE"] = str(scratch / ".agent-ft" / "local-model.json")
    env["NO_COLOR"] = "1"
    for command in block.commands:
        proc = subprocess.run(["bash", "-eo", "pipefail", "-c", command], cwd=scratch, env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, f"{block.id}: `{command}` exited {proc.returncode}\n{proc.stderr}"


def test_compatibility_installs_the_projects_own_pins() -> None:
    """docs/compatibility.md installs agent-ft's dependencies by hand: exactly the pins of pyproject.toml."""
    tomllib = pytest.importorskip("tomllib")
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {re.split(r"[<>=!~ ]", d, maxsplit=1)[0].lower(): d.replace(" ", "") for d in deps}
    text = (REPO / "docs" / "compatibility.md").read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("pip install '") and "typer" in ln)
    given = {re.split(r"[<>=!~ ]", q, maxsplit=1)[0].lower(): q for q in re.findall(r"'([^']+)'", line)}
    assert given == {k: v for k, v in pins.items() if k != "pyautogen"}
