"""Plan against the Seerr emulator as Seerr 3.1.0 answers: media rows without an IMDb id, shows listing Specials."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest

from seerbridge.config import SeerrSettings
from seerbridge.domain.media import Title
from seerbridge.pipeline.plan import describe_title, plan_request
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.seerr import create_app
from seerbridge.services.calls import CallLedger
from seerbridge.services.seerr import SeerrClient

TODAY = date(2026, 11, 24)


class _EmptyLibrary:
    async def present_episodes(self, title: Title, *, is4k: bool = False) -> dict[int, set[int]]:
        return {}

    async def has_movie(self, title: Title, *, is4k: bool = False) -> bool:
        return False


async def _nothing_owned(key: str) -> frozenset[int]:
    return frozenset()


@pytest.fixture
async def seerr_and_paths(starter: Scenario) -> AsyncIterator[tuple[SeerrClient, list[str]]]:
    app = create_app(starter, VirtualClock(datetime(2026, 11, 24, 12, tzinfo=UTC), speed=0))
    inner = httpx.ASGITransport(app=app)
    paths: list[str] = []

    class Spy(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            paths.append(request.url.path)
            return await inner.handle_async_request(request)

    settings = SeerrSettings(url="http://seerr.sandbox", api_key=starter.keys["seerr"], timeout_s=2.0, retries=3)
    async with SeerrClient(settings, transport=Spy(), ledger=CallLedger()) as client:
        yield client, paths


async def test_the_imdb_id_comes_from_the_details_when_the_media_row_has_none(
    seerr_and_paths: tuple[SeerrClient, list[str]],
) -> None:
    seerr, _ = seerr_and_paths
    for request_id, imdb_id in ((1, "tt0063350"), (3, "tt0903747")):
        request = await seerr.request(request_id)
        assert request.media.imdb_id is None
        assert (await describe_title(request, seerr)).imdb_id == imdb_id


async def test_a_request_for_seasons_one_and_two_never_reads_or_wants_the_specials(
    seerr_and_paths: tuple[SeerrClient, list[str]],
) -> None:
    seerr, paths = seerr_and_paths
    request = await seerr.request(3)  # Breaking Bad, seasons 1 and 2; TMDB also lists season 0 "Specials"
    title = await describe_title(request, seerr)
    assert 0 in [s.season_number for s in (await seerr.tv(title.tmdb_id)).seasons]
    paths.clear()
    plan = await plan_request(
        request,
        title,
        seerr=seerr,
        library=_EmptyLibrary(),  # type: ignore[arg-type]
        owned=_nothing_owned,
        today=TODAY,
    )
    # Season 1 is AVAILABLE in Seerr (the starter's library) and this Jellyfin lists nothing of the show, so Seerr's
    # word leaves it out (see plan_request); season 2 is wanted, the specials never are.
    assert [w.season for w in plan.wanted] == [2]
    assert paths == ["/api/v1/tv/1396/season/1", "/api/v1/tv/1396/season/2"]
