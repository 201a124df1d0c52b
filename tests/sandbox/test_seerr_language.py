"""The Seerr emulator's TMDB details answer in Seerr's display language, or in the one `?language=` asks for."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.seerr import create_app

SCENARIO = {
    "name": "languages",
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
            "titles": {"fr": "Le Fabuleux Destin d'Amélie Poulain", "de": "Die fabelhafte Welt der Amélie"},
            "release_date": "2001-04-25",
        },
        {
            "type": "tv",
            "tmdb_id": 71446,
            "imdb_id": "tt6468322",
            "title": "Money Heist",
            "original_title": "La casa de papel",
            "original_language": "es",
            "titles": {"fr": "La Casa de Papel"},
            "first_air_date": "2017-05-02",
            "seasons": [{"season": 1, "episodes": 2, "first_air_date": "2017-05-02"}],
        },
    ],
}


@pytest.mark.parametrize(
    ("path", "query", "field", "expected"),
    [
        ("/movie/194", {}, "title", "Le Fabuleux Destin d'Amélie Poulain"),  # Seerr's locale
        ("/movie/194", {"language": "en"}, "title", "Amélie"),
        ("/movie/194", {"language": "de-DE"}, "title", "Die fabelhafte Welt der Amélie"),
        ("/movie/194", {"language": "it"}, "title", "Amélie"),  # no translation: the English title
        ("/tv/71446", {}, "name", "La Casa de Papel"),
        ("/tv/71446", {"language": "en"}, "name", "Money Heist"),
    ],
)
async def test_details_answer_in_the_asked_language(
    path: str, query: dict[str, str], field: str, expected: str
) -> None:
    scenario = Scenario.model_validate(SCENARIO)
    app = create_app(scenario, VirtualClock(datetime(2026, 11, 24, 12, tzinfo=UTC), speed=0))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://seerr.sandbox/api/v1",
        headers={"X-Api-Key": scenario.keys["seerr"]},
    ) as api:
        response = await api.get(path, params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body[field] == expected
    original = {
        "title": ("originalTitle", "Le Fabuleux Destin d'Amélie Poulain"),
        "name": ("originalName", "La casa de papel"),
    }
    key, value = original[field]
    assert body[key] == value  # the original title whatever the language
