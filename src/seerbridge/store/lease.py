"""The account lease: one row that says which seerbridge process may change the Real-Debrid account right now."""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge import clock
from seerbridge.errors import SeerbridgeError
from seerbridge.store.models import AppState

LEASE_KEY = "lease.account"
_HELD_HERE: set[str] = set()  # tokens this process took and has not given up


@dataclass(frozen=True)
class Holder:
    """Who holds the lease: a token unique to one command run, what it runs, where, and until when."""

    token: str
    command: str
    host: str
    pid: int
    since: str  # ISO times: the row is JSON in app_state
    expires_at: str

    @classmethod
    def me(cls, command: str, ttl_s: float, now: datetime) -> Holder:
        return cls(
            token=uuid.uuid4().hex,
            command=command,
            host=socket.gethostname(),
            pid=os.getpid(),
            since=now.isoformat(timespec="seconds"),
            expires_at=(now + timedelta(seconds=ttl_s)).isoformat(timespec="seconds"),
        )

    def renewed(self, ttl_s: float, now: datetime) -> Holder:
        return replace(self, expires_at=(now + timedelta(seconds=ttl_s)).isoformat(timespec="seconds"))

    @property
    def expires(self) -> datetime:
        return datetime.fromisoformat(self.expires_at)

    def gone(self, now: datetime) -> bool:
        """The holder can no longer be working: its lease lapsed, or it was a process of this host that has ended.
        Our own pid with a token this process never took is an earlier life of a reused pid (pid 1 of a container
        restarted with a fixed hostname)."""
        if self.expires <= now:
            return True
        if self.host != socket.gethostname():
            return False
        if self.pid == os.getpid():
            return self.token not in _HELD_HERE
        return not process_alive(self.pid)

    def describe(self) -> str:
        return f"`seerbridge {self.command}` (pid {self.pid} on {self.host}, since {self.since})"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


class LeaseHeld(SeerbridgeError):
    """Another live seerbridge process holds the account lease."""

    def __init__(self, holder: Holder) -> None:
        self.holder = holder
        super().__init__(
            f"another seerbridge is working this account: {holder.describe()}; two at once could add a torrent "
            "twice or delete what the other just chose. Stop it first (or let the daemon do this: see "
            "`upgrade` and `cleanup.periodic`)"
        )


def process_alive(pid: int) -> bool:
    """Whether a process of this host runs under `pid` (a zombie, killed but not yet reaped, does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc here: the signal check is all there is
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _parse(value: str | None) -> Holder | None:
    if value is None:
        return None
    try:
        return Holder(**json.loads(value))
    except (TypeError, ValueError):
        return None  # a damaged row holds nothing


async def current(sessions: async_sessionmaker[AsyncSession]) -> Holder | None:
    """The holder written in the store, live or not."""
    async with sessions() as session:
        row = await session.get(AppState, LEASE_KEY)
        return _parse(row.value) if row else None


async def acquire(
    sessions: async_sessionmaker[AsyncSession], command: str, ttl_s: float, now: datetime | None = None
) -> Holder:
    """Take the lease, or raise LeaseHeld naming the live holder. Atomic across processes: an insert or a
    compare-and-set on the row's old value, so two starting at once cannot both win."""
    now = now or clock.wall()
    me = Holder.me(command, ttl_s, now)
    _HELD_HERE.add(me.token)  # before any write: the moment it commits, the row must read as live
    won = False
    try:
        for _ in range(3):  # lost races only: each loop sees a newer row
            try:
                async with sessions.begin() as session:
                    session.add(AppState(key=LEASE_KEY, value=me.to_json(), updated_at=now))
                won = True
                return me
            except IntegrityError:
                pass
            async with sessions.begin() as session:
                row = await session.get(AppState, LEASE_KEY)
                if row is None:
                    continue
                holder = _parse(row.value)
                if holder is not None and not holder.gone(now):
                    raise LeaseHeld(holder)
                won = await _swap(session, row.value, me, now)
            if won:
                return me
        raise LeaseHeld(await current(sessions) or me)
    finally:
        if not won:
            _HELD_HERE.discard(me.token)


async def renew(sessions: async_sessionmaker[AsyncSession], me: Holder, ttl_s: float) -> Holder | None:
    """Push the lease's expiry on; None when it is no longer ours (another process took it after it lapsed)."""
    now = clock.wall()
    async with sessions.begin() as session:
        row = await session.get(AppState, LEASE_KEY)
        held = _parse(row.value) if row else None
        if row is None or held is None or held.token != me.token:
            return None
        fresh = me.renewed(ttl_s, now)
        return fresh if await _swap(session, row.value, fresh, now) else None


async def release(sessions: async_sessionmaker[AsyncSession], me: Holder) -> None:
    """Give the lease up, if it is still ours."""
    async with sessions.begin() as session:
        row = await session.get(AppState, LEASE_KEY)
        held = _parse(row.value) if row else None
        if row is not None and held is not None and held.token == me.token:
            await session.execute(delete(AppState).where(AppState.key == LEASE_KEY, AppState.value == row.value))
    _HELD_HERE.discard(me.token)


async def _swap(session: AsyncSession, old: str, new: Holder, now: datetime) -> bool:
    result = await session.execute(
        update(AppState)
        .where(AppState.key == LEASE_KEY, AppState.value == old)
        .values(value=new.to_json(), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
