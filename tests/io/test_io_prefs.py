"""Preference data: the format of stdin and of files without a known extension is detected from the content, a
.json file holding JSON Lines gets a hint, and shapes that cannot be pairs are reported (never refused on load)."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest

from agent_ft_cli.errors import PrefsError
from agent_ft_cli.prefs import check_prefs_shape, load_prefs

PAIRS = [["Canberra.", "I don't know."], ["Lima.", "No idea."]]
YAML_PAIRS = "- [Canberra., I don't know.]\n- [Lima., No idea.]\n"
JSONL_PAIRS = '["Canberra.", "I don\'t know."]\n["Lima.", "No idea."]\n'


@pytest.mark.parametrize("text", [YAML_PAIRS, JSONL_PAIRS, '[["Canberra.", "I don\'t know."], ["Lima.", "No idea."]]'])
def test_stdin_is_detected_from_the_content(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert load_prefs("-") == PAIRS


@pytest.mark.parametrize("name", ["prefs", "prefs.txt", "prefs.data"])
@pytest.mark.parametrize("text", [YAML_PAIRS, JSONL_PAIRS])
def test_files_without_a_known_extension_are_detected(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert load_prefs(path) == PAIRS


def test_yaml_mapping_without_extension(tmp_path: Path) -> None:
    path = tmp_path / "prefs"
    path.write_text("pairs:\n  - chosen: Canberra.\n    rejected: I don't know.\n")
    assert load_prefs(path) == {"pairs": [{"chosen": "Canberra.", "rejected": "I don't know."}]}


def test_json_lines_in_a_json_file_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "prefs.json"
    path.write_text(JSONL_PAIRS)
    with pytest.raises(PrefsError) as info:
        load_prefs(path)
    assert str(info.value).startswith(f"{path}:2:1: invalid JSON")
    assert "JSON Lines, one record per line: name it .jsonl" in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2", "x:1:6: invalid JSON (unexpected end of data)"),
        ("just some words", "x: not JSON, JSON Lines or YAML preference data (the text reads only as a YAML plain string)"),
        ("a: [b\n", "x:2:1: invalid YAML"),
        ('["ok"]\n["broken"\n', "x:2: invalid JSON Lines record"),
    ],
)
def test_undetectable_content_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x"
    path.write_text(text)
    with pytest.raises(PrefsError) as info:
        load_prefs(path)
    assert str(info.value).startswith(message.replace("x", str(path), 1))


def test_endless_stdin_prefs_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_FT_MAX_INPUT_BYTES", "1024")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"[" + b"1," * 2000 + b"1]")))
    with pytest.raises(PrefsError, match="<stdin>: input larger than the 1 KiB limit; set AGENT_FT_MAX_INPUT_BYTES"):
        load_prefs("-")


@pytest.mark.parametrize(
    ("data", "problems"),
    [
        (PAIRS, []),
        ({"chosen": "a", "rejected": "b", "prompt": "q"}, []),
        ({"pairs": [["a", "b"]]}, []),
        ([{"chosen": "a", "rejected": "b"}], []),
        ({"a": 1}, ["preference data is a mapping ('a') without 'chosen'/'rejected' or 'pairs'; expected a list of pairs"]),
        ("str", ["preference data is a str, not a list of [chosen, rejected] pairs"]),
        (3, ["preference data is an int, not a list of [chosen, rejected] pairs"]),
        (None, ["preference data is a NoneType, not a list of [chosen, rejected] pairs"]),
        ([], ["preference data holds no pairs"]),
        ({"pairs": "x"}, ["key 'pairs' is a str, not a list of pairs"]),
        (
            [["a", "b"], ["only one"], {"chosen": None, "rejected": "x"}],
            [
                "item 1: not a [chosen, rejected] pair nor an object with 'chosen' and 'rejected'",
                "item 2: the chosen answer has no text",
            ],
        ),
    ],
)
def test_check_prefs_shape(data: Any, problems: list[str]) -> None:
    assert check_prefs_shape(data) == problems


def test_shape_problems_are_capped() -> None:
    problems = check_prefs_shape([[1]] * 50)
    assert len(problems) == 21 and problems[-1] == "... and 30 more"


def test_odd_shapes_still_load(tmp_path: Path) -> None:
    """Loading never refuses a shape: it belongs to the client's author (the seed passes it as-is)."""
    for text, data in (('{"a": 1}', {"a": 1}), ('"str"', "str"), ("[]", []), ("3", 3)):
        path = tmp_path / "p.json"
        path.write_text(text)
        assert load_prefs(path) == data
