"""Following uncached downloads to the end: finished ones announced and fulfilled, dying or stalled ones replaced."""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from seerbridge.domain.states import RequestState, TorrentState
from seerbridge.domain.transitions import RequestEvent, TorrentEvent
from seerbridge.pipeline.announce import ANNOUNCE_KEY, SEERR_SCAN_JOB, Arrival, owe_arrival
from seerbridge.pipeline.process import Bridge
from seerbridge.pipeline.track import Fate, FollowReport, Look, fate_of, next_delay
from seerbridge.sandbox.middleware import FaultPlan
from seerbridge.sandbox.scenario import load_scenario
from seerbridge.sandbox.seerr_models import MediaStatus
from seerbridge.services.realdebrid import Torrent
from seerbridge.store import repo
from seerbridge.store.models import BadHash
from tests.e2e.conftest import E2E, Factory, request_record, result_of

DUNE = 106
DUNE_TMDB = 438631
DUNE_REMUX = "Dune.2021.1080p.BluRay.REMUX.AVC.DTS-HD.MA.5.1-EXAMPLE"
DUNE_X265 = "Dune.2021.1080p.BluRay.x265.10bit-EXAMPLE"  # the best-seeded: downloads (4.4 GB at 50 MB/s)
DUNE_720 = "Dune.2021.720p.WEBRip.x264-EXAMPLE"  # the next candidate
MOUNT = "/media/movies"  # the sandbox's Jellyfin movie library is the mount's movie folder (as with zurg's)
LISTING = r"/rest/1\.0/torrents$"


@contextlib.asynccontextmanager
async def following(e2e: E2E) -> AsyncIterator[Bridge]:
    """A bridge whose follower reads the emulators' virtual clock."""
    async with e2e.bridge() as bridge:
        bridge.now = e2e.world.clock.now
        yield bridge


async def rows_of(bridge: Bridge, info_hash: str) -> list[repo.TorrentRecord]:
    async with bridge.sessions() as session:
        return [t for t in await repo.all_torrents(session) if t.info_hash == info_hash]


async def bad_source(bridge: Bridge, info_hash: str) -> str | None:
    async with bridge.sessions() as session:
        row = await session.get(BadHash, info_hash)
        return row.source if row else None


def rd_id_of(e2e: E2E, name: str) -> str:
    (torrent,) = e2e.rd.torrents_with_hash(e2e.hash(name))
    return torrent.id


def seerr_status(e2e: E2E, tmdb_id: int) -> MediaStatus | None:
    """The media status Seerr shows for a title (None: Seerr has no media row for it)."""
    media = e2e.world.seerr_state.media_for(tmdb_id)
    return None if media is None else media.status


def scan_jobs(e2e: E2E) -> int:
    return len(e2e.world.seerr_state.runs_of(SEERR_SCAN_JOB))


def rd_calls(e2e: E2E, method: str, pattern: str) -> int:
    return e2e.world.control("realdebrid").count(method, pattern)


async def start_dune_download(bridge: Bridge) -> None:
    report = await bridge.run_pass(only={DUNE})
    assert result_of(report, DUNE).state is RequestState.DOWNLOADING


# ----- finishing ----------------------------------------------------------------------------------------------


