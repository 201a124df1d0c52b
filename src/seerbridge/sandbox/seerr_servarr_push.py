"""The approval push to Radarr/Sonarr (`MediaRequestSubscriber.sendToRadarr`/`sendToSonarr`, `RadarrAPI.addMovie`,
`SonarrAPI.addSeries`), step by step as `/work/shared/api/servarr-for-seerr.md` §3 describes Seerr v3.1.0.

`push` runs as its own asyncio task after the approving call has answered. Any failure (non-2xx, timeout, empty
lookup, no `id` in the answer, `monitored` not true after the PUT) marks the request FAILED and sends MEDIA_FAILED;
a success stores the server's `id` and `titleSlug` and the server id on the media row (the 4K columns for 4K).
A failing search command or episode-monitor call is only logged by Seerr, so it does not fail the push.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

from seerbridge.sandbox.seerr_models import MediaStatuses, RequestRow, RequestStatus
from seerbridge.sandbox.seerr_servarr_client import (
    DVRSettings,
    RadarrSettings,
    ServarrCallError,
    ServarrClient,
    SonarrSettings,
)

if TYPE_CHECKING:
    from seerbridge.sandbox.seerr_servarr import Servarr


class PushFailed(Exception):
    """A step of the add that Seerr treats as a thrown error."""


def _tag_label(user_id: int, display_name: str) -> str:
    """`<userId>-<displayName>` with accents stripped, spaces as `-` and only `[A-Za-z0-9-]` kept."""
    plain = "".join(c for c in unicodedata.normalize("NFD", display_name) if not unicodedata.combining(c))
    return f"{user_id}-" + re.sub(r"[^A-Za-z0-9-]", "", plain.replace(" ", "-"))


async def _request_tags(client: ServarrClient, server: DVRSettings, row: RequestRow, tags: list[int]) -> list[int]:
    """With `tagRequests`: reuse the user's tag (label `<id> - ` or `<id>-…`) or create it, and add its id."""
    if not server.tag_requests:
        return tags
    user = row.requested_by
    existing = await client.get("/tag") or []
    found = next(
        (t for t in existing if str(t.get("label", "")).startswith((f"{user.id} - ", f"{user.id}-"))),
        None,
    )
    if found is None:
        found = await client.post("/tag", {"label": _tag_label(user.id, user.name)})
    tag_id = found.get("id") if isinstance(found, dict) else None
    return [*tags, tag_id] if isinstance(tag_id, int) and tag_id not in tags else tags


def _first(lookup: Any, what: str) -> dict[str, Any]:
    if not isinstance(lookup, list) or not lookup or not isinstance(lookup[0], dict):
        raise PushFailed(f"{what} lookup found nothing")
    return lookup[0]


async def _add_movie(hub: Servarr, client: ServarrClient, server: RadarrSettings, row: RequestRow) -> dict[str, Any]:
    spec = row.media.spec
    profile = row.profile_id or server.active_profile_id
    root = row.root_folder or server.active_directory
    tags = await _request_tags(client, server, row, list(row.tags if row.tags is not None else server.tags))
    search_now = not server.prevent_search
    movie = _first(await client.get("/movie/lookup", term=f"tmdb:{spec.tmdb_id}"), "movie")
    if movie.get("hasFile"):
        return movie
    details = {
        "title": spec.title,
        "qualityProfileId": profile,
        "profileId": profile,
        "titleSlug": str(spec.tmdb_id),
        "minimumAvailability": server.minimum_availability,
        "tmdbId": spec.tmdb_id,
        "year": spec.release_date.year if spec.release_date else 0,
    }
    if movie.get("id") and not movie.get("monitored"):
        union = list(dict.fromkeys([*(movie.get("tags") or []), *tags]))
        body = {
            **movie,
            **details,
            "tags": union,
            "rootFolderPath": root,
            "monitored": True,
            "addOptions": {"searchForMovie": search_now},
        }
        updated = await client.put("/movie", body)
        if not isinstance(updated, dict) or updated.get("monitored") is not True:
            raise PushFailed("Failed to update existing movie in Radarr")
        if search_now:
            await _search(hub, client, "MoviesSearch", movieIds=[updated.get("id")])
        return updated
    if movie.get("id"):
        if search_now and not movie.get("hasFile"):
            await _search(hub, client, "MoviesSearch", movieIds=[movie["id"]])
        return movie
    body = {
        **details,
        "rootFolderPath": root,
        "monitored": True,
        "tags": tags,
        "addOptions": {"searchForMovie": search_now},
    }
    added = await client.post("/movie", body)
    if not isinstance(added, dict) or not added.get("id"):
        raise PushFailed("Radarr's answer to the add has no id")
    return added


