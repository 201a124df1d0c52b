"""Backoff: when a request that found nothing (or failed) is worked again. Pure; the clock is an argument.

A request climbs one step each time it ends without what it wanted and goes back to the bottom the moment it
gets it. It is due again when its wait has passed, or as soon as a requested episode has newly aired.
Nothing is given up on: the last wait repeats forever (`seerbridge retry ID` skips the wait). A settled request
(fulfilled, downloading, already available) is not worked every poll: it is looked at again after
`backoff.settled_recheck_minutes` (Seerr's change of status, a new season or a lost torrent show up then), or at
once when a requested episode airs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from seerbridge.domain.states import RequestState

# States that mean "nothing more to do until something changes": no backoff, polled as usual.
SETTLED_OK = frozenset(
    {RequestState.FULFILLED, RequestState.AVAILABLE, RequestState.ALREADY_AVAILABLE, RequestState.DOWNLOADING}
)


@dataclass(frozen=True)
class Schedule:
    next_attempt_at: datetime | None
    step: int


def after(state: RequestState, step: int, now: datetime, minutes: list[float], *, recheck_minutes: float) -> Schedule:
    """The schedule after a request ended in `state` at `now`, having been at backoff `step`."""
    if state in SETTLED_OK:
        return Schedule(now + timedelta(minutes=recheck_minutes), 0)
    wait = minutes[min(step, len(minutes) - 1)]
    return Schedule(now + timedelta(minutes=wait), step + 1)


def is_due(next_attempt_at: datetime | None, next_air_date: date | None, now: datetime) -> bool:
    """Work it now? Yes when no wait is set, the wait is over, or a requested episode aired since."""
    if next_attempt_at is None or next_attempt_at <= now:
        return True
    return next_air_date is not None and next_air_date <= now.date()


def after_work(
    state: RequestState,
    step: int,
    now: datetime,
    *,
    minutes: list[float],
    recheck_minutes: float,
    interrupted: bool = False,
    down_for: float | None = None,
    slot_wait_s: float | None = None,
    service_failed: bool = False,
) -> Schedule:
    """The schedule after a request's work ended (pure): the ladder of `after`, except that

    - an interrupted request (a stop between two steps) is due at once, its backoff untouched;
    - one whose service is down or paused (`down_for` seconds), or whose releases wait for a download slot
      (`slot_wait_s`), is due when that may change, its backoff untouched: not its fault;
    - the first failure on a service error its retries did not get past (a 5xx on an add, never repeated blindly)
      costs one poll, not the first wait; a second in a row climbs the ladder as usual.
    """
    if interrupted:
        return Schedule(None, step)
    if down_for is not None or slot_wait_s is not None:
        wait = down_for if down_for is not None else slot_wait_s
        assert wait is not None
        return Schedule(now + timedelta(seconds=max(wait, 1.0)), step)
    if service_failed and step == 0:
        return Schedule(None, step + 1)
    return after(state, step, now, minutes, recheck_minutes=recheck_minutes)
