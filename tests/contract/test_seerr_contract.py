"""Seerr contract: every SeerrClient call and the emulator's answers validated against Seerr's published OpenAPI spec.

Two known spec bugs are tolerated, narrowly; everything else is strict:
- The spec's `Job.interval` enum is `short|long|fixed`, but the server sends the schedule unit
  (`seconds|minutes|hours|days|fixed`, server/job/schedule.ts). Job bodies are checked to carry one of the real units
  and are then validated with that single field swapped for a spec value.
- The spec types a MediaRequest's `serverId`, `profileId` and `rootFolder` as non-nullable, but they are nullable
  columns (server/entity/MediaRequest.ts) and the server sends `null` when a request names no server. A request object
  (one with `requestedBy`) is validated without those keys when they are null; any other value is still checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from seerbridge.config import SeerrSettings
from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.world import Sandbox
from seerbridge.services.seerr import SeerrClient
from tests.contract.openapi import (
    ContractRecorder,
    HttpxOpenAPIRequest,
    HttpxOpenAPIResponse,
    _describe,
    seerr_spec,
)
from tests.sandbox.servarr_standin import Router, StandIn

HOST_URL = "http://localhost:5055"  # the spec's server is `{server}/api/v1` with this default
SERVER_INTERVALS = {"seconds", "minutes", "hours", "days", "fixed"}
_JOB_PATH = re.compile(r"^/api/v1/settings/jobs(/[^/]+/run)?$")
_NULLABLE_REQUEST_COLUMNS = ("serverId", "profileId", "rootFolder")


def _with_spec_interval(job: object, problems: list[str]) -> object:
    if isinstance(job, dict) and "interval" in job:
        if job["interval"] not in SERVER_INTERVALS:
            problems.append(f"job {job.get('id')}: interval {job['interval']!r} is not a server unit")
        return {**job, "interval": "fixed"}
    return job


def _without_null_request_columns(node: object) -> object:
    if isinstance(node, list):
        return [_without_null_request_columns(item) for item in node]
    if not isinstance(node, dict):
        return node
    is_request = "requestedBy" in node
    return {
        key: _without_null_request_columns(value)
        for key, value in node.items()
        if not (is_request and key in _NULLABLE_REQUEST_COLUMNS and value is None)
    }


class SeerrContractRecorder(ContractRecorder):
    """ContractRecorder with the two documented tolerances; see the module docstring."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        oreq = HttpxOpenAPIRequest(request, host_url=self.host_url)
        label = f"{request.method} {request.url.path}"
        try:
            self.spec.validate_request(oreq)
        except Exception as exc:
            self.violations.append(f"request {label}: {_describe(exc)}")
        response = await self.inner.handle_async_request(request)
        await response.aread()
        checked = response
        if response.status_code in (200, 201) and response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            body = response.json()
            patched = _without_null_request_columns(body)
            if _JOB_PATH.match(request.url.path):
                problems: list[str] = []
                fixed = [_with_spec_interval(j, problems) for j in body] if isinstance(body, list) else None
                patched = fixed if fixed is not None else _with_spec_interval(body, problems)
                self.violations.extend(f"response to {label}: {p}" for p in problems)
            if patched != body:
                checked = httpx.Response(response.status_code, headers=response.headers, content=json.dumps(patched))
        try:
            self.spec.validate_response(oreq, HttpxOpenAPIResponse(checked))
        except Exception as exc:
            self.violations.append(f"response {response.status_code} to {label}: {_describe(exc)}")
        self.checked.append(label)
        return response


@pytest.fixture
def recorder(world: Sandbox) -> SeerrContractRecorder:
    return SeerrContractRecorder(world.transport("seerr"), seerr_spec(), host_url=HOST_URL)


@pytest.fixture
async def raw(recorder: SeerrContractRecorder, starter: Scenario) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=recorder, base_url="http://seerr.sandbox/api/v1", headers={"X-Api-Key": starter.keys["seerr"]}
    ) as client:
        yield client


