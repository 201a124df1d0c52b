"""Shared fixtures for tests of the Real-Debrid emulator and client: one emulator app on the `starter` scenario,
at a frozen virtual clock. Import the fixtures into a test module to use them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.realdebrid import create_app
from seerbridge.sandbox.realdebrid_state import RealDebridState
from seerbridge.sandbox.scenario import Scenario


def with_account(scenario: Scenario, **changes: Any) -> Scenario:
    """The scenario with its Real-Debrid account changed (premium days, slots, torrents ...)."""
    return scenario.model_copy(update={"realdebrid": scenario.realdebrid.model_copy(update=changes)})


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC), speed=0)


@pytest.fixture
def app(starter: Scenario, clock: VirtualClock) -> FastAPI:
    return create_app(starter, clock)


@pytest.fixture
def state(app: FastAPI) -> RealDebridState:
    emulator: RealDebridState = app.state.emulator
    return emulator


__all__ = ["app", "clock", "state", "with_account"]
