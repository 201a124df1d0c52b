"""Real-Debrid client: typed calls to the torrent endpoints, RD's error codes, and the disabled cache check.

Thin on purpose: it sends one logical call per method through `ServiceHttp` (rate limit, retries, typed errors,
redaction) and reads the answer into a model. Policy (which hash to add, when to give up) lives in the pipeline.
Facts it encodes (see shared/api/realdebrid-api.md): POST bodies are form fields; errors are
`{"error": key, "error_code": n}`; adding a hash twice makes two torrents, so `add_magnet` is never retried once
the request may have reached RD; `instantAvailability` answers 403/37 for everyone, which means "unknown", not a
failure; "too many active downloads" comes back as a non-standard 509 with error 21, and "fair usage" (36) with a
503: both are account limits, not outages (`rd_account_limit`): not retried, not counted by the circuit breaker.
Nor is `/unrestrict/link`'s 503 with error 19 (hoster_unavailable), which says one file is gone, not that RD is down.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any, Literal
from urllib.parse import quote

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from seerbridge.config import RealDebridSettings
from seerbridge.errors import NotFound, PermissionDenied, RequestRejected, ServiceError
from seerbridge.redact import redact, register
from seerbridge.services.base import ServiceClient
from seerbridge.services.calls import CallLedger
from seerbridge.services.health import ServiceCheck
from seerbridge.services.http import AccountLimit, LimitReader, RemoteError, ServiceHttp, read_error_body

log = structlog.get_logger("seerbridge.realdebrid")

SERVICE = "realdebrid"
MAX_PAGE_SIZE = 5000
_HASH = re.compile(r"^[0-9a-fA-F]{40}$")


class RdErrorCode(IntEnum):
    """Real-Debrid's `error_code` values (-1..36 documented; 37 observed)."""

    INTERNAL_ERROR = -1
    UNKNOWN_ERROR = 0
    MISSING_PARAMETER = 1
    BAD_PARAMETER_VALUE = 2
    UNKNOWN_METHOD = 3
    METHOD_NOT_ALLOWED = 4
    SLOW_DOWN = 5
    RESOURCE_UNREACHABLE = 6
    UNKNOWN_RESOURCE = 7
    BAD_TOKEN = 8
    PERMISSION_DENIED = 9
    TWO_FACTOR_NEEDED = 10
    TWO_FACTOR_PENDING = 11
    INVALID_LOGIN = 12
    INVALID_PASSWORD = 13
    ACCOUNT_LOCKED = 14
    ACCOUNT_NOT_ACTIVATED = 15
    UNSUPPORTED_HOSTER = 16
    HOSTER_IN_MAINTENANCE = 17
    HOSTER_LIMIT_REACHED = 18
    HOSTER_UNAVAILABLE = 19
    HOSTER_NOT_FOR_FREE_USERS = 20
    TOO_MANY_ACTIVE_DOWNLOADS = 21
    IP_NOT_ALLOWED = 22
    TRAFFIC_EXHAUSTED = 23
    FILE_UNAVAILABLE = 24
    SERVICE_UNAVAILABLE = 25
    UPLOAD_TOO_BIG = 26
    UPLOAD_ERROR = 27
    FILE_NOT_ALLOWED = 28
    TORRENT_TOO_BIG = 29
    TORRENT_FILE_INVALID = 30
    ACTION_ALREADY_DONE = 31
    IMAGE_RESOLUTION_ERROR = 32
    TORRENT_ALREADY_ACTIVE = 33
    TOO_MANY_REQUESTS = 34
    INFRINGING_FILE = 35
    FAIR_USAGE_LIMIT = 36
    DISABLED_ENDPOINT = 37

    @classmethod
    def of(cls, code: int | None) -> RdErrorCode | None:
        try:
            return cls(code) if code is not None else None
        except ValueError:
            return None


# Codes that mean "an account limit is reached" (Torrentio's isLimitExceededError set).
LIMIT_CODES = frozenset(
    {
        RdErrorCode.TOO_MANY_ACTIVE_DOWNLOADS,
        RdErrorCode.TRAFFIC_EXHAUSTED,
        RdErrorCode.UPLOAD_TOO_BIG,
        RdErrorCode.FAIR_USAGE_LIMIT,
    }
)

