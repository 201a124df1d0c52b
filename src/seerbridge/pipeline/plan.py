"""Plan: from a Seerr request to the wanted items, i.e. what is aired (or released) and not yet anywhere.

Read, then decide: `gather_plan_facts` reads Seerr, Jellyfin and the store into `PlanFacts`; `decide_plan` is pure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import NamedTuple

import structlog

from seerbridge.domain.airing import aired_from, has_aired
from seerbridge.domain.media import MediaKind, Title, Wanted
from seerbridge.services.calls import CallLedger, attribute_only
from seerbridge.services.jellyfin import (
    DEFAULT_FIELDS,
    RESOLUTION_FIELDS,
    Item,
    JellyfinClient,
    expand_episodes,
    match_all_provider_ids,
)
from seerbridge.services.seerr import MediaRequest, MediaSeason, MediaStatus, SeerrClient

log = structlog.get_logger("seerbridge.plan")
ENGLISH = "en"

OwnedEpisodes = Callable[[str], Awaitable[frozenset[int]]]
"""Episodes (or {0} for a movie) our own torrents already hold or are downloading, by work item key."""


@dataclass
class Plan:
    """What one request needs now; `notes` say why seasons or titles were left out."""

    title: Title
    wanted: list[Wanted]
    notes: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # every work item the request involves, wanted now or not
    # The day the earliest requested episode still to air counts as aired (see domain.airing): due again then.
    next_air: date | None = None
    unsearchable: bool = False  # the catalogue lacks what a search needs (an IMDb id): no release can be found
    held_by_us: bool = False  # something left out because seerbridge's own torrents already hold it
    not_out_yet: bool = False  # something left out because it has not been released or aired

    @property
    def nothing_missing(self) -> bool:
        return not self.wanted


class JellyfinIndex:
    """The library's movies and shows, listed once per pass (Jellyfin has no provider-id filter).

    Every Jellyfin item of a title counts: several libraries, or a show in two folders, make several items. A 4K
    request counts only 4K copies: what lies in the 4K library when `jellyfin.library_4k` names one, else video
    wider than 2000 pixels (Seerr's own rule, so both agree on what "the 4K copy" is).
    """

    def __init__(self, jellyfin: JellyfinClient, ledger: CallLedger, *, library_4k: tuple[str, ...] = ()) -> None:
        self._jellyfin = jellyfin
        self._ledger = ledger
        self._lists: dict[tuple[str, bool], list[Item]] = {}
        self._episodes: dict[tuple[str, bool], list[Item]] = {}
        # seerbridge's own 4K folders (movies-4k/, shows-4k/), when it writes a library and no other is configured:
        # a strm entry has no probed width, so there the folder says what is 4K.
        self._roots_4k: tuple[str, ...] | None = library_4k or None
        self._lock = asyncio.Lock()

    async def _list(self, kind: str, *, resolution: bool) -> list[Item]:
        fields = (*DEFAULT_FIELDS, *RESOLUTION_FIELDS) if resolution else DEFAULT_FIELDS
        async with self._lock:
            if (kind, resolution) not in self._lists:
                with attribute_only(self._ledger):
                    self._lists[kind, resolution] = await self._jellyfin.items([kind], fields=fields)
            return self._lists[kind, resolution]

    async def _episode_items(self, series_id: str, *, resolution: bool) -> list[Item]:
        fields = ("Path", *RESOLUTION_FIELDS) if resolution else ("Path",)
        async with self._lock:
            if (series_id, resolution) not in self._episodes:
                self._episodes[series_id, resolution] = await self._jellyfin.episode_items(series_id, fields=fields)
            return self._episodes[series_id, resolution]

    async def _library_4k_roots(self) -> tuple[str, ...]:
        """The folders of the configured 4K library (the setting itself when it is a path); () when none is."""
        setting = self._jellyfin.settings.library_4k
        if not setting:
            return self._roots_4k or ()
        if "/" in setting or "\\" in setting:
            return (setting,)
        async with self._lock:
            if self._roots_4k is None:
                with attribute_only(self._ledger):
                    folders = await self._jellyfin.virtual_folders()
                named = [f for f in folders if (f.name or "").casefold() == setting.casefold()]
                self._roots_4k = tuple(root for f in named for root in f.locations)
                if not self._roots_4k:
                    log.warning(
                        "jellyfin.library_4k names no Jellyfin library with folders; 4K is told by the resolution",
                        library_4k=setting,
                        libraries=", ".join(f.name for f in folders if f.name),
                    )
            return self._roots_4k

    async def _matching(self, title: Title, kind: str, *, is4k: bool) -> list[Item]:
        """Every item of `kind` that is this title; for `is4k`, only its 4K copies."""
        roots = await self._library_4k_roots() if is4k else ()
        items = await self._list(kind, resolution=is4k and kind == "Movie" and not roots)
        order: tuple[tuple[str, str | int | None], ...]
        if kind == "Movie":
            order = (("Tmdb", title.tmdb_id), ("Imdb", title.imdb_id))
        else:
            order = (("Tmdb", title.tmdb_id), ("Tvdb", title.tvdb_id), ("Imdb", title.imdb_id))
        found = match_all_provider_ids(items, order=order)
        return [i for i in found if _is_4k(i, roots)] if is4k and kind == "Movie" else found

    async def has_movie(self, title: Title, *, is4k: bool = False) -> bool:
        """Jellyfin holds the movie (a 4K copy of it, for `is4k`)."""
        return bool(await self._matching(title, "Movie", is4k=is4k))

    async def present_episodes(self, title: Title, *, is4k: bool = False) -> dict[int, set[int]]:
        """Season → episode numbers Jellyfin holds as files for this show (in 4K, for `is4k`), over all its items."""
        roots = await self._library_4k_roots() if is4k else ()
        present: dict[int, set[int]] = {}
        for series in await self._matching(title, "Series", is4k=is4k):
            items = await self._episode_items(series.id, resolution=is4k and not roots)
            if is4k:
                items = [i for i in items if _is_4k(i, roots)]
            for ep in expand_episodes(items):
                present.setdefault(ep.season, set()).add(ep.episode)
        return present


def _is_4k(item: Item, roots: tuple[str, ...]) -> bool:
    """In the 4K library when one is configured (`roots`), else by its resolution."""
    if roots:
        return item.path is not None and any(_under(item.path, root) for root in roots)
    return item.is_4k


def _under(path: str, root: str) -> bool:
    root = root.rstrip("/\\")
    return path == root or path.startswith((root + "/", root + "\\"))


async def describe_title(request: MediaRequest, seerr: SeerrClient) -> Title:
    """The catalogue facts selection needs (names, year, ids), from Seerr's TMDB proxy."""
    return await describe_media(
        request.media_type, request.tmdb_id, seerr, imdb_id=request.media.imdb_id, tvdb_id=request.media.tvdb_id
    )


async def describe_media(
    media_type: str, tmdb_id: int, seerr: SeerrClient, *, imdb_id: str | None = None, tvdb_id: int | None = None
) -> Title:
    """As `describe_title`, by TMDB id; `imdb_id`/`tvdb_id` fill in what the catalogue leaves out."""
    # Seerr answers in its display language, with TMDB's original title beside it; TMDB's alternative titles are not
    # in its details (seerr-openapi: MovieDetails, TvDetails). Releases are named in English or in the original
    # language, so the English title (`?language=en`) is the alias, asked for unless the original is English.
    if media_type == "movie":
        movie = await seerr.movie(tmdb_id)
        english = None
        if movie.original_language != ENGLISH:
            english = (await seerr.movie(tmdb_id, language=ENGLISH)).title
        return Title(
            kind=MediaKind.MOVIE,
            tmdb_id=movie.id,
            title=movie.title,
            original_title=movie.original_title,
            aliases=_aliases(english, movie.title, movie.original_title),
            year=movie.year,
            premiere=movie.release_date,
            imdb_id=movie.imdb_id or imdb_id,
        )
    show = await seerr.tv(tmdb_id)
    english = None
    if show.original_language != ENGLISH:
        english = (await seerr.tv(tmdb_id, language=ENGLISH)).name
    # The show's years end with its last aired episode; without it, with the latest season the catalogue dates
    # (which may not have aired yet: that only widens the span by what is announced).
    season_dates = [s.air_date for s in show.seasons if s.air_date is not None]
    last_air = show.last_air_date or max(season_dates, default=None)
    return Title(
        kind=MediaKind.SHOW,
        tmdb_id=show.id,
        title=show.name,
        original_title=show.original_name,
        aliases=_aliases(english, show.name, show.original_name),
        year=show.first_air_date.year if show.first_air_date else None,
        premiere=show.first_air_date,
        last_air=last_air,
        imdb_id=show.external_ids.imdb_id or imdb_id,
        tvdb_id=show.external_ids.tvdb_id or tvdb_id,
    )


def _aliases(name: str | None, *known: str | None) -> tuple[str, ...]:
    return (name,) if name and name not in known else ()


class Airing(NamedTuple):
    """One episode of a season as Seerr (TMDB) lists it: its number and its air date (None when TMDB has none)."""

    number: int
    air_date: date | None


@dataclass(frozen=True, kw_only=True)
class PlanFacts:
    """Everything `decide_plan` looks at, read by `gather_plan_facts` before anything is decided.

    What Seerr or Jellyfin would be asked and the decision will not look at is not read (see `gather_plan_facts`)
    and keeps its empty default.
    """

    request_id: int  # for tracing: the decision does not depend on it (the title carries the ids keys are made of)
    title: Title
    today: date
    aired_after_days: int = 1  # see domain.airing
    by_title: bool = False  # a source that searches by title is configured: a title without an IMDb id is searchable
    is4k: bool = False
    season_numbers: tuple[int, ...] = ()  # the requested seasons, in order
    # Seerr's availability for the title (`status`, and `status4k` for a 4K request) and per season: the media row's
    # seasons, else the show's details' (`GET /request` lists media rows without their seasons), read only when the
    # decision consults them.
    media_status: MediaStatus = MediaStatus.UNKNOWN
    media_status4k: MediaStatus = MediaStatus.UNKNOWN
    season_statuses: tuple[MediaSeason, ...] = ()
    # Requested season → its episodes as Seerr lists them (episode 0 included), for every requested season.
    episodes: Mapping[int, tuple[Airing, ...]] = field(default_factory=dict)
    # What Jellyfin holds of the title, 4K copies only for a 4K request (see JellyfinIndex): the movie; per season,
    # the episode numbers it holds as files (no entry for a season it holds nothing of).
    movie_in_jellyfin: bool = False
    present: Mapping[int, frozenset[int]] = field(default_factory=dict)
    # Work item key → what seerbridge's own torrents hold or are downloading (see `OwnedEpisodes`); a key not
    # listed holds nothing.
    owned: Mapping[str, frozenset[int]] = field(default_factory=dict)


async def plan_request(
    request: MediaRequest,
    title: Title,
    *,
    seerr: SeerrClient,
    library: JellyfinIndex,
    owned: OwnedEpisodes,
    today: date,
    aired_after_days: int = 1,
    by_title: bool = False,
) -> Plan:
    """Work out the wanted items: movies missing from Jellyfin; per season, aired episodes nobody has.

    A 4K request counts only 4K copies in Jellyfin (see JellyfinIndex) and Seerr's `status4k`. An episode counts as
    aired from `aired_after_days` after its air date (`plan.aired_after_days`, see domain.airing). The facts are
    read first (`gather_plan_facts`), then decided on without I/O (`decide_plan`).
    """
    facts = await gather_plan_facts(
        request,
        title,
        seerr=seerr,
        library=library,
        owned=owned,
        today=today,
        aired_after_days=aired_after_days,
        by_title=by_title,
    )
    return decide_plan(facts)


async def gather_plan_facts(
    request: MediaRequest,
    title: Title,
    *,
    seerr: SeerrClient,
    library: JellyfinIndex,
    owned: OwnedEpisodes,
    today: date,
    aired_after_days: int = 1,
    by_title: bool = False,
) -> PlanFacts:
    """Read what `decide_plan` needs from Seerr, Jellyfin and the store.

    Nothing for a title without an IMDb id (unless a source searches `by_title`), nor Jellyfin and the store for a
    movie not released yet. For a show, its requested seasons (concurrently) and Jellyfin's episodes, then the show's
    details for Seerr's season statuses only when the decision consults them and the request's media row lacks them,
    then the store for every requested season's work item (a local read, whether or not the season turns out to need
    it).
    """
    facts = PlanFacts(
        request_id=request.id,
        title=title,
        today=today,
        aired_after_days=aired_after_days,
        by_title=by_title,
        is4k=request.is4k,
        season_numbers=tuple(request.season_numbers),
        media_status=request.media.status,
        media_status4k=request.media.status4k,
        season_statuses=tuple(request.media.seasons),
    )
    if title.imdb_id is None and not by_title:
        return facts
    if title.kind is MediaKind.MOVIE:
        if not _released(facts):
            return facts
        key = Wanted(title=title, is4k=request.is4k).key
        in_jellyfin = await library.has_movie(title, is4k=request.is4k)
        return replace(facts, movie_in_jellyfin=in_jellyfin, owned={key: await owned(key)})
    # JellyfinIndex serialises its own listings (and caches them for the pass), so it may run beside Seerr's reads.
    present, seasons = await asyncio.gather(
        library.present_episodes(title, is4k=request.is4k),
        asyncio.gather(*(seerr.season(title.tmdb_id, number) for number in facts.season_numbers)),
    )
    facts = replace(
        facts,
        episodes={
            number: tuple(Airing(ep.episode_number, ep.air_date) for ep in season.episodes)
            for number, season in zip(facts.season_numbers, seasons, strict=True)
        },
        present={number: frozenset(episodes) for number, episodes in present.items()},
    )
    if not facts.season_statuses and _consults_seerr_seasons(facts):
        details = await seerr.tv(request.media.tmdb_id)
        statuses = details.media_info.seasons if details.media_info is not None else []
        facts = replace(facts, season_statuses=tuple(statuses))
    # One key at a time: the store's reads are local and cheap, and `owned` promises nothing about concurrent use.
    keys = [Wanted(title=title, season=number, is4k=request.is4k).key for number in facts.season_numbers]
    return replace(facts, owned={key: await owned(key) for key in keys})


def decide_plan(facts: PlanFacts) -> Plan:
    """The wanted items (and why the rest is left out) from the facts alone: no I/O. See `plan_request`."""
    title = facts.title
    plan = Plan(title=title, wanted=[])
    if title.imdb_id is None and not facts.by_title:
        plan.notes.append(
            "no IMDb id in the catalogue, so Torrentio cannot be searched (a Torznab or Zilean source, which search "
            "by title, could be: see sources)"
        )
        plan.unsearchable = True
        return plan
    if title.kind is MediaKind.MOVIE:
        wanted = Wanted(title=title, is4k=facts.is4k)
        plan.keys.append(wanted.key)
        if not _released(facts):
            assert title.premiere is not None  # only a dated premiere is in the future
            plan.notes.append(f"not released yet ({title.premiere.isoformat()})")
            plan.not_out_yet = True
        elif facts.movie_in_jellyfin:
            plan.notes.append("already in Jellyfin in 4K" if facts.is4k else "already in Jellyfin")
            # In Jellyfin from seerbridge's own torrent: the request was fulfilled, not found already there.
            plan.held_by_us = bool(_owned(facts, wanted.key))
        elif _owned(facts, wanted.key):
            plan.notes.append("already on Real-Debrid (added by seerbridge)")
            plan.held_by_us = True
        else:
            plan.wanted.append(wanted)
        return plan
    seerr_available = _seerr_available_seasons(facts)
    for number in facts.season_numbers:
        listed = facts.episodes[number]
        # TMDB lists an "episode 0" (an unaired pilot, a special) in some seasons. Torrentio numbers episodes from 1
        # (it answers season 0, the specials, from episode 1), so episode 0 cannot be searched, and kept wanted it
        # would be searched first (`min`) and leave the season unfinished for ever.
        episodes = _searchable(listed)
        if len(episodes) < len(listed):
            plan.notes.append(f"season {number}: episode 0 left out (Torrentio numbers episodes from 1)")
            if not episodes:
                continue
        aired = _aired(facts, episodes)
        undated = [ep.number for ep in episodes if ep.air_date is None]
        upcoming = [
            aired_from(ep.air_date, facts.aired_after_days)
            for ep in episodes
            if ep.air_date is not None and not has_aired(ep.air_date, facts.today, facts.aired_after_days)
        ]
        if upcoming:
            plan.next_air = min([*upcoming, plan.next_air] if plan.next_air else upcoming)
        if not aired:
            extra = f" ({len(undated)} without an air date)" if undated else ""
            plan.notes.append(f"season {number}: no episode has aired{extra}")
            plan.not_out_yet = True
            continue
        key = Wanted(title=title, season=number, is4k=facts.is4k).key
        missing = aired - facts.present.get(number, frozenset())
        if not missing:
            plan.notes.append(f"season {number}: every aired episode is in Jellyfin")
            if _owned(facts, key):  # there from seerbridge's own torrents: fulfilled, not found already there
                plan.keys.append(key)
                plan.held_by_us = True
            continue
        # Seerr's season status (for the request's kind) is a fact only when Jellyfin lists nothing of the show:
        # then Seerr knows of a copy seerbridge cannot see (another server, a library this key does not list, a
        # season marked available by hand), and fetching it again would duplicate it. When Jellyfin lists the
        # show, its episodes decide: they are per episode and current, while Seerr's flag is per season and only
        # as fresh as its last scan (a season it called complete may have new episodes, or lost its files).
        if not facts.present and number in seerr_available:
            plan.notes.append(f"season {number}: Seerr says it is available (Jellyfin lists nothing of the show)")
            continue
        plan.keys.append(key)
        still = frozenset(missing - _owned(facts, key))
        if not still:
            plan.notes.append(f"season {number}: seerbridge already has the missing episodes on Real-Debrid")
            plan.held_by_us = True
            continue
        plan.wanted.append(Wanted(title=title, season=number, episodes=still, is4k=facts.is4k))
    return plan


def _released(facts: PlanFacts) -> bool:
    """A movie without a premiere date counts as released (nothing says it is not)."""
    premiere = facts.title.premiere
    return premiere is None or premiere <= facts.today


def _searchable(episodes: tuple[Airing, ...]) -> list[Airing]:
    """The episodes Torrentio can be asked for: numbered from 1 (see `decide_plan` on episode 0)."""
    return [ep for ep in episodes if ep.number >= 1]


def _aired(facts: PlanFacts, episodes: list[Airing]) -> set[int]:
    return {ep.number for ep in episodes if has_aired(ep.air_date, facts.today, facts.aired_after_days)}


def _owned(facts: PlanFacts, key: str) -> frozenset[int]:
    return facts.owned.get(key, frozenset())


def _consults_seerr_seasons(facts: PlanFacts) -> bool:
    """Will `decide_plan` look at Seerr's season statuses? Only while Jellyfin lists nothing of the show and some
    requested season has aired episodes (all missing then), and only if Seerr calls the show at least partly there."""
    return (
        not facts.present
        and _seerr_may_list_seasons(facts)
        and any(_aired(facts, _searchable(episodes)) for episodes in facts.episodes.values())
    )


def _seerr_may_list_seasons(facts: PlanFacts) -> bool:
    """No season is available while the show (for the request's kind) is not even partly."""
    status = facts.media_status4k if facts.is4k else facts.media_status
    return status in (MediaStatus.PARTIALLY_AVAILABLE, MediaStatus.AVAILABLE)


def _seerr_available_seasons(facts: PlanFacts) -> set[int]:
    """The seasons Seerr marks AVAILABLE for the request's kind (`status4k` for a 4K request)."""
    if not _seerr_may_list_seasons(facts):
        return set()
    return {
        s.season_number
        for s in facts.season_statuses
        if (s.status4k if facts.is4k else s.status) is MediaStatus.AVAILABLE
    }
