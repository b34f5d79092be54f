"""Every fault of bench/faults.py, injected into real glmcode processes talking to the fake
server: each must be recovered from or reported, with the session resumable and no file
damaged. The scenarios run side by side once; each test checks one of them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import faults  # noqa: E402


@pytest.fixture(scope="module")
def outcomes() -> dict[str, faults.Outcome]:
    return faults.run_all(workers=6)


@pytest.mark.parametrize("name", list(faults.SCENARIOS))
def test_fault(outcomes: dict[str, faults.Outcome], name: str) -> None:
    outcome = outcomes[name]
    assert outcome.ok, f"{outcome.fault}: " + "; ".join(outcome.problems)
    assert "resumed" in outcome.seen
