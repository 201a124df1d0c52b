"""Repository functions over the tables in `models.py`; callers pass an AsyncSession and own the transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from seerbridge.services.calls import CallLedger
from seerbridge.store.models import AppState, CallCount


async def get_state(session: AsyncSession, key: str) -> str | None:
    row = await session.get(AppState, key)
    return row.value if row else None


async def set_state(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(AppState, key)
    now = datetime.now(UTC)
    if row is None:
        session.add(AppState(key=key, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now


async def add_call_counts(session: AsyncSession, day: date, ledger: CallLedger) -> None:
    """Add a ledger's counts to the day's totals."""
    for (service, endpoint), n in ledger.counts.items():
        row = await session.get(CallCount, (day, service, endpoint))
        if row is None:
            session.add(CallCount(day=day, service=service, endpoint=endpoint, count=n))
        else:
            row.count += n


async def calls_on(session: AsyncSession, day: date, service: str) -> int:
    rows = await session.scalars(select(CallCount.count).where(CallCount.day == day, CallCount.service == service))
    return sum(rows)
