"""Titles end to end: a Seerr set to another language still finds releases named in English."""

from __future__ import annotations

from typing import Any

from seerbridge.domain.states import RequestState
from seerbridge.sandbox.scenario import Scenario
from tests.e2e.conftest import Factory, result_of

AMELIE = "Amelie.2001.1080p.BluRay.x264-EXAMPLE"
REQUEST = 301

SCENARIO: dict[str, Any] = {
    "name": "localized",
    "today": "2026-11-24",
    "seerr": {"locale": "fr"},
    "media": [
        {
            "type": "movie",
            "tmdb_id": 194,
            "imdb_id": "tt0211915",
            "title": "Amélie",
            "original_title": "Le Fabuleux Destin d'Amélie Poulain",
            "original_language": "fr",
            "titles": {"fr": "Le Fabuleux Destin d'Amélie Poulain"},
            "year": 2001,
            "release_date": "2001-04-25",
        }
    ],
    "requests": [{"id": REQUEST, "tmdb_id": 194, "status": "approved"}],
    "releases": [{"imdb_id": "tt0211915", "name": AMELIE, "size": "8 GB", "rd": "cached"}],
}


async def test_a_film_seerr_names_in_french_is_found_under_its_english_title(make_e2e: Factory) -> None:
    e2e = make_e2e(Scenario.model_validate(SCENARIO))
    report = await e2e.run()
    result = result_of(report, REQUEST)
    assert result.state is RequestState.FULFILLED, result.reason
    assert result.chosen == [AMELIE]
    assert e2e.account() == {e2e.hash(AMELIE)}
