"""The library's plan (pure): which entry paths exist and which torrent file each points at, from kept torrents."""

from __future__ import annotations

from datetime import UTC, datetime

from seerbridge.domain.states import ItemState, TorrentState
from seerbridge.library.sync import ItemFacts, plan_sync
from seerbridge.store.repo import ItemRecord, LibraryEntryRecord, SelectedFileRecord, TorrentRecord

AT = datetime(2026, 12, 6, tzinfo=UTC)
FOLDER = "shows/Breaking Bad (2008) [tmdbid-1396]"


def season(wanted: tuple[int, ...]) -> ItemRecord:
    return ItemRecord(
        key="show:1396:s02",
        kind="season",
        tmdb_id=1396,
        season=2,
        is4k=False,
        wanted=wanted,
        done=(11, 12, 13),
        state=ItemState.FULFILLED,
        reason=None,
        updated_at=AT,
        library_folder=FOLDER,
    )


def torrent(n: int, episode: int, *, state: TorrentState = TorrentState.DOWNLOADED) -> TorrentRecord:
    name = f"Breaking.Bad.S02E{episode}.1080p.BluRay.x264-EXAMPLE"
    return TorrentRecord(
        id=n,
        info_hash=f"{n:040x}",
        rd_id=f"RD{n}",
        name=name,
        item_key="show:1396:s02",
        request_id=104,
        season=2,
        episodes=(episode,),
        file_ids=(1,),
        cached=True,
        adopted=False,
        state=state,
        size_bytes=1,
        added_at=AT,
        updated_at=AT,
        files=(SelectedFileRecord(1, f"/{name}.mkv", 1_400_000_000),),
    )


def entry(n: int, episode: int, torrent_id: int) -> LibraryEntryRecord:
    rel = f"{FOLDER}/Season 02/Breaking Bad S02E{episode}.mkv"
    name = f"/Breaking.Bad.S02E{episode}.1080p.BluRay.x264-EXAMPLE.mkv"
    return LibraryEntryRecord(n, "show:1396:s02", rel, (episode,), torrent_id, 1, name, None, None, AT, AT)


def test_every_kept_torrent_brings_its_entries() -> None:
    plan = plan_sync([ItemFacts(season((11, 12, 13)), (torrent(3, 13), torrent(2, 12), torrent(1, 11)))], [])
    assert sorted(w.spec.rel_path for w in plan.put) == [
        f"{FOLDER}/Season 02/Breaking Bad S02E{n}.mkv" for n in (11, 12, 13)
    ]
    assert plan.drop == []


def test_an_item_that_now_wants_fewer_episodes_keeps_the_entries_of_the_ones_it_holds() -> None:
    """Working a request again narrows the item's `wanted` to what Jellyfin lacks; what is kept keeps its entry."""
    recorded = [entry(1, 11, 1), entry(2, 12, 2), entry(3, 13, 3)]
    facts = [ItemFacts(season((12, 13)), (torrent(3, 13), torrent(2, 12), torrent(1, 11)))]
    plan = plan_sync(facts, recorded)
    assert plan.put == [] and plan.drop == []


def test_a_deleted_torrent_loses_its_entry_and_a_vanished_one_keeps_it_for_the_repair() -> None:
    recorded = [entry(1, 11, 1), entry(2, 12, 2)]
    facts = [
        ItemFacts(
            season((11, 12)), (torrent(2, 12, state=TorrentState.FAILED), torrent(1, 11, state=TorrentState.DELETED))
        )
    ]
    plan = plan_sync(facts, recorded)
    assert [e.rel_path for e in plan.drop] == [recorded[0].rel_path]


def test_a_torrent_about_to_be_deleted_hands_its_path_to_another_copy() -> None:
    recorded = [entry(1, 11, 1)]
    facts = [ItemFacts(season((11,)), (torrent(5, 11), torrent(1, 11)))]
    assert plan_sync(facts, recorded).put[0].torrent_id == 5  # the newest copy wins anyway
    plan = plan_sync([ItemFacts(season((11,)), (torrent(1, 11),))], recorded, excluding=frozenset({1}))
    assert [e.rel_path for e in plan.drop] == [recorded[0].rel_path] and plan.put == []
