"""Seerr (Jellyseerr/Overseerr) client: requests, TMDB details, media availability and jobs, over `/api/v1`.

Facts that shape it (see shared/api/seerr.md):
- Auth is the `X-Api-Key` header; a wrong or missing key answers **403**, so 403 counts as an authentication failure.
- Lists are paged with `take`/`skip` and a `pageInfo`; every list method here follows the pages to the end.
- An unknown TMDB id on `/movie`, `/tv` or `/tv/{id}/season/{n}` answers **500** "Unable to retrieve movie." (the
  server turns any TMDB failure into a 500), which surfaces as `ServiceUnavailable` after the usual retries: the
  client cannot tell a wrong id from a TMDB outage, so it does not guess.
- Enumerations are numeric on the wire (`MediaRequestStatus`, `MediaStatus`); dates are ISO strings.
- A media row's `imdbId` is null unless Seerr's own Jellyfin scan found the movie; the IMDb id is read from the details
  (`movie()`/`tv()`, `externalIds.imdbId`). `GET /request` items carry their media row without its `seasons`.
- Seerr marks an approved request FAILED (4) when the Radarr/Sonarr it is configured with does not answer; such
  requests leave the "approved" filter and are listed with `requests(filter="failed")`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import date, datetime
from enum import IntEnum
from typing import Annotated, Any, Literal, TypeVar

import httpx
import structlog
from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from seerbridge.config import SeerrSettings
from seerbridge.domain.airing import has_aired
from seerbridge.errors import BadResponse
from seerbridge.redact import redact, register
from seerbridge.services.base import ServiceClient
from seerbridge.services.calls import CallLedger
from seerbridge.services.health import ServiceCheck
from seerbridge.services.http import ServiceHttp

SERVICE = "seerr"
log = structlog.get_logger("seerbridge.seerr")
API_PREFIX = "/api/v1"

RequestFilter = Literal[
    "all", "approved", "available", "pending", "processing", "unavailable", "failed", "deleted", "completed"
]
MediaFilter = Literal["all", "available", "partial", "allavailable", "processing", "pending", "deleted"]
MediaStatusChange = Literal["available", "partial", "processing", "pending", "unknown", "deleted"]
MediaType = Literal["movie", "tv"]


class MediaRequestStatus(IntEnum):
    """`MediaRequest.status` (server/constants/media.ts)."""

    PENDING = 1
    APPROVED = 2
    DECLINED = 3
    FAILED = 4
    COMPLETED = 5


class MediaStatus(IntEnum):
    """`Media.status`/`status4k` and `Season.status` (the code's values; the spec's description is outdated)."""

    UNKNOWN = 1
    PENDING = 2
    PROCESSING = 3
    PARTIALLY_AVAILABLE = 4
    AVAILABLE = 5
    BLOCKLISTED = 6
    DELETED = 7


def _empty_to_none(value: Any) -> Any:
    """TMDB sends "" for an unknown date."""
    return None if value == "" else value


OptionalDate = Annotated[date | None, BeforeValidator(_empty_to_none)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True, frozen=True)


class SeerrStatus(_Model):
    version: str
    commit_tag: str | None = None
    update_available: bool = False
    commits_behind: int = 0
    restart_required: bool = False


class SeerrUser(_Model):
    id: int
    display_name: str | None = None
    email: str | None = None


class MediaSeason(_Model):
    """A season's availability inside a media row."""

    season_number: int
    status: MediaStatus = MediaStatus.UNKNOWN
    status4k: MediaStatus = MediaStatus.UNKNOWN


class Media(_Model):
    """Seerr's availability row for one title (`MediaInfo`); its `id` is not a request id or a TMDB id.

    `imdb_id` is usually None (see the module notes); `seasons` is empty in request-list items.
    """

    id: int
    media_type: MediaType
    tmdb_id: int
    tvdb_id: int | None = None
    imdb_id: str | None = None
    status: MediaStatus = MediaStatus.UNKNOWN
    status4k: MediaStatus = MediaStatus.UNKNOWN
    seasons: list[MediaSeason] = Field(default_factory=list)
    media_added_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    jellyfin_media_id: str | None = None

    def season(self, number: int) -> MediaSeason | None:
        return next((s for s in self.seasons if s.season_number == number), None)


class SeasonRequest(_Model):
    season_number: int
    status: MediaRequestStatus


class MediaRequest(_Model):
    """One request as `GET /request` returns it (including fields the spec omits: `type`, `seasons`)."""

    id: int
    status: MediaRequestStatus
    media_type: MediaType = Field(validation_alias=AliasChoices("type", "mediaType", "media_type"))
    is4k: bool = False
    media: Media
    seasons: list[SeasonRequest] = Field(default_factory=list)
    requested_by: SeerrUser | None = None
    modified_by: SeerrUser | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def season_numbers(self) -> list[int]:
        return sorted({s.season_number for s in self.seasons})

    @property
    def tmdb_id(self) -> int:
        return self.media.tmdb_id


class PageInfo(_Model):
    pages: int | None = None
    page_size: int | None = None
    results: int = 0
    page: int | None = None


