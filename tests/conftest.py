"""Shared fixtures: no real backoff sleeps, a fresh sandbox world per test, loud failures on the internet, and the
whole run moved in time when `SEERBRIDGE_TEST_DAYS_AHEAD` says so (`make test` runs the date-sensitive tests again
a year ahead, to show that no test depends on today's date)."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stamina
import time_machine

from seerbridge import clock
from seerbridge.sandbox.scenario import Scenario, load_scenario
from seerbridge.sandbox.world import Sandbox

# The Real-Debrid emulator fixtures (`clock`, `app`, `state`) its emulator and client tests share.
pytest_plugins = ["tests.realdebrid_world"]

DAYS_AHEAD = int(os.environ.get("SEERBRIDGE_TEST_DAYS_AHEAD", "0") or 0)
_travel: Any = None


def pytest_configure(config: pytest.Config) -> None:
    global _travel
    _guard_sockets()
    if DAYS_AHEAD:
        # The wall clock itself moves (datetime.now, date.today, time.time), ticking on from there; elapsed-time
        # readings (time.monotonic) are untouched, so pacing and timeouts behave as usual.
        _travel = time_machine.travel(datetime.now(UTC) + timedelta(days=DAYS_AHEAD), tick=True)
        _travel.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _travel is not None:
        _travel.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    if not DAYS_AHEAD:
        return None
    return f"wall clock moved {DAYS_AHEAD} days ahead: today reads {datetime.now(UTC).date().isoformat()}"


class InternetRefused(AssertionError):
    """A test tried to connect beyond loopback."""


def _guard_sockets() -> None:
    """Fail any connection to an address outside loopback (tests talk to emulators on 127.0.0.1 only)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def allowed(address: Any) -> bool:
        if not isinstance(address, tuple):  # a Unix socket (PostgreSQL's local socket, asyncio's self-pipe)
            return True
        host = str(address[0])
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return False  # a name that is not localhost would need DNS: the internet

    def connect(self: socket.socket, address: Any) -> None:
        if not allowed(address):
            raise InternetRefused(f"a test tried to reach {address!r}; tests stay on loopback")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not allowed(address):
            raise InternetRefused(f"a test tried to reach {address!r}; tests stay on loopback")
        return real_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _program_clock() -> Iterator[None]:
    """A command run in-process installs the clock its environment names; the next test starts on the wall clock."""
    yield
    clock.install(clock.WallClock())


@pytest.fixture(autouse=True)
def _cli_width_stays_in_its_test() -> Iterator[None]:
    """A command run in-process with a fixed terminal width keeps it in the CLI's process-wide state; the next test
    (which may print a table directly) must see the terminal again, whatever ran before it."""
    from seerbridge import cli

    yield
    cli._State.terminal_width = None


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
