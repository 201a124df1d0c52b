"""Bad-hash marks as the account sees them: a stalled or dead download is skipped for a while and then tried again;
a hash Real-Debrid refused (451) is never added again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from seerbridge.domain.states import RequestState
from tests.e2e.conftest import Factory, result_of

DUNE = 106
DUNE_REMUX = "Dune.2021.1080p.BluRay.REMUX.AVC.DTS-HD.MA.5.1-EXAMPLE"  # refused: 451 infringing_file
DUNE_X265 = "Dune.2021.1080p.BluRay.x265.10bit-EXAMPLE"  # uncached: downloads
DUNE_720 = "Dune.2021.720p.WEBRip.x264-EXAMPLE"


def _only_remux_and_x265(data: dict[str, Any]) -> None:
    data["releases"] = [r for r in data["releases"] if r["name"] != DUNE_720]


async def test_a_stalled_hash_is_tried_again_once_its_mark_expires_and_a_refused_one_never(
    make_e2e: Factory,
) -> None:
    e2e = make_e2e(edit=_only_remux_and_x265, follow={"stall_minutes": 60.0})
    clock = e2e.world.clock
    remux, x265 = e2e.hash(DUNE_REMUX), e2e.hash(DUNE_X265)
    days = e2e.settings.acquire.stalled_hash_days
    async with e2e.bridge() as bridge:
        assert result_of(await bridge.run_pass(only={DUNE}), DUNE).state is RequestState.DOWNLOADING
        assert e2e.rd.add_attempts[remux] == 1 and e2e.rd.add_count(x265) == 1
        (torrent,) = e2e.rd.torrents_with_hash(x265)
        e2e.rd.set_status(torrent.id, "downloading", progress=40)
        await bridge.follower.follow()
        clock.advance(61 * 60)
        assert (await bridge.follower.follow()).failed == [x265]
        assert x265 not in e2e.rd.hashes()

        # While the stall mark lasts, nothing acceptable is left: the stalled hash is not added again.
        clock.advance((timedelta(days=days) - timedelta(hours=2)).total_seconds())
        assert result_of(await bridge.run_pass(only={DUNE}), DUNE).state is RequestState.NO_RELEASE
        assert e2e.rd.add_count(x265) == 1 and e2e.rd.add_attempts[remux] == 1

        # Once it expired, the stalled hash is downloaded again; the refused one stays refused.
        clock.advance(2 * 3600)
        assert result_of(await bridge.run_pass(only={DUNE}), DUNE).state is RequestState.DOWNLOADING
        assert e2e.rd.add_count(x265) == 2 and x265 in e2e.rd.hashes()
        assert e2e.rd.add_attempts[remux] == 1


async def test_a_refused_hash_is_still_skipped_months_later(make_e2e: Factory) -> None:
    e2e = make_e2e(acquire={"allow_uncached": False})
    remux = e2e.hash(DUNE_REMUX)
    async with e2e.bridge() as bridge:
        await bridge.run_pass(only={DUNE})
        assert e2e.rd.add_attempts[remux] == 1
        e2e.world.clock.advance(timedelta(days=90).total_seconds())
        await bridge.run_pass(only={DUNE})
    assert e2e.rd.add_attempts[remux] == 1
