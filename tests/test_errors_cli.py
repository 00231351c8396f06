"""Bad input gets a clear error: about sixty bad sessions, preference files, client paths, YAML configs, outputs and
arguments, each through the CLI.

Every case checks the documented exit code, one short ``Error:`` line on stderr with the expected text, no
traceback, nothing on stdout (``validate`` prints its report there, and it must be the report), every file in the
working folder byte-for-byte unchanged with nothing new (no temporary or half-written file), and the capture
client never called (its capture file never created).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import make_pair, run_chat
from typer.testing import CliRunner

from agent_ft_cli import save_session
from agent_ft_cli.cli import app

runner = CliRunner()
CAPTURE = "clientpkg.clients:CaptureClient"
CAP = ["--client", CAPTURE, "--client-arg", "capture_path=cap.json"]
_GOOD: dict[str, bytes] = {}


def good_session() -> bytes:
    """A real recorded session (tool call, tool response, unicode), built once."""
    if "chat" not in _GOOD:
        assistant, user = make_pair()
        run_chat(assistant, user)
        save_session("_tmp_chat.jsonl", assistant, user)
        _GOOD["chat"] = Path("_tmp_chat.jsonl").read_bytes()
        Path("_tmp_chat.jsonl").unlink()
    return _GOOD["chat"]


YAML_OK = """\
agents:
  assistant:
    class: AssistantAgent
    llm_config:
      config_list:
        - model: scripted
          model_client_cls: CaptureClient
  user:
    class: UserProxyAgent
update: assistant
peer: user
client:
  path: clientpkg.clients:CaptureClient
  args: {capture_path: cap.json}
