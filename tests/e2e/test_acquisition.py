"""Acquisition end to end: the demo scenario's requests through the whole bridge, checked in the RD emulator."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from pydantic import SecretStr
from structlog.testing import capture_logs

from seerbridge.domain.states import RequestState, TorrentState
from seerbridge.services.calls import CallLedger
from seerbridge.store import repo
from tests.e2e.conftest import E2E, Factory, decisions, request_record, result_of

NOTLD_1080 = "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-EXAMPLE"
NOTLD_720 = "Night.of.the.Living.Dead.1968.720p.BluRay.x264-EXAMPLE"
NOTLD_CAM = "Night.of.the.Living.Dead.1968.HDCAM.x264-EXAMPLE"
HAUNT_2019 = "Haunt.2019.1080p.WEB-DL.DD5.1.H264-EXAMPLE"
HAUNT_TMDB = 572802
HAUNT_2013 = "Haunt.2013.1080p.BluRay.x264-EXAMPLE"
HAUNT_NO_YEAR = "Haunt.1080p.WEB-DL.H264-EXAMPLE"
SEVERANCE_S02 = "Severance.S02.1080p.ATVP.WEB-DL.DDP5.1.H.264-EXAMPLE"
SEVERANCE_S01 = "Severance.S01.1080p.ATVP.WEB-DL.DDP5.1.H.264-EXAMPLE"
BB_PACK = "Breaking.Bad.S02.1080p.BluRay.x264-EXAMPLE"
BB_E11 = "Breaking.Bad.S02E11.1080p.BluRay.x264-EXAMPLE"
BB_E12 = "Breaking.Bad.S02E12.1080p.BluRay.x264-EXAMPLE"
BB_E13 = "Breaking.Bad.S02E13.720p.HDTV.x264-EXAMPLE"
LK = "The.Lighthouse.Keepers.S01E0{}.1080p.WEB-DL.H264-EXAMPLE"
LK_E04_2160 = "The.Lighthouse.Keepers.S01E04.2160p.WEB-DL.DV.HDR.H.265-EXAMPLE"
DUNE_REMUX = "Dune.2021.1080p.BluRay.REMUX.AVC.DTS-HD.MA.5.1-EXAMPLE"
DUNE_X265 = "Dune.2021.1080p.BluRay.x265.10bit-EXAMPLE"
DUNE_720 = "Dune.2021.720p.WEBRip.x264-EXAMPLE"
DUNE_PART_TWO = "Dune.Part.Two.2024.1080p.WEB-DL.DDP5.1.H.264-EXAMPLE"
HAND_ADDED = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"

# What one pass over the demo keeps on Real-Debrid (besides the torrent the user added by hand).
DEMO_KEPT = [
    NOTLD_1080,
    HAUNT_2019,
    SEVERANCE_S02,
    BB_E11,
    BB_E12,
    BB_E13,
    LK.format(1),
    LK.format(2),
    LK.format(3),
    LK.format(4),
    DUNE_X265,
]


def kept(e2e: E2E) -> set[str]:
    return {e2e.hash(name) for name in DEMO_KEPT} | {HAND_ADDED}


def leaves(paths: list[str]) -> list[str]:
    return sorted(p.rsplit("/", 1)[-1] for p in paths)


def payload_by_name(payload: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(entry["name"]): entry for entry in payload}


async def test_one_pass_over_the_demo_keeps_exactly_the_right_torrents(demo: E2E) -> None:
    report = await demo.run()
    assert demo.account() == kept(demo)
    states = {r.request_id: r.state for r in report.results}
    assert states == {
        101: RequestState.FULFILLED,
        102: RequestState.FULFILLED,
        103: RequestState.FULFILLED,
        104: RequestState.FULFILLED,
        105: RequestState.FULFILLED,
        106: RequestState.DOWNLOADING,
        107: RequestState.NO_RELEASE,
        108: RequestState.FULFILLED,
    }
    assert all(count == 1 for count in demo.rd.adds.values()), demo.rd.adds


async def test_cached_movie_keeps_its_first_choice_cheaply(demo: E2E) -> None:
    report = await demo.run()
    winner = demo.hash(NOTLD_1080)
    assert demo.rd.torrents_with_hash(winner)[0].selected == (1,)
    assert demo.files_of(winner) == [f"{NOTLD_1080}.mkv"]
    assert demo.rd.add_attempts[demo.hash(NOTLD_720)] == 0
    assert result_of(report, 101).state is RequestState.FULFILLED
    assert result_of(report, 101).chosen == [NOTLD_1080]

    record = await request_record(demo, 101)
    assert record.state is RequestState.FULFILLED
    assert record.calls_to("torrentio") == 1
    # addMagnet, info, selectFiles, info (`downloading` at 100 % for a moment, as Real-Debrid shows), info.
    assert record.calls_to("realdebrid") <= 5
    assert record.calls["realdebrid"].get("torrents/addMagnet") == 1
    assert "torrents/delete" not in record.calls["realdebrid"]

    [decision] = await decisions(demo, 101)
    assert decision.item_key == "movie:10331"
    entries = payload_by_name(decision.payload)
    assert entries[NOTLD_1080]["accepted"] is True
    assert entries[NOTLD_1080]["probe"] == "cached"
    assert entries[NOTLD_720]["probe"] == "not probed"
    assert decision.payload[0]["name"] == NOTLD_1080  # the winner leads the log
    async with demo.store() as session:
        [row] = await repo.torrents_of_item(session, "movie:10331")
    assert (row.info_hash, row.state, row.cached, row.request_id) == (winner, TorrentState.DOWNLOADED, True, 101)
    assert row.rd_id == demo.rd.torrents_with_hash(winner)[0].id


async def test_a_cam_that_torrentio_lets_through_is_rejected_by_the_trash_rule(make_e2e: Factory) -> None:
    e2e = make_e2e()
    e2e.settings.torrentio.url = SecretStr("http://torrentio.sandbox/sort=qualitysize")  # no quality filter
    await e2e.run(only={101})
    [decision] = await decisions(e2e, 101)
    cam = payload_by_name(decision.payload)[NOTLD_CAM]
    assert cam["accepted"] is False
    assert [str(r).split(":")[0] for r in cam["reasons"]] == ["trash"]  # type: ignore[attr-defined]
    assert e2e.rd.add_attempts[e2e.hash(NOTLD_CAM)] == 0
    assert e2e.account() == {e2e.hash(NOTLD_1080), HAND_ADDED}


async def test_a_duplicate_request_is_worked_once(demo: E2E) -> None:
    report = await demo.run()
    winner = demo.hash(NOTLD_1080)
    assert demo.rd.add_count(winner) == 1
    assert demo.rd.hashes().count(winner) == 1
    assert result_of(report, 101).state is RequestState.FULFILLED
    assert result_of(report, 108).state is RequestState.FULFILLED
    # Whichever of the two reached the item first did the work; the other spent no search or probe.
    spent = []
    for request_id in (101, 108):
        record = await request_record(demo, request_id)
        assert record.state is RequestState.FULFILLED
        spent.append(record.calls_to("torrentio") + record.calls_to("realdebrid"))
    assert sorted(spent)[0] == 0
    assert sorted(spent)[1] > 0


async def test_duplicate_requests_worked_at_the_same_moment_add_once(make_e2e: Factory) -> None:
    e2e = make_e2e(run={"concurrency": 2})
    report = await e2e.run(only={101, 108})
    assert {r.state for r in report.results} == {RequestState.FULFILLED}
    assert e2e.rd.add_count(e2e.hash(NOTLD_1080)) == 1
    assert sum(e2e.rd.add_attempts.values()) == 1
    assert len(e2e.torrentio.stream_calls("tt0063350")) == 1


async def test_short_title_keeps_the_right_year_and_never_adds_the_decoys(demo: E2E) -> None:
    report = await demo.run()
    assert result_of(report, 102).chosen == [HAUNT_2019]
    assert demo.rd.add_count(demo.hash(HAUNT_2019)) == 1
    assert demo.rd.add_attempts[demo.hash(HAUNT_2013)] == 0
    assert demo.rd.add_attempts[demo.hash(HAUNT_NO_YEAR)] == 0
    [decision] = await decisions(demo, 102)
    entries = payload_by_name(decision.payload)
    for decoy in (HAUNT_2013, HAUNT_NO_YEAR):
        assert entries[decoy]["accepted"] is False
        reasons = entries[decoy]["reasons"]
        assert isinstance(reasons, list)
        assert any(str(r).startswith("year:") for r in reasons), reasons
    assert entries[HAUNT_2019]["accepted"] is True


async def test_a_missing_season_is_filled_by_its_cached_pack_without_the_sample(demo: E2E) -> None:
    report = await demo.run()
    pack = demo.hash(SEVERANCE_S02)
    files = demo.files_of(pack)
    assert leaves(files) == [f"Severance.S02E{e:02d}.1080p.WEB-DL.H.264.mkv" for e in range(1, 11)]
    torrent = demo.rd.torrents_with_hash(pack)[0]
    assert len(torrent.files) == 11 and "sample" in torrent.files[10].path.lower()
    assert 11 not in (torrent.selected or ())
    assert demo.rd.add_attempts[demo.hash(SEVERANCE_S01)] == 0  # a pack of season 1 never fills season 2
    assert result_of(report, 103).state is RequestState.FULFILLED
    record = await request_record(demo, 103)
    assert record.calls_to("torrentio") == 1
    assert [c.id for c in demo.torrentio.stream_calls()].count("tt11280740:2:1") == 1
    async with demo.store() as session:
        [row] = await repo.torrents_of_item(session, "show:95396:s02")
    assert row.episodes == tuple(range(1, 11))
    assert row.file_ids == tuple(range(1, 11))


async def test_a_partly_available_season_gets_only_its_missing_episodes(demo: E2E) -> None:
    report = await demo.run()
    assert result_of(report, 104).state is RequestState.FULFILLED
    pack = demo.hash(BB_PACK)
    assert demo.rd.add_count(pack) == 1  # probed once ...
    assert demo.rd.torrents_with_hash(pack) == []  # ... and deleted: not cached, and singles are
    expected = {
        BB_E11: "Breaking.Bad.S02E11.1080p.BluRay.x264.mkv",
        BB_E12: "Breaking.Bad.S02E12.1080p.BluRay.x264.mkv",
        BB_E13: "Breaking.Bad.S02E13.720p.HDTV.x264.mkv",
    }
    for name, leaf in expected.items():
        assert demo.files_of(demo.hash(name)) == [leaf]
    bb_in_account = [t for t in demo.rd.listing() if t.magnet_name.startswith("Breaking.Bad")]
    assert sorted(t.magnet_name for t in bb_in_account) == sorted(expected)
    ids = [c.id for c in demo.torrentio.stream_calls() if c.id.startswith("tt0903747:")]
    assert sorted(ids) == ["tt0903747:2:11", "tt0903747:2:12", "tt0903747:2:13"]
    async with demo.store() as session:
        rows = await repo.torrents_of_item(session, "show:1396:s02")
    kept_rows = {r.info_hash: r.episodes for r in rows if r.state is TorrentState.DOWNLOADED}
    assert kept_rows == {demo.hash(BB_E11): (11,), demo.hash(BB_E12): (12,), demo.hash(BB_E13): (13,)}
    [pack_row] = [r for r in rows if r.info_hash == pack]
    assert pack_row.state is TorrentState.DELETED


async def test_an_airing_season_gets_the_aired_episodes_in_the_profile(demo: E2E) -> None:
    report = await demo.run()
    assert result_of(report, 105).state is RequestState.FULFILLED
    for episode in (1, 2, 3, 4):
        name = LK.format(episode)
        assert demo.files_of(demo.hash(name)) == [f"The.Lighthouse.Keepers.S01E0{episode}.1080p.WEB-DL.H264.mkv"]
    assert demo.rd.add_attempts[demo.hash(LK_E04_2160)] == 0
    ids = sorted(c.id for c in demo.torrentio.stream_calls() if c.id.startswith("tt27497448:"))
    assert ids == [f"tt27497448:1:{e}" for e in (1, 2, 3, 4)]  # episodes 5-8 have not aired
    [decision] = await decisions(demo, 105)
    reasons = payload_by_name(decision.payload)[LK_E04_2160]["reasons"]
    assert isinstance(reasons, list) and str(reasons[0]).startswith("resolution:")


async def test_nobody_has_it_cached_so_the_best_seeded_downloads_and_the_refused_hash_is_bad(demo: E2E) -> None:
    report = await demo.run()
    result = result_of(report, 106)
    assert result.state is RequestState.DOWNLOADING
    assert result.chosen == [DUNE_X265]
    remux, x265 = demo.hash(DUNE_REMUX), demo.hash(DUNE_X265)
    assert demo.rd.add_attempts[remux] == 1 and demo.rd.add_count(remux) == 0
    assert demo.rd.add_attempts[demo.hash(DUNE_PART_TWO)] == 0
    dune = [t for t in demo.rd.listing() if t.magnet_name.startswith("Dune")]
    assert [t.hash for t in dune] == [x265]
    assert demo.rd.status_of(dune[0].id) in ("queued", "downloading")
    assert demo.files_of(x265) == [f"{DUNE_X265}.mkv"]
    async with demo.store() as session:
        assert remux in await repo.bad_hashes(session)
        rows = {r.info_hash: r for r in await repo.torrents_of_item(session, "movie:438631")}
    assert rows[x265].state is TorrentState.DOWNLOADING and rows[x265].cached is False
    assert rows[remux].state is TorrentState.FAILED and rows[remux].rd_id is None
    [decision] = await decisions(demo, 106)
    entries = payload_by_name(decision.payload)
    assert str(entries[DUNE_REMUX]["probe"]).startswith("refused")
    assert entries[DUNE_PART_TWO]["accepted"] is False


async def test_nothing_acceptable_ends_without_a_real_debrid_call(demo: E2E) -> None:
    report = await demo.run()
    result = result_of(report, 107)
    assert result.state is RequestState.NO_RELEASE
    assert "none acceptable" in result.reason
    record = await request_record(demo, 107)
    assert record.state is RequestState.NO_RELEASE and record.reason
    assert record.calls_to("realdebrid") == 0
    assert record.calls_to("torrentio") == 1


async def test_a_pending_request_is_not_touched(demo: E2E) -> None:
    report = await demo.run()
    assert 109 not in {r.request_id for r in report.results}
    async with demo.store() as session:
        assert await repo.get_request(session, 109) is None
    assert demo.rd.add_attempts[demo.hash(SEVERANCE_S01)] == 0
    assert not [c for c in demo.torrentio.stream_calls() if c.id.startswith("tt11280740:1:")]


async def test_nothing_is_added_twice_across_passes_and_restarts(demo: E2E) -> None:
    hand_before = demo.rd.torrents_with_hash(HAND_ADDED)[0]
    hand_id, hand_added = hand_before.id, hand_before.added
    await demo.run(passes=2)
    adds_after_first = dict(demo.rd.add_attempts)
    account_after_first = sorted(demo.rd.hashes())

    second = await demo.run()  # a new bridge on the same store: a restart
    assert dict(demo.rd.add_attempts) == adds_after_first
    assert sorted(demo.rd.hashes()) == account_after_first
    assert demo.account() == kept(demo)
    states = {r.request_id: r.state for r in second.results}
    assert states[101] is states[108] is RequestState.FULFILLED
    assert states[106] is RequestState.DOWNLOADING
    [hand] = demo.rd.torrents_with_hash(HAND_ADDED)
    assert (hand.id, hand.added, hand.selected) == (hand_id, hand_added, (1,))
    async with demo.store() as session:
        ours = await repo.all_torrents(session)
    assert HAND_ADDED not in {t.info_hash for t in ours}
    live = [t.info_hash for t in ours if t.state in (TorrentState.DOWNLOADED, TorrentState.DOWNLOADING)]
    assert len(live) == len(set(live)) == len(DEMO_KEPT)
    assert not [t for t in ours if t.state is TorrentState.ADDING]


async def test_a_debrid_key_in_the_torrentio_url_chooses_the_same_torrents(make_e2e: Factory) -> None:
    e2e = make_e2e()
    key = e2e.scenario.keys["realdebrid"]
    e2e.settings.torrentio.url = SecretStr(f"http://torrentio.sandbox/qualityfilter=480p,scr,cam|realdebrid={key}")
    report = await e2e.run()
    assert e2e.account() == kept(e2e)
    assert result_of(report, 101).chosen == [NOTLD_1080]
    assert result_of(report, 106).state is RequestState.DOWNLOADING
    assert e2e.rd.add_attempts[e2e.hash(HAUNT_2013)] == 0
    # Streams arrived with /resolve/ URLs and no infoHash: hashes came from the URLs.
    calls = e2e.torrentio.stream_calls()
    assert calls and all(f"realdebrid={key}" in (c.config or "") for c in calls)
    async with httpx.AsyncClient(transport=e2e.world.transport("torrentio"), base_url="http://torrentio.sandbox") as c:
        raw = (await c.get(f"/realdebrid={key}/stream/movie/tt6644200.json")).json()["streams"]
    assert raw and all("infoHash" not in s and "/resolve/realdebrid/" in s["url"] for s in raw)
    async with e2e.store() as session:
        [row] = await repo.torrents_of_item(session, "movie:572802")
    assert row.info_hash == e2e.hash(HAUNT_2019)


async def test_without_uncached_downloads_the_uncached_movie_ends_with_no_release(make_e2e: Factory) -> None:
    e2e = make_e2e(acquire={"allow_uncached": False})
    report = await e2e.run(only={106})
    result = result_of(report, 106)
    assert result.state is RequestState.NO_RELEASE
    assert "uncached downloads are off" in result.reason
    assert not [t for t in e2e.rd.listing() if t.magnet_name.startswith("Dune")]
    assert e2e.account() == {HAND_ADDED}
    async with e2e.store() as session:
        rows = await repo.torrents_of_item(session, "movie:438631")
    assert {r.state for r in rows} <= {TorrentState.DELETED, TorrentState.FAILED}


async def test_max_probes_caps_the_probes_per_phase(make_e2e: Factory) -> None:
    e2e = make_e2e(acquire={"max_probes": 1})
    report = await e2e.run(only={106, 104})
    # Dune: one probe in rank order (refused), then the one uncached pick; the 720p copy is never added.
    assert e2e.rd.add_attempts[e2e.hash(DUNE_REMUX)] == 1
    assert e2e.rd.add_attempts[e2e.hash(DUNE_X265)] == 1
    assert e2e.rd.add_attempts[e2e.hash(DUNE_720)] == 0
    assert result_of(report, 106).state is RequestState.DOWNLOADING
    # Breaking Bad: one pack probe, then one probe per missing episode.
    bb = {
        h: n for h, n in e2e.rd.add_attempts.items() if (r := e2e.scenario.release_by_hash(h)) and "Breaking" in r.name
    }
    assert sum(bb.values()) == 4 and max(bb.values()) == 1


async def test_five_probes_by_default_try_the_next_release(demo: E2E) -> None:
    """The counterpart of the cap: with the default, the 720p Dune copy is probed once the refusal is seen."""
    await demo.run(only={106})
    assert demo.rd.add_attempts[demo.hash(DUNE_720)] == 1
    assert demo.rd.torrents_with_hash(demo.hash(DUNE_720)) == []


async def test_a_bad_hash_is_remembered_across_a_restart(make_e2e: Factory) -> None:
    e2e = make_e2e(acquire={"allow_uncached": False})
    remux = e2e.hash(DUNE_REMUX)
    await e2e.run(only={106})
    assert e2e.rd.add_attempts[remux] == 1
    x265_before = e2e.rd.add_attempts[e2e.hash(DUNE_X265)]

    report = await e2e.run(only={106})  # a new bridge on the same store
    assert e2e.rd.add_attempts[remux] == 1
    assert e2e.rd.add_attempts[e2e.hash(DUNE_X265)] == x265_before + 1  # the others are probed again
    assert result_of(report, 106).state is RequestState.NO_RELEASE
    latest = (await decisions(e2e, 106))[-1]
    reasons = payload_by_name(latest.payload)[DUNE_REMUX]["reasons"]
    assert isinstance(reasons, list) and str(reasons[0]).startswith("bad_hash:")


async def test_a_video_file_under_the_configured_floor_is_not_kept(make_e2e: Factory) -> None:
    # Real-Debrid's own file sizes are judged (Torrentio's figure can hide a fake): with the floor raised above
    # every copy of the film, each probe finds no real video and nothing stays in the account.
    e2e = make_e2e(acquire={"min_movie_file_mb": 2000})
    report = await e2e.run(only={101})
    assert result_of(report, 101).chosen == []
    assert e2e.rd.torrents_with_hash(e2e.hash(NOTLD_1080)) == []
    [decision] = await decisions(e2e, 101)
    probe = str(payload_by_name(decision.payload)[NOTLD_1080]["probe"])
    assert probe.startswith("no wanted files (no video file reaches the 2,000 MB a movie file needs (largest: ")


def _second_dune_request(data: dict[str, object]) -> None:
    requests = data["requests"]
    assert isinstance(requests, list)
    requests.append({"id": 110, "tmdb_id": 438631, "status": "approved", "requested_by": "dave"})


async def test_two_requests_for_a_downloading_movie_both_say_downloading(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=_second_dune_request, run={"concurrency": 2})
    report = await e2e.run(only={106, 110})
    assert result_of(report, 106).state is RequestState.DOWNLOADING
    assert result_of(report, 110).state is RequestState.DOWNLOADING
    assert e2e.rd.add_count(e2e.hash(DUNE_X265)) == 1
    assert [t.hash for t in e2e.rd.listing() if t.magnet_name.startswith("Dune")] == [e2e.hash(DUNE_X265)]


async def test_two_requests_for_a_movie_with_nothing_cached_probe_once(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=_second_dune_request, run={"concurrency": 2}, acquire={"allow_uncached": False})
    report = await e2e.run(only={106, 110})
    assert result_of(report, 106).state is result_of(report, 110).state is RequestState.NO_RELEASE
    assert result_of(report, 110).reason == result_of(report, 106).reason
    dune = {h: n for h, n in e2e.rd.add_attempts.items() if "Dune" in e2e.scenario.release_by_hash(h).name}  # type: ignore[union-attr]
    assert dune == {e2e.hash(DUNE_REMUX): 1, e2e.hash(DUNE_X265): 1, e2e.hash(DUNE_720): 1}
    assert len(e2e.torrentio.stream_calls("tt1160419")) == 1
    assert len(await decisions(e2e, 110)) == 1  # the second request shows the same decision


async def test_a_second_pass_logs_only_the_requests_whose_outcome_changed(demo: E2E) -> None:
    """Settled requests are looked at every poll until Seerr marks them available; the log says only what moved."""
    with capture_logs() as first:
        await demo.run()
    assert {e["id"] for e in first if e["event"] == "request" and e["log_level"] == "info"} == set(range(101, 109))
    with capture_logs() as second:
        await demo.run()
    said = [e for e in second if e["event"] == "request"]
    assert said and all(e["log_level"] == "debug" for e in said), said


def _radarr_unreachable(data: dict[str, Any]) -> None:
    """Seerr has a default Radarr that does not answer, and no requests of its own yet."""
    data.setdefault("seerr", {})["radarr"] = "unreachable"
    data["requests"] = []


async def test_a_request_seerr_marked_failed_for_its_radarr_push_is_still_worked(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=_radarr_unreachable)
    row = e2e.world.seerr_state.add_request(HAUNT_TMDB, approved=True)
    assert row.status == 4  # approved, then FAILED: Seerr's push to its Radarr failed
    report = await e2e.run()
    result = result_of(report, row.id)
    assert result.state is RequestState.FULFILLED, result.reason
    assert "Seerr marked it failed" in result.reason
    assert e2e.hash(HAUNT_2019) in e2e.account()
    record = await request_record(e2e, row.id)
    assert record.reason is not None and "Radarr" in record.reason


async def test_item_locks_outlive_the_poll_cycle_that_took_them(demo: E2E) -> None:
    """Work on an item begun in one poll cycle still holds it when the next cycle's context is made, so a webhook
    and the next poll never work one film at once."""
    async with demo.bridge() as bridge:
        first = await bridge.new_context(CallLedger())
        second = await bridge.new_context(CallLedger())
        async with first.lock("movie:10331"):
            waiting = asyncio.ensure_future(second.lock("movie:10331").__aenter__())
            await asyncio.sleep(0)
            assert not waiting.done()  # the second cycle waits for the first's work on the item
        await asyncio.wait_for(waiting, 1)


async def test_explaining_a_served_request_shows_the_decision_that_served_it(demo: E2E) -> None:
    """`explain --request` for a request already on Real-Debrid: not only "nothing to search", but why this release,
    what else was weighed, what was refused and why, and the probe outcomes."""
    from seerbridge.pipeline.explain_live import explain_request

    await demo.run()
    async with demo.bridge() as bridge:
        live = await explain_request(bridge, 101)
    assert live.items == []  # nothing to search: it is served
    (decision,) = live.decided
    assert decision.item_key == "movie:10331" and decision.summary == f"cached: {NOTLD_1080}"
    body = live.as_json()["decided"][0]
    winner = body["candidates"][0]
    assert (winner["name"], winner["accepted"], winner["probe"]) == (NOTLD_1080, True, "cached")
    others = body["candidates"][1:]  # what else was weighed, each with its verdict, reasons and probe outcome
    assert others and all({"accepted", "reasons", "probe"} <= set(c) for c in others)
    assert any(c["probe"] == "not probed" for c in others)