_DESCRIPTIONS: dict[RdErrorCode, str] = {
    RdErrorCode.BAD_PARAMETER_VALUE: "a parameter value is invalid",
    RdErrorCode.UNKNOWN_RESOURCE: "no such torrent, file or link",
    RdErrorCode.BAD_TOKEN: "the API token is invalid or expired (see real-debrid.com/apitoken)",
    RdErrorCode.PERMISSION_DENIED: "permission denied (account not premium or locked)",
    RdErrorCode.ACCOUNT_LOCKED: "the account is locked",
    RdErrorCode.HOSTER_UNAVAILABLE: "the file is unavailable on the hoster",
    RdErrorCode.TOO_MANY_ACTIVE_DOWNLOADS: "all active download slots are in use",
    RdErrorCode.IP_NOT_ALLOWED: "this IP address is not allowed (VPN or datacenter?)",
    RdErrorCode.TRAFFIC_EXHAUSTED: "traffic exhausted",
    RdErrorCode.ACTION_ALREADY_DONE: "already done",
    RdErrorCode.TOO_MANY_REQUESTS: "too many requests (250 per minute)",
    RdErrorCode.INFRINGING_FILE: "Real-Debrid refuses this content as infringing",
    RdErrorCode.FAIR_USAGE_LIMIT: "fair-usage limit reached",
    RdErrorCode.DISABLED_ENDPOINT: "Real-Debrid has disabled this endpoint",
}


def read_rd_error(response: httpx.Response) -> RemoteError:
    """RD's `{"error": key, "error_code": n}`, with a readable message for the codes that matter."""
    remote = read_error_body(response)
    code = RdErrorCode.of(remote.error_code)
    message = remote.message or (_DESCRIPTIONS.get(code, "") if code is not None else "")
    return RemoteError(error=remote.error, error_code=remote.error_code, message=message)


def rd_account_limit(fair_usage_pause_s: float) -> LimitReader:
    """RD answers that mean an account limit (or a dead file), not an outage: never retried, never counted by the
    circuit breaker.

    509 / 21 (every download slot in use) refuses one new torrent; the pipeline waits for a free slot. 36 (fair
    usage, seen with 503) pauses every Real-Debrid call for `fair_usage_pause_s`, with one log line.
    """

    def reader(status: int, remote: RemoteError) -> AccountLimit | None:
        code = RdErrorCode.of(remote.error_code)
        if code is RdErrorCode.TOO_MANY_ACTIVE_DOWNLOADS or status == 509:
            return AccountLimit("all active download slots are in use (error 21)")
        if code is RdErrorCode.FAIR_USAGE_LIMIT:
            return AccountLimit(f"fair-usage limit reached (HTTP {status}, error 36)", fair_usage_pause_s)
        if code is RdErrorCode.HOSTER_UNAVAILABLE:
            # A 503, but about one file (dead on the hoster), not an outage: retrying cannot bring it back, and
            # counting it would let a few dead files open the breaker for every Real-Debrid call.
            return AccountLimit(f"the file is unavailable on the hoster (HTTP {status}, error 19)")
        return None

    return reader


def rd_error_code(exc: BaseException) -> RdErrorCode | None:
    """The RD error code a ServiceError carries, if any."""
    return RdErrorCode.of(exc.error_code) if isinstance(exc, ServiceError) else None


def is_infringing(exc: BaseException) -> bool:
    """RD refused the hash or link as infringing (451/35): skip it; never retry, never read it as a lost file."""
    return rd_error_code(exc) == RdErrorCode.INFRINGING_FILE or (
        isinstance(exc, ServiceError) and exc.service == SERVICE and exc.status == 451
    )


def is_disabled_endpoint(exc: BaseException) -> bool:
    return rd_error_code(exc) == RdErrorCode.DISABLED_ENDPOINT


def is_too_many_active(exc: BaseException) -> bool:
    return rd_error_code(exc) == RdErrorCode.TOO_MANY_ACTIVE_DOWNLOADS


def is_limit_exceeded(exc: BaseException) -> bool:
    return rd_error_code(exc) in LIMIT_CODES


def is_unknown_resource(exc: BaseException) -> bool:
    return isinstance(exc, NotFound) or rd_error_code(exc) == RdErrorCode.UNKNOWN_RESOURCE


