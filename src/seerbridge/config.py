"""The settings model: a TOML file overridden by SEERBRIDGE_<SECTION>__<KEY> env vars; nothing else."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "SEERBRIDGE_CONFIG"


def _clean_url(value: str) -> str:
    value = value.strip()
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    parts = urlsplit(value)
    if not parts.hostname:
        raise ValueError("must name a host, e.g. http://localhost:5055")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked for it
    except ValueError:
        raise ValueError("has an invalid port (1-65535)") from None
    return value.rstrip("/")


BaseUrl = Annotated[str, AfterValidator(_clean_url)]


class Section(BaseModel):
    """A config section; unknown keys are errors, so a typo never silently falls back to a default."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ServiceSettings(Section):
    """What every remote service has: how long we wait for it and how often we may call it."""

    timeout_s: float = Field(15.0, gt=0, description="Seconds before one HTTP call to this service gives up.")
    retries: int = Field(4, ge=1, le=20, description="Attempts per call for transient failures (5xx, 429, timeouts).")
    retry_timeout_s: float = Field(60.0, gt=0, description="Upper bound on the time spent retrying one call.")
    rate_limit_per_min: float = Field(
        0, ge=0, description="Most calls per minute, spread evenly (no burst); 0 means no limit."
    )
    rate_margin_s: float = Field(
        1.0,
        ge=0,
        le=30,
        description="Slack added to the 60 s rate window, so that network delay never lets the service count more "
        "than the limit in any minute.",
    )
    slowdown_recovery_s: float = Field(
        30.0, ge=0, description="After a 429 halves the pace, seconds it takes to climb back to full (0: no slowing)."
    )
    rate_limited_pause_s: float = Field(
        1.0,
        ge=0,
        description="Pause of every call after a 429 without Retry-After; doubles while 429s keep coming. A pause "
        "longer than retry_timeout_s fails calls at once instead of holding them.",
    )
    rate_limited_max_pause_s: float = Field(60.0, ge=0, description="Longest pause after repeated 429s.")
    breaker_failures: int = Field(
        5, ge=0, description="Failures in a row (no connection, timeout, 5xx) that take the service for down; 0: never."
    )
    breaker_cooldown_s: float = Field(
        30.0, gt=0, description="While down, seconds calls fail at once before a trial call; doubles per failed trial."
    )
    breaker_max_cooldown_s: float = Field(600.0, gt=0, description="Longest wait between two trial calls.")


class SeerrSettings(ServiceSettings):
    url: BaseUrl = Field("http://localhost:5055", description="Seerr base URL, without /api/v1.")
    api_key: SecretStr = Field(SecretStr(""), description="Seerr API key (Settings → General).")


class JellyfinSettings(ServiceSettings):
    url: BaseUrl = Field("http://localhost:8096", description="Jellyfin base URL, including any base path.")
    api_key: SecretStr = Field(SecretStr(""), description="Jellyfin API key (Dashboard → API Keys).")
    rd_mount_path: str | None = Field(
        None,
        description="Where Real-Debrid's files appear to Jellyfin (e.g. /mnt/zurg/__all__); when set, finished "
        "downloads are announced by path (Library/Media/Updated) instead of a whole-library refresh.",
    )
    arrival_check_s: float = Field(
        10.0,
        gt=0,
        description="While Jellyfin scans new files, seconds between two looks for them (Seerr is asked to scan "
        "once Jellyfin lists them).",
    )
    monitor_delay_s: float = Field(
        60.0,
        ge=0,
        description="Jellyfin's LibraryMonitorDelay: it scans a folder reported by path this long after; seerbridge "
        "looks for the new items only then (with a library).",
    )
    arrival_wait_s: float = Field(
        600.0,
        ge=0,
        description="Longest wait for Jellyfin to list new files before Seerr is asked to scan anyway (with a "
        "warning naming what Jellyfin lacks).",
    )
    library_4k: str | None = Field(
        None,
        description="Where Jellyfin keeps the 4K copies: a library's name (as Dashboard → Libraries shows it) or a "
        "folder path prefix. When set, a 4K request counts only what is there as present; when unset, only video "
        "wider than 2000 pixels (as Seerr decides 4K).",
    )


