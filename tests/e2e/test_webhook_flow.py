"""Webhook to work through the real daemon: Seerr's auto-approval notification, posted to the daemon's own server on
loopback, puts the torrent on Real-Debrid with polling unable to be what acted, then Jellyfin is told and Seerr,
once Jellyfin lists the film, shows it available. A wrong secret does nothing, and fifty copies of one notification
make one unit of work."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from pydantic import SecretStr

from seerbridge.domain.states import RequestState
from seerbridge.pipeline.announce import SEERR_SCAN_JOB
from seerbridge.runtime.daemon import Daemon, StopSignal
from seerbridge.sandbox.seerr_models import MediaStatus, Notification
from tests.e2e.conftest import E2E, Factory, request_record
from tests.e2e.test_acquisition import HAUNT_2019

SECRET = "webhook-shared-secret"
HAUNT_TMDB = 572802
REQUEST_LIST = r"/api/v1/request$"  # what a poll reads; a webhook's work reads /request/{id} only


def no_requests(data: dict[str, Any]) -> None:
    data["requests"] = []  # nothing for the daemon's first poll to find


def quiet_world(make_e2e: Factory) -> E2E:
    """The demo world without requests, a daemon listening on a free port, polling an hour apart, and looking for
    new files in Jellyfin often (the test moves the emulators' clock past Jellyfin's scan instead of waiting)."""
    return make_e2e(
        edit=no_requests,
        run={"poll_interval_s": 3600.0},
        server={"enabled": True, "host": "127.0.0.1", "port": 0},
        webhook={"secret": SecretStr(SECRET)},
        follow={"min_interval_s": 0.02},
        jellyfin={"arrival_check_s": 0.02},
    )


@contextlib.asynccontextmanager
async def running_daemon(e2e: E2E) -> AsyncIterator[Daemon]:
    """`seerbridge run` in a task, yielded once its server listens and its start-up poll is over."""
    async with e2e.bridge() as bridge:
        daemon = Daemon(e2e.settings, bridge)
        stop = StopSignal()
        listening = asyncio.Event()

        async def ready(_daemon: Daemon) -> None:
            listening.set()

        task = asyncio.create_task(daemon.run(stop, ready=ready))
        try:
            await asyncio.wait_for(listening.wait(), 10)
            while daemon.health.last_pass_at is None:  # the poller's first pass, at start
                assert not task.done(), task
                await asyncio.sleep(0.005)
            yield daemon
        finally:
            stop.trigger()
            await asyncio.wait_for(task, 10)
        assert task.exception() is None


def approve_new_request(e2e: E2E) -> Notification:
    """An admin requests Haunt (2019) in Seerr: inserted approved, so Seerr notifies MEDIA_AUTO_APPROVED."""
    row = e2e.world.seerr_state.add_request(HAUNT_TMDB, approved=True)
    note = e2e.world.seerr_state.notifications[-1]
    assert (note.type, note.request_id) == ("MEDIA_AUTO_APPROVED", row.id)
    return note


async def post(
    daemon: Daemon, body: Any, authorization: str | None = SECRET, *, client: httpx.AsyncClient | None = None
) -> httpx.Response:
    """POST the body to the daemon's webhook over loopback, as Seerr's webhook agent does."""
    headers = {} if authorization is None else {"Authorization": authorization}
    url = f"http://127.0.0.1:{daemon.port}/webhook/seerr"
    if client is not None:
        return await client.post(url, json=body, headers=headers)
    async with httpx.AsyncClient(timeout=5) as own:
        return await own.post(url, json=body, headers=headers)


async def until(condition: Any, within: float) -> float:
    """Seconds until `condition()` held; fails after `within` seconds."""
    started = time.monotonic()
    while not condition():
        elapsed = time.monotonic() - started
        assert elapsed < within, f"not within {within} s"
        await asyncio.sleep(0.005)
    return time.monotonic() - started


def seerr_status(e2e: E2E, tmdb_id: int) -> MediaStatus | None:
    media = e2e.world.seerr_state.media_for(tmdb_id)
    return None if media is None else media.status


async def test_an_approval_webhook_puts_the_torrent_on_real_debrid_and_the_film_in_seerr(make_e2e: Factory) -> None:
    e2e = quiet_world(make_e2e)
    haunt = e2e.hash(HAUNT_2019)
    seerr, jellyfin = e2e.world.control("seerr"), e2e.world.jellyfin_state
    jellyfin.scan_duration_s = 600.0  # the scan ends when the test moves the clock, not by itself on a slow machine
    async with running_daemon(e2e) as daemon:
        polled_at, polls = daemon.health.last_pass_at, seerr.count("GET", REQUEST_LIST)
        refreshes = jellyfin.refresh_count
        assert polls >= 1 and haunt not in e2e.account()
        note = approve_new_request(e2e)

        response = await post(daemon, note.payload)
        assert response.status_code == 202, response.text
        assert response.json() == {
            "status": "accepted",
            "detail": "queued",
            "request_id": note.request_id,
            "queued": True,
        }
        await until(lambda: daemon.health.worked == 1 and not daemon.queue.busy(), within=10)
        assert haunt in e2e.rd.hashes()
        # No poll acted: none ran after the start-up one, and Seerr's request list was not read again.
        assert daemon.health.last_pass_at == polled_at
        assert seerr.count("GET", REQUEST_LIST) == polls
        assert seerr.count("GET", rf"/api/v1/request/{note.request_id}$") == 1

        # The cached film is announced: Jellyfin is asked to scan at once; Seerr once Jellyfin lists the film.
        await until(lambda: jellyfin.refresh_count == refreshes + 1, within=10)
        assert e2e.world.seerr_state.runs_of(SEERR_SCAN_JOB) == []
        e2e.world.clock.advance(jellyfin.scan_duration_s)
        await until(lambda: e2e.world.seerr_state.runs_of(SEERR_SCAN_JOB) != [], within=10)
        assert jellyfin.movie_by_tmdb(HAUNT_TMDB) is not None
        assert seerr_status(e2e, HAUNT_TMDB) is MediaStatus.AVAILABLE
    assert jellyfin.refresh_count == refreshes + 1
    assert len(e2e.world.seerr_state.runs_of(SEERR_SCAN_JOB)) == 1
    assert e2e.account() == {haunt} | {t.hash for t in e2e.scenario.realdebrid.torrents}
    assert note.request_id is not None
    # Jellyfin was seen holding the film under its id: the request is available, not merely on Real-Debrid.
    assert (await request_record(e2e, note.request_id)).state is RequestState.AVAILABLE


async def test_a_bad_secret_is_401_and_nothing_reaches_real_debrid(make_e2e: Factory) -> None:
    e2e = quiet_world(make_e2e)
    realdebrid = e2e.world.control("realdebrid")
    async with running_daemon(e2e) as daemon:
        note = approve_new_request(e2e)
        account, rd_calls = e2e.account(), len(realdebrid.log)
        for authorization in (None, "", "wrong", f"Bearer {SECRET}", SECRET.upper()):
            response = await post(daemon, note.payload, authorization)
            assert response.status_code == 401, (authorization, response.text)
            assert response.json()["status"] == "unauthorized"
        assert len(realdebrid.log) == rd_calls
        assert daemon.queue.stats.submitted == 0  # the handler queues before it answers: nothing was
        # Gate on an event, not a pause: the right secret then queues the same request, and once that one unit
        # is worked, nothing else was (the refused posts would have been queued before it).
        assert (await post(daemon, note.payload)).status_code == 202
        await until(lambda: daemon.health.worked == 1 and not daemon.queue.busy(), within=10)
        assert daemon.queue.stats.submitted == 1
        assert e2e.rd.add_count(e2e.hash(HAUNT_2019)) == 1
        assert e2e.account() == account | {e2e.hash(HAUNT_2019)}
        assert e2e.world.control("seerr").count("GET", rf"/api/v1/request/{note.request_id}$") == 1
        async with httpx.AsyncClient() as client:
            health = (await client.get(f"http://127.0.0.1:{daemon.port}/healthz")).json()
        assert health["alive"] is True and health["requests_worked"] == 1


class HoldRequestReads(httpx.AsyncBaseTransport):
    """Seerr as emulated, except that reading one request waits until `release` is set."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.rstrip("/").split("/")[-1].isdigit():
            self.reached.set()
            await self.release.wait()
        return await self.inner.handle_async_request(request)


