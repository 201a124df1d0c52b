"""Jellyfin client: what the library already holds (movies, series, episode files) and how to make it rescan.

Jellyfin has no provider-id filter (`AnyProviderIdEquals` is an Emby parameter Jellyfin ignores, returning
everything), so lookups page through `GET /Items` with `fields=ProviderIds,Path` and match `ProviderIds` here, key
names case-insensitively, skipping `LocationType: Virtual` placeholders. Authentication is the
`Authorization: MediaBrowser …, Token="…"` header, the one form that works on 10.11 and on 12.0 (where
`X-Emby-Token` and `api_key` are off by default). Array query parameters are sent repeated (`fields=A&fields=B`),
which Jellyfin accepts like its comma form and which the OpenAPI document describes.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator
from pydantic.alias_generators import to_pascal

from seerbridge import __version__
from seerbridge.config import JellyfinSettings
from seerbridge.redact import register
from seerbridge.services.base import ServiceClient
from seerbridge.services.calls import CallLedger
from seerbridge.services.health import ServiceCheck
from seerbridge.services.http import RemoteError, ServiceHttp

SERVICE = "jellyfin"
DEFAULT_PAGE_SIZE = 200
DEFAULT_FIELDS = ("ProviderIds", "Path")
# What tells a 4K copy: the video's size (top-level Width/Height, and the streams, which Seerr reads).
RESOLUTION_FIELDS = ("Width", "Height", "MediaStreams")
UHD_MIN_WIDTH = 2000  # Seerr's Jellyfin scan counts video wider than this as 4K; seerbridge agrees with it
SCAN_TASK_KEY = "RefreshLibrary"


class LocationType(StrEnum):
    FILE_SYSTEM = "FileSystem"
    REMOTE = "Remote"
    VIRTUAL = "Virtual"
    OFFLINE = "Offline"


class TaskState(StrEnum):
    IDLE = "Idle"
    CANCELLING = "Cancelling"
    RUNNING = "Running"


class _Dto(BaseModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="ignore", frozen=True)


class MediaStream(_Dto):
    """One stream of a file (video, audio, subtitle); only what tells its resolution."""

    type: str | None = None
    width: int | None = None
    height: int | None = None


class Item(_Dto):
    """A BaseItemDto: a movie, series, season or episode (only the properties seerbridge reads)."""

    id: str
    name: str = ""
    type: str
    provider_ids: dict[str, str] = Field(default_factory=dict)
    path: str | None = None
    index_number: int | None = None
    index_number_end: int | None = None
    parent_index_number: int | None = None
    series_id: str | None = None
    location_type: str | None = None
    production_year: int | None = None
    premiere_date: datetime | None = None
    width: int | None = None  # with fields=Width
    height: int | None = None  # with fields=Height
    media_streams: list[MediaStream] = Field(default_factory=list)  # with fields=MediaStreams

    @field_validator("media_streams", mode="before")
    @classmethod
    def _no_streams(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("provider_ids", mode="before")
    @classmethod
    def _drop_nulls(cls, value: Any) -> Any:
        # The spec allows null values and a null map; neither identifies anything.
        if value is None:
            return {}
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items() if v not in (None, "")}
        return value

    @property
    def is_virtual(self) -> bool:
        """A placeholder for something missing (no file behind it)."""
        return self.location_type == LocationType.VIRTUAL

    def provider_id(self, name: str) -> str | None:
        """The value under `name` in ProviderIds, matching the key case-insensitively (Tmdb, tmdb, TMDB…)."""
        wanted = name.lower()
        return next((v for k, v in self.provider_ids.items() if k.lower() == wanted), None)

    @property
    def is_4k(self) -> bool:
        """A 4K copy, as Seerr decides it: a video stream (or the item's own Width) wider than 2000 pixels.

        Needs the item listed with `RESOLUTION_FIELDS`; without them nothing reads as 4K.
        """
        widths = [s.width or 0 for s in self.media_streams if (s.type or "").lower() == "video"]
        return max([*widths, self.width or 0]) > UHD_MIN_WIDTH


class _ItemPage(_Dto):
    items: list[Item] = Field(default_factory=list)
    total_record_count: int = 0
    start_index: int = 0


class PublicSystemInfo(_Dto):
    """`GET /System/Info/Public`: answered without credentials."""

    server_name: str | None = None
    version: str | None = None
    product_name: str | None = None
    id: str | None = None
    local_address: str | None = None
    startup_wizard_completed: bool | None = None


class SystemInfo(PublicSystemInfo):
    """`GET /System/Info`: needs a valid token."""

    has_pending_restart: bool = False
    is_shutting_down: bool = False
    supports_library_monitor: bool | None = None


class TaskResult(_Dto):
    start_time_utc: datetime | None = None
    end_time_utc: datetime | None = None
    status: str | None = None


class TaskInfo(_Dto):
    """A scheduled task; the library scan has `key == "RefreshLibrary"`."""

    id: str
    name: str | None = None
    key: str | None = None
    state: TaskState = TaskState.IDLE
    current_progress_percentage: float | None = None
    category: str | None = None
    is_hidden: bool = False
    last_execution_result: TaskResult | None = None


class VirtualFolder(_Dto):
    """A library as `GET /Library/VirtualFolders` lists it."""

    name: str | None = None
    locations: list[str] = Field(default_factory=list)
    collection_type: str | None = None
    item_id: str | None = None

    @field_validator("locations", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


@dataclass(frozen=True, order=True)
class EpisodeFile:
    """One episode present as a file; a multi-episode file yields one EpisodeFile per episode it holds."""

    season: int
    episode: int
    path: str | None
    item_id: str


_TASKS = TypeAdapter(list[TaskInfo])
_FOLDERS = TypeAdapter(list[VirtualFolder])


def read_problem_details(response: httpx.Response) -> RemoteError:
    """Jellyfin errors: ProblemDetails (`title`, `detail`, validation `errors`), plain text, or an empty 401."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return RemoteError(message=response.text.strip()[:200])
    if isinstance(body, str):
        return RemoteError(message=body[:200])
    if not isinstance(body, dict):
        return RemoteError(message=str(body)[:200])
    title = body.get("title")
    message = str(body.get("detail") or title or "")
    errors = body.get("errors")
    if isinstance(errors, dict) and errors:
        message = "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in errors.items())
    return RemoteError(error=str(title) if title else None, message=message[:200])


def match_provider_ids(
    items: Iterable[Item], *, order: Sequence[tuple[str, str | int | None]], skip_virtual: bool = True
) -> Item | None:
    """The first item whose ProviderIds carry one of the wanted ids, trying `order` (name, value) pairs in turn.

    Keys compare case-insensitively and IMDb ids ignore case; Virtual placeholders are skipped unless asked.
    """
    pool = [i for i in items if not (skip_virtual and i.is_virtual)]
    for name, value in order:
        if value is None or value == "":
            continue
        wanted = str(value).strip().lower()
        for item in pool:
            have = item.provider_id(name)
            if have is not None and have.strip().lower() == wanted:
                return item
    return None


def match_all_provider_ids(
    items: Iterable[Item], *, order: Sequence[tuple[str, str | int | None]], skip_virtual: bool = True
) -> list[Item]:
    """Every item that is this title: several libraries, or two folders of one show, make several items.

    An item is the title when the first id of `order` that both the item and the title carry is equal (an item
    whose TMDB id is another title's is that other title, whatever its IMDb id says). Keys compare
    case-insensitively and ids ignore case; Virtual placeholders are skipped unless asked.
    """
    wanted = [(name, str(value).strip().lower()) for name, value in order if value is not None and value != ""]
    found = []
    for item in items:
        if skip_virtual and item.is_virtual:
            continue
        for name, value in wanted:
            have = item.provider_id(name)
            if have is not None:
                if have.strip().lower() == value:
                    found.append(item)
                break
    return found


def expand_episodes(items: Iterable[Item]) -> list[EpisodeFile]:
    """Present episodes as (season, episode) files: Virtual and unnumbered items dropped, IndexNumberEnd expanded."""
    found: dict[tuple[int, int], EpisodeFile] = {}
    for item in items:
        if item.is_virtual or item.index_number is None or item.parent_index_number is None:
            continue
        last = item.index_number_end if item.index_number_end and item.index_number_end > item.index_number else None
        for number in range(item.index_number, (last or item.index_number) + 1):
            key = (item.parent_index_number, number)
            found.setdefault(key, EpisodeFile(item.parent_index_number, number, item.path, item.id))
    return sorted(found.values())


def _auth_header(api_key: str) -> str:
    def quote(value: str) -> str:
        return urllib.parse.quote(value, safe="")

    parts = {
        "Client": "seerbridge",
        "Device": "seerbridge",
        "DeviceId": "seerbridge",
        "Version": __version__,
        "Token": api_key,
    }
    return "MediaBrowser " + ", ".join(f'{k}="{quote(v)}"' for k, v in parts.items())


class JellyfinClient(ServiceClient):
    """Typed access to the Jellyfin endpoints seerbridge uses; every failure raises a `ServiceError`."""

    def __init__(
        self,
        settings: JellyfinSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        ledger: CallLedger | None = None,
    ) -> None:
        api_key = settings.api_key.get_secret_value()
        register(api_key)
        self.settings = settings
        super().__init__(
            ServiceHttp(
                SERVICE,
                settings.url,
                settings,
                headers={"Authorization": _auth_header(api_key), "Accept": "application/json"},
                transport=transport,
                ledger=ledger,
                read_error=read_problem_details,
            )
        )

    # ----- server -------------------------------------------------------------------------------------------------

    async def public_info(self) -> PublicSystemInfo:
        """Name and version, without credentials: proves the URL points at a Jellyfin server."""
        return await self._http.get_model("System/Info/Public", PublicSystemInfo, endpoint="System/Info/Public")

    async def system_info(self) -> SystemInfo:
        """Server details; needs a valid key, so it also proves the credentials."""
        return await self._http.get_model("System/Info", SystemInfo, endpoint="System/Info")

    async def virtual_folders(self) -> list[VirtualFolder]:
        """The libraries and their root folders on the Jellyfin host."""
        return await self._http.get_model("Library/VirtualFolders", _FOLDERS, endpoint="Library/VirtualFolders")

    async def check(self) -> ServiceCheck:
        """For `doctor`: the key works (System/Info), the version, and the movie/show libraries' roots."""
        info = await self.system_info()
        folders = await self.virtual_folders()
        details: dict[str, str] = {}
        if info.server_name:
            details["server"] = info.server_name
        for folder in folders:
            if folder.collection_type in ("movies", "tvshows"):
                label = f"{folder.collection_type} library"
                roots = ", ".join(folder.locations) or "(no folders)"
                details[label] = (
                    f"{details[label]}; {folder.name}: {roots}" if label in details else f"{folder.name}: {roots}"
                )
        problems = []
        if not any(f.collection_type in ("movies", "tvshows") for f in folders):
            problems.append("no movies or tvshows library is configured")
        if info.has_pending_restart:
            problems.append("the server is waiting for a restart")
        return ServiceCheck(SERVICE, version=info.version, details=details, problems=problems)

    # ----- library ------------------------------------------------------------------------------------------------

    async def iter_items(
        self,
        item_types: Sequence[str],
        *,
        fields: Sequence[str] = DEFAULT_FIELDS,
        page_size: int = DEFAULT_PAGE_SIZE,
        parent_id: str | None = None,
        has_tmdb_id: bool | None = None,
        has_imdb_id: bool | None = None,
        has_tvdb_id: bool | None = None,
        search_term: str | None = None,
        years: Sequence[int] = (),
        is_missing: bool | None = None,
    ) -> AsyncIterator[Item]:
        """Every item of the given kinds (Movie, Series, Episode…), fetched page by page in SortName order."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        params: dict[str, Any] = {
            "recursive": True,
            "includeItemTypes": list(item_types),
            "fields": list(fields),
            "sortBy": "SortName",
            "sortOrder": "Ascending",
            "enableTotalRecordCount": True,
            "limit": page_size,
        }
        optional = {
            "parentId": parent_id,
            "hasTmdbId": has_tmdb_id,
            "hasImdbId": has_imdb_id,
            "hasTvdbId": has_tvdb_id,
            "searchTerm": search_term,
            "isMissing": is_missing,
            "years": list(years) or None,
        }
        params.update({k: v for k, v in optional.items() if v is not None})
        start = 0
        seen: set[str] = set()
        while True:
            page = await self._http.get_model(
                "Items", _ItemPage, endpoint="items", params={**params, "startIndex": start}
            )
            for item in page.items:
                # A scan between two pages can shift items; never hand the same one out twice.
                if item.id not in seen:
                    seen.add(item.id)
                    yield item
            start += len(page.items)
            if not page.items or start >= page.total_record_count:
                return

    async def items(
        self,
        item_types: Sequence[str],
        *,
        fields: Sequence[str] = DEFAULT_FIELDS,
        page_size: int = DEFAULT_PAGE_SIZE,
        **filters: Any,
    ) -> list[Item]:
        """All items of the given kinds, every page followed (see `iter_items` for the filters)."""
        return [item async for item in self.iter_items(item_types, fields=fields, page_size=page_size, **filters)]

    async def get_item(self, item_id: str) -> Item:
        """One item by id; NotFound when Jellyfin does not have it."""
        return await self._http.get_model(f"Items/{item_id}", Item, endpoint="items/id")

    async def find_movie(self, *, tmdb_id: int | str | None = None, imdb_id: str | None = None) -> Item | None:
        """The movie file Jellyfin holds for these ids (TMDB first, then IMDb), or None."""
        if tmdb_id is None and not imdb_id:
            raise ValueError("find_movie needs a tmdb_id or an imdb_id")
        movies = await self.items(["Movie"])
        return match_provider_ids(movies, order=(("Tmdb", tmdb_id), ("Imdb", imdb_id)))

    async def find_series(
        self,
        *,
        tmdb_id: int | str | None = None,
        imdb_id: str | None = None,
        tvdb_id: int | str | None = None,
    ) -> Item | None:
        """The series Jellyfin holds for these ids (TMDB, then TVDB, then IMDb, as Seerr matches), or None."""
        if tmdb_id is None and tvdb_id is None and not imdb_id:
            raise ValueError("find_series needs a tmdb_id, tvdb_id or imdb_id")
        shows = await self.items(["Series"])
        return match_provider_ids(shows, order=(("Tmdb", tmdb_id), ("Tvdb", tvdb_id), ("Imdb", imdb_id)))

    async def episodes(self, series_id: str, *, page_size: int = DEFAULT_PAGE_SIZE) -> list[EpisodeFile]:
        """The episodes of a series present as files, sorted; Virtual placeholders excluded."""
        return expand_episodes(await self.episode_items(series_id, page_size=page_size))

    async def episode_items(
        self, series_id: str, *, fields: Sequence[str] = ("Path",), page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[Item]:
        """The episode items of a series as Jellyfin lists them (`isMissing=false`), every page followed."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        found: list[Item] = []
        start = 0
        while True:
            params = {"fields": list(fields), "isMissing": False, "startIndex": start, "limit": page_size}
            page = await self._http.get_model(
                f"Shows/{series_id}/Episodes", _ItemPage, endpoint="episodes", params=params
            )
            found.extend(page.items)
            start += len(page.items)
            if not page.items or start >= page.total_record_count:
                return found

    # ----- scans and tasks ----------------------------------------------------------------------------------------

    async def refresh_library(self) -> None:
        """Queue a scan of every library (`POST /Library/Refresh`; Jellyfin answers before scanning)."""
        await self._http.request("POST", "Library/Refresh", endpoint="Library/Refresh", ok=(204,), idempotent=True)

    async def media_updated(self, paths: Iterable[str], *, update_type: str = "Created") -> None:
        """Tell Jellyfin files changed; it rescans their folders after its monitor delay (60 s by default).

        Paths are as Jellyfin sees them, inside a library; others are dropped silently by the server.
        """
        updates = [{"Path": path, "UpdateType": update_type} for path in dict.fromkeys(paths)]
        if not updates:
            return
        await self._http.request(
            "POST",
            "Library/Media/Updated",
            endpoint="Library/Media/Updated",
            json_body={"Updates": updates},
            ok=(204,),
            idempotent=True,
        )

    async def scheduled_tasks(self) -> list[TaskInfo]:
        return await self._http.get_model("ScheduledTasks", _TASKS, endpoint="ScheduledTasks")

    async def scan_task(self) -> TaskInfo | None:
        """The "Scan Media Library" task, to see whether a scan is running and how the last one ended."""
        tasks = await self.scheduled_tasks()
        return next((t for t in tasks if t.key == SCAN_TASK_KEY), None)

    async def run_task(self, task_id: str) -> None:
        """Start a scheduled task now; NotFound for an unknown id."""
        await self._http.request(
            "POST", f"ScheduledTasks/Running/{task_id}", endpoint="ScheduledTasks/Running", ok=(204,), idempotent=True
        )


__all__ = [
    "EpisodeFile",
    "Item",
    "JellyfinClient",
    "LocationType",
    "MediaStream",
    "PublicSystemInfo",
    "SystemInfo",
    "TaskInfo",
    "TaskResult",
    "TaskState",
    "VirtualFolder",
    "expand_episodes",
    "match_all_provider_ids",
    "match_provider_ids",
    "read_problem_details",
]
