"""The Seerr emulator: auth, validation, paging, filters, Seerr's status rules, details, jobs and the webhook body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

import httpx
import pytest

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import LibraryEntry, Scenario
from seerbridge.sandbox.seerr import create_app
from seerbridge.sandbox.seerr_models import MediaStatus, RequestStatus
from seerbridge.sandbox.seerr_state import SeerrState
from seerbridge.sandbox.seerr_webhook import render_webhook, truncate

FORBIDDEN = {"status": 403, "error": "You do not have permission to access this endpoint"}


def frozen_clock(scenario: Scenario) -> VirtualClock:
    assert scenario.today is not None
    return VirtualClock(datetime.combine(scenario.today, datetime.min.time(), tzinfo=UTC).replace(hour=12), speed=0)


@pytest.fixture
def clock(starter: Scenario) -> VirtualClock:
    return frozen_clock(starter)


@pytest.fixture
def app_and_state(starter: Scenario, clock: VirtualClock) -> tuple[object, SeerrState]:
    app = create_app(starter, clock)
    return app, app.state.emulator


@pytest.fixture
def state(app_and_state: tuple[object, SeerrState]) -> SeerrState:
    return app_and_state[1]


@pytest.fixture
async def api(app_and_state: tuple[object, SeerrState], starter: Scenario) -> AsyncIterator[httpx.AsyncClient]:
    app = app_and_state[0]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url="http://seerr.sandbox/api/v1",
        headers={"X-Api-Key": starter.keys["seerr"]},
    ) as client:
        yield client


async def ids(api: httpx.AsyncClient, **params: str | int) -> list[int]:
    response = await api.get("/request", params={"take": 100, **params})
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["results"]]


# ----------------------------------------------------------------------------- auth and validation


async def test_missing_or_wrong_key_is_403_with_seerr_body_but_status_is_public(
    api: httpx.AsyncClient, app_and_state: tuple[object, SeerrState]
) -> None:
    transport = httpx.ASGITransport(app=app_and_state[0])  # type: ignore[arg-type]
    for headers in ({"X-Api-Key": ""}, {"X-Api-Key": "wrong-key-123456"}):
        response = await api.get("/request", headers=headers)
        assert response.status_code == 403
        assert response.json() == FORBIDDEN
    async with httpx.AsyncClient(transport=transport, base_url="http://seerr.sandbox/api/v1") as anonymous:
        assert (await anonymous.get("/request")).status_code == 403
        status = await anonymous.get("/status")
    assert status.status_code == 200
    assert status.headers["content-type"] == "application/json; charset=utf-8"
    assert status.json()["version"] == "3.1.0"
    assert set(status.json()) == {"version", "commitTag", "updateAvailable", "commitsBehind", "restartRequired"}


async def test_status_version_comes_from_the_scenario(starter: Scenario, clock: VirtualClock) -> None:
    scenario = starter.model_copy(update={"seerr": starter.seerr.model_copy(update={"version": "2.7.3"})})
    transport = httpx.ASGITransport(app=create_app(scenario, clock))
    async with httpx.AsyncClient(transport=transport, base_url="http://s") as client:
        assert (await client.get("/api/v1/status")).json()["version"] == "2.7.3"


async def test_non_conforming_parameters_get_the_validator_400_before_auth(api: httpx.AsyncClient) -> None:
    # Seerr 3.1.0 pins express-openapi-validator 4.13.8, which runs ajv 6: "should be", dotted paths.
    response = await api.get("/request", params={"filter": "everything"}, headers={"X-Api-Key": ""})
    assert response.status_code == 400
    allowed = "all, approved, available, pending, processing, unavailable, failed, deleted, completed"
    assert response.json() == {
        "message": f"request.query.filter should be equal to one of the allowed values: {allowed}",
        "errors": [
            {
                "path": ".query.filter",
                "message": f"should be equal to one of the allowed values: {allowed}",
                "errorCode": "enum.openapi.validation",
            }
        ],
    }
    bad = await api.get("/request", params={"take": "ten", "sort": "size"})
    assert bad.status_code == 400
    assert bad.json()["message"] == (
        "request.query.take should be number,null, "
        "request.query.sort should be equal to one of the allowed values: added, modified"
    )
    assert [e["path"] for e in bad.json()["errors"]] == [".query.take", ".query.sort"]
    movie = (await api.get("/movie/abc")).json()
    assert movie["message"] == "request.params.movieId should be number"
    assert movie["errors"] == [
        {"path": ".params.movieId", "message": "should be number", "errorCode": "type.openapi.validation"}
    ]
    assert (await api.post("/request/1/accept")).json()["errors"][0]["path"] == ".params.status"
    assert (await api.post("/media/1/gone")).status_code == 400


async def test_empty_and_unknown_query_parameters_are_refused_one_at_a_time(api: httpx.AsyncClient) -> None:
    """The validator's query check runs before the schema and stops at the first offending name."""
    empty = await api.get("/request?take=&filter=everything")
    assert empty.status_code == 400
    message = "Empty value found for query parameter 'take'"
    assert empty.json() == {"message": message, "errors": [{"path": ".query.take", "message": message}]}
    unknown = await api.get("/request", params={"filter": "all", "page": 2})
    assert unknown.status_code == 400
    message = "Unknown query parameter 'page'"
    assert unknown.json() == {"message": message, "errors": [{"path": ".query.page", "message": message}]}
    assert (await api.get("/status", params={"x": 1})).status_code == 400
    assert (await api.get("/movie/603", params={"language": "en"})).status_code == 200


