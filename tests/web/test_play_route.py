"""`GET`/`HEAD /play/{token}` in the app, with a resolver against the Real-Debrid emulator: a redirect for a good
token (Range requests included), 404 for a forged one, 503 with Retry-After when the file is gone, and no webhook
secret asked for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from seerbridge import clock as program_clock
from seerbridge.config import RealDebridSettings
from seerbridge.library.play import PlayResolver, PlayTarget
from seerbridge.library.tokens import new_secret, sign
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.realdebrid_state import RealDebridState
from seerbridge.sandbox.scenario import Scenario
from seerbridge.services.realdebrid import RealDebridClient
from seerbridge.web.app import create_app

RD_URL = "http://realdebrid.sandbox/rest/1.0"
MOVIE_HASH = "40b1e40b1e40b1e40b1e40b1e40b1e40b1e40b1e"
SECRET = new_secret()
WEBHOOK_SECRET = "s3cret-Shared-Value"
ENTRY = 12


@dataclass
class Server:
    """seerbridge's app with a play resolver, the client a player uses, and what the resolver reported."""

    web: httpx.AsyncClient
    state: RealDebridState
    rd_id: str
    failures: list[tuple[int, str]] = field(default_factory=list)

    @property
    def token(self) -> str:
        return sign(ENTRY, SECRET)


@pytest.fixture
async def server(starter: Scenario, app: FastAPI, state: RealDebridState, clock: VirtualClock) -> AsyncIterator[Server]:
    program_clock.install(clock)  # conftest puts the wall clock back after the test
    settings = RealDebridSettings(url=RD_URL, api_key=SecretStr(starter.keys["realdebrid"]))
    rd = RealDebridClient(settings.model_copy(update={"rate_limit_per_min": 0}), transport=httpx.ASGITransport(app=app))
    rd_id = state.add_torrent(MOVIE_HASH, status="downloaded")
    entries = {ENTRY: PlayTarget(ENTRY, rd_id, 1)}
    failures: list[tuple[int, str]] = []

    async def lookup(entry_id: int) -> PlayTarget | None:
        return entries.get(entry_id)

    async def failed(entry_id: int, reason: str) -> None:
        failures.append((entry_id, reason))

    resolver = PlayResolver(rd, lookup, failed, SECRET)
    web_app = create_app(submit=lambda _i, _w: True, health=dict, secret=WEBHOOK_SECRET, play=resolver)
    # raise_app_exceptions (the default) turns any unhandled error inside the app into a test failure.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web_app), base_url="http://seerbridge.test") as web:
        yield Server(web, state, rd_id, failures)
    await rd.aclose()


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_a_good_token_redirects_to_a_fresh_download_link(server: Server, method: str) -> None:
    response = await server.web.request(method, f"/play/{server.token}", headers={"Range": "bytes=1048576-"})
    assert response.status_code == 302
    assert response.headers["location"] == server.state.unrestricted[-1].download
    assert response.headers["cache-control"] == "no-store"
    assert response.content == b""  # the bytes and their ranges come from Real-Debrid, not from us


async def test_head_and_get_cost_one_resolve(server: Server) -> None:
    head = await server.web.head(f"/play/{server.token}")
    get = await server.web.get(f"/play/{server.token}", headers={"Range": "bytes=0-1023"})
    assert head.headers["location"] == get.headers["location"]
    assert len(server.state.unrestricted) == 1


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_a_forged_or_unknown_token_is_not_found(server: Server, method: str) -> None:
    forged = server.token[:-1] + ("A" if server.token[-1] != "A" else "B")
    for token in (forged, sign(ENTRY + 1, SECRET), sign(ENTRY, new_secret()), "nothing"):
        response = await server.web.request(method, f"/play/{token}")
        assert response.status_code == 404 and "location" not in response.headers
        assert response.text == ("" if method == "HEAD" else "not found\n")
    assert server.state.unrestricted == []


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_a_lost_file_is_unavailable_with_retry_after(server: Server, method: str) -> None:
    server.state.delete(server.rd_id)
    response = await server.web.request(method, f"/play/{server.token}", headers={"Range": "bytes=0-"})
    assert response.status_code == 503 and response.headers["retry-after"] == "60"
    assert "location" not in response.headers
    [(entry_id, reason)] = server.failures
    assert entry_id == ENTRY and "unknown_ressource" in reason
    if method == "HEAD":
        assert response.content == b"" and int(response.headers["content-length"]) > 0
    else:
        assert response.text.startswith("unavailable: ") and response.text.count("\n") == 1
        assert "unknown_ressource" in response.text


async def test_the_webhook_secret_is_neither_needed_nor_used(server: Server) -> None:
    """The token is the credential: a player sends no Authorization header, and a wrong one changes nothing."""
    assert (await server.web.get(f"/play/{server.token}")).status_code == 302
    wrong = await server.web.get(f"/play/{server.token}", headers={"Authorization": "wrong"})
    assert wrong.status_code == 302
    right_secret_bad_token = await server.web.get("/play/1.x", headers={"Authorization": WEBHOOK_SECRET})
    assert right_secret_bad_token.status_code == 404


async def test_other_methods_are_not_allowed(server: Server) -> None:
    for method in ("POST", "PUT", "DELETE"):
        assert (await server.web.request(method, f"/play/{server.token}")).status_code == 405
    assert server.state.unrestricted == []


async def test_without_a_resolver_every_play_address_is_not_found() -> None:
    app = create_app(submit=lambda _i, _w: True, health=dict, secret=WEBHOOK_SECRET)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://seerbridge.test") as web:
        for method in ("GET", "HEAD"):
            response = await web.request(method, f"/play/{sign(ENTRY, SECRET)}")
            assert response.status_code == 404


def test_the_openapi_document_describes_play() -> None:
    document = create_app(submit=lambda _i, _w: True, health=dict, secret="x").openapi()
    operations = document["paths"]["/play/{token}"]
    assert set(operations) == {"get", "head"}
    for operation in operations.values():
        assert {"302", "404", "503"} <= set(operation["responses"])
        assert "Location" in operation["responses"]["302"]["headers"]
        assert "security" not in operation
        assert [p["name"] for p in operation["parameters"]] == ["token"]
