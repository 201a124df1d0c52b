"""Circuit breaker per service: after N outages in a row, calls fail fast for a cooldown; one trial call reopens.

Sans-I/O: the breaker never calls anything. `ServiceHttp` asks `admit()` before each attempt and reports what came
of it. What counts as an outage is decided there: no connection, no answer in time, or a 5xx answer. Any other
answer (a 4xx included) proves the service is up and counts as a success.

The transitions, all of them (no report is ever refused: answers arrive in any order):

    state      event                             next       effect
    closed     success                           closed     outage count back to 0
    closed     outage (count < threshold)        closed     count + 1
    closed     outage (count reaches it)         open       fail fast for `cooldown`; log "down" once
    open       admit, cooldown not over          open       CircuitOpen raised; nothing is sent
    open       admit, cooldown over              half_open  this caller's call is the trial (gets its `Trial`)
    open       success (a call sent earlier)     closed     the service answered after all; log "back" once
    open       outage (a call sent earlier)      open       nothing: already counted as down
    half_open  admit                             half_open  CircuitOpen raised: the trial is out
    half_open  the trial's success               closed     cooldown back to its first value; log "back" once
    half_open  the trial's outage                open       cooldown doubles (up to the cap)
    half_open  the trial abandoned (cancelled)   open       cooldown already over: the next caller is the trial
    half_open  success (not the trial)           closed     as for open
    half_open  outage (not the trial)            half_open  nothing: only the trial decides
    any        a stale trial abandoned           same       nothing: it holds no slot any more

"The trial" is the `Trial` token handed out by the `admit` that moved the breaker to half-open, and only while that
half-open period lasts. Calls answer late and out of order (a call sent before the breaker opened may answer while
the trial is out, and close it), so a trial whose period has ended is *stale*: its outcome is recorded like any
other call's, and it can never decide, or free the slot of, a later trial.

A threshold of 0 turns the breaker off (it never opens).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog

from seerbridge.clock import now as clock_now
from seerbridge.errors import ServiceUnavailable

log = structlog.get_logger("seerbridge.breaker")


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Trial:
    """The token of one half-open trial call; compared by identity, so a stale one never matches a later trial."""

    __slots__ = ()


class CircuitOpen(ServiceUnavailable):
    """The service's breaker is open: the call was not sent. Not retried (the cooldown says when to try again)."""

    retryable = False

    def __init__(
        self, service: str, endpoint: str, message: str, *, until: datetime | None, retry_after: float
    ) -> None:
        self.until = until
        self.retry_after = retry_after  # seconds until a trial call may go (0: a trial is out now)
        super().__init__(service, endpoint, message, error="circuit_open")


@dataclass(frozen=True)
class BreakerView:
    """What a breaker says about its service, for logs, `/healthz` and `seerbridge status`."""

    service: str
    state: BreakerState
    outages: int  # in a row
    since: datetime | None  # when it (last) opened
    until: datetime | None  # when an open breaker lets a trial through
    last_error: str

    @property
    def down(self) -> bool:
        return self.state is not BreakerState.CLOSED

    def describe(self) -> str:
        if self.state is BreakerState.CLOSED:
            return "up"
        if self.state is BreakerState.HALF_OPEN:
            return f"down, trying again now (last error: {self.last_error})"
        until = self.until.strftime("%Y-%m-%d %H:%M:%S UTC") if self.until else "?"
        return f"down: open until {until} after {self.outages} failures in a row (last error: {self.last_error})"

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "outages": self.outages,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "last_error": self.last_error,
            "summary": self.describe(),
        }


