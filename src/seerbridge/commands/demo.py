"""`seerbridge demo`: the whole bridge against the emulators on loopback, with a scenario that exercises every path."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import SecretStr

from seerbridge.commands.doctor import DoctorRow, run_doctor
from seerbridge.config import Settings, load_settings
from seerbridge.domain.states import KEPT_STATES, TorrentState
from seerbridge.pipeline.process import Bridge, PassReport
from seerbridge.redact import register
from seerbridge.render.report import plural
from seerbridge.runtime.bridge import open_bridge
from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.serve import LoopbackServers
from seerbridge.sandbox.world import SERVICES, Sandbox, ServiceName
from seerbridge.store import repo

if TYPE_CHECKING:
    from seerbridge.pipeline.upgrade import UpgradeReport

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
    live: list[str] = field(default_factory=list)  # what the daemon did: the webhook, the followed download
    quality: list[str] = field(default_factory=list)  # weeks later: the upgrade round and the cleanup plan
    doctor: list[DoctorRow] = field(default_factory=list)  # `seerbridge doctor` against the emulators, first


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
    settings = load_settings(None, overrides)
    if unpaced:
        # Bypasses the 1..250 bound on purpose: nothing real is on the other end.
        settings.realdebrid.rate_limit_per_min = 0
    return settings


def in_process(world: Sandbox) -> dict[str, httpx.AsyncBaseTransport]:
    """Transports that reach the emulators without sockets."""
    return {name: world.transport(name) for name in SERVICES}


async def run_demo(scenario: Scenario, *, passes: int = 2, live: bool = True) -> DemoResult:
    """Serve the scenario on loopback, run `passes` passes of the bridge, then (with `live`) run the daemon:
    request a film in Seerr and send Seerr's webhook, and follow the uncached download until it is there."""
    world = Sandbox(scenario)
    world.clock.set_speed(DEMO_SPEED)
    servers = LoopbackServers(world)
    hosts = await servers.start()
    live_lines: list[str] = []
    quality_lines: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="seerbridge-demo-") as tmp:
            settings = sandbox_settings(world, f"sqlite+aiosqlite:///{tmp}/demo.db", hosts)
            reports: list[PassReport] = []
            async with open_bridge(settings, clock=world.clock) as bridge:
                doctor = await run_doctor(settings)  # what a user runs first against real services
                for _ in range(passes):
                    reports.append(await bridge.run_pass())
                if live:
                    live_lines = await _live(world, settings, bridge)
                quality_lines = await _quality(world, bridge)
                async with bridge.sessions() as session:
                    rows = await _rows(session)
    finally:
        await servers.stop()
    hashes = world.realdebrid_state.hashes()
    scenario_hand_added = {t.hash for t in scenario.realdebrid.torrents}
    dupes = sorted({h for h in hashes if hashes.count(h) > 1 and h not in scenario_hand_added})
    return DemoResult(rows, reports, hosts, dupes, live_lines, quality_lines, doctor)


LIVE_TMDB_ID = 329865  # Arrival, in the demo catalogue but not requested
LIVE_TIMEOUT_S = 30.0


