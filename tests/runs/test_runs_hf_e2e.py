"""END TO END with the Hugging Face client (issue 25's check): two updates on a tiny model built on the spot and one
with the bundled local model; `runs --json` lists all three with their stats, `runs show` charts the HF runs' loss,
`runs show --plot` and `eval --plot` write PNGs.

Needs the HF client's per-step ``history`` and ``run_dir`` in its stats (branch ``hf``): until they are there this
test SKIPS after the first update, and only then (the skip message says so). Slow: real training (``hf_slow``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from runkit import CAPITAL, LOCAL, TRIVIA, listed, ok, png_size

pytestmark = pytest.mark.hf_slow


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                        "TRANSFORMERS_VERBOSITY": "error"}.items():
        monkeypatch.setenv(name, value)


def test_two_hf_runs_and_a_local_one_are_listed_charted_and_plotted(isolated: Path, tmp_path: Path, offline: None) -> None:
    pytest.importorskip("trl")
    from hf.helpers import write_config
    from hf.tiny_model import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny", hidden_size=32)
    config = str(write_config(isolated / "hf.yaml", model, isolated / "ckpt",
                              train={"max_steps": 4, "learning_rate": 1e-3, "seed": 0}))
    first = json.loads(ok("update", *CAPITAL, "--config", config, "--json").stdout)["update_stats"]
    if "history" not in first:
        pytest.skip("the Hugging Face client's stats carry no per-step 'history' yet (it lands with branch hf)")
    heldout = isolated / "heldout.json"
    heldout.write_text(json.dumps([{"prompt": "What is the capital of France?", "chosen": "Paris.",
                                    "rejected": "I don't know the answer to that yet."}]))
    ok("update", *CAPITAL, "--config", config, "--eval", "--heldout", str(heldout), "-q")
    ok("update", *TRIVIA, *LOCAL, "-q")

    rows = listed()
    assert [r["client"].rsplit(":", 1)[1] for r in rows] == ["LocalLearningClient", "HFClient", "HFClient"]
    for row in rows:
        assert row["stats"] and row["loss_first"] is not None and row["loss_last"] is not None
    hf_rows = rows[1:]
    assert all(r["method"] == "dpo" and r["steps"] == 4 and r["published"] for r in hf_rows)
    assert all(Path(r["record"]).parent.parent == isolated / "ckpt" / "runs" for r in hf_rows)
    assert [r["id"] for r in listed("--config", config)] == [r["id"] for r in hf_rows]
    record = json.loads(Path(hf_rows[1]["record"]).read_text())
    assert len([h for h in record["history"] if "loss" in h]) == 4

    shown = ok("runs", "show", hf_rows[0]["id"], env={"COLUMNS": "100"}).stdout
    assert "training loss per step" in shown and "┤" in shown and "#0 h" in shown  # its held-out pair too
    chart = shown[shown.index("training loss per step"):].split("\n\n")[0]
    assert chart.count("\n") >= 10  # a real chart, not a one-liner

    ok("runs", "show", hf_rows[0]["id"], "--plot", "run.png", "--no-charts")
    assert png_size(isolated / "run.png")[1] > 900  # loss, margin and per-pair panels
    ok("runs", "diff", hf_rows[1]["id"], hf_rows[0]["id"], "--plot", "diff.png", "--no-charts")
    assert png_size(isolated / "diff.png")[1] > 900
    ok("eval", *CAPITAL, "--config", config, "--heldout", str(heldout), "--plot", "eval.png", "-q")
    assert png_size(isolated / "eval.png")[0] >= 800
    assert os.path.getsize(isolated / "eval.png") > 10_000
