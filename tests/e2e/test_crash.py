"""Crash safety: `seerbridge run` killed with SIGKILL at many points of a scenario, restarted each time.

The emulators run on loopback in this process; seerbridge runs as a real subprocess on a store file that outlives
it. A kill switch inside the Real-Debrid emulator kills the process at chosen calls: before the answer leaves (the
call took effect and seerbridge never learns it) or a moment after (it dies while recording the answer). Other
runs die at random moments. After the last kill a run is left to settle; then nothing may be duplicated, orphaned,
half done or silently stalled.

seerbridge writes its library for Jellyfin (one run per mode, strm and symlink): some runs die inside the library's
disk writes (tests/e2e/crash_hooks.py: just before or after the rename that puts an entry in place, or as it removes
one); a kill a moment after the Real-Debrid call that keeps a torrent may land between the store's record of the
entries and their write (each kill's report says how it left the library). Afterwards the library holds exactly the
entries of what is fulfilled: no partial or temporary file, no entry the store does not know (nor the other way
round), none pointing at a torrent the account lacks; and Jellyfin, once its scans have run, lists every fulfilled
title from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import posixpath
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

from seerbridge import clock
from seerbridge.domain.states import RequestState, TorrentState
from seerbridge.library.disk import TMP_PREFIX
from seerbridge.library.sync import SECRET_KEY
from seerbridge.library.tokens import verify
from seerbridge.runtime.daemon import STARTED_KEY
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
LIBRARY_RUN_LIMIT_S = 20.0  # ... one killed inside the library's writes: long enough for a pass to keep torrents
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
    `delay` seconds after it started to leave), or, with `after_s`, that long after the process started, or, with
    `library` (`<where>:<n>`, see tests/e2e/crash_hooks.py), at the n-th library disk operation of that kind."""

    pattern: str = ""
    nth: int = 1
    delay: float | None = None  # None: before the answer leaves
    after_s: float | None = None
    library: str = ""

    def __str__(self) -> str:
        if self.library:
            return f"library {self.library}"
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
            if point is None or proc is None or point.after_s is not None or point.library:
                return
            if not re.search(point.pattern, path):
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


REPO_ROOT = Path(__file__).resolve().parents[2]
PLAY_BASE = "http://seerbridge.crash:8787"  # server.public_url: what strm entries start with


class Seerbridge:
    """`seerbridge run` started as a user starts it, against emulators on loopback, on one store file; with a
    library mode, writing its library under `library_root` (symlinks into `mount_dir`).

    Used as a context manager: a run a failed test left going is killed on the way out.
    """

    def __init__(
        self,
        world: Sandbox,
        hosts: dict[ServiceName, str],
        tmp_path: Path,
        *,
        library: str | None = None,
        **env: str,
    ) -> None:
        self.world = world
        self.mode = library
        self.library_root = tmp_path / "library"
        self.mount_dir = tmp_path / "mount"
        self.fired_file = tmp_path / "library-kills.txt"
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
        if library is not None:
            self.env |= {
                "SEERBRIDGE_LIBRARY__ROOT": str(self.library_root),
                "SEERBRIDGE_LIBRARY__MODE": library,
                "SEERBRIDGE_LIBRARY__MOUNT_PATH": str(self.mount_dir),
                "SEERBRIDGE_SERVER__PUBLIC_URL": PLAY_BASE,
            }
        self.runs = 0
        self._procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Seerbridge:
        return self

    def __exit__(self, *_: object) -> None:
        for proc in self._procs:
            _kill(proc)
            proc.wait()

    def start(self, *, library_kill: str = "") -> subprocess.Popen[bytes]:
        """A new run; with `library_kill` (`<where>:<n>`) it kills itself inside the library's disk writes."""
        self.runs += 1
        # A restarted process reads the world's time as it is now, as a real one reads the wall clock.
        env = self.env | clock.as_env(self.world.clock)
        command = [sys.executable, "-m", "seerbridge", "run"]
        if library_kill:
            env |= {"CRASH_LIBRARY_KILL": library_kill, "CRASH_LIBRARY_FIRED": str(self.fired_file)}
            command = [sys.executable, "-m", "tests.e2e.crash_hooks", "run"]
        with (self.logs_dir / f"run-{self.runs:02d}.log").open("wb") as log:
            proc = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=REPO_ROOT)
        self._procs.append(proc)
        return proc

    def library_kills(self) -> list[str]:
        """What the library kill points fired at so far (crash_hooks.py appends one line each)."""
        return self.fired_file.read_text().splitlines() if self.fired_file.exists() else []

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

    def started_pid(self) -> int | None:
        """The process whose start-up last completed (the daemon's `run.started` app state), from the store file."""
        if not self.db.exists():
            return None
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)) as conn:
            try:
                row = conn.execute("SELECT value FROM app_state WHERE key = ?", (STARTED_KEY,)).fetchone()
            except sqlite3.OperationalError:
                return None
        pid = json.loads(row[0]).get("pid") if row else None
        return pid if isinstance(pid, int) else None

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

    def library_store(self) -> tuple[list[repo.LibraryEntryRecord], str | None]:
        """The library's entries as recorded, and the secret play tokens are signed with."""

        async def read() -> tuple[list[repo.LibraryEntryRecord], str | None]:
            engine, sessions = await open_database(self.db_url)
            try:
                async with sessions() as session:
                    return await repo.library_entries(session), await repo.get_state(session, SECRET_KEY)
            finally:
                await engine.dispose()

        return asyncio.run(read())

    def library_left(self) -> str:
        """How a kill left the library (a cheap read of the store file and the disk): entries recorded but not on
        disk as recorded, entries on disk the store does not know, temporary files; "" when the two agree."""
        if self.mode is None or not self.db.exists():
            return ""
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)) as conn:
            try:
                rows = conn.execute("SELECT rel_path, written FROM library_entries").fetchall()
            except sqlite3.OperationalError:
                return ""
        on_disk = library_tree(self.library_root)
        recorded = {disk_name(rel, self.mode): written for rel, written in rows}
        unwritten = sum(on_disk.get(name) is None for name in recorded)
        stale = sum(on_disk.get(name) not in (None, written) for name, written in recorded.items())
        unknown = len(set(on_disk) - set(recorded))
        temps = len(temp_files(self.library_root))
        parts = [
            f"{unwritten} recorded, not on disk" if unwritten else "",
            f"{stale} on disk, not recorded as written" if stale else "",
            f"{unknown} on disk, not recorded" if unknown else "",
            f"{temps} temporary" if temps else "",
        ]
        return ", ".join(p for p in parts if p)

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
        if sb.started_pid() != proc.pid:
            continue  # its start-up (reconcile, the library's sync) is not over: what the store shows is a kill's
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


