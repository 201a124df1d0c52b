"""Shared fixtures: no real backoff sleeps, a fresh sandbox world per test, and loud failures on the internet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stamina

from seerbridge.sandbox.scenario import Scenario, load_scenario
from seerbridge.sandbox.world import Sandbox

# The Real-Debrid emulator fixtures (`clock`, `app`, `state`) its emulator and client tests share.
pytest_plugins = ["tests.realdebrid_world"]


@pytest.fixture(autouse=True)
def _fast_retries() -> Iterator[None]:
    stamina.set_testing(True, attempts=3)
    yield
    stamina.set_testing(False)


@pytest.fixture
def starter() -> Scenario:
    return load_scenario("starter")


@pytest.fixture
def world(starter: Scenario) -> Sandbox:
    return Sandbox(starter)
