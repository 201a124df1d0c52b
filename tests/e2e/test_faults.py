"""Fault injection against the emulators: 5xx, timeouts and 429 bursts on every service, Real-Debrid's real pacing.

The main test runs a 50-request generated scenario with faults on all four emulators and Real-Debrid paced at its
real 250 calls a minute (so it takes a minute or two of wall time), then checks what a user would: every request
that has a cached release ended fulfilled with the same torrent as in a run without faults, nothing was added
twice or left behind, and Real-Debrid never saw more than 250 calls in any 60 seconds. The smaller tests cover a
service that stays down (circuit breaker, /healthz and status), Torrentio's budget and 429, and full RD slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from seerbridge.domain.states import KEPT_STATES, RequestState, TorrentState
from seerbridge.errors import ServiceError
from seerbridge.pipeline.health import SERVICE_NAMES
from seerbridge.pipeline.process import PassReport, RequestResult
from seerbridge.render.report import services_lines
from seerbridge.runtime.daemon import Daemon
from seerbridge.sandbox.generate import (
    EXPECTED_OUTCOME,
    FIRST_CHOICE_CACHED,
    generated_scenario,
    request_kinds,
)
from seerbridge.sandbox.middleware import FaultPlan
from seerbridge.sandbox.world import SERVICES, ServiceName
from seerbridge.services.breaker import BreakerState
from seerbridge.store import repo
from tests.e2e.conftest import E2E, Factory, result_of

SEED = 3
MAX_PASSES = 8
TIMEOUT_S = 0.5  # the clients' per-call deadline here; the emulators hang a little longer
HANG_S = 0.6
FAST = {"timeout_s": TIMEOUT_S, "retry_timeout_s": 20.0}


async def kept_hashes(e2e: E2E) -> dict[int, set[str]]:
    """Per request, the hashes of the torrents seerbridge keeps for it."""
    out: dict[int, set[str]] = {}
    async with e2e.store() as session:
        for record in await repo.list_requests(session):
            hashes = out.setdefault(record.id, set())
            for item in await repo.items_of_request(session, record.id):
                hashes.update(
                    t.info_hash for t in await repo.torrents_of_item(session, item.key) if t.state in KEPT_STATES
                )
    return out


async def unsettled_intents(e2e: E2E) -> list[repo.TorrentRecord]:
    async with e2e.store() as session:
        return await repo.torrents_in_state(session, TorrentState.ADDING, TorrentState.ADDED)


@contextlib.asynccontextmanager
async def bursts_of_429(e2e: E2E, every_s: float, first_s: float = 5.0) -> AsyncIterator[dict[str, int]]:
    """429 bursts: after `first_s` seconds and then every `every_s`, the next two calls to Real-Debrid get 429, and
    in turn those to Seerr or Jellyfin; Torrentio (whose 429 means "the day's limit is used") gets one, once. A burst
    is queued only when the last one was used up, as a service would send them."""
    queued: dict[str, int] = dict.fromkeys(SERVICES, 0)

    def burst(name: ServiceName, count: int) -> None:
        control = e2e.world.control(name)
        if not control.queued:
            control.queue("too_many", count)
            queued[name] += count

    async def bursts() -> None:
        for n in itertools.count():
            await asyncio.sleep(first_s if n == 0 else every_s)
            burst("realdebrid", 2)
            burst(("seerr", "jellyfin")[n % 2], 2)
            if n == 0:
                burst("torrentio", 1)

    task = asyncio.create_task(bursts())
    try:
        yield queued
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def latest_results(reports: list[PassReport]) -> dict[int, RequestResult]:
    """Each request's result in the latest pass that worked it."""
    return {r.request_id: r for report in reports for r in report.results}