# ----- the library --------------------------------------------------------------------------------------------------

NOTLD = "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-EXAMPLE"
HAUNT = "Haunt.2019.1080p.WEB-DL.DD5.1.H264-EXAMPLE"
DUNE = "Dune.2021.1080p.BluRay.x265.10bit-EXAMPLE"
SEVERANCE = "Severance.S02.1080p.ATVP.WEB-DL.DDP5.1.H.264-EXAMPLE"
MOVIE_ENTRIES = {  # TMDB id → the entry (its path without the extension) and the release it must point at
    10331: ("movies/Night of the Living Dead (1968) [tmdbid-10331]/Night of the Living Dead (1968)", NOTLD),
    572802: ("movies/Haunt (2019) [tmdbid-572802]/Haunt (2019)", HAUNT),
    438631: ("movies/Dune (2021) [tmdbid-438631]/Dune (2021)", DUNE),
}
SHOW_ENTRIES = {  # TMDB id → (season, episode) → the entry and its release
    95396: {
        (2, n): (f"shows/Severance (2022) [tmdbid-95396]/Season 02/Severance S02E{n:02d}", SEVERANCE)
        for n in range(1, 11)
    },
    1396: {
        (2, 11): (
            "shows/Breaking Bad (2008) [tmdbid-1396]/Season 02/Breaking Bad S02E11",
            "Breaking.Bad.S02E11.1080p.BluRay.x264-EXAMPLE",
        ),
        (2, 12): (
            "shows/Breaking Bad (2008) [tmdbid-1396]/Season 02/Breaking Bad S02E12",
            "Breaking.Bad.S02E12.1080p.BluRay.x264-EXAMPLE",
        ),
        (2, 13): (
            "shows/Breaking Bad (2008) [tmdbid-1396]/Season 02/Breaking Bad S02E13",
            "Breaking.Bad.S02E13.720p.HDTV.x264-EXAMPLE",
        ),
    },
    250307: {
        (1, n): (
            f"shows/The Lighthouse Keepers (2026) [tmdbid-250307]/Season 01/The Lighthouse Keepers S01E{n:02d}",
            f"The.Lighthouse.Keepers.S01E{n:02d}.1080p.WEB-DL.H264-EXAMPLE",
        )
        for n in range(1, 5)
    },
}
EXPECTED_ENTRIES = dict(MOVIE_ENTRIES.values()) | {
    entry: release for episodes in SHOW_ENTRIES.values() for entry, release in episodes.values()
}


