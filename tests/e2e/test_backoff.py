"""Backoff: what finds nothing waits longer each time, survives restarts, and comes back when an episode airs."""

from __future__ import annotations

from datetime import timedelta

from typer.testing import CliRunner

from seerbridge.cli import app
from seerbridge.domain.states import RequestState
from seerbridge.pipeline import backoff
from seerbridge.sandbox.middleware import FaultPlan
from tests.e2e.conftest import E2E, request_record

NOTHING = 107  # Inception: nothing acceptable
AIRING = 105  # The Lighthouse Keepers: E1-E4 aired, E5 airs 2026-11-30 and counts as aired from 2026-12-01
CACHED = 101


async def test_nothing_found_climbs_the_ladder_and_is_not_due_meanwhile(demo: E2E) -> None:
    clock = demo.world.clock
    minutes = demo.settings.backoff.request_minutes
    async with demo.bridge() as bridge:
        started = clock.now()
        await bridge.run_pass()  # Real-Debrid's slow answers move the virtual clock on while the pass runs
        record = await request_record(demo, NOTHING)
        assert record.state is RequestState.NO_RELEASE
        assert record.backoff_step == 1
        assert record.next_attempt_at is not None
        first_wait = timedelta(minutes=minutes[0])
        assert started + first_wait <= record.next_attempt_at <= clock.now() + first_wait
        due = await bridge.due_request_ids()
        assert NOTHING not in due
        assert CACHED not in due  # settled: looked at again only after backoff.settled_recheck_minutes
        clock.advance(minutes[0] * 60 + 1)
        assert NOTHING in await bridge.due_request_ids()
        await bridge.work_request(NOTHING)
    record = await request_record(demo, NOTHING)
    assert record.backoff_step == 2
    assert record.next_attempt_at is not None
    wait = record.next_attempt_at - clock.now()
    assert timedelta(minutes=minutes[1] - 1) < wait <= timedelta(minutes=minutes[1])


async def test_the_schedule_survives_a_restart(demo: E2E) -> None:
    await demo.run()
    first = await request_record(demo, NOTHING)
    async with demo.bridge() as bridge:  # a new process on the same store
        assert NOTHING not in await bridge.due_request_ids()
    again = await request_record(demo, NOTHING)
    assert (again.next_attempt_at, again.backoff_step) == (first.next_attempt_at, first.backoff_step)


async def test_success_resets_and_a_new_air_date_makes_it_due(demo: E2E) -> None:
    await demo.run()
    airing = await request_record(demo, AIRING)
    assert airing.state is RequestState.FULFILLED
    assert airing.backoff_step == 0 and airing.next_attempt_at is not None  # a settled re-check, not a backoff
    assert str(airing.next_air_date) == "2026-12-01"
    # Even far inside a wait, the day E5 counts as aired makes the request due; the day before does not.
    aired = demo.world.clock.now() + timedelta(days=7)  # 2026-12-01
    assert backoff.is_due(aired + timedelta(days=365), airing.next_air_date, aired)
    day_before = aired - timedelta(days=1)
    assert not backoff.is_due(day_before + timedelta(days=365), airing.next_air_date, day_before)


def test_retry_clears_the_wait(demo: E2E) -> None:
    import asyncio

    asyncio.run(demo.run())
    before = asyncio.run(request_record(demo, NOTHING))
    assert before.next_attempt_at is not None
    runner = CliRunner()
    env = {"SEERBRIDGE_DATABASE__URL": demo.settings.database.url.get_secret_value()}
    result = runner.invoke(app, ["retry", str(NOTHING)], env=env)
    assert result.exit_code == 0, result.output
    after = asyncio.run(request_record(demo, NOTHING))
    assert (after.next_attempt_at, after.backoff_step) == (None, 0)
    unknown = runner.invoke(app, ["retry", "999"], env=env)
    assert unknown.exit_code == 1
    assert "knows no request 999" in unknown.output


async def test_a_fulfilled_request_stays_fulfilled_when_a_re_check_meets_an_outage(demo: E2E) -> None:
    await demo.run()
    assert (await request_record(demo, CACHED)).state is RequestState.FULFILLED
    # Seerr answers the request itself, then fails every attempt to read the movie's details.
    demo.world.control("seerr").set_plan(FaultPlan(error_rate=1.0, path_pattern=r"/movie/"))
    async with demo.bridge() as bridge:
        result = await bridge.work_request(CACHED)
    assert result is not None and result.state is RequestState.FULFILLED
    record = await request_record(demo, CACHED)
    assert record.state is RequestState.FULFILLED and record.backoff_step == 0
    assert record.last_error is not None and "seerr" in record.last_error and "503" in record.last_error


async def test_a_service_error_is_tried_again_at_the_next_poll_once_then_waits(demo: E2E) -> None:
    """A 5xx on an add (never repeated blindly) costs one poll the first time, not the first backoff wait."""
    demo.world.control("realdebrid").set_plan(FaultPlan(error_rate=1.0, path_pattern="addMagnet"))
    minutes = demo.settings.backoff.request_minutes
    async with demo.bridge() as bridge:
        await bridge.work_request(CACHED)
        record = await request_record(demo, CACHED)
        assert record.state is RequestState.FAILED
        assert (record.next_attempt_at, record.backoff_step) == (None, 1)
        assert CACHED in await bridge.due_request_ids()
        await bridge.work_request(CACHED)  # fails again: now it waits
        record = await request_record(demo, CACHED)
        assert record.state is RequestState.FAILED and record.next_attempt_at is not None
        wait = record.next_attempt_at - demo.world.clock.now()
        assert timedelta(minutes=minutes[1] - 1) < wait <= timedelta(minutes=minutes[1])
        assert CACHED not in await bridge.due_request_ids()
    # A request that merely found nothing still waits at once (no free poll).
    await demo.run(only={NOTHING})
    assert (await request_record(demo, NOTHING)).next_attempt_at is not None


async def test_a_settled_request_is_looked_at_again_only_after_the_recheck_wait(demo: E2E) -> None:
    """A fulfilled request is not worked at every poll (each would cost Seerr, Jellyfin and Torrentio calls)."""
    recheck = demo.settings.backoff.settled_recheck_minutes
    seerr = demo.world.control("seerr")
    async with demo.bridge() as bridge:
        await bridge.run_pass()
        assert (await request_record(demo, CACHED)).state is RequestState.FULFILLED
        assert CACHED not in await bridge.due_request_ids()
        reads = seerr.count("GET", rf"/api/v1/request/{CACHED}$|/api/v1/movie/")
        demo.world.clock.advance(recheck * 60 - 60)
        assert CACHED not in await bridge.due_request_ids()
        demo.world.clock.advance(120)
        assert CACHED in await bridge.due_request_ids()
        assert seerr.count("GET", rf"/api/v1/request/{CACHED}$|/api/v1/movie/") == reads  # nothing worked meanwhile


async def test_a_request_seerr_lists_as_available_is_not_worked_again(demo: E2E) -> None:
    async with demo.bridge() as bridge:
        await bridge.run_pass()
        media = demo.world.seerr_state.media_for(10331)  # Night of the Living Dead, marked available by hand
        assert media is not None
        demo.world.seerr_state.set_media_status(media.id, "available")
        demo.world.clock.advance(demo.settings.backoff.settled_recheck_minutes * 60 + 60)
        assert CACHED not in await bridge.due_request_ids()
