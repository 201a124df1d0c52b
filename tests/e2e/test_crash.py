"""Crash safety: `seerbridge run` killed with SIGKILL at many points of a scenario, restarted each time.

The emulators run on loopback in this process; seerbridge runs as a real subprocess on a store file that outlives
it. A kill switch inside the Real-Debrid emulator kills the process at chosen calls: before the answer leaves (the
call took effect and seerbridge never learns it) or a moment after (it dies while recording the answer). Other
runs die at random moments. After the last kill a run is left to settle; then nothing may be duplicated, orphaned,
half done or silently stalled.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seerbridge.domain.states import RequestState, TorrentState
from seerbridge.sandbox.scenario import Scenario, load_scenario
from seerbridge.sandbox.seerr_models import RequestStatus
from seerbridge.sandbox.serve import running_in_thread
from seerbridge.sandbox.world import Sandbox, ServiceName
from seerbridge.store import repo
from seerbridge.store.db import create_engine, open_database
from seerbridge.store.migrate import current_revision, head_revision, upgrade_to_head
from seerbridge.store.models import Base

SEED = int(os.environ.get("CRASH_SEED", "20261124"))  # another seed, other kill points
RUN_LIMIT_S = 5.0  # a run whose kill point never comes is killed after this long anyway
SETTLE_LIMIT_S = 60.0
KEPT = (TorrentState.DOWNLOADED, TorrentState.DOWNLOADING)
UNSETTLED = (TorrentState.ADDING, TorrentState.ADDED)
AT_REST = frozenset(
    {
        RequestState.FULFILLED,
        RequestState.AVAILABLE,
        RequestState.DOWNLOADING,
        RequestState.ALREADY_AVAILABLE,
        RequestState.NO_RELEASE,
    }
)
# On Real-Debrid; seen in Jellyfin too or not yet, as the emulated scans have come along when the run is stopped.
HELD = (RequestState.FULFILLED, RequestState.AVAILABLE)


# ----- the kill switch inside the Real-Debrid emulator ---------------------------------------------------------


@dataclass(frozen=True)
class KillPoint:
    """Where a run dies: at the `nth` Real-Debrid call whose path matches `pattern` (before its answer is sent, or
    `delay` seconds after it started to leave), or, with `after_s`, that long after the process started."""

    pattern: str = ""
    nth: int = 1
    delay: float | None = None  # None: before the answer leaves
    after_s: float | None = None

    def __str__(self) -> str:
        if self.after_s is not None:
            return f"after {self.after_s:.2f}s"
        when = "before its answer" if self.delay is None else f"{self.delay * 1000:.0f}ms after its answer"
        return f"call {self.nth} matching {self.pattern or 'anything'!r}, {when}"


class KillSwitch:
    """Kills the armed process at its kill point; the middleware below calls `answering` in the server's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._point: KillPoint | None = None
        self._seen = 0
        self._timer: threading.Timer | None = None
        self.fired_at: str | None = None  # the path of the call it fired at

    def arm(self, proc: subprocess.Popen[bytes], point: KillPoint) -> None:
        with self._lock:
            self._proc, self._point, self._seen, self.fired_at = proc, point, 0, None

    def disarm(self) -> None:
        with self._lock:
            self._proc = self._point = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def answering(self, path: str) -> None:
        with self._lock:
            point, proc = self._point, self._proc
            if point is None or proc is None or point.after_s is not None or not re.search(point.pattern, path):
                return
            self._seen += 1
            if self._seen != point.nth:
                return
            self._point = None
            self.fired_at = path
            if point.delay is None:
                _kill(proc)
            else:
                self._timer = threading.Timer(point.delay, _kill, (proc,))
                self._timer.start()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)


class KillMiddleware:
    """Outermost layer of the Real-Debrid emulator: tells the switch when an answer is about to leave."""

    def __init__(self, app: ASGIApp, switch: KillSwitch) -> None:
        self.app = app
        self.switch = switch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.switch.answering(path)
            await send(message)

        await self.app(scope, receive, sending)


