"""The Torznab client: the search chosen by caps, items of each server's shape (Prowlarr, Jackett, Comet, StremThru)
read into Streams, hashes from attributes and magnets (hex and base32), unusable items skipped, `<error>` codes on any
HTTP status turned into typed errors, the daily budget, and the API key kept out of streams, errors and logs."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import httpx
import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from seerbridge.config import SourceSettings
from seerbridge.errors import (
    AuthenticationError,
    BadResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestRejected,
    ServiceUnavailable,
)
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import GB, Scenario
from seerbridge.sandbox.torznab import TorznabEmulator, create_app
from seerbridge.services.calls import CallLedger
from seerbridge.services.torznab import PAGE_CAP, TorznabClient, page_size, plan_episode, plan_movie
from seerbridge.services.torznab_feed import (
    MalformedFeed,
    Search,
    SearchCaps,
    TorznabCaps,
    hash_from_magnet,
    parse_feed,
    read_document,
)

KEY = "TOPSECRETTORZNABKEY0123456789xyz"
URL = "http://prowlarr.test/1/api"
HASH = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
HASH2 = "0123456789abcdef0123456789abcdef01234567"
HASH3 = "fedcba9876543210fedcba9876543210fedcba98"
NS = 'xmlns:torznab="http://torznab.com/schemas/2015/feed"'

JACKETT_CAPS = """<?xml version="1.0" encoding="UTF-8"?>
<caps><server title="Jackett"/><limits default="100" max="100"/>
<searching>
  <search available="yes" supportedParams="q"/>
  <tv-search available="yes" supportedParams="q,imdbid,season,ep"/>
  <movie-search available="yes" supportedParams="q,imdbid"/>
  <music-search available="no" supportedParams="q"/>
</searching>
<categories>
  <category id="2000" name="Movies"><subcat id="2040" name="Movies/HD"/></category>
  <category id="5000" name="TV"><subcat id="5070" name="TV/Anime"/></category>
  <category id="100001" name="Custom"/>
</categories></caps>"""


def caps_xml(*, search: str = "q", tv: str | None = "q,season,ep", movie: str | None = "q", limits: str = "") -> str:
    def function(name: str, params: str | None) -> str:
        if params is None:
            return f'<{name} available="no" supportedParams="q"/>'
        return f'<{name} available="yes" supportedParams="{params}"/>'

    return (
        f'<caps><server title="Test" version="1.2.3"/>{limits}<searching>{function("search", search)}'
        f"{function('tv-search', tv)}{function('movie-search', movie)}</searching>"
        '<categories><category id="2000" name="Movies"/><category id="5000" name="TV"/></categories></caps>'
    )


def feed(*items: str, version: str = "2.0") -> str:
    head = f'<?xml version="1.0" encoding="UTF-8"?><rss version="{version}" {NS}><channel><title>t</title>'
    return head + "".join(items) + "</channel></rss>"


def attr(name: str, value: object) -> str:
    return f'<torznab:attr name="{name}" value="{value}"/>'


def settings_for(url: str = URL, key: str = KEY, **kw: Any) -> SourceSettings:
    values: dict[str, Any] = {
        "kind": "torznab",
        "url": SecretStr(url),
        "api_key": SecretStr(key),
        "rate_limit_per_min": 0,
        "retries": 2,
        "timeout_s": 2.0,
        **kw,
    }
    return SourceSettings(**values)


class Served:
    """A MockTransport handler: caps for `t=caps`, else the answer function; records every request."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response], caps: str = JACKETT_CAPS) -> None:
        self.answer = answer
        self.caps = caps
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.params.get("t") == "caps":
            return httpx.Response(200, text=self.caps, headers={"content-type": "application/xml"})
        return self.answer(request)

    @property
    def searches(self) -> list[dict[str, str]]:
        return [dict(r.url.params) for r in self.requests if r.url.params.get("t") != "caps"]


