"""Deleting a torrent from Real-Debrid on purpose (an upgrade's replaced copy, a cleanup): one call, logged, and
recorded with its rule and reason so `stats` and the user can see what went and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge.domain.transitions import TorrentEvent
from seerbridge.services.realdebrid import RealDebridClient
from seerbridge.store import history, repo

log = structlog.get_logger("seerbridge.removal")


@dataclass(frozen=True)
class Doomed:
    """A torrent in the account planned for deletion, and why."""

    rd_id: str
    info_hash: str
    name: str
    size_bytes: int | None
    rule: str  # one of config.CLEANUP_RULES
    reason: str
    ours: bool  # added by seerbridge; False only when the user opted in for this rule
    torrent_id: int | None = None  # our row, when there is one
    request_id: int | None = None


async def remove(
    rd: RealDebridClient,
    sessions: async_sessionmaker[AsyncSession],
    doomed: Doomed,
    *,
    now: datetime,
) -> bool:
    """Delete one torrent; True when Real-Debrid held it (already gone counts as done, and is recorded too).

    A ServiceError propagates with nothing recorded: the torrent is still there and the next run plans it again.
    """
    held = await rd.delete(doomed.rd_id, missing_ok=True)
    async with sessions.begin() as session:
        if doomed.torrent_id is not None:
            await repo.set_torrent_state(session, doomed.torrent_id, TorrentEvent.DELETED, now=now)
        await history.record_removal(
            session,
            info_hash=doomed.info_hash,
            rd_id=doomed.rd_id,
            name=doomed.name,
            size_bytes=doomed.size_bytes if held else 0,
            rule=doomed.rule,
            reason=doomed.reason if held else f"{doomed.reason} (already gone from Real-Debrid)",
            ours=doomed.ours,
            torrent_id=doomed.torrent_id,
            request_id=doomed.request_id,
            now=now,
        )
    log.info(
        "torrent removed" if held else "torrent already gone",
        rule=doomed.rule,
        reason=doomed.reason,
        rd_id=doomed.rd_id,
        info_hash=doomed.info_hash,
        name=doomed.name,
        size_bytes=doomed.size_bytes,
        hand_added=not doomed.ours,
    )
    return held


__all__ = ["Doomed", "remove"]
