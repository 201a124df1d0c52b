"""Seerr emulator rows and enums: what the entities (User, Media, Season, MediaRequest, SeasonRequest) hold."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum
from typing import Any, Literal

from seerbridge.sandbox.scenario import MediaSpec, SeasonSpec


class MediaStatus(IntEnum):
    UNKNOWN = 1
    PENDING = 2
    PROCESSING = 3
    PARTIALLY_AVAILABLE = 4
    AVAILABLE = 5
    BLOCKLISTED = 6
    DELETED = 7


MediaStatuses = tuple[MediaStatus, MediaStatus]
"""A media row's (status, status4k)."""


class RequestStatus(IntEnum):
    PENDING = 1
    APPROVED = 2
    DECLINED = 3
    FAILED = 4
    COMPLETED = 5


# Permission bits from server/lib/permissions.ts.
PERMISSION_ADMIN = 2
PERMISSION_REQUEST = 32
USER_TYPE_JELLYFIN = 3

MediaStatusName = Literal["available", "partial", "processing", "pending", "unknown", "deleted"]
MEDIA_STATUS_NAMES: tuple[str, ...] = ("available", "partial", "processing", "pending", "unknown", "deleted")
JELLYFIN_SCAN_JOBS = frozenset({"jellyfin-recently-added-scan", "jellyfin-full-scan"})


class SeerrFailure(Exception):
    """An answer in Seerr's error shape: `{"message": ...}` with an HTTP status (also 202 for "nothing to do")."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SeerrForbidden(Exception):
    """The `isAuthenticated` refusal: 403 `{"status":403,"error":"You do not have permission ..."}`."""


def aired(day: date | None, today: date) -> bool:
    """An episode without an air date counts as aired (old catalogue data often lacks dates)."""
    return day is None or day <= today


def stable_hex(*parts: object, length: int = 32) -> str:
    return hashlib.sha1(":".join(str(p) for p in parts).encode()).hexdigest()[:length]


def tmdb_seasons(spec: MediaSpec) -> list[SeasonSpec]:
    """The seasons TMDB lists for a show, in order: the scenario's, and season 0 "Specials" when the scenario names
    none (TMDB gives nearly every show one; here a single special, aired with the premiere)."""
    seasons = sorted(spec.seasons, key=lambda s: s.season)
    if spec.type == "tv" and spec.season(0) is None:
        seasons.insert(0, SeasonSpec(season=0, episodes=1, first_air_date=spec.first_air_date))
    return seasons


def tmdb_season(spec: MediaSpec, number: int) -> SeasonSpec | None:
    return next((s for s in tmdb_seasons(spec) if s.season == number), None)


@dataclass
class User:
    id: int
    name: str
    email: str
    is_admin: bool
    created_at: datetime

    @property
    def jellyfin_user_id(self) -> str:
        return stable_hex("jellyfin-user", self.name)

    @property
    def avatar(self) -> str:
        return f"/avatarproxy/{self.jellyfin_user_id}"

    @property
    def permissions(self) -> int:
        return PERMISSION_ADMIN if self.is_admin else PERMISSION_REQUEST


@dataclass
class SeasonRow:
    """A `Season` entity: one season's availability inside a show's media row."""

    id: int
    season_number: int
    status: MediaStatus
    status4k: MediaStatus
    created_at: datetime
    updated_at: datetime


@dataclass
class ServiceLink:
    """Where Seerr has a title in Radarr/Sonarr (`serviceId`, `externalServiceId`, `externalServiceSlug`, or the
    4K columns): the server's settings id and the id/slug that server gave the movie or series."""

    service_id: int | None = None
    external_service_id: int | None = None
    external_service_slug: str | None = None


