"""seerbridge's Radarr and Sonarr, called as Seerr calls them, every answer validated against the projects' own specs
(tests/contract/servarr.py); a deliberately wrong answer is caught; the API key is required."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr

from seerbridge.arr.facade import ArrFacade
from seerbridge.web.app import create_app
from tests.contract.servarr import ServarrContract, check
from tests.e2e.conftest import E2E, Factory

KEY = "arr-api-key-for-tests"
BASES = ("/radarr", "/radarr-4k", "/sonarr", "/sonarr-4k")
HAUNT = 572802  # the demo's Haunt (2019); request 102 is approved
SEVERANCE_TVDB = 371980  # request 103 (season 2) is approved


@dataclass
class Facade:
    e2e: E2E
    arr: ArrFacade
    contract: ServarrContract
    client: httpx.AsyncClient
    submitted: list[tuple[int, str]]


@contextlib.asynccontextmanager
async def facade(make_e2e: Factory) -> AsyncIterator[Facade]:
    e2e = make_e2e(arr={"api_key": SecretStr(KEY)})
    submitted: list[tuple[int, str]] = []

    def submit(request_id: int, why: str) -> bool:
        submitted.append((request_id, why))
        return True

    async with e2e.bridge() as bridge:
        arr = ArrFacade(bridge, submit, bridge.now())
        app = create_app(submit=submit, health=dict, secret="", arr=arr, arr_key=KEY)
        contract = ServarrContract(httpx.ASGITransport(app=app))
        async with httpx.AsyncClient(transport=contract, base_url="http://seerbridge:8787") as client:
            yield Facade(e2e, arr, contract, client, submitted)


async def test_every_radarr_answer_matches_radarrs_spec(make_e2e: Factory) -> None:
    async with facade(make_e2e) as f:
        four_k = f.e2e.world.seerr_state.add_request(HAUNT, is4k=True, approved=True)
        key = {"apikey": KEY}
        c = f.client
        status = (await c.get("/radarr/api/v3/system/status", params=key)).json()
        assert status["appName"] == "Radarr" and status["urlBase"] == "/radarr"
        profiles = (await c.get("/radarr/api/v3/qualityProfile", params=key)).json()
        names = {p["name"]: p["id"] for p in profiles}
        assert {"standard", "4k"} <= set(names)
        roots = (await c.get("/radarr-4k/api/v3/rootfolder", params=key)).json()
        assert roots[0]["path"].endswith("/movies-4k")
        tag = (await c.post("/radarr/api/v3/tag", params=key, json={"label": "1-alice"})).json()
        assert (await c.get("/radarr/api/v3/tag", params=key)).json() == [tag]
        assert (
            await c.put(f"/radarr/api/v3/tag/{tag['id']}", params=key, json={**tag, "label": "1-al"})
        ).status_code == 202

        lookup = (await c.get("/radarr-4k/api/v3/movie/lookup", params={**key, "term": f"tmdb:{HAUNT}"})).json()
        assert len(lookup) == 1 and lookup[0]["id"] == 0 and lookup[0]["hasFile"] is False
        body = {
            "title": "Haunt",
            "qualityProfileId": names["4k"],
            "profileId": names["4k"],
            "titleSlug": str(HAUNT),
            "minimumAvailability": "released",
            "tmdbId": HAUNT,
            "year": 2019,
            "rootFolderPath": roots[0]["path"],
            "monitored": True,
            "tags": [tag["id"]],
            "addOptions": {"searchForMovie": True},
        }
        added = await c.post("/radarr-4k/api/v3/movie", params=key, json=body)
        assert added.status_code == 201
        movie = added.json()
        assert movie["id"] > 0 and movie["qualityProfileId"] == names["4k"] and movie["hasFile"] is False
        again = await c.post("/radarr-4k/api/v3/movie", params=key, json=body)
        assert again.status_code == 400 and again.json()[0]["errorCode"] == "MovieExistsValidator"
        found = (await c.get("/radarr-4k/api/v3/movie/lookup", params={**key, "term": f"tmdb:{HAUNT}"})).json()
        assert [m["id"] for m in found] == [movie["id"]]
        assert [m["id"] for m in (await c.get("/radarr-4k/api/v3/movie", params=key)).json()] == [movie["id"]]
        assert (await c.get("/radarr/api/v3/movie", params=key)).json() == []  # the HD server holds nothing
        assert (await c.get(f"/radarr-4k/api/v3/movie/{movie['id']}", params=key)).json()["tmdbId"] == HAUNT
        put = await c.put("/radarr-4k/api/v3/movie", params=key, json={**found[0], "monitored": True})
        assert put.status_code == 202 and put.json()["monitored"] is True
        for command in ({"name": "MoviesSearch", "movieIds": [movie["id"]]}, {"name": "RefreshMonitoredDownloads"}):
            assert (await c.post("/radarr-4k/api/v3/command", params=key, json=command)).status_code == 201
        queue = await c.get("/radarr-4k/api/v3/queue", params={**key, "includeEpisode": "true"})
        assert queue.json()["records"] == []
        await f.arr.settle()
        assert {r for r, _ in f.submitted} == {four_k.id}  # the 4K request for Haunt, not the HD one (102)
        deleted = await c.delete(
            f"/radarr-4k/api/v3/movie/{movie['id']}",
            params={**key, "deleteFiles": "true", "addImportExclusion": "false"},
        )
        assert deleted.status_code == 200
        assert (await c.get(f"/radarr-4k/api/v3/movie/{movie['id']}", params=key)).status_code == 404
        await f.arr.settle()
    f.contract.assert_clean()


async def test_every_sonarr_answer_matches_sonarrs_spec(make_e2e: Factory) -> None:
    async with facade(make_e2e) as f:
        key = {"apikey": KEY}
        c = f.client
        status = (await c.get("/sonarr/api/v3/system/status", params=key)).json()
        assert int(status["version"].split(".")[0]) >= 4  # Seerr then skips /languageprofile
        assert (await c.get("/sonarr/api/v3/languageprofile", params=key)).json()[0]["id"] == 1
        profiles = {p["name"]: p["id"] for p in (await c.get("/sonarr/api/v3/qualityprofile", params=key)).json()}
        lookup = (await c.get("/sonarr/api/v3/series/lookup", params={**key, "term": f"tvdb:{SEVERANCE_TVDB}"})).json()
        assert len(lookup) == 1 and lookup[0]["id"] == 0
        assert [s["seasonNumber"] for s in lookup[0]["seasons"]] == [0, 1, 2]  # specials too, as Sonarr lists
        body = {
            "tvdbId": SEVERANCE_TVDB,
            "title": "Severance",
            "qualityProfileId": profiles["standard"],
            "languageProfileId": 1,
            "seasons": [{"seasonNumber": n, "monitored": n == 2} for n in (0, 1, 2)],
            "tags": [],
            "seasonFolder": True,
            "monitored": True,
            "rootFolderPath": lookup[0]["rootFolderPath"],
            "seriesType": "standard",
            "addOptions": {"ignoreEpisodesWithFiles": True, "searchForMissingEpisodes": True},
        }
        added = await c.post("/sonarr/api/v3/series", params=key, json=body)
        assert added.status_code == 201, added.text
        series = added.json()
        assert [(s["seasonNumber"], s["monitored"]) for s in series["seasons"]] == [(0, False), (1, False), (2, True)]
        episodes = (await c.get("/sonarr/api/v3/episode", params={**key, "seriesId": series["id"]})).json()
        specials = lookup[0]["seasons"][0]["statistics"]["totalEpisodeCount"]
        assert len(episodes) == specials + 9 + 10
        first = [e["id"] for e in episodes if e["seasonNumber"] == 1]
        monitored = await c.put(
            "/sonarr/api/v3/episode/monitor", params=key, json={"episodeIds": first, "monitored": True}
        )
        assert monitored.status_code == 202
        whole = (await c.get("/sonarr/api/v3/series/lookup", params={**key, "term": f"tvdb:{SEVERANCE_TVDB}"})).json()[
            0
        ]
        assert [(s["seasonNumber"], s["monitored"]) for s in whole["seasons"]] == [(0, False), (1, True), (2, True)]
        put = await c.put("/sonarr/api/v3/series", params=key, json=whole)
        assert put.status_code == 202 and put.json()["id"] == series["id"]
        assert (await c.get(f"/sonarr/api/v3/series/{series['id']}", params=key)).json()["statistics"][
            "episodeFileCount"
        ] == 0
        assert len((await c.get("/sonarr/api/v3/series", params=key)).json()) == 1
        command = {"name": "MissingEpisodeSearch", "seriesId": series["id"]}
        assert (await c.post("/sonarr/api/v3/command", params=key, json=command)).status_code == 201
        assert (await c.get("/sonarr/api/v3/queue", params={**key, "includeEpisode": "true"})).json()["records"] == []
        await f.arr.settle()
        assert {r for r, _ in f.submitted} == {103}
    f.contract.assert_clean()


async def test_a_wrong_answer_is_caught(make_e2e: Factory) -> None:
    """The checker is not blind: the facade's own lookup answer, with one field of the wrong type, is reported."""
    async with facade(make_e2e) as f:
        response = await f.client.get("/radarr/api/v3/movie/lookup", params={"apikey": KEY, "term": f"tmdb:{HAUNT}"})
        assert check(response.request, response) == []
        wrong = json.loads(response.content)
        wrong[0]["hasFile"] = "no"
        forged = httpx.Response(200, json=wrong, request=response.request)
        problems = check(response.request, forged)
        assert problems and "hasFile" in problems[0]


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({}, {}, 401),
        ({"apikey": "wrong"}, {}, 401),
        ({}, {"X-Api-Key": "wrong"}, 401),
        ({"apikey": KEY}, {}, 200),
        ({}, {"X-Api-Key": KEY}, 200),
        ({}, {"Authorization": f"Bearer {KEY}"}, 200),
    ],
)
async def test_the_api_key_is_required(
    make_e2e: Factory, params: dict[str, str], headers: dict[str, str], status: int
) -> None:
    async with facade(make_e2e) as f:
        for base in ("/radarr", "/RADARR-4K", "/sonarr", "/Sonarr-4k"):
            answer = await f.client.get(f"{base}/api/v3/qualityProfile", params=params, headers=headers)
            assert answer.status_code == status, (base, answer.text)


