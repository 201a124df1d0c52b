"""The Real-Debrid client against the emulator: every method, typed errors, paging, and no token in any output."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import stamina
from fastapi import FastAPI
from pydantic import SecretStr

from seerbridge.config import RealDebridSettings
from seerbridge.errors import (
    AuthenticationError,
    BadResponse,
    NotFound,
    RateLimited,
    RequestRejected,
    ServiceError,
    ServiceTimeout,
    ServiceUnavailable,
)
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.middleware import FaultPlan
from seerbridge.sandbox.realdebrid import create_app
from seerbridge.sandbox.realdebrid_state import RealDebridState
from seerbridge.sandbox.scenario import ReleaseSpec, Scenario
from seerbridge.services.calls import CallLedger
from seerbridge.services.realdebrid import (
    RdErrorCode,
    RealDebridClient,
    Torrent,
    TorrentInfo,
    TorrentStatus,
    is_disabled_endpoint,
    is_infringing,
    is_too_many_active,
    is_unknown_resource,
    magnet_uri,
)
from tests.realdebrid_world import with_account

URL = "http://realdebrid.sandbox/rest/1.0"
UNKNOWN_HASH = "0123456789abcdef0123456789abcdef01234567"
MakeClient = Callable[..., RealDebridClient]


def release(scenario: Scenario, prefix: str) -> ReleaseSpec:
    return next(r for r in scenario.releases if r.name.startswith(prefix))


@pytest.fixture
async def make_client(starter: Scenario) -> AsyncIterator[MakeClient]:
    made: list[RealDebridClient] = []

    def make(app: FastAPI, *, token: str | None = None, ledger: CallLedger | None = None) -> RealDebridClient:
        settings = RealDebridSettings(url=URL, api_key=SecretStr(token or starter.keys["realdebrid"]))
        # The no-burst limiter would pace these tests at 4 calls/s; the emulator's own limit is tested elsewhere.
        settings = settings.model_copy(update={"rate_limit_per_min": 0})
        client = RealDebridClient(settings, transport=httpx.ASGITransport(app=app), ledger=ledger)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
def rd(make_client: MakeClient, app: FastAPI) -> RealDebridClient:
    return make_client(app)


# ----- account -----


async def test_user_and_active_count(rd: RealDebridClient) -> None:
    user = await rd.user()
    assert user.username == "sandbox" and user.is_premium
    assert user.premium_days == pytest.approx(120)
    assert user.expiration == datetime(2027, 3, 24, 12, 0, tzinfo=UTC)
    active = await rd.active_count()
    assert (active.nb, active.limit, active.free) == (0, 25, 25)
    assert [h.host for h in await rd.available_hosts()] == ["real-debrid.com"]


async def test_check_reports_user_premium_and_slots(rd: RealDebridClient) -> None:
    check = await rd.check()
    assert check.ok and check.service == "realdebrid"
    assert check.details == {"username": "sandbox", "premium": "120 days left", "active slots": "0/25"}


async def test_check_flags_an_account_without_premium(
    make_client: MakeClient, starter: Scenario, clock: VirtualClock
) -> None:
    rd = make_client(create_app(with_account(starter, premium_days=0), clock))
    check = await rd.check()
    assert not check.ok and "premium" in check.problems[0]
    assert check.details["premium"] == "none"


async def test_bad_token_is_an_authentication_error(make_client: MakeClient, app: FastAPI) -> None:
    rd = make_client(app, token="WRONGTOKEN-0123456789")
    with pytest.raises(AuthenticationError) as caught:
        await rd.check()
    assert caught.value.status == 401 and caught.value.error_code == RdErrorCode.BAD_TOKEN
    assert "bad_token (8)" in str(caught.value)
    assert "WRONGTOKEN" not in str(caught.value)


# ----- listing -----


async def test_torrents_follows_every_page(make_client: MakeClient, app: FastAPI, state: RealDebridState) -> None:
    for n in range(250):
        state.add_torrent(f"{n:040x}", status="downloaded")
    ledger = CallLedger()
    rd = make_client(app, ledger=ledger)
    torrents = await rd.torrents(page_size=100)
    assert [t.id for t in torrents] == [t.id for t in state.listing()]
    assert len({t.id for t in torrents}) == 251
    assert ledger.by_endpoint("realdebrid") == {"torrents": 3}
    assert all(isinstance(t, Torrent) and t.status is TorrentStatus.DOWNLOADED for t in torrents)


async def test_iterating_can_stop_after_one_page(make_client: MakeClient, app: FastAPI, state: RealDebridState) -> None:
    for n in range(30):
        state.add_torrent(f"{n:040x}", status="downloaded")
    ledger = CallLedger()
    rd = make_client(app, ledger=ledger)
    async for torrent in rd.iter_torrents(page_size=10):
        if torrent.hash == f"{25:040x}":
            break
    assert ledger.total("realdebrid") == 1


async def test_a_listing_without_a_total_pages_until_an_empty_page(
    make_client: MakeClient, app: FastAPI, state: RealDebridState
) -> None:
    for n in range(30):
        state.add_torrent(f"{n:040x}", status="downloaded")
    state.page_limit = 10  # this server holds fewer entries per page than asked for (older revisions: 2500)
    state.total_header = False  # and says nothing of the total
    ledger = CallLedger()
    rd = make_client(app, ledger=ledger)
    torrents = await rd.torrents(page_size=20)
    assert [t.id for t in torrents] == [t.id for t in state.listing()]
    assert len(torrents) == 31
    assert ledger.by_endpoint("realdebrid") == {"torrents": 5}  # 10, 10, 10, 1, then an empty page

    state.total_header = True  # with the total, paging stops once it is reached
    ledger = CallLedger()
    rd = make_client(app, ledger=ledger)
    assert len(await rd.torrents(page_size=20)) == 31
    assert ledger.by_endpoint("realdebrid") == {"torrents": 4}


async def test_listings_have_their_own_longer_timeout(starter: Scenario, clock: VirtualClock) -> None:
    emulator = create_app(starter, clock)

    async def slow(scope: Any, receive: Any, send: Any) -> None:  # every answer takes 0.3 s
        if scope["type"] == "http":
            await asyncio.sleep(0.3)
        await emulator(scope, receive, send)

    settings = RealDebridSettings(
        url=URL, api_key=SecretStr(starter.keys["realdebrid"]), timeout_s=0.1, listing_timeout_s=5.0
    ).model_copy(update={"rate_limit_per_min": 0})
    async with RealDebridClient(settings, transport=httpx.ASGITransport(app=slow)) as rd:
        (torrent,) = await rd.torrents()
        with pytest.raises(ServiceTimeout, match=r"within 0\.1s"):
            await rd.torrent_info(torrent.id)


async def test_find_by_hash_sees_duplicates(rd: RealDebridClient, state: RealDebridState) -> None:
    for n in range(120):
        state.add_torrent(f"{n:040x}", status="downloaded")
    first = await rd.add_magnet(UNKNOWN_HASH.upper(), "Home Video")
    second = await rd.add_magnet(UNKNOWN_HASH)
    found = await rd.find_by_hash(UNKNOWN_HASH.upper(), page_size=50)
    assert [t.id for t in found] == [second, first]
    assert await rd.find_by_hash("f" * 40) == []


async def test_active_only_listing(rd: RealDebridClient, starter: Scenario) -> None:
    tid = await rd.add_magnet(release(starter, "Dune.2021.1080p.BluRay").info_hash)
    assert [t.id for t in await rd.torrents(active_only=True)] == [tid]


# ----- the probe: add, select, info, unrestrict, delete -----


async def test_cached_probe_end_to_end(
    rd: RealDebridClient, starter: Scenario, state: RealDebridState, clock: VirtualClock
) -> None:
    rel = release(starter, "Breaking.Bad.S02.1080p")
    tid = await rd.add_magnet(rel.info_hash, rel.name)
    info = await rd.torrent_info(tid)
    assert isinstance(info, TorrentInfo) and info.status is TorrentStatus.WAITING_FILES_SELECTION
    assert info.files[0].id == 1 and not info.files[0].selected
    wanted = [f.id for f in info.files if "sample" not in f.path.lower()]

    assert await rd.select_files(tid, wanted) is True
    info = await rd.torrent_info(tid)  # a cached torrent reads `downloading` at 100 % for a moment
    assert info.status is TorrentStatus.DOWNLOADING and info.progress == 100
    clock.advance(state.settle_s)
    info = await rd.torrent_info(tid)
    assert info.status is TorrentStatus.DOWNLOADED and info.progress == 100 and info.ended is not None
    assert [f.id for f in info.selected_files()] == wanted
    e05 = next(f for f in info.files if "S02E05" in f.path)
    link = info.link_for(e05.id)
    assert link == info.links[wanted.index(e05.id)]
    assert info.link_for(14) is None  # the sample was not selected

    direct = await rd.unrestrict_link(link)
    assert direct.filename == e05.path.rsplit("/", 1)[-1] and direct.filesize == e05.bytes
    assert direct.mime_type == "video/x-matroska"
    assert direct.download.startswith("https://sandbox.download.real-debrid.com/d/")

    assert await rd.select_files(tid, "all") is False  # 202: already done
    assert await rd.delete(tid) is True
    assert tid not in state.torrents


async def test_uncached_torrent_progresses(rd: RealDebridClient, starter: Scenario, clock: VirtualClock) -> None:
    rel = release(starter, "Dune.2021.1080p.BluRay")
    tid = await rd.add_magnet(rel.info_hash)
    assert (await rd.torrent_info(tid)).status.in_progress
    clock.advance(2)
    await rd.select_files(tid, [1])
    clock.advance(12)
    info = await rd.torrent_info(tid)
    assert info.status is TorrentStatus.DOWNLOADING and info.status.uses_slot
    assert info.speed == rel.rd_speed and 0 < info.progress < 100
    assert (await rd.active_count()).nb == 1


async def test_add_magnet_refused_is_infringing_and_not_retried(
    make_client: MakeClient, app: FastAPI, starter: Scenario
) -> None:
    ledger = CallLedger()
    rd = make_client(app, ledger=ledger)
    with pytest.raises(RequestRejected) as caught:
        await rd.add_magnet(release(starter, "Dune.2021.1080p.WEB-DL").info_hash)
    assert is_infringing(caught.value) and caught.value.status == 451
    assert caught.value.error_code == RdErrorCode.INFRINGING_FILE
    assert ledger.by_endpoint("realdebrid") == {"torrents/addMagnet": 1}


async def test_add_magnet_after_a_gateway_5xx_is_not_retried(
    make_client: MakeClient, app: FastAPI, state: RealDebridState
) -> None:
    """A 502 page from a gateway does not say whether Real-Debrid acted: adding again could make a duplicate."""
    ledger = CallLedger()
    rd = make_client(app, ledger=ledger)
    app.state.sandbox.set_plan(FaultPlan(error_status=502))
    app.state.sandbox.queue("error")
    with pytest.raises(ServiceUnavailable):
        await rd.add_magnet(UNKNOWN_HASH)
    assert ledger.total("realdebrid") == 1
    assert state.hashes().count(UNKNOWN_HASH) == 0


async def test_add_magnet_after_real_debrids_own_503_is_retried_once_and_adds_once(
    make_client: MakeClient, app: FastAPI, state: RealDebridState
) -> None:
    """Real-Debrid's 503 with error 25 (service_unavailable) means it did not take the add: sending it again is
    safe, and the request does not fail for a passing outage."""
    ledger = CallLedger()
    rd = make_client(app, ledger=ledger)
    app.state.sandbox.queue("error")
    rd_id = await rd.add_magnet(UNKNOWN_HASH)
    assert ledger.by_endpoint("realdebrid") == {"torrents/addMagnet": 2}
    assert [t.id for t in state.torrents_with_hash(UNKNOWN_HASH)] == [rd_id]


async def test_unknown_torrent_is_not_found(rd: RealDebridClient) -> None:
    with pytest.raises(NotFound) as caught:
        await rd.torrent_info("NOSUCHTORRENT")
    assert is_unknown_resource(caught.value) and caught.value.error == "unknown_ressource"
    with pytest.raises(NotFound):
        await rd.delete("NOSUCHTORRENT")
    assert await rd.delete("NOSUCHTORRENT", missing_ok=True) is False


async def test_full_slots_raise_too_many_active_without_retry(
    make_client: MakeClient, starter: Scenario, clock: VirtualClock
) -> None:
    app = create_app(with_account(starter, active_limit=1), clock)
    ledger = CallLedger()
    rd = make_client(app, ledger=ledger)
    first = await rd.add_magnet(release(starter, "Dune.2021.1080p.BluRay").info_hash)
    second = await rd.add_magnet(UNKNOWN_HASH)
    clock.advance(2)
    await rd.select_files(first, "all")
    with pytest.raises(RequestRejected) as caught:
        await rd.select_files(second, "all")
    assert is_too_many_active(caught.value) and caught.value.status == 509
    assert ledger.by_endpoint("realdebrid")["torrents/selectFiles"] == 2


async def test_instant_availability_means_not_available(make_client: MakeClient, app: FastAPI) -> None:
    ledger = CallLedger()
    rd = make_client(app, ledger=ledger)
    assert await rd.instant_availability([UNKNOWN_HASH, "F" * 40]) == {}
    assert await rd.instant_availability([UNKNOWN_HASH]) == {}
    assert await rd.instant_availability([]) == {}
    assert ledger.total("realdebrid") == 1  # once known disabled, no more calls are spent on it


async def test_instant_availability_reads_the_historic_shape() -> None:
    body = {
        UNKNOWN_HASH: {"rd": [{"1": {"filename": "a.mkv", "filesize": 10}}]},
        "f" * 40: [],
    }
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    settings = RealDebridSettings(url=URL, api_key=SecretStr("MOCKTOKEN-abcdef"))
    async with RealDebridClient(settings, transport=transport) as rd:
        result = await rd.instant_availability([UNKNOWN_HASH, "f" * 40])
    assert list(result) == [UNKNOWN_HASH]
    assert result[UNKNOWN_HASH][0][1].filename == "a.mkv"


async def test_disabled_endpoint_helper() -> None:
    err = ServiceError("realdebrid", "x", "", status=403, error="disabled_endpoint", error_code=37)
    assert is_disabled_endpoint(err) and not is_infringing(err)


# ----- outages and rate limits -----


async def test_429_is_rate_limited_with_rd_code(rd: RealDebridClient, state: RealDebridState) -> None:
    stamina.set_testing(True, attempts=1)  # one attempt: no real pause after the 429
    state.rate.limit = 0
    with pytest.raises(RateLimited) as caught:
        await rd.user()
    assert caught.value.error_code == RdErrorCode.TOO_MANY_REQUESTS and caught.value.retry_after is None


async def test_outage_and_malformed_answers_raise(rd: RealDebridClient, app: FastAPI) -> None:
    app.state.sandbox.queue("error", 3)
    with pytest.raises(ServiceUnavailable):
        await rd.torrents()
    app.state.sandbox.queue("malformed")
    with pytest.raises(BadResponse):
        await rd.torrents()


async def test_transient_5xx_is_retried_for_reads(rd: RealDebridClient, app: FastAPI) -> None:
    app.state.sandbox.queue("error", 2)
    assert (await rd.user()).username == "sandbox"


# ----- models and helpers without HTTP -----


def test_unknown_status_does_not_break_parsing() -> None:
    t = Torrent.model_validate(
        {
            "id": "A",
            "filename": "f",
            "hash": "AB" * 20,
            "bytes": 1,
            "status": "teleporting",
            "added": "2024-01-15T10:30:00.000Z",
        }
    )
    assert t.status is TorrentStatus.UNKNOWN and t.hash == "ab" * 20


def test_links_map_to_selected_files_in_order_or_one_archive() -> None:
    files = [
        {"id": 1, "path": "/a.mkv", "bytes": 1, "selected": 1},
        {"id": 2, "path": "/a.nfo", "bytes": 1, "selected": 0},
        {"id": 3, "path": "/b.mkv", "bytes": 1, "selected": 1},
    ]
    base = {
        "id": "A",
        "filename": "f",
        "hash": "a" * 40,
        "bytes": 2,
        "status": "downloaded",
        "added": "2024-01-15T10:30:00.000Z",
    }
    info = TorrentInfo.model_validate({**base, "files": files, "links": ["L1", "L3"]})
    assert (info.link_for(1), info.link_for(2), info.link_for(3)) == ("L1", None, "L3")
    archive = TorrentInfo.model_validate({**base, "files": files, "links": ["ZIP"]})
    assert archive.link_for(3) == "ZIP"


def test_magnet_uri_and_argument_checks() -> None:
    assert magnet_uri(UNKNOWN_HASH.upper(), "Amélie (2001)") == (
        f"magnet:?xt=urn:btih:{UNKNOWN_HASH}&dn=Am%C3%A9lie%20%282001%29"
    )
    with pytest.raises(ValueError):
        magnet_uri("abc")


async def test_select_files_rejects_empty_or_zero_ids(rd: RealDebridClient) -> None:
    with pytest.raises(ValueError):
        await rd.select_files("X", [])
    with pytest.raises(ValueError):
        await rd.select_files("X", [0])


# ----- secrets -----


async def test_token_never_reaches_errors_or_logs(
    make_client: MakeClient,
    app: FastAPI,
    starter: Scenario,
    state: RealDebridState,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    token = starter.keys["realdebrid"]
    rd = make_client(app)
    texts: list[str] = []
    app.state.sandbox.queue("error", 3)
    attempts: list[Any] = [
        rd.torrents(),
        rd.torrent_info("NOSUCH"),
        rd.add_magnet(release(starter, "Dune.2021.1080p.WEB-DL").info_hash),
        rd.unrestrict_link(f"https://real-debrid.com/d/{token}"),
    ]
    for call in attempts:
        with pytest.raises(ServiceError) as caught:
            await call
        texts += [str(caught.value), repr(caught.value), caught.value.message, str(caught.value.args)]
    assert await rd.instant_availability([UNKNOWN_HASH]) == {}
    wrong = make_client(app, token="ANOTHER-SECRET-TOKEN-42")
    with pytest.raises(AuthenticationError) as caught_auth:
        await wrong.user()
    texts.append(str(caught_auth.value))
    out = capsys.readouterr()
    texts += [caplog.text, out.out, out.err]
    for text in texts:
        assert token not in text
        assert "ANOTHER-SECRET-TOKEN-42" not in text


@pytest.mark.parametrize(("days", "says"), [(1.5, "1 day left (renew soon"), (6.9, "6 days left (renew soon")])
async def test_check_warns_when_premium_runs_out_soon(
    make_client: MakeClient, starter: Scenario, clock: VirtualClock, days: float, says: str
) -> None:
    rd = make_client(create_app(with_account(starter, premium_days=days), clock))
    check = await rd.check()
    assert check.ok  # still usable: a warning, not a failure
    assert check.details["premium"].startswith(says)