async def test_every_cached_request_is_fulfilled_through_5xx_timeouts_and_429_bursts(make_e2e: Factory) -> None:
    scenario = generated_scenario(50, seed=SEED)
    kinds = request_kinds(scenario)
    expected_cached = {rid for rid, kind in kinds.items() if EXPECTED_OUTCOME[kind] == "fulfilled"}
    assert len(expected_cached) >= 35

    # What a run without faults keeps (unpaced: it takes a second).
    reference = make_e2e(scenario)
    reference.rd.rate.enabled = False  # unpaced, it would meet the emulator's own 250/min window
    await reference.run()
    want = await kept_hashes(reference)
    assert all(want[rid] for rid in expected_cached)

    e2e = make_e2e(
        scenario,
        # Real-Debrid's real pacing (sandbox_settings lifts it for tests; put it back).
        realdebrid={"rate_limit_per_min": 250.0, **FAST},
        seerr=FAST,
        jellyfin=FAST,
        # A Torrentio 429 pauses Torrentio for an hour by default; a few seconds here, so the run ends.
        torrentio={**FAST, "rate_limited_pause_s": 3.0, "rate_limited_max_pause_s": 6.0},
    )
    for n, name in enumerate(SERVICES):
        e2e.world.control(name).set_plan(
            FaultPlan(error_rate=0.10, timeout_rate=0.05, hang_s=HANG_S, seed=SEED * 10 + n)
        )

    reports: list[PassReport] = []
    started = time.monotonic()
    async with bursts_of_429(e2e, every_s=30.0) as queued_429, e2e.bridge() as bridge:
        for _ in range(MAX_PASSES):
            try:
                report = await bridge.run_pass()
            except ServiceError:  # Seerr's request list failed even after retries: the next pass asks again
                continue
            reports.append(report)
            states = {r.request_id: r.state for r in latest_results(reports).values()}
            if (
                all(states.get(rid) is RequestState.FULFILLED for rid in expected_cached)
                and RequestState.FAILED not in states.values()
                and not await unsettled_intents(e2e)
            ):
                break
        health = bridge.health_details()
    elapsed = time.monotonic() - started

    rd = e2e.world.control("realdebrid")
    faults = [r.fault for name in SERVICES for r in e2e.world.control(name).log if r.fault]
    # The faults really happened, on every kind.
    assert faults.count("error") >= 20 and faults.count("timeout") >= 10 and faults.count("too_many") >= 6
    assert queued_429["realdebrid"] >= 6 and queued_429["torrentio"] == 1

    # A request Seerr lists as available (its request completed once Jellyfin held the files) leaves the approved
    # list, so each request's outcome is its latest result.
    last = latest_results(reports)
    not_fulfilled = {
        rid: (kinds[rid].value, last[rid].state.value, last[rid].reason)
        for rid in expected_cached
        if last[rid].state is not RequestState.FULFILLED
    }
    assert not not_fulfilled, f"after {len(reports)} passes: {not_fulfilled}"
    assert RequestState.FAILED not in {r.state for r in last.values()}
    for rid, kind in kinds.items():
        if EXPECTED_OUTCOME[kind] == "downloading":
            assert last[rid].state is RequestState.DOWNLOADING, (rid, last[rid].reason)

    # The same torrents as without faults, for every request with a cached release.
    got = await kept_hashes(e2e)
    first_choice = {rid for rid in expected_cached if kinds[rid] in FIRST_CHOICE_CACHED}
    assert {rid: got[rid] for rid in first_choice} == {rid: want[rid] for rid in first_choice}
    assert {rid: got[rid] for rid in expected_cached} == {rid: want[rid] for rid in expected_cached}

    # Nothing twice, nothing forgotten, nothing half done.
    hand_added = {t.hash for t in scenario.realdebrid.torrents}
    account = e2e.rd.hashes()
    ours = [h for h in account if h not in hand_added]
    assert len(ours) == len(set(ours)), "a hash is in the account twice"
    assert set(ours) == set().union(*got.values()), "the account and the store disagree on what seerbridge holds"
    assert not await unsettled_intents(e2e)

    # Real-Debrid's limit held in every 60 s window, while it was kept busy.
    assert rd.count() >= 300
    assert rd.max_in_window(60) <= 250
    assert e2e.rd.rate.refused == 0
    assert set(health["services"]) == set(SERVICE_NAMES)  # the four services (no other source is configured here)
    print(
        f"\n{len(reports)} passes in {elapsed:.0f}s; Real-Debrid: {rd.count()} calls, at most "
        f"{rd.max_in_window(60)} in 60 s; faults injected: "
        + ", ".join(f"{kind} {faults.count(kind)}" for kind in ("error", "timeout", "too_many"))
    )


# ----- a service that stays down -----


