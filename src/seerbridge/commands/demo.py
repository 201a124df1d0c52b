"""`seerbridge demo`: the whole bridge against the emulators on loopback, with a scenario that exercises every path."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import posixpath
import re
import secrets
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

import httpx
from pydantic import SecretStr

from seerbridge.commands.doctor import DoctorRow, run_doctor
from seerbridge.config import Settings, load_settings
from seerbridge.domain.states import KEPT_STATES, RequestState, TorrentState
from seerbridge.library.disk import LibraryDisk
from seerbridge.pipeline.process import Bridge, PassReport
from seerbridge.redact import register
from seerbridge.render.demo_library import MatchedTitle, RepairView, matched_lines, repair_lines, tree_lines
from seerbridge.render.report import plural
from seerbridge.runtime.bridge import open_bridge
from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.seerr_models import MediaStatus
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
    library: list[str] = field(default_factory=list)  # the tree seerbridge wrote, then Jellyfin and Seerr on it
    repair: list[str] = field(default_factory=list)  # a torrent vanishing from Real-Debrid, repaired behind its path


def sandbox_settings(
    world: Sandbox, db_url: str, hosts: dict[ServiceName, str] | None = None, *, unpaced: bool = False
) -> Settings:
    """Settings that point at the sandbox (on loopback when `hosts` are given, else in-process URLs).

    The Torrentio, Torznab and Zilean emulators have no daily budget to protect, so their pacing is lifted.
    `unpaced` also lifts Real-Debrid's 250/min pacing, for tests and benchmarks whose emulator counts calls instead
    of timing them.
    """
    overrides: dict[str, Any] = dict(world.overrides(hosts))
    overrides["database"] = {"url": db_url}
    overrides["torrentio"]["rate_limit_per_min"] = 0
    for source in overrides.get("sources", {}).values():
        source["rate_limit_per_min"] = 0  # the Torznab and Zilean emulators have no limit to protect either
    settings = load_settings(None, overrides)
    if unpaced:
        # Bypasses the 1..250 bound on purpose: nothing real is on the other end.
        settings.realdebrid.rate_limit_per_min = 0
    return settings


def in_process(world: Sandbox) -> dict[str, httpx.AsyncBaseTransport]:
    """Transports that reach the emulators without sockets."""
    return {name: world.transport(name) for name in SERVICES}


LibraryMode = Literal["strm", "symlink"]


async def run_demo(
    scenario: Scenario, *, passes: int = 2, live: bool = True, library_mode: LibraryMode = "strm"
) -> DemoResult:
    """Serve the scenario on loopback with seerbridge writing its library into a temporary folder that the Jellyfin
    emulator scans, run `passes` passes of the bridge, show the library and what Jellyfin and Seerr made of it, then
    (with `live`) run the daemon: request a film in Seerr and send Seerr's webhook, and follow the uncached download
    until it is there. Two weeks later: upgrades and a cleanup plan; last, a torrent vanishes and is repaired."""
    live_lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="seerbridge-demo-") as tmp:
        root = Path(tmp) / "library"
        mount = Path(tmp) / "mount" if library_mode == "symlink" else None  # stands in for a zurg mount
        for folder in (root, mount):
            if folder is not None:
                folder.mkdir()
        world = Sandbox(scenario, library_root=root, mount_dir=mount)
        world.clock.set_speed(DEMO_SPEED)
        servers = LoopbackServers(world)
        hosts = await servers.start()
        try:
            settings = sandbox_settings(world, f"sqlite+aiosqlite:///{tmp}/demo.db", hosts)
            settings.library.root = str(root)
            settings.library.mode = library_mode
            settings.library.mount_path = str(mount) if mount is not None else None
            # strm entries hold http://127.0.0.1:<port>/play/<token>: the port the daemon listens on in the live part.
            settings.server.port = _free_port()
            reports: list[PassReport] = []
            async with open_bridge(settings, clock=world.clock) as bridge:
                doctor = await run_doctor(settings)  # what a user runs first against real services
                for _ in range(passes):
                    reports.append(await bridge.run_pass())
                library_lines = await _library(world, bridge, root)
                if live:
                    live_lines = await _live(world, settings, bridge)
                quality_lines = await _quality(world, bridge)
                repaired = await _repair(world, bridge, root)
                async with bridge.sessions() as session:
                    rows = await _rows(session)
        finally:
            await servers.stop()
    hashes = world.realdebrid_state.hashes()
    scenario_hand_added = {t.hash for t in scenario.realdebrid.torrents}
    dupes = sorted({h for h in hashes if hashes.count(h) > 1 and h not in scenario_hand_added})
    return DemoResult(rows, reports, hosts, dupes, live_lines, quality_lines, doctor, library_lines, repaired)


def _free_port() -> int:
    """A loopback port free now, for the daemon of the live part (strm entries name it before it listens)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


