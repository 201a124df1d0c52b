"""Search: Torrentio answers cached per Torrentio configuration, and one fetch shared by concurrent askers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from seerbridge.config import TorrentioSettings
from seerbridge.domain.release import Candidate
from seerbridge.errors import ServiceUnavailable
from seerbridge.pipeline.search import SEARCH_CACHE_HIT, SEARCH_CACHE_MISS, Searcher
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.torrentio import create_app
from seerbridge.services.calls import CallLedger, attribute_calls
from seerbridge.services.torrentio import TorrentioClient
from seerbridge.store.db import open_database
from seerbridge.store.models import SearchCache

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
NOTLD = "tt0063350"  # Night of the Living Dead: the starter scenario lists a CAM among its releases
FILTERED = "sort=qualitysize|qualityfilter=480p,scr,cam"  # Torrentio leaves the CAM out
UNFILTERED = "sort=qualitysize"


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[Any]]:
    engine, factory = await open_database(f"sqlite+aiosqlite:///{tmp_path}/seerbridge.db")
    try:
        yield factory
    finally:
        await engine.dispose()


class Torrentio:
    """The Torrentio emulator on an in-process transport, and the calls that reached it."""

    def __init__(self, scenario: Scenario) -> None:
        self.app = create_app(scenario, VirtualClock(NOW, speed=0))
        self.transport = httpx.ASGITransport(app=self.app)

    def client(self, config: str, transport: httpx.AsyncBaseTransport | None = None) -> TorrentioClient:
        settings = TorrentioSettings(
            url=SecretStr(f"http://torrentio.sandbox/{config}"), rate_limit_per_min=0, daily_budget=0, timeout_s=2.0
        )
        return TorrentioClient(settings, transport=transport or self.transport)

    def calls(self) -> list[tuple[str | None, str]]:
        return [(c.config, c.id) for c in self.app.state.emulator.stream_calls()]


@pytest.fixture
def torrentio(starter: Scenario) -> Torrentio:
    return Torrentio(starter)


class Held(httpx.AsyncBaseTransport):
    """Lets requests through to `inner` only once `release` is set; `arrived`/`second`: the first/second waits."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.arrived = asyncio.Event()
        self.second = asyncio.Event()
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        (self.second if self.arrived.is_set() else self.arrived).set()
        await self.release.wait()
        return await self.inner.handle_async_request(request)


def searcher(client: TorrentioClient, sessions: async_sessionmaker[Any], ttl_s: float = 3600) -> Searcher:
    return Searcher(client, sessions, ttl_s=ttl_s, max_name_chars=300, now=lambda: NOW)


async def test_two_concurrent_searches_for_one_film_make_one_call(
    torrentio: Torrentio, sessions: async_sessionmaker[Any]
) -> None:
    held = Held(torrentio.transport)
    async with torrentio.client(FILTERED, held) as client:
        search = searcher(client, sessions)
        first_ledger, second_ledger = CallLedger(), CallLedger()

        async def request(ledger: CallLedger) -> list[Candidate]:
            with attribute_calls(ledger):
                return await search.movie(NOTLD)

        first = asyncio.create_task(request(first_ledger))
        await held.arrived.wait()  # the first found nothing cached and is asking Torrentio, which has not answered
        second = asyncio.create_task(request(second_ledger))
        await asyncio.sleep(0)  # the second's first step: it waits for that answer (and counts a cache hit) ...
        if not second_ledger.events:
            await held.second.wait()  # ... or it reads the cache, finds nothing and asks Torrentio too
        held.release.set()
        one, two = await first, await second
        assert torrentio.calls() == [(FILTERED, NOTLD)]
        assert one and [c.info_hash for c in one] == [c.info_hash for c in two]
        assert first_ledger.events == {SEARCH_CACHE_MISS: 1}
        assert second_ledger.events == {SEARCH_CACHE_HIT: 1}  # answered without a call of its own
        assert second_ledger.total() == 0
        assert await search.movie(NOTLD) == one  # later ones come from the cache
    assert torrentio.calls() == [(FILTERED, NOTLD)]


