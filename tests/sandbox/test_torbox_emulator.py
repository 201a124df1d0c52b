"""The TorBox emulator over raw HTTP: the envelope, cache checks, creates, the list cache, links, limits, auth."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import ReleaseSpec, Scenario
from seerbridge.sandbox.torbox import TORBOX_KEY, TorBoxState, create_app

BASE = "http://torbox.sandbox/v1/api/"
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$")
UNKNOWN_HASH = "0123456789abcdef0123456789abcdef01234567"


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def _envelope_on_every_answer(response: httpx.Response) -> None:
    """Every JSON answer, good or bad, is TorBox's envelope; only a redirect (requestdl) has no body."""
    if response.status_code == 307:
        return
    await response.aread()
    body = response.json()
    assert set(body) == {"success", "error", "detail", "data"}, body
    assert body["success"] is (response.status_code == 200), (response.status_code, body)
    assert isinstance(body["detail"], str)


def client_for(app: FastAPI, key: str | None = TORBOX_KEY) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE,
        headers=headers,
        event_hooks={"response": [_envelope_on_every_answer]},
    )


@pytest.fixture
def tb_clock() -> VirtualClock:
    return VirtualClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC), speed=0)


@pytest.fixture
def mono() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
def tb_app(starter: Scenario, tb_clock: VirtualClock, mono: FakeMonotonic) -> FastAPI:
    return create_app(starter, tb_clock, monotonic=mono)


@pytest.fixture
def tb_state(tb_app: FastAPI) -> TorBoxState:
    state: TorBoxState = tb_app.state.emulator
    return state


@pytest.fixture
def tb(tb_app: FastAPI) -> httpx.AsyncClient:
    return client_for(tb_app)


def release(scenario: Scenario, prefix: str) -> ReleaseSpec:
    return next(r for r in scenario.releases if r.name.startswith(prefix))


def fake_hash(n: int) -> str:
    return hashlib.sha1(f"torbox-test-{n}".encode()).hexdigest()


def magnet(info_hash: str) -> str:
    return f"magnet:?xt=urn:btih:{info_hash}&dn=Some.Name"


async def create(tb: httpx.AsyncClient, info_hash: str, **fields: str) -> httpx.Response:
    return await tb.post("torrents/createtorrent", data={"magnet": magnet(info_hash), "allow_zip": "false", **fields})


async def created_id(tb: httpx.AsyncClient, info_hash: str, **fields: str) -> int:
    r = await create(tb, info_hash, **fields)
    assert r.status_code == 200, r.text
    torrent_id: int = r.json()["data"]["torrent_id"]
    return torrent_id


async def torrent(tb: httpx.AsyncClient, torrent_id: int) -> dict[str, Any]:
    r = await tb.get("torrents/mylist", params={"id": torrent_id, "bypass_cache": "true"})
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def assert_failure(r: httpx.Response, status: int, error: str | None) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["success"] is False
    assert body["error"] == error


# ----- checkcached -----


async def test_post_list_gives_cached_hashes_with_files_under_their_root_folder(
    tb: httpx.AsyncClient, starter: Scenario
) -> None:
    pack = release(starter, "Breaking.Bad.S02.1080p")
    single = release(starter, "Night.of.the.Living.Dead.1968.1080p")
    uncached = release(starter, "Night.of.the.Living.Dead.1968.2160p")
    hashes = [pack.info_hash.upper(), uncached.info_hash, UNKNOWN_HASH, single.info_hash]
    r = await tb.post("torrents/checkcached", params={"format": "list", "list_files": "true"}, json={"hashes": hashes})
    assert r.status_code == 200
    data = r.json()["data"]
    assert [d["hash"] for d in data] == [pack.info_hash, single.info_hash]  # absent hashes are simply left out
    by_hash = {d["hash"]: d for d in data}
    assert by_hash[pack.info_hash]["name"] == pack.name
    assert by_hash[pack.info_hash]["size"] == pack.size
    files = by_hash[pack.info_hash]["files"]
    assert len(files) == len(pack.file_list("Breaking Bad"))
    assert all(f["name"].startswith(f"{pack.name}/") and f["name"].endswith(f"/{f['short_name']}") for f in files)
    assert files[-1]["name"] == f"{pack.name}/Sample/sample.mkv"
    assert all("/" not in f["short_name"] and f["size"] > 0 for f in files)
    # A single-file torrent's file sits under the torrent's name too.
    (only,) = by_hash[single.info_hash]["files"]
    assert only == {
        "name": f"{single.name}/{single.name}.mkv",
        "size": single.size,
        "short_name": f"{single.name}.mkv",
        "opensubtitles_hash": None,
    }