LIVE_TMDB_ID = 329865  # Arrival, in the demo catalogue but not requested
RADARR_TMDB_ID = 286217  # The Martian, likewise: requested in 4K through Seerr's 4K Radarr
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
    live.webhook.secret = SecretStr(secret)
    arr_key = secrets.token_urlsafe(24)
    register(arr_key)
    live.arr.api_key = SecretStr(arr_key)
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
    folders_before = len(world.jellyfin_state.media_updated_paths)
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

        async def in_jellyfin() -> bool:  # its monitor delay passes in a second at DEMO_SPEED
            async with bridge.sessions() as session:
                return not any(r.state is RequestState.FULFILLED for r in await repo.list_requests(session))

        listed = done and await _eventually(in_jellyfin)
        names = ", ".join(t.name for t in finished) or "none"
        told = len(world.jellyfin_state.media_updated_paths) - folders_before
        refreshes = world.jellyfin_state.refresh_count - refreshes_before
        jellyfin = f"Jellyfin told of {plural(told, 'new folder')}" if told else f"Jellyfin asked to scan {refreshes}×"
        scans = len(world.seerr_state.runs_of("jellyfin-recently-added-scan")) - scans_before
        lines.append(
            f"followed: {names} "
            + ("downloaded" if done else "still downloading when the demo ended")
            + f"; {jellyfin}, Seerr scan job run {scans}×"
            + ("; requests available" if listed else "")
        )
        lines += await _through_radarr(world, bridge, daemon, arr_key)
    finally:
        stop.trigger()
        await asyncio.wait_for(task, 15)
    return lines


