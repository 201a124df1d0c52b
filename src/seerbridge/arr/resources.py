"""The JSON the Radarr/Sonarr servers answer with, built purely from a title and its facts. Shapes follow the
projects' own v3 specs (resources there forbid unknown keys, so nothing extra is added); what Seerr reads is in
../shared/api/servarr-for-seerr.md."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from seerbridge.arr.facts import Download, FileFacts, TitleFacts
from seerbridge.arr.servers import Server
from seerbridge.library.naming import folder_for
from seerbridge.store.arr_repo import ArrSeason, ArrTitleRecord

NEVER = "0001-01-01T00:00:00Z"
"""What Radarr reports as `added` for a title it does not hold (a lookup result)."""
EPISODE_ID_SPAN = 100_000
"""Episode ids are `series id × 100000 + season × 1000 + episode`: stable, and unique while a season has fewer than
1000 episodes (ids stay within int32 for the first 21474 series)."""


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slug(text: str) -> str:
    """`The Matrix` → `the-matrix`, as Sonarr's title slugs read."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "title"


def system_status(server: Server, started: datetime) -> dict[str, Any]:
    return {
        "appName": "Radarr" if server.app == "radarr" else "Sonarr",
        "instanceName": f"seerbridge ({server.label})",
        "version": server.version,
        "isDebug": False,
        "isProduction": True,
        "isAdmin": False,
        "isUserInteractive": False,
        "isNetCore": True,
        "isLinux": True,
        "isOsx": False,
        "isWindows": False,
        "isDocker": False,
        "branch": "main",
        "authentication": "external",
        # The base Seerr must enter: its settings page copies this into an empty "URL Base" after a test.
        "urlBase": server.base,
        "startTime": _utc_iso(started),
        "packageAuthor": "seerbridge",
    }


def quality_profiles(names: Iterable[str], ids: Mapping[str, int]) -> list[dict[str, Any]]:
    return [
        {
            "id": ids[name],
            "name": name,
            "upgradeAllowed": True,
            "cutoff": 0,
            "items": [],
            "minFormatScore": 0,
            "cutoffFormatScore": 0,
            "minUpgradeFormatScore": 1,
            "formatItems": [],
        }
        for name in names
    ]


def root_folders(path: str, free: int | None) -> list[dict[str, Any]]:
    folder: dict[str, Any] = {"id": 1, "path": path, "accessible": True, "unmappedFolders": []}
    if free is not None:
        folder["freeSpace"] = free
    return [folder]


def language_profiles() -> list[dict[str, Any]]:
    return [{"id": 1, "name": "Any", "upgradeAllowed": False, "cutoff": {"id": 1, "name": "English"}, "languages": []}]


def tag(tag_id: int, label: str) -> dict[str, Any]:
    return {"id": tag_id, "label": label}


def _folder(title: ArrTitleRecord, server: Server) -> str:
    return folder_for(server.kind, title.is4k, title.title, title.year or None, title.tmdb_id or 0).split("/", 1)[-1]


def _movie_file(title: ArrTitleRecord, file: FileFacts, root: str) -> dict[str, Any]:
    media: dict[str, Any] = {}
    if file.width_height:
        media["resolution"] = file.width_height
    return {
        "id": file.torrent_id,
        "movieId": title.id,
        "relativePath": file.path.split("/", 2)[-1] if file.path else file.name,
        "path": f"{root.rsplit('/', 1)[0]}/{file.path}" if file.path else file.name,
        "size": file.size,
        "dateAdded": _utc_iso(file.at),
        "sceneName": file.name,
        "mediaInfo": media,
        "qualityCutoffNotMet": False,
    }


def movie(title: ArrTitleRecord, facts: TitleFacts, server: Server, profile_id: int, root: str) -> dict[str, Any]:
    """A MovieResource: `hasFile` only when Jellyfin holds the film (Seerr's scan reads it as Available)."""
    folder = _folder(title, server)
    file = facts.movie
    body: dict[str, Any] = {
        "id": title.id,
        "title": title.title,
        "originalTitle": title.title,
        "sortTitle": title.title.lower(),
        "sizeOnDisk": file.size if file else 0,
        "status": "released",
        "images": [],
        "year": title.year,
        "path": f"{root}/{folder}",
        "qualityProfileId": profile_id,
        "hasFile": file is not None,
        "movieFileId": file.torrent_id if file else 0,
        "monitored": title.monitored,
        "minimumAvailability": "released",
        "isAvailable": True,
        "folderName": f"{root}/{folder}",
        "runtime": 0,
        "cleanTitle": re.sub(r"[^a-z0-9]", "", title.title.lower()),
        "imdbId": title.imdb_id,
        "tmdbId": title.tmdb_id or 0,
        "titleSlug": str(title.tmdb_id or ""),
        "rootFolderPath": root,
        "folder": folder,
        "genres": [],
        "keywords": [],
        "tags": list(title.tags),
        "added": _utc_iso(title.added_at) if title.id else NEVER,
        "statistics": {"movieFileCount": 1 if file else 0, "sizeOnDisk": file.size if file else 0, "releaseGroups": []},
    }
    if file is not None:
        body["movieFile"] = _movie_file(title, file, root)
    return body