async def test_get_object_takes_repeated_and_comma_separated_hashes(tb: httpx.AsyncClient, starter: Scenario) -> None:
    pack = release(starter, "Breaking.Bad.S02.1080p")
    single = release(starter, "Night.of.the.Living.Dead.1968.1080p")
    query = f"hash={pack.info_hash},{UNKNOWN_HASH}&hash={single.info_hash}&format=object"
    r = await tb.get(f"torrents/checkcached?{query}")
    data = r.json()["data"]
    assert set(data) == {pack.info_hash, single.info_hash}
    assert data[single.info_hash] == {"name": single.name, "size": single.size, "hash": single.info_hash}
    r = await tb.get(f"torrents/checkcached?{query}&list_files=true")
    assert r.json()["data"][single.info_hash]["files"][0]["short_name"] == f"{single.name}.mkv"


async def test_nothing_cached_is_null_as_an_object_and_empty_as_a_list(
    tb: httpx.AsyncClient, starter: Scenario
) -> None:
    uncached = release(starter, "Dune.2021.1080p.BluRay")
    r = await tb.get("torrents/checkcached", params={"hash": f"{uncached.info_hash},{UNKNOWN_HASH}"})
    assert r.status_code == 200 and r.json()["data"] is None
    r = await tb.post("torrents/checkcached", params={"format": "list"}, json={"hashes": [UNKNOWN_HASH]})
    assert r.status_code == 200 and r.json()["data"] == []


async def test_bad_cache_checks_are_refused(tb: httpx.AsyncClient) -> None:
    assert_failure(await tb.get("torrents/checkcached"), 400, "MISSING_REQUIRED_OPTION")
    assert_failure(await tb.post("torrents/checkcached", json={}), 400, "MISSING_REQUIRED_OPTION")
    r = await tb.get("torrents/checkcached", params={"hash": UNKNOWN_HASH, "format": "table"})
    assert_failure(r, 400, "INVALID_OPTION")


async def test_an_answer_is_remembered_for_an_hour_either_way(
    tb: httpx.AsyncClient, tb_state: TorBoxState, tb_clock: VirtualClock, starter: Scenario
) -> None:
    cached = release(starter, "Shogun.1980")

    async def cached_now() -> set[str]:
        r = await tb.post(
            "torrents/checkcached", params={"format": "list"}, json={"hashes": [UNKNOWN_HASH, cached.info_hash]}
        )
        return {d["hash"] for d in r.json()["data"]}

    assert await cached_now() == {cached.info_hash}
    tb_state.mark_cached(UNKNOWN_HASH)  # TorBox gets it minutes after the check ...
    tb_state.mark_uncached(cached.name)  # ... and loses the other one
    assert tb_state.is_cached(UNKNOWN_HASH) and not tb_state.is_cached(cached.info_hash)
    tb_clock.advance(3599)
    assert await cached_now() == {cached.info_hash}  # the remembered answers still
    tb_clock.advance(1)
    assert await cached_now() == {UNKNOWN_HASH}


# ----- createtorrent and the torrent's life -----


async def test_a_cached_add_is_there_at_once(tb: httpx.AsyncClient, tb_state: TorBoxState, starter: Scenario) -> None:
    single = release(starter, "Night.of.the.Living.Dead.1968.1080p")
    r = await create(tb, single.info_hash, seed="3", add_only_if_cached="true")
    assert r.status_code == 200
    body = r.json()
    assert body["detail"] == "Found Cached Torrent. Using Cached Torrent."
    assert set(body["data"]) == {"torrent_id", "hash", "auth_id"}
    assert isinstance(body["data"]["torrent_id"], int) and body["data"]["hash"] == single.info_hash
    t = await torrent(tb, body["data"]["torrent_id"])
    assert t["download_finished"] is True and t["download_present"] is True
    assert t["download_state"] == "cached" and t["progress"] == 1.0
    assert t["name"] == single.name and t["size"] == single.size
    assert [(f["id"], f["short_name"]) for f in t["files"]] == [(0, f"{single.name}.mkv")]
    assert ISO.match(t["created_at"]) and ISO.match(t["updated_at"])
    assert tb_state.torrent_by_hash(single.info_hash) is not None


