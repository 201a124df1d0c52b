"""From approval to "Available" in Seerr, and what a repair costs: virtual time, whose it is, and calls per service.

Everything runs in-process against the demo scenario's emulators, with seerbridge writing its own library into a
real folder that the Jellyfin emulator scans (strm or symlink mode; symlinks point into a real folder standing in for
the zurg mount, which the sandbox brings up to date at every Real-Debrid call, so the mount never lags here).
Real-Debrid behaves as in the e2e tests (metadata converts over several reads, a cached torrent reads `downloading`
at 100 % for a moment); seerbridge's waits between those reads pass on the virtual clock, which otherwise runs at
real speed, so real time spent in the bridge and the emulators shows on it too.

1. Approval to AVAILABLE, for a cached movie (Haunt, 2019) in strm and symlink mode and a cached season pack
   (Severance S02) in strm mode. The daemon is modelled without its sockets and real waits: it has started (start-up
   reconcile, library sync and first poll, with nothing approved yet); an admin's request is then inserted approved
   in Seerr and its webhook is taken to arrive at that instant (t0); the worker does what `Daemon._worker` does
   (`work_request`, then `announce`); the follower, woken by the worker, waits `follow.min_interval_s` and then runs
   its rounds (`follow_downloads`, which announces) with the clock moved by the delay each round returns
   (`jellyfin.arrival_check_s` while Jellyfin has not listed the new items) until Seerr shows the title available.
   The total splits into
     ours     - from t0 until Jellyfin is told the folder (search, Real-Debrid add/select/settle reads, writing
                the library entry), plus the final round from the moment Jellyfin lists the item (its look, Seerr's
                scan job, marking the media available);
     Jellyfin - from being told the folder until the emulator lists the item: its monitor delay (60 s). The emulator
                models no scan time for a reported folder (`scan_duration_s` applies to whole-library scans only,
                which seerbridge does not ask for when it writes the library);
     cadence  - from Jellyfin listing the item until seerbridge looks again (the follower's wake wait and
                `arrival_check_s` rounds).
   `settle s` is the virtual time seerbridge slept between Real-Debrid reads (part of ours); `bridge ms` and `CPU ms`
   the real wall and CPU time of all seerbridge's calls from t0 to AVAILABLE (every follower round included, though
   only the worker's and the last round's are in ours), with the time spent inside the in-process emulators taken out
   (`emu ms`). Calls are what each emulator received from t0 to AVAILABLE.
2. A repair: Night of the Living Dead (requests 101 and 108, one item) is made AVAILABLE, then its 1080p torrent
   vanishes from Real-Debrid (the 720p copy is cached too). One repair round (`Repairer.round`: one account listing),
   then the requests it returns worked as the daemon's workers take them (`run.concurrency` at once: 4 by default;
   the last case has one worker, so 101 is repaired before 108 is taken), each followed by `announce`, then follower
   rounds until 101 is AVAILABLE again. Printed: the calls of each phase; the virtual time from the round to
   AVAILABLE (the wait for the round itself, `repair.interval_minutes`, is not counted); whether the library kept its
   paths; and where both requests stand, then and after the poller's next pass. "search cached" repairs at once
   (Torrentio's answer from the first acquisition is still reused, `search.cache_ttl_s`); "search expired" moves the
   clock past that first, as for a film that has been there a while.

Figures are printed, not judged. Run: .venv/bin/python bench/bench_available.py
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as day_time
from pathlib import Path
from typing import Literal, TypeVar

import httpx

from seerbridge.commands.demo import in_process, sandbox_settings
from seerbridge.config import Settings
from seerbridge.domain.states import RequestState
from seerbridge.logs import setup_logging
from seerbridge.pipeline.process import Bridge
from seerbridge.pipeline.repair import Repairer
from seerbridge.runtime.bridge import open_bridge
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import Scenario, load_scenario
from seerbridge.sandbox.seerr_models import MediaStatus
from seerbridge.sandbox.world import SERVICES, Sandbox, ServiceName
from seerbridge.store import repo

T = TypeVar("T")
Mode = Literal["strm", "symlink"]

HAUNT_TMDB = 572802
SEVERANCE_TMDB = 95396
NOTLD_1080P = "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-EXAMPLE"
MAX_ROUNDS = 100  # follower rounds before giving up (a bug, not a figure)


class CountingClock(VirtualClock):
    """The emulators' virtual clock, adding up the virtual seconds seerbridge's waits passed (`clock.sleep`)."""

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__(start)
        self.slept = 0.0

    async def sleep(self, seconds: float) -> None:
        self.slept += max(0.0, seconds)
        await super().sleep(seconds)


@dataclass
class Meter:
    """Real time spent inside the emulator apps (they run in this process, to the end of each call)."""

    wall: float = 0.0
    cpu: float = 0.0


class TimedTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, meter: Meter) -> None:
        self.inner = inner
        self.meter = meter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.meter.wall += time.perf_counter() - wall
            self.meter.cpu += time.process_time() - cpu

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class World:
    sandbox: Sandbox
    clock: CountingClock
    settings: Settings
    meter: Meter
    transports: dict[str, httpx.AsyncBaseTransport]

    def marks(self) -> dict[ServiceName, int]:
        return {s: len(self.sandbox.control(s).log) for s in SERVICES}

    def calls_since(self, marks: dict[ServiceName, int]) -> dict[ServiceName, Counter[str]]:
        """What each emulator received since `marks`, by endpoint (ids in paths replaced by `{id}`)."""
        return {
            s: Counter(f"{r.method} {endpoint(s, r.path)}" for r in self.sandbox.control(s).log[marks[s] :])
            for s in SERVICES
        }


def make_world(tmp: Path, name: str, mode: Mode, scenario: Scenario) -> World:
    """The world as tests/e2e/conftest.py builds it with `library=mode`, on a counting clock."""
    root, mount = tmp / f"{name}-library", tmp / f"{name}-mount"
    root.mkdir()
    mount.mkdir()
    start = datetime.combine(scenario.today, day_time(12, 0), tzinfo=UTC) if scenario.today else None
    clock = CountingClock(start)
    sandbox = Sandbox(scenario, clock, library_root=root, mount_dir=mount if mode == "symlink" else None)
    settings = sandbox_settings(sandbox, f"sqlite+aiosqlite:///{tmp}/{name}.db", unpaced=True)
    settings.library.root = str(root)
    settings.library.mode = mode
    settings.library.mount_path = str(mount)
    meter = Meter()
    transports: dict[str, httpx.AsyncBaseTransport] = {
        n: TimedTransport(t, meter) for n, t in in_process(sandbox).items()
    }
    return World(sandbox, clock, settings, meter, transports)


_ID = re.compile(r"^(\d+|[0-9a-fA-F]{16,}|[A-Z0-9]{8,}|tt\d+.*|[0-9a-f-]{36})$")


def endpoint(service: ServiceName, path: str) -> str:
    prefix = {"realdebrid": "/rest/1.0", "torrentio": "/sort="}.get(service)
    if service == "torrentio" and "/stream/" in path:
        path = path[path.index("/stream/") :]
    elif prefix is not None and path.startswith(prefix):
        path = path[len(prefix) :]
    return "/".join("{id}" if _ID.match(part) else part for part in path.split("/"))


@dataclass
class Spent:
    """seerbridge's own calls: virtual seconds they took, and their real wall and CPU time."""

    virtual: float = 0.0
    wall: float = 0.0
    cpu: float = 0.0
    emulator_wall: float = 0.0
    emulator_cpu: float = 0.0