def disk_name(rel_path: str, mode: str) -> str:
    """Where an entry recorded as `rel_path` sits on disk (a strm entry's extension is `.strm`)."""
    return posixpath.splitext(rel_path)[0] + ".strm" if mode == "strm" else rel_path


def library_tree(root: Path) -> dict[str, str]:
    """Every symlink and file under the library root (relative path → the symlink's target, or the file's text),
    temporary ones left out; nothing is followed."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            if name.startswith(TMP_PREFIX) or (path.is_dir() and not path.is_symlink()):
                continue
            rel = path.relative_to(root).as_posix()
            found[rel] = os.readlink(path) if path.is_symlink() else path.read_text(errors="replace")
    return found


def temp_files(root: Path) -> list[str]:
    """Names under the root in seerbridge's temporary namespace (a write a kill cut short, never swept)."""
    return sorted(
        str(Path(dirpath, name).relative_to(root))
        for dirpath, dirnames, filenames in os.walk(root)
        for name in [*dirnames, *filenames]
        if name.startswith(TMP_PREFIX)
    )


def empty_folders(root: Path) -> list[str]:
    """Folders below the section folders with no entry anywhere below them."""
    empty = []
    for dirpath, _dirnames, _filenames in os.walk(root):
        path = Path(dirpath)
        if path == root or path.parent == root:
            continue
        if not any(p.is_symlink() or p.is_file() for p in path.rglob("*")):
            empty.append(path.relative_to(root).as_posix())
    return sorted(empty)


def assert_library(sb: Seerbridge, hand_added: set[str]) -> None:
    """After the last stop, the library on disk against the store, the Real-Debrid account and the mount."""
    assert sb.mode is not None
    mode, root, world = sb.mode, sb.library_root, sb.world
    rd = world.realdebrid_state
    world.sync_mount()
    entries, secret = sb.library_store()
    _, rows = sb.store()
    assert secret, "no play secret stored"
    # Nothing half written: no temporary entry, nothing but seerbridge's kind of entry, no folder left empty.
    assert not temp_files(root), f"temporary files left in the library: {temp_files(root)}"
    tree = library_tree(root)
    for name in tree:
        path = root / name
        if mode == "strm":
            assert path.is_file() and not path.is_symlink() and name.endswith(".strm"), f"not a strm entry: {name}"
        else:
            assert path.is_symlink(), f"not a symlink: {name}"
    assert not empty_folders(root), f"empty folders left in the library: {empty_folders(root)}"
    # Exactly the entries of what is fulfilled (paths computed by hand above), the store's and the disk's alike.
    stems = {posixpath.splitext(name)[0]: name for name in tree}
    assert len(stems) == len(tree), f"two entries for one title: {sorted(tree)}"
    # The entries a kept torrent brings do not depend on what Jellyfin lists: every re-work of a request (each
    # restart here) narrows its item's `wanted` to the episodes Jellyfin lacks, and this once dropped the entries of
    # Breaking Bad S02E11 and Lighthouse Keepers S01E01-E03.
    assert sorted(stems) == sorted(EXPECTED_ENTRIES), f"library entries: {sorted(tree)}"
    recorded = {disk_name(e.rel_path, mode): e for e in entries}
    assert len(recorded) == len(entries)
    assert sorted(recorded) == sorted(tree), "the store's library_entries and the disk disagree"
    # Every kept torrent of ours has its entries, and every entry points at one.
    by_id = {r.id: r for r in rows}
    downloaded = {r.id for r in rows if r.state is TorrentState.DOWNLOADED}
    without = sorted((r.id, r.name) for r in rows if r.id in downloaded - {e.torrent_id for e in entries})
    assert {e.torrent_id for e in entries} == downloaded, f"kept torrents without a library entry: {without}"
    account = {t.id: t for t in rd.listing() if t.hash not in hand_added}
    hashes = {r.name: r.info_hash for r in world.scenario.releases}
    for name, entry in sorted(recorded.items()):
        held = tree[name]
        assert held == entry.written, f"{name} holds {held!r}, the store says it wrote {entry.written!r}"
        row = by_id.get(entry.torrent_id)
        assert row is not None and row.state is TorrentState.DOWNLOADED, (name, row)
        torrent = account.get(row.rd_id or "")
        assert torrent is not None, f"{name} points at torrent {row.rd_id}, which is not in the account"
        assert rd.snapshot(torrent).status == "downloaded", (name, rd.snapshot(torrent))
        release = EXPECTED_ENTRIES[posixpath.splitext(name)[0]]
        assert torrent.hash == hashes[release], f"{name} points at {torrent.name}, not {release}"
        assert entry.file_id in torrent.selected, (name, entry.file_id, torrent.selected)
        file_path = torrent.files[entry.file_id - 1].path
        # Real-Debrid's API shows a file's path with a leading slash; the emulator keeps it without.
        assert entry.file_path == "/" + file_path.lstrip("/"), (name, entry.file_path, file_path)
        if mode == "strm":
            found = re.fullmatch(rf"{re.escape(PLAY_BASE)}/play/([^\s/]+)", held)
            assert found, f"{name} does not hold one play address: {held!r}"
            assert verify(found[1], secret) == entry.id, f"{name}: its token does not name its entry {entry.id}"
        else:
            assert held == f"{sb.mount_dir}/__all__/{torrent.name}/{file_path.lstrip('/')}", (name, held)
            assert Path(held).is_file(), f"{name} points at {held}, which the mount does not show"
            assert posixpath.splitext(name)[1] == posixpath.splitext(file_path)[1], (name, file_path)


