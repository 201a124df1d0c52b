"""Real-Debrid as it really answers, with its delays on (they pass on the virtual clock): a cached torrent that reads
`downloading` at 100 % for a moment is still kept as cached, and a release whose metadata converts slowly is added
once, kept, and has its files selected by the follower when the metadata arrives."""

from __future__ import annotations

from seerbridge.domain.states import RequestState, TorrentState
from seerbridge.store import repo
from tests.e2e.conftest import E2E, Factory, result_of

NOTLD = 101
NOTLD_1080 = "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-EXAMPLE"
DUNE = 106
DUNE_X265 = "Dune.2021.1080p.BluRay.x265.10bit-EXAMPLE"


async def _rows(e2e: E2E, info_hash: str) -> list[repo.TorrentRecord]:
    async with e2e.store() as session:
        return await repo.our_torrents_with_hash(session, info_hash)


async def test_a_cached_torrent_still_settling_after_selection_is_kept_as_cached(make_e2e: Factory) -> None:
    e2e = make_e2e()
    e2e.rd.settle_s = 5.0  # longer than one wait between reads: the first read after selectFiles shows 100 %
    report = await e2e.run(only={NOTLD})
    assert result_of(report, NOTLD).state is RequestState.FULFILLED, result_of(report, NOTLD).reason
    winner = e2e.hash(NOTLD_1080)
    assert e2e.rd.add_count(winner) == 1 and e2e.account() >= {winner}
    assert e2e.rd.status_of(e2e.rd.torrents_with_hash(winner)[0].id) == "downloaded"
    assert e2e.world.control("realdebrid").count("POST", "torrents/delete") == 0


async def test_a_release_whose_metadata_converts_slowly_is_added_once_and_followed(make_e2e: Factory) -> None:
    e2e = make_e2e()
    e2e.rd.conversion_s = 120.0  # far beyond the probe's reads (5 × 2 s)
    x265 = e2e.hash(DUNE_X265)
    async with e2e.bridge() as bridge:
        report = await bridge.run_pass(only={DUNE})
        result = result_of(report, DUNE)
        assert result.state is RequestState.DOWNLOADING, result.reason
        assert e2e.rd.add_count(x265) == 1  # one add: not deleted and added again by the next phase
        (torrent,) = e2e.rd.torrents_with_hash(x265)
        assert e2e.rd.status_of(torrent.id) == "magnet_conversion" and torrent.selected == ()
        (row,) = await _rows(e2e, x265)
        assert row.state is TorrentState.DOWNLOADING and row.file_ids == ()

        e2e.world.clock.advance(120)  # the metadata arrives: the follower selects the film's file
        await bridge.follower.follow()
        assert e2e.files_of(x265) == [f"{DUNE_X265}.mkv"]
        (row,) = await _rows(e2e, x265)
        assert row.file_ids == (1,)

        e2e.world.clock.advance(600)  # downloaded: Real-Debrid holds exactly the one film
        await bridge.follower.follow()
        assert e2e.rd.status_of(torrent.id) == "downloaded"
    assert e2e.rd.add_count(x265) == 1
    rows = await _rows(e2e, x265)
    assert [r.state for r in rows] == [TorrentState.DOWNLOADED]