async def test_a_dead_service_trips_its_breaker_and_the_bridge_resumes_when_it_returns(make_e2e: Factory) -> None:
    # The cooldown is long enough that no request of the pass reaches Real-Debrid half-open on a slow machine.
    e2e = make_e2e(realdebrid={"breaker_failures": 3, "breaker_cooldown_s": 2.0, "timeout_s": 0.2})
    rd = e2e.world.control("realdebrid")
    rd.set_plan(FaultPlan(error_rate=1.0, error_status=502))
    async with e2e.bridge() as bridge:
        report = await bridge.run_pass()
        breaker = bridge.services.realdebrid.breaker
        assert breaker.state is BreakerState.OPEN
        assert breaker.trips == 1
        # Calls stopped at the threshold: every later request failed fast, without touching Real-Debrid.
        assert rd.count() == 3
        failed = [r for r in report.results if r.state is RequestState.FAILED]
        assert failed and all("realdebrid" in r.reason for r in failed)
        assert any("circuit_open" in r.reason for r in failed)
        # Requests that failed because Real-Debrid is down wait for its cooldown, not for the 30-minute backoff.
        for result in failed:
            assert result.next_attempt_at is not None
            assert (result.next_attempt_at - bridge.now()).total_seconds() < 5
        assert bridge.health_details()["services"]["realdebrid"].startswith("down: open until ")
        assert bridge.health_details()["services"]["seerr"] == "up"
        daemon = Daemon(e2e.settings, bridge)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=daemon.web_app()), base_url="http://seerbridge"
        ) as web:
            healthz = (await web.get("/healthz")).json()
        assert healthz["alive"] is True
        assert healthz["services"]["realdebrid"].startswith("down: open until ")
        assert healthz["services"]["torrentio"] == "up"
        async with bridge.sessions() as session:
            stored = await repo.get_state(session, "services")
        lines = services_lines(stored)
        assert lines[0].startswith("Services not fully up")
        assert any(line.strip().startswith("realdebrid: down") for line in lines[1:])
        assert len(lines) == 2

        rd.clear()  # Real-Debrid is back
        await asyncio.sleep(2.05)
        report = await bridge.run_pass()
        assert breaker.view().state is BreakerState.CLOSED
        assert result_of(report, 101).state is RequestState.FULFILLED
        assert bridge.health_details()["services"]["realdebrid"] == "up"
        async with bridge.sessions() as session:
            stored = await repo.get_state(session, "services")
        assert services_lines(stored) == []
        assert json.loads(stored or "{}")["services"]["realdebrid"]["state"] == "up"


# ----- Torrentio: the daily budget survives restarts; a 429 pauses it -----


async def test_the_torrentio_budget_is_kept_across_restarts(make_e2e: Factory) -> None:
    e2e = make_e2e(torrentio={"daily_budget": 2}, search={"cache_ttl_s": 0})
    tio = e2e.world.control("torrentio")
    report = await e2e.run(only={101, 102})
    assert {result_of(report, 101).state, result_of(report, 102).state} == {RequestState.FULFILLED}
    assert tio.count(path_pattern=r"/stream/") == 2
    # A new process: the day's count comes back from the store, so no stream call is sent at all.
    report = await e2e.run(only={106})
    assert result_of(report, 106).state is RequestState.FAILED
    assert "daily budget of 2" in result_of(report, 106).reason
    assert tio.count(path_pattern=r"/stream/") == 2
    # It is not held against the request: due again when the budget renews, its backoff untouched.
    async with e2e.store() as session:
        record = await repo.get_request(session, 106)
        assert await repo.calls_on(session, e2e.world.clock.today(), "torrentio") == 2
    assert record is not None and record.backoff_step == 0
    assert record.next_attempt_at is not None


async def test_a_torrentio_429_pauses_torrentio_instead_of_retrying(make_e2e: Factory) -> None:
    e2e = make_e2e()
    tio = e2e.world.control("torrentio")
    tio.set_plan(FaultPlan(too_many_rate=1.0, path_pattern=r"/stream/"))
    report = await e2e.run(only={101, 102, 106})
    # The first stream call met the 429; the others never went out (the client is paused for an hour).
    assert tio.count(path_pattern=r"/stream/") == 1
    assert all(r.state is RequestState.FAILED for r in report.results)
    paused = [r for r in report.results if "paused" in r.reason]
    assert len(paused) == 2


# ----- Real-Debrid: every download slot in use -----


@pytest.mark.parametrize("limit", [0])
async def test_full_download_slots_hold_new_torrents_until_one_frees(make_e2e: Factory, limit: int) -> None:
    def no_slots(data: dict[str, object]) -> None:
        data["realdebrid"]["active_limit"] = limit  # type: ignore[index]

    e2e = make_e2e(edit=no_slots, realdebrid={"slot_recheck_s": 3600.0}, run={"concurrency": 1})
    rd = e2e.world.control("realdebrid")
    async with e2e.bridge() as bridge:
        report = await bridge.run_pass(only={101, 106})
        assert bridge.slots.is_full
        adds_then = rd.count("POST", r"/torrents/addMagnet")
        # One 509 closed the gate: the other request (and any later probe) added nothing more.
        assert adds_then == 1
        for rid in (101, 106):
            result = result_of(report, rid)
            assert result.state is RequestState.WAITING, result.reason
            assert "slot" in result.reason
            assert result.next_attempt_at is not None
        assert "all download slots in use" in bridge.health_details()["services"]["realdebrid"]
        report = await bridge.run_pass(only={101, 106})
        assert rd.count("POST", r"/torrents/addMagnet") == adds_then
        # A slot frees (the follower saw a download end, or the recheck found one): work resumes.
        e2e.rd.active_limit = 5
        bridge.slots.freed()
        report = await bridge.run_pass(only={101, 106})
        assert result_of(report, 101).state is RequestState.FULFILLED
        assert result_of(report, 106).state is RequestState.DOWNLOADING
    assert not e2e.rd.hashes() or len(e2e.rd.hashes()) == len(set(e2e.rd.hashes()))