@dataclass
class MediaRow:
    """A `Media` entity: Seerr's availability record for one TMDB title (ids separate from request ids)."""

    id: int
    spec: MediaSpec
    created_at: datetime
    updated_at: datetime
    status: MediaStatus = MediaStatus.UNKNOWN
    status4k: MediaStatus = MediaStatus.UNKNOWN
    seasons: list[SeasonRow] = field(default_factory=list)
    last_season_change: datetime | None = None
    media_added_at: datetime | None = None
    jellyfin_media_id: str | None = None
    imdb_id: str | None = None  # only a Jellyfin scan of a movie fills it in; requests never do
    service: ServiceLink = field(default_factory=ServiceLink)
    service4k: ServiceLink = field(default_factory=ServiceLink)

    @property
    def media_type(self) -> Literal["movie", "tv"]:
        return self.spec.type

    @property
    def tmdb_id(self) -> int:
        return self.spec.tmdb_id

    def season(self, number: int) -> SeasonRow | None:
        return next((s for s in self.seasons if s.season_number == number), None)

    def get(self, is4k: bool) -> MediaStatus:
        return self.status4k if is4k else self.status

    def put(self, is4k: bool, status: MediaStatus) -> None:
        if is4k:
            self.status4k = status
        else:
            self.status = status

    def link(self, is4k: bool) -> ServiceLink:
        return self.service4k if is4k else self.service


@dataclass
class SeasonRequestRow:
    id: int
    season_number: int
    status: RequestStatus
    created_at: datetime
    updated_at: datetime


@dataclass
class RequestRow:
    """A `MediaRequest` entity."""

    id: int
    media: MediaRow
    status: RequestStatus
    requested_by: User
    created_at: datetime
    updated_at: datetime
    is4k: bool = False
    modified_by: User | None = None
    seasons: list[SeasonRequestRow] = field(default_factory=list)
    server_id: int | None = None
    profile_id: int | None = None
    root_folder: str | None = None
    language_profile_id: int | None = None
    tags: list[int] | None = None
    is_auto_request: bool = False

    @property
    def type(self) -> Literal["movie", "tv"]:
        return self.media.media_type

    @property
    def season_numbers(self) -> list[int]:
        return [s.season_number for s in self.seasons]


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job as `GET /settings/jobs` lists it (cron fields: second minute hour day-of-month)."""

    id: str
    name: str
    type: Literal["process", "command"]
    interval: str
    cron_schedule: str

    def next_run(self, now: datetime) -> datetime:
        """The next firing time after `now` for the simple cron forms Seerr's defaults use."""
        _, minute, hour, day = self.cron_schedule.split()[:4]
        base = now.replace(second=0, microsecond=0)
        if hour == "*":
            step = int(minute[2:]) if minute.startswith("*/") else 1
            candidate = base + timedelta(minutes=1)
            while candidate.minute % step:
                candidate += timedelta(minutes=1)
            return candidate
        at = datetime.combine(now.date(), time(int(hour), int(minute)), tzinfo=UTC)
        day_step = int(day[2:]) if day.startswith("*/") else 1
        while at <= now or (at.day - 1) % day_step:
            at += timedelta(days=1)
        return at


# Seerr's jobs for a Jellyfin server, with their default schedules (server/lib/settings/index.ts). The `interval`
# values are what the server sends; the spec's Job.interval enum (short/long/fixed) is out of date.
DEFAULT_JOBS: tuple[JobSpec, ...] = (
    JobSpec("jellyfin-recently-added-scan", "Jellyfin Recently Added Scan", "process", "minutes", "0 */5 * * * *"),
    JobSpec("jellyfin-full-scan", "Jellyfin Full Library Scan", "process", "hours", "0 0 3 * * *"),
    JobSpec("radarr-scan", "Radarr Scan", "process", "hours", "0 0 4 * * *"),
    JobSpec("sonarr-scan", "Sonarr Scan", "process", "hours", "0 30 4 * * *"),
    JobSpec("availability-sync", "Media Availability Sync", "process", "hours", "0 0 5 * * *"),
    JobSpec("download-sync", "Download Sync", "command", "seconds", "0 * * * * *"),
    JobSpec("download-sync-reset", "Download Sync Reset", "command", "hours", "0 0 1 * * *"),
    JobSpec("image-cache-cleanup", "Image Cache Cleanup", "process", "hours", "0 0 5 * * *"),
    JobSpec("process-blocklisted-tags", "Process Blocklisted Tags", "process", "days", "0 30 1 */7 * *"),
)


@dataclass(frozen=True)
class JobRun:
    job_id: str
    at: datetime


@dataclass(frozen=True)
class Notification:
    """A notification Seerr would hand to its agents; `payload` is the default webhook body it renders to."""

    type: str
    request_id: int | None
    at: datetime
    payload: dict[str, Any]
