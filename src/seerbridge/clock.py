"""The one clock seerbridge reads: every "now" and "today" in the program comes from here.

By default it is the wall clock (UTC). A sandboxed run replaces it: in-process (the demo, tests) with the emulators'
virtual clock through `use`, and in a subprocess through `SEERBRIDGE_CLOCK`, an ISO-8601 instant the process's
clock reads when it starts and runs on from at real speed (`seerbridge sandbox` prints it beside the URLs, so a
scenario's date drives every part of the run; `<instant> speed=N` runs it N times faster, as a sandbox started
with `--speed N` does). Elapsed-time measurements (pacing, timeouts, breakers) keep
`time.monotonic`: they measure durations, not dates, and must not jump when the clock is moved.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

ENV = "SEERBRIDGE_CLOCK"


class Clock(Protocol):
    def now(self) -> datetime: ...


class Simulated(Protocol):
    """A clock that can pass a wait by moving itself forward (the sandbox's virtual clock)."""

    async def sleep(self, seconds: float) -> None: ...


class WallClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class StartedClock:
    """Reads `start` when created and runs on `speed` times as fast as real time (monotonic, so a change of the
    system clock does not jump it)."""

    def __init__(self, start: datetime, *, speed: float = 1.0) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock's start needs a time zone (for example 2026-11-24T12:00:00Z)")
        self._start = start.astimezone(UTC)
        self._began = time.monotonic()
        self.speed = speed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._began) * self.speed)


_current: Clock = WallClock()


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _current.now().astimezone(UTC)


def today() -> date:
    """Today's date in UTC."""
    return now().date()


async def sleep(seconds: float) -> None:
    """Wait `seconds` on the program's clock: real time, except under a simulated clock, which moves forward instead
    (so tests and the demo keep Real-Debrid's slow answers on without waiting for them). For waits between reads of
    a service's state, not for pacing or timeouts, which stay on real time."""
    simulated = getattr(_current, "sleep", None)
    if simulated is not None:
        await simulated(seconds)
    else:
        await asyncio.sleep(seconds)


def current() -> Clock:
    return _current


def install(clock: Clock) -> None:
    """Make `clock` the program's clock from now on."""
    global _current
    _current = clock


@contextlib.contextmanager
def use(clock: Clock | None) -> Iterator[None]:
    """Read `clock` inside the block (None: leave the clock as it is); the previous clock is back afterwards."""
    if clock is None:
        yield
        return
    before = _current
    install(clock)
    try:
        yield
    finally:
        install(before)


def parse_start(value: str) -> datetime:
    """An ISO-8601 instant with a time zone (a trailing Z is accepted); ValueError with a readable message."""
    try:
        start = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{ENV}={value!r} is not an ISO-8601 time (for example 2026-11-24T12:00:00Z)") from None
    if start.tzinfo is None:
        raise ValueError(f"{ENV}={value!r} has no time zone (for example 2026-11-24T12:00:00Z)")
    return start


def install_from_environment(environ: dict[str, str] | None = None) -> None:
    """Install a `StartedClock` when `SEERBRIDGE_CLOCK` is set (`<instant>` or `<instant> speed=N`); raises
    ValueError for a value that is no time."""
    value = (environ if environ is not None else dict(os.environ)).get(ENV, "").strip()
    if not value:
        return
    instant, _, rest = value.partition(" ")
    speed = 1.0
    if rest.strip():
        key, _, number = rest.strip().partition("=")
        try:
            speed = float(number) if key == "speed" else -1.0
        except ValueError:
            speed = -1.0
        if speed < 0:
            raise ValueError(f"{ENV}={value!r}: after the time, only 'speed=N' (N >= 0) may follow")
    install(StartedClock(parse_start(instant), speed=speed))


def as_env(clock: Clock) -> dict[str, str]:
    """The variable that makes a subprocess read `clock`'s time now, running on at `clock`'s speed."""
    speed = getattr(clock, "speed", 1.0)
    value = clock.now().astimezone(UTC).isoformat() + ("" if speed == 1.0 else f" speed={speed:g}")
    return {ENV: value}


def wall() -> datetime:
    """The real time, whatever clock is installed: for what other processes compare (the account lease's expiry),
    which a sandbox's moved clock must not make look lapsed or alive."""
    return datetime.now(UTC)
