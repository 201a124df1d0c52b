"""The Zilean client: TorrentInfo read into Streams (size as a string, bad items skipped and counted), the query it
sends, "[]" believed only after the health check, the ImdbId retry, the budget, retries, and the URL kept out of
errors; against hand-written answers and against the emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from seerbridge.config import SourceSettings
from seerbridge.errors import BadResponse, RateLimited, ServiceError, ServiceUnavailable
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import Scenario, load_scenario
from seerbridge.sandbox.zilean import PING, ZileanEmulator, create_app
from seerbridge.services.calls import CallLedger
from seerbridge.services.streams import Stream
from seerbridge.services.zilean import ZileanClient, clean_query, parse_torrent, parse_torrents

TOKEN = "zilean-proxy-token-5f3a9c"
URL = f"http://zilean.sandbox/{TOKEN}"
HASH = "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"
NOTLD = "tt0063350"


def settings(url: str = URL, **kw: Any) -> SourceSettings:
    values: dict[str, Any] = {
        "kind": "zilean",
        "url": SecretStr(url),
        "rate_limit_per_min": 0,
        "retries": 2,
        "timeout_s": 2.0,
        **kw,
    }
    return SourceSettings(**values)


class Served:
    """A MockTransport handler: answers searches and pings from functions; records every request."""

    def __init__(
        self,
        search: Callable[[httpx.Request], httpx.Response],
        ping: Callable[[httpx.Request], httpx.Response] | None = None,
    ) -> None:
        self.search = search
        self.ping = ping or (lambda request: httpx.Response(200, text="[06/01/2026 12:00:00]: Pong!"))
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/dmm/filtered"):
            return self.search(request)
        if request.url.path.endswith("/healthchecks/ping"):
            return self.ping(request)
        raise AssertionError(f"unexpected request {request.method} {request.url}")

    def paths(self) -> list[str]:
        return [r.url.path.removeprefix(f"/{TOKEN}/") for r in self.requests]


def answer(body: Any, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, content=json.dumps(body).encode(), headers={"content-type": "json"})


def client(served: Served, **kw: Any) -> ZileanClient:
    return ZileanClient("dmm", settings(**kw), transport=httpx.MockTransport(served))


def info(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "info_hash": HASH,
        "raw_title": "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-GRP",
        "parsed_title": "Night of the Living Dead",
        "size": "1760936591",
        "year": 1968,
        "seasons": [],
        "episodes": [],
        "languages": ["en", "fr"],
        "imdb_id": None,
    }
    return {**base, **fields}


# -- reading TorrentInfo ----------------------------------------------------------------------------------------


def test_a_torrent_info_becomes_a_stream() -> None:
    assert parse_torrent(info(), source="dmm") == Stream(
        release_name="Night.of.the.Living.Dead.1968.1080p.BluRay.x264-GRP",
        info_hash=HASH.lower(),
        size_bytes=1760936591,
        seeders=None,
        languages=("en", "fr"),
        source="dmm",
    )


@pytest.mark.parametrize(
    ("size", "expected"),
    [("1760936591", 1760936591), (" 42 ", 42), (42, 42), ("1.6 GB", None), ("-5", None), ("0", None), (None, None),
     (True, None), ("", None), ("١٢", None)],
)  # fmt: skip
def test_size_is_read_from_a_decimal_string(size: Any, expected: int | None) -> None:
    assert parse_torrent(info(size=size), source="dmm").size_bytes == expected


def test_unusable_items_are_skipped_and_counted_never_raised() -> None:
    body = [
        info(),
        info(info_hash="xyz"),
        info(info_hash=HASH[:39]),
        info(info_hash=None),
        info(raw_title="  "),
        info(raw_title=None),
        "not an object",
        info(info_hash=HASH.lower(), raw_title="duplicate of the first"),
        info(info_hash="b" * 40, languages=None),
    ]
    streams, skipped = parse_torrents(body, source="dmm")
    assert [s.info_hash for s in streams] == [HASH.lower(), "b" * 40]
    assert streams[1].languages == ()
    assert skipped == 6


async def test_size_strings_and_bad_hashes_through_the_client() -> None:
    served = Served(answer([info(), info(info_hash="nothex"), info(info_hash="c" * 40, size="oops")]))
    async with client(served) as zilean:
        streams = await zilean.movie(imdb_id=NOTLD, tmdb_id=10331, title="Night of the Living Dead", year=1968)
    assert [(s.info_hash, s.size_bytes, s.source) for s in streams] == [
        (HASH.lower(), 1760936591, "dmm"),
        ("c" * 40, None, "dmm"),
    ]
    assert zilean.skipped == 1
    assert served.paths() == ["dmm/filtered"]  # rows came back: no health check


# -- the query ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "query"),
    [("Night of the Living Dead", "Night of the Living Dead"), ("Doctor Who (2005)", "Doctor Who"),
     ("Show S01E02", "Show"), ("Marvel's Agents of S.H.I.E.L.D.", "Marvels Agents of S H I E L D"),
     ("Shōgun", "Shogun"), ("1917", "1917"), ("Blade Runner 2049", "Blade Runner 2049"),
     ("Mission: Impossible – Fallout", "Mission Impossible Fallout")],
)  # fmt: skip
def test_clean_query(title: str, query: str) -> None:
    assert clean_query(title) == query


async def test_movie_and_episode_parameters() -> None:
    served = Served(answer([info()]))
    async with client(served) as zilean:
        await zilean.movie(imdb_id=NOTLD, tmdb_id=10331, title="Night of the Living Dead (1968)", year=1968)
        await zilean.movie(imdb_id=None, tmdb_id=None, title="Nosferatu", year=None)
        await zilean.episode(imdb_id="tt0903747", tvdb_id=81189, title="Breaking Bad", season=2, episode=4)
    params = [dict(r.url.params) for r in served.requests]
    assert params == [
        {"Query": "Night of the Living Dead", "Year": "1968"},
        {"Query": "Nosferatu"},
        {"Query": "Breaking Bad", "Season": "2", "Episode": "4"},
    ]


async def test_episode_zero_is_empty_without_a_call_and_bad_numbers_raise() -> None:
    served = Served(answer([info()]))
    async with client(served) as zilean:
        assert await zilean.episode(imdb_id=None, tvdb_id=None, title="Show", season=1, episode=0) == []
        with pytest.raises(ValueError):
            await zilean.episode(imdb_id=None, tvdb_id=None, title="Show", season=-1, episode=1)
        with pytest.raises(ValueError):
            await zilean.movie(imdb_id=None, tmdb_id=None, title="(2001)", year=2001)
    assert served.requests == []


def test_only_a_zilean_source_is_accepted() -> None:
    with pytest.raises(ValueError, match="torznab"):
        ZileanClient("idx", SourceSettings(kind="torznab", url=SecretStr("http://prowlarr:9696/1/api")))


# -- an empty answer --------------------------------------------------------------------------------------------


async def test_an_empty_answer_with_a_failing_ping_is_an_outage() -> None:
    served = Served(answer([]), ping=lambda request: httpx.Response(503, text="down"))
    async with client(served) as zilean:
        with pytest.raises(ServiceUnavailable) as err:
            await zilean.movie(imdb_id=NOTLD, tmdb_id=None, title="Night of the Living Dead", year=1968)
        assert err.value.error == "unhealthy" and err.value.endpoint == "dmm/filtered"
        # The failed verdict stands for a minute: the next empty answer raises without another ping.
        with pytest.raises(ServiceUnavailable):
            await zilean.movie(imdb_id=None, tmdb_id=None, title="Dune", year=2021)
    paths = served.paths()
    # One ping (its attempts retried by the HTTP layer), and none for the second search.
    assert paths[0] == paths[-1] == "dmm/filtered" and set(paths[1:-1]) == {"healthchecks/ping"}


async def test_an_empty_answer_with_a_working_ping_is_believed_and_the_ping_not_repeated_within_a_minute() -> None:
    served = Served(answer([]))
    now = [1000.0]
    async with client(served) as zilean:
        zilean.monotonic = lambda: now[0]
        assert await zilean.movie(imdb_id=None, tmdb_id=None, title="Unreleased", year=2031) == []
        now[0] += 59
        assert await zilean.episode(imdb_id=None, tvdb_id=None, title="Unaired", season=1, episode=1) == []
        assert served.paths() == ["dmm/filtered", "healthchecks/ping", "dmm/filtered"]
        now[0] += 2
        assert await zilean.movie(imdb_id=None, tmdb_id=None, title="Unreleased", year=2031) == []
    assert served.paths()[-2:] == ["dmm/filtered", "healthchecks/ping"]


async def test_a_ping_that_is_not_zilean_counts_as_failed() -> None:
    served = Served(answer([]), ping=lambda request: httpx.Response(200, text="<html>login</html>"))
    async with client(served) as zilean:
        with pytest.raises(ServiceUnavailable, match="Pong"):
            await zilean.movie(imdb_id=None, tmdb_id=None, title="Dune", year=2021)


async def test_a_5xx_is_retried_by_the_http_layer() -> None:
    answers = iter([httpx.Response(502, text="<html>bad gateway</html>"), httpx.Response(200, json=[info()])])
    served = Served(lambda request: next(answers))
    async with client(served) as zilean:
        streams = await zilean.movie(imdb_id=None, tmdb_id=None, title="Night of the Living Dead", year=1968)
    assert len(streams) == 1
    assert served.paths() == ["dmm/filtered", "dmm/filtered"]
    assert zilean.ledger.by_endpoint("dmm") == {"dmm/filtered": 2}  # every attempt counts


async def test_a_body_that_is_not_an_array_is_a_bad_response() -> None:
    served = Served(answer({"results": []}))
    async with client(served) as zilean:
        with pytest.raises(BadResponse):
            await zilean.movie(imdb_id=None, tmdb_id=None, title="Dune", year=2021)


async def test_the_url_never_appears_in_errors() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    cases: list[Served] = [
        Served(refuse),
        Served(answer([]), ping=refuse),
        Served(lambda request: httpx.Response(503, text=f"upstream {URL} failed")),
        Served(lambda request: httpx.Response(200, text=f"not json {URL}")),
    ]
    for served in cases:
        async with client(served) as zilean:
            with pytest.raises(ServiceError) as err:
                await zilean.movie(imdb_id=None, tmdb_id=None, title="Dune", year=2021)
        assert TOKEN not in str(err.value) and TOKEN not in repr(err.value.args), str(err.value)
    assert isinstance(err.value, BadResponse)


async def test_the_daily_budget_counts_search_calls_not_pings() -> None:
    served = Served(answer([]))
    async with client(served, daily_budget=2) as zilean:
        await zilean.movie(imdb_id=None, tmdb_id=None, title="A", year=None)
        await zilean.movie(imdb_id=None, tmdb_id=None, title="B", year=None)
        with pytest.raises(RateLimited) as err:
            await zilean.movie(imdb_id=None, tmdb_id=None, title="C", year=None)
    assert err.value.error == "daily_budget"
    assert served.paths().count("dmm/filtered") == 2 and served.paths().count("healthchecks/ping") == 1


# -- against the emulator ---------------------------------------------------------------------------------------


def emulated(scenario: Scenario, **kw: Any) -> tuple[ZileanClient, ZileanEmulator, CallLedger]:
    app = create_app(scenario, VirtualClock())
    ledger = CallLedger()
    zilean = ZileanClient(
        "zilean", settings("http://zilean.sandbox:8181", **kw), transport=httpx.ASGITransport(app=app), ledger=ledger
    )
    return zilean, app.state.emulator, ledger


async def test_against_the_emulator_one_call_per_search() -> None:
    zilean, emulator, _ = emulated(load_scenario("starter"))
    async with zilean:
        check = await zilean.check()
        movie = await zilean.movie(imdb_id=NOTLD, tmdb_id=10331, title="Night of the Living Dead", year=1968)
        episode = await zilean.episode(imdb_id="tt0903747", tvdb_id=81189, title="Breaking Bad", season=2, episode=4)
        shogun = await zilean.episode(imdb_id="tt2788316", tvdb_id=None, title="Shōgun", season=1, episode=3)
    assert check.ok and check.details["imdb matching"] == "seen"
    assert check.details["probe"] == "3 releases of Night of the Living Dead (1968)"
    assert {s.release_name for s in movie} == {
        "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-EXAMPLE",
        "Night.of.the.Living.Dead.1968.2160p.UHD.BluRay.x265.10bit.HDR.DV-EXAMPLE",
        "Night.of.the.Living.Dead.1968.HDCAM.x264-EXAMPLE",
    }
    assert all(s.seeders is None and s.size_bytes and s.source == "zilean" for s in movie)
    assert {s.release_name for s in episode} == {
        "Breaking.Bad.S02.1080p.BluRay.x264-EXAMPLE",  # the season pack comes too: selection judges it
        "Breaking.Bad.S02E04.720p.HDTV.x264-EXAMPLE",
        "Breaking Bad (2008) Complete Series S01-S05 (2160p BluRay x265 HEVC 10bit HDR AAC 5.1)-EXAMPLE",
    }
    assert len(shogun) == 2  # both Shogun series: the title matches, selection tells the years apart
    assert emulator.count("dmm/filtered") == 4 and emulator.count(PING) == 1  # one ping: check()
    assert zilean.budget.used == 0  # no budget configured


async def test_against_the_emulator_a_database_outage_raises_instead_of_reading_as_nothing() -> None:
    zilean, emulator, _ = emulated(load_scenario("starter"))
    emulator.set_database_down()
    async with zilean:
        with pytest.raises(ServiceUnavailable):
            await zilean.movie(imdb_id=NOTLD, tmdb_id=10331, title="Night of the Living Dead", year=1968)
    statuses = [c.status for c in emulator.calls]
    assert statuses[0] == 200 and set(statuses[1:]) == {503}  # the empty search, then the ping (and its retries)
    assert emulator.count("dmm/filtered") == 1


async def test_against_the_emulator_imdb_retry_only_where_imdb_ids_are_seen() -> None:
    scenario = load_scenario("starter")
    for matching in (True, False):
        zilean, emulator, _ = emulated(scenario)
        emulator.imdb_matching = matching
        async with zilean:
            await zilean.movie(imdb_id="tt1160419", tmdb_id=None, title="Dune", year=2021)
            # A title the strict trigram match misses (another language's name for the film).
            found = await zilean.movie(imdb_id=NOTLD, tmdb_id=None, title="La Nuit des morts-vivants", year=1968)
        assert zilean.imdb_ids_seen is matching
        assert len(found) == (3 if matching else 0)
        searches = [c.params for c in emulator.calls_to("dmm/filtered")]
        assert len(searches) == (3 if matching else 2)
        if matching:
            assert searches[-1] == {"ImdbId": NOTLD}  # no Year with an exact id
