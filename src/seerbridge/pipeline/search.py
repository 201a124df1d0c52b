"""Search: Torrentio queries, answered from the store's cache while fresh, turned into selection candidates."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge import clock
from seerbridge.domain.release import Candidate
from seerbridge.pipeline.candidates import to_candidate
from seerbridge.services.calls import note_event
from seerbridge.services.torrentio import Stream, TorrentioClient
from seerbridge.store import repo

Now = Callable[[], datetime]

# Events counted on the active call ledgers (per request, in `requests.counters`), once per query while the cache is on.
SEARCH_CACHE_HIT = "search_cache_hit"
SEARCH_CACHE_MISS = "search_cache_miss"


def _utcnow() -> datetime:
    return clock.now()


class Searcher:
    """Torrentio with a cache in the store: a query answered within `ttl_s` is not asked again, even after a restart."""

    def __init__(
        self,
        torrentio: TorrentioClient,
        sessions: async_sessionmaker[AsyncSession],
        *,
        ttl_s: float,
        max_name_chars: int,
        now: Now = _utcnow,
    ) -> None:
        self._torrentio = torrentio
        self._sessions = sessions
        self._ttl_s = ttl_s
        self._max_chars = max_name_chars
        self._now = now

    async def movie(self, imdb_id: str) -> list[Candidate]:
        return await self._query(f"movie/{imdb_id}", lambda: self._torrentio.movie_streams(imdb_id))

    async def episode(self, imdb_id: str, season: int, episode: int) -> list[Candidate]:
        return await self._query(
            f"series/{imdb_id}:{season}:{episode}",
            lambda: self._torrentio.episode_streams(imdb_id, season, episode),
        )

    async def _query(self, query: str, fetch: Callable[[], Any]) -> list[Candidate]:
        streams = await self._cached(query)
        if self._ttl_s > 0:
            note_event(SEARCH_CACHE_HIT if streams is not None else SEARCH_CACHE_MISS)
        if streams is None:
            streams = await fetch()
            if self._ttl_s > 0:
                async with self._sessions.begin() as session:
                    payload = [dataclasses.asdict(s) for s in streams]
                    await repo.cache_put(session, query, payload, now=self._now(), ttl_s=self._ttl_s)
        return [to_candidate(s, self._max_chars) for s in streams]

    async def _cached(self, query: str) -> list[Stream] | None:
        if self._ttl_s <= 0:
            return None
        async with self._sessions() as session:
            payload = await repo.cache_get(session, query, now=self._now())
        if payload is None:
            return None
        try:
            return [Stream(**{**item, "languages": tuple(item.get("languages", ()))}) for item in payload]
        except TypeError:
            return None  # written by another version: ask again
