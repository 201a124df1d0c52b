"""Search: every source asked at once (Torrentio, Torznab indexers, Zilean), each answered from the store's cache
while fresh, merged by info hash and turned into selection candidates."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge import clock
from seerbridge.domain.media import MediaKind, Title
from seerbridge.domain.release import Candidate
from seerbridge.errors import ServiceError
from seerbridge.pipeline.candidates import to_candidate
from seerbridge.pipeline.sources import Source, TorrentioSource, merge
from seerbridge.services.calls import note_event
from seerbridge.services.streams import Stream
from seerbridge.services.torrentio import TorrentioClient
from seerbridge.store import repo

log = structlog.get_logger("seerbridge.search")

Now = Callable[[], datetime]

# Events counted on the active call ledgers (per request, in `request_counters`), once per query while the cache is on.
SEARCH_CACHE_HIT = "search_cache_hit"
SEARCH_CACHE_MISS = "search_cache_miss"


def _utcnow() -> datetime:
    return clock.now()


class _AskerGone(Exception):
    """The caller fetching for the others was cancelled before an answer: one of those waiting asks instead."""


class Searcher:
    """Every source with a cache in the store: a query answered within `ttl_s` is not asked again, even after a
    restart.

    Each source is asked at once and on its own (its pace, budget, timeout and breaker are its own): a source that
    fails is logged and left out, and the others' answers are used; only when every source fails does the search
    fail. Cached answers are kept per source configuration (`config_id`): another URL filters, sorts and marks
    cached releases differently. Concurrent callers of one query share one lookup per source (single flight), so two
    requests for one film ask each source once; a caller that joins counts as a cache hit, having cost no call.
    """

    def __init__(
        self,
        sources: TorrentioClient | Sequence[Source],
        sessions: async_sessionmaker[AsyncSession],
        *,
        ttl_s: float,
        max_name_chars: int,
        now: Now = _utcnow,
    ) -> None:
        self.sources: list[Source] = (
            [TorrentioSource(sources)] if isinstance(sources, TorrentioClient) else list(sources)
        )
        self._sessions = sessions
        self._ttl_s = ttl_s
        self._max_chars = max_name_chars
        self._now = now
        self._flights: dict[str, asyncio.Future[list[Stream]]] = {}  # cache key → the lookup under way

    @property
    def by_title(self) -> bool:
        """Whether a source searches by title (anything but Torrentio, which needs the IMDb id)."""
        return any(source.name != "torrentio" for source in self.sources)

    async def movie(self, title: Title | str) -> list[Candidate]:
        wanted = _title(title)
        query = f"movie/{wanted.imdb_id or f'tmdb{wanted.tmdb_id}'}"
        return await self._search(query, lambda source: source.movie(wanted))

    async def episode(self, title: Title | str, season: int, episode: int) -> list[Candidate]:
        wanted = _title(title)
        query = f"series/{wanted.imdb_id or f'tmdb{wanted.tmdb_id}'}:{season}:{episode}"
        return await self._search(query, lambda source: source.episode(wanted, season, episode))

    async def _search(self, query: str, ask: Callable[[Source], Any]) -> list[Candidate]:
        answers = await asyncio.gather(
            *(self._query(source, query, functools.partial(ask, source)) for source in self.sources),
            return_exceptions=True,
        )
        found: list[tuple[str, list[Stream]]] = []
        errors: list[BaseException] = []
        for source, answer in zip(self.sources, answers, strict=True):
            if isinstance(answer, BaseException):
                if not isinstance(answer, ServiceError | ValueError):
                    raise answer  # a cancellation or a bug is not a source being down
                errors.append(answer)
                if len(self.sources) > 1:
                    log.warning("a source failed; the others' answers are used", source=source.name, error=str(answer))
                continue
            found.append((source.name, answer))
        if errors and not found:
            raise errors[0]
        return [to_candidate(m.stream, self._max_chars, m.sources) for m in merge(found)]

    async def _query(self, source: Source, query: str, fetch: Callable[[], Any]) -> list[Stream]:
        key = f"{source.config_id}/{query}"
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

    async def _lookup(self, key: str, fetch: Callable[[], Any], *, noted: bool) -> list[Stream]:
        streams = await self._cached(key)
        if not noted:
            self._note(hit=streams is not None)
        if streams is None:
            streams = await fetch()
            if self._ttl_s > 0:
                async with self._sessions.begin() as session:
                    payload = [dataclasses.asdict(s) for s in streams]
                    await repo.cache_put(session, key, payload, now=self._now(), ttl_s=self._ttl_s)
        return list(streams)

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


def _title(title: Title | str) -> Title:
    """A bare IMDb id (tests, `explain`) stands for a title known by nothing else."""
    if isinstance(title, Title):
        return title
    return Title(kind=MediaKind.MOVIE, tmdb_id=0, title="", imdb_id=title)
