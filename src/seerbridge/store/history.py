"""What seerbridge changed in the account over time: upgrades done and torrents removed, with their reasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from seerbridge.store.models import Removal, Upgrade
from seerbridge.store.times import from_store, to_store


@dataclass(frozen=True)
class UpgradeRecord:
    id: int
    at: datetime
    item_key: str
    request_id: int | None
    profile: str
    old_torrent_id: int
    new_torrent_id: int
    old_name: str
    new_name: str
    old_score: int
    new_score: int


@dataclass(frozen=True)
class RemovalRecord:
    id: int
    at: datetime
    info_hash: str
    rd_id: str
    name: str
    size_bytes: int | None
    rule: str
    reason: str
    ours: bool
    torrent_id: int | None
    request_id: int | None


async def record_upgrade(
    session: AsyncSession,
    *,
    item_key: str,
    request_id: int | None,
    profile: str,
    old_torrent_id: int,
    new_torrent_id: int,
    old_name: str,
    new_name: str,
    old_score: int,
    new_score: int,
    now: datetime | None = None,
) -> UpgradeRecord:
    row = Upgrade(
        at=to_store(now),
        item_key=item_key,
        request_id=request_id,
        profile=profile,
        old_torrent_id=old_torrent_id,
        new_torrent_id=new_torrent_id,
        old_name=old_name,
        new_name=new_name,
        old_score=old_score,
        new_score=new_score,
    )
    session.add(row)
    await session.flush()
    return _upgrade_record(row)


async def list_upgrades(session: AsyncSession, request_id: int | None = None) -> list[UpgradeRecord]:
    query = select(Upgrade).order_by(Upgrade.id)
    if request_id is not None:
        query = query.where(Upgrade.request_id == request_id)
    return [_upgrade_record(r) for r in await session.scalars(query)]


async def record_removal(
    session: AsyncSession,
    *,
    info_hash: str,
    rd_id: str,
    name: str,
    size_bytes: int | None,
    rule: str,
    reason: str,
    ours: bool,
    torrent_id: int | None = None,
    request_id: int | None = None,
    now: datetime | None = None,
) -> RemovalRecord:
    row = Removal(
        at=to_store(now),
        info_hash=info_hash.lower(),
        rd_id=rd_id,
        name=name,
        size_bytes=size_bytes,
        rule=rule,
        reason=reason,
        ours=ours,
        torrent_id=torrent_id,
        request_id=request_id,
    )
    session.add(row)
    await session.flush()
    return _removal_record(row)


async def list_removals(session: AsyncSession, request_id: int | None = None) -> list[RemovalRecord]:
    query = select(Removal).order_by(Removal.id)
    if request_id is not None:
        query = query.where(Removal.request_id == request_id)
    return [_removal_record(r) for r in await session.scalars(query)]


def _upgrade_record(row: Upgrade) -> UpgradeRecord:
    return UpgradeRecord(
        id=row.id,
        at=from_store(row.at),
        item_key=row.item_key,
        request_id=row.request_id,
        profile=row.profile,
        old_torrent_id=row.old_torrent_id,
        new_torrent_id=row.new_torrent_id,
        old_name=row.old_name,
        new_name=row.new_name,
        old_score=row.old_score,
        new_score=row.new_score,
    )


def _removal_record(row: Removal) -> RemovalRecord:
    return RemovalRecord(
        id=row.id,
        at=from_store(row.at),
        info_hash=row.info_hash,
        rd_id=row.rd_id,
        name=row.name,
        size_bytes=row.size_bytes,
        rule=row.rule,
        reason=row.reason,
        ours=row.ours,
        torrent_id=row.torrent_id,
        request_id=row.request_id,
    )


__all__ = [
    "RemovalRecord",
    "UpgradeRecord",
    "list_removals",
    "list_upgrades",
    "record_removal",
    "record_upgrade",
]