async def test_unknown_paths_and_methods_answer_like_the_validator(api: httpx.AsyncClient) -> None:
    missing = await api.get("/nothing/here")
    assert missing.status_code == 404
    assert missing.json() == {
        "message": "not found",
        "errors": [{"path": "/api/v1/nothing/here", "message": "not found"}],
    }
    wrong = await api.delete("/settings/jobs")
    assert wrong.status_code == 405
    assert wrong.json()["message"] == "DELETE method not allowed"


async def test_fault_injection_is_installed(app_and_state: tuple[object, SeerrState], api: httpx.AsyncClient) -> None:
    app = app_and_state[0]
    app.state.sandbox.queue("too_many")  # type: ignore[attr-defined]
    response = await api.get("/status")
    assert response.status_code == 429
    assert response.json() == {"message": "Too many requests"}
    assert (await api.get("/status")).status_code == 200


# ----------------------------------------------------------------------------- seeded state


async def test_seeded_rows_follow_the_scenario_and_media_ids_are_not_request_ids(api: httpx.AsyncClient) -> None:
    bb = (await api.get("/request/3")).json()
    assert bb["type"] == "tv" and bb["status"] == RequestStatus.APPROVED
    assert bb["media"]["id"] == 4 and bb["media"]["tmdbId"] == 1396 and bb["media"]["tvdbId"] == 81189
    assert bb["media"]["status"] == MediaStatus.PARTIALLY_AVAILABLE
    assert {s["seasonNumber"]: s["status"] for s in bb["media"]["seasons"]} == {
        1: MediaStatus.AVAILABLE,
        2: MediaStatus.PARTIALLY_AVAILABLE,
    }
    # The scan that made season 1 available completed that part of the request.
    assert {s["seasonNumber"]: s["status"] for s in bb["seasons"]} == {
        1: RequestStatus.COMPLETED,
        2: RequestStatus.APPROVED,
    }
    assert bb["requestedBy"]["displayName"] == "alice" and bb["modifiedBy"]["id"] == 1
    assert bb["createdAt"].endswith("Z") and "T" in bb["createdAt"]
    night = (await api.get("/request/1")).json()
    assert night["media"]["status"] == MediaStatus.PROCESSING and night["media"]["tvdbId"] is None
    assert night["media"]["imdbId"] is None  # a media row made by a request has none (see below)
    assert (await api.get("/request/4")).json()["media"]["status"] == MediaStatus.PENDING
    matrix = (await api.get("/request/5")).json()
    assert matrix["status"] == RequestStatus.COMPLETED and matrix["media"]["status"] == MediaStatus.AVAILABLE
    assert matrix["media"]["mediaAddedAt"] is not None and matrix["media"]["jellyfinMediaId"]
    pending = (await api.get("/request/4")).json()
    assert pending["modifiedBy"] is None and pending["seasons"][0]["status"] == RequestStatus.PENDING


async def test_unknown_request_is_404_with_message(api: httpx.AsyncClient) -> None:
    for request_id in ("999", "abc"):
        response = await api.get(f"/request/{request_id}")
        assert response.status_code == 404
        assert response.json() == {"message": "Request not found."}


# ----------------------------------------------------------------------------- listing


async def test_request_paging_follows_seerr_page_maths(api: httpx.AsyncClient) -> None:
    first = (await api.get("/request", params={"take": 2})).json()
    assert first["pageInfo"] == {"pages": 3, "pageSize": 2, "results": 5, "page": 1}
    last = (await api.get("/request", params={"take": 2, "skip": 4})).json()
    assert last["pageInfo"]["page"] == 3 and len(last["results"]) == 1
    default = (await api.get("/request")).json()
    assert default["pageInfo"]["pageSize"] == 10
    # Default sort is `added`, newest first; seeded requests were made in id order.
    assert [r["id"] for r in default["results"]] == [5, 4, 3, 2, 1]
    assert await ids(api, sortDirection="asc") == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filter": "approved"}, [1, 2, 3]),
        ({"filter": "processing"}, [1, 2, 3]),
        ({"filter": "pending"}, [4]),
        ({"filter": "unavailable"}, [1, 2, 3, 4]),
        ({"filter": "completed"}, [5]),
        ({"filter": "available"}, [5]),
        ({"filter": "deleted"}, []),
        ({"filter": "failed"}, []),
        ({"filter": "all"}, [1, 2, 3, 4, 5]),
        ({"mediaType": "tv"}, [3, 4]),
        ({"mediaType": "movie", "filter": "approved"}, [1, 2]),
        ({"requestedBy": 3}, [2]),  # bob is user 3 (admin 1, alice 2)
    ],
)
async def test_request_filters_have_seerrs_meanings(
    api: httpx.AsyncClient, params: dict[str, str | int], expected: list[int]
) -> None:
    assert await ids(api, sortDirection="asc", **params) == expected


