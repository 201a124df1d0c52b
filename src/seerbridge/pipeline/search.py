"""Search: Torrentio queries, answered from the store's cache while fresh, turned into selection candidates."""

from __future__ import annotations

import asyncio
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

# Events counted on the active call ledgers (per request, in `request_counters`), once per query while the cache is on.
SEARCH_CACHE_HIT = "search_cache_hit"
SEARCH_CACHE_MISS = "search_cache_miss"


def _utcnow() -> datetime:
    return clock.now()


class _AskerGone(Exception):
    """The caller fetching for the others was cancelled before an answer: one of those waiting asks instead."""


class Searcher:
    """Torrentio with a cache in the store: a query answered within `ttl_s` is not asked again, even after a restart.

    Cached answers are kept per Torrentio configuration (`TorrentioClient.config_id`): another URL filters, sorts
    and marks cached releases differently. Concurrent callers of one query share one lookup (single flight), so two
    requests for one film ask Torrentio once; a caller that joins counts as a cache hit, having cost no call.
    """

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
        self._flights: dict[str, asyncio.Future[list[Candidate]]] = {}  # cache key → the lookup under way

    async def movie(self, imdb_id: str) -> list[Candidate]:
        return await self._query(f"movie/{imdb_id}", lambda: self._torrentio.movie_streams(imdb_id))

    async def episode(self, imdb_id: str, season: int, episode: int) -> list[Candidate]:
        return await self._query(
            f"series/{imdb_id}:{season}:{episode}",
            lambda: self._torrentio.episode_streams(imdb_id, season, episode),
        )

    async def _query(self, query: str, fetch: Callable[[], Any]) -> list[Candidate]:
        key = f"{self._torrentio.config_id}/{query}"
        noted = False
        while (flight := self._flights.get(key)) is not None:
            if not noted:
                self._note(hit=True)  # in this caller's context: its request's ledger counts it
                noted = True
            try:
                # shield: a waiting caller cancelled must not cancel the lookup the others wait for
                return list(await asyncio.shield(flight))
            except _AskerGone:
                continue  # the one asking was cancelled: the first waiter to run again asks instead
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            candidates = await self._lookup(key, fetch, noted=noted)
        except BaseException as exc:
            # Waiters get the same error (asking again at once would meet it too); if the asker was cancelled,
            # a waiter asks instead.
            flight.set_exception(exc if isinstance(exc, Exception) else _AskerGone())
            flight.exception()  # retrieved: asyncio would log it as lost when nobody waited
            raise
        else:
            flight.set_result(candidates)
        finally:
            del self._flights[key]
        return list(candidates)

    async def _lookup(self, key: str, fetch: Callable[[], Any], *, noted: bool) -> list[Candidate]:
        streams = await self._cached(key)
        if not noted:
            self._note(hit=streams is not None)
        if streams is None:
            streams = await fetch()
            if self._ttl_s > 0:
                async with self._sessions.begin() as session:
                    payload = [dataclasses.asdict(s) for s in streams]
                    await repo.cache_put(session, key, payload, now=self._now(), ttl_s=self._ttl_s)
        return [to_candidate(s, self._max_chars) for s in streams]

    def _note(self, *, hit: bool) -> None:
        if self._ttl_s > 0:
            note_event(SEARCH_CACHE_HIT if hit else SEARCH_CACHE_MISS)

    async def _cached(self, key: str) -> list[Stream] | None:
        if self._ttl_s <= 0:
            return None
        async with self._sessions() as session:
            payload = await repo.cache_get(session, key, now=self._now())
        if payload is None:
            return None
        try:
            return [Stream(**{**item, "languages": tuple(item.get("languages", ()))}) for item in payload]
        except TypeError:
            return None  # written by another version: ask again
