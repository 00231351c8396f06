"""The hf extra stays out of the light paths: `import agent_ft_cli.hf` and the data commands import no torch,
transformers, trl, peft or accelerate (each checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent_ft_cli import session as fmt

HEAVY = ("torch", "transformers", "trl", "peft", "accelerate", "datasets")
PROBE = f"HEAVY_NAMES = {HEAVY!r}\n" + """
import sys
from agent_ft_cli.cli import app
try:
    app(sys.argv[1:], prog_name="agent-ft")
except SystemExit as e:
    code = e.code
else:
    code = 0
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY_NAMES))
sys.stderr.write(f"\\nEXIT={code} HEAVY={','.join(heavy)}\\n")
"""


def _session(path: Path) -> Path:
    header = fmt.make_header(
        [
            {"name": "assistant", "llm_config": {"config_list": [{"model": "m", "model_client_cls": "HFClient"}]},
             "model_clients": ["agent_ft_cli.hf:HFClient"]},
            {"name": "user", "llm_config": False},
        ]
    )
    msgs = [{"content": "hi", "role": "user", "name": "user"}, {"content": "hello", "role": "assistant"}]
    fmt.write_session(path, header, [("assistant", "user", msgs), ("user", "assistant", msgs)])
    return path


@pytest.mark.parametrize(
    "args",
    [["inspect"], ["inspect", "--json"], ["validate"], ["validate", "--prefs", "{prefs}"], ["export", "-f", "trl-preference", "--prefs", "{prefs}", "-o", "{out}"]],
)
def test_data_commands_do_not_import_the_hf_extra(tmp_path: Path, args: list[str]) -> None:
    session = _session(tmp_path / "s.jsonl")
    prefs = tmp_path / "prefs.json"
    prefs.write_text(json.dumps([["better", "hello"]]), encoding="utf-8")
    argv = [a.format(prefs=prefs, out=tmp_path / "out.jsonl") for a in args]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, argv[0], "-s", str(session), *argv[1:]], capture_output=True, text=True, timeout=60
    )
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("EXIT="), proc.stderr
    code, heavy = line.split(" ", 1)
    assert code == "EXIT=0", proc.stderr
    assert heavy == "HEAVY=", heavy


def test_importing_the_hf_package_imports_nothing_heavy() -> None:
    code = (
        "import sys, agent_ft_cli.hf as hf; assert hf.missing_extra() == [], hf.missing_extra(); "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.strip() == "[]"
