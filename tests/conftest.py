"""Shared fixtures: the reference files beside the project, and an isolated data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"

# Fixtures shared by the usage-export simulator tests, the hand-built cost month and delivery
# history, the demo run once per session, and the hostile corpus's seeded lake.
pytest_plugins = ["simulator_helpers", "cost_month", "delivery_history", "demo_run", "hostile_usage"]


@pytest.fixture(scope="session")
def refs_dir() -> Path:
    refs = SHARED / "refs"
    assert refs.is_dir(), f"reference files not found at {refs}: shared/ must sit beside the project"
    return refs


@pytest.fixture
def ciwatch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "ciwatch_home"
    monkeypatch.setenv("CIWATCH_HOME", str(home))
    return home
