"""``validate`` with a Hugging Face config stays light (#22): it imports no torch, transformers or TRL, and still
refuses a misspelt trainer setting, an encoder (BERT) folder and a missing folder, because transformers' model
mapping and TRL's config fields are read from their installed source (agent_ft_cli/hf/sources.py). What that reading
gives is checked here against the imported objects; when the source cannot be read, validate says what it did not
check instead of passing silently."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent_ft_cli.cli import app
from agent_ft_cli.hf import sources

from .helpers import subprocess_env, write_config
from .test_hf_lazy import PROBE
from .test_hf_trust import build_bert, prefs_file, write_session

runner = CliRunner()


@pytest.mark.parametrize("method", sorted(sources.CONFIGS))
def test_the_config_fields_read_from_trl_source_are_the_imported_dataclass_fields(method: str) -> None:
    import trl

    name, _ = sources.CONFIGS[method]
    assert sources.source_config_fields(method) == {f.name for f in dataclasses.fields(getattr(trl, name))}


def test_the_model_mappings_read_from_transformers_source_are_the_imported_ones() -> None:
    from transformers.models.auto import modeling_auto

    causal, masked = sources.source_lm_mappings()
    assert causal == dict(modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES)
    assert masked == set(modeling_auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES)


def _validate(tmp_path: Path, config: Path, session: Path) -> tuple[int, str, str]:
    """``agent-ft validate`` in a fresh interpreter: (exit code, the heavy modules it imported, its report)."""
    prefs = prefs_file(tmp_path / "p.json")
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "validate", "-s", str(session), "--prefs", str(prefs), "--config", str(config)],
        capture_output=True, text=True, timeout=120, env=subprocess_env(),
    )
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("EXIT="), proc.stderr
    code, heavy = line.split(" ", 1)
    return int(code.removeprefix("EXIT=")), heavy.removeprefix("HEAVY="), proc.stdout + proc.stderr


def test_validate_with_an_hf_config_imports_nothing_heavy_and_refuses_what_update_would(tiny_model: Path, tmp_path: Path) -> None:
    session = write_session(tmp_path / "s.jsonl", tiny_model)
    good = write_config(tmp_path / "good.yaml", tiny_model, tmp_path / "ckpt")
    code, heavy, err = _validate(tmp_path, good, session)
    assert (code, heavy) == (0, ""), err
    assert "preflight" in err and "not checked" not in err

    typo = write_config(tmp_path / "typo.yaml", tiny_model, tmp_path / "ckpt", train={"learning_rat": 1e-4})
    code, heavy, err = _validate(tmp_path, typo, session)
    assert (code, heavy) == (2, ""), err
    assert "unknown training setting 'learning_rat'" in err and "did you mean 'learning_rate'" in err

    bert = build_bert(tmp_path / "bert", tiny_model)
    code, heavy, err = _validate(tmp_path, write_config(tmp_path / "bert.yaml", bert, tmp_path / "ckpt"), session)
    assert (code, heavy) == (4, ""), err
    assert "is not a causal language model" in err and "BertModel" in err

    missing = tmp_path / "no-such-model"
    code, heavy, err = _validate(tmp_path, write_config(tmp_path / "missing.yaml", missing, tmp_path / "ckpt"), session)
    assert (code, heavy) == (4, ""), err
    assert f"the folder '{missing}' does not exist" in err


def test_validate_says_what_it_could_not_check_when_the_sources_cannot_be_read(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(*_: object) -> object:
        raise sources.SourceUnreadable("moved")

    for name in ("source_config_fields", "source_lm_mappings"):
        monkeypatch.setattr(sources, name, unreadable)
    monkeypatch.setattr(sources, "config_fields", sources.config_fields.__wrapped__)  # no cached answer
    monkeypatch.setattr(sources, "lm_mappings", sources.lm_mappings.__wrapped__)
    monkeypatch.delitem(sys.modules, sources.MODELING_AUTO, raising=False)  # as in a fresh validate process
    monkeypatch.delitem(sys.modules, sources.CONFIGS["dpo"][1], raising=False)
    session = write_session(tmp_path / "s.jsonl", tiny_model)
    typo = write_config(tmp_path / "typo.yaml", tiny_model, tmp_path / "ckpt", train={"learning_rat": 1e-4})
    result = runner.invoke(app, ["validate", "-s", str(session), "--config", str(typo), "--json"])
    assert result.exit_code == 0, result.output  # not refused: the names could not be checked, and it says so
    report = json.loads(result.stdout)
    warnings = [w for c in report["checks"] if c["name"] == "preflight" for w in c.get("warnings", [])]
    assert any("trainer setting names were not checked" in w and "moved" in w for w in warnings), report
    assert any("architecture was not checked" in w for w in warnings), report


def test_a_misspelt_client_train_setting_names_the_closest_field(tmp_path: Path) -> None:
    from agent_ft_cli.hf.errors import TrainingSettingError
    from agent_ft_cli.hf.train import check_settings

    with pytest.raises(TrainingSettingError, match=r"'bta'.*did you mean 'beta'"):
        check_settings({"train": {"bta": 0.1}}, {}, fields=lambda m: sources.source_config_fields(m))