class TorrentioSettings(ServiceSettings):
    url: SecretStr = Field(
        SecretStr("https://torrentio.strem.fun/sort=qualitysize|qualityfilter=480p,scr,cam"),
        description="Torrentio base URL including the config path segment; may carry a debrid key, so it is a secret.",
    )
    rate_limit_per_min: float = Field(6.0, ge=0, description="Most Torrentio calls per minute (no burst).")
    daily_budget: int = Field(
        2000,
        ge=0,
        description="Most Torrentio stream calls per UTC day, counted in the database so restarts keep the count "
        "(the public instance allows 5000 per IP); 0 means no budget.",
    )
    rate_limited_pause_s: float = Field(
        3600.0,
        ge=0,
        description="Pause of Torrentio calls after a 429 (it sends no Retry-After: its limit is per day); doubles "
        "while 429s keep coming.",
    )
    rate_limited_max_pause_s: float = Field(6 * 3600.0, ge=0, description="Longest pause after repeated 429s.")
    enabled: bool = Field(True, description="Ask Torrentio (off: only the configured `sources`).")

    @field_validator("url", mode="before")
    @classmethod
    def _check_secret_url(cls, v: Any) -> Any:
        raw = v.get_secret_value() if isinstance(v, SecretStr) else str(v)
        return SecretStr(_clean_url(raw))


SourceKind = Literal["torznab", "zilean"]
SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,23}$")


class SourceSettings(ServiceSettings):
    """A source of releases besides Torrentio: a Torznab indexer (Prowlarr per indexer, Jackett, Comet, StremThru,
    Zilean's /torznab) or Zilean's own DMM search. Each has its own pace, daily budget, timeout and breaker."""

    kind: SourceKind = Field(description="`torznab` (any Torznab endpoint, its `/api` included) or `zilean`.")
    url: SecretStr = Field(
        description="Torznab: the endpoint called with ?t= (e.g. http://prowlarr:9696/1/api, "
        "http://jackett:9117/api/v2.0/indexers/all/results/torznab/api, http://comet:8000/torznab/api); Zilean: its "
        "base (http://zilean:8181). A secret: it may carry a token.",
    )
    api_key: SecretStr = Field(SecretStr(""), description="Sent as apikey= (Prowlarr, Jackett); empty for none.")
    enabled: bool = Field(True, description="Ask this source.")
    rate_limit_per_min: float = Field(30.0, ge=0, description="Most calls per minute (no burst); 0 means no limit.")
    daily_budget: int = Field(0, ge=0, description="Most calls per UTC day, counted in the database; 0 means none.")

    @field_validator("url", mode="before")
    @classmethod
    def _check_secret_url(cls, v: Any) -> Any:
        raw = v.get_secret_value() if isinstance(v, SecretStr) else str(v)
        return SecretStr(_clean_url(raw))


class TorBoxSettings(ServiceSettings):
    """TorBox, a debrid service with a real cache check (`checkcached`): one call for all of an item's candidates."""

    url: BaseUrl = Field("https://api.torbox.app/v1/api", description="TorBox API base URL.")
    api_key: SecretStr = Field(SecretStr(""), description="TorBox API key (torbox.app settings); sent as Bearer.")
    rate_limit_per_min: float = Field(
        250.0, ge=0, le=300, description="Most calls per minute (TorBox allows 300 per endpoint per key)."
    )
    creates_per_hour: int = Field(
        55, ge=1, le=60, description="Most torrent adds per hour (TorBox allows 60, with at most 10 in a minute)."
    )
    creates_per_min: int = Field(9, ge=1, le=10, description="Most torrent adds in any minute (TorBox's edge is 10).")


class RealDebridSettings(ServiceSettings):
    url: BaseUrl = Field("https://api.real-debrid.com/rest/1.0", description="Real-Debrid REST base URL.")
    api_key: SecretStr = Field(SecretStr(""), description="Real-Debrid private API token (real-debrid.com/apitoken).")
    rate_limit_per_min: float = Field(
        250.0, gt=0, le=250, description="Most calls per minute (Real-Debrid allows 250)."
    )
    fair_usage_pause_s: float = Field(
        3600.0, ge=0, description="Pause of Real-Debrid calls after it refuses one for fair usage (503, error 36)."
    )
    slot_recheck_s: float = Field(
        60.0,
        gt=0,
        description="While every download slot is in use (509, error 21), seconds between looks at the active "
        "count; new torrents wait until one is free.",
    )
    listing_timeout_s: float = Field(
        60.0,
        gt=0,
        description="Seconds before one page of the torrent list (GET /torrents, up to 5000 torrents) gives up; "
        "a large account lists slowly, so this is longer than timeout_s.",
    )