"""


def write_inputs(work: Path) -> None:
    """Every bad (and good) input file the cases refer to, in the working folder."""
    chat = good_session()
    lines = chat.split(b"\n")  # 13 lines and a final empty piece
    header = json.loads(lines[0])
    for agent in header["agents"]:
        agent.pop("model_clients", None)
    no_client = json.dumps(header).encode() + b"\n" + b"\n".join(lines[1:])
    files: dict[str, bytes] = {
        "chat.jsonl": chat,
        "prefs.json": b'[["a better answer", "a worse answer"]]\n',
        "noclient.jsonl": no_client,
        "empty.jsonl": b"",
        "blank.jsonl": b"\n\n  \n",
        "notjson.jsonl": b"hello, this is not JSON\n",
        "notsession.jsonl": b'{"type": "header", "format": "something-else", "agents": []}\n',
        "array.jsonl": b"[1, 2, 3]\n",
        "badutf8.jsonl": b"\xff\xfe\xfa not utf-8\n",
        "binary.jsonl": bytes(range(256)) * 4,
        "newer.jsonl": lines[0].replace(b'"version":"1.0"', b'"version":"2.0"') + b"\n" + b"\n".join(lines[1:]),
        "badversion.jsonl": lines[0].replace(b'"version":"1.0"', b'"version":"one"') + b"\n" + b"\n".join(lines[1:]),
        "noagents.jsonl": b'{"type":"header","format":"agent-ft-session","version":"1.0","agents":"x"}\n',
        # line 5 cut in the middle of the file (the next line follows it)
        "cutmid.jsonl": b"\n".join([*lines[:4], lines[4][:40], *lines[5:]]),
        # line 12 cut, near the end (inside what --last reads)
        "cutnearend.jsonl": b"\n".join([*lines[:11], lines[11][:25], *lines[12:]]),
        # a JSON array in the middle
        "arrayline.jsonl": b"\n".join([*lines[:6], b"[1, 2]", *lines[6:]]),
        "twoheaders.jsonl": b"\n".join([*lines[:6], lines[0], *lines[6:]]),
        # the final line cut short, as a crash mid-write leaves it
        "cutend.jsonl": b"\n".join(lines[:12]) + b"\n" + lines[12][:30],
        "p_empty.json": b"",
        "p_bad.json": b'{"a": 1,\n "b": }\n',
        "p_bad.jsonl": b'{"a": 1}\n{"b":\n',
        "p_bad.yaml": b"a: [1, 2\nb: 3\n",
        "p_notutf8.json": b"\xff\xfe[]",
        "p_null.yaml": b"~\n",
        "ok.yaml": YAML_OK.encode(),
        "y_bad.yaml": b"agents:\n  a: [1, 2\n  b: 3\n",
        "y_tag.yaml": b'agents: !!python/object/apply:os.system ["touch PWNED"]\n',
        "y_tag2.yaml": b"update: !!python/object/apply:builtins.open ['PWNED2', 'w']\n",
        "y_class.yaml": YAML_OK.replace("class: AssistantAgent", "class: FancyAgent").encode(),
        "y_topkey.yaml": (YAML_OK + "colour: blue\n").encode(),
        "y_agentkey.yaml": YAML_OK.replace("    class: UserProxyAgent", "    class: UserProxyAgent\n    temperature: 3").encode(),
        "y_env.yaml": YAML_OK.replace("model: scripted", "model: ${AGENT_FT_TEST_SURELY_UNSET}").encode(),
        "y_type.yaml": YAML_OK.replace("peer: user", "peer: [user]").encode(),
        "y_empty.yaml": b"",
        "y_list.yaml": b"- a\n- b\n",
        "y_mode.yaml": YAML_OK.replace("    class: UserProxyAgent", "    class: UserProxyAgent\n    human_input_mode: SOMETIMES").encode(),
        "y_update.yaml": YAML_OK.replace("update: assistant", "update: nobody").encode(),
    }
    for name, data in files.items():
        (work / name).write_bytes(data)
    (work / "folder").mkdir()


@dataclass
class Case:
    id: str
    args: list[str]
    code: int
    message: str | Callable[[str], bool]
    report: bool = False  # validate: stdout is the report (checked as JSON when --json is given)


S = ["-s", "chat.jsonl"]
P = ["--prefs", "prefs.json"]

CASES = [
    # -- sessions -------------------------------------------------------------------------------------------------
    Case("session-missing", ["inspect", "-s", "nope.jsonl"], 3, "session file 'nope.jsonl' does not exist"),
    Case("session-missing-update", ["update", "-s", "nope.jsonl", *P, *CAP], 3, "'nope.jsonl' does not exist"),
    Case("session-folder", ["inspect", "-s", "folder"], 3, "is a folder, not a session file"),
    Case("session-empty", ["inspect", "-s", "empty.jsonl"], 3, "empty.jsonl is empty"),
    Case("session-empty-last", ["inspect", "--last", "2", "-s", "empty.jsonl"], 3, "empty.jsonl is empty"),
    Case("session-blank-lines", ["inspect", "-s", "blank.jsonl"], 3, "blank.jsonl is empty"),
    Case("session-not-json", ["inspect", "-s", "notjson.jsonl"], 3, "notjson.jsonl:1: not valid JSON"),
    Case("session-not-json-update", ["update", "-s", "notjson.jsonl", *P, *CAP], 3, "notjson.jsonl:1: not valid JSON"),
    Case("session-not-a-session", ["inspect", "-s", "notsession.jsonl"], 3, "notsession.jsonl:1: not an agent-ft session"),
    Case("session-json-array", ["inspect", "--last", "1", "-s", "array.jsonl"], 3, "array.jsonl:1: not an agent-ft session"),
    Case("session-bad-utf8", ["inspect", "-s", "badutf8.jsonl"], 3, "badutf8.jsonl:1: invalid UTF-8"),
    Case("session-bad-utf8-update", ["update", "-s", "badutf8.jsonl", *P, *CAP], 3, "invalid UTF-8"),
    Case("session-binary", ["inspect", "-s", "binary.jsonl"], 3, "binary.jsonl:1: binary data"),
    Case("session-binary-last", ["inspect", "--last", "3", "--json", "-s", "binary.jsonl"], 3, "binary data"),
    Case("session-newer-major", ["inspect", "-s", "newer.jsonl"], 3, "session format 2.0, newer than this agent-ft"),
    Case("session-newer-major-update", ["update", "-s", "newer.jsonl", *P, *CAP], 3, "upgrade agent-ft"),
    Case("session-bad-version", ["inspect", "-s", "badversion.jsonl"], 3, "invalid format version 'one'"),
    Case("session-bad-agents", ["inspect", "-s", "noagents.jsonl"], 3, "header field 'agents' must be a list"),
    Case("session-cut-mid", ["inspect", "-s", "cutmid.jsonl"], 3, "cutmid.jsonl:5: not valid JSON"),
    Case("session-cut-mid-json", ["inspect", "--json", "-s", "cutmid.jsonl"], 3, "cutmid.jsonl:5: not valid JSON"),
    Case("session-cut-mid-last", ["inspect", "--last", "2", "-s", "cutmid.jsonl"], 3, "cutmid.jsonl:5: not valid JSON"),
    Case("session-cut-near-end-last", ["inspect", "--last", "1", "-s", "cutnearend.jsonl"], 3, "cutnearend.jsonl:12:"),
    Case("session-cut-mid-update", ["update", "-s", "cutmid.jsonl", *P, *CAP], 3, "cutmid.jsonl:5: not valid JSON"),
    Case("session-cut-mid-validate", ["validate", "--json", "-s", "cutmid.jsonl"], 3, "cutmid.jsonl:5", report=True),
    Case("session-array-line", ["inspect", "-s", "arrayline.jsonl"], 3, "arrayline.jsonl:7: each line must be a JSON object"),
    Case("session-second-header", ["update", "-s", "twoheaders.jsonl", *P, *CAP], 3, "twoheaders.jsonl:7: a second header"),
    Case("session-cut-end-strict", ["inspect", "--strict", "-s", "cutend.jsonl"], 3, "cutend.jsonl:13: final line is cut short"),
    Case("session-cut-end-strict-last", ["inspect", "--strict", "--last", "1", "-s", "cutend.jsonl"], 3, "cutend.jsonl:13:"),
    Case("session-cut-end-strict-update", ["update", "--strict", "-s", "cutend.jsonl", *P, *CAP], 3, "drop --strict"),
    Case("session-cut-end-strict-validate", ["validate", "--strict", "-s", "cutend.jsonl"], 3, "cutend.jsonl:13", report=True),
    Case("agent-not-in-session", ["inspect", *S, "--agent", "bob"], 3, "agent 'bob' is not in this session; agents: assistant, user"),
    Case("peer-not-in-session", ["update", *S, *P, *CAP, "--peer", "carol"], 3, "peer 'carol' is not in this session; agents: assistant, user"),
    Case("agent-not-in-session-validate", ["validate", *S, "--agent", "bob"], 3, "agents: assistant, user", report=True),
    Case("agent-equals-peer", ["inspect", *S, "--agent", "user", "--peer", "user"], 3, "both 'user'"),
    # -- preference data ------------------------------------------------------------------------------------------
    Case("prefs-missing", ["update", *S, "--prefs", "nope.json", *CAP], 3, "preference file 'nope.json' does not exist"),
    Case("prefs-folder", ["update", *S, "--prefs", "folder", *CAP], 3, "is a folder"),
    Case("prefs-empty", ["update", *S, "--prefs", "p_empty.json", *CAP], 3, "p_empty.json is empty"),
    Case("prefs-bad-json", ["update", *S, "--prefs", "p_bad.json", *CAP], 3, "p_bad.json:2:7: invalid JSON"),
    Case("prefs-bad-jsonl", ["update", *S, "--prefs", "p_bad.jsonl", *CAP], 3, "p_bad.jsonl:2: invalid JSON Lines record"),
    Case("prefs-bad-yaml", ["update", *S, "--prefs", "p_bad.yaml", *CAP], 3, "p_bad.yaml:2:2: invalid YAML"),
    Case("prefs-null-yaml", ["update", *S, "--prefs", "p_null.yaml", *CAP], 3, "p_null.yaml holds no data"),
    Case("prefs-not-utf8", ["update", *S, "--prefs", "p_notutf8.json", *CAP], 3, "p_notutf8.json: not UTF-8"),
    Case("prefs-bad-validate", ["validate", *S, "--prefs", "p_bad.json", "--json"], 3, "p_bad.json:2:7", report=True),
    # -- client import path ---------------------------------------------------------------------------------------
    Case("client-module-missing", ["update", *S, *P, "--client", "nosuchmod_xyz:Client"], 4, "module 'nosuchmod_xyz' not found"),
    Case("client-attr-missing", ["update", *S, *P, "--client", "clientpkg.clients:Nope"], 4,
         "'clientpkg.clients' has no attribute 'Nope'; classes there: CaptureClient"),
    Case("client-malformed", ["update", *S, *P, "--client", "just-a-name"], 4, "'just-a-name' is not an import path"),
    Case("client-malformed-module", ["update", *S, *P, "--client", "a b:C"], 4, "'a b:C' is not an import path"),
    Case("client-malformed-empty-class", ["update", *S, *P, "--client", "clientpkg.clients:"], 4, "is not an import path"),
    Case("client-syntax-error", ["update", *S, *P, "--client", "clientpkg.broken_syntax:Broken"], 4,
         lambda err: "broken_syntax.py:2: SyntaxError" in err),
    Case("client-raises-on-import", ["update", *S, *P, "--client", "clientpkg.raises_on_import:X"], 4,
         "raises_on_import.py:1: RuntimeError: cannot reach the model server at import time"),
    Case("client-missing-dependency", ["update", *S, *P, "--client", "clientpkg.needs_missing_dep:Client"], 4,
         "imports 'definitely_not_installed_dependency', which is not installed"),
    Case("client-not-a-class", ["update", *S, *P, "--client", "clientpkg.clients:not_a_class"], 4, "is an int, not a class"),
    Case("client-missing-methods", ["update", *S, *P, "--client", "clientpkg.clients:MissingMethods"], 4,
         "missing message_retrieval, cost, get_usage, update_model"),
    Case("client-no-update-model", ["update", *S, *P, "--client", "clientpkg.clients:NoUpdateClient"], 4, "missing update_model"),
    Case("client-file-missing", ["update", *S, *P, "--client", "nofile.py:Client"], 4, "file 'nofile.py' does not exist"),
    Case("client-none-given", ["update", "-s", "noclient.jsonl", *P], 4, "no client for agent 'assistant'"),
    Case("client-update-fails", ["update", *S, *P, "--client", "clientpkg.clients:FailingUpdateClient", "-o", "out.json"], 1,
         "update_model (clientpkg.clients:FailingUpdateClient) failed: RuntimeError: CUDA out of memory (simulated)"),
    Case("client-bad-validate", ["validate", *S, "--client", "clientpkg.clients:MissingMethods", "--json"], 4,
         "missing message_retrieval", report=True),
    # -- YAML configs ---------------------------------------------------------------------------------------------
    Case("yaml-missing", ["update", *S, *P, "--config", "nope.yaml"], 3, "config file 'nope.yaml' does not exist"),
    Case("yaml-invalid", ["update", *S, *P, "--config", "y_bad.yaml"], 3, "y_bad.yaml:3:4: invalid YAML"),
    Case("yaml-python-tag", ["update", *S, *P, "--config", "y_tag.yaml"], 3, "y_tag.yaml:1:9:"),
    Case("yaml-python-tag-open", ["update", *S, *P, "--config", "y_tag2.yaml"], 3, "tags such as !!python/... are refused"),
    Case("yaml-unknown-class", ["update", *S, *P, "--config", "y_class.yaml"], 3,
         "key 'agents.assistant.class': unknown agent class 'FancyAgent'"),
    Case("yaml-unknown-top-key", ["update", *S, *P, "--config", "y_topkey.yaml"], 3, "unknown key 'colour'"),
    Case("yaml-unknown-agent-key", ["update", *S, *P, "--config", "y_agentkey.yaml"], 3, "unknown key 'agents.user.temperature'"),
    Case("yaml-env-unset", ["update", *S, *P, "--config", "y_env.yaml"], 3,
         "'agents.assistant.llm_config.config_list[0].model' uses ${AGENT_FT_TEST_SURELY_UNSET}, which is not set"),
    Case("yaml-wrong-type", ["update", *S, *P, "--config", "y_type.yaml"], 3, "key 'peer' must be a string"),
    Case("yaml-empty", ["update", *S, *P, "--config", "y_empty.yaml"], 3, "config is empty"),
    Case("yaml-not-mapping", ["update", *S, *P, "--config", "y_list.yaml"], 3, "must be a mapping"),
    Case("yaml-bad-mode", ["update", *S, *P, "--config", "y_mode.yaml"], 3, "'agents.user.human_input_mode' must be one of"),
    Case("yaml-unknown-update", ["update", *S, *P, "--config", "y_update.yaml"], 3, "key 'update' names agent 'nobody'"),
    Case("yaml-invalid-validate", ["validate", *S, "--config", "y_bad.yaml", "--json"], 3, "y_bad.yaml:3:4", report=True),
    Case("yaml-invalid-record", ["record", "--config", "y_tag.yaml", "-m", "hi", "--out", "new.jsonl"], 3, "y_tag.yaml:1:9"),
    # -- outputs --------------------------------------------------------------------------------------------------
    Case("output-missing-folder", ["update", *S, *P, *CAP, "-o", "nodir/out.json"], 2, "folder 'nodir' does not exist"),
    Case("output-is-folder", ["update", *S, *P, *CAP, "-o", "folder"], 2, "'folder' is a folder"),
    Case("output-under-a-file", ["update", *S, *P, *CAP, "-o", "prefs.json/out.json"], 2, "is not a folder"),
    Case("output-is-the-session", ["update", *S, *P, *CAP, "-o", "chat.jsonl"], 2, "is also an input"),
    Case("output-is-the-prefs", ["update", *S, *P, *CAP, "--output", "./prefs.json"], 2, "is also an input"),
    Case("output-special-fs", ["update", *S, *P, *CAP, "-o", "/proc/agent-ft-out.json"], 2, "cannot create files in '/proc'"),
    Case("record-out-missing-folder", ["record", "--config", "ok.yaml", "-m", "hi", "--out", "nodir/s.jsonl"], 2,
         "--out 'nodir/s.jsonl': folder 'nodir' does not exist"),
    Case("record-out-is-config", ["record", "--config", "ok.yaml", "-m", "hi", "--out", "ok.yaml"], 2, "is also an input"),
    # -- arguments ------------------------------------------------------------------------------------------------
    Case("client-arg-malformed", ["update", *S, *P, "--client", CAPTURE, "--client-arg", "capture_path"], 2,
         "--client-arg #1: expected KEY=VALUE"),
    Case("kwarg-malformed", ["update", *S, *P, *CAP, "--kwarg", "1x=2"], 2, "--kwarg #1 (key '1x'): expected KEY=VALUE"),
    Case("last-zero", ["inspect", *S, "--last", "0"], 2, "--last"),
    Case("missing-session-option", ["inspect"], 2, "--session"),
    Case("missing-prefs-option", ["update", *S, *CAP], 2, "--prefs"),
    Case("unknown-option", ["inspect", *S, "--colour"], 2, "--colour"),
    Case("unknown-command", ["frobnicate"], 2, "frobnicate"),
]

USAGE = {c.id for c in CASES if c.id in {"last-zero", "missing-session-option", "missing-prefs-option", "unknown-option",
                                         "unknown-command"}}


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
    }


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_clearly(case: Case, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if case.id == "output-special-fs" and not Path("/proc/self").exists():
        pytest.skip("needs /proc")
    monkeypatch.delenv("AGENT_FT_TEST_SURELY_UNSET", raising=False)
    write_inputs(isolated)
    before = _snapshot(isolated)
    result = runner.invoke(app, case.args, env={"COLUMNS": "200", "NO_COLOR": "1"})
    err = result.stderr
    assert result.exit_code == case.code, f"exit {result.exit_code}\nstderr: {err}\nstdout: {result.stdout}"
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    if callable(case.message):
        assert case.message(err), err
    else:
        assert case.message in err, err
    if case.id not in USAGE:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error: "), err
        assert len(lines[0]) < 400, "the message should be short"
    if case.report:
        if "--json" in case.args:
            report = json.loads(result.stdout)
            assert report["ok"] is False
        else:
            assert "FAIL" in result.stdout
    else:
        assert result.stdout == "", "nothing but the requested output goes to stdout"
    assert _snapshot(isolated) == before, "a refused command changed, created or half-wrote a file"
    assert not (isolated / "cap.json").exists(), "the client was called"
    assert not (isolated / "PWNED").exists() and not (isolated / "PWNED2").exists()


def test_debug_shows_the_traceback(isolated: Path) -> None:
    write_inputs(isolated)
    result = runner.invoke(app, ["--debug", "inspect", "-s", "cutmid.jsonl"])
    assert result.exit_code != 0
    from agent_ft_cli.errors import SessionError

    assert isinstance(result.exception, SessionError)
    assert "cutmid.jsonl:5" in str(result.exception)


# -- a final line cut short is skipped with a warning ----------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["inspect", "--json", "-s", "cutend.jsonl"],
        ["inspect", "--json", "--last", "3", "-s", "cutend.jsonl"],
        ["update", "--json", "-s", "cutend.jsonl", *P, *CAP],
        ["validate", "--json", "-s", "cutend.jsonl"],
    ],
    ids=["inspect", "inspect-last", "update", "validate"],
)
def test_cut_final_line_is_skipped_with_a_warning(args: list[str], isolated: Path) -> None:
    write_inputs(isolated)
    before = _snapshot(isolated)
    result = runner.invoke(app, args, env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "Warning: cutend.jsonl:13: skipped the final line" in result.stderr
    out = json.loads(result.stdout)  # warnings never reach stdout: --json pipes into jq
    if args[0] == "inspect":
        full = json.loads(
            runner.invoke(app, ["inspect", "--json", "-s", "chat.jsonl"]).stdout
        )["messages"]
        # the cut line was the user's view; the assistant's thread is complete
        assert out["messages"] == (full if "--last" not in args else full[-3:])
    if args[0] == "update":
        assert out["update_stats"]["captured"] == len(out["inference_messages"]) > 0
        (isolated / "cap.json").unlink()
    if args[0] == "validate":
        assert out["ok"] is True
    assert _snapshot(isolated) == before


def test_client_exception_message_is_shown_and_no_output_is_left(isolated: Path) -> None:
    write_inputs(isolated)
    (isolated / "out.json").write_bytes(b'{"old": true}\n')
    result = runner.invoke(
        app, ["update", *S, *P, "--client", "clientpkg.clients:FailingUpdateClient", "-o", "out.json"]
    )
    assert result.exit_code == 1
    assert "CUDA out of memory (simulated)" in result.stderr
    assert (isolated / "out.json").read_bytes() == b'{"old": true}\n'
    assert sorted(p.name for p in isolated.iterdir() if p.name.startswith(".")) == []


def test_client_valueerror_is_the_clients_failure_not_a_protocol_error(isolated: Path) -> None:
    write_inputs(isolated)
    (isolated / "valclient.py").write_text(
        "from clientpkg.clients import ScriptedClient\n"
        "class ValueErrorClient(ScriptedClient):\n"
        "    def update_model(self, preference_data, inference_messages, **kw):\n"
        "        raise ValueError('preference pairs must be [chosen, rejected]\\nsecond line')\n"
    )
    result = runner.invoke(app, ["update", *S, *P, "--client", "valclient.py:ValueErrorClient"])
    assert result.exit_code == 1, result.output
    assert "ValueError: preference pairs must be [chosen, rejected]" in result.stderr
    assert "second line" not in result.stderr  # one short line


def test_interrupt_exits_130_and_leaves_no_output(isolated: Path) -> None:
    write_inputs(isolated)
    (isolated / "intclient.py").write_text(
        "from clientpkg.clients import ScriptedClient\n"
        "class Interrupted(ScriptedClient):\n"
        "    def update_model(self, preference_data, inference_messages, **kw):\n"
        "        raise KeyboardInterrupt\n"
    )
    before = _snapshot(isolated)
    result = runner.invoke(app, ["update", *S, *P, "--client", "intclient.py:Interrupted", "-o", "out.json"])
    assert result.exit_code == 130
    assert "Error: interrupted" in result.stderr
    after = _snapshot(isolated)
    assert not (isolated / "out.json").exists()
    assert {k for k in after if not k.startswith("__pycache__")} == {k for k in before if not k.startswith("__pycache__")}


def test_odd_stats_render_with_a_fallback(isolated: Path) -> None:
    write_inputs(isolated)
    table = runner.invoke(app, ["update", *S, *P, "--client", "clientpkg.clients:OddStatsClient"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "<object object at" in table.stdout and "values" in table.stdout
    as_json = runner.invoke(app, ["update", *S, *P, "--client", "clientpkg.clients:OddStatsClient", "--json", "-o", "o.json"])
    assert as_json.exit_code == 0, as_json.output
    stats = json.loads(as_json.stdout)["update_stats"]
    assert stats["values"] == [1, 2] and stats["when"].startswith("<object object at")
    assert json.loads((isolated / "o.json").read_text())["update_stats"]["values"] == [1, 2]


def test_unwritable_folder_is_refused_before_any_work(isolated: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can write into a read-only folder; /proc covers the probe")
    write_inputs(isolated)
    ro = isolated / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        result = runner.invoke(app, ["update", *S, *P, *CAP, "-o", "ro/out.json"])
        assert result.exit_code == 2
        assert "not writable" in result.stderr
        assert not (isolated / "cap.json").exists()
    finally:
        ro.chmod(0o755)


# -- the same through a real process --------------------------------------------------------------------------------

SUBPROCESS_CASES = [
    (["inspect", "-s", "cutmid.jsonl", "--json"], 3, "cutmid.jsonl:5: not valid JSON"),
    (["update", *S, *P, "--client", "clientpkg.broken_syntax:Broken"], 4, "broken_syntax.py:2: SyntaxError"),
    (["update", *S, *P, "--config", "y_tag.yaml"], 3, "y_tag.yaml:1:9"),
    (["update", *S, *P, *CAP, "-o", "nodir/out.json"], 2, "folder 'nodir' does not exist"),
    (["update", *S, *P, "--client", "clientpkg.clients:FailingUpdateClient"], 1, "CUDA out of memory (simulated)"),
]


def _agent_ft(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "agent-ft"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


@pytest.mark.parametrize("args,code,message", SUBPROCESS_CASES, ids=[c[2][:30] for c in SUBPROCESS_CASES])
def test_real_process(args: list[str], code: int, message: str, isolated: Path, env_with_assets: dict[str, str]) -> None:
    write_inputs(isolated)
    before = _snapshot(isolated)
    proc = _agent_ft(args, env_with_assets, isolated)
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("Error: ") and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert _snapshot(isolated) == before


def test_real_process_json_with_warning_pipes_into_a_json_reader(isolated: Path, env_with_assets: dict[str, str]) -> None:
    write_inputs(isolated)
    proc = _agent_ft(["inspect", "-s", "cutend.jsonl", "--json"], env_with_assets, isolated)
    assert proc.returncode == 0, proc.stderr
    assert "Warning: cutend.jsonl:13" in proc.stderr
    assert json.loads(proc.stdout)["agent"] == "assistant"


def test_real_process_debug_has_the_traceback(isolated: Path, env_with_assets: dict[str, str]) -> None:
    write_inputs(isolated)
    proc = _agent_ft(["--debug", "inspect", "-s", "cutmid.jsonl"], env_with_assets, isolated)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "SessionError" in proc.stderr


def test_every_kind_has_its_code(isolated: Path) -> None:
    """The exit codes of the table match errors.py (the documented contract)."""
    from agent_ft_cli import errors

    assert (errors.EXIT_CLIENT_FAILED, errors.EXIT_USAGE, errors.EXIT_BAD_INPUT, errors.EXIT_CLIENT_LOAD,
            errors.EXIT_INTERRUPTED) == (1, 2, 3, 4, 130)
    codes = {c.code for c in CASES}
    assert codes == {1, 2, 3, 4}


def test_atomic_writes_leave_the_old_file_and_no_temporary(isolated: Path) -> None:
    from agent_ft_cli.fsutil import atomic_writer
    from agent_ft_cli.local import LocalLearningClient

    target = isolated / "out.json"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_writer(target) as fh:
        fh.write(b"half of the new cont")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in isolated.iterdir()) == ["out.json"]

    # the bundled local model saves its state the same way: a failing save keeps the previous state whole
    state = isolated / "state.json"
    client = LocalLearningClient({}, state_path=state)
    client._save([{"key": "q", "answer": "a"}])
    before = state.read_bytes()

    import agent_ft_cli.fsutil as fsutil

    def fail_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    real_fsync = fsutil.os.fsync
    fsutil.os.fsync = fail_fsync  # type: ignore[assignment]
    try:
        with pytest.raises(OSError):
            client._save([{"key": "q", "answer": "a new answer, never half written"}])
    finally:
        fsutil.os.fsync = real_fsync  # type: ignore[assignment]
    assert state.read_bytes() == before
    assert sorted(p.name for p in isolated.iterdir()) == ["out.json", "state.json"]


@pytest.mark.parametrize("option", ["--config", "--prefs"])
def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path, option: str) -> None:
    rows = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    rows += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join([*rows, "agents: {x: {}}"]) + "\n")
    sample = Path(__file__).parent.parent / "sample_sessions" / "capital.jsonl"
    result = CliRunner().invoke(app, ["validate", "-s", str(sample), option, str(bomb), "--json"])
    assert result.exit_code == 3
    assert "YAML aliases expand to more than 1,000,000 values" in result.stderr


@pytest.mark.parametrize("command", ["record", "update"])
def test_agent_that_cannot_be_built_names_the_config_file_and_key(tmp_path: Path, command: str) -> None:
    config = tmp_path / "pair.yaml"
    config.write_text(
        "agents:\n  assistant:\n    class: AssistantAgent\n    kwargs: {no_such_argument: 1}\n"
        "  user:\n    class: UserProxyAgent\nupdate: assistant\npeer: user\n"
        "client: agent_ft_cli.local:LocalLearningClient\n"
    )
    repo = Path(__file__).parent.parent
    args = {
        "record": ["record", "-c", str(config), "-m", "hi", "-o", str(tmp_path / "out.jsonl")],
        "update": ["update", "-s", str(repo / "sample_sessions" / "capital.jsonl"), "--prefs",
                   str(repo / "sample_sessions" / "capital.prefs.json"), "-c", str(config)],
    }[command]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith(f"Error: {config}: agents.assistant: AssistantAgent cannot be created")
    assert "no_such_argument" in result.stderr and "Traceback" not in result.output
