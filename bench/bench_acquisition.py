"""What acquisition costs per request: service calls and bridge time, on the demo and a 200-request generated scenario
(with `--sources torznab,zilean`, the emulated Torznab indexer and Zilean are asked too).

Both scenarios run against the in-process emulators (no sockets, Real-Debrid unpaced and its rate window off; its
magnet conversion, queueing and the moment a cached torrent reads `downloading` at 100 % are on, their waits passing
on the virtual clock), one request at a time so the time each request spends inside the emulator
apps can be measured and subtracted exactly. Each scenario gets two passes; the second shows that nothing settled is
worked again. Per request kind it prints the mean Torrentio and Real-Debrid calls (over all requests of the kind and
over those that got their files) and the bridge's own wall and CPU time per request; then the pass-level shared calls,
and PASS/FAIL lines for the targets of issue 3. Exits 1 when a target fails.

Run: .venv/bin/python bench/bench_acquisition.py [--requests 200] [--seed 0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

from seerbridge import clock as program_clock
from seerbridge.commands.demo import in_process, sandbox_settings
from seerbridge.domain.states import RequestState
from seerbridge.logs import setup_logging
from seerbridge.pipeline.process import Bridge, PassContext, PassReport, RequestResult
from seerbridge.sandbox.generate import (
    EXPECTED_OUTCOME,
    FIRST_CHOICE_CACHED,
    RequestKind,
    generated_scenario,
    request_kinds,
)
from seerbridge.sandbox.scenario import Scenario, load_scenario
from seerbridge.sandbox.world import Sandbox
from seerbridge.services.bundle import open_services
from seerbridge.services.seerr import MediaRequest
from seerbridge.store.db import open_database

# The demo scenario's requests (see its header comment) in the generator's kinds.
DEMO_KINDS: dict[int, str] = {
    101: RequestKind.CACHED_MOVIE,
    102: RequestKind.SHORT_TITLE_DECOY,
    103: RequestKind.MISSING_SEASON,
    104: RequestKind.PARTIAL_SEASON,
    105: RequestKind.AIRING_SEASON,
    106: RequestKind.UNCACHED_MOVIE,
    107: RequestKind.NOTHING_ACCEPTABLE,
    108: "duplicate-request",
}
GOT = (RequestState.FULFILLED, RequestState.DOWNLOADING)
# A cached movie: add, file list, select, status, and the status once more (a cached torrent reads `downloading`
# at 100 % for a moment after its files are selected, as Real-Debrid shows it).
TARGET_TORRENTIO_MOVIE, TARGET_REALDEBRID_MOVIE, TARGET_TORRENTIO_SEASON = 1, 5, 1

_current: contextvars.ContextVar[int | None] = contextvars.ContextVar("bench_request", default=None)


@dataclass
class Spent:
    wall: float = 0.0
    cpu: float = 0.0

    def add(self, wall: float, cpu: float) -> None:
        self.wall += wall
        self.cpu += cpu


@dataclass
class Meter:
    """Time spent inside the emulator apps, in total, per service and per request being processed."""

    total: Spent = field(default_factory=Spent)
    by_service: defaultdict[str, Spent] = field(default_factory=lambda: defaultdict(Spent))
    by_request: defaultdict[int, Spent] = field(default_factory=lambda: defaultdict(Spent))

    def reset(self) -> None:
        self.total = Spent()
        self.by_service.clear()
        self.by_request.clear()


class TimedTransport(httpx.AsyncBaseTransport):
    """An in-process transport that adds the time its app takes (it runs the app to the end) to a meter."""

    def __init__(self, inner: httpx.AsyncBaseTransport, service: str, meter: Meter) -> None:
        self.inner = inner
        self.service = service
        self.meter = meter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return await self.inner.handle_async_request(request)
        finally:
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            self.meter.total.add(wall, cpu)
            self.meter.by_service[self.service].add(wall, cpu)
            request_id = _current.get()
            if request_id is not None:
                self.meter.by_request[request_id].add(wall, cpu)

    async def aclose(self) -> None:
        await self.inner.aclose()


class TimedBridge(Bridge):
    """The bridge, with the wall and CPU time of each request's processing recorded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spent: dict[int, Spent] = {}

    async def process(self, request: MediaRequest, ctx: PassContext) -> RequestResult:
        token = _current.set(request.id)
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return await super().process(request, ctx)
        finally:
            self.spent[request.id] = Spent(time.perf_counter() - wall, time.process_time() - cpu)
            _current.reset(token)