def xml(
    body: str, status: int = 200, headers: dict[str, str] | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(
        status, text=body, headers={"content-type": "application/xml", **(headers or {})}
    )


def client(served: Served, url: str = URL, **kw: Any) -> TorznabClient:
    return TorznabClient("prowlarr", settings_for(url, **kw), transport=httpx.MockTransport(served))


async def movie(tz: TorznabClient) -> list[Any]:
    return await tz.movie(imdb_id="tt0063350", tmdb_id=10331, title="Night of the Living Dead", year=1968)


# -- each server's shape ------------------------------------------------------------------------------------------


async def test_prowlarr_like_feed_infohash_attribute_and_a_proxy_link() -> None:
    proxy = f"http://prowlarr.test/1/download?apikey={KEY}&amp;link=abc&amp;file=x"
    body = feed(
        "<item><title>Night.of.the.Living.Dead.1968.1080p.BluRay.x264-GRP</title>"
        f"<guid>{proxy}</guid><link>{proxy}</link><size>1460985071</size>"
        '<prowlarrindexer id="7" type="public">TorrentGalaxy</prowlarrindexer>'
        f'<enclosure url="{proxy}" length="0" type="application/x-bittorrent"/>'
        f"{attr('category', 2040)}{attr('seeders', 12)}{attr('peers', 15)}{attr('infohash', HASH.upper())}"
        f"{attr('imdb', '0063350')}</item>",
        version="1.0",
    )
    served = Served(xml(body))
    async with client(served) as tz:
        streams = await movie(tz)
    [stream] = streams
    assert stream.release_name == "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-GRP"
    assert (stream.info_hash, stream.size_bytes, stream.seeders) == (HASH, 1460985071, 12)
    assert (stream.provider, stream.source, stream.file_idx) == ("TorrentGalaxy", "prowlarr", None)
    assert KEY not in repr(streams)
    # Exactly the configured endpoint (no trailing slash), the key as apikey=, the caps-chosen search.
    assert {r.url.path for r in served.requests} == {"/1/api"}
    assert served.searches == [{"t": "movie", "apikey": KEY, "imdbid": "tt0063350", "cat": "2000", "limit": "100"}]


async def test_comet_like_feed_guid_is_the_hash_and_the_link_a_magnet() -> None:
    magnet = f"magnet:?xt=urn:btih:{HASH}&amp;dn=Night&amp;tr=udp%3A%2F%2Ftracker.example%3A1337"
    body = feed(
        f'<item><title>Night of the Living Dead (1968) 2160p</title><guid isPermaLink="false">{HASH}</guid>'
        f"<link>{magnet}</link><category>Movies</category>"
        f'<enclosure url="{magnet}" length="0" type="application/x-bittorrent;x-scheme-handler/magnet"/>'
        f"{attr('category', 2000)}{attr('size', 21 * GB)}{attr('seeders', 0)}{attr('language', 'English, French')}"
        f"{attr('resolution', '2160p')}</item>"
    )
    caps = caps_xml(tv="q,imdbid,season,ep", movie="q,imdbid", limits='<limits max="10000" default="10000"/>')
    served = Served(xml(body), caps=caps)
    async with client(served, "http://comet.test/torznab/api", key="") as tz:
        [stream] = await movie(tz)
    assert (stream.info_hash, stream.size_bytes, stream.seeders) == (HASH, 21 * GB, 0)
    assert stream.languages == ("English", "French") and stream.provider is None
    # No key configured: none sent; Comet's huge default page is capped.
    assert served.searches == [{"t": "movie", "imdbid": "tt0063350", "cat": "2000", "limit": str(PAGE_CAP)}]


async def test_stremthru_like_feed_without_seeders_names_the_site() -> None:
    body = feed(
        f"<item><title>Night.of.the.Living.Dead.1968.720p</title><guid>{HASH}</guid>"
        f"<link>magnet:?xt=urn:btih:{HASH}</link>{attr('infohash', HASH)}"
        f"{attr('magneturl', f'magnet:?xt=urn:btih:{HASH}')}{attr('size', 123)}{attr('site', 'dmm')}</item>"
    )
    async with client(Served(xml(body), caps=caps_xml(movie="q,imdbid")), key="") as tz:
        [stream] = await movie(tz)
    assert (stream.seeders, stream.provider, stream.size_bytes) == (None, "dmm", 123)


async def test_base32_btih_and_unusable_items_are_skipped_and_counted() -> None:
    b32 = base64.b32encode(bytes.fromhex(HASH2)).decode()
    body = feed(
        f"<item><title>Base32</title><link>magnet:?dn=x&amp;xt=urn:btih:{b32}</link></item>",
        "<item><title>Proxy only</title><link>http://jackett.test/dl/x/?jackett_apikey=K&amp;path=p</link>"
        '<enclosure url="http://jackett.test/dl/x" type="application/x-bittorrent"/></item>',
        f"<item><title></title>{attr('infohash', HASH3)}</item>",
        f"<item><title>Short hash</title>{attr('infohash', 'abc123')}</item>",
        "<item><title>Bad magnet</title><link>magnet:?xt=urn:btih:nothex</link></item>",
        f"<item><title>Duplicate</title><link>magnet:?xt=urn:btih:{HASH2.upper()}</link></item>",
    )
    with structlog.testing.capture_logs() as logs:
        async with client(Served(xml(body))) as tz:
            streams = await movie(tz)
    assert [(s.release_name, s.info_hash) for s in streams] == [("Base32", HASH2)]
    assert tz.skipped == {
        "no infohash and no magnet (links are not fetched)": 1,
        "no title": 1,
        "malformed infohash attribute": 1,
        "malformed btih in magnet": 1,
    }
    skipped = [e for e in logs if e["event"] == "skipped item"]
    assert len(skipped) == 4 and all(e["log_level"] == "debug" for e in skipped)
    assert "jackett_apikey" not in repr(logs)  # links are never logged


async def test_a_generic_search_drops_items_of_other_categories() -> None:
    body = feed(
        f"<item><title>Movie</title>{attr('infohash', HASH)}{attr('category', 2040)}{attr('category', 100002)}</item>",
        f"<item><title>Album</title>{attr('infohash', HASH2)}{attr('category', 3000)}</item>",
        f"<item><title>Unknown</title>{attr('infohash', HASH3)}{attr('category', 100003)}</item>",
    )
    served = Served(xml(body), caps=caps_xml(movie=None))
    async with client(served) as tz:
        streams = await movie(tz)
    assert [s.release_name for s in streams] == ["Movie", "Unknown"]
    assert served.searches[0]["t"] == "search"
    assert served.searches[0]["q"] == "Night of the Living Dead 1968"


# -- the search chosen by caps --------------------------------------------------------------------------------------


def caps_of(**functions: str | None) -> TorznabCaps:
    return TorznabCaps(
        limit_default=50,
        limit_max=200,
        searching={
            Search(name.replace("_", "-")): SearchCaps(params is not None, frozenset((params or "").split(",")))
            for name, params in functions.items()
        },
        categories={2000: "Movies", 2040: "Movies/HD", 5000: "TV"},
    )


def test_movie_plans_prefer_imdbid_then_tmdbid_then_title_and_year() -> None:
    full = caps_of(search="q", movie_search="q,imdbid,tmdbid")
    kw: dict[str, Any] = {"tmdb_id": 329865, "title": "Arrival", "year": 2016}
    assert plan_movie(full, imdb_id="tt2543164", **kw).params == {"imdbid": "tt2543164", "cat": "2000", "limit": "50"}
    assert plan_movie(full, imdb_id=None, **kw).params["tmdbid"] == "329865"
    plain = caps_of(search="q", movie_search="q")
    plan = plan_movie(plain, imdb_id="tt2543164", tmdb_id=1, title="Spider-Man: Homecoming", year=2017)
    assert (plan.t, plan.params["q"]) == ("movie", "Spider Man Homecoming 2017")
    assert plan_movie(caps_of(search="q"), imdb_id="tt2543164", **kw).t == "search"


def test_episode_plans_use_season_and_ep_only_when_both_are_listed() -> None:
    full = caps_of(search="q", tv_search="q,imdbid,tvdbid,season,ep")
    kw: dict[str, Any] = {"tvdb_id": 81189, "title": "Breaking Bad", "season": 1, "episode": 2}
    assert plan_episode(full, imdb_id="tt0903747", **kw).params == {
        "imdbid": "tt0903747",
        "season": "1",
        "ep": "2",
        "cat": "5000",
        "limit": "50",
    }
    assert plan_episode(full, imdb_id=None, **kw).params["tvdbid"] == "81189"
    no_season = caps_of(search="q", tv_search="q,imdbid")
    assert plan_episode(no_season, imdb_id="tt0903747", **kw).params["q"] == "S01E02"
    text = plan_episode(caps_of(search="q", tv_search="q,season"), imdb_id="tt0903747", **kw)
    assert (text.t, text.params["q"], "season" in text.params) == ("tvsearch", "Breaking Bad S01E02", False)
    generic = plan_episode(caps_of(search="q", tv_search=None), imdb_id="tt0903747", **kw)
    assert (generic.t, generic.params["q"]) == ("search", "Breaking Bad S01E02")


def test_page_size_is_the_caps_default_within_limits() -> None:
    assert page_size(TorznabCaps()) == PAGE_CAP
    assert page_size(TorznabCaps(limit_default=10000, limit_max=10000)) == PAGE_CAP
    assert page_size(TorznabCaps(limit_default=50, limit_max=20)) == 20


async def test_no_search_function_is_refused_without_a_search_call() -> None:
    served = Served(xml(feed()), caps='<caps><searching><search available="no"/></searching></caps>')
    async with client(served) as tz:
        with pytest.raises(RequestRejected, match="neither movie-search nor search"):
            await movie(tz)
        check = await tz.check()
    assert served.searches == []
    assert not check.ok and len(check.problems) == 2


async def test_caps_are_read_once_and_check_reports_them() -> None:
    served = Served(xml(feed()))
    async with client(served) as tz:
        await movie(tz)
        await tz.episode(imdb_id="tt0903747", tvdb_id=None, title="Breaking Bad", season=1, episode=2)
        check = await tz.check()
    assert [r.url.params["t"] for r in served.requests] == ["caps", "movie", "tvsearch", "caps"]
    assert served.searches[1] == {
        "t": "tvsearch", "apikey": KEY, "imdbid": "tt0903747", "season": "1", "ep": "2", "cat": "5000", "limit": "100"
    }  # fmt: skip
    assert check.ok and check.service == "prowlarr" and check.version is None
    assert check.details["server"] == "Jackett" and check.details["movie-search"] == "imdbid,q"
    assert tz.ledger.by_endpoint("prowlarr") == {"caps": 2, "movie": 1, "tvsearch": 1}


async def test_query_parameters_in_the_configured_url_are_kept() -> None:
    served = Served(xml(feed()))
    async with client(served, "http://jackett.test/api/v2.0/indexers/all/results/torznab/api?cache=false") as tz:
        await movie(tz)
    assert {r.url.path for r in served.requests} == {"/api/v2.0/indexers/all/results/torznab/api"}
    assert all(r.url.params["cache"] == "false" for r in served.requests)


async def test_the_daily_budget_counts_searches_not_caps() -> None:
    served = Served(xml(feed()))
    async with client(served, daily_budget=1) as tz:
        await movie(tz)
        with pytest.raises(RateLimited) as exc:
            await movie(tz)
    assert exc.value.error == "daily_budget"
    assert len(served.searches) == 1


# -- errors ---------------------------------------------------------------------------------------------------------


def error_body(code: int, description: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><error code="{code}" description="{description}"/>'


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        (100, 200, AuthenticationError),
        (101, 200, PermissionDenied),
        (102, 200, PermissionDenied),
        (200, 400, RequestRejected),
        (201, 400, RequestRejected),
        (202, 400, RequestRejected),
        (203, 400, RequestRejected),
        (300, 200, NotFound),
        (500, 200, RateLimited),
        (501, 200, RateLimited),
        (900, 200, ServiceUnavailable),
        (900, 400, ServiceUnavailable),
        (910, 200, ServiceUnavailable),
        (410, 410, ServiceUnavailable),
        (429, 429, RateLimited),
        (999, 200, RequestRejected),
    ],
)
async def test_error_elements_become_typed_errors_whatever_the_status(
    code: int, status: int, error: type[Exception]
) -> None:
    served = Served(xml(error_body(code, "Something went wrong"), status))
    async with client(served) as tz:
        with pytest.raises(error) as exc:
            await movie(tz)
    assert getattr(exc.value, "error_code", None) == code
    assert "Something went wrong" in str(exc.value)


