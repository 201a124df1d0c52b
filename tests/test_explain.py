"""Offline explain on saved Torrentio answers: exact JSON shape, accepted-first order, rule names, readable table."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from seerbridge.commands.explain import explain_streams, parse_episode_range, render_table, to_json
from seerbridge.config import SelectionSettings
from seerbridge.selection.profiles import NoProfile


def explain_offline(payload: Any, **args: Any) -> dict[str, Any]:
    """The `explain --streams … --json` object."""
    return to_json(explain_streams(payload, **args))


EXAMPLES = Path(__file__).parent / "sandbox" / "torrentio_examples"
TODAY = date(2026, 11, 24)
KEYS = {"info_hash", "name", "sources", "accepted", "reasons", "score", "season", "episodes"}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


def movie_args(title: str = "X", year: int = 2000) -> dict[str, Any]:
    """The offline explain's arguments for a movie, with the default settings."""
    return {
        "kind": "movie",
        "title": title,
        "original_title": None,
        "year": year,
        "season": None,
        "episodes": [],
        "profile": None,
        "settings": SelectionSettings(),
        "today": TODAY,
    }


def notld(**overrides: Any) -> dict[str, Any]:
    return explain_offline(load("movie-tt0063350.json"), **movie_args("Night of the Living Dead", 1968) | overrides)


def breaking_bad(file: str = "series-tt0903747-1-2.json", **overrides: Any) -> dict[str, Any]:
    show = {"kind": "show", "season": 1, "episodes": parse_episode_range("1-7")}
    return explain_offline(load(file), **movie_args("Breaking Bad", 2008) | show | overrides)


def check_shape(result: dict[str, Any]) -> None:
    assert set(result) == {"candidates"}
    seen_rejected = False
    for c in result["candidates"]:
        assert set(c) == KEYS
        assert isinstance(c["info_hash"], str) and len(c["info_hash"]) == 40
        assert isinstance(c["name"], str) and "\n" not in c["name"]
        assert isinstance(c["accepted"], bool)
        assert isinstance(c["reasons"], list) and all(isinstance(r, str) for r in c["reasons"])
        assert c["season"] is None or isinstance(c["season"], int)
        assert isinstance(c["episodes"], list) and all(isinstance(e, int) for e in c["episodes"])
        if c["accepted"]:
            assert not seen_rejected
            assert c["reasons"] == [] and isinstance(c["score"], int)
        else:
            seen_rejected = True
            assert c["reasons"] and c["score"] is None
    json.dumps(result)  # serialisable as is


def test_movie_example_classic_profile() -> None:
    result = notld()
    check_shape(result)
    rows = {c["name"]: c for c in result["candidates"]}
    assert len(rows) == 6
    accepted = [c["name"] for c in result["candidates"] if c["accepted"]]
    # a 58-year-old film uses the "classic" profile: 1080p down to 480p and unknown (old DVD rips), REMUX first
    assert accepted == [
        "Night of the Living Dead 1968 REMUX 1080p BluRay AVC DTS-HD MA 1.0-EXAMPLE",
        "Night of the Living Dead 1968 1080p BluRay x264 ITA ENG AC3-EXAMPLE",
        "Night Of The Living Dead (1968) [1080p] [BluRay] [YTS.MX]",
        "Night.of.the.Living.Dead.1968.720p.BluRay.x264-EXAMPLE",
        "Night of the Living Dead (1968) DVDRip XviD-EXAMPLE",
    ]
    uhd = rows["Night.of.the.Living.Dead.1968.2160p.UHD.BluRay.x265.10bit.HDR.DV.DTS-HD.MA.1.0-EXAMPLE"]
    assert uhd["reasons"] == ["resolution"]
    assert all(c["season"] is None and c["episodes"] == [] for c in result["candidates"])


def test_movie_example_4k_profile_by_name() -> None:
    result = notld(profile="4k")
    check_shape(result)
    first = result["candidates"][0]
    assert first["accepted"] and first["info_hash"] == "000d38ea774db068c981ce70940e6a92ab472294"
    rows = {c["info_hash"]: c for c in result["candidates"]}
    assert rows["b99385f624b392e12c1ac985a0edf424abae9cd2"]["reasons"] == ["resolution"]  # 720p


def test_movie_example_with_language_rule() -> None:
    settings = SelectionSettings.model_validate(
        {"profiles": {"standard": {}, "4k": {"resolutions": ["2160p"]}, "classic": {"languages_excluded": ["it"]}}}
    )
    rows = {c["info_hash"]: c for c in notld(settings=settings)["candidates"]}
    assert rows["4b9cc72a95a251b87bc64d2bc026d00aba081f2b"]["reasons"] == ["language"]