async def _through_radarr(world: Sandbox, bridge: Bridge, daemon: Any, key: str) -> list[str]:
    """Seerr with seerbridge as its 4K Radarr: Test and Save in Seerr's settings, then a 4K request approved there
    is pushed to seerbridge, worked at once, and read back by Seerr's Radarr scan."""
    media = world.scenario.media_by_tmdb(RADARR_TMDB_ID)
    if media is None or media.imdb_id is None:
        return []
    seerr = world.seerr_state
    connection = {"hostname": "127.0.0.1", "port": daemon.port, "apiKey": key, "useSsl": False, "baseUrl": "/radarr-4k"}
    transport = httpx.ASGITransport(app=world.apps["seerr"])
    headers = {"X-Api-Key": world.scenario.keys["seerr"]}
    async with httpx.AsyncClient(transport=transport, base_url="http://seerr/api/v1", headers=headers) as api:
        tested = await api.post("/settings/radarr/test", json=connection)
        if tested.status_code != 200:
            return [f"Radarr path: Seerr's Test of seerbridge's /radarr-4k failed (HTTP {tested.status_code})"]
        profiles = {p["name"]: p["id"] for p in tested.json()["profiles"]}
        settings = {
            **connection,
            "name": "seerbridge 4K",
            "activeProfileId": profiles["4k"],
            "activeProfileName": "4k",
            "activeDirectory": tested.json()["rootFolders"][0]["path"],
            "is4k": True,
            "isDefault": True,
            "syncEnabled": True,
            "minimumAvailability": "released",
        }
        saved = await api.post("/settings/radarr", json=settings)
    lines = [
        f"Radarr path: Seerr's Test and Save of seerbridge as its 4K Radarr (/radarr-4k) → HTTP {tested.status_code}, "
        f"{saved.status_code}; {len(profiles)} quality profiles offered"
    ]
    wanted = {r.info_hash for r in world.scenario.releases_for(media.imdb_id) if "2160p" in r.name}
    sent = time.monotonic()
    request = seerr.add_request(RADARR_TMDB_ID, is4k=True, approved=True, requested_by="erin")
    await seerr.servarr.settle()

    async def arrived() -> bool:
        return bool(wanted & set(world.realdebrid_state.hashes()))

    got = await _eventually(arrived)
    took = time.monotonic() - sent
    row = seerr.media_for(RADARR_TMDB_ID)
    movie_id = row.service4k.external_service_id if row is not None else None
    lines.append(
        f"  Seerr request {request.id} (The Martian, 4K) approved → Seerr added it to seerbridge's Radarr (id "
        f"{movie_id}); "
        + (f"2160p torrent on Real-Debrid {took:.2f} s later, no webhook, no poll" if got else "nothing added")
    )

    async def available() -> bool:
        async with bridge.sessions() as session:
            record = await repo.get_request(session, request.id)
        return record is not None and record.state is RequestState.AVAILABLE

    if got and await _eventually(available):
        await seerr.servarr.radarr_scan()
        shown = seerr.media_for(RADARR_TMDB_ID)
        status = _status(shown.status4k) if shown is not None else "unknown"
        lines.append(f"  Jellyfin holds it; Seerr's Radarr scan reads hasFile from seerbridge: {status} (4K)")
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


MONITOR_SLACK_S = 5.0  # a little past Jellyfin's monitor delay, and past its scan
SETTLE_ROUNDS = 3  # Jellyfin lists what it was told of after one; the others only if it is slower than that


async def _settle(world: Sandbox, bridge: Bridge) -> None:
    """Let Jellyfin's monitor delay and the scan of the folders it was told of pass on the virtual clock, then
    announce again: seerbridge sees Jellyfin list the items (available) and brings Seerr up to date."""
    jellyfin = world.jellyfin_state
    for _ in range(SETTLE_ROUNDS):
        world.clock.advance(jellyfin.monitor_delay_s + MONITOR_SLACK_S)
        world.clock.advance(jellyfin.scan_duration_s + MONITOR_SLACK_S)
        if not (await bridge.announce()).awaiting:
            return


def _written(root: Path) -> dict[str, str]:
    """Every entry seerbridge wrote under the library root → what it holds (a .strm's address, a link's target)."""
    return dict(sorted(LibraryDisk(root).managed().items()))


async def _library(world: Sandbox, bridge: Bridge, root: Path) -> list[str]:
    """The library tree seerbridge wrote after the passes; then, once Jellyfin's monitor delay and scan have passed,
    what Jellyfin lists for each title folder, Seerr's status and the requests' states."""
    mode = bridge.settings.library.mode
    written = await asyncio.to_thread(_written, root)
    lines = [f"The library seerbridge wrote ({mode} mode) in a temporary library.root:"]
    lines += tree_lines(list(written)) or ["  (nothing: no request was fulfilled)"]
    if mode == "strm":
        lines.append(f"  Each .strm holds {bridge.settings.server.play_base()}/play/<token>, which seerbridge")
        lines.append("  answers with a fresh Real-Debrid link. With library.mode symlink, entries")
        lines.append("  link into a zurg mount instead (seerbridge demo --library-mode symlink).")
    else:
        lines.append("  Each entry links to its file in the mount (library.mount_path; here a temporary")
        lines.append("  folder standing in for a zurg mount of the Real-Debrid account).")
    world.clock.set_speed(0)  # Jellyfin's delays pass by hand
    told = len(world.jellyfin_state.media_updated_paths)
    await _settle(world, bridge)
    delay = world.jellyfin_state.monitor_delay_s
    lines.append(f"Jellyfin, told of {plural(told, 'folder')}, scanned them after its {delay:.0f} s monitor delay")
    lines.append("and matched each by its TMDB id; seerbridge saw them there and told Seerr:")
    async with bridge.sessions() as session:
        requests = await repo.list_requests(session)
    folders = dict.fromkeys(_title_folder(rel) for rel in written)
    lines += matched_lines([_matched(world, root, folder, requests) for folder in folders])
    world.clock.set_speed(DEMO_SPEED)
    return lines


