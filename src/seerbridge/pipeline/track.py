"""Track: follow the uncached downloads seerbridge keeps on Real-Debrid until they finish, fail or stall.

One round lists the account's active torrents once (`GET /torrents?filter=active`), so its cost grows neither with
the number of downloads nor with the size of the account; `torrents/info` is read only for a followed torrent that
listing no longer shows (it finished, failed or is gone: read once, as it leaves). Each followed row (state
`downloading` in the store) then meets its fate:

    downloaded                              → row `downloaded`; Jellyfin and Seerr told (once per round);
                                              requests with nothing left downloading → fulfilled (or partial)
    error, dead, virus, magnet_error        → deleted from Real-Debrid (never an adopted one), hash marked bad
    no progress for `follow.stall_minutes`    for a while (`acquire.bad_hash_days`, `acquire.stalled_hash_days`),
                                              row `failed`; its requests scheduled with the download backoff, so
                                              the next work picks the next candidate
    gone from the account                   → row `deleted`; its requests scheduled with the download backoff
    anything else                           → progress recorded (it moves `progress_at` only when it grew, or
                                              while `queued`: waiting for a slot of Real-Debrid's is no stall)

What Jellyfin and Seerr are owed is written to the store in the same transaction that marks a row downloaded, and
each round sends what is owed (pipeline/announce.py), so a crash or an outage of Jellyfin or Seerr never loses it.
Errors talking to a service are logged and make the round ask for a longer wait; nothing here raises a
ServiceError. The cadence is `next_delay`; the verdict on one torrent is `fate_of`.
Both are pure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge.config import Settings
from seerbridge.domain.media import MediaKind, Title, Wanted
from seerbridge.domain.states import KEPT_STATES, ItemState, RequestState, TorrentState
from seerbridge.domain.transitions import (
    ItemEvent,
    RequestEvent,
    TorrentEvent,
    derive_request_state,
    item_state,
)
from seerbridge.errors import NotFound, ServiceError
from seerbridge.pipeline import backoff
from seerbridge.pipeline.announce import announce, arrival_of_row, mount_path, owe_arrival
from seerbridge.pipeline.bad_marks import STALLED, mark_ttl
from seerbridge.pipeline.probe import select_wanted_files
from seerbridge.services.bundle import Services
from seerbridge.services.calls import CallLedger, attribute_only
from seerbridge.services.realdebrid import Torrent, TorrentStatus
from seerbridge.store import repo

log = structlog.get_logger("seerbridge.track")

RD_DOCUMENTED_LIMIT_PER_MIN = 250.0  # Real-Debrid's documented budget; used when pacing is lifted (setting 0)
LISTING_PAGE = 5000  # the most Real-Debrid lists in one call


_ITEM_REASONS = {
    ItemState.FULFILLED: "downloaded",
    ItemState.PARTIAL: "some wanted episodes downloaded",
    ItemState.NO_RELEASE: "download failed; the next candidate will be tried",
}


class Fate(StrEnum):
    """What one look at a followed download concluded."""

    WAITING = "waiting"  # still on its way (progress recorded)
    FINISHED = "downloaded"
    FAILED = "failed"  # Real-Debrid says it will not finish (error, dead, virus, magnet_error)
    STALLED = "stalled"  # no progress for `stall_minutes`
    MISSING = "missing"  # no longer in the account (deleted by hand)


def fate_of(row: repo.TorrentRecord, listed: Torrent | None, now: datetime, stall: timedelta) -> Fate:
    """The fate of a followed row given what Real-Debrid shows of it now (None: not in the account).

    Progress that grew since the last look is never a stall; the first look (no `progress_at` yet) starts the
    stall clock. Nor is a torrent `queued`, however long: Real-Debrid waits for a free slot of its own, and the
    stall clock starts again when it leaves the queue.
    """
    if listed is None:
        return Fate.MISSING
    if listed.status is TorrentStatus.DOWNLOADED:
        return Fate.FINISHED
    if listed.status.failed:
        return Fate.FAILED
    if listed.status is TorrentStatus.QUEUED or listed.progress > row.progress or row.progress_at is None:
        return Fate.WAITING
    return Fate.STALLED if now - row.progress_at >= stall else Fate.WAITING


def seconds_left(listed: Torrent) -> float | None:
    """Expected seconds until a downloading torrent is done, from its size, progress and speed (None: unknown)."""
    if listed.status is not TorrentStatus.DOWNLOADING or not listed.speed or listed.bytes <= 0:
        return None
    return listed.bytes * max(0.0, 100.0 - listed.progress) / 100.0 / listed.speed


def next_delay(
    *,
    following: int,
    soonest_s: float | None,
    calls: int,
    min_interval_s: float,
    max_interval_s: float,
    rate_share: float,
    rate_per_min: float,
) -> float:
    """Seconds to wait before the next round.

    Nothing followed: `max_interval_s`. Otherwise the wait aims at the soonest expected completion (10 % late,
    so it is there when we look), or at the geometric middle of the bounds when no download tells its speed; it is
    stretched with the crowd (`min_interval_s * (1 + log2 n)` for n downloads, since more downloads mean more
    follow-up calls per round) and clamped to [min_interval_s, max_interval_s]. Last, the budget: the calls this
    round made (at least one) may use no more than `rate_share` of `rate_per_min`, which wins over the upper
    bound after a costly round.
    """
    budget_s = max(calls, 1) * 60.0 / (rate_share * rate_per_min)
    if following <= 0:
        return max(max_interval_s, budget_s)
    aim = soonest_s * 1.1 + 1.0 if soonest_s is not None else math.sqrt(min_interval_s * max_interval_s)
    crowd = min_interval_s * (1.0 + math.log2(following))
    delay = min(max(aim, crowd, min_interval_s), max_interval_s)
    return max(delay, budget_s)


@dataclass(frozen=True)
class Look:
    """One followed row and what the round decided about it."""

    row: repo.TorrentRecord
    fate: Fate
    listed: Torrent | None
    detail: str = ""  # the status (or "stalled at 40 %") for reasons and logs


@dataclass
class FollowReport:
    """What one round did; `delay` is the wait it asks for before the next."""

    delay: float
    following: int = 0
    finished: list[str] = field(default_factory=list)  # info hashes
    failed: list[str] = field(default_factory=list)  # info hashes deleted (or given up) as dead, stalled, ...
    missing: list[str] = field(default_factory=list)
    bad: set[str] = field(default_factory=set)  # hashes marked bad this round
    announced: bool = False  # Jellyfin or Seerr was told about new files this round
    awaiting: int = 0  # new items Jellyfin does not show yet: Seerr's scan waits for them
    errors: list[str] = field(default_factory=list)
    calls: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def still(self) -> int:
        """Downloads still followed after this round."""
        return self.following - len(self.finished) - len(self.failed) - len(self.missing)


class Follower:
    """Follows the downloads in the store for one process; `follow()` runs one round."""

    def __init__(
        self,
        settings: Settings,
        services: Services,
        sessions: async_sessionmaker[AsyncSession],
        *,
        now: Callable[[], datetime],
        in_flight: set[int] | None = None,
    ) -> None:
        self.settings = settings
        self.services = services
        self.sessions = sessions
        self.now = now
        self.in_flight = in_flight if in_flight is not None else set()  # rows a probe is working on: not ours yet

    @property
    def _rate_per_min(self) -> float:
        configured = self.settings.realdebrid.rate_limit_per_min
        return configured if configured > 0 else RD_DOCUMENTED_LIMIT_PER_MIN

    async def follow(self) -> FollowReport:
        """One round: look at every followed download, act on its fate, announce, and say how long to wait."""
        ledger = CallLedger()
        report = FollowReport(delay=self.settings.follow.max_interval_s)
        with attribute_only(ledger):
            soonest = await self._look_and_act(report)
            await self._announce(report)
        report.calls = ledger.as_dict()
        if ledger.counts:
            async with self.sessions.begin() as session:
                await repo.add_shared_calls(session, ledger)
        cfg = self.settings.follow
        rd_calls = ledger.total("realdebrid")
        report.delay = next_delay(
            following=report.still,
            soonest_s=soonest,
            calls=rd_calls,
            min_interval_s=cfg.min_interval_s,
            max_interval_s=cfg.max_interval_s,
            rate_share=cfg.rate_share,
            rate_per_min=self._rate_per_min,
        )
        if report.awaiting:
            # Jellyfin is scanning new files: look for them again soon, so Seerr hears of them soon after.
            report.delay = min(report.delay, self.settings.jellyfin.arrival_check_s)
        if report.errors:
            # A service is failing: look again later, not sooner (the circuit breakers have their own view).
            report.delay = max(report.delay, cfg.max_interval_s)
        if report.finished or report.failed or report.missing:
            log.info(
                "downloads followed",
                finished=len(report.finished),
                failed=len(report.failed),
                missing=len(report.missing),
                still=report.still,
            )
        return report

    # ----- looking --------------------------------------------------------------------------------------------

    async def _look_and_act(self, report: FollowReport) -> float | None:
        async with self.sessions() as session:
            rows = await repo.torrents_in_state(session, TorrentState.DOWNLOADING)
        rows = [r for r in rows if r.id not in self.in_flight and r.rd_id is not None]
        report.following = len(rows)
        if not rows:
            return None
        try:
            listing = await self.services.realdebrid.torrents(active_only=True, page_size=LISTING_PAGE)
        except ServiceError as exc:
            self._failed_call(report, "could not list the active Real-Debrid torrents", exc)
            return None
        by_id = {t.id: t for t in listing}
        now = self.now()
        stall = timedelta(minutes=self.settings.follow.stall_minutes)
        soonest: float | None = None
        for row in rows:
            assert row.rd_id is not None
            listed = by_id.get(row.rd_id)
            if listed is None:
                try:
                    listed = await self._detail(row.rd_id)
                except ServiceError as exc:
                    self._failed_call(report, "could not read a download", exc, rd_id=row.rd_id)
                    continue
            look = self._look(row, listed, now, stall)
            if look.fate is Fate.WAITING and listed is not None:
                left = seconds_left(listed)
                if left is not None:
                    soonest = left if soonest is None else min(soonest, left)
            await self._act(look, now, report)
        return soonest

    async def _detail(self, rd_id: str) -> Torrent | None:
        """A torrent the active listing did not show (finished, failed or gone): read it alone; None when
        Real-Debrid no longer knows it."""
        try:
            return await self.services.realdebrid.torrent_info(rd_id)
        except NotFound:
            return None

    def _look(self, row: repo.TorrentRecord, listed: Torrent | None, now: datetime, stall: timedelta) -> Look:
        fate = fate_of(row, listed, now, stall)
        if fate is Fate.STALLED:
            assert listed is not None
            minutes = self.settings.follow.stall_minutes
            detail = f"stalled at {listed.progress:g} % ({listed.status.value}) for over {minutes:g} min"
        elif listed is None:
            detail = "no longer in the Real-Debrid account"
        else:
            detail = listed.status.value
        return Look(row, fate, listed, detail)

    # ----- acting ---------------------------------------------------------------------------------------------

    async def _act(self, look: Look, now: datetime, report: FollowReport) -> None:
        row = look.row
        if look.fate is Fate.WAITING:
            assert look.listed is not None
            if not row.file_ids and look.listed.status is TorrentStatus.WAITING_FILES_SELECTION:
                await self._select_late(look, now, report)  # kept while its metadata was still converting
                return
            queued = look.listed.status is TorrentStatus.QUEUED  # waiting for a slot: the stall clock restarts
            async with self.sessions.begin() as session:
                await repo.set_torrent_progress(session, row.id, look.listed.progress, moved_at=now, restart=queued)
        elif look.fate is Fate.FINISHED:
            await self._finished(look, now)
            report.finished.append(row.info_hash)
        elif look.fate is Fate.MISSING:
            await self._gone(look, now, TorrentState.DELETED, bad_source=None)
            report.missing.append(row.info_hash)
        else:
            if not row.adopted:
                try:
                    await self.services.realdebrid.delete(row.rd_id or "", missing_ok=True)
                except ServiceError as exc:
                    self._failed_call(report, "could not delete a failed download", exc, rd_id=row.rd_id)
                    return  # still `downloading` in the store: the next round tries again
            source = STALLED if look.fate is Fate.STALLED else f"realdebrid:{look.detail}"
            await self._gone(look, now, TorrentState.FAILED, bad_source=source)
            report.failed.append(row.info_hash)
            report.bad.add(row.info_hash)

    async def _select_late(self, look: Look, now: datetime, report: FollowReport) -> None:
        """A download kept before Real-Debrid had its metadata now has it: select the wanted files, as the probe
        would have. A torrent without them is dropped like a failed download (deleted, hash marked, next candidate)."""
        row = look.row
        assert row.rd_id is not None
        async with self.sessions() as session:
            item = await repo.get_item(session, row.item_key)
        if item is None:
            return
        try:
            info = await self.services.realdebrid.torrent_info(row.rd_id)
        except ServiceError as exc:
            self._failed_call(report, "could not read a download's files", exc, rd_id=row.rd_id)
            return
        kind = MediaKind.MOVIE if item.kind == "movie" else MediaKind.SHOW
        episodes = frozenset(row.episodes or item.wanted) if kind is MediaKind.SHOW else frozenset()
        wanted = Wanted(Title(kind, item.tmdb_id, ""), item.season, episodes, item.is4k)
        selection = select_wanted_files(
            info.files, wanted, info.original_filename or info.filename, self.settings.acquire
        )
        if not selection.file_ids:
            if not row.adopted:
                try:
                    await self.services.realdebrid.delete(row.rd_id, missing_ok=True)
                except ServiceError as exc:
                    self._failed_call(report, "could not delete a download without wanted files", exc, rd_id=row.rd_id)
                    return
            gone = Look(row, Fate.FAILED, look.listed, f"without wanted files ({selection.reason})")
            await self._gone(gone, now, TorrentState.FAILED, bad_source="realdebrid:files")
            report.failed.append(row.info_hash)
            report.bad.add(row.info_hash)
            return
        try:
            await self.services.realdebrid.select_files(row.rd_id, list(selection.file_ids))
        except ServiceError as exc:  # a full slot included: the next round tries again
            self._failed_call(report, "could not select a download's files", exc, rd_id=row.rd_id)
            return
        covered = sorted(selection.covered) if kind is MediaKind.SHOW else []
        async with self.sessions.begin() as session:
            await repo.set_torrent_state(
                session, row.id, TorrentEvent.FILES, file_ids=list(selection.file_ids), episodes=covered
            )
            await repo.set_torrent_progress(session, row.id, 0.0, moved_at=now, restart=True)
        log.info("download's files selected once its metadata arrived", info_hash=row.info_hash, rd_id=row.rd_id)

    @staticmethod
    async def _still_followed(session: AsyncSession, row: repo.TorrentRecord) -> bool:
        """Whether the row is still a download in the store (read in the caller's transaction): work running beside
        the follower (a cleanup, a request's work, an upgrade) may have settled it since the round began."""
        now_row = await repo.get_torrent(session, row.id)
        if now_row is None or now_row.state is not TorrentState.DOWNLOADING:
            log.debug("download settled elsewhere meanwhile", info_hash=row.info_hash, rd_id=row.rd_id)
            return False
        return True

    async def _finished(self, look: Look, now: datetime) -> None:
        """Mark it downloaded, owe Jellyfin and Seerr an announcement, and settle what it served (one transaction)."""
        row = look.row
        assert look.listed is not None
        async with self.sessions.begin() as session:
            if not await self._still_followed(session, row):
                return
            await repo.set_torrent_progress(session, row.id, 100.0, moved_at=now)
            await repo.set_torrent_state(session, row.id, TorrentEvent.FINISHED, cached=False, now=now)
            item = await repo.get_item(session, row.item_key)
            arrival = None if item is None else arrival_of_row(item, row)
            path = mount_path(self.settings.jellyfin.rd_mount_path, look.listed.filename)
            await owe_arrival(session, path=path, arrival=arrival)
            name = look.listed.filename or row.name
            await self._settle_item(session, row.item_key, now)
            for request_id in await repo.requests_of_item(session, row.item_key):
                await self._settle_finished_request(session, request_id, f"downloaded: {name}", now)
        log.info("download finished", info_hash=row.info_hash, name=row.name, adopted=row.adopted)

    async def _gone(self, look: Look, now: datetime, state: TorrentState, *, bad_source: str | None) -> None:
        """A download that will not finish: record it, and send what it served back to the search, with backoff."""
        row = look.row
        if look.fate is Fate.FAILED:
            reason = f"download {look.detail} on Real-Debrid: {row.name}"
        elif look.fate is Fate.STALLED:
            reason = f"download {look.detail}: {row.name}"
        else:
            reason = f"download gone ({look.detail}): {row.name}"
        async with self.sessions.begin() as session:
            if not await self._still_followed(session, row):
                return
            if bad_source is not None:
                ttl = mark_ttl(bad_source, self.settings.acquire)
                await repo.mark_bad(session, row.info_hash, reason=reason, source=bad_source, now=now, ttl=ttl)
            event = TorrentEvent.DELETED if state is TorrentState.DELETED else TorrentEvent.FAILED
            await repo.set_torrent_state(session, row.id, event, now=now)
            await self._settle_item(session, row.item_key, now)
            for request_id in await repo.requests_of_item(session, row.item_key):
                await self._reschedule_request(session, request_id, reason, now, dropped=row.info_hash)
        log.warning(
            "download dropped",
            info_hash=row.info_hash,
            name=row.name,
            why=look.detail,
            deleted=not row.adopted and bad_source is not None,
        )

    # ----- items and requests ---------------------------------------------------------------------------------

    async def _held(self, session: AsyncSession, key: str) -> tuple[set[int], bool]:
        """Episodes ({0} for a movie) on Real-Debrid for an item, and whether one of its torrents still downloads."""
        torrents = await repo.torrents_of_item(session, key)
        held = {e for t in torrents if t.state is TorrentState.DOWNLOADED for e in (t.episodes or (0,))}
        return held, any(t.state is TorrentState.DOWNLOADING for t in torrents)

    @staticmethod
    def _complete(item: repo.ItemRecord, held: set[int]) -> bool:
        if item.kind == "movie":
            return bool(held)
        return bool(held) and set(item.wanted) <= held

    async def _settle_item(self, session: AsyncSession, key: str, now: datetime) -> None:
        item = await repo.get_item(session, key)
        if item is None:
            return
        held, downloading = await self._held(session, key)
        if downloading:
            return
        state = item_state(complete=self._complete(item, held), held=bool(held), downloading=False)
        reason = _ITEM_REASONS[state]
        done: Iterable[int] = repo.MOVIE_DONE if item.kind == "movie" and held else sorted(held - {0})
        await repo.set_item_state(session, key, state, event=ItemEvent.FOLLOWED, reason=reason, done=done, now=now)
        # The decision log (what `status` shows for requests settled earlier) gets the download's ending too.
        names = [t.name for t in await repo.torrents_of_item(session, key) if t.state is TorrentState.DOWNLOADED]
        summary = f"{reason}: {', '.join(names)}" if state is ItemState.FULFILLED and names else reason
        for request_id in await repo.requests_of_item(session, key):
            await repo.add_decision(session, request_id=request_id, item_key=key, summary=summary, payload=[], now=now)

    async def _request_view(
        self, session: AsyncSession, request_id: int, *, next_candidate: bool = False
    ) -> RequestState:
        """The request's state derived from what Real-Debrid holds for each of its items (domain/transitions.py)."""
        states = []
        for item in await repo.items_of_request(session, request_id):
            held, busy = await self._held(session, item.key)
            states.append(item_state(complete=self._complete(item, held), held=bool(held), downloading=busy))
        return derive_request_state(states, next_candidate=next_candidate)

    async def _settle_finished_request(
        self, session: AsyncSession, request_id: int, reason: str, now: datetime
    ) -> None:
        record = await repo.get_request(session, request_id)
        # A request a worker holds gets its state from that worker; one already settled needs nothing.
        if record is None or record.state in (
            RequestState.WORKING,
            RequestState.FULFILLED,
            RequestState.AVAILABLE,
            RequestState.ALREADY_AVAILABLE,
        ):
            return
        state = await self._request_view(session, request_id)
        if state is RequestState.DOWNLOADING:
            return
        await repo.set_request_state(session, request_id, state, event=RequestEvent.FINISHED, reason=reason, now=now)
        cfg = self.settings.backoff
        schedule = backoff.after(
            state, record.backoff_step, now, cfg.request_minutes, recheck_minutes=cfg.settled_recheck_minutes
        )
        await repo.schedule_request(
            session,
            request_id,
            next_attempt_at=schedule.next_attempt_at,
            backoff_step=schedule.step,
            next_air_date=record.next_air_date,
        )

    async def _next_candidate(self, session: AsyncSession, request_id: int, now: datetime) -> tuple[str, str] | None:
        """(hash, name) of the release the request's next work will most likely try: the best acceptable one of the
        latest weighed decision of an item it still lacks, neither marked bad nor held already."""
        bad = await repo.bad_hashes(session, now=now)
        for item in await repo.items_of_request(session, request_id):
            held, busy = await self._held(session, item.key)
            if busy or self._complete(item, held):
                continue
            decision = await repo.latest_weighed_decision_of_item(session, item.key)
            if decision is None:
                continue
            kept = {t.info_hash for t in await repo.torrents_of_item(session, item.key) if t.state in KEPT_STATES}
            for entry in decision.payload:  # accepted first, best first (Bridge._record)
                info_hash = str(entry.get("info_hash") or "")
                if entry.get("accepted") and info_hash and info_hash not in bad and info_hash not in kept:
                    return info_hash, str(entry.get("name") or info_hash)
        return None

    async def _reschedule_request(
        self, session: AsyncSession, request_id: int, reason: str, now: datetime, *, dropped: str
    ) -> None:
        """A download of the request's was dropped: due again after the download backoff. While acceptable releases
        are left it is `waiting` for the next one (named in the reason), else `no_release`."""
        record = await repo.get_request(session, request_id)
        if record is None:
            return
        following = await self._next_candidate(session, request_id, now)
        state = await self._request_view(session, request_id, next_candidate=following is not None)
        cfg = self.settings.backoff
        schedule = backoff.after(
            RequestState.NO_RELEASE,
            record.backoff_step,
            now,
            cfg.download_minutes,
            recheck_minutes=cfg.settled_recheck_minutes,
        )
        assert schedule.next_attempt_at is not None
        if record.state is not RequestState.WORKING:  # a worker holds it: its state comes from that work
            when = schedule.next_attempt_at.strftime("%Y-%m-%d %H:%M UTC")
            if following is None:
                then = f"no other acceptable release known, searching again after {when}"
            else:
                info_hash, name = following
                then = f"next candidate {name}{' again' if info_hash == dropped else ''} after {when}"
            await repo.set_request_state(
                session, request_id, state, event=RequestEvent.DROPPED, reason=f"{reason}; {then}", now=now
            )
        await repo.schedule_request(
            session,
            request_id,
            next_attempt_at=schedule.next_attempt_at,
            backoff_step=schedule.step,
            next_air_date=record.next_air_date,
        )

    # ----- announcing -----------------------------------------------------------------------------------------

    async def _announce(self, report: FollowReport) -> None:
        done = await announce(self.services, self.sessions, now=self.now(), settings=self.settings)
        for what, exc in done.errors:
            self._failed_call(report, what, exc)
        report.announced = done.sent
        report.awaiting = done.awaiting

    def _failed_call(self, report: FollowReport, what: str, exc: ServiceError, **context: object) -> None:
        report.errors.append(f"{what}: {exc}")
        log.warning(what, error=str(exc), **context)