async def test_an_uncached_add_fetches_metadata_then_downloads_at_its_speed(
    tb: httpx.AsyncClient, tb_state: TorBoxState, tb_clock: VirtualClock, starter: Scenario
) -> None:
    uhd = release(starter, "Night.of.the.Living.Dead.1968.2160p")
    torrent_id = await created_id(tb, uhd.info_hash, seed="3")
    t = await torrent(tb, torrent_id)
    assert t["download_state"] == "metaDL" and t["files"] == [] and t["progress"] == 0.0
    assert t["download_finished"] is False and t["download_present"] is False
    tb_clock.advance(tb_state.meta_s + uhd.size / uhd.rd_speed / 2)
    t = await torrent(tb, torrent_id)
    assert t["download_state"] == "downloading" and t["download_speed"] == uhd.rd_speed
    assert t["progress"] == pytest.approx(0.5, abs=0.01)
    assert t["eta"] == pytest.approx(uhd.size / uhd.rd_speed / 2, abs=2)
    assert t["name"] == uhd.name and len(t["files"]) == 1
    assert t["download_finished"] is False
    r = await tb.post("torrents/checkcached", params={"format": "list"}, json={"hashes": [uhd.info_hash]})
    assert r.json()["data"] == []
    tb_clock.advance(uhd.size / uhd.rd_speed / 2 + 1)
    t = await torrent(tb, torrent_id)
    assert t["download_state"] == "completed" and t["progress"] == 1.0
    assert t["download_finished"] is True and t["download_present"] is True
    assert tb_state.is_cached(uhd.info_hash)  # what a user downloaded, TorBox now holds for everyone


async def test_add_only_if_cached_refuses_an_uncached_hash(
    tb: httpx.AsyncClient, tb_state: TorBoxState, starter: Scenario
) -> None:
    uncached = release(starter, "Dune.2021.1080p.BluRay")
    r = await create(tb, uncached.info_hash, add_only_if_cached="true")
    assert_failure(r, 400, "DOWNLOAD_NOT_CACHED")
    assert tb_state.torrents == {}
    tb_state.only_if_cached_hang_s = 0.01  # TorBox that does not answer in time, as decypharr PR#370 saw
    assert_failure(await create(tb, uncached.info_hash, add_only_if_cached="true"), 400, "DOWNLOAD_NOT_CACHED")
    assert tb_state.torrents == {}


async def test_adding_a_hash_already_in_the_account_is_a_duplicate(
    tb: httpx.AsyncClient, tb_state: TorBoxState, starter: Scenario
) -> None:
    single = release(starter, "Night.of.the.Living.Dead.1968.1080p")
    await created_id(tb, single.info_hash)
    assert_failure(await create(tb, single.info_hash.upper()), 400, "DUPLICATE_ITEM")
    assert len(tb_state.torrents) == 1


async def test_bad_creates(tb: httpx.AsyncClient) -> None:
    assert_failure(await tb.post("torrents/createtorrent", data={"seed": "3"}), 400, "MISSING_REQUIRED_OPTION")
    r = await tb.post("torrents/createtorrent", data={"magnet": "magnet:?dn=nothing"})
    assert_failure(r, 400, "BOZO_TORRENT")
    r = await tb.post("torrents/createtorrent", files={"file": ("x.torrent", b"d4:infoe", "application/x-bittorrent")})
    assert_failure(r, 400, "BOZO_TORRENT")
    assert_failure(await create(tb, UNKNOWN_HASH, seed="9"), 400, "INVALID_OPTION")
    assert_failure(await create(tb, UNKNOWN_HASH, add_only_if_cached="maybe"), 400, "INVALID_OPTION")


async def test_the_active_limit_has_a_null_error(tb: httpx.AsyncClient, tb_state: TorBoxState) -> None:
    tb_state.active_limit = 1
    await created_id(tb, fake_hash(1))
    r = await create(tb, fake_hash(2))
    assert_failure(r, 400, None)
    assert r.json()["data"] == {"active_limit": 1, "current_active_downloads": 1}
    tb_state.mark_cached(fake_hash(3))
    await created_id(tb, fake_hash(3))  # a cached add takes no slot


# ----- limits -----


