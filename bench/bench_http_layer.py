"""What the shared HTTP layer costs per call, beside plain httpx, against an in-process app; and redaction cost.

Run: .venv/bin/python bench/bench_http_layer.py
"""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
from fastapi import FastAPI

from seerbridge.config import ServiceSettings
from seerbridge.logs import setup_logging
from seerbridge.redact import redact, register
from seerbridge.services.http import ServiceHttp

CALLS = 2000


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/torrents/info/{tid}")
    async def info(tid: str) -> dict[str, object]:
        return {"id": tid, "status": "downloaded", "progress": 100, "files": [{"id": 1, "path": "/a.mkv"}]}

    return app


async def per_call_us(send: object, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        await send(i)  # type: ignore[operator]
    return (time.perf_counter() - started) / n * 1e6


async def main() -> None:
    setup_logging("info")  # as the daemon runs: per-call debug lines are filtered out
    app = make_app()
    raw = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rd")
    layered = ServiceHttp("realdebrid", "http://rd", ServiceSettings(), transport=httpx.ASGITransport(app=app))

    async def send_raw(i: int) -> None:
        (await raw.get(f"/torrents/info/T{i}")).json()

    async def send_layered(i: int) -> None:
        await layered.request("GET", f"torrents/info/T{i}", endpoint="torrents/info")

    await per_call_us(send_raw, 200)
    await per_call_us(send_layered, 200)
    raw_runs = [await per_call_us(send_raw, CALLS) for _ in range(3)]
    layered_runs = [await per_call_us(send_layered, CALLS) for _ in range(3)]
    r, s = statistics.median(raw_runs), statistics.median(layered_runs)
    print(f"plain httpx + ASGI app : {r:8.1f} µs/call (median of 3 × {CALLS})")
    print(f"ServiceHttp + ASGI app : {s:8.1f} µs/call")
    print(f"layer overhead         : {s - r:8.1f} µs/call ({(s / r - 1) * 100:.0f} %)")
    await raw.aclose()
    await layered.aclose()

    register("SANDBOXREALDEBRIDTOKEN0123456789ABCDEFGHIJKLMNOPQR", "sandbox-seerr-key-0123456789abcdef")
    line = "GET https://t.example/sort=qualitysize|realdebrid=SANDBOXREALDEBRIDTOKEN0123456789ABCDEFGHIJKLMNOPQR/x"
    started = time.perf_counter()
    for _ in range(20000):
        redact(line)
    print(f"redact one log line    : {(time.perf_counter() - started) / 20000 * 1e6:8.1f} µs")


if __name__ == "__main__":
    asyncio.run(main())
