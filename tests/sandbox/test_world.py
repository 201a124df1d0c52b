"""The emulated world as a whole: four apps from one scenario, linked where the real services are."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import Scenario, load_scenario
from seerbridge.sandbox.seerr_models import RequestStatus
from seerbridge.sandbox.world import SERVICES, Sandbox


async def test_every_service_answers_in_process(world: Sandbox) -> None:
    for name in SERVICES:
        assert name in world.apps
        assert world.control(name).log == []
    urls = world.base_urls()
    assert urls["realdebrid"] == "http://realdebrid.sandbox/rest/1.0"
    assert urls["torrentio"].startswith("http://torrentio.sandbox/sort=")
    env = world.env()
    assert env["SEERBRIDGE_REALDEBRID__API_KEY"] == world.scenario.keys["realdebrid"]


async def test_a_seerr_jellyfin_scan_marks_new_files_available(world: Sandbox) -> None:
    seerr = world.seerr_state
    jellyfin = world.jellyfin_state
    movie_media = seerr.media_for(10331, "movie")
    assert movie_media is not None
    assert movie_media.status != 5  # requested, not yet in the library
    jellyfin.add_movie(10331, path="/media/movies/Night of the Living Dead (1968)/Night.mkv")
    key = world.scenario.keys["seerr"]
    async with httpx.AsyncClient(transport=world.transport("seerr"), base_url="http://seerr.sandbox") as client:
        response = await client.post(
            "/api/v1/settings/jobs/jellyfin-recently-added-scan/run", headers={"X-Api-Key": key}
        )
    assert response.status_code == 200
    assert seerr.media_for(10331, "movie").status == 5  # type: ignore[union-attr]


def _movie_night(count: int) -> Scenario:
    """`count` movies, each requested and approved, none in the library yet."""
    return Scenario.model_validate(
        {
            "name": "movie-night",
            "today": "2026-11-24",
            "media": [
                {"type": "movie", "tmdb_id": n, "imdb_id": f"tt{n:07d}", "title": f"Film {n:02d}", "year": 2000}
                for n in range(1, count + 1)
            ],
            "requests": [{"id": n, "tmdb_id": n} for n in range(1, count + 1)],
        }
    )


def test_seerrs_recently_added_scan_sees_only_jellyfins_twelve_latest_per_library() -> None:
    """Seerr's recently-added job reads `GET /Items/Latest?Limit=12&ParentId=<library>&userId=<admin>` per library;
    only the full scan reads everything."""
    world = Sandbox(_movie_night(14), VirtualClock(datetime(2026, 11, 24, 12, tzinfo=UTC), speed=0))
    for n in range(1, 15):
        world.clock.advance(60)
        world.jellyfin_state.add_movie(n)
    world.seerr_state.run_job("jellyfin-recently-added-scan")
    status = {r.id: r.status for r in world.seerr_state.requests.values()}
    assert [n for n, s in sorted(status.items()) if s is not RequestStatus.COMPLETED] == [1, 2]
    world.seerr_state.run_job("jellyfin-full-scan")
    assert {r.status for r in world.seerr_state.requests.values()} == {RequestStatus.COMPLETED}


def test_a_show_with_many_new_episodes_is_one_recent_item() -> None:
    world = Sandbox(load_scenario("starter"), VirtualClock(datetime(2026, 11, 24, 12, tzinfo=UTC), speed=0))
    world.seerr_state.approve(4)  # Shōgun season 1
    world.clock.advance(60)
    world.jellyfin_state.add_episodes(126308, 1, range(1, 11))
    world.seerr_state.run_job("jellyfin-recently-added-scan")
    assert world.seerr_state.requests[4].status is RequestStatus.COMPLETED
