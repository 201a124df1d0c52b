"""The Seerr emulator's deletions: `DELETE /request/{id}` and `DELETE /media/{id}`, as Seerr's routes do them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.seerr_models import MediaStatus
from seerbridge.sandbox.seerr_state import SeerrState
from seerbridge.sandbox.world import Sandbox
from tests.contract.openapi import seerr_spec
from tests.contract.test_seerr_contract import HOST_URL, SeerrContractRecorder

FORBIDDEN = {"status": 403, "error": "You do not have permission to access this endpoint"}
ALICE = {"X-API-User": "2"}


@pytest.fixture
def recorder(world: Sandbox) -> SeerrContractRecorder:
    return SeerrContractRecorder(world.transport("seerr"), seerr_spec(), host_url=HOST_URL)


@pytest.fixture
async def api(world: Sandbox, starter: Scenario) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=world.transport("seerr"),
        base_url="http://seerr.sandbox/api/v1",
        headers={"X-Api-Key": starter.keys["seerr"]},
    ) as client:
        yield client


@pytest.fixture
async def checked(recorder: SeerrContractRecorder, starter: Scenario) -> AsyncIterator[httpx.AsyncClient]:
    """Calls whose answer the spec documents (a 204), validated against it on the way."""
    async with httpx.AsyncClient(
        transport=recorder, base_url="http://seerr.sandbox/api/v1", headers={"X-Api-Key": starter.keys["seerr"]}
    ) as client:
        yield client


@pytest.fixture
def state(world: Sandbox) -> SeerrState:
    return world.seerr_state


def status_of(state: SeerrState, tmdb_id: int) -> MediaStatus:
    media = state.media_for(tmdb_id)
    assert media is not None
    return media.status


async def test_a_manager_deletes_any_request_and_unrequested_media_goes_back_to_unknown(
    api: httpx.AsyncClient, checked: httpx.AsyncClient, state: SeerrState, recorder: SeerrContractRecorder
) -> None:
    assert status_of(state, 10331) is MediaStatus.PROCESSING
    deleted = await checked.delete("/request/1")
    assert deleted.status_code == 204 and deleted.content == b""
    assert (await api.get("/request/1")).json() == {"message": "Request not found."}
    assert status_of(state, 10331) is MediaStatus.UNKNOWN
    # A completed request's media stays AVAILABLE.
    assert (await checked.delete("/request/5")).status_code == 204
    assert status_of(state, 603) is MediaStatus.AVAILABLE
    recorder.assert_clean()

    for missing in ("1", "999", "abc"):
        response = await api.delete(f"/request/{missing}")
        assert (response.status_code, response.json()) == (404, {"message": "Request not found."})


async def test_a_user_deletes_only_their_own_pending_request(api: httpx.AsyncClient, state: SeerrState) -> None:
    refused = {"message": "You do not have permission to delete this request."}
    for other in ("2", "1"):  # bob's approved request; alice's own, but approved
        response = await api.delete(f"/request/{other}", headers=ALICE)
        assert (response.status_code, response.json()) == (401, refused)
    assert (await api.delete("/request/4", headers=ALICE)).status_code == 204
    assert 4 not in state.requests and status_of(state, 126308) is MediaStatus.UNKNOWN
    assert (await api.delete("/request/2", headers={"X-Api-Key": "wrong"})).status_code == 403


async def test_deleting_media_takes_its_requests_and_needs_a_manager(
    api: httpx.AsyncClient, checked: httpx.AsyncClient, state: SeerrState, recorder: SeerrContractRecorder
) -> None:
    media = state.media_for(1396)
    assert media is not None and [r.id for r in state.requests_for(media)] == [3]
    forbidden = await api.delete(f"/media/{media.id}", headers=ALICE)
    assert (forbidden.status_code, forbidden.json()) == (403, FORBIDDEN)
    assert (await checked.delete(f"/media/{media.id}")).status_code == 204
    recorder.assert_clean()
    assert state.media_for(1396) is None and 3 not in state.requests
    assert (await api.get("/request/3")).status_code == 404
    listed = (await api.get("/media", params={"take": 100})).json()["results"]
    assert 1396 not in {m["tmdbId"] for m in listed}
    again = await api.delete(f"/media/{media.id}")
    assert (again.status_code, again.json()) == (404, {"message": "Media not found"})
