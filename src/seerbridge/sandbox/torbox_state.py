"""TorBox emulator state: the account, what TorBox has cached, its answer and list caches, and its rate limits.

Routes call the methods that raise `TorBoxFailure`; tests use the attributes and helpers (flip a hash's cache state,
count creates, read issued links). Rules where the contract (`shared/api/torbox.md`) is silent are chosen here:

- Cached on TorBox: a hash in `cached` (tests add to it; a download that finished in the account joins it, as TorBox
  keeps what its users downloaded); else a scenario release with `rd == "cached"` whose name (or hash) is not in
  `uncached`. Unknown hashes are uncached.
- `checkcached` remembers its answer per key and hash for `answer_memory_s` (3600) virtual seconds, so a hash that
  became cached after it was checked reads uncached until then, and the other way round.
- `mylist` without `bypass_cache` answers from a snapshot of the list taken when the last one was `list_refresh_s`
  (300) virtual seconds old (the doc says 600 s, users saw 1-5 minutes). Fresh reads leave the snapshot alone.
- Limits count admitted calls per key in real (monotonic) seconds, as the other emulators and the program's pacer
  do: 300 a minute per endpoint, and createtorrent 10 a minute and 60 an hour instead. Refused calls do not count
  (unverified). Every create that is admitted counts, whatever it answers (a cached add too: the note assumes so).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import GB, FileSpec, Scenario
from seerbridge.sandbox.torbox_torrent import (
    SERVER,
    TbFile,
    TorBoxFailure,
    TorBoxTorrent,
    parse_magnet,
    torbox_files,
)

TORBOX_KEY = "sandbox-torbox-key-0123456789abcdef0123"
ENDPOINT_LIMIT = ((300, 60.0),)
CREATE_LIMITS = ((10, 60.0), (60, 3600.0))
LINK_LIFETIME = timedelta(hours=1)
OPERATIONS = frozenset({"delete", "reannounce", "resume", "pause", "stop_seeding"})


class Limiter:
    """Admits a call unless some (limit, window_s) rule already holds `limit` admitted calls in its window."""

    def __init__(self, rules: tuple[tuple[int, float], ...], now: Callable[[], float]) -> None:
        self.rules = rules
        self.now = now
        self.times: collections.deque[float] = collections.deque()

    def hit(self) -> bool:
        t = self.now()
        longest = max(window for _, window in self.rules)
        while self.times and t - self.times[0] >= longest:
            self.times.popleft()
        for limit, window in self.rules:
            if sum(1 for x in self.times if t - x < window) >= limit:
                return False
        self.times.append(t)
        return True


@dataclass(frozen=True)
class CacheEntry:
    """What TorBox knows of a hash it has cached."""

    hash: str
    name: str
    size: int
    files: list[TbFile]


@dataclass(frozen=True)
class IssuedLink:
    """One `requestdl` answer: the CDN URL and until when it can start a download."""

    url: str
    torrent_id: int
    file_id: int | None  # None: the whole torrent as a zip
    issued_at: datetime
    expires_at: datetime


class TorBoxState:
    """The emulated account."""

    def __init__(
        self, scenario: Scenario, clock: VirtualClock, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self.monotonic = monotonic
        # Scenario keys may name TorBox later; until then the constant is the account's key.
        self.key = {str(k): v for k, v in scenario.keys.items()}.get("torbox", TORBOX_KEY)
        self.auth_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"torbox:{self.key}"))
        self.plan = 2  # 0 free, 1 essential, 2 pro, 3 standard
        self.active_limit = 10  # Decypharr's figure for pro (unverified)
        self.created = clock.now() - timedelta(days=200)
        self.premium_until = clock.now() + timedelta(days=90)
        self.cached: set[str] = set()  # extra hashes TorBox has cached
        self.uncached: set[str] = set()  # release names (or hashes) TorBox does not have, whatever the scenario says
        self.torrents: dict[int, TorBoxTorrent] = {}
        self.create_times: list[float] = []  # monotonic time of every admitted createtorrent
        self.refused: collections.Counter[str] = collections.Counter()  # 429s by endpoint path
        self.links: list[IssuedLink] = []
        self.operations: list[tuple[str, int | None]] = []  # controltorrent calls carried out
        self.answer_memory_s = 3600.0
        self.list_refresh_s = 300.0
        self.meta_s = 5.0
        self.default_speed = 20 * 1024**2
        # `add_only_if_cached` on an uncached hash: None answers DOWNLOAD_NOT_CACHED at once; a number of real
        # seconds hangs that long first (decypharr PR#370 saw TorBox not answer at all).
        self.only_if_cached_hang_s: float | None = None
        self._answers: dict[tuple[str, str], tuple[datetime, bool]] = {}
        self._snapshot: tuple[datetime, list[TorBoxTorrent]] | None = None
        self._limiters: dict[tuple[str, str], Limiter] = {}
        self._ids = itertools.count(1000)
        self._rng = random.Random(f"torbox:{scenario.name}")

    def now(self) -> datetime:
        return self.clock.now()

    # ----- auth and limits -----

    def authorize(self, token: str | None) -> str:
        if not token:
            raise TorBoxFailure(403, "NO_AUTH", "No authentication found. Send your API key as a Bearer token.")
        if token != self.key:
            raise TorBoxFailure(403, "BAD_TOKEN", "The API token is invalid.")
        return token

    def admit(self, key: str, endpoint: str) -> None:
        """Count one call to `endpoint`; TorBoxFailure(429) when a limit is already reached."""
        creates = endpoint.endswith("/torrents/createtorrent")
        limiter = self._limiters.get((key, endpoint))
        if limiter is None:
            limiter = Limiter(CREATE_LIMITS if creates else ENDPOINT_LIMIT, self.monotonic)
            self._limiters[(key, endpoint)] = limiter
        if not limiter.hit():
            self.refused[endpoint] += 1
            raise TorBoxFailure(429, None, "You are being rate limited. Please slow down your requests.")
        if creates:
            self.create_times.append(limiter.times[-1])

    def max_creates_in(self, window_s: float) -> int:
        """The most admitted creates in any `window_s`-second window: tests assert a client kept the budget."""
        best, lo = 0, 0
        times = self.create_times
        for hi, t in enumerate(times):
            while t - times[lo] >= window_s:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    # ----- the cache -----

    def mark_cached(self, info_hash: str) -> None:
        self.cached.add(info_hash.lower())
        self.uncached.discard(info_hash.lower())

    def mark_uncached(self, name_or_hash: str) -> None:
        self.uncached.add(name_or_hash)
        self.cached.discard(name_or_hash.lower())

    def is_cached(self, info_hash: str) -> bool:
        info_hash = info_hash.lower()
        now = self.now()
        self.cached.update(t.hash for t in self.torrents.values() if t.finished_at() <= now)
        if info_hash in self.cached:
            return True
        release = self.scenario.release_by_hash(info_hash)
        if release is None or release.rd != "cached":
            return False
        return release.name not in self.uncached and info_hash not in self.uncached

    def entry(self, info_hash: str, magnet_name: str | None = None) -> CacheEntry:
        """Name, size and files of a hash: the scenario's release, or one file named after the magnet."""
        info_hash = info_hash.lower()
        release = self.scenario.release_by_hash(info_hash)
        if release is not None:
            media = self.scenario.media_by_imdb(release.imdb_id)
            specs = release.file_list(media.title if media else None)
            return CacheEntry(info_hash, release.name, release.size, torbox_files(release.name, specs))
        name = magnet_name or info_hash
        return CacheEntry(info_hash, name, GB, torbox_files(name, [FileSpec(path=f"{name}.mkv", size=GB)]))

    def check_cached(self, key: str, hashes: list[str]) -> list[CacheEntry]:
        """The cached ones among `hashes` (each once, in the order asked), as this key's remembered answers say."""
        now = self.now()
        out: list[CacheEntry] = []
        seen: set[str] = set()
        for h in (h.strip().lower() for h in hashes):
            if not h or h in seen:
                continue
            seen.add(h)
            remembered = self._answers.get((key, h))
            if remembered is None or (now - remembered[0]).total_seconds() >= self.answer_memory_s:
                remembered = (now, self.is_cached(h))
                self._answers[(key, h)] = remembered
            if remembered[1]:
                out.append(self.entry(h))
        return out

    def forget_answers(self) -> None:
        self._answers.clear()

    # ----- torrents -----

    def torrent_by_hash(self, info_hash: str) -> TorBoxTorrent | None:
        info_hash = info_hash.lower()
        return next((t for t in self.torrents.values() if t.hash == info_hash), None)

    def active_count(self) -> int:
        now = self.now()
        return sum(1 for t in self.torrents.values() if not t.progress(now).finished)

    async def create(
        self, magnet: str, *, seed: int, allow_zip: bool, only_if_cached: bool, name: str | None
    ) -> TorBoxTorrent:
        info_hash, dn = parse_magnet(magnet)
        if self.torrent_by_hash(info_hash) is not None:
            raise TorBoxFailure(400, "DUPLICATE_ITEM", "This torrent is already in your account.")
        cached = self.is_cached(info_hash)
        if only_if_cached and not cached:
            if self.only_if_cached_hang_s is not None:
                await asyncio.sleep(self.only_if_cached_hang_s)
            raise TorBoxFailure(400, "DOWNLOAD_NOT_CACHED", "The torrent is not cached on TorBox; it was not added.")
        active = self.active_count()
        if not cached and active >= self.active_limit:
            # As the doc's example: success false with a null error; only `detail` and `data` say why.
            raise TorBoxFailure(
                400,
                None,
                f"You have reached your active torrent download limit of {self.active_limit}. "
                "Please wait for a download to finish or delete one.",
                {"active_limit": self.active_limit, "current_active_downloads": active},
            )
        entry = self.entry(info_hash, dn)
        release = self.scenario.release_by_hash(info_hash)
        title = name or entry.name
        torrent = TorBoxTorrent(
            id=next(self._ids),
            hash=info_hash,
            name=title,
            magnet_name=name or dn or info_hash,
            size=entry.size,
            files=entry.files,
            created_at=self.now(),
            cached=cached,
            speed=release.rd_speed if release is not None else self.default_speed,
            seed=seed,
            allow_zip=allow_zip,
            magnet=magnet,
            meta_s=self.meta_s,
            auth_id=self.auth_id,
        )
        self.torrents[torrent.id] = torrent
        return torrent

    def listing(self, *, bypass_cache: bool) -> tuple[list[TorBoxTorrent], datetime]:
        """The torrents newest first and the moment they are shown as of (now, or the snapshot's time)."""
        now = self.now()
        fresh = sorted(self.torrents.values(), key=lambda t: t.id, reverse=True)
        if bypass_cache:
            return fresh, now
        if self._snapshot is None or (now - self._snapshot[0]).total_seconds() >= self.list_refresh_s:
            self._snapshot = (now, fresh)
        return self._snapshot[1], self._snapshot[0]

    def get(self, torrent_id: int) -> TorBoxTorrent:
        torrent = self.torrents.get(torrent_id)
        if torrent is None:
            raise TorBoxFailure(404, "ITEM_NOT_FOUND", "The torrent was not found in your account.")
        return torrent

    def request_link(self, torrent_id: int, file_id: int | None, *, zip_link: bool) -> IssuedLink:
        torrent = self.get(torrent_id)
        now = self.now()
        if not torrent.progress(now).finished:
            raise TorBoxFailure(400, "DIFF_ISSUE", "The download is not ready yet. Try again when it has finished.")
        if zip_link:
            leaf, chosen = f"{torrent.name}.zip", None
        else:
            # Without a file id the first file is given (unverified: the doc only shows ids starting at 0).
            f = next((f for f in torrent.files if file_id is None or f.id == file_id), None)
            if f is None:
                raise TorBoxFailure(404, "ITEM_NOT_FOUND", "The file was not found in this torrent.")
            leaf, chosen = f.short_name, f.id
        token = uuid.UUID(int=self._rng.getrandbits(128), version=4)
        url = f"https://store-{SERVER}.sandbox.torbox/dl/{token}/{quote(leaf)}"
        link = IssuedLink(url, torrent.id, chosen, now, now + LINK_LIFETIME)
        self.links.append(link)
        return link

    def control(self, operation: str, torrent_id: int | None, *, every: bool) -> None:
        if operation not in OPERATIONS:
            raise TorBoxFailure(400, "INVALID_OPTION", f"Unknown operation {operation!r}.")
        if every:
            targets = list(self.torrents)
        elif torrent_id is None:
            raise TorBoxFailure(400, "MISSING_REQUIRED_OPTION", "torrent_id is required.")
        else:
            targets = [self.get(torrent_id).id]
        for target in targets:
            self.operations.append((operation, target))
            if operation == "delete":
                del self.torrents[target]
