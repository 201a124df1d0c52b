"""The one clock: what the program reads as now, how a sandbox replaces it, and the loopback guard of the tests."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from seerbridge import clock
from seerbridge.sandbox.clock import VirtualClock

T0 = datetime(2026, 11, 24, 12, tzinfo=UTC)


def test_use_installs_a_clock_for_the_block_and_restores_the_one_before() -> None:
    virtual = VirtualClock(T0, speed=0)
    before = clock.current()
    with clock.use(virtual):
        assert clock.now() == T0
        assert clock.today() == T0.date()
        virtual.advance(86400)
        assert clock.today() == T0.date() + timedelta(days=1)
    assert clock.current() is before


def test_the_environment_sets_a_started_clock_that_runs_on() -> None:
    before = clock.current()
    try:
        clock.install_from_environment({clock.ENV: "2030-01-02T03:04:05Z"})
        first = clock.now()
        assert first - datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC) < timedelta(seconds=5)
        assert clock.now() >= first
    finally:
        clock.install(before)


@pytest.mark.parametrize("value", ["yesterday", "2030-01-02T03:04:05"])
def test_a_bad_clock_value_is_one_readable_error(value: str) -> None:
    with pytest.raises(ValueError, match=clock.ENV):
        clock.install_from_environment({clock.ENV: value})


def test_a_subprocess_reads_the_clock_it_is_given() -> None:
    """`seerbridge` started with SEERBRIDGE_CLOCK dates what it does by that clock, not by the machine's: the CLI's
    start (run here before a harmless command) installs it."""
    code = (
        "from typer.testing import CliRunner\n"
        "from seerbridge import cli, clock\n"
        "CliRunner().invoke(cli.app, ['config', 'example'])\n"
        "print(clock.today().isoformat())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"SEERBRIDGE_CLOCK": "2031-05-06T07:00:00+00:00", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "2031-05-06"


def test_a_bad_clock_in_the_environment_is_one_line_from_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "seerbridge", "status"],
        env={"SEERBRIDGE_CLOCK": "soon", "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "seerbridge: SEERBRIDGE_CLOCK='soon' is not an ISO-8601 time (for example 2026-11-24T12:00:00Z)"
    ]


def test_the_sandbox_hands_its_time_to_a_process_it_starts() -> None:
    from seerbridge.sandbox.scenario import load_scenario
    from seerbridge.sandbox.world import Sandbox

    world = Sandbox(load_scenario("demo"))
    started = clock.parse_start(world.env()[clock.ENV])
    assert abs(started - world.clock.now()) < timedelta(seconds=5)
    assert started.date() == load_scenario("demo").today


def test_connections_beyond_loopback_fail_loudly() -> None:
    with socket.socket() as s, pytest.raises(AssertionError, match="tests stay on loopback"):
        s.connect(("192.0.2.1", 80))  # TEST-NET-1: never reached, refused before any packet


def test_a_sandbox_running_faster_hands_its_speed_on() -> None:
    virtual = VirtualClock(T0, speed=300)
    env = clock.as_env(virtual)
    assert env[clock.ENV].endswith(" speed=300")
    before = clock.current()
    try:
        clock.install_from_environment(env)
        installed = clock.current()
        assert isinstance(installed, clock.StartedClock) and installed.speed == 300
    finally:
        clock.install(before)
    with pytest.raises(ValueError, match="speed=N"):
        clock.install_from_environment({clock.ENV: "2030-01-02T03:04:05Z fast"})
