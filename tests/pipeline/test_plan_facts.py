"""Plan against the Seerr and Jellyfin emulators: what counts as already there (4K copies, a show split over several
Jellyfin items, seasons Seerr marks available) and from when an episode counts as aired."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from seerbridge.config import JellyfinSettings, SeerrSettings, Settings
from seerbridge.pipeline.plan import JellyfinIndex, Plan, describe_title, plan_request
from seerbridge.sandbox import jellyfin, seerr
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.jellyfin_library import JellyfinLibrary
from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.seerr_state import SeerrState
from seerbridge.services.calls import CallLedger
from seerbridge.services.jellyfin import JellyfinClient
from seerbridge.services.seerr import MediaRequest, SeerrClient

TODAY = date(2026, 11, 24)
BLADE_RUNNER, BREAKING_BAD, NIGHT_DESK, AMELIE = 335984, 1396, 900001, 194
MOVIE_4K, SHOW, SHOW_4K, AIRING, LOCALIZED = 1, 2, 3, 4, 5

SCENARIO: dict[str, Any] = {
    "name": "plan-facts",
    "today": TODAY.isoformat(),
    "media": [
        {
            "type": "movie",
            "tmdb_id": BLADE_RUNNER,
            "imdb_id": "tt1856101",
            "title": "Blade Runner 2049",
            "year": 2017,
            "release_date": "2017-10-04",
        },
        {
            "type": "tv",
            "tmdb_id": BREAKING_BAD,
            "tvdb_id": 81189,
            "imdb_id": "tt0903747",
            "title": "Breaking Bad",
            "year": 2008,
            "first_air_date": "2008-01-20",
            "seasons": [
                {"season": 1, "episodes": 7, "first_air_date": "2008-01-20"},
                {"season": 2, "episodes": 13, "first_air_date": "2009-03-08"},
            ],
        },
        {
            # An evening show: its episodes air on Tuesdays, the day TODAY is.
            "type": "tv",
            "tmdb_id": NIGHT_DESK,
            "imdb_id": "tt9000001",
            "title": "The Night Desk",
            "year": 2026,
            "first_air_date": "2026-11-17",
            "seasons": [{"season": 1, "episodes": 3, "air_dates": ["2026-11-17", "2026-11-24", "2026-12-01"]}],
        },
        {
            "type": "movie",
            "tmdb_id": AMELIE,
            "imdb_id": "tt0211915",
            "title": "Amélie",
            "original_title": "Le Fabuleux Destin d'Amélie Poulain",
            "original_language": "fr",
            "titles": {"fr": "Le Fabuleux Destin d'Amélie Poulain"},
            "year": 2001,
            "release_date": "2001-04-25",
        },
    ],
    "requests": [
        {"id": MOVIE_4K, "tmdb_id": BLADE_RUNNER, "is4k": True},
        {"id": SHOW, "tmdb_id": BREAKING_BAD, "seasons": [1, 2]},
        {"id": SHOW_4K, "tmdb_id": BREAKING_BAD, "is4k": True, "seasons": [1]},
        {"id": AIRING, "tmdb_id": NIGHT_DESK, "seasons": [1]},
        {"id": LOCALIZED, "tmdb_id": AMELIE},
    ],
}


def scenario(**changes: Any) -> Scenario:
    return Scenario.model_validate({**SCENARIO, **changes})


@dataclass
class Services:
    seerr: SeerrClient
    jellyfin: JellyfinClient
    seerr_state: SeerrState
    library: JellyfinLibrary


@contextlib.asynccontextmanager
async def services(
    seerr_scenario: Scenario, jellyfin_scenario: Scenario | None = None, **jellyfin_settings: Any
) -> AsyncIterator[Services]:
    """Seerr and Jellyfin emulators in-process; Jellyfin may hold another library than the one Seerr saw."""
    clock = VirtualClock(datetime(2026, 11, 24, 12, tzinfo=UTC), speed=0)
    seerr_app = seerr.create_app(seerr_scenario, clock)
    jellyfin_app = jellyfin.create_app(jellyfin_scenario or seerr_scenario, clock)
    keys = seerr_scenario.keys
    async with (
        SeerrClient(
            SeerrSettings(url="http://seerr.sandbox", api_key=keys["seerr"], timeout_s=2.0, retries=1),
            transport=httpx.ASGITransport(app=seerr_app),
            ledger=CallLedger(),
        ) as seerr_client,
        JellyfinClient(
            JellyfinSettings(
                url="http://jellyfin.sandbox", api_key=keys["jellyfin"], timeout_s=2.0, retries=1, **jellyfin_settings
            ),
            transport=httpx.ASGITransport(app=jellyfin_app),
            ledger=CallLedger(),
        ) as jellyfin_client,
    ):
        yield Services(seerr_client, jellyfin_client, seerr_app.state.emulator, jellyfin_app.state.emulator)


async def _nothing_owned(key: str) -> frozenset[int]:
    return frozenset()


async def plan_of(
    services: Services, request_id: int, *, today: date = TODAY, aired_after_days: int = 1, listed: bool = False
) -> Plan:
    """Plan one request as a pass does (`listed`: as `GET /request` lists it, whose media rows lack their seasons)."""
    request: MediaRequest
    if listed:
        [request] = [r for r in await services.seerr.requests(filter="all") if r.id == request_id]
    else:
        request = await services.seerr.request(request_id)
    title = await describe_title(request, services.seerr)
    return await plan_request(
        request,
        title,
        seerr=services.seerr,
        library=JellyfinIndex(services.jellyfin, CallLedger()),
        owned=_nothing_owned,
        today=today,
        aired_after_days=aired_after_days,
    )


def wanted(plan: Plan) -> list[tuple[int | None, list[int]]]:
    return [(w.season, sorted(w.episodes)) for w in plan.wanted]


# ----- 4K requests count only 4K copies -----------------------------------------------------------------------------


async def test_a_4k_request_wants_the_film_jellyfin_holds_only_in_1080p() -> None:
    async with services(scenario()) as s:
        s.library.add_movie(BLADE_RUNNER, width=1920, height=1080)
        plan = await plan_of(s, MOVIE_4K)
    assert wanted(plan) == [(None, [])]
    assert plan.wanted[0].is4k


async def test_a_4k_request_wants_nothing_when_jellyfin_holds_the_film_in_2160p() -> None:
    async with services(scenario()) as s:
        s.library.add_movie(BLADE_RUNNER, width=3840, height=2160)
        plan = await plan_of(s, MOVIE_4K)
    assert plan.wanted == []
    assert plan.notes == ["already in Jellyfin in 4K"]


async def test_a_4k_copy_beside_an_hd_one_in_another_library_counts() -> None:
    async with services(scenario()) as s:
        s.library.add_movie(BLADE_RUNNER, width=1920, height=1080)
        s.library.add_movie(
            BLADE_RUNNER,
            path="/media/movies-4k/Blade Runner 2049 (2017)/Blade Runner 2049.mkv",
            width=3840,
            height=1608,
        )
        plan = await plan_of(s, MOVIE_4K)
    assert plan.wanted == []


async def test_a_4k_request_wants_the_episodes_jellyfin_holds_only_in_hd() -> None:
    library = [{"tmdb_id": BREAKING_BAD, "episodes": {1: "all"}}]
    async with services(scenario(library=library)) as s:
        hd = await plan_of(s, SHOW)
        uhd = await plan_of(s, SHOW_4K)
    assert wanted(hd) == [(2, list(range(1, 14)))]
    assert wanted(uhd) == [(1, list(range(1, 8)))]


async def test_with_a_4k_library_configured_only_what_it_holds_counts_for_4k() -> None:
    async with services(scenario(), library_4k="/media/shows-4k") as s:
        s.library.add_episodes(BREAKING_BAD, 1, range(1, 8))  # the HD library
        s.library.add_episodes(BREAKING_BAD, 1, [1, 2], series_path="/media/shows-4k/Breaking Bad (2008)")
        plan = await plan_of(s, SHOW_4K)
    assert wanted(plan) == [(1, [3, 4, 5, 6, 7])]


async def test_a_4k_library_can_be_named_as_jellyfin_names_it() -> None:
    # The emulator's movie library is called "Movies": configured as the 4K one, what it holds counts as 4K.
    async with services(scenario(), library_4k="Movies") as s:
        s.library.add_movie(BLADE_RUNNER, width=1920, height=1080)
        plan = await plan_of(s, MOVIE_4K)
    assert plan.wanted == []


# ----- when an episode counts as aired ------------------------------------------------------------------------------


async def test_an_episode_airing_today_is_not_wanted_yet() -> None:
    async with services(scenario()) as s:
        plan = await plan_of(s, AIRING)
    assert wanted(plan) == [(1, [1])]
    assert plan.next_air == date(2026, 11, 25)  # the day episode 2 counts as aired: the request is due again then


async def test_the_day_after_its_air_date_the_episode_is_wanted() -> None:
    async with services(scenario()) as s:
        plan = await plan_of(s, AIRING, today=date(2026, 11, 25))
    assert wanted(plan) == [(1, [1, 2])]
    assert plan.next_air == date(2026, 12, 2)


async def test_with_no_offset_an_episode_is_wanted_on_its_air_date() -> None:
    async with services(scenario()) as s:
        plan = await plan_of(s, AIRING, aired_after_days=0)
    assert wanted(plan) == [(1, [1, 2])]
    assert plan.next_air == date(2026, 12, 1)


async def test_a_season_whose_first_episode_airs_today_has_not_aired() -> None:
    async with services(scenario()) as s:
        plan = await plan_of(s, AIRING, today=date(2026, 11, 17))
    assert plan.wanted == []
    assert plan.not_out_yet
    assert plan.notes == ["season 1: no episode has aired"]


def test_the_offset_is_a_setting_that_defaults_to_one_day() -> None:
    assert Settings().plan.aired_after_days == 1
    assert Settings.model_validate({"plan": {"aired_after_days": 0}}).plan.aired_after_days == 0


# ----- identity: every Jellyfin item of the show, Seerr's season status, localized titles ---------------------------


async def test_a_show_split_over_two_jellyfin_series_counts_the_episodes_of_both() -> None:
    async with services(scenario()) as s:
        s.library.add_episodes(BREAKING_BAD, 1, range(1, 8))
        s.library.add_episodes(BREAKING_BAD, 2, range(1, 11), series_path="/media/shows/Breaking Bad [tmdbid-1396]")
        plan = await plan_of(s, SHOW)
    assert wanted(plan) == [(2, [11, 12, 13])]


async def test_a_jellyfin_item_is_the_title_its_first_shared_id_names() -> None:
    # Only the IMDb id: it is this film. Another film's TMDB id beside this film's IMDb id: it is that other film.
    async with services(scenario()) as s:
        s.library.add_movie(BLADE_RUNNER, width=3840, height=2160, provider_ids={"Imdb": "tt1856101"})
        only_imdb = await plan_of(s, MOVIE_4K)
    async with services(scenario()) as s:
        s.library.add_movie(BLADE_RUNNER, width=3840, height=2160, provider_ids={"Tmdb": "78", "Imdb": "tt1856101"})
        other_film = await plan_of(s, MOVIE_4K)
    assert only_imdb.wanted == []
    assert wanted(other_film) == [(None, [])]


@pytest.mark.parametrize("listed", [False, True], ids=["one request", "the request list"])
async def test_a_season_seerr_marks_available_is_not_fetched_when_jellyfin_lists_nothing_of_the_show(
    listed: bool,
) -> None:
    # Seerr saw season 1 somewhere (another server, a library this key does not list, a mark by hand); the Jellyfin
    # seerbridge asks holds nothing of the show, so Seerr's word is the only fact there is about season 1.
    seen_by_seerr = scenario(library=[{"tmdb_id": BREAKING_BAD, "episodes": {1: "all"}}])
    async with services(seen_by_seerr, jellyfin_scenario=scenario()) as s:
        plan = await plan_of(s, SHOW, listed=listed)
    assert wanted(plan) == [(2, list(range(1, 14)))]
    assert "season 1: Seerr says it is available (Jellyfin lists nothing of the show)" in plan.notes


async def test_when_jellyfin_lists_the_show_its_episodes_decide_over_seerrs_season_status() -> None:
    seen_by_seerr = scenario(library=[{"tmdb_id": BREAKING_BAD, "episodes": {1: "all"}}])
    in_jellyfin = scenario(library=[{"tmdb_id": BREAKING_BAD, "episodes": {1: [1, 2, 3]}}])
    async with services(seen_by_seerr, jellyfin_scenario=in_jellyfin) as s:
        plan = await plan_of(s, SHOW)
    assert wanted(plan) == [(1, [4, 5, 6, 7]), (2, list(range(1, 14)))]


async def test_seerrs_season_status_counts_for_the_requests_own_kind_only() -> None:
    async with services(scenario()) as s:
        media = s.seerr_state.media_for(BREAKING_BAD, "tv")
        assert media is not None
        s.seerr_state.set_media_status(media.id, "available", seasons=[1])  # an admin marks the HD season 1
        s.seerr_state.set_media_status(media.id, "partial")  # season 2 is still missing
        hd = await plan_of(s, SHOW)
        uhd = await plan_of(s, SHOW_4K)
    assert wanted(hd) == [(2, list(range(1, 14)))]
    assert wanted(uhd) == [(1, list(range(1, 8)))]


async def test_a_localized_title_also_carries_the_english_one() -> None:
    async with services(scenario(seerr={"locale": "fr"})) as s:
        request = await s.seerr.request(LOCALIZED)
        title = await describe_title(request, s.seerr)
    assert title.title == "Le Fabuleux Destin d'Amélie Poulain"
    assert "Amélie" in title.names()