def assert_in_jellyfin(sb: Seerbridge, tree: dict[str, str]) -> None:
    """Once the scans of the folders seerbridge reported have run (the virtual clock moved past Jellyfin's monitor
    delay and a scan's length), Jellyfin lists every fulfilled movie and episode by its TMDB id, from the library."""
    jellyfin = sb.world.jellyfin_state
    sb.world.clock.advance(jellyfin.monitor_delay_s + jellyfin.scan_duration_s + 5)
    jellyfin.settle()
    paths = {posixpath.splitext(name)[0]: str(sb.library_root / name) for name in tree}
    told = sorted({posixpath.relpath(p, sb.library_root) for p in jellyfin.media_updated_paths})
    for tmdb_id, (entry, _) in MOVIE_ENTRIES.items():
        movie = jellyfin.movie_by_tmdb(tmdb_id)
        # Every movie here is written by a run killed inside the library (Dune right after its rename): its folder
        # is owed to Jellyfin in the transaction that records the entry written, so no kill loses the announcement.
        assert movie is not None, f"Jellyfin does not list movie {tmdb_id} ({entry}); told {told}"
        assert movie.path == paths.get(entry), (tmdb_id, movie.path)
    for tmdb_id, episodes in SHOW_ENTRIES.items():
        listed = {
            (e.parent_index_number, e.index_number): e.path
            for series in jellyfin.all_series_by_tmdb(tmdb_id)
            if jellyfin.in_disk_library(series)
            for e in jellyfin.episodes_of(series.id, include_virtual=False)
        }
        wanted = {key: paths.get(entry) for key, (entry, _) in episodes.items()}
        assert listed == wanted, f"Jellyfin lists for show {tmdb_id}: {listed}; told {told}"


# ----- the test ----------------------------------------------------------------------------------------------------


def kill_plan(rng: random.Random) -> list[KillPoint]:
    """The library's own kill points first, while its entries are still to be written (each run goes on until its
    point comes: the first entries, their leftovers swept, then a season pack's); then kill points over every kind
    of Real-Debrid side effect and read, plus random moments, shuffled."""
    library = [
        KillPoint(library="before-rename:1"),  # a complete temporary entry, not in place yet
        KillPoint(library="remove:1"),  # the next start sweeps it: it dies there
        KillPoint(library="after-rename:1"),  # in place; not yet recorded as written, nor its folder owed to Jellyfin
        KillPoint(library="before-rename:3"),
        KillPoint(library="after-rename:4"),
        # Dune, downloaded, is the last movie: right after its entry is in place, before the sync that wrote it has
        # owed its folder to Jellyfin, and no later movie brings Jellyfin to scan the movies library again.
        KillPoint(library="after-rename:1:Dune (2021)"),
    ]
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
        # The info that shows a torrent downloaded is what keeps it: a moment later the run is recording it and its
        # library entries, or writing them.
        KillPoint("/torrents/info/", 1, delay=0.02),
    ]
    plan += [KillPoint("", n, delay=rng.uniform(0.0, 0.03)) for n in (2, 4, 7, 11)]
    plan += [KillPoint(after_s=rng.uniform(0.8, 3.0)) for _ in range(3)]
    rng.shuffle(plan)
    return library + plan


@pytest.fixture
def switch() -> KillSwitch:
    return KillSwitch()


@pytest.fixture(params=["strm", "symlink"])
def library_mode(request: pytest.FixtureRequest) -> str:
    mode: str = request.param
    return mode


