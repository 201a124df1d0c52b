"""The sandbox's stand-in for a zurg mount: downloaded torrents' selected files as real files, kept current by
whoever looks at the Real-Debrid account, gone when the torrent is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.realdebrid_mount import MountDir
from seerbridge.sandbox.realdebrid_torrent import HashBehaviour
from seerbridge.sandbox.scenario import FileSpec, Scenario
from seerbridge.sandbox.world import Sandbox


@pytest.fixture
def world(starter: Scenario, tmp_path: Path) -> Sandbox:
    clock = VirtualClock(datetime(2026, 11, 24, 12, tzinfo=UTC), speed=0)
    return Sandbox(starter, clock, mount_dir=tmp_path / "mount")


@pytest.fixture
def mount(world: Sandbox) -> MountDir:
    assert world.mount is not None
    return world.mount


@pytest.fixture
async def rd(world: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {world.scenario.keys['realdebrid']}"}
    async with httpx.AsyncClient(
        transport=world.transport("realdebrid"), base_url="http://realdebrid.sandbox/rest/1.0/", headers=headers
    ) as client:
        yield client


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_downloaded_torrent_shows_its_selected_files_until_it_vanishes(world: Sandbox, mount: MountDir) -> None:
    state = world.realdebrid_state
    files = [FileSpec(path=p, size=10**9) for p in ("Pack/Show.S01E01.mkv", "Pack/Show.S01E02.mkv", "Pack/info.nfo")]
    before = set(mount.shown)
    tid = state.add_torrent(
        "cd" * 20, behaviour=HashBehaviour("cached", "Pack", files), status="downloaded", selected=[1, 3]
    )
    new = sorted(set(mount.shown) - before)
    assert new == [
        "__all__/Pack/Pack/Show.S01E01.mkv",
        "__all__/Pack/Pack/info.nfo",
        "shows/Pack/Pack/Show.S01E01.mkv",  # not a scenario release: a file naming an episode makes it a show
        "shows/Pack/Pack/info.nfo",
    ]
    assert all((mount.root / path).is_file() for path in new)
    assert mount.path_of(state.get(tid), 1) == mount.root / "__all__/Pack/Pack/Show.S01E01.mkv"

    state.vanish(tid)
    assert set(mount.shown) == before
    assert not (mount.root / "__all__" / "Pack").exists() and not (mount.root / "shows" / "Pack").exists()
    assert (mount.root / "__all__").is_dir()  # the top folders stay


def test_zurgs_default_names_flatten_files_and_trim_the_folder(world: Sandbox, mount: MountDir) -> None:
    state = world.realdebrid_state
    single = HashBehaviour("cached", "Film.2019.1080p.mkv", [FileSpec(path="Film.2019.1080p.mkv", size=10**9)])
    pack = HashBehaviour("cached", "Pack", [FileSpec(path="Pack/Season 1/Show.S01E01.mkv", size=10**9)])
    state.add_torrent("de" * 20, behaviour=single, status="downloaded")
    state.add_torrent("ef" * 20, behaviour=pack, status="downloaded")
    assert {"__all__/Film.2019.1080p.mkv/Film.2019.1080p.mkv", "__all__/Pack/Pack/Season 1/Show.S01E01.mkv"} <= set(
        mount.shown
    )
    mount.zurg_default_names = True
    world.sync_mount()
    assert {"__all__/Film.2019.1080p/Film.2019.1080p.mkv", "__all__/Pack/Show.S01E01.mkv"} <= set(mount.shown)
    assert not (mount.root / "__all__" / "Film.2019.1080p.mkv").exists()
    assert (mount.root / "__all__" / "Pack" / "Show.S01E01.mkv").is_file()


def test_a_dead_torrent_leaves_the_mount(world: Sandbox, mount: MountDir) -> None:
    state = world.realdebrid_state
    existing = state.listing()[0]
    path = mount.path_of(existing, existing.selected[0])
    assert path.is_file() and path.read_text().startswith("sandbox file")
    state.set_status(existing.id, "dead")
    assert not path.exists()
    state.set_status(existing.id, "downloaded")
    assert path.is_file()


async def test_a_download_shows_up_once_anyone_reads_the_account(
    world: Sandbox, mount: MountDir, rd: httpx.AsyncClient
) -> None:
    release = next(r for r in world.scenario.releases if r.name.startswith("Dune.2021.1080p.BluRay"))
    added = await rd.post("torrents/addMagnet", data={"magnet": f"magnet:?xt=urn:btih:{release.info_hash}"})
    assert added.status_code == 201, added.text
    tid = added.json()["id"]
    world.clock.advance(2)
    assert (await rd.post(f"torrents/selectFiles/{tid}", data={"files": "1"})).status_code == 204
    path = mount.path_of(world.realdebrid_state.get(tid), 1)
    assert not path.exists()
    world.clock.advance(3600)
    assert not path.exists()  # nobody looked yet: the clock alone changes nothing on disk
    assert (await rd.get(f"torrents/info/{tid}")).json()["status"] == "downloaded"
    assert path.is_file()  # the answer said downloaded, and the mount already shows it
    assert (mount.root / "movies" / path.relative_to(mount.root / "__all__")).is_file()  # Dune is a movie
    assert (await rd.delete(f"torrents/delete/{tid}")).status_code == 204
    assert not path.exists()


def test_sync_mount_is_cheap_to_call_often(world: Sandbox, mount: MountDir, tmp_path: Path) -> None:
    before = _files(mount.root)
    written = mount.root / before[0]
    mtime = written.stat().st_mtime_ns
    for _ in range(50):
        world.sync_mount()
    assert _files(mount.root) == before
    assert written.stat().st_mtime_ns == mtime  # nothing rewritten when nothing changed