def default_database_url() -> str:
    data_dir = Path(platformdirs.user_data_dir("seerbridge"))
    return f"sqlite+aiosqlite:///{data_dir / 'seerbridge.db'}"


class DatabaseSettings(Section):
    url: SecretStr = Field(
        default_factory=lambda: SecretStr(default_database_url()),
        description="SQLAlchemy async URL: sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASS@HOST/DB.",
    )
    decisions_keep_days: int = Field(
        90,
        ge=0,
        description="Days the decision log (every candidate's verdict, for `seerbridge explain`) is kept; the latest "
        "decision of each request and item stays whatever its age, so status and explain can still say why. "
        "0: keep every decision. `seerbridge run` prunes it (and expired search answers) once a day.",
    )

    @field_validator("url", mode="before")
    @classmethod
    def _check_driver(cls, v: Any) -> Any:
        raw = v.get_secret_value() if isinstance(v, SecretStr) else str(v)
        if not raw.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return SecretStr(raw)


RESOLUTIONS = ("2160p", "1440p", "1080p", "720p", "576p", "480p", "360p", "unknown")


class ProfileSettings(Section):
    """A quality profile: which releases are allowed, and what "better" means among them."""

    resolutions: list[str] = Field(
        default_factory=lambda: ["1080p", "720p"],
        description="Allowed resolutions, best first; ranking follows this ladder.",
    )
    qualities: list[str] = Field(
        default_factory=lambda: ["BluRay REMUX", "BluRay", "WEB-DL", "WEB", "WEBRip", "HDTV", "DVDRip"],
        description="Sources, best first (RTN names); an unlisted source is allowed but ranks last.",
    )
    codecs: list[str] = Field(
        default_factory=lambda: ["hevc", "avc"], description="Codecs, best first; unlisted ones rank last."
    )
    prefer_hdr: bool = Field(False, description="Rank HDR/Dolby Vision above SDR at the same resolution and source.")
    movie_size_gb: tuple[float, float] = Field((0.3, 40.0), description="Allowed size of a movie file, in GB.")
    episode_size_gb: tuple[float, float] = Field((0.05, 10.0), description="Allowed size of one episode file, in GB.")
    languages_required: list[str] = Field(
        default_factory=list, description="ISO 639-1 codes; when set, a release must name one of them."
    )
    languages_excluded: list[str] = Field(
        default_factory=list, description="ISO 639-1 codes; a release naming one of them is rejected."
    )
    exclude_regex: list[str] = Field(default_factory=list, description="A release name matching any is rejected.")
    require_regex: list[str] = Field(default_factory=list, description="When set, a release name must match one.")
    cutoff_resolution: str | None = Field(
        None,
        description="Good enough: a copy at this resolution (and cutoff_quality) is never upgraded; "
        "unset means the best of `resolutions`.",
    )
    cutoff_quality: str | None = Field(
        None,
        description="At the cutoff resolution, the least source that is good enough (e.g. WEB-DL: BluRay and WEB-DL "
        "are, WEBRip is not); unset means any.",
    )

    @property
    def cutoff(self) -> str:
        """The cutoff as words, e.g. '1080p WEB-DL or better'."""
        resolution = self.cutoff_resolution or self.resolutions[0]
        return f"{resolution} {self.cutoff_quality or ''}".replace("  ", " ").strip() + " or better"

    @model_validator(mode="after")
    def _cutoff_on_the_ladders(self) -> ProfileSettings:
        if self.cutoff_resolution is not None and self.cutoff_resolution not in self.resolutions:
            raise ValueError(f"cutoff_resolution {self.cutoff_resolution!r} is not one of resolutions")
        if self.cutoff_quality is not None and self.cutoff_quality.lower() not in {q.lower() for q in self.qualities}:
            raise ValueError(f"cutoff_quality {self.cutoff_quality!r} is not one of qualities")
        return self

    @field_validator("resolutions")
    @classmethod
    def _known_resolutions(cls, v: list[str]) -> list[str]:
        unknown = [r for r in v if r not in RESOLUTIONS]
        if unknown:
            raise ValueError(f"unknown resolution {unknown[0]!r}; use {', '.join(RESOLUTIONS)}")
        if not v:
            raise ValueError("needs at least one resolution")
        return v

    @field_validator("exclude_regex", "require_regex")
    @classmethod
    def _compiles(cls, v: list[str]) -> list[str]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regex {pattern!r}: {exc}") from None
        return v

    @field_validator("movie_size_gb", "episode_size_gb")
    @classmethod
    def _ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= v[0] <= v[1]:
            raise ValueError("must be [min, max] with 0 <= min <= max")
        return v