async def test_processing_filter_drops_available_media(api: httpx.AsyncClient, state: SeerrState) -> None:
    state.approve(5)  # an approved request whose movie is already available
    assert 5 in await ids(api, filter="approved")
    assert 5 not in await ids(api, filter="processing")


async def test_media_list_filters_sorts_and_pages(api: httpx.AsyncClient) -> None:
    listed = (await api.get("/media")).json()
    assert listed["pageInfo"] == {"pages": 1, "pageSize": 20, "results": 5, "page": 1}
    assert [m["id"] for m in listed["results"]] == [5, 4, 3, 2, 1]
    available = (await api.get("/media", params={"filter": "available"})).json()["results"]
    assert [m["tmdbId"] for m in available] == [603]
    both = (await api.get("/media", params={"filter": "allavailable"})).json()["results"]
    assert {m["tmdbId"] for m in both} == {603, 1396}
    page = (await api.get("/media", params={"take": 2, "skip": 2})).json()
    assert page["pageInfo"]["page"] == 2 and [m["id"] for m in page["results"]] == [3, 2]
    added = (await api.get("/media", params={"sort": "mediaAdded"})).json()["results"]
    assert {added[0]["tmdbId"], added[1]["tmdbId"]} == {603, 1396}  # the ones in the library come first


# ----------------------------------------------------------------------------- creating and deciding requests


async def test_api_key_requests_are_auto_approved_and_duplicates_refused(
    api: httpx.AsyncClient, state: SeerrState, starter: Scenario, clock: VirtualClock
) -> None:
    scenario = starter.model_copy(
        update={"media": [*starter.media, starter.media[0].model_copy(update={"tmdb_id": 999, "title": "New"})]}
    )
    transport = httpx.ASGITransport(app=create_app(scenario, clock))
    headers = {"X-Api-Key": starter.keys["seerr"]}
    async with httpx.AsyncClient(transport=transport, base_url="http://s/api/v1", headers=headers) as client:
        created = await client.post("/request", json={"mediaType": "movie", "mediaId": 999})
        assert created.status_code == 201
        body = created.json()
        assert body["id"] == 6 and body["status"] == RequestStatus.APPROVED
        assert body["media"]["status"] == MediaStatus.PROCESSING and body["media"]["id"] == 6
        assert body["requestedBy"]["id"] == 1 and body["modifiedBy"]["id"] == 1
        again = await client.post("/request", json={"mediaType": "movie", "mediaId": 999})
        assert again.status_code == 409
        assert again.json() == {"message": "Request for this media already exists."}
        unknown = await client.post("/request", json={"mediaType": "movie", "mediaId": 5})
        assert unknown.status_code == 500


async def test_request_for_another_user_and_season_rules(api: httpx.AsyncClient, state: SeerrState) -> None:
    # Shōgun: season 1 is already requested (pending), so "all" only takes season 2.
    response = await api.post("/request", json={"mediaType": "tv", "mediaId": 126308, "seasons": "all"})
    assert response.status_code == 201
    assert [s["seasonNumber"] for s in response.json()["seasons"]] == [2]
    nothing = await api.post("/request", json={"mediaType": "tv", "mediaId": 126308, "seasons": [1, 2]})
    assert nothing.status_code == 202
    assert nothing.json() == {"message": "No seasons available to request"}
    # As alice (X-API-User), a request stays pending and she sees only her own requests.
    alice = {"X-API-User": "2"}
    mine = await api.post("/request", json={"mediaType": "tv", "mediaId": 1396, "seasons": [2]}, headers=alice)
    assert mine.status_code == 202  # season 2 is partly in the library and already requested
    listed = await api.get("/request", params={"take": 50}, headers=alice)
    assert {r["requestedBy"]["id"] for r in listed.json()["results"]} == {2}
    assert (await api.get("/request", params={"requestedBy": 3}, headers=alice)).status_code == 403
    assert (await api.post("/request/4/approve", headers=alice)).json() == FORBIDDEN
    assert (await api.get("/settings/jobs", headers=alice)).status_code == 403
    assert (await api.get("/status", headers={"X-API-User": "77"})).status_code == 200
    assert (await api.get("/request", headers={"X-API-User": "77"})).status_code == 403


async def test_pending_request_from_a_user_notifies_media_pending(state: SeerrState) -> None:
    state.decline(4)
    row = state.add_request(126308, seasons=[1], requested_by="carol")
    assert row.status is RequestStatus.PENDING and row.requested_by.name == "carol"
    assert row.media.status is MediaStatus.PENDING
    assert state.notifications[-1].type == "MEDIA_PENDING"
    assert state.notifications[-1].payload["event"] == "New Series Request"


