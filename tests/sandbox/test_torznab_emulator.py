"""The Torznab indexer emulator: the key check, caps, searches by imdbid, q and season/ep, magnet-only and unlisted
releases, future uploads, parameter errors, paging and the state tests use."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, time
from typing import Any

import httpx
import pytest

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import GB, Scenario
from seerbridge.sandbox.torznab import TorznabEmulator, create_app
from seerbridge.sandbox.torznab_xml import TORZNAB_NS

KEY = "sandbox-torznab-key-0123456789ab"
HOST = "http://torznab.sandbox"
A = "{" + TORZNAB_NS + "}attr"
HD = "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-EXAMPLE"
MAGNET_ONLY = "Night.of.the.Living.Dead.1968.720p.WEB-DL.x264-OTHER"
HIDDEN = "Night.of.the.Living.Dead.1968.480p.DVDRip-HIDDEN"
LATER = "Night.of.the.Living.Dead.1968.2160p.UHD.BluRay.x265-LATER"
PACK = "Breaking.Bad.S01.1080p.BluRay.x264-EXAMPLE"
SINGLE = "Breaking.Bad.S01E02.720p.HDTV.x264-EXAMPLE"
OTHER_SEASON = "Breaking.Bad.S02.1080p.BluRay.x264-EXAMPLE"


def scenario() -> Scenario:
    movie, show = "tt0063350", "tt0903747"
    return Scenario.model_validate(
        {
            "name": "torznab",
            "today": "2026-03-01",
            "media": [
                {
                    "type": "movie",
                    "tmdb_id": 10331,
                    "imdb_id": movie,
                    "title": "Night of the Living Dead",
                    "year": 1968,
                },
                {
                    "type": "tv",
                    "tmdb_id": 1396,
                    "imdb_id": show,
                    "tvdb_id": 81189,
                    "title": "Breaking Bad",
                    "year": 2008,
                    "seasons": [{"season": 1, "episodes": 7}, {"season": 2, "episodes": 13}],
                },
            ],
            "releases": [
                {"imdb_id": movie, "name": HD, "seeders": 40, "size": "4 GB", "provider": "1337x"},
                {"imdb_id": movie, "name": MAGNET_ONLY, "seeders": None, "torznab": "magnet", "provider": "YTS"},
                {"imdb_id": movie, "name": HIDDEN, "torznab": "none"},
                {"imdb_id": movie, "name": LATER, "published": "2026-04-01"},
                {"imdb_id": show, "name": PACK, "covers": {1: [1, 2, 3, 4, 5, 6, 7]}, "seeders": 12},
                {"imdb_id": show, "name": SINGLE, "covers": {1: [2]}, "seeders": 3},
                {"imdb_id": show, "name": OTHER_SEASON, "covers": {2: list(range(1, 14))}},
            ],
        }
    )


@pytest.fixture
def app() -> Any:
    scen = scenario()
    assert scen.today is not None
    return create_app(scen, VirtualClock(datetime.combine(scen.today, time(9), tzinfo=UTC)))


async def get(app: Any, **params: Any) -> httpx.Response:
    params.setdefault("apikey", KEY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST) as http:
        return await http.get("/api", params={k: v for k, v in params.items() if v is not None})


def items(response: httpx.Response) -> list[ET.Element]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    return root.findall("./channel/item")


def titles(response: httpx.Response) -> list[str]:
    return [item.findtext("title") or "" for item in items(response)]


def attrs(item: ET.Element) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for attr in item.findall(A):
        out.setdefault(attr.get("name") or "", []).append(attr.get("value") or "")
    return out


def error(response: httpx.Response) -> tuple[int, str]:
    root = ET.fromstring(response.content)
    assert root.tag == "error"
    return int(root.get("code") or 0), root.get("description") or ""


async def test_caps_as_jackett_lists_them(app: Any) -> None:
    response = await get(app, t="caps")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    searching = {e.tag: (e.get("available"), e.get("supportedParams")) for e in root.find("searching") or []}
    assert searching["search"] == ("yes", "q")
    assert searching["tv-search"] == ("yes", "q,imdbid,season,ep")
    assert searching["movie-search"] == ("yes", "q,imdbid")
    limits = root.find("limits")
    assert limits is not None and (limits.get("default"), limits.get("max")) == ("100", "100")
    assert {c.get("id") for c in root.iter("category")} == {"2000", "5000"}
    assert {c.get("id") for c in root.iter("subcat")} >= {"2040", "5040"}


@pytest.mark.parametrize("apikey", [None, "", "wrong-key-0123456789"])
async def test_a_wrong_or_missing_key_is_error_100_with_http_200(app: Any, apikey: str | None) -> None:
    response = await get(app, t="caps", apikey=apikey)
    assert response.status_code == 200
    assert error(response) == (100, "Invalid API Key")
    assert app.state.emulator.search_count() == 0


async def test_movie_by_imdbid_lists_infohash_and_magnet_only_releases(app: Any) -> None:
    response = await get(app, t="movie", imdbid="tt0063350", cat="2000")
    found = items(response)
    assert [i.findtext("title") for i in found] == [HD, MAGNET_ONLY]  # not HIDDEN (none), not LATER (future)
    hd, magnet_only = found
    hd_attrs = attrs(hd)
    assert hd_attrs["infohash"] == [app.state.emulator.releases[0].info_hash]
    assert hd_attrs["magneturl"][0].startswith("magnet:?xt=urn:btih:" + hd_attrs["infohash"][0])
    assert hd_attrs["seeders"] == ["40"] and int(hd_attrs["peers"][0]) >= 40
    assert hd_attrs["category"] == ["2000", "2040"] and hd_attrs["imdb"] == ["0063350"]
    assert hd.findtext("size") == str(4 * GB)
    assert hd.findtext("jackettindexer") == "1337x"
    assert hd.findtext("pubDate", "").endswith("+0000")
    assert KEY in (hd.findtext("link") or "")  # Jackett's proxy link carries the key, as the real one does
    mo_attrs = attrs(magnet_only)
    assert "infohash" not in mo_attrs and "magneturl" not in mo_attrs and "seeders" not in mo_attrs
    link = magnet_only.findtext("link") or ""
    enclosure = magnet_only.find("enclosure")
    assert link.startswith("magnet:?xt=urn:btih:") and enclosure is not None and enclosure.get("url") == link
    assert "x-scheme-handler/magnet" in (enclosure.get("type") or "")


async def test_imdbid_without_tt_and_padding_are_accepted(app: Any) -> None:
    assert titles(await get(app, t="movie", imdbid="63350")) == [HD, MAGNET_ONLY]


async def test_q_matches_title_words_and_year(app: Any) -> None:
    assert titles(await get(app, t="movie", q="Night of the Living Dead 1968")) == [HD, MAGNET_ONLY]
    assert titles(await get(app, t="movie", q="night living dead")) == [HD, MAGNET_ONLY]
    assert titles(await get(app, t="movie", q="Night of the Living Dead 1990")) == []
    assert titles(await get(app, t="movie", q="Breaking Bad")) == []  # a show, not a movie
    assert set(titles(await get(app, t="search", q="Breaking Bad"))) == {PACK, SINGLE, OTHER_SEASON}


async def test_tv_search_by_season_and_episode_includes_packs(app: Any) -> None:
    by_id = await get(app, t="tvsearch", imdbid="tt0903747", season=1, ep=2, cat="5000")
    assert titles(by_id) == [PACK, SINGLE]
    assert attrs(items(by_id)[0])["category"] == ["5000", "5040"]
    assert titles(await get(app, t="tvsearch", q="Breaking Bad", season=1, ep=5)) == [PACK]
    assert titles(await get(app, t="tvsearch", q="Breaking Bad", season=2)) == [OTHER_SEASON]
    # As text, an episode number finds only names that carry it: never a season pack.
    assert titles(await get(app, t="tvsearch", q="Breaking Bad S01E02")) == [SINGLE]


async def test_categories_filter_items(app: Any) -> None:
    assert titles(await get(app, t="search", q="Night", cat="5000")) == []
    assert titles(await get(app, t="search", q="Night", cat="2040")) == [HD, MAGNET_ONLY]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"t": "music"}, 400, 202),
        ({"t": "nonsense"}, 400, 202),
        ({}, 400, 200),
        ({"t": "movie", "imdbid": "abc"}, 400, 201),
        ({"t": "movie", "imdbid": "tt0000000"}, 400, 201),
        ({"t": "movie", "tmdbid": "10331"}, 400, 203),
        ({"t": "search", "imdbid": "tt0063350"}, 400, 203),
    ],
)
async def test_parameter_errors(app: Any, params: dict[str, str], status: int, code: int) -> None:
    response = await get(app, **params)
    assert response.status_code == status
    assert error(response)[0] == code


async def test_paging_limit_and_offset(app: Any) -> None:
    assert titles(await get(app, t="movie", imdbid="tt0063350", limit=1)) == [HD]
    assert titles(await get(app, t="movie", imdbid="tt0063350", offset=100)) == []


async def test_state_adds_and_removes_releases_and_counts_searches(app: Any) -> None:
    emulator: TorznabEmulator = app.state.emulator
    await get(app, t="caps")
    await get(app, t="movie", imdbid="tt0063350")
    emulator.remove_release(emulator.releases[0].info_hash)
    emulator.add_release({"imdb_id": "tt0063350", "name": "Night.of.the.Living.Dead.1968.REMUX-NEW"})
    assert titles(await get(app, t="movie", imdbid="tt0063350")) == [
        MAGNET_ONLY,
        "Night.of.the.Living.Dead.1968.REMUX-NEW",
    ]
    assert emulator.search_count() == 2 and emulator.search_count("movie") == 2
    assert emulator.searches[0].params == {"t": "movie", "imdbid": "tt0063350"}  # the key is not kept


async def test_future_release_appears_on_its_day(app: Any) -> None:
    emulator: TorznabEmulator = app.state.emulator
    assert LATER not in titles(await get(app, t="movie", imdbid="tt0063350"))
    days = (date(2026, 4, 1) - emulator.clock.today()).days
    emulator.clock.advance(days * 86400)
    assert LATER in titles(await get(app, t="movie", imdbid="tt0063350"))


async def test_caps_can_be_changed_and_errors_queued(app: Any) -> None:
    emulator: TorznabEmulator = app.state.emulator
    emulator.movie_params = ""
    root = ET.fromstring((await get(app, t="caps")).content)
    movie = root.find("searching/movie-search")
    assert movie is not None and movie.get("available") == "no"
    assert error(await get(app, t="movie", q="Night"))[0] == 203
    emulator.queue_error(900, "Search busy", status=429, retry_after=7)
    busy = await get(app, t="caps")
    assert busy.status_code == 429 and busy.headers["retry-after"] == "7" and error(busy)[0] == 900


async def test_faults_come_from_the_sandbox_middleware(app: Any) -> None:
    app.state.sandbox.queue("too_many")
    response = await get(app, t="caps")
    assert response.status_code == 429 and error(response)[0] == 900
