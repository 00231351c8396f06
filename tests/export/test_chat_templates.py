"""Tool calls render once through real chat templates (issue #16 item 4): the TRL rows' ``arguments`` are objects,
which templates encode themselves, so the rendered text holds ``{"celsius": 21.5}``, never a string of it.

The templates are the real ones the packages ship: Llama 4's from transformers (always, transformers is in the test
extra), Qwen2.5's, Llama 3.1's and GPT-OSS's from TRL's ``trl/chat_templates`` when TRL is installed (the ``hf``
environment; read as files, TRL itself is not imported)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from exportkit import _rows, _run, save_live, write_prefs


def _trl_template(name: str) -> str:
    spec = importlib.util.find_spec("trl")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("TRL is not installed (its chat templates are read from its package)")
    path = Path(next(iter(spec.submodule_search_locations))) / "chat_templates" / f"{name}.jinja"
    if not path.is_file():
        pytest.skip(f"this TRL ships no {name}.jinja")
    return path.read_text(encoding="utf-8")


def _llama4_template() -> str:
    module = pytest.importorskip("transformers.models.llama4.processing_llama4")
    return str(module.chat_template)


TEMPLATES = {
    "llama4": _llama4_template,
    "qwen2_5": lambda: _trl_template("qwen2_5"),
    "llama3_1": lambda: _trl_template("llama3_1"),
}


def _render(template: str, messages: list[dict[str, Any]], tools: Any) -> str:
    render = pytest.importorskip("transformers.utils.chat_template_utils").render_jinja_template
    out = render(conversations=[messages], tools=tools, chat_template=template, bos_token="<s>", eos_token="</s>")
    text = out[0] if isinstance(out, tuple) else out
    return str(text[0] if isinstance(text, list) else text)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_tool_call_arguments_render_once(tmp_path: Path, name: str) -> None:
    template = TEMPLATES[name]()
    live = save_live(tmp_path)
    prefs = write_prefs(tmp_path)
    for fmt in ("trl-sft", "trl-preference"):
        out = tmp_path / f"{fmt}.jsonl"
        assert _run("-s", str(live), "--prefs", str(prefs), "-f", fmt, "-o", str(out)).exit_code == 0
        [row] = _rows(out)
        messages = row["messages"] if fmt == "trl-sft" else row["prompt"] + row["chosen"]
        text = _render(template, messages, row.get("tools"))
        assert '"celsius": 21.5' in text  # the arguments, encoded once by the template
        assert '\\"celsius\\"' not in text and '"{' not in text  # never a JSON string inside JSON
        assert "convert_temperature" in text and "70.7 °F" in text
