"""`update --strict` refuses pairs update_model would skip before the client runs; `export` never writes over its
--prefs file (#17 item 3, #15 item 4)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from agent_ft_cli.cli import app

runner = CliRunner()
SAMPLES = Path(__file__).resolve().parents[2] / "sample_sessions"
CONFIG = Path(__file__).resolve().parents[2] / "configs" / "local.yaml"


def test_update_strict_refuses_a_pair_that_would_be_skipped_and_teaches_nothing(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state.json"
    monkeypatch.setenv("AGENT_FT_STATE", str(state))
    monkeypatch.setenv("AGENT_FT_LOCAL_STATE", str(state))
    prefs = tmp_path / "prefs.json"
    good = json.loads((SAMPLES / "capital.prefs.json").read_text())
    prefs.write_text(json.dumps([*good, ["An answer.", "A reply nobody gave."]]))
    args = ["update", "-s", str(SAMPLES / "capital.jsonl"), "--prefs", str(prefs), "--config", str(CONFIG), "--json"]
    strict = runner.invoke(app, [*args, "--strict"])
    assert strict.exit_code == 3, strict.output
    assert "does not appear" in strict.stderr and "--strict" in strict.stderr
    assert not state.exists()  # the client never ran
    lenient = runner.invoke(app, args)
    assert lenient.exit_code == 0, lenient.output
    assert json.loads(lenient.stdout)["update_stats"]["skipped"] == 1


def test_export_refuses_to_write_over_its_prefs_file(tmp_path: Path) -> None:
    prefs = tmp_path / "p.json"
    shutil.copy(SAMPLES / "capital.prefs.json", prefs)
    before = prefs.read_bytes()
    result = runner.invoke(
        app, ["export", "-s", str(SAMPLES / "capital.jsonl"), "--prefs", str(prefs), "--format", "trl-preference", "-o", str(prefs)]
    )
    assert result.exit_code == 2, result.output
    assert "--prefs" in result.stderr
    assert prefs.read_bytes() == before