async def test_the_eleventh_create_in_a_minute_is_refused(
    tb: httpx.AsyncClient, tb_state: TorBoxState, mono: FakeMonotonic
) -> None:
    tb_state.cached.update(fake_hash(n) for n in range(11))  # cached adds: no slot limit in the way
    for n in range(10):
        mono.t += 1
        await created_id(tb, fake_hash(n))
    r = await create(tb, fake_hash(10))
    assert_failure(r, 429, None)
    assert tb_state.refused["POST /v1/api/torrents/createtorrent"] == 1
    assert tb_state.max_creates_in(60) == 10
    mono.t += 51  # the first create leaves the minute
    await created_id(tb, fake_hash(10))
    assert tb_state.max_creates_in(60) == 10
    assert len(tb_state.create_times) == 11


async def test_the_sixty_first_create_in_an_hour_is_refused(
    tb: httpx.AsyncClient, tb_state: TorBoxState, mono: FakeMonotonic
) -> None:
    tb_state.cached.update(fake_hash(n) for n in range(62))  # cached adds: no slot limit in the way
    for n in range(60):
        mono.t += 7  # 8.6 a minute: under the edge
        await created_id(tb, fake_hash(n))
    mono.t += 60
    assert_failure(await create(tb, fake_hash(60)), 429, None)
    assert tb_state.max_creates_in(3600) == 60
    mono.t = tb_state.create_times[0] + 3600  # the first create leaves the hour
    await created_id(tb, fake_hash(60))
    assert tb_state.max_creates_in(3600) == 60
    assert tb_state.max_creates_in(60) <= 10


async def test_every_endpoint_takes_300_calls_a_minute(tb: httpx.AsyncClient, mono: FakeMonotonic) -> None:
    for _ in range(300):
        assert (await tb.get("user/me")).status_code == 200
    assert_failure(await tb.get("user/me"), 429, None)
    assert (await tb.get("torrents/mylist")).status_code == 200  # counted per endpoint
    mono.t += 60
    assert (await tb.get("user/me")).status_code == 200


async def test_injected_faults_answer_in_the_envelope_too(tb: httpx.AsyncClient, tb_app: FastAPI) -> None:
    tb_app.state.sandbox.queue("too_many")
    assert_failure(await tb.get("user/me"), 429, None)


# ----- mylist -----


async def test_mylist_is_stale_without_bypass_cache(
    tb: httpx.AsyncClient, tb_state: TorBoxState, tb_clock: VirtualClock, starter: Scenario
) -> None:
    assert (await tb.get("torrents/mylist")).json()["data"] == []
    single = release(starter, "Night.of.the.Living.Dead.1968.1080p")
    torrent_id = await created_id(tb, single.info_hash)
    tb_clock.advance(tb_state.list_refresh_s - 1)
    assert (await tb.get("torrents/mylist")).json()["data"] == []
    assert_failure(await tb.get("torrents/mylist", params={"id": torrent_id}), 404, "ITEM_NOT_FOUND")
    fresh = await tb.get("torrents/mylist", params={"bypass_cache": "true"})
    assert [t["id"] for t in fresh.json()["data"]] == [torrent_id]
    tb_clock.advance(1)
    assert [t["id"] for t in (await tb.get("torrents/mylist")).json()["data"]] == [torrent_id]


async def test_mylist_pages_newest_first_with_one_extra(tb: httpx.AsyncClient, tb_state: TorBoxState) -> None:
    ids = []
    for n in range(4):
        tb_state.mark_cached(fake_hash(n))
        ids.append(await created_id(tb, fake_hash(n)))
    r = await tb.get("torrents/mylist", params={"bypass_cache": "true", "limit": 2, "offset": 1})
    assert [t["id"] for t in r.json()["data"]] == [ids[2], ids[1], ids[0]]
    r = await tb.get("torrents/mylist", params={"bypass_cache": "true"})
    assert [t["id"] for t in r.json()["data"]] == ids[::-1]
    assert_failure(await tb.get("torrents/mylist", params={"id": 1, "bypass_cache": "true"}), 404, "ITEM_NOT_FOUND")


# ----- requestdl, delete, account -----


