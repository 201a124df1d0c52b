"""What seerbridge changed in the account over time: upgrades done and torrents removed, with their reasons."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

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
    return _record(UpgradeRecord, row)


async def list_upgrades(session: AsyncSession, request_id: int | None = None) -> list[UpgradeRecord]:
    query = select(Upgrade).order_by(Upgrade.id)
    if request_id is not None:
        query = query.where(Upgrade.request_id == request_id)
    return [_record(UpgradeRecord, r) for r in await session.scalars(query)]


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
    return _record(RemovalRecord, row)


async def list_removals(session: AsyncSession, request_id: int | None = None) -> list[RemovalRecord]:
    query = select(Removal).order_by(Removal.id)
    if request_id is not None:
        query = query.where(Removal.request_id == request_id)
    return [_record(RemovalRecord, r) for r in await session.scalars(query)]


_Record = TypeVar("_Record", UpgradeRecord, RemovalRecord)


def _record(kind: type[_Record], row: Upgrade | Removal) -> _Record:
    """The frozen record of a row: every field by name, the time read back as aware UTC."""
    values = {f.name: getattr(row, f.name) for f in dataclasses.fields(kind)}
    values["at"] = from_store(row.at)
    return kind(**values)


__all__ = [
    "RemovalRecord",
    "UpgradeRecord",
    "list_removals",
    "list_upgrades",
    "record_removal",
    "record_upgrade",
]
