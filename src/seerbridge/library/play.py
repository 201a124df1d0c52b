"""Answers a strm entry's `/play/<token>` address with the Real-Debrid download URL its file has now.

A .strm file holds `<server.public_url>/play/<token>`. A player asks that address (GET or HEAD, often with a Range
header) and is redirected to a Real-Debrid download link, so the bytes, ranges included, go from Real-Debrid to the
player and never through seerbridge. One resolve: verify the token's signature → look the entry up (where it points
now, so an entry a repair or an upgrade moved is followed at once) → `GET /torrents/info/{id}` → the hoster link of
the entry's file (`links[i]` belongs to the i-th file with `selected == 1`, in `files` order; a single link when
Real-Debrid packed the selection into one archive) → `POST /unrestrict/link` → its `download` URL.

Outcomes (`PlayOutcome`):
- `PlayRedirect`: the download URL.
- `PlayNotFound`: a forged, malformed or unknown token, or an entry that no longer exists.
- `PlayUnavailable` with `gone=True`: Real-Debrid says the file is gone (info 404 unknown_ressource; status error,
  dead, virus or magnet_error; the file missing, not selected or without its link; unrestrict 503
  hoster_unavailable, 404, or 451 infringing_file). `on_failure(entry id, reason)` has been called, so that the
  torrent gets repaired.
- `PlayUnavailable` with `gone=False`: Real-Debrid cannot say now (down, rate-limited, paused, an account limit, the
  torrent still downloading, an answer we cannot read). Nothing is reported: a repair would not help.

What it costs Real-Debrid. A player opens one file with several requests, on several connections at once (a HEAD,
then ranged GETs, again at every seek), and Jellyfin probes each new entry. So:
- A download URL is kept per (torrent, file) for `link_ttl_s` on seerbridge's clock: further requests for that file
  cost no call. The lookup still runs every time (it is local), so a moved entry never gets a stale torrent's link.
- Torrent info is kept for `info_ttl_s` (a minute): a scan that probes a season's episodes one after another makes
  one info call for the pack, not one per episode. A stale answer cannot hide a lost torrent: the unrestrict that
  follows fails for it (hoster_unavailable or 404), which is reported like any other loss.
- A file found gone is remembered for `failure_ttl_s` (the route's Retry-After): a player retrying costs neither
  calls nor further reports; a repair that moves the entry is followed at once, since the lookup names another
  torrent.
- Concurrent resolves of one entry share one task (lookup and Real-Debrid calls), so they cost one resolve and
  report a loss once. Each waiter is shielded from the others: one player hanging up does not cancel the rest.

Download URLs are bearer links and a token's signature is the credential for its entry: neither is ever logged (logs
name the entry, the torrent and the file id), and a `PlayRedirect`'s repr leaves its URL out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import urlsplit

import structlog

from seerbridge import clock
from seerbridge.errors import BadResponse, NotFound, ServiceError
from seerbridge.library.tokens import verify
from seerbridge.redact import redact
from seerbridge.services.realdebrid import RdErrorCode, RealDebridClient, TorrentInfo, TorrentStatus, rd_error_code

log = structlog.get_logger("seerbridge.play")

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class PlayTarget:
    """Where a library entry points now: its torrent's Real-Debrid id and the 1-based RD id of the entry's file."""

    entry_id: int
    rd_id: str
    file_id: int


PlayLookup = Callable[[int], Awaitable[PlayTarget | None]]
"""lookup(entry id) -> where the entry points now; None when there is no such entry."""
PlayFailure = Callable[[int, str], Awaitable[None]]
"""on_failure(entry id, reason): Real-Debrid says the entry's file is gone; the caller schedules a repair."""


@dataclass(frozen=True)
class PlayRedirect:
    """Send the player to `url`, a fresh Real-Debrid download link."""

    url: str = field(repr=False)  # a bearer link: kept out of any repr that could reach a log


@dataclass(frozen=True)
class PlayNotFound:
    """No such play address: a forged or unknown token, or an entry that no longer exists."""

    reason: str


@dataclass(frozen=True)
class PlayUnavailable:
    """The file cannot be played now. `gone`: Real-Debrid says it is lost, and `on_failure` was called."""

    reason: str
    gone: bool


PlayOutcome = PlayRedirect | PlayNotFound | PlayUnavailable

# Real-Debrid error codes that say the file (or its torrent) is gone, wherever they come from.
_GONE_CODES = frozenset(
    {
        RdErrorCode.UNKNOWN_RESOURCE,
        RdErrorCode.HOSTER_UNAVAILABLE,
        RdErrorCode.FILE_UNAVAILABLE,
        RdErrorCode.INFRINGING_FILE,
    }
)


