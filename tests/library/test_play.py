"""The play resolver against the Real-Debrid emulator: the right link for the entry's file, what each answer costs
Real-Debrid (cached links, shared concurrent resolves), and which refusals report the file for repair."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import stamina
from fastapi import FastAPI
from pydantic import SecretStr
from structlog.testing import capture_logs

from seerbridge import clock as program_clock
from seerbridge.config import RealDebridSettings
from seerbridge.library.play import (
    PlayNotFound,
    PlayOutcome,
    PlayRedirect,
    PlayResolver,
    PlayTarget,
    PlayUnavailable,
)
from seerbridge.library.tokens import new_secret, sign
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.realdebrid_state import RealDebridState
from seerbridge.sandbox.realdebrid_torrent import HashBehaviour
from seerbridge.sandbox.scenario import GB, FileSpec, Scenario
from seerbridge.services.calls import CallLedger
from seerbridge.services.realdebrid import RealDebridClient

URL = "http://realdebrid.sandbox/rest/1.0"
SECRET = new_secret()
ENTRY = 7
SEASON_HASH = "5eea5eea5eea5eea5eea5eea5eea5eea5eea5eea"
MOVIE_HASH = "40b1e40b1e40b1e40b1e40b1e40b1e40b1e40b1e"
SEASON = [FileSpec(path=f"Show.S01.1080p/Show.S01E0{n}.1080p.mkv", size=n * GB) for n in range(1, 6)]
INFO = "torrents/info"
UNRESTRICT = "unrestrict/link"

ASGIApp = Callable[..., Any]


class Library:
    """The resolver's surroundings: the entries it looks up, the failures it reports, what it cost Real-Debrid."""

    def __init__(self, rd: RealDebridClient, ledger: CallLedger, **options: float) -> None:
        self.rd = rd
        self.ledger = ledger
        self.entries: dict[int, PlayTarget] = {}
        self.failures: list[tuple[int, str]] = []
        self.lookups = 0
        self.gate: asyncio.Event | None = None  # when set by a test, lookups wait for it
        self.resolver = PlayResolver(rd, self.lookup, self.failed, SECRET, **options)

    async def lookup(self, entry_id: int) -> PlayTarget | None:
        self.lookups += 1
        if self.gate is not None:
            await self.gate.wait()
        return self.entries.get(entry_id)

    async def failed(self, entry_id: int, reason: str) -> None:
        self.failures.append((entry_id, reason))

    def point(self, rd_id: str, file_id: int, entry_id: int = ENTRY) -> str:
        """Make `entry_id` point at that file and return its token."""
        self.entries[entry_id] = PlayTarget(entry_id, rd_id, file_id)
        return sign(entry_id, SECRET)

    async def play(self, entry_id: int = ENTRY) -> PlayOutcome:
        return await self.resolver.resolve(sign(entry_id, SECRET))

    def calls(self) -> dict[str, int]:
        return self.ledger.by_endpoint("realdebrid")


MakeLibrary = Callable[..., Library]


@pytest.fixture(autouse=True)
def _program_reads_the_virtual_clock(clock: VirtualClock) -> None:
    # The link lifetime is measured on seerbridge's clock; conftest puts the wall clock back after the test.
    program_clock.install(clock)


@pytest.fixture
async def make_library(starter: Scenario, app: FastAPI) -> AsyncIterator[MakeLibrary]:
    clients: list[RealDebridClient] = []

    def make(asgi: ASGIApp | None = None, **options: float) -> Library:
        settings = RealDebridSettings(url=URL, api_key=SecretStr(starter.keys["realdebrid"]))
        # No pacing and no pause after a 429: these tests count calls, they do not wait for them.
        settings = settings.model_copy(update={"rate_limit_per_min": 0, "rate_limited_pause_s": 0})
        ledger = CallLedger()
        rd = RealDebridClient(settings, transport=httpx.ASGITransport(app=asgi or app), ledger=ledger)
        clients.append(rd)
        return Library(rd, ledger, **options)

    yield make
    for rd in clients:
        await rd.aclose()


@pytest.fixture
def library(make_library: MakeLibrary) -> Library:
    return make_library()


