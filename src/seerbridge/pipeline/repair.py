"""Repair: notice fulfilled torrents that vanished from Real-Debrid or turned bad, and send their items back to work.

A torrent kept for an item can go later: Real-Debrid removes content retroactively (451 since 2026), an account is
cleaned up by hand, a torrent turns `error`, `dead` or `virus`, or a strm play finds its link dead. A round:

    gather   seerbridge's own kept torrents (adopted ones are the user's: never repaired), and one listing of the
             account, at most every `repair.interval_minutes` (a play failure asks for a round at once)
    decide   `find_broken` (pure): gone from the listing, or in a failed status, or reported by a play
    act      per broken torrent, one transaction: a `repairs` row (open until a new torrent is kept), the hash marked
             bad (for good for a virus, else for `acquire.bad_hash_days`), the torrent row FAILED (VANISHED), the
             item's verification cleared and the item NEW (REPAIR), its requests NEW (REPAIR) and due now; then the
             torrent, when it is still in the account, deleted (it is ours)

The requests are then worked as usual (the daemon queues them), except that an item under repair is acquired again
whatever Jellyfin and Seerr say: the library entry still stands (its path is kept, so Jellyfin keeps the item and its
watch history), and the new torrent takes its place behind the same path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge.config import Settings
from seerbridge.domain.states import ItemState, RequestState, TorrentState
from seerbridge.domain.transitions import ItemEvent, RequestEvent, TorrentEvent
from seerbridge.errors import ServiceError
from seerbridge.pipeline.bad_marks import mark_ttl
from seerbridge.services.realdebrid import RealDebridClient, Torrent
from seerbridge.store import repo

log = structlog.get_logger("seerbridge.repair")

CHECKED_KEY = "repair.checked_at"
REQUESTED_KEY = "repair.requested"  # torrent row id → why a play found it gone, until a round looks


@dataclass(frozen=True)
class Broken:
    row: repo.TorrentRecord
    kind: str  # vanished, error, dead, virus, magnet_error, play_failed
    reason: str
    in_account: bool  # still listed (then deleted after recording)

    @property
    def bad_source(self) -> str:
        return f"repair:{self.kind}"


def find_broken(rows: list[repo.TorrentRecord], listing: dict[str, Torrent], requested: dict[int, str]) -> list[Broken]:
    """Which of our kept torrents need repair, and why (pure)."""
    broken = []
    for row in rows:
        if row.adopted or row.state is not TorrentState.DOWNLOADED or row.rd_id is None:
            continue
        listed = listing.get(row.rd_id)
        if listed is None:
            broken.append(Broken(row, "vanished", f"gone from Real-Debrid: {row.name}", in_account=False))
        elif listed.status.failed:
            kind = listed.status.value
            broken.append(Broken(row, kind, f"Real-Debrid status {kind}: {row.name}", in_account=True))
        elif row.id in requested:
            broken.append(Broken(row, "play_failed", f"{requested[row.id]}: {row.name}", in_account=True))
    return broken


async def request_repair(sessions: async_sessionmaker[AsyncSession], torrent_id: int, reason: str) -> None:
    """Ask the next round to look at one torrent (a strm play found its file gone)."""
    async with sessions.begin() as session:
        requested = _load(await repo.get_state(session, REQUESTED_KEY))
        requested[torrent_id] = reason
        await repo.set_state(session, REQUESTED_KEY, json.dumps({str(k): v for k, v in requested.items()}))


def _load(raw: str | None) -> dict[int, str]:
    try:
        data = json.loads(raw) if raw else {}
        return {int(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (ValueError, TypeError):
        return {}


class Repairer:
    """Runs repair rounds for one bridge's store and Real-Debrid account."""

    def __init__(self, settings: Settings, rd: RealDebridClient, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.rd = rd
        self.sessions = sessions

    async def due(self, now: datetime) -> bool:
        """A round is due: the interval has passed since the last, or a play asked for one."""
        async with self.sessions() as session:
            last = await repo.get_state(session, CHECKED_KEY)
            requested = _load(await repo.get_state(session, REQUESTED_KEY))
        if requested:
            return True
        interval = timedelta(minutes=self.settings.repair.interval_minutes)
        return last is None or now - datetime.fromisoformat(last) >= interval

    async def round(self, now: datetime) -> list[int]:
        """Look at the account once and repair what broke; returns the ids of the requests to work again."""
        async with self.sessions() as session:
            rows = [r for r in await repo.torrents_in_state(session, TorrentState.DOWNLOADED) if not r.adopted]
            requested = _load(await repo.get_state(session, REQUESTED_KEY))
        listing: dict[str, Torrent] = {}
        if rows:
            listing = {t.id: t for t in await self.rd.torrents()}  # one listing, whatever the number of torrents
        broken = find_broken(rows, listing, requested)
        due: list[int] = []
        for item in broken:
            due.extend(await self._record(item, now))
        async with self.sessions.begin() as session:
            await repo.set_state(session, CHECKED_KEY, now.isoformat())
            still = _load(await repo.get_state(session, REQUESTED_KEY))
            left = {k: v for k, v in still.items() if k not in requested}
            await repo.set_state(session, REQUESTED_KEY, json.dumps({str(k): v for k, v in left.items()}))
        for item in broken:
            if item.in_account and item.row.rd_id is not None:
                try:
                    await self.rd.delete(item.row.rd_id, missing_ok=True)
                except ServiceError as exc:  # a later cleanup finds it (its row is ours and FAILED)
                    log.warning("could not delete a broken torrent", rd_id=item.row.rd_id, error=str(exc))
        if broken:
            log.info("repairs", broken=len(broken), requests=sorted(set(due)))
        return sorted(set(due))

    async def _record(self, broken: Broken, now: datetime) -> list[int]:
        row = broken.row
        ttl = mark_ttl(broken.bad_source, self.settings.acquire)
        async with self.sessions.begin() as session:
            current = await repo.get_torrent(session, row.id)
            if current is None or current.state is not TorrentState.DOWNLOADED:
                return []  # settled elsewhere meanwhile (a cleanup, an upgrade)
            requests = await repo.requests_of_item(session, row.item_key)
            await repo.add_repair(
                session, torrent=row, kind=broken.kind, reason=broken.reason, request_id=row.request_id, now=now
            )
            await repo.mark_bad(
                session, row.info_hash, reason=broken.reason, source=broken.bad_source, now=now, ttl=ttl
            )
            await repo.set_torrent_state(session, row.id, TorrentEvent.VANISHED, now=now)
            await repo.set_item_available(session, row.item_key, None)
            reason = f"repairing: {broken.reason}"
            item = await repo.get_item(session, row.item_key)
            if item is not None:
                await repo.set_item_state(session, row.item_key, ItemState.NEW, event=ItemEvent.REPAIR, reason=reason)
            due = []
            for request_id in requests:
                record = await repo.get_request(session, request_id)
                if record is None:
                    continue
                if record.state is not RequestState.WORKING:
                    await repo.set_request_state(
                        session, request_id, RequestState.NEW, event=RequestEvent.REPAIR, reason=reason, now=now
                    )
                await repo.schedule_request(session, request_id, next_attempt_at=now, backoff_step=0)
                due.append(request_id)
        log.warning("repair", kind=broken.kind, reason=broken.reason, info_hash=row.info_hash, requests=due)
        return due
