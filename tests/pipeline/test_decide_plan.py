"""decide_plan from hand-built PlanFacts (no HTTP, no store), and what gather_plan_facts reads for it."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import date
from typing import Any

import pytest

from seerbridge.domain.media import MediaKind, Title
from seerbridge.pipeline.plan import Airing, PlanFacts, decide_plan, gather_plan_facts
from seerbridge.services.seerr import (
    Episode,
    MediaRequest,
    MediaSeason,
    MediaStatus,
    SeasonDetails,
    TvDetails,
)

TODAY = date(2026, 11, 24)
MOVIE = Title(
    kind=MediaKind.MOVIE,
    tmdb_id=335984,
    title="Blade Runner 2049",
    year=2017,
    premiere=date(2017, 10, 4),
    imdb_id="tt1856101",
)
SHOW = Title(kind=MediaKind.SHOW, tmdb_id=1396, title="Breaking Bad", year=2008, imdb_id="tt0903747")


def weekly(first: date, count: int, *, start: int = 1) -> tuple[Airing, ...]:
    """`count` episodes numbered from `start`, one a week from `first`."""
    return tuple(Airing(start + i, date.fromordinal(first.toordinal() + 7 * i)) for i in range(count))


def show_facts(**changes: Any) -> PlanFacts:
    """Breaking Bad season 1 (seven aired episodes) requested in HD; nothing anywhere."""
    base = PlanFacts(
        request_id=7,
        title=SHOW,
        today=TODAY,
        season_numbers=(1,),
        episodes={1: weekly(date(2008, 1, 20), 7)},
    )
    return dataclasses.replace(base, **changes)


def movie_facts(**changes: Any) -> PlanFacts:
    return dataclasses.replace(PlanFacts(request_id=1, title=MOVIE, today=TODAY), **changes)


def wanted(facts: PlanFacts) -> list[tuple[int | None, list[int]]]:
    return [(w.season, sorted(w.episodes)) for w in decide_plan(facts).wanted]


def test_deciding_is_a_plain_function_of_frozen_facts() -> None:
    assert not inspect.iscoroutinefunction(decide_plan)
    with pytest.raises(dataclasses.FrozenInstanceError):
        show_facts().today = date(2030, 1, 1)  # type: ignore[misc]
    assert decide_plan(show_facts()) == decide_plan(show_facts())


# ----- movies -------------------------------------------------------------------------------------------------------


def test_a_movie_nowhere_is_wanted() -> None:
    plan = decide_plan(movie_facts())
    assert wanted(movie_facts()) == [(None, [])]
    assert plan.keys == ["movie:335984"]
    assert plan.notes == []
    assert not (plan.held_by_us or plan.not_out_yet or plan.unsearchable)


def test_a_movie_in_jellyfin_from_our_own_torrent_is_held_by_us() -> None:
    plan = decide_plan(movie_facts(movie_in_jellyfin=True, owned={"movie:335984": frozenset({0})}))
    assert plan.wanted == []
    assert plan.notes == ["already in Jellyfin"]
    assert plan.keys == ["movie:335984"]
    assert plan.held_by_us


def test_a_movie_in_jellyfin_from_elsewhere_is_not_held_by_us() -> None:
    plan = decide_plan(movie_facts(movie_in_jellyfin=True))
    assert plan.wanted == []
    assert plan.notes == ["already in Jellyfin"]
    assert not plan.held_by_us


def test_a_movie_only_on_real_debrid_from_our_torrent_is_held_by_us() -> None:
    plan = decide_plan(movie_facts(owned={"movie:335984": frozenset({0})}))
    assert plan.wanted == []
    assert plan.notes == ["already on Real-Debrid (added by seerbridge)"]
    assert plan.held_by_us


def test_a_movie_not_released_yet_waits() -> None:
    later = dataclasses.replace(MOVIE, premiere=date(2027, 3, 5))
    plan = decide_plan(movie_facts(title=later))
    assert plan.wanted == []
    assert plan.notes == ["not released yet (2027-03-05)"]
    assert plan.not_out_yet
    assert plan.keys == ["movie:335984"]


def test_a_4k_movie_request_counts_4k_copies_and_its_own_key() -> None:
    assert wanted(movie_facts(is4k=True)) == [(None, [])]
    missing = decide_plan(movie_facts(is4k=True))
    assert missing.keys == ["movie:335984:4k"] and missing.wanted[0].is4k
    held = decide_plan(movie_facts(is4k=True, movie_in_jellyfin=True, owned={"movie:335984": frozenset({0})}))
    assert held.notes == ["already in Jellyfin in 4K"]
    assert not held.held_by_us  # the HD copy seerbridge holds is another work item


def test_a_title_without_an_imdb_id_is_unsearchable() -> None:
    plan = decide_plan(movie_facts(title=dataclasses.replace(MOVIE, imdb_id=None)))
    assert plan.wanted == [] and plan.keys == []
    assert plan.notes == [
        "no IMDb id in the catalogue, so Torrentio cannot be searched (a Torznab or Zilean source, which search by "
        "title, could be: see sources)"
    ]
    assert plan.unsearchable


def test_a_title_without_an_imdb_id_is_wanted_when_a_source_searches_by_title() -> None:
    plan = decide_plan(movie_facts(title=dataclasses.replace(MOVIE, imdb_id=None), by_title=True))
    assert plan.keys == ["movie:335984"] and not plan.unsearchable


# ----- shows --------------------------------------------------------------------------------------------------------


def test_a_season_partly_aired_wants_the_aired_episodes_and_is_due_when_the_next_airs() -> None:
    # Episodes on 10, 17 and 24 November and 1 December: one day after its air date an episode counts as aired.
    facts = show_facts(episodes={1: weekly(date(2026, 11, 10), 4)}, present={1: frozenset({1})})
    plan = decide_plan(facts)
    assert wanted(facts) == [(1, [2])]
    assert plan.next_air == date(2026, 11, 25)
    assert plan.keys == ["show:1396:s01"]
    assert plan.notes == []
    assert not plan.not_out_yet  # something aired: what is still to air only dates the next look
    assert wanted(dataclasses.replace(facts, aired_after_days=0)) == [(1, [2, 3])]


def test_a_season_not_out_yet_waits_for_its_first_episode() -> None:
    episodes = (*weekly(date(2027, 1, 5), 2), Airing(3, None))
    plan = decide_plan(show_facts(episodes={1: episodes}))
    assert plan.wanted == [] and plan.keys == []
    assert plan.notes == ["season 1: no episode has aired (1 without an air date)"]
    assert plan.not_out_yet
    assert plan.next_air == date(2027, 1, 6)


def test_the_next_air_date_is_the_earliest_over_the_seasons() -> None:
    facts = show_facts(
        season_numbers=(1, 2),
        episodes={1: weekly(date(2026, 12, 8), 2), 2: weekly(date(2026, 11, 17), 3)},
    )
    plan = decide_plan(facts)
    assert wanted(facts) == [(2, [1])]
    assert plan.next_air == date(2026, 11, 25)
    assert plan.notes == ["season 1: no episode has aired"]


def test_episode_zero_is_left_out_with_a_note() -> None:
    facts = show_facts(episodes={1: (Airing(0, date(2008, 1, 1)), *weekly(date(2008, 1, 20), 2))})
    assert wanted(facts) == [(1, [1, 2])]
    assert decide_plan(facts).notes == ["season 1: episode 0 left out (Torrentio numbers episodes from 1)"]


def test_a_season_of_only_episode_zero_wants_nothing_and_waits_for_nothing() -> None:
    plan = decide_plan(show_facts(episodes={1: (Airing(0, date(2008, 1, 1)),)}))
    assert plan.wanted == [] and plan.keys == []
    assert plan.notes == ["season 1: episode 0 left out (Torrentio numbers episodes from 1)"]
    assert not plan.not_out_yet


def test_a_season_all_in_jellyfin_is_held_by_us_only_when_our_torrents_hold_it() -> None:
    every = {1: frozenset(range(1, 8))}
    elsewhere = decide_plan(show_facts(present=every))
    assert elsewhere.notes == ["season 1: every aired episode is in Jellyfin"]
    assert elsewhere.keys == [] and not elsewhere.held_by_us
    ours = decide_plan(show_facts(present=every, owned={"show:1396:s01": frozenset(range(1, 8))}))
    assert ours.notes == elsewhere.notes
    assert ours.keys == ["show:1396:s01"] and ours.held_by_us


def test_episodes_our_torrents_hold_are_not_wanted_again() -> None:
    some = show_facts(owned={"show:1396:s01": frozenset({1, 2, 3})})
    assert wanted(some) == [(1, [4, 5, 6, 7])]
    assert not decide_plan(some).held_by_us
    every = decide_plan(show_facts(owned={"show:1396:s01": frozenset(range(1, 8))}))
    assert every.wanted == []
    assert every.notes == ["season 1: seerbridge already has the missing episodes on Real-Debrid"]
    assert every.keys == ["show:1396:s01"] and every.held_by_us


def test_a_4k_show_request_uses_4k_keys_and_seerrs_4k_status() -> None:
    facts = show_facts(
        is4k=True,
        present={1: frozenset({1, 2})},  # gathered 4K-aware: the 4K copies Jellyfin holds
        owned={"show:1396:s01": frozenset(range(1, 8)), "show:1396:s01:4k": frozenset({3})},
    )
    plan = decide_plan(facts)
    assert wanted(facts) == [(1, [4, 5, 6, 7])]
    assert plan.keys == ["show:1396:s01:4k"] and plan.wanted[0].is4k
    # Seerr's HD season status says nothing about the 4K copy.
    hd_available = show_facts(
        is4k=True,
        media_status=MediaStatus.AVAILABLE,
        season_statuses=(MediaSeason(season_number=1, status=MediaStatus.AVAILABLE),),
    )
    assert wanted(hd_available) == [(1, list(range(1, 8)))]
    uhd_available = dataclasses.replace(
        hd_available,
        media_status4k=MediaStatus.PARTIALLY_AVAILABLE,
        season_statuses=(MediaSeason(season_number=1, status4k=MediaStatus.AVAILABLE),),
    )
    assert wanted(uhd_available) == []


def test_a_season_seerr_marks_available_is_left_out_when_jellyfin_lists_nothing() -> None:
    facts = show_facts(
        season_numbers=(1, 2),
        episodes={1: weekly(date(2008, 1, 20), 7), 2: weekly(date(2009, 3, 8), 13)},
        media_status=MediaStatus.PARTIALLY_AVAILABLE,
        season_statuses=(
            MediaSeason(season_number=1, status=MediaStatus.AVAILABLE),
            MediaSeason(season_number=2, status=MediaStatus.UNKNOWN),
        ),
    )
    plan = decide_plan(facts)
    assert wanted(facts) == [(2, list(range(1, 14)))]
    assert plan.notes == ["season 1: Seerr says it is available (Jellyfin lists nothing of the show)"]
    assert plan.keys == ["show:1396:s02"]
    # When Jellyfin lists the show, its episodes decide over Seerr's season status.
    listed = dataclasses.replace(facts, present={1: frozenset({1, 2, 3})})
    assert wanted(listed) == [(1, [4, 5, 6, 7]), (2, list(range(1, 14)))]
    # A season status counts only while Seerr calls the show at least partly available.
    stale = dataclasses.replace(facts, media_status=MediaStatus.PROCESSING)
    assert wanted(stale) == [(1, list(range(1, 8))), (2, list(range(1, 14)))]


# ----- what gather_plan_facts reads ---------------------------------------------------------------------------------


class _Seerr:
    """Season details from plain episode lists; the show's details carry its season statuses. Counts what is read."""

    def __init__(self, seasons: dict[int, tuple[Airing, ...]], statuses: list[dict[str, int]]) -> None:
        self._seasons = seasons
        self._statuses = statuses
        self.read: list[str] = []

    async def season(self, tmdb_id: int, season_number: int) -> SeasonDetails:
        self.read.append(f"season {season_number}")
        return SeasonDetails(
            season_number=season_number,
            episodes=[
                Episode(episode_number=ep.number, season_number=season_number, air_date=ep.air_date)
                for ep in self._seasons[season_number]
            ],
        )

    async def tv(self, tmdb_id: int) -> TvDetails:
        self.read.append("tv")
        media = {"id": 70, "tmdbId": tmdb_id, "mediaType": "tv", "seasons": self._statuses}
        return TvDetails.model_validate({"id": tmdb_id, "name": "Breaking Bad", "mediaInfo": media})


