"""Make the library on disk match the store: entries planned from the kept torrents, recorded, then written.

One call (`sync_library`) does it all, in three steps, and can be stopped anywhere and called again:
1. gather: the items with a library folder, their torrents kept on Real-Debrid (DOWNLOADED) with their selected
   files (read from the torrent's info once for rows older than the library), and the entries recorded so far;
2. decide (pure, `plan_sync`): which entry paths exist and which file each points at now. Every file a torrent
   brings gets its path from naming.py; a path several torrents bring (an upgrade, a repair) points at the newest
   one not replaced. An entry whose torrent vanished (repair under way) keeps its path until a new torrent brings it;
   one whose torrent we deleted and nothing replaced goes;
3. act: record the entries (intent, committed first), then put each on disk (temp + rename, only when it differs)
   and remove what seerbridge wrote that no entry names any more.

strm entries hold `<server public url>/play/<token>`, the token naming the entry: their content never changes when
the file behind them does. symlink entries point where the user's mount shows the torrent's file; an entry whose
file the mount does not show yet waits (and is not announced) until it appears.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge.config import Settings
from seerbridge.domain.states import TorrentState
from seerbridge.errors import ServiceError
from seerbridge.library.disk import LibraryDisk
from seerbridge.library.mount import find_in_mount
from seerbridge.library.naming import EntrySpec, SelectedFile, plan_entries
from seerbridge.library.play import PlayTarget
from seerbridge.library.tokens import new_secret, sign
from seerbridge.services.realdebrid import RealDebridClient
from seerbridge.store import repo

log = structlog.get_logger("seerbridge.library")

SECRET_KEY = "library.play_secret"
OWED_KEY = "library.owed_folders"  # title folders whose entries changed on disk, not yet handed to the announcer


async def _owe(session: AsyncSession, rel_paths: Iterable[str]) -> None:
    """Owe Jellyfin a look at the title folders of these entries, in the caller's transaction (the one that records
    the change), so a kill between a change and its announcement never loses the announcement."""
    folders = [_title_folder(p) for p in rel_paths]
    if not folders:
        return
    owed = _folders(await repo.get_state(session, OWED_KEY))
    await repo.set_state(session, OWED_KEY, json.dumps(list(dict.fromkeys([*owed, *folders]))))


def _folders(raw: str | None) -> list[str]:
    try:
        data = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [f for f in data if isinstance(f, str)] if isinstance(data, list) else []


async def take_owed_folders(session: AsyncSession) -> list[str]:
    """The title folders (relative to the root) owed to Jellyfin, handed over and forgotten in the caller's
    transaction (the announcer's, which owes them in its own terms)."""
    owed = _folders(await repo.get_state(session, OWED_KEY))
    if owed:
        await repo.set_state(session, OWED_KEY, "[]")
    return owed


def library_on(settings: Settings) -> bool:
    """Whether seerbridge writes a library (a root is set and the mode writes entries)."""
    return bool(settings.library.root) and settings.library.mode != "none"


async def play_secret(sessions: async_sessionmaker[AsyncSession]) -> str:
    """The installation's secret for play tokens, made the first time (kept in the store, never shown)."""
    async with sessions.begin() as session:
        secret = await repo.get_state(session, SECRET_KEY)
        if not secret:
            secret = new_secret()
            await repo.set_state(session, SECRET_KEY, secret)
        return secret


# ----- decide -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFacts:
    """One item with a library folder, and its torrents as the store knows them (newest first)."""

    item: repo.ItemRecord
    torrents: tuple[repo.TorrentRecord, ...]


@dataclass(frozen=True)
class Wanted:
    """An entry as it should be: its path and the torrent file it points at."""

    item_key: str
    spec: EntrySpec
    torrent_id: int


@dataclass
class SyncPlan:
    put: list[Wanted] = field(default_factory=list)  # record (or re-point) these
    drop: list[repo.LibraryEntryRecord] = field(default_factory=list)  # forget these (and their files)


def _live(row: repo.TorrentRecord) -> bool:
    return row.state is TorrentState.DOWNLOADED and row.files is not None


def _specs(item: repo.ItemRecord, row: repo.TorrentRecord) -> list[EntrySpec]:
    assert item.library_folder is not None and row.files is not None
    files = [SelectedFile(f.id, f.path, f.bytes) for f in row.files]
    # The torrent's own episodes, not the item's `wanted`: working a request again narrows `wanted` to what Jellyfin
    # still lacks, and the entries of what the item already holds must stay.
    wanted = frozenset(row.episodes) if item.kind == "season" and row.episodes else None
    return plan_entries(
        folder=item.library_folder, season=item.season, wanted=wanted, files=files, release_name=row.name
    )


def plan_sync(
    facts: Sequence[ItemFacts],
    recorded: Sequence[repo.LibraryEntryRecord],
    *,
    excluding: frozenset[int] = frozenset(),
) -> SyncPlan:
    """What the entries should be, from the kept torrents and the entries recorded (pure). Torrents in `excluding`
    count as deleted (a cleanup is about to delete them: their entries go first, or point at another copy)."""
    plan = SyncPlan()
    by_path = {e.rel_path: e for e in recorded}
    rows = {row.id: row for f in facts for row in f.torrents}
    wanted_paths: set[str] = set()
    for fact in facts:
        # Newest first, replaced ones last: the first torrent to bring a path is the one it points at.
        live = (r for r in fact.torrents if _live(r) and r.id not in excluding)
        ordered = sorted(live, key=lambda r: (r.superseded_by is not None, -r.id))
        for row in ordered:
            for spec in _specs(fact.item, row):
                if spec.rel_path in wanted_paths:
                    continue
                wanted_paths.add(spec.rel_path)
                have = by_path.get(spec.rel_path)
                if have is None or (have.torrent_id, have.file_id, have.file_path) != (
                    row.id,
                    spec.file_id,
                    spec.file_path,
                ):
                    plan.put.append(Wanted(fact.item.key, spec, row.id))
    for entry in recorded:
        if entry.rel_path in wanted_paths:
            continue
        old = rows.get(entry.torrent_id)
        # A torrent that vanished or turned bad (FAILED) is being repaired: its path stays for the new one; so does
        # one kept whose files could not be read this time. One we deleted (cleanup, an upgrade) with nothing
        # bringing the path again, or an item gone, loses its entry.
        kept = old is not None and old.id not in excluding
        repairing = kept and old is not None and old.state is TorrentState.FAILED
        unread = kept and old is not None and old.state is TorrentState.DOWNLOADED and old.files is None
        if not (repairing or unread):
            plan.drop.append(entry)
    return plan


# ----- act --------------------------------------------------------------------------------------------------------


@dataclass
class Synced:
    """What one sync did: folders (relative to the root) whose entries changed (already owed to Jellyfin through
    `take_owed_folders`), and entries still waiting."""

    folders: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # entries whose file the mount does not show yet
    overdue: list[str] = field(default_factory=list)  # ... for longer than library.mount_wait_s
    errors: list[str] = field(default_factory=list)

    def touched(self, rel_path: str) -> None:
        folder = _title_folder(rel_path)
        if folder not in self.folders:
            self.folders.append(folder)


def _title_folder(rel_path: str) -> str:
    """`movies/X (2019) [tmdbid-1]` for any entry below it (a season folder included)."""
    parts = rel_path.split("/")
    return posixpath.join(*parts[:2]) if len(parts) > 2 else posixpath.dirname(rel_path)


async def _fill_files(
    sessions: async_sessionmaker[AsyncSession], rd: RealDebridClient | None, rows: Iterable[repo.TorrentRecord]
) -> dict[int, repo.TorrentRecord]:
    """Kept torrents recorded before the library knew files: their selected files, read once from Real-Debrid."""
    filled: dict[int, repo.TorrentRecord] = {}
    for row in rows:
        if row.state is not TorrentState.DOWNLOADED or row.files is not None or rd is None or row.rd_id is None:
            continue
        try:
            info = await rd.torrent_info(row.rd_id)
        except ServiceError as exc:
            log.warning("could not read a torrent's files for the library", rd_id=row.rd_id, error=str(exc))
            continue
        files = [repo.SelectedFileRecord(f.id, f.path, f.bytes) for f in info.files if f.selected]
        async with sessions.begin() as session:
            await repo.set_torrent_files(session, row.id, files, names=(info.filename, info.original_filename))
            now_row = await repo.get_torrent(session, row.id)
        if now_row is not None:
            filled[row.id] = now_row
    return filled


async def gather(
    sessions: async_sessionmaker[AsyncSession], rd: RealDebridClient | None
) -> tuple[list[ItemFacts], list[repo.LibraryEntryRecord]]:
    async with sessions() as session:
        items = await repo.items_with_folder(session)
        torrents = {item.key: await repo.torrents_of_item(session, item.key) for item in items}
        recorded = await repo.library_entries(session)
    filled = await _fill_files(sessions, rd, (row for rows in torrents.values() for row in rows))
    facts = [
        ItemFacts(item, tuple(filled.get(row.id, row) for row in sorted(torrents[item.key], key=lambda r: -r.id)))
        for item in items
    ]
    return facts, recorded


async def record(sessions: async_sessionmaker[AsyncSession], plan: SyncPlan, *, now: datetime) -> None:
    """Write the plan's entries to the store (the intent: disk follows)."""
    if not plan.put and not plan.drop:
        return
    async with sessions.begin() as session:
        await repo.delete_library_entries(session, (e.id for e in plan.drop))
        await _owe(session, (e.rel_path for e in plan.drop))  # their files go as strays at the next write
        for want in plan.put:
            await repo.put_library_entry(
                session,
                item_key=want.item_key,
                rel_path=want.spec.rel_path,
                episodes=want.spec.episodes,
                torrent_id=want.torrent_id,
                file_id=want.spec.file_id,
                file_path=want.spec.file_path,
                now=now,
            )


def _target(
    entry: repo.LibraryEntryRecord, row: repo.TorrentRecord | None, settings: Settings, secret: str
) -> str | None:
    """What the entry should hold on disk now; None while the mount does not show its file."""
    if settings.library.mode == "strm":
        base = settings.server.play_base()
        return f"{base}/play/{sign(entry.id, secret)}" if base else None
    mount = settings.library.mount_path
    if not mount or row is None:
        return None
    names = row.rd_names or (row.name,)
    found = find_in_mount(Path(mount), names[0], entry.file_path, original_name=names[1] if len(names) > 1 else None)
    return str(found) if found is not None else None


def _entry_name(rel_path: str, mode: str) -> str:
    """A strm entry's file name ends in .strm (the video's own extension stays before it: `X (2019).mkv.strm` would
    confuse Jellyfin, so the extension is replaced)."""
    if mode != "strm":
        return rel_path
    stem, _ext = posixpath.splitext(rel_path)
    return stem + ".strm"


async def write(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, *, now: datetime, secret: str
) -> Synced:
    """Put every recorded entry on disk as it should be, and remove what no entry names (seerbridge's own only)."""
    assert settings.library.root is not None
    done = Synced()
    disk = LibraryDisk(Path(settings.library.root))
    disk.sweep_temp()
    mode = settings.library.mode
    async with sessions() as session:
        entries = await repo.library_entries(session)
        rows = {e.torrent_id: await repo.get_torrent(session, e.torrent_id) for e in entries}
    wait = timedelta(seconds=settings.library.mount_wait_s)
    names = set()
    for entry in entries:
        name = _entry_name(entry.rel_path, mode)
        names.add(name)
        target = _target(entry, rows.get(entry.torrent_id), settings, secret)
        if target is None:
            if disk.current(name) is None:  # an old target, if any, stays until the new one shows
                since = entry.waiting_since or now
                done.waiting.append(entry.rel_path)
                if now - since >= wait:
                    done.overdue.append(entry.rel_path)
                if entry.waiting_since is None:
                    async with sessions.begin() as session:
                        await repo.set_entry_written(session, entry.id, entry.written, waiting_since=now)
            continue
        try:
            changed = disk.write_strm(name, target) if mode == "strm" else disk.write_symlink(name, target)
        except OSError as exc:
            done.errors.append(f"could not write {name}: {exc.strerror or exc}")
            continue
        # Written now, or written before a kill that came before this was recorded: owed to Jellyfin either way.
        if changed or entry.written != target:
            async with sessions.begin() as session:
                await repo.set_entry_written(session, entry.id, target)
                await _owe(session, [entry.rel_path])
            done.touched(entry.rel_path)
    for stray in sorted(set(disk.managed()) - names):
        async with sessions.begin() as session:
            await _owe(session, [stray])  # owed first: a kill after the removal must not lose its announcement
        try:
            if disk.remove(stray):
                done.touched(stray)
        except OSError as exc:
            done.errors.append(f"could not remove {stray}: {exc.strerror or exc}")
    return done


async def sync_library(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    rd: RealDebridClient | None,
    *,
    now: datetime,
    excluding: frozenset[int] = frozenset(),
) -> Synced:
    """Gather, decide, record, write (see the module docstring). Nothing happens unless a library is configured.
    `excluding`: torrent rows about to be deleted, whose entries go (or move to another copy) first."""
    if not library_on(settings):
        return Synced()
    if settings.library.mode == "strm" and settings.server.play_base() is None:
        log.warning(
            "strm entries cannot be written: the address Jellyfin reaches seerbridge at is unknown; set "
            "SEERBRIDGE_SERVER__PUBLIC_URL (e.g. http://seerbridge:8787)"
        )
    facts, recorded = await gather(sessions, rd)
    plan = plan_sync(facts, recorded, excluding=excluding)
    await record(sessions, plan, now=now)
    done = await write(sessions, settings, now=now, secret=await play_secret(sessions))
    if done.errors:  # one line, however many entries share the cause (an unwritable root, a full disk)
        log.warning("could not bring the library up to date", problem=done.errors[0], entries=len(done.errors))
    return done


def inside(path: str, root: str) -> bool:
    """Whether `path` is `root` or lies below it (POSIX paths, as Jellyfin reports its folders)."""
    root = root.rstrip("/")
    return path == root or path.startswith(root + "/")


def library_4k_roots(settings: Settings) -> tuple[str, ...]:
    """Where Jellyfin sees seerbridge's 4K folders (movies-4k/, shows-4k/), when it writes a library; else ()."""
    if not library_on(settings):
        return ()
    return (jellyfin_path(settings, "movies-4k"), jellyfin_path(settings, "shows-4k"))


def jellyfin_path(settings: Settings, rel: str) -> str:
    """Where Jellyfin sees `rel` (library.jellyfin_root when set, else library.root)."""
    root = settings.library.jellyfin_root or settings.library.root or ""
    return posixpath.join(root.rstrip("/") or "/", rel)


async def play_target(sessions: async_sessionmaker[AsyncSession], entry_id: int) -> PlayTarget | None:
    """Where a strm entry points now: its torrent's Real-Debrid id and the file's id (None: no such entry)."""
    async with sessions() as session:
        entry = await repo.get_library_entry(session, entry_id)
        row = await repo.get_torrent(session, entry.torrent_id) if entry is not None else None
    if entry is None or row is None or row.rd_id is None:
        return None
    return PlayTarget(entry.id, row.rd_id, entry.file_id)


async def torrent_of_entry(sessions: async_sessionmaker[AsyncSession], entry_id: int) -> int | None:
    async with sessions() as session:
        entry = await repo.get_library_entry(session, entry_id)
    return None if entry is None else entry.torrent_id
