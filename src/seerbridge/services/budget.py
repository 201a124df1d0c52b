"""Call budgets: the pacer that spaces a client's calls (hard window, no burst, adaptive on 429), daily budgets,
and the gate that holds new Real-Debrid torrents while every download slot is in use.

`Pacer` hands out one slot per HTTP attempt. Its rules, in order of strength:

1. Hard window: of any `limit` consecutive slots, the last comes at least `window_s + margin_s` after the first.
   So no `window_s`-second window ever holds more than `limit` slots, and no window the *service* measures holds
   more either, as long as a request reaches it within `margin_s` of taking its slot (Real-Debrid counts when the
   request arrives, and what sits between our slot and its arrival — the event loop, TLS, the network — varies).
2. No burst: slots are at least `(window_s + margin_s) / limit / share` apart, so the window never fills in a rush
   and the pace is even; `share` is 1 normally.
3. Adaptive: a 429 halves `share` (not below `min_share`); it then climbs back linearly to 1 over `recovery_s`.
   429s that arrive during the pause one 429 imposed are the same episode (calls already in flight) and change
   nothing; the share halves at most once per `halve_every_s` (like TCP, which halves once per round trip however
   many losses it holds), while the pause keeps doubling for 429s that follow a pause.
4. Pauses: `pause(s)` holds every slot until then (a 429 without Retry-After pauses `pause_s`, doubling while
   they keep coming, up to `max_pause_s`; each call that succeeds halves that penalty again).

Why not aiolimiter (the design's first choice, still right for simple pacing): `AsyncLimiter(1, 60/250)` does keep
grants 0.24 s apart from the very first one (its bucket starts empty and holds one), so it never lets 250 through at
once; but it measures at grant time only, with no slack for the delay before the request arrives, its float
"leak" can grant a hair early at a window's edge, and its rate cannot change at run time. The window check here is
exact (it compares clock readings, never accumulated fractions), and the clock and sleep are injectable, so the
guarantee is tested on a fake clock.

`DailyBudget` counts calls per UTC day, optionally in a store so the count survives restarts. `SlotGate` is below.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import structlog

from seerbridge.clock import now as clock_now
from seerbridge.errors import RateLimited

log = structlog.get_logger("seerbridge.budget")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class LongPause(Exception):
    """A pause is in force that is longer than the caller may wait."""

    def __init__(self, seconds: float, reason: str) -> None:
        self.seconds = seconds
        self.reason = reason
        super().__init__(f"paused for {seconds:.0f}s ({reason})")


class Pacer:
    """Slots for one client's calls; see the module docstring for the rules. `limit` 0 means no pacing (pauses only)."""

    def __init__(
        self,
        per_min: float,
        *,
        window_s: float = 60.0,
        margin_s: float = 1.0,
        recovery_s: float = 30.0,
        min_share: float = 0.25,
        halve_every_s: float = 10.0,
        pause_s: float = 1.0,
        max_pause_s: float = 60.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.per_min = per_min
        self.window_s = window_s
        self.margin_s = margin_s
        self.recovery_s = recovery_s
        self.min_share = min_share
        self.halve_every_s = halve_every_s
        self.pause_s = pause_s
        self.max_pause_s = max_pause_s
        self._clock = clock
        self._sleep = sleep
        # The hard window holds whole calls; a limit under one per window is kept by the spacing alone.
        self.limit = int(per_min * window_s / 60.0) if per_min > 0 else 0
        self._granted: deque[float] = deque(maxlen=max(self.limit, 1))
        self._last: float | None = None
        self._lock = asyncio.Lock()
        self._paused_until = -math.inf
        self._pause_reason = ""
        self._penalty_s = 0.0
        self._share_from = 1.0  # share right after the last 429
        self._slowed_at = -math.inf

    # ----- reading -----

    @property
    def share(self) -> float:
        """The share of the configured pace in use now (1 = full pace)."""
        elapsed = self._clock() - self._slowed_at
        if self.recovery_s <= 0 or elapsed >= self.recovery_s:
            return 1.0
        return min(1.0, self._share_from + (1.0 - self._share_from) * elapsed / self.recovery_s)

    @property
    def interval_s(self) -> float:
        """Least time between two slots at the current pace (0 when not paced)."""
        if self.per_min <= 0:
            return 0.0
        return (self.window_s + self.margin_s) * 60.0 / (self.per_min * self.window_s) / self.share

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._clock())

    @property
    def pause_reason(self) -> str:
        return self._pause_reason if self.paused_for > 0 else ""

    def next_slot_in(self) -> float:
        """Seconds until a slot could be granted (0 when one is free now)."""
        now = self._clock()
        return max(0.0, self._earliest(now) - now)

    # ----- acting -----

    async def acquire(self, *, max_pause_s: float | None = None) -> float:
        """Wait for a slot and take it; returns the clock reading at which it was granted. Waiters go in turn.

        With `max_pause_s`, a pause longer than that (one that began while this call waited, too) raises
        `LongPause` instead of holding the caller.
        """
        async with self._lock:
            while True:
                now = self._clock()
                if max_pause_s is not None and self.paused_for > max_pause_s:
                    raise LongPause(self.paused_for, self._pause_reason)
                wait = self._earliest(now) - now
                if wait <= 0:
                    break
                await self._sleep(wait)
            self._granted.append(now)
            self._last = now
            return now

    def pause(self, seconds: float, reason: str) -> None:
        """Hold every slot for `seconds` (extends, never shortens, a pause in force)."""
        until = self._clock() + max(0.0, seconds)
        if until > self._paused_until:
            self._paused_until = until
            self._pause_reason = reason

    def too_many(self, retry_after: float | None = None) -> float:
        """The service answered 429: pause (its Retry-After, else the doubling penalty) and slow down.

        Returns the pause in seconds. A 429 during the pause an earlier one imposed only extends it with its own
        Retry-After: it answers a call sent before we slowed down.
        """
        now = self._clock()
        same_episode = now < self._paused_until and self._pause_reason == "429"
        if not same_episode:
            self._penalty_s = min(max(self._penalty_s * 2, self.pause_s), self.max_pause_s)
            if now - self._slowed_at >= self.halve_every_s:
                self._share_from = max(self.share / 2, self.min_share)
                self._slowed_at = now
        pause = retry_after if retry_after is not None else (0.0 if same_episode else self._penalty_s)
        self.pause(pause, "429")
        return self.paused_for

    def answered(self) -> None:
        """A call succeeded: the 429 penalty shrinks back (the slowed share recovers with time on its own)."""
        if self._penalty_s:
            self._penalty_s = max(0.0, self._penalty_s / 2 - self.pause_s / 2)

    def _earliest(self, now: float) -> float:
        earliest = self._paused_until
        if self.per_min > 0:
            if self._last is not None:
                earliest = max(earliest, self._last + self.interval_s)
            if self.limit and len(self._granted) == self.limit:
                earliest = max(earliest, self._granted[0] + self.window_s + self.margin_s)
        return max(earliest, now)


