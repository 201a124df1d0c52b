"""A burst of adds through the TorBox client against the TorBox emulator: the client's create budget keeps every
minute at 10 adds or fewer and every hour at 60 or fewer, as TorBox counts them, so TorBox never has to refuse one.
Time is a fake clock shared by the client's budget and the emulator's limits; it moves as an event loop's does (to
the earliest wake-up once every add is asleep on it), so waits pass instantly and in order."""

from __future__ import annotations

import asyncio
import heapq
import itertools

import httpx
from pydantic import SecretStr

from seerbridge.config import TorBoxSettings
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import load_scenario
from seerbridge.sandbox.torbox import create_app
from seerbridge.services.torbox import CreateBudget, TorBoxClient
from seerbridge.services.torbox_models import CreatedTorrent

ADDS = 70  # more than an hour's allowance


class FakeTime:
    """A monotonic clock that moves only when every task is asleep on it, to the earliest wake-up."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._slept = asyncio.Event()  # set whenever a task starts sleeping

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), wake))
        self._slept.set()
        await wake

    async def drive(self, tasks: list[asyncio.Task[CreatedTorrent]]) -> None:
        """Run `tasks` to the end, moving the clock only when every unfinished one sleeps on it. Between moves it waits
        for an event (a task going to sleep, or one ending), never for a length of time: a call in flight, which may
        run in a worker thread of the in-process app, is waited for however long it takes."""
        while pending := [task for task in tasks if not task.done()]:
            self._slept.clear()
            if self._sleepers and len(self._sleepers) == len(pending):
                at, _, wake = heapq.heappop(self._sleepers)
                self.now = max(self.now, at)
                wake.set_result(None)
                continue
            slept = asyncio.ensure_future(self._slept.wait())
            await asyncio.wait([slept, *pending], return_when=asyncio.FIRST_COMPLETED)
            slept.cancel()


def magnet(n: int) -> str:
    return f"magnet:?xt=urn:btih:{n:040x}&dn=Burst.{n}"


async def test_a_burst_of_adds_never_exceeds_torboxs_create_limits() -> None:
    time = FakeTime()
    app = create_app(load_scenario("starter"), VirtualClock(), monotonic=time)
    state = app.state.emulator
    for n in range(ADDS):
        state.mark_cached(f"{n:040x}")  # cached: each add is there at once and takes no download slot
    settings = TorBoxSettings(
        url="http://torbox.sandbox/v1/api",
        api_key=SecretStr(state.key),
        rate_limit_per_min=0,
        retry_timeout_s=7200,  # the budget may hold an add past the first hour
        retries=1,  # a 429 from TorBox fails the burst at once (nothing real-timed to wait for)
        rate_limited_pause_s=0,
    )
    budget = CreateBudget(
        per_min=settings.creates_per_min, per_hour=settings.creates_per_hour, clock=time, sleep=time.sleep
    )
    async with TorBoxClient(settings, transport=httpx.ASGITransport(app=app), create_budget=budget) as client:
        burst = [asyncio.create_task(client.create_torrent(magnet(n), only_if_cached=True)) for n in range(ADDS)]
        await time.drive(burst)
        created = [task.result() for task in burst]
    assert len({c.torrent_id for c in created}) == ADDS
    assert not state.refused  # TorBox never had to say no
    assert state.max_creates_in(60) <= 10 and state.max_creates_in(3600) <= 60
    assert state.max_creates_in(60) == settings.creates_per_min  # the budget is used, not wasted
    assert time.now - 1000.0 > 3600  # the last of the 70 waited past the first hour