class _Library:
    def __init__(self, present: dict[int, set[int]]) -> None:
        self._present = present
        self.read: list[str] = []

    async def present_episodes(self, title: Title, *, is4k: bool = False) -> dict[int, set[int]]:
        self.read.append("episodes")
        return self._present

    async def has_movie(self, title: Title, *, is4k: bool = False) -> bool:
        self.read.append("movie")
        return False


def _request(media_type: str, *, status: int, seasons: tuple[int, ...] = ()) -> MediaRequest:
    return MediaRequest.model_validate(
        {
            "id": 7,
            "status": 2,
            "type": media_type,
            "media": {"id": 70, "tmdbId": 1396, "mediaType": media_type, "status": status},
            "seasons": [{"seasonNumber": n, "status": 2} for n in seasons],
            "createdAt": "2026-11-20T10:00:00Z",
            "updatedAt": "2026-11-20T10:00:00Z",
        }
    )


async def _gather(request: MediaRequest, title: Title, seerr: _Seerr, library: _Library) -> tuple[PlanFacts, list[str]]:
    owned_keys: list[str] = []

    async def owned(key: str) -> frozenset[int]:
        owned_keys.append(key)
        return frozenset()

    facts = await gather_plan_facts(
        request,
        title,
        seerr=seerr,  # type: ignore[arg-type]
        library=library,  # type: ignore[arg-type]
        owned=owned,
        today=TODAY,
    )
    return facts, owned_keys


