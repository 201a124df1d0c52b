"""`seerbridge demo`: the whole bridge against the emulators on loopback, with a scenario that exercises every path."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any

import httpx

from seerbridge.config import Settings, load_settings
from seerbridge.pipeline.process import KEPT_STATES, PassReport
from seerbridge.runtime.bridge import open_bridge
from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.serve import LoopbackServers
from seerbridge.sandbox.world import SERVICES, Sandbox, ServiceName
from seerbridge.store import repo

DEMO_SPEED = 60.0  # virtual seconds per real second: metadata fetching and downloads move along quickly


@dataclass(frozen=True)
class DemoRow:
    request_id: int
    title: str
    state: str
    reason: str
    torrents: list[str]
    torrentio_calls: int
    realdebrid_calls: int


@dataclass(frozen=True)
class DemoResult:
    rows: list[DemoRow]
    passes: list[PassReport]
    hosts: dict[ServiceName, str]
    duplicate_hashes: list[str]


def sandbox_settings(
    world: Sandbox, db_url: str, hosts: dict[ServiceName, str] | None = None, *, unpaced: bool = False
) -> Settings:
    """Settings that point at the sandbox (on loopback when `hosts` are given, else in-process URLs).

    The Torrentio emulator has no daily budget to protect, so its pacing is lifted. `unpaced` also lifts
    Real-Debrid's 250/min pacing, for tests and benchmarks whose emulator counts calls instead of timing them.
    """
    overrides: dict[str, Any] = dict(world.overrides(hosts))
    overrides["database"] = {"url": db_url}
    overrides["torrentio"]["rate_limit_per_min"] = 0
    overrides["acquire"] = {"conversion_poll_s": 0.1}
    settings = load_settings(None, overrides)
    if unpaced:
        # Bypasses the 1..250 bound on purpose: nothing real is on the other end.
        settings.realdebrid.rate_limit_per_min = 0
    return settings


def in_process(world: Sandbox) -> dict[str, httpx.AsyncBaseTransport]:
    """Transports that reach the emulators without sockets."""
    return {name: world.transport(name) for name in SERVICES}


async def run_demo(scenario: Scenario, *, passes: int = 2) -> DemoResult:
    """Serve the scenario on loopback, run `passes` passes of the bridge, and summarise what happened."""
    world = Sandbox(scenario)
    world.clock.set_speed(DEMO_SPEED)
    servers = LoopbackServers(world)
    hosts = await servers.start()
    try:
        with tempfile.TemporaryDirectory(prefix="seerbridge-demo-") as tmp:
            settings = sandbox_settings(world, f"sqlite+aiosqlite:///{tmp}/demo.db", hosts)
            reports: list[PassReport] = []
            async with open_bridge(settings, today=world.clock.today) as bridge:
                for _ in range(passes):
                    reports.append(await bridge.run_pass())
                async with bridge.sessions() as session:
                    rows = await _rows(session)
    finally:
        await servers.stop()
    hashes = world.realdebrid_state.hashes()
    scenario_hand_added = {t.hash for t in scenario.realdebrid.torrents}
    dupes = sorted({h for h in hashes if hashes.count(h) > 1 and h not in scenario_hand_added})
    return DemoResult(rows, reports, hosts, dupes)


async def _rows(session: Any) -> list[DemoRow]:
    rows: list[DemoRow] = []
    for record in await repo.list_requests(session):
        torrents = [
            t.name
            for item in await repo.items_of_request(session, record.id)
            for t in await repo.torrents_of_item(session, item.key)
            if t.state in KEPT_STATES
        ]
        calls = record.calls or {}
        rows.append(
            DemoRow(
                request_id=record.id,
                title=record.title,
                state=str(record.state),
                reason=record.reason or "",
                torrents=sorted(set(torrents)),
                torrentio_calls=sum(calls.get("torrentio", {}).values()),
                realdebrid_calls=sum(calls.get("realdebrid", {}).values()),
            )
        )
    return sorted(rows, key=lambda r: r.request_id)