async def test_every_client_method_conforms_to_the_spec(recorder: SeerrContractRecorder, starter: Scenario) -> None:
    settings = SeerrSettings(url="http://seerr.sandbox", api_key=starter.keys["seerr"])
    async with SeerrClient(settings, transport=recorder) as seerr:
        await seerr.status()
        assert len(await seerr.requests(filter="all", page_size=2)) == 5
        await seerr.requests(filter="pending", media_type="tv", requested_by=2)
        await seerr.request(3)
        await seerr.movie(603)
        await seerr.movie(10331)
        await seerr.tv(1396)
        await seerr.tv(126308)
        await seerr.season(1396, 1)
        await seerr.media(page_size=2)
        await seerr.media(filter="allavailable", sort="mediaAdded")
        await seerr.set_media_status(4, "available", seasons=[1, 2])
        await seerr.set_media_status(5, "partial")
        await seerr.set_media_status(1, "processing", is4k=True)
        await seerr.jobs()
        await seerr.run_job("jellyfin-recently-added-scan")
        await seerr.check()
    recorder.assert_clean()
    paths = {re.sub(r"/\d+", "/N", label) for label in recorder.checked}
    assert paths == {
        "GET /api/v1/status",
        "GET /api/v1/request",
        "GET /api/v1/request/N",
        "GET /api/v1/movie/N",
        "GET /api/v1/tv/N",
        "GET /api/v1/tv/N/season/N",
        "GET /api/v1/media",
        "POST /api/v1/media/N/available",
        "POST /api/v1/media/N/partial",
        "POST /api/v1/media/N/processing",
        "GET /api/v1/settings/jobs",
        "POST /api/v1/settings/jobs/jellyfin-recently-added-scan/run",
    }


async def test_emulator_only_endpoints_conform_too(raw: httpx.AsyncClient, recorder: SeerrContractRecorder) -> None:
    created = await raw.post("/request", json={"mediaType": "tv", "mediaId": 126308, "seasons": "all", "is4k": False})
    assert created.status_code == 201
    assert (await raw.post("/request/4/approve")).status_code == 200
    assert (await raw.post("/request/2/decline")).status_code == 200
    assert (await raw.post("/request/4/retry")).status_code == 200  # sends it to Radarr/Sonarr again (none here)
    listed = await raw.get(
        "/request", params={"filter": "processing", "sort": "modified", "sortDirection": "asc", "mediaType": "tv"}
    )
    assert listed.status_code == 200
    assert (await raw.get("/request", params={"take": 1, "skip": 3})).status_code == 200
    assert (await raw.get("/media", params={"filter": "pending", "sort": "modified"})).status_code == 200
    recorder.assert_clean()


