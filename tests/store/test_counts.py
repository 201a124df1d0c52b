"""Cumulative counts (calls per request, events per request, calls no request owns, calls per day) under concurrent
writers: each adds in its own session and transaction, and no addition is lost (SQLite file, and PostgreSQL when
SEERBRIDGE_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, DateTime, column, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge.services.calls import CallLedger
from seerbridge.store import repo
from seerbridge.store.db import open_database
from seerbridge.store.migrate import alembic_config
from seerbridge.store.models import Base

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DAY = date(2026, 11, 24)
# Enough writers that, with a read-merge-write, several read the same old value before any of them writes back.
WRITERS = 8
ROUNDS = 3

Sessions = async_sessionmaker[Any]


def _ledger(*calls: tuple[str, str], events: dict[str, int] | None = None) -> CallLedger:
    ledger = CallLedger()
    for service, endpoint in calls:
        ledger.record(service, endpoint)
    for name, n in (events or {}).items():
        ledger.note(name, n)
    return ledger


async def _request(sessions: Sessions, rid: int = 7) -> None:
    async with sessions.begin() as s:
        await repo.upsert_request(s, id=rid, media_type="movie", tmdb_id=603, is4k=False, seasons=[], title="M", now=T0)


async def _all_at_once(sessions: Sessions, add: Callable[[AsyncSession], Awaitable[None]]) -> None:
    """WRITERS tasks, each adding ROUNDS times, every addition in a session and transaction of its own."""

    async def writer() -> None:
        for _ in range(ROUNDS):
            async with sessions.begin() as s:
                await add(s)

    await asyncio.gather(*(writer() for _ in range(WRITERS)))


async def test_concurrent_writers_lose_no_request_call_or_event(sessions: Sessions) -> None:
    await _request(sessions)
    ledger = _ledger(("torrentio", "stream/movie"), ("realdebrid", "torrents/info"), ("realdebrid", "torrents/info"))

    async def add(s: AsyncSession) -> None:
        await repo.add_request_calls(s, 7, ledger)
        await repo.add_request_counters(s, 7, {"search_cache_hit": 1, "search_cache_miss": 2})

    await _all_at_once(sessions, add)
    n = WRITERS * ROUNDS
    async with sessions() as s:
        rec = await repo.get_request(s, 7)
    assert rec is not None
    assert rec.calls == {"torrentio": {"stream/movie": n}, "realdebrid": {"torrents/info": 2 * n}}
    assert rec.counters == {"search_cache_hit": n, "search_cache_miss": 2 * n}


async def test_concurrent_writers_lose_no_shared_call(sessions: Sessions) -> None:
    ledger = _ledger(("realdebrid", "torrents"), ("seerr", "request"), ("seerr", "request"))

    async def add(s: AsyncSession) -> None:
        await repo.add_shared_calls(s, ledger)

    await _all_at_once(sessions, add)
    n = WRITERS * ROUNDS
    async with sessions() as s:
        assert await repo.shared_calls(s) == {"realdebrid": {"torrents": n}, "seerr": {"request": 2 * n}}


async def test_concurrent_writers_lose_no_daily_call(sessions: Sessions) -> None:
    ledger = _ledger(("torrentio", "stream/movie"))

    async def add(s: AsyncSession) -> None:
        await repo.add_call_counts(s, DAY, ledger)

    await _all_at_once(sessions, add)
    async with sessions() as s:
        assert await repo.calls_on(s, DAY, "torrentio") == WRITERS * ROUNDS


async def test_counts_add_up_and_minus_takes_out_what_requests_were_given(sessions: Sessions) -> None:
    await _request(sessions)
    async with sessions.begin() as s:
        first = await repo.add_request_calls(s, 7, _ledger(("torrentio", "stream/movie")))
        await repo.add_request_counters(s, 7, {})
        await repo.add_shared_calls(
            s,
            _ledger(("realdebrid", "torrents"), ("realdebrid", "torrents/info"), ("realdebrid", "torrents/info")),
            minus=_ledger(("realdebrid", "torrents/info"), ("realdebrid", "torrents/info")),
        )
        await repo.add_shared_calls(s, CallLedger())
    assert first.calls == {"torrentio": {"stream/movie": 1}}  # the record returned carries the new count
    async with sessions.begin() as s:
        second = await repo.add_request_calls(s, 7, _ledger(("torrentio", "stream/movie"), ("realdebrid", "x")))
    assert second.calls == {"torrentio": {"stream/movie": 2}, "realdebrid": {"x": 1}}
    async with sessions() as s:
        assert await repo.shared_calls(s) == {"realdebrid": {"torrents": 1}}  # nothing at 0 or below is kept
        (listed,) = await repo.list_requests(s)
        assert listed.calls == second.calls and listed.counters == {}


# ----- the migration from JSON columns to rows -----

BEFORE_ROWS = "20261206_0005"  # the last revision that kept counts as JSON (requests.calls, .counters, app state)


def _drift(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migration_keeps_every_count_and_its_downgrade_gives_them_back(db_url: str) -> None:
    requests = table(
        "requests",
        *(column(c) for c in ("id", "media_type", "tmdb_id", "is4k", "title", "state", "attempts")),
        *(column(c, DateTime(timezone=True)) for c in ("first_seen_at", "updated_at")),
        *(column(c, JSON()) for c in ("seasons", "calls", "counters")),
    )
    state = table("app_state", column("key"), column("value"), column("updated_at", DateTime(timezone=True)))
    old_calls = {"torrentio": {"stream/movie": 3}, "realdebrid": {"torrents/info": 5, "torrents/addMagnet": 1}}
    engine, sessions = await open_database(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), BEFORE_ROWS))
            described = {"media_type": "movie", "tmdb_id": 603, "is4k": False, "title": "M", "state": "new"}
            at = {"attempts": 0, "first_seen_at": T0, "updated_at": T0, "seasons": []}
            await conn.execute(
                requests.insert().values(id=7, **described, **at, calls=old_calls, counters={"search_cache_hit": 4})
            )
            await conn.execute(requests.insert().values(id=8, **described, **at, calls={}, counters={}))
            shared = '{"realdebrid": {"torrents": 9}, "seerr": {"request": 2}}'
            await conn.execute(state.insert().values(key="calls.shared", value=shared, updated_at=T0))
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
        async with sessions.begin() as s:
            first, second = sorted(await repo.list_requests(s), key=lambda r: r.id)
            assert (first.calls, first.counters) == (old_calls, {"search_cache_hit": 4})
            assert (second.calls, second.counters) == ({}, {})
            assert await repo.shared_calls(s) == {"realdebrid": {"torrents": 9}, "seerr": {"request": 2}}
            assert await repo.get_state(s, "calls.shared") is None  # moved, not copied
            await repo.add_request_calls(s, 7, _ledger(("torrentio", "stream/movie")))
            await repo.add_shared_calls(s, _ledger(("seerr", "request")))
        async with engine.connect() as conn:
            assert await conn.run_sync(_drift) == []

        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), BEFORE_ROWS))
        async with engine.connect() as conn:
            rows = {r.id: (r.calls, r.counters) for r in await conn.execute(select(requests))}
            shared_back = (await conn.execute(select(state.c.value).where(state.c.key == "calls.shared"))).scalar()
            items = (await conn.execute(text("SELECT count(*) FROM request_items"))).scalar()
        assert rows == {
            7: ({**old_calls, "torrentio": {"stream/movie": 4}}, {"search_cache_hit": 4}),
            8: ({}, {}),
        }
        assert json.loads(shared_back) == {"realdebrid": {"torrents": 9}, "seerr": {"request": 3}}
        assert items == 0
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
        async with sessions() as s:
            assert (await repo.get_request(s, 7)).calls["torrentio"] == {"stream/movie": 4}  # type: ignore[union-attr]
    finally:
        await engine.dispose()


async def test_the_migration_leaves_what_refers_to_requests_alone(db_url: str) -> None:
    """On SQLite, rebuilding `requests` to drop its JSON columns would delete (ON DELETE CASCADE) every row that
    refers to a request: the columns are dropped in place."""
    engine, sessions = await open_database(db_url)
    try:
        await _request(sessions)
        async with sessions.begin() as s:
            await repo.upsert_item(s, key="movie:603", kind="movie", tmdb_id=603, season=None, is4k=False, wanted=[])
            await repo.link_request_item(s, 7, "movie:603")
            await repo.add_decision(s, request_id=7, item_key="movie:603", summary="picked one", payload=[], now=T0)
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), BEFORE_ROWS))
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
        async with sessions() as s:
            assert [i.key for i in await repo.items_of_request(s, 7)] == ["movie:603"]
            assert len(await repo.decisions_of_request(s, 7)) == 1
    finally:
        await engine.dispose()
