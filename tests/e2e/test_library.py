"""The library seerbridge writes, end to end: from approval to "Available" in Seerr, through the exact tree on disk,
Jellyfin's announcement and scan (the emulator reads the real folders), and Seerr's update; in strm and symlink
modes; /play/ answers; an upgrade keeps the path; a torrent that vanishes is repaired behind the same path."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from seerbridge.domain.states import RequestState, TorrentState
from seerbridge.library.tokens import verify
from seerbridge.pipeline.announce import SEERR_SCAN_JOB
from seerbridge.pipeline.process import Bridge
from seerbridge.pipeline.repair import Repairer
from seerbridge.sandbox.seerr_models import MediaStatus
from seerbridge.store import repo
from tests.cli_runner import invoke
from tests.e2e.conftest import E2E, Factory, request_record

HAUNT_TMDB = 572802
HAUNT = "Haunt.2019.1080p.WEB-DL.DD5.1.H264-EXAMPLE"
HAUNT_FOLDER = "movies/Haunt (2019) [tmdbid-572802]"
NOTLD_FOLDER = "movies/Night of the Living Dead (1968) [tmdbid-10331]"
NOTLD_1080P = "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-EXAMPLE"
NOTLD_720P = "Night.of.the.Living.Dead.1968.720p.BluRay.x264-EXAMPLE"
SEVERANCE_TMDB = 95396
SEVERANCE_FOLDER = "shows/Severance (2022) [tmdbid-95396]"
MONITOR_DELAY_S = 60.0  # Jellyfin's LibraryMonitorDelay: a reported folder is scanned this long after


def tree(root: Path) -> dict[str, str]:
    """Every entry under the library root → what it holds (a symlink's target, a strm file's address)."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = os.readlink(path)
        elif path.is_file():
            found[rel] = path.read_text()
    return found


def _files(root: Path) -> set[str]:
    """Every file under `root` (the mount), as paths."""
    return {str(p) for p in root.rglob("*") if p.is_file()}


def seerr_status(e2e: E2E, tmdb_id: int, *, is4k: bool = False) -> MediaStatus | None:
    media = e2e.world.seerr_state.media_for(tmdb_id)
    if media is None:
        return None
    return media.status4k if is4k else media.status


async def settle(e2e: E2E, bridge: Bridge) -> None:
    """Let Jellyfin's monitor delay and scan pass on the virtual clock, then announce again (verify, tell Seerr)."""
    e2e.world.clock.advance(MONITOR_DELAY_S + 5)
    e2e.world.clock.advance(e2e.world.jellyfin_state.scan_duration_s + 5)
    await bridge.announce()


async def test_strm_mode_from_approval_to_available_in_seerr(make_e2e: Factory) -> None:
    e2e = make_e2e(library="strm")
    root = Path(e2e.settings.library.root or "")
    jellyfin = e2e.world.jellyfin_state
    async with e2e.bridge() as bridge:
        report = await bridge.run_pass({102})
        assert report.results[0].state is RequestState.FULFILLED  # on Real-Debrid; Jellyfin has not scanned yet
        entries = tree(root)
        assert list(entries) == [f"{HAUNT_FOLDER}/Haunt (2019).strm"]
        address = entries[f"{HAUNT_FOLDER}/Haunt (2019).strm"]
        assert address.startswith("http://127.0.0.1:8787/play/")
        # Jellyfin is told the new folder by path, not asked to scan everything.
        assert jellyfin.media_updated_paths == [f"{root}/{HAUNT_FOLDER}"]
        assert jellyfin.refresh_count == 0
        assert jellyfin.movie_by_tmdb(HAUNT_TMDB) is None  # not before its monitor delay
        # Nor does seerbridge list the library to look for it before then: that would find nothing.
        listings = e2e.world.control("jellyfin").count("GET", r"/Items$")
        e2e.world.clock.advance(MONITOR_DELAY_S / 2)
        await bridge.announce()
        assert e2e.world.control("jellyfin").count("GET", r"/Items$") == listings
        await settle(e2e, bridge)
        item = jellyfin.movie_by_tmdb(HAUNT_TMDB)
        assert item is not None and item.path == f"{root}/{HAUNT_FOLDER}/Haunt (2019).strm"
        assert seerr_status(e2e, HAUNT_TMDB) is MediaStatus.AVAILABLE
        assert (await request_record(e2e, 102)).state is RequestState.AVAILABLE
        # The strm address plays: seerbridge's /play/ redirects to the file's fresh Real-Debrid link.
        secret = await _secret(bridge)
        assert verify(address.rsplit("/", 1)[1], secret) is not None


