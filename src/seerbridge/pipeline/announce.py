"""Announce: write the library, tell Jellyfin about new files, verify it holds them, and bring Seerr up to date.
Durable across crashes and outages.

What is owed is written to the store (app state `follow.announce`) in the same transaction that records a torrent
kept on Real-Debrid, whether a probe found it cached or a followed download finished. `announce` then sends it:

    library   with `library.root` set, the entries for what was kept are written first (library/sync.py), and the
              folders that changed are what Jellyfin is told
    Jellyfin  one call for everything owed: `Library/Media/Updated` with the library's changed folders, or the
              paths under the mount when `jellyfin.rd_mount_path` is set, else one whole-library refresh
    verify    an item is AVAILABLE once Jellyfin lists it by its ids (every awaited episode, 4K in 4K); its
              requests follow when all their items are. Past `library.verify_minutes` a request still waiting says
              what to look at (`_hint`)
    Seerr     its Jellyfin scan job, only once Jellyfin lists every awaited item, or once `jellyfin.arrival_wait_s`
              has passed since Jellyfin was told (then with a warning naming what Jellyfin still lacks): asking Seerr
              earlier finds nothing and leaves the request "Processing". A movie Seerr still does not show available
              then is marked available through its API (`_mark_in_seerr`): Jellyfin was seen holding it.

A failed call stays owed and is sent by a later call of `announce` (the daemon's follower calls it every round, and
sooner while an item is awaited), so a crash or an outage never loses an announcement.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge.config import Settings
from seerbridge.domain.media import Wanted
from seerbridge.errors import ServiceError
from seerbridge.library.sync import inside, jellyfin_path, library_on, sync_library, take_owed_folders
from seerbridge.pipeline.verify import mark_in_seerr, not_in_jellyfin, say_what_is_wrong, verify
from seerbridge.services.bundle import Services
from seerbridge.store import repo

log = structlog.get_logger("seerbridge.announce")

SEERR_SCAN_JOB = "jellyfin-recently-added-scan"
ANNOUNCE_KEY = "follow.announce"


@dataclass(frozen=True)
class Arrival:
    """An item whose files just reached Real-Debrid, as Jellyfin will know it: ids, and the season's episodes."""

    tmdb_id: int
    season: int | None = None  # None: a movie
    episodes: tuple[int, ...] = ()
    imdb_id: str | None = None
    tvdb_id: int | None = None
    is4k: bool = False  # a 4K copy: Jellyfin must list it in 4K (an HD copy there does not count)
    key: str | None = None  # the work item it fulfils (verified available once Jellyfin lists it)

    def describe(self) -> str:
        what = f"movie tmdb {self.tmdb_id}"
        if self.season is not None:
            what = f"show tmdb {self.tmdb_id} S{self.season:02d} E{','.join(map(str, self.episodes))}"
        return what + (" in 4K" if self.is4k else "")

    @classmethod
    def load(cls, data: object) -> Arrival | None:
        if not isinstance(data, dict) or not isinstance(data.get("tmdb_id"), int):
            return None
        season = data.get("season")
        episodes = data.get("episodes") or ()
        return cls(
            tmdb_id=data["tmdb_id"],
            season=season if isinstance(season, int) else None,
            episodes=tuple(e for e in episodes if isinstance(e, int)) if isinstance(episodes, list) else (),
            imdb_id=data.get("imdb_id") if isinstance(data.get("imdb_id"), str) else None,
            tvdb_id=data.get("tvdb_id") if isinstance(data.get("tvdb_id"), int) else None,
            is4k=data.get("is4k") is True,
            key=data.get("key") if isinstance(data.get("key"), str) else None,
        )


