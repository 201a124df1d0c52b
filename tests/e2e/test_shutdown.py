"""Stopping `seerbridge run`: the first signal finishes the step in hand and exits 0, the second exits at once.

Request 104 of the demo starts with a pack probe (Breaking Bad S02, not cached) and then probes single episodes,
so a stop during the pack probe shows the step boundary: the pack probe ends settled, no episode is touched, and
the request is due again at the next start, which finishes it. Real-Debrid is made slow by a fault plan that
holds every `selectFiles` call. In-process tests drive `Daemon.run` with a `StopSignal`; the subprocess tests send
real SIGINTs to `python -m seerbridge run`.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from seerbridge.domain.states import RequestState, TorrentState
from seerbridge.pipeline.process import Bridge
from seerbridge.runtime.daemon import Daemon, StopSignal
from seerbridge.sandbox.middleware import FaultPlan
from seerbridge.sandbox.scenario import load_scenario
from seerbridge.sandbox.serve import running_in_thread
from seerbridge.sandbox.world import Sandbox, ServiceName
from seerbridge.store import repo
from tests.e2e.conftest import E2E, Factory
from tests.e2e.test_crash import Seerbridge, assert_consistent, hand_added, settle

PACK = "Breaking.Bad.S02.1080p.BluRay.x264-EXAMPLE"
EPISODES = (
    "Breaking.Bad.S02E11.1080p.BluRay.x264-EXAMPLE",
    "Breaking.Bad.S02E12.1080p.BluRay.x264-EXAMPLE",
    "Breaking.Bad.S02E13.720p.HDTV.x264-EXAMPLE",
)
REQUEST = 104


HANG_GUARD_S = 60.0  # only for a test that would otherwise hang: what is checked is when, by events, not how fast


def held_select(e2e: E2E) -> bool:
    """A selectFiles call has reached Real-Debrid (and, with `slow_select`, is held there)."""
    return any("selectFiles" in call for call in e2e.world.control("realdebrid").entered)


def select_answered(e2e: E2E) -> bool:
    """A selectFiles call got its answer (the request log records a call with its status once it ends)."""
    return any("selectFiles" in r.path and r.status for r in e2e.world.control("realdebrid").log)


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[bytes], sb: Seerbridge, what: str) -> None:
    deadline = time.monotonic() + HANG_GUARD_S
    while not condition():
        assert proc.poll() is None, f"exited early ({proc.returncode})\n{sb.logs(1)}"
        assert time.monotonic() < deadline, f"no {what}\n{sb.logs(1)}"
        time.sleep(0.005)


def slow_select(hang_s: float) -> FaultPlan:
    return FaultPlan(timeout_rate=1.0, hang_s=hang_s, path_pattern="selectFiles")


def only_request_104(data: dict[str, Any]) -> None:
    data["requests"] = [r for r in data["requests"] if r["id"] == REQUEST]


async def until(predicate: Callable[[], bool], *, within: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.005)


async def store_of(bridge: Bridge) -> tuple[repo.RequestRecord, list[repo.TorrentRecord]]:
    async with bridge.sessions() as session:
        record = await repo.get_request(session, REQUEST)
        rows = await repo.all_torrents(session)
    assert record is not None
    return record, rows


# ----- in process: Daemon.run and StopSignal ---------------------------------------------------------------------


@pytest.fixture
def e2e(make_e2e: Factory) -> E2E:
    return make_e2e(edit=only_request_104, server={"enabled": False}, run={"grace_s": 10.0, "poll_interval_s": 1.0})


async def resume_and_finish(e2e: E2E) -> tuple[repo.RequestRecord, list[repo.TorrentRecord]]:
    """A second start, healthy Real-Debrid: it settles what the first left and finishes request 104."""
    e2e.world.control("realdebrid").clear()
    async with e2e.bridge() as bridge:
        daemon, stop = Daemon(e2e.settings, bridge), StopSignal()
        task = asyncio.create_task(daemon.run(stop))
        deadline = time.monotonic() + 10
        while (await store_of(bridge))[0].state is not RequestState.FULFILLED:
            assert time.monotonic() < deadline and not task.done(), "the restart did not finish request 104"
            await asyncio.sleep(0.02)
        stop.trigger()
        await asyncio.wait_for(task, 5)
        record, rows = await store_of(bridge)
    assert not [r for r in rows if r.state in (TorrentState.ADDING, TorrentState.ADDED)]
    assert e2e.account() >= {e2e.hash(name) for name in EPISODES}  # account() also asserts no duplicates
    return record, rows


async def test_first_stop_ends_the_request_after_the_probe_in_hand(e2e: E2E) -> None:
    e2e.world.control("realdebrid").set_plan(slow_select(0.5))
    pack = e2e.hash(PACK)
    async with e2e.bridge() as bridge:
        daemon, stop = Daemon(e2e.settings, bridge), StopSignal()
        task = asyncio.create_task(daemon.run(stop))
        await until(lambda: e2e.rd.add_count(pack) == 1, what="the pack probe")
        stop.trigger()
        assert not daemon.queue.submit(REQUEST, "webhook"), "the queue still takes work after the first signal"
        await asyncio.wait_for(task, HANG_GUARD_S)
        record, rows = await store_of(bridge)

    assert not stop.forced.is_set()  # it ended by itself, once the probe in hand was done
    # The pack probe finished: not cached, so removed again, and its row says so.
    assert [r.state for r in rows if r.info_hash == pack] == [TorrentState.DELETED]
    assert e2e.rd.torrents_with_hash(pack) == []
    # ... and nothing after it started: no episode was probed, the request waits for the next start.
    assert all(e2e.rd.add_count(e2e.hash(name)) == 0 for name in EPISODES)
    assert [r.info_hash for r in rows] == [pack]
    assert record.state is RequestState.NEW and "interrupted" in (record.reason or "")
    assert record.next_attempt_at is None and record.backoff_step == 0

    record, _ = await resume_and_finish(e2e)
    assert record.state is RequestState.FULFILLED


async def test_second_stop_cancels_the_hanging_step_and_the_next_start_settles_it(e2e: E2E) -> None:
    e2e.world.control("realdebrid").set_plan(slow_select(30.0))
    pack = e2e.hash(PACK)
    async with e2e.bridge() as bridge:
        daemon, stop = Daemon(e2e.settings, bridge), StopSignal()
        task = asyncio.create_task(daemon.run(stop))
        await until(lambda: held_select(e2e), what="the held selectFiles")
        stop.trigger()
        await until(lambda: bridge.stopping, what="the first stop")
        assert not task.done(), "the first signal did not wait for the step in hand"
        stop.trigger()
        await asyncio.wait_for(task, HANG_GUARD_S)
        answered = select_answered(e2e)
        _, rows = await store_of(bridge)

    assert stop.forced.is_set()
    assert not answered  # it ended while the step in hand was still held (30 s), not after it
    # Cut mid-probe: the row is left as an intent with Real-Debrid's id, and the torrent is still there.
    assert [(r.state, r.rd_id is not None) for r in rows if r.info_hash == pack] == [(TorrentState.ADDED, True)]
    assert len(e2e.rd.torrents_with_hash(pack)) == 1

    record, rows = await resume_and_finish(e2e)
    assert record.state is RequestState.FULFILLED
    assert all(r.state is not TorrentState.ADDED for r in rows if r.info_hash == pack)
    assert e2e.rd.add_count(pack) >= 1 and len(e2e.rd.torrents_with_hash(pack)) == 0


async def test_grace_period_bounds_the_wait_for_the_step_in_hand(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=only_request_104, server={"enabled": False}, run={"grace_s": 0.3, "poll_interval_s": 1.0})
    e2e.world.control("realdebrid").set_plan(slow_select(30.0))
    async with e2e.bridge() as bridge:
        daemon, stop = Daemon(e2e.settings, bridge), StopSignal()
        task = asyncio.create_task(daemon.run(stop))
        await until(lambda: held_select(e2e), what="the held selectFiles")
        stop.trigger()
        started = time.monotonic()
        await asyncio.wait_for(task, HANG_GUARD_S)
        took = time.monotonic() - started
        answered = select_answered(e2e)
    assert took >= 0.25  # it waited for the step in hand for the grace period ...
    assert not answered  # ... and no longer: the step (held 30 s) was still out when it stopped
    assert not stop.forced.is_set()
    record, _ = await resume_and_finish(e2e)
    assert record.state is RequestState.FULFILLED


async def test_stop_closes_the_webhook_server(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=only_request_104, server={"enabled": True, "port": 0}, run={"poll_interval_s": 1.0})
    e2e.world.control("realdebrid").set_plan(slow_select(0.3))
    ports: list[int | None] = []

    async def ready(daemon: Daemon) -> None:
        ports.append(daemon.port)

    async with e2e.bridge() as bridge:
        daemon, stop = Daemon(e2e.settings, bridge), StopSignal()
        task = asyncio.create_task(daemon.run(stop, ready=ready))
        await until(lambda: bool(ports), what="the server")
        port = ports[0]
        assert port is not None
        await until(lambda: e2e.rd.add_count(e2e.hash(PACK)) == 1, what="the pack probe")
        stop.trigger()
        await asyncio.wait_for(task, 5)
    with pytest.raises(OSError):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()


# ----- real signals to a real process ----------------------------------------------------------------------------


@pytest.fixture
def loopback() -> Iterator[tuple[Sandbox, dict[ServiceName, str]]]:
    demo = load_scenario("demo")
    world = Sandbox(demo.model_copy(update={"requests": [r for r in demo.requests if r.id == REQUEST]}))
    world.realdebrid_state.conversion_s = 0.0
    world.realdebrid_state.queue_s = 0.0
    with running_in_thread(world) as hosts:
        yield world, hosts


def hash_of(world: Sandbox, name: str) -> str:
    return next(r.info_hash for r in world.scenario.releases if r.name == name)


def wait_for_add(world: Sandbox, proc: subprocess.Popen[bytes], sb: Seerbridge, info_hash: str) -> None:
    deadline = time.monotonic() + 20
    while world.realdebrid_state.add_count(info_hash) == 0:
        assert proc.poll() is None, f"exited early ({proc.returncode})\n{sb.logs(1)}"
        assert time.monotonic() < deadline, f"no pack probe\n{sb.logs(1)}"
        time.sleep(0.005)


def finish_after_restart(sb: Seerbridge, world: Sandbox) -> None:
    world.control("realdebrid").clear()
    proc = settle(sb, {REQUEST}, limit=30)
    assert sb.stop(proc) == 0, sb.logs(1)
    requests = assert_consistent(sb, hand_added(world.scenario))
    assert requests[REQUEST].state is RequestState.FULFILLED


def test_sigint_during_a_pack_probe_finishes_the_step_and_exits_0(
    loopback: tuple[Sandbox, dict[ServiceName, str]], tmp_path: Path
) -> None:
    world, hosts = loopback
    with Seerbridge(world, hosts, tmp_path, SEERBRIDGE_RUN__GRACE_S="10") as sb:
        world.control("realdebrid").set_plan(slow_select(1.0))
        pack = hash_of(world, PACK)
        proc = sb.start()
        wait_for_add(world, proc, sb, pack)
        code = sb.stop(proc, timeout=HANG_GUARD_S)
        assert code == 0, sb.logs(1)
        assert "grace period over" not in sb.logs(1)  # it finished the step in hand within the grace period

        requests, rows = sb.store()
        assert [r.state for r in rows if r.info_hash == pack] == [TorrentState.DELETED]
        assert not [r for r in rows if r.state in (TorrentState.ADDING, TorrentState.ADDED)]
        assert world.realdebrid_state.torrents_with_hash(pack) == []
        assert all(world.realdebrid_state.add_count(hash_of(world, name)) == 0 for name in EPISODES)
        (record,) = requests
        assert record.state is RequestState.NEW and record.next_attempt_at is None, record
        assert "stopping: finishing the work in hand" in sb.logs(1)

        finish_after_restart(sb, world)


def test_a_second_sigint_exits_at_once_while_a_call_hangs(
    loopback: tuple[Sandbox, dict[ServiceName, str]], tmp_path: Path
) -> None:
    world, hosts = loopback
    with Seerbridge(world, hosts, tmp_path, SEERBRIDGE_RUN__GRACE_S="30") as sb:
        control = world.control("realdebrid")
        control.set_plan(slow_select(30.0))
        proc = sb.start()
        wait_for(lambda: any("selectFiles" in call for call in control.entered), proc, sb, "the held selectFiles")
        proc.send_signal(signal.SIGINT)
        wait_for(lambda: "stopping: finishing the work in hand" in sb.logs(1), proc, sb, "the first stop")
        assert proc.poll() is None, "the first SIGINT did not wait for the step in hand"
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=HANG_GUARD_S)
        assert code == 130, sb.logs(1)
        # It exited while the step in hand was still held (30 s), not after it.
        assert not [r for r in control.log if "selectFiles" in r.path and r.status], "waited for the held call"
        assert "second stop signal" in sb.logs(1)

        # The emulator may still hold that selectFiles; the restart settles the torrent whatever becomes of it.
        finish_after_restart(sb, world)