async def test_gathering_a_show_reads_its_seasons_jellyfin_and_the_store() -> None:
    seerr = _Seerr({1: weekly(date(2008, 1, 20), 7), 2: weekly(date(2009, 3, 8), 13)}, [])
    library = _Library({1: {1, 2, 3}})
    facts, owned_keys = await _gather(_request("tv", status=4, seasons=(2, 1)), SHOW, seerr, library)
    assert sorted(seerr.read) == ["season 1", "season 2"]  # no details: Jellyfin lists the show
    assert library.read == ["episodes"]
    assert owned_keys == ["show:1396:s01", "show:1396:s02"]
    assert facts.season_numbers == (1, 2)
    assert facts.episodes[2] == weekly(date(2009, 3, 8), 13)
    assert facts.present == {1: frozenset({1, 2, 3})}
    assert facts.media_status is MediaStatus.PARTIALLY_AVAILABLE
    assert wanted(facts) == [(1, [4, 5, 6, 7]), (2, list(range(1, 14)))]


async def test_the_shows_details_are_read_only_when_the_decision_consults_seerrs_seasons() -> None:
    seasons = {1: weekly(date(2008, 1, 20), 7)}
    statuses = [{"seasonNumber": 1, "status": 5}]
    consulted = _Seerr(seasons, statuses)
    facts, _ = await _gather(_request("tv", status=4, seasons=(1,)), SHOW, consulted, _Library({}))
    assert "tv" in consulted.read
    assert facts.season_statuses == (MediaSeason(season_number=1, status=MediaStatus.AVAILABLE),)
    assert wanted(facts) == []
    not_available = _Seerr(seasons, statuses)  # Seerr calls the show processing: no season can be available
    await _gather(_request("tv", status=3, seasons=(1,)), SHOW, not_available, _Library({}))
    assert "tv" not in not_available.read
    unaired = _Seerr({1: weekly(date(2027, 1, 5), 3)}, statuses)  # nothing aired: nothing would be fetched
    await _gather(_request("tv", status=4, seasons=(1,)), SHOW, unaired, _Library({}))
    assert "tv" not in unaired.read


async def test_gathering_reads_nothing_the_decision_will_not_look_at() -> None:
    seerr, library = _Seerr({}, []), _Library({})
    unsearchable = dataclasses.replace(SHOW, imdb_id=None)
    _, owned_keys = await _gather(_request("tv", status=1, seasons=(1,)), unsearchable, seerr, library)
    later = dataclasses.replace(MOVIE, premiere=date(2027, 3, 5))
    _, owned_later = await _gather(_request("movie", status=1), later, seerr, library)
    assert seerr.read == [] and library.read == [] and owned_keys == [] and owned_later == []
    _, owned_movie = await _gather(_request("movie", status=1), MOVIE, seerr, library)
    assert library.read == ["movie"] and owned_movie == ["movie:335984"]