def _default_profiles() -> dict[str, ProfileSettings]:
    return {
        "standard": ProfileSettings(cutoff_quality="WEB-DL"),
        "4k": ProfileSettings(
            resolutions=["2160p", "1080p"], prefer_hdr=True, movie_size_gb=(1.0, 120.0), episode_size_gb=(0.2, 30.0)
        ),
        # Old titles rarely exist in better than 720p: once there, they are not searched again.
        "classic": ProfileSettings(
            resolutions=["1080p", "720p", "576p", "480p", "unknown"],
            movie_size_gb=(0.2, 40.0),
            episode_size_gb=(0.03, 10.0),
            cutoff_resolution="720p",
        ),
    }


class ProfileRule(Section):
    """Picks a profile for a request; the first rule whose conditions all hold wins."""

    profile: str
    is4k: bool | None = Field(None, description="Only 4K requests (true) or only regular ones (false).")
    kind: Literal["movie", "show"] | None = None
    min_age_years: float | None = Field(None, ge=0, description="Only titles at least this old (shows: first air).")
    max_age_years: float | None = Field(None, ge=0, description="Only titles at most this old.")


DEFAULT_RULES = [
    "parse",
    "bad_hash",
    "trash",
    "title",
    "year",
    "coverage",
    "resolution",
    "size",
    "language",
    "exclude_regex",
    "require_regex",
]


class SelectionSettings(Section):
    """How candidates are judged: the rule chain, its parameters, the profiles and which profile applies."""

    rules: list[str] = Field(
        default_factory=lambda: list(DEFAULT_RULES),
        description="Rule chain in order; leave a name out to disable that rule.",
    )
    title_similarity: float = Field(0.85, ge=0, le=1, description="Least similarity of a release title to a name.")
    short_title_chars: int = Field(6, ge=0, description="Titles this short (or one word) must carry a matching year.")
    year_tolerance: int = Field(1, ge=0, description="How far a release year may be from the title's year.")
    max_name_chars: int = Field(300, ge=50, description="Release names are cut to this length before parsing.")
    profiles: dict[str, ProfileSettings] = Field(default_factory=_default_profiles)
    profile_rules: list[ProfileRule] = Field(
        default_factory=lambda: [
            ProfileRule(profile="4k", is4k=True),
            ProfileRule(profile="classic", min_age_years=40),
            ProfileRule(profile="standard"),
        ],
        description="Which profile a request uses; the first match wins.",
    )

    @field_validator("profiles", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any) -> Any:
        """A profile given in the file changes only the keys it names; the shipped profiles stay defined."""
        if not isinstance(value, dict):
            return value
        defaults = {name: p.model_dump() for name, p in _default_profiles().items()}
        merged: dict[str, Any] = dict(defaults)
        for name, given in value.items():
            merged[name] = {**defaults[name], **given} if isinstance(given, dict) and name in defaults else given
        return merged

    @model_validator(mode="after")
    def _consistent(self) -> SelectionSettings:
        missing = [r.profile for r in self.profile_rules if r.profile not in self.profiles]
        if missing:
            raise ValueError(f"profile_rules names profile {missing[0]!r}, which is not defined")
        if not self.profile_rules:
            raise ValueError("profile_rules needs at least one rule")
        return self