async def test_an_uncached_download_goes_queued_downloading_downloaded_and_ends_fulfilled(make_e2e: Factory) -> None:
    e2e = make_e2e()
    e2e.rd.queue_s = 30.0
    x265 = e2e.hash(DUNE_X265)
    async with following(e2e) as bridge:
        await start_dune_download(bridge)
        torrent_id = rd_id_of(e2e, DUNE_X265)
        refreshes, jobs = e2e.world.jellyfin_state.refresh_count, scan_jobs(e2e)

        assert e2e.rd.status_of(torrent_id) == "queued"
        queued = await bridge.follower.follow()
        assert (queued.following, queued.finished, queued.failed) == (1, [], [])
        assert 5 <= queued.delay <= 300

        e2e.world.clock.advance(40)
        assert e2e.rd.status_of(torrent_id) == "downloading"
        downloading = await bridge.follower.follow()
        assert downloading.finished == [] and not downloading.announced
        (row,) = await rows_of(bridge, x265)
        assert row.state is TorrentState.DOWNLOADING and 0 < row.progress < 100
        # 4.4 GB at 50 MB/s: the follower looks again about when it should be done, not every 5 seconds.
        assert 30 <= downloading.delay <= 120

        e2e.world.clock.advance(120)
        assert e2e.rd.status_of(torrent_id) == "downloaded"
        delay = await bridge.follow_downloads()

        # Jellyfin is asked to scan; Seerr waits until Jellyfin lists the film (its scan takes a few seconds).
        assert e2e.world.jellyfin_state.refresh_count == refreshes + 1
        assert e2e.world.jellyfin_state.media_updated_paths == []
        assert scan_jobs(e2e) == jobs
        (row,) = await rows_of(bridge, x265)
        assert (row.state, row.cached, row.progress) == (TorrentState.DOWNLOADED, False, 100.0)
        assert e2e.account() >= {x265}
        assert delay == bridge.settings.jellyfin.arrival_check_s  # nothing left to follow; Jellyfin looked at soon

        e2e.world.clock.advance(bridge.settings.jellyfin.arrival_check_s)
        listed = await bridge.follower.follow()
        assert listed.announced and listed.awaiting == 0
        assert e2e.world.jellyfin_state.movie_by_tmdb(DUNE_TMDB) is not None
        assert scan_jobs(e2e) == jobs + 1
        assert seerr_status(e2e, DUNE_TMDB) is MediaStatus.AVAILABLE

        # Nothing owed any more: a further round tells nobody anything again.
        again = await bridge.follower.follow()
        assert not again.announced and again.following == 0
        assert again.delay == bridge.settings.follow.max_interval_s
        assert e2e.world.jellyfin_state.refresh_count == refreshes + 1 and scan_jobs(e2e) == jobs + 1

    record = await request_record(e2e, DUNE)
    assert record.state is RequestState.AVAILABLE  # Jellyfin was seen holding it
    assert record.reason is not None and record.reason.startswith("in Jellyfin; downloaded: ")
    assert record.backoff_step == 0  # no backoff: only the settled re-check, hours away
    assert record.next_attempt_at is not None and record.next_attempt_at - e2e.world.clock.now() > timedelta(hours=1)


async def test_with_the_mount_path_the_finished_files_are_announced_by_path(make_e2e: Factory) -> None:
    e2e = make_e2e(jellyfin={"rd_mount_path": MOUNT + "/"})
    async with following(e2e) as bridge:
        await start_dune_download(bridge)
        name = e2e.rd.torrents_with_hash(e2e.hash(DUNE_X265))[0].name
        refreshes = e2e.world.jellyfin_state.refresh_count
        e2e.world.clock.advance(200)
        report = await bridge.follower.follow()
        assert report.finished == [e2e.hash(DUNE_X265)]
        assert e2e.world.jellyfin_state.media_updated_paths == [f"{MOUNT}/{name}"]
        assert e2e.world.control("jellyfin").count("POST", "Library/Media/Updated") == 1
        assert e2e.world.jellyfin_state.refresh_count == refreshes  # no whole-library scan
        assert scan_jobs(e2e) == 0  # Jellyfin scans a reported folder after its 60 s monitor delay
        e2e.world.clock.advance(61)
        await bridge.follower.follow()
        assert scan_jobs(e2e) == 1
    assert seerr_status(e2e, DUNE_TMDB) is MediaStatus.AVAILABLE
    assert (await request_record(e2e, DUNE)).state is RequestState.AVAILABLE