class TorrentStatus(StrEnum):
    """A torrent's `status`. Values RD adds later read as UNKNOWN instead of failing the whole listing."""

    MAGNET_ERROR = "magnet_error"
    MAGNET_CONVERSION = "magnet_conversion"
    WAITING_FILES_SELECTION = "waiting_files_selection"
    QUEUED = "queued"
    DOWNLOADING = "downloading"
    DOWNLOADED = "downloaded"
    ERROR = "error"
    VIRUS = "virus"
    COMPRESSING = "compressing"
    UPLOADING = "uploading"
    DEAD = "dead"
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> TorrentStatus:
        return cls.UNKNOWN

    @property
    def uses_slot(self) -> bool:
        """Counts against the account's active-download limit."""
        return self in _SLOT

    @property
    def in_progress(self) -> bool:
        """RD is still working on it: poll again."""
        return self in _IN_PROGRESS

    @property
    def failed(self) -> bool:
        """It will not become `downloaded` by waiting (dead: links are stale; re-add)."""
        return self in _FAILED


_SLOT = frozenset({TorrentStatus.QUEUED, TorrentStatus.DOWNLOADING, TorrentStatus.COMPRESSING, TorrentStatus.UPLOADING})
_IN_PROGRESS = _SLOT | {TorrentStatus.MAGNET_CONVERSION}
_FAILED = frozenset({TorrentStatus.MAGNET_ERROR, TorrentStatus.ERROR, TorrentStatus.VIRUS, TorrentStatus.DEAD})


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Torrent(_Model):
    """An element of `GET /torrents` (no `files`; `ended`, `speed`, `seeders` only in some states)."""

    id: str
    filename: str
    hash: str
    bytes: int = Field(description="Size of the selected files.")
    host: str = ""
    split: int = 0
    progress: float = 0
    status: TorrentStatus
    added: datetime
    links: list[str] = Field(default_factory=list)
    ended: datetime | None = None
    speed: int | None = None
    seeders: int | None = None

    @field_validator("hash")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.lower()


class TorrentFile(_Model):
    """A file inside a torrent; `id` is 1-based (Torrentio's fileIdx n is RD's id n+1)."""

    id: int
    path: str
    bytes: int
    selected: bool


class TorrentInfo(Torrent):
    """`GET /torrents/info/{id}`: a torrent with its files."""

    original_filename: str = ""
    original_bytes: int = 0
    files: list[TorrentFile] = Field(default_factory=list)

    def selected_files(self) -> list[TorrentFile]:
        return [f for f in self.files if f.selected]

    def link_for(self, file_id: int) -> str | None:
        """The hoster link of one selected file: `links[i]` is the i-th selected file, or the one archive link."""
        selected = [f.id for f in self.selected_files()]
        if file_id not in selected or not self.links:
            return None
        if len(self.links) == 1:
            return self.links[0]
        index = selected.index(file_id)
        return self.links[index] if index < len(self.links) else None


class User(_Model):
    """`GET /user`."""

    id: int
    username: str
    email: str = ""
    points: int = 0
    locale: str = ""
    avatar: str = ""
    type: str
    premium: int = Field(0, description="Seconds of premium left.")
    expiration: datetime | None = None

    @property
    def is_premium(self) -> bool:
        return self.type == "premium" and self.premium > 0

    @property
    def premium_days(self) -> float:
        return self.premium / 86400


class ActiveCount(_Model):
    """`GET /torrents/activeCount`: slots in use and the account's maximum."""

    nb: int
    limit: int

    @property
    def free(self) -> int:
        return max(0, self.limit - self.nb)


class AddedTorrent(_Model):
    id: str
    uri: str = ""


class AvailableHost(_Model):
    host: str
    max_file_size: int = 0


class UnrestrictedLink(_Model):
    """`POST /unrestrict/link`: a direct download URL for one hoster link."""

    id: str
    filename: str
    mime_type: str = Field("", alias="mimeType")
    filesize: int = 0
    link: str
    host: str = ""
    chunks: int = 0
    crc: int = 0
    download: str
    streamable: int = 0


class InstantFile(_Model):
    filename: str
    filesize: int


# Per lower-case hash, the cached file-id combinations (each maps 1-based file id → file); absent means unknown.
InstantAvailability = dict[str, list[dict[int, InstantFile]]]

_TORRENTS = TypeAdapter(list[Torrent])
_HOSTS = TypeAdapter(list[AvailableHost])
_INSTANT = TypeAdapter(dict[str, dict[str, list[dict[int, InstantFile]]] | list[Any]] | list[Any])