async def test_fifty_copies_of_one_approval_make_one_unit_of_work(make_e2e: Factory) -> None:
    e2e = quiet_world(make_e2e)
    hold = HoldRequestReads(e2e.world.transport("seerr"))
    e2e.transports["seerr"] = hold
    haunt = e2e.hash(HAUNT_2019)
    async with running_daemon(e2e) as daemon:
        note = approve_new_request(e2e)
        first = await post(daemon, note.payload)
        assert first.json()["queued"] is True
        await asyncio.wait_for(hold.reached.wait(), 5)  # a worker holds the request: it is running now
        async with httpx.AsyncClient(timeout=5) as client:
            answers = await asyncio.gather(*(post(daemon, note.payload, client=client) for _ in range(49)))
        assert [a.status_code for a in answers] == [202] * 49
        assert not any(a.json()["queued"] for a in answers)
        hold.release.set()
        await until(lambda: daemon.health.worked == 1 and not daemon.queue.busy(), within=5)
        await asyncio.sleep(0.05)
        assert daemon.health.worked == 1 and daemon.queue.waiting() == 0
        assert (daemon.queue.stats.submitted, daemon.queue.stats.coalesced) == (1, 49)
    assert e2e.rd.add_count(haunt) == 1
    assert haunt in e2e.account()


async def test_a_request_the_poll_finds_ends_available_in_seerr(make_e2e: Factory) -> None:
    """No webhook: the daemon's start-up poll finds the approved request, the cached film goes on Real-Debrid,
    Jellyfin is asked to scan, and once it lists the film Seerr shows it available."""
    e2e = make_e2e(
        edit=lambda data: data.update(requests=[r for r in data["requests"] if r["id"] == 102]),  # Haunt (2019)
        run={"poll_interval_s": 3600.0},
        follow={"min_interval_s": 0.02},
        jellyfin={"arrival_check_s": 0.02},
    )
    jellyfin = e2e.world.jellyfin_state
    jellyfin.scan_duration_s = 600.0  # the scan ends when the test moves the clock
    refreshes = jellyfin.refresh_count
    async with running_daemon(e2e) as daemon:
        await until(lambda: daemon.health.worked == 1 and not daemon.queue.busy(), within=10)
        assert e2e.hash(HAUNT_2019) in e2e.account()
        await until(lambda: jellyfin.refresh_count == refreshes + 1, within=10)
        e2e.world.clock.advance(jellyfin.scan_duration_s)
        await until(lambda: seerr_status(e2e, HAUNT_TMDB) is MediaStatus.AVAILABLE, within=10)
    assert len(e2e.world.seerr_state.runs_of(SEERR_SCAN_JOB)) == 1
    assert (await request_record(e2e, 102)).state is RequestState.AVAILABLE