class AcquireSettings(Section):
    """How releases are put on Real-Debrid."""

    max_probes: int = Field(5, ge=1, le=50, description="Most candidates probed (added to learn if cached) per item.")
    allow_uncached: bool = Field(True, description="Download the best-seeded release when nothing is cached.")
    uncached_min_seeders: int = Field(5, ge=0, description="Least seeders for an uncached download.")
    pack_min_share: float = Field(0.8, ge=0, le=1, description="Least share of wanted episodes a pack must hold.")
    min_movie_file_mb: float = Field(
        50, ge=0, description="A movie's video file Real-Debrid lists under this many MB is a fake or a sample."
    )
    min_episode_file_mb: float = Field(
        20, ge=0, description="An episode's video file Real-Debrid lists under this many MB is a fake or a sample."
    )
    conversion_polls: int = Field(5, ge=1, description="Info reads while Real-Debrid converts a magnet.")
    conversion_poll_s: float = Field(2.0, ge=0, description="Seconds between those reads.")
    late_add_window_minutes: float = Field(
        60.0,
        ge=0,
        description="After an add whose answer was lost and that was settled as never made, how long to look for a "
        "copy Real-Debrid makes of it late (deleted when found, so one hash never stays twice).",
    )
    bad_hash_days: float = Field(
        7,
        gt=0,
        description="Days a hash whose download failed on Real-Debrid (dead, error, magnet_error, virus) is skipped; "
        "then it may be tried again. A 451 refusal (infringing_file) is skipped for good.",
    )
    stalled_hash_days: float = Field(
        3, gt=0, description="Days a hash whose download stalled (follow.stall_minutes) is skipped."
    )


class PlanSettings(Section):
    """Working out what a request still needs."""

    aired_after_days: int = Field(
        1,
        ge=0,
        le=30,
        description="An episode counts as aired this many days after its air date (TMDB dates are local broadcast "
        "days, seerbridge's today is UTC's): 1 waits for the day after, 0 wants it on its air date.",
    )


class SearchSettings(Section):
    cache_ttl_s: float = Field(3600, ge=0, description="Seconds a Torrentio answer is reused for the same query.")


class RunSettings(Section):
    poll_interval_s: float = Field(300, ge=1, description="Seconds between polling passes over Seerr.")
    concurrency: int = Field(4, ge=1, le=64, description="Requests worked on at once.")
    grace_s: float = Field(30, ge=0, description="On stop, seconds in-flight requests get to finish their work.")


class BackoffSettings(Section):
    """When to look again for what could not be found (all times in minutes; the last step repeats)."""

    request_minutes: list[float] = Field(
        default_factory=lambda: [30.0, 120.0, 360.0, 1440.0],
        description="Waits after a request found nothing acceptable (or failed), step by step; the last repeats.",
    )
    download_minutes: list[float] = Field(
        default_factory=lambda: [10.0, 60.0, 240.0, 1440.0],
        description="Waits after a download failed (dead, error, stalled) before the next candidate is tried.",
    )
    settled_recheck_minutes: float = Field(
        360.0,
        gt=0,
        description="A fulfilled, downloading or already available request is looked at again this often (not at "
        "every poll); a newly aired episode makes it due at once.",
    )

    @field_validator("request_minutes", "download_minutes")
    @classmethod
    def _positive(cls, v: list[float]) -> list[float]:
        if not v or any(m <= 0 for m in v):
            raise ValueError("needs at least one wait, every wait > 0")
        return v


class FollowSettings(Section):
    """Following uncached downloads on Real-Debrid until they finish, fail or stall."""

    stall_minutes: float = Field(
        60.0, gt=0, description="A download whose progress has not moved for this long is dropped as stalled."
    )
    min_interval_s: float = Field(5.0, gt=0, description="Least seconds between two looks at the downloads.")
    max_interval_s: float = Field(
        300.0, gt=0, description="Most seconds between two looks while something downloads (also the idle wait)."
    )
    rate_share: float = Field(
        0.3, gt=0, le=1, description="Most share of the Real-Debrid call budget (250/min) spent on following."
    )

    @model_validator(mode="after")
    def _ordered(self) -> FollowSettings:
        if self.min_interval_s > self.max_interval_s:
            raise ValueError("min_interval_s must not exceed max_interval_s")
        return self


