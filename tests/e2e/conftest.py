"""Harness for end-to-end tests: the demo scenario's emulators in-process, a bridge on a temporary store."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from seerbridge.commands.demo import in_process, sandbox_settings
from seerbridge.config import Settings
from seerbridge.pipeline.process import Bridge, PassReport, RequestResult
from seerbridge.runtime.bridge import open_bridge
from seerbridge.sandbox.realdebrid_state import RealDebridState
from seerbridge.sandbox.scenario import ReleaseSpec, Scenario, load_scenario
from seerbridge.sandbox.torrentio import TorrentioEmulator
from seerbridge.sandbox.world import Sandbox
from seerbridge.store import repo


@dataclass
class E2E:
    """One emulated world, the settings that point at it, and a store file that outlives bridges (restarts)."""

    world: Sandbox
    settings: Settings
    transports: dict[str, httpx.AsyncBaseTransport] = field(default_factory=dict)  # replace in-process ones

    @property
    def scenario(self) -> Scenario:
        return self.world.scenario

    @property
    def rd(self) -> RealDebridState:
        return self.world.realdebrid_state

    @property
    def torrentio(self) -> TorrentioEmulator:
        emulator: TorrentioEmulator = self.world.apps["torrentio"].state.emulator
        return emulator

    def release(self, name: str) -> ReleaseSpec:
        """The scenario release with exactly this name."""
        found = [r for r in self.scenario.releases if r.name == name]
        assert len(found) == 1, f"no single release named {name!r}"
        return found[0]

    def hash(self, name: str) -> str:
        return self.release(name).info_hash

    @contextlib.asynccontextmanager
    async def bridge(self) -> AsyncIterator[Bridge]:
        transports = {**in_process(self.world), **self.transports}
        clock = self.world.clock
        async with open_bridge(self.settings, transports, clock=clock) as bridge:
            yield bridge

    async def run(self, *, passes: int = 1, only: set[int] | None = None) -> PassReport:
        """Open a bridge (as a fresh process would), run `passes` passes, return the last report."""
        async with self.bridge() as bridge:
            report = await bridge.run_pass(only)
            for _ in range(passes - 1):
                report = await bridge.run_pass(only)
        return report

    @contextlib.asynccontextmanager
    async def store(self) -> AsyncIterator[AsyncSession]:
        async with self.bridge() as bridge, bridge.sessions() as session:
            yield session

    def files_of(self, info_hash: str) -> list[str]:
        """Paths of the selected files of the one torrent with this hash in the account."""
        torrents = self.rd.torrents_with_hash(info_hash)
        assert len(torrents) == 1, f"{len(torrents)} torrents with hash {info_hash}"
        torrent = torrents[0]
        return [torrent.files[i - 1].path for i in (torrent.selected or ())]

    def account(self) -> set[str]:
        """Hashes in the account, asserting that none is there twice."""
        hashes = self.rd.hashes()
        assert len(hashes) == len(set(hashes)), f"duplicate torrents: {hashes}"
        return set(hashes)


def result_of(report: PassReport, request_id: int) -> RequestResult:
    found = [r for r in report.results if r.request_id == request_id]
    assert len(found) == 1, f"request {request_id} in the report {len(found)} times"
    return found[0]


Factory = Callable[..., E2E]


@pytest.fixture
def make_e2e(tmp_path: Path) -> Factory:
    """Build a world from a scenario (default: demo), optionally changed by `edit(dict) -> None` on its data."""
    counter = iter(range(1000))

    def make(
        scenario: str | Scenario = "demo",
        *,
        edit: Callable[[dict[str, Any]], None] | None = None,
        library: str | None = None,
        **settings_changes: Any,
    ) -> E2E:
        base = load_scenario(scenario) if isinstance(scenario, str) else scenario
        if edit is not None:
            data = base.model_dump()
            edit(data)
            base = Scenario.model_validate(data)
        n = next(counter)
        # With `library` ("strm" or "symlink"), seerbridge writes its library into a real folder that the Jellyfin
        # emulator scans as its movies/shows libraries; symlinks point into a real folder standing in for the mount.
        root = mount = None
        if library is not None:
            root, mount = tmp_path / f"library-{n}", tmp_path / f"mount-{n}"
            root.mkdir()
            mount.mkdir()
        world = Sandbox(base, library_root=root, mount_dir=mount if library == "symlink" else None)
        # Real-Debrid behaves as it does: metadata converts over several reads, downloads queue first, a cached
        # torrent reads `downloading` at 100 % for a moment. seerbridge's waits between reads pass on the virtual
        # clock (seerbridge.clock.sleep), so they cost no real time.
        db = tmp_path / f"e2e-{n}.db"
        settings = sandbox_settings(world, f"sqlite+aiosqlite:///{db}", unpaced=True)
        if library is not None:
            settings.library.root = str(root)
            settings.library.mode = library  # type: ignore[assignment]
            settings.library.mount_path = str(mount)
        for section, values in settings_changes.items():
            for key, value in values.items():
                setattr(getattr(settings, section), key, value)
        return E2E(world, settings)

    return make


@pytest.fixture
def demo(make_e2e: Factory) -> E2E:
    return make_e2e()


async def decisions(e2e: E2E, request_id: int) -> list[repo.DecisionRecord]:
    async with e2e.store() as session:
        return await repo.decisions_of_request(session, request_id)


async def request_record(e2e: E2E, request_id: int) -> repo.RequestRecord:
    async with e2e.store() as session:
        record = await repo.get_request(session, request_id)
    assert record is not None, f"request {request_id} not in the store"
    return record