@dataclass
class Pending:
    """Announcements owed to Jellyfin (paths, or a whole refresh) and Seerr (its scan job, after `awaiting`)."""

    paths: list[str] = field(default_factory=list)
    refresh: bool = False
    seerr: bool = False  # a Seerr scan is owed (for `awaiting`, once Jellyfin shows them)
    awaiting: list[Arrival] = field(default_factory=list)
    told_at: str | None = None  # when Jellyfin was first told of what `awaiting` holds (ISO, UTC)
    looked_at: str | None = None  # when Jellyfin was last asked whether it lists them (ISO, UTC)
    library: bool = False  # the library on disk must be brought up to date (torrents deleted, entries waiting)
    asked_anyway: bool = False  # Seerr scanned although Jellyfin lacked some of `awaiting`: not again until they show

    @property
    def jellyfin(self) -> bool:
        return self.refresh or bool(self.paths)

    def __bool__(self) -> bool:
        return self.jellyfin or self.seerr

    def dump(self) -> str:
        return json.dumps(
            {
                "paths": self.paths,
                "refresh": self.refresh,
                "seerr": self.seerr,
                "awaiting": [asdict(a) for a in self.awaiting],
                "told_at": self.told_at,
                "looked_at": self.looked_at,
                "library": self.library,
                "asked_anyway": self.asked_anyway,
            }
        )

    @classmethod
    def load(cls, raw: str | None) -> Pending:
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
            awaiting = [a for a in (Arrival.load(x) for x in data.get("awaiting") or []) if a is not None]
            told_at = data.get("told_at")
            looked_at = data.get("looked_at")
            return cls(
                list(dict.fromkeys(data.get("paths", []))),
                bool(data.get("refresh")),
                bool(data.get("seerr")),
                list(dict.fromkeys(awaiting)),
                told_at if isinstance(told_at, str) else None,
                looked_at if isinstance(looked_at, str) else None,
                data.get("library") is True,
                data.get("asked_anyway") is True,
            )
        except (ValueError, AttributeError, TypeError):
            log.warning("pending announcement unreadable; announcing with a full refresh")
            return cls(refresh=True, seerr=True, library=True)


async def owe_jellyfin(session: AsyncSession, *, path: str | None) -> None:
    """Owe Jellyfin a look at new files (the path under its library when known, else a refresh), in the caller's
    transaction; `announce` sends it."""
    await owe_arrival(session, path=path, arrival=None, seerr=False)


async def owe_arrival(session: AsyncSession, *, path: str | None, arrival: Arrival | None, seerr: bool = True) -> None:
    """Owe Jellyfin a look at new files and, with `seerr`, Seerr a scan once Jellyfin shows `arrival` (in the
    caller's transaction: the same one that records the torrent kept)."""
    pending = Pending.load(await repo.get_state(session, ANNOUNCE_KEY))
    if path:
        pending.paths = list(dict.fromkeys([*pending.paths, path]))
    else:
        pending.refresh = True
    if seerr:
        pending.seerr = True
        if arrival is not None and arrival not in pending.awaiting:
            pending.awaiting.append(arrival)
    await repo.set_state(session, ANNOUNCE_KEY, pending.dump())


def arrival_of(target: Wanted, covered: frozenset[int]) -> Arrival:
    """The arrival a kept torrent brings for `target`: the movie, or the covered episodes of its season."""
    title = target.title
    if target.season is None:
        return Arrival(title.tmdb_id, imdb_id=title.imdb_id, is4k=target.is4k, key=target.key)
    episodes = tuple(sorted(covered))
    return Arrival(title.tmdb_id, target.season, episodes, title.imdb_id, title.tvdb_id, target.is4k, target.key)


def arrival_of_row(item: repo.ItemRecord, row: repo.TorrentRecord) -> Arrival:
    """The arrival a kept torrent row brings for its stored item (the movie, or the row's episodes of the season)."""
    if item.kind == "movie":
        return Arrival(item.tmdb_id, is4k=item.is4k, key=item.key)
    return Arrival(item.tmdb_id, item.season, tuple(sorted(row.episodes or ())), is4k=item.is4k, key=item.key)


def mount_path(mount: str | None, folder: str) -> str | None:
    """Where a torrent's folder appears to Jellyfin under the user's mount; None when unknown (a refresh then)."""
    folder = folder.strip().strip("/")
    return f"{mount.rstrip('/')}/{folder}" if mount and folder else None


