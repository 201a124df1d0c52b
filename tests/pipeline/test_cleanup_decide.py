"""`cleanup.decide` on plain data: the safety rules that the end-to-end scenario does not reach."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from seerbridge.config import CleanupRule, Settings
from seerbridge.domain.states import TorrentState
from seerbridge.pipeline.cleanup import CleanupPlan, Spared, decide, episode_label
from seerbridge.services.realdebrid import Torrent, TorrentStatus
from seerbridge.store.repo import TorrentRecord

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _hash(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()


def torrent(rd_id: str, name: str, *, hours_ago: float = 1, status: str = "downloaded", size: int = 1000) -> Torrent:
    return Torrent(
        id=rd_id,
        filename=name,
        hash=_hash(name),
        bytes=size,
        status=TorrentStatus(status),
        added=NOW - timedelta(hours=hours_ago),
    )


_ids = iter(range(1, 10_000))


def row(
    rd_id: str | None,
    name: str,
    item_key: str,
    *,
    state: TorrentState = TorrentState.DOWNLOADED,
    adopted: bool = False,
    request_id: int | None = 1,
    season: int | None = None,
    episodes: Sequence[int] = (),
    **extra: Any,
) -> TorrentRecord:
    return TorrentRecord(
        id=next(_ids),
        info_hash=_hash(name),
        rd_id=rd_id,
        name=name,
        item_key=item_key,
        request_id=request_id,
        season=season,
        episodes=tuple(episodes),
        file_ids=(1,),
        cached=True,
        adopted=adopted,
        state=state,
        size_bytes=1000,
        added_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(days=1),
        **extra,
    )


def plan(
    account: Sequence[Torrent],
    rows: Sequence[TorrentRecord],
    *,
    rules: Sequence[CleanupRule] | None = None,
    requests: dict[str, frozenset[int]] | None = None,
    gone: frozenset[int] | None = frozenset(),
) -> CleanupPlan:
    settings = Settings()
    if rules is not None:
        settings.cleanup.rules = list(rules)
    return decide(
        account=account, rows=rows, settings=settings, now=NOW, item_requests=requests or {}, gone_requests=gone
    )


def doomed(p: CleanupPlan) -> set[tuple[str, str]]:
    return {(d.rule, d.rd_id) for d in p.doomed}


def spared(p: CleanupPlan) -> set[tuple[str, str, Spared]]:
    return {(x.rule, x.rd_id, x.spared) for x in p.left_alone}


def test_episode_labels_join_runs() -> None:
    assert episode_label(2, [11, 12, 13]) == "S02E11-E13"
    assert episode_label(1, [5, 1, 2, 3]) == "S01E01-E03, E05"
    assert episode_label(3, [7]) == "S03E07"
    assert episode_label(None, [0]) == ""


def test_a_hash_with_a_probe_in_flight_is_not_judged() -> None:
    old, new = torrent("OLD", "Film.2020.1080p", hours_ago=5), torrent("NEW", "Film.2020.1080p")
    rows = [
        row("OLD", "Film.2020.1080p", "movie:1"),
        row(None, "Film.2020.1080p", "movie:1", state=TorrentState.ADDING),
    ]
    p = plan([new, old], rows)
    assert p.doomed == () and p.left_alone == ()
    assert p.notes == ("2 torrent(s) not judged: a probe of their hash is in progress",)

    settled = [rows[0], row("NEW", "Film.2020.1080p", "movie:1", state=TorrentState.FAILED)]
    assert doomed(plan([new, old], settled)) == {("duplicates", "NEW")}


def test_duplicates_keep_the_copy_in_use_and_spare_a_copy_holding_another_item() -> None:
    used, spare_copy, other = (
        torrent("USED", "Show.S01-S02.1080p", hours_ago=1),
        torrent("SPARE", "Show.S01-S02.1080p", hours_ago=9, status="downloading"),
        torrent("OTHER", "Show.S01-S02.1080p", hours_ago=5, status="downloading"),
    )
    rows = [
        row("USED", "Show.S01-S02.1080p", "show:1:s01", season=1, episodes=[1, 2]),
        row("SPARE", "Show.S01-S02.1080p", "show:1:s02", season=2, episodes=[1, 2]),
        row("OTHER", "Show.S01-S02.1080p", "show:1:s01", state=TorrentState.DELETED),
    ]
    p = plan([used, other, spare_copy], rows, rules=["duplicates"])
    # The downloaded copy in use stays although it is the newest; the one holding season 2 stays too.
    assert doomed(p) == {("duplicates", "OTHER")}
    assert spared(p) == {("duplicates", "SPARE", Spared.STILL_NEEDED)}
    assert p.left_alone[0].detail == "it holds show:1:s02, which the copy that stays does not"


def test_superseded_waits_for_a_downloaded_replacement_and_for_every_item_it_serves() -> None:
    long_ago = NOW - timedelta(hours=2)
    new_rows = [
        row("NEW1", "Film.2160p", "movie:1"),
        row("NEW2", "Other.2160p", "movie:2", state=TorrentState.DOWNLOADING),
    ]
    rows = [
        *new_rows,
        row("OLD1", "Film.720p", "movie:1", superseded_by=new_rows[0].id, superseded_at=long_ago),
        row("OLD2", "Other.720p", "movie:2", superseded_by=new_rows[1].id, superseded_at=long_ago),
        row("OLD3", "Pack.720p", "show:3:s01", superseded_by=new_rows[0].id, superseded_at=long_ago),
        row("OLD3", "Pack.720p", "show:3:s02", adopted=True),  # the same torrent, still serving season 2
    ]
    account = [
        torrent("NEW1", "Film.2160p"),
        torrent("NEW2", "Other.2160p", status="downloading"),
        torrent("OLD1", "Film.720p"),
        torrent("OLD2", "Other.720p"),
        torrent("OLD3", "Pack.720p"),
    ]
    p = plan(account, rows, rules=["superseded"])
    assert doomed(p) == {("superseded", "OLD1")}
    assert spared(p) == {("superseded", "OLD2", Spared.WAITING), ("superseded", "OLD3", Spared.STILL_NEEDED)}
    details = {x.rd_id: x.detail for x in p.left_alone}
    assert details == {
        "OLD2": "its replacement is not downloaded on Real-Debrid yet",
        "OLD3": "it still serves show:3:s02",
    }


def test_covered_needs_a_strict_superset_that_is_downloaded() -> None:
    key = "show:1:s01"
    rows = [
        row("E1", "Show.S01E01", key, season=1, episodes=[1]),
        row("E1B", "Show.S01E01.Again", key, season=1, episodes=[1]),  # same set as E1: neither covers the other
        row("E2", "Show.S01E02", key, season=1, episodes=[2]),
        row("PACK", "Show.S01.Part", key, season=1, episodes=[2, 3]),
        row("DL", "Show.S01.Full", key, season=1, episodes=[1, 2, 3], state=TorrentState.DOWNLOADING),
    ]
    account = [
        torrent("E1", "Show.S01E01"),
        torrent("E1B", "Show.S01E01.Again"),
        torrent("E2", "Show.S01E02"),
        torrent("PACK", "Show.S01.Part"),
        torrent("DL", "Show.S01.Full", status="downloading"),
    ]
    p = plan(account, rows, rules=["covered_episodes"])
    assert doomed(p) == {("covered_episodes", "E2")}
    assert p.doomed[0].reason == "S01E02 covered by Show.S01.Part (S01E02-E03)"


def test_deleted_media_needs_every_item_on_the_torrent_gone_and_seerr_answering() -> None:
    rows = [
        row("PACK", "Show.Complete", "show:1:s01", request_id=10, season=1, episodes=[1]),
        row("PACK", "Show.Complete", "show:1:s02", request_id=11, season=2, episodes=[1], adopted=True),
        row("FILM", "Film.2020", "movie:2", request_id=None),  # no request known: never guessed gone
    ]
    account = [torrent("PACK", "Show.Complete"), torrent("FILM", "Film.2020")]
    requests = {"show:1:s01": frozenset({10}), "show:1:s02": frozenset({11}), "movie:2": frozenset[int]()}
    rules: list[CleanupRule] = ["deleted_media"]

    assert plan(account, rows, rules=rules, requests=requests, gone=frozenset({10})).doomed == ()
    both = plan(account, rows, rules=rules, requests=requests, gone=frozenset({10, 11}))
    assert doomed(both) == {("deleted_media", "PACK")}
    assert both.doomed[0].reason == "requests 10, 11 no longer in Seerr"
    assert both.doomed[0].ours and both.doomed[0].torrent_id == rows[0].id
    assert plan(account, rows, rules=rules, requests=requests, gone=None).doomed == ()


def test_rules_run_in_the_configured_order_and_claim_a_torrent_once() -> None:
    key = "show:1:s01"
    rows = [
        row("E1", "Show.S01E01", key, season=1, episodes=[1], request_id=5),
        row("PACK", "Show.S01", key, season=1, episodes=[1, 2], request_id=5),
    ]
    account = [torrent("E1", "Show.S01E01"), torrent("PACK", "Show.S01")]
    requests = {key: frozenset({5})}
    first = plan(account, rows, rules=["covered_episodes", "deleted_media"], requests=requests, gone=frozenset({5}))
    assert doomed(first) == {("covered_episodes", "E1"), ("deleted_media", "PACK")}
    second = plan(account, rows, rules=["deleted_media", "covered_episodes"], requests=requests, gone=frozenset({5}))
    assert doomed(second) == {("deleted_media", "E1"), ("deleted_media", "PACK")}
