"""TorBox client: the authoritative cache check, adds under TorBox's create limits, listing, links, delete, account.

Thin like the Real-Debrid client: one logical call per method through `ServiceHttp`, answers read into models
(`torbox_models`), refusals into typed errors (`torbox_errors`). Facts it encodes (shared/api/torbox.md):
every answer is `{success, error, detail, data}` and `success` decides (a failure can carry `error: null`, and a
200 can be a failure); 4xx answers are read here, not by `ServiceHttp`, so the typed error can use `data`
(ACTIVE_LIMIT's numbers, a duplicate's id), while 408/429/5xx stay with it (retries, pauses, breaker); error
bodies are not always JSON. `checkcached` POSTs at most 500 hashes; an absent hash is uncached. `createtorrent`
is never sent twice once it may have reached TorBox, and spends the create budget (60 an hour, 10 a minute at
TorBox) before it is sent. `requestdl` takes the key as the `token` query parameter: the key is registered for
redaction, which masks it in httpx's request log, our errors and retry lines (no URL is logged anywhere else).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import structlog
from pydantic import TypeAdapter, ValidationError

from seerbridge import clock
from seerbridge.config import TorBoxSettings
from seerbridge.errors import BadResponse, NotFound, RateLimited, RequestRejected
from seerbridge.redact import redact, register
from seerbridge.services.base import ServiceClient
from seerbridge.services.budget import Clock, Sleep
from seerbridge.services.calls import CallLedger
from seerbridge.services.health import ServiceCheck
from seerbridge.services.http import ServiceHttp
from seerbridge.services.torbox_errors import (
    LIMIT_CODES,
    SERVICE,
    NotCached,
    TorBoxErrorCode,
    read_body,
    read_torbox_error,
    torbox_account_limit,
    torbox_error,
)
from seerbridge.services.torbox_models import CachedTorrent, CreatedTorrent, Envelope, TorBoxTorrent, TorBoxUser

log = structlog.get_logger("seerbridge.torbox")

T = TypeVar("T")

CHECK_BATCH = 500
"""Hashes per `checkcached` POST: StremThru's cap; TorBox's own is undocumented (unverified)."""
MAX_PAGE_SIZE = 1000
"""`mylist`'s default `limit`; a larger one may be capped by TorBox, and a capped page would end the listing."""
CREATE = "torrents/createtorrent"
MYLIST = "torrents/mylist"
# Statuses read here from the envelope; the rest (408, 425, 429, 5xx, 3xx) are ServiceHttp's to retry or map.
_ANSWERED = tuple(range(200, 300)) + tuple(s for s in range(400, 500) if s not in {408, 425, 429})
_TORRENTS = TypeAdapter(list[TorBoxTorrent])


def _flag(value: bool) -> str:
    """TorBox wants lowercase `true`/`false` (a capitalised `True` was suspected of being misread)."""
    return "true" if value else "false"


