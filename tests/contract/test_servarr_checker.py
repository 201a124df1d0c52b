"""The Radarr/Sonarr contract checker (tests/contract/servarr.py) against hand-made exchanges, not seerbridge's facade.

Bodies follow what Seerr sends and reads (/work/shared/api/servarr-for-seerr.md §3); each wrong answer must be caught
with a message naming the field.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from openapi_core.templating.responses.exceptions import ResponseNotFound

from tests.contract.openapi import HttpxOpenAPIRequest, HttpxOpenAPIResponse, radarr_spec
from tests.contract.servarr import HOST_URLS, ServarrContract, check

KEY = {"apikey": "secret"}

LOOKUP_MOVIE: dict[str, Any] = {
    "id": 0,
    "title": "The Matrix",
    "originalTitle": "The Matrix",
    "year": 1999,
    "tmdbId": 603,
    "imdbId": "tt0133093",
    "titleSlug": "603",
    "hasFile": False,
    "monitored": False,
    "status": "released",
    "minimumAvailability": "released",
    "tags": [],
    "images": [{"coverType": "poster", "remoteUrl": "https://image.tmdb.org/t/p/original/x.jpg"}],
    "added": "0001-01-01T00:00:00Z",
}
SEERR_MOVIE_POST: dict[str, Any] = {
    "title": "The Matrix",
    "qualityProfileId": 4,
    "profileId": 4,
    "titleSlug": "603",
    "minimumAvailability": "released",
    "tmdbId": 603,
    "year": 1999,
    "rootFolderPath": "/movies",
    "monitored": True,
    "tags": [2],
    "addOptions": {"searchForMovie": True},
}
SERIES: dict[str, Any] = {
    "id": 7,
    "title": "Breaking Bad",
    "tvdbId": 81189,
    "titleSlug": "breaking-bad",
    "year": 2008,
    "monitored": True,
    "ended": True,  # readOnly in the spec, sent back by Seerr's PUT
    "seriesType": "standard",
    "qualityProfileId": 4,
    "seasonFolder": True,
    "rootFolderPath": "/tv",
    "tags": [],
    "seasons": [
        {"seasonNumber": 0, "monitored": False, "statistics": {"episodeFileCount": 0, "totalEpisodeCount": 0}},
        {"seasonNumber": 1, "monitored": True, "statistics": {"episodeFileCount": 3, "totalEpisodeCount": 7}},
    ],
    "statistics": {"seasonCount": 1, "episodeFileCount": 3, "totalEpisodeCount": 7, "percentOfEpisodes": 42.9},
}
QUEUE_RECORD: dict[str, Any] = {
    "id": 1,
    "size": 1_000_000.0,
    "sizeleft": 250_000.0,
    "timeleft": "00:12:34",
    "estimatedCompletionTime": "2026-11-24T12:30:00Z",
    "status": "downloading",
    "title": "Breaking.Bad.S01E01.1080p",
    "downloadId": "abc123",
    "protocol": "torrent",
}


def pair(
    method: str,
    path: str,
    *,
    body: object = None,
    status: int = 200,
    answer: object = None,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[httpx.Request, httpx.Response]:
    request = httpx.Request(
        method, "http://seerbridge.test" + path, params=KEY if params is None else params, json=body, headers=headers
    )
    if answer is None:
        return request, httpx.Response(status, request=request)
    return request, httpx.Response(status, json=answer, request=request)


def violations(*args: Any, seerr_reads: bool = True, **kwargs: Any) -> list[str]:
    return check(*pair(*args, **kwargs), seerr_reads=seerr_reads)


def one_violation_naming(problems: list[str], *fragments: str) -> None:
    assert len(problems) == 1, problems
    for fragment in fragments:
        assert fragment in problems[0], problems


# Radarr


def test_correct_movie_lookup_passes() -> None:
    params = {**KEY, "term": "tmdb:603"}
    assert violations("GET", "/radarr/api/v3/movie/lookup", params=params, answer=[LOOKUP_MOVIE]) == []


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [("hasFile", "false", "$[0].hasFile"), ("id", "12", "$[0].id"), ("monitored", None, "$[0].monitored")],
)
def test_wrong_type_in_movie_lookup_is_caught(field: str, value: object, named: str) -> None:
    answer = [{**LOOKUP_MOVIE, field: value}]
    problems = violations("GET", "/radarr/api/v3/movie/lookup", params={**KEY, "term": "tmdb:603"}, answer=answer)
    one_violation_naming(problems, "response 200 GET /radarr/api/v3/movie/lookup", named)


def test_unknown_movie_field_is_caught() -> None:
    problems = violations("GET", "/radarr/api/v3/movie/lookup", answer=[{**LOOKUP_MOVIE, "hasfile": False}])
    one_violation_naming(problems, "'hasfile' was unexpected")


def test_movie_file_nested_schema_is_checked() -> None:
    movie = {**LOOKUP_MOVIE, "id": 5, "hasFile": True, "movieFile": {"id": 9, "mediaInfo": {"resolution": 2160}}}
    problems = violations("GET", "/radarr/api/v3/movie/5", answer=movie)
    one_violation_naming(problems, "$.movieFile.mediaInfo.resolution", "not of type 'string'")


def test_quality_profile_path_is_matched_case_insensitively_under_every_radarr_base() -> None:
    for base in ("/radarr", "/radarr-4k", "/Radarr-4K"):
        assert violations("GET", f"{base}/api/v3/qualityProfile", answer=[{"id": 1, "name": "Any"}]) == []
        # ...and really validated, not skipped:
        problems = violations("GET", f"{base}/API/V3/QualityProfile", answer=[{"id": "1", "name": "Any"}])
        one_violation_naming(problems, "$[0].id", "not of type 'integer'")


def test_post_movie_answered_201_passes_with_seerrs_body() -> None:
    answer = {**SEERR_MOVIE_POST, "id": 12, "hasFile": False}
    del answer["profileId"]
    assert violations("POST", "/radarr/api/v3/movie", body=SEERR_MOVIE_POST, status=201, answer=answer) == []


def test_post_movie_answer_without_usable_id_is_caught() -> None:
    answer = {"title": "The Matrix", "titleSlug": "603", "id": 0}
    problems = violations("POST", "/radarr/api/v3/movie", body=SEERR_MOVIE_POST, status=201, answer=answer)
    one_violation_naming(problems, "$.id", "truthy")


def test_bad_request_body_is_caught() -> None:
    answer = {"id": 1, "titleSlug": "603"}
    problems = violations("POST", "/radarr/api/v3/movie", body={**SEERR_MOVIE_POST, "tmdbId": "603"}, answer=answer)
    one_violation_naming(problems, "request POST /radarr/api/v3/movie", "$.tmdbId")
    problems = violations("POST", "/radarr/api/v3/movie", body={**SEERR_MOVIE_POST, "profileId": "4"}, answer=answer)
    one_violation_naming(problems, "'profileId' was unexpected")


def test_put_movie_without_id_in_path_is_validated_as_put_movie_id() -> None:
    body = {**LOOKUP_MOVIE, **SEERR_MOVIE_POST, "id": 5}
    answer = {**LOOKUP_MOVIE, "id": 5, "monitored": True}
    assert violations("PUT", "/radarr/api/v3/movie", body=body, status=202, answer=answer) == []
    problems = violations("PUT", "/radarr/api/v3/movie", body={**body, "year": "1999"}, status=202, answer=answer)
    one_violation_naming(problems, "request PUT /radarr/api/v3/movie", "$.year")
    problems = violations("PUT", "/radarr/api/v3/movie", body=SEERR_MOVIE_POST, status=202, answer=answer)
    one_violation_naming(problems, "PUT without an id in the path")


def test_radarr_queue() -> None:
    record = {**QUEUE_RECORD, "movieId": 12}
    page = {"page": 1, "pageSize": 10, "totalRecords": 1, "records": [record]}
    params = {**KEY, "includeEpisode": "true"}  # not a Radarr parameter; ignored like the server does
    assert violations("GET", "/radarr/api/v3/queue", params=params, answer=page) == []

    wrong = {**page, "records": [{**record, "sizeleft": "250000"}]}
    one_violation_naming(violations("GET", "/radarr/api/v3/queue", answer=wrong), "$.records[0].sizeleft")
    wrong = {**page, "records": [{**record, "status": "Downloading"}]}
    one_violation_naming(violations("GET", "/radarr/api/v3/queue", answer=wrong), "$.records[0].status")

    # The spec requires nothing, so openapi-core accepts a page without records; the Seerr-reads layer does not.
    assert violations("GET", "/radarr/api/v3/queue", answer={"page": 1}, seerr_reads=False) == []
    one_violation_naming(violations("GET", "/radarr/api/v3/queue", answer={"page": 1}), "$.records: missing")
    no_left = {**page, "records": [{k: v for k, v in record.items() if k != "sizeleft"}]}
    one_violation_naming(violations("GET", "/radarr/api/v3/queue", answer=no_left), "$.records[0].sizeleft: missing")


def test_commands_with_seerrs_arguments_pass() -> None:
    answer = {"id": 3, "name": "MoviesSearch", "status": "queued"}
    body: dict[str, object] = {"name": "MoviesSearch", "movieIds": [12]}
    assert violations("POST", "/radarr/api/v3/command", body=body, status=201, answer=answer) == []
    refresh = {"name": "RefreshMonitoredDownloads"}
    assert violations("POST", "/sonarr/api/v3/command", body=refresh, status=201, answer=answer) == []
    body = {"name": "MissingEpisodeSearch", "seriesId": 7}
    assert violations("POST", "/sonarr/api/v3/command", body=body, status=201, answer=answer) == []
    problems = violations("POST", "/sonarr/api/v3/command", body={**body, "seriesIds": [7]}, status=201, answer=answer)
    one_violation_naming(problems, "'seriesIds' was unexpected")


# Sonarr


def test_put_series_with_id_in_body_is_validated() -> None:
    assert violations("PUT", "/sonarr/api/v3/series", body=SERIES, status=202, answer=SERIES) == []
    wrong_season = {**SERIES, "seasons": [{"seasonNumber": "1", "monitored": True}]}
    problems = violations("PUT", "/sonarr/api/v3/series", body=wrong_season, status=202, answer=SERIES)
    one_violation_naming(problems, "request PUT /sonarr/api/v3/series", "$.seasons[0].seasonNumber")
    no_id = {k: v for k, v in SERIES.items() if k != "id"}
    one_violation_naming(violations("PUT", "/sonarr-4k/api/v3/series", body=no_id, answer=SERIES), "integer body `id`")


def test_nested_statistics_type_is_caught() -> None:
    wrong = {**SERIES, "statistics": {**SERIES["statistics"], "episodeFileCount": "3"}}
    one_violation_naming(violations("GET", "/sonarr/api/v3/series/7", answer=wrong), "$.statistics.episodeFileCount")
    season = {**SERIES["seasons"][1], "statistics": {"episodeFileCount": "3", "totalEpisodeCount": 7}}
    wrong = {**SERIES, "seasons": [season]}
    problems = violations("GET", "/sonarr/api/v3/series", answer=[wrong])
    one_violation_naming(problems, "$[0].seasons[0].statistics.episodeFileCount")


def test_series_post_with_seerrs_body_and_201_passes() -> None:
    body = {
        "tvdbId": 81189,
        "title": "Breaking Bad",
        "qualityProfileId": 4,
        "languageProfileId": 1,  # readOnly in the v4 spec; Seerr sends it when set
        "seasons": [{"seasonNumber": 0, "monitored": False}, {"seasonNumber": 1, "monitored": True}],
        "tags": [],
        "seasonFolder": True,
        "monitored": True,
        "rootFolderPath": "/tv",
        "seriesType": "standard",
        "addOptions": {"ignoreEpisodesWithFiles": True, "searchForMissingEpisodes": True},
    }
    assert violations("POST", "/sonarr/api/v3/series", body=body, status=201, answer=SERIES) == []


def test_sonarr_queue_page_with_a_record_passes() -> None:
    episode = {"id": 101, "seriesId": 7, "seasonNumber": 1, "episodeNumber": 1, "absoluteEpisodeNumber": 1}
    record = {**QUEUE_RECORD, "seriesId": 7, "episodeId": 101, "seasonNumber": 1, "episode": episode}
    page = {"page": 1, "pageSize": 10, "sortKey": "timeleft", "totalRecords": 1, "records": [record]}
    params = {**KEY, "includeEpisode": "true"}
    assert violations("GET", "/sonarr/api/v3/queue", params=params, answer=page) == []
    wrong = {**page, "records": [{**record, "episode": {**episode, "episodeNumber": "1"}}]}
    one_violation_naming(violations("GET", "/sonarr/api/v3/queue", answer=wrong), "$.records[0].episode.episodeNumber")


def test_sonarr_status_needs_a_version_string() -> None:
    assert violations("GET", "/sonarr/api/v3/system/status", answer={"version": "4.0.19.2979", "urlBase": ""}) == []
    one_violation_naming(violations("GET", "/sonarr/api/v3/system/status", answer={"version": 4}), "$.version")
    no_version = violations("GET", "/sonarr/api/v3/system/status", answer={"urlBase": ""})
    one_violation_naming(no_version, "$.version: missing")


def test_delete_with_seerrs_parameters_passes() -> None:
    params = {**KEY, "deleteFiles": "true", "addImportExclusion": "false"}  # Sonarr's own name is different
    assert violations("DELETE", "/sonarr/api/v3/series/7", params=params) == []
    assert violations("DELETE", "/radarr/api/v3/movie/5", params=params) == []
    problems = violations("DELETE", "/radarr/api/v3/movie/5", params={**KEY, "deleteFiles": "yes please"})
    one_violation_naming(problems, "deleteFiles")


# API key, statuses, paths


def test_api_key_as_query_or_header_is_accepted_and_a_served_call_without_key_is_reported() -> None:
    answer = [{"id": 1, "label": "1-alice"}]
    assert violations("GET", "/radarr/api/v3/tag", answer=answer) == []
    assert violations("GET", "/radarr/api/v3/tag", params={}, headers={"X-Api-Key": "k"}, answer=answer) == []
    one_violation_naming(violations("GET", "/radarr/api/v3/tag", params={}, answer=answer), "Security not found")


def test_openapi_core_reports_undocumented_error_statuses() -> None:
    """What the checker sidesteps: every documented response is 200, so openapi-core rejects a 401 outright."""
    request, response = pair("GET", "/api/v3/movie/5", status=401, answer={"message": "Unauthorized"})
    with pytest.raises(ResponseNotFound, match="401"):
        radarr_spec().validate_response(
            HttpxOpenAPIRequest(request, host_url=HOST_URLS["radarr"]), HttpxOpenAPIResponse(response)
        )


def test_4xx_is_skipped_and_other_non_2xx_is_a_violation() -> None:
    for status in (400, 401, 404, 409):
        assert violations("GET", "/radarr/api/v3/movie/5", params={}, status=status, answer={"message": "x"}) == []
    one_violation_naming(violations("GET", "/radarr/api/v3/movie/5", status=500, answer={"message": "x"}), "status 500")


def test_paths_outside_the_facade_or_the_spec_are_violations() -> None:
    one_violation_naming(violations("GET", "/lidarr/api/v1/artist", answer=[]), "not under a facade base URL")
    one_violation_naming(violations("GET", "/radarr/api/v3/nothing/here", answer=[]), "no radarr spec path")


def test_what_openapi_core_does_not_check_here() -> None:
    """Pinned limitations: unknown formats (`date-span`) and bodies of operations that document no content."""
    page = {"records": [{**QUEUE_RECORD, "movieId": 1, "timeleft": "soon"}]}
    assert violations("GET", "/radarr/api/v3/queue", answer=page) == []
    assert violations("DELETE", "/radarr/api/v3/movie/5", answer={"anything": "goes"}) == []
    monitor = {"episodeIds": [101], "monitored": True}
    assert violations("PUT", "/sonarr/api/v3/episode/monitor", body=monitor, status=202, answer=[{"id": "x"}]) == []


# The transport wrapper around a hand-written app


def small_radarr() -> FastAPI:
    app = FastAPI()

    @app.get("/radarr/api/v3/movie/lookup")
    async def lookup(request: Request) -> JSONResponse:
        if request.query_params.get("apikey") != "secret":
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        wrong = request.query_params.get("term") == "tmdb:1"
        return JSONResponse([{**LOOKUP_MOVIE, "hasFile": "no"}] if wrong else [LOOKUP_MOVIE])

    @app.post("/radarr/api/v3/movie")
    async def add() -> JSONResponse:
        return JSONResponse({**LOOKUP_MOVIE, "id": 12, "monitored": True}, status_code=201)

    return app


async def test_transport_wrapper_collects_checked_skipped_and_violations() -> None:
    contract = ServarrContract(httpx.ASGITransport(app=small_radarr()))
    async with httpx.AsyncClient(transport=contract, base_url="http://seerbridge.test/radarr/api/v3") as http:
        assert (await http.get("/movie/lookup", params={**KEY, "term": "tmdb:603"})).status_code == 200
        assert (await http.post("/movie", params=KEY, json=SEERR_MOVIE_POST)).status_code == 201
        assert (await http.get("/movie/lookup", params={"apikey": "wrong"})).status_code == 401
        contract.assert_clean()
        assert contract.checked == ["GET /radarr/api/v3/movie/lookup -> 200", "POST /radarr/api/v3/movie -> 201"]
        assert contract.skipped == ["GET /radarr/api/v3/movie/lookup -> 401"]

        response = await http.get("/movie/lookup", params={**KEY, "term": "tmdb:1"})
        assert response.json()[0]["hasFile"] == "no"  # the client still gets the real answer
    one_violation_naming(contract.violations, "$[0].hasFile")
    with pytest.raises(AssertionError, match="hasFile"):
        contract.assert_clean()
