"""What upgrades cost: calls and time per check, and how a library's checks spread over the revisit period.

A generated scenario (default 200 requests) is worked once against the in-process emulators (Real-Debrid unpaced,
its rate window off). Then two measurements, each on a fresh copy of that world:

1. One round with `--all`: every torrent below its cutoff is checked at once. Per outcome: how many, and the mean
   Torrentio and Real-Debrid calls and bridge wall time per check.
2. The daemon's schedule, on the virtual clock: hourly rounds for `--days` days with the default settings
   (revisit 14 days, 10 % of a 2000-call Torrentio budget). Prints the checks and Torrentio calls per day, the most
   checks in one round, and whether every eligible torrent was seen once within the revisit period.

Run: .venv/bin/python bench/bench_upgrade.py [--requests 200] [--seed 0] [--days 21]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from datetime import timedelta

from seerbridge.commands.demo import in_process, sandbox_settings
from seerbridge.logs import setup_logging
from seerbridge.pipeline.upgrade import Check, Upgrader
from seerbridge.runtime.bridge import open_bridge
from seerbridge.sandbox.generate import generated_scenario
from seerbridge.sandbox.world import Sandbox
from seerbridge.services.calls import CallLedger


async def fulfilled_world(requests: int, seed: int, db: str) -> Sandbox:
    scenario = generated_scenario(requests, seed=seed)
    scenario = scenario.model_copy(
        update={"realdebrid": scenario.realdebrid.model_copy(update={"premium_days": 3650, "active_limit": 1000})}
    )
    world = Sandbox(scenario)
    world.realdebrid_state.conversion_s = 0.0
    world.realdebrid_state.queue_s = 0.0
    world.realdebrid_state.rate.enabled = False
    settings = sandbox_settings(world, db, unpaced=True)
    async with open_bridge(settings, in_process(world), clock=world.clock) as bridge:
        await bridge.run_pass()
    return world


async def one_round(world: Sandbox, db: str) -> None:
    settings = sandbox_settings(world, db, unpaced=True)
    settings.search.cache_ttl_s = 0  # every check pays its search, as it would weeks later
    world.clock.advance(15 * 86400)
    async with open_bridge(settings, in_process(world), clock=world.clock) as bridge:
        upgrader = Upgrader(bridge)
        eligible = len(await upgrader.eligible())
        per_check: list[tuple[Check, dict[str, int], float]] = []
        tio, rd = world.control("torrentio"), world.control("realdebrid")
        rows = await upgrader.eligible()
        ctx = await bridge.new_context(CallLedger())
        for row in rows:
            before = (tio.count(), rd.count())
            started = time.perf_counter()
            check = await upgrader._check(row, ctx, bridge.now())  # one check at a time, to measure each
            spent = time.perf_counter() - started
            per_check.append(
                (check, {"torrentio": tio.count() - before[0], "realdebrid": rd.count() - before[1]}, spent)
            )
    print(f"1. one round over all {eligible} torrents seerbridge holds (checks one at a time):")
    print(f"   {'outcome':<24} {'n':>4} {'Torrentio':>10} {'Real-Debrid':>12} {'ms/check':>9}")
    groups: dict[str, list[tuple[Check, dict[str, int], float]]] = defaultdict(list)
    for entry in per_check:
        groups[entry[0].outcome].append(entry)
    for outcome, entries in sorted(groups.items()):
        tio_mean = statistics.fmean(e[1]["torrentio"] for e in entries)
        rd_mean = statistics.fmean(e[1]["realdebrid"] for e in entries)
        ms = statistics.fmean(e[2] for e in entries) * 1000
        print(f"   {outcome:<24} {len(entries):>4} {tio_mean:>10.2f} {rd_mean:>12.2f} {ms:>9.1f}")


async def schedule(world: Sandbox, db: str, days: int) -> None:
    settings = sandbox_settings(world, db, unpaced=True)
    settings.search.cache_ttl_s = 0
    budget = settings.torrentio.daily_budget * settings.upgrade.budget_share
    checks_per_day: Counter[int] = Counter()
    calls_per_day: Counter[int] = Counter()
    most_in_round = 0
    seen: dict[int, float] = {}
    tio = world.control("torrentio")
    async with open_bridge(settings, in_process(world), clock=world.clock) as bridge:
        upgrader = Upgrader(bridge)
        eligible = {r.id for r in await upgrader.eligible()}
        start = bridge.now()
        rounds = int(days * 86400 / settings.upgrade.interval_s)
        for _ in range(rounds):
            world.clock.advance(settings.upgrade.interval_s)
            day = int((bridge.now() - start) / timedelta(days=1))
            before = tio.count()
            report = await upgrader.round()
            calls_per_day[day] += tio.count() - before
            checks_per_day[day] += len(report.checks)
            most_in_round = max(most_in_round, len(report.checks))
            for check in report.checks:
                seen.setdefault(check.torrent_id, (bridge.now() - start) / timedelta(days=1))
    revisit = settings.upgrade.revisit_days
    print(
        f"2. hourly rounds for {days} days, revisit {revisit:.0f} days, "
        f"Torrentio share {budget:.0f} calls/day "
        f"({settings.upgrade.budget_share:.0%} of {settings.torrentio.daily_budget}):"
    )
    print(f"   eligible torrents: {len(eligible)}; most checks in one round: {most_in_round}")
    print("   checks per day:         " + " ".join(f"{checks_per_day[d]:>3}" for d in range(days)))
    print("   Torrentio calls per day: " + " ".join(f"{calls_per_day[d]:>3}" for d in range(days)))
    first_seen = sorted(seen.values())
    all_seen = eligible <= set(seen)
    print(
        f"   every eligible torrent checked: {'yes' if all_seen else 'NO'}"
        + (
            f", the last on day {first_seen[-1]:.1f} (first checks are due {revisit / 2:.0f}-{revisit:.0f} days after "
            "arrival)"
            if first_seen
            else ""
        )
    )
    worst = max(calls_per_day.values(), default=0)
    print(f"   most Torrentio calls in a day: {worst} (share: {budget:.0f}) -> {'PASS' if worst <= budget else 'FAIL'}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--days", type=int, default=21)
    args = parser.parse_args()
    setup_logging("warning")
    with tempfile.TemporaryDirectory(prefix="seerbridge-bench-") as tmp:
        for part in ("round", "schedule"):
            db = f"sqlite+aiosqlite:///{tmp}/{part}.db"
            world = await fulfilled_world(args.requests, args.seed, db)
            if part == "round":
                await one_round(world, db)
            else:
                await schedule(world, db, args.days)


if __name__ == "__main__":
    asyncio.run(main())
