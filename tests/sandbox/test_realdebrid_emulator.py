"""The Real-Debrid emulator over raw HTTP: shapes, status codes, error bodies, lifecycle, limits."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.realdebrid import create_app
from seerbridge.sandbox.realdebrid_state import RealDebridState
from seerbridge.sandbox.scenario import FileSpec, ReleaseSpec, Scenario
from tests.realdebrid_world import with_account

JS_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
BASE = "http://realdebrid.sandbox/rest/1.0/"
UNKNOWN_HASH = "0123456789abcdef0123456789abcdef01234567"


def release(scenario: Scenario, prefix: str) -> ReleaseSpec:
    return next(r for r in scenario.releases if r.name.startswith(prefix))


def magnet(info_hash: str, name: str | None = None) -> str:
    return f"magnet:?xt=urn:btih:{info_hash}" + (f"&dn={name}" if name else "")


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def client_for(app: FastAPI, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=headers)


@pytest.fixture
def rd(app: FastAPI, starter: Scenario) -> httpx.AsyncClient:
    return client_for(app, starter.keys["realdebrid"])


async def add(rd: httpx.AsyncClient, info_hash: str, name: str | None = None) -> str:
    r = await rd.post("torrents/addMagnet", data={"magnet": magnet(info_hash, name)})
    assert r.status_code == 201, r.text
    torrent_id: str = r.json()["id"]
    return torrent_id


async def info(rd: httpx.AsyncClient, torrent_id: str) -> dict[str, Any]:
    r = await rd.get(f"torrents/info/{torrent_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def assert_error(r: httpx.Response, status: int, error: str, code: int) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"error": error, "error_code": code}


# ----- account, auth, format -----


async def test_user_reports_premium_seconds_and_js_dates(rd: httpx.AsyncClient) -> None:
    r = await rd.get("user")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"id", "username", "email", "points", "locale", "avatar", "type", "premium", "expiration"}
    assert body["username"] == "sandbox"
    assert body["type"] == "premium"
    assert body["premium"] == 120 * 86400
    assert isinstance(body["id"], int) and isinstance(body["points"], int)
    assert body["expiration"] == "2027-03-24T12:00:00.000Z"
    assert JS_DATE.match(body["expiration"])


async def test_premium_runs_out_with_virtual_time(rd: httpx.AsyncClient, clock: VirtualClock) -> None:
    clock.advance(119 * 86400)
    assert (await rd.get("user")).json()["premium"] == 86400
    clock.advance(2 * 86400)
    body = (await rd.get("user")).json()
    assert (body["type"], body["premium"]) == ("free", 0)


async def test_bad_or_missing_token_is_401_bad_token(app: FastAPI, starter: Scenario) -> None:
    async with client_for(app, None) as anon:
        assert_error(await anon.get("user"), 401, "bad_token", 8)
        assert_error(await anon.post("torrents/addMagnet", data={"magnet": magnet(UNKNOWN_HASH)}), 401, "bad_token", 8)
        r = await anon.get("user", params={"auth_token": starter.keys["realdebrid"]})
        assert r.status_code == 200
        assert (await anon.get("time")).status_code == 200  # /time needs no auth
    async with client_for(app, "not-the-token") as wrong:
        assert_error(await wrong.get("torrents"), 401, "bad_token", 8)


async def test_locked_account_is_403(rd: httpx.AsyncClient, state: RealDebridState) -> None:
    state.locked = True
    assert_error(await rd.get("torrents"), 403, "account_locked", 14)


async def test_json_is_php_style_and_unknown_routes_use_rd_errors(rd: httpx.AsyncClient) -> None:
    r = await rd.get("user")
    assert "\t" in r.text and "\\/" in r.text
    assert_error(await rd.get("no/such/method"), 404, "unknown_method", 3)


async def test_etag_and_if_none_match(rd: httpx.AsyncClient) -> None:
    first = await rd.get("torrents")
    etag = first.headers["etag"]
    again = await rd.get("torrents", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


async def test_time_is_plain_server_time(rd: httpx.AsyncClient) -> None:
    r = await rd.get("time")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", r.text)
    assert r.text == "2026-11-24 13:00:00"  # Paris time, like the real server


# ----- listing and paging -----


async def test_list_elements_have_no_files_and_only_state_fields(rd: httpx.AsyncClient, starter: Scenario) -> None:
    r = await rd.get("torrents")
    assert r.status_code == 200
    assert r.headers["x-total-count"] == "1"
    [t] = r.json()
    assert set(t) == {
        "id", "filename", "hash", "bytes", "host", "split", "progress", "status", "added", "links", "ended",
    }  # fmt: skip
    assert t["hash"] == starter.realdebrid.torrents[0].hash
    assert t["status"] == "downloaded" and t["progress"] == 100
    assert re.fullmatch(r"https://real-debrid\.com/d/[A-Z2-7]{13}", t["links"][0])
    assert JS_DATE.match(t["added"]) and JS_DATE.match(t["ended"])
    assert re.fullmatch(r"[A-Z2-7]{13}", t["id"])


async def test_paging_offset_page_limit_and_total(rd: httpx.AsyncClient, state: RealDebridState) -> None:
    for n in range(250):
        state.add_torrent(f"{n:040x}", status="downloaded")
    newest_first = [t.id for t in state.listing()]
    assert len(newest_first) == 251

    r = await rd.get("torrents")
    assert len(r.json()) == 100 and r.headers["x-total-count"] == "251"
    assert [t["id"] for t in r.json()] == newest_first[:100]

    r = await rd.get("torrents", params={"offset": 200, "limit": 100})
    assert [t["id"] for t in r.json()] == newest_first[200:]
    r = await rd.get("torrents", params={"page": 3, "limit": 100, "offset": 0})  # page wins over offset
    assert [t["id"] for t in r.json()] == newest_first[200:]
    r = await rd.get("torrents", params={"limit": 9999})
    assert len(r.json()) == 251
    r = await rd.get("torrents", params={"offset": 400})
    assert r.json() == [] and r.headers["x-total-count"] == "251"
    assert_error(await rd.get("torrents", params={"limit": "many"}), 400, "wrong_parameter", 2)


async def test_filter_active(rd: httpx.AsyncClient, starter: Scenario, clock: VirtualClock) -> None:
    tid = await add(rd, release(starter, "Dune.2021.1080p.BluRay").info_hash)
    r = await rd.get("torrents", params={"filter": "active"})
    assert [t["id"] for t in r.json()] == [tid] and r.headers["x-total-count"] == "1"


# ----- adding -----


async def test_add_magnet_answers_201_and_converts(
    rd: httpx.AsyncClient, starter: Scenario, clock: VirtualClock
) -> None:
    rel = release(starter, "Dune.2021.1080p.BluRay")
    r = await rd.post("torrents/addMagnet", data={"magnet": magnet(rel.info_hash.upper(), "Dune")})
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"id", "uri"}
    assert body["uri"] == f"{BASE}torrents/info/{body['id']}"

    t = await info(rd, body["id"])
    assert t["status"] == "magnet_conversion"
    assert t["files"] == [] and t["filename"] == "Dune" and t["hash"] == rel.info_hash
    assert isinstance(t["seeders"], int)

    clock.advance(2)
    t = await info(rd, body["id"])
    assert t["status"] == "waiting_files_selection"
    assert t["filename"] == f"{rel.name}.mkv" and t["original_filename"] == t["filename"]
    assert t["original_bytes"] == rel.size
    assert t["files"] == [{"id": 1, "path": f"/{rel.name}.mkv", "bytes": rel.size, "selected": 0}]
    assert "seeders" not in t and "speed" not in t and "ended" not in t


async def test_add_magnet_rejects_missing_invalid_and_json_bodies(rd: httpx.AsyncClient) -> None:
    assert_error(await rd.post("torrents/addMagnet", data={}), 400, "wrong_parameter", 2)
    assert_error(await rd.post("torrents/addMagnet", json={"magnet": magnet(UNKNOWN_HASH)}), 400, "wrong_parameter", 2)
    assert_error(
        await rd.post("torrents/addMagnet", data={"magnet": "magnet:?xt=urn:btih:xyz"}), 400, "wrong_parameter", 2
    )
    assert_error(await rd.post("torrents/addMagnet", data={"magnet": UNKNOWN_HASH}), 400, "wrong_parameter", 2)


async def test_refused_hash_is_451_and_adds_nothing(
    rd: httpx.AsyncClient, starter: Scenario, state: RealDebridState
) -> None:
    rel = release(starter, "Dune.2021.1080p.WEB-DL")
    r = await rd.post("torrents/addMagnet", data={"magnet": magnet(rel.info_hash)})
    assert_error(r, 451, "infringing_file", 35)
    assert rel.info_hash not in state.hashes()
    assert state.add_attempts[rel.info_hash] == 1 and state.add_count(rel.info_hash) == 0


async def test_adding_a_hash_twice_makes_two_torrents(
    rd: httpx.AsyncClient, starter: Scenario, state: RealDebridState
) -> None:
    h = release(starter, "Night.of.the.Living.Dead.1968.1080p").info_hash
    first, second = await add(rd, h), await add(rd, h)
    assert first != second
    assert state.hashes().count(h) == 2 and state.add_count(h) == 2
    listed = [t["hash"] for t in (await rd.get("torrents")).json()]
    assert listed.count(h) == 2


async def test_non_premium_account_cannot_add(starter: Scenario, clock: VirtualClock) -> None:
    app = create_app(with_account(starter, premium_days=0), clock)
    async with client_for(app, starter.keys["realdebrid"]) as rd:
        assert (await rd.get("user")).json()["type"] == "free"
        r = await rd.post("torrents/addMagnet", data={"magnet": magnet(UNKNOWN_HASH)})
        assert_error(r, 403, "permission_denied", 9)


async def test_unknown_hash_becomes_a_single_file_torrent(rd: httpx.AsyncClient, clock: VirtualClock) -> None:
    tid = await add(rd, UNKNOWN_HASH, "Some.Home.Video")
    clock.advance(2)
    t = await info(rd, tid)
    assert t["filename"] == "Some.Home.Video.mkv"
    assert [f["path"] for f in t["files"]] == ["/Some.Home.Video.mkv"]


# ----- selecting files and the lifecycle -----


async def test_cached_pack_is_downloaded_at_once(
    rd: httpx.AsyncClient, starter: Scenario, state: RealDebridState, clock: VirtualClock
) -> None:
    rel = release(starter, "Breaking.Bad.S02.1080p")
    tid = await add(rd, rel.info_hash)
    t = await info(rd, tid)
    assert t["status"] == "waiting_files_selection"  # cached: no conversion wait
    assert [f["id"] for f in t["files"]] == list(range(1, 15))
    assert all(f["path"].startswith(f"/{rel.name}/") for f in t["files"])
    assert t["files"][-1]["path"].endswith("Sample/sample.mkv")

    wanted = [f["id"] for f in t["files"] if "E04" in f["path"] or "E05" in f["path"]]
    r = await rd.post(f"torrents/selectFiles/{tid}", data={"files": ",".join(map(str, wanted))})
    assert r.status_code == 204 and r.content == b""

    # For a moment it reads `downloading` at 100 %, as Real-Debrid shows a cached torrent, without links yet.
    t = await info(rd, tid)
    assert (t["status"], t["progress"], t["links"]) == ("downloading", 100, [])
    clock.advance(state.settle_s)
    t = await info(rd, tid)
    assert t["status"] == "downloaded" and t["progress"] == 100
    assert len(t["links"]) == 2 and JS_DATE.match(t["ended"])
    assert t["bytes"] == sum(f["bytes"] for f in t["files"] if f["id"] in wanted)
    assert [f["id"] for f in t["files"] if f["selected"] == 1] == wanted

    again = await rd.post(f"torrents/selectFiles/{tid}", data={"files": "all"})
    assert again.status_code == 202


async def test_cached_hash_with_extra_files_selected_downloads_instead(
    rd: httpx.AsyncClient, state: RealDebridState, clock: VirtualClock
) -> None:
    files = [FileSpec(path="Movie/Movie.mkv", size=10**9), FileSpec(path="Movie/Movie.nfo", size=1000)]
    state.set_behaviour(UNKNOWN_HASH, "cached", files=files, name="Movie")
    video_only = await add(rd, UNKNOWN_HASH)
    assert (await rd.post(f"torrents/selectFiles/{video_only}", data={"files": "1"})).status_code == 204
    clock.advance(state.settle_s)
    assert (await info(rd, video_only))["status"] == "downloaded"

    everything = await add(rd, UNKNOWN_HASH)
    assert (await rd.post(f"torrents/selectFiles/{everything}", data={"files": "all"})).status_code == 204
    assert (await info(rd, everything))["status"] == "queued"


async def test_uncached_goes_queued_downloading_downloaded(
    rd: httpx.AsyncClient, starter: Scenario, clock: VirtualClock
) -> None:
    rel = release(starter, "Dune.2021.1080p.BluRay")
    tid = await add(rd, rel.info_hash)
    assert_error(await rd.post(f"torrents/selectFiles/{tid}", data={"files": "1"}), 404, "unknown_ressource", 7)
    clock.advance(2)
    assert (await rd.post(f"torrents/selectFiles/{tid}", data={"files": "1"})).status_code == 204

    t = await info(rd, tid)
    assert t["status"] == "queued" and t["links"] == []
    clock.advance(2 + 40)
    t = await info(rd, tid)
    assert t["status"] == "downloading"
    assert t["speed"] == rel.rd_speed and isinstance(t["seeders"], int)
    assert t["progress"] == 40 * rel.rd_speed * 100 // rel.size
    listed = (await rd.get("torrents")).json()[0]
    assert listed["status"] == "downloading" and "speed" in listed and "ended" not in listed

    clock.advance(rel.size / rel.rd_speed)
    t = await info(rd, tid)
    assert t["status"] == "downloaded" and t["progress"] == 100 and len(t["links"]) == 1
    assert "speed" not in t and "seeders" not in t and JS_DATE.match(t["ended"])


async def test_dead_torrent_dies_after_its_time(rd: httpx.AsyncClient, starter: Scenario, clock: VirtualClock) -> None:
    rel = release(starter, "Dune.2021.720p")
    tid = await add(rd, rel.info_hash)
    clock.advance(2)
    await rd.post(f"torrents/selectFiles/{tid}", data={"files": "all"})
    clock.advance(10)
    assert (await info(rd, tid))["status"] == "downloading"
    clock.advance(rel.rd_dies_after)
    t = await info(rd, tid)
    assert t["status"] == "dead" and t["links"] == [] and t["progress"] < 100


@pytest.mark.parametrize("behaviour", ["error", "virus"])
async def test_error_and_virus_after_selection(
    rd: httpx.AsyncClient, state: RealDebridState, clock: VirtualClock, behaviour: str
) -> None:
    state.set_behaviour(UNKNOWN_HASH, behaviour)  # type: ignore[arg-type]
    tid = await add(rd, UNKNOWN_HASH)
    clock.advance(2)
    assert (await info(rd, tid))["status"] == "waiting_files_selection"
    await rd.post(f"torrents/selectFiles/{tid}", data={"files": "1"})
    assert (await info(rd, tid))["status"] == behaviour


async def test_magnet_error_before_selection(
    rd: httpx.AsyncClient, state: RealDebridState, clock: VirtualClock
) -> None:
    state.set_behaviour(UNKNOWN_HASH, "magnet_error")
    tid = await add(rd, UNKNOWN_HASH)
    clock.advance(2)
    t = await info(rd, tid)
    assert t["status"] == "magnet_error" and t["files"] == []


async def test_select_files_errors(rd: httpx.AsyncClient, starter: Scenario) -> None:
    tid = await add(rd, release(starter, "Night.of.the.Living.Dead.1968.1080p").info_hash)
    assert_error(await rd.post(f"torrents/selectFiles/{tid}", data={"files": "2"}), 404, "unknown_ressource", 7)
    assert_error(await rd.post(f"torrents/selectFiles/{tid}", data={"files": "one"}), 400, "wrong_parameter", 2)
    assert_error(await rd.post(f"torrents/selectFiles/{tid}", data={}), 400, "wrong_parameter", 2)
    assert_error(await rd.post("torrents/selectFiles/NOSUCHTORRENT", data={"files": "1"}), 404, "unknown_ressource", 7)


async def test_active_limit_answers_509_too_many_active_downloads(starter: Scenario, clock: VirtualClock) -> None:
    app = create_app(with_account(starter, active_limit=2), clock)
    async with client_for(app, starter.keys["realdebrid"]) as rd:
        hashes = [
            release(starter, p).info_hash for p in ("Dune.2021.1080p.BluRay", "Night.of.the.Living.Dead.1968.2160p")
        ]
        ids = [await add(rd, h) for h in [*hashes, UNKNOWN_HASH]]
        clock.advance(2)
        for tid in ids[:2]:
            assert (await rd.post(f"torrents/selectFiles/{tid}", data={"files": "all"})).status_code == 204
        assert (await rd.get("torrents/activeCount")).json() == {"nb": 2, "limit": 2}
        r = await rd.post(f"torrents/selectFiles/{ids[2]}", data={"files": "all"})
        assert_error(r, 509, "too_many_active_downloads", 21)
        clock.advance(3600)  # both finish and free their slots
        assert (await rd.get("torrents/activeCount")).json() == {"nb": 0, "limit": 2}
        assert (await rd.post(f"torrents/selectFiles/{ids[2]}", data={"files": "all"})).status_code == 204


async def test_delete_then_unknown(rd: httpx.AsyncClient, state: RealDebridState) -> None:
    tid = await add(rd, UNKNOWN_HASH)
    r = await rd.delete(f"torrents/delete/{tid}")
    assert r.status_code == 204 and r.content == b""
    assert_error(await rd.delete(f"torrents/delete/{tid}"), 404, "unknown_ressource", 7)
    assert_error(await rd.get(f"torrents/info/{tid}"), 404, "unknown_ressource", 7)
    assert UNKNOWN_HASH not in state.hashes()


async def test_instant_availability_is_disabled(rd: httpx.AsyncClient, app: FastAPI) -> None:
    assert_error(await rd.get(f"torrents/instantAvailability/{UNKNOWN_HASH}"), 403, "disabled_endpoint", 37)
    path = f"torrents/instantAvailability/{UNKNOWN_HASH}/{'f' * 40}"
    assert_error(await rd.get(path), 403, "disabled_endpoint", 37)
    async with client_for(app, None) as anon:
        assert_error(await anon.get(path), 403, "disabled_endpoint", 37)


async def test_available_hosts(rd: httpx.AsyncClient) -> None:
    [host] = (await rd.get("torrents/availableHosts")).json()
    assert host["host"] == "real-debrid.com" and isinstance(host["max_file_size"], int)


# ----- unrestricting links -----


async def test_unrestrict_link_of_a_downloaded_file(
    rd: httpx.AsyncClient, starter: Scenario, state: RealDebridState, clock: VirtualClock
) -> None:
    rel = release(starter, "Night.of.the.Living.Dead.1968.1080p")
    tid = await add(rd, rel.info_hash)
    await rd.post(f"torrents/selectFiles/{tid}", data={"files": "1"})
    clock.advance(state.settle_s)
    [link] = (await info(rd, tid))["links"]
    r = await rd.post("unrestrict/link", data={"link": link})
    assert r.status_code == 200
    body = r.json()
    assert {"id", "filename", "mimeType", "filesize", "link", "host", "chunks", "crc", "download", "streamable"} <= set(
        body
    )
    assert body["filename"] == f"{rel.name}.mkv" and body["filesize"] == rel.size and body["link"] == link
    assert body["mimeType"] == "video/x-matroska"
    assert body["download"] == f"https://sandbox.download.real-debrid.com/d/{body['id']}/{rel.name}.mkv"


async def test_unrestrict_link_failures(rd: httpx.AsyncClient, starter: Scenario, state: RealDebridState) -> None:
    assert_error(await rd.post("unrestrict/link", data={}), 400, "wrong_parameter", 2)
    r = await rd.post("unrestrict/link", data={"link": "https://real-debrid.com/d/NOTALINK"})
    assert_error(r, 503, "hoster_unavailable", 19)

    existing = state.listing()[0]
    [link] = state.links(existing)
    assert (await rd.post("unrestrict/link", data={"link": link})).status_code == 200
    state.set_behaviour(existing.hash, "refused")  # a retroactive purge
    assert_error(await rd.post("unrestrict/link", data={"link": link}), 451, "infringing_file", 35)
    state.set_behaviour(existing.hash, "cached")
    state.set_status(existing.id, "dead")  # evicted
    assert_error(await rd.post("unrestrict/link", data={"link": link}), 503, "hoster_unavailable", 19)
    await rd.delete(f"torrents/delete/{existing.id}")
    assert_error(await rd.post("unrestrict/link", data={"link": link}), 503, "hoster_unavailable", 19)


async def test_a_download_url_names_a_node_the_id_and_the_file(
    rd: httpx.AsyncClient, state: RealDebridState, clock: VirtualClock
) -> None:
    files = [FileSpec(path="Some Film (2019)/Some Film 2019 1080p.mkv", size=10**9)]
    state.set_behaviour(UNKNOWN_HASH, "cached", files=files, name="Some Film (2019)")
    tid = await add(rd, UNKNOWN_HASH)
    await rd.post(f"torrents/selectFiles/{tid}", data={"files": "1"})
    clock.advance(state.settle_s)
    [link] = (await info(rd, tid))["links"]
    body = (await rd.post("unrestrict/link", data={"link": link})).json()
    # https://<node>.download.real-debrid.com/d/<ID>/<filename>, the file name URL-encoded
    assert re.fullmatch(r"https://[a-z0-9-]+\.download\.real-debrid\.com/d/[A-Z2-7]{13}/[^/]+", body["download"])
    assert body["download"].endswith(f"/d/{body['id']}/Some%20Film%202019%201080p.mkv")
    assert body["filename"] == "Some Film 2019 1080p.mkv" and body["host"] == "real-debrid.com"


async def test_a_vanished_torrent_is_unknown_and_its_links_are_unavailable(
    rd: httpx.AsyncClient, state: RealDebridState
) -> None:
    existing = state.listing()[0]
    [link] = state.links(existing)
    assert (await rd.post("unrestrict/link", data={"link": link})).status_code == 200
    state.vanish(existing.id)
    assert state.vanished == [existing.id]
    assert existing.id not in [t["id"] for t in (await rd.get("torrents")).json()]
    assert_error(await rd.get(f"torrents/info/{existing.id}"), 404, "unknown_ressource", 7)
    assert_error(await rd.post("unrestrict/link", data={"link": link}), 503, "hoster_unavailable", 19)
    assert_error(await rd.delete(f"torrents/delete/{existing.id}"), 404, "unknown_ressource", 7)


@pytest.mark.parametrize("status", ["dead", "error", "virus"])
async def test_a_torrent_turned_bad_keeps_no_playable_link(
    rd: httpx.AsyncClient, state: RealDebridState, status: str
) -> None:
    existing = state.listing()[0]
    [link] = state.links(existing)
    state.set_status(existing.id, status)  # type: ignore[arg-type]
    t = await info(rd, existing.id)
    assert t["status"] == status
    assert t["links"] == ([link] if status == "dead" else [])  # a dead torrent keeps its stale links
    assert_error(await rd.post("unrestrict/link", data={"link": link}), 503, "hoster_unavailable", 19)


async def test_the_next_unrestricts_can_be_made_to_fail(rd: httpx.AsyncClient, state: RealDebridState) -> None:
    existing = state.listing()[0]
    [link] = state.links(existing)
    state.fail_next_unrestrict(link)
    assert_error(await rd.post("unrestrict/link", data={"link": link}), 503, "hoster_unavailable", 19)
    assert (await rd.post("unrestrict/link", data={"link": link})).status_code == 200  # only the next one
    state.fail_next_unrestrict(times=2)  # any link
    for _ in range(2):
        assert_error(await rd.post("unrestrict/link", data={"link": link}), 503, "hoster_unavailable", 19)
    assert (await rd.post("unrestrict/link", data={"link": link})).status_code == 200
    assert len(state.unrestricted) == 2  # failed answers hand out no download


# ----- rate limit and sandbox faults -----


async def test_rate_limit_250_per_minute_counting_refused(starter: Scenario, clock: VirtualClock) -> None:
    now = FakeMonotonic()
    app = create_app(starter, clock, monotonic=now)
    async with client_for(app, starter.keys["realdebrid"]) as rd:
        for _ in range(250):
            assert (await rd.get("torrents/activeCount")).status_code == 200
        r = await rd.get("torrents/activeCount")
        assert r.status_code == 429
        assert r.content == b'{"error":"too_many_requests","error_code":34}'
        assert "retry-after" not in r.headers
        now.t += 30
        assert (await rd.get("time")).status_code == 429  # every path counts, refused ones too
        now.t += 30  # everything from t=0 leaves the window; the refused call at t=30 stays in it
        for _ in range(249):
            assert (await rd.get("torrents/activeCount")).status_code == 200
        assert (await rd.get("torrents/activeCount")).status_code == 429
    state: RealDebridState = app.state.emulator
    assert state.rate.refused == 3


async def test_sandbox_faults_are_installed_with_rd_429_body(rd: httpx.AsyncClient, app: FastAPI) -> None:
    app.state.sandbox.queue("too_many")
    assert_error(await rd.get("user"), 429, "too_many_requests", 34)
    assert (await rd.get("user")).status_code == 200
    assert app.state.sandbox.count("GET", r"/rest/1\.0/user") == 2
