"""Webhook to work through the real daemon: Seerr's auto-approval notification, posted to the daemon's own server on
loopback, puts the torrent on Real-Debrid within a second, with polling unable to be what acted. A wrong secret does
nothing, and fifty copies of one notification make one unit of work."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from pydantic import SecretStr

from seerbridge.domain.states import RequestState
from seerbridge.runtime.daemon import Daemon, StopSignal
from seerbridge.sandbox.seerr_models import Notification
from tests.e2e.conftest import E2E, Factory, request_record
from tests.e2e.test_acquisition import HAUNT_2019

SECRET = "webhook-shared-secret"
HAUNT_TMDB = 572802
REQUEST_LIST = r"/api/v1/request$"  # what a poll reads; a webhook's work reads /request/{id} only


def no_requests(data: dict[str, Any]) -> None:
    data["requests"] = []  # nothing for the daemon's first poll to find


def quiet_world(make_e2e: Factory) -> E2E:
    """The demo world without requests, a daemon listening on a free port, and polling an hour apart."""
    return make_e2e(
        edit=no_requests,
        run={"poll_interval_s": 3600.0},
        server={"enabled": True, "host": "127.0.0.1", "port": 0},
        webhook={"secret": SecretStr(SECRET)},
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


async def test_an_approval_webhook_puts_the_torrent_on_real_debrid_within_a_second(make_e2e: Factory) -> None:
    e2e = quiet_world(make_e2e)
    haunt = e2e.hash(HAUNT_2019)
    seerr = e2e.world.control("seerr")
    async with running_daemon(e2e) as daemon:
        polled_at, polls = daemon.health.last_pass_at, seerr.count("GET", REQUEST_LIST)
        assert polls >= 1 and haunt not in e2e.account()
        note = approve_new_request(e2e)

        started = time.monotonic()
        response = await post(daemon, note.payload)
        assert response.status_code == 202, response.text
        assert response.json() == {
            "status": "accepted",
            "detail": "queued",
            "request_id": note.request_id,
            "queued": True,
        }
        await until(lambda: haunt in e2e.rd.hashes(), within=1.0 - (time.monotonic() - started))
        took = time.monotonic() - started
        await until(lambda: daemon.health.worked == 1 and not daemon.queue.busy(), within=5)

        # No poll acted: none ran after the start-up one, and Seerr's request list was not read again.
        assert daemon.health.last_pass_at == polled_at
        assert seerr.count("GET", REQUEST_LIST) == polls
        assert seerr.count("GET", rf"/api/v1/request/{note.request_id}$") == 1
    assert took < 1.0
    assert e2e.account() == {haunt} | {t.hash for t in e2e.scenario.realdebrid.torrents}
    assert note.request_id is not None
    assert (await request_record(e2e, note.request_id)).state is RequestState.FULFILLED


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
        assert daemon.queue.stats.submitted == 0  # the handler queues before it answers: nothing was
        await asyncio.sleep(0.05)  # and a moment later, nothing has been worked or called either
        assert daemon.health.worked == 0
        assert len(realdebrid.log) == rd_calls
        assert e2e.account() == account
        assert e2e.world.control("seerr").count("GET", rf"/api/v1/request/{note.request_id}$") == 0
        async with httpx.AsyncClient() as client:
            health = (await client.get(f"http://127.0.0.1:{daemon.port}/healthz")).json()
        assert health["alive"] is True and health["requests_worked"] == 0


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