async def timed(world: World, spent: Spent, work: Callable[[], Awaitable[T]]) -> T:
    v, wall, cpu = world.clock.elapsed(), time.perf_counter(), time.process_time()
    ew, ec = world.meter.wall, world.meter.cpu
    try:
        return await work()
    finally:
        spent.virtual += world.clock.elapsed() - v
        spent.wall += time.perf_counter() - wall
        spent.cpu += time.process_time() - cpu
        spent.emulator_wall += world.meter.wall - ew
        spent.emulator_cpu += world.meter.cpu - ec


@dataclass
class Arrival:
    label: str
    total: float
    ours: float
    jellyfin: float
    cadence: float
    settle_waits: float
    rounds: int
    spent: Spent
    calls: dict[ServiceName, Counter[str]]
    state: RequestState
    monitor_delay_s: float
    check_s: float


def no_requests(scenario: Scenario) -> Scenario:
    return scenario.model_copy(update={"requests": []})


def seerr_available(sandbox: Sandbox, tmdb_id: int, season: int | None) -> bool:
    media = sandbox.seerr_state.media_for(tmdb_id)
    if media is None:
        return False
    if season is None:
        return media.status is MediaStatus.AVAILABLE
    row = media.season(season)
    return row is not None and row.status is MediaStatus.AVAILABLE


