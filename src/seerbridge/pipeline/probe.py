"""Probe: put one candidate on Real-Debrid to learn whether it is cached, keeping it only when it is wanted.

Real-Debrid cannot say what is cached without adding it (instantAvailability is disabled), so a probe is:
reuse a torrent with the same hash already in the account, else record the intent and add the magnet; read the
file list once Real-Debrid has it; select only the wanted video files; read the status once. `downloaded` means
cached. Every torrent we add is written to the store before the call (state `adding`) and updated after, so a
crash between the two can be reconciled instead of leaving an orphan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge import clock
from seerbridge.config import AcquireSettings
from seerbridge.domain.decision import Verdict
from seerbridge.domain.media import Wanted
from seerbridge.domain.states import TorrentState
from seerbridge.domain.transitions import TorrentEvent
from seerbridge.errors import NotFound, RequestRejected, ServiceError
from seerbridge.library.naming import folder_for
from seerbridge.pipeline.announce import Arrival, arrival_of, arrival_of_row, mount_path, owe_arrival
from seerbridge.pipeline.bad_marks import mark_ttl
from seerbridge.selection.files import MB, FileFacts, FileSelection, pack_share, select_files
from seerbridge.services.budget import SlotGate
from seerbridge.services.calls import CallLedger, attribute_only
from seerbridge.services.realdebrid import (
    RealDebridClient,
    Torrent,
    TorrentInfo,
    TorrentStatus,
    is_infringing,
    is_too_many_active,
)
from seerbridge.store import repo

log = structlog.get_logger("seerbridge.probe")


_UNSELECTED = frozenset({TorrentStatus.MAGNET_CONVERSION, TorrentStatus.WAITING_FILES_SELECTION})
_UNSETTLED = (TorrentState.ADDING, TorrentState.ADDED)
_KEPT = (TorrentState.DOWNLOADED, TorrentState.DOWNLOADING)
# A torrent kept in one of these states was kept on this event (a new row: the add answered, then this).
_KEEP_EVENT = {TorrentState.DOWNLOADED: TorrentEvent.CACHED, TorrentState.DOWNLOADING: TorrentEvent.DOWNLOAD}


def select_wanted_files(
    files: Sequence[FileFacts], target: Wanted, release_name: str | None, settings: AcquireSettings
) -> FileSelection:
    """`select_files` with the configured floors, under which a video file is a fake or a sample."""
    return select_files(
        files,
        target,
        release_name=release_name,
        min_movie_bytes=int(settings.min_movie_file_mb * MB),
        min_episode_bytes=int(settings.min_episode_file_mb * MB),
    )


def library_folder(target: Wanted) -> str:
    """The item's folder in the library seerbridge writes (fixed the first time a torrent is kept for it)."""
    title = target.title
    return folder_for(title.kind, target.is4k, title.title, title.year, title.tmdb_id)


def selected_records(info: TorrentInfo, file_ids: Sequence[int]) -> list[repo.SelectedFileRecord]:
    """The torrent's files seerbridge selected (`file_ids`, or what Real-Debrid says is selected when empty)."""
    chosen = set(file_ids)
    files = [f for f in info.files if f.id in chosen] if chosen else info.selected_files()
    return [repo.SelectedFileRecord(f.id, f.path, f.bytes) for f in files]


def rd_names(info: TorrentInfo) -> tuple[str, ...]:
    """Real-Debrid's names for a torrent (where a mount shows it): `filename`, then `original_filename`."""
    return tuple(n for n in (info.filename, info.original_filename) if n)


def _may_still_be_cached(info: TorrentInfo, reads: int) -> bool:
    """Whether a just-selected torrent may yet turn out cached: at 100 % but not `downloaded` yet, or `queued` at the
    first read (an uncached one stays queued or climbs slowly; a cached one flips to `downloaded` within a moment)."""
    if info.status is TorrentStatus.DOWNLOADING and info.progress >= 100:
        return True
    return info.status is TorrentStatus.QUEUED and reads == 1