async def test_error_100_on_caps_with_http_200_is_an_authentication_error() -> None:
    served = Served(xml(""), caps=error_body(100, "Invalid API Key"))
    async with client(served) as tz:
        with pytest.raises(AuthenticationError) as exc:
            await tz.check()
    assert (exc.value.status, exc.value.error, exc.value.error_code) == (200, "incorrect_user_credentials", 100)


async def test_http_401_without_a_body_is_an_authentication_error() -> None:
    refusing = httpx.MockTransport(lambda r: httpx.Response(401))  # Prowlarr's auth layer, before any Torznab
    async with TorznabClient("prowlarr", settings_for(), transport=refusing) as tz:
        with pytest.raises(AuthenticationError):
            await tz.caps()


async def test_http_429_with_retry_after_pauses_the_client() -> None:
    body = error_body(429, "Query limit reached")
    served = Served(xml(body, 429, {"Retry-After": "120"}))
    async with client(served) as tz:
        with pytest.raises(RateLimited) as exc:
            await movie(tz)
        assert 100 < tz.paused_for <= 120
    assert exc.value.retry_after == 120 and exc.value.status == 429
    assert "Query limit reached" in str(exc.value)
    assert len(served.searches) == 1  # a wait longer than the retry budget is not waited out


async def test_a_limit_said_with_http_200_pauses_the_client_too() -> None:
    served = Served(xml(error_body(500, "Request limit reached"), 200, {"Retry-After": "90"}))
    async with client(served) as tz:
        with pytest.raises(RateLimited) as exc:
            await movie(tz)
        assert tz.paused_for > 60
    assert exc.value.retry_after == 90


