"""Scenario files: one YAML/JSON document that seeds all four emulators at once.

A scenario names the media that exist (the TMDB/IMDb/TVDB catalogue Seerr knows), the requests users made in
Seerr, what Jellyfin already holds, the releases Torrentio knows for each title, how Real-Debrid treats each
release's hash (cached, uncached, dead, refused), and the Real-Debrid account. See `scenarios/*.yaml`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

KeyName = Literal["seerr", "jellyfin", "realdebrid", "torznab"]

DEFAULT_KEYS: dict[KeyName, str] = {
    "seerr": "sandbox-seerr-key-0123456789abcdef",
    "jellyfin": "0123456789abcdef0123456789abcdef",
    "realdebrid": "SANDBOXREALDEBRIDTOKEN0123456789ABCDEFGHIJKLMNOPQR",
    "torznab": "sandbox-torznab-key-0123456789ab",
}
TorznabListing = Literal["infohash", "magnet", "none"]
"""How the Torznab indexer emulator lists a release: with an `infohash` attribute (and a magnet), with a magnet link
only (the hash must be read from it), or not at all."""

GB = 1024**3


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeasonSpec(_Model):
    season: int = Field(ge=0)
    episodes: int = Field(ge=0, description="How many episodes the season has (aired or not).")
    first_air_date: date | None = Field(None, description="Air date of episode 1; later ones follow weekly.")
    air_dates: list[date | None] | None = Field(None, description="Explicit air dates, one per episode.")
    titles: list[str] | None = None

    def air_date(self, episode: int) -> date | None:
        if self.air_dates is not None:
            return self.air_dates[episode - 1] if episode <= len(self.air_dates) else None
        if self.first_air_date is None:
            return None
        return self.first_air_date + timedelta(weeks=episode - 1)

    def episode_title(self, episode: int) -> str:
        if self.titles and episode <= len(self.titles):
            return self.titles[episode - 1]
        return f"Episode {episode}"


class MediaSpec(_Model):
    """A movie or show as TMDB knows it."""

    type: Literal["movie", "tv"]
    tmdb_id: int
    imdb_id: str | None = Field(None, pattern=r"^tt\d+$")
    tvdb_id: int | None = None
    title: str
    original_title: str | None = None
    year: int | None = None
    release_date: date | None = None  # movies
    first_air_date: date | None = None  # shows
    overview: str = ""
    original_language: str = "en"
    titles: dict[str, str] = Field(
        default_factory=dict,
        description="TMDB's translated titles by language ('fr', 'pt-BR'); `title` is the English one.",
    )
    seasons: list[SeasonSpec] = Field(default_factory=list)
    popularity: float | None = Field(
        None,
        ge=0,
        description="TMDB's popularity: a name search without a year takes the most popular same-title media "
        "(scenario order breaks ties and stands in when absent).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> MediaSpec:
        if self.type == "movie" and self.seasons:
            raise ValueError(f"movie {self.title!r} cannot have seasons")
        return self

    @property
    def premiere(self) -> date | None:
        return self.release_date if self.type == "movie" else self.first_air_date

    @property
    def effective_year(self) -> int | None:
        if self.year is not None:
            return self.year
        return self.premiere.year if self.premiere else None

    def season(self, number: int) -> SeasonSpec | None:
        return next((s for s in self.seasons if s.season == number), None)


RequestStatus = Literal["pending", "approved", "declined", "failed", "completed"]


class RequestSpec(_Model):
    """A request a user made in Seerr."""

    id: int = Field(ge=1)
    tmdb_id: int
    status: RequestStatus = "approved"
    is4k: bool = False
    seasons: list[int] = Field(default_factory=list, description="Requested seasons (tv only).")
    requested_by: str = "alice"
    created_at: date | None = None


EpisodeSet = Literal["all"] | list[int]


class LibraryEntry(_Model):
    """Something Jellyfin already has: a movie, or some episodes of a show."""

    tmdb_id: int
    episodes: dict[int, EpisodeSet] = Field(default_factory=dict, description="Season → episode numbers, or 'all'.")
    path: str | None = None
    virtual_episodes: dict[int, list[int]] = Field(
        default_factory=dict, description="Season → episodes Jellyfin lists as missing (LocationType Virtual)."
    )


RdBehaviour = Literal["cached", "uncached", "dead", "refused", "magnet_error", "error", "virus"]


class FileSpec(_Model):
    path: str = Field(description="Path inside the torrent, without a leading slash.")
    size: int = Field(ge=0)


def _parse_size(value: object) -> object:
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?B)\s*", value, re.IGNORECASE)
        if not m:
            raise ValueError(f"cannot read size {value!r}; write e.g. '1.6 GB'")
        factor = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": GB, "TB": 1024**4}[m.group(2).upper()]
        return int(float(m.group(1)) * factor)
    return value


class ReleaseSpec(_Model):
    """A torrent Torrentio knows for a title, and how Real-Debrid treats its hash."""

    imdb_id: str = Field(pattern=r"^tt\d+$")
    name: str = Field(description="The torrent title (the release name).")
    hash: str | None = Field(None, pattern=r"^[0-9a-fA-F]{40}$")
    seeders: int | None = Field(50, ge=0)
    size: Annotated[int, Field(ge=0)] = Field(2 * GB, description="Total size; '1.6 GB' style strings are accepted.")
    provider: str = "1337x"
    languages: list[str] = Field(default_factory=list, description="Torrentio language flags, e.g. ['🇬🇧', '🇮🇹'].")
    covers: dict[int, list[int]] = Field(
        default_factory=dict, description="Series only: season → episodes this torrent holds (files are generated)."
    )
    files: list[FileSpec] | None = Field(None, description="Explicit file list; generated when absent.")
    sample: bool = Field(False, description="Add a small sample video beside the main files.")
    rd: RdBehaviour = Field("uncached", description="How Real-Debrid treats this hash.")
    rd_speed: int = Field(20 * 1024**2, ge=1, description="Bytes per virtual second while downloading (uncached).")
    rd_dies_after: float = Field(60.0, ge=0, description="Virtual seconds until a 'dead' torrent dies.")
    torrentio_cached: bool = Field(False, description="Torrentio's own cache thinks it is on RD: shown as [RD+].")
    published: date | None = Field(
        None, description="The day it is uploaded: Torrentio lists it only from then on (a better copy appears later)."
    )
    trackers: list[str] | None = Field(
        None, description="Announce URLs Torrentio stored; None = three public trackers, [] = none (no `sources`)."
    )
    torrentio: bool = Field(True, description="Torrentio lists it.")
    torznab: TorznabListing = Field("infohash", description="How the Torznab indexer emulator lists it.")
    zilean: bool = Field(True, description="The Zilean emulator (DMM hashlists) knows it.")

    _size_from_text = field_validator("size", mode="before")(_parse_size)

    @property
    def info_hash(self) -> str:
        if self.hash:
            return self.hash.lower()
        return hashlib.sha1(f"seerbridge-sandbox:{self.name}".encode()).hexdigest()

    def file_list(self, show_title: str | None = None) -> list[FileSpec]:
        """The files inside the torrent, in torrent order (Torrentio's fileIdx is the index here)."""
        if self.files is not None:
            return list(self.files)
        out: list[FileSpec] = []
        episodes = [(s, e) for s in sorted(self.covers) for e in sorted(self.covers[s])]
        if not episodes:
            out.append(FileSpec(path=f"{self.name}.mkv", size=self.size))
        else:
            show = re.sub(r"[^\w]+", ".", show_title or "Show").strip(".")
            tags = _quality_tags(self.name)
            each = self.size // len(episodes)
            single = len(episodes) == 1
            for s, e in episodes:
                leaf = f"{show}.S{s:02d}E{e:02d}.{tags}.mkv"
                out.append(FileSpec(path=leaf if single else f"{self.name}/{leaf}", size=each))
        if self.sample:
            folder = "" if len(out) == 1 else f"{self.name}/"
            out.append(FileSpec(path=f"{folder}Sample/sample.mkv", size=30 * 1024**2))
        return out

    def file_for(self, season: int, episode: int, show_title: str | None = None) -> int | None:
        """fileIdx of the given episode in this torrent, or None when it does not hold it."""
        pattern = re.compile(rf"S0*{season}E0*{episode}(?!\d)", re.IGNORECASE)
        for index, spec in enumerate(self.file_list(show_title)):
            if pattern.search(spec.path) and "sample" not in spec.path.lower():
                return index
        return None


def _quality_tags(name: str) -> str:
    tokens = re.findall(
        r"(?i)\b(2160p|1080p|720p|480p|WEB-DL|WEBRip|BluRay|HDTV|x264|x265|HEVC|H\.?264|H\.?265|HDR|DV)\b", name
    )
    return ".".join(tokens) or "WEB"


class ExistingTorrent(_Model):
    """A torrent already in the Real-Debrid account when the scenario starts (e.g. added by hand)."""

    hash: str = Field(pattern=r"^[0-9a-fA-F]{40}$")
    name: str
    status: Literal["downloaded", "downloading", "queued", "error", "dead"] = "downloaded"
    size: int = GB
    files: list[FileSpec] | None = None

    _size_from_text = field_validator("size", mode="before")(_parse_size)


class RealDebridAccount(_Model):
    username: str = "sandbox"
    premium_days: float = Field(90, ge=0, description="0 makes a free (non-premium) account.")
    active_limit: int = Field(25, ge=0, description="Most torrents downloading at once.")
    rate_limit_per_min: int = Field(250, ge=1)
    torrents: list[ExistingTorrent] = Field(default_factory=list)


class JellyfinServer(_Model):
    server_name: str = "sandbox-jellyfin"
    version: str = "10.11.11"
    movies_root: str = "/media/movies"
    shows_root: str = "/media/shows"
    legacy_auth: bool = True


ServarrSetting = Literal["none", "unreachable"]


class SeerrServer(_Model):
    version: str = "3.1.0"
    radarr: ServarrSetting = Field(
        "none",
        description="Radarr as Seerr has it configured: 'none', or a default (non-4K) server that does not answer, "
        "so approving a movie request marks it FAILED.",
    )
    sonarr: ServarrSetting = Field("none", description="Sonarr, likewise for show requests.")
    locale: str = Field(
        "en", description="Seerr's display language (Settings → General): titles are in it unless ?language= says."
    )


class TorrentioServer(_Model):
    daily_limit: int = Field(5000, ge=1, description="Stream calls per client per day before 429.")


class Scenario(_Model):
    name: str
    description: str = ""
    today: date | None = Field(None, description="The emulators' current date; today's real date when absent.")
    keys: dict[KeyName, str] = Field(default_factory=lambda: dict(DEFAULT_KEYS))
    media: list[MediaSpec] = Field(default_factory=list)
    requests: list[RequestSpec] = Field(default_factory=list)
    library: list[LibraryEntry] = Field(default_factory=list)
    releases: list[ReleaseSpec] = Field(default_factory=list)
    realdebrid: RealDebridAccount = Field(default_factory=RealDebridAccount)
    jellyfin: JellyfinServer = Field(default_factory=JellyfinServer)
    seerr: SeerrServer = Field(default_factory=SeerrServer)
    torrentio: TorrentioServer = Field(default_factory=TorrentioServer)
    sources: list[Literal["torznab", "zilean"]] = Field(
        default_factory=list,
        description="Sources besides Torrentio the settings of this world name (the emulators serve them all).",
    )

    @field_validator("keys", mode="after")
    @classmethod
    def _fill_keys(cls, v: dict[KeyName, str]) -> dict[KeyName, str]:
        return {**DEFAULT_KEYS, **v}

    @model_validator(mode="after")
    def _references_exist(self) -> Scenario:
        by_tmdb = {m.tmdb_id: m for m in self.media}
        if len(by_tmdb) != len(self.media):
            raise ValueError("two media share a tmdb_id")
        ids = [r.id for r in self.requests]
        if len(set(ids)) != len(ids):
            raise ValueError("two requests share an id")
        for r in self.requests:
            media = by_tmdb.get(r.tmdb_id)
            if media is None:
                raise ValueError(f"request {r.id} names tmdb_id {r.tmdb_id}, which is not in media")
            if media.type == "tv" and not r.seasons:
                raise ValueError(f"request {r.id} is for a show but names no seasons")
        for entry in self.library:
            if entry.tmdb_id not in by_tmdb:
                raise ValueError(f"library entry names tmdb_id {entry.tmdb_id}, which is not in media")
        return self

    def media_by_tmdb(self, tmdb_id: int) -> MediaSpec | None:
        return next((m for m in self.media if m.tmdb_id == tmdb_id), None)

    def media_by_imdb(self, imdb_id: str) -> MediaSpec | None:
        return next((m for m in self.media if m.imdb_id == imdb_id), None)

    def releases_for(self, imdb_id: str) -> list[ReleaseSpec]:
        return [r for r in self.releases if r.imdb_id == imdb_id]

    def release_by_hash(self, info_hash: str) -> ReleaseSpec | None:
        info_hash = info_hash.lower()
        return next((r for r in self.releases if r.info_hash == info_hash), None)


def _scenario_dir() -> Path:
    return Path(str(resources.files("seerbridge.sandbox") / "scenarios"))


def list_scenarios() -> list[str]:
    return sorted(p.stem for p in _scenario_dir().glob("*.yaml"))


class ScenarioError(ValueError):
    """A scenario file cannot be found or read."""


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a shipped scenario by name (see `list_scenarios`) or any YAML/JSON file by path."""
    path = Path(name_or_path)
    if not path.is_file():
        shipped = _scenario_dir() / f"{name_or_path}.yaml"
        if not shipped.is_file():
            known = ", ".join(list_scenarios())
            raise ScenarioError(f"no scenario file or shipped scenario named {name_or_path!r} (shipped: {known})")
        path = shipped
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML/JSON: {exc}") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'scenario'}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise ScenarioError(f"{path}: {problems}") from None
