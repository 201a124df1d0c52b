"""Which kept torrents need repair (pure): gone from the account, in a failed status, or reported by a play; never a
torrent seerbridge did not add, and never one not kept."""

from __future__ import annotations

from datetime import UTC, datetime

from seerbridge.domain.states import TorrentState
from seerbridge.pipeline.repair import find_broken
from seerbridge.services.realdebrid import Torrent, TorrentStatus
from seerbridge.store.repo import TorrentRecord

AT = datetime(2026, 12, 6, tzinfo=UTC)


def row(n: int, *, adopted: bool = False, state: TorrentState = TorrentState.DOWNLOADED) -> TorrentRecord:
    return TorrentRecord(
        id=n,
        info_hash=f"{n:040x}",
        rd_id=f"RD{n}",
        name=f"Film.{n}.1080p",
        item_key=f"movie:{n}",
        request_id=n,
        season=None,
        episodes=(),
        file_ids=(1,),
        cached=True,
        adopted=adopted,
        state=state,
        size_bytes=1,
        added_at=AT,
        updated_at=AT,
    )


def listed(n: int, status: TorrentStatus = TorrentStatus.DOWNLOADED) -> Torrent:
    return Torrent(id=f"RD{n}", filename=f"Film.{n}", hash=f"{n:040x}", bytes=1, status=status, added=AT)


def test_gone_failed_and_reported_torrents_are_broken_and_nothing_else() -> None:
    rows = [row(1), row(2), row(3), row(4), row(5, adopted=True), row(6, state=TorrentState.DOWNLOADING)]
    listing = {t.id: t for t in (listed(2, TorrentStatus.DEAD), listed(3), listed(4))}
    broken = find_broken(rows, listing, {4: "Real-Debrid: hoster_unavailable"})
    assert [(b.row.id, b.kind, b.in_account) for b in broken] == [
        (1, "vanished", False),
        (2, "dead", True),
        (4, "play_failed", True),
    ]
    assert broken[0].reason == "gone from Real-Debrid: Film.1.1080p"
    assert broken[2].reason == "Real-Debrid: hoster_unavailable: Film.4.1080p"


def test_a_torrent_seerbridge_did_not_add_is_never_repaired() -> None:
    assert find_broken([row(5, adopted=True)], {}, {5: "gone"}) == []
