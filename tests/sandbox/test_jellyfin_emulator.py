"""The Jellyfin emulator over HTTP: auth sources, /Items binding and filters, shows, scans, tasks, helpers."""

from __future__ import annotations

import re
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.jellyfin import create_app
from seerbridge.sandbox.jellyfin_items import jellyfin_guid
from seerbridge.sandbox.jellyfin_library import JellyfinLibrary
from seerbridge.sandbox.jellyfin_wire import parse_authorization_params
from seerbridge.sandbox.scenario import Scenario

KEY = "0123456789abcdef0123456789abcdef"
AUTH = {"Authorization": f'MediaBrowser Token="{KEY}"'}
GUID_N = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(datetime(2026, 11, 24, 12, tzinfo=UTC), speed=0)


@pytest.fixture
def app_and_lib(starter: Scenario, clock: VirtualClock) -> tuple[Any, JellyfinLibrary]:
    app = create_app(starter, clock)
    return app, app.state.emulator


@pytest.fixture
def lib(app_and_lib: tuple[Any, JellyfinLibrary]) -> JellyfinLibrary:
    return app_and_lib[1]


@pytest.fixture
async def http(app_and_lib: tuple[Any, JellyfinLibrary]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app_and_lib[0])
    async with httpx.AsyncClient(transport=transport, base_url="http://jellyfin.sandbox") as client:
        yield client


async def items(http: httpx.AsyncClient, query: str) -> dict[str, Any]:
    response = await http.get(f"/Items?{query}", headers=AUTH)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def names(body: dict[str, Any]) -> list[str]:
    return [i["Name"] for i in body["Items"]]


# ----- authentication -----------------------------------------------------------------------------------------------