async def test_the_validator_catches_bad_requests_and_bad_responses(
    raw: httpx.AsyncClient, recorder: SeerrContractRecorder
) -> None:
    """Proof the contract checks can fail: each deliberate mistake is reported."""
    await raw.get("/request", params={"filter": "everything"})
    async with httpx.AsyncClient(transport=recorder, base_url="http://seerr.sandbox/api/v1") as anonymous:
        await anonymous.get("/media")
    await raw.post("/request", json={"mediaType": "book", "mediaId": "x"})
    request_violations = [v for v in recorder.violations if v.startswith("request ")]
    assert any("GET /api/v1/request" in v and "filter" in v for v in request_violations), request_violations
    assert any("GET /api/v1/media" in v and "Security" in v for v in request_violations), request_violations
    assert any("POST /api/v1/request" in v for v in request_violations), request_violations
    with pytest.raises(AssertionError, match="contract violations"):
        recorder.assert_clean()

    class WrongShape(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            body = {"id": "five", "status": 1}
            return httpx.Response(200, json=body, headers={"content-type": "application/json; charset=utf-8"})

    liar = SeerrContractRecorder(WrongShape(), seerr_spec(), host_url=HOST_URL)
    async with httpx.AsyncClient(transport=liar, base_url="http://seerr.sandbox/api/v1") as client:
        await client.get("/request/1", headers={"X-Api-Key": "k"})
    assert any(v.startswith("response 200 to GET /api/v1/request/1") for v in liar.violations), liar.violations


async def test_a_job_interval_outside_the_server_units_is_still_reported() -> None:
    class OddJob(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json=[{"id": "x", "interval": "fortnights", "running": False}])

    recorder = SeerrContractRecorder(OddJob(), seerr_spec(), host_url=HOST_URL)
    async with httpx.AsyncClient(transport=recorder, base_url="http://seerr.sandbox/api/v1") as client:
        await client.get("/settings/jobs", headers={"X-Api-Key": "k"})
    assert recorder.violations == [
        "response to GET /api/v1/settings/jobs: job x: interval 'fortnights' is not a server unit"
    ]


async def test_null_request_columns_are_tolerated_but_wrong_values_are_not() -> None:
    def request_body(**columns: object) -> dict[str, object]:
        stamp = "2026-11-24T12:00:00.000Z"
        user = {"id": 1, "email": "a@example.com", "createdAt": stamp, "updatedAt": stamp}
        return {"id": 1, "status": 4, "createdAt": stamp, "updatedAt": stamp, "requestedBy": user, **columns}

    class Answers(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            request_id = int(request.url.path.rsplit("/", 1)[1])
            body = request_body(serverId=None, profileId=None, rootFolder=None)
            if request_id == 2:
                body = request_body(serverId="radarr", profileId=None, rootFolder=None)
            return httpx.Response(200, json=body)

    recorder = SeerrContractRecorder(Answers(), seerr_spec(), host_url=HOST_URL)
    async with httpx.AsyncClient(transport=recorder, base_url="http://seerr.sandbox/api/v1") as client:
        await client.get("/request/1", headers={"X-Api-Key": "k"})
        assert recorder.violations == []
        await client.get("/request/2", headers={"X-Api-Key": "k"})
    assert len(recorder.violations) == 1 and "serverId" in recorder.violations[0]


async def test_the_radarr_and_sonarr_settings_routes_conform(
    raw: httpx.AsyncClient, recorder: SeerrContractRecorder, world: Sandbox
) -> None:
    radarr, sonarr = StandIn("radarr", "/radarr"), StandIn("sonarr", "/sonarr")
    world.seerr_state.servarr.transport = httpx.ASGITransport(app=Router(radarr, sonarr))
    connection = {"hostname": "seerbridge", "port": 8000, "apiKey": radarr.api_key, "useSsl": False}
    common = {**connection, "activeProfileId": 1, "activeProfileName": "Any", "is4k": False, "isDefault": True}
    servers = {
        "radarr": {
            **common,
            "name": "R",
            "baseUrl": "/radarr",
            "activeDirectory": "/movies",
            "minimumAvailability": "released",
        },
        "sonarr": {**common, "name": "S", "baseUrl": "/sonarr", "activeDirectory": "/tv", "enableSeasonFolders": True},
    }
    for kind, body in servers.items():
        tested = await raw.post(f"/settings/{kind}/test", json={**connection, "baseUrl": body["baseUrl"]})
        assert tested.status_code == 200, tested.text
        assert (await raw.post(f"/settings/{kind}", json=body)).status_code == 201
        assert (await raw.get(f"/settings/{kind}")).status_code == 200
        assert (await raw.put(f"/settings/{kind}/0", json={**body, "syncEnabled": True})).status_code == 200
    assert (await raw.get("/settings/radarr/0/profiles")).status_code == 200
    assert (await raw.post("/request/1/approve")).status_code == 200
    await world.seerr_state.servarr.settle()
    assert (await raw.get("/request")).status_code == 200
    assert (await raw.delete("/settings/sonarr/0")).status_code == 200
    recorder.assert_clean()