async def test_concurrent_searches_share_one_call_with_the_cache_off(
    torrentio: Torrentio, sessions: async_sessionmaker[Any]
) -> None:
    held = Held(torrentio.transport)
    async with torrentio.client(FILTERED, held) as client:
        search = searcher(client, sessions, ttl_s=0)
        asking = [asyncio.create_task(search.episode("tt0903747", 2, 4)) for _ in range(3)]
        await held.arrived.wait()
        await asyncio.sleep(0)  # the others' first step, while the first one's answer is still to come
        held.release.set()
        answers = await asyncio.gather(*asking)
        assert torrentio.calls() == [(FILTERED, "tt0903747:2:4")]
        assert answers[0] and answers[0] == answers[1] == answers[2]
        await search.episode("tt0903747", 2, 4)  # no cache: asked again once the first answer is in
    assert torrentio.calls() == [(FILTERED, "tt0903747:2:4")] * 2


async def test_a_cached_answer_is_not_given_to_another_torrentio_configuration(
    torrentio: Torrentio, sessions: async_sessionmaker[Any]
) -> None:
    async with torrentio.client(FILTERED) as filtered, torrentio.client(UNFILTERED) as unfiltered:
        without_cam = await searcher(filtered, sessions).movie(NOTLD)
        with_cam = await searcher(unfiltered, sessions).movie(NOTLD)
        again = await searcher(filtered, sessions).movie(NOTLD)  # a new searcher, same configuration: cached
    assert torrentio.calls() == [(FILTERED, NOTLD), (UNFILTERED, NOTLD)]
    assert not any("CAM" in c.name for c in without_cam)
    assert any("CAM" in c.name for c in with_cam)
    assert [c.info_hash for c in again] == [c.info_hash for c in without_cam]


async def test_the_debrid_key_in_the_configuration_is_not_written_to_the_cache(
    torrentio: Torrentio, sessions: async_sessionmaker[Any], starter: Scenario
) -> None:
    key = starter.keys["realdebrid"]
    async with torrentio.client(f"{FILTERED}|realdebrid={key}") as client:
        assert await searcher(client, sessions).movie(NOTLD)
    async with sessions() as session:
        queries = (await session.execute(select(SearchCache.query))).scalars().all()
    assert len(queries) == 1 and queries[0].endswith(f"movie/{NOTLD}")
    assert key not in queries[0]


async def test_a_cancelled_asker_does_not_leave_the_others_without_an_answer(
    torrentio: Torrentio, sessions: async_sessionmaker[Any]
) -> None:
    held = Held(torrentio.transport)
    async with torrentio.client(FILTERED, held) as client:
        search = searcher(client, sessions)
        asker = asyncio.create_task(search.movie(NOTLD))
        await held.arrived.wait()
        joiner = asyncio.create_task(search.movie(NOTLD))
        await asyncio.sleep(0)
        asker.cancel()
        held.release.set()
        found = await joiner
        with pytest.raises(asyncio.CancelledError):
            await asker
    assert found
    assert torrentio.calls() == [(FILTERED, NOTLD)]  # the cancelled asker's call never got through


async def test_concurrent_askers_share_a_failure_and_the_next_one_asks_again(
    torrentio: Torrentio, sessions: async_sessionmaker[Any]
) -> None:
    async with torrentio.client(FILTERED) as client:
        search = searcher(client, sessions)
        torrentio.app.state.sandbox.queue("error", 3)  # every retry of the one call answers 503
        results = await asyncio.gather(search.movie(NOTLD), search.movie(NOTLD), return_exceptions=True)
        assert [type(r) for r in results] == [ServiceUnavailable, ServiceUnavailable]
        assert await search.movie(NOTLD)  # a failure is not cached
    assert torrentio.calls()[-1] == (FILTERED, NOTLD)