async def _live(world: Sandbox, settings: Settings, bridge: Bridge) -> list[str]:
    """The daemon at work: a webhook-triggered request, and downloads followed until they finish."""
    from seerbridge.runtime.daemon import Daemon, StopSignal
    from seerbridge.sandbox.seerr_webhook import render_webhook

    media = world.scenario.media_by_tmdb(LIVE_TMDB_ID)
    if media is None or media.imdb_id is None:
        return []
    secret = secrets.token_urlsafe(24)
    register(secret)
    live = settings.model_copy(deep=True)
    live.server.port = 0
    live.webhook.secret = SecretStr(secret)
    live.run.poll_interval_s = 3600  # the webhook, not a poll, must be what acts
    live.follow.min_interval_s, live.follow.max_interval_s = 0.2, 1.0
    bridge.settings = live
    bridge.follower.settings = live
    daemon = Daemon(live, bridge)
    stop = StopSignal()
    lines: list[str] = []
    started = asyncio.Event()

    async def ready(_: Daemon) -> None:
        started.set()

    refreshes_before = world.jellyfin_state.refresh_count
    scans_before = len(world.seerr_state.runs_of("jellyfin-recently-added-scan"))
    task = asyncio.create_task(daemon.run(stop, ready=ready))
    try:
        await asyncio.wait_for(started.wait(), 10)
        request = world.seerr_state.add_request(LIVE_TMDB_ID, approved=True, requested_by="dave")
        body = render_webhook("MEDIA_AUTO_APPROVED", request)
        wanted = {r.info_hash for r in world.scenario.releases_for(media.imdb_id)}
        sent = time.monotonic()
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"http://127.0.0.1:{daemon.port}/webhook/seerr", json=body, headers={"Authorization": secret}
            )

        async def arrived() -> bool:
            return bool(wanted & set(world.realdebrid_state.hashes()))

        got = await _eventually(arrived)
        took = time.monotonic() - sent
        lines.append(
            f"webhook: Seerr request {request.id} (Arrival) approved → HTTP {answer.status_code}; "
            + (f"cached torrent on Real-Debrid {took:.2f} s later, no poll involved" if got else "nothing added")
        )

        async def downloads_done() -> bool:
            async with bridge.sessions() as session:
                rows = await repo.torrents_in_state(session, TorrentState.DOWNLOADING)
            return not rows

        done = await _eventually(downloads_done)
        async with bridge.sessions() as session:
            finished = [
                t for t in await repo.all_torrents(session) if t.state is TorrentState.DOWNLOADED and not t.cached
            ]
        names = ", ".join(t.name for t in finished) or "none"
        lines.append(
            f"followed: {names} "
            + ("downloaded, request fulfilled" if done else "still downloading when the demo ended")
            + f"; Jellyfin asked to scan {world.jellyfin_state.refresh_count - refreshes_before}×, "
            + f"Seerr scan job run {len(world.seerr_state.runs_of('jellyfin-recently-added-scan')) - scans_before}×"
        )
    finally:
        stop.trigger()
        await asyncio.wait_for(task, 15)
    return lines


QUALITY_WAIT_DAYS = 15  # past the better copy's upload, and past every torrent's first upgrade check


async def _quality(world: Sandbox, bridge: Bridge) -> list[str]:
    """Two weeks later: one upgrade round over the torrents below their cutoff, then the cleanup plan (not applied)."""
    from rich.markup import escape

    from seerbridge.pipeline.cleanup import plan_cleanup
    from seerbridge.pipeline.upgrade import Upgrader
    from seerbridge.render.cleanup_report import human_size, plan_lines

    bridge.stopping = False  # the live phase's daemon stopped; this bridge goes on
    world.clock.set_speed(0)  # the clock moves by hand from here
    world.clock.advance(QUALITY_WAIT_DAYS * 86400)
    upgrader = Upgrader(bridge)
    report = await upgrader.round()
    more = report
    while more.left_for_later and more.checks:  # the demo has no hours to wait: the next rounds at once
        more = await upgrader.round()
        report.checks += more.checks
    lines = upgrade_lines(report, QUALITY_WAIT_DAYS)
    hold = bridge.settings.upgrade.keep_replaced_minutes
    world.clock.advance(hold * 60 + 60)
    lines.append(f"{hold:.0f} minutes later, `seerbridge cleanup` would plan (nothing is deleted without --apply):")
    plan = await plan_cleanup(bridge)
    lines += [f"  {d.rule}: {escape(d.name)} ({human_size(d.size_bytes)}): {escape(d.reason)}" for d in plan.doomed]
    lines += ["  " + line for line in plan_lines(plan)]
    return lines


def upgrade_lines(report: UpgradeReport, days: int) -> list[str]:
    """The upgrade rounds `days` later: how many torrents were checked, each upgrade, and the outcomes counted."""
    lines = [f"{days} days later, upgrade rounds checked {plural(len(report.checks), 'torrent')}:"]
    outcomes: dict[str, int] = {}
    for check in report.checks:
        outcomes[check.outcome] = outcomes.get(check.outcome, 0) + 1
        if check.outcome == "upgraded":
            lines.append(f"  upgraded ({check.profile} profile): {check.name} → {check.new_name}")
    lines.append("  " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())))
    return lines


async def _eventually(check: Callable[[], Awaitable[bool]]) -> bool:
    """True once `check` holds, False if it has not within LIVE_TIMEOUT_S."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(LIVE_TIMEOUT_S):
            # The emulators change state in other tasks and have no event to wait on: look every 50 ms.
            while not await check():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            return True
    return False


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
