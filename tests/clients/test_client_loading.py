"""Each way a client import path can fail has its own message and exit code 4, through ``update`` and ``validate``
(the ``CLIENT_CASES`` of the bad-input table in ``tests/bad_input.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bad_input import CLIENT_CASES, Case, check_refused


@pytest.mark.parametrize("case", CLIENT_CASES, ids=[c.id for c in CLIENT_CASES])
def test_bad_client_is_refused_clearly(case: Case, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_refused(case, isolated, monkeypatch)
