"""Retention: old decisions and expired search cache rows are pruned, but the latest decision of every request and
item stays, so `explain` and `status` can still say why (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from seerbridge.store import repo
from seerbridge.store.models import SearchCache

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)

Sessions = async_sessionmaker[Any]


async def _world(sessions: Sessions) -> None:
    """Requests 7 and 8 share the item movie:603 (a duplicate request); request 9 wants a season."""
    async with sessions.begin() as s:
        for rid, tmdb in ((7, 603), (8, 603), (9, 1396)):
            await repo.upsert_request(s, id=rid, media_type="movie", tmdb_id=tmdb, is4k=False, seasons=[], title="M")
        await repo.upsert_item(s, key="movie:603", kind="movie", tmdb_id=603, season=None, is4k=False, wanted=[])
        await repo.upsert_item(s, key="tv:1396:1", kind="season", tmdb_id=1396, season=1, is4k=False, wanted=[1])
        for rid, key in ((7, "movie:603"), (8, "movie:603"), (9, "tv:1396:1")):
            await repo.link_request_item(s, rid, key)


async def _decide(sessions: Sessions, rid: int, key: str | None, summary: str, at: datetime) -> None:
    async with sessions.begin() as s:
        await repo.add_decision(s, request_id=rid, item_key=key, summary=summary, payload=[], now=at)


async def _summaries(sessions: Sessions, rid: int) -> list[str]:
    async with sessions() as s:
        return [d.summary for d in await repo.decisions_of_request(s, rid)]


async def test_old_decisions_go_but_the_latest_of_each_request_and_item_stays(sessions: Sessions) -> None:
    await _world(sessions)
    now = T0 + 200 * DAY
    old = now - 100 * DAY
    await _decide(sessions, 7, "movie:603", "7: first look", old - 10 * DAY)
    await _decide(sessions, 7, "movie:603", "7: second look", old - 5 * DAY)
    await _decide(sessions, 7, None, "7: no plan", old - 4 * DAY)  # a decision about the request as a whole
    await _decide(sessions, 8, "movie:603", "8: old", old)
    await _decide(sessions, 8, "movie:603", "8: recent", now - 10 * DAY)
    await _decide(sessions, 9, "tv:1396:1", "9: only one, long ago", old - 50 * DAY)
    await _decide(sessions, 9, "tv:1396:1", "9: within the window a", now - 89 * DAY)
    await _decide(sessions, 9, "tv:1396:1", "9: within the window b", now - DAY)

    async with sessions.begin() as s:
        pruned = await repo.prune(s, now=now, decisions_keep_days=90)

    assert await _summaries(sessions, 7) == ["7: second look", "7: no plan"]  # the latest of each of its groups
    assert await _summaries(sessions, 8) == ["8: recent"]
    assert await _summaries(sessions, 9) == ["9: within the window a", "9: within the window b"]
    assert pruned.decisions == 3 and pruned.search_cache == 0
    async with sessions() as s:
        latest = await repo.latest_decision_of_item(s, "movie:603")
        assert latest is not None and latest.summary == "8: recent"
        assert (await repo.latest_decision(s, 7)).summary == "7: no plan"  # type: ignore[union-attr]

    async with sessions.begin() as s:  # nothing more to do: a second prune changes nothing
        assert (await repo.prune(s, now=now, decisions_keep_days=90)).decisions == 0


async def test_a_keep_of_zero_days_keeps_every_decision(sessions: Sessions) -> None:
    await _world(sessions)
    await _decide(sessions, 7, "movie:603", "a", T0)
    await _decide(sessions, 7, "movie:603", "b", T0 + DAY)
    async with sessions.begin() as s:
        assert (await repo.prune(s, now=T0 + 3650 * DAY, decisions_keep_days=0)).decisions == 0
    assert await _summaries(sessions, 7) == ["a", "b"]


async def test_expired_search_cache_rows_go_and_fresh_ones_stay(sessions: Sessions) -> None:
    async with sessions.begin() as s:
        await repo.cache_put(s, "movie/tt1", {"streams": [1]}, now=T0, ttl_s=3600)  # expired an hour later
        await repo.cache_put(s, "movie/tt2", {"streams": [2]}, now=T0 + 2 * DAY, ttl_s=3600)
        await repo.cache_put(s, "movie/tt3", {"streams": [3]}, now=T0 + 2 * DAY - timedelta(minutes=20), ttl_s=3600)
    now = T0 + 2 * DAY + timedelta(minutes=30)
    async with sessions.begin() as s:
        pruned = await repo.prune(s, now=now, decisions_keep_days=90)
    assert pruned.search_cache == 1
    async with sessions() as s:
        assert set(await s.scalars(select(SearchCache.query))) == {"movie/tt2", "movie/tt3"}
        assert await repo.cache_get(s, "movie/tt2", now=now) == {"streams": [2]}
    async with sessions.begin() as s:  # tt3 expires at exactly this moment: cache_get no longer serves it
        assert (await repo.prune(s, now=now + timedelta(minutes=10), decisions_keep_days=90)).search_cache == 1
