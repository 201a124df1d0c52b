"""Holding the account lease while a command may change the Real-Debrid account: taken, renewed, given up."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge import clock
from seerbridge.store import lease
from seerbridge.store.lease import Holder, LeaseHeld

log = structlog.get_logger("seerbridge.lease")

LEASE_TTL_S = 90.0  # a holder on another host that stops renewing (killed, cut off) is taken over after this
RENEW_EVERY_S = 30.0
LOCAL_WAIT_S = 5.0  # a process of this host killed a moment ago may not have been reaped yet


@contextlib.asynccontextmanager
async def account_lease(
    sessions: async_sessionmaker[AsyncSession],
    command: str,
    *,
    wait: asyncio.Event | None = None,
    on_lost: Callable[[], None] | None = None,
    ttl_s: float = LEASE_TTL_S,
    renew_s: float = RENEW_EVERY_S,
) -> AsyncIterator[Holder]:
    """Hold the lease for the body. Without `wait` a live holder raises LeaseHeld at once. With it (the daemon,
    whose stop event it is) a holder that may be gone is waited for: a process of this host for a few seconds, one
    on another host until its lease lapses (it is alive, and we give up, if it renews meanwhile)."""
    me = await (_take(sessions, command, ttl_s, wait) if wait is not None else lease.acquire(sessions, command, ttl_s))
    held = [me]

    async def keep() -> None:
        while True:
            await asyncio.sleep(renew_s)
            try:
                fresh = await lease.renew(sessions, held[0], ttl_s)
            except Exception as exc:  # a database hiccup: the lease still has most of its time
                log.warning("could not renew the account lease", error=f"{type(exc).__name__}: {exc}")
                continue
            if fresh is None:
                log.error("the account lease was taken by another seerbridge; stopping", command=command)
                if on_lost is not None:
                    on_lost()
                return
            held[0] = fresh

    keeper = asyncio.create_task(keep(), name="lease")
    try:
        yield me
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        try:
            await lease.release(sessions, held[0])
        except Exception as exc:  # it lapses by itself; the next start takes it over
            log.warning("could not give the account lease up", error=f"{type(exc).__name__}: {exc}")


async def _take(sessions: async_sessionmaker[AsyncSession], command: str, ttl_s: float, stop: asyncio.Event) -> Holder:
    local_deadline = time.monotonic() + LOCAL_WAIT_S
    seen_expiry: datetime | None = None
    while True:
        try:
            return await lease.acquire(sessions, command, ttl_s)
        except LeaseHeld as held:
            holder = held.holder
            if holder.host == socket.gethostname():
                if time.monotonic() > local_deadline:
                    raise
                pause = 0.25
            else:
                if seen_expiry is not None and holder.expires > seen_expiry:
                    raise  # it renewed while we waited: alive
                if seen_expiry is None:
                    log.warning(
                        "another host holds the account lease; waiting for it to lapse",
                        holder=holder.describe(),
                        until=holder.expires_at,
                    )
                seen_expiry = holder.expires
                pause = max((holder.expires - clock.wall()).total_seconds(), 0.0) + 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(pause, ttl_s))
            if stop.is_set():
                raise