@pytest.mark.parametrize(
    "body",
    [
        '{"streams": []}',
        "<rss><channel><item><title>cut",
        "",
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss><channel>&a;</channel></rss>',
        "<html><body>Login</body></html>",
        '<rss version="2.0"/>',
    ],
)
async def test_unreadable_bodies_are_bad_responses(body: str) -> None:
    async with client(Served(xml(body))) as tz:
        with pytest.raises(BadResponse):
            await movie(tz)


async def test_a_404_without_a_torznab_body_is_not_found() -> None:
    async with client(Served(lambda r: httpx.Response(404, text="Not Found"))) as tz:
        with pytest.raises(NotFound):
            await movie(tz)


async def test_the_api_key_never_reaches_errors_or_logs(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    with structlog.testing.capture_logs() as logs:
        for answer in (
            xml(error_body(100, f"Invalid API Key {KEY}")),
            xml(error_body(900, f"Upstream failed for http://x/?apikey={KEY}"), 400),
            lambda r: httpx.Response(503, text=f"down: {r.url}"),
            lambda r: httpx.Response(429, text=f"slow down {r.url}", headers={"Retry-After": "300"}),
            lambda r: httpx.Response(404, text=str(r.url)),
        ):
            async with client(Served(answer)) as tz:
                with pytest.raises(Exception) as exc:  # each answer raises its own type
                    await movie(tz)
                errors.append(str(exc.value) + repr(exc.value.__dict__))
    seen = "".join(errors) + repr(logs) + caplog.text + capsys.readouterr().out
    assert "Invalid API Key ***" in seen
    assert KEY not in seen


# -- against the emulator -------------------------------------------------------------------------------------------


def emulated_scenario() -> Scenario:
    return Scenario.model_validate(
        {
            "name": "torznab-client",
            "today": "2026-03-01",
            "media": [
                {"type": "movie", "tmdb_id": 10331, "imdb_id": "tt0063350", "title": "Night of the Living Dead",
                 "year": 1968},
                {"type": "tv", "tmdb_id": 1396, "imdb_id": "tt0903747", "tvdb_id": 81189, "title": "Breaking Bad",
                 "year": 2008, "seasons": [{"season": 1, "episodes": 7}]},
            ],
            "releases": [
                {"imdb_id": "tt0063350", "name": "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-A", "seeders": 40,
                 "size": "4 GB", "provider": "1337x"},
                {"imdb_id": "tt0063350", "name": "Night.of.the.Living.Dead.1968.720p.WEB-DL-B", "seeders": 5,
                 "torznab": "magnet", "provider": "YTS"},
                {"imdb_id": "tt0063350", "name": "Night.of.the.Living.Dead.1968.480p-C", "torznab": "none"},
                {"imdb_id": "tt0903747", "name": "Breaking.Bad.S01.1080p.BluRay-D", "covers": {1: [1, 2, 3]}},
                {"imdb_id": "tt0903747", "name": "Breaking.Bad.S01E02.720p.HDTV-E", "covers": {1: [2]}},
            ],
        }
    )  # fmt: skip


def emulated(**kw: Any) -> tuple[TorznabClient, Any]:
    scenario = emulated_scenario()
    assert scenario.today is not None
    app = create_app(scenario, VirtualClock(datetime.combine(scenario.today, time(9), tzinfo=UTC)))
    settings = settings_for("http://torznab.sandbox/api", key=scenario.keys["torznab"], **kw)
    tz = TorznabClient("jackett", settings, transport=httpx.ASGITransport(app=app), ledger=CallLedger())
    return tz, app


async def test_against_the_emulator_movies_episodes_and_check() -> None:
    tz, app = emulated()
    emulator: TorznabEmulator = app.state.emulator
    async with tz:
        check = await tz.check()
        films = await movie(tz)
        episode = await tz.episode(imdb_id="tt0903747", tvdb_id=81189, title="Breaking Bad", season=1, episode=2)
    assert check.ok and check.details["tv-search"] == "ep,imdbid,q,season"
    by_name = {s.release_name: s for s in films}
    assert set(by_name) == {
        "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-A",
        "Night.of.the.Living.Dead.1968.720p.WEB-DL-B",
    }
    hashed = {r.name: r.info_hash for r in emulator.releases}
    for name, stream in by_name.items():
        assert stream.info_hash == hashed[name] and stream.source == "jackett"
    first = by_name["Night.of.the.Living.Dead.1968.1080p.BluRay.x264-A"]
    assert (first.size_bytes, first.seeders, first.provider) == (4 * GB, 40, "1337x")
    assert by_name["Night.of.the.Living.Dead.1968.720p.WEB-DL-B"].provider == "YTS"  # hash read from the magnet
    assert [s.release_name for s in episode] == ["Breaking.Bad.S01.1080p.BluRay-D", "Breaking.Bad.S01E02.720p.HDTV-E"]
    assert [s.params for s in emulator.searches] == [
        {"t": "movie", "imdbid": "tt0063350", "cat": "2000", "limit": "100"},
        {"t": "tvsearch", "imdbid": "tt0903747", "season": "1", "ep": "2", "cat": "5000", "limit": "100"},
    ]
    assert tz.ledger.by_endpoint("jackett") == {"caps": 1, "movie": 1, "tvsearch": 1}
    assert emulator.api_key not in repr(films + episode)


async def test_against_a_q_only_emulator_the_title_is_searched() -> None:
    tz, app = emulated()
    emulator: TorznabEmulator = app.state.emulator
    emulator.movie_params = "q"
    emulator.tv_params = "q"
    async with tz:
        films = await movie(tz)
        episode = await tz.episode(imdb_id="tt0903747", tvdb_id=81189, title="Breaking Bad", season=1, episode=2)
    assert len(films) == 2
    assert [s.release_name for s in episode] == ["Breaking.Bad.S01E02.720p.HDTV-E"]  # text finds no pack
    assert [s.params.get("q") for s in emulator.searches] == ["Night of the Living Dead 1968", "Breaking Bad S01E02"]


async def test_against_the_emulator_a_wrong_key_and_faults() -> None:
    tz, app = emulated()
    async with tz:
        app.state.sandbox.queue("malformed")
        with pytest.raises(BadResponse):
            await tz.caps()
        app.state.sandbox.queue("error", 1)
        assert len(await movie(tz)) == 2  # caps, then a 503 retried
        app.state.emulator.queue_error(900, "Search busy; retry shortly")
        with pytest.raises(ServiceUnavailable):
            await movie(tz)
    wrong = TorznabClient(
        "jackett",
        settings_for("http://torznab.sandbox/api", key="wrong-key-0123456789"),
        transport=httpx.ASGITransport(app=app),
    )
    async with wrong:
        with pytest.raises(AuthenticationError):
            await wrong.check()


# -- parsing never crashes ----------------------------------------------------------------------------------------


def test_hash_from_magnet() -> None:
    assert hash_from_magnet(f"magnet:?xt=urn:btih:{HASH.upper()}&dn=x") == HASH
    assert hash_from_magnet("http://example/file.torrent") is None


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=60)


@settings(max_examples=150, deadline=None)
@given(title=_text, infohash=_text, link=_text, size=_text, seeders=_text)
def test_parsing_an_item_never_raises(title: str, infohash: str, link: str, size: str, seeders: str) -> None:
    body = feed(
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link><size>{escape(size)}</size>"
        f'<torznab:attr name="infohash" value={quoteattr(infohash)}/>'
        f'<torznab:attr name="seeders" value={quoteattr(seeders)}/></item>'
    )
    try:
        root = read_document(body.encode())
    except MalformedFeed:
        return
    result = parse_feed(root, source="x")
    assert result.items == 1 and len(result.streams) + len(result.skips) == 1
