"""Issue #9 item 7: ``validate`` checks exactly the client ``update`` will import, however it is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bad_input import good_session
from typer.testing import CliRunner

from agent_ft_cli.cli import app

runner = CliRunner()
GOOD = "clientpkg.clients:CaptureClient"
BROKEN = "clientpkg.clients:MissingMethods"


def _session(work: Path, recorded: list[str]) -> Path:
    lines = good_session().split(b"\n")
    header = json.loads(lines[0])
    header["agents"][0]["model_clients"] = recorded
    path = work / "s.jsonl"
    path.write_bytes(json.dumps(header).encode() + b"\n" + b"\n".join(lines[1:]))
    return path


def _config(work: Path, client: str) -> Path:
    path = work / "pair.yaml"
    path.write_text(
        "agents:\n  assistant:\n    class: AssistantAgent\n  user:\n    class: UserProxyAgent\n"
        f"update: assistant\npeer: user\nclient:\n  path: {client}\n"
    )
    return path


def _both(session: Path, *extra: str) -> tuple[object, object, str | None]:
    (session.parent / "prefs.json").write_text("[]")
    validated = runner.invoke(app, ["validate", "-s", str(session), "--json", *extra])
    updated = runner.invoke(app, ["update", "-s", str(session), "--prefs", str(session.parent / "prefs.json"), "--json", *extra])
    checks = {c["name"]: c for c in json.loads(validated.stdout)["checks"]} if validated.stdout else {}
    detail = checks.get("client", {}).get("detail")
    return validated, updated, detail


@pytest.mark.parametrize(
    ("recorded", "extra", "expect_exit", "named"),
    [
        ([BROKEN], ("--client", GOOD), 0, GOOD),  # the given client beats the recorded one, in both
        ([GOOD], ("--client", BROKEN), 4, BROKEN),
        ([BROKEN], ("config",), 0, GOOD),  # the config's client beats the recorded one
        ([GOOD], ("--trust-session-client",), 0, GOOD),  # the recorded one when nothing else names a client
        ([GOOD], (), 2, None),  # ... and only with the user's consent, in both
        ([BROKEN], ("--trust-session-client",), 4, BROKEN),
        (["__main__:Notebook"], ("--trust-session-client",), 4, None),  # a script's __main__ class: never, in both
        ([GOOD, BROKEN], ("--trust-session-client",), 4, None),  # two recorded clients: neither is guessed
    ],
)
def test_validate_and_update_use_the_same_client(
    isolated: Path, recorded: list[str], extra: tuple[str, ...], expect_exit: int, named: str | None
) -> None:
    session = _session(isolated, recorded)
    if extra == ("config",):
        extra = ("--config", str(_config(isolated, GOOD)))
    validated, updated, detail = _both(session, *extra)
    assert validated.exit_code == updated.exit_code == expect_exit, (validated.output, updated.output)  # type: ignore[attr-defined]
    if named is not None:
        assert detail is not None and named in detail
    if expect_exit:
        assert detail is not None  # the client check failed, as update did