ReadSlots = Callable[[], Awaitable[tuple[int, int]]]
"""Reads (slots in use, slot limit), e.g. Real-Debrid's `GET /torrents/activeCount`."""


class SlotGate:
    """Real-Debrid's active-download slots, as last seen: may a new torrent be added now?

    Nothing is known until Real-Debrid refuses a selection with 509 / `too_many_active_downloads` (21): then the
    gate closes (`full`). While it is closed, no new torrent is added, cached or not: a probe of a cached release
    asks for a slot at `selectFiles` (RD's notes name no exception for cached torrents, and the emulator refuses any
    selection while all are in use), so it would only spend four calls to meet the same 509 and delete the torrent
    again. Uncached downloads wait the same way; they are the ones that hold slots for hours. Torrents already in
    the account are still reused (no slot needed). Every `recheck_s` one caller looks at the active count (one
    call); a free slot, or `freed()` (a followed download ended), opens the gate again.
    """

    def __init__(self, read: ReadSlots, *, recheck_s: float = 60.0, clock: Clock = time.monotonic) -> None:
        self._read = read
        self.recheck_s = recheck_s
        self._clock = clock
        self._full_since: float | None = None
        self._checked_at = -math.inf
        self.in_use: tuple[int, int] | None = None  # (in use, limit) when last read
        self._lock = asyncio.Lock()

    @property
    def is_full(self) -> bool:
        return self._full_since is not None

    def full(self) -> None:
        """Real-Debrid refused a selection for lack of a slot."""
        now = self._clock()
        if self._full_since is None:
            self._full_since = now
            log.warning(
                "every Real-Debrid download slot is in use: new torrents wait until one is free",
                recheck_s=self.recheck_s,
            )
        self._checked_at = now

    def freed(self) -> None:
        """A download we followed ended (finished, failed or deleted): a slot is probably free."""
        if self._full_since is not None:
            self._full_since = None
            log.info("a Real-Debrid download slot is free again")

    async def has_room(self) -> bool:
        """True unless the slots are known full; when full, rereads the count at most once per `recheck_s`."""
        if self._full_since is None:
            return True
        async with self._lock:
            if self._full_since is None:
                return True
            if self._clock() - self._checked_at < self.recheck_s:
                return False
            self._checked_at = self._clock()
            used, limit = await self._read()
            self.in_use = (used, limit)
            if used < limit:
                self.freed()
                return True
            return False

    def describe(self) -> str | None:
        """A line for /healthz and status while the slots are full; None otherwise."""
        if self._full_since is None:
            return None
        seen = f" ({self.in_use[0]}/{self.in_use[1]})" if self.in_use else ""
        return f"all download slots in use{seen}; new torrents wait for one"


