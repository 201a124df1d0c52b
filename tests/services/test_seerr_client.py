"""SeerrClient against the Seerr emulator: paging, models, writes, health check and how failures surface."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest

from seerbridge.config import SeerrSettings
from seerbridge.errors import AuthenticationError, BadResponse, NotFound, RequestRejected, ServiceUnavailable
from seerbridge.redact import redact
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.middleware import SandboxControl
from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.seerr import create_app
from seerbridge.sandbox.seerr_state import SeerrState
from seerbridge.services.calls import CallLedger
from seerbridge.services.seerr import MediaRequestStatus, MediaStatus, SeerrClient


class Emulator:
    def __init__(self, scenario: Scenario) -> None:
        assert scenario.today is not None
        self.clock = VirtualClock(datetime(2026, 11, 24, 12, tzinfo=UTC), speed=0)
        self.app = create_app(scenario, self.clock)
        self.state: SeerrState = self.app.state.emulator
        self.control: SandboxControl = self.app.state.sandbox
        self.transport = httpx.ASGITransport(app=self.app)
        self.key = scenario.keys["seerr"]

    def client(self, *, key: str | None = None, transport: httpx.AsyncBaseTransport | None = None) -> SeerrClient:
        settings = SeerrSettings(url="http://seerr.sandbox", api_key=key or self.key, timeout_s=2.0, retries=3)
        return SeerrClient(settings, transport=transport or self.transport, ledger=CallLedger())


@pytest.fixture
def emulator(starter: Scenario) -> Emulator:
    return Emulator(starter)


@pytest.fixture
async def seerr(emulator: Emulator) -> AsyncIterator[SeerrClient]:
    async with emulator.client() as client:
        yield client


async def test_requests_follow_every_page_and_count_each_call(seerr: SeerrClient) -> None:
    everything = await seerr.requests(filter="all", page_size=2)
    assert [r.id for r in everything] == [1, 2, 3, 4, 5]
    assert seerr.ledger.by_endpoint("seerr") == {"requests": 3}
    approved = await seerr.requests()
    assert [r.id for r in approved] == [1, 2, 3]
    assert all(r.status is MediaRequestStatus.APPROVED for r in approved)
    assert [r.id for r in await seerr.requests(filter="pending", media_type="tv")] == [4]
    assert [r.id for r in await seerr.requests(filter="all", requested_by=3)] == [2]


async def test_paging_sees_requests_added_meanwhile_once(emulator: Emulator) -> None:
    """A request created while we page lands after the cursor (oldest-first order) and is not missed or doubled."""
    calls = 0

    class AddDuringPaging(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal calls
            calls += 1
            if calls == 2:
                emulator.state.decline(4)
                emulator.state.add_request(126308, seasons=[1], approved=True)
            return await emulator.transport.handle_async_request(request)

    async with emulator.client(transport=AddDuringPaging()) as client:
        got = await client.requests(filter="all", page_size=2)
    assert [r.id for r in got] == [1, 2, 3, 4, 5, 6]


async def test_request_models_parse_enums_dates_and_seasons(seerr: SeerrClient) -> None:
    bb = await seerr.request(3)
    assert bb.media_type == "tv" and bb.tmdb_id == 1396 and bb.media.id == 4
    assert bb.media.tvdb_id == 81189 and bb.media.imdb_id is None  # Seerr's media rows for shows never have one
    assert bb.season_numbers == [1, 2]
    assert [s.status for s in bb.seasons] == [MediaRequestStatus.COMPLETED, MediaRequestStatus.APPROVED]
    assert bb.media.status is MediaStatus.PARTIALLY_AVAILABLE
    season_two = bb.media.season(2)
    assert season_two is not None and season_two.status is MediaStatus.PARTIALLY_AVAILABLE
    assert bb.created_at.tzinfo is not None and bb.created_at < datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert bb.requested_by is not None and bb.requested_by.display_name == "alice"
    movie = await seerr.request(1)
    assert movie.media_type == "movie" and movie.seasons == [] and movie.media.tvdb_id is None


async def test_details_give_ids_dates_seasons_and_episodes(seerr: SeerrClient) -> None:
    movie = await seerr.movie(10331)
    assert movie.imdb_id == "tt0063350" and movie.year == 1968 and movie.release_date == date(1968, 10, 1)
    assert movie.media_info is not None and movie.media_info.status is MediaStatus.PROCESSING
    show = await seerr.tv(1396)
    assert (show.imdb_id, show.tvdb_id, show.year) == ("tt0903747", 81189, 2008)
    assert [(s.season_number, s.episode_count) for s in show.seasons] == [(0, 1), (1, 7), (2, 13)]
    assert show.season(0) is not None and show.season(0).name == "Specials"  # type: ignore[union-attr]
    season = await seerr.season(1396, 2)
    assert [e.episode_number for e in season.episodes] == list(range(1, 14))
    assert season.episodes[3].air_date == date(2009, 3, 29)
    shogun_two = await seerr.season(126308, 2)
    assert not shogun_two.episodes[0].aired(date(2026, 11, 24))


async def test_unknown_ids_raise_never_return_empty(seerr: SeerrClient) -> None:
    with pytest.raises(NotFound) as missing:
        await seerr.request(999)
    assert missing.value.message == "Request not found."
    seerr.ledger.counts.clear()
    with pytest.raises(ServiceUnavailable) as unknown:
        await seerr.movie(1)
    assert unknown.value.status == 500 and unknown.value.message == "Unable to retrieve movie."
    assert seerr.ledger.by_endpoint("seerr") == {"movie": 3}  # a 500 is retried; Seerr cannot say "not found"


async def test_outage_raises_instead_of_an_empty_list(emulator: Emulator, seerr: SeerrClient) -> None:
    emulator.control.queue("error", 3)
    with pytest.raises(ServiceUnavailable):
        await seerr.requests()
    emulator.control.queue("error", 1)
    assert len(await seerr.requests()) == 3  # one failure is retried away
    emulator.control.queue("malformed", 3)
    with pytest.raises(BadResponse):
        await seerr.media()


async def test_wrong_key_is_an_authentication_error_and_the_key_is_redacted(emulator: Emulator) -> None:
    async with emulator.client(key="not-the-right-key-000") as client:
        assert (await client.status()).version == "3.1.0"  # public
        with pytest.raises(AuthenticationError) as refused:
            await client.requests()
    assert refused.value.status == 403
    assert refused.value.error == "You do not have permission to access this endpoint"
    assert redact("key=not-the-right-key-000") == "key=***"


async def test_set_media_status_completes_requests_in_seerr(seerr: SeerrClient, emulator: Emulator) -> None:
    bb = await seerr.request(3)
    media = await seerr.set_media_status(bb.media.id, "available", seasons=[2, 1, 2])
    assert media.status is MediaStatus.AVAILABLE
    assert {s.season_number: s.status for s in media.seasons} == {1: MediaStatus.AVAILABLE, 2: MediaStatus.AVAILABLE}
    assert (await seerr.request(3)).status is MediaRequestStatus.COMPLETED
    four_k = await seerr.set_media_status(1, "processing", is4k=True)
    assert four_k.status4k is MediaStatus.PROCESSING
    with pytest.raises(RequestRejected) as partial:
        await seerr.set_media_status(1, "partial")
    assert "Only series can be set to be partially available" in str(partial.value)


async def test_media_lists_every_page(seerr: SeerrClient) -> None:
    rows = await seerr.media(page_size=2)
    assert sorted(m.id for m in rows) == [1, 2, 3, 4, 5]
    assert seerr.ledger.by_endpoint("seerr") == {"media": 3}
    available = await seerr.media(filter="allavailable")
    assert {m.tmdb_id for m in available} == {603, 1396}


async def test_jobs_and_run_job(seerr: SeerrClient, emulator: Emulator) -> None:
    jobs = {j.id: j for j in await seerr.jobs()}
    assert jobs["jellyfin-recently-added-scan"].interval == "minutes"
    assert jobs["jellyfin-recently-added-scan"].next_execution_time == datetime(2026, 11, 24, 12, 5, tzinfo=UTC)
    ran = await seerr.run_job("jellyfin-recently-added-scan")
    assert ran.id == "jellyfin-recently-added-scan" and not ran.running
    assert [r.job_id for r in emulator.state.job_runs] == ["jellyfin-recently-added-scan"]
    with pytest.raises(NotFound):
        await seerr.run_job("no-such-job")


async def test_check_reports_version_and_request_count(seerr: SeerrClient, emulator: Emulator) -> None:
    check = await seerr.check()
    assert check.ok and check.service == "seerr" and check.version == "3.1.0"
    assert check.details == {"requests": "5"}
    async with emulator.client(key="wrong-key-abcdef") as client:
        with pytest.raises(AuthenticationError):
            await client.check()


async def test_sends_the_api_key_header_and_api_prefix(emulator: Emulator) -> None:
    seen: list[httpx.Request] = []

    class Spy(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return await emulator.transport.handle_async_request(request)

    async with emulator.client(transport=Spy()) as client:
        await client.requests(page_size=7)
    assert str(seen[0].url).startswith("http://seerr.sandbox/api/v1/request?")
    assert seen[0].url.params["take"] == "7" and seen[0].url.params["sortDirection"] == "asc"
    assert seen[0].headers["x-api-key"] == emulator.key


async def test_one_odd_item_is_skipped_but_an_unreadable_page_raises(emulator: Emulator, seerr: SeerrClient) -> None:
    good = (await seerr.request(1)).model_dump(by_alias=True, mode="json")
    good["type"] = "movie"
    odd = {**good, "id": 2, "type": "music", "media": {**good["media"], "mediaType": "music"}}

    def page(*items: object) -> httpx.MockTransport:
        body = {"pageInfo": {"pages": 1, "pageSize": 50, "results": len(items), "page": 1}, "results": list(items)}
        return httpx.MockTransport(lambda request: httpx.Response(200, json=body))

    async with emulator.client(transport=page(good, odd)) as client:
        assert [r.id for r in await client.requests()] == [1]
    async with emulator.client(transport=page(odd)) as client:
        with pytest.raises(BadResponse) as unreadable:
            await client.requests()
    assert "media_type" in unreadable.value.message or "type" in unreadable.value.message


async def test_list_items_have_no_media_seasons_but_keep_their_own(seerr: SeerrClient) -> None:
    """`GET /request` joins the media row without its seasons; what a request asked for is in its own `seasons`."""
    listed = {r.id: r for r in await seerr.requests(filter="all")}
    assert all(r.media.seasons == [] for r in listed.values())
    assert listed[3].season_numbers == [1, 2] and listed[4].season_numbers == [1]
    assert listed[3].media.status is MediaStatus.PARTIALLY_AVAILABLE


async def test_imdb_id_comes_from_the_details_not_the_media_row(seerr: SeerrClient) -> None:
    request = await seerr.request(1)
    assert request.media.imdb_id is None
    assert (await seerr.movie(request.tmdb_id)).imdb_id == "tt0063350"
    show = await seerr.request(3)
    assert show.media.imdb_id is None and (await seerr.tv(show.tmdb_id)).imdb_id == "tt0903747"


async def test_requests_seerr_failed_are_listed_with_the_failed_filter(starter: Scenario) -> None:
    """Seerr marks an approved request FAILED (4) when its Sonarr/Radarr does not answer; they stay listable."""
    scenario = starter.model_copy(update={"seerr": starter.seerr.model_copy(update={"sonarr": "unreachable"})})
    emulator = Emulator(scenario)
    emulator.state.approve(4)
    async with emulator.client() as seerr:
        failed = await seerr.requests(filter="failed")
        assert [(r.id, r.status, r.media_type, r.season_numbers) for r in failed] == [
            (4, MediaRequestStatus.FAILED, "tv", [1])
        ]
        assert failed[0].media.status is MediaStatus.PROCESSING
        assert [s.status for s in failed[0].seasons] == [MediaRequestStatus.APPROVED]
        assert [r.id for r in await seerr.requests(filter="approved")] == [1, 2, 3]
        assert (await seerr.request(4)).status is MediaRequestStatus.FAILED