class _Gone(Exception):
    """Real-Debrid says the entry's file is gone; the message is the reason reported to `on_failure`."""


class _NotReady(Exception):
    """The torrent exists but cannot serve its files yet (still downloading, or a status we do not know)."""


class PlayResolver:
    """Turns play tokens into Real-Debrid download URLs, with the caches and sharing the module docstring explains."""

    def __init__(
        self,
        rd: RealDebridClient,
        lookup: PlayLookup,
        on_failure: PlayFailure,
        secret: str,
        *,
        link_ttl_s: float = 3600,
        info_ttl_s: float = 60,
        failure_ttl_s: float = 60,
    ) -> None:
        if min(link_ttl_s, info_ttl_s, failure_ttl_s) < 0:
            raise ValueError("cache lifetimes are seconds >= 0 (0: not kept)")
        self._rd = rd
        self._lookup = lookup
        self._on_failure = on_failure
        self._secret = secret
        self._link_ttl = timedelta(seconds=link_ttl_s)
        self._info_ttl = timedelta(seconds=info_ttl_s)
        self._failure_ttl = timedelta(seconds=failure_ttl_s)
        self._links: dict[tuple[str, int], tuple[str, datetime]] = {}  # (rd id, file id) → (download URL, until)
        self._infos: dict[str, tuple[TorrentInfo, datetime]] = {}  # rd id → (info, until)
        self._gone: dict[tuple[str, int], tuple[str, datetime]] = {}  # (rd id, file id) → (reason, until)
        self._running: dict[int, asyncio.Task[PlayOutcome]] = {}  # entry id → the resolve its requests share

    async def resolve(self, token: str) -> PlayOutcome:
        """Where a play token's file can be fetched now (see the module docstring for the outcomes)."""
        entry_id = verify(token, self._secret)
        if entry_id is None:
            log.info("play refused: forged or malformed token")  # the token itself stays out of the log
            return PlayNotFound("unknown play address")
        task = self._running.get(entry_id)
        if task is None:
            task = asyncio.create_task(self._resolve_entry(entry_id), name=f"play-{entry_id}")
            self._running[entry_id] = task
            task.add_done_callback(self._finished(entry_id))
        # Shielded: a player that hangs up cancels its own wait, not the resolve other requests are sharing.
        return await asyncio.shield(task)

    def _finished(self, entry_id: int) -> Callable[[asyncio.Task[PlayOutcome]], None]:
        def done(task: asyncio.Task[PlayOutcome]) -> None:
            if self._running.get(entry_id) is task:
                del self._running[entry_id]
            # Read the exception here, so one raised after every waiter hung up is logged rather than lost.
            if not task.cancelled() and (exc := task.exception()) is not None:
                log.error("play resolve failed", entry_id=entry_id, error=redact(repr(exc)))

        return done

    async def _resolve_entry(self, entry_id: int) -> PlayOutcome:
        target = await self._lookup(entry_id)
        if target is None:
            log.info("play refused: no such library entry", entry_id=entry_id)
            return PlayNotFound(f"no library entry {entry_id}")
        key = (target.rd_id, target.file_id)
        now = clock.now()
        link = _fresh(self._links, key, now)
        if link is not None:
            log.debug("play", entry_id=entry_id, rd_id=target.rd_id, file_id=target.file_id, cached=True)
            return PlayRedirect(link)
        lost = _fresh(self._gone, key, now)
        if lost is not None:
            return PlayUnavailable(lost, gone=True)
        try:
            url = await self._download_url(target)
        except _Gone as exc:
            return await self._report_gone(target, str(exc))
        except _NotReady as exc:
            log.info("play unavailable: not ready", entry_id=entry_id, rd_id=target.rd_id, reason=str(exc))
            return PlayUnavailable(str(exc), gone=False)
        except ServiceError as exc:
            reason = _gone_reason(exc, target)
            if reason is not None:
                return await self._report_gone(target, reason)
            log.warning(
                "play unavailable: Real-Debrid cannot answer now",
                entry_id=entry_id,
                rd_id=target.rd_id,
                error=redact(str(exc)),
            )
            return PlayUnavailable(f"Real-Debrid cannot answer now ({_one_line(redact(str(exc)))})", gone=False)
        _store(self._links, key, url, clock.now() + self._link_ttl)
        log.info("play", entry_id=entry_id, rd_id=target.rd_id, file_id=target.file_id, cached=False)
        return PlayRedirect(url)

    async def _download_url(self, target: PlayTarget) -> str:
        """Info → the file's hoster link → unrestrict; raises _Gone, _NotReady or the client's ServiceError."""
        now = clock.now()
        info = _fresh(self._infos, target.rd_id, now)
        if info is None:
            info = await self._rd.torrent_info(target.rd_id)
            _store(self._infos, target.rd_id, info, clock.now() + self._info_ttl)
        link = _hoster_link(info, target)
        unrestricted = await self._rd.unrestrict_link(link)
        url = unrestricted.download
        parts = urlsplit(url)
        # It becomes a Location header: anything but a plain http(s) URL is an answer we cannot use, not a lost file.
        if parts.scheme not in ("http", "https") or not parts.netloc or not url.isprintable() or " " in url:
            raise BadResponse("realdebrid", "unrestrict/link", "the download link is not an http(s) URL")
        return url

    async def _report_gone(self, target: PlayTarget, reason: str) -> PlayUnavailable:
        key = (target.rd_id, target.file_id)
        _store(self._gone, key, reason, clock.now() + self._failure_ttl)
        # What was kept about this torrent may be as lost as this file: the next request for any of its files asks
        # Real-Debrid again instead of handing out a dead link.
        self._infos.pop(target.rd_id, None)
        for cached in [k for k in self._links if k[0] == target.rd_id]:
            del self._links[cached]
        log.warning(
            "play unavailable: the file is gone from Real-Debrid; reporting it for repair",
            entry_id=target.entry_id,
            rd_id=target.rd_id,
            file_id=target.file_id,
            reason=reason,
        )
        try:
            await self._on_failure(target.entry_id, reason)
        except Exception as exc:  # the player still gets its answer; the periodic repair check is the safety net
            log.error("play: reporting the lost file failed", entry_id=target.entry_id, error=redact(repr(exc)))
        return PlayUnavailable(reason, gone=True)