def _season_numbers(title: ArrTitleRecord) -> list[ArrSeason]:
    return sorted(title.seasons, key=lambda s: s.number)


def _season_stats(season: ArrSeason, facts: TitleFacts) -> dict[str, Any]:
    held = facts.seasons.get(season.number)
    files = len(held.available) if held else 0
    size = held.file.size if held and held.file else 0
    wanted = season.episodes if season.monitored else files
    return {
        "episodeFileCount": files,
        "episodeCount": wanted,
        "totalEpisodeCount": max(season.episodes, files),
        "sizeOnDisk": size,
        "releaseGroups": [],
        "percentOfEpisodes": round(files / wanted * 100, 1) if wanted else 0.0,
    }


def series(title: ArrTitleRecord, facts: TitleFacts, server: Server, profile_id: int, root: str) -> dict[str, Any]:
    """A SeriesResource with every season (0 included); episode files counted only where Jellyfin holds them."""
    folder = _folder(title, server)
    stats = [_season_stats(s, facts) for s in _season_numbers(title)]
    seasons = [
        {"seasonNumber": s.number, "monitored": s.monitored, "statistics": st, "images": []}
        for s, st in zip(_season_numbers(title), stats, strict=True)
    ]
    files = sum(s["episodeFileCount"] for s in stats)
    counted = sum(s["episodeCount"] for s in stats)
    return {
        "id": title.id,
        "title": title.title,
        "sortTitle": title.title.lower(),
        "status": "continuing",
        "ended": False,
        "overview": "",
        "images": [],
        "seasons": seasons,
        "year": title.year,
        "path": f"{root}/{folder}",
        "qualityProfileId": profile_id,
        "languageProfileId": 1,
        "seasonFolder": True,
        "monitored": title.monitored,
        "useSceneNumbering": False,
        "runtime": 0,
        "tvdbId": title.tvdb_id or 0,
        "tvRageId": 0,
        "tvMazeId": 0,
        "tmdbId": title.tmdb_id or 0,
        "seriesType": "standard",
        "cleanTitle": re.sub(r"[^a-z0-9]", "", title.title.lower()),
        "imdbId": title.imdb_id,
        "titleSlug": slug(title.title),
        "rootFolderPath": root,
        "folder": folder,
        "genres": [],
        "tags": list(title.tags),
        "added": _utc_iso(title.added_at) if title.id else NEVER,
        "statistics": {
            "seasonCount": len([s for s in title.seasons if s.number > 0]),
            "episodeFileCount": files,
            "episodeCount": counted,
            "totalEpisodeCount": sum(s["totalEpisodeCount"] for s in stats),
            "sizeOnDisk": sum(s["sizeOnDisk"] for s in stats),
            "releaseGroups": [],
            "percentOfEpisodes": round(files / counted * 100, 1) if counted else 0.0,
        },
    }


EpisodeIds = Mapping[tuple[int, int], int]
"""The stable id of each (season, episode) of a series (store/arr_repo.py `episode_ids`)."""


def episode_numbers(title: ArrTitleRecord) -> list[tuple[int, int]]:
    """Every (season, episode) the series lists, specials included."""
    return [(s.number, n) for s in _season_numbers(title) for n in range(1, s.episodes + 1)]


def episode(
    title: ArrTitleRecord, season: ArrSeason, number: int, facts: TitleFacts, ids: EpisodeIds
) -> dict[str, Any]:
    held = facts.seasons.get(season.number)
    return {
        "id": ids[(season.number, number)],
        "seriesId": title.id,
        "tvdbId": 0,
        "episodeFileId": 0,
        "seasonNumber": season.number,
        "episodeNumber": number,
        "title": f"Episode {number}",
        "hasFile": bool(held and number in held.available),
        "monitored": season.monitored,
        "unverifiedSceneNumbering": False,
        "images": [],
    }