@dataclass
class PassFigures:
    report: PassReport
    bridge: dict[int, Spent]  # per request: its processing time minus the emulators' time within it
    emulator: dict[str, Spent]  # per service
    emulator_by_request: dict[int, Spent]
    wall: float
    cpu: float
    emulator_total: Spent
    added: int  # magnets added to Real-Debrid during the pass


async def run_passes(scenario: Scenario, passes: int) -> tuple[list[PassFigures], Sandbox]:
    world = Sandbox(scenario)
    rd = world.realdebrid_state
    rd.rate.enabled = False
    meter = Meter()
    transports = {name: TimedTransport(t, name, meter) for name, t in in_process(world).items()}
    figures: list[PassFigures] = []
    with tempfile.TemporaryDirectory(prefix="seerbridge-bench-") as tmp:
        settings = sandbox_settings(world, f"sqlite+aiosqlite:///{tmp}/bench.db", unpaced=True)
        settings.run.concurrency = 1  # so each request's emulator time can be subtracted from its own time
        engine, sessions = await open_database(settings.database.url.get_secret_value())
        try:
            with program_clock.use(world.clock):
                async with open_services(settings, transports) as services:
                    bridge = TimedBridge(settings, services, sessions)
                    for _ in range(passes):
                        meter.reset()
                        bridge.spent = {}
                        adds_before = sum(rd.add_attempts.values())
                        wall, cpu = time.perf_counter(), time.process_time()
                        report = await bridge.run_pass()
                        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                        own = {
                            rid: Spent(s.wall - meter.by_request[rid].wall, s.cpu - meter.by_request[rid].cpu)
                            for rid, s in bridge.spent.items()
                        }
                        added = sum(rd.add_attempts.values()) - adds_before
                        by_request = dict(meter.by_request)
                        figures.append(
                            PassFigures(report, own, dict(meter.by_service), by_request, wall, cpu, meter.total, added)
                        )
        finally:
            await engine.dispose()
    return figures, world


def _calls(result: RequestResult, service: str) -> int:
    return sum(result.calls.get(service, {}).values())


def _mean(values: list[float]) -> str:
    return f"{statistics.fmean(values):5.2f}" if values else "    -"


def _endpoints(calls: dict[str, dict[str, int]]) -> str:
    parts = [f"{svc} {ep} {n}" for svc, eps in sorted(calls.items()) for ep, n in sorted(eps.items())]
    return ", ".join(parts) or "none"