def listed_at(sandbox: Sandbox, root: str, since: datetime) -> datetime:
    """When the Jellyfin emulator listed the newest video under the library root (its items' DateCreated)."""
    found = [
        item.date_created
        for item in sandbox.jellyfin_state.items.values()
        if item.kind in ("Movie", "Episode") and (item.path or "").startswith(root + "/") and item.date_created >= since
    ]
    if not found:
        raise RuntimeError("Jellyfin lists nothing new under the library root")
    return max(found)


async def request_state(bridge: Bridge, request_id: int) -> RequestState:
    async with bridge.sessions() as session:
        record = await repo.get_request(session, request_id)
    if record is None:
        raise RuntimeError(f"request {request_id} is not in the store")
    return record.state


async def follow_until(
    world: World, bridge: Bridge, spent: Spent, done: Callable[[], Awaitable[bool]]
) -> tuple[int, datetime]:
    """The follower, woken by a worker: its shortest wait, then rounds `delay` apart until `done()`; returns the
    number of rounds and when the last began."""
    world.clock.advance(world.settings.follow.min_interval_s)
    for rounds in range(1, MAX_ROUNDS + 1):
        started = world.clock.now()
        delay = await timed(world, spent, bridge.follow_downloads)
        if await done():
            return rounds, started
        world.clock.advance(delay)
    raise RuntimeError(f"not done after {MAX_ROUNDS} follower rounds")


async def to_available(tmp: Path, label: str, mode: Mode, tmdb_id: int, season: int | None) -> Arrival:
    world = make_world(tmp, label.replace(" ", "-").replace(",", ""), mode, no_requests(load_scenario("demo")))
    sandbox, root = world.sandbox, world.settings.library.root or ""
    async with open_bridge(world.settings, world.transports, clock=world.clock) as bridge:
        # The daemon has started (Daemon._start, then the poller's first pass) before anything is approved.
        await bridge.reconcile()
        await bridge.announce(full_sync=True)
        assert await bridge.due_request_ids() == []
        marks, world.clock.slept, spent = world.marks(), 0.0, Spent()
        told_before = len(sandbox.jellyfin_state.media_updates)
        row = sandbox.seerr_state.add_request(tmdb_id, seasons=[season] if season else None, approved=True)
        t0 = world.clock.now()  # the webhook arrives and queues the request

        async def worker() -> None:
            await bridge.work_request(row.id)
            await bridge.announce()

        await timed(world, spent, worker)

        async def available() -> bool:
            return seerr_available(sandbox, tmdb_id, season)

        rounds, last_start = 0, t0
        if not await available():
            rounds, last_start = await follow_until(world, bridge, spent, available)
        t_available = world.clock.now()
        calls = world.calls_since(marks)
        told = sandbox.jellyfin_state.media_updates[told_before:]
        if not told:
            raise RuntimeError("Jellyfin was never told of the new folder")
        t_told = told[0].at
        t_listed = listed_at(sandbox, root, t0)
        state = await request_state(bridge, row.id)
    looked = max(last_start, t_listed)
    return Arrival(
        label=label,
        total=(t_available - t0).total_seconds(),
        ours=(t_told - t0).total_seconds() + (t_available - looked).total_seconds(),
        jellyfin=(t_listed - t_told).total_seconds(),
        cadence=(looked - t_listed).total_seconds(),
        settle_waits=world.clock.slept,
        rounds=rounds,
        spent=spent,
        calls=calls,
        state=state,
        monitor_delay_s=sandbox.jellyfin_state.monitor_delay_s,
        check_s=world.settings.jellyfin.arrival_check_s,
    )


@dataclass
class Repair:
    label: str
    phases: dict[str, dict[ServiceName, Counter[str]]] = field(default_factory=dict)
    due: list[int] = field(default_factory=list)
    seconds: float = 0.0
    rounds: int = 0
    states: dict[int, RequestState] = field(default_factory=dict)
    same_path: bool = False
    polled: list[int] = field(default_factory=list)
    after_poll: dict[int, RequestState] = field(default_factory=dict)
    spent: Spent = field(default_factory=Spent)