async def test_four_servers_asked_at_once_agree_on_the_profile_ids(make_e2e: Factory) -> None:
    """Seerr's request list reads /qualityProfile from every server at once (Promise.all)."""
    async with facade(make_e2e) as f:
        answers = await asyncio.gather(
            *(f.client.get(f"{base}/api/v3/qualityProfile", params={"apikey": KEY}) for base in BASES)
        )
    assert [a.status_code for a in answers] == [200] * 4
    assert len({json.dumps(a.json()) for a in answers}) == 1


async def test_a_tag_cannot_take_another_tags_label(make_e2e: Factory) -> None:
    async with facade(make_e2e) as f:
        key = {"apikey": KEY}
        alice = (await f.client.post("/radarr/api/v3/tag", params=key, json={"label": "1-alice"})).json()
        bob = (await f.client.post("/radarr/api/v3/tag", params=key, json={"label": "2-bob"})).json()
        again = (await f.client.post("/radarr/api/v3/tag", params=key, json={"label": "1-ALICE"})).json()
        assert again == alice  # labels compare case-insensitively, as Radarr's
        taken = await f.client.put(f"/radarr/api/v3/tag/{bob['id']}", params=key, json={**bob, "label": "1-alice"})
        assert taken.status_code == 400 and taken.json()[0]["propertyName"] == "Label"
        assert (await f.client.get("/radarr/api/v3/tag", params=key)).json() == [alice, bob]


