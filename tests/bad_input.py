"""The bad-input table: about sixty bad sessions, preference files, client paths, YAML configs, outputs and
arguments, each run through the CLI by :func:`check_refused` (the tests are in ``cli/test_cli_errors.py`` and
``clients/test_client_loading.py``).

Every case checks the documented exit code, one short ``Error:`` line on stderr with the expected text, no
traceback, nothing on stdout (``validate`` prints its report there, and it must be the report), every file in the
working folder byte-for-byte unchanged with nothing new (no temporary or half-written file), and the capture
client never called (its capture file never created).
"""

from __future__ import annotations

import hashlib
import json
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

SESSION_CASES = [
    Case("session-missing", ["inspect", "-s", "nope.jsonl"], 3, "session file 'nope.jsonl' does not exist"),
    Case("session-missing-update", ["update", "-s", "nope.jsonl", *P, *CAP], 3, "'nope.jsonl' does not exist"),
    Case("session-folder", ["update", "-s", "folder", *P, *CAP], 3, "is a folder, not a session file"),
    # inspect, validate and export take folders (their *.jsonl): one with none is the same cause as a missing file
    Case("session-empty-folder", ["inspect", "-s", "folder"], 3, "session folder 'folder' holds no *.jsonl session files"),
    Case("session-glob-no-match", ["inspect", "-s", "nothing*.jsonl"], 3, "session pattern 'nothing*.jsonl' matches no files"),
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
]
PREFS_CASES = [
    Case("prefs-missing", ["update", *S, "--prefs", "nope.json", *CAP], 3, "preference file 'nope.json' does not exist"),
    Case("prefs-folder", ["update", *S, "--prefs", "folder", *CAP], 3, "is a folder"),
    Case("prefs-empty", ["update", *S, "--prefs", "p_empty.json", *CAP], 3, "p_empty.json is empty"),
    Case("prefs-bad-json", ["update", *S, "--prefs", "p_bad.json", *CAP], 3, "p_bad.json:2:7: invalid JSON"),
    Case("prefs-bad-jsonl", ["update", *S, "--prefs", "p_bad.jsonl", *CAP], 3, "p_bad.jsonl:2: invalid JSON Lines record"),
    Case("prefs-bad-yaml", ["update", *S, "--prefs", "p_bad.yaml", *CAP], 3, "p_bad.yaml:2:2: invalid YAML"),
    Case("prefs-null-yaml", ["update", *S, "--prefs", "p_null.yaml", *CAP], 3, "p_null.yaml holds no data"),
    Case("prefs-not-utf8", ["update", *S, "--prefs", "p_notutf8.json", *CAP], 3, "p_notutf8.json: not UTF-8"),
    Case("prefs-bad-validate", ["validate", *S, "--prefs", "p_bad.json", "--json"], 3, "p_bad.json:2:7", report=True),
]
CLIENT_CASES = [
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
]
CONFIG_CASES = [
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
]
OUTPUT_CASES = [
    Case("output-missing-folder", ["update", *S, *P, *CAP, "-o", "nodir/out.json"], 2, "folder 'nodir' does not exist"),
    Case("output-is-folder", ["update", *S, *P, *CAP, "-o", "folder"], 2, "'folder' is a folder"),
    Case("output-under-a-file", ["update", *S, *P, *CAP, "-o", "prefs.json/out.json"], 2, "is not a folder"),
    Case("output-is-the-session", ["update", *S, *P, *CAP, "-o", "chat.jsonl"], 2, "is also an input"),
    Case("output-is-the-prefs", ["update", *S, *P, *CAP, "--output", "./prefs.json"], 2, "is also an input"),
    Case("output-special-fs", ["update", *S, *P, *CAP, "-o", "/proc/agent-ft-out.json"], 2, "cannot create files in '/proc'"),
    Case("record-out-missing-folder", ["record", "--config", "ok.yaml", "-m", "hi", "--out", "nodir/s.jsonl"], 2,
         "--out 'nodir/s.jsonl': folder 'nodir' does not exist"),
    Case("record-out-is-config", ["record", "--config", "ok.yaml", "-m", "hi", "--out", "ok.yaml"], 2, "is also an input"),
]
ARGUMENT_CASES = [
    Case("client-arg-malformed", ["update", *S, *P, "--client", CAPTURE, "--client-arg", "capture_path"], 2,
         "--client-arg #1: expected KEY=VALUE"),
    Case("kwarg-malformed", ["update", *S, *P, *CAP, "--kwarg", "1x=2"], 2, "--kwarg #1 (key '1x'): expected KEY=VALUE"),
    Case("last-zero", ["inspect", *S, "--last", "0"], 2, "--last"),
    Case("missing-session-option", ["inspect"], 2, "--session"),
    Case("missing-prefs-option", ["update", *S, *CAP], 2, "--prefs"),
    Case("unknown-option", ["inspect", *S, "--colour"], 2, "--colour"),
    Case("unknown-command", ["frobnicate"], 2, "frobnicate"),
]
CASES = SESSION_CASES + PREFS_CASES + CLIENT_CASES + CONFIG_CASES + OUTPUT_CASES + ARGUMENT_CASES

USAGE = {c.id for c in CASES if c.id in {"last-zero", "missing-session-option", "missing-prefs-option", "unknown-option",
                                         "unknown-command"}}


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
    }


def check_refused(case: Case, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run one case and check everything the table promises about it."""
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