async def test_public_info_is_anonymous_and_system_info_is_not(http: httpx.AsyncClient) -> None:
    public = await http.get("/System/Info/Public")
    assert public.status_code == 200
    body = public.json()
    assert body["Version"] == "10.11.11"
    assert body["ServerName"] == "sandbox-jellyfin"
    assert body["ProductName"] == "Jellyfin Server"
    assert GUID_N.match(body["Id"])
    assert body["StartupWizardCompleted"] is True
    refused = await http.get("/System/Info")
    assert refused.status_code == 401
    assert refused.content == b""
    ok = await http.get("/System/Info", headers=AUTH)
    assert ok.status_code == 200
    assert ok.json()["Version"] == "10.11.11"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f'MediaBrowser Token="{KEY}"'},
        {"Authorization": f'mediabrowser Token="{KEY}"'},
        {"Authorization": f'MEDIABROWSER Client="x", Device="y", DeviceId="z", Version="1", Token="{KEY}"'},
        {"Authorization": f"MediaBrowser Token={KEY}"},
    ],
)
async def test_mediabrowser_header_forms_are_accepted(http: httpx.AsyncClient, headers: dict[str, str]) -> None:
    assert (await http.get("/System/Info", headers=headers)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": f'MediaBrowser token="{KEY}"'},  # parameter keys are case-sensitive
        {"Authorization": f'Bearer Token="{KEY}"'},
        {"Authorization": 'MediaBrowser Token="wrong"'},
        {"Authorization": f"MediaBrowser{KEY}"},
    ],
)
async def test_bad_credentials_get_401_with_empty_body(http: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await http.get("/Items", headers=headers)
    assert response.status_code == 401
    assert response.content == b""


async def test_token_values_are_url_decoded(http: httpx.AsyncClient, lib: JellyfinLibrary) -> None:
    odd = "key with/odd+chars=="
    lib.api_keys.add(odd)
    encoded = urllib.parse.quote(odd, safe="")
    header = {"Authorization": f'MediaBrowser Client="a, b", Token="{encoded}"'}
    assert (await http.get("/System/Info", headers=header)).status_code == 200
    assert parse_authorization_params(f'Client="a, b", Token="{encoded}"') == {"Client": "a, b", "Token": odd}


async def test_legacy_sources_work_only_with_legacy_auth(http: httpx.AsyncClient, lib: JellyfinLibrary) -> None:
    legacy: list[tuple[str, dict[str, str]]] = [
        ("/System/Info", {"X-Emby-Token": KEY}),
        ("/System/Info", {"X-MediaBrowser-Token": KEY}),
        (f"/System/Info?api_key={KEY}", {}),
        ("/System/Info", {"Authorization": f'Emby Token="{KEY}"'}),
        ("/System/Info", {"X-Emby-Authorization": f'MediaBrowser Token="{KEY}"'}),
    ]
    assert lib.legacy_auth is True  # 10.11's default, from the scenario
    for url, headers in legacy:
        assert (await http.get(url, headers=headers)).status_code == 200, (url, headers)
    lib.legacy_auth = False  # 12.0's default
    for url, headers in legacy:
        assert (await http.get(url, headers=headers)).status_code == 401, (url, headers)
    assert (await http.get(f"/System/Info?ApiKey={KEY}")).status_code == 200
    assert (await http.get(f"/System/Info?apikey={KEY}")).status_code == 200  # query names ignore case
    assert (await http.get("/System/Info", headers=AUTH)).status_code == 200


async def test_legacy_switch_comes_from_the_scenario(starter: Scenario, clock: VirtualClock) -> None:
    modern = starter.model_copy(update={"jellyfin": starter.jellyfin.model_copy(update={"legacy_auth": False})})
    app = create_app(modern, clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jf") as client:
        assert (await client.get("/System/Info", headers={"X-Emby-Token": KEY})).status_code == 401
        assert (await client.get("/System/Info", headers=AUTH)).status_code == 200


async def test_first_token_source_wins_even_when_wrong(http: httpx.AsyncClient) -> None:
    response = await http.get(f"/System/Info?ApiKey={KEY}", headers={"Authorization": 'MediaBrowser Token="bad"'})
    assert response.status_code == 401


# ----- /Items -------------------------------------------------------------------------------------------------------


async def test_movies_carry_string_provider_ids_and_path_only_when_asked(http: httpx.AsyncClient) -> None:
    bare = await items(http, "recursive=true&includeItemTypes=Movie")
    (movie,) = bare["Items"]
    assert movie["Name"] == "The Matrix"
    assert "ProviderIds" not in movie and "Path" not in movie and "DateCreated" not in movie
    full = await items(http, "recursive=true&includeItemTypes=Movie&fields=ProviderIds,Path,DateCreated")
    (movie,) = full["Items"]
    assert movie["ProviderIds"] == {"Tmdb": "603", "Imdb": "tt0133093"}
    assert movie["Path"] == "/media/movies/The Matrix (1999)/The Matrix (1999).mkv"
    assert movie["DateCreated"].endswith("0Z")
    assert movie["ProductionYear"] == 1999
    assert movie["PremiereDate"] == "1999-03-30T00:00:00.0000000Z"
    assert movie["Type"] == "Movie" and movie["LocationType"] == "FileSystem" and movie["MediaType"] == "Video"
    assert movie["IsFolder"] is False
    assert GUID_N.match(movie["Id"])
    assert full == {"Items": full["Items"], "TotalRecordCount": 1, "StartIndex": 0}


async def test_item_ids_follow_jellyfins_recipe(lib: JellyfinLibrary) -> None:
    movie = lib.movie_by_tmdb(603)
    assert movie is not None and movie.path is not None
    assert movie.id == jellyfin_guid("MediaBrowser.Controller.Entities.Movies.Movie" + movie.path.lower())
    # The well-known id of the "Scan Media Library" task comes out of the same recipe.
    assert lib.task("RefreshLibrary").id == "7738148ffcd07979c7ceb148e06b3aed"


async def test_every_item_has_server_id_and_no_nulls(http: httpx.AsyncClient, lib: JellyfinLibrary) -> None:
    body = await items(http, "recursive=true&fields=ProviderIds,Path,MediaSources,ParentId")
    assert body["TotalRecordCount"] == len(body["Items"]) > 10
    for item in body["Items"]:
        assert item["ServerId"] == lib.server_id
        assert None not in item.values()


async def test_query_names_are_case_insensitive(http: httpx.AsyncClient) -> None:
    lower = await items(http, "recursive=true&includeItemTypes=Series&fields=ProviderIds")
    upper = await items(http, "Recursive=TRUE&IncludeItemTypes=series&FIELDS=providerids")
    assert lower == upper
    assert names(lower) == ["Breaking Bad"]
    assert lower["Items"][0]["ProviderIds"] == {"Tmdb": "1396", "Imdb": "tt0903747", "Tvdb": "81189"}


async def test_arrays_accept_comma_and_repeated_forms(http: httpx.AsyncClient) -> None:
    comma = await items(http, "recursive=true&includeItemTypes=Movie,Series&fields=Path,ProviderIds")
    repeated = await items(
        http, "recursive=true&includeItemTypes=Movie&includeItemTypes=Series&fields=Path&fields=ProviderIds"
    )
    assert comma == repeated
    assert sorted(names(comma)) == ["Breaking Bad", "The Matrix"]


async def test_unknown_parameters_and_values_are_ignored(http: httpx.AsyncClient, lib: JellyfinLibrary) -> None:
    lib.add_movie(10331)
    everything = await items(http, "recursive=true&includeItemTypes=Movie")
    emby_style = await items(http, "recursive=true&includeItemTypes=Movie&AnyProviderIdEquals=imdb.tt0133093")
    assert emby_style == everything  # Jellyfin has no provider-id filter: it returns every movie
    assert len(everything["Items"]) == 2
    # An unknown kind is dropped, which leaves no type filter at all (Seerr's "Others" relies on this).
    typo = await items(http, "recursive=true&includeItemTypes=Movies")
    assert typo["TotalRecordCount"] > 2


async def test_bad_scalar_values_get_a_validation_problem(http: httpx.AsyncClient) -> None:
    response = await http.get("/Items?recursive=maybe&limit=ten", headers=AUTH)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == 400 and body["title"] == "One or more validation errors occurred."
    assert set(body["errors"]) == {"recursive", "limit"}
    assert (await http.get("/Items?recursive=1", headers=AUTH)).status_code == 400  # bool.TryParse refuses 1


async def test_paging_reports_total_and_start(http: httpx.AsyncClient) -> None:
    full = await items(http, "recursive=true&sortBy=SortName")
    total = full["TotalRecordCount"]
    pages: list[str] = []
    for start in range(0, total, 4):
        page = await items(http, f"recursive=true&sortBy=SortName&startIndex={start}&limit=4")
        assert page["TotalRecordCount"] == total and page["StartIndex"] == start
        pages.extend(i["Id"] for i in page["Items"])
    assert pages == [i["Id"] for i in full["Items"]]
    no_count = await items(http, "recursive=true&limit=2&enableTotalRecordCount=false")
    assert len(no_count["Items"]) == 2 and no_count["TotalRecordCount"] == 0


async def test_provider_presence_search_and_year_filters(http: httpx.AsyncClient, lib: JellyfinLibrary) -> None:
    lib.add_series(126308)
    assert names(await items(http, "recursive=true&hasTvdbId=true")) == ["Breaking Bad", "Shōgun"]
    assert "The Matrix" in names(await items(http, "recursive=true&hasTvdbId=false&includeItemTypes=Movie"))
    assert names(await items(http, "recursive=true&searchTerm=shogun")) == ["Shōgun"]
    assert names(await items(http, "recursive=true&searchTerm=MATRIX")) == ["The Matrix"]
    assert names(await items(http, "recursive=true&years=1999,2024&includeItemTypes=Movie,Series")) == [
        "The Matrix",  # SortName drops the article: "matrix" < "shōgun"
        "Shōgun",
    ]


async def test_missing_episodes_are_virtual_and_included_unless_filtered(http: httpx.AsyncClient) -> None:
    all_eps = await items(http, "recursive=true&includeItemTypes=Episode&fields=Path")
    virtual = [i for i in all_eps["Items"] if i["LocationType"] == "Virtual"]
    assert [(i["ParentIndexNumber"], i["IndexNumber"]) for i in virtual] == [(2, 4), (2, 5)]
    assert all("Path" not in i for i in virtual)
    present = await items(http, "recursive=true&includeItemTypes=Episode&isMissing=false")
    assert present["TotalRecordCount"] == 7 + 3
    by_location = await items(http, "recursive=true&locationTypes=Virtual")
    assert by_location["TotalRecordCount"] == 2


async def test_hierarchy_parent_ids_and_sorting(http: httpx.AsyncClient, lib: JellyfinLibrary) -> None:
    roots = await items(http, "")
    assert [(i["Name"], i["CollectionType"]) for i in roots["Items"]] == [("Movies", "movies"), ("Shows", "tvshows")]
    series = lib.series_by_tmdb(1396)
    assert series is not None
    seasons = await items(http, f"parentId={series.id}")
    assert names(seasons) == ["Season 1", "Season 2"]
    under = await items(http, f"parentId={series.id}&recursive=true&includeItemTypes=Episode")
    assert under["TotalRecordCount"] == 12
    one = under["Items"][3]
    dashed = str(uuid.UUID(one["Id"]))
    by_ids = await items(http, f"ids={dashed}")
    assert [i["Id"] for i in by_ids["Items"]] == [one["Id"]]
    lib.add_movie(10331)
    lib.add_movie(438631)
    asc = names(await items(http, "recursive=true&includeItemTypes=Movie&sortBy=SortName"))
    assert asc == ["Dune", "The Matrix", "Night of the Living Dead"]  # "The" is ignored when sorting
    desc = names(await items(http, "recursive=true&includeItemTypes=Movie&sortBy=ProductionYear&sortOrder=Descending"))
    assert desc == ["Dune", "The Matrix", "Night of the Living Dead"]


async def test_media_sources_report_resolution(http: httpx.AsyncClient, lib: JellyfinLibrary) -> None:
    uhd = lib.add_movie(438631, width=3840, height=2160)
    body = await items(http, f"ids={uhd.id}&fields=MediaSources,Width,Height")
    (item,) = body["Items"]
    stream = item["MediaSources"][0]["MediaStreams"][0]
    assert (stream["Width"], stream["Height"], stream["Codec"]) == (3840, 2160, "hevc")
    assert (item["Width"], item["Height"]) == (3840, 2160)


async def test_get_item_by_id(http: httpx.AsyncClient, lib: JellyfinLibrary) -> None:
    movie = lib.movie_by_tmdb(603)
    assert movie is not None
    found = await http.get(f"/Items/{movie.id}", headers=AUTH)
    assert found.status_code == 200 and found.json()["ProviderIds"]["Tmdb"] == "603"
    missing = await http.get(f"/Items/{'0' * 32}", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["status"] == 404


# ----- shows --------------------------------------------------------------------------------------------------------


async def test_episodes_by_season_season_id_and_missing(http: httpx.AsyncClient, lib: JellyfinLibrary) -> None:
    series = lib.series_by_tmdb(1396)
    assert series is not None
    url = f"/Shows/{series.id}/Episodes"
    everything = (await http.get(url, headers=AUTH)).json()
    assert everything["TotalRecordCount"] == 12
    season2 = (await http.get(url, params={"season": 2, "fields": "Path"}, headers=AUTH)).json()
    assert [(i["IndexNumber"], i["LocationType"]) for i in season2["Items"]] == [
        (1, "FileSystem"),
        (2, "FileSystem"),
        (3, "FileSystem"),
        (4, "Virtual"),
        (5, "Virtual"),
    ]
    first = season2["Items"][0]
    assert first["SeriesId"] == series.id and first["ParentIndexNumber"] == 2 and first["SeriesName"] == "Breaking Bad"
    assert first["Path"].startswith("/media/shows/Breaking Bad (2008)/Season 02/")
    present = (await http.get(url, params={"seasonId": first["SeasonId"], "isMissing": "false"}, headers=AUTH)).json()
    assert [i["IndexNumber"] for i in present["Items"]] == [1, 2, 3]
    paged = (await http.get(url, params={"startIndex": 10, "limit": 5}, headers=AUTH)).json()
    assert len(paged["Items"]) == 2 and paged["TotalRecordCount"] == 12 and paged["StartIndex"] == 10


async def test_seasons(http: httpx.AsyncClient, lib: JellyfinLibrary) -> None:
    series = lib.series_by_tmdb(1396)
    assert series is not None
    body = (await http.get(f"/Shows/{series.id}/Seasons", headers=AUTH)).json()
    assert [(i["Type"], i["IndexNumber"]) for i in body["Items"]] == [("Season", 1), ("Season", 2)]
    lib.add_virtual_episode(1396, 3, 1)
    present = (await http.get(f"/Shows/{series.id}/Seasons?isMissing=false", headers=AUTH)).json()
    assert [i["IndexNumber"] for i in present["Items"]] == [1, 2]


@pytest.mark.parametrize("path", ["Episodes", "Seasons"])
async def test_unknown_series_is_a_404_problem(http: httpx.AsyncClient, lib: JellyfinLibrary, path: str) -> None:
    response = await http.get(f"/Shows/{'ab' * 16}/{path}", headers=AUTH)
    assert response.status_code == 404
    body = response.json()
    assert body["status"] == 404 and body["title"] == "Not Found" and body["detail"] == "Series not found"
    movie = lib.movie_by_tmdb(603)
    assert movie is not None
    assert (await http.get(f"/Shows/{movie.id}/{path}", headers=AUTH)).status_code == 404
    bad = await http.get(f"/Shows/not-a-guid/{path}", headers=AUTH)
    assert bad.status_code == 400 and "seriesId" in bad.json()["errors"]


# ----- /Items/Latest (what Seerr's recently-added scan reads) -------------------------------------------------------


async def test_latest_needs_a_user_which_an_api_key_is_not(http: httpx.AsyncClient, lib: JellyfinLibrary) -> None:
    assert (await http.get("/Items/Latest")).status_code == 401
    # GetUserId falls back to the token's user; an API key has none, and GetUserById(Guid.Empty) throws
    # ArgumentException, which the exception middleware turns into a plain-text 400.
    keyless = await http.get("/Items/Latest", headers=AUTH)
    assert keyless.status_code == 400
    assert keyless.text == "Error processing request."
    assert keyless.headers["content-type"].startswith("text/plain")
    stranger = await http.get("/Items/Latest", params={"userId": "ab" * 16}, headers=AUTH)
    assert stranger.status_code == 404 and stranger.json()["title"] == "Not Found"
    me = await http.get("/Items/Latest", params={"userId": "Me"}, headers=AUTH)
    assert me.status_code == 400 and "userId" in me.json()["errors"]
    assert GUID_N.match(lib.admin_user_id) and lib.users[lib.admin_user_id] == "admin"


async def test_latest_movies_newest_first_as_a_plain_array(
    http: httpx.AsyncClient, lib: JellyfinLibrary, clock: VirtualClock
) -> None:
    clock.advance(60)
    lib.add_movie(10331)
    clock.advance(60)
    lib.add_movie(438631)
    params = {"userId": lib.admin_user_id, "parentId": lib.movies_folder.id, "fields": "ProviderIds"}
    body = (await http.get("/Items/Latest", params=params, headers=AUTH)).json()
    assert isinstance(body, list)
    assert [(i["Name"], i["Type"], i["ChildCount"]) for i in body] == [
        ("Dune", "Movie", 0),
        ("Night of the Living Dead", "Movie", 0),
        ("The Matrix", "Movie", 0),
    ]
    assert body[0]["ProviderIds"] == {"Tmdb": "438631", "Imdb": "tt1160419"}
    two = (await http.get("/Items/Latest", params={**params, "limit": 2}, headers=AUTH)).json()
    assert [i["Name"] for i in two] == ["Dune", "Night of the Living Dead"]
    # No parentId: every library, folders left out, a show's episodes under their series.
    everything = (await http.get("/Items/Latest", params={"userId": lib.admin_user_id}, headers=AUTH)).json()
    assert [i["Name"] for i in everything][:2] == ["Dune", "Night of the Living Dead"]
    assert {i["Type"] for i in everything} == {"Movie", "Series"}


async def test_latest_episodes_are_grouped_under_their_series(
    http: httpx.AsyncClient, lib: JellyfinLibrary, clock: VirtualClock
) -> None:
    breaking_bad = lib.series_by_tmdb(1396)
    assert breaking_bad is not None
    clock.advance(60)
    lib.add_episodes(126308, 1, [1, 2])
    params = {"userId": lib.admin_user_id, "parentId": lib.shows_folder.id}
    body = (await http.get("/Items/Latest", params=params, headers=AUTH)).json()
    # Several new episodes of one show come back as the series with ChildCount; placeholders do not count.
    assert [(i["Name"], i["Type"], i["ChildCount"]) for i in body] == [
        ("Shōgun", "Series", 2),
        ("Breaking Bad", "Series", 10),
    ]
    clock.advance(60)
    lib.add_episode(1396, 2, 4)
    body = (await http.get("/Items/Latest", params=params, headers=AUTH)).json()
    # A lone new episode comes back as itself, naming its series; only shows with something as new stay listed.
    shogun = lib.series_by_tmdb(126308)
    assert shogun is not None
    assert [(i["Type"], i.get("SeriesId"), i["ChildCount"]) for i in body] == [
        ("Episode", breaking_bad.id, 0),
        ("Series", None, 2),
    ]
    assert body[1]["Id"] == shogun.id
    ungrouped = (
        await http.get("/Items/Latest", params={**params, "groupItems": "false", "limit": 3}, headers=AUTH)
    ).json()
    assert [(i["SeriesName"], i["ParentIndexNumber"], i["IndexNumber"]) for i in ungrouped] == [
        ("Breaking Bad", 2, 4),
        ("Shōgun", 1, 2),
        ("Shōgun", 1, 1),
    ]
    bad = await http.get("/Items/Latest", params={**params, "limit": "many"}, headers=AUTH)
    assert bad.status_code == 400 and "limit" in bad.json()["errors"]


# ----- scans, paths, tasks ------------------------------------------------------------------------------------------


async def test_refresh_queues_a_scan_that_finds_staged_files(
    http: httpx.AsyncClient, lib: JellyfinLibrary, clock: VirtualClock
) -> None:
    path = lib.stage_movie(10331)
    assert path == "/media/movies/Night of the Living Dead (1968)/Night of the Living Dead (1968).mkv"
    assert lib.movie_by_tmdb(10331) is None
    response = await http.post("/Library/Refresh", headers=AUTH)
    assert response.status_code == 204 and response.content == b""
    assert lib.refresh_count == 1
    tasks = (await http.get("/ScheduledTasks", headers=AUTH)).json()
    scan = next(t for t in tasks if t["Key"] == "RefreshLibrary")
    assert scan["State"] == "Running" and scan["Name"] == "Scan Media Library"
    assert lib.movie_by_tmdb(10331) is None  # not before the scan ends
    clock.advance(lib.scan_duration_s)
    found = await items(http, "recursive=true&includeItemTypes=Movie&fields=ProviderIds,Path")
    assert path in [i.get("Path") for i in found["Items"]]
    scan = next(t for t in (await http.get("/ScheduledTasks", headers=AUTH)).json() if t["Key"] == "RefreshLibrary")
    assert scan["State"] == "Idle" and scan["LastExecutionResult"]["Status"] == "Completed"
    assert lib.scans_completed == 1


async def test_media_updated_records_paths_and_scans_after_the_monitor_delay(
    http: httpx.AsyncClient, lib: JellyfinLibrary, clock: VirtualClock
) -> None:
    (ep6,) = lib.stage_episodes(1396, 2, [6])
    body = {"Updates": [{"Path": ep6, "UpdateType": "Created"}, {"Path": "/elsewhere/x.mkv", "UpdateType": "Created"}]}
    response = await http.post("/Library/Media/Updated", json=body, headers=AUTH)
    assert response.status_code == 204
    assert lib.media_updated_paths == [ep6, "/elsewhere/x.mkv"]
    assert [u.accepted for u in lib.media_updates] == [True, False]
    clock.advance(lib.monitor_delay_s - 1)
    assert not lib.has_episode(1396, 2, 6)
    clock.advance(1)
    series = lib.series_by_tmdb(1396)
    assert series is not None
    present = (await http.get(f"/Shows/{series.id}/Episodes?season=2&isMissing=false", headers=AUTH)).json()
    assert [i["IndexNumber"] for i in present["Items"]] == [1, 2, 3, 6]
    assert lib.refresh_count == 0


async def test_media_updated_rejects_a_null_path(http: httpx.AsyncClient, lib: JellyfinLibrary) -> None:
    response = await http.post("/Library/Media/Updated", json={"Updates": [{"UpdateType": "Created"}]}, headers=AUTH)
    assert response.status_code == 400
    assert lib.media_updates == []
    assert (await http.post("/Library/Media/Updated", json={"Updates": []})).status_code == 401


async def test_run_task_by_id(http: httpx.AsyncClient, lib: JellyfinLibrary) -> None:
    tasks = (await http.get("/ScheduledTasks", headers=AUTH)).json()
    assert {"RefreshLibrary", "RefreshPeople"} <= {t["Key"] for t in tasks}
    scan_id = next(t["Id"] for t in tasks if t["Key"] == "RefreshLibrary")
    assert (await http.post(f"/ScheduledTasks/Running/{scan_id}", headers=AUTH)).status_code == 204
    assert lib.scan_running and lib.task_runs == ["RefreshLibrary"]
    missing = await http.post(f"/ScheduledTasks/Running/{'f' * 32}", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["title"] == "Not Found"
    one = (await http.get(f"/ScheduledTasks/{scan_id}", headers=AUTH)).json()
    assert one["State"] == "Running" and 0 <= one["CurrentProgressPercentage"] <= 100


async def test_virtual_folders_name_the_roots(http: httpx.AsyncClient) -> None:
    folders = (await http.get("/Library/VirtualFolders", headers=AUTH)).json()
    assert [(f["Name"], f["Locations"], f["CollectionType"]) for f in folders] == [
        ("Movies", ["/media/movies"], "movies"),
        ("Shows", ["/media/shows"], "tvshows"),
    ]


# ----- routing and faults -------------------------------------------------------------------------------------------


async def test_routes_ignore_case_and_unknown_paths_are_empty_404s(http: httpx.AsyncClient) -> None:
    assert (await http.get("/items?recursive=true", headers=AUTH)).status_code == 200
    assert (await http.get("/system/info/public")).status_code == 200
    unknown = await http.get("/Items/Filters2/Nope", headers=AUTH)
    assert unknown.status_code == 404 and unknown.content == b""
    wrong_method = await http.delete("/Library/Refresh", headers=AUTH)
    assert wrong_method.status_code == 405 and wrong_method.content == b""


async def test_fault_injection_is_installed(http: httpx.AsyncClient, app_and_lib: tuple[Any, JellyfinLibrary]) -> None:
    control = app_and_lib[0].state.sandbox
    control.queue("too_many")
    response = await http.get("/System/Info/Public")
    assert response.status_code == 429 and response.content == b""
    assert control.count("GET", r"^/System/Info/Public$") == 1


# ----- helpers ------------------------------------------------------------------------------------------------------


async def test_helpers_add_multi_episode_files_over_placeholders(lib: JellyfinLibrary) -> None:
    series = lib.series_by_tmdb(1396)
    assert series is not None
    double = lib.add_episode(1396, 2, 4, episode_end=5)
    assert double.index_number_end == 5 and double.path is not None and "S02E04-E05" in double.path
    season2 = [e for e in lib.episodes_of(series.id) if e.parent_index_number == 2]
    assert [(e.index_number, e.virtual) for e in season2] == [(1, False), (2, False), (3, False), (4, False)]
    assert lib.has_episode(1396, 2, 5) and not lib.has_episode(1396, 2, 6)
    lib.remove(series.id)
    assert lib.series_by_tmdb(1396) is None and lib.of_kind("Episode") == []


async def test_new_series_get_their_own_folder_and_seasons(lib: JellyfinLibrary) -> None:
    lib.add_episodes(126308, 1, [1, 2])
    show = lib.series_by_tmdb(126308)
    assert show is not None and show.path == "/media/shows/Shōgun (2024)"
    assert show.provider_ids == {"Tmdb": "126308", "Imdb": "tt2788316", "Tvdb": "389040"}
    assert [e.index_number for e in lib.episodes_of(show.id)] == [1, 2]
    with pytest.raises(KeyError):
        lib.add_movie(999999)