async def test_no_key_configured_refuses_everything(make_e2e: Factory) -> None:
    e2e = make_e2e()
    async with e2e.bridge() as bridge:
        arr = ArrFacade(bridge, None, bridge.now())
        app = create_app(submit=lambda _i, _w: True, health=dict, secret="", arr=arr, arr_key="")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as client:
            answer = await client.get("/radarr/api/v3/system/status", params={"apikey": ""})
    assert answer.status_code == 401


ODD_CALLS = [
    ("POST", "/radarr/api/v3/movie", b"not json", 400),
    ("POST", "/radarr/api/v3/movie", b"[1, 2]", 400),
    ("POST", "/radarr/api/v3/movie", b'{"tmdbId": "603", "qualityProfileId": 1}', 400),
    ("POST", "/radarr/api/v3/movie", b'{"tmdbId": 603, "qualityProfileId": 999}', 400),
    # Seerr answers 500 for a TMDB id it cannot fetch: seerbridge says Seerr could not be asked.
    ("POST", "/radarr/api/v3/movie", b'{"tmdbId": 99999999, "qualityProfileId": 1}', 503),
    ("POST", "/sonarr/api/v3/series", b'{"tvdbId": 12345, "qualityProfileId": 1, "seasons": "all"}', 400),
    ("POST", "/sonarr/api/v3/series", b'{"tvdbId": true}', 400),
    ("PUT", "/radarr/api/v3/movie", b'{"monitored": true}', 404),
    ("PUT", "/radarr/api/v3/movie", b'{"id": 4242, "monitored": true}', 404),
    ("PUT", "/sonarr/api/v3/series/99999999999999", b"{}", 404),
    ("GET", "/radarr/api/v3/movie/-1", b"", 404),
    ("GET", "/radarr/api/v3/movie/lookup?term=", b"", 200),  # Radarr finds nothing: []
    ("GET", "/radarr/api/v3/movie/lookup?term=tmdb:abc", b"", 200),
    ("GET", "/sonarr/api/v3/series/lookup?term=tvdb:1", b"", 200),
    ("GET", "/sonarr/api/v3/episode", b"", 400),
    ("GET", "/sonarr/api/v3/episode?seriesId=x", b"", 400),
    ("PUT", "/sonarr/api/v3/episode/monitor", b'{"episodeIds": ["a", 99999999999], "monitored": "yes"}', 202),
    ("POST", "/radarr/api/v3/command", b"{}", 400),
    ("POST", "/radarr/api/v3/command", b'{"name": "MoviesSearch", "movieIds": [1, "x", null]}', 201),
    ("GET", "/radarr/api/v3/queue?page=-3&pageSize=0", b"", 200),
    ("POST", "/radarr/api/v3/tag", b'{"label": ""}', 400),
    ("PUT", "/radarr/api/v3/tag/5", b'{"label": "x"}', 404),
    ("DELETE", "/radarr/api/v3/movie/77?deleteFiles=maybe", b"", 404),
    ("GET", "/radarr/api/v3/nothing-here", b"", 404),
    ("DELETE", "/radarr/api/v3/qualityprofile", b"", 405),
    ("GET", "/radarr/api/v3/movie/\u00b2", b"", 404),  # a digit to str.isdigit(), not to int()
    ("POST", "/radarr/api/v3/movie", b'{"tmdbId": 100000000000000000000, "qualityProfileId": 1}', 400),
    ("PUT", "/radarr/api/v3/movie", b'{"id": 100000000000000000000}', 404),
    ("POST", "/radarr/api/v3/command", b'{"name": "MoviesSearch", "movieIds": [100000000000000000000]}', 201),
    ("PUT", "/sonarr/api/v3/episode/monitor", b'{"episodeIds": [10000000000000000000000000]}', 202),
    ("GET", "/radarr/api/v3/movie/lookup?term=tmdb:\u00b2", b"", 200),
    ("POST", "/radarr/api/v3/tag", b'{"label": "' + b"x" * 300 + b'"}', 400),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), ODD_CALLS)
async def test_odd_calls_get_a_clear_answer_never_a_500(
    make_e2e: Factory,
    method: str,
    path: str,
    body: bytes,
    status: int,
) -> None:
    async with facade(make_e2e) as f:
        answer = await f.client.request(
            method, path, params={"apikey": KEY}, content=body, headers={"Content-Type": "application/json"}
        )
        await f.arr.settle()
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert KEY not in answer.text