def magnet_uri(info_hash: str, name: str | None = None) -> str:
    """`magnet:?xt=urn:btih:<hash>[&dn=<name>]`, with the name NFC-normalised as RD asks."""
    if not _HASH.match(info_hash):
        raise ValueError("an info hash is 40 hex characters")
    uri = f"magnet:?xt=urn:btih:{info_hash.lower()}"
    if name:
        uri += "&dn=" + quote(unicodedata.normalize("NFC", name), safe="")
    return uri


PREMIUM_WARN_DAYS = 7


def _premium_left(days: float) -> str:
    whole = int(days)
    text = f"{whole} day left" if whole == 1 else f"{whole} days left"
    return text + " (renew soon: without premium nothing can be added)" if days < PREMIUM_WARN_DAYS else text


class RealDebridClient(ServiceClient):
    """Real-Debrid REST 1.0 with a private API token (`Authorization: Bearer`)."""

    def __init__(
        self,
        settings: RealDebridSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        ledger: CallLedger | None = None,
    ) -> None:
        token = settings.api_key.get_secret_value()
        register(token)
        self.settings = settings
        super().__init__(
            ServiceHttp(
                SERVICE,
                settings.url,
                settings,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                transport=transport,
                ledger=ledger,
                read_error=read_rd_error,
                account_limit=rd_account_limit(settings.fair_usage_pause_s),
            )
        )
        self._instant_disabled = False

    # ----- account -----

    async def user(self) -> User:
        return await self._http.get_model("user", User, endpoint="user")

    async def active_count(self) -> ActiveCount:
        return await self._http.get_model("torrents/activeCount", ActiveCount, endpoint="torrents/activeCount")

    async def available_hosts(self) -> list[AvailableHost]:
        return await self._http.get_model("torrents/availableHosts", _HOSTS, endpoint="torrents/availableHosts")

    async def check(self) -> ServiceCheck:
        """Reachable, token valid, premium left and slots in use; raises the ServiceError that explains a failure."""
        user = await self.user()
        active = await self.active_count()
        problems: list[str] = []
        if not user.is_premium:
            problems.append("the account has no premium time left: Real-Debrid refuses to add torrents")
        return ServiceCheck(
            SERVICE,
            details={
                "username": user.username,
                "premium": _premium_left(user.premium_days) if user.is_premium else "none",
                "active slots": f"{active.nb}/{active.limit}",
            },
            problems=problems,
        )

    # ----- torrents -----

    async def iter_torrents(self, *, active_only: bool = False, page_size: int = 100) -> AsyncIterator[Torrent]:
        """Every torrent in the account (`active_only`: those Real-Debrid calls active), newest first, one page at a
        time; stop iterating to stop fetching.

        Pages are read by `offset` until an empty page, or until `X-Total-Count` is reached when the answer has it
        (a short page proves nothing: a server may hold fewer per page than asked for). Each page may take
        `listing_timeout_s`. A torrent seen twice because the list shifted between pages is yielded once.
        """
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        seen: set[str] = set()
        offset = 0
        while True:
            params: dict[str, Any] = {"offset": offset, "limit": page_size}
            if active_only:
                params["filter"] = "active"
            response = await self._http.request(
                "GET", "torrents", endpoint="torrents", params=params, timeout_s=self.settings.listing_timeout_s
            )
            # An empty account has been seen answering 204 with no body.
            page = (
                []
                if response.status_code == 204 or not response.content.strip()
                else self._http.parse(response, _TORRENTS, endpoint="torrents")
            )
            total = _total_count(response)
            for torrent in page:
                if torrent.id not in seen:
                    seen.add(torrent.id)
                    yield torrent
            offset += len(page)
            if not page or (total is not None and offset >= total):
                return

    async def torrents(self, *, active_only: bool = False, page_size: int = 100) -> list[Torrent]:
        """All torrents (following every page)."""
        return [t async for t in self.iter_torrents(active_only=active_only, page_size=page_size)]

    async def find_by_hash(self, info_hash: str, *, page_size: int = 100) -> list[Torrent]:
        """Every torrent in the account with this hash, newest first (RD allows duplicates)."""
        wanted = info_hash.lower()
        return [t async for t in self.iter_torrents(page_size=page_size) if t.hash == wanted]

    async def torrent_info(self, torrent_id: str) -> TorrentInfo:
        return await self._http.get_model(
            f"torrents/info/{_segment(torrent_id)}", TorrentInfo, endpoint="torrents/info"
        )

    async def add_magnet(self, info_hash: str, name: str | None = None) -> str:
        """Add a magnet and return the new torrent's id. Not retried once sent: a second add makes a duplicate."""
        response = await self._http.request(
            "POST",
            "torrents/addMagnet",
            endpoint="torrents/addMagnet",
            data={"magnet": magnet_uri(info_hash, name)},
            ok=(200, 201),
            idempotent=False,
        )
        return self._http.parse(response, AddedTorrent, endpoint="torrents/addMagnet").id

    async def select_files(self, torrent_id: str, files: Sequence[int] | Literal["all"]) -> bool:
        """Select files (1-based ids, or "all"); True when this call started it, False when it was already done.

        Raises RequestRejected (error 21) when all active slots are in use, which RD signals with HTTP 509; that is
        not an outage, so it is not retried here (waiting for a slot is the caller's decision).
        """
        if files == "all":
            value = "all"
        else:
            ids = list(files)
            if not ids or any(not isinstance(i, int) or i < 1 for i in ids):
                raise ValueError("file ids are positive integers (1-based)")
            value = ",".join(str(i) for i in ids)
        endpoint = "torrents/selectFiles"
        response = await self._http.request(
            "POST",
            f"torrents/selectFiles/{_segment(torrent_id)}",
            endpoint=endpoint,
            data={"files": value},
            ok=(202, 204, 509),
            idempotent=True,
        )
        if response.status_code == 509:
            remote = read_rd_error(response)
            raise RequestRejected(
                SERVICE,
                endpoint,
                redact(remote.message or "all active download slots are in use"),
                status=509,
                error=remote.error or "too_many_active_downloads",
                error_code=remote.error_code
                if remote.error_code is not None
                else RdErrorCode.TOO_MANY_ACTIVE_DOWNLOADS,
            )
        return response.status_code == 204

    async def delete(self, torrent_id: str, *, missing_ok: bool = False) -> bool:
        """Delete a torrent; True if deleted. With `missing_ok`, an unknown id (e.g. a retried delete) gives False."""
        try:
            await self._http.request(
                "DELETE", f"torrents/delete/{_segment(torrent_id)}", endpoint="torrents/delete", ok=(204,)
            )
        except NotFound:
            if missing_ok:
                return False
            raise
        return True

    async def instant_availability(self, hashes: Iterable[str]) -> InstantAvailability:
        """Cached file sets per hash, as the old endpoint told them. RD disabled it (403/37): then the answer is
        `{}`, meaning "not known to be available", and later calls skip the request to save budget."""
        wanted = [h.lower() for h in hashes]
        if not wanted or self._instant_disabled:
            return {}
        endpoint = "torrents/instantAvailability"
        try:
            response = await self._http.request("GET", f"{endpoint}/{'/'.join(wanted)}", endpoint=endpoint)
        except PermissionDenied as exc:
            if not is_disabled_endpoint(exc):
                raise
            self._instant_disabled = True
            log.info("instantAvailability is disabled by Real-Debrid; cache status needs probing")
            return {}
        raw = self._http.parse(response, _INSTANT, endpoint=endpoint)
        if not isinstance(raw, dict):
            return {}
        out: InstantAvailability = {}
        for key, value in raw.items():
            variants = value.get("rd", []) if isinstance(value, dict) else []
            if variants:
                out[key.lower()] = variants
        return out

    # ----- links -----

    async def unrestrict_link(self, link: str) -> UnrestrictedLink:
        response = await self._http.request(
            "POST", "unrestrict/link", endpoint="unrestrict/link", data={"link": link}, idempotent=True
        )
        return self._http.parse(response, UnrestrictedLink, endpoint="unrestrict/link")


def _segment(value: str) -> str:
    return quote(value, safe="")


def _total_count(response: httpx.Response) -> int | None:
    raw = response.headers.get("X-Total-Count")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


__all__ = [
    "LIMIT_CODES",
    "ActiveCount",
    "AddedTorrent",
    "AvailableHost",
    "InstantAvailability",
    "InstantFile",
    "RdErrorCode",
    "RealDebridClient",
    "Torrent",
    "TorrentFile",
    "TorrentInfo",
    "TorrentStatus",
    "UnrestrictedLink",
    "User",
    "is_disabled_endpoint",
    "is_infringing",
    "is_limit_exceeded",
    "is_too_many_active",
    "is_unknown_resource",
    "magnet_uri",
    "rd_account_limit",
    "rd_error_code",
    "read_rd_error",
]