class To4kSettings(Section):
    """Upgrade items fulfilled in HD to 4K: the named profile replaces theirs for upgrades, for the chosen kinds and
    ages only (e.g. recent films, never old series)."""

    enabled: bool = Field(False, description="Look for 4K copies of what was fulfilled in HD.")
    profile: str = Field("4k", description="The profile upgrades to 4K use (its cutoff is what they aim for).")
    kinds: list[Literal["movie", "show"]] = Field(
        default_factory=lambda: list[Literal["movie", "show"]](["movie", "show"]),
        description="Which libraries: movies, shows or both.",
    )
    min_age_years: float | None = Field(None, ge=0, description="Only titles at least this old.")
    max_age_years: float | None = Field(None, ge=0, description="Only titles at most this old (unknown age: never).")


class UpgradeSettings(Section):
    """Replacing what seerbridge fulfilled below its profile's cutoff with a better cached copy, slowly."""

    enabled: bool = Field(True, description="Re-search items below their profile's cutoff and replace them.")
    interval_s: float = Field(3600, ge=1, description="Seconds between two looks for items whose check is due.")
    revisit_days: float = Field(
        14, gt=0, description="Every item below its cutoff is checked once in this many days (spread out)."
    )
    budget_share: float = Field(
        0.1, gt=0, le=1, description="Most share of Torrentio's daily budget (and of Real-Debrid's pace) upgrades use."
    )
    max_probes: int = Field(3, ge=1, le=20, description="Most better candidates probed per check.")
    keep_replaced_minutes: float = Field(
        30,
        ge=0,
        description="The replaced torrent stays this long after the new one is in Jellyfin's hands "
        "(a scan to finish, a playback to end); then it is deleted.",
    )
    to_4k: To4kSettings = Field(default_factory=To4kSettings)


CleanupRule = Literal["duplicates", "superseded", "covered_episodes", "deleted_media", "removed_in_seerr"]
CLEANUP_RULES: tuple[CleanupRule, ...] = (
    "duplicates",
    "superseded",
    "covered_episodes",
    "deleted_media",
    "removed_in_seerr",
)


class CleanupSettings(Section):
    """Finding torrents in the Real-Debrid account that nothing needs any more (`seerbridge cleanup`)."""

    rules: list[CleanupRule] = Field(
        default_factory=lambda: list(CLEANUP_RULES), description="Which kinds of redundancy are looked for."
    )
    include_hand_added: list[CleanupRule] = Field(
        default_factory=list,
        description="Rules that may also delete torrents seerbridge did not add (added by hand or by another tool). "
        "Empty: those are never deleted.",
    )
    periodic: bool = Field(False, description="Run cleanup inside `seerbridge run` and apply its plan.")
    interval_h: float = Field(24, gt=0, description="Hours between two periodic cleanups.")


class LibrarySettings(Section):
    """The library seerbridge writes for Jellyfin: `Title (Year) [tmdbid-N]` folders whose entries point at the files
    on Real-Debrid, so Jellyfin matches every item by id."""

    root: str | None = Field(
        None,
        description="Folder seerbridge writes the library into (movies/, shows/, movies-4k/, shows-4k/ below it). "
        "Unset: no library is written and files reach Jellyfin only through your own mount.",
    )
    mode: Literal["strm", "symlink", "none"] = Field(
        "strm",
        description="How an entry reaches the file: `strm` (a .strm file with a /play/ address seerbridge answers "
        "with a fresh Real-Debrid link; no mount needed), `symlink` (a link into library.mount_path) or `none` "
        "(write nothing).",
    )
    mount_path: str | None = Field(
        None,
        description="symlink mode: where the Real-Debrid mount (zurg + rclone) shows the account's torrents, as "
        "seerbridge sees it (the folder holding __all__).",
    )
    jellyfin_root: str | None = Field(
        None,
        description="Where Jellyfin sees library.root, when it differs (e.g. another path inside Jellyfin's "
        "container); used when announcing paths. Unset: the same as library.root.",
    )
    mount_wait_s: float = Field(
        600.0, ge=0, description="symlink mode: longest wait for the mount to show a new torrent's file."
    )
    verify_minutes: float = Field(
        30.0,
        gt=0,
        description="A fulfilled request Jellyfin has not picked up after this long says plainly what is wrong.",
    )


