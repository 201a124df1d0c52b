"""Seerr with seerbridge as its Radarr and Sonarr, end to end: the admin tests and saves the four servers in Seerr's
emulator, an approval pushes the request to seerbridge, seerbridge works it at once with the profile Seerr chose,
and Seerr's own jobs (download-sync, radarr-scan, sonarr-scan) read progress and availability back. Every call Seerr
makes to seerbridge is checked against Radarr's and Sonarr's specs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from seerbridge.arr.facade import ArrFacade
from seerbridge.domain.states import RequestState
from seerbridge.pipeline.process import Bridge
from seerbridge.sandbox.scenario import load_scenario
from seerbridge.sandbox.seerr_models import MediaStatus
from seerbridge.sandbox.seerr_servarr import Servarr
from seerbridge.store import history, repo
from seerbridge.web.app import create_app
from tests.contract.servarr import ServarrContract
from tests.e2e.conftest import E2E, Factory, request_record
from tests.e2e.test_library import settle as jellyfin_settles
from tests.e2e.test_library import tree

KEY = "seerbridge-arr-key"
BASES = ("/radarr", "/radarr-4k", "/sonarr", "/sonarr-4k")
BLADE_RUNNER = 335984  # in test_upgrade's scenario: a 1080p and a 2160p release, both cached
SEVERANCE = 95396
SEVERANCE_TVDB = 371980


@dataclass
class Seerbridge:
    """seerbridge's server as Seerr reaches it, a bridge that works what it queues, and Seerr's admin API."""

    e2e: E2E
    bridge: Bridge
    facade: ArrFacade
    contract: ServarrContract
    seerr: httpx.AsyncClient  # Seerr's API, as the admin's browser calls it
    arr: httpx.AsyncClient  # seerbridge's Radarr/Sonarr, called directly (as Seerr does on "remove")
    queued: list[int] = field(default_factory=list)
    worked: list[int] = field(default_factory=list)
    profiles: dict[str, int] = field(default_factory=dict)

    @property
    def servarr(self) -> Servarr:
        return self.e2e.world.seerr_state.servarr

    def submit(self, request_id: int, _why: str) -> bool:
        if request_id in self.queued:
            return False
        self.queued.append(request_id)
        return True

    async def work(self) -> None:
        """What the daemon's workers do with what Seerr's pushes queued: work each request once, then announce."""
        await self.servarr.settle()
        await self.facade.settle()
        while self.queued:
            request_id = self.queued.pop(0)
            await self.bridge.work_request(request_id)
            self.worked.append(request_id)
        await self.bridge.announce()

    async def title(self, base: str, title_id: int) -> dict[str, Any]:
        answer = await self.arr.get(f"{base}/api/v3/{_noun(base)}/{title_id}", params={"apikey": KEY})
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


def _noun(base: str) -> str:
    return "movie" if base.startswith("/radarr") else "series"


def _kind(base: str) -> str:
    return "radarr" if base.startswith("/radarr") else "sonarr"


async def configure(seerr: httpx.AsyncClient, *, key: str = KEY, profiles: dict[str, str] | None = None) -> None:
    """Settings → Services in Seerr: Test, then Save each of the four servers (default for its kind)."""
    chosen = {"/radarr": "auto", "/radarr-4k": "4k", "/sonarr": "auto", "/sonarr-4k": "4k"} | (profiles or {})
    for base in BASES:
        kind, is4k = _kind(base), base.endswith("-4k")
        connection = {"hostname": "seerbridge", "port": 8787, "apiKey": key, "useSsl": False, "baseUrl": base}
        tested = await seerr.post(f"/settings/{kind}/test", json=connection)
        assert tested.status_code == 200, tested.text
        found = {p["name"]: p["id"] for p in tested.json()["profiles"]}
        settings = {
            **connection,
            "name": f"seerbridge{base}",
            "activeProfileId": found[chosen[base]],
            "activeProfileName": chosen[base],
            "activeDirectory": tested.json()["rootFolders"][0]["path"],
            "is4k": is4k,
            "isDefault": True,
            "syncEnabled": True,
            "preventSearch": False,
        }
        settings |= {"minimumAvailability": "released"} if kind == "radarr" else {"enableSeasonFolders": True}
        saved = await seerr.post(f"/settings/{kind}", json=settings)
        assert saved.status_code == 201, saved.text


@contextlib.asynccontextmanager
async def seerr_with_seerbridge(e2e: E2E, *, configured: bool = True) -> AsyncIterator[Seerbridge]:
    async with e2e.bridge() as bridge:
        holder: list[Seerbridge] = []

        def submit(request_id: int, why: str) -> bool:
            return holder[0].submit(request_id, why)

        facade = ArrFacade(bridge, submit, bridge.now())
        app = create_app(submit=submit, health=dict, secret="", arr=facade, arr_key=KEY)
        contract = ServarrContract(httpx.ASGITransport(app=app))
        e2e.world.seerr_state.servarr.transport = contract  # every call Seerr makes is checked against the specs
        seerr_api = httpx.ASGITransport(app=e2e.world.apps["seerr"])
        headers = {"X-Api-Key": e2e.scenario.keys["seerr"]}
        async with (
            httpx.AsyncClient(transport=seerr_api, base_url="http://seerr/api/v1", headers=headers) as seerr,
            httpx.AsyncClient(transport=contract, base_url="http://seerbridge:8787") as arr,
        ):
            world = Seerbridge(e2e, bridge, facade, contract, seerr, arr)
            holder.append(world)
            if configured:
                await configure(seerr)
            yield world
    contract.assert_clean()


def media_status(e2e: E2E, tmdb_id: int, *, is4k: bool = False) -> MediaStatus | None:
    media = e2e.world.seerr_state.media_for(tmdb_id)
    return None if media is None else (media.status4k if is4k else media.status)


def no_requests(data: dict[str, Any]) -> None:
    data["requests"] = []


async def test_a_4k_request_through_radarr_4k_ends_as_a_2160p_file_available_in_4k(make_e2e: Factory) -> None:
    from tests.e2e.test_upgrade import BR_720, BR_2160, scenario

    e2e = make_e2e(scenario(), library="strm")
    root = Path(e2e.settings.library.root or "")
    async with seerr_with_seerbridge(e2e) as sb:
        row = e2e.world.seerr_state.add_request(BLADE_RUNNER, is4k=True, approved=True)
        await sb.servarr.settle()
        # Seerr pushed to the 4K Radarr only, and stored the id seerbridge gave.
        pushed = [c for c in sb.contract.checked if c.startswith("POST ") and "/movie " in c]
        assert pushed == ["POST /radarr-4k/api/v3/movie -> 201"]
        media = e2e.world.seerr_state.media_for(BLADE_RUNNER)
        assert media is not None and media.service4k.external_service_id is not None
        title_id = media.service4k.external_service_id
        await sb.work()
        assert sb.worked == [row.id]  # worked at once, from the push: no poll ran
        assert e2e.account() >= {e2e.hash(BR_2160)} and e2e.hash(BR_720) not in e2e.account()
        async with e2e.store() as session:
            assert (await repo.get_request(session, row.id)).profile == "4k"  # type: ignore[union-attr]
        # On Real-Debrid, not yet in Jellyfin: Radarr's answer says no file, so Seerr's scan cannot say Available.
        assert (await sb.title("/radarr-4k", title_id))["hasFile"] is False
        await sb.servarr.radarr_scan()
        assert media_status(e2e, BLADE_RUNNER, is4k=True) is not MediaStatus.AVAILABLE
        await jellyfin_settles(e2e, sb.bridge)
        movie = await sb.title("/radarr-4k", title_id)
        assert movie["hasFile"] is True and movie["movieFile"]["mediaInfo"]["resolution"] == "3840x2160"
        await sb.servarr.radarr_scan()
        assert media_status(e2e, BLADE_RUNNER, is4k=True) is MediaStatus.AVAILABLE
    assert list(tree(root)) == ["movies-4k/Blade Runner 2049 [tmdbid-335984]/Blade Runner 2049.strm"]
    assert (await request_record(e2e, row.id)).state is RequestState.AVAILABLE


async def test_an_hd_and_a_4k_request_for_one_movie_are_separate_items(make_e2e: Factory) -> None:
    from tests.e2e.test_upgrade import BR_720, BR_2160, scenario

    e2e = make_e2e(scenario(), edit=no_requests, library="strm")
    root = Path(e2e.settings.library.root or "")
    async with seerr_with_seerbridge(e2e) as sb:
        hd = e2e.world.seerr_state.add_request(BLADE_RUNNER, approved=True)
        uhd = e2e.world.seerr_state.add_request(BLADE_RUNNER, is4k=True, approved=True, requested_by="bob")
        await sb.work()
        assert sorted(sb.worked) == sorted([hd.id, uhd.id])
        await jellyfin_settles(e2e, sb.bridge)
        media = e2e.world.seerr_state.media_for(BLADE_RUNNER)
        assert (
            media is not None
            and media.service.external_service_id is not None
            and media.service4k.external_service_id is not None
        )
        assert media.service.service_id != media.service4k.service_id  # two servers, each with its own title
        hd_movie = await sb.title("/radarr", media.service.external_service_id)
        uhd_movie = await sb.title("/radarr-4k", media.service4k.external_service_id)
        assert hd_movie["movieFile"]["mediaInfo"]["resolution"] == "1280x720"
        assert uhd_movie["movieFile"]["mediaInfo"]["resolution"] == "3840x2160"
        await sb.servarr.radarr_scan()
    assert {e2e.hash(BR_720), e2e.hash(BR_2160)} <= e2e.account()
    async with e2e.store() as session:
        keys = {i.key for i in await repo.items_of_request(session, hd.id)} | {
            i.key for i in await repo.items_of_request(session, uhd.id)
        }
    assert keys == {f"movie:{BLADE_RUNNER}", f"movie:{BLADE_RUNNER}:4k"}
    assert set(tree(root)) == {
        "movies/Blade Runner 2049 [tmdbid-335984]/Blade Runner 2049.strm",
        "movies-4k/Blade Runner 2049 [tmdbid-335984]/Blade Runner 2049.strm",
    }
    assert media_status(e2e, BLADE_RUNNER) is MediaStatus.AVAILABLE
    assert media_status(e2e, BLADE_RUNNER, is4k=True) is MediaStatus.AVAILABLE


def _packs_without_severance(data: dict[str, Any]) -> None:
    data["requests"] = []
    data["library"] = [e for e in data["library"] if e["tmdb_id"] != SEVERANCE]


async def test_a_series_added_with_two_seasons_is_extended_to_the_third(make_e2e: Factory) -> None:
    e2e = make_e2e(load_scenario("season-packs"), edit=_packs_without_severance, library="strm")
    s01 = e2e.hash("Severance.S01.1080p.ATVP.WEB-DL.DDP5.1.H.264-EXAMPLE")
    s02 = e2e.hash("Severance.S02.1080p.ATVP.WEB-DL.DDP5.1.H.264-EXAMPLE")
    s03e01 = e2e.hash("Severance.S03E01.1080p.ATVP.WEB-DL.DDP5.1.H.264-EXAMPLE")
    async with seerr_with_seerbridge(e2e) as sb:
        first = e2e.world.seerr_state.add_request(SEVERANCE, seasons=[1, 2], approved=True)
        await sb.work()
        media = e2e.world.seerr_state.media_for(SEVERANCE)
        assert media is not None and media.service.external_service_id is not None
        series_id = media.service.external_service_id
        monitored = {s["seasonNumber"]: s["monitored"] for s in (await sb.title("/sonarr", series_id))["seasons"]}
        assert monitored == {0: False, 1: True, 2: True, 3: False, 4: False}
        assert {s01, s02} <= e2e.account() and s03e01 not in e2e.account()

        third = e2e.world.seerr_state.add_request(SEVERANCE, seasons=[3], approved=True, requested_by="bob")
        await sb.work()
        assert sb.worked == [first.id, third.id]
        series = await sb.title("/sonarr", series_id)
        assert {s["seasonNumber"]: s["monitored"] for s in series["seasons"]}[3] is True
        assert s03e01 in e2e.account()
        # What Seerr did on the second approval: the series was found by its lookup and updated, not added again.
        calls = [c.split(" -> ")[0] for c in sb.contract.checked]
        assert calls.count("POST /sonarr/api/v3/series") == 1
        assert "PUT /sonarr/api/v3/series" in calls and "GET /sonarr/api/v3/episode" in calls
        # The PUT monitored season 3, so its episodes read monitored and Seerr had none to monitor one by one.
        assert "PUT /sonarr/api/v3/episode/monitor" not in calls

        await jellyfin_settles(e2e, sb.bridge)
        await sb.servarr.sonarr_scan()
        seasons = {s["seasonNumber"]: s["statistics"] for s in (await sb.title("/sonarr", series_id))["seasons"]}
        assert seasons[1]["episodeFileCount"] == 9 and seasons[2]["episodeFileCount"] == 10
    assert e2e.world.seerr_state.media_for(SEVERANCE) is not None
    assert (await request_record(e2e, first.id)).state is RequestState.AVAILABLE


async def test_progress_of_an_uncached_download_shows_in_seerr(make_e2e: Factory) -> None:
    from tests.e2e.test_follow import DUNE_TMDB, DUNE_X265

    e2e = make_e2e(edit=no_requests)
    async with seerr_with_seerbridge(e2e) as sb:
        sb.bridge.now = e2e.world.clock.now  # the follower reads the emulators' clock
        row = e2e.world.seerr_state.add_request(DUNE_TMDB, approved=True)
        await sb.work()
        assert (await request_record(e2e, row.id)).state is RequestState.DOWNLOADING
        e2e.world.clock.advance(30)
        await sb.bridge.follow_downloads()
        await sb.servarr.download_sync()
        media = e2e.world.seerr_state.media_for(DUNE_TMDB)
        assert media is not None
        (shown,) = sb.servarr.downloads_for(media, is4k=False)
        size, left = shown["size"], shown["sizeLeft"]
        assert size > 0 and 0 < left < size  # Seerr draws round((size - left) / size * 100) %
        assert shown["status"] == "downloading" and shown["title"] == DUNE_X265
        assert shown["estimatedCompletionTime"]
        # Seerr's own API shows it on the media, as its request page reads it.
        answer = await sb.seerr.get(f"/movie/{DUNE_TMDB}")
        assert answer.json()["mediaInfo"]["downloadStatus"][0]["sizeLeft"] == left


async def test_a_delete_from_seerr_goes_to_cleanup_and_hand_added_torrents_stay(make_e2e: Factory) -> None:
    from tests.e2e.test_acquisition import HAUNT_2019

    e2e = make_e2e(edit=no_requests, library="strm", cleanup={"periodic": True})
    root = Path(e2e.settings.library.root or "")
    hand_added = {t.hash for t in e2e.scenario.realdebrid.torrents}
    assert hand_added
    async with seerr_with_seerbridge(e2e) as sb:
        e2e.world.seerr_state.add_request(572802, approved=True)
        await sb.work()
        haunt = e2e.hash(HAUNT_2019)
        assert e2e.account() == hand_added | {haunt}
        media = e2e.world.seerr_state.media_for(572802)
        assert media is not None and media.service.external_service_id is not None
        # "Remove from Radarr" in Seerr: its exact calls.
        lookup = await sb.arr.get("/radarr/api/v3/movie/lookup", params={"apikey": KEY, "term": "tmdb:572802"})
        title_id = lookup.json()[0]["id"]
        assert title_id == media.service.external_service_id
        deleted = await sb.arr.delete(
            f"/radarr/api/v3/movie/{title_id}",
            params={"apikey": KEY, "deleteFiles": "true", "addImportExclusion": "false"},
        )
        assert deleted.status_code == 200
        await sb.facade.settle()
    assert e2e.account() == hand_added  # ours went; what was added by hand stayed
    assert not tree(root)
    async with e2e.store() as session:
        assert [r.rule for r in await history.list_removals(session)] == ["removed_in_seerr"]


async def test_without_periodic_cleanup_a_delete_only_plans(make_e2e: Factory) -> None:
    from seerbridge.pipeline.cleanup import plan_cleanup
    from tests.e2e.test_acquisition import HAUNT_2019

    e2e = make_e2e(edit=no_requests)
    async with seerr_with_seerbridge(e2e) as sb:
        e2e.world.seerr_state.add_request(572802, approved=True)
        await sb.work()
        media = e2e.world.seerr_state.media_for(572802)
        assert media is not None and media.service.external_service_id is not None
        url = f"/radarr/api/v3/movie/{media.service.external_service_id}"
        assert (await sb.arr.delete(url, params={"apikey": KEY, "deleteFiles": "true"})).status_code == 200
        await sb.facade.settle()
        assert e2e.hash(HAUNT_2019) in e2e.account()  # nothing deleted without the user
        plan = await plan_cleanup(sb.bridge)
    assert [(d.rule, d.info_hash) for d in plan.doomed] == [("removed_in_seerr", e2e.hash(HAUNT_2019))]


async def test_a_wrong_api_key_fails_seerrs_test_and_its_push(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=no_requests)
    async with seerr_with_seerbridge(e2e, configured=False) as sb:
        connection = {"hostname": "seerbridge", "port": 8787, "apiKey": "wrong", "useSsl": False, "baseUrl": "/radarr"}
        tested = await sb.seerr.post("/settings/radarr/test", json=connection)
        assert tested.status_code >= 400
        sb.servarr.add_server(kind="radarr", api_key="wrong", base_url="/radarr", port=8787)
        row = e2e.world.seerr_state.add_request(572802, approved=True)
        await sb.work()
        assert row.status.name == "FAILED"
        assert [n.type for n in e2e.world.seerr_state.notifications if n.request_id == row.id][-1] == "MEDIA_FAILED"
        assert sb.queued == [] and sb.worked == []
        assert (await sb.arr.get("/radarr/api/v3/movie", params={"apikey": KEY})).json() == []
        # The admin fixes the key and presses Retry: Seerr sends the request again, and it is worked.
        (server,) = sb.servarr.servers["radarr"]
        sb.servarr.replace("radarr", server.id, server.model_copy(update={"api_key": KEY}))
        retried = await sb.seerr.post(f"/request/{row.id}/retry")
        assert retried.status_code == 200, retried.text
        await sb.work()
        assert row.status.name == "APPROVED" and sb.worked == [row.id]
        assert [m["tmdbId"] for m in (await sb.arr.get("/radarr/api/v3/movie", params={"apikey": KEY})).json()] == [
            572802
        ]


async def test_the_running_daemon_works_an_approval_seerr_pushes_over_loopback(make_e2e: Factory) -> None:
    """`seerbridge run` with polling an hour apart and no webhook: Seerr's push to seerbridge's Radarr, over a real
    loopback connection, is what starts the work."""
    from tests.e2e.test_acquisition import HAUNT_2019
    from tests.e2e.test_webhook_flow import REQUEST_LIST, quiet_world, running_daemon, until

    e2e = quiet_world(make_e2e)
    e2e.settings.arr.api_key = SecretStr(KEY)
    seerr = e2e.world.control("seerr")
    async with running_daemon(e2e) as daemon:
        assert daemon.port is not None
        servarr = e2e.world.seerr_state.servarr
        servarr.transport = None  # the network: 127.0.0.1 and the daemon's port
        servarr.add_server(kind="radarr", api_key=KEY, base_url="/radarr", hostname="127.0.0.1", port=daemon.port)
        polls = seerr.count("GET", REQUEST_LIST)
        row = e2e.world.seerr_state.add_request(572802, approved=True)
        await servarr.settle()
        assert row.status.name == "APPROVED"  # the push succeeded
        await until(lambda: daemon.health.worked == 1 and not daemon.queue.busy(), within=10)
        assert e2e.hash(HAUNT_2019) in e2e.rd.hashes()
        assert daemon.queue.stats.submitted == 1
        # One look at Seerr's approved and failed lists found the request; the poller itself did not run again.
        assert seerr.count("GET", REQUEST_LIST) == polls + 2


async def test_cleanup_after_a_delete_waits_for_work_in_progress(make_e2e: Factory) -> None:
    """The cleanup a delete starts runs alone, as every cleanup: not while a request is choosing torrents."""
    from tests.e2e.test_acquisition import HAUNT_2019

    e2e = make_e2e(edit=no_requests, cleanup={"periodic": True})
    async with seerr_with_seerbridge(e2e) as sb:
        e2e.world.seerr_state.add_request(572802, approved=True)
        await sb.work()
        media = e2e.world.seerr_state.media_for(572802)
        assert media is not None and media.service.external_service_id is not None
        url = f"/radarr/api/v3/movie/{media.service.external_service_id}"
        async with sb.bridge.gate.work():
            assert (await sb.arr.delete(url, params={"apikey": KEY, "deleteFiles": "true"})).status_code == 200
            cleanup = asyncio.ensure_future(sb.facade.settle())
            for _ in range(50):  # let the cleanup task run as far as it can
                await asyncio.sleep(0)
            assert not cleanup.done()
            assert e2e.hash(HAUNT_2019) in e2e.account()
        await cleanup
        assert e2e.hash(HAUNT_2019) not in e2e.account()


async def test_a_film_requested_again_after_its_removal_is_kept(make_e2e: Factory) -> None:
    """A deletion is about the torrents of then: a later request's torrent is not what Seerr removed, even when it
    arrives by polling (Seerr no longer has seerbridge as its Radarr)."""
    from seerbridge.pipeline.cleanup import apply_cleanup, plan_cleanup
    from tests.e2e.test_acquisition import HAUNT_2019

    e2e = make_e2e(edit=no_requests, library="strm")
    async with seerr_with_seerbridge(e2e) as sb:
        e2e.world.seerr_state.add_request(572802, approved=True)
        await sb.work()
        await jellyfin_settles(e2e, sb.bridge)
        media = e2e.world.seerr_state.media_for(572802)
        assert media is not None and media.service.external_service_id is not None
        url = f"/radarr/api/v3/movie/{media.service.external_service_id}"
        assert (await sb.arr.delete(url, params={"apikey": KEY, "deleteFiles": "true"})).status_code == 200
        await sb.facade.settle()
        await apply_cleanup(sb.bridge, await plan_cleanup(sb.bridge))
        assert e2e.hash(HAUNT_2019) not in e2e.account()
        await sb.bridge.announce()  # the folder that lost its entry, to Jellyfin
        await jellyfin_settles(e2e, sb.bridge)  # which drops the film
        e2e.world.jellyfin_state.settle()  # brought up to the clock, as any call to it would
        assert e2e.world.jellyfin_state.movie_by_tmdb(572802) is None
        for server in list(sb.servarr.servers["radarr"]):
            sb.servarr.remove("radarr", server.id)
        e2e.world.seerr_state.delete_media(media.id)
        e2e.world.clock.advance(60)
        again = e2e.world.seerr_state.add_request(572802, approved=True, requested_by="bob")
        await sb.bridge.run_pass({again.id})
        assert e2e.hash(HAUNT_2019) in e2e.account()
        assert (await plan_cleanup(sb.bridge)).doomed == ()


async def test_a_season_that_came_out_after_the_add_is_in_the_lookup(make_e2e: Factory) -> None:
    """Seerr monitors only seasons the lookup lists: a held series is listed with the seasons Seerr shows now."""
    e2e = make_e2e(load_scenario("season-packs"), edit=_packs_without_severance)
    async with seerr_with_seerbridge(e2e) as sb:
        lookup = {"apikey": KEY, "term": f"tvdb:{SEVERANCE_TVDB}"}
        e2e.world.seerr_state.add_request(SEVERANCE, seasons=[1], approved=True)
        await sb.work()
        (held,) = (await sb.arr.get("/sonarr/api/v3/series/lookup", params=lookup)).json()
        assert [s["seasonNumber"] for s in held["seasons"]] == [0, 1, 2, 3, 4]
        spec = e2e.scenario.media_by_tmdb(SEVERANCE)
        assert spec is not None
        spec.seasons.append(spec.seasons[-1].model_copy(update={"season": 5, "episodes": 8}))  # announced since
        (again,) = (await sb.arr.get("/sonarr/api/v3/series/lookup", params=lookup)).json()
        assert [s["seasonNumber"] for s in again["seasons"]] == [0, 1, 2, 3, 4, 5]
        assert [s["monitored"] for s in again["seasons"]] == [False, True, False, False, False, False]
        assert again["seasons"][-1]["statistics"]["totalEpisodeCount"] == 8


async def test_the_4k_server_means_4k_whatever_profile_it_was_saved_with(make_e2e: Factory) -> None:
    from tests.e2e.test_upgrade import BR_2160, scenario

    e2e = make_e2e(scenario(), edit=no_requests)
    async with seerr_with_seerbridge(e2e, configured=False) as sb:
        await configure(sb.seerr, profiles={"/radarr-4k": "standard"})
        row = e2e.world.seerr_state.add_request(BLADE_RUNNER, is4k=True, approved=True)
        await sb.work()
    assert e2e.hash(BR_2160) in e2e.account()
    assert (await request_record(e2e, row.id)).profile == "4k"
