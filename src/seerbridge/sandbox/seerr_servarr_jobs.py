"""Seerr's jobs that read Radarr/Sonarr: `download-sync`, `radarr-scan`, `sonarr-scan` and the servers' half of
`availability-sync`, as `/work/shared/api/servarr-for-seerr.md` §4 and §6 describe Seerr v3.1.0
(server/lib/downloadtracker.ts, server/lib/scanners/*, server/lib/availabilitySync.ts).

Status changes go through `seerr_rules.after_media_update`, so requests complete exactly as after any other change.
A failing call is logged and ignored, as Seerr does. Callers do not hold `state.lock`; each write takes it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any

from seerbridge.sandbox import seerr_rules as rules
from seerbridge.sandbox.clock import js_date
from seerbridge.sandbox.seerr_models import MediaRow, MediaStatus, tmdb_seasons
from seerbridge.sandbox.seerr_servarr_client import DVRSettings, ServarrCallError, ServarrKind

if TYPE_CHECKING:
    from seerbridge.sandbox.seerr_servarr import Servarr

_SHOWN = (MediaStatus.AVAILABLE, MediaStatus.PARTIALLY_AVAILABLE)


def distinct(servers: list[DVRSettings]) -> list[DVRSettings]:
    """lodash `uniqWith` on hostname+port+baseUrl over the servers with `syncEnabled`."""
    kept: list[DVRSettings] = []
    for server in servers:
        if server.sync_enabled and not any(server.same_host(k) for k in kept):
            kept.append(server)
    return kept


def _when(raw: Any) -> str | None:
    """`new Date(estimatedCompletionTime)` as JSON: ISO with milliseconds, or null for an invalid date."""
    try:
        return js_date(datetime.fromisoformat(str(raw).replace("Z", "+00:00")))
    except ValueError:
        return None


def _downloading_item(kind: ServarrKind, record: dict[str, Any]) -> dict[str, Any]:
    """A `DownloadingItem` as the tracker keeps it and `downloadStatus` shows it."""
    item = {
        "externalId": record.get("movieId" if kind == "radarr" else "seriesId"),
        "estimatedCompletionTime": _when(record.get("estimatedCompletionTime")),
        "mediaType": "movie" if kind == "radarr" else "tv",
        "size": record.get("size"),
        "sizeLeft": record.get("sizeleft"),
        "status": record.get("status"),
        "timeLeft": record.get("timeleft"),
        "title": record.get("title"),
        "downloadId": record.get("downloadId"),
    }
    if kind == "sonarr":
        item["episode"] = record.get("episode")
    return {k: v for k, v in item.items() if v is not None}  # JSON.stringify drops undefined fields


async def download_sync(hub: Servarr) -> None:
    """Per distinct server: RefreshMonitoredDownloads, then the first page of `/queue`; both in one try, so a failed
    command keeps the previous snapshot. Servers sharing the host get the same snapshot."""

    async def one(kind: ServarrKind, server: DVRSettings) -> None:
        try:
            async with hub.client(server) as client:
                await client.command("RefreshMonitoredDownloads")
                page = await client.get("/queue", includeEpisode="true")
        except ServarrCallError as exc:
            hub.log.append(f"download-sync {kind} {server.id}: {exc}")
            return
        records = page.get("records") if isinstance(page, dict) else None
        items = [_downloading_item(kind, r) for r in records or [] if isinstance(r, dict)]
        for same in hub.servers[kind]:
            if same.sync_enabled and same.same_host(server):
                hub.downloads[(kind, same.id)] = items

    # Every server at once, as Seerr's tracker does (Promise.all).
    kinds: tuple[ServarrKind, ...] = ("radarr", "sonarr")
    await asyncio.gather(*(one(kind, server) for kind in kinds for server in distinct(hub.servers[kind])))


def _media_for_scan(hub: Servarr, tmdb_id: Any, tvdb_id: Any, media_type: str) -> MediaRow | None:
    """The media row for a scanned title, created when Seerr did not know it (only for titles our TMDB knows)."""
    state = hub.state
    if media_type == "tv":
        spec = next((m for m in state.scenario.media if m.type == "tv" and m.tvdb_id == tvdb_id), None)
    else:
        spec = state.scenario.media_by_tmdb(tmdb_id) if isinstance(tmdb_id, int) else None
    if spec is None or spec.type != media_type:
        return None
    return state.media_for(spec.tmdb_id, media_type) or state._new_media(spec, state.clock.now())


def _link(media: MediaRow, server: DVRSettings, item: dict[str, Any]) -> None:
    link = media.link(server.is4k)
    link.service_id = server.id
    link.external_service_id = item.get("id")
    link.external_service_slug = item.get("titleSlug")


async def _list(hub: Servarr, server: DVRSettings, path: str) -> list[dict[str, Any]]:
    try:
        async with hub.client(server) as client:
            items = await client.get(path)
    except ServarrCallError as exc:
        hub.log.append(f"{server.kind}-scan {server.id}: {exc}")
        return []
    return [i for i in items or [] if isinstance(i, dict)]


async def radarr_scan(hub: Servarr) -> None:
    """`GET /movie` per distinct server with syncEnabled: AVAILABLE with a file, PROCESSING without; an unmonitored
    movie without a file is skipped; AVAILABLE is never lowered and DELETED kept unless a file is there."""
    state = hub.state
    for server in distinct(hub.servers["radarr"]):
        for movie in await _list(hub, server, "/movie"):
            if not movie.get("monitored") and not movie.get("hasFile"):
                continue
            with state.lock:
                media = _media_for_scan(hub, movie.get("tmdbId"), None, "movie")
                if media is None:
                    continue
                before = rules.snapshot(media)
                current = media.get(server.is4k)
                if movie.get("hasFile"):
                    media.put(server.is4k, MediaStatus.AVAILABLE)
                elif current not in (MediaStatus.AVAILABLE, MediaStatus.DELETED):
                    media.put(server.is4k, MediaStatus.PROCESSING)
                _link(media, server, movie)
                rules.after_media_update(state, media, before)


def _season_status(files: int, total: int, monitored: bool) -> MediaStatus | None:
    if files > 0 and files == total:
        return MediaStatus.AVAILABLE
    if files > 0:
        return MediaStatus.PARTIALLY_AVAILABLE
    return MediaStatus.PROCESSING if monitored else None


async def sonarr_scan(hub: Servarr) -> None:
    """`GET /series` per distinct server with syncEnabled: per season TMDB also lists (no specials), files vs
    total episodes give AVAILABLE / PARTIALLY_AVAILABLE / PROCESSING; AVAILABLE is never lowered."""
    state = hub.state
    for server in distinct(hub.servers["sonarr"]):
        for series in await _list(hub, server, "/series"):
            with state.lock:
                media = _media_for_scan(hub, None, series.get("tvdbId"), "tv")
                if media is None:
                    continue
                before = rules.snapshot(media)
                known = {s.season for s in tmdb_seasons(media.spec) if s.season > 0}
                counted: list[tuple[int, int]] = []
                now = state.clock.now()
                for season in series.get("seasons") or []:
                    number = season.get("seasonNumber")
                    if number not in known:
                        continue
                    stats = season.get("statistics") or {}
                    files, total = int(stats.get("episodeFileCount") or 0), int(stats.get("totalEpisodeCount") or 0)
                    counted.append((files, total))
                    status = _season_status(files, total, bool(season.get("monitored")))
                    row = state._season_row(media, number, now)
                    current = row.status4k if server.is4k else row.status
                    if status is None or current is MediaStatus.AVAILABLE:
                        continue
                    if server.is4k:
                        row.status4k = status
                    else:
                        row.status = status
                    row.updated_at = now
                seasons = [(s.status4k if server.is4k else s.status) for s in media.seasons]
                if media.get(server.is4k) is not MediaStatus.AVAILABLE:
                    if counted and all(f == t and f > 0 for f, t in counted):
                        media.put(server.is4k, MediaStatus.AVAILABLE)
                    elif any(s in _SHOWN for s in seasons):
                        media.put(server.is4k, MediaStatus.PARTIALLY_AVAILABLE)
                    elif MediaStatus.PROCESSING in seasons:
                        media.put(server.is4k, MediaStatus.PROCESSING)
                _link(media, server, series)
                rules.after_media_update(state, media, before)


async def _exists(hub: Servarr, kind: ServarrKind, media: MediaRow, is4k: bool) -> bool:
    """Whether any server of this kind still has the title: a 404 means gone, any other error "assume it exists"."""
    external_id = media.link(is4k).external_service_id
    for server in hub.servers[kind]:
        if server.is4k != is4k:
            continue
        try:
            async with hub.client(server) as client:
                item = await client.get(f"/{'movie' if kind == 'radarr' else 'series'}/{external_id}")
        except ServarrCallError as exc:
            if exc.status == 404:
                continue
            return True
        if kind == "radarr" and isinstance(item, dict) and item.get("hasFile"):
            return True
        files = (item.get("statistics") or {}).get("episodeFileCount") if isinstance(item, dict) else None
        if kind == "sonarr" and int(files or 0) > 0:
            return True
    return False


async def availability_sync(hub: Servarr) -> None:
    """Media shown (partially) available and linked to a server: gone from every server of its kind and not in
    Jellyfin → DELETED (its available seasons too)."""
    state = hub.state
    with state.lock:
        candidates = [
            (media, is4k)
            for media in state.media.values()
            for is4k in (False, True)
            if media.get(is4k) in _SHOWN and media.link(is4k).external_service_id is not None
        ]
    for media, is4k in candidates:
        kind: ServarrKind = "radarr" if media.media_type == "movie" else "sonarr"
        if await _exists(hub, kind, media, is4k) or hub.in_jellyfin(media, is4k):
            continue
        with state.lock:
            if state.media.get(media.id) is not media:
                continue
            before = rules.snapshot(media)
            media.put(is4k, MediaStatus.DELETED)
            for season in media.seasons:
                if (season.status4k if is4k else season.status) in _SHOWN:
                    if is4k:
                        season.status4k = MediaStatus.DELETED
                    else:
                        season.status = MediaStatus.DELETED
            rules.after_media_update(state, media, before)
