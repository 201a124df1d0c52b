"""JellyfinClient against the Jellyfin emulator: auth, paging, provider-id matching, episodes, scans, failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from seerbridge import __version__
from seerbridge.config import JellyfinSettings
from seerbridge.errors import (
    AuthenticationError,
    BadResponse,
    NotFound,
    ServiceTimeout,
    ServiceUnavailable,
    ServiceUnreachable,
)
from seerbridge.redact import redact
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.jellyfin import create_app
from seerbridge.sandbox.jellyfin_library import JellyfinLibrary
from seerbridge.sandbox.middleware import FaultPlan, SandboxControl
from seerbridge.sandbox.scenario import Scenario
from seerbridge.services.calls import CallLedger
from seerbridge.services.jellyfin import (
    EpisodeFile,
    Item,
    JellyfinClient,
    TaskState,
    expand_episodes,
    match_provider_ids,
    read_problem_details,
)

BASE = "http://jellyfin.sandbox"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(datetime(2026, 11, 24, 12, tzinfo=UTC), speed=0)


@pytest.fixture
def app(starter: Scenario, clock: VirtualClock) -> FastAPI:
    return create_app(starter, clock)


@pytest.fixture
def lib(app: FastAPI) -> JellyfinLibrary:
    library: JellyfinLibrary = app.state.emulator
    return library


@pytest.fixture
def control(app: FastAPI) -> SandboxControl:
    sandbox: SandboxControl = app.state.sandbox
    return sandbox


def make_client(app: FastAPI, key: str, **settings: Any) -> JellyfinClient:
    config = JellyfinSettings(url=BASE, api_key=key, **settings)
    return JellyfinClient(config, transport=httpx.ASGITransport(app=app), ledger=CallLedger())


@pytest.fixture
async def client(app: FastAPI, starter: Scenario) -> AsyncIterator[JellyfinClient]:
    async with make_client(app, starter.keys["jellyfin"]) as jf:
        yield jf


# ----- server and credentials ---------------------------------------------------------------------------------------


async def test_sends_the_mediabrowser_header(starter: Scenario) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ServerName": "x", "Version": "10.11.11"})

    settings = JellyfinSettings(url=BASE + "/jellyfin", api_key=starter.keys["jellyfin"])
    async with JellyfinClient(settings, transport=httpx.MockTransport(handler)) as jf:
        await jf.system_info()
    (request,) = seen
    assert str(request.url) == BASE + "/jellyfin/System/Info"  # a base path is kept
    assert request.headers["Authorization"] == (
        f'MediaBrowser Client="seerbridge", Device="seerbridge", DeviceId="seerbridge", Version="{__version__}", '
        f'Token="{starter.keys["jellyfin"]}"'
    )
    assert "X-Emby-Token" not in request.headers


async def test_public_and_system_info(client: JellyfinClient) -> None:
    public = await client.public_info()
    assert (public.server_name, public.version, public.product_name) == (
        "sandbox-jellyfin",
        "10.11.11",
        "Jellyfin Server",
    )
    info = await client.system_info()
    assert info.version == "10.11.11" and info.id == public.id and info.has_pending_restart is False


async def test_check_reports_version_and_library_roots(client: JellyfinClient) -> None:
    check = await client.check()
    assert check.ok and check.service == "jellyfin" and check.version == "10.11.11"
    assert check.details == {
        "server": "sandbox-jellyfin",
        "movies library": "Movies: /media/movies",
        "tvshows library": "Shows: /media/shows",
    }
    assert client.ledger.by_endpoint("jellyfin") == {"Library/VirtualFolders": 1, "System/Info": 1}


async def test_wrong_key_is_an_authentication_error(app: FastAPI) -> None:
    async with make_client(app, "not-the-key-at-all") as jf:
        assert (await jf.public_info()).version == "10.11.11"  # anonymous still works
        with pytest.raises(AuthenticationError) as caught:
            await jf.check()
    assert caught.value.status == 401
    assert "not-the-key-at-all" not in str(caught.value)
    assert redact("key=not-the-key-at-all") == "key=***"  # registered on construction


async def test_works_on_a_server_without_legacy_auth(client: JellyfinClient, lib: JellyfinLibrary) -> None:
    lib.legacy_auth = False
    lib.version = "12.0.0"
    assert (await client.check()).version == "12.0.0"


async def test_unreachable_server_raises(starter: Scenario) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    settings = JellyfinSettings(url=BASE, api_key=starter.keys["jellyfin"])
    async with JellyfinClient(settings, transport=httpx.MockTransport(refuse)) as jf:
        with pytest.raises(ServiceUnreachable):
            await jf.check()


# ----- library listing ----------------------------------------------------------------------------------------------


async def test_items_follow_every_page(client: JellyfinClient, control: SandboxControl) -> None:
    everything = await client.items(["Movie", "Series", "Season", "Episode"], page_size=1000)
    paged = await client.items(["Movie", "Series", "Season", "Episode"], page_size=3)
    assert [i.id for i in paged] == [i.id for i in everything]
    assert len(everything) == 1 + 1 + 2 + 12
    pages = -(-len(everything) // 3)
    assert client.ledger.by_endpoint("jellyfin") == {"items": 1 + pages}
    assert control.count("GET", r"^/Items$") == 1 + pages
    movie = next(i for i in everything if i.type == "Movie")
    assert movie.provider_id("tmdb") == "603" and movie.path and movie.production_year == 1999


async def test_items_pass_filters(client: JellyfinClient, lib: JellyfinLibrary) -> None:
    lib.add_movie(10331)
    old = await client.items(["Movie"], years=[1968])
    assert [i.name for i in old] == ["Night of the Living Dead"]
    present = await client.items(["Episode"], is_missing=False, fields=("Path",))
    assert len(present) == 10 and all(not e.is_virtual for e in present)
    assert all(e.provider_ids == {} for e in present)  # not asked for, not sent


async def test_an_outage_mid_listing_raises_instead_of_returning_less(
    client: JellyfinClient, control: SandboxControl
) -> None:
    control.set_plan(FaultPlan(error_rate=1.0, path_pattern="^/Items$"))
    with pytest.raises(ServiceUnavailable):
        await client.items(["Movie"])
    assert control.count("GET", "^/Items$") == 3  # stamina's test mode allows 3 attempts


async def test_a_malformed_body_is_a_bad_response(client: JellyfinClient, control: SandboxControl) -> None:
    control.queue("malformed", 5)
    with pytest.raises(BadResponse):
        await client.items(["Movie"])


async def test_a_hung_server_times_out(app: FastAPI, starter: Scenario, control: SandboxControl) -> None:
    control.set_plan(FaultPlan(timeout_rate=1.0, hang_s=0.2))
    async with make_client(app, starter.keys["jellyfin"], timeout_s=0.02) as jf:
        with pytest.raises(ServiceTimeout):
            await jf.system_info()


# ----- lookups ------------------------------------------------------------------------------------------------------


async def test_find_movie_by_tmdb_or_imdb(client: JellyfinClient, lib: JellyfinLibrary) -> None:
    lib.add_movie(10331)
    by_tmdb = await client.find_movie(tmdb_id=603)
    by_imdb = await client.find_movie(imdb_id="TT0063350")
    assert by_tmdb is not None and by_tmdb.name == "The Matrix"
    assert by_imdb is not None and by_imdb.name == "Night of the Living Dead"
    assert by_imdb.path == "/media/movies/Night of the Living Dead (1968)/Night of the Living Dead (1968).mkv"
    assert await client.find_movie(tmdb_id=438631) is None
    # A wrong TMDB id does not stop the IMDb id from matching, as Seerr falls back too.
    fallback = await client.find_movie(tmdb_id=1, imdb_id="tt0133093")
    assert fallback is not None and fallback.name == "The Matrix"
    with pytest.raises(ValueError):
        await client.find_movie()


async def test_find_movie_ignores_key_case_and_skips_virtual_items(
    client: JellyfinClient, lib: JellyfinLibrary
) -> None:
    odd = lib.add_movie(438631, provider_ids={"TMDB": "438631", "imdb": "tt1160419"})
    found = await client.find_movie(tmdb_id="438631")
    assert found is not None and found.id == odd.id
    odd.virtual = True
    assert await client.find_movie(tmdb_id=438631) is None


async def test_find_series_by_each_id(client: JellyfinClient) -> None:
    for ids in ({"tmdb_id": 1396}, {"tvdb_id": 81189}, {"imdb_id": "tt0903747"}):
        series = await client.find_series(**ids)
        assert series is not None and series.name == "Breaking Bad" and series.type == "Series", ids
    assert await client.find_series(tmdb_id=126308) is None


async def test_get_item(client: JellyfinClient, lib: JellyfinLibrary) -> None:
    movie = lib.movie_by_tmdb(603)
    assert movie is not None
    item = await client.get_item(movie.id)
    assert item.provider_ids == {"Tmdb": "603", "Imdb": "tt0133093"}
    with pytest.raises(NotFound):
        await client.get_item("0" * 32)


async def test_episodes_are_present_files_only(client: JellyfinClient, lib: JellyfinLibrary) -> None:
    series = lib.series_by_tmdb(1396)
    assert series is not None
    lib.add_episode(1396, 2, 6, episode_end=7)
    episodes = await client.episodes(series.id, page_size=4)
    assert [(e.season, e.episode) for e in episodes] == [(1, n) for n in range(1, 8)] + [
        (2, 1),
        (2, 2),
        (2, 3),
        (2, 6),
        (2, 7),
    ]
    double = [e for e in episodes if e.episode in (6, 7) and e.season == 2]
    assert double[0].path == double[1].path and double[0].path is not None and "S02E06-E07" in double[0].path
    assert client.ledger.by_endpoint("jellyfin") == {"episodes": 3}  # 11 files in pages of 4


async def test_episodes_of_an_unknown_series_is_not_found(client: JellyfinClient) -> None:
    with pytest.raises(NotFound) as caught:
        await client.episodes("ab" * 16)
    assert caught.value.message == "Series not found"


# ----- scans and tasks ----------------------------------------------------------------------------------------------


async def test_refresh_library_queues_a_scan(client: JellyfinClient, lib: JellyfinLibrary, clock: VirtualClock) -> None:
    lib.stage_movie(438631)
    await client.refresh_library()
    assert lib.refresh_count == 1
    task = await client.scan_task()
    assert task is not None and task.state is TaskState.RUNNING and task.name == "Scan Media Library"
    assert await client.find_movie(tmdb_id=438631) is None
    clock.advance(lib.scan_duration_s)
    task = await client.scan_task()
    assert task is not None and task.state is TaskState.IDLE
    assert task.last_execution_result is not None and task.last_execution_result.status == "Completed"
    assert await client.find_movie(tmdb_id=438631) is not None


async def test_media_updated_sends_each_path_once(client: JellyfinClient, lib: JellyfinLibrary) -> None:
    paths = lib.stage_episodes(1396, 2, [6, 7])
    await client.media_updated([*paths, paths[0]])
    assert lib.media_updated_paths == paths
    assert [u.update_type for u in lib.media_updates] == ["Created", "Created"]
    await client.media_updated([])
    assert client.ledger.by_endpoint("jellyfin") == {"Library/Media/Updated": 1}


async def test_scheduled_tasks_and_run_task(client: JellyfinClient, lib: JellyfinLibrary) -> None:
    tasks = await client.scheduled_tasks()
    people = next(t for t in tasks if t.key == "RefreshPeople")
    await client.run_task(people.id)
    assert lib.task_runs == ["RefreshPeople"]
    with pytest.raises(NotFound):
        await client.run_task("f" * 32)


# ----- pure helpers -------------------------------------------------------------------------------------------------


def test_match_provider_ids_prefers_the_order_given() -> None:
    a = Item.model_validate({"Id": "a", "Type": "Series", "ProviderIds": {"Tvdb": "81189"}})
    b = Item.model_validate({"Id": "b", "Type": "Series", "ProviderIds": {"tmdb": "1396", "Tvdb": None}})
    assert match_provider_ids([a, b], order=(("Tmdb", 1396), ("Tvdb", 81189))) is b
    assert match_provider_ids([a, b], order=(("Tmdb", None), ("Tvdb", "81189"))) is a
    assert match_provider_ids([a, b], order=(("Imdb", "tt1"),)) is None
    assert b.provider_ids == {"tmdb": "1396"}


def test_expand_episodes_drops_placeholders_and_unnumbered_items() -> None:
    raw = [
        {"Id": "1", "Type": "Episode", "ParentIndexNumber": 1, "IndexNumber": 3, "IndexNumberEnd": 4, "Path": "/a"},
        {"Id": "2", "Type": "Episode", "ParentIndexNumber": 1, "IndexNumber": 5, "LocationType": "Virtual"},
        {"Id": "3", "Type": "Episode", "ParentIndexNumber": 1, "Path": "/unnumbered"},
        {"Id": "4", "Type": "Episode", "ParentIndexNumber": 0, "IndexNumber": 1, "IndexNumberEnd": 1, "Path": "/s"},
        {"Id": "5", "Type": "Episode", "ParentIndexNumber": 1, "IndexNumber": 4, "Path": "/dup"},
    ]
    files = expand_episodes(Item.model_validate(r) for r in raw)
    assert files == [
        EpisodeFile(0, 1, "/s", "4"),
        EpisodeFile(1, 3, "/a", "1"),
        EpisodeFile(1, 4, "/a", "1"),
    ]


def test_read_problem_details() -> None:
    problem = httpx.Response(404, json={"type": "t", "title": "Not Found", "status": 404, "detail": "Series not found"})
    assert read_problem_details(problem).message == "Series not found"
    assert read_problem_details(problem).error == "Not Found"
    invalid = httpx.Response(400, json={"title": "One or more validation errors occurred.", "errors": {"x": ["bad"]}})
    assert read_problem_details(invalid).message == "x: bad"
    assert read_problem_details(httpx.Response(401)).message == ""
    assert read_problem_details(httpx.Response(400, text="Value cannot be null.")).message == "Value cannot be null."
