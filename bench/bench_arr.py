"""seerbridge as Seerr's Radarr and Sonarr: what one approval push costs, and how the read-back scales.

Everything runs in-process: the demo scenario's emulators, Seerr's emulator configured (Test and Save through its
settings API) with seerbridge's four servers, reached through an ASGI transport (no sockets).

1. Pushes. An admin's request is inserted approved in Seerr (a movie in HD, the same movie in 4K, a series with one
   season, then a second season of it); Seerr pushes it to seerbridge as Seerr 3.1.0 does; what seerbridge queues is
   worked as the daemon's workers do. Printed per push: the calls Seerr made to seerbridge, the calls seerbridge made
   to Seerr while answering (lookups, the request list that finds the request to work), and the real wall time of
   the push (Seerr gives up after 10 s) and of the work it queued.
2. Read-back at scale. N titles are recorded on the HD Radarr (`arr_titles`), one in ten with a download in progress
   (a work item and a `downloading` torrent row); then the calls Seerr makes on its own schedule are timed: `GET
   /queue` (every minute, after RefreshMonitoredDownloads), `GET /movie` (the daily scan) and `GET /movie/{id}`
   (the daily availability sync, per title). SQLite on a temporary file.

Figures are printed, not judged. Run: .venv/bin/python bench/bench_arr.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from seerbridge.arr.facade import ArrFacade
from seerbridge.commands.demo import in_process, sandbox_settings
from seerbridge.domain.states import ItemState, TorrentState
from seerbridge.runtime.bridge import open_bridge
from seerbridge.sandbox.scenario import load_scenario
from seerbridge.sandbox.world import Sandbox
from seerbridge.store import arr_repo, repo
from seerbridge.store.models import Torrent, WorkItem
from seerbridge.web.app import create_app

KEY = "bench-arr-key-0123456"
BASES = ("/radarr", "/radarr-4k", "/sonarr", "/sonarr-4k")


class Counting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        parts = [p if not p.isdigit() else "{id}" for p in path.split("/")]
        self.calls[f"{request.method} {'/'.join(parts)}"] += 1
        return await self.inner.handle_async_request(request)


async def configure(world: Sandbox) -> None:
    transport = httpx.ASGITransport(app=world.apps["seerr"])
    headers = {"X-Api-Key": world.scenario.keys["seerr"]}
    async with httpx.AsyncClient(transport=transport, base_url="http://seerr/api/v1", headers=headers) as seerr:
        for base in BASES:
            kind, is4k = ("radarr" if base.startswith("/radarr") else "sonarr"), base.endswith("-4k")
            connection = {"hostname": "seerbridge", "port": 8787, "apiKey": KEY, "useSsl": False, "baseUrl": base}
            tested = (await seerr.post(f"/settings/{kind}/test", json=connection)).json()
            profile = {p["name"]: p["id"] for p in tested["profiles"]}["4k" if is4k else "auto"]
            body: dict[str, Any] = {
                **connection,
                "name": base,
                "activeProfileId": profile,
                "activeProfileName": "x",
                "activeDirectory": tested["rootFolders"][0]["path"],
                "is4k": is4k,
                "isDefault": True,
                "syncEnabled": True,
            }
            body |= {"minimumAvailability": "released"} if kind == "radarr" else {"enableSeasonFolders": True}
            assert (await seerr.post(f"/settings/{kind}", json=body)).status_code == 201


async def pushes(tmp: Path) -> None:
    scenario = load_scenario("demo").model_copy(update={"requests": [], "library": []})
    world = Sandbox(scenario)
    settings = sandbox_settings(world, f"sqlite+aiosqlite:///{tmp}/push.db", unpaced=True)
    transports = in_process(world)
    to_seerr = Counting(transports["seerr"])
    transports["seerr"] = to_seerr
    print("1. approval pushes (calls Seerr → seerbridge | seerbridge → Seerr; wall ms of the push | of the work)")
    async with open_bridge(settings, transports, clock=world.clock) as bridge:
        queued: list[int] = []

        def submit(request_id: int, _why: str) -> bool:
            if request_id in queued:
                return False
            queued.append(request_id)
            return True

        facade = ArrFacade(bridge, submit, bridge.now())
        to_us = Counting(
            httpx.ASGITransport(app=create_app(submit=submit, health=dict, secret="", arr=facade, arr_key=KEY))
        )
        world.seerr_state.servarr.transport = to_us
        await configure(world)
        cases = [
            ("movie HD (Haunt)", 572802, None, False),
            ("movie 4K (Haunt)", 572802, None, True),
            ("series S02 (Severance)", 95396, [2], False),
            ("same series, S01 added", 95396, [1], False),
        ]
        for label, tmdb_id, seasons, is4k in cases:
            to_us.calls.clear()
            to_seerr.calls.clear()
            started = time.perf_counter()
            world.seerr_state.add_request(tmdb_id, seasons=seasons, is4k=is4k, approved=True, requested_by=label)
            await world.seerr_state.servarr.settle()
            await facade.settle()
            pushed = time.perf_counter() - started
            calls_in, calls_out = dict(to_us.calls), dict(to_seerr.calls)
            started = time.perf_counter()
            while queued:
                await bridge.work_request(queued.pop(0))
            worked = time.perf_counter() - started
            counts = f"{sum(calls_in.values())} | {sum(calls_out.values())} calls"
            print(f"  {label}: {counts}; {pushed * 1000:.0f} | {worked * 1000:.0f} ms")
            print(f"    Seerr → seerbridge: {', '.join(f'{k} ×{v}' for k, v in sorted(calls_in.items()))}")
            print(f"    seerbridge → Seerr: {', '.join(f'{k} ×{v}' for k, v in sorted(calls_out.items()))}")


async def scale(tmp: Path, n: int) -> None:
    world = Sandbox(load_scenario("demo"))
    settings = sandbox_settings(world, f"sqlite+aiosqlite:///{tmp}/scale-{n}.db", unpaced=True)
    async with open_bridge(settings, in_process(world), clock=world.clock) as bridge:
        now = bridge.now()
        async with bridge.sessions.begin() as session:
            for i in range(n):
                tmdb = 1_000_000 + i
                await arr_repo.add_title(
                    session,
                    app="radarr",
                    is4k=False,
                    tmdb_id=tmdb,
                    tvdb_id=None,
                    imdb_id=None,
                    title=f"Film {i}",
                    year=2000 + i % 25,
                    profile="standard",
                    root_folder="/media/movies",
                    monitored=True,
                    seasons=(),
                    tags=(),
                )
                if i % 10:
                    continue
                key = f"movie:{tmdb}"
                session.add(
                    WorkItem(
                        key=key,
                        kind="movie",
                        tmdb_id=tmdb,
                        season=None,
                        is4k=False,
                        wanted=[],
                        done=[],
                        state=ItemState.DOWNLOADING.value,
                        reason=None,
                        updated_at=now,
                    )
                )
                await session.flush()
                session.add(
                    Torrent(
                        info_hash=f"{i:040x}",
                        rd_id=f"RD{i}",
                        name=f"Film.{i}.1080p.WEB-DL-X",
                        item_key=key,
                        request_id=None,
                        season=None,
                        episodes=[],
                        file_ids=[1],
                        cached=False,
                        adopted=False,
                        state=TorrentState.DOWNLOADING.value,
                        size_bytes=4_000_000_000,
                        added_at=now,
                        updated_at=now,
                        progress=40.0,
                        progress_at=now,
                    )
                )
        facade = ArrFacade(bridge, None, now)
        app = create_app(submit=lambda _i, _w: True, health=dict, secret="", arr=facade, arr_key=KEY)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s/radarr/api/v3") as c:
            timings = {}
            for label, path in (("GET /queue", "/queue"), ("GET /movie", "/movie"), ("GET /movie/{id}", "/movie/1")):
                started = time.perf_counter()
                answer = await c.get(path, params={"apikey": KEY})
                timings[label] = (time.perf_counter() - started, answer)
        queue, movies = timings["GET /queue"][1].json(), timings["GET /movie"][1].json()
        async with bridge.sessions() as session:
            assert len(await repo.torrents_in_state(session, TorrentState.DOWNLOADING)) == len(queue["records"])
        print(
            f"  {n} titles ({len(queue['records'])} downloading): "
            + ", ".join(f"{label} {seconds * 1000:.0f} ms" for label, (seconds, _) in timings.items())
            + f" ({len(movies)} movies listed)"
        )


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="seerbridge-bench-arr-") as tmp:
        await pushes(Path(tmp))
        print("2. read-back as Seerr's jobs call it (wall time of one call)")
        for n in (50, 200, 1000):
            await scale(Path(tmp), n)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