class CreateBudget:
    """TorBox's create limit, kept on our side: at most `per_min` adds in any `60 + margin_s` seconds and `per_hour`
    in any `3600 + margin_s` seconds (the margin covers the trip to TorBox, which counts on arrival).

    Separate from the per-minute pacer (a create also takes a pacer slot) and unlike it bursty: adds may go out
    back to back until a window is full, because a pacer's even spacing at 55 an hour would hold each add a minute.
    `take` reserves the earliest time both windows allow and waits for it, or refuses with `RateLimited`
    (`error="create_budget"`, `retry_after`) when that is further away than the caller may wait. A reservation is
    spent even if the call then fails: TorBox may have counted it. The count lives in memory, so after a restart
    TorBox's own 429 is what stops an excess (and `hold` then closes the budget for a while).
    Why not `budget.Pacer` (its hard window is this rule): its no-burst spacing cannot be turned off, and it waits
    for a slot however long that takes.
    """

    def __init__(
        self,
        *,
        per_min: int,
        per_hour: int,
        margin_s: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if per_min < 1 or per_hour < 1:
            raise ValueError("a create budget allows at least one add per minute and per hour")
        self.per_min = per_min
        self.per_hour = per_hour
        self.margin_s = margin_s
        self._clock = clock
        self._sleep = sleep
        self._granted: deque[float] = deque(maxlen=max(per_min, per_hour))  # ascending; may hold future times
        self._held_until = float("-inf")

    def wait_s(self) -> float:
        """Seconds until an add could go out (0 when one may go now)."""
        now = self._clock()
        return max(0.0, self._earliest(now) - now)

    def used(self, window_s: float) -> int:
        """Adds granted (or reserved) in the last `window_s` seconds."""
        since = self._clock() - window_s
        return sum(1 for t in self._granted if t > since)

    def hold(self, seconds: float) -> None:
        """No add for `seconds` (extends, never shortens, a hold in force): TorBox said 429 to an add."""
        self._held_until = max(self._held_until, self._clock() + max(0.0, seconds))

    async def take(self, endpoint: str, *, max_wait_s: float) -> None:
        """Reserve the next add and wait for its time; raise RateLimited if that is more than `max_wait_s` away."""
        now = self._clock()
        at = self._earliest(now)
        wait = at - now
        if wait > max_wait_s:
            raise RateLimited(
                SERVICE,
                endpoint,
                f"create budget spent: {self.per_min} a minute, {self.per_hour} an hour "
                "(torbox.creates_per_min, torbox.creates_per_hour)",
                error="create_budget",
                retry_after=round(wait, 1),
            )
        # Reserved before waiting (no await in between), so concurrent callers line up behind each other.
        self._granted.append(at)
        if wait > 0:
            log.info("add waits for the create budget", service=SERVICE, wait_s=round(wait, 1))
            await self._sleep(wait)

    def _earliest(self, now: float) -> float:
        earliest = max(now, self._held_until)
        granted = self._granted
        if len(granted) >= self.per_min:
            earliest = max(earliest, granted[-self.per_min] + 60.0 + self.margin_s)
        if len(granted) >= self.per_hour:
            earliest = max(earliest, granted[-self.per_hour] + 3600.0 + self.margin_s)
        return earliest


class TorBoxClient(ServiceClient):
    """TorBox API v1 with an API key (`Authorization: Bearer`; `requestdl` takes it as `token`)."""

    def __init__(
        self,
        settings: TorBoxSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        ledger: CallLedger | None = None,
        create_budget: CreateBudget | None = None,
    ) -> None:
        key = settings.api_key.get_secret_value()
        register(key)
        self.settings = settings
        self._key = key
        super().__init__(
            ServiceHttp(
                SERVICE,
                settings.url,
                settings,
                headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
                transport=transport,
                ledger=ledger,
                read_error=read_torbox_error,
                auth_failure_statuses=frozenset({401, 403}),
                account_limit=torbox_account_limit,
            )
        )
        self.creates = create_budget or CreateBudget(
            per_min=settings.creates_per_min, per_hour=settings.creates_per_hour, margin_s=settings.rate_margin_s
        )

    # ----- cache -----

    async def check_cached(self, hashes: Sequence[str]) -> dict[str, CachedTorrent]:
        """The cached ones among `hashes`, by lower-case hash, with their files; an uncached hash is absent.

        One POST per 500 hashes. TorBox keeps its answer for an hour, so a hash cached minutes ago may be absent.
        An entry with size 0 is left out (Decypharr requires size > 0), and so is one we cannot read: both mean
        "not known to be cached", the safe side.
        """
        wanted = list(dict.fromkeys(h.strip().lower() for h in hashes if h.strip()))
        endpoint = "torrents/checkcached"
        found: dict[str, CachedTorrent] = {}
        for start in range(0, len(wanted), CHECK_BATCH):
            batch = wanted[start : start + CHECK_BATCH]
            envelope = await self._call(
                "POST",
                endpoint,
                endpoint=endpoint,
                params={"format": "list", "list_files": "true"},
                json_body={"hashes": batch},
                idempotent=True,
            )
            asked = set(batch)
            for entry in _cached_entries(envelope.data):
                if entry.hash in asked and entry.size > 0:
                    found[entry.hash] = entry
        return found

    # ----- torrents -----

    async def create_torrent(self, magnet: str, *, only_if_cached: bool, name: str | None = None) -> CreatedTorrent:
        """Add a magnet (not seeded, never zipped). Spends the create budget first (may wait; raises RateLimited
        with `error="create_budget"` when no add is free within the retry budget). Sent again only when TorBox
        surely did not act (connection refused, 429): after a timeout the add may exist, so look in `mylist`
        (`find_by_hash`) before adding again.

        Raises NotCached when `only_if_cached` and TorBox refuses for that reason, DuplicateItem, LimitExceeded.
        """
        if not magnet.startswith("magnet:?"):
            raise ValueError("a magnet URI starts with 'magnet:?'")
        self._http.refuse_if_down(CREATE)
        await self.creates.take(CREATE, max_wait_s=self.settings.retry_timeout_s)
        form = {
            "magnet": magnet,
            "seed": "3",  # do not seed: a bridge only reads
            "allow_zip": "false",  # a zipped torrent has no per-file links
            "add_only_if_cached": _flag(only_if_cached),
        }
        if name:
            form["name"] = name
        try:
            envelope = await self._call("POST", CREATE, endpoint=CREATE, data=form, idempotent=False)
        except RateLimited as exc:
            if exc.status == 429:  # TorBox counted more adds than we did (another client, or a restart)
                self.creates.hold(exc.retry_after if exc.retry_after is not None else 60.0)
            raise
        except RequestRejected as exc:
            # How TorBox refuses an uncached hash under add_only_if_cached is unverified (a code
            # DOWNLOAD_NOT_CACHED, mapped in torbox_errors, or no answer at all, which stays a ServiceTimeout):
            # a plain refusal whose message speaks of the cache is read as NotCached too.
            if only_if_cached and type(exc) is RequestRejected and "cache" in exc.message.lower():
                raise NotCached(SERVICE, CREATE, exc.message, status=exc.status, error=exc.error) from None
            raise
        data = envelope.data if isinstance(envelope.data, dict) else {}
        return self._read({**data, "detail": envelope.detail}, CreatedTorrent, CREATE)

    async def torrents(self, *, bypass_cache: bool = False, page_size: int = MAX_PAGE_SIZE) -> list[TorBoxTorrent]:
        """Every torrent in the account, page by page. Without `bypass_cache` TorBox may answer from a list up to
        10 minutes old. A 404 means an empty account (StremThru reads it so), unless it says ENDPOINT_NOT_FOUND."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        seen: dict[int, TorBoxTorrent] = {}
        offset = 0
        while True:
            params = {"bypass_cache": _flag(bypass_cache), "offset": offset, "limit": page_size}
            try:
                envelope = await self._call("GET", MYLIST, endpoint=MYLIST, params=params)
            except NotFound as exc:
                if exc.error == TorBoxErrorCode.ENDPOINT_NOT_FOUND:
                    raise
                break
            raw = envelope.data if isinstance(envelope.data, list) else []
            # TorBox returns one item beyond `limit` (StremThru trims it); the next page starts with it.
            page = self._read(raw[:page_size], _TORRENTS, MYLIST)
            for torrent in page:
                seen.setdefault(torrent.id, torrent)
            if len(page) < page_size:
                return list(seen.values())
            offset += page_size
        return list(seen.values())

    async def torrent(self, torrent_id: int, *, bypass_cache: bool = True) -> TorBoxTorrent:
        """One torrent (fresh by default: right after an add the cached list does not hold it yet); NotFound if
        the account has no such id."""
        params = {"id": torrent_id, "bypass_cache": _flag(bypass_cache)}
        envelope = await self._call("GET", MYLIST, endpoint=MYLIST, params=params)
        data = envelope.data
        if isinstance(data, list):  # the doc says an object for `id=`; a list holding it reads the same
            data = next((d for d in data if isinstance(d, dict) and d.get("id") == torrent_id), None)
        if not data:
            raise NotFound(SERVICE, MYLIST, f"no torrent {torrent_id} in the account", status=200)
        return self._read(data, TorBoxTorrent, MYLIST)

    async def find_by_hash(self, info_hash: str) -> list[TorBoxTorrent]:
        """The account's torrents with this hash (fresh list): what to look at after an add that timed out."""
        wanted = info_hash.strip().lower()
        return [t for t in await self.torrents(bypass_cache=True) if t.hash == wanted]

    async def download_link(self, torrent_id: int, file_id: int) -> str:
        """A CDN URL for one file (`files[].id`), open for an hour to start a download: resolve once and reuse it
        (every call counts against the limit)."""
        endpoint = "torrents/requestdl"
        params = {
            "token": self._key,
            "torrent_id": torrent_id,
            "file_id": file_id,
            "zip_link": "false",
            "redirect": "false",
        }
        envelope = await self._call("GET", endpoint, endpoint=endpoint, params=params)
        url = envelope.data
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise BadResponse(SERVICE, endpoint, "the answer holds no link")
        return url

    async def delete(self, torrent_id: int) -> None:
        """Remove a torrent from the account; NotFound (ITEM_NOT_FOUND) when it is not there. Retried like a read
        (deleting twice is harmless), so NotFound after a timeout can also mean the first attempt deleted it."""
        endpoint = "torrents/controltorrent"
        await self._call(
            "POST",
            endpoint,
            endpoint=endpoint,
            json_body={"torrent_id": torrent_id, "operation": "delete", "all": False},
            idempotent=True,
        )

    # ----- account -----

    async def user(self) -> TorBoxUser:
        envelope = await self._call("GET", "user/me", endpoint="user/me")
        return self._read(envelope.data, TorBoxUser, "user/me")

    async def check(self) -> ServiceCheck:
        """Reachable, key valid (a bad one raises AuthenticationError), plan and premium time."""
        user = await self.user()
        now = clock.now()
        expires = _utc(user.premium_expires_at)
        problems: list[str] = []
        details = {"plan": user.plan_name}
        if expires is not None:
            details["premium"] = _time_left(expires, now)
        if user.plan == 0:
            problems.append("the account is on the free plan (plan 0), which StremThru treats as expired")
        elif expires is not None and expires <= now:
            problems.append("the subscription has ended: TorBox serves only the free plan")
        cooldown = _utc(user.cooldown_until)
        if cooldown is not None and cooldown > now:
            details["cooldown until"] = cooldown.isoformat(timespec="minutes")
            problems.append("the account is in a cooldown: TorBox refuses new downloads until it ends")
        return ServiceCheck(SERVICE, details=details, problems=problems)

    # ----- plumbing -----

    async def _call(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
    ) -> Envelope:
        """One call, its envelope returned only when `success` is true; every refusal raised as a typed error."""
        try:
            response = await self._http.request(
                method,
                path,
                endpoint=endpoint,
                params=params,
                data=data,
                json_body=json_body,
                ok=_ANSWERED,
                idempotent=idempotent,
            )
        except RequestRejected as exc:
            if TorBoxErrorCode.of(exc.error) in LIMIT_CODES:  # a limit code on a 429/5xx (torbox_account_limit)
                raise torbox_error(endpoint, status=exc.status, code=exc.error, detail=exc.message) from None
            raise
        if response.status_code >= 400:
            body, text = read_body(response)
            code = body.get("error") if body is not None else None
            raise torbox_error(
                endpoint,
                status=response.status_code,
                code=str(code) if code else None,
                detail=text,
                data=body.get("data") if body is not None else None,
            )
        envelope = self._http.parse(response, Envelope, endpoint=endpoint)
        if not envelope.success:
            raise torbox_error(
                endpoint, status=response.status_code, code=envelope.error, detail=envelope.detail, data=envelope.data
            )
        return envelope

    def _read(self, data: Any, model: type[T] | TypeAdapter[T], endpoint: str) -> T:
        adapter: TypeAdapter[T] = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
        try:
            return adapter.validate_python(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "data"
            raise BadResponse(SERVICE, endpoint, redact(f"unexpected data at {where}: {first['msg']}")) from None


def _cached_entries(data: Any) -> list[CachedTorrent]:
    """`checkcached`'s data in list form, or object form (hash → entry); null, {} and [] hold nothing."""
    if isinstance(data, dict):
        items: list[Any] = [{**v, "hash": v.get("hash") or k} for k, v in data.items() if isinstance(v, dict)]
    elif isinstance(data, list):
        items = data
    else:
        items = []
    entries: list[CachedTorrent] = []
    for item in items:
        try:
            entries.append(CachedTorrent.model_validate(item))
        except ValidationError:
            log.warning("unreadable checkcached entry read as not cached", service=SERVICE)
    return entries


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


PREMIUM_WARN_DAYS = 7


def _time_left(expires: datetime, now: datetime) -> str:
    days = (expires - now).total_seconds() / 86400
    if days <= 0:
        return "ended " + expires.date().isoformat()
    whole = int(days)
    text = f"{whole} day left" if whole == 1 else f"{whole} days left"
    return text + " (renew soon)" if days < PREMIUM_WARN_DAYS else text


__all__ = ["CHECK_BATCH", "MAX_PAGE_SIZE", "CreateBudget", "TorBoxClient"]