LATE_COPY_SLACK = timedelta(minutes=5)


class Interrupted(Exception):
    """seerbridge is stopping: the work in hand ends at a step boundary (nothing half done) and resumes later."""


class ProbeOutcome(StrEnum):
    CACHED = "cached"
    DOWNLOADING = "downloading"  # not cached, kept on purpose (uncached download)
    NOT_CACHED = "not cached"
    CONVERTING = "metadata not fetched in time"  # deleted unkept; an uncached download may still take it
    IN_PROGRESS = "already downloading"  # the same hash is already being downloaded in the account
    BUSY = "downloading in the account, not cached yet"  # the same, left alone: the caller wants cached copies only
    REFUSED = "refused (451)"
    FAILED = "failed"
    NO_FILES = "no wanted files"
    TOO_FEW = "covers too few wanted episodes"
    NO_SLOT = "no free download slot"


@dataclass(frozen=True)
class ProbeResult:
    outcome: ProbeOutcome
    verdict: Verdict
    covered: frozenset[int] = frozenset()
    rd_id: str | None = None
    detail: str = ""
    filename: str = ""  # Real-Debrid's name for the torrent (its folder under a mount), when it was kept cached

    @property
    def kept(self) -> bool:
        return self.outcome in (ProbeOutcome.CACHED, ProbeOutcome.DOWNLOADING, ProbeOutcome.IN_PROGRESS)


class Account:
    """The Real-Debrid account as this pass sees it: listed once (one call), then kept current by our own actions."""

    def __init__(self, rd: RealDebridClient, ledger: CallLedger) -> None:
        self._rd = rd
        self._ledger = ledger
        self._by_hash: dict[str, list[Torrent]] | None = None
        self._lock = asyncio.Lock()

    async def with_hash(self, info_hash: str) -> list[Torrent]:
        async with self._lock:
            if self._by_hash is None:
                self._by_hash = {}
                with attribute_only(self._ledger):
                    listing = await self._rd.torrents(page_size=5000)
                for torrent in listing:
                    self._by_hash.setdefault(torrent.hash.lower(), []).append(torrent)
            return list(self._by_hash.get(info_hash.lower(), []))

    def forget(self) -> None:
        """Drop the listing: the next lookup lists the account afresh (after an add whose answer was lost, the
        listing taken before it cannot show what Real-Debrid did)."""
        self._by_hash = None

    def added(self, info: Torrent) -> None:
        if self._by_hash is not None:
            self._by_hash.setdefault(info.hash.lower(), []).append(info)

    def removed(self, rd_id: str) -> None:
        if self._by_hash is not None:
            for torrents in self._by_hash.values():
                torrents[:] = [t for t in torrents if t.id != rd_id]