def test_series_example_season_one() -> None:
    result = breaking_bad()
    check_shape(result)
    rows = {c["info_hash"]: c for c in result["candidates"]}
    accepted = [c["info_hash"] for c in result["candidates"] if c["accepted"]]
    assert accepted == [
        "030a1e4a3e55369476d073c2103dd40f2b5d937c",  # S01 1080p BluRay x265 pack
        "febc63565a87f99b167e85efa31f08ebecb399f3",  # S01E02 1080p BluRay x264
        "242507d8a86ffa86ab70e97ab73dfd6ff83cfa9b",  # S01 COMPLETE 720p BluRay
        "a0c150bb412c14f73b740a34facf7455279559f6",  # S01E02 720p WEB-DL
    ]
    pack = rows["030a1e4a3e55369476d073c2103dd40f2b5d937c"]
    assert (pack["season"], pack["episodes"]) == (1, [1, 2, 3, 4, 5, 6, 7])
    assert rows["febc63565a87f99b167e85efa31f08ebecb399f3"]["episodes"] == [2]
    assert rows["15adb7813cd8942e84410b77178416e82db0a0dc"]["reasons"] == ["resolution"]  # 2160p complete series
    assert rows["4648cf8f135a3e60591034113cf6ca03d272bf4e"]["reasons"] == ["resolution"]  # 480p


def test_series_example_season_two_rejects_season_one_releases() -> None:
    result = breaking_bad(season=2, episodes=[1, 2, 3], profile="4k")
    check_shape(result)
    rows = {c["info_hash"]: c for c in result["candidates"]}
    # the complete S01-S05 pack holds season 2; everything else is season 1
    complete = rows["15adb7813cd8942e84410b77178416e82db0a0dc"]
    assert complete["accepted"] and complete["season"] == 2 and complete["episodes"] == [1, 2, 3]
    assert "coverage" in rows["030a1e4a3e55369476d073c2103dd40f2b5d937c"]["reasons"]
    assert "coverage" in rows["febc63565a87f99b167e85efa31f08ebecb399f3"]["reasons"]
    assert result["candidates"][0]["info_hash"] == "15adb7813cd8942e84410b77178416e82db0a0dc"


def test_series_example_with_debrid_urls() -> None:
    result = breaking_bad("series-tt0903747-1-2-realdebrid.json")
    check_shape(result)
    hashes = {c["info_hash"] for c in result["candidates"]}
    assert "030a1e4a3e55369476d073c2103dd40f2b5d937c" in hashes  # taken from the /resolve/ url


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="streams"):
        explain_offline({"metas": []}, **movie_args())
    with pytest.raises(ValueError, match="season"):
        breaking_bad(season=None)
    with pytest.raises(ValueError, match="movie"):
        notld(season=1)
    with pytest.raises(NoProfile, match="ultra"):
        notld(profile="ultra")


def test_empty_answer() -> None:
    assert explain_offline({"streams": []}, **movie_args()) == {"candidates": []}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1-8,10", [1, 2, 3, 4, 5, 6, 7, 8, 10]),
        ("3", [3]),
        (" 2 - 4 , 1 ", [1, 2, 3, 4]),
        ("", []),
        ("5,5,4-5", [4, 5]),
    ],
)
def test_parse_episode_range(text: str, expected: list[int]) -> None:
    assert parse_episode_range(text) == expected


@pytest.mark.parametrize("text", ["a", "1-", "8-1", "0", "1-2-3", "-3"])
def test_parse_episode_range_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_episode_range(text)


def render(table: Any) -> str:
    console = Console(record=True, width=220)
    console.print(table)
    return console.export_text()


def test_table_from_explanation_shows_sentences() -> None:
    explanation = explain_streams(
        load("movie-tt0063350.json"),
        kind="movie",
        title="Night of the Living Dead",
        original_title=None,
        year=1968,
        season=None,
        episodes=[],
        profile=None,
        settings=SelectionSettings(),
        today=TODAY,
    )
    text = render(render_table(explanation))
    assert "[YTS.MX]" in text  # brackets in names are text, not markup
    assert "accepted" in text and "rejected" in text
    assert "resolution: 2160p is not on the ladder of profile 'classic'" in text
    assert "profile classic" in text
    assert "13172f50" in text


def test_table_from_json_dict() -> None:
    text = render(render_table(breaking_bad()))
    assert "S01 E1-7" in text
    assert "resolution" in text
    assert "030a1e4a" in text