async def test_an_announcement_jellyfin_missed_is_sent_once_it_is_back(make_e2e: Factory) -> None:
    e2e = make_e2e()
    async with following(e2e) as bridge:
        await start_dune_download(bridge)
        refreshes = e2e.world.jellyfin_state.refresh_count
        e2e.world.clock.advance(200)
        e2e.world.control("jellyfin").set_plan(FaultPlan(error_rate=1.0))
        down = await bridge.follower.follow()
        assert down.finished == [e2e.hash(DUNE_X265)] and down.errors
        assert down.delay >= bridge.settings.follow.max_interval_s  # a failing service: look again later
        assert scan_jobs(e2e) == 0  # Seerr waits for Jellyfin, which is still owed its look
        async with bridge.sessions() as session:
            assert "refresh" in (await repo.get_state(session, ANNOUNCE_KEY) or "")

        e2e.world.control("jellyfin").clear()
        back = await bridge.follower.follow()
        assert back.announced and not back.errors and back.awaiting == 1
        e2e.world.clock.advance(10)
        await bridge.follower.follow()
    assert e2e.world.jellyfin_state.refresh_count == refreshes + 1
    assert scan_jobs(e2e) == 1
    assert seerr_status(e2e, DUNE_TMDB) is MediaStatus.AVAILABLE


# ----- failing ------------------------------------------------------------------------------------------------


def _x265_dies(data: dict[str, Any]) -> None:
    for release in data["releases"]:
        if release["name"] == DUNE_X265:
            release["rd"] = "dead"
            release["rd_dies_after"] = 30.0


async def test_a_dying_download_is_deleted_marked_bad_and_the_next_candidate_is_tried(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=_x265_dies)
    x265, next_one = e2e.hash(DUNE_X265), e2e.hash(DUNE_720)
    async with following(e2e) as bridge:
        await start_dune_download(bridge)
        assert (await bridge.follower.follow()).failed == []  # still "downloading" for now

        e2e.world.clock.advance(31)
        assert e2e.rd.status_of(rd_id_of(e2e, DUNE_X265)) == "dead"
        now = e2e.world.clock.now()
        report = await bridge.follower.follow()
        assert report.failed == [x265] and report.bad == {x265}
        assert x265 not in e2e.account()  # deleted from Real-Debrid
        assert await bad_source(bridge, x265) == "realdebrid:dead"
        assert [r.state for r in await rows_of(bridge, x265)] == [TorrentState.FAILED]
        assert e2e.world.jellyfin_state.refresh_count == 0 and scan_jobs(e2e) == 0  # nothing arrived

        record = await request_record(e2e, DUNE)
        # Acceptable releases are left and the next one is due: waiting, not "no release".
        assert record.state is RequestState.WAITING
        assert record.reason is not None and DUNE_X265 in record.reason and "dead" in record.reason
        # The download backoff's first step (10 minutes), not the request backoff's (30).
        assert record.next_attempt_at is not None
        assert abs(record.next_attempt_at - (now + timedelta(minutes=10))) < timedelta(seconds=5)
        assert record.backoff_step == 1
        when = record.next_attempt_at.strftime("%Y-%m-%d %H:%M UTC")
        assert record.reason.endswith(f"; next candidate {DUNE_720} after {when}"), record.reason

        # Worked again, the request takes the next candidate; the dead hash is never added again.
        again = await bridge.run_pass(only={DUNE})
        assert result_of(again, DUNE).state is RequestState.DOWNLOADING
        assert [r.state for r in await rows_of(bridge, next_one)] == [TorrentState.DELETED, TorrentState.DOWNLOADING]
        assert e2e.account() >= {next_one} and x265 not in e2e.account()
        assert e2e.rd.add_count(x265) == 1


async def test_a_stalled_download_is_dropped_after_stall_minutes_without_progress(make_e2e: Factory) -> None:
    e2e = make_e2e(follow={"stall_minutes": 60.0})
    x265 = e2e.hash(DUNE_X265)
    async with following(e2e) as bridge:
        await start_dune_download(bridge)
        torrent_id = rd_id_of(e2e, DUNE_X265)
        e2e.rd.set_status(torrent_id, "downloading", progress=40)
        assert (await bridge.follower.follow()).failed == []

        e2e.world.clock.advance(59 * 60)
        e2e.rd.set_status(torrent_id, "downloading", progress=41)  # it moved: the stall clock starts again
        assert (await bridge.follower.follow()).failed == []
        e2e.world.clock.advance(59 * 60)
        assert (await bridge.follower.follow()).failed == []
        assert x265 in e2e.account()

        e2e.world.clock.advance(2 * 60)
        await bridge.due_request_ids()  # a daemon poll cycle is under way ...
        await bridge.follow_downloads()
        assert x265 not in e2e.account()
        assert await bad_source(bridge, x265) == "stalled"
        assert [r.state for r in await rows_of(bridge, x265)] == [TorrentState.FAILED]
        # ... and its judge rejects the stalled hash at once, without waiting for the next cycle.
        assert bridge._cycle is not None and x265 in bridge._cycle.prober.bad_hashes
    record = await request_record(e2e, DUNE)
    assert record.state is RequestState.WAITING and record.next_attempt_at is not None
    assert (
        record.reason is not None
        and "stalled at 41 %" in record.reason
        and f"next candidate {DUNE_720}" in record.reason
    )