async def test_bad_request_body_is_refused_with_every_problem(api: httpx.AsyncClient) -> None:
    response = await api.post("/request", json={"mediaType": "book", "mediaId": "x", "is4k": "yes"})
    assert response.status_code == 400
    paths = [e["path"] for e in response.json()["errors"]]
    assert paths == [".body.mediaType", ".body.mediaId", ".body.is4k"]
    assert response.json()["message"].startswith(
        "request.body.mediaType should be equal to one of the allowed values: movie, tv, "
        "request.body.mediaId should be number, "
    )
    missing = await api.post("/request", json={"seasons": [-1]})
    # Every property in schema order; with allErrors a failed oneOf also reports each branch's errors.
    assert [(e["path"], e["message"], e["errorCode"]) for e in missing.json()["errors"]] == [
        (".body.mediaType", "should have required property 'mediaType'", "required.openapi.validation"),
        (".body.mediaId", "should have required property 'mediaId'", "required.openapi.validation"),
        (".body.seasons[0]", "should be >= 0", "minimum.openapi.validation"),
        (".body.seasons", "should be string", "type.openapi.validation"),
        (".body.seasons", "should be equal to one of the allowed values: all", "enum.openapi.validation"),
        (".body.seasons", "should match exactly one schema in oneOf", "oneOf.openapi.validation"),
    ]
    assert missing.json()["message"].startswith(
        "request.body should have required property 'mediaType', request.body should have required property 'mediaId'"
    )