def kind_table(figures: PassFigures, kinds: dict[int, str]) -> list[str]:
    results = figures.report.results
    groups: dict[str, list[RequestResult]] = defaultdict(list)
    for r in results:
        groups[kinds.get(r.request_id, "other")].append(r)
    lines = [
        f"{'kind':<20} {'n':>4}  {'outcomes':<44} {'Torrentio':>9} {'RD':>6} {'RD max':>6}  "
        f"{'Torrentio':>9} {'RD':>6}  {'wall ms':>7} {'CPU ms':>7} {'emu ms':>7}",
        f"{'':<20} {'':>4}  {'':<44} {'per request':>16} {'':>6}  {'per fulfilled*':>16}  "
        f"{'bridge only, per request':>23}",
    ]
    order = [k.value for k in RequestKind] + ["duplicate-request", "other"]
    for kind in [k for k in order if k in groups] + ["all"]:
        group = results if kind == "all" else groups[kind]
        got = [r for r in group if r.state in GOT]
        states = Counter(r.state.value for r in group)
        outcomes = ", ".join(f"{s} {n}" for s, n in states.most_common())
        bridge = [figures.bridge[r.request_id] for r in group if r.request_id in figures.bridge]
        emulator = [figures.emulator_by_request.get(r.request_id, Spent()).wall for r in group]
        lines.append(
            f"{kind:<20} {len(group):>4}  {outcomes:<44.44} "
            f"{_mean([_calls(r, 'torrentio') for r in group]):>9} {_mean([_calls(r, 'realdebrid') for r in group]):>6} "
            f"{max((_calls(r, 'realdebrid') for r in group), default=0):>6}  "
            f"{_mean([_calls(r, 'torrentio') for r in got]):>9} {_mean([_calls(r, 'realdebrid') for r in got]):>6}  "
            f"{statistics.fmean(s.wall for s in bridge) * 1e3 if bridge else 0:7.1f} "
            f"{statistics.fmean(s.cpu for s in bridge) * 1e3 if bridge else 0:7.1f} "
            f"{statistics.fmean(emulator) * 1e3 if emulator else 0:7.1f}"
        )
    lines.append("* fulfilled or downloading (an uncached download counts as served); '-' when none")
    lines.append(
        "wall/CPU ms: the bridge's own time (time inside the emulators subtracted); emu ms: what was subtracted"
    )
    return lines


def report_scenario(label: str, scenario: Scenario, kinds: dict[int, str], expected: dict[int, str]) -> bool:
    started = time.perf_counter()
    figures, world = asyncio.run(run_passes(scenario, passes=2))
    first, second = figures
    n = len(first.report.results)
    print(f"\n=== {label}: {n} requests worked, in-process emulators, one request at a time ===")
    print("pass 1")
    for line in kind_table(first, kinds):
        print("  " + line)
    print(f"  shared calls (whole pass): {_endpoints(first.report.shared_calls)}")
    per_request: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for r in first.report.results:
        for svc, endpoints in r.calls.items():
            per_request[svc].update(endpoints)
    for svc, counts in sorted(per_request.items()):
        listed = ", ".join(f"{ep} {c}" for ep, c in sorted(counts.items()))
        print(f"  {svc} calls by endpoint, summed over requests: {listed}")
    for source in scenario.sources:
        calls = [_calls(r, source) for r in first.report.results]
        print(f"  {source}: {_mean([float(c) for c in calls]).strip()} calls per request (max {max(calls, default=0)})")
    _time_lines(first, n)
    unexpected = [
        r for r in first.report.results if r.request_id in expected and r.state.value != expected[r.request_id]
    ]
    for r in unexpected:
        print(f"  UNEXPECTED request {r.request_id} ({kinds.get(r.request_id)}): {r.state.value}: {r.reason}")
    failed = [r for r in first.report.results if r.state is RequestState.FAILED]
    print(f"  unexpected outcomes: {len(unexpected)}; failed requests: {len(failed)}")

    changed = sum(
        1 for a, b in zip(first.report.results, second.report.results, strict=False) if a.state is not b.state
    )
    totals = Counter({svc: 0 for svc in ("seerr", "jellyfin", "torrentio", "realdebrid")})
    for r in second.report.results:
        totals.update({svc: sum(endpoints.values()) for svc, endpoints in r.calls.items()})
    listed = ", ".join(f"{svc} {n}" for svc, n in totals.items())
    print(
        f"pass 2: {len(second.report.results)} requests; per-request calls: {listed}; "
        f"addMagnet calls {second.added}; states changed {changed}"
    )
    print(f"  shared calls (whole pass): {_endpoints(second.report.shared_calls)}")
    _time_lines(second, len(second.report.results))
    hashes = world.realdebrid_state.hashes()
    by_hand = {t.hash for t in scenario.realdebrid.torrents}
    dupes = sorted({h for h in hashes if hashes.count(h) > 1 and h not in by_hand})
    print(f"  torrents in the account twice: {len(dupes)}")

    ok = _targets(first.report.results, kinds)
    ok = (
        _check("second pass adds nothing", second.added == 0 and totals["realdebrid"] == totals["torrentio"] == 0, "")
        and ok
    )
    ok = _check("nothing added twice", not dupes, "") and ok
    print(f"  ({time.perf_counter() - started:.1f} s for this scenario)")
    return ok