def season(state: RealDebridState, selected: list[int] | None = None) -> str:
    """A downloaded five-episode season pack with files 1, 3 and 5 selected."""
    behaviour = HashBehaviour("cached", "Show.S01.1080p", list(SEASON))
    return state.add_torrent(SEASON_HASH, behaviour=behaviour, status="downloaded", selected=selected or [1, 3, 5])


def refusing_unrestrict(app: FastAPI, status: int, error: str, code: int) -> ASGIApp:
    """The emulator, except that its next `/unrestrict/link` answers Real-Debrid's error `error`/`code` (the
    emulator has no knob for a dead hoster file yet)."""
    left = [1]

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/unrestrict/link") and left[0]:
            left[0] -= 1
            body = json.dumps({"error": error, "error_code": code}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return wrapped


async def until(condition: Callable[[], bool]) -> None:
    """Let other tasks run until `condition` holds (a bounded number of turns of the loop, no waiting)."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


# ----- the right link -----


async def test_the_entrys_file_maps_to_its_link_among_the_selected_files(
    library: Library, state: RealDebridState
) -> None:
    rd_id = season(state)
    links = state.links(state.torrents[rd_id])
    library.point(rd_id, 3)
    outcome = await library.play()
    assert isinstance(outcome, PlayRedirect)
    given = state.unrestricted[-1]
    # File 3 is the second of the selected {1, 3, 5}: links[1], and the redirect is that link's download URL.
    assert (given.link, given.file_id, given.filename) == (links[1], 3, "Show.S01E03.1080p.mkv")
    assert outcome.url == given.download
    assert library.calls() == {INFO: 1, UNRESTRICT: 1}
    assert library.failures == []


async def test_a_single_link_serves_every_selected_file_when_real_debrid_packed_them() -> None:
    info = {
        "id": "PACKED",
        "filename": "Show.S01",
        "hash": SEASON_HASH,
        "bytes": 3,
        "status": "downloaded",
        "added": "2026-11-24T12:00:00.000Z",
        "files": [{"id": n, "path": f"/e{n}.mkv", "bytes": 1, "selected": int(n != 2)} for n in (1, 2, 3)],
        "links": ["https://real-debrid.com/d/ARCHIVE"],
    }
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/torrents/info/PACKED"):
            return httpx.Response(200, json=info)
        asked.append(request.content.decode())
        body = {"id": "D", "filename": "Show.S01.rar", "link": "x", "download": "https://dl.example/d/D/Show.S01.rar"}
        return httpx.Response(200, json=body)

    settings = RealDebridSettings(url=URL, api_key=SecretStr("MOCKTOKEN-abcdef")).model_copy(
        update={"rate_limit_per_min": 0}
    )
    async with RealDebridClient(settings, transport=httpx.MockTransport(answer)) as rd:
        library = Library(rd, rd.ledger)
        library.point("PACKED", 3)
        assert await library.play() == PlayRedirect("https://dl.example/d/D/Show.S01.rar")
        assert asked == ["link=https%3A%2F%2Freal-debrid.com%2Fd%2FARCHIVE"]
        library.point("PACKED", 2)  # not selected: not in the archive either
        outcome = await library.play()
    assert isinstance(outcome, PlayUnavailable) and outcome.gone and "not selected" in outcome.reason


# ----- what it costs Real-Debrid -----


async def test_a_cached_link_costs_nothing_until_its_lifetime_ends(
    library: Library, state: RealDebridState, clock: VirtualClock
) -> None:
    library.point(season(state), 3)
    first = await library.play()
    clock.advance(3599)
    for _ in range(5):  # a player's HEAD and ranged GETs, again at every seek
        assert await library.play() == first
    assert library.calls() == {INFO: 1, UNRESTRICT: 1}
    assert library.lookups == 6  # the entry is looked up every time: a moved entry is followed at once

    clock.advance(1)
    fresh = await library.play()
    assert isinstance(fresh, PlayRedirect) and isinstance(first, PlayRedirect)
    assert fresh.url == state.unrestricted[-1].download != first.url
    assert library.calls() == {INFO: 2, UNRESTRICT: 2}


async def test_torrent_info_is_shared_briefly_by_the_files_of_one_pack(
    library: Library, state: RealDebridState, clock: VirtualClock
) -> None:
    rd_id = season(state)
    for entry_id, file_id in ((1, 1), (3, 3)):
        library.point(rd_id, file_id, entry_id)
        assert isinstance(await library.play(entry_id), PlayRedirect)
    assert library.calls() == {INFO: 1, UNRESTRICT: 2}  # a scan probing the season's episodes one after another
    clock.advance(60)
    library.point(rd_id, 5, 5)
    assert isinstance(await library.play(5), PlayRedirect)
    assert library.calls() == {INFO: 2, UNRESTRICT: 3}  # a minute on, the info is asked for again


async def test_concurrent_requests_for_one_entry_share_one_resolve(library: Library, state: RealDebridState) -> None:
    library.point(season(state), 5)
    library.gate = asyncio.Event()
    requests = [asyncio.create_task(library.play()) for _ in range(6)]
    await until(lambda: library.lookups == 1)
    library.gate.set()
    outcomes = await asyncio.gather(*requests)
    assert len(set(outcomes)) == 1 and isinstance(outcomes[0], PlayRedirect)
    assert library.lookups == 1
    assert library.calls() == {INFO: 1, UNRESTRICT: 1}


async def test_a_player_hanging_up_does_not_cancel_the_resolve_others_wait_for(
    library: Library, state: RealDebridState
) -> None:
    library.point(season(state), 1)
    library.gate = asyncio.Event()
    leaving = asyncio.create_task(library.play())
    staying = asyncio.create_task(library.play())
    await until(lambda: library.lookups == 1)
    leaving.cancel()
    library.gate.set()
    assert isinstance(await staying, PlayRedirect)
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert library.calls() == {INFO: 1, UNRESTRICT: 1}


# ----- not found -----


async def test_a_forged_token_is_not_found_and_costs_nothing(library: Library, state: RealDebridState) -> None:
    token = library.point(season(state), 3)
    for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), "8." + token.split(".")[1], "", "play"):
        assert await library.resolver.resolve(forged) == PlayNotFound("unknown play address")
    assert library.lookups == 0 and library.calls() == {}


async def test_an_unknown_entry_is_not_found(library: Library) -> None:
    outcome = await library.play(404)
    assert isinstance(outcome, PlayNotFound) and "404" in outcome.reason
    assert library.lookups == 1 and library.calls() == {} and library.failures == []


# ----- the file is gone: reported for repair -----


async def test_a_deleted_torrent_is_unavailable_and_reported_once(
    library: Library, state: RealDebridState, clock: VirtualClock
) -> None:
    rd_id = season(state)
    library.point(rd_id, 3)
    state.delete(rd_id)
    outcomes = await asyncio.gather(*(library.play() for _ in range(3)))
    assert all(isinstance(o, PlayUnavailable) and o.gone for o in outcomes)
    [(entry_id, reason)] = library.failures
    assert entry_id == ENTRY and "unknown_ressource" in reason and rd_id in reason
    assert library.calls() == {INFO: 1}

    clock.advance(30)  # a player retrying: no further calls, no further reports
    assert await library.play() == outcomes[0]
    assert library.calls() == {INFO: 1} and len(library.failures) == 1

    # The repair moved the entry to another torrent: it plays at once, whatever was remembered about the old one.
    library.point(state.add_torrent(MOVIE_HASH, status="downloaded"), 1)
    assert isinstance(await library.play(), PlayRedirect)


@pytest.mark.parametrize("status", ["dead", "error", "virus", "magnet_error"])
async def test_a_failed_torrent_is_unavailable_and_reported(
    library: Library, state: RealDebridState, status: Any
) -> None:
    rd_id = season(state)
    library.point(rd_id, 5)
    state.set_status(rd_id, status)
    outcome = await library.play()
    assert isinstance(outcome, PlayUnavailable) and outcome.gone
    assert library.failures == [(ENTRY, outcome.reason)] and status in outcome.reason
    assert library.calls() == {INFO: 1}


async def test_a_file_that_is_not_selected_or_not_there_is_reported(library: Library, state: RealDebridState) -> None:
    rd_id = season(state)
    library.point(rd_id, 2, entry_id=1)
    library.point(rd_id, 9, entry_id=2)
    first, second = await library.play(1), await library.play(2)
    assert isinstance(first, PlayUnavailable) and first.gone and "file 2" in first.reason
    assert isinstance(second, PlayUnavailable) and second.gone and "does not exist" in second.reason
    assert [entry for entry, _ in library.failures] == [1, 2]
    assert UNRESTRICT not in library.calls()


@pytest.mark.parametrize(("status", "error", "code"), [(503, "hoster_unavailable", 19), (404, "unknown_ressource", 7)])
async def test_unrestrict_saying_the_file_is_gone_reports_it(
    make_library: MakeLibrary, app: FastAPI, state: RealDebridState, status: int, error: str, code: int
) -> None:
    library = make_library(refusing_unrestrict(app, status, error, code))
    library.point(season(state), 3)
    outcome = await library.play()
    assert isinstance(outcome, PlayUnavailable) and outcome.gone and error in outcome.reason
    assert library.failures == [(ENTRY, outcome.reason)]
    # Not retried, and not an outage: a few dead files must not open the breaker for every Real-Debrid call.
    assert library.calls() == {INFO: 1, UNRESTRICT: 1}
    assert library.rd.breaker.outages == 0


async def test_a_torrent_lost_while_its_info_is_remembered_is_caught_by_the_unrestrict(
    library: Library, state: RealDebridState
) -> None:
    rd_id = season(state)
    library.point(rd_id, 1, entry_id=1)
    library.point(rd_id, 3, entry_id=3)
    assert isinstance(await library.play(1), PlayRedirect)
    state.set_status(rd_id, "dead")  # the remembered info still says downloaded; the emulator's unrestrict says 503/19
    outcome = await library.play(3)
    assert isinstance(outcome, PlayUnavailable) and outcome.gone and "hoster_unavailable" in outcome.reason
    assert library.calls() == {INFO: 1, UNRESTRICT: 2}
    # Whatever was kept about the torrent went with it: entry 1 asks Real-Debrid again and is reported too.
    assert isinstance(await library.play(1), PlayUnavailable)
    assert [entry for entry, _ in library.failures] == [3, 1]


# ----- Real-Debrid cannot answer now: nothing to repair -----


async def test_real_debrid_down_is_unavailable_without_a_report(
    library: Library, app: FastAPI, state: RealDebridState
) -> None:
    library.point(season(state), 3)
    app.state.sandbox.queue("error", 3)  # every attempt gets Real-Debrid's own 503 service_unavailable (25)
    outcome = await library.play()
    assert isinstance(outcome, PlayUnavailable) and not outcome.gone
    assert "service_unavailable" in outcome.reason and library.failures == []
    assert isinstance(await library.play(), PlayRedirect)  # nothing remembered: the next request plays


async def test_rate_limited_is_unavailable_without_a_report(library: Library, state: RealDebridState) -> None:
    stamina.set_testing(True, attempts=1)  # one attempt: a 429 is not waited out here
    library.point(season(state), 3)
    state.rate.limit = 0
    outcome = await library.play()
    assert isinstance(outcome, PlayUnavailable) and not outcome.gone
    assert "too_many_requests" in outcome.reason and library.failures == []


async def test_a_torrent_still_downloading_is_unavailable_without_a_report(
    library: Library, state: RealDebridState
) -> None:
    library.point(state.add_torrent(MOVIE_HASH, status="downloading", progress=40), 1)
    outcome = await library.play()
    assert isinstance(outcome, PlayUnavailable) and not outcome.gone and "downloading" in outcome.reason
    assert library.failures == []


# ----- secrets -----


async def test_neither_the_token_nor_the_download_url_reaches_a_log(library: Library, state: RealDebridState) -> None:
    rd_id = season(state)
    token = library.point(rd_id, 3)
    signature = token.split(".")[1]
    with capture_logs() as logs:
        outcome = await library.play()
        await library.resolver.resolve(token[:-1] + ("A" if token[-1] != "A" else "B"))
        state.delete(rd_id)
        library.point(rd_id, 1, entry_id=1)
        await library.play(1)
    assert isinstance(outcome, PlayRedirect)
    text = repr(logs)
    assert logs and signature not in text and outcome.url not in text
    assert outcome.url not in repr(outcome)