async def test_approve_and_decline_follow_seerr_rules(api: httpx.AsyncClient, state: SeerrState) -> None:
    approved = await api.post("/request/4/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == RequestStatus.APPROVED
    assert approved.json()["media"]["status"] == MediaStatus.PROCESSING
    assert [s["status"] for s in approved.json()["seasons"]] == [RequestStatus.APPROVED]
    assert state.notifications[-1].type == "MEDIA_APPROVED"
    # v3.1.0 lets an approved request be approved again, and each save notifies again.
    assert (await api.post("/request/4/approve")).status_code == 200
    assert [n.type for n in state.notifications].count("MEDIA_APPROVED") == 2
    declined = await api.post("/request/2/decline")
    assert declined.json()["status"] == RequestStatus.DECLINED
    assert declined.json()["media"]["status"] == MediaStatus.UNKNOWN
    assert state.notifications[-1].type == "MEDIA_DECLINED"
    assert (await api.post("/request/999/approve")).json() == {"message": "Request not found."}


async def test_approving_for_available_media_sends_no_notification(state: SeerrState) -> None:
    # notifyApprovedOrDeclined: "Media became available before request was approved. Skipping approval notification"
    before = len(state.notifications)
    state.approve(5)
    assert state.requests[5].status is RequestStatus.APPROVED
    assert state.notifications[before:] == []
    state.decline(5)
    assert state.notifications[before:] == []


# ----------------------------------------------------------------------------- media status


async def test_movie_available_completes_its_request(api: httpx.AsyncClient, state: SeerrState) -> None:
    media_id = state.requests[1].media.id
    response = await api.post(f"/media/{media_id}/available", json={"is4k": False})
    assert response.status_code == 200
    assert response.json()["status"] == MediaStatus.AVAILABLE
    assert (await api.get("/request/1")).json()["status"] == RequestStatus.COMPLETED
    note = state.notifications[-1]
    assert note.type == "MEDIA_AVAILABLE" and note.request_id == 1
    assert note.payload["event"] == "Movie Request Now Available"


async def test_partial_on_a_movie_is_400_and_deleted_changes_nothing(api: httpx.AsyncClient, state: SeerrState) -> None:
    partial = await api.post("/media/1/partial")
    assert partial.status_code == 400
    assert partial.json() == {"message": "Only series can be set to be partially available"}
    before = (await api.get("/request/1")).json()["media"]["status"]
    assert (await api.post("/media/1/deleted")).json()["status"] == before
    missing = await api.post("/media/99/available")
    assert missing.status_code == 404 and missing.json() == {"message": "Media does not exist."}


async def test_show_needs_every_requested_season_available(api: httpx.AsyncClient, state: SeerrState) -> None:
    bb = state.requests[3].media.id
    plain = await api.post(f"/media/{bb}/available")  # no seasons: season 2 stays partial
    assert plain.json()["status"] == MediaStatus.AVAILABLE
    assert (await api.get("/request/3")).json()["status"] == RequestStatus.APPROVED
    seasons = await api.post(f"/media/{bb}/available", json={"seasons": [{"seasonNumber": 2}]})
    assert {s["seasonNumber"]: s["status"] for s in seasons.json()["seasons"]}[2] == MediaStatus.AVAILABLE
    done = (await api.get("/request/3")).json()
    assert done["status"] == RequestStatus.COMPLETED
    assert {s["status"] for s in done["seasons"]} == {RequestStatus.COMPLETED}
    assert state.notifications[-1].payload["extra"] == [{"name": "Requested Seasons", "value": "1, 2"}]


async def test_4k_flag_changes_status4k_only(api: httpx.AsyncClient) -> None:
    body = (await api.post("/media/2/processing", json={"is4k": True})).json()
    assert body["status4k"] == MediaStatus.PROCESSING and body["status"] == MediaStatus.PROCESSING
    bad = await api.post("/media/2/processing", json={"is4k": "true"})
    assert bad.status_code == 400


async def test_available_from_pending_approves_then_completes(state: SeerrState) -> None:
    shogun = state.requests[4].media
    state.set_media_status(shogun.id, "available", seasons=[1])
    assert state.requests[4].status is RequestStatus.COMPLETED


async def test_library_scan_helper_marks_media_and_completes(state: SeerrState) -> None:
    changed = state.apply_library([LibraryEntry(tmdb_id=1396, episodes={1: "all", 2: "all"})])
    assert changed == [state.requests[3].media.id]
    assert state.requests[3].status is RequestStatus.COMPLETED
    assert state.requests[3].media.status is MediaStatus.AVAILABLE
    assert state.apply_library([LibraryEntry(tmdb_id=1396, episodes={1: "all", 2: "all"})]) == []


def test_library_status_counts_only_aired_episodes(starter: Scenario) -> None:
    scenario = Scenario.model_validate(
        {
            "name": "airing",
            "today": "2026-11-24",
            "media": [
                {
                    "type": "tv",
                    "tmdb_id": 1,
                    "title": "Weekly",
                    "seasons": [
                        {"season": 1, "episodes": 10, "first_air_date": "2026-11-03"},  # 4 aired by the 24th
                        {"season": 2, "episodes": 8, "first_air_date": "2027-06-01"},
                    ],
                }
            ],
        }
    )
    state = SeerrState(scenario, frozen_clock(scenario))
    status, seasons = state.library_status(LibraryEntry(tmdb_id=1, episodes={1: [1, 2, 3, 4]}))
    assert (status, seasons) == (MediaStatus.AVAILABLE, {1: MediaStatus.AVAILABLE})
    status, seasons = state.library_status(LibraryEntry(tmdb_id=1, episodes={1: [1, 2]}))
    assert (status, seasons) == (MediaStatus.PARTIALLY_AVAILABLE, {1: MediaStatus.PARTIALLY_AVAILABLE})
    assert state.library_status(LibraryEntry(tmdb_id=1, episodes={1: []})) == (None, {})


# ----------------------------------------------------------------------------- details


async def test_movie_details_carry_imdb_id_and_media_info(api: httpx.AsyncClient) -> None:
    movie = (await api.get("/movie/603")).json()
    assert movie["title"] == "The Matrix" and movie["releaseDate"] == "1999-03-30"
    assert movie["externalIds"]["imdbId"] == "tt0133093" and movie["imdbId"] == "tt0133093"
    assert movie["mediaInfo"]["status"] == MediaStatus.AVAILABLE
    assert [r["id"] for r in movie["mediaInfo"]["requests"]] == [5]
    assert "media" not in movie["mediaInfo"]["requests"][0]


async def test_unknown_tmdb_ids_are_500_like_the_real_server(api: httpx.AsyncClient) -> None:
    for path, message in (
        ("/movie/1", "Unable to retrieve movie."),
        ("/movie/1396", "Unable to retrieve movie."),
        ("/tv/603", "Unable to retrieve series."),
        ("/tv/1396/season/9", "Unable to retrieve season."),
    ):
        response = await api.get(path)
        assert response.status_code == 500, path
        assert response.json() == {"message": message}


async def test_tv_details_and_season_episodes(api: httpx.AsyncClient, clock: VirtualClock) -> None:
    show = (await api.get("/tv/126308")).json()
    assert show["name"] == "Shōgun" and show["originalName"] == "Shogun"
    assert show["externalIds"] == {**show["externalIds"], "imdbId": "tt2788316", "tvdbId": 389040}
    assert [(s["seasonNumber"], s["episodeCount"], s["airDate"]) for s in show["seasons"]] == [
        (0, 1, "2024-02-27"),
        (1, 10, "2024-02-27"),
        (2, 10, "2027-01-12"),
    ]
    assert show["nextEpisodeToAir"]["seasonNumber"] == 2 and show["inProduction"] is True
    assert show["lastEpisodeToAir"]["episodeNumber"] == 10
    assert show["mediaInfo"]["requests"][0]["id"] == 4
    season = (await api.get("/tv/1396/season/2")).json()
    assert season["seasonNumber"] == 2 and len(season["episodes"]) == 13
    first, second = season["episodes"][:2]
    assert (first["episodeNumber"], first["airDate"], second["airDate"]) == (1, "2009-03-08", "2009-03-15")
    clock.advance(0)  # details are computed at read time from the clock


# ----------------------------------------------------------------------------- jobs


async def test_jobs_list_and_run_records_and_calls_the_scan_hook(api: httpx.AsyncClient, state: SeerrState) -> None:
    jobs = (await api.get("/settings/jobs")).json()
    by_id = {j["id"]: j for j in jobs}
    assert {"jellyfin-recently-added-scan", "jellyfin-full-scan"} <= set(by_id)
    assert by_id["jellyfin-recently-added-scan"]["nextExecutionTime"] == "2026-11-24T12:05:00.000Z"
    assert by_id["jellyfin-full-scan"]["nextExecutionTime"] == "2026-11-25T03:00:00.000Z"
    scans: list[str] = []
    state.on_scan = scans.append
    ran = await api.post("/settings/jobs/jellyfin-recently-added-scan/run")
    assert ran.status_code == 200 and ran.json()["id"] == "jellyfin-recently-added-scan"
    await api.post("/settings/jobs/radarr-scan/run")
    assert scans == ["jellyfin-recently-added-scan"]
    assert [r.job_id for r in state.job_runs] == ["jellyfin-recently-added-scan", "radarr-scan"]
    assert len(state.runs_of("radarr-scan")) == 1
    missing = await api.post("/settings/jobs/nope/run")
    assert missing.status_code == 404 and missing.json() == {"message": "Job not found."}


async def test_scan_hook_can_drive_the_library(api: httpx.AsyncClient, state: SeerrState) -> None:
    def scan(_job: str) -> None:
        state.apply_library([LibraryEntry(tmdb_id=10331)])

    state.on_scan = scan
    await api.post("/settings/jobs/jellyfin-full-scan/run")
    assert (await api.get("/request/1")).json()["status"] == RequestStatus.COMPLETED


# ----------------------------------------------------------------------------- webhook rendering


def test_webhook_for_an_auto_approved_show_matches_seerrs_shape(state: SeerrState) -> None:
    state.decline(4)
    row = state.add_request(126308, seasons=[1, 2], approved=True, requested_by="alice")
    body = render_webhook("MEDIA_AUTO_APPROVED", row)
    assert list(body) == [
        "notification_type",
        "event",
        "subject",
        "message",
        "image",
        "media",
        "request",
        "issue",
        "comment",
        "extra",
    ]
    assert body["notification_type"] == "MEDIA_AUTO_APPROVED"
    assert body["event"] == "Series Request Automatically Approved"
    assert body["subject"] == "Shōgun (2024)"
    assert body["image"].startswith("https://image.tmdb.org/t/p/w600_and_h900_bestv2/")
    assert body["media"] == {
        "media_type": "tv",
        "tmdbId": "126308",
        "tvdbId": "389040",
        "status": "PROCESSING",
        "status4k": "UNKNOWN",
    }
    assert body["request"]["request_id"] == str(row.id)
    assert body["request"]["requestedBy_username"] == "alice"
    assert body["request"]["requestedBy_settings_discordId"] == ""
    assert body["issue"] is None and body["comment"] is None
    assert body["extra"] == [{"name": "Requested Seasons", "value": "1, 2"}]


def test_webhook_for_a_movie_and_a_test_notification(state: SeerrState) -> None:
    movie = render_webhook("MEDIA_PENDING", state.requests[1])
    assert movie["media"]["tvdbId"] == "" and movie["extra"] == []
    assert movie["subject"] == "Night of the Living Dead (1968)" and movie["event"] == "New Movie Request"
    assert all(isinstance(v, str) for v in movie["media"].values())
    test = render_webhook("TEST_NOTIFICATION", None)
    assert test["media"] is None and test["request"] is None and test["extra"] == []
    assert test["subject"] == "Test Notification" and test["event"] == ""
    with pytest.raises(ValueError):
        render_webhook("MEDIA_EXPLODED", None)


def test_webhook_substitution_is_javascript_string_replace(state: SeerrState) -> None:
    spec = state.requests[1].media.spec
    state.requests[1].media.spec = spec.model_copy(update={"title": "Cost $& Profit", "overview": "x" * 600})
    template = {"subject": "{{subject}}", "twice": "{{request_id}}-{{request_id}}", "n": 3, "list": ["{{media_type}}"]}
    body = render_webhook("MEDIA_PENDING", state.requests[1], template=template)
    assert body["subject"] == "Cost {{subject}} Profit (1968)"  # `$&` inserts the matched pattern
    assert body["twice"] == "1-{{request_id}}"  # only the first occurrence is replaced
    assert body["n"] == 3 and body["list"] == ["movie"]
    assert render_webhook("MEDIA_PENDING", state.requests[1])["message"] == "x" * 499 + "…"


def test_truncate_cuts_at_whitespace_like_lodash() -> None:
    text = ("word " * 120).strip()
    cut = truncate(text)
    assert len(cut) <= 500 and cut.endswith("word…") and " " not in cut[-2:]
    assert truncate("short") == "short"


def test_notification_log_and_hook(state: SeerrState) -> None:
    seen: list[str] = []
    state.on_notification = lambda n: seen.append(n.type)
    state.approve(4)
    assert seen == ["MEDIA_APPROVED"]
    assert state.notifications[-1].at == state.clock.now()
    assert state.notifications[-1].payload["request"]["request_id"] == "4"


def test_created_dates_follow_the_scenario(starter: Scenario) -> None:
    scenario = starter.model_copy(
        update={"requests": [starter.requests[0].model_copy(update={"created_at": date(2026, 1, 2)})]}
    )
    state = SeerrState(scenario, frozen_clock(scenario))
    assert state.requests[1].created_at == datetime(2026, 1, 2, 12, tzinfo=UTC)


# ----------------------------------------------------------------------------- as the real Seerr 3.1.0 answers


def _with_media(scenario: Scenario, **changes: object) -> Scenario:
    """The scenario plus one more movie (tmdb 999) nobody has requested, and `changes` to its Seerr server."""
    extra = scenario.media[0].model_copy(update={"tmdb_id": 999, "imdb_id": "tt0000999", "title": "New"})
    return scenario.model_copy(
        update={"media": [*scenario.media, extra], "seerr": scenario.seerr.model_copy(update=changes)}
    )


@asynccontextmanager
async def emulator_of(scenario: Scenario, clock: VirtualClock) -> AsyncIterator[tuple[httpx.AsyncClient, SeerrState]]:
    """A client on a Seerr emulator built from `scenario`, and the emulator's state."""
    app = create_app(scenario, clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://seerr.sandbox/api/v1",
        headers={"X-Api-Key": scenario.keys["seerr"]},
    ) as client:
        yield client, app.state.emulator


async def test_media_rows_get_an_imdb_id_only_from_a_jellyfin_scan_of_a_movie(
    api: httpx.AsyncClient, state: SeerrState
) -> None:
    # MediaRequest.request() builds the row from TMDB's id and the TVDB id; the Jellyfin scanner fills `imdbId` in
    # from ProviderIds.Imdb for movies only. The IMDb id a bridge needs is in the details' `externalIds`.
    rows = (await api.get("/media")).json()["results"]
    assert {m["tmdbId"]: m["imdbId"] for m in rows} == {
        10331: None,
        438631: None,
        603: "tt0133093",  # a movie the scan found in Jellyfin
        1396: None,  # a show in Jellyfin: processShow never sets it
        126308: None,
    }
    assert (await api.get("/movie/10331")).json()["externalIds"]["imdbId"] == "tt0063350"
    assert (await api.get("/tv/1396")).json()["externalIds"]["imdbId"] == "tt0903747"
    state.apply_library([LibraryEntry(tmdb_id=10331), LibraryEntry(tmdb_id=126308, episodes={1: "all"})])
    assert (await api.get("/request/1")).json()["media"]["imdbId"] == "tt0063350"
    assert (await api.get("/request/4")).json()["media"]["imdbId"] is None


async def test_new_requests_make_media_rows_without_imdb_id(starter: Scenario, clock: VirtualClock) -> None:
    async with emulator_of(_with_media(starter), clock) as (client, _):
        created = await client.post("/request", json={"mediaType": "movie", "mediaId": 999})
    assert created.status_code == 201 and created.json()["media"]["imdbId"] is None


async def test_request_list_items_carry_the_request_columns_but_not_the_media_seasons(api: httpx.AsyncClient) -> None:
    listed = (await api.get("/request", params={"filter": "all"})).json()
    # serviceErrors names the Radarr/Sonarr servers whose profiles could not be read; none are configured here.
    assert listed["serviceErrors"] == {"radarr": [], "sonarr": []}
    columns = ("serverId", "profileId", "rootFolder", "languageProfileId")
    for item in listed["results"]:
        assert {name: item[name] for name in columns} == dict.fromkeys(columns)  # nullable columns, sent as null
        assert "seasons" not in item["media"]  # the list's query builder joins `media`, not its eager seasons
    bb = next(r for r in listed["results"] if r["id"] == 3)
    assert [s["seasonNumber"] for s in bb["seasons"]] == [1, 2]  # the request's own seasons are joined
    one = (await api.get("/request/3")).json()  # findOne loads eager relations, media.seasons among them
    assert [s["seasonNumber"] for s in one["media"]["seasons"]] == [1, 2]
    assert {name: one[name] for name in columns} == dict.fromkeys(columns)


async def test_added_order_is_request_id_order(starter: Scenario, clock: VirtualClock) -> None:
    # sort=added orders by `request.id`, not by the creation date.
    late = starter.requests[0].model_copy(update={"created_at": date(2026, 11, 24)})  # after the others
    scenario = starter.model_copy(update={"requests": [late, *starter.requests[1:]]})
    async with emulator_of(scenario, clock) as (client, _):
        assert await ids(client) == [5, 4, 3, 2, 1]


async def test_tv_details_list_the_specials_as_season_zero(api: httpx.AsyncClient, state: SeerrState) -> None:
    show = (await api.get("/tv/1396")).json()
    specials = show["seasons"][0]
    assert (specials["seasonNumber"], specials["name"], specials["episodeCount"]) == (0, "Specials", 1)
    assert show["numberOfSeasons"] == 2 and show["numberOfEpisodes"] == 20  # TMDB counts regular seasons only
    season = (await api.get("/tv/1396/season/0")).json()
    assert season["name"] == "Specials" and [e["seasonNumber"] for e in season["episodes"]] == [0]
    # "all" still means the regular seasons, and season 0 is dropped (enableSpecialEpisodes is off by default).
    state.decline(4)
    assert state.add_request(126308, seasons="all", approved=True).season_numbers == [1, 2]
    state.decline(6)
    assert state.add_request(126308, seasons=[0, 1], approved=True).season_numbers == [1]


async def test_approval_notifications_read_the_media_row_before_the_approval_moved_it(
    api: httpx.AsyncClient, state: SeerrState, starter: Scenario, clock: VirtualClock
) -> None:
    # The entity listener that notifies reads Media before the subscriber's updateParentStatus saves PROCESSING.
    await api.post("/request/4/approve")
    note = state.notifications[-1]
    assert note.type == "MEDIA_APPROVED" and note.payload["media"]["status"] == "PENDING"
    assert state.requests[4].media.status is MediaStatus.PROCESSING
    async with emulator_of(_with_media(starter), clock) as (client, fresh):
        await client.post("/request", json={"mediaType": "movie", "mediaId": 999})
    auto = fresh.notifications[-1]
    assert auto.type == "MEDIA_AUTO_APPROVED" and auto.payload["media"]["status"] == "PENDING"


async def test_an_unreachable_sonarr_fails_the_request_it_was_sent(starter: Scenario, clock: VirtualClock) -> None:
    async with emulator_of(_with_media(starter, sonarr="unreachable"), clock) as (client, state):
        approved = await client.post("/request/4/approve")
        assert approved.json()["status"] == RequestStatus.APPROVED  # the answer comes before Sonarr's failure
        failed = (await client.get("/request/4")).json()
        assert failed["status"] == RequestStatus.FAILED
        assert failed["media"]["status"] == MediaStatus.PROCESSING
        assert [s["status"] for s in failed["seasons"]] == [RequestStatus.APPROVED]
        assert [n.type for n in state.notifications[-2:]] == ["MEDIA_APPROVED", "MEDIA_FAILED"]
        assert state.notifications[-1].payload["event"] == "Series Request Failed"
        assert state.notifications[-1].payload["media"]["status"] == "PENDING"
        listed = (await client.get("/request", params={"filter": "failed"})).json()
        assert [r["id"] for r in listed["results"]] == [4]
        assert listed["serviceErrors"] == {"radarr": [], "sonarr": [{"id": 0, "name": "Sonarr"}]}
        assert await ids(client, filter="approved", sortDirection="asc") == [1, 2, 3]
        # No Radarr is configured: a movie request is approved and stays so.
        created = await client.post("/request", json={"mediaType": "movie", "mediaId": 999})
        assert (await client.get(f"/request/{created.json()['id']}")).json()["status"] == RequestStatus.APPROVED


async def test_an_unreachable_radarr_fails_requests_as_they_are_made_or_approved(
    starter: Scenario, clock: VirtualClock
) -> None:
    async with emulator_of(_with_media(starter, radarr="unreachable"), clock) as (client, state):
        created = await client.post("/request", json={"mediaType": "movie", "mediaId": 999})
        assert created.status_code == 201 and created.json()["status"] == RequestStatus.APPROVED
        assert (await client.get(f"/request/{created.json()['id']}")).json()["status"] == RequestStatus.FAILED
        assert [n.type for n in state.notifications[-2:]] == ["MEDIA_AUTO_APPROVED", "MEDIA_FAILED"]
        # The movie is already available: sendToRadarr stops before calling Radarr, so nothing fails.
        state.approve(5)
        assert state.requests[5].status is RequestStatus.APPROVED
        # Requests approved before the knob was turned are not re-sent; approving again is.
        assert state.requests[2].status is RequestStatus.APPROVED
        assert state.approve(2).status is RequestStatus.FAILED
        # A 4K request finds no default 4K Radarr: nothing is sent.
        state.decline(1)
        assert state.add_request(10331, is4k=True, approved=True).status is RequestStatus.APPROVED
        # The knob can be turned at run time, too.
        state.radarr = "none"
        assert state.approve(1).status is RequestStatus.APPROVED


def test_the_servarr_knobs_come_from_the_scenario(starter: Scenario, clock: VirtualClock) -> None:
    state = SeerrState(_with_media(starter, radarr="unreachable"), clock)
    assert (state.radarr, state.sonarr) == ("unreachable", "none")