_TMDB_IN_NAME = re.compile(r"\[tmdbid-(\d+)\]")


def _title_folder(rel: str) -> str:
    """`movies/X (2019) [tmdbid-1]` for any entry below it."""
    return "/".join(rel.split("/")[:2])


def _matched(world: Sandbox, root: Path, folder: str, requests: list[repo.RequestRecord]) -> MatchedTitle:
    """One title folder as Jellyfin lists it (the item in seerbridge's libraries with the folder's TMDB id), Seerr's
    status for it, and the states of the requests for it."""
    jellyfin = world.jellyfin_state
    found = _TMDB_IN_NAME.search(folder)
    tmdb = int(found[1]) if found else None
    kind = "movie" if folder.startswith("movies") else "show"
    media_type = "movie" if kind == "movie" else "tv"
    ids = tuple((r.id, str(r.state)) for r in requests if r.tmdb_id == tmdb and r.media_type == media_type)
    media = world.seerr_state.media_for(tmdb, media_type) if tmdb is not None else None
    seerr = "not in Seerr" if media is None else _status(media.status)
    items = [
        i
        for i in jellyfin.of_kind("Movie" if kind == "movie" else "Series")
        if i.provider_ids.get("Tmdb") == str(tmdb) and jellyfin.in_disk_library(i) and i.path
    ]
    item = items[0] if items else None
    where = None
    episodes = 0
    if item is not None and item.path is not None:
        rel = os.path.relpath(item.path, root)
        where = posixpath.dirname(rel) if kind == "movie" else rel
        if kind == "show":
            listed = jellyfin.episodes_of(item.id, include_virtual=False)
            episodes = len(listed)
            seasons = sorted({e.parent_index_number for e in listed if e.parent_index_number is not None})
            if media is not None and seasons:
                parts = []
                for number in seasons:
                    row = media.season(number)
                    parts.append(f"season {number} " + (_status(row.status) if row is not None else "unknown"))
                seerr = ", ".join(parts)
    return MatchedTitle(
        folder=folder,
        kind=kind,
        name=item.name if item is not None else None,
        year=item.production_year if item is not None else None,
        tmdb_id=int(item.provider_ids["Tmdb"]) if item is not None else None,
        jellyfin_folder=where,
        episodes=episodes,
        seerr=seerr,
        requests=ids,
    )


def _status(status: MediaStatus) -> str:
    """Seerr's media status as words: "available", "partially available"."""
    return str(status.name).lower().replace("_", " ")


REPAIR_TMDB_ID = 10331  # Night of the Living Dead: requested twice (101, 108), with a second cached copy (720p)