@pytest.fixture
def demo_world(
    switch: KillSwitch, library_mode: str, tmp_path: Path
) -> Iterator[tuple[Sandbox, dict[ServiceName, str]]]:
    # The paths Seerbridge (below) gives seerbridge: Jellyfin scans the library, the mount shows the account.
    mount = tmp_path / "mount" if library_mode == "symlink" else None
    world = Sandbox(load_scenario("demo"), library_root=tmp_path / "library", mount_dir=mount)
    rd = world.realdebrid_state
    rd.conversion_s = 0.0
    rd.queue_s = 0.0
    # Dune's uncached download finishes in seconds, so the follower's work is killed too.
    dune = next(r for r in world.scenario.releases if r.name == DUNE)
    rd.set_behaviour(dune.info_hash, "uncached", speed=1024**3)
    world.apps["realdebrid"].add_middleware(KillMiddleware, switch=switch)
    with running_in_thread(world) as hosts:
        yield world, hosts


def hand_added(scenario: Scenario) -> set[str]:
    return {t.hash.lower() for t in scenario.realdebrid.torrents}


def run_killed(sb: Seerbridge, switch: KillSwitch, point: KillPoint) -> str:
    """One run, killed at `point` (or at its run limit when the point never comes); what it fired at."""
    before = len(sb.library_kills())
    proc = sb.start(library_kill=point.library)
    if not point.library:
        switch.arm(proc, point)
    try:
        limit = LIBRARY_RUN_LIMIT_S if point.library else RUN_LIMIT_S
        proc.wait(timeout=point.after_s if point.after_s is not None else limit)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.wait()
    finally:
        switch.disarm()
    assert proc.returncode == -signal.SIGKILL, f"run {sb.runs} ended by itself ({proc.returncode})\n{sb.logs(1)}"
    if point.library:
        kills = sb.library_kills()[before:]
        return kills[0] if kills else ""
    return switch.fired_at or ""


def test_killed_at_many_points_then_restarted(
    demo_world: tuple[Sandbox, dict[ServiceName, str]], switch: KillSwitch, library_mode: str, tmp_path: Path
) -> None:
    world, hosts = demo_world
    with Seerbridge(world, hosts, tmp_path, library=library_mode) as sb:
        rng = random.Random(SEED)
        fired: list[str] = []
        for point in kill_plan(rng):
            at = run_killed(sb, switch, point)
            left = sb.library_left()
            fired.append(f"{point} -> {at or 'timed kill'}" + (f" [library: {left}]" if left else ""))

        expected = {r.id for r in world.scenario.requests if r.status == "approved"}
        proc = settle(sb, expected)
        assert sb.stop(proc) == 0, sb.logs(1)
        report = "\n".join(fired)

        requests = assert_consistent(sb, hand_added(world.scenario))
        completed = completed_in_seerr(world)
        assert set(requests) | completed == expected
        cached = {101, 102, 103, 104, 105, 108}
        for request_id in cached | {106}:
            if request_id in requests:
                assert requests[request_id].state in HELD, (request_id, requests[request_id], report)
            else:  # completed in Seerr (available) before any run needed to look at it
                assert request_id in completed, (request_id, report)
        assert requests[107].state is RequestState.NO_RELEASE and requests[107].next_attempt_at is not None
        # Every wanted file is there once: the two Night of the Living Dead requests share one torrent, and so on.
        wanted = {r.name: r.info_hash for r in world.scenario.releases}
        for name in (NOTLD, SEVERANCE, DUNE):
            assert len(world.realdebrid_state.torrents_with_hash(wanted[name])) == 1, name
        # Most kill points hit what they aimed at (a point whose call never came is a kill at a random moment).
        assert sum("timed kill" not in f for f in fired if not f.startswith("library")) >= 10, report
        # The library's own kill points were reached, and kills left it half written more than once.
        assert sum("timed kill" not in f for f in fired if f.startswith("library")) >= 5, report
        assert sum("[library:" in f for f in fired) >= 3, report

        print(report)  # which kill landed where, for `pytest -s`
        # The library: exactly the fulfilled requests' entries, whole, known to the store, pointing at the account;
        # and Jellyfin, once the scans of what seerbridge reported have run, lists every one of them from there.
        # Both checks run, whichever fails, so a failure says everything that is wrong.
        failures = []
        try:
            assert_library(sb, hand_added(world.scenario))
        except AssertionError as exc:
            failures.append(f"the library: {exc}")
        try:
            assert_in_jellyfin(sb, library_tree(sb.library_root))
        except AssertionError as exc:
            failures.append(f"Jellyfin: {exc}")
        assert not failures, "\n\n".join([*failures, f"kill points:\n{report}"])


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
