"""Seerr's Radarr/Sonarr side in the emulator (`SeerrState.servarr`): configured servers, the asynchronous approval
push, the jobs that read the servers, the download snapshot and the settings "Test".

Behaviour follows Seerr v3.1.0 as `/work/shared/api/servarr-for-seerr.md` records it. Pushes and job runs are
asyncio tasks on the running loop (Seerr answers the approving call first); `settle()` waits for all of them.
With no server configured for a kind, `SeerrState` keeps its scenario behaviour ("none"/"unreachable").

Tests use: `add_server(...)`, `transport = httpx.ASGITransport(app)`, `await settle()`, and the jobs
`download_sync()`, `download_sync_reset()`, `radarr_scan()`, `sonarr_scan()`, `availability_sync()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from seerbridge.sandbox import seerr_servarr_jobs as jobs
from seerbridge.sandbox.seerr_models import MediaRow, MediaStatus, MediaStatuses, RequestRow, SeerrFailure
from seerbridge.sandbox.seerr_servarr_client import (
    DEFAULT_TIMEOUT,
    SETTINGS_CLASSES,
    DVRSettings,
    RadarrSettings,
    ServarrCallError,
    ServarrClient,
    ServarrKind,
    SonarrSettings,
    build_url,
)
from seerbridge.sandbox.seerr_servarr_push import push

if TYPE_CHECKING:
    from seerbridge.sandbox.seerr_state import SeerrState

PROFILE_CACHE = timedelta(seconds=3600)  # getRolling's TTL for /qualityProfile and /rootfolder
JOBS: dict[str, Callable[[Servarr], Coroutine[Any, Any, None]]] = {
    "download-sync": jobs.download_sync,
    "radarr-scan": jobs.radarr_scan,
    "sonarr-scan": jobs.sonarr_scan,
    "availability-sync": jobs.availability_sync,
}


class Servarr:
    """Seerr's configured Radarr and Sonarr servers and everything it does with them."""

    def __init__(self, state: SeerrState) -> None:
        self.state = state
        self.servers: dict[ServarrKind, list[DVRSettings]] = {"radarr": [], "sonarr": []}
        self.transport: httpx.AsyncBaseTransport | None = None
        """Where calls go (e.g. `httpx.ASGITransport(app)`); None uses the network."""
        self.timeout = DEFAULT_TIMEOUT
        self.downloads: dict[tuple[ServarrKind, int], list[dict[str, Any]]] = {}
        """The download tracker: each server's last `/queue` snapshot, by (kind, server id)."""
        self.in_jellyfin: Callable[[MediaRow, bool], bool] = lambda media, is4k: (
            not is4k and media.jellyfin_media_id is not None
        )
        """Availability sync's Jellyfin check; by default a media row Seerr matched to a Jellyfin item."""
        self.log: list[str] = []
        """What Seerr would log at error/warn level about its servers (failed pushes, jobs, searches)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._queued: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._profiles: dict[tuple[str, str], datetime] = {}  # (url, key) → when /qualityProfile last answered
        self._profile_errors: dict[ServarrKind, list[dict[str, int | str]]] = {"radarr": [], "sonarr": []}

    # ---------------------------------------------------------------- servers

    def add_server(
        self,
        *,
        kind: ServarrKind,
        api_key: str,
        base_url: str | None = None,
        hostname: str = "seerbridge",
        port: int = 8000,
        is4k: bool = False,
        is_default: bool = True,
        active_profile_id: int = 1,
        active_profile_name: str = "Any",
        active_directory: str = "",
        sync_enabled: bool = False,
        prevent_search: bool = False,
        name: str | None = None,
        **settings: Any,
    ) -> DVRSettings:
        """Add a server as `POST /settings/{kind}` does (id = last id + 1, a new default clears the old one)."""
        given = {
            "name": name or f"{kind.capitalize()}{' 4K' if is4k else ''}",
            "hostname": hostname,
            "port": port,
            "api_key": api_key,
            "base_url": base_url,
            "is4k": is4k,
            "is_default": is_default,
            "active_profile_id": active_profile_id,
            "active_profile_name": active_profile_name,
            "active_directory": active_directory,
            "sync_enabled": sync_enabled,
            "prevent_search": prevent_search,
            **settings,
        }
        # Only the keys given are stored, as a settings body would be (an unset baseUrl is absent, not null).
        server = SETTINGS_CLASSES[kind].model_validate({k: v for k, v in given.items() if v is not None})
        return self.create(kind, server)

    def create(self, kind: ServarrKind, server: DVRSettings) -> DVRSettings:
        with self.state.lock:
            listed = self.servers[kind]
            server.id = listed[-1].id + 1 if listed else 0
            if server.is_default:
                self._clear_default(kind, server.is4k)
            listed.append(server)
            return server

    def replace(self, kind: ServarrKind, server_id: int, server: DVRSettings) -> DVRSettings | None:
        """`PUT /settings/{kind}/{id}`: the body replaces the settings; None when there is no such server."""
        with self.state.lock:
            listed = self.servers[kind]
            index = next((i for i, s in enumerate(listed) if s.id == server_id), None)
            if index is None:
                return None
            if server.is_default:
                self._clear_default(kind, server.is4k)
            server.id = server_id
            listed[index] = server
            return server

    def remove(self, kind: ServarrKind, server_id: int) -> DVRSettings | None:
        with self.state.lock:
            listed = self.servers[kind]
            found = next((s for s in listed if s.id == server_id), None)
            if found is not None:
                listed.remove(found)
            return found

    def _clear_default(self, kind: ServarrKind, is4k: bool) -> None:
        for other in self.servers[kind]:
            if other.is4k == is4k:
                other.is_default = False

    def configured(self, kind: ServarrKind) -> bool:
        return bool(self.servers[kind])

    def server_for(self, row: RequestRow) -> DVRSettings | None:
        """The request's `serverId` if set, else the default server of its 4K kind."""
        listed = self.servers["radarr" if row.type == "movie" else "sonarr"]
        if row.server_id is not None and row.server_id >= 0:
            return next((s for s in listed if s.id == row.server_id), None)
        return next((s for s in listed if s.is_default and s.is4k == row.is4k), None)

    def client(self, server: DVRSettings) -> ServarrClient:
        return ServarrClient(server, transport=self.transport, timeout=self.timeout)

    # ---------------------------------------------------------------- tasks

    def _start(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `work` as a task on the running loop, or queue it for `settle()` when called outside one."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._queued.append(work)
            return
        task = loop.create_task(work())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait until every push and job run in flight (and any they start) has finished."""
        while self._queued or self._tasks:
            while self._queued:
                self._start(self._queued.pop(0))
            await asyncio.gather(*list(self._tasks))

    def send(self, row: RequestRow, before: MediaStatuses) -> None:
        """Schedule the push of a just-approved request (caller holds `state.lock`); skipped with no server for it
        or when the media was already AVAILABLE for its kind."""
        server = self.server_for(row)
        if server is None or before[int(row.is4k)] is MediaStatus.AVAILABLE:
            return
        if row.type == "tv" and row.media.spec.tvdb_id is None:
            self._start(lambda: self._drop_without_tvdb(row))
            return
        self._start(lambda: push(self, row, server, before))

    async def _drop_without_tvdb(self, row: RequestRow) -> None:
        """sendToSonarr without a TVDB id: Seerr deletes the request and the media row."""
        with self.state.lock:
            self.log.append(f"request {row.id}: no TVDB id, request and media removed")
            if self.state.media.get(row.media.id) is row.media:
                self.state.delete_media(row.media.id)

    def run_job(self, job_id: str) -> None:
        """A job started from `POST /settings/jobs/{id}/run`: it runs in the background, as Seerr's does."""
        if job_id == "download-sync-reset":
            self.download_sync_reset()
        elif job_id in JOBS:
            job = JOBS[job_id]
            self._start(lambda: job(self))

    # ---------------------------------------------------------------- jobs

    async def download_sync(self) -> None:
        await jobs.download_sync(self)

    def download_sync_reset(self) -> None:
        self.downloads.clear()

    async def radarr_scan(self) -> None:
        await jobs.radarr_scan(self)

    async def sonarr_scan(self) -> None:
        await jobs.sonarr_scan(self)

    async def availability_sync(self) -> None:
        await jobs.availability_sync(self)

    def downloads_for(self, media: MediaRow, *, is4k: bool) -> list[dict[str, Any]]:
        """`downloadStatus`/`downloadStatus4k`: the snapshot's records for the media's server and external id."""
        link = media.link(is4k)
        if link.service_id is None or link.external_service_id is None:
            return []
        kind: ServarrKind = "radarr" if media.media_type == "movie" else "sonarr"
        items = self.downloads.get((kind, link.service_id), [])
        return [item for item in items if item.get("externalId") == link.external_service_id]

    # ---------------------------------------------------------------- request list, settings test

    async def refresh_profiles(self) -> None:
        """What `GET /request` does first: `/qualityProfile` on every server at once (Promise.all), cached for an
        hour per URL and key. A server that fails with nothing cached is listed in `serviceErrors`."""
        now = self.state.clock.now()
        errors: dict[ServarrKind, list[dict[str, int | str]]] = {"radarr": [], "sonarr": []}

        async def one(kind: ServarrKind, server: DVRSettings) -> None:
            key = (build_url(server), server.api_key)
            fetched = self._profiles.get(key)
            if fetched is not None and now - fetched < PROFILE_CACHE:
                return
            try:
                async with self.client(server) as client:
                    await client.get("/qualityProfile")
            except ServarrCallError:
                if fetched is None:
                    errors[kind].append({"id": server.id, "name": server.name})
                return
            self._profiles[key] = now

        await asyncio.gather(*(one(kind, server) for kind, listed in self.servers.items() for server in list(listed)))
        self._profile_errors = errors

    def service_errors(self, kind: ServarrKind) -> list[dict[str, int | str]]:
        return list(self._profile_errors[kind])

    async def test(self, kind: ServarrKind, body: dict[str, Any]) -> dict[str, Any]:
        """`POST /settings/{kind}/test`; raises SeerrFailure(500, "Failed to connect to …") as the route does."""
        settings = SETTINGS_CLASSES[kind].model_validate(body)
        name = kind.capitalize()
        try:
            async with self.client(settings) as client:
                if isinstance(settings, RadarrSettings):
                    try:
                        url_base = (await client.get("/system/status") or {}).get("urlBase")
                    except ServarrCallError:
                        url_base = body.get("baseUrl")  # Radarr's status is optional for the test
                    version_major = None
                else:
                    assert isinstance(settings, SonarrSettings)
                    status = await client.get("/system/status")  # required: its failure fails the test
                    url_base = status.get("urlBase")
                    version_major = _major(status["version"].split(".")[0])
                profiles = await client.get("/qualityProfile")
                self._profiles[(build_url(settings), settings.api_key)] = self.state.clock.now()
                folders = await client.get("/rootfolder") or []
                languages = None
                if version_major is not None and version_major <= 3:
                    languages = await client.get("/languageprofile")
                tags = await client.get("/tag")
        except (ServarrCallError, AttributeError, KeyError, TypeError) as exc:  # what makes Seerr's code throw
            self.log.append(f"Failed to test {name}: {exc}")
            raise SeerrFailure(500, f"Failed to connect to {name}") from None
        answer: dict[str, Any] = {
            "profiles": profiles,
            "rootFolders": [{"id": f.get("id"), "path": f.get("path")} for f in folders],
        }
        if kind == "sonarr":
            answer["languageProfiles"] = languages
        answer["tags"] = tags
        if url_base is not None:
            answer["urlBase"] = url_base  # undefined is left out of the JSON
        return answer


def _major(text: str) -> float:
    """`Number(text)`; NaN compares false, so `<= 3` fails for a major that is not a number."""
    try:
        return float(text)
    except ValueError:
        return float("nan")
