"""Upgrades end to end: a better cached copy replaces the old one in a safe order, a failed one changes nothing, and
old titles under an age rule are never searched past their profile."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from seerbridge.config import To4kSettings
from seerbridge.domain.states import TorrentState
from seerbridge.pipeline.process import Bridge
from seerbridge.pipeline.upgrade import Upgrader
from seerbridge.runtime.daemon import CLEANUP_KEY, Daemon, StopSignal
from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.serve import running_in_thread
from seerbridge.store import history, repo
from tests.cli_runner import invoke
from tests.e2e.conftest import E2E, Factory

MOVIE, FAILING, OLD_SHOW = 201, 202, 203
BR_720 = "Blade.Runner.2049.2017.720p.BluRay.x264-EXAMPLE"
BR_2160 = "Blade.Runner.2049.2017.2160p.UHD.BluRay.x265.HDR-EXAMPLE"
SICARIO_720 = "Sicario.2015.720p.WEB-DL.H264-EXAMPLE"
SICARIO_1080 = "Sicario.2015.1080p.BluRay.x264-EXAMPLE"
FAWLTY_720 = "Fawlty.Towers.S01.720p.BluRay.x264-EXAMPLE"

SCENARIO: dict[str, Any] = {
    "name": "upgrades",
    "today": "2026-11-24",
    "realdebrid": {"premium_days": 3650},  # the tests move the clock by months
    "media": [
        {"type": "movie", "tmdb_id": 335984, "imdb_id": "tt1856101", "title": "Blade Runner 2049", "year": 2017},
        {"type": "movie", "tmdb_id": 273481, "imdb_id": "tt3397884", "title": "Sicario", "year": 2015},
        {
            "type": "tv",
            "tmdb_id": 2207,
            "imdb_id": "tt0072500",
            "title": "Fawlty Towers",
            "year": 1975,
            "first_air_date": "1975-09-19",
            "seasons": [{"season": 1, "episodes": 6, "first_air_date": "1975-09-19"}],
        },
    ],
    "requests": [
        {"id": MOVIE, "tmdb_id": 335984, "status": "approved"},
        {"id": FAILING, "tmdb_id": 273481, "status": "approved"},
        {"id": OLD_SHOW, "tmdb_id": 2207, "status": "approved", "seasons": [1]},
    ],
    "releases": [
        # Standard profile: only the 720p copy is allowed; the 4K profile prefers the 2160p one.
        {
            "imdb_id": "tt1856101",
            "name": "Blade.Runner.2049.2017.720p.BluRay.x264-EXAMPLE",
            "size": "4 GB",
            "rd": "cached",
        },
        {
            "imdb_id": "tt1856101",
            "name": "Blade.Runner.2049.2017.2160p.UHD.BluRay.x265.HDR-EXAMPLE",
            "size": "40 GB",
            "rd": "cached",
        },
        {"imdb_id": "tt3397884", "name": "Sicario.2015.720p.WEB-DL.H264-EXAMPLE", "size": "2 GB", "rd": "cached"},
        # A better copy is uploaded a week later, but Real-Debrid does not have it.
        {"imdb_id": "tt3397884", "name": SICARIO_1080, "size": "9 GB", "rd": "uncached", "published": "2026-12-01"},
        # An old series: the classic profile's cutoff is 720p; a 2160p copy is there and must never be looked for.
        {
            "imdb_id": "tt0072500",
            "name": "Fawlty.Towers.S01.720p.BluRay.x264-EXAMPLE",
            "size": "6 GB",
            "covers": {1: [1, 2, 3, 4, 5, 6]},
            "rd": "cached",
        },
        {
            "imdb_id": "tt0072500",
            "name": "Fawlty.Towers.S01.2160p.WEB-DL.x265-EXAMPLE",
            "size": "30 GB",
            "covers": {1: [1, 2, 3, 4, 5, 6]},
            "rd": "cached",
        },
    ],
}


def scenario() -> Scenario:
    return Scenario.model_validate(SCENARIO)


def to_4k(**conditions: Any) -> dict[str, Any]:
    return {"to_4k": To4kSettings(enabled=True, **conditions)}


async def kept(e2e: E2E, request_id: int) -> dict[str, repo.TorrentRecord]:
    async with e2e.store() as session:
        rows = await repo.all_torrents(session)
    return {r.name: r for r in rows if r.request_id == request_id and r.state is TorrentState.DOWNLOADED}


async def test_a_720p_movie_is_replaced_by_a_cached_2160p_copy_and_the_old_one_goes_only_after(
    make_e2e: Factory,
) -> None:
    e2e = make_e2e(scenario(), upgrade=to_4k(kinds=["movie"]))
    await e2e.run()
    before = await kept(e2e, MOVIE)
    assert set(before) == {BR_720}
    old = before[BR_720]
    rd = e2e.world.control("realdebrid")
    jellyfin = e2e.world.jellyfin_state
    refreshes = jellyfin.refresh_count

    async with e2e.bridge() as bridge:
        first = await Upgrader(bridge).round(everything=True)
        upgraded = {c.name: c for c in first.upgraded}
        assert set(upgraded) == {BR_720} and upgraded[BR_720].new_name == BR_2160
        assert upgraded[BR_720].profile == "4k"
        # The new copy is downloaded and Jellyfin was told; the old one is still there, within its hold.
        assert {e2e.hash(BR_720), e2e.hash(BR_2160)} <= set(e2e.rd.hashes())
        assert jellyfin.refresh_count == refreshes + 1
        assert not first.removed
        rows = await kept(e2e, MOVIE)
        assert rows[BR_720].superseded_by == rows[BR_2160].id

        e2e.world.clock.advance(29 * 60)
        assert not (await Upgrader(bridge).round()).removed  # the hold (30 minutes) is not over
        e2e.world.clock.advance(2 * 60)
        second = await Upgrader(bridge).round()
    assert [d.info_hash for d in second.removed] == [e2e.hash(BR_720)]
    assert e2e.hash(BR_720) not in e2e.rd.hashes() and e2e.hash(BR_2160) in e2e.rd.hashes()

    # On Real-Debrid, in this order: the new copy added, selected, seen downloaded; only then the old one deleted.
    calls = [(r.method, r.path) for r in rd.log]
    add = max(i for i, (m, p) in enumerate(calls) if m == "POST" and p.endswith("/torrents/addMagnet"))
    delete = next(i for i, (m, p) in enumerate(calls) if m == "DELETE" and p.endswith(f"/{old.rd_id}"))
    assert add < delete
    assert any(m == "GET" and "/torrents/info/" in p for m, p in calls[add:delete])

    async with e2e.store() as session:
        (record,) = await history.list_upgrades(session)
        removals = await history.list_removals(session)
        gone = await repo.get_torrent(session, old.id)
    assert (record.old_name, record.new_name, record.request_id, record.profile) == (BR_720, BR_2160, MOVIE, "4k")
    assert record.new_score > record.old_score
    assert [(r.rule, r.info_hash, r.ours) for r in removals] == [("superseded", e2e.hash(BR_720), True)]
    assert removals[0].reason == f"replaced by {BR_2160}"
    assert gone is not None and gone.state is TorrentState.DELETED
    assert set(await kept(e2e, MOVIE)) == {BR_2160}


async def test_an_upgrade_whose_new_copy_is_not_cached_leaves_the_old_one_untouched(make_e2e: Factory) -> None:
    e2e = make_e2e(scenario(), upgrade={"keep_replaced_minutes": 0.0}, search={"cache_ttl_s": 0})
    await e2e.run()
    (old,) = (await kept(e2e, FAILING)).values()
    assert old.name == SICARIO_720
    assert e2e.hash(SICARIO_1080) not in e2e.rd.add_attempts  # not out yet when the request was worked
    e2e.world.clock.advance(8 * 86400)  # the 1080p copy is out
    async with e2e.bridge() as bridge:
        report = await Upgrader(bridge).round(everything=True)
        (check,) = [c for c in report.checks if c.torrent_id == old.id]
        assert check.outcome == "no better copy cached" and f"{SICARIO_1080}: not cached" in check.detail
        assert not report.removed
        # The probe added the 1080p copy, saw it was not cached and deleted it; the 720p copy stays, as before.
        assert e2e.rd.add_attempts[e2e.hash(SICARIO_1080)] == 1
        assert e2e.hash(SICARIO_1080) not in e2e.rd.hashes()
        assert e2e.hash(SICARIO_720) in e2e.rd.hashes()
        async with e2e.store() as session:
            still = await repo.get_torrent(session, old.id)
            assert await history.list_upgrades(session) == []
            assert await history.list_removals(session) == []
        assert still is not None and still.state is TorrentState.DOWNLOADED and still.superseded_by is None
        assert still.upgrade_next_at is not None  # looked at again later, on the slow schedule

        # Checked again within the revisit period, the copy just found not cached is not probed again.
        again = await Upgrader(bridge).round(everything=True)
        (check,) = [c for c in again.checks if c.torrent_id == old.id]
        assert check.outcome == "no better copy cached" and "not cached lately" in check.detail
        assert e2e.rd.add_attempts[e2e.hash(SICARIO_1080)] == 1
        # After it, it is.
        e2e.world.clock.advance(15 * 86400)
        await Upgrader(bridge).round(everything=True)
    assert e2e.rd.add_attempts[e2e.hash(SICARIO_1080)] == 2


async def test_a_better_copy_downloading_in_the_account_is_left_alone_until_it_is_there(make_e2e: Factory) -> None:
    """The user started the better copy by hand: the upgrade neither adds a second one nor takes theirs over while
    it downloads; once it is downloaded, the next check uses it."""
    e2e = make_e2e(scenario(), search={"cache_ttl_s": 0})
    await e2e.run()
    (old,) = (await kept(e2e, FAILING)).values()
    e2e.world.clock.advance(8 * 86400)  # the 1080p copy is out, and the user adds it by hand
    theirs = e2e.rd.add_torrent(e2e.hash(SICARIO_1080), magnet_name=SICARIO_1080, status="downloading", progress=40)
    async with e2e.bridge() as bridge:
        report = await Upgrader(bridge).round(everything=True)
        (check,) = [c for c in report.checks if c.torrent_id == old.id]
        assert check.outcome == "no better copy cached"
        assert f"{SICARIO_1080}: downloading in the account, not cached yet" in check.detail
        assert e2e.rd.add_attempts.get(e2e.hash(SICARIO_1080), 0) == 0
        async with e2e.store() as session:
            assert not [r for r in await repo.all_torrents(session) if r.info_hash == e2e.hash(SICARIO_1080)]

        e2e.rd.set_status(theirs, "downloaded")
        again = await Upgrader(bridge).round(everything=True)
        (check,) = [c for c in again.checks if c.torrent_id == old.id]
        assert check.outcome == "upgraded" and check.new_name == SICARIO_1080
    assert e2e.rd.hashes().count(e2e.hash(SICARIO_1080)) == 1
    assert e2e.rd.add_attempts.get(e2e.hash(SICARIO_1080), 0) == 0


async def test_an_old_series_at_its_profile_cutoff_is_never_searched_again(make_e2e: Factory) -> None:
    # 4K upgrades are on, but only for titles up to 30 years old: the 1975 series stays in the classic profile.
    e2e = make_e2e(scenario(), upgrade=to_4k(max_age_years=30))
    await e2e.run()
    assert set(await kept(e2e, OLD_SHOW)) == {FAWLTY_720}
    tio = e2e.world.control("torrentio")
    clock = e2e.world.clock
    async with e2e.bridge() as bridge:
        upgrader = Upgrader(bridge)
        searched_before = tio.count(path_pattern="tt0072500")
        for _ in range(6):  # half a year of rounds, each with every torrent due
            report = await upgrader.round(everything=True)
            (check,) = [c for c in report.checks if c.name == FAWLTY_720]
            assert (check.outcome, check.profile) == ("at cutoff", "classic")
            clock.advance(30 * 86400)
        assert tio.count(path_pattern="tt0072500") == searched_before
    assert set(await kept(e2e, OLD_SHOW)) == {FAWLTY_720}


async def test_without_the_age_limit_the_same_series_is_upgraded_to_4k(make_e2e: Factory) -> None:
    """The control for the test above: it is the age rule, not a lack of candidates, that keeps it at 720p."""
    e2e = make_e2e(scenario(), upgrade=to_4k(kinds=["show"]))
    await e2e.run()
    async with e2e.bridge() as bridge:
        report = await Upgrader(bridge).round(everything=True)
    (check,) = [c for c in report.checks if c.name == FAWLTY_720]
    assert check.outcome == "upgraded" and check.new_name == "Fawlty.Towers.S01.2160p.WEB-DL.x265-EXAMPLE"
    new = (await kept(e2e, OLD_SHOW))["Fawlty.Towers.S01.2160p.WEB-DL.x265-EXAMPLE"]
    assert new.episodes == (1, 2, 3, 4, 5, 6)


async def test_checks_are_spread_over_the_revisit_period_and_a_round_takes_only_its_share(make_e2e: Factory) -> None:
    e2e = make_e2e(scenario(), upgrade={"revisit_days": 14.0, "interval_s": 86400.0})
    await e2e.run()
    clock = e2e.world.clock
    tio = e2e.world.control("torrentio")
    async with e2e.bridge() as bridge:
        upgrader = Upgrader(bridge)
        searched = tio.count()
        assert (await upgrader.round()).checks == []  # nothing is due on the day it arrived
        assert tio.count() == searched
        rows = await upgrader.eligible()
        assert len(rows) == 3
        for row in await upgrader.eligible():
            assert row.upgrade_next_at is not None
            wait = (row.upgrade_next_at - row.updated_at).total_seconds() / 86400
            assert 7.0 <= wait <= 14.0
        # Three weeks later all three are due; one daily round of a 14-day revisit takes ceil(2 * 3 / 14) = 1.
        clock.advance(21 * 86400)
        report = await upgrader.round()
        assert len(report.checks) == 1 and report.left_for_later == 2
        checked = report.checks[0].torrent_id
        (row,) = [r for r in await upgrader.eligible() if r.id == checked]
        assert row.upgrade_next_at is not None and row.upgrade_checked_at is not None
        assert (row.upgrade_next_at - row.upgrade_checked_at).days == 14


async def test_the_torrentio_share_ends_a_round_early(make_e2e: Factory) -> None:
    # A budget of 24 calls a day, 10 % for upgrades, in hourly rounds: each round may spend at most one call.
    e2e = make_e2e(scenario(), torrentio={"daily_budget": 24}, search={"cache_ttl_s": 0})
    await e2e.run()
    tio = e2e.world.control("torrentio")
    async with e2e.bridge() as bridge:
        searched = tio.count()
        report = await Upgrader(bridge).round(everything=True)
    # Only the torrents below their cutoff are searched; the first search spends the round's share.
    assert tio.count() - searched == 1
    assert report.left_for_later >= 1


async def test_upgrades_off_checks_nothing_but_still_deletes_what_was_replaced(make_e2e: Factory) -> None:
    e2e = make_e2e(scenario(), upgrade={"enabled": False, **to_4k(kinds=["movie"])})
    await e2e.run()
    async with e2e.bridge() as bridge:
        assert (await Upgrader(bridge).round()).checks == []
        await Upgrader(bridge).round(everything=True)  # by hand (`seerbridge upgrade --all`) it still works
        e2e.world.clock.advance(3600)
        later = await Upgrader(bridge).round()
    assert [d.info_hash for d in later.removed] == [e2e.hash(BR_720)]


async def test_the_daemon_upgrades_then_deletes_the_replaced_copy_and_runs_the_periodic_cleanup(
    make_e2e: Factory,
) -> None:
    e2e = make_e2e(
        scenario(),
        upgrade={"interval_s": 0.05, "keep_replaced_minutes": 0.0, **to_4k(kinds=["movie"])},
        cleanup={"periodic": True},
        server={"enabled": False},
        run={"poll_interval_s": 3600.0},
    )
    await e2e.run()
    e2e.world.clock.advance(15 * 86400)  # every torrent is due
    async with e2e.bridge() as bridge:
        daemon, stop = Daemon(e2e.settings, bridge), StopSignal()
        task = asyncio.create_task(daemon.run(stop))
        deadline = time.monotonic() + 10
        while e2e.hash(BR_720) in e2e.rd.hashes() or not await cleanup_ran(bridge):
            assert time.monotonic() < deadline and not task.done(), "the daemon did not upgrade and clean up"
            await asyncio.sleep(0.02)
        stop.trigger()
        await asyncio.wait_for(task, 5)
    assert e2e.hash(BR_2160) in e2e.rd.hashes()
    async with e2e.store() as session:
        removals = await history.list_removals(session)
    assert [(r.rule, r.info_hash) for r in removals] == [("superseded", e2e.hash(BR_720))]


async def cleanup_ran(bridge: Bridge) -> bool:
    async with bridge.sessions() as session:
        return await repo.get_state(session, CLEANUP_KEY) is not None


def test_the_upgrade_command_runs_one_round(make_e2e: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    e2e = make_e2e(scenario())
    asyncio.run(e2e.run())
    with running_in_thread(e2e.world) as hosts:
        env = e2e.world.env(hosts) | {
            "SEERBRIDGE_DATABASE__URL": e2e.settings.database.url.get_secret_value(),
            "SEERBRIDGE_LOG__LEVEL": "warning",
            "SEERBRIDGE_UPGRADE__TO_4K__ENABLED": "true",
            "SEERBRIDGE_UPGRADE__TO_4K__KINDS": '["movie"]',
            "COLUMNS": "300",
        }
        code, out = invoke(["upgrade"], env, monkeypatch)
        assert code == 0, out
        assert "Nothing was due" in out  # the torrents arrived today: their first checks are days away
        code, out = invoke(["upgrade", "--all"], env, monkeypatch)
    assert code == 0, out
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") >= 4}
    assert "upgraded" in lines[BR_720] and BR_2160 in lines[BR_720]
    assert "nothing better" in lines[SICARIO_720]  # its better copy is not out yet
    assert "at cutoff" in lines[FAWLTY_720]
    assert e2e.hash(BR_2160) in e2e.rd.hashes() and e2e.hash(BR_720) in e2e.rd.hashes()  # deleted after its hold


async def test_an_upgrade_to_4k_keeps_the_requests_own_language_rules(make_e2e: Factory) -> None:
    remux_ita = "Blade.Runner.2049.2017.2160p.UHD.BluRay.REMUX.HDR.HEVC.ITA-EXAMPLE"

    def add_italian_remux(data: dict[str, Any]) -> None:
        data["releases"].append({"imdb_id": "tt1856101", "name": remux_ita, "size": 60 * 1024**3, "rd": "cached"})

    control = make_e2e(scenario(), edit=add_italian_remux, upgrade=to_4k(kinds=["movie"]))
    await control.run()
    async with control.bridge() as bridge:
        (check,) = [c for c in (await Upgrader(bridge).round(everything=True)).upgraded if c.name == BR_720]
    assert check.new_name == remux_ita  # the 4K profile alone prefers the Italian remux

    e2e = make_e2e(scenario(), edit=add_italian_remux, upgrade=to_4k(kinds=["movie"]))
    # Movies requested in HD must not be Italian; the 4K profile says nothing about languages.
    e2e.settings.selection.profiles["standard"] = e2e.settings.selection.profiles["standard"].model_copy(
        update={"languages_excluded": ["it"]}
    )
    await e2e.run()
    async with e2e.bridge() as bridge:
        (check,) = [c for c in (await Upgrader(bridge).round(everything=True)).upgraded if c.name == BR_720]
    assert check.new_name == BR_2160
    assert e2e.hash(remux_ita) not in e2e.rd.add_attempts