# ----- seerbridge as a subprocess --------------------------------------------------------------------------------


class Seerbridge:
    """`seerbridge run` started as a user starts it, against emulators on loopback, on one store file.

    Used as a context manager: a run a failed test left going is killed on the way out.
    """

    def __init__(self, world: Sandbox, hosts: dict[ServiceName, str], tmp_path: Path, **env: str) -> None:
        self.world = world
        self.db = tmp_path / "seerbridge.db"
        self.db_url = f"sqlite+aiosqlite:///{self.db}"
        self.logs_dir = tmp_path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SEERBRIDGE_")}
        self.env |= world.env(hosts)
        self.env |= {
            "SEERBRIDGE_DATABASE__URL": self.db_url,
            "SEERBRIDGE_SERVER__ENABLED": "false",
            "SEERBRIDGE_RUN__POLL_INTERVAL_S": "1",
            "SEERBRIDGE_RUN__GRACE_S": "10",
            "SEERBRIDGE_TORRENTIO__RATE_LIMIT_PER_MIN": "0",
            "SEERBRIDGE_ACQUIRE__CONVERSION_POLL_S": "0.5",
            "SEERBRIDGE_FOLLOW__MIN_INTERVAL_S": "0.5",
            "SEERBRIDGE_FOLLOW__MAX_INTERVAL_S": "2",
            **env,
        }
        self.runs = 0
        self._procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Seerbridge:
        return self

    def __exit__(self, *_: object) -> None:
        for proc in self._procs:
            _kill(proc)
            proc.wait()

    def start(self) -> subprocess.Popen[bytes]:
        self.runs += 1
        with (self.logs_dir / f"run-{self.runs:02d}.log").open("wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "seerbridge", "run"], env=self.env, stdout=log, stderr=log)
        self._procs.append(proc)
        return proc

    def logs(self, last: int = 3) -> str:
        """The output of the last runs, for failure messages."""
        paths = sorted(self.logs_dir.glob("run-*.log"))[-last:]
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in paths)

    def request_states(self) -> dict[int, str]:
        """Request id → state straight from the store file (a cheap read while a run writes)."""
        if not self.db.exists():
            return {}
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)) as conn:
            try:
                return dict(conn.execute("SELECT id, state FROM requests").fetchall())
            except sqlite3.OperationalError:  # the first run has not created the tables yet
                return {}

    def torrent_states(self) -> list[str]:
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)) as conn:
            return [state for (state,) in conn.execute("SELECT state FROM torrents").fetchall()]

    def store(self) -> tuple[list[repo.RequestRecord], list[repo.TorrentRecord]]:
        async def read() -> tuple[list[repo.RequestRecord], list[repo.TorrentRecord]]:
            engine, sessions = await open_database(self.db_url)
            try:
                async with sessions() as session:
                    return await repo.list_requests(session), await repo.all_torrents(session)
            finally:
                await engine.dispose()

        return asyncio.run(read())

    def stop(self, proc: subprocess.Popen[bytes], *, timeout: float = 15.0) -> int:
        """SIGINT (graceful stop) and the exit code."""
        proc.send_signal(signal.SIGINT)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"no exit {timeout}s after SIGINT\n{self.logs(1)}") from None


def completed_in_seerr(world: Sandbox) -> set[int]:
    """Requests Seerr has completed (their media available: Jellyfin listed the files seerbridge put there). Seerr
    no longer lists them as approved, so a run that starts after that never needs to work them."""
    return {rid for rid, row in world.seerr_state.requests.items() if row.status is RequestStatus.COMPLETED}


