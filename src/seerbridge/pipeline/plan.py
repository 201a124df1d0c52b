"""Plan: from a Seerr request to the wanted items, i.e. what is aired (or released) and not yet anywhere."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date

from seerbridge.domain.media import MediaKind, Title, Wanted
from seerbridge.services.calls import CallLedger, attribute_only
from seerbridge.services.jellyfin import EpisodeFile, Item, JellyfinClient, match_provider_ids
from seerbridge.services.seerr import MediaRequest, SeerrClient

OwnedEpisodes = Callable[[str], Awaitable[frozenset[int]]]
"""Episodes (or {0} for a movie) our own torrents already hold or are downloading, by work item key."""


@dataclass
class Plan:
    """What one request needs now; `notes` say why seasons or titles were left out."""

    title: Title
    wanted: list[Wanted]
    notes: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # every work item the request involves, wanted now or not
    next_air: date | None = None  # the earliest requested episode still to air: the request is due again then
    unsearchable: bool = False  # the catalogue lacks what a search needs (an IMDb id): no release can be found
    held_by_us: bool = False  # something left out because seerbridge's own torrents already hold it
    not_out_yet: bool = False  # something left out because it has not been released or aired

    @property
    def nothing_missing(self) -> bool:
        return not self.wanted


class JellyfinIndex:
    """The library's movies and shows, listed once per pass (Jellyfin has no provider-id filter)."""

    def __init__(self, jellyfin: JellyfinClient, ledger: CallLedger) -> None:
        self._jellyfin = jellyfin
        self._ledger = ledger
        self._lists: dict[str, list[Item]] = {}
        self._episodes: dict[str, list[EpisodeFile]] = {}
        self._lock = asyncio.Lock()

    async def _list(self, kind: str) -> list[Item]:
        async with self._lock:
            if kind not in self._lists:
                with attribute_only(self._ledger):
                    self._lists[kind] = await self._jellyfin.items([kind])
            return self._lists[kind]

    async def has_movie(self, title: Title) -> bool:
        movies = await self._list("Movie")
        return match_provider_ids(movies, order=(("Tmdb", title.tmdb_id), ("Imdb", title.imdb_id))) is not None

    async def present_episodes(self, title: Title) -> dict[int, set[int]]:
        """Season → episode numbers Jellyfin holds as files for this show."""
        shows = await self._list("Series")
        series = match_provider_ids(
            shows, order=(("Tmdb", title.tmdb_id), ("Tvdb", title.tvdb_id), ("Imdb", title.imdb_id))
        )
        if series is None:
            return {}
        async with self._lock:
            if series.id not in self._episodes:
                self._episodes[series.id] = await self._jellyfin.episodes(series.id)
        present: dict[int, set[int]] = {}
        for ep in self._episodes[series.id]:
            present.setdefault(ep.season, set()).add(ep.episode)
        return present


async def describe_title(request: MediaRequest, seerr: SeerrClient) -> Title:
    """The catalogue facts selection needs (names, year, ids), from Seerr's TMDB proxy."""
    return await describe_media(
        request.media_type, request.tmdb_id, seerr, imdb_id=request.media.imdb_id, tvdb_id=request.media.tvdb_id
    )


async def describe_media(
    media_type: str, tmdb_id: int, seerr: SeerrClient, *, imdb_id: str | None = None, tvdb_id: int | None = None
) -> Title:
    """As `describe_title`, by TMDB id; `imdb_id`/`tvdb_id` fill in what the catalogue leaves out."""
    if media_type == "movie":
        movie = await seerr.movie(tmdb_id)
        return Title(
            kind=MediaKind.MOVIE,
            tmdb_id=movie.id,
            title=movie.title,
            original_title=movie.original_title,
            year=movie.year,
            premiere=movie.release_date,
            imdb_id=movie.imdb_id or imdb_id,
        )
    show = await seerr.tv(tmdb_id)
    # The show's years end with its last aired episode; without it, with the latest season the catalogue dates
    # (which may not have aired yet: that only widens the span by what is announced).
    season_dates = [s.air_date for s in show.seasons if s.air_date is not None]
    last_air = show.last_air_date or max(season_dates, default=None)
    return Title(
        kind=MediaKind.SHOW,
        tmdb_id=show.id,
        title=show.name,
        original_title=show.original_name,
        year=show.first_air_date.year if show.first_air_date else None,
        premiere=show.first_air_date,
        last_air=last_air,
        imdb_id=show.external_ids.imdb_id or imdb_id,
        tvdb_id=show.external_ids.tvdb_id or tvdb_id,
    )


async def plan_request(
    request: MediaRequest,
    title: Title,
    *,
    seerr: SeerrClient,
    library: JellyfinIndex,
    owned: OwnedEpisodes,
    today: date,
) -> Plan:
    """Work out the wanted items: movies missing from Jellyfin; per season, aired episodes nobody has."""
    plan = Plan(title=title, wanted=[])
    if title.imdb_id is None:
        plan.notes.append("no IMDb id in the catalogue, so Torrentio cannot be searched")
        plan.unsearchable = True
        return plan
    if title.kind is MediaKind.MOVIE:
        wanted = Wanted(title=title, is4k=request.is4k)
        plan.keys.append(wanted.key)
        if title.premiere is not None and title.premiere > today:
            plan.notes.append(f"not released yet ({title.premiere.isoformat()})")
            plan.not_out_yet = True
        elif await library.has_movie(title):
            plan.notes.append("already in Jellyfin")
        elif await owned(wanted.key):
            plan.notes.append("already on Real-Debrid (added by seerbridge)")
            plan.held_by_us = True
        else:
            plan.wanted.append(wanted)
        return plan
    present = await library.present_episodes(title)
    for number in request.season_numbers:
        season = await seerr.season(title.tmdb_id, number)
        # TMDB lists an "episode 0" (an unaired pilot, a special) in some seasons. Torrentio numbers episodes from 1
        # (it answers season 0, the specials, from episode 1), so episode 0 cannot be searched, and kept wanted it
        # would be searched first (`min`) and leave the season unfinished for ever.
        episodes = [ep for ep in season.episodes if ep.episode_number >= 1]
        if len(episodes) < len(season.episodes):
            plan.notes.append(f"season {number}: episode 0 left out (Torrentio numbers episodes from 1)")
            if not episodes:
                continue
        aired = {ep.episode_number for ep in episodes if ep.air_date is not None and ep.air_date <= today}
        undated = [ep.episode_number for ep in episodes if ep.air_date is None]
        upcoming = [ep.air_date for ep in episodes if ep.air_date is not None and ep.air_date > today]
        if upcoming:
            plan.next_air = min([*upcoming, plan.next_air] if plan.next_air else upcoming)
        if not aired:
            extra = f" ({len(undated)} without an air date)" if undated else ""
            plan.notes.append(f"season {number}: no episode has aired{extra}")
            plan.not_out_yet = True
            continue
        missing = aired - present.get(number, set())
        if not missing:
            plan.notes.append(f"season {number}: every aired episode is in Jellyfin")
            continue
        key = Wanted(title=title, season=number, is4k=request.is4k).key
        plan.keys.append(key)
        mine = await owned(key)
        still = frozenset(missing - mine)
        if not still:
            plan.notes.append(f"season {number}: seerbridge already has the missing episodes on Real-Debrid")
            plan.held_by_us = True
            continue
        plan.wanted.append(Wanted(title=title, season=number, episodes=still, is4k=request.is4k))
    return plan
