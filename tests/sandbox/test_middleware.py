"""Fault injection and request recording shared by every emulator."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from seerbridge.sandbox.middleware import FaultPlan, install_sandbox


def make_app() -> tuple[FastAPI, httpx.AsyncClient]:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    install_sandbox(app, too_many_body=b'{"error":"too_many_requests","error_code":34}')
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emu")


async def test_healthy_by_default_and_every_request_recorded() -> None:
    app, client = make_app()
    for _ in range(3):
        assert (await client.get("/ping")).json() == {"pong": "yes"}
    control = app.state.sandbox
    assert [r.status for r in control.log] == [200, 200, 200]
    assert control.count("GET", "^/ping$") == 3


async def test_queued_faults_come_first_and_in_order() -> None:
    app, client = make_app()
    control = app.state.sandbox
    control.queue("too_many", 2)
    control.queue("error")
    control.queue("malformed")
    statuses = [(await client.get("/ping")) for _ in range(5)]
    assert [r.status_code for r in statuses] == [429, 429, 503, 200, 200]
    assert statuses[0].json() == {"error": "too_many_requests", "error_code": 34}
    with pytest.raises(ValueError):
        statuses[3].json()
    assert statuses[4].json() == {"pong": "yes"}


async def test_rates_are_seeded_and_roughly_honoured() -> None:
    app, client = make_app()
    app.state.sandbox.set_plan(FaultPlan(error_rate=0.3, seed=7))
    codes = [(await client.get("/ping")).status_code for _ in range(200)]
    assert 40 <= codes.count(503) <= 80
    again, client2 = make_app()
    again.state.sandbox.set_plan(FaultPlan(error_rate=0.3, seed=7))
    assert [(await client2.get("/ping")).status_code for _ in range(200)] == codes


async def test_hang_delays_the_answer() -> None:
    app, client = make_app()
    app.state.sandbox.set_plan(FaultPlan(timeout_rate=1.0, hang_s=5))
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await client.get("/ping")


async def test_plan_can_be_set_over_http_and_cleared() -> None:
    app, client = make_app()
    response = await client.put("/__sandbox/faults", json={"error_rate": 1.0, "error_status": 502})
    assert response.status_code == 200
    assert (await client.get("/ping")).status_code == 502
    assert (await client.put("/__sandbox/faults", json={"error_rate": 3})).status_code == 422
    await client.delete("/__sandbox/faults")
    assert (await client.get("/ping")).status_code == 200
    assert app.state.sandbox.count(path_pattern="__sandbox") == 0


def test_max_in_window_counts_the_busiest_minute() -> None:
    app, _ = make_app()
    control = app.state.sandbox
    from seerbridge.sandbox.middleware import RequestRecord

    control.log.extend(RequestRecord(t, "GET", "/x", 200, None) for t in [0, 10, 20, 59.9, 60, 61, 200])
    assert control.max_in_window(60) == 5  # 10, 20, 59.9, 60, 61