class Prober:
    """Probes candidates for one pass; shares the account view and the bad-hash set across requests."""

    def __init__(
        self,
        rd: RealDebridClient,
        sessions: async_sessionmaker[AsyncSession],
        account: Account,
        settings: AcquireSettings,
        bad_hashes: set[str],
        in_flight: set[int] | None = None,
        stopping: Callable[[], bool] = lambda: False,
        slots: SlotGate | None = None,
        mount: str | None = None,
    ) -> None:
        self._rd = rd
        self._mount = mount  # where Real-Debrid's files appear to Jellyfin (the announcement's path), if set
        self._sessions = sessions
        self._account = account
        self._settings = settings
        self.bad_hashes = bad_hashes
        # Torrent rows whose probe is running (shared by the passes of one process): never `reconcile`d.
        self.in_flight = in_flight if in_flight is not None else set()
        self._stopping = stopping  # true once shutdown began: no new probe starts (`Interrupted`)
        # Download slots as last seen (shared by the process): while all are in use nothing new is added.
        self._slots = slots
        self.slot_waits: set[int] = set()  # requests that met full slots, to be tried again when one frees

    async def probe(
        self,
        verdict: Verdict,
        target: Wanted,
        *,
        request_id: int,
        keep_uncached: bool = False,
        min_share: float = 0.0,
        adopt_downloading: bool = True,
        also: Sequence[Wanted] = (),
    ) -> ProbeResult:
        """Find out whether `verdict`'s release is cached for `target`, keeping it if so (or if `keep_uncached`).

        `also` are other items of the same request (other seasons of the show): a pack that holds their wanted
        episodes too is added once with the union of the files, and a row records it for each item it serves, so
        the same hash is never added again for the next season.

        A torrent of the same hash downloading in the account is adopted (followed as ours to serve `target`)
        unless `adopt_downloading` is off: then it is left alone and nothing is added beside it (`BUSY`).
        Raises `Interrupted` instead of starting when shutdown has begun; a probe once started runs to its end.
        """
        cand = verdict.candidate
        if self._stopping():
            raise Interrupted("seerbridge is stopping")
        # An add of this hash that a crash or an error left unsettled is settled first: the account may hold it.
        await self._settle_leftovers(cand.info_hash)
        for existing in await self._account.with_hash(cand.info_hash):
            if existing.status.failed:
                continue
            reused = await self._reuse(existing, verdict, target, request_id=request_id, adopt=adopt_downloading)
            if reused is not None:
                return reused
        if self._slots is not None and not await self._slots.has_room():
            self.slot_waits.add(request_id)
            return ProbeResult(ProbeOutcome.NO_SLOT, verdict, detail="every Real-Debrid download slot is in use")
        row_id = await self._intent(verdict, target, request_id)  # in flight from here
        try:
            result = await self._add_and_check(
                verdict, target, row_id, request_id, keep_uncached=keep_uncached, min_share=min_share, also=also
            )
        finally:
            self.in_flight.discard(row_id)
        if result.outcome is ProbeOutcome.NO_SLOT:
            self.slot_waits.add(request_id)
        return result

    async def _add_and_check(
        self,
        verdict: Verdict,
        target: Wanted,
        row_id: int,
        request_id: int,
        *,
        keep_uncached: bool,
        min_share: float,
        also: Sequence[Wanted],
    ) -> ProbeResult:
        cand = verdict.candidate
        try:
            rd_id = await self._rd.add_magnet(cand.info_hash, cand.name)
        except RequestRejected as exc:
            await self._set_row(row_id, TorrentEvent.FAILED)
            if is_infringing(exc):
                await self._mark_bad(cand.info_hash, "Real-Debrid refused it (451 infringing_file)", "realdebrid:451")
                return ProbeResult(ProbeOutcome.REFUSED, verdict, detail="451 infringing_file")
            if is_too_many_active(exc):
                self._no_slot()
                return ProbeResult(ProbeOutcome.NO_SLOT, verdict, detail="too many active downloads")
            return ProbeResult(ProbeOutcome.FAILED, verdict, detail=str(exc))
        except ServiceError:
            # A timeout may still have added it: the row stays in `adding`, and `reconcile` settles it next pass.
            raise
        try:
            async with self._sessions.begin() as session:
                await repo.mark_added(session, row_id, rd_id)
            return await self._select_and_check(
                rd_id,
                row_id,
                verdict,
                target,
                request_id,
                keep_uncached=keep_uncached,
                min_share=min_share,
                also=also,
            )
        except ServiceError:
            # Half a probe must not stay behind: an unselected torrent in the account, and a row that `_owned`
            # would count. Undo it if Real-Debrid lets us; otherwise `reconcile` does at the next pass.
            await self._undo(rd_id, row_id)
            raise

    def _select(self, files: Sequence[FileFacts], target: Wanted, release_name: str | None) -> FileSelection:
        return select_wanted_files(files, target, release_name, self._settings)

    async def _reuse(
        self, existing: Torrent, verdict: Verdict, target: Wanted, *, request_id: int, adopt: bool = True
    ) -> ProbeResult | None:
        """A torrent with this hash is already in the account: use it instead of adding a duplicate."""
        try:
            info = await self._rd.torrent_info(existing.id)
        except NotFound:
            self._account.removed(existing.id)
            return None
        files = info.selected_files()
        selection = self._select(files, target, info.filename) if files else None
        if info.status is TorrentStatus.DOWNLOADED and selection is not None and selection.file_ids:
            await self._adopt(
                info, verdict, target, request_id, selection.file_ids, selection.covered, TorrentState.DOWNLOADED, True
            )
            return ProbeResult(
                ProbeOutcome.CACHED, verdict, selection.covered, info.id, "already in the account", info.filename
            )
        if info.status.in_progress and selection is not None and selection.file_ids:
            if not adopt:
                return ProbeResult(ProbeOutcome.BUSY, verdict, selection.covered, detail=f"{info.progress:.0f} %")
            await self._adopt(
                info,
                verdict,
                target,
                request_id,
                selection.file_ids,
                selection.covered,
                TorrentState.DOWNLOADING,
                False,
            )
            return ProbeResult(ProbeOutcome.IN_PROGRESS, verdict, selection.covered, info.id, "already downloading")
        return None  # in the account but without the files we want: a new torrent with our selection is needed

    async def _select_and_check(
        self,
        rd_id: str,
        row_id: int,
        verdict: Verdict,
        target: Wanted,
        request_id: int,
        *,
        keep_uncached: bool,
        min_share: float,
        also: Sequence[Wanted] = (),
    ) -> ProbeResult:
        cand = verdict.candidate
        info = await self._wait_for_files(rd_id)
        if info.status.failed:
            await self._drop(rd_id, row_id, TorrentEvent.FAILED)
            await self._mark_bad(cand.info_hash, f"Real-Debrid status {info.status.value}", "realdebrid:status")
            return ProbeResult(ProbeOutcome.FAILED, verdict, rd_id=rd_id, detail=info.status.value)
        if info.status is TorrentStatus.MAGNET_CONVERSION:
            if keep_uncached:
                # Real-Debrid is still fetching the metadata of a release we mean to download anyway: keep it (one
                # add, not one per attempt); the follower selects its files once the metadata is there.
                covered = verdict.episodes & target.episodes if verdict.episodes else target.episodes
                async with self._sessions.begin() as session:
                    await repo.set_torrent_state(
                        session, row_id, TorrentEvent.DOWNLOAD, cached=False, episodes=sorted(covered)
                    )
                self._account.added(info)
                detail = "metadata still converting; files are selected when it arrives"
                return ProbeResult(ProbeOutcome.DOWNLOADING, verdict, frozenset(covered), rd_id, detail)
            await self._drop(rd_id, row_id, TorrentEvent.DELETED)
            return ProbeResult(ProbeOutcome.CONVERTING, verdict, rd_id=rd_id, detail="still converting")
        name = info.original_filename or info.filename
        selection = self._select(info.files, target, name)
        if not selection.file_ids:
            await self._drop(rd_id, row_id, TorrentEvent.DELETED)
            if selection.unusable:  # true of the torrent whatever is wanted: never added again for anything
                await self._mark_bad(cand.info_hash, selection.reason or "nothing playable", "realdebrid:files")
            return ProbeResult(ProbeOutcome.NO_FILES, verdict, rd_id=rd_id, detail=selection.reason or "")
        if pack_share(selection, target) < min_share:
            await self._drop(rd_id, row_id, TorrentEvent.DELETED)
            detail = f"{len(selection.covered)} of {len(target.episodes)} wanted episodes"
            return ProbeResult(ProbeOutcome.TOO_FEW, verdict, selection.covered, rd_id, detail)
        # Other seasons of the request this pack holds: their files are selected in the same call (files can be
        # selected only once per torrent, so a later season could only be served by adding the hash again).
        siblings = [(w, self._select(info.files, w, name)) for w in also if w.key != target.key]
        siblings = [(w, sel) for w, sel in siblings if sel.file_ids and not set(sel.file_ids) & set(selection.file_ids)]
        every_file = sorted({*selection.file_ids, *(i for _, sel in siblings for i in sel.file_ids)})
        try:
            await self._rd.select_files(rd_id, every_file)
        except RequestRejected as exc:
            if is_too_many_active(exc):
                await self._drop(rd_id, row_id, TorrentEvent.DELETED)
                self._no_slot()
                return ProbeResult(ProbeOutcome.NO_SLOT, verdict, rd_id=rd_id, detail="too many active downloads")
            raise
        async with self._sessions.begin() as session:
            await repo.set_torrent_state(
                session,
                row_id,
                TorrentEvent.FILES,
                file_ids=list(selection.file_ids),
                episodes=sorted(selection.covered),
            )
        info = await self._settled_status(rd_id)
        if info.status is TorrentStatus.DOWNLOADED:
            await self._keep_cached(row_id, info, arrival_of(target, selection.covered))
            await self._serve_siblings(info, verdict, siblings, request_id, TorrentState.DOWNLOADED, cached=True)
            return ProbeResult(ProbeOutcome.CACHED, verdict, selection.covered, rd_id, filename=info.filename)
        if info.status.failed:
            await self._drop(rd_id, row_id, TorrentEvent.FAILED)
            await self._mark_bad(cand.info_hash, f"Real-Debrid status {info.status.value}", "realdebrid:status")
            return ProbeResult(ProbeOutcome.FAILED, verdict, rd_id=rd_id, detail=info.status.value)
        if keep_uncached:
            await self._set_row(row_id, TorrentEvent.DOWNLOAD, cached=False)
            await self._serve_siblings(info, verdict, siblings, request_id, TorrentState.DOWNLOADING, cached=False)
            self._account.added(info)
            return ProbeResult(ProbeOutcome.DOWNLOADING, verdict, selection.covered, rd_id, info.status.value)
        await self._drop(rd_id, row_id, TorrentEvent.DELETED)
        return ProbeResult(ProbeOutcome.NOT_CACHED, verdict, selection.covered, rd_id, info.status.value)

    async def reconcile(self) -> int:
        """Settle probes an error or a crash left half-done; returns how many rows it settled.

        Rows of a probe running now in this process are left alone. See `_settle` for what happens to each.
        """
        async with self._sessions() as session:
            rows = await repo.torrents_in_state(session, *_UNSETTLED)
        settled, relisted = await self._settle_rows(rows)
        # Settling a lost add listed the account afresh just now: the sweep reads that listing, not another.
        await self._remove_late_copies(relist=not relisted)
        return settled

    async def _remove_late_copies(self, *, relist: bool = True) -> None:
        """Delete copies Real-Debrid made late of an add we settled as never made (its answer was lost, and the
        service carried it out after we had looked): a torrent with the hash of such an add, added after it, that no
        row of ours knows. Looked for while such an add is recent (`acquire.late_add_window_minutes`), in a fresh
        listing; two copies of one hash never stay."""
        now = clock.now()
        window = timedelta(minutes=self._settings.late_add_window_minutes)
        async with self._sessions() as session:
            rows = await repo.all_torrents(session)
        lost = {
            row.info_hash: row.added_at
            for row in rows
            if row.state is TorrentState.FAILED
            and row.rd_id is None
            and row.ours
            and now - row.updated_at <= window
            and row.info_hash not in self.bad_hashes  # a 451 refusal: Real-Debrid said no, nothing comes late
        }
        if not lost:
            return
        busy = {row.info_hash for row in rows if row.state in _UNSETTLED}  # a probe of the hash is under way
        if relist:
            self._account.forget()
        for info_hash, asked_at in lost.items():
            if info_hash in busy:
                continue
            for torrent in await self._account.with_hash(info_hash):
                # Only a torrent nobody selected files of: our lost add never got that far, while a copy someone
                # chose files for is a person's or a probe's. Clocks differ between us and Real-Debrid: a copy from
                # well before our add was not made by it.
                if torrent.status not in _UNSELECTED or torrent.added < asked_at - LATE_COPY_SLACK:
                    continue
                if await self._claimed(info_hash, torrent.id):
                    continue
                await self._rd.delete(torrent.id, missing_ok=True)
                self._account.removed(torrent.id)
                log.warning("deleted a copy Real-Debrid made late of a lost add", info_hash=info_hash, rd_id=torrent.id)

    async def _claimed(self, info_hash: str, rd_id: str) -> bool:
        """Whether a row knows this torrent, or a probe of its hash is under way (read now, not at the sweep's start:
        a probe may have begun meanwhile, and its add is not ours to take back)."""
        async with self._sessions() as session:
            rows = await repo.our_torrents_with_hash(session, info_hash)
        return any(row.rd_id == rd_id or row.state in _UNSETTLED or row.id in self.in_flight for row in rows)

    async def _settle_leftovers(self, info_hash: str) -> None:
        async with self._sessions() as session:
            rows = await repo.our_torrents_with_hash(session, info_hash)
        await self._settle_rows([row for row in rows if row.state in _UNSETTLED])

    async def _settle_rows(self, rows: list[repo.TorrentRecord]) -> tuple[int, bool]:
        """Settle rows left unsettled; returns how many, and whether the account was listed afresh for a lost add."""
        busy = {row.info_hash for row in rows if row.id in self.in_flight}  # a probe of that hash is running now
        rows = [row for row in rows if row.info_hash not in busy]
        relisted = any(row.rd_id is None for row in rows)
        if relisted:
            self._account.forget()  # a lost add is looked for in a fresh listing, not one taken before it
        for row in rows:
            state = await self._settle(row)
            log.info("half-done probe settled", info_hash=row.info_hash, rd_id=row.rd_id, state=state.value)
        return len(rows), relisted

    async def _settle(self, row: repo.TorrentRecord) -> TorrentState:
        """Settle one row left ADDING or ADDED against the account, so it ends known-held or known-gone.

        ADDING: addMagnet was called and its answer never recorded, so Real-Debrid may or may not hold it. A torrent
        with the hash that still waits for file selection (nobody selected its files) is that lost add: deleted
        (row DELETED); none: row FAILED (nothing was added). Known limit: a same-hash torrent a person added by hand
        and never selected files for is indistinguishable from our lost add, and is deleted too.
        ADDED with file ids: files were selected and the check never recorded. A torrent Real-Debrid has finished
        (cached) is adopted as the probe would have kept it (row DOWNLOADED), unless the item already holds those
        episodes another way (e.g. an uncached download held while this probe ran); anything else is deleted
        (DELETED), and the next work on the item decides again, uncached downloads included.
        ADDED without file ids: an add whose probe stopped before selecting: deleted.
        """
        if row.rd_id is None:
            found = False
            for torrent in await self._account.with_hash(row.info_hash):
                if torrent.status in _UNSELECTED:
                    found = await self._rd.delete(torrent.id, missing_ok=True) or found
                    self._account.removed(torrent.id)
            state = TorrentState.DELETED if found else TorrentState.FAILED
            await self._set_row(row.id, TorrentEvent.DELETED if found else TorrentEvent.FAILED)
            return state
        if row.state is TorrentState.ADDED and row.file_ids:
            try:
                info = await self._rd.torrent_info(row.rd_id)
            except NotFound:
                self._account.removed(row.rd_id)
                await self._set_row(row.id, TorrentEvent.FAILED)
                return TorrentState.FAILED
            if info.status is TorrentStatus.DOWNLOADED and info.selected_files() and not await self._held(row):
                await self._keep_cached(row.id, info, await self._arrival_of_row(row))
                self._account.added(info)
                return TorrentState.DOWNLOADED
        found = await self._rd.delete(row.rd_id, missing_ok=True)
        self._account.removed(row.rd_id)
        state = TorrentState.DELETED if found else TorrentState.FAILED
        await self._set_row(row.id, TorrentEvent.DELETED if found else TorrentEvent.FAILED)
        return state

    async def _held(self, row: repo.TorrentRecord) -> bool:
        """Whether another torrent kept for the row's item already holds any of the row's episodes."""
        async with self._sessions() as session:
            siblings = await repo.torrents_of_item(session, row.item_key)
        held = {e for t in siblings if t.id != row.id and t.state in _KEPT for e in (t.episodes or (0,))}
        return bool(held & set(row.episodes or (0,)))

    async def _undo(self, rd_id: str, row_id: int) -> None:
        try:
            await self._rd.delete(rd_id, missing_ok=True)
        except ServiceError as exc:
            log.warning("could not undo a half-done probe; the next pass will", rd_id=rd_id, error=str(exc))
            return
        self._account.removed(rd_id)
        await self._set_row(row_id, TorrentEvent.DELETED)

    async def release(self, result: ProbeResult, event: TorrentEvent = TorrentEvent.DELETED) -> None:
        """Remove a torrent we added (e.g. a held uncached download once a cached copy was found)."""
        if result.rd_id is None:
            return
        async with self._sessions() as session:
            rows = await repo.our_torrents_with_hash(session, result.verdict.candidate.info_hash)
        for row in rows:
            if row.rd_id == result.rd_id:
                await self._drop(result.rd_id, row.id, event)

    async def reopen(self, result: ProbeResult) -> None:
        """Hand a held uncached download back to `reconcile` (row ADDED again, no call made): the work that held it
        stopped before deciding, so it is deleted at the next reconcile unless Real-Debrid has finished it."""
        if result.rd_id is None:
            return
        async with self._sessions() as session:
            rows = await repo.our_torrents_with_hash(session, result.verdict.candidate.info_hash)
        for row in rows:
            if row.rd_id == result.rd_id and row.state is TorrentState.DOWNLOADING:
                await self._set_row(row.id, TorrentEvent.REOPENED)
                log.info("held download left for reconcile", info_hash=row.info_hash, rd_id=row.rd_id)

    async def _settled_status(self, rd_id: str) -> TorrentInfo:
        """The status after files were selected. A cached torrent can read `downloading` at 100 % (or `queued`) for a
        moment before `downloaded`: read again, a bounded number of times, before calling it not cached."""
        info = await self._rd.torrent_info(rd_id)
        reads = 1
        while reads < self._settings.conversion_polls and _may_still_be_cached(info, reads):
            await clock.sleep(self._settings.conversion_poll_s)
            info = await self._rd.torrent_info(rd_id)
            reads += 1
        return info

    async def _wait_for_files(self, rd_id: str) -> TorrentInfo:
        info = await self._rd.torrent_info(rd_id)
        polls = 1
        while info.status is TorrentStatus.MAGNET_CONVERSION and polls < self._settings.conversion_polls:
            await clock.sleep(self._settings.conversion_poll_s)
            info = await self._rd.torrent_info(rd_id)
            polls += 1
        return info

    async def _intent(self, verdict: Verdict, target: Wanted, request_id: int) -> int:
        cand = verdict.candidate
        row_id: int | None = None
        try:
            async with self._sessions.begin() as session:
                row_id = await repo.record_intent(
                    session,
                    info_hash=cand.info_hash,
                    name=cand.name,
                    item_key=target.key,
                    request_id=request_id,
                    season=target.season,
                    episodes=sorted(verdict.episodes),
                    file_ids=[],
                    size_bytes=cand.size_bytes,
                )
                await repo.set_item_folder(session, target.key, library_folder(target))
                # Marked in flight before the commit, so a reconcile running meanwhile never settles it.
                self.in_flight.add(row_id)
        except BaseException:
            if row_id is not None:
                self.in_flight.discard(row_id)
            raise
        return row_id

    async def _adopt(
        self,
        info: TorrentInfo,
        verdict: Verdict,
        target: Wanted,
        request_id: int,
        file_ids: tuple[int, ...],
        covered: frozenset[int],
        state: TorrentState,
        cached: bool,
    ) -> None:
        async with self._sessions.begin() as session:
            await self._record_kept(session, info, verdict, target, request_id, file_ids, covered, state, cached, True)

    async def _serve_siblings(
        self,
        info: TorrentInfo,
        verdict: Verdict,
        siblings: Sequence[tuple[Wanted, FileSelection]],
        request_id: int,
        state: TorrentState,
        *,
        cached: bool,
    ) -> None:
        """Record the kept pack for the other items it serves: a row each, pointing at the same torrent (ours)."""
        if not siblings:
            return
        async with self._sessions.begin() as session:
            for wanted, sel in siblings:
                await self._record_kept(
                    session, info, verdict, wanted, request_id, sel.file_ids, sel.covered, state, cached, False
                )

    async def _record_kept(
        self,
        session: AsyncSession,
        info: TorrentInfo,
        verdict: Verdict,
        target: Wanted,
        request_id: int,
        file_ids: tuple[int, ...],
        covered: frozenset[int],
        state: TorrentState,
        cached: bool,
        adopted: bool,
    ) -> None:
        """A row for a torrent already in the account, kept for `target` (and, when cached, owed to Jellyfin)."""
        row_id = await repo.record_intent(
            session,
            info_hash=verdict.candidate.info_hash,
            name=info.filename or verdict.candidate.name,
            item_key=target.key,
            request_id=request_id,
            season=target.season,
            episodes=sorted(covered),
            file_ids=list(file_ids),
            size_bytes=info.bytes,
        )
        await repo.mark_added(session, row_id, info.id, adopted=adopted)
        await repo.set_torrent_state(session, row_id, _KEEP_EVENT[state], cached=cached)
        await repo.set_item_folder(session, target.key, library_folder(target))
        if state is TorrentState.DOWNLOADED:
            await repo.set_torrent_files(session, row_id, selected_records(info, file_ids), names=rd_names(info))
            await owe_arrival(session, path=mount_path(self._mount, info.filename), arrival=arrival_of(target, covered))

    async def _keep_cached(self, row_id: int, info: TorrentInfo, arrival: Arrival | None) -> None:
        """Keep a cached torrent: its row DOWNLOADED with its files and, in the same transaction, Jellyfin and Seerr
        owed a look."""
        async with self._sessions.begin() as session:
            await repo.set_torrent_state(session, row_id, TorrentEvent.CACHED, cached=True)
            await repo.set_torrent_files(session, row_id, selected_records(info, ()), names=rd_names(info))
            await owe_arrival(session, path=mount_path(self._mount, info.filename), arrival=arrival)

    async def _arrival_of_row(self, row: repo.TorrentRecord) -> Arrival | None:
        async with self._sessions() as session:
            item = await repo.get_item(session, row.item_key)
        return None if item is None else arrival_of_row(item, row)

    async def _set_row(self, row_id: int, event: TorrentEvent, *, cached: bool | None = None) -> None:
        async with self._sessions.begin() as session:
            await repo.set_torrent_state(session, row_id, event, cached=cached)

    async def _drop(self, rd_id: str, row_id: int, event: TorrentEvent) -> None:
        await self._rd.delete(rd_id, missing_ok=True)
        self._account.removed(rd_id)
        await self._set_row(row_id, event)

    def _no_slot(self) -> None:
        if self._slots is not None:
            self._slots.full()

    async def _mark_bad(self, info_hash: str, reason: str, source: str) -> None:
        self.bad_hashes.add(info_hash.lower())
        async with self._sessions.begin() as session:
            await repo.mark_bad(session, info_hash, reason=reason, source=source, ttl=mark_ttl(source, self._settings))
        log.info("hash marked bad", info_hash=info_hash, reason=reason)
