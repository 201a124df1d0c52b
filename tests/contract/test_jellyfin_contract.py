"""Every JellyfinClient call, and the emulator's answers, checked against Jellyfin's 10.11.11 OpenAPI document.

One deliberate relaxation: the spec marks ids `format: uuid`, which the validator reads as the dashed form only,
while Jellyfin writes GUIDs as 32 hex digits without dashes (`JsonGuidConverter`, "N" format) and accepts both on
input. The spec used here accepts both forms for `uuid`; everything else is checked as written.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from openapi_core import Config, OpenAPI

from seerbridge.config import JellyfinSettings
from seerbridge.errors import NotFound
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.jellyfin import create_app
from seerbridge.sandbox.jellyfin_library import JellyfinLibrary
from seerbridge.sandbox.scenario import Scenario
from seerbridge.services.jellyfin import JellyfinClient
from tests.contract.openapi import ContractRecorder, HttpxOpenAPIRequest, jellyfin_spec

HOST = "http://localhost"  # the spec's only server
_GUID = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _is_jellyfin_guid(value: object) -> bool:
    return not isinstance(value, str) or _GUID.fullmatch(value) is not None


@contextlib.asynccontextmanager
async def raw_client(recorder: ContractRecorder) -> AsyncIterator[httpx.AsyncClient]:
    # ContractRecorder is a duck-typed transport without __aenter__, so the client is closed by hand.
    http = httpx.AsyncClient(transport=recorder, base_url="http://jellyfin.sandbox")  # type: ignore[arg-type]
    try:
        yield http
    finally:
        await http.aclose()


@functools.cache
def spec() -> OpenAPI:
    """The cached Jellyfin spec, re-wrapped (no reload) with a `uuid` format that also accepts the N form."""
    return OpenAPI(
        jellyfin_spec().spec,
        config=Config(spec_validator_cls=None, extra_format_validators={"uuid": _is_jellyfin_guid}),
    )


@pytest.fixture
def jf_app(starter: Scenario) -> tuple[httpx.ASGITransport, JellyfinLibrary, VirtualClock]:
    clock = VirtualClock(datetime(2026, 11, 24, 12, tzinfo=UTC), speed=0)
    app = create_app(starter, clock)
    return httpx.ASGITransport(app=app), app.state.emulator, clock


@pytest.fixture
def recorder(jf_app: tuple[httpx.ASGITransport, JellyfinLibrary, VirtualClock]) -> ContractRecorder:
    return ContractRecorder(jf_app[0], spec(), host_url=HOST)


@pytest.fixture
async def client(recorder: ContractRecorder, starter: Scenario) -> AsyncIterator[JellyfinClient]:
    settings = JellyfinSettings(url="http://jellyfin.sandbox", api_key=starter.keys["jellyfin"])
    async with JellyfinClient(settings, transport=recorder) as jf:
        yield jf


async def test_every_client_call_matches_the_spec(
    client: JellyfinClient,
    recorder: ContractRecorder,
    jf_app: tuple[httpx.ASGITransport, JellyfinLibrary, VirtualClock],
) -> None:
    _, lib, clock = jf_app
    lib.add_movie(438631, width=3840, height=2160)
    lib.add_episode(1396, 2, 6, episode_end=7)

    await client.public_info()
    await client.system_info()
    await client.virtual_folders()
    await client.check()
    await client.items(["Movie", "Series", "Season", "Episode"], page_size=5)
    await client.items(
        ["Movie"],
        fields=("ProviderIds", "Path", "MediaSources", "DateCreated", "SortName", "Width", "Height"),
        has_tmdb_id=True,
        has_imdb_id=True,
        has_tvdb_id=False,
        search_term="dune",
        years=[2021],
        is_missing=False,
        parent_id=lib.movies_folder.id,
    )
    movie = await client.find_movie(tmdb_id=603, imdb_id="tt0133093")
    series = await client.find_series(tmdb_id=1396, tvdb_id=81189, imdb_id="tt0903747")
    assert movie is not None and series is not None
    await client.get_item(movie.id)
    assert len(await client.episodes(series.id, page_size=4)) == 7 + 3 + 2
    with pytest.raises(NotFound):
        await client.episodes("ab" * 16)
    await client.refresh_library()
    running = await client.scan_task()  # while the scan runs: State Running, a progress value
    assert running is not None
    clock.advance(lib.scan_duration_s)
    await client.scan_task()  # afterwards: a LastExecutionResult
    await client.run_task(running.id)
    with pytest.raises(NotFound):
        await client.run_task("f" * 32)
    await client.media_updated(["/media/shows/Breaking Bad (2008)/Season 02/Breaking Bad S02E06-E07.mkv"])

    recorder.assert_clean()
    called = {label.split(" ", 1)[0] + " " + re.sub(r"[0-9a-f]{32}", "{id}", label.split(" ", 1)[1])
              for label in recorder.checked}  # fmt: skip
    assert called == {
        "GET /System/Info/Public",
        "GET /System/Info",
        "GET /Library/VirtualFolders",
        "GET /Items",
        "GET /Items/{id}",
        "GET /Shows/{id}/Episodes",
        "POST /Library/Refresh",
        "GET /ScheduledTasks",
        "POST /ScheduledTasks/Running/{id}",
        "POST /Library/Media/Updated",
    }


async def test_emulator_answers_to_raw_calls_match_the_spec(
    recorder: ContractRecorder, jf_app: tuple[httpx.ASGITransport, JellyfinLibrary, VirtualClock], starter: Scenario
) -> None:
    """Endpoints and answers the client does not use yet (seasons, a 401, fields the client never asks for)."""
    _, lib, _ = jf_app
    series = lib.series_by_tmdb(1396)
    assert series is not None
    auth = {"Authorization": f'MediaBrowser Token="{starter.keys["jellyfin"]}"'}
    async with raw_client(recorder) as http:
        every_field = "&".join(f"fields={f}" for f in ("ChildCount", "RecursiveItemCount", "ParentId", "Etag", "IsHD"))
        assert (await http.get(f"/Items?recursive=true&{every_field}", headers=auth)).status_code == 200
        assert (await http.get(f"/Shows/{series.id}/Seasons?fields=Path", headers=auth)).status_code == 200
        assert (await http.get(f"/Shows/{'ab' * 16}/Seasons", headers=auth)).status_code == 404
        assert (await http.get(f"/ScheduledTasks/{lib.task('RefreshLibrary').id}", headers=auth)).status_code == 200
        assert (await http.get("/Items")).status_code == 401
    # The 401 request itself lacks credentials, which the validator rightly reports; its answer must still fit.
    assert [v for v in recorder.violations if not v.startswith("request GET /Items:")] == []
    assert len(recorder.checked) == 5


async def test_the_validator_reports_wrong_requests(
    recorder: ContractRecorder, starter: Scenario
) -> None:  # fmt: skip
    auth = {"Authorization": f'MediaBrowser Token="{starter.keys["jellyfin"]}"'}
    async with raw_client(recorder) as http:
        await http.get("/Items?recursive=true")  # no Authorization header
        await http.get("/Items?recursive=maybe", headers=auth)
        await http.get("/Items/Nowhere/AtAll", headers=auth)
        await http.get("/Items?fields=ProviderIds,Path", headers=auth)  # the spec wants fields repeated
    assert len(recorder.violations) >= 4
    joined = "\n".join(recorder.violations)
    assert "request GET /Items: SecurityValidationError" in joined
    assert "recursive" in joined and "maybe" in joined
    assert "request GET /Items/Nowhere/AtAll" in joined
    assert "ProviderIds,Path" in joined
    with pytest.raises(AssertionError, match="contract violations"):
        recorder.assert_clean()


def test_the_unrelaxed_spec_rejects_n_format_ids() -> None:
    """Why the uuid format is relaxed: the spec as read by the validator refuses the ids Jellyfin really sends."""
    request = httpx.Request("GET", f"{HOST}/Shows/{'ab' * 16}/Episodes", headers={"Authorization": "MediaBrowser x"})
    with pytest.raises(Exception, match="seriesId"):
        jellyfin_spec().validate_request(HttpxOpenAPIRequest(request, host_url=HOST))
    spec().validate_request(HttpxOpenAPIRequest(request, host_url=HOST))


async def test_latest_items_as_seerr_asks_for_them_match_the_spec(
    recorder: ContractRecorder, jf_app: tuple[httpx.ASGITransport, JellyfinLibrary, VirtualClock], starter: Scenario
) -> None:
    """`GET /Items/Latest` as Seerr's recently-added scan calls it, once per library, and with fields and types."""
    _, lib, clock = jf_app
    clock.advance(60)
    lib.add_episodes(126308, 1, [1, 2])
    auth = {"Authorization": f'MediaBrowser Token="{starter.keys["jellyfin"]}"'}
    async with raw_client(recorder) as http:
        for folder in (lib.movies_folder, lib.shows_folder):
            query = f"Limit=12&ParentId={folder.id}&userId={lib.admin_user_id}"
            answer = await http.get(f"/Items/Latest?{query}", headers=auth)
            assert answer.status_code == 200 and answer.json()
        typed = f"userId={lib.admin_user_id}&includeItemTypes=Episode&fields=ProviderIds&groupItems=false"
        assert (await http.get(f"/Items/Latest?{typed}", headers=auth)).status_code == 200
    recorder.assert_clean()
    assert len(recorder.checked) == 3
