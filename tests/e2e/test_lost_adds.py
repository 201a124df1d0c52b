"""Adds whose answer was lost: Real-Debrid acted, seerbridge never heard. However late the torrent shows up, the
account ends with one copy of the hash, never two, and nothing seerbridge forgot about."""

from __future__ import annotations

import asyncio

import pytest

from seerbridge.domain.media import MediaKind, Title, Wanted
from seerbridge.errors import ServiceError
from seerbridge.services.calls import CallLedger
from seerbridge.store import repo
from tests.e2e.conftest import E2E, Factory

NOTLD_1080 = "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-EXAMPLE"
HANG_S = 2.0  # far beyond the client's 0.5 s timeout: the add is done long before its answer would leave


async def test_a_lost_add_settled_later_in_the_same_cycle_leaves_one_copy(make_e2e: Factory) -> None:
    """The add times out but Real-Debrid adds the torrent a moment later; a probe of the same hash in the same
    cycle must see it (a fresh lookup, not the cycle's listing taken before the add) and add nothing twice."""
    e2e = make_e2e(realdebrid={"timeout_s": 0.5})
    winner = e2e.hash(NOTLD_1080)
    await _lost_add_then_probe_again(e2e, winner)
    assert len(e2e.rd.torrents_with_hash(winner)) == 1, e2e.rd.hashes()


async def _lost_add_then_probe_again(e2e: E2E, winner: str) -> None:
    async with e2e.bridge() as bridge:
        ctx = await bridge.new_context(CallLedger())
        title = Title(MediaKind.MOVIE, 10331, "Night of the Living Dead", year=1968, imdb_id="tt0063350")
        wanted = Wanted(title)
        judge = bridge.judge("standard", frozenset(), ctx.today)
        verdicts = judge(await bridge.searcher.movie("tt0063350"), wanted)
        (verdict,) = [v for v in verdicts if v.candidate.info_hash == winner]
        assert await ctx.prober._account.with_hash(winner) == []  # the cycle's listing, taken before any add
        async with bridge.sessions.begin() as session:  # the rows a request's work writes before it probes
            await repo.upsert_request(
                session, id=101, media_type="movie", tmdb_id=10331, is4k=False, seasons=[], title="NOTLD"
            )
            await repo.upsert_item(
                session, key=wanted.key, kind="movie", tmdb_id=10331, season=None, is4k=False, wanted=[]
            )

        e2e.world.control("realdebrid").set_plan(e2e.world.control("realdebrid").plan.model_copy(
            update={"hang_s": HANG_S, "path_pattern": "addMagnet"}
        ))  # fmt: skip
        e2e.world.control("realdebrid").queue("slow_answer")
        with pytest.raises(ServiceError):
            await ctx.prober.probe(verdict, wanted, request_id=101)
        assert e2e.rd.add_count(winner) == 1  # Real-Debrid added it; seerbridge never heard

        result = await ctx.prober.probe(verdict, wanted, request_id=101)
        assert result.kept, result


async def test_a_copy_real_debrid_adds_after_seerbridge_settled_and_re_added_is_removed(make_e2e: Factory) -> None:
    """The add's gateway gives up (504); the next poll settles the add as never made and adds the hash again; then
    Real-Debrid carries out the first add after all. The next reconcile deletes that late copy: one copy stays."""
    e2e = make_e2e()
    winner = e2e.hash(NOTLD_1080)
    control = e2e.world.control("realdebrid")
    control.set_plan(control.plan.model_copy(update={"hang_s": 0.2, "path_pattern": "addMagnet"}))
    control.queue("acts_late")
    control.late_gate = asyncio.Event()  # "later" is when the test says, not a moment that races the passes
    async with e2e.bridge() as bridge:
        first = await bridge.run_pass(only={101})
        assert first.results[0].state.value == "failed", first.results[0]  # the 504: Real-Debrid did not say
        second = await bridge.run_pass(only={101})  # settles the add as never made, adds the hash again
        assert second.results[0].state.value == "fulfilled", second.results[0]
        control.late_gate.set()
        await asyncio.gather(*control.late)  # Real-Debrid now carries out the first add
        assert len(e2e.rd.torrents_with_hash(winner)) == 2
        await bridge.reconcile()
    assert len(e2e.rd.torrents_with_hash(winner)) == 1, e2e.rd.hashes()
    kept = e2e.rd.torrents_with_hash(winner)[0]
    assert e2e.rd.status_of(kept.id) == "downloaded"  # the copy seerbridge keeps, not the late one