class CircuitBreaker:
    """One service's breaker; `clock` (monotonic seconds) and `wall` (for display) are injectable for tests."""

    def __init__(
        self,
        service: str,
        *,
        threshold: int = 5,
        cooldown_s: float = 30.0,
        max_cooldown_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = clock_now,
    ) -> None:
        self.service = service
        self.threshold = threshold
        self.first_cooldown_s = cooldown_s
        self.max_cooldown_s = max(max_cooldown_s, cooldown_s)
        self._clock = clock
        self._wall = wall
        self.state = BreakerState.CLOSED
        self.outages = 0
        self.cooldown_s = cooldown_s
        self._open_until = 0.0
        self._opened_at: float | None = None
        self._since: datetime | None = None
        self._last_error = ""
        self._trial: Trial | None = None  # the trial out now; set exactly while half-open
        self.trips = 0  # times it opened (for tests and metrics)

    # ----- asking -----

    def admit(self, endpoint: str) -> Trial | None:
        """May a call be sent now? Raises CircuitOpen if not; returns the `Trial` when this call is the half-open
        trial (to hand back with its outcome), else None."""
        if self.state is BreakerState.CLOSED:
            return None
        if self.state is BreakerState.OPEN and self._clock() >= self._open_until:
            self._to(BreakerState.HALF_OPEN)
            self._trial = Trial()
            log.info("trying a service again", service=self.service, endpoint=endpoint)
            return self._trial
        raise CircuitOpen(self.service, endpoint, self._refusal(), until=self._until(), retry_after=self.open_for)

    def refuse_if_open(self, endpoint: str) -> None:
        """Raise CircuitOpen if `admit` would, without changing state (a check before waiting for a slot)."""
        if self.state is BreakerState.HALF_OPEN or (
            self.state is BreakerState.OPEN and self._clock() < self._open_until
        ):
            raise CircuitOpen(self.service, endpoint, self._refusal(), until=self._until(), retry_after=self.open_for)

    def view(self) -> BreakerView:
        return BreakerView(
            self.service,
            self.state,
            self.outages,
            self._since if self.state is not BreakerState.CLOSED else None,
            self._until() if self.state is BreakerState.OPEN else None,
            self._last_error,
        )

    @property
    def open_for(self) -> float:
        """Seconds until an open breaker lets a trial through (0 when closed or due)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self._open_until - self._clock())

    # ----- reporting -----

    def success(self, *, trial: Trial | None = None) -> None:
        """The service answered (anything but a 5xx). Any call's answer proves it is up, the trial's or not, so
        `trial` changes nothing here; it is taken for symmetry with `outage`."""
        if self.state is BreakerState.CLOSED:
            self.outages = 0
            return
        down_for = self._clock() - self._opened_at if self._opened_at is not None else 0.0
        self._to(BreakerState.CLOSED)
        self.outages = 0
        self.cooldown_s = self.first_cooldown_s
        log.info("service is back", service=self.service, down_for_s=round(down_for, 1))

    def outage(self, error: str, *, trial: Trial | None = None) -> None:
        """No connection, no answer in time, or a 5xx. Only the trial out now reopens a half-open breaker."""
        self._last_error = error
        if self._owns_trial(trial):
            self.cooldown_s = min(self.cooldown_s * 2, self.max_cooldown_s)
            self.outages += 1
            self._open("the trial call failed")
            return
        if self.state is not BreakerState.CLOSED:
            return  # a call sent before it opened, beside the trial, or a stale trial: already counted
        self.outages += 1
        if self.threshold > 0 and self.outages >= self.threshold:
            self._open(f"{self.outages} failures in a row")

    def abandoned(self, trial: Trial) -> None:
        """A trial call was cancelled before it ended: if it is still the trial out, the next caller gets to try.
        Never raises: it runs while a cancellation propagates, which nothing may replace."""
        if not self._owns_trial(trial):
            return  # stale: the breaker moved on (closed, or a later trial is out) and this one holds no slot
        self._to(BreakerState.OPEN)
        self._open_until = self._clock()

    # ----- inside -----

    def _open(self, why: str) -> None:
        now = self._clock()
        first = self.state is BreakerState.CLOSED
        self._to(BreakerState.OPEN)
        self._open_until = now + self.cooldown_s
        if first:
            self._opened_at = now
            self._since = self._wall()
            self.trips += 1
            log.warning(
                "service is down; its calls fail fast until it answers again",
                service=self.service,
                reason=why,
                last_error=self._last_error,
                retry_in_s=round(self.cooldown_s, 1),
            )
        else:
            log.info("service still down", service=self.service, retry_in_s=round(self.cooldown_s, 1))

    def _owns_trial(self, trial: Trial | None) -> bool:
        return trial is not None and trial is self._trial

    def _to(self, state: BreakerState) -> None:
        self.state = state
        if state is not BreakerState.HALF_OPEN:
            self._trial = None  # the half-open period is over: its trial, whenever it answers, is stale

    def _until(self) -> datetime:
        return self._wall() + timedelta(seconds=self.open_for)

    def _refusal(self) -> str:
        if self.state is BreakerState.HALF_OPEN:
            return (
                f"{self.service} is down; a trial call is checking whether it is back (last error: {self._last_error})"
            )
        return (
            f"{self.service} is down ({self.outages} failures in a row; last error: {self._last_error}); "
            f"not calling it for {self.open_for:.0f}s more"
        )


__all__ = ["BreakerState", "BreakerView", "CircuitBreaker", "CircuitOpen", "Trial"]