class CallCountStore(Protocol):
    """Where a daily budget keeps its count (the store's `call_counts` table, in the running app)."""

    async def used(self, day: date, service: str) -> int: ...

    async def spend(self, day: date, service: str, endpoint: str) -> None: ...


def _utc_today() -> date:
    return clock_now().date()


def seconds_to_next_day(now: datetime) -> float:
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return max(1.0, (tomorrow - now).total_seconds())


class DailyBudget:
    """At most `limit` calls per UTC day (0 = no limit). Each call is written to the store before it is sent, and
    the day's count is read back from the store when the day (or the process) starts, so restarts keep it."""

    def __init__(
        self,
        service: str,
        limit: int,
        *,
        setting: str = "daily_budget",
        now: Callable[[], datetime] = clock_now,
    ) -> None:
        self.service = service
        self.limit = limit
        self.setting = setting
        self._now = now
        self._store: CallCountStore | None = None
        self._day: date | None = None
        self._used = 0
        self._lock = asyncio.Lock()

    def keep_in(self, store: CallCountStore) -> None:
        """Count in `store` from now on (the in-memory count is re-read from it at the next call)."""
        self._store = store
        self._day = None

    @property
    def used(self) -> int:
        """Calls counted today (as far as this process knows before its first call of the day)."""
        return self._used if self._day == self._now().date() else 0

    async def spend(self, endpoint: str) -> None:
        """Count one call, or raise RateLimited (error `daily_budget`, retry_after = until the next UTC day)."""
        if self.limit <= 0:
            return
        async with self._lock:
            now = self._now()
            day = now.date()
            if day != self._day:
                self._used = await self._store.used(day, self.service) if self._store is not None else 0
                self._day = day
            if self._used >= self.limit:
                raise RateLimited(
                    self.service,
                    endpoint,
                    f"daily budget of {self.limit} calls used ({self.service}.{self.setting})",
                    error="daily_budget",
                    retry_after=round(seconds_to_next_day(now), 1),
                )
            self._used += 1
            if self._store is not None:
                await self._store.spend(day, self.service, endpoint)


__all__ = ["CallCountStore", "DailyBudget", "LongPause", "Pacer", "ReadSlots", "SlotGate", "seconds_to_next_day"]
