"""When an episode counts as aired: the one rule every comparison of an air date with today goes through.

TMDB's air dates are local broadcast dates while seerbridge's today is the UTC date, so an evening episode would
count as aired before it was broadcast (and long before any release exists). An episode therefore counts as aired
from `after_days` days after its air date (`plan.aired_after_days`, 1 by default: from the day after).
"""

from __future__ import annotations

from datetime import date, timedelta


def aired_from(air_date: date, after_days: int) -> date:
    """The first day the episode counts as aired."""
    return air_date + timedelta(days=after_days)


def has_aired(air_date: date | None, today: date, after_days: int) -> bool:
    """Has the episode aired by `today`? One without an air date has not (nothing says it will)."""
    return air_date is not None and aired_from(air_date, after_days) <= today