def _time_lines(figures: PassFigures, n: int) -> None:
    emu = ", ".join(f"{svc} {s.wall * 1e3:.0f} ms" for svc, s in sorted(figures.emulator.items()))
    bridge_wall = figures.wall - figures.emulator_total.wall
    bridge_cpu = figures.cpu - figures.emulator_total.cpu
    print(
        f"  pass time: wall {figures.wall * 1e3:.0f} ms, CPU {figures.cpu * 1e3:.0f} ms; inside emulators: {emu}; "
        f"bridge only: wall {bridge_wall * 1e3 / max(n, 1):.1f} ms, CPU {bridge_cpu * 1e3 / max(n, 1):.1f} ms "
        "per request"
    )


def _check(name: str, ok: bool, detail: str) -> bool:
    print(f"  {'PASS' if ok else 'FAIL'}  {name}{': ' + detail if detail else ''}")
    return ok


def _targets(results: list[RequestResult], kinds: dict[int, str]) -> bool:
    movies = [r for r in results if kinds.get(r.request_id) in FIRST_CHOICE_CACHED]
    seasons = [r for r in results if kinds.get(r.request_id) == RequestKind.MISSING_SEASON]
    ok = True
    if movies:
        tio = [_calls(r, "torrentio") for r in movies]
        rd = [_calls(r, "realdebrid") for r in movies]
        good = max(tio) <= TARGET_TORRENTIO_MOVIE and max(rd) <= TARGET_REALDEBRID_MOVIE
        good = good and all(r.state is RequestState.FULFILLED for r in movies)
        detail = (
            f"n={len(movies)}, Torrentio max {max(tio)} (mean {statistics.fmean(tio):.2f}), "
            f"Real-Debrid max {max(rd)} (mean {statistics.fmean(rd):.2f})"
        )
        name = (
            f"cached movie, first choice cached: <= {TARGET_TORRENTIO_MOVIE} Torrentio, "
            f"<= {TARGET_REALDEBRID_MOVIE} Real-Debrid calls"
        )
        ok = _check(name, good, detail) and ok
    if seasons:
        tio = [_calls(r, "torrentio") for r in seasons]
        good = max(tio) <= TARGET_TORRENTIO_SEASON and all(r.state is RequestState.FULFILLED for r in seasons)
        detail = f"n={len(seasons)}, Torrentio max {max(tio)} (mean {statistics.fmean(tio):.2f})"
        ok = _check(f"fully missing cached season: <= {TARGET_TORRENTIO_SEASON} Torrentio call", good, detail) and ok
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="size of the generated scenario")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--sources", default="", help="also ask these emulated sources, comma-separated: torznab, zilean"
    )
    args = parser.parse_args()
    sources = [name for name in args.sources.split(",") if name]
    setup_logging("error")
    demo = load_scenario("demo").model_copy(update={"sources": sources})
    asyncio.run(run_passes(demo, passes=1))  # warm-up (imports, route and regex compilation), not reported
    demo_expected = {
        101: "fulfilled", 102: "fulfilled", 103: "fulfilled", 104: "fulfilled", 105: "fulfilled",
        106: "downloading", 107: "no_release", 108: "fulfilled",
    }  # fmt: skip
    ok = report_scenario("demo scenario", demo, DEMO_KINDS, demo_expected)
    generated = generated_scenario(args.requests, seed=args.seed).model_copy(update={"sources": sources})
    kinds: dict[int, str] = dict(request_kinds(generated))
    expected = {rid: EXPECTED_OUTCOME[RequestKind(kind)] for rid, kind in kinds.items()}
    ok = report_scenario(f"generated scenario ({generated.name})", generated, kinds, expected) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