def settle(sb: Seerbridge, expected: set[int], *, limit: float = SETTLE_LIMIT_S) -> subprocess.Popen[bytes]:
    """Start a run and wait until every expected request is at rest and no download is under way; the run is
    returned still going (the caller stops it)."""
    proc = sb.start()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        time.sleep(0.3)
        assert proc.poll() is None, f"seerbridge exited on its own ({proc.returncode})\n{sb.logs(1)}"
        states = sb.request_states()
        at_rest = {i for i, s in states.items() if RequestState(s) in AT_REST} | completed_in_seerr(sb.world)
        downloading = RequestState.DOWNLOADING.value in states.values()
        if expected <= at_rest and not downloading and TorrentState.DOWNLOADING.value not in sb.torrent_states():
            return proc
    proc.kill()
    proc.wait()
    raise AssertionError(
        f"not settled within {limit}s: requests {sb.request_states()}, torrents {sorted(sb.torrent_states())}\n"
        + sb.logs(1)
    )


def assert_consistent(sb: Seerbridge, hand_added: set[str]) -> dict[int, repo.RequestRecord]:
    """What a kill must never cause, checked against the emulator's account and the store; returns the requests."""
    rd = sb.world.realdebrid_state
    requests, rows = sb.store()
    hashes = [h for h in rd.hashes() if h not in hand_added]
    assert len(hashes) == len(set(hashes)), f"duplicate torrents on Real-Debrid: {sorted(hashes)}"
    unsettled = [(r.info_hash, r.state.value, r.rd_id) for r in rows if r.state in UNSETTLED]
    assert not unsettled, f"store rows left half done: {unsettled}"
    kept = {r.rd_id: r for r in rows if r.state in KEPT}
    for torrent in rd.listing():
        if torrent.hash in hand_added:
            continue
        assert torrent.id in kept, f"orphan on Real-Debrid: {torrent.hash} ({torrent.id}) is not kept in the store"
        assert kept[torrent.id].info_hash == torrent.hash
    present = {t.id for t in rd.listing()}
    ghosts = [(r.info_hash, r.rd_id) for r in kept.values() if r.rd_id not in present]
    assert not ghosts, f"the store keeps torrents Real-Debrid does not have: {ghosts}"
    for record in requests:
        scheduled = record.next_attempt_at is not None and bool(record.reason)
        assert record.state in AT_REST - {RequestState.NO_RELEASE} or scheduled, (
            f"request {record.id} is {record.state.value} ({record.reason!r}) with no next attempt"
        )
    return {r.id: r for r in requests}


# ----- the test ----------------------------------------------------------------------------------------------------


def kill_plan(rng: random.Random) -> list[KillPoint]:
    """Kill points over every kind of Real-Debrid side effect and read, plus random moments; shuffled."""
    plan = [
        KillPoint("addMagnet", 1),
        KillPoint("addMagnet", 2),
        KillPoint("addMagnet", 1, delay=0.0),
        KillPoint("addMagnet", 3, delay=0.003),
        KillPoint("selectFiles", 1),
        KillPoint("selectFiles", 2, delay=0.0),
        KillPoint("selectFiles", 1, delay=0.005),
        KillPoint("/torrents/info/", 2),
        KillPoint("/torrents/info/", 3, delay=0.002),
        KillPoint("/torrents/delete/", 1),
        KillPoint("/torrents/delete/", 1, delay=0.002),
        KillPoint("/torrents$", 1, delay=0.001),
    ]
    plan += [KillPoint("", n, delay=rng.uniform(0.0, 0.03)) for n in (2, 4, 7, 11)]
    plan += [KillPoint(after_s=rng.uniform(0.8, 3.0)) for _ in range(3)]
    rng.shuffle(plan)
    return plan


@pytest.fixture
def switch() -> KillSwitch:
    return KillSwitch()


