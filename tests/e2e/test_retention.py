"""The daemon keeps the store from growing for ever: old decisions and expired search answers are pruned by its
periodic keeper, and the latest decision of every request and item survives."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from sqlalchemy import select

from seerbridge.runtime.daemon import PRUNE_KEY, Daemon, StopSignal
from seerbridge.store import repo
from seerbridge.store.models import Decision, SearchCache
from seerbridge.store.times import from_store
from tests.e2e.conftest import Factory


async def test_the_daemon_prunes_old_decisions_and_expired_search_answers(make_e2e: Factory) -> None:
    e2e = make_e2e(
        upgrade={"interval_s": 0.05, "enabled": False},  # the keeper's rounds come at once, and do nothing else
        server={"enabled": False},
        run={"poll_interval_s": 3600.0},
        database={"decisions_keep_days": 30},
    )
    await e2e.run()
    e2e.world.clock.advance(86400)  # what found nothing is due again: a second pass decides it again
    await e2e.run()
    async with e2e.store() as session:
        before = list(await session.scalars(select(Decision)))
        assert await session.scalar(select(SearchCache.query).limit(1)) is not None
    groups = {(d.request_id, d.item_key) for d in before}
    e2e.world.clock.advance(40 * 86400)  # every decision and cached answer of that pass is old now

    async with e2e.bridge() as bridge:
        daemon, stop = Daemon(e2e.settings, bridge), StopSignal()
        task = asyncio.create_task(daemon.run(stop))
        deadline = time.monotonic() + 60  # a bound on a hang, not a measure: the loop ends when the keeper wrote
        while True:
            async with bridge.sessions() as session:
                pruned_at = await repo.get_state(session, PRUNE_KEY)
            if pruned_at is not None:
                break
            assert time.monotonic() < deadline and not task.done(), "the daemon did not prune the store"
            await asyncio.sleep(0.02)
        stop.trigger()
        await asyncio.wait_for(task, 5)

    now = datetime.fromisoformat(pruned_at)
    async with e2e.store() as session:
        after = list(await session.scalars(select(Decision)))
        expiries = [from_store(at) for at in await session.scalars(select(SearchCache.expires_at))]
    assert all(at > now for at in expiries)  # any row left was written after the pass, by the daemon's own work

    # Every decision of the pass is older than the 30 days kept. Of those, only the latest of each (request, item)
    # may remain, and it does unless the daemon's own work decided that pair again before the prune.
    newest_before = max(d.id for d in before)
    latest = {group: max(d.id for d in before if (d.request_id, d.item_key) == group) for group in groups}
    survivors = {d.id for d in after if d.id <= newest_before}
    assert len(before) > len(groups)  # the pass left something to prune
    assert survivors <= set(latest.values())
    for (request_id, item_key), kept in latest.items():
        decided_again = any((d.request_id, d.item_key) == (request_id, item_key) for d in after if d.id > newest_before)
        assert kept in survivors or decided_again, (request_id, item_key)