class RepairSettings(Section):
    """Noticing fulfilled torrents that vanished from Real-Debrid or turned bad, and acquiring them again."""

    enabled: bool = Field(True, description="Check what seerbridge fulfilled against the account periodically.")
    interval_minutes: float = Field(60.0, gt=0, description="Minutes between two checks (each lists the account once).")


class ServerSettings(Section):
    """The HTTP server inside `seerbridge run`: Seerr webhooks, /play/ for strm entries, and health."""

    enabled: bool = Field(True, description="Serve webhooks and /healthz while `seerbridge run` runs.")
    host: str = Field("127.0.0.1", description="Address to listen on; 0.0.0.0 to accept Seerr from another host.")
    port: int = Field(8787, ge=0, le=65535, description="Port to listen on (0 picks a free one).")
    public_url: str | None = Field(
        None,
        description="The address Jellyfin uses to reach seerbridge (strm entries hold <public_url>/play/<token>), "
        "e.g. http://seerbridge:8787. Unset: http://<host>:<port> when host is a loopback address.",
    )

    def play_base(self) -> str | None:
        """The base of /play/ addresses written into strm entries; None when it cannot be known."""
        if self.public_url:
            return self.public_url.rstrip("/")
        if self.host in ("127.0.0.1", "localhost") and self.port:
            return f"http://{self.host}:{self.port}"
        if self.host == "::1" and self.port:
            return f"http://[::1]:{self.port}"  # an IPv6 address is bracketed in a URL
        return None


class WebhookSettings(Section):
    secret: SecretStr = Field(
        SecretStr(""),
        description="Shared secret Seerr sends as its Authorization header; webhooks are refused while unset.",
    )


MIN_ARR_KEY_CHARS = 16


class ArrSettings(Section):
    """seerbridge as Seerr's Radarr and Sonarr (`/radarr`, `/radarr-4k`, `/sonarr`, `/sonarr-4k` on the server)."""

    api_key: SecretStr = Field(
        SecretStr(""),
        description="The API key entered in Seerr's Radarr/Sonarr settings (Seerr sends it as `apikey`); the four "
        "servers answer 401 to everything while it is unset.",
    )

    @field_validator("api_key")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        # The key guards adding torrents to a paid account, and short values are not masked in logs.
        if value.get_secret_value() and len(value.get_secret_value()) < MIN_ARR_KEY_CHARS:
            raise ValueError(f"must be at least {MIN_ARR_KEY_CHARS} characters (Radarr's own keys have 32)")
        return value


class LogSettings(Section):
    level: str = Field("info", pattern="^(debug|info|warning|error)$", description="Least severe level logged.")
    json_output: bool = Field(False, alias="json", description="Write JSON lines instead of console text.")