@pytest.fixture
def demo_world(switch: KillSwitch) -> Iterator[tuple[Sandbox, dict[ServiceName, str]]]:
    world = Sandbox(load_scenario("demo"))
    rd = world.realdebrid_state
    rd.conversion_s = 0.0
    rd.queue_s = 0.0
    # Dune's uncached download finishes in seconds, so the follower's work is killed too.
    dune = next(r for r in world.scenario.releases if r.name == "Dune.2021.1080p.BluRay.x265.10bit-EXAMPLE")
    rd.set_behaviour(dune.info_hash, "uncached", speed=1024**3)
    world.apps["realdebrid"].add_middleware(KillMiddleware, switch=switch)
    with running_in_thread(world) as hosts:
        yield world, hosts


def hand_added(scenario: Scenario) -> set[str]:
    return {t.hash.lower() for t in scenario.realdebrid.torrents}


def test_killed_at_many_points_then_restarted(
    demo_world: tuple[Sandbox, dict[ServiceName, str]], switch: KillSwitch, tmp_path: Path
) -> None:
    world, hosts = demo_world
    with Seerbridge(world, hosts, tmp_path) as sb:
        rng = random.Random(SEED)
        fired: list[str] = []
        for point in kill_plan(rng):
            proc = sb.start()
            switch.arm(proc, point)
            try:
                proc.wait(timeout=point.after_s if point.after_s is not None else RUN_LIMIT_S)
            except subprocess.TimeoutExpired:
                _kill(proc)
                proc.wait()
            finally:
                switch.disarm()
            assert proc.returncode == -signal.SIGKILL, (
                f"run {sb.runs} ended by itself ({proc.returncode})\n{sb.logs(1)}"
            )
            fired.append(f"{point} -> {switch.fired_at or 'timed kill'}")

        expected = {r.id for r in world.scenario.requests if r.status == "approved"}
        proc = settle(sb, expected)
        assert sb.stop(proc) == 0, sb.logs(1)

        requests = assert_consistent(sb, hand_added(world.scenario))
        completed = completed_in_seerr(world)
        assert set(requests) | completed == expected
        cached = {101, 102, 103, 104, 105, 108}
        for request_id in cached | {106}:
            if request_id in requests:
                assert requests[request_id].state in HELD, (request_id, requests[request_id], fired)
            else:  # completed in Seerr (available) before any run needed to look at it
                assert request_id in completed, (request_id, fired)
        assert requests[107].state is RequestState.NO_RELEASE and requests[107].next_attempt_at is not None
        # Every wanted file is there once: the two Night of the Living Dead requests share one torrent, and so on.
        wanted = {r.name: r.info_hash for r in world.scenario.releases}
        for name in (
            "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-EXAMPLE",
            "Severance.S02.1080p.ATVP.WEB-DL.DDP5.1.H.264-EXAMPLE",
            "Dune.2021.1080p.BluRay.x265.10bit-EXAMPLE",
        ):
            assert len(world.realdebrid_state.torrents_with_hash(wanted[name])) == 1, name
        # Most kill points hit what they aimed at (a point whose call never came is a kill at a random moment).
        assert sum("timed kill" not in f for f in fired) >= 10, "\n".join(fired)


class Died(Exception):
    """Stands for the process dying: the transaction in progress is never committed."""


async def test_a_first_start_killed_while_migrating_leaves_no_half_schema(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/fresh.db"
    engine = create_engine(url)
    created = 0

    def die_at_the_third_table(_conn: Connection, _cursor: object, statement: str, *_: object) -> None:
        nonlocal created
        if statement.lstrip().upper().startswith("CREATE TABLE"):
            created += 1
            if created == 3:
                raise Died

    event.listen(engine.sync_engine, "before_cursor_execute", die_at_the_third_table)
    with pytest.raises(Died):
        await upgrade_to_head(engine)
    async with engine.connect() as conn:
        left = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    await engine.dispose()
    assert created == 3
    assert left == [], f"half a schema survived: {left}"

    engine, _ = await open_database(url)  # the next start migrates from scratch
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        assert set(Base.metadata.tables) <= tables
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()