def _only_x265_is_left(data: dict[str, Any]) -> None:
    _x265_dies(data)
    data["releases"] = [r for r in data["releases"] if r["name"] != DUNE_720]


async def test_a_dying_download_with_no_acceptable_release_left_is_no_release(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=_only_x265_is_left)  # the refused remux is marked bad, Part Two is another film
    async with following(e2e) as bridge:
        await start_dune_download(bridge)
        e2e.world.clock.advance(31)
        assert (await bridge.follower.follow()).failed == [e2e.hash(DUNE_X265)]
    record = await request_record(e2e, DUNE)
    assert record.state is RequestState.NO_RELEASE and record.next_attempt_at is not None
    when = record.next_attempt_at.strftime("%Y-%m-%d %H:%M UTC")
    assert record.reason is not None and record.reason.endswith(
        f"; no other acceptable release known, searching again after {when}"
    ), record.reason


async def test_a_download_waiting_in_real_debrids_queue_never_stalls(make_e2e: Factory) -> None:
    e2e = make_e2e(follow={"stall_minutes": 60.0})
    e2e.rd.queue_s = 6 * 3600.0  # every slot of Real-Debrid's is busy: ours waits hours at 0 %
    x265 = e2e.hash(DUNE_X265)
    async with following(e2e) as bridge:
        await start_dune_download(bridge)
        torrent_id = rd_id_of(e2e, DUNE_X265)
        for _ in range(5):
            e2e.world.clock.advance(61 * 60)
            assert e2e.rd.status_of(torrent_id) == "queued"
            report = await bridge.follower.follow()
            assert (report.following, report.failed) == (1, [])
        assert x265 in e2e.account()
        assert [r.state for r in await rows_of(bridge, x265)] == [TorrentState.DOWNLOADING]

        # Out of the queue, the stall clock starts when it starts: not from its first look hours ago.
        e2e.rd.set_status(torrent_id, "downloading", progress=0)
        e2e.world.clock.advance(59 * 60)
        assert (await bridge.follower.follow()).failed == []
        assert x265 in e2e.account() and await bad_source(bridge, x265) is None
    assert (await request_record(e2e, DUNE)).state is RequestState.DOWNLOADING


async def test_a_download_deleted_by_hand_is_forgotten_and_its_request_rescheduled(make_e2e: Factory) -> None:
    e2e = make_e2e()
    x265 = e2e.hash(DUNE_X265)
    async with following(e2e) as bridge:
        await start_dune_download(bridge)
        e2e.rd.delete(rd_id_of(e2e, DUNE_X265))
        infos = rd_calls(e2e, "GET", "torrents/info")
        report = await bridge.follower.follow()
        assert report.missing == [x265] and report.bad == set()
        assert rd_calls(e2e, "GET", "torrents/info") == infos + 1  # the listing's word is checked once
        assert [r.state for r in await rows_of(bridge, x265)] == [TorrentState.DELETED]
        assert await bad_source(bridge, x265) is None
    record = await request_record(e2e, DUNE)
    # Not marked bad, the same release is still the best one: it is added again after the wait.
    assert record.state is RequestState.WAITING and record.next_attempt_at is not None
    assert record.reason is not None and f"next candidate {DUNE_X265} again after" in record.reason, record.reason


