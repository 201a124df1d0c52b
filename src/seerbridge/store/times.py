"""Times in and out of the store: always timezone-aware UTC (SQLite gives naive values back; they are UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

from seerbridge import clock


def to_store(moment: datetime | None) -> datetime:
    """A time to write: `moment` in UTC, or now when None; a naive datetime is a bug and is refused."""
    if moment is None:
        return clock.now()
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the store; pass a timezone-aware one")
    return moment.astimezone(UTC)


def from_store(moment: datetime) -> datetime:
    """A time read back, as aware UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
