"""The account lease: one holder at a time, taken over only from a holder that is gone, renewed, given up."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from seerbridge.runtime.lease import account_lease
from seerbridge.store import lease
from seerbridge.store.lease import LEASE_KEY, Holder, LeaseHeld, process_alive
from seerbridge.store.models import AppState


async def _plant(sessions: async_sessionmaker[Any], holder: Holder) -> None:
    async with sessions.begin() as session:
        session.add(AppState(key=LEASE_KEY, value=holder.to_json(), updated_at=datetime.now(UTC)))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


async def test_a_live_holder_keeps_the_lease_and_is_named(sessions: async_sessionmaker[Any]) -> None:
    first = await lease.acquire(sessions, "run", ttl_s=60)
    with pytest.raises(LeaseHeld) as refused:
        await lease.acquire(sessions, "cleanup --apply", ttl_s=60)
    assert refused.value.holder.token == first.token
    assert "`seerbridge run` (pid" in str(refused.value)
    await lease.release(sessions, first)
    second = await lease.acquire(sessions, "cleanup --apply", ttl_s=60)
    assert (await lease.current(sessions)) == second


async def test_many_takers_at_once_make_exactly_one_holder(sessions: async_sessionmaker[Any]) -> None:
    results = await asyncio.gather(
        *(lease.acquire(sessions, f"taker {n}", ttl_s=60) for n in range(8)), return_exceptions=True
    )
    winners = [r for r in results if isinstance(r, Holder)]
    assert len(winners) == 1, results
    assert all(isinstance(r, LeaseHeld) for r in results if not isinstance(r, Holder))
    assert (await lease.current(sessions)) == winners[0]


async def test_a_lapsed_lease_on_another_host_is_taken_over(sessions: async_sessionmaker[Any]) -> None:
    now = datetime.now(UTC)
    away = replace(Holder.me("run", 60, now - timedelta(minutes=5)), host="elsewhere", pid=1)
    await _plant(sessions, away)
    assert away.gone(now)
    taken = await lease.acquire(sessions, "run", ttl_s=60)
    assert taken.token != away.token
    alive_elsewhere = replace(Holder.me("run", 60, now), host="elsewhere", pid=1)
    assert not alive_elsewhere.gone(now)


async def test_a_dead_process_of_this_host_is_taken_over_at_once(sessions: async_sessionmaker[Any]) -> None:
    pid = _dead_pid()
    assert not process_alive(pid)
    await _plant(sessions, replace(Holder.me("run", 600, datetime.now(UTC)), pid=pid))
    taken = await lease.acquire(sessions, "upgrade", ttl_s=60)
    assert taken.command == "upgrade"


def test_a_killed_but_unreaped_process_counts_as_dead() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        for _ in range(200):  # until it has exited and is a zombie (not yet waited for)
            with open(f"/proc/{proc.pid}/stat") as stat:
                if stat.read().rpartition(")")[2].split()[0] == "Z":
                    break
            time.sleep(0.01)
        assert not process_alive(proc.pid)
    finally:
        proc.wait()


async def test_a_damaged_row_holds_nothing(sessions: async_sessionmaker[Any]) -> None:
    async with sessions.begin() as session:
        session.add(AppState(key=LEASE_KEY, value="{not json", updated_at=datetime.now(UTC)))
    assert await lease.current(sessions) is None
    assert (await lease.acquire(sessions, "run", ttl_s=60)).command == "run"


async def test_renew_moves_the_expiry_and_fails_once_another_took_it(sessions: async_sessionmaker[Any]) -> None:
    mine = await lease.acquire(sessions, "run", ttl_s=1)
    fresh = await lease.renew(sessions, mine, ttl_s=120)
    assert fresh is not None and fresh.expires > mine.expires
    async with sessions.begin() as session:  # another process took it over (ours lapsed while we stalled)
        row = await session.get(AppState, LEASE_KEY)
        row.value = replace(fresh, token="other").to_json()
    assert await lease.renew(sessions, fresh, ttl_s=120) is None
    await lease.release(sessions, fresh)  # not ours: left alone
    assert (await lease.current(sessions)).token == "other"  # type: ignore[union-attr]


async def test_the_context_renews_gives_up_and_reports_a_loss(sessions: async_sessionmaker[Any]) -> None:
    lost: list[str] = []
    async with account_lease(sessions, "run", renew_s=0.05, ttl_s=30) as me:
        await asyncio.sleep(0.2)
        renewed = await lease.current(sessions)
        assert renewed is not None and renewed.token == me.token and renewed.expires >= me.expires
    assert await lease.current(sessions) is None
    async with account_lease(sessions, "run", renew_s=0.05, on_lost=lambda: lost.append("lost")):
        async with sessions.begin() as session:
            row = await session.get(AppState, LEASE_KEY)
            row.value = replace(Holder.me("run", 60, datetime.now(UTC)), host="elsewhere").to_json()
        # The next renewal finds another holder: gate on that, with a hang guard, not on a fixed wait.
        for _ in range(2000):
            if lost:
                break
            await asyncio.sleep(0.01)
    assert lost == ["lost"]
    assert (await lease.current(sessions)).host == "elsewhere"  # type: ignore[union-attr]


@pytest.fixture
def live_pid() -> Iterator[int]:
    """The pid of a process of this host that runs for the whole test."""
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield other.pid
    other.kill()
    other.wait()


async def test_the_daemon_waits_for_a_lapse_but_not_for_a_live_holder(
    sessions: async_sessionmaker[Any], monkeypatch: pytest.MonkeyPatch, live_pid: int
) -> None:
    now = datetime.now(UTC)
    lapsing = replace(Holder.me("run", 0.5, now), host="elsewhere", pid=1)
    await _plant(sessions, lapsing)
    stop = asyncio.Event()
    async with account_lease(sessions, "run", wait=stop) as me:
        assert me.token != lapsing.token
    # A live process of this host, never lapsing within the test: refused after the short local wait.
    monkeypatch.setattr("seerbridge.runtime.lease.LOCAL_WAIT_S", 0.3)
    await _plant(sessions, replace(Holder.me("run", 600, now), pid=live_pid))
    with pytest.raises(LeaseHeld):
        async with account_lease(sessions, "run", wait=stop):
            pytest.fail("must not get the lease")
    stop.set()  # a stop while waiting ends the wait too
    with pytest.raises(LeaseHeld):
        async with account_lease(sessions, "run", wait=stop):
            pytest.fail("must not get the lease")


async def test_an_earlier_life_of_our_own_pid_is_gone(sessions: async_sessionmaker[Any]) -> None:
    """pid 1 of a container restarted with a fixed hostname finds its own pid in the lease: not a live rival."""
    await _plant(sessions, Holder.me("run", 600, datetime.now(UTC)))
    taken = await lease.acquire(sessions, "run", ttl_s=60)
    with pytest.raises(LeaseHeld):  # and what this process holds now is live, to itself too
        await lease.acquire(sessions, "run", ttl_s=60)
    await lease.release(sessions, taken)