def _hoster_link(info: TorrentInfo, target: PlayTarget) -> str:
    """The hoster link of the target's file; raises _Gone when the torrent cannot serve it, _NotReady when not yet."""
    where = f"file {target.file_id} of torrent {info.id}"
    if info.status.failed:
        raise _Gone(f"torrent {info.id} has status {info.status.value} on Real-Debrid")
    if info.status.in_progress or info.status is TorrentStatus.UNKNOWN:
        raise _NotReady(f"torrent {info.id} is not ready on Real-Debrid (status {info.status.value})")
    if not any(f.id == target.file_id for f in info.files):
        raise _Gone(f"{where} does not exist")
    selected = [f.id for f in info.files if f.selected]
    if target.file_id not in selected:
        raise _Gone(f"{where} is not selected")
    if len(info.links) == 1:  # Real-Debrid packed the selection into one archive
        return info.links[0]
    if len(info.links) != len(selected):
        # links[i] ↔ the i-th selected file holds only when the counts match; guessing could play another episode.
        raise _Gone(f"{where} has no link ({len(info.links)} links for {len(selected)} selected files)")
    return info.links[selected.index(target.file_id)]


def _gone_reason(exc: ServiceError, target: PlayTarget) -> str | None:
    """Why a refusal means the file is gone, or None when it says nothing about the file (an outage, a limit, our
    token). A 404 counts only with Real-Debrid's own error body: a bare one (a proxy, a wrong URL) proves nothing,
    and reading it as a loss would report every entry played for repair."""
    code = rd_error_code(exc)
    if code in _GONE_CODES or (isinstance(exc, NotFound) and exc.error) or exc.status == 451:
        said = " ".join(str(part) for part in (exc.status, exc.error) if part is not None)
        return f"file {target.file_id} of torrent {target.rd_id}: Real-Debrid {exc.endpoint} answered {said}"
    return None


def _fresh(cache: dict[K, tuple[V, datetime]], key: K, now: datetime) -> V | None:
    held = cache.get(key)
    if held is None:
        return None
    if now < held[1]:
        return held[0]
    del cache[key]
    return None


def _store(cache: dict[K, tuple[V, datetime]], key: K, value: V, until: datetime) -> None:
    # Entries otherwise stay until asked for again; sweeping the expired ones on each store keeps the dict to what
    # was resolved within one lifetime.
    now = clock.now()
    for old in [k for k, (_, expiry) in cache.items() if expiry <= now]:
        del cache[old]
    if until > now:
        cache[key] = (value, until)


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "PlayFailure",
    "PlayLookup",
    "PlayNotFound",
    "PlayOutcome",
    "PlayRedirect",
    "PlayResolver",
    "PlayTarget",
    "PlayUnavailable",
]