def episodes(title: ArrTitleRecord, facts: TitleFacts, ids: EpisodeIds) -> list[dict[str, Any]]:
    return [
        episode(title, season, number, facts, ids)
        for season in _season_numbers(title)
        for number in range(1, season.episodes + 1)
    ]


def queued_episodes(facts: TitleFacts) -> list[tuple[int, int]]:
    """The (season, episode) pairs the downloads in progress hold (0 for a download with no episode list)."""
    return [(d.season or 0, n) for d in facts.downloads for n in d.episodes or (0,)]


def _clock(delta: timedelta) -> str:
    """A .NET TimeSpan as Radarr writes it: `00:12:34`, `1.02:03:04` past a day."""
    seconds = max(0, int(delta.total_seconds()))
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{days}.{text}" if days else text


def eta(download: Download) -> datetime | None:
    """When the download should finish at its pace so far (None before any progress is seen)."""
    if download.progress <= 0 or download.progress_at is None:
        return None
    elapsed = download.progress_at - download.added_at
    if elapsed.total_seconds() <= 0:
        return None
    return download.added_at + elapsed / download.progress


def _queue_record(download: Download, now: datetime, record_id: int) -> dict[str, Any]:
    left = round(download.size * (1 - download.progress))
    record: dict[str, Any] = {
        "id": record_id,
        "size": download.size,
        "sizeleft": left,
        "title": download.name,
        "added": _utc_iso(download.added_at),
        "status": "downloading" if download.progress > 0 else "queued",
        "trackedDownloadStatus": "ok",
        "trackedDownloadState": "downloading",
        "statusMessages": [],
        "downloadId": download.info_hash.upper(),
        "protocol": "torrent",
        "downloadClient": "Real-Debrid",
        "downloadClientHasPostImportCategory": False,
        "indexer": "seerbridge",
    }
    finish = eta(download)
    if finish is not None:
        record["estimatedCompletionTime"] = _utc_iso(finish)
        record["timeleft"] = _clock(finish - now)
    return record


def movie_queue(title: ArrTitleRecord, facts: TitleFacts, now: datetime) -> list[dict[str, Any]]:
    return [{**_queue_record(d, now, d.torrent_id), "movieId": title.id} for d in facts.downloads]


def series_queue(title: ArrTitleRecord, facts: TitleFacts, now: datetime, ids: EpisodeIds) -> list[dict[str, Any]]:
    """One record per episode, as Sonarr lists them; a season pack's share one `downloadId` (one bar in Seerr)."""
    records = []
    for download in facts.downloads:
        season = download.season or 0
        for number in download.episodes or (0,):
            ident = ids[(season, number)]
            records.append(
                {
                    **_queue_record(download, now, ident),
                    "seriesId": title.id,
                    "episodeId": ident,
                    "seasonNumber": season,
                    "episodeHasFile": False,
                    "episode": {
                        "id": ident,
                        "seriesId": title.id,
                        "seasonNumber": season,
                        "episodeNumber": number,
                        "title": f"Episode {number}",
                        "hasFile": False,
                        "monitored": True,
                        "unverifiedSceneNumbering": False,
                    },
                }
            )
    return records


def page(records: list[dict[str, Any]], number: int, size: int | None) -> dict[str, Any]:
    """A paging resource; without a page size (Seerr sends none) every record is on the first page."""
    per = size if size and size > 0 else max(1, len(records))
    start = (max(1, number) - 1) * per
    return {
        "page": max(1, number),
        "pageSize": per,
        "sortKey": "timeleft",
        "sortDirection": "ascending",
        "totalRecords": len(records),
        "records": records[start : start + per],
    }


def command(command_id: int, name: str, now: datetime) -> dict[str, Any]:
    return {
        "id": command_id,
        "name": name,
        "commandName": name,
        "priority": "normal",
        "status": "completed",
        "result": "successful",
        "queued": _utc_iso(now),
        "started": _utc_iso(now),
        "ended": _utc_iso(now),
        "trigger": "manual",
        "stateChangeTime": _utc_iso(now),
        "sendUpdatesToClient": False,
        "updateScheduledTask": False,
    }


def validation_errors(failures: Iterable[tuple[str, str, Any, str]]) -> list[dict[str, Any]]:
    """Radarr's 400 body: FluentValidation failures (property, message, attempted value, error code)."""
    return [
        {
            "propertyName": prop,
            "errorMessage": message,
            "attemptedValue": attempted,
            "severity": "error",
            "errorCode": code,
        }
        for prop, message, attempted, code in failures
    ]
