"""Torrentio client: the manifest and the stream lists for a movie or one episode, read into our own `Stream` model.

Facts it encodes (see shared/api/torrentio.md): the base URL is host + config segment and may carry a debrid key,
so the key is registered for redaction and never kept in a `Stream`; a stream's `title` is lines — release name,
then (packs) the file inside the torrent, then `👤 seeders 💾 size ⚙️ provider`, then language flags; with a debrid
key streams arrive as `/resolve/<moch>/<key>/<hash>/<cached>/<fileIdx>/<file>` URLs without `infoHash`; a refused
key comes back as one "error" stream (200), which we raise as a typed error; the daily limit answers 429 with a text
body and no Retry-After, which retrying within the day cannot fix, so it is raised at once, not retried, and the
client pauses (`torrentio.rate_limited_pause_s`, an hour by default; later calls fail fast meanwhile). Our own
daily budget (`torrentio.daily_budget`, per UTC day) stops calls before Torrentio has to.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, Field

from seerbridge.config import TorrentioSettings
from seerbridge.errors import (
    AuthenticationError,
    PermissionDenied,
    RateLimited,
    RequestRejected,
    ServiceError,
    ServiceUnavailable,
)
from seerbridge.redact import redact, register, torrentio_keys
from seerbridge.services.base import ServiceClient
from seerbridge.services.budget import DailyBudget
from seerbridge.services.calls import CallLedger
from seerbridge.services.health import ServiceCheck
from seerbridge.services.http import RemoteError, ServiceHttp, read_error_body
from seerbridge.services.streams import Stream

log = structlog.get_logger("seerbridge.torrentio")

SERVICE = "torrentio"
_IMDB_ID = re.compile(r"^tt\d{1,12}$")
_HASH = re.compile(r"^[0-9a-fA-F]{40}$")
_RESOLVE = re.compile(
    r"/resolve/(?P<moch>[^/]+)/(?P<key>[^/]+)/(?P<hash>[0-9a-fA-F]{40})/(?P<cached>[^/]+)/(?P<idx>[^/]+)(?:/|$)"
)
_DEBRID_MARK = re.compile(r"^\[(?P<moch>[^\]\s+]+)(?P<plus>\+)?(?: download)?\]\s*")
_SEEDERS = re.compile(r"👤\s*(\d+)")
_SIZE = re.compile(r"💾\s*([\d.,]+)\s*(B|kB|KB|MB|GB|TB)\b")
_PROVIDER = re.compile(r"⚙\ufe0f?[ \t]*([^\s\ufe0f].*?)\s*$")
_STATS_MARKS = ("👤", "💾", "⚙")
_SIZE_SCALE = {"B": 1, "kB": 1024, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_DEBRID_SERVICES = ("realdebrid", "premiumize", "alldebrid", "debridlink", "easydebrid", "offcloud", "torbox", "putio")


class ManifestResource(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    types: list[str] = Field(default_factory=list)
    idPrefixes: list[str] = Field(default_factory=list)


class ManifestCatalog(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    type: str
    name: str | None = None


class Manifest(BaseModel):
    """The parts of the addon manifest we read."""

    model_config = ConfigDict(extra="ignore")

    id: str
    version: str
    name: str
    description: str = ""
    types: list[str] = Field(default_factory=list)
    resources: list[str | ManifestResource] = Field(default_factory=list)
    catalogs: list[ManifestCatalog] = Field(default_factory=list)

    def serves_streams(self) -> bool:
        return any((r if isinstance(r, str) else r.name) == "stream" for r in self.resources)


class _StreamsBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    streams: list[Any]
    cacheMaxAge: int | None = None


class SkippedStream(ValueError):
    """A stream entry we cannot use; the message is the reason (never contains a URL)."""


def debrid_services(url: str) -> list[str]:
    """The debrid services whose keys the Torrentio base URL's config segment carries."""
    path = unquote(urlsplit(url).path)
    found = []
    for pair in re.split(r"[|/]", path):
        key, sep, value = pair.partition("=")
        if sep and value and key.lower() in _DEBRID_SERVICES:
            found.append(key.lower())
    return found


