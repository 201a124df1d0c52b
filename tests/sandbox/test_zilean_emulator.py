"""The Zilean emulator: TorrentInfo rows, /dmm/filtered's parameters and their semantics (trigram title match,
Season/Episode with packs, Year ±1, ImdbId, order, limit), /dmm/search, the ping, the database-down switch, the
state object's knobs, and injected faults."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import Scenario, load_scenario
from seerbridge.sandbox.zilean import FilteredQuery, ZileanEmulator, clean_title, create_app, similarity

HOST = "http://zilean.sandbox:8181"
NOTLD = "tt0063350"


def emulator_for(scenario: Scenario | None = None) -> tuple[httpx.AsyncClient, ZileanEmulator, Any]:
    app = create_app(scenario or load_scenario("starter"), VirtualClock())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST), app.state.emulator, app


async def filtered(http: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await http.get("/dmm/filtered", params=params)
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    return body


def titles(rows: list[dict[str, Any]]) -> set[str]:
    return {row["raw_title"] for row in rows}


# -- similarity ---------------------------------------------------------------------------------------------


def test_similarity_is_pg_trgm_s() -> None:
    # PostgreSQL's documentation: similarity('word', 'two words') = 0.36363637 (4 shared of 11 trigrams).
    assert similarity("word", "two words") == pytest.approx(4 / 11)
    assert similarity("Breaking Bad", "breaking   bad!") == 1.0
    assert similarity("", "anything") == 0.0
    assert similarity("Dune", "Dune Part Two") < 0.85


def test_clean_title_drops_zilean_s_stop_words() -> None:
    assert clean_title("The Lord of the Rings and It") == "Lord Rings"
    assert clean_title("Night of the Living Dead") == "Night Living Dead"


# -- rows -----------------------------------------------------------------------------------------------------


async def test_rows_carry_the_torrent_info_fields_with_size_as_a_string() -> None:
    http, _, _ = emulator_for()
    async with http:
        rows = await filtered(http, Query="Breaking Bad", Season=2, Episode=4)
    row = next(r for r in rows if r["raw_title"] == "Breaking.Bad.S02E04.720p.HDTV.x264-EXAMPLE")
    assert isinstance(row["size"], str) and row["size"] == str(600 * 1024**2)
    assert len(row["info_hash"]) == 40
    assert (row["parsed_title"], row["year"], row["seasons"], row["episodes"]) == ("Breaking Bad", 0, [2], [4])
    assert (row["resolution"], row["category"], row["imdb_id"], row["complete"]) == (
        "720p",
        "tvSeries",
        "tt0903747",
        False,
    )
    assert row["imdb"] == {
        "imdbId": "tt0903747",
        "category": "tvSeries",
        "title": "Breaking Bad",
        "adult": False,
        "year": 2008,
    }
    for name in ("normalized_title", "cleaned_parsed_title", "languages", "ingested_at", "hdr", "volumes", "adult"):
        assert name in row

    http, _, _ = emulator_for()
    async with http:
        movies = await filtered(http, Query="Dune", Year=2021)
    assert len(movies) == 3
    assert {(m["category"], m["year"], tuple(m["seasons"])) for m in movies} == {("movie", 2021, ())}


# -- /dmm/filtered semantics ------------------------------------------------------------------------------------


async def test_query_is_matched_strictly_and_parameter_names_are_case_insensitive() -> None:
    http, _, _ = emulator_for()
    async with http:
        exact = await filtered(http, Query="Night of the Living Dead")
        lower = await filtered(http, query="night of the living dead", year="1968")
        near = await filtered(http, Query="Night Living Dead")  # stop words do not count
        other = await filtered(http, Query="Night of the Living")
        empty = await http.post("/dmm/search", json={"queryText": ""})
    assert len(exact) == 3 and titles(exact) == titles(lower) == titles(near)
    assert other == [] and empty.json() == []


async def test_season_and_episode_semantics() -> None:
    http, _, _ = emulator_for()
    async with http:
        season2 = titles(await filtered(http, Query="Breaking Bad", Season=2))
        episode = titles(await filtered(http, Query="Breaking Bad", Season=2, Episode=4))
        episode5 = titles(await filtered(http, Query="Breaking Bad", Season=2, Episode=5))
        no_season = await filtered(http, Query="Breaking Bad", Episode=4)
        season4 = titles(await filtered(http, Query="Breaking Bad", Season=4))
    assert season2 == episode
    assert "Breaking.Bad.S02E04.720p.HDTV.x264-EXAMPLE" in episode
    assert "Breaking.Bad.S02E04.720p.HDTV.x264-EXAMPLE" not in episode5
    assert "Breaking.Bad.S02.1080p.BluRay.x264-EXAMPLE" in episode5  # a pack (no episodes) matches any episode
    assert no_season == []  # an Episode without a Season matches nothing
    assert season4 == {"Breaking Bad (2008) Complete Series S01-S05 (2160p BluRay x265 HEVC 10bit HDR AAC 5.1)-EXAMPLE"}


async def test_year_is_within_one_and_excludes_rows_without_a_year() -> None:
    http, _, _ = emulator_for()
    async with http:
        assert len(await filtered(http, Query="Dune", Year=2022)) == 3
        assert await filtered(http, Query="Dune", Year=2023) == []
        # Only the complete series names a year (2008); the season rows parse year 0, which no Year matches.
        series = titles(await filtered(http, Query="Breaking Bad", Season=2, Year=2009))
        shogun = await filtered(http, Query="Shogun", Year=1980)
    assert series == {"Breaking Bad (2008) Complete Series S01-S05 (2160p BluRay x265 HEVC 10bit HDR AAC 5.1)-EXAMPLE"}
    assert titles(shogun) == {"Shogun.1980.S01.1080p.BluRay.x264-EXAMPLE"}


async def test_imdb_id_with_or_without_tt_and_with_imdb_matching_off() -> None:
    http, emulator, _ = emulator_for()
    async with http:
        with_tt = await filtered(http, ImdbId=NOTLD)
        without = await filtered(http, ImdbId="0063350")
        emulator.imdb_matching = False
        off = await filtered(http, ImdbId=NOTLD)
        rows = await filtered(http, Query="Dune")
    assert len(with_tt) == 3 and titles(with_tt) == titles(without)
    assert off == [] and all(r["imdb_id"] is None and "imdb" not in r for r in rows)


async def test_other_filters_and_a_bad_integer() -> None:
    http, _, _ = emulator_for()
    async with http:
        uhd = await filtered(http, Query="Night of the Living Dead", Resolution="2160p")
        movies = await filtered(http, Category="movie", Query="Breaking Bad")
        bad = await http.get("/dmm/filtered", params={"Season": "two"})
    assert titles(uhd) == {"Night.of.the.Living.Dead.1968.2160p.UHD.BluRay.x265.10bit.HDR.DV-EXAMPLE"}
    assert movies == []
    assert bad.status_code == 400


async def test_order_by_score_then_newest_and_the_limit() -> None:
    scenario = load_scenario("starter")
    http, emulator, _ = emulator_for(scenario)
    emulator.add_release({"imdb_id": "tt1160419", "name": "Dunes.2021.1080p.WEB-DL-OTHER"})
    for i in range(250):
        emulator.add_release({"imdb_id": "tt9999999", "name": f"Filler.Movie.{i}.2020.1080p.WEB-DL-GRP"})
    async with http:
        strict = await filtered(http, Query="Dune")
        emulator.min_score = 0.5  # "Dunes" scores 4/7 against "Dune"
        loose = await filtered(http, Query="Dune")
        everything = await filtered(http)
        found = await http.post("/dmm/search", json={"QUERYTEXT": "Filler Movie"})
    assert len(strict) == 3
    # The newest row comes last: score first, then newest ingested.
    assert len(loose) == 4 and loose[-1]["raw_title"] == "Dunes.2021.1080p.WEB-DL-OTHER"
    assert len(everything) == 200
    assert everything[0]["raw_title"] == "Filler.Movie.249.2020.1080p.WEB-DL-GRP"  # newest ingested first
    assert len(found.json()) == 100 and "imdb" not in found.json()[0]


async def test_releases_not_in_zilean_or_not_yet_published_are_absent() -> None:
    scenario = load_scenario("starter")
    releases = [
        r.model_copy(update={"zilean": False}) if r.name.startswith("Dune.2021.720p") else r for r in scenario.releases
    ]
    http, emulator, _ = emulator_for(scenario.model_copy(update={"releases": releases}))
    tomorrow = emulator.clock.now().date() + timedelta(days=1)  # the emulator's own (virtual) day
    emulator.add_release({"imdb_id": "tt1160419", "name": "Dune.2021.2160p.WEB-DL-LATER", "published": tomorrow})
    async with http:
        dune = titles(await filtered(http, Query="Dune"))
    assert dune == {"Dune.2021.1080p.WEB-DL.DDP5.1.Atmos.H.264-EXAMPLE", "Dune.2021.1080p.BluRay.x265.10bit-EXAMPLE"}


# -- health, outage, knobs, faults ----------------------------------------------------------------------------


async def test_database_down_answers_empty_and_fails_the_ping() -> None:
    http, emulator, _ = emulator_for()
    async with http:
        assert (await http.get("/healthchecks/ping")).text.endswith("]: Pong!")
        emulator.set_database_down()
        assert await filtered(http, Query="Dune") == []
        search = await http.post("/dmm/search", json={"queryText": "Dune"})
        ping = await http.get("/healthchecks/ping")
        emulator.ping_ignores_database = True  # Zilean v3.5.0's ping never touches the database
        ping_v35 = await http.get("/healthchecks/ping")
        emulator.set_database_down(False)
        back = await filtered(http, Query="Dune")
    assert search.status_code == 200 and search.json() == []
    assert ping.status_code == 503 and ping_v35.status_code == 200
    assert len(back) == 3


async def test_state_object_adds_removes_and_counts() -> None:
    http, emulator, app = emulator_for()
    async with http:
        added = emulator.add_release({"imdb_id": "tt1160419", "name": "Dune.2021.2160p.WEB-DL-NEW", "size": "20 GB"})
        assert len(await filtered(http, Query="Dune")) == 4
        emulator.remove_release(added.info_hash.upper())
        assert len(await filtered(http, Query="Dune")) == 3
        await http.get("/healthchecks/ping")
        app.state.sandbox.queue("error")
        faulted = await http.get("/dmm/filtered", params={"Query": "Dune"})
    assert faulted.status_code == 503
    assert emulator.count("dmm/filtered") == 2 and emulator.count("healthchecks/ping") == 1
    assert emulator.calls_to("dmm/filtered")[0].params == {"Query": "Dune"}
    assert emulator.calls_to("dmm/filtered")[0].results == 4
    assert app.state.sandbox.count("GET", r"^/dmm/filtered$") == 3


def test_filtered_query_binding() -> None:
    q = FilteredQuery.from_params({"QUERY": "Dune", "season": "", "ImdbID": "123", "year": " 2021 "})
    assert q == FilteredQuery(query="Dune", imdb_id="tt123", year=2021)
