"""Real-Debrid emulator state: the account, its torrents, per-hash behaviour, links and the rate limit.

Routes call the methods that raise `RdFailure`; tests and later features use the helpers (inspect torrents,
change a hash's behaviour, add or pin torrents by hand, make one vanish, make unrestricts fail, count adds).
Lifecycle rules: `realdebrid_torrent.py`. `on_look` is called whenever the account is read through the API or changed
by a helper; the sandbox keeps its stand-in for a zurg mount current from it (`realdebrid_mount.py`).
"""

from __future__ import annotations

import collections
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.realdebrid_torrent import (
    DOWNLOAD_HOST,
    FINAL_STATUSES,
    LINK_PREFIX,
    SLOT_STATUSES,
    EmulatedTorrent,
    HashBehaviour,
    RdFailure,
    Snapshot,
    Status,
    is_video,
    parse_magnet,
    torrent_name,
    unknown_resource,
    wrong_parameter,
)
from seerbridge.sandbox.scenario import GB, FileSpec, RdBehaviour, Scenario

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass(frozen=True)
class Unrestricted:
    """One `/unrestrict/link` answer the emulator gave."""

    id: str
    link: str
    torrent_id: str
    file_id: int
    filename: str
    filesize: int
    download: str


class RateWindow:
    """At most `limit` requests in any `window_s` seconds of real time; refused requests count too (as on RD)."""

    def __init__(self, limit: int, *, window_s: float = 60.0, now: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self.now = now
        self.enabled = True
        self.refused = 0
        self._hits: collections.deque[float] = collections.deque()

    def hit(self) -> bool:
        """Record one request; False when it is over the limit and must be refused."""
        if not self.enabled:
            return True
        t = self.now()
        while self._hits and t - self._hits[0] >= self.window_s:
            self._hits.popleft()
        self._hits.append(t)
        if len(self._hits) > self.limit:
            self.refused += 1
            return False
        return True

    def reset(self) -> None:
        self._hits.clear()
        self.refused = 0


class RealDebridState:
    """The emulated account. Routes call the methods that raise RdFailure; tests use the helpers below them."""

    def __init__(
        self, scenario: Scenario, clock: VirtualClock, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        account = scenario.realdebrid
        self.scenario = scenario
        self.clock = clock
        self.token = scenario.keys["realdebrid"]
        self.username = account.username
        self.active_limit = account.active_limit
        self.premium_until = clock.now() + timedelta(days=account.premium_days)
        self.locked = False
        self.conversion_s = 2.0
        self.queue_s = 2.0
        self.settle_s = 1.0  # a cached torrent reads `downloading` at 100 % this long after its files are selected
        self.default_unknown_size = GB
        # How `GET /torrents` pages: the most entries one page holds (None: the 5000 the documentation says; older
        # revisions said 2500), and whether answers carry `X-Total-Count` (a client must page on without it).
        self.page_limit: int | None = None
        self.total_header = True
        self.rate = RateWindow(account.rate_limit_per_min, now=monotonic)
        self.torrents: dict[str, EmulatedTorrent] = {}
        self.overrides: dict[str, HashBehaviour] = {}
        self.adds: collections.Counter[str] = collections.Counter()
        self.add_attempts: collections.Counter[str] = collections.Counter()
        self.unrestricted: list[Unrestricted] = []
        self.vanished: list[str] = []  # ids of torrents that left the account by themselves (`vanish`)
        self.on_look: Callable[[], None] = lambda: None
        self._unrestrict_faults: collections.Counter[str] = collections.Counter()  # link code or "*" → failures left
        self._links: dict[str, tuple[str, int]] = {}
        self._rng = random.Random(f"realdebrid:{scenario.name}")
        self._seq = itertools.count()
        start = clock.now()
        count = len(account.torrents)
        for n, existing in enumerate(account.torrents):
            files = existing.files or [FileSpec(path=f"{existing.name}.mkv", size=existing.size)]
            behaviour = HashBehaviour("uncached", existing.name, list(files))
            added = start - timedelta(days=count - n)
            progress = {"downloaded": 100, "downloading": 50, "dead": 100}.get(existing.status, 0)
            self.add_torrent(existing.hash, behaviour=behaviour, status=existing.status, progress=progress, added=added)

    # ----- time and account -----

    def now(self) -> datetime:
        return self.clock.now()

    def premium_seconds(self) -> int:
        return max(0, int((self.premium_until - self.now()).total_seconds()))

    def is_premium(self) -> bool:
        return self.premium_seconds() > 0

    def set_premium_days(self, days: float) -> None:
        self.premium_until = self.now() + timedelta(days=days)

    def authorize(self, token: str | None) -> None:
        if token != self.token:
            raise RdFailure(401, "bad_token", 8)
        if self.locked:
            raise RdFailure(403, "account_locked", 14)

    def require_premium(self) -> None:
        # The notes give 403 for "account locked or not premium"; 9 permission_denied is the documented code for
        # both "not premium" cases (20 is about hosters, not torrents).
        if not self.is_premium():
            raise RdFailure(403, "permission_denied", 9)

    # ----- behaviour of hashes -----

    def behaviour_for(self, info_hash: str, magnet_name: str | None = None) -> HashBehaviour:
        info_hash = info_hash.lower()
        if info_hash in self.overrides:
            return self.overrides[info_hash]
        release = self.scenario.release_by_hash(info_hash)
        if release is not None:
            media = self.scenario.media_by_imdb(release.imdb_id)
            files = release.file_list(media.title if media else None)
            return HashBehaviour(
                release.rd, torrent_name(release.name, files), files, release.rd_speed, release.rd_dies_after,
                release.seeders or 0,
            )  # fmt: skip
        base = magnet_name or info_hash
        leaf = base if is_video(base) else f"{base}.mkv"
        return HashBehaviour("uncached", leaf, [FileSpec(path=leaf, size=self.default_unknown_size)], seeders=5)

    def set_behaviour(
        self,
        info_hash: str,
        behaviour: RdBehaviour,
        *,
        speed: int | None = None,
        dies_after: float | None = None,
        files: list[FileSpec] | None = None,
        name: str | None = None,
    ) -> None:
        """Change how this hash is treated from now on. Torrents already in the account keep their own copy,
        except that `refused` also makes their links answer 451 (a retroactive purge)."""
        base = self.behaviour_for(info_hash)
        self.overrides[info_hash.lower()] = HashBehaviour(
            behaviour,
            name if name is not None else base.name,
            list(files) if files is not None else base.files,
            speed if speed is not None else base.speed,
            dies_after if dies_after is not None else base.dies_after,
            base.seeders,
        )

    # ----- what routes call -----

    def add_magnet(self, magnet: str) -> EmulatedTorrent:
        self.require_premium()
        info_hash, dn = parse_magnet(magnet)
        self.add_attempts[info_hash] += 1
        behaviour = self.behaviour_for(info_hash, dn)
        if behaviour.behaviour == "refused":
            raise RdFailure(451, "infringing_file", 35)
        torrent_id = self.add_torrent(info_hash, behaviour=behaviour, magnet_name=dn)
        self.adds[info_hash] += 1
        return self.torrents[torrent_id]

    def get(self, torrent_id: str) -> EmulatedTorrent:
        torrent = self.torrents.get(torrent_id)
        if torrent is None:
            raise unknown_resource()
        return torrent

    def select_files(self, torrent_id: str, files: str | None) -> bool:
        """Start the download; False when it was already done (202). Raises RdFailure as RD would."""
        self.require_premium()
        torrent = self.get(torrent_id)
        status = self.snapshot(torrent).status
        if status in ("magnet_conversion", "magnet_error"):
            raise unknown_resource()
        if status != "waiting_files_selection":
            return False
        if not files or not files.strip():
            raise wrong_parameter()
        if files.strip().lower() == "all":
            ids = list(range(1, len(torrent.files) + 1))
        else:
            try:
                ids = sorted({int(part) for part in files.split(",")})
            except ValueError:
                raise wrong_parameter() from None
        if not ids or any(i < 1 or i > len(torrent.files) for i in ids):
            raise unknown_resource()
        if self.active_count() >= self.active_limit:
            # The notes document no status for error 21; one third-party client sees a non-standard 509 for it,
            # so the emulator answers 509 (`too_many_active_downloads`) and the client must cope with that.
            raise RdFailure(509, "too_many_active_downloads", 21)
        torrent.selected = tuple(ids)
        torrent.selected_at = self.now()
        torrent.instant = torrent.behaviour.behaviour == "cached" and set(ids) <= torrent.video_ids()
        torrent.link_codes = [self._new_link(torrent.id, i) for i in ids]
        self.on_look()
        return True

    def delete(self, torrent_id: str) -> None:
        self.get(torrent_id)
        del self.torrents[torrent_id]
        self.on_look()

    def unrestrict(self, link: str) -> Unrestricted:
        self.require_premium()
        code = _link_code(link)
        for key in (code, "*"):
            if self._unrestrict_faults[key] > 0:
                self._unrestrict_faults[key] -= 1
                raise RdFailure(503, "hoster_unavailable", 19)
        target = self._links.get(code)
        torrent = self.torrents.get(target[0]) if target else None
        if target is None or torrent is None or self.snapshot(torrent).status != "downloaded":
            raise RdFailure(503, "hoster_unavailable", 19)
        if self.behaviour_for(torrent.hash).behaviour == "refused":
            raise RdFailure(451, "infringing_file", 35)
        spec = torrent.files[target[1] - 1]
        filename = spec.path.rsplit("/", 1)[-1]
        download_id = self._new_id()
        answer = Unrestricted(
            download_id,
            LINK_PREFIX + code,
            torrent.id,
            target[1],
            filename,
            spec.size,
            f"{DOWNLOAD_HOST}/d/{download_id}/{quote(filename)}",
        )
        self.unrestricted.append(answer)
        return answer

    # ----- views -----

    def snapshot(self, torrent: EmulatedTorrent) -> Snapshot:
        return torrent.snapshot(self.now(), queue_s=self.queue_s, settle_s=self.settle_s)

    def listing(self, *, active_only: bool = False) -> list[EmulatedTorrent]:
        """Torrents newest first, as RD lists them."""
        out = sorted(self.torrents.values(), key=lambda t: (t.added, t.seq), reverse=True)
        if active_only:
            out = [t for t in out if self.snapshot(t).status not in FINAL_STATUSES]
        return out

    def links(self, torrent: EmulatedTorrent) -> list[str]:
        snap = self.snapshot(torrent)
        # A torrent that died after finishing keeps its (stale) links; one that died downloading never had any.
        if snap.status == "downloaded" or (snap.status == "dead" and snap.ended is not None):
            return [LINK_PREFIX + code for code in torrent.link_codes]
        return []

    def active_count(self) -> int:
        return sum(1 for t in self.torrents.values() if self.snapshot(t).status in SLOT_STATUSES)

    # ----- helpers for tests and later features -----

    def status_of(self, torrent_id: str) -> Status:
        return self.snapshot(self.get(torrent_id)).status

    def hashes(self) -> list[str]:
        """Info hashes in the account, newest first, duplicates included."""
        return [t.hash for t in self.listing()]

    def torrents_with_hash(self, info_hash: str) -> list[EmulatedTorrent]:
        return [t for t in self.listing() if t.hash == info_hash.lower()]

    def add_torrent(
        self,
        info_hash: str,
        *,
        behaviour: HashBehaviour | None = None,
        magnet_name: str | None = None,
        status: Status | None = None,
        progress: int = 0,
        added: datetime | None = None,
        selected: list[int] | None = None,
    ) -> str:
        """Put a torrent in the account by hand (no rate limit, no 451). With `status` it is pinned there, with
        `selected` files (default: all) and links when downloaded; without, it starts its normal lifecycle."""
        info_hash = info_hash.lower()
        behaviour = behaviour or self.behaviour_for(info_hash, magnet_name)
        added = added or self.now()
        wait = 0.0 if behaviour.behaviour == "cached" or status is not None else self.conversion_s
        torrent = EmulatedTorrent(
            id=self._new_id(),
            hash=info_hash,
            magnet_name=magnet_name or info_hash,
            behaviour=behaviour,
            added=added,
            ready_at=added + timedelta(seconds=wait),
            seq=next(self._seq),
        )
        if status is not None and status not in ("magnet_conversion", "magnet_error", "waiting_files_selection"):
            torrent.selected = tuple(selected or range(1, len(behaviour.files) + 1))
            torrent.selected_at = added
            torrent.link_codes = [self._new_link(torrent.id, i) for i in torrent.selected]
        torrent.pinned = status
        torrent.pinned_progress = progress
        self.torrents[torrent.id] = torrent
        self.on_look()
        return torrent.id

    def set_status(self, torrent_id: str, status: Status | None, *, progress: int | None = None) -> None:
        """Pin a torrent to `status` (e.g. `dead` to emulate an eviction); None unpins it."""
        torrent = self.get(torrent_id)
        if status is not None and not torrent.link_codes and torrent.selected:
            torrent.link_codes = [self._new_link(torrent.id, i) for i in torrent.selected]
        torrent.pinned = status
        if progress is not None:
            torrent.pinned_progress = progress
        elif status is not None:
            torrent.pinned_progress = 100 if status in ("downloaded", "dead") else 0
        self.on_look()

    def vanish(self, torrent_id: str) -> None:
        """The torrent leaves the account by itself (Real-Debrid dropped it): gone from `/torrents`, 404
        `unknown_ressource` from `/torrents/info`, and its links answer 503 `hoster_unavailable` when unrestricted."""
        self.get(torrent_id)
        del self.torrents[torrent_id]
        self.vanished.append(torrent_id)
        self.on_look()

    def fail_next_unrestrict(self, link: str | None = None, *, times: int = 1) -> None:
        """The next `times` unrestricts of `link` (any link when None) answer 503 `hoster_unavailable` (19), as RD
        does when the file's host is down; later ones answer as usual."""
        self._unrestrict_faults[_link_code(link) if link is not None else "*"] += times

    def add_count(self, info_hash: str) -> int:
        """Torrents created for this hash through `addMagnet` (refused adds not included; see `add_attempts`)."""
        return self.adds[info_hash.lower()]

    # ----- internals -----

    def _new_id(self) -> str:
        while True:
            candidate = "".join(self._rng.choice(_ID_ALPHABET) for _ in range(13))
            if candidate not in self.torrents and candidate not in self._links:
                return candidate

    def _new_link(self, torrent_id: str, file_id: int) -> str:
        code = self._new_id()
        self._links[code] = (torrent_id, file_id)
        return code


def _link_code(link: str) -> str:
    """The code of a hoster link (`https://real-debrid.com/d/<code>`, http too), or the text itself."""
    return link.strip().removeprefix(LINK_PREFIX).removeprefix(LINK_PREFIX.replace("https", "http")).strip("/")