async def _secret(bridge: Bridge) -> str:
    async with bridge.sessions() as session:
        value = await repo.get_state(session, "library.play_secret")
    assert value
    return value


async def test_symlink_mode_points_into_the_mount(make_e2e: Factory) -> None:
    e2e = make_e2e(library="symlink")
    root = Path(e2e.settings.library.root or "")
    mount = Path(e2e.settings.library.mount_path or "")
    async with e2e.bridge() as bridge:
        await bridge.run_pass({102})
        torrent = e2e.rd.torrents_with_hash(e2e.hash(HAUNT))[0]
        video = next(torrent.files[i - 1].path for i in torrent.selected)
        assert tree(root) == {
            f"{HAUNT_FOLDER}/Haunt (2019).mkv": f"{mount}/__all__/{torrent.name}/{video.lstrip('/')}",
        }
        assert (root / HAUNT_FOLDER / "Haunt (2019).mkv").exists()  # the target is there: announced
        assert e2e.world.jellyfin_state.media_updated_paths == [f"{root}/{HAUNT_FOLDER}"]
        await settle(e2e, bridge)
        assert seerr_status(e2e, HAUNT_TMDB) is MediaStatus.AVAILABLE
        assert (await request_record(e2e, 102)).state is RequestState.AVAILABLE


async def test_a_season_pack_gets_one_entry_per_episode(make_e2e: Factory) -> None:
    e2e = make_e2e(library="strm")
    root = Path(e2e.settings.library.root or "")
    async with e2e.bridge() as bridge:
        await bridge.run_pass({103})
        names = sorted(tree(root))
        assert names == [f"{SEVERANCE_FOLDER}/Season 02/Severance S02E{n:02d}.strm" for n in range(1, 11)]
        await settle(e2e, bridge)
        assert (await request_record(e2e, 103)).state is RequestState.AVAILABLE
    media = e2e.world.seerr_state.media_for(SEVERANCE_TMDB)
    season = media.season(2) if media is not None else None
    assert season is not None and season.status is MediaStatus.AVAILABLE  # Seerr's own scan saw the episodes


