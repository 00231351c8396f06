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
from exportkit import (
    CONVERT,
    WEATHER,
    _rows,
    _run,
    legacy_session,
    load_folder,
    one_tool_session,
    parallel_tools_session,
    plain_session,
    save_live,
    write_prefs,
)


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


def _dataset_rows(folder: Path) -> list[dict[str, Any]]:
    """The rows as a trainer reads them from the saved folder; a column a row did not have reads as None."""
    pytest.importorskip("datasets")
    return [dict(r) for r in load_folder(folder)]


def _without_absent(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v is not None}


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_a_dataset_row_renders_as_its_json_lines_row(tmp_path: Path, name: str) -> None:
    """review of #16, item 7: Arrow's struct inference gave every tool call the other tool's argument names as null
    (and every tool schema the other's properties, every message a ``tool_calls: null``); the dataset folder keeps
    each message and tool as it is, so a trainer renders the same text from it as from the JSON Lines."""
    template = TEMPLATES[name]()
    sessions = [plain_session(tmp_path / "a.jsonl"), one_tool_session(tmp_path / "b.jsonl")]
    if name != "llama3_1":  # its template refuses parallel calls ("only supports single tool-calls at once")
        sessions.append(parallel_tools_session(tmp_path / "c.jsonl"))
    args = [a for s in sessions for a in ("-s", str(s))]
    for fmt in ("trl-sft", "trl-kto", "trl-preference"):
        prefs = tmp_path / "p.json"
        prefs.write_text('[["Hi there.", "Hello."], ["It is 70.7 F and sunny in Paris.", "It is 70.7 F and sunny."]]')
        extra = ["--prefs", str(prefs)] if fmt != "trl-sft" else []
        jsonl, folder = tmp_path / f"{fmt}.jsonl", tmp_path / f"{fmt}-ds"
        assert _run(*args, *extra, "-f", fmt, "-o", str(jsonl)).exit_code == 0
        result = _run(*args, *extra, "-f", fmt, "-o", f"{folder}/")
        assert result.exit_code == 0, result.output
        written, stored = _rows(jsonl), _dataset_rows(folder)
        assert [_without_absent(r) for r in stored] == written  # the very rows, not only the same text
        for a, b in zip(written, stored, strict=True):
            first = a["messages"] if fmt == "trl-sft" else a["prompt"] + (a.get("chosen") or a["completion"])
            second = b["messages"] if fmt == "trl-sft" else b["prompt"] + (b.get("chosen") or b["completion"])
            assert _render(template, second, b.get("tools")) == _render(template, first, a.get("tools"))


def test_parallel_calls_keep_their_own_arguments_and_schemas_in_a_dataset(tmp_path: Path) -> None:
    session = parallel_tools_session(tmp_path / "c.jsonl")
    assert _run("-s", str(session), "-f", "trl-sft", "-o", f"{tmp_path}/ds/").exit_code == 0
    [row] = _dataset_rows(tmp_path / "ds")
    [call] = [m for m in row["messages"] if m.get("tool_calls")]
    assert [c["function"]["arguments"] for c in call["tool_calls"]] == [{"celsius": 21.5}, {"city": "Paris"}]
    assert [m for m in row["messages"] if m["role"] == "user"] == [{"role": "user", "content": "21.5 C in F? and weather in Paris"}]
    assert row["tools"] == [{"type": "function", "function": CONVERT}, {"type": "function", "function": WEATHER}]


def test_legacy_functions_render_as_tools(tmp_path: Path) -> None:
    """review of #9/#16, item 8: ``llm_config.functions`` become the ``tools`` column, so the template lists them;
    the converted call and its result are paired by id."""
    template = _trl_template("qwen2_5")
    out = tmp_path / "o.jsonl"
    assert _run("-s", str(legacy_session(tmp_path / "l.jsonl")), "-f", "trl-sft", "-o", str(out)).exit_code == 0
    [row] = _rows(out)
    assert row["tools"] == [{"type": "function", "function": CONVERT}]
    text = _render(template, row["messages"], row["tools"])
    assert "<tools>" in text and '"name": "convert"' in text and "convert C to F" in text
    assert '{"name": "convert", "arguments": {"celsius": 21.5}}' in text
    [call] = [m["tool_calls"][0] for m in row["messages"] if m.get("tool_calls")]
    [result] = [m for m in row["messages"] if m["role"] == "tool"]
    assert result["tool_call_id"] == call["id"]


def test_trl_reads_the_dataset_folder_as_it_reads_the_json_lines(tmp_path: Path) -> None:
    """The consumer itself: TRL's ``apply_chat_template`` (what its trainers run over ``dataset.map``, with the row's
    ``tools``) gives the same text from the saved folder as from the JSON Lines rows."""
    pytest.importorskip("trl")
    pytest.importorskip("datasets")
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast
    from trl.data_utils import apply_chat_template

    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel({"<unk>": 0}, unk_token="<unk>")))
    tokenizer.chat_template = _trl_template("qwen2_5")
    sessions = [plain_session(tmp_path / "a.jsonl"), parallel_tools_session(tmp_path / "c.jsonl")]
    args = [a for s in sessions for a in ("-s", str(s))]
    jsonl = tmp_path / "o.jsonl"
    assert _run(*args, "-f", "trl-sft", "-o", str(jsonl)).exit_code == 0
    assert _run(*args, "-f", "trl-sft", "-o", f"{tmp_path}/ds/", "-q").exit_code == 0

    def text(example: dict[str, Any]) -> dict[str, Any]:
        return apply_chat_template({"messages": example["messages"]}, tokenizer, tools=example.get("tools"))

    expected = [text(row)["text"] for row in _rows(jsonl)]
    mapped = load_folder(tmp_path / "ds").map(text, remove_columns=["messages", "tools"])
    assert mapped["text"] == expected
    assert '{"name": "weather", "arguments": {"city": "Paris"}}' in expected[1] and '"city": null' not in expected[1]
