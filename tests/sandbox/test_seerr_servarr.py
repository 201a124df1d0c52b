"""The Seerr emulator with Radarr/Sonarr servers configured: settings Test/Save, the asynchronous approval push call by
call, failures, download-sync, the scans and availability-sync, against stand-in servers (`servarr_standin`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.seerr import create_app
from seerbridge.sandbox.seerr_models import MediaStatus, RequestStatus
from seerbridge.sandbox.seerr_state import SeerrState
from tests.sandbox.servarr_standin import Router, StandIn
from tests.sandbox.test_seerr_emulator import frozen_clock

KEY = "servarr-key"


@dataclass
class World:
    api: httpx.AsyncClient
    state: SeerrState
    radarr: StandIn
    radarr4k: StandIn
    sonarr: StandIn

    async def request(self, request_id: int) -> dict[str, object]:
        response = await self.api.get(f"/request/{request_id}")
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body


@pytest.fixture
async def world(starter: Scenario) -> AsyncIterator[World]:
    app = create_app(starter, frozen_clock(starter))
    state: SeerrState = app.state.emulator
    radarr, radarr4k, sonarr = (
        StandIn("radarr", "/radarr"),
        StandIn("radarr", "/radarr-4k"),
        StandIn("sonarr", "/sonarr"),
    )
    state.servarr.transport = httpx.ASGITransport(app=Router(radarr, radarr4k, sonarr))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://seerr.sandbox/api/v1",
        headers={"X-Api-Key": starter.keys["seerr"]},
    ) as api:
        yield World(api, state, radarr, radarr4k, sonarr)
    for server in (radarr, radarr4k, sonarr):
        server.release.set()
    await state.servarr.settle()


def _servers(w: World, *, sync: bool = False) -> None:
    w.state.servarr.add_server(
        kind="radarr",
        base_url="/radarr",
        api_key=KEY,
        active_profile_id=4,
        active_directory="/movies",
        sync_enabled=sync,
    )
    w.state.servarr.add_server(
        kind="radarr", base_url="/radarr-4k", api_key=KEY, is4k=True, active_directory="/movies4k", sync_enabled=sync
    )
    w.state.servarr.add_server(
        kind="sonarr", base_url="/sonarr", api_key=KEY, active_profile_id=4, active_directory="/tv", sync_enabled=sync
    )


TEST_BODY = {"hostname": "seerbridge", "port": 8000, "apiKey": KEY, "useSsl": False}


# ----------------------------------------------------------------------------- settings


async def test_radarr_test_and_save_through_the_settings_api(world: World) -> None:
    tested = await world.api.post("/settings/radarr/test", json={**TEST_BODY, "baseUrl": "/radarr"})
    assert tested.status_code == 200, tested.text
    assert tested.json() == {
        "profiles": [{"id": 1, "name": "Any"}, {"id": 4, "name": "HD-1080p"}],
        "rootFolders": [{"id": 1, "path": "/movies"}],
        "tags": [],
        "urlBase": "/radarr",
    }
    assert world.radarr.seen() == ["GET /system/status", "GET /qualityProfile", "GET /rootfolder", "GET /tag"]
    assert {c.apikey for c in world.radarr.calls} == {KEY}
    assert world.radarr.calls[0].path == "/radarr/api/v3/system/status"

    settings = {
        **TEST_BODY,
        "name": "seerbridge",
        "baseUrl": "/radarr",
        "activeProfileId": 4,
        "activeProfileName": "HD-1080p",
        "activeDirectory": "/movies",
        "is4k": False,
        "minimumAvailability": "released",
        "isDefault": True,
        "syncEnabled": True,
    }
    created = await world.api.post("/settings/radarr", json=settings)
    assert created.status_code == 201
    assert created.json() == {**settings, "id": 0}  # the body as sent, with its id
    second = await world.api.post("/settings/radarr", json={**settings, "name": "other"})
    assert second.json()["id"] == 1
    listed = (await world.api.get("/settings/radarr")).json()
    assert [(s["id"], s["isDefault"]) for s in listed] == [(0, False), (1, True)]  # a new default clears the old
    updated = await world.api.put("/settings/radarr/0", json={**settings, "activeDirectory": "/films"})
    assert updated.status_code == 200 and updated.json()["activeDirectory"] == "/films"
    missing = await world.api.put("/settings/radarr/9", json=settings)
    assert (missing.status_code, missing.json()) == (404, {"message": "Settings instance not found"})
    assert (await world.api.delete("/settings/radarr/1")).json()["name"] == "other"
    assert [s.id for s in world.state.servarr.servers["radarr"]] == [0]

    bob = world.state.user_named("bob")
    assert bob is not None
    refused = await world.api.get("/settings/radarr", headers={"X-Api-User": str(bob.id)})
    assert refused.status_code == 403


async def test_a_radarr_that_refuses_the_key_fails_the_test_with_500(world: World) -> None:
    tested = await world.api.post("/settings/radarr/test", json={**TEST_BODY, "apiKey": "wrong", "baseUrl": "/radarr"})
    assert (tested.status_code, tested.json()) == (500, {"message": "Failed to connect to Radarr"})
    invalid = await world.api.post("/settings/radarr/test", json={"hostname": "x"})
    assert invalid.status_code == 400


@pytest.mark.parametrize(("version", "asks_languages"), [("4.0.19.2979", False), ("3.0.10.1567", True)])
async def test_sonarr_test_asks_for_language_profiles_only_up_to_version_3(
    world: World, version: str, asks_languages: bool
) -> None:
    world.sonarr.version = version
    tested = await world.api.post("/settings/sonarr/test", json={**TEST_BODY, "baseUrl": "/sonarr"})
    assert tested.status_code == 200, tested.text
    expected = ["GET /system/status", "GET /qualityProfile", "GET /rootfolder"]
    expected += ["GET /languageprofile"] if asks_languages else []
    assert world.sonarr.seen() == [*expected, "GET /tag"]
    assert tested.json()["languageProfiles"] == ([{"id": 1, "name": "English"}] if asks_languages else None)


async def test_sonarr_test_requires_the_system_status(world: World) -> None:
    world.sonarr.fail["GET /system/status"] = 500
    tested = await world.api.post("/settings/sonarr/test", json={**TEST_BODY, "baseUrl": "/sonarr"})
    assert (tested.status_code, tested.json()) == (500, {"message": "Failed to connect to Sonarr"})
    world.radarr.fail["GET /system/status"] = 500  # tolerated by Radarr's test
    assert (await world.api.post("/settings/radarr/test", json={**TEST_BODY, "baseUrl": "/radarr"})).status_code == 200


# ----------------------------------------------------------------------------- the approval push


async def test_approving_a_movie_adds_it_to_radarr_after_answering(world: World) -> None:
    _servers(world)
    world.radarr.hang.add("GET /movie/lookup")
    approved = await world.api.post("/request/1/approve")
    assert approved.json()["status"] == RequestStatus.APPROVED  # answered before Radarr was even asked
    await world.radarr.arrived.wait()
    assert (await world.request(1))["status"] == RequestStatus.APPROVED
    assert world.radarr.seen() == ["GET /movie/lookup"]
    world.radarr.release.set()
    await world.state.servarr.settle()
    assert world.radarr.seen() == ["GET /movie/lookup", "POST /movie"]
    assert world.radarr.calls[0].query == {"term": "tmdb:10331"}
    body = world.radarr.calls[1].body
    assert body == {
        "title": "Night of the Living Dead",
        "qualityProfileId": 4,
        "profileId": 4,
        "titleSlug": "10331",
        "minimumAvailability": "released",
        "tmdbId": 10331,
        "year": 1968,
        "rootFolderPath": "/movies",
        "monitored": True,
        "tags": [],
        "addOptions": {"searchForMovie": True},
    }
    assert list(body) == list(world.radarr.calls[1].body)  # key order as the note shows
    media = (await world.request(1))["media"]
    assert isinstance(media, dict)
    assert (media["serviceId"], media["externalServiceId"], media["externalServiceSlug"]) == (0, 1, "slug-1")
    assert media["externalServiceId4k"] is None
    assert (await world.request(1))["status"] == RequestStatus.APPROVED
    assert world.radarr4k.calls == [] and world.sonarr.calls == []


async def test_an_unmonitored_library_movie_is_put_then_searched(world: World) -> None:
    _servers(world)
    world.radarr.add_movie(10331, monitored=False)
    await world.api.post("/request/1/approve")
    await world.state.servarr.settle()
    assert world.radarr.seen() == ["GET /movie/lookup", "PUT /movie", "POST /command"]
    put = world.radarr.calls[1].body
    assert (put["id"], put["monitored"], put["rootFolderPath"], put["titleSlug"]) == (1, True, "/movies", "10331")
    assert world.radarr.calls[2].body == {"name": "MoviesSearch", "movieIds": [1]}


async def test_a_4k_movie_request_goes_to_the_4k_server(world: World) -> None:
    _servers(world)
    created = await world.api.post("/request", json={"mediaType": "movie", "mediaId": 438631, "is4k": True})
    assert created.status_code == 201
    await world.state.servarr.settle()
    assert world.radarr.calls == []
    assert world.radarr4k.seen() == ["GET /movie/lookup", "POST /movie"]
    assert world.radarr4k.calls[1].body["rootFolderPath"] == "/movies4k"
    media = (await world.request(created.json()["id"]))["media"]
    assert isinstance(media, dict)
    assert (media["serviceId4k"], media["externalServiceId4k"], media["externalServiceSlug4k"]) == (1, 1, "slug-1")
    assert media["externalServiceId"] is None


async def test_a_series_request_adds_the_show_with_the_lookups_seasons(world: World) -> None:
    _servers(world)
    await world.api.post("/request/4/approve")
    await world.state.servarr.settle()
    assert world.sonarr.seen() == ["GET /series/lookup", "POST /series"]
    assert world.sonarr.calls[0].query == {"term": "tvdb:389040"}
    assert world.sonarr.calls[1].body == {
        "tvdbId": 389040,
        "title": "Shōgun",
        "qualityProfileId": 4,
        "seasons": [
            {"seasonNumber": 0, "monitored": False},
            {"seasonNumber": 1, "monitored": True},
            {"seasonNumber": 2, "monitored": False},
        ],
        "tags": [],
        "seasonFolder": True,
        "monitored": True,
        "rootFolderPath": "/tv",
        "seriesType": "standard",
        "addOptions": {"ignoreEpisodesWithFiles": True, "searchForMissingEpisodes": True},
    }
    # Another season of the same show: the library series is updated, its episodes monitored, then searched.
    world.sonarr.episodes = [
        {"id": 11, "seriesId": 1, "seasonNumber": 1, "monitored": True},
        {"id": 21, "seriesId": 1, "seasonNumber": 2, "monitored": False},
        {"id": 22, "seriesId": 1, "seasonNumber": 2, "monitored": False},
    ]
    world.sonarr.calls.clear()
    created = await world.api.post("/request", json={"mediaType": "tv", "mediaId": 126308, "seasons": [2]})
    assert created.status_code == 201, created.text
    await world.state.servarr.settle()
    assert world.sonarr.seen() == [
        "GET /series/lookup",
        "PUT /series",
        "GET /episode",
        "PUT /episode/monitor",
        "POST /command",
    ]
    put = world.sonarr.calls[1].body
    assert put["id"] == 1 and put["tvdbId"] == 389040
    assert [(s["seasonNumber"], s["monitored"]) for s in put["seasons"]] == [(0, False), (1, True), (2, True)]
    assert world.sonarr.calls[2].query == {"seriesId": "1"}
    assert world.sonarr.calls[3].body == {"episodeIds": [21, 22], "monitored": True}
    assert world.sonarr.calls[4].body == {"name": "MissingEpisodeSearch", "seriesId": 1}


@pytest.mark.parametrize("how", ["500", "timeout", "empty lookup"])
async def test_a_failing_add_marks_the_request_failed(world: World, how: str) -> None:
    _servers(world)
    if how == "500":
        world.radarr.fail["POST /movie"] = 500
    elif how == "timeout":
        world.state.servarr.timeout = 0.05
        world.radarr.hang.add("POST /movie")
    else:
        world.radarr.lookup_empty = True
    await world.api.post("/request/1/approve")
    await world.state.servarr.settle()
    assert (await world.request(1))["status"] == RequestStatus.FAILED
    assert [n.type for n in world.state.notifications][-2:] == ["MEDIA_APPROVED", "MEDIA_FAILED"]
    assert world.state.notifications[-1].request_id == 1


async def test_no_push_without_a_default_server_or_for_available_media(world: World) -> None:
    world.state.servarr.add_server(kind="radarr", base_url="/radarr-4k", api_key=KEY, is4k=True)
    await world.api.post("/request/1/approve")  # no non-4K default: nothing is sent, nothing fails
    await world.api.post("/request/5/approve")  # The Matrix is AVAILABLE
    await world.state.servarr.settle()
    assert world.radarr4k.calls == []
    assert (await world.request(1))["status"] == RequestStatus.APPROVED


async def test_service_errors_list_a_server_whose_profiles_fail(world: World) -> None:
    _servers(world)
    world.sonarr.fail["GET /qualityprofile"] = 500  # keys are lower case, as the routing
    listed = (await world.api.get("/request")).json()
    assert listed["serviceErrors"] == {"radarr": [], "sonarr": [{"id": 0, "name": "Sonarr"}]}
    calls = len(world.radarr.calls)
    await world.api.get("/request")
    assert len(world.radarr.calls) == calls  # the profiles are cached for an hour


# ----------------------------------------------------------------------------- jobs


async def test_download_sync_shows_the_queue_and_keeps_it_when_the_refresh_fails(world: World) -> None:
    _servers(world, sync=True)
    await world.api.post("/request/1/approve")
    await world.state.servarr.settle()
    record = {
        "movieId": 1,
        "size": 1000,
        "sizeleft": 250,
        "timeleft": "00:10:00",
        "estimatedCompletionTime": "2026-11-24T12:10:00Z",
        "status": "downloading",
        "title": "Night.of.the.Living.Dead.1968.1080p",
        "downloadId": "abc",
    }
    world.radarr.queue = [record, {**record, "movieId": 7, "downloadId": "other"}]
    world.radarr.calls.clear()
    assert (await world.api.post("/settings/jobs/download-sync/run")).status_code == 200
    await world.state.servarr.settle()
    assert world.radarr.seen() == ["POST /command", "GET /queue"]
    assert world.radarr.calls[0].body == {"name": "RefreshMonitoredDownloads"}
    assert world.radarr.calls[1].query == {"includeEpisode": "true"}
    shown = {
        "externalId": 1,
        "estimatedCompletionTime": "2026-11-24T12:10:00.000Z",
        "mediaType": "movie",
        "size": 1000,
        "sizeLeft": 250,
        "status": "downloading",
        "timeLeft": "00:10:00",
        "title": "Night.of.the.Living.Dead.1968.1080p",
        "downloadId": "abc",
    }
    media = (await world.request(1))["media"]
    assert isinstance(media, dict)
    assert (media["downloadStatus"], media["downloadStatus4k"]) == ([shown], [])

    world.radarr.fail["POST /command"] = 500
    world.radarr.queue = []
    world.radarr.calls.clear()
    await world.state.servarr.download_sync()
    assert world.radarr.seen() == ["POST /command"]  # the queue is not read
    media = (await world.request(1))["media"]
    assert isinstance(media, dict) and media["downloadStatus"] == [shown]
    world.state.servarr.download_sync_reset()
    media = (await world.request(1))["media"]
    assert isinstance(media, dict) and media["downloadStatus"] == []


async def test_radarr_scan_sets_processing_and_available_but_never_lowers_available(world: World) -> None:
    _servers(world, sync=True)
    world.radarr.add_movie(10331, has_file=False)
    world.radarr.add_movie(438631, has_file=True)
    world.radarr.add_movie(603, has_file=False)
    unmonitored = world.state.media_for(10331)
    assert unmonitored is not None
    await world.state.servarr.radarr_scan()
    status = {tmdb: world.state.media_for(tmdb).status for tmdb in (10331, 438631, 603)}  # type: ignore[union-attr]
    assert status == {10331: MediaStatus.PROCESSING, 438631: MediaStatus.AVAILABLE, 603: MediaStatus.AVAILABLE}
    assert world.state.requests[2].status is RequestStatus.COMPLETED
    assert unmonitored.service.external_service_id == 1
    assert world.radarr4k.seen() == ["GET /movie"]


async def test_radarr_scan_skips_unmonitored_movies_without_a_file(world: World) -> None:
    _servers(world, sync=True)
    world.radarr.add_movie(10331, has_file=False, monitored=False)
    media = world.state.media_for(10331)
    assert media is not None
    media.status = MediaStatus.PENDING
    await world.state.servarr.radarr_scan()
    assert media.status is MediaStatus.PENDING and media.service.external_service_id is None


async def test_sonarr_scan_sets_season_statuses_and_never_lowers_available(world: World) -> None:
    _servers(world, sync=True)
    world.sonarr.add_series(389040, {0: (0, 1), 1: (10, 10), 2: (0, 10)})  # Shōgun
    world.sonarr.add_series(81189, {1: (3, 7), 2: (5, 13)})  # Breaking Bad: season 1 is AVAILABLE in Seerr
    await world.state.servarr.sonarr_scan()
    shogun, breaking = world.state.media_for(126308), world.state.media_for(1396)
    assert shogun is not None and breaking is not None
    assert {s.season_number: s.status for s in shogun.seasons} == {
        1: MediaStatus.AVAILABLE,
        2: MediaStatus.PROCESSING,
    }
    assert shogun.status is MediaStatus.PARTIALLY_AVAILABLE
    assert breaking.season(1).status is MediaStatus.AVAILABLE  # type: ignore[union-attr]
    assert breaking.season(2).status is MediaStatus.PARTIALLY_AVAILABLE  # type: ignore[union-attr]
    assert shogun.service.external_service_id == 1


async def test_availability_sync_marks_media_gone_from_radarr_deleted(world: World) -> None:
    _servers(world)
    await world.api.post("/request/1/approve")
    await world.state.servarr.settle()
    media = world.state.set_media_status(world.state.requests[1].media.id, "available")
    world.radarr.items[1]["hasFile"] = True
    await world.state.servarr.availability_sync()
    assert media.status is MediaStatus.AVAILABLE  # still there with its file
    world.radarr.fail["GET /movie/1"] = 500
    await world.state.servarr.availability_sync()
    assert media.status is MediaStatus.AVAILABLE  # any other error: assume it exists
    del world.radarr.fail["GET /movie/1"]
    del world.radarr.items[1]
    await world.state.servarr.availability_sync()
    assert world.state.media[media.id].status is MediaStatus.DELETED  # (re-read: mypy narrowed `media.status`)
    assert world.radarr.seen()[-1] == "GET /movie/1"