async def test_an_outage_of_real_debrid_changes_nothing_and_asks_for_a_long_wait(make_e2e: Factory) -> None:
    e2e = make_e2e()
    x265 = e2e.hash(DUNE_X265)
    async with following(e2e) as bridge:
        await start_dune_download(bridge)
        e2e.world.control("realdebrid").set_plan(FaultPlan(error_rate=1.0))
        e2e.world.clock.advance(200)
        delay = await bridge.follow_downloads()
        assert delay >= bridge.settings.follow.max_interval_s
        assert [r.state for r in await rows_of(bridge, x265)] == [TorrentState.DOWNLOADING]

        e2e.world.control("realdebrid").clear()
        assert (await bridge.follower.follow()).finished == [x265]
    assert (await request_record(e2e, DUNE)).state is RequestState.FULFILLED


# ----- adopted torrents ---------------------------------------------------------------------------------------


def _x265_already_downloading(data: dict[str, Any]) -> None:
    (x265,) = [r for r in load_scenario("demo").releases if r.name == DUNE_X265]
    data["realdebrid"]["torrents"].append({"hash": x265.info_hash, "name": DUNE_X265, "status": "downloading"})


async def test_an_adopted_download_is_followed_but_never_deleted(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=_x265_already_downloading)
    x265 = e2e.hash(DUNE_X265)
    async with following(e2e) as bridge:
        await start_dune_download(bridge)
        (row,) = [r for r in await rows_of(bridge, x265) if r.state is TorrentState.DOWNLOADING]
        assert row.adopted and e2e.rd.add_count(x265) == 0

        e2e.rd.set_status(rd_id_of(e2e, DUNE_X265), "dead", progress=50)
        deletes = rd_calls(e2e, "DELETE", "")
        report = await bridge.follower.follow()
        assert report.failed == [x265]
        assert rd_calls(e2e, "DELETE", "") == deletes  # nothing deleted ...
        assert x265 in e2e.account()  # ... the user's torrent stays
        assert [r.state for r in await rows_of(bridge, x265)] == [TorrentState.FAILED]
        assert await bad_source(bridge, x265) == "realdebrid:dead"
    assert (await request_record(e2e, DUNE)).next_attempt_at is not None


async def test_an_adopted_stalled_download_is_not_deleted_either(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=_x265_already_downloading)
    x265 = e2e.hash(DUNE_X265)
    async with following(e2e) as bridge:
        await start_dune_download(bridge)
        await bridge.follower.follow()
        e2e.world.clock.advance(61 * 60)
        deletes = rd_calls(e2e, "DELETE", "")
        assert (await bridge.follower.follow()).failed == [x265]
        assert rd_calls(e2e, "DELETE", "") == deletes and x265 in e2e.account()


# ----- many downloads -----------------------------------------------------------------------------------------

SHOW_KEY = "tv:424242:s01"


def _hash(n: int) -> str:
    return hashlib.sha1(f"episode {n}".encode()).hexdigest()


async def _many_downloads(e2e: E2E, bridge: Bridge, count: int) -> dict[int, str]:
    """`count` single-episode downloads of one season, in the emulator and in the store, for request 900."""
    rd_ids: dict[int, str] = {}
    async with bridge.sessions.begin() as session:
        await repo.upsert_request(
            session, id=900, media_type="tv", tmdb_id=424242, is4k=False, seasons=[1], title="A Show"
        )
        await repo.set_request_state(session, 900, RequestState.WORKING, event=RequestEvent.START)
        await repo.set_request_state(
            session, 900, RequestState.DOWNLOADING, event=RequestEvent.SETTLE, reason="downloading"
        )
        await repo.upsert_item(
            session, key=SHOW_KEY, kind="season", tmdb_id=424242, season=1, is4k=False, wanted=range(1, count + 1)
        )
        await repo.link_request_item(session, 900, SHOW_KEY)
        for n in range(1, count + 1):
            name = f"A.Show.S01E{n:02}.1080p.WEB-DL.mkv"
            rd_id = e2e.rd.add_torrent(_hash(n), magnet_name=name, status="downloading", progress=10)
            row_id = await repo.record_intent(
                session,
                info_hash=_hash(n),
                name=name,
                item_key=SHOW_KEY,
                request_id=900,
                season=1,
                episodes=[n],
                file_ids=[1],
                size_bytes=None,
            )
            await repo.mark_added(session, row_id, rd_id)
            await repo.set_torrent_state(session, row_id, TorrentEvent.DOWNLOAD, cached=False)
            rd_ids[n] = rd_id
    return rd_ids