async def _repair(world: Sandbox, bridge: Bridge, root: Path) -> list[str]:
    """A kept torrent vanishes from Real-Debrid: a repair round notices it, the requests are worked again, and the
    next acceptable copy takes its place behind the same library path (the film of REPAIR_TMDB_ID when the library
    holds it, else the first film there)."""
    from seerbridge.library.sync import play_secret
    from seerbridge.pipeline.repair import Repairer
    from seerbridge.render.report import without_names

    mode = bridge.settings.library.mode
    async with bridge.sessions() as session:
        films = []
        for entry in await repo.library_entries(session):
            item = await repo.get_item(session, entry.item_key)
            if item is not None and item.kind == "movie":
                films.append((item.tmdb_id != REPAIR_TMDB_ID, item.tmdb_id, entry))
        if not films:
            return []
        _, tmdb, entry = min(films, key=lambda f: f[0])
        before = await repo.get_torrent(session, entry.torrent_id)
    if before is None or before.rd_id is None:
        return []
    secret = await play_secret(bridge.sessions)
    disk_name = entry.rel_path if mode != "strm" else posixpath.splitext(entry.rel_path)[0] + ".strm"
    written_before = (await asyncio.to_thread(_written, root)).get(disk_name, "?")
    plays_before = await _plays(bridge, written_before, secret) if mode == "strm" else None

    world.realdebrid_state.vanish(before.rd_id)  # Real-Debrid drops it on its own (a retroactive 451, a clean-up)
    world.sync_mount()
    repairer = Repairer(bridge.settings, bridge.services.realdebrid, bridge.sessions)
    with _quiet("seerbridge.repair"):  # its warning is the story told below
        due = await repairer.round(bridge.now())
    async with bridge.sessions() as session:
        found = [r for r in await repo.repairs(session) if r.torrent_id == before.id]
    why = without_names(found[-1].reason, [before.name]) if found else "nothing found broken"
    for request_id in due:  # what the daemon does with them: work them again, now
        await bridge.work_request(request_id)
    await bridge.announce()
    await _settle(world, bridge)

    async with bridge.sessions() as session:
        now_entry = next((e for e in await repo.library_entries(session) if e.id == entry.id), None)
        after = await repo.get_torrent(session, now_entry.torrent_id) if now_entry is not None else None
        requests = [r for r in await repo.list_requests(session) if r.id in due]
    written = await asyncio.to_thread(_written, root)
    written_after = written.get(disk_name)
    plays_after = await _plays(bridge, written_after, secret) if mode == "strm" and written_after else None
    listed = next(
        (
            i
            for i in world.jellyfin_state.of_kind("Movie")
            if i.provider_ids.get("Tmdb") == str(tmdb) and world.jellyfin_state.in_disk_library(i)
        ),
        None,
    )
    media = world.seerr_state.media_for(tmdb, "movie")
    mount = bridge.settings.library.mount_path
    view = RepairView(
        mode=mode,
        entry=disk_name,
        entry_after=disk_name if written_after is not None else None,
        torrent_before=before.name,
        torrent_after=after.name if after is not None and after.id != before.id else None,
        written_before=_shorter(written_before, mount),
        written_after=_shorter(written_after, mount) if written_after is not None else None,
        plays_before=plays_before,
        plays_after=plays_after,
        why=why,
        requests=tuple(due),
        requests_after=tuple((r.id, str(r.state)) for r in requests),
        seerr_after=_status(media.status) if media is not None else "not in Seerr",
        jellyfin_path_same=listed is not None and listed.path == str(root / disk_name),
    )
    return repair_lines(view)


async def _plays(bridge: Bridge, address: str, secret: str) -> str | None:
    """The file a play of a strm address is sent to (as the daemon's /play/ answers it): the download link's name."""
    from seerbridge.library.play import PlayRedirect, PlayResolver, PlayTarget
    from seerbridge.library.sync import play_target

    async def lookup(entry_id: int) -> PlayTarget | None:
        return await play_target(bridge.sessions, entry_id)

    async def gone(_entry_id: int, _reason: str) -> None:
        return None

    resolver = PlayResolver(bridge.services.realdebrid, lookup, gone, secret)
    outcome = await resolver.resolve(address.rsplit("/", 1)[-1])
    if not isinstance(outcome, PlayRedirect):
        return f"nothing ({outcome.reason})"
    return unquote(urlsplit(outcome.url).path.rsplit("/", 1)[-1])


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Keep one logger's warnings out of the demo's output while it stages what they would report."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _shorter(target: str, mount: str | None) -> str:
    """A symlink's target relative to the mount (`__all__/NAME/file.mkv`), a strm's address as it is."""
    if mount and target.startswith(mount.rstrip("/") + "/"):
        return "<mount>/" + target[len(mount.rstrip("/")) + 1 :]
    return target


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