async def repair(tmp: Path, mode: Mode, *, later: bool, workers: int | None = None) -> Repair:
    ids = [101, 108]
    demo = load_scenario("demo")
    scenario = demo.model_copy(update={"requests": [r for r in demo.requests if r.id in ids]})
    world = make_world(tmp, f"repair-{mode}-{later}-{workers}", mode, scenario)
    if workers is not None:
        world.settings.run.concurrency = workers
    sandbox = world.sandbox
    label = f"{mode}, {'search expired' if later else 'search cached'}"
    out = Repair(label + (f", {workers} worker{'s' if workers > 1 else ''}" if workers is not None else ""))
    async with open_bridge(world.settings, world.transports, clock=world.clock) as bridge:
        await bridge.run_pass(set(ids))
        world.clock.advance(sandbox.jellyfin_state.monitor_delay_s + 5)
        await bridge.announce()
        if [await request_state(bridge, i) for i in ids] != [RequestState.AVAILABLE] * 2:
            raise RuntimeError("Night of the Living Dead is not available before the repair")
        before = entries(world)
        if later:  # the film has been there a while: Torrentio's answer is no longer reused
            world.clock.advance(world.settings.search.cache_ttl_s + 60)
        info_hash = next(r.info_hash for r in sandbox.scenario.releases if r.name == NOTLD_1080P)
        sandbox.realdebrid_state.vanish(sandbox.realdebrid_state.torrents_with_hash(info_hash)[0].id)
        sandbox.sync_mount()
        spent = out.spent
        start = world.clock.now()

        marks = world.marks()
        repairer = Repairer(bridge.settings, bridge.services.realdebrid, bridge.sessions)
        out.due = await timed(world, spent, lambda: repairer.round(bridge.now()))
        out.phases["repair round"] = world.calls_since(marks)

        marks = world.marks()
        # The round queues its requests; the daemon's workers (run.concurrency of them) take them at once.
        slots = asyncio.Semaphore(world.settings.run.concurrency)

        async def worker(request_id: int) -> None:
            async with slots:
                await bridge.work_request(request_id)
                await bridge.announce()

        async def all_workers() -> None:
            await asyncio.gather(*(worker(i) for i in out.due))

        await timed(world, spent, all_workers)
        out.phases["work again"] = world.calls_since(marks)

        async def available() -> bool:
            return await request_state(bridge, ids[0]) is RequestState.AVAILABLE

        marks = world.marks()
        if not await available():
            out.rounds, _ = await follow_until(world, bridge, spent, available)
        out.phases["until available"] = world.calls_since(marks)
        out.seconds = (world.clock.now() - start).total_seconds()
        out.states = {i: await request_state(bridge, i) for i in ids}
        out.same_path = entries(world) == before
        # The poller's next pass, after the repair: what it finds due, and where the requests end.
        out.polled = await bridge.due_request_ids()
        for request_id in out.polled:
            await bridge.work_request(request_id)
            await bridge.announce()
        out.after_poll = {i: await request_state(bridge, i) for i in ids}
    return out


def entries(world: World) -> set[str]:
    """The library's entries, as paths under its root."""
    root = Path(world.settings.library.root or "")
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def total(calls: dict[ServiceName, Counter[str]], service: ServiceName) -> int:
    return sum(calls[service].values())


def detail(calls: dict[ServiceName, Counter[str]]) -> list[str]:
    lines = []
    for service in SERVICES:
        if calls[service]:
            listed = ", ".join(f"{ep} {n}" for ep, n in sorted(calls[service].items()))
            lines.append(f"      {service:<10} {listed}")
    return lines