async def test_many_downloads_cost_one_listing_call_per_round(make_e2e: Factory) -> None:
    # The downloads are made up (no scenario release), so Jellyfin never lists them: Seerr is asked at once.
    e2e = make_e2e(jellyfin={"arrival_wait_s": 0})
    cfg = e2e.settings.follow
    async with following(e2e) as bridge:
        rd_ids = await _many_downloads(e2e, bridge, 40)
        listings, infos = rd_calls(e2e, "GET", LISTING), rd_calls(e2e, "GET", "torrents/info")
        first = await bridge.follower.follow()
        assert first.following == 40 and first.calls == {"realdebrid": {"torrents": 1}}
        assert rd_calls(e2e, "GET", LISTING) == listings + 1 and rd_calls(e2e, "GET", "torrents/info") == infos
        crowd = cfg.min_interval_s * (1 + math.log2(40))
        assert crowd <= first.delay <= cfg.max_interval_s

        # Ten finish and five die in one round: still one listing, one delete each, and one announcement.
        for n in range(1, 11):
            e2e.rd.set_status(rd_ids[n], "downloaded")
        for n in range(11, 16):
            e2e.rd.set_status(rd_ids[n], "dead")
        refreshes = e2e.world.jellyfin_state.refresh_count
        second = await bridge.follower.follow()
        assert len(second.finished) == 10 and len(second.failed) == 5
        # The active listing no longer shows the 15: each is read once, to learn how it ended.
        assert second.calls["realdebrid"] == {"torrents": 1, "torrents/info": 15, "torrents/delete": 5}
        assert e2e.world.jellyfin_state.refresh_count == refreshes + 1 and scan_jobs(e2e) == 1
        assert cfg.min_interval_s <= second.delay <= cfg.max_interval_s
        assert (await request_record(e2e, 900)).state is RequestState.DOWNLOADING  # 25 still on their way

        for n in range(16, 41):
            e2e.rd.set_status(rd_ids[n], "downloaded")
        last = await bridge.follower.follow()
        assert len(last.finished) == 25 and e2e.world.jellyfin_state.refresh_count == refreshes + 2
    record = await request_record(e2e, 900)
    # Episodes 11-15 died: the season is partly there, and the request goes back to the search for them.
    assert record.state is RequestState.PARTIAL and record.reason is not None
    assert record.reason.startswith("downloaded: ")


def listings(e2e: E2E) -> list[str]:
    """The query string of every `GET /torrents` Real-Debrid received, in order."""
    return [r.query for r in e2e.world.control("realdebrid").log if re.search(LISTING, r.path) and r.method == "GET"]


async def test_a_large_account_costs_one_active_listing_and_a_read_per_download_that_left_it(
    make_e2e: Factory,
) -> None:
    e2e = make_e2e(jellyfin={"arrival_wait_s": 0})
    for n in range(2000):
        e2e.rd.add_torrent(hashlib.sha1(f"finished {n}".encode()).hexdigest(), status="downloaded")
    async with following(e2e) as bridge:
        rd_ids = await _many_downloads(e2e, bridge, 3)
        before = len(listings(e2e))
        first = await bridge.follower.follow()
        assert first.following == 3 and first.calls == {"realdebrid": {"torrents": 1}}
        (query,) = listings(e2e)[before:]
        assert "filter=active" in query

        # One finishes and one dies: both leave the active list and are read alone; the third is not.
        e2e.rd.set_status(rd_ids[1], "downloaded")
        e2e.rd.set_status(rd_ids[2], "dead")
        infos = rd_calls(e2e, "GET", "torrents/info")
        second = await bridge.follower.follow()
        assert (second.finished, second.failed) == ([_hash(1)], [_hash(2)])
        assert second.calls["realdebrid"] == {"torrents": 1, "torrents/info": 2, "torrents/delete": 1}
        assert rd_calls(e2e, "GET", f"torrents/info/({rd_ids[1]}|{rd_ids[2]})$") == infos + 2
        assert all("filter=active" in q for q in listings(e2e)[before:])
        assert rd_ids[3] in {t.id for t in e2e.rd.listing(active_only=True)}