def read_torrentio_error(response: httpx.Response) -> RemoteError:
    """Torrentio's handler error is `{"err": "handler error"}`; its 429 is plain text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("err"), str):
        return RemoteError(error=body["err"], message=body["err"])
    return read_error_body(response)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _split_title(title: str) -> tuple[str, str | None, int | None, int | None, str | None, tuple[str, ...]]:
    """title → (release name, file path, seeders, size, provider, languages)."""
    lines = [line.strip() for line in title.replace("\r", "").split("\n")]
    release = lines[0]
    stats_at = next((i for i in range(1, len(lines)) if any(m in lines[i] for m in _STATS_MARKS)), None)
    if stats_at is None:
        return release, None, None, None, None, ()
    between = [line for line in lines[1:stats_at] if line]
    file_path = between[0] if between else None
    stats = lines[stats_at]
    seeders_m = _SEEDERS.search(stats)
    size_m = _SIZE.search(stats)
    provider_m = _PROVIDER.search(stats)
    size = None
    if size_m:
        try:
            size = int(float(size_m.group(1).replace(",", "")) * _SIZE_SCALE[size_m.group(2)])
        except ValueError:
            size = None
    tail = " / ".join(line for line in lines[stats_at + 1 :] if line)
    languages = tuple(part.strip() for part in tail.split("/") if part.strip())
    provider = provider_m.group(1) if provider_m else None
    return (
        release,
        file_path,
        int(seeders_m.group(1)) if seeders_m else None,
        size,
        provider or None,
        languages,
    )


def parse_stream(raw: Any) -> Stream:
    """One wire stream → `Stream`; raises SkippedStream with the reason when it cannot be used."""
    if not isinstance(raw, dict):
        raise SkippedStream("not an object")
    title = raw.get("title", raw.get("description"))
    if not isinstance(title, str) or not title.strip():
        raise SkippedStream("no title")
    raw_name = raw.get("name")
    name = raw_name if isinstance(raw_name, str) else ""
    release, file_path, seeders, size, provider, languages = _split_title(title)
    if not release:
        raise SkippedStream("empty release name")
    info_hash = raw.get("infoHash")
    file_idx = _int_or_none(raw.get("fileIdx"))
    url = raw.get("url")
    if isinstance(url, str) and (m := _RESOLVE.search(urlsplit(url).path)):
        if not (isinstance(info_hash, str) and _HASH.match(info_hash)):
            info_hash = m.group("hash")
        if file_idx is None:
            file_idx = _int_or_none(m.group("idx"))
    if not isinstance(info_hash, str) or not _HASH.match(info_hash):
        raise SkippedStream("no info hash (neither infoHash nor a /resolve/ URL)")
    name_lines = name.split("\n")
    mark = _DEBRID_MARK.match(name_lines[0])
    raw_hints = raw.get("behaviorHints")
    hints: dict[str, Any] = raw_hints if isinstance(raw_hints, dict) else {}
    filename = hints.get("filename") if isinstance(hints.get("filename"), str) else None
    binge = hints.get("bingeGroup") if isinstance(hints.get("bingeGroup"), str) else None
    quality = name_lines[1].strip() if len(name_lines) > 1 and name_lines[1].strip() else None
    return Stream(
        release_name=release,
        info_hash=info_hash.lower(),
        file_idx=file_idx,
        file_path=file_path,
        filename=filename,
        seeders=seeders,
        size_bytes=size,
        provider=provider,
        languages=languages,
        quality_label=quality,
        cached_hint=bool(mark and mark.group("plus")),
        debrid=mark.group("moch") if mark else None,
        binge_group=binge,
    )


def _is_error_stream(raw: Any) -> bool:
    """Torrentio's static-video answers: `Torrentio\\nRD error` with a `/videos/…mp4` url and no torrent."""
    if not isinstance(raw, dict) or "infoHash" in raw:
        return False
    url, name = raw.get("url"), raw.get("name")
    return (
        isinstance(url, str)
        and "/videos/" in url
        and "/resolve/" not in url
        and isinstance(name, str)
        and name.rstrip().endswith("error")
    )


def _error_for_stream(raw: dict[str, Any], endpoint: str) -> ServiceError:
    title = redact(str(raw.get("title") or "debrid error"))
    lowered = title.lower()
    if "apikey" in lowered or "token" in lowered:
        return AuthenticationError(
            SERVICE, endpoint, f"{title} (the debrid key in the Torrentio URL was refused)", error="debrid_key"
        )
    if "subscription" in lowered or "blocked" in lowered or "expired" in lowered:
        return PermissionDenied(SERVICE, endpoint, title, error="debrid_access")
    if "unavailable" in lowered or "timeout" in lowered or "try again" in lowered:
        return ServiceUnavailable(SERVICE, endpoint, title, error="debrid_unavailable")
    return RequestRejected(SERVICE, endpoint, title, error="debrid_error")


def parse_streams(body: list[Any], *, endpoint: str) -> list[Stream]:
    """Wire streams → usable `Stream`s; bad entries are skipped with a logged reason; a debrid error raises."""
    if body and all(_is_error_stream(raw) for raw in body):
        raise _error_for_stream(body[0], endpoint)
    out: list[Stream] = []
    seen: set[tuple[str, int | None]] = set()
    for index, raw in enumerate(body):
        if _is_error_stream(raw):
            log.warning("skipped stream", service=SERVICE, endpoint=endpoint, index=index, reason="static error video")
            continue
        try:
            stream = parse_stream(raw)
        except SkippedStream as exc:
            log.warning("skipped stream", service=SERVICE, endpoint=endpoint, index=index, reason=str(exc))
            continue
        key = (stream.info_hash, stream.file_idx)
        if key in seen:
            continue
        seen.add(key)
        out.append(stream)
    return out


