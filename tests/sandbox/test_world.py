"""The emulated world as a whole: four apps from one scenario, linked where the real services are."""

from __future__ import annotations

import httpx

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