async def test_a_finished_season_fulfils_its_request_only_when_the_last_episode_is_in(make_e2e: Factory) -> None:
    e2e = make_e2e()
    async with following(e2e) as bridge:
        rd_ids = await _many_downloads(e2e, bridge, 3)
        e2e.rd.set_status(rd_ids[1], "downloaded")
        e2e.rd.set_status(rd_ids[2], "downloaded")
        await bridge.follower.follow()
        assert (await request_record(e2e, 900)).state is RequestState.DOWNLOADING
        e2e.rd.set_status(rd_ids[3], "downloaded")
        await bridge.follower.follow()
        async with bridge.sessions() as session:
            item = await repo.get_item(session, SHOW_KEY)
    assert item is not None and item.done == (1, 2, 3) and item.state is RequestState.FULFILLED
    record = await request_record(e2e, 900)
    assert record.state is RequestState.FULFILLED and record.backoff_step == 0


async def test_nothing_to_follow_costs_no_call_and_waits_longest(make_e2e: Factory) -> None:
    e2e = make_e2e()
    async with following(e2e) as bridge:
        delay = await bridge.follow_downloads()
    assert delay == e2e.settings.follow.max_interval_s
    assert e2e.world.control("realdebrid").count() == 0


# ----- the pure parts -----------------------------------------------------------------------------------------

BOUNDS: dict[str, float] = {"min_interval_s": 5.0, "max_interval_s": 300.0, "rate_share": 0.3, "rate_per_min": 250.0}


def test_the_cadence_is_short_for_a_fast_download_and_grows_with_the_crowd() -> None:
    assert next_delay(following=1, soonest_s=2.0, calls=1, **BOUNDS) == 5.0
    assert next_delay(following=1, soonest_s=60.0, calls=1, **BOUNDS) == 60.0 * 1.1 + 1
    assert next_delay(following=1, soonest_s=10_000.0, calls=1, **BOUNDS) == 300.0
    few = next_delay(following=2, soonest_s=None, calls=1, **BOUNDS)
    many = next_delay(following=500, soonest_s=1.0, calls=1, **BOUNDS)
    assert 5.0 <= few < many <= 300.0
    assert next_delay(following=0, soonest_s=None, calls=0, **BOUNDS) == 300.0


def test_the_cadence_keeps_following_within_its_share_of_the_budget() -> None:
    # 30 calls may use at most 30 % of 250/min: at least 24 seconds before the next round.
    assert next_delay(following=1, soonest_s=1.0, calls=30, **BOUNDS) == 24.0
    # A round that spent a lot (mass deletes) waits longer than the upper bound rather than break the share.
    assert next_delay(following=1, soonest_s=1.0, calls=500, **BOUNDS) == 400.0
    for following in (1, 10, 100, 5000):
        for calls in (1, 3, 20):
            delay = next_delay(following=following, soonest_s=None, calls=calls, **BOUNDS)
            assert calls / delay * 60 <= 0.3 * 250 + 1e-9


def _listed(status: str, progress: float) -> Torrent:
    return Torrent.model_validate(
        {"id": "X", "filename": "f", "hash": "a" * 40, "bytes": 1, "progress": progress, "status": status,
         "added": "2026-11-24T12:00:00.000Z"}
    )  # fmt: skip


def _row(progress: float, seen_minutes_ago: float | None, now: Any) -> repo.TorrentRecord:
    at = None if seen_minutes_ago is None else now - timedelta(minutes=seen_minutes_ago)
    return repo.TorrentRecord(
        id=1, info_hash="a" * 40, rd_id="X", name="f", item_key="k", request_id=1, season=None, episodes=(),
        file_ids=(1,), cached=False, adopted=False, state=TorrentState.DOWNLOADING, size_bytes=None, added_at=now,
        updated_at=now, progress=progress, progress_at=at,
    )  # fmt: skip