async def _add_series(hub: Servarr, client: ServarrClient, server: SonarrSettings, row: RequestRow) -> dict[str, Any]:
    spec = row.media.spec
    wanted = set(row.season_numbers)
    profile = row.profile_id or server.active_profile_id
    root = row.root_folder or server.active_directory
    language = row.language_profile_id or server.active_language_profile_id
    tags = await _request_tags(client, server, row, list(row.tags if row.tags is not None else server.tags))
    search_now = not server.prevent_search
    series = _first(await client.get("/series/lookup", term=f"tvdb:{spec.tvdb_id}"), "series")

    def seasons(existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # SonarrAPI.buildSeasonList: a requested season missing from the lookup is silently not monitored.
        return [{**s, "monitored": True} if s.get("seasonNumber") in wanted else s for s in existing]

    lookup_seasons = [s for s in series.get("seasons") or [] if isinstance(s, dict)]
    if series.get("id"):
        body = {
            **series,
            "monitored": True,
            "tags": list(dict.fromkeys([*(series.get("tags") or []), *tags])),
            "seasons": seasons(lookup_seasons),
        }
        updated = await client.put("/series", body)
        if not isinstance(updated, dict) or not updated.get("id"):
            raise PushFailed("Failed to update existing series in Sonarr")
        series_id = updated["id"]
        try:
            episodes = await client.get("/episode", seriesId=series_id) or []
            unmonitored = [
                e["id"]
                for e in episodes
                if isinstance(e, dict) and e.get("seasonNumber") in wanted and e.get("monitored") is False
            ]
            if unmonitored:
                await client.put("/episode/monitor", {"episodeIds": unmonitored, "monitored": True})
        except ServarrCallError as exc:
            hub.log.append(f"episode monitoring failed: {exc}")  # Seerr only logs it
        if search_now:
            await _search(hub, client, "MissingEpisodeSearch", seriesId=series_id)
        return updated
    body = {
        "tvdbId": spec.tvdb_id,
        "title": spec.title,
        "qualityProfileId": profile,
        **({"languageProfileId": language} if language else {}),
        "seasons": seasons([{"seasonNumber": s.get("seasonNumber"), "monitored": False} for s in lookup_seasons]),
        "tags": tags,
        "seasonFolder": server.enable_season_folders,
        "monitored": True,
        "rootFolderPath": root,
        "seriesType": "standard",  # v3.1.0 sends the anime type only for TMDB's anime keyword, which we do not model
        "addOptions": {"ignoreEpisodesWithFiles": True, "searchForMissingEpisodes": search_now},
    }
    added = await client.post("/series", body)
    if not isinstance(added, dict) or not added.get("id"):
        raise PushFailed("Sonarr's answer to the add has no id")
    return added


async def _search(hub: Servarr, client: ServarrClient, name: str, **options: Any) -> None:
    try:
        await client.command(name, **options)
    except ServarrCallError as exc:
        hub.log.append(f"{name} failed: {exc}")  # searchMovie/searchSeries catch and log


async def push(hub: Servarr, row: RequestRow, server: DVRSettings, before: MediaStatuses) -> None:
    """Send one approved request to `server`; the outcome lands on the request and media rows."""
    state = hub.state
    try:
        async with hub.client(server) as client:
            if isinstance(server, RadarrSettings):
                result = await _add_movie(hub, client, server, row)
            else:
                assert isinstance(server, SonarrSettings)
                result = await _add_series(hub, client, server, row)
    except (ServarrCallError, PushFailed) as exc:
        hub.log.append(f"request {row.id} failed on {server.kind} {server.id}: {exc}")
        with state.lock:
            if state.requests.get(row.id) is row:
                row.status = RequestStatus.FAILED
                row.updated_at = state.clock.now()
                state._notify("MEDIA_FAILED", row, media_status=before)
        return
    with state.lock:
        link = row.media.link(row.is4k)
        link.service_id = server.id
        link.external_service_id = result.get("id")
        link.external_service_slug = result.get("titleSlug")
        row.media.updated_at = state.clock.now()