async def jellyfin_owed(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether Jellyfin has not been told of every new file yet."""
    async with sessions() as session:
        return Pending.load(await repo.get_state(session, ANNOUNCE_KEY)).jellyfin


@dataclass
class Announced:
    """What one `announce` call did."""

    jellyfin: bool = False  # Jellyfin was told
    seerr: bool = False  # Seerr's scan ran
    awaiting: int = 0  # items Jellyfin does not show yet (Seerr waits for them)
    verified: int = 0  # items Jellyfin was seen holding (now available)
    errors: list[tuple[str, ServiceError]] = field(default_factory=list)

    @property
    def sent(self) -> bool:
        return self.jellyfin or self.seerr


_lock = asyncio.Lock()  # one announcer at a time in a process (workers and the follower both call it)


async def announce(
    services: Services,
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: datetime,
    settings: Settings,
    full_sync: bool = False,
) -> Announced:
    """Send what is owed (see the module docstring). What fails or waits stays owed. Jellyfin is asked whether it
    lists the awaited items at most once per `arrival_check_s`, however many callers announce (each worker after
    each request, the follower every round): the question lists the whole library. The library is synced when
    something is owed, or always with `full_sync` (at start: a kill may have cut a sync short)."""
    async with _lock:
        return await _announce(services, sessions, now=now, settings=settings, full_sync=full_sync)


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def _write_library(
    services: Services,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    now: datetime,
    *,
    full: bool,
) -> None:
    """Bring the library on disk up to date and owe Jellyfin the folders that changed (durably, before telling it).
    With a library, Jellyfin is told by path: a whole refresh owed for an arrival is dropped, since its entries are
    announced by folder once written (an entry the mount does not show yet is announced when it does)."""
    async with sessions() as session:
        owed = Pending.load(await repo.get_state(session, ANNOUNCE_KEY))
    synced = None
    # Only when something was kept (an arrival owes Jellyfin a look), deleted or left waiting since the last sync:
    # items merely awaited in Jellyfin need no sync (the follower announces every few seconds while they are).
    if full or owed.jellyfin or owed.library:
        synced = await sync_library(settings, sessions, services.realdebrid, now=now)
    async with sessions.begin() as session:
        # The folders the library owes (recorded with each change on disk, so a kill loses none), now owed here.
        folders = [jellyfin_path(settings, f) for f in await take_owed_folders(session)]
        pending = Pending.load(await repo.get_state(session, ANNOUNCE_KEY))
        if folders or synced is not None:
            pending.paths = list(dict.fromkeys([*pending.paths, *folders]))
            pending.refresh = False
        if synced is not None:
            pending.library = bool(synced.waiting)  # entries the mount does not show yet: look again next time
        await repo.set_state(session, ANNOUNCE_KEY, pending.dump())
    if synced is not None and synced.overdue:
        log.warning(
            "the Real-Debrid mount does not show files seerbridge waits for",
            mount=settings.library.mount_path,
            entries=synced.overdue[:5],
            waited_s=settings.library.mount_wait_s,
        )


async def _announce(
    services: Services,
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: datetime,
    settings: Settings,
    full_sync: bool,
) -> Announced:
    if library_on(settings):
        await _write_library(services, sessions, settings, now, full=full_sync)
    wait_s, check_s = settings.jellyfin.arrival_wait_s, settings.jellyfin.arrival_check_s
    async with sessions() as session:
        pending = Pending.load(await repo.get_state(session, ANNOUNCE_KEY))
    done = Announced()
    if not pending:
        return done
    if pending.jellyfin:
        try:
            paths, refresh = pending.paths, pending.refresh
            if paths and library_on(settings):
                paths, refresh = await _by_library(services, paths, refresh)
            if paths:
                await services.jellyfin.media_updated(paths)
            if refresh:
                await services.jellyfin.refresh_library()
            done.jellyfin = True
        except ServiceError as exc:
            done.errors.append(("could not ask Jellyfin to pick up new files", exc))
    told_at = pending.told_at or (now.isoformat() if done.jellyfin else None)
    waited = now - told_at_ if (told_at_ := _at(told_at)) else timedelta(0)
    # Awaited items are looked for until Seerr has been asked (at once when Jellyfin lists them all, else after
    # `arrival_wait_s` anyway) and, for those still missing, until `library.verify_minutes`: they may still come (and
    # become available), and then the request says what is wrong. After asking anyway, a look a minute is enough.
    verify_after = timedelta(minutes=settings.library.verify_minutes)
    give_up = max(timedelta(seconds=wait_s), verify_after)
    cadence = timedelta(seconds=max(check_s, 60.0) if pending.asked_anyway else check_s)
    looked = _at(pending.looked_at)
    looked_lately = looked is not None and timedelta(0) <= now - looked < cadence
    # Told by path, Jellyfin scans only after its monitor delay: looking before then lists the library for nothing.
    # (Told nothing, as when a repair put another file behind an unchanged strm entry: look at once.)
    if library_on(settings) and told_at is not None and waited < timedelta(seconds=settings.jellyfin.monitor_delay_s):
        looked_lately = True
    looked_at = pending.looked_at
    missing: list[Arrival] = []
    gave_up = False
    if pending.seerr and not done.errors and pending.awaiting and looked_lately and waited < give_up:
        done.awaiting = len(pending.awaiting)  # asked moments ago, by this or another caller: not again yet
    elif pending.seerr and not done.errors:
        try:
            missing = await not_in_jellyfin(services, pending.awaiting, settings)
            looked_at = now.isoformat()
            present = [a for a in pending.awaiting if a not in missing]
            done.verified = await verify(sessions, present, missing, now)
        except ServiceError as exc:
            done.errors.append(("could not look for new items in Jellyfin", exc))
            missing = list(pending.awaiting)
        if missing and waited >= verify_after:
            await say_what_is_wrong(services, sessions, settings, missing)
        gave_up = bool(missing) and waited >= give_up
        if not missing or (waited >= timedelta(seconds=wait_s) and not pending.asked_anyway):
            if missing:
                log.warning(
                    "Jellyfin does not show new items yet; asking Seerr to scan anyway",
                    waited_s=round(waited.total_seconds()),
                    missing=[a.describe() for a in missing],
                )
            try:
                await services.seerr.run_job(SEERR_SCAN_JOB)
                done.seerr = True
                await mark_in_seerr(services, [a for a in pending.awaiting if a not in missing])
            except ServiceError as exc:
                done.errors.append(("could not ask Seerr to scan Jellyfin", exc))
        if missing and not gave_up:
            done.awaiting = len(missing)
    async with sessions.begin() as session:
        # Re-read: another task, or a crash-restart, may have added more meanwhile; keep what was added.
        now_pending = Pending.load(await repo.get_state(session, ANNOUNCE_KEY))
        if done.jellyfin:
            now_pending.paths = [p for p in now_pending.paths if p not in pending.paths]
            now_pending.refresh = now_pending.refresh and not pending.refresh
        if done.seerr or gave_up:
            # Handed to Seerr: what Jellyfin lists (all of it, once the wait for the rest is over).
            handled = list(pending.awaiting) if gave_up else [a for a in pending.awaiting if a not in missing]
            now_pending.awaiting = [a for a in now_pending.awaiting if a not in handled]
            now_pending.seerr = bool(now_pending.awaiting)
            kept_missing = bool(missing) and not gave_up
            now_pending.asked_anyway = kept_missing and (done.seerr or pending.asked_anyway)
        if now_pending.seerr:
            now_pending.told_at = now_pending.told_at or told_at
            now_pending.looked_at = looked_at
        else:
            now_pending.told_at = now_pending.looked_at = None
            now_pending.asked_anyway = False
        await repo.set_state(session, ANNOUNCE_KEY, now_pending.dump())
    return done


async def _by_library(services: Services, paths: list[str], refresh: bool) -> tuple[list[str], bool]:
    """The paths Jellyfin takes by path (inside one of its libraries), and whether a whole-library scan is needed
    for the others: Jellyfin silently drops a reported path that lies outside its libraries."""
    folders = await services.jellyfin.virtual_folders()
    roots = [loc for f in folders for loc in f.locations]
    taken = [p for p in paths if any(inside(p, root) for root in roots)]
    if len(taken) < len(paths):
        log.warning(
            "new library folders are not inside a Jellyfin library; asking for a whole-library scan",
            folders=[p for p in paths if p not in taken][:5],
        )
    return taken, refresh or len(taken) < len(paths)