def test_the_fate_of_a_download() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    hour = timedelta(minutes=60)
    assert fate_of(_row(10, 5, now), None, now, hour) is Fate.MISSING
    assert fate_of(_row(10, 5, now), _listed("downloaded", 100), now, hour) is Fate.FINISHED
    for status in ("error", "dead", "virus", "magnet_error"):
        assert fate_of(_row(10, 5, now), _listed(status, 10), now, hour) is Fate.FAILED
    assert fate_of(_row(10, None, now), _listed("queued", 10), now, hour) is Fate.WAITING  # first look
    assert fate_of(_row(0, 600, now), _listed("queued", 0), now, hour) is Fate.WAITING  # waits for a slot
    assert fate_of(_row(10, 90, now), _listed("downloading", 11), now, hour) is Fate.WAITING  # it moved
    assert fate_of(_row(10, 59, now), _listed("downloading", 10), now, hour) is Fate.WAITING
    assert fate_of(_row(10, 60, now), _listed("downloading", 10), now, hour) is Fate.STALLED
    assert fate_of(_row(0, 61, now), _listed("magnet_conversion", 0), now, hour) is Fate.STALLED


async def test_seerr_waits_for_the_4k_copy_not_for_an_hd_one_jellyfin_already_lists(make_e2e: Factory) -> None:
    """A 4K arrival of a show Jellyfin holds in HD: Seerr's scan waits until Jellyfin lists the 4K episodes."""
    e2e = make_e2e()
    async with e2e.bridge() as bridge:
        async with bridge.sessions.begin() as session:  # Breaking Bad S01 arrived in 4K (Jellyfin holds it in HD)
            await owe_arrival(session, path=None, arrival=Arrival(1396, 1, (1, 2), is4k=True))
        first = await bridge.announce()
        assert first.jellyfin and not first.seerr and first.awaiting == 1
        e2e.world.clock.advance(30)
        assert (await bridge.announce()).awaiting == 1  # the HD episodes Jellyfin lists do not count
        assert scan_jobs(e2e) == 0


async def test_a_download_settled_elsewhere_during_a_round_is_left_alone(make_e2e: Factory) -> None:
    """The round read the row as downloading; before it acts, other work (a cleanup) deleted it. The round leaves it
    be: no state written twice, no error (seen in a soak, where the lifecycle table refused 'deleted' twice)."""
    e2e = make_e2e()
    async with following(e2e) as bridge:
        await start_dune_download(bridge)
        (stale,) = await rows_of(bridge, e2e.hash(DUNE_X265))
        async with bridge.sessions.begin() as session:
            await repo.set_torrent_state(session, stale.id, TorrentEvent.DELETED)
        listed = await bridge.services.realdebrid.torrent_info(stale.rd_id or "")
        report = FollowReport(delay=60.0)
        await bridge.follower._act(Look(stale, Fate.MISSING, None, "gone"), e2e.world.clock.now(), report)
        await bridge.follower._act(Look(stale, Fate.FINISHED, listed, "downloaded"), e2e.world.clock.now(), report)
        (row,) = await rows_of(bridge, e2e.hash(DUNE_X265))
    assert row.state is TorrentState.DELETED


async def test_jellyfin_is_asked_about_awaited_items_once_per_check_interval(make_e2e: Factory) -> None:
    """Each worker announces after each request; while an item is awaited, Jellyfin's whole library is not listed
    again by every one of them: once per `jellyfin.arrival_check_s`."""
    e2e = make_e2e()
    jellyfin = e2e.world.control("jellyfin")
    async with e2e.bridge() as bridge:
        async with bridge.sessions.begin() as session:
            await owe_arrival(session, path=None, arrival=Arrival(1396, 1, (1, 2), is4k=True))
        await bridge.announce()
        looks = jellyfin.count("GET", r"/Items$")
        assert looks >= 1
        for _ in range(5):  # five requests worked in a row, moments apart
            assert (await bridge.announce()).awaiting == 1
        assert jellyfin.count("GET", r"/Items$") == looks
        e2e.world.clock.advance(bridge.settings.jellyfin.arrival_check_s)
        await bridge.announce()
        assert jellyfin.count("GET", r"/Items$") > looks
