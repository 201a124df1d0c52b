"""`seerbridge cleanup` end to end: the demo after a pass, plus redundant torrents of every kind, some added by hand.

The world: the demo scenario with hand-added torrents (one hash twice; Breaking Bad S02E12 and Haunt, which the
pass adopts instead of adding), one pass of the bridge, then through the emulators and the store: a second copy of
a hash seerbridge added, two upgrades (one past its hold, one still in it), the Breaking Bad S02 pack downloaded
beside the single episodes, and two requests deleted in Seerr.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from seerbridge.domain.states import TorrentState
from seerbridge.domain.transitions import TorrentEvent
from seerbridge.pipeline.cleanup import CleanupPlan, Spared, apply_cleanup, plan_cleanup
from seerbridge.sandbox.middleware import FaultPlan
from seerbridge.sandbox.scenario import load_scenario
from seerbridge.sandbox.serve import running_in_thread
from seerbridge.store import history, repo
from tests.cli_runner import invoke
from tests.e2e.conftest import E2E, Factory

NOTLD = "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-EXAMPLE"
HAUNT = "Haunt.2019.1080p.WEB-DL.DD5.1.H264-EXAMPLE"
SEVERANCE_S02 = "Severance.S02.1080p.ATVP.WEB-DL.DDP5.1.H.264-EXAMPLE"
BB_PACK = "Breaking.Bad.S02.1080p.BluRay.x264-EXAMPLE"
BB_E11 = "Breaking.Bad.S02E11.1080p.BluRay.x264-EXAMPLE"
BB_E12 = "Breaking.Bad.S02E12.1080p.BluRay.x264-EXAMPLE"
BB_E13 = "Breaking.Bad.S02E13.720p.HDTV.x264-EXAMPLE"
LK_E01 = "The.Lighthouse.Keepers.S01E01.1080p.WEB-DL.H264-EXAMPLE"
LK_E01_UHD = "The.Lighthouse.Keepers.S01E01.2160p.WEB-DL.DV.HDR.H.265-EXAMPLE"
LK_E04 = "The.Lighthouse.Keepers.S01E04.1080p.WEB-DL.H264-EXAMPLE"
LK_E04_UHD = "The.Lighthouse.Keepers.S01E04.2160p.WEB-DL.DV.HDR.H.265-EXAMPLE"
FAMILY = "Family.Trip.2023.1080p.WEB-DL-HOME"
FAMILY_HASH = hashlib.sha1(b"family trip").hexdigest()

runner = CliRunner()


def _demo_hash(name: str) -> str:
    return next(r.info_hash for r in load_scenario("demo").releases if r.name == name)


def _edit(data: dict[str, Any]) -> None:
    data["realdebrid"]["torrents"] += [
        {"hash": FAMILY_HASH, "name": FAMILY, "size": "3 GB"},
        {"hash": FAMILY_HASH, "name": FAMILY, "size": "3 GB"},
        {"hash": _demo_hash(BB_E12), "name": BB_E12, "size": "1.4 GB"},
        {"hash": _demo_hash(HAUNT), "name": HAUNT, "size": "4 GB"},
    ]
    # A 2160p copy of E01 to upgrade to (like E04's, the standard profile refuses it in the pass).
    data["releases"].append(
        {"imdb_id": "tt27497448", "name": LK_E01_UHD, "seeders": 500, "size": 7 * 1024**3, "covers": {1: [1]}}
    )


@dataclass(frozen=True)
class World:
    """The Real-Debrid ids the tests talk about."""

    notld: str  # seerbridge's copy, from the pass
    notld_copy: str  # the second copy seerbridge "added"
    family_old: str
    family_new: str
    e01: str
    e04: str
    e11: str
    e12: str  # hand-added, adopted by the pass
    e13: str
    severance: str
    haunt: str  # hand-added, adopted by the pass
    home_movies: str  # the demo's own hand-added torrent
    upgraded_at: datetime


async def _row(
    e2e: E2E, name: str, rd_id: str, *, item_key: str, request_id: int, season: int | None, episodes: list[int]
) -> int:
    """A kept row of ours for a torrent put in the account by the test, as a probe would have left it."""
    now = e2e.world.clock.now()
    async with e2e.bridge() as bridge, bridge.sessions.begin() as session:
        row_id = await repo.record_intent(
            session,
            info_hash=e2e.hash(name),
            name=name,
            item_key=item_key,
            request_id=request_id,
            season=season,
            episodes=episodes,
            file_ids=[1],
            size_bytes=None,
            now=now,
        )
        await repo.mark_added(session, row_id, rd_id, now=now)
        await repo.set_torrent_state(session, row_id, TorrentEvent.CACHED, cached=True, now=now)
    return row_id


async def _rows_by_name(e2e: E2E) -> dict[str, repo.TorrentRecord]:
    async with e2e.store() as session:
        rows = await repo.all_torrents(session)
    return {r.name: r for r in rows if r.state is TorrentState.DOWNLOADED}


async def build(make_e2e: Factory, *, upgraded_at: datetime | None = None, **settings: Any) -> tuple[E2E, World]:
    """The world of the module docstring. Upgrades are dated from `upgraded_at` (default: the emulators' clock)."""
    e2e = make_e2e(edit=_edit, **settings)
    report = await e2e.run()
    assert {r.request_id for r in report.results if r.state.value != "fulfilled"} == {106, 107}
    rd = e2e.rd
    kept = await _rows_by_name(e2e)
    assert kept[BB_E12].adopted and kept[HAUNT].adopted and not kept[BB_E11].adopted

    notld_copy = rd.add_torrent(e2e.hash(NOTLD), status="downloaded")
    await _row(e2e, NOTLD, notld_copy, item_key="movie:10331", request_id=108, season=None, episodes=[])

    pack = rd.add_torrent(e2e.hash(BB_PACK), status="downloaded")
    await _row(e2e, BB_PACK, pack, item_key="show:1396:s02", request_id=104, season=2, episodes=[11, 12, 13])

    upgraded = upgraded_at or e2e.world.clock.now()
    for old, new, minutes in ((LK_E04, LK_E04_UHD, 45), (LK_E01, LK_E01_UHD, 5)):
        new_rd = rd.add_torrent(e2e.hash(new), status="downloaded")
        episode = int(new.split("S01E")[1][:2])
        new_row = await _row(e2e, new, new_rd, item_key="show:250307:s01", request_id=105, season=1, episodes=[episode])
        async with e2e.store() as session:
            await repo.supersede(session, kept[old].id, new_row, now=upgraded - timedelta(minutes=minutes))
            await session.commit()

    e2e.world.seerr_state.delete_request(103)  # Severance S02: ours
    e2e.world.seerr_state.delete_request(102)  # Haunt: adopted (added by hand)

    family = sorted(rd.torrents_with_hash(FAMILY_HASH), key=lambda t: t.added)
    home = rd.torrents_with_hash(load_scenario("demo").realdebrid.torrents[0].hash)
    return e2e, World(
        notld=kept[NOTLD].rd_id or "",
        notld_copy=notld_copy,
        family_old=family[0].id,
        family_new=family[1].id,
        e01=kept[LK_E01].rd_id or "",
        e04=kept[LK_E04].rd_id or "",
        e11=kept[BB_E11].rd_id or "",
        e12=kept[BB_E12].rd_id or "",
        e13=kept[BB_E13].rd_id or "",
        severance=kept[SEVERANCE_S02].rd_id or "",
        haunt=kept[HAUNT].rd_id or "",
        home_movies=home[0].id,
        upgraded_at=upgraded,
    )


def expected_doomed(w: World) -> set[tuple[str, str]]:
    return {
        ("duplicates", w.notld_copy),
        ("superseded", w.e04),
        ("covered_episodes", w.e11),
        ("covered_episodes", w.e13),
        ("deleted_media", w.severance),
    }


def expected_left_alone(w: World) -> set[tuple[str, str, Spared]]:
    return {
        ("duplicates", w.family_new, Spared.HAND_ADDED),
        ("superseded", w.e01, Spared.WAITING),
        ("covered_episodes", w.e12, Spared.HAND_ADDED),
        ("deleted_media", w.haunt, Spared.HAND_ADDED),
    }


async def plan_of(e2e: E2E) -> CleanupPlan:
    async with e2e.bridge() as bridge:
        return await plan_cleanup(bridge)


def doomed_of(plan: CleanupPlan) -> set[tuple[str, str]]:
    return {(d.rule, d.rd_id) for d in plan.doomed}


def account_ids(e2e: E2E) -> set[str]:
    return {t.id for t in e2e.rd.listing()}


async def test_plan_finds_exactly_the_redundant_torrents_and_spares_hand_added_ones(make_e2e: Factory) -> None:
    e2e, w = await build(make_e2e)
    plan = await plan_of(e2e)

    assert doomed_of(plan) == expected_doomed(w)
    assert {(x.rule, x.rd_id, x.spared) for x in plan.left_alone} == expected_left_alone(w)
    assert plan.notes == ()
    assert all(d.ours for d in plan.doomed)
    listing = {t.id: t for t in e2e.rd.listing()}
    assert {d.rd_id: d.size_bytes for d in plan.doomed} == {
        d.rd_id: listing[d.rd_id].selected_bytes for d in plan.doomed
    }
    assert plan.size_bytes == sum(listing[d.rd_id].selected_bytes for d in plan.doomed)

    why = {d.rd_id: d.reason for d in plan.doomed}
    assert why[w.e04] == f"replaced by {LK_E04_UHD}"
    assert why[w.e11] == f"S02E11 covered by {BB_PACK} (S02E11-E13)"
    assert why[w.e13] == f"S02E13 covered by {BB_PACK} (S02E11-E13)"
    assert why[w.severance] == "request 103 no longer in Seerr"
    assert why[w.notld_copy] == f"another copy of this hash stays: {w.notld} (the copy seerbridge uses)"
    spared = {x.rd_id: x for x in plan.left_alone}
    assert spared[w.e12].detail == 'cleanup.include_hand_added = ["covered_episodes"] would include it'
    assert spared[w.haunt].reason == "request 102 no longer in Seerr"
    assert spared[w.e01].until == w.upgraded_at - timedelta(minutes=5) + timedelta(minutes=30)
    assert spared[w.e01].detail == "kept 30 minutes after the upgrade"


async def test_apply_removes_exactly_the_plan_and_records_why(make_e2e: Factory) -> None:
    e2e, w = await build(make_e2e)
    before = account_ids(e2e)
    async with e2e.bridge() as bridge:
        plan = await plan_cleanup(bridge)
        outcome = await apply_cleanup(bridge, plan)

    doomed = {rd_id for _, rd_id in expected_doomed(w)}
    assert outcome.ok and {d.rd_id for d in outcome.deleted} == doomed and not outcome.already_gone
    assert account_ids(e2e) == before - doomed
    assert {w.family_old, w.family_new, w.e12, w.haunt, w.home_movies, w.notld, w.e01} <= account_ids(e2e)
    assert outcome.bytes_freed == plan.size_bytes > 0

    async with e2e.store() as session:
        removals = await history.list_removals(session)
        rows = await repo.all_torrents(session)
    assert {(r.rule, r.rd_id) for r in removals} == expected_doomed(w)
    by_rd = {d.rd_id: d for d in plan.doomed}
    for removal in removals:
        planned = by_rd[removal.rd_id]
        assert (removal.reason, removal.size_bytes, removal.ours) == (planned.reason, planned.size_bytes, True)
        assert removal.torrent_id is not None and removal.request_id is not None
    states = {r.rd_id: r.state for r in rows if r.rd_id in doomed}
    assert set(states.values()) == {TorrentState.DELETED}
    assert {r.rd_id for r in rows if r.state is TorrentState.DOWNLOADED} >= {w.notld, w.e12, w.haunt, w.e01}

    second = await plan_of(e2e)
    assert second.doomed == ()
    assert {(x.rule, x.rd_id, x.spared) for x in second.left_alone} == expected_left_alone(w)


async def test_opting_in_plans_the_hand_added_duplicate_only(make_e2e: Factory) -> None:
    e2e, w = await build(make_e2e, cleanup={"include_hand_added": ["duplicates"]})
    plan = await plan_of(e2e)

    assert doomed_of(plan) == expected_doomed(w) | {("duplicates", w.family_new)}
    hand_added = [d for d in plan.doomed if not d.ours]
    assert [(d.rd_id, d.torrent_id) for d in hand_added] == [(w.family_new, None)]
    assert hand_added[0].reason == f"another copy of this hash stays: {w.family_old} (downloaded, the oldest such copy)"
    assert {x.rd_id for x in plan.left_alone} == {w.e01, w.e12, w.haunt}

    async with e2e.bridge() as bridge:
        outcome = await apply_cleanup(bridge, plan)
    assert outcome.ok
    assert [t.id for t in e2e.rd.torrents_with_hash(FAMILY_HASH)] == [w.family_old]
    async with e2e.store() as session:
        removals = await history.list_removals(session)
    assert {(r.rd_id, r.ours, r.torrent_id is None) for r in removals if r.rule == "duplicates"} == {
        (w.notld_copy, True, False),
        (w.family_new, False, True),
    }


async def test_a_seerr_outage_skips_deleted_media_and_deletes_nothing_for_it(make_e2e: Factory) -> None:
    e2e, w = await build(make_e2e)
    e2e.world.control("seerr").set_plan(FaultPlan(error_rate=1.0))
    plan = await plan_of(e2e)

    assert doomed_of(plan) == expected_doomed(w) - {("deleted_media", w.severance)}
    assert not any(x.rule == "deleted_media" for x in plan.left_alone)
    assert len(plan.notes) == 1 and plan.notes[0].startswith("deleted_media skipped: Seerr could not be asked")

    async with e2e.bridge() as bridge:
        outcome = await apply_cleanup(bridge, plan)
    assert outcome.ok and w.severance in account_ids(e2e) and w.haunt in account_ids(e2e)
    async with e2e.store() as session:
        assert not [r for r in await history.list_removals(session) if r.rule == "deleted_media"]


async def test_a_wrong_seerr_url_is_not_read_as_deleted_media(make_e2e: Factory) -> None:
    e2e, w = await build(make_e2e)
    e2e.settings.seerr.url += "/not-seerr"  # every path 404s, like a reverse proxy without the right prefix
    plan = await plan_of(e2e)
    assert doomed_of(plan) == expected_doomed(w) - {("deleted_media", w.severance)}
    assert len(plan.notes) == 1 and "HTTP 404" in plan.notes[0]


async def test_a_failed_deletion_is_reported_and_the_rest_go_on(make_e2e: Factory) -> None:
    e2e, w = await build(make_e2e)
    async with e2e.bridge() as bridge:
        plan = await plan_cleanup(bridge)
        assert [d.rd_id for d in plan.doomed].index(w.e11) not in (0, len(plan.doomed) - 1)
        e2e.world.control("realdebrid").set_plan(FaultPlan(error_rate=1.0, path_pattern=f"/delete/{w.e11}$"))
        outcome = await apply_cleanup(bridge, plan)
        e2e.world.control("realdebrid").clear()

    assert [(d.rd_id, "HTTP 503" in error) for d, error in outcome.failed] == [(w.e11, True)]
    assert {d.rd_id for d in outcome.deleted} == {rd_id for _, rd_id in expected_doomed(w)} - {w.e11}
    assert w.e11 in account_ids(e2e)
    async with e2e.store() as session:
        assert w.e11 not in {r.rd_id for r in await history.list_removals(session)}
        e11_row = [r for r in await repo.all_torrents(session) if r.rd_id == w.e11]
    assert [r.state for r in e11_row] == [TorrentState.DOWNLOADED]
    assert doomed_of(await plan_of(e2e)) == {("covered_episodes", w.e11)}


async def test_a_torrent_serving_two_items_goes_only_with_both(make_e2e: Factory) -> None:
    e2e, w = await build(make_e2e)
    # The Severance S02 pack also serves season 1 (request 109, still in Seerr), as if adopted for it.
    async with e2e.store() as session:
        await repo.upsert_request(
            session, id=109, media_type="tv", tmdb_id=95396, is4k=False, seasons=[1], title="Severance"
        )
        await repo.upsert_item(
            session, key="show:95396:s01", kind="season", tmdb_id=95396, season=1, is4k=False, wanted=range(1, 10)
        )
        await repo.link_request_item(session, 109, "show:95396:s01")
        adopted = await repo.record_intent(
            session,
            info_hash=e2e.hash(SEVERANCE_S02),
            name=SEVERANCE_S02,
            item_key="show:95396:s01",
            request_id=109,
            season=1,
            episodes=[1],
            file_ids=[1],
            size_bytes=None,
        )
        await repo.mark_added(session, adopted, w.severance, adopted=True)
        await repo.set_torrent_state(session, adopted, TorrentEvent.CACHED)
        await session.commit()
    assert doomed_of(await plan_of(e2e)) == expected_doomed(w) - {("deleted_media", w.severance)}

    e2e.world.seerr_state.delete_request(109)
    async with e2e.bridge() as bridge:
        plan = await plan_cleanup(bridge)
        assert doomed_of(plan) == expected_doomed(w)
        assert {d.reason for d in plan.doomed if d.rd_id == w.severance} == {"requests 103, 109 no longer in Seerr"}
        assert (await apply_cleanup(bridge, plan)).ok
    async with e2e.store() as session:
        rows = [r for r in await repo.all_torrents(session) if r.rd_id == w.severance]
    assert len(rows) == 2 and {r.state for r in rows} == {TorrentState.DELETED}


def _invoke(args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    return invoke(args, env, monkeypatch, width=250)


def test_cli_prints_the_plan_then_applies_it(make_e2e: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    e2e, w = asyncio.run(build(make_e2e))
    before = account_ids(e2e)
    with running_in_thread(e2e.world) as hosts:
        env = e2e.world.env(hosts) | {
            "SEERBRIDGE_DATABASE__URL": e2e.settings.database.url.get_secret_value(),
            "SEERBRIDGE_LOG__LEVEL": "warning",
            "COLUMNS": "400",  # one line per table row and per entry, for the assertions
        }
        code, out = _invoke(["cleanup"], env, monkeypatch)
        assert code == 0, out
        assert account_ids(e2e) == before
        for _, rd_id in expected_doomed(w):
            assert rd_id in out
        assert f"S02E11 covered by {BB_PACK}" in out
        assert "left alone (added by hand): Breaking.Bad.S02E12" in out
        assert "[covered_episodes] S02E12 covered by" in out
        assert "waiting: The.Lighthouse.Keepers.S01E01.1080p" in out and "deletable from" in out
        plan_json = _plan_json(env, monkeypatch)
        size = plan_json["bytes"]
        assert f"5 torrents, {size / 1024**3:.1f} GB would be freed; run `seerbridge cleanup --apply`" in out

        code, out = _invoke(["cleanup", "--apply"], env, monkeypatch)
        assert code == 0, out
        assert f"5 torrents deleted, {size / 1024**3:.1f} GB freed" in out
        assert account_ids(e2e) == before - {rd_id for _, rd_id in expected_doomed(w)}

        code, out = _invoke(["cleanup"], env, monkeypatch)
        assert code == 0 and "nothing to delete among the" in out


def _plan_json(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    code, out = _invoke(["cleanup", "--json"], env, monkeypatch)
    assert code == 0, out
    data = json.loads(out)
    assert data["applied"] is None
    plan: dict[str, Any] = data["plan"]
    assert plan["count"] == 5 and plan["bytes"] == sum(d["size_bytes"] for d in plan["doomed"])
    return plan


def test_cli_apply_exits_1_when_a_deletion_fails(make_e2e: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    e2e, w = asyncio.run(build(make_e2e))
    with running_in_thread(e2e.world) as hosts:
        env = e2e.world.env(hosts) | {
            "SEERBRIDGE_DATABASE__URL": e2e.settings.database.url.get_secret_value(),
            "COLUMNS": "400",
        }
        e2e.world.control("realdebrid").set_plan(FaultPlan(error_rate=1.0, path_pattern=f"delete/{w.severance}$"))
        code, out = _invoke(["cleanup", "--apply"], env, monkeypatch)
    assert code == 1, out
    assert f"could not delete {SEVERANCE_S02}" in out and "4 torrents deleted" in out
    assert w.severance in account_ids(e2e)
