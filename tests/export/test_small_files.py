"""A folder of small sessions: the fast path (``export/small.py``) writes, counts and warns exactly what the general
path writes, counts and warns, session by session, including where it steps aside (damaged or cut lines, a thread
the header cannot choose, a session without the thread, a refused row, another header shape)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from exportkit import legacy_session, one_tool_session, parallel_tools_session, plain_session
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_ft_cli.errors import AgentFtError
from agent_ft_cli.export import ExportOptions, export
from agent_ft_cli.export.exporter import Exporter
from agent_ft_cli.session import dumps_record, make_header, message_record

SAMPLES = Path(__file__).resolve().parents[2] / "sample_sessions"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "sessions"
    folder.mkdir()
    trivia = (SAMPLES / "trivia.jsonl").read_bytes()
    lines = trivia.splitlines(keepends=True)
    for name in ("a", "b"):
        (folder / f"{name}-trivia.jsonl").write_bytes(trivia)
    for sample in SAMPLES.glob("*.jsonl"):
        shutil.copy(sample, folder / f"c-{sample.name}")
    (folder / "d-damaged.jsonl").write_bytes(b"".join([*lines[:3], b'{"type":"message",\n', *lines[3:]]))
    (folder / "e-cut.jsonl").write_bytes(trivia + lines[2][:30])
    (folder / "f-blank-line.jsonl").write_bytes(b"".join([*lines[:4], b"\n", *lines[4:]]))
    (folder / "g-no-assistant-thread.jsonl").write_bytes(b"".join([lines[0], *(x for x in lines[1:] if b'"agent":"user"' in x)]))
    (folder / "h-header-only.jsonl").write_bytes(lines[0])
    (folder / "i-answerless.jsonl").write_bytes(b"".join([lines[0], lines[2]]))
    team = make_header([
        {"name": n, "llm_config": {"config_list": [{"model": "m"}]}} for n in ("writer", "critic")
    ] + [{"name": "chat_manager"}])
    (folder / "j-team.jsonl").write_bytes(dumps_record(team) + b"".join(
        dumps_record(message_record("writer", "chat_manager", {"content": t, "role": r, "name": n}))
        for t, r, n in (("Draft?", "user", "critic"), ("Here.", "assistant", "writer"))
    ))
    group = make_header([
        {"name": "assistant", "llm_config": {"config_list": [{"model": "m", "model_client_cls": "C"}]}},
        {"name": "user"}, {"name": "chat_manager"},
    ])  # two other agents: the peer is the one the file holds a thread with (the choice reads the file's threads)
    (folder / "j-group.jsonl").write_bytes(dumps_record(group) + b"".join(
        dumps_record(message_record("assistant", "chat_manager", {"content": t, "role": r}))
        for t, r in (("Plan?", "user"), ("A plan.", "assistant"))
    ))
    one_tool_session(folder / "k-tool.jsonl")
    parallel_tools_session(folder / "l-tools.jsonl")
    legacy_session(folder / "m-legacy.jsonl")
    plain_session(folder / "n-plain.jsonl")
    orphan = make_header([{"name": "assistant", "llm_config": {"config_list": [{"model": "m", "model_client_cls": "C"}]}}, {"name": "user"}])
    (folder / "o-orphan-result.jsonl").write_bytes(dumps_record(orphan) + b"".join(
        dumps_record(message_record("assistant", "user", m))
        for m in ({"content": "hi", "role": "user"}, {"content": "42", "role": "tool", "tool_call_id": "x"}, {"content": "ok", "role": "assistant"})
    ))
    return folder


def _export(sessions: list[Path], out: Path, options: ExportOptions, jobs: int) -> tuple[Any, ...]:
    said: list[str] = []
    try:
        summary = export(sessions, out, options, on_warning=lambda text: said.append(str(text)), jobs=jobs)
    except AgentFtError as e:
        return ("error", str(e), said)
    return (out.read_bytes(), summary.as_dict(), said)


@pytest.mark.parametrize(
    "options",
    [
        ExportOptions(format="trl-sft"),
        ExportOptions(format="openai-sft"),
        ExportOptions(format="trl-sft", speaker_names="keep"),
        ExportOptions(format="openai-sft", speaker_names="prefix"),
        ExportOptions(format="trl-sft", agent="assistant", peer="user"),
        ExportOptions(format="trl-sft", strict=True),
    ],
    ids=["trl", "openai", "keep", "prefix", "given", "strict"],
)
def test_small_files_export_as_the_general_path_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: ExportOptions) -> None:
    folder = _folder(tmp_path)
    sessions = sorted(folder.glob("*.jsonl"))
    fast = _export(sessions, tmp_path / "out.jsonl", options, 1)
    taken: list[int] = []
    real = Exporter._small

    def counting(self: Exporter) -> Any:
        small = real(self)
        if small is not None:
            rows = small.rows
            small.rows = lambda path: (lambda got: (taken.append(got is not None), got)[1])(rows(path))  # type: ignore[method-assign]
        return small

    monkeypatch.setattr(Exporter, "_small", counting)
    counted = _export(sessions, tmp_path / "out.jsonl", options, 1)
    monkeypatch.setattr(Exporter, "_small", lambda self: None)
    general = _export(sessions, tmp_path / "out.jsonl", options, 1)
    assert fast == general == counted
    if options.strict:
        assert fast[0] == "error"
    else:
        assert fast[1]["rows"] > 5 and fast[1]["skipped_sessions"]
    assert any(taken) and not all(taken), "some sessions take the fast path, some step aside"


def test_jobs_keep_the_fast_path_output(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    sessions = sorted(folder.glob("*.jsonl")) * 3
    options = ExportOptions(format="trl-sft")
    assert _export(sessions, tmp_path / "out.jsonl", options, 1) == _export(sessions, tmp_path / "out.jsonl", options, 2)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.text(max_size=8), st.integers(), st.floats(allow_nan=False, allow_infinity=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_a_value_the_dataset_writer_calls_plain_reads_back_from_datasets_unchanged(value: Any) -> None:
    """The dataset writer skips its read-back check for what it calls plain; the check would have found nothing."""
    pytest.importorskip("datasets")
    from datasets.utils.json import ujson_loads

    from agent_ft_cli.export.dataset import _encode, _first_inexact, _plain

    text = _encode(value)
    if _plain(value):
        assert ujson_loads(text) == value
        assert _first_inexact([text], [value], "here") is None