class Page(_Model):
    """One page of a list; items are read one by one so that a single odd item cannot sink the whole list."""

    page_info: PageInfo
    results: list[dict[str, Any]]


class ExternalIds(_Model):
    imdb_id: str | None = None
    tvdb_id: int | None = None


class MovieDetails(_Model):
    id: int
    title: str  # in the language asked for (`?language=`), else in Seerr's display language
    original_title: str | None = None
    original_language: str | None = None  # ISO 639-1, e.g. "fr"
    release_date: OptionalDate = None
    overview: str = ""
    external_ids: ExternalIds = Field(default_factory=ExternalIds)
    media_info: Media | None = None

    @property
    def imdb_id(self) -> str | None:
        return self.external_ids.imdb_id

    @property
    def year(self) -> int | None:
        return self.release_date.year if self.release_date else None


class TvSeason(_Model):
    season_number: int
    episode_count: int = 0
    air_date: OptionalDate = None
    name: str = ""


class TvDetails(_Model):
    id: int
    name: str  # in the language asked for, as `MovieDetails.title`
    original_name: str | None = None
    original_language: str | None = None
    first_air_date: OptionalDate = None
    last_air_date: OptionalDate = None  # the last aired episode's
    overview: str = ""
    status: str | None = None
    external_ids: ExternalIds = Field(default_factory=ExternalIds)
    seasons: list[TvSeason] = Field(default_factory=list)
    media_info: Media | None = None

    @property
    def imdb_id(self) -> str | None:
        return self.external_ids.imdb_id

    @property
    def tvdb_id(self) -> int | None:
        return self.external_ids.tvdb_id

    @property
    def year(self) -> int | None:
        return self.first_air_date.year if self.first_air_date else None

    def season(self, number: int) -> TvSeason | None:
        return next((s for s in self.seasons if s.season_number == number), None)


class Episode(_Model):
    episode_number: int
    season_number: int
    air_date: OptionalDate = None
    name: str = ""

    def aired(self, today: date, after_days: int = 1) -> bool:
        """See `domain.airing`: aired from `after_days` after the air date (`plan.aired_after_days`)."""
        return has_aired(self.air_date, today, after_days)


class SeasonDetails(_Model):
    id: int | None = None
    season_number: int
    name: str = ""
    air_date: OptionalDate = None
    episodes: list[Episode] = Field(default_factory=list)


class Job(_Model):
    id: str
    name: str = ""
    type: str | None = None
    interval: str | None = None
    cron_schedule: str | None = None
    next_execution_time: datetime | None = None
    running: bool = False


Item = TypeVar("Item", MediaRequest, Media)