class Settings(BaseSettings):
    """The whole effective configuration."""

    seerr: SeerrSettings = Field(default_factory=SeerrSettings)
    jellyfin: JellyfinSettings = Field(default_factory=JellyfinSettings)
    torrentio: TorrentioSettings = Field(default_factory=TorrentioSettings)
    sources: dict[str, SourceSettings] = Field(
        default_factory=dict,
        description="More sources of releases by name (`[sources.prowlarr]`, env SEERBRIDGE_SOURCES__PROWLARR__URL); "
        "each is asked beside Torrentio and results are merged by info hash.",
    )
    realdebrid: RealDebridSettings = Field(default_factory=RealDebridSettings)
    torbox: TorBoxSettings = Field(default_factory=TorBoxSettings)
    selection: SelectionSettings = Field(default_factory=SelectionSettings)
    acquire: AcquireSettings = Field(default_factory=AcquireSettings)
    plan: PlanSettings = Field(default_factory=PlanSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    run: RunSettings = Field(default_factory=RunSettings)
    backoff: BackoffSettings = Field(default_factory=BackoffSettings)
    follow: FollowSettings = Field(default_factory=FollowSettings)
    upgrade: UpgradeSettings = Field(default_factory=UpgradeSettings)
    cleanup: CleanupSettings = Field(default_factory=CleanupSettings)
    library: LibrarySettings = Field(default_factory=LibrarySettings)
    repair: RepairSettings = Field(default_factory=RepairSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    arr: ArrSettings = Field(default_factory=ArrSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    log: LogSettings = Field(default_factory=LogSettings)

    model_config = SettingsConfigDict(
        env_prefix="SEERBRIDGE_", env_nested_delimiter="__", extra="forbid", nested_model_default_partial_update=True
    )
    _toml_path: ClassVar[Path | None] = None

    @field_validator("sources")
    @classmethod
    def _source_names(cls, value: dict[str, SourceSettings]) -> dict[str, SourceSettings]:
        for name in value:
            if not SOURCE_NAME.match(name) or name == "torrentio":
                raise ValueError(f"source name {name!r}: lower-case letters, digits, - and _, not 'torrentio'")
        return value

    @model_validator(mode="after")
    def _to_4k_profile_exists(self) -> Settings:
        if self.upgrade.to_4k.profile not in self.selection.profiles:
            name = self.upgrade.to_4k.profile
            raise ValueError(f"upgrade.to_4k.profile names profile {name!r}, which is not defined")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls._toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._toml_path))
        return tuple(sources)


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line naming the field."""


def load_settings(path: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Build settings from an optional TOML file and the environment; raise ConfigError with one clear line.

    `overrides` (section → values) win over both, e.g. to point a demo at the emulators.
    """
    path = config_file(path)
    if path is not None:
        _check_file(path)
    Settings._toml_path = path
    try:
        return Settings(**(overrides or {}))
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
    finally:
        Settings._toml_path = None


def config_file(path: Path | None = None) -> Path | None:
    """The config file settings are read from: `path` (--config), else $SEERBRIDGE_CONFIG, else none."""
    if path is None and os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return path


def _check_file(path: Path) -> None:
    """Raise ConfigError with one line unless `path` is a readable UTF-8 TOML file."""
    if path.is_dir():
        raise ConfigError(f"config file {path} is a folder, not a file")
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    if not path.is_file():
        raise ConfigError(f"config file {path} is not a regular file")
    try:
        raw = path.read_bytes()
    except PermissionError:
        raise ConfigError(f"config file {path} cannot be read: permission denied") from None
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise ConfigError(f"config file {path} cannot be read: {reason}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (at byte {exc.start + 1})") from None
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem: the dotted field, its env var, and what is wrong (never the value)."""
    lines = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        dotted = ".".join(loc)
        env_name = "SEERBRIDGE_" + "__".join(part.upper() for part in loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "is not a known setting"
        lines.append(f"invalid setting {dotted} ({env_name}): {msg}")
    return "; ".join(lines)


REQUIRED_KEYS = {
    "seerr": ("api_key", "Seerr API key"),
    "jellyfin": ("api_key", "Jellyfin API key"),
    "realdebrid": ("api_key", "Real-Debrid API token"),
}
"""Settings without a usable default: seerbridge starts without them, but the service refuses every call."""


def unset_required(settings: Settings, *sections: str) -> list[str]:
    """One line per required setting left empty (in `sections`, or all), naming its variable, e.g.
    "Seerr API key not set: set SEERBRIDGE_SEERR__API_KEY"."""
    lines = []
    for section, (key, label) in REQUIRED_KEYS.items():
        if sections and section not in sections:
            continue
        if not getattr(getattr(settings, section), key).get_secret_value():
            lines.append(f"{label} not set: set SEERBRIDGE_{section.upper()}__{key.upper()}")
    return lines


def secret_values(settings: Settings) -> list[str]:
    """Every secret the settings hold, for the redaction registry (API keys, URL-borne keys, DB password)."""
    from sqlalchemy.engine import make_url

    values = [
        settings.seerr.api_key.get_secret_value(),
        settings.jellyfin.api_key.get_secret_value(),
        settings.realdebrid.api_key.get_secret_value(),
        settings.torbox.api_key.get_secret_value(),
        settings.webhook.secret.get_secret_value(),
        settings.arr.api_key.get_secret_value(),
        *(v.url.get_secret_value() for v in settings.sources.values()),
        *(v.api_key.get_secret_value() for v in settings.sources.values()),
    ]
    db_password = make_url(settings.database.url.get_secret_value()).password
    if db_password:
        values.append(str(db_password))
    return [v for v in values if v]