async def test_requestdl_gives_a_cdn_url_for_a_finished_file(
    tb_app: FastAPI, tb: httpx.AsyncClient, tb_state: TorBoxState, starter: Scenario
) -> None:
    pack = release(starter, "Breaking.Bad.S02.1080p")
    torrent_id = await created_id(tb, pack.info_hash)
    files = (await torrent(tb, torrent_id))["files"]
    anonymous = client_for(tb_app, None)
    params = {"token": TORBOX_KEY, "torrent_id": torrent_id, "file_id": files[2]["id"]}
    r = await anonymous.get("torrents/requestdl", params=params)
    assert r.status_code == 200
    url = r.json()["data"]
    assert re.fullmatch(r"https://store-1\.sandbox\.torbox/dl/[0-9a-f-]{36}/" + re.escape(files[2]["short_name"]), url)
    assert tb_state.links[-1].url == url and tb_state.links[-1].file_id == files[2]["id"]
    r = await anonymous.get("torrents/requestdl", params={**params, "redirect": "true"})
    assert r.status_code == 307 and r.headers["location"].startswith("https://store-1.sandbox.torbox/dl/")
    r = await anonymous.get("torrents/requestdl", params={**params, "file_id": 99})
    assert_failure(r, 404, "ITEM_NOT_FOUND")
    assert_failure(await anonymous.get("torrents/requestdl", params={**params, "torrent_id": 1}), 404, "ITEM_NOT_FOUND")


async def test_requestdl_wants_the_key_in_the_query_and_a_finished_download(
    tb_app: FastAPI, tb: httpx.AsyncClient
) -> None:
    torrent_id = await created_id(tb, fake_hash(1))
    params = {"torrent_id": torrent_id, "file_id": 0}
    assert_failure(await tb.get("torrents/requestdl", params=params), 403, "NO_AUTH")  # a Bearer header is not read
    r = await tb.get("torrents/requestdl", params={**params, "token": "wrong"})
    assert_failure(r, 403, "BAD_TOKEN")
    r = await tb.get("torrents/requestdl", params={**params, "token": TORBOX_KEY})
    assert_failure(r, 400, "DIFF_ISSUE")
    assert_failure(await tb.get("torrents/requestdl", params={"token": TORBOX_KEY}), 400, "MISSING_REQUIRED_OPTION")


async def test_delete_removes_the_torrent(tb: httpx.AsyncClient, tb_state: TorBoxState) -> None:
    torrent_id = await created_id(tb, fake_hash(1))
    r = await tb.post("torrents/controltorrent", json={"torrent_id": torrent_id, "operation": "delete"})
    assert r.status_code == 200 and r.json()["data"] is None
    assert tb_state.torrents == {} and tb_state.operations == [("delete", torrent_id)]
    assert_failure(
        await tb.get("torrents/mylist", params={"id": torrent_id, "bypass_cache": "true"}), 404, "ITEM_NOT_FOUND"
    )
    r = await tb.post("torrents/controltorrent", json={"torrent_id": torrent_id, "operation": "delete"})
    assert_failure(r, 404, "ITEM_NOT_FOUND")
    r = await tb.post("torrents/controltorrent", json={"torrent_id": torrent_id, "operation": "explode"})
    assert_failure(r, 400, "INVALID_OPTION")


async def test_user_me_reports_the_plan(tb: httpx.AsyncClient) -> None:
    r = await tb.get("user/me", params={"settings": "true"})
    data = r.json()["data"]
    assert data["plan"] == 2 and data["is_subscribed"] is True
    assert ISO.match(data["premium_expires_at"]) and data["premium_expires_at"] > "2027-02-21"
    assert "settings" in data


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "user/me"), ("GET", f"torrents/checkcached?hash={UNKNOWN_HASH}"), ("GET", "torrents/mylist"),
     ("POST", "torrents/createtorrent"), ("POST", "torrents/controltorrent")],
)  # fmt: skip
async def test_a_missing_or_wrong_key_is_refused(tb_app: FastAPI, method: str, path: str) -> None:
    assert_failure(await client_for(tb_app, None).request(method, path), 403, "NO_AUTH")
    assert_failure(await client_for(tb_app, "not-the-key").request(method, path), 403, "BAD_TOKEN")


async def test_endpoints_torbox_lacks_are_not_found(tb: httpx.AsyncClient) -> None:
    assert_failure(await tb.get("torrents/instantAvailability"), 404, "ENDPOINT_NOT_FOUND")
    assert_failure(await tb.delete("torrents/controltorrent"), 405, "ENDPOINT_NOT_FOUND")