async def test_a_vanished_torrent_is_repaired_behind_the_same_path(
    make_e2e: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    e2e = make_e2e(library="symlink")
    root = Path(e2e.settings.library.root or "")
    entry = root / NOTLD_FOLDER / "Night of the Living Dead (1968).mkv"
    async with e2e.bridge() as bridge:
        await bridge.run_pass({101, 108})
        await settle(e2e, bridge)
        assert (await request_record(e2e, 101)).state is RequestState.AVAILABLE
        before = os.readlink(entry)
        assert NOTLD_1080P in before
        old = e2e.rd.torrents_with_hash(e2e.hash(NOTLD_1080P))[0]
        e2e.rd.vanish(old.id)  # Real-Debrid drops it on its own (a retroactive 451, an account clean-up)
        e2e.world.sync_mount()
        repairer = Repairer(bridge.settings, bridge.services.realdebrid, bridge.sessions)
        assert await repairer.due(bridge.now())
        due = await repairer.round(bridge.now())
        assert due == [101, 108]  # both requests for the film
        async with bridge.sessions() as session:
            repairs = await repo.repairs(session)
            rows = await repo.our_torrents_with_hash(session, e2e.hash(NOTLD_1080P))
        assert [(r.kind, r.info_hash) for r in repairs] == [("vanished", e2e.hash(NOTLD_1080P))]
        assert rows[0].state is TorrentState.FAILED
        assert (await request_record(e2e, 101)).state is RequestState.NEW
        assert entry.is_symlink() and os.readlink(entry) == before  # the path stays while it is acquired again
        assert not await repairer.due(bridge.now())  # one listing per interval
        db = {"SEERBRIDGE_DATABASE__URL": e2e.settings.database.url.get_secret_value()}
        code, out = await asyncio.to_thread(invoke, ["status"], db, monkeypatch, width=200)
        assert code == 0, out
        # (the repair names the request whose work added the torrent: 101 or 108, whichever came first)
        assert re.search(
            rf"request 10[18] Night of the Living Dead \(1968\): vanished \(gone from Real-Debrid: {NOTLD_1080P}\); ",
            out,
        )
        assert "being repaired" in out
        # The request is worked again (the daemon queues it): the next acceptable copy, behind the same path.
        result = await bridge.work_request(101)
        assert result is not None and result.state is RequestState.FULFILLED, result
        assert (await request_record(e2e, 101)).title == "Night of the Living Dead (1968)"  # named, as any work
        # The other request for the film, worked after: the item is repaired already; it settles, not stays NEW.
        assert await bridge.work_request(108) is None
        assert (await request_record(e2e, 108)).state is RequestState.FULFILLED
        await bridge.announce()
        after = os.readlink(entry)
        assert NOTLD_720P in after and after in _files(Path(e2e.settings.library.mount_path or ""))
        assert e2e.hash(NOTLD_1080P) not in e2e.account()  # the vanished hash is not taken again (marked bad)
        await settle(e2e, bridge)
        assert (await request_record(e2e, 101)).state is RequestState.AVAILABLE
        assert (await request_record(e2e, 108)).state is RequestState.AVAILABLE
        async with bridge.sessions() as session:
            assert [r.resolved_at is not None for r in await repo.repairs(session)] == [True]
        code, out = await asyncio.to_thread(invoke, ["stats", "--json"], db, monkeypatch)
        assert code == 0 and json.loads(out)["total"]["repairs"] == 1
    assert tree(root) == {f"{NOTLD_FOLDER}/Night of the Living Dead (1968).mkv": after}


async def test_play_redirects_to_the_resolved_link_and_refuses_a_forged_token(make_e2e: Factory) -> None:
    from seerbridge.runtime.daemon import Daemon

    e2e = make_e2e(library="strm")
    root = Path(e2e.settings.library.root or "")
    async with e2e.bridge() as bridge:
        await bridge.run_pass({102})
        address = tree(root)[f"{HAUNT_FOLDER}/Haunt (2019).strm"]
        daemon = Daemon(bridge.settings, bridge)
        daemon.play = await daemon._make_play()
        app = daemon.web_app()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://seerbridge") as client:
            path = "/play/" + address.rsplit("/", 1)[1]
            got = await client.get(path, headers={"Range": "bytes=0-"})
            assert got.status_code == 302
            location = got.headers["location"]
            assert location.startswith("https://") and ".download.real-debrid.com/d/" in location
            head = await client.head(path)
            assert head.status_code == 302 and head.headers["location"] == location
            forged = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
            assert (await client.get(forged)).status_code == 404
            # An hour later the link is resolved afresh, and Real-Debrid says the file is gone: a repair is asked for.
            e2e.world.clock.advance(3601)
            e2e.rd.fail_next_unrestrict()
            gone = await client.get(path)
            assert gone.status_code == 503 and gone.headers["retry-after"] == "60"
        assert await daemon.repairer.due(bridge.now())
        assert await daemon.repair_once() == [102]
        async with bridge.sessions() as session:
            assert [(r.kind, r.request_id) for r in await repo.repairs(session)] == [("play_failed", 102)]
        assert e2e.hash(HAUNT) not in e2e.account()  # ours, broken: deleted; the request is queued to work again


async def test_an_upgrade_keeps_the_path_and_swaps_the_target(make_e2e: Factory) -> None:
    from seerbridge.pipeline.upgrade import Upgrader
    from tests.e2e.test_upgrade import BR_720, BR_2160, MOVIE, scenario, to_4k

    e2e = make_e2e(scenario(), library="symlink", upgrade=to_4k(kinds=["movie"]))
    root = Path(e2e.settings.library.root or "")
    path = "movies/Blade Runner 2049 [tmdbid-335984]/Blade Runner 2049.mkv"  # the scenario gives Seerr no date
    async with e2e.bridge() as bridge:
        await bridge.run_pass({MOVIE})
        await settle(e2e, bridge)
        assert (await request_record(e2e, MOVIE)).state is RequestState.AVAILABLE
        (before,) = tree(root).items()
        assert before[0] == path and BR_720 in before[1]
        first = await Upgrader(bridge).round(everything=True)
        assert [c.new_name for c in first.upgraded] == [BR_2160]
        (after,) = tree(root).items()
        assert after[0] == path and BR_2160 in after[1]  # the same entry, now pointing at the better copy
        e2e.world.clock.advance(31 * 60)  # past the replaced copy's hold
        second = await Upgrader(bridge).round()
        assert [d.info_hash for d in second.removed] == [e2e.hash(BR_720)]
        assert tree(root) == dict([after])  # the old copy's deletion leaves the entry alone
        await settle(e2e, bridge)
        assert (await request_record(e2e, MOVIE)).state is RequestState.AVAILABLE
    item = e2e.world.jellyfin_state.movie_by_tmdb(335984)
    assert item is not None and item.path == f"{root}/{path}"  # Jellyfin keeps the same item (and its history)


HAUNT_RAW = "Haunt.2019.1920x1080.WEB-DL.DD5.1.H264-EXAMPLE"  # Jellyfin reads `1920` of 1920x1080 as the year


def _raw_haunt(data: dict[str, Any]) -> None:
    for release in data["releases"]:
        if release["name"] == HAUNT:
            release["name"] = HAUNT_RAW


async def test_a_raw_name_library_misfiles_what_the_id_named_one_gets_right(make_e2e: Factory) -> None:
    """The user's own mount in a Jellyfin library (mode none): Jellyfin names the film from the release name and
    gets it wrong, so Seerr never sees it; seerbridge says so after library.verify_minutes. The same film through
    seerbridge's library (`[tmdbid-N]` folders) is matched exactly."""
    for mode in ("none", "symlink"):
        e2e = make_e2e(edit=_raw_haunt, library="symlink")
        e2e.settings.library.mode = mode  # type: ignore[assignment]
        mount = Path(e2e.settings.library.mount_path or "")
        jellyfin = e2e.world.jellyfin_state
        jellyfin.add_disk_library("Mount", "movies", mount / "movies")  # zurg's per-kind folder, as users set it up
        async with e2e.bridge() as bridge:
            await bridge.run_pass({102})
            # The follower's rounds, a look every arrival_check_s, past library.verify_minutes (30) and beyond.
            for _ in range(round(35 * 60 / e2e.settings.jellyfin.arrival_check_s)):
                e2e.world.clock.advance(e2e.settings.jellyfin.arrival_check_s)
                await bridge.announce()
        record = await request_record(e2e, 102)
        scans = len(e2e.world.seerr_state.runs_of(SEERR_SCAN_JOB))
        listed = [i for i in jellyfin.of_kind("Movie") if i.path and HAUNT_RAW in i.path]
        if mode == "none":
            assert record.state is RequestState.FULFILLED  # on Real-Debrid, never seen in Jellyfin
            assert [(i.production_year, i.provider_ids.get("Tmdb")) for i in listed] == [(1920, None)]
            assert jellyfin.movie_by_tmdb(HAUNT_TMDB) is None
            assert seerr_status(e2e, HAUNT_TMDB) is not MediaStatus.AVAILABLE
            assert record.reason is not None
            assert record.reason.startswith("Jellyfin has not picked up Haunt (2019) after 30 min: ")
            # Seerr was asked to scan once (after jellyfin.arrival_wait_s, anyway), not at every look after that;
            # Jellyfin's library was listed once a minute meanwhile, then no more once the wait was given up.
            assert scans == 1
            listings = e2e.world.control("jellyfin").count("GET", r"/Items$")
            assert listings <= 10 * 60 / e2e.settings.jellyfin.arrival_check_s + 20 + 5
        else:
            assert record.state is RequestState.AVAILABLE
            item = jellyfin.movie_by_tmdb(HAUNT_TMDB)
            assert item is not None and item.path is not None and "[tmdbid-572802]" in item.path
            assert seerr_status(e2e, HAUNT_TMDB) is MediaStatus.AVAILABLE
            assert scans == 1


async def test_folders_outside_jellyfins_libraries_get_a_whole_library_scan(make_e2e: Factory) -> None:
    e2e = make_e2e(library="strm")
    e2e.settings.library.jellyfin_root = "/elsewhere"  # where Jellyfin would see the root: in none of its libraries
    jellyfin = e2e.world.jellyfin_state
    async with e2e.bridge() as bridge:
        await bridge.run_pass({102})
    assert jellyfin.media_updated_paths == []  # Jellyfin would drop a path outside its libraries
    assert jellyfin.refresh_count == 1


def test_a_loopback_server_gives_strm_entries_its_own_address() -> None:
    from seerbridge.config import ServerSettings

    assert ServerSettings().play_base() == "http://127.0.0.1:8787"
    assert ServerSettings(host="::1").play_base() == "http://[::1]:8787"
    assert ServerSettings(host="0.0.0.0").play_base() is None  # which address would Jellyfin use? it must be said
    assert ServerSettings(host="0.0.0.0", public_url="http://seerbridge:8787/").play_base() == "http://seerbridge:8787"


async def test_a_4k_movie_goes_to_movies_4k_and_seerr_shows_it_in_4k(make_e2e: Factory) -> None:
    """Seerr tells 4K by a probed width over 2000 pixels, which a strm entry does not have: Jellyfin's 4K library
    holds the film, seerbridge sees it there, and marks it available in 4K through Seerr's API."""
    from tests.e2e.test_upgrade import BR_2160, scenario

    e2e = make_e2e(scenario(), library="strm")
    root = Path(e2e.settings.library.root or "")
    row = e2e.world.seerr_state.add_request(335984, is4k=True, approved=True)
    async with e2e.bridge() as bridge:
        report = await bridge.run_pass({row.id})
        assert [r.chosen for r in report.results] == [[BR_2160]]
        assert list(tree(root)) == ["movies-4k/Blade Runner 2049 [tmdbid-335984]/Blade Runner 2049.strm"]
        await settle(e2e, bridge)
    assert (await request_record(e2e, row.id)).state is RequestState.AVAILABLE
    assert seerr_status(e2e, 335984, is4k=True) is MediaStatus.AVAILABLE
    assert e2e.world.control("seerr").count("POST", r"/api/v1/media/\d+/available$") == 1


async def test_a_request_removed_from_seerr_loses_its_entries_when_cleanup_removes_its_torrent(
    make_e2e: Factory,
) -> None:
    from seerbridge.pipeline.cleanup import apply_cleanup, plan_cleanup

    e2e = make_e2e(library="strm")
    root = Path(e2e.settings.library.root or "")
    jellyfin = e2e.world.jellyfin_state
    async with e2e.bridge() as bridge:
        await bridge.run_pass({101, 103})
        await settle(e2e, bridge)
        assert any(name.startswith(SEVERANCE_FOLDER) for name in tree(root))
        e2e.world.seerr_state.delete_request(103)  # Severance S02 removed from Seerr
        plan = await plan_cleanup(bridge)
        assert [d.rule for d in plan.doomed] == ["deleted_media"]
        told = len(jellyfin.media_updated_paths)
        await apply_cleanup(bridge, plan)
        assert list(tree(root)) == [f"{NOTLD_FOLDER}/Night of the Living Dead (1968).strm"]  # only what is still wanted
        await bridge.announce()
        assert jellyfin.media_updated_paths[told:] == [f"{root}/{SEVERANCE_FOLDER}"]
        await settle(e2e, bridge)
    series = jellyfin.series_by_tmdb(SEVERANCE_TMDB)
    assert series is None or not [
        e for e in jellyfin.episodes_of(series.id, include_virtual=False) if e.parent_index_number == 2
    ]
    async with e2e.store() as session:
        assert [e.rel_path for e in await repo.library_entries(session)] == [
            f"{NOTLD_FOLDER}/Night of the Living Dead (1968).mkv"
        ]


async def test_a_symlink_waits_for_the_mount_to_show_the_file_before_it_is_written_and_announced(
    make_e2e: Factory, tmp_path: Path
) -> None:
    e2e = make_e2e(library="symlink")
    root = Path(e2e.settings.library.root or "")
    lagging = tmp_path / "lagging-mount"  # what seerbridge sees: a mount that has not caught up yet
    lagging.mkdir()
    e2e.settings.library.mount_path = str(lagging)
    jellyfin = e2e.world.jellyfin_state
    async with e2e.bridge() as bridge:
        await bridge.run_pass({102})
        assert tree(root) == {}  # no entry may point at nothing
        assert jellyfin.media_updated_paths == [] and jellyfin.refresh_count == 0
        assert (await request_record(e2e, 102)).state is RequestState.FULFILLED
        assert e2e.world.mount is not None
        shutil.copytree(e2e.world.mount.root, lagging, dirs_exist_ok=True)  # the mount catches up
        await bridge.announce()  # the follower's next round
        (entry,) = tree(root).items()
        assert entry[0] == f"{HAUNT_FOLDER}/Haunt (2019).mkv" and entry[1].startswith(f"{lagging}/__all__/")
        assert jellyfin.media_updated_paths == [f"{root}/{HAUNT_FOLDER}"]
        await settle(e2e, bridge)
    assert (await request_record(e2e, 102)).state is RequestState.AVAILABLE
