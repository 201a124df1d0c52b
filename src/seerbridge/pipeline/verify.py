"""Verified availability: which awaited arrivals Jellyfin lists by their ids, the items and requests that are then
available, Seerr brought up to date, and what a request still waiting for Jellyfin says (called by announce.py)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge.config import Settings
from seerbridge.domain.media import MediaKind, Title
from seerbridge.domain.states import ItemState, RequestState
from seerbridge.domain.transitions import ItemEvent, RequestEvent
from seerbridge.errors import ServiceError
from seerbridge.library.naming import section
from seerbridge.library.sync import inside, jellyfin_path, library_4k_roots, library_on
from seerbridge.pipeline.plan import JellyfinIndex
from seerbridge.services.bundle import Services
from seerbridge.services.calls import CallLedger
from seerbridge.services.jellyfin import VirtualFolder
from seerbridge.services.seerr import MediaStatus
from seerbridge.store import repo

if TYPE_CHECKING:
    from seerbridge.pipeline.announce import Arrival

log = structlog.get_logger("seerbridge.announce")


async def not_in_jellyfin(services: Services, awaiting: list[Arrival], settings: Settings) -> list[Arrival]:
    """The awaited items Jellyfin does not list yet, 4K ones only in 4K (one listing per kind, one episode listing
    per show)."""
    index = JellyfinIndex(services.jellyfin, CallLedger(), library_4k=library_4k_roots(settings))
    missing = []
    for arrival in awaiting:
        if arrival.season is None:
            title = Title(MediaKind.MOVIE, arrival.tmdb_id, "", imdb_id=arrival.imdb_id)
            if not await index.has_movie(title, is4k=arrival.is4k):
                missing.append(arrival)
            continue
        title = Title(MediaKind.SHOW, arrival.tmdb_id, "", imdb_id=arrival.imdb_id, tvdb_id=arrival.tvdb_id)
        present = (await index.present_episodes(title, is4k=arrival.is4k)).get(arrival.season, set())
        if not set(arrival.episodes) <= present:
            missing.append(arrival)
    return missing


async def verify(
    sessions: async_sessionmaker[AsyncSession], present: list[Arrival], missing: list[Arrival], now: datetime
) -> int:
    """Items whose every awaited arrival Jellyfin lists are available: recorded, and their requests re-derived (a
    request becomes AVAILABLE once all its items are). Returns how many items were verified."""
    keys = {a.key for a in present if a.key} - {a.key for a in missing if a.key}
    verified = 0
    async with sessions.begin() as session:
        for key in sorted(keys):
            item = await repo.get_item(session, key)
            if item is None or item.state not in (ItemState.FULFILLED, ItemState.AVAILABLE):
                continue
            await repo.set_item_available(session, key, now)
            await repo.set_item_state(
                session, key, ItemState.AVAILABLE, event=ItemEvent.VERIFIED, reason="in Jellyfin", now=now
            )
            verified += 1
            for request_id in await repo.requests_of_item(session, key):
                request = await repo.get_request(session, request_id)
                if request is None or request.state is not RequestState.FULFILLED:
                    continue
                await repo.set_request_state(
                    session,
                    request_id,
                    RequestState.FULFILLED,  # written as AVAILABLE when every item of the request is
                    event=RequestEvent.VERIFIED,
                    reason=_in_jellyfin(request.reason),
                    now=now,
                )
    return verified


def _in_jellyfin(reason: str | None) -> str:
    return f"in Jellyfin; {reason}" if reason and not reason.startswith("in Jellyfin") else (reason or "in Jellyfin")


async def mark_in_seerr(services: Services, present: list[Arrival]) -> None:
    """Movies Jellyfin was seen holding that Seerr still does not show available after its scan (its scan job runs
    in the background, and it tells 4K only by a probed width that a strm entry may not have): marked available
    through Seerr's API. Shows are left to Seerr's scan, which counts episodes per season; the API can only mark a
    whole show."""
    for arrival in present:
        if arrival.season is not None:
            continue
        try:
            details = await services.seerr.movie(arrival.tmdb_id)
        except ServiceError as exc:
            log.warning("could not read the movie in Seerr", tmdb_id=arrival.tmdb_id, error=str(exc))
            continue
        media = details.media_info
        if media is None:
            continue
        status = media.status4k if arrival.is4k else media.status
        if status is MediaStatus.AVAILABLE:
            continue
        try:
            await services.seerr.set_media_status(media.id, "available", is4k=arrival.is4k)
            log.info("marked available in Seerr", what=arrival.describe())
        except ServiceError as exc:
            log.warning("could not mark the movie available in Seerr", tmdb_id=arrival.tmdb_id, error=str(exc))


async def say_what_is_wrong(
    services: Services, sessions: async_sessionmaker[AsyncSession], settings: Settings, missing: list[Arrival]
) -> None:
    """Past library.verify_minutes, each request still waiting for Jellyfin says plainly what to look at."""
    try:
        folders = await services.jellyfin.virtual_folders()
    except ServiceError:
        folders = []
    minutes = round(settings.library.verify_minutes)
    async with sessions.begin() as session:
        for arrival in missing:
            if arrival.key is None:
                continue
            for request_id in await repo.requests_of_item(session, arrival.key):
                request = await repo.get_request(session, request_id)
                if request is None or request.state is not RequestState.FULFILLED:
                    continue
                hint = _hint(settings, arrival, folders)
                reason = f"Jellyfin has not picked up {request.title} after {minutes} min: {hint}"
                if request.reason != reason:
                    await repo.set_request_reason(session, request_id, reason)
                    log.warning("not in Jellyfin", request_id=request_id, reason=reason)


def _hint(settings: Settings, arrival: Arrival, folders: list[VirtualFolder]) -> str:
    kind: Literal["movie", "show"] = "movie" if arrival.season is None else "show"
    if not library_on(settings):
        return (
            f"is the folder where the Real-Debrid files appear part of a Jellyfin {kind}s library, and does Jellyfin "
            "name them right? (with library.root set, seerbridge names them for Jellyfin)"
        )
    folder = jellyfin_path(settings, section(kind, arrival.is4k))
    kind_name = "movies" if kind == "movie" else "shows"
    if not any(inside(folder, loc) for f in folders for loc in f.locations):
        return f"is `{folder}` a folder of a Jellyfin {kind_name} library?"
    return f"`{folder}` is in a Jellyfin library, yet it lists no item with TMDB id {arrival.tmdb_id}: see its log"
