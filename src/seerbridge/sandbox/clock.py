"""Virtual time for the emulators: real time scaled by a speed factor, plus manual jumps."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, date, datetime, timedelta


class VirtualClock:
    """A clock that starts at `start`, runs `speed` times faster than real time, and can be advanced by hand.

    Emulators read time only through this, so a test can move a download forward an hour without waiting.
    """

    def __init__(self, start: datetime | None = None, *, speed: float = 1.0) -> None:
        self._start = (start or datetime.now(UTC)).astimezone(UTC)
        self._real_start = time.monotonic()
        self._offset = 0.0
        self._speed = speed
        self._lock = threading.Lock()

    @property
    def speed(self) -> float:
        return self._speed

    def elapsed(self) -> float:
        """Virtual seconds since the clock started."""
        with self._lock:
            return (time.monotonic() - self._real_start) * self._speed + self._offset

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.elapsed())

    def today(self) -> date:
        return self.now().date()

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds

    async def sleep(self, seconds: float) -> None:
        """Pass a wait of the program's by moving the clock forward (seerbridge.clock.sleep calls this)."""
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)  # still a yield point, as a real wait is

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        with self._lock:
            now_real = time.monotonic()
            self._offset += (now_real - self._real_start) * self._speed
            self._real_start = now_real
            self._speed = speed


def js_date(moment: datetime) -> str:
    """The JavaScript Date.toJSON() form used by Real-Debrid and Seerr: ISO-8601 UTC with milliseconds and Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