def print_arrivals(arrivals: list[Arrival]) -> None:
    first = arrivals[0]
    print(
        f"1. approval (webhook) to AVAILABLE in Seerr: Jellyfin's monitor delay {first.monitor_delay_s:.0f} s, "
        f"seerbridge looks every {first.check_s:.0f} s (jellyfin.arrival_check_s); virtual seconds unless ms"
    )
    print(
        f"   {'case':<22} {'total s':>7} {'ours s':>6} {'Jellyfin s':>10} {'cadence s':>9} {'ours':>5} "
        f"{'settle s':>8} {'bridge ms':>9} {'CPU ms':>6} {'emu ms':>6} {'rounds':>6}  "
        f"{'Seerr':>5} {'Jellyfin':>8} {'Torrentio':>9} {'RD':>3}"
    )
    for a in arrivals:
        bridge_wall = (a.spent.wall - a.spent.emulator_wall) * 1e3
        bridge_cpu = (a.spent.cpu - a.spent.emulator_cpu) * 1e3
        print(
            f"   {a.label:<22} {a.total:>7.1f} {a.ours:>6.2f} {a.jellyfin:>10.1f} {a.cadence:>9.2f} "
            f"{a.ours / a.total:>5.1%} {a.settle_waits:>8.2f} {bridge_wall:>9.1f} {bridge_cpu:>6.1f} "
            f"{a.spent.emulator_wall * 1e3:>6.1f} {a.rounds:>6}  {total(a.calls, 'seerr'):>5} "
            f"{total(a.calls, 'jellyfin'):>8} {total(a.calls, 'torrentio'):>9} {total(a.calls, 'realdebrid'):>3}"
        )
    print(
        "   ours = t0 until Jellyfin is told + the final round from Jellyfin listing the item; settle s: virtual waits "
        "between Real-Debrid reads (part of ours);\n"
        "   bridge/CPU ms: real time of all seerbridge's calls t0..AVAILABLE (follower rounds included), emulators' "
        "time (emu ms) taken out; rounds: follower rounds"
    )
    print("   calls by endpoint, t0 to AVAILABLE:")
    for a in arrivals:
        print(f"    {a.label} (request ends {a.state.value}):")
        for line in detail(a.calls):
            print(line)


def print_repairs(repairs: list[Repair]) -> None:
    print("\n2. calls per repair: Night of the Living Dead (requests 101 + 108, one item) after its torrent vanished")
    width = max(len(r.label) for r in repairs)
    print(f"   {'case':<{width}}  {'phase':<16} {'Seerr':>5} {'Jellyfin':>8} {'Torrentio':>9} {'RD':>3}")
    for r in repairs:
        whole: dict[ServiceName, Counter[str]] = {s: Counter() for s in SERVICES}
        for phase, calls in [*r.phases.items(), ("whole repair", whole)]:
            if phase != "whole repair":
                for s in SERVICES:
                    whole[s].update(calls[s])
            print(
                f"   {r.label:<{width}}  {phase:<16} {total(calls, 'seerr'):>5} {total(calls, 'jellyfin'):>8} "
                f"{total(calls, 'torrentio'):>9} {total(calls, 'realdebrid'):>3}"
            )
    for r in repairs:
        states = ", ".join(f"{i} {s.value}" for i, s in r.states.items())
        after = ", ".join(f"{i} {s.value}" for i, s in r.after_poll.items())
        print(
            f"   {r.label}: the round found requests {r.due}; {r.seconds:.1f} virtual s from the round to {states} "
            f"({r.rounds} follower rounds, bridge {(r.spent.wall - r.spent.emulator_wall) * 1e3:.0f} ms); "
            f"same library paths: {'yes' if r.same_path else 'NO'}; "
            f"the next poll found due {r.polled or 'nothing'}, after it: {after}"
        )
    for r in repairs:
        print(f"   calls by endpoint, {r.label}:")
        for phase, calls in r.phases.items():
            print(f"    {phase}:")
            for line in detail(calls) or ["      none"]:
                print(line)


async def run(tmp: Path) -> tuple[list[Arrival], list[Repair]]:
    await to_available(tmp, "warm-up", "strm", HAUNT_TMDB, None)  # imports, route compilation: not reported
    arrivals = [
        await to_available(tmp, "cached movie, strm", "strm", HAUNT_TMDB, None),
        await to_available(tmp, "cached movie, symlink", "symlink", HAUNT_TMDB, None),
        await to_available(tmp, "cached season, strm", "strm", SEVERANCE_TMDB, 2),
    ]
    repairs = [
        await repair(tmp, "symlink", later=False),
        await repair(tmp, "symlink", later=True),
        await repair(tmp, "strm", later=True),
        await repair(tmp, "symlink", later=True, workers=1),  # run.concurrency = 1: 101, then 108
    ]
    return arrivals, repairs


def main() -> int:
    setup_logging("error")
    with tempfile.TemporaryDirectory(prefix="seerbridge-bench-") as tmp:
        arrivals, repairs = asyncio.run(run(Path(tmp)))
    print_arrivals(arrivals)
    print_repairs(repairs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
