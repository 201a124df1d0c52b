"""Plan: the catalogue facts a title carries (the show's years), and which episodes a season wants."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest

from seerbridge.config import SeerrSettings
from seerbridge.domain.media import MediaKind, Title
from seerbridge.pipeline.plan import describe_media, plan_request
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.seerr import create_app
from seerbridge.services.calls import CallLedger
from seerbridge.services.seerr import Episode, MediaRequest, SeasonDetails, SeerrClient

TODAY = date(2026, 11, 24)


@pytest.fixture
async def seerr(starter: Scenario) -> AsyncIterator[SeerrClient]:
    app = create_app(starter, VirtualClock(datetime(2026, 11, 24, 12, tzinfo=UTC), speed=0))
    settings = SeerrSettings(url="http://seerr.sandbox", api_key=starter.keys["seerr"], timeout_s=2.0, retries=3)
    async with SeerrClient(settings, transport=httpx.ASGITransport(app=app), ledger=CallLedger()) as client:
        yield client


async def test_a_show_knows_the_year_its_last_episode_aired(seerr: SeerrClient) -> None:
    breaking_bad = await describe_media("tv", 1396, seerr)
    assert breaking_bad.premiere == date(2008, 1, 20)
    assert breaking_bad.last_air is not None and breaking_bad.last_air.year == 2009  # seasons 1–2 in the scenario
    # Shōgun's second season is dated 2027: the span ends with what has aired, 2024.
    shogun = await describe_media("tv", 126308, seerr)
    assert shogun.last_air is not None and shogun.last_air.year == 2024
    movie = await describe_media("movie", 10331, seerr)
    assert movie.last_air is None


class _Catalogue:
    """Seerr's season details for one show, from plain (episode number, air date) pairs."""

    def __init__(self, episodes: dict[int, list[tuple[int, date]]]) -> None:
        self._episodes = episodes

    async def season(self, tmdb_id: int, season_number: int) -> SeasonDetails:
        return SeasonDetails(
            season_number=season_number,
            episodes=[
                Episode(episode_number=n, season_number=season_number, air_date=day)
                for n, day in self._episodes[season_number]
            ],
        )


class _EmptyLibrary:
    async def present_episodes(self, title: Title, *, is4k: bool = False) -> dict[int, set[int]]:
        return {}


async def _nothing_owned(key: str) -> frozenset[int]:
    return frozenset()


def _show_request(seasons: list[int]) -> MediaRequest:
    return MediaRequest.model_validate(
        {
            "id": 7,
            "status": 2,
            "type": "tv",
            "media": {"id": 70, "tmdbId": 1396, "mediaType": "tv", "status": 3},
            "seasons": [{"seasonNumber": n, "status": 2} for n in seasons],
            "createdAt": "2026-11-20T10:00:00Z",
            "updatedAt": "2026-11-20T10:00:00Z",
        }
    )


SHOW = Title(kind=MediaKind.SHOW, tmdb_id=1396, title="Breaking Bad", year=2008, imdb_id="tt0903747")


async def test_episode_zero_is_left_out_with_a_note() -> None:
    # TMDB lists an "episode 0" (an unaired pilot, a special) in some regular seasons: Torrentio numbers from 1.
    catalogue = _Catalogue({1: [(0, date(2008, 1, 1)), (1, date(2008, 1, 20)), (2, date(2008, 1, 27))]})
    plan = await plan_request(
        _show_request([1]),
        SHOW,
        seerr=catalogue,  # type: ignore[arg-type]
        library=_EmptyLibrary(),  # type: ignore[arg-type]
        owned=_nothing_owned,
        today=TODAY,
    )
    assert [(w.season, sorted(w.episodes)) for w in plan.wanted] == [(1, [1, 2])]
    assert plan.notes == ["season 1: episode 0 left out (Torrentio numbers episodes from 1)"]


async def test_a_season_holding_only_episode_zero_wants_nothing() -> None:
    catalogue = _Catalogue({1: [(0, date(2008, 1, 1))]})
    plan = await plan_request(
        _show_request([1]),
        SHOW,
        seerr=catalogue,  # type: ignore[arg-type]
        library=_EmptyLibrary(),  # type: ignore[arg-type]
        owned=_nothing_owned,
        today=TODAY,
    )
    assert plan.wanted == []
    assert plan.notes == ["season 1: episode 0 left out (Torrentio numbers episodes from 1)"]
    assert not plan.not_out_yet  # it aired: nothing is waiting to air