KEY_PROBE_IMDB_ID = "tt0063350"  # Night of the Living Dead (1968)


class TorrentioClient(ServiceClient):
    """Typed calls to one Torrentio instance (the configured URL: host + config segment)."""

    def __init__(
        self,
        settings: TorrentioSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        ledger: CallLedger | None = None,
    ) -> None:
        url = settings.url.get_secret_value()
        register(*torrentio_keys(url))
        self.settings = settings
        self.debrid = debrid_services(url)
        # Names this configuration (host + config segment: filters, sorting, debrid key) where answers are kept,
        # e.g. the search cache: another configuration gets other answers. A digest, so the key is never written.
        self.config_id = hashlib.sha256(url.rstrip("/").encode()).hexdigest()[:16]
        # Stream calls per UTC day; the running app keeps the count in the store (`budget.keep_in`).
        self.budget = DailyBudget(SERVICE, settings.daily_budget)
        super().__init__(
            ServiceHttp(
                SERVICE,
                url,
                policy=settings,
                transport=transport,
                ledger=ledger,
                read_error=read_torrentio_error,
                auth_failure_statuses=frozenset(),
            )
        )

    async def manifest(self) -> Manifest:
        return await self._http.get_model("manifest.json", Manifest, endpoint="manifest")

    async def movie_streams(self, imdb_id: str) -> list[Stream]:
        """Every stream Torrentio lists for a movie, in Torrentio's order."""
        _check_imdb(imdb_id)
        return await self._streams(f"stream/movie/{imdb_id}.json", endpoint="stream/movie")

    async def episode_streams(self, imdb_id: str, season: int, episode: int) -> list[Stream]:
        """Streams for one episode; season packs appear with `file_idx` pointing at that episode's file.

        Season 0 holds the specials. Episode 0 (TMDB's number for some unaired pilots and specials) has no streams:
        Torrentio numbers episodes from 1, so the answer is [] without a call (or a unit of the daily budget).
        """
        _check_imdb(imdb_id)
        if isinstance(season, bool) or not isinstance(season, int) or season < 0:
            raise ValueError(f"season must be an integer >= 0, not {season!r}")
        if isinstance(episode, bool) or not isinstance(episode, int) or episode < 0:
            raise ValueError(f"episode must be an integer >= 0, not {episode!r}")
        if episode == 0:
            return []
        return await self._streams(f"stream/series/{imdb_id}:{season}:{episode}.json", endpoint="stream/series")

    async def check(self) -> ServiceCheck:
        """Reachable and really a Torrentio addon; with a debrid key, one stream call proves the key."""
        manifest = await self.manifest()
        problems = []
        if not manifest.id.startswith("com.stremio.torrentio"):
            problems.append(f"the URL serves addon {manifest.id!r}, not Torrentio")
        if not manifest.serves_streams():
            problems.append("the addon does not serve streams")
        if self.debrid and manifest.name.strip() == "Torrentio":
            problems.append("a debrid key is configured but Torrentio did not enable debrid for this URL")
        elif self.debrid:
            # The manifest accepts any key; only a stream call shows whether the debrid service took it.
            # One call of the daily budget, on a public-domain film every index knows.
            await self.movie_streams(KEY_PROBE_IMDB_ID)
        return ServiceCheck(
            service=SERVICE,
            version=manifest.version,
            details={
                "name": manifest.name,
                "debrid": ", ".join(self.debrid) if self.debrid else "none",
            },
            problems=problems,
        )

    async def _streams(self, path: str, *, endpoint: str) -> list[Stream]:
        self._http.refuse_if_down(endpoint)  # a call refused unsent must not spend the day's budget
        await self.budget.spend(endpoint)
        response = await self._http.request("GET", path, endpoint=endpoint, ok=(200, 429))
        if response.status_code == 429:
            # The public instance's limit is per IP per 24 h and sends no Retry-After: retrying now cannot help.
            # The client pauses (torrentio.rate_limited_pause_s, an hour by default), so no call is sent meanwhile.
            message = redact(response.text.strip()[:200]) or "too many requests"
            self._http.rate_limited(endpoint)
            raise RateLimited(SERVICE, endpoint, message, status=429)
        body = self._http.parse(response, _StreamsBody, endpoint=endpoint)
        return parse_streams(body.streams, endpoint=endpoint)


def _check_imdb(imdb_id: str) -> None:
    if not isinstance(imdb_id, str) or not _IMDB_ID.match(imdb_id):
        raise ValueError(f"not an IMDb id: {imdb_id!r} (expected tt followed by digits)")


__all__ = [
    "Manifest",
    "SkippedStream",
    "Stream",
    "TorrentioClient",
    "debrid_services",
    "parse_stream",
    "parse_streams",
]
