"""Rate limits: the pacer's window guarantee on a fake clock, adaptive 429 handling, long pauses that fail fast,
account limits (Real-Debrid fair usage, 509), Torrentio's 429 and daily budget (kept in the store), the slot gate."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from structlog.testing import capture_logs

from seerbridge.config import RealDebridSettings, ServiceSettings, TorrentioSettings
from seerbridge.errors import RateLimited, RequestRejected
from seerbridge.pipeline.process import StoredCallCounts
from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.world import Sandbox
from seerbridge.services.breaker import BreakerState
from seerbridge.services.budget import DailyBudget, LongPause, Pacer, SlotGate
from seerbridge.services.http import Paused, ServiceHttp
from seerbridge.services.realdebrid import RealDebridClient
from seerbridge.services.torrentio import TorrentioClient
from seerbridge.store.db import open_database

HASH = "0123456789abcdef0123456789abcdef01234567"
TIO_URL = "http://torrentio.test/sort=qualitysize"
STREAMS = b'{"streams": []}'

HANG_GUARD_S = 60.0  # a call that waited out an hour's pause would hang the test; it must not


class FakeTime:
    """A clock that moves only when someone sleeps on it (the pacer sleeps holding its lock, so one at a time)."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def most_in_window(times: list[float], window: float) -> int:
    """The most of `times` in any half-open window [t, t + window)."""
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while t - ordered[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def grants(pacer: Pacer, calls: int, tasks: int) -> list[float]:
    stamps: list[float] = []

    async def worker(n: int) -> None:
        for _ in range(n):
            stamps.append(await pacer.acquire())

    share = [calls // tasks + (1 if i < calls % tasks else 0) for i in range(tasks)]
    await asyncio.gather(*(worker(n) for n in share))
    return stamps


# ----- the window guarantee -----


async def test_never_more_than_250_in_any_60_seconds_over_600_calls_the_first_window_included() -> None:
    clock = FakeTime()
    pacer = Pacer(250, margin_s=1.0, clock=clock, sleep=clock.sleep)
    start = clock.now
    stamps = await grants(pacer, 600, tasks=8)
    assert len(stamps) == 600
    assert most_in_window(stamps, 60.0) <= 250
    assert most_in_window([t for t in stamps if t < start + 60], 60.0) <= 250  # no burst at the start
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 61 / 250 - 1e-9  # evenly spaced, with the margin
    # And no slower than it needs to be: 599 gaps of 61/250 s.
    assert stamps[-1] - stamps[0] == pytest.approx(599 * 61 / 250)


async def test_requests_that_arrive_up_to_the_margin_late_still_fit_the_service_window() -> None:
    clock = FakeTime()
    pacer = Pacer(250, margin_s=1.0, clock=clock, sleep=clock.sleep)
    stamps = await grants(pacer, 600, tasks=4)
    rng = random.Random(7)
    # The worst case for a window: the first calls in it arrive as late as allowed, the last ones at once.
    for arrivals in (
        [t + rng.uniform(0, 1.0) for t in stamps],
        [t + (1.0 if i % 250 == 0 else 0.0) for i, t in enumerate(stamps)],
    ):
        assert most_in_window(arrivals, 60.0) <= 250


@settings(max_examples=40, deadline=None)
@given(
    per_min=st.integers(min_value=1, max_value=300),
    margin=st.floats(min_value=0, max_value=3),
    tasks=st.integers(min_value=1, max_value=6),
    calls=st.integers(min_value=1, max_value=700),
    too_many_at=st.lists(st.integers(min_value=0, max_value=699), max_size=5),
    jitter_seed=st.integers(min_value=0, max_value=1000),
)
def test_the_window_holds_for_any_rate_margin_and_429s(
    per_min: int, margin: float, tasks: int, calls: int, too_many_at: list[int], jitter_seed: int
) -> None:
    async def run() -> list[float]:
        clock = FakeTime()
        pacer = Pacer(per_min, margin_s=margin, clock=clock, sleep=clock.sleep)
        stamps: list[float] = []
        while len(stamps) < calls:
            stamps.append(await pacer.acquire())
            if len(stamps) in too_many_at:
                pacer.too_many()
        return stamps

    stamps = asyncio.run(run())
    assert most_in_window(stamps, 60.0) <= per_min
    rng = random.Random(jitter_seed)
    assert most_in_window([t + rng.uniform(0, margin) for t in stamps], 60.0) <= per_min


async def test_on_a_real_clock_the_emulator_never_sees_more_than_the_limit_in_a_window(starter: Scenario) -> None:
    """The same guarantee measured where it counts, the Real-Debrid emulator's request log, at 50x speed: 250 calls
    per 1.2 s window (what 250 per minute is to a minute), 400 calls from 8 tasks through the whole HTTP layer."""
    world = Sandbox(starter)
    world.realdebrid_state.rate.enabled = False
    settings = RealDebridSettings(url=world.base_urls()["realdebrid"], api_key=SecretStr(starter.keys["realdebrid"]))
    pacer = Pacer(250 * 50, window_s=1.2, margin_s=0.1)
    rd = RealDebridClient(settings, transport=world.transport("realdebrid"))
    rd._http.pacer = pacer

    async def worker() -> None:
        for _ in range(50):
            await rd.active_count()

    await asyncio.gather(*(worker() for _ in range(8)))
    await rd.aclose()
    control = world.control("realdebrid")
    assert control.count() == 400
    assert control.max_in_window(1.2) <= 250  # how close to the limit it got depends on the machine's load


def test_slots_exactly_a_250th_of_a_minute_apart_can_still_arrive_251_in_a_minute() -> None:
    """Why the pacer keeps a margin: what `AsyncLimiter(1, 60/250)` grants at best (in ms here, to stay exact)
    holds 250 per minute at the slots, but one request that leaves 0.3 s late makes 251 in the service's minute."""
    slots = [i * 240 for i in range(600)]
    assert most_in_window([float(t) for t in slots], 60_000) == 250
    arrivals = [t + (300 if i == 0 else 0) for i, t in enumerate(slots)]
    assert most_in_window([float(t) for t in arrivals], 60_000) == 251


# ----- adaptive: 429 halves the pace, which recovers -----


def test_a_429_halves_the_pace_and_it_recovers_linearly() -> None:
    clock = FakeTime()
    pacer = Pacer(250, margin_s=0, recovery_s=30, clock=clock, sleep=clock.sleep)
    base = pacer.interval_s
    assert base == pytest.approx(0.24)
    assert pacer.too_many() == 1.0  # paused a second
    assert pacer.share == 0.5 and pacer.interval_s == pytest.approx(0.48)
    clock.now += 15
    assert pacer.share == pytest.approx(0.75)
    clock.now += 15
    assert pacer.share == 1.0 and pacer.interval_s == pytest.approx(base)


def test_429s_from_calls_already_in_flight_count_once_and_the_pace_halves_once_per_10_s() -> None:
    clock = FakeTime()
    pacer = Pacer(250, clock=clock, sleep=clock.sleep)
    pacer.too_many()
    pacer.too_many()  # during the pause: the same episode
    pacer.too_many()
    assert pacer.share == 0.5 and pacer.paused_for == 1.0
    clock.now += 1.0  # the pause is over and the next call meets a 429 again: longer pause, same pace
    assert pacer.too_many() == 2.0
    assert pacer.share == pytest.approx(0.5 + 0.5 / 30)
    clock.now += 10
    pacer.too_many()
    assert pacer.share == pytest.approx((0.5 + 0.5 * 11 / 30) / 2)
    slow = Pacer(250, recovery_s=1000, clock=clock, sleep=clock.sleep)
    for _ in range(7):
        clock.now += slow.paused_for + 10
        slow.too_many()
    assert slow.share == slow.min_share == 0.25  # halved, and halved again, down to the floor
    assert slow.paused_for == 60.0  # 1, 2, 4 ... 32, then the cap


def test_successes_shrink_the_429_penalty_again() -> None:
    clock = FakeTime()
    pacer = Pacer(0, clock=clock, sleep=clock.sleep)  # no pacing: pauses only
    for _ in range(4):
        pacer.too_many()
        clock.now += pacer.paused_for
    assert pacer.too_many() == 16.0
    clock.now += 16
    for _ in range(4):
        pacer.answered()
    assert pacer.too_many() == 1.0


async def test_the_pace_after_a_429_is_slower_for_real() -> None:
    # Gaps are measured between the slots the pacer grants, on the real clock: what the service sees can only be
    # later (a busy event loop may delay one send, after which the next slot is already due), never earlier.
    granted: list[float] = []
    arrived: list[float] = []

    class RecordingPacer(Pacer):
        async def acquire(self, *, max_pause_s: float | None = None) -> float:
            granted.append(await super().acquire(max_pause_s=max_pause_s))
            return granted[-1]

    answers = iter([200, 200, 429] + [200] * 10)

    def answer(request: httpx.Request) -> httpx.Response:
        arrived.append(time.monotonic())
        return httpx.Response(next(answers), json={})

    policy = ServiceSettings(rate_limit_per_min=1200, rate_margin_s=0, rate_limited_pause_s=0.05)  # 50 ms apart
    pacer = RecordingPacer(1200, margin_s=0, pause_s=0.05)
    http = ServiceHttp("svc", "http://svc.test", policy, transport=httpx.MockTransport(answer), pacer=pacer)
    for _ in range(6):
        await http.request("GET", "x", endpoint="x")
    assert len(granted) == len(arrived) == 7 and all(a >= g for g, a in zip(granted, arrived, strict=True))
    gaps = [b - a for a, b in itertools.pairwise(granted)]
    assert all(g >= 0.049 for g in gaps[:2]), gaps
    assert gaps[2] >= 0.099, gaps  # the retry after the 429: the pause, and the slower pace
    assert all(g >= 0.099 for g in gaps[3:]), gaps  # half the pace: 100 ms apart


async def test_every_attempt_takes_a_slot() -> None:
    taken: list[float] = []

    class CountingPacer(Pacer):
        async def acquire(self, *, max_pause_s: float | None = None) -> float:
            taken.append(await super().acquire(max_pause_s=max_pause_s))
            return taken[-1]

    answers = iter([503, 502, 200])
    http = ServiceHttp(
        "svc",
        "http://svc.test",
        ServiceSettings(),
        transport=httpx.MockTransport(lambda r: httpx.Response(next(answers), json={})),
        pacer=CountingPacer(0),
    )
    await http.request("GET", "x", endpoint="x")
    assert len(taken) == 3 and http.ledger.total() == 3


# ----- long pauses fail fast -----


async def test_a_retry_after_longer_than_the_retry_budget_fails_now_and_later_calls_fail_fast() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(429, headers={"Retry-After": "3600"}, json={})

    http = ServiceHttp(
        "svc", "http://svc.test", ServiceSettings(retry_timeout_s=60), transport=httpx.MockTransport(answer)
    )
    # Neither call waits out the hour: were one to, the hang guard (far below an hour) fails the test.
    with pytest.raises(RateLimited) as first:
        await asyncio.wait_for(http.request("GET", "x", endpoint="x"), HANG_GUARD_S)
    assert first.value.retry_after == 3600
    with pytest.raises(Paused) as later:
        await asyncio.wait_for(http.request("GET", "y", endpoint="y"), HANG_GUARD_S)
    assert later.value.error == "paused" and later.value.retry_after is not None and later.value.retry_after > 3500
    assert len(seen) == 1


async def test_a_long_pause_that_begins_while_a_call_waits_for_its_slot_does_not_hold_it() -> None:
    clock = FakeTime()

    async def sleep(seconds: float) -> None:
        pacer.pause(3600, "fair usage")  # another call met the limit meanwhile
        await clock.sleep(seconds)

    pacer = Pacer(60, clock=clock, sleep=sleep)  # one slot a second
    await pacer.acquire(max_pause_s=60)
    with pytest.raises(LongPause) as held:
        await pacer.acquire(max_pause_s=60)
    assert held.value.reason == "fair usage" and 3590 < held.value.seconds <= 3600
    assert clock.now - 5000.0 < 2  # it did not sleep out the hour


async def test_a_torrentio_429_pauses_torrentio_for_an_hour() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(429, text="Too many requests, please try again later.")

    tio = TorrentioClient(
        TorrentioSettings(url=SecretStr(TIO_URL), rate_limit_per_min=0, daily_budget=100),
        transport=httpx.MockTransport(answer),
    )
    with pytest.raises(RateLimited):
        await tio.movie_streams("tt0063350")
    for _ in range(3):
        with pytest.raises(Paused) as paused:
            await tio.episode_streams("tt0903747", 1, 1)
    assert paused.value.retry_after is not None and 3590 < paused.value.retry_after <= 3600
    assert len(seen) == 1
    assert tio.budget.used == 1  # calls refused unsent spent nothing
    assert tio.paused_for > 3590 and tio.pause_reason == "429"
    await tio.aclose()


# ----- Real-Debrid's account limits -----


def rd_client(answer: httpx.MockTransport) -> RealDebridClient:
    settings = RealDebridSettings(api_key=SecretStr("t0ken"), retries=3, fair_usage_pause_s=1800)
    return RealDebridClient(settings.model_copy(update={"rate_limit_per_min": 0}), transport=answer)


async def test_fair_usage_pauses_real_debrid_with_one_log_line() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503, json={"error": "fair_usage_limit", "error_code": 36})

    async with rd_client(httpx.MockTransport(answer)) as rd:
        with capture_logs() as logs:
            with pytest.raises(RequestRejected) as refused:
                await rd.unrestrict_link("https://real-debrid.com/d/ABC")
            for _ in range(3):
                with pytest.raises(Paused):
                    await rd.torrents()
        assert refused.value.error_code == 36 and refused.value.status == 503
        assert len(seen) == 1  # not retried, and nothing sent while paused
        assert rd.breaker.state is BreakerState.CLOSED  # a limit, not an outage
        assert 1790 < rd.paused_for <= 1800
    paused = [e for e in logs if e["event"] == "calls paused"]
    assert len(paused) == 1
    assert paused[0]["service"] == "realdebrid" and "fair-usage" in paused[0]["reason"]


# ----- daily budget, per UTC day, kept in the store -----


class MemoryCounts:
    def __init__(self) -> None:
        self.counts: dict[tuple[date, str], int] = {}

    async def used(self, day: date, service: str) -> int:
        return self.counts.get((day, service), 0)

    async def spend(self, day: date, service: str, endpoint: str) -> None:
        self.counts[(day, service)] = self.counts.get((day, service), 0) + 1


async def test_the_daily_budget_renews_at_midnight_utc_and_is_read_back_from_its_store() -> None:
    now = [datetime(2026, 11, 24, 22, 0, tzinfo=UTC)]
    store = MemoryCounts()
    first = DailyBudget("torrentio", 3, now=lambda: now[0])
    first.keep_in(store)
    for _ in range(3):
        await first.spend("stream/movie")
    with pytest.raises(RateLimited) as over:
        await first.spend("stream/movie")
    assert over.value.error == "daily_budget" and over.value.retry_after == 7200
    # A restart: the count comes back from the store.
    second = DailyBudget("torrentio", 3, now=lambda: now[0])
    second.keep_in(store)
    with pytest.raises(RateLimited):
        await second.spend("stream/series")
    now[0] += timedelta(hours=2, seconds=1)
    await second.spend("stream/series")
    assert second.used == 1


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite+aiosqlite:///{tmp_path / 'budget.db'}"


async def test_the_torrentio_budget_survives_a_new_client_on_the_same_store(db_url: str) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=STREAMS)

    engine, sessions = await open_database(db_url)
    try:
        settings = TorrentioSettings(url=SecretStr(TIO_URL), rate_limit_per_min=0, daily_budget=2)
        for _ in range(2):
            async with TorrentioClient(settings, transport=httpx.MockTransport(answer)) as tio:
                tio.budget.keep_in(StoredCallCounts(sessions))
                while True:
                    try:
                        await tio.movie_streams("tt0063350")
                    except RateLimited as exc:
                        assert exc.error == "daily_budget"
                        break
        assert len(seen) == 2  # the second client found the day's two calls spent
    finally:
        await engine.dispose()


# ----- Real-Debrid's download slots -----


async def test_the_slot_gate_reads_nothing_until_full_then_rechecks_at_most_once_per_interval() -> None:
    clock = FakeTime()
    counts = iter([(3, 3), (3, 3), (2, 3)])
    reads: list[float] = []

    async def read() -> tuple[int, int]:
        reads.append(clock.now)
        return next(counts)

    gate = SlotGate(read, recheck_s=60, clock=clock)
    assert await gate.has_room() and not reads and gate.describe() is None
    gate.full()
    assert not await gate.has_room() and not reads  # just seen full
    clock.now += 60
    both = await asyncio.gather(gate.has_room(), gate.has_room())
    assert list(both) == [False, False] and len(reads) == 1  # one read serves both
    assert gate.describe() == "all download slots in use (3/3); new torrents wait for one"
    clock.now += 30
    assert not await gate.has_room() and len(reads) == 1
    clock.now += 30
    assert not await gate.has_room() and len(reads) == 2
    clock.now += 60
    assert await gate.has_room() and len(reads) == 3  # one is free
    assert not gate.is_full and await gate.has_room() and len(reads) == 3
    gate.full()
    gate.freed()  # a followed download ended
    assert await gate.has_room() and len(reads) == 3