class SeerrClient(ServiceClient):
    """Typed access to one Seerr server; every call goes through `ServiceHttp` (retries, limits, typed errors)."""

    def __init__(
        self,
        settings: SeerrSettings,
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
                settings.url + API_PREFIX,
                settings,
                headers={"X-Api-Key": api_key, "Accept": "application/json"},
                transport=transport,
                ledger=ledger,
                auth_failure_statuses=frozenset({401, 403}),
            )
        )

    # ------------------------------------------------------------------ reads

    async def status(self) -> SeerrStatus:
        """`GET /status` (public: proves reachability, not the key)."""
        return await self._http.get_model("status", SeerrStatus, endpoint="status")

    async def iter_requests(
        self,
        *,
        filter: RequestFilter = "approved",
        media_type: MediaType | None = None,
        requested_by: int | None = None,
        page_size: int = 50,
    ) -> AsyncIterator[MediaRequest]:
        """Every matching request, oldest first, fetched a page at a time.

        Sorted by creation ascending so requests made while we page land after the cursor instead of shifting it;
        a request seen twice (because one left the filter meanwhile) is yielded once.
        """
        params: dict[str, Any] = {"filter": filter, "sort": "added", "sortDirection": "asc"}
        if media_type is not None:
            params["mediaType"] = media_type
        if requested_by is not None:
            params["requestedBy"] = requested_by
        async for item in self._items("request", MediaRequest, params, page_size=page_size, endpoint="requests"):
            yield item

    async def requests(
        self,
        *,
        filter: RequestFilter = "approved",
        media_type: MediaType | None = None,
        requested_by: int | None = None,
        page_size: int = 50,
    ) -> list[MediaRequest]:
        """All matching requests (every page followed). Raises on any failure; never returns a partial list.

        Seerr's filters select by request status: "approved" (APPROVED, any media status), "failed" (FAILED: approved,
        then refused by an unanswering Radarr/Sonarr), "pending", "completed"; "all" is every request.
        """
        return [
            r
            async for r in self.iter_requests(
                filter=filter, media_type=media_type, requested_by=requested_by, page_size=page_size
            )
        ]

    async def request(self, request_id: int) -> MediaRequest:
        """`GET /request/{id}`; `NotFound` when there is no such request."""
        return await self._http.get_model(f"request/{int(request_id)}", MediaRequest, endpoint="request")

    async def movie(self, tmdb_id: int, *, language: str | None = None) -> MovieDetails:
        """TMDB's details through Seerr; titles in `language` (e.g. "en"), else in Seerr's display language."""
        params = {"language": language} if language else None
        return await self._http.get_model(f"movie/{int(tmdb_id)}", MovieDetails, endpoint="movie", params=params)

    async def tv(self, tmdb_id: int, *, language: str | None = None) -> TvDetails:
        """As `movie`, for a show."""
        params = {"language": language} if language else None
        return await self._http.get_model(f"tv/{int(tmdb_id)}", TvDetails, endpoint="tv", params=params)

    async def season(self, tmdb_id: int, season_number: int) -> SeasonDetails:
        return await self._http.get_model(
            f"tv/{int(tmdb_id)}/season/{int(season_number)}", SeasonDetails, endpoint="tv/season"
        )

    async def media(
        self,
        *,
        filter: MediaFilter | None = None,
        sort: Literal["added", "modified", "mediaAdded"] | None = None,
        page_size: int = 50,
    ) -> list[Media]:
        """All media rows matching `filter` (every page followed)."""
        params: dict[str, Any] = {}
        if filter is not None:
            params["filter"] = filter
        if sort is not None:
            params["sort"] = sort
        return [m async for m in self._items("media", Media, params, page_size=page_size, endpoint="media")]

    async def jobs(self) -> list[Job]:
        response = await self._http.request("GET", "settings/jobs", endpoint="settings/jobs")
        return self._http.parse(response, list[Job], endpoint="settings/jobs")

    # ------------------------------------------------------------------ writes

    async def set_media_status(
        self,
        media_id: int,
        status: MediaStatusChange,
        *,
        is4k: bool = False,
        seasons: Iterable[int] | None = None,
    ) -> Media:
        """`POST /media/{id}/{status}`. `seasons` (TV with "available" only) also marks those seasons available.

        Seerr completes the related requests itself when the media (or every requested season) becomes available.
        Setting a status is idempotent, so the call is retried like a read.
        """
        body: dict[str, Any] = {"is4k": is4k}
        if seasons is not None:
            body["seasons"] = [{"seasonNumber": int(n)} for n in sorted(set(seasons))]
        response = await self._http.request(
            "POST", f"media/{int(media_id)}/{status}", endpoint="media/status", json_body=body, idempotent=True
        )
        return self._http.parse(response, Media, endpoint="media/status")

    async def run_job(self, job_id: str) -> Job:
        """`POST /settings/jobs/{id}/run`, e.g. "jellyfin-recently-added-scan" so Seerr notices new files."""
        response = await self._http.request(
            "POST", f"settings/jobs/{job_id}/run", endpoint="settings/jobs/run", idempotent=True
        )
        return self._http.parse(response, Job, endpoint="settings/jobs/run")

    # ------------------------------------------------------------------ health

    async def check(self) -> ServiceCheck:
        """Reachable (`/status` gives the version), then one authenticated call proves the key."""
        status = await self.status()
        page = await self._http.get_model(
            "request", Page, endpoint="requests", params={"take": 1, "skip": 0, "filter": "all"}
        )
        details = {"requests": str(page.page_info.results)}
        if status.update_available:
            details["update"] = f"available ({status.commits_behind} commits behind)"
        return ServiceCheck(service=SERVICE, version=status.version, details=details)

    # ------------------------------------------------------------------ paging

    async def _items(
        self,
        path: str,
        model: type[Item],
        params: Mapping[str, Any],
        *,
        page_size: int,
        endpoint: str,
    ) -> AsyncIterator[Item]:
        """Follow `take`/`skip` pages to the end, yielding each item once (by id).

        An item that does not fit the model (say, a media type added after this client was written) is logged and
        skipped; a page where no item fits raises BadResponse, so a changed API never reads as an empty list.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        adapter = TypeAdapter(model)
        seen: set[int] = set()
        skip = 0
        while True:
            page = await self._http.get_model(
                path, Page, endpoint=endpoint, params={**params, "take": page_size, "skip": skip}
            )
            good, last_error = 0, ""
            for raw in page.results:
                try:
                    item = adapter.validate_python(raw)
                except ValidationError as exc:
                    first = exc.errors()[0]
                    where = ".".join(str(p) for p in first["loc"])
                    reason = f"unexpected item shape at {where}: {first['msg']}"
                    log.warning(
                        "skipped an unreadable item",
                        service=SERVICE,
                        endpoint=endpoint,
                        id=raw.get("id"),
                        reason=reason,
                    )
                    last_error = reason
                    continue
                good += 1
                if item.id not in seen:
                    seen.add(item.id)
                    yield item
            if page.results and not good:
                raise BadResponse(SERVICE, endpoint, redact(last_error), status=200)
            skip += page_size
            if len(page.results) < page_size or skip >= page.page_info.results:
                return


__all__ = [
    "Episode",
    "Job",
    "Media",
    "MediaRequest",
    "MediaRequestStatus",
    "MediaSeason",
    "MediaStatus",
    "MovieDetails",
    "SeasonDetails",
    "SeasonRequest",
    "SeerrClient",
    "SeerrStatus",
    "SeerrUser",
    "TvDetails",
    "TvSeason",
]
