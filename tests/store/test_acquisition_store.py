"""Acquisition store: round trips of every repository function on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from seerbridge.domain.states import ItemState, RequestState, TorrentState
from seerbridge.domain.transitions import ItemEvent, RequestEvent, TorrentEvent
from seerbridge.services.calls import CallLedger
from seerbridge.store import repo
from seerbridge.store.db import open_database
from seerbridge.store.models import BadHash

START = RequestEvent.START
T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
H1 = "a" * 40
H2 = "0123456789abcdef0123456789abcdef01234567"

Sessions = async_sessionmaker[Any]


async def _movie_request(sessions: Sessions, rid: int = 7, *, now: datetime = T0) -> None:
    async with sessions.begin() as s:
        await repo.upsert_request(
            s, id=rid, media_type="movie", tmdb_id=603, is4k=False, seasons=[], title="The Matrix", now=now
        )
        await repo.upsert_item(
            s, key="movie:603", kind="movie", tmdb_id=603, season=None, is4k=False, wanted=[], now=now
        )
        await repo.link_request_item(s, rid, "movie:603")


# Requests


async def test_upsert_request_inserts_new_then_refreshes_description_but_keeps_state(sessions: Sessions) -> None:
    async with sessions.begin() as s:
        rec = await repo.upsert_request(
            s, id=11, media_type="tv", tmdb_id=1396, is4k=True, seasons=[2, 1, 2], title="Breaking Bad", now=T0
        )
    assert rec == repo.RequestRecord(
        id=11, media_type="tv", tmdb_id=1396, is4k=True, seasons=(1, 2), title="Breaking Bad", profile=None,
        state=RequestState.NEW, reason=None, last_error=None, attempts=0, first_seen_at=T0, updated_at=T0, calls={},
    )  # fmt: skip
    assert rec.first_seen_at.tzinfo is not None

    async with sessions.begin() as s:
        await repo.set_request_state(s, 11, RequestState.WORKING, event=START, reason="searching", profile="hd", now=T0)
    later = T0 + timedelta(hours=1)
    async with sessions.begin() as s:
        rec = await repo.upsert_request(
            s, id=11, media_type="tv", tmdb_id=1396, is4k=True, seasons=[1, 2, 3], title="Breaking Bad (US)", now=later
        )
    assert rec.seasons == (1, 2, 3)
    assert rec.title == "Breaking Bad (US)"
    assert (rec.state, rec.attempts, rec.reason, rec.profile) == (RequestState.WORKING, 1, "searching", "hd")
    assert (rec.first_seen_at, rec.updated_at) == (T0, T0)  # a refresh is not a change of state
    async with sessions() as s:
        assert await repo.get_request(s, 11) == rec
        assert await repo.get_request(s, 12) is None


async def test_set_request_title_renames_without_touching_state(sessions: Sessions) -> None:
    await _movie_request(sessions)
    async with sessions.begin() as s:
        await repo.set_request_state(s, 7, RequestState.WORKING, event=START, reason="searching", profile="hd", now=T0)
        rec = await repo.set_request_title(s, 7, "The Matrix (1999)")
        again = await repo.set_request_title(s, 7, "The Matrix (1999)", profile="uhd")
    assert (rec.title, rec.profile, rec.state, rec.reason, rec.updated_at) == (
        "The Matrix (1999)", "hd", RequestState.WORKING, "searching", T0,
    )  # fmt: skip
    assert again.profile == "uhd"
    async with sessions() as s:
        assert await repo.get_request(s, 7) == again


async def test_upsert_request_rejects_unknown_media_type(sessions: Sessions) -> None:
    async with sessions.begin() as s:
        with pytest.raises(ValueError, match="media_type"):
            await repo.upsert_request(s, id=1, media_type="show", tmdb_id=1, is4k=False, seasons=[], title="x")


async def test_set_request_state_counts_attempts_and_keeps_the_last_error(sessions: Sessions) -> None:
    await _movie_request(sessions)
    async with sessions.begin() as s:
        await repo.set_request_state(s, 7, RequestState.WORKING, event=START, now=T0 + timedelta(minutes=1))
        rec = await repo.set_request_state(
            s, 7, RequestState.FAILED, event=RequestEvent.FAIL, reason="Real-Debrid unreachable",
            error="ServiceUnreachable: realdebrid",
            now=T0 + timedelta(minutes=2),
        )  # fmt: skip
    assert (rec.state, rec.attempts, rec.last_error) == (RequestState.FAILED, 1, "ServiceUnreachable: realdebrid")
    async with sessions.begin() as s:
        await repo.set_request_state(
            s, 7, RequestState.WORKING, event=START, reason="retry", now=T0 + timedelta(minutes=3)
        )
        rec = await repo.set_request_state(
            s, 7, RequestState.FULFILLED, event=RequestEvent.SETTLE, now=T0 + timedelta(minutes=4)
        )
    assert rec.attempts == 2
    assert rec.reason is None  # reason replaced (cleared), not kept
    assert rec.last_error == "ServiceUnreachable: realdebrid"  # the last error stays visible
    assert rec.updated_at == T0 + timedelta(minutes=4)
    assert rec.state.settled and not RequestState.WORKING.settled
    async with sessions() as s:
        assert await repo.get_request(s, 7) == rec
    async with sessions.begin() as s:
        with pytest.raises(repo.NotInStore):
            await repo.set_request_state(s, 999, RequestState.WORKING, event=START)


async def test_list_requests_newest_change_first(sessions: Sessions) -> None:
    async with sessions.begin() as s:
        for rid in (1, 2, 3):
            await repo.upsert_request(
                s, id=rid, media_type="movie", tmdb_id=rid, is4k=False, seasons=[], title=f"m{rid}",
                now=T0 + timedelta(seconds=rid),
            )  # fmt: skip
        await repo.set_request_state(s, 1, RequestState.WORKING, event=START, now=T0 + timedelta(minutes=5))
    async with sessions() as s:
        assert [r.id for r in await repo.list_requests(s)] == [1, 3, 2]


async def test_add_request_calls_merges_counts_cumulatively(sessions: Sessions) -> None:
    await _movie_request(sessions)
    first = CallLedger()
    first.record("torrentio", "stream/movie")
    for ep in ("torrents/addMagnet", "torrents/selectFiles", "torrents/info"):
        first.record("realdebrid", ep)
    second = CallLedger()
    second.record("realdebrid", "torrents/info")
    second.record("realdebrid", "torrents/info")
    second.record("realdebrid", "torrents/delete")
    async with sessions.begin() as s:
        await repo.add_request_calls(s, 7, first)
    async with sessions.begin() as s:
        rec = await repo.add_request_calls(s, 7, second)
    expected = {
        "torrentio": {"stream/movie": 1},
        "realdebrid": {"torrents/addMagnet": 1, "torrents/selectFiles": 1, "torrents/info": 3, "torrents/delete": 1},
    }
    assert rec.calls == expected
    async with sessions() as s:
        stored = await repo.get_request(s, 7)
    assert stored is not None and stored.calls == expected
    assert (stored.calls_to("torrentio"), stored.calls_to("realdebrid"), stored.calls_to("seerr")) == (1, 6, 0)


# Work items


async def test_items_are_shared_by_requests_and_keep_state_on_refresh(sessions: Sessions) -> None:
    async with sessions.begin() as s:
        for rid in (21, 22):
            await repo.upsert_request(s, id=rid, media_type="tv", tmdb_id=1396, is4k=False, seasons=[2], title="BB")
        item = await repo.upsert_item(
            s, key="show:1396:s02", kind="season", tmdb_id=1396, season=2, is4k=False, wanted=[3, 1, 2], now=T0
        )
        await repo.link_request_item(s, 21, "show:1396:s02")
        await repo.link_request_item(s, 22, "show:1396:s02")
        await repo.link_request_item(s, 22, "show:1396:s02")  # twice: harmless
    assert (item.wanted, item.done, item.state, item.season) == ((1, 2, 3), (), ItemState.NEW, 2)
    assert item.missing == (1, 2, 3) and not item.complete

    async with sessions.begin() as s:
        rec = await repo.set_item_state(
            s, "show:1396:s02", ItemState.PARTIAL, event=ItemEvent.SETTLE, reason="no E3", done=[2, 1], now=T0
        )
    assert (rec.state, rec.done, rec.missing, rec.reason) == (ItemState.PARTIAL, (1, 2), (3,), "no E3")

    async with sessions.begin() as s:  # a new episode aired: wanted grows, state and done stay
        rec = await repo.upsert_item(
            s, key="show:1396:s02", kind="season", tmdb_id=1396, season=2, is4k=False, wanted=[1, 2, 3, 4]
        )
    assert (rec.wanted, rec.done, rec.state, rec.reason, rec.updated_at) == (
        (1, 2, 3, 4), (1, 2), ItemState.PARTIAL, "no E3", T0,
    )  # fmt: skip

    async with sessions() as s:
        assert [i.key for i in await repo.items_of_request(s, 21)] == ["show:1396:s02"]
        assert await repo.items_of_request(s, 22) == [rec]
        assert await repo.items_of_request(s, 23) == []
        assert await repo.requests_of_item(s, "show:1396:s02") == [21, 22]
        assert await repo.get_item(s, "show:1396:s02") == rec
        assert await repo.get_item(s, "show:1396:s03") is None


async def test_movie_item_is_complete_with_the_movie_marker(sessions: Sessions) -> None:
    await _movie_request(sessions)
    async with sessions.begin() as s:
        before = await repo.get_item(s, "movie:603")
        after = await repo.set_item_state(
            s, "movie:603", ItemState.FULFILLED, event=ItemEvent.SETTLE, done=repo.MOVIE_DONE
        )
    assert before is not None and not before.complete and before.missing == ()
    assert after.complete and after.done == (0,)


async def test_upsert_item_rejects_unknown_kind(sessions: Sessions) -> None:
    async with sessions.begin() as s:
        with pytest.raises(ValueError, match="kind"):
            await repo.upsert_item(s, key="x", kind="show", tmdb_id=1, season=1, is4k=False, wanted=[1])


async def test_concurrent_upsert_item_for_one_key_does_not_crash(sessions: Sessions) -> None:
    """Two open transactions insert the same key: the second waits for the first, then updates; no error."""
    first_wrote = asyncio.Event()

    async def first() -> repo.ItemRecord:
        async with sessions.begin() as s:
            rec = await repo.upsert_item(
                s, key="movie:1", kind="movie", tmdb_id=1, season=None, is4k=False, wanted=[], now=T0
            )
            first_wrote.set()
            await asyncio.sleep(0.05)  # hold the transaction open while the second one tries
            return rec

    async def second() -> repo.ItemRecord:
        await first_wrote.wait()
        async with sessions.begin() as s:
            return await repo.upsert_item(
                s, key="movie:1", kind="movie", tmdb_id=1, season=None, is4k=False, wanted=[], now=T0
            )

    a, b = await asyncio.gather(first(), second())
    assert a == b

    async def racer(i: int) -> repo.ItemRecord:
        async with sessions.begin() as s:
            return await repo.upsert_item(
                s, key="show:9:s01", kind="season", tmdb_id=9, season=1, is4k=False, wanted=range(1, i + 2)
            )

    results = await asyncio.gather(*(racer(i) for i in range(6)))
    assert len(results) == 6
    async with sessions() as s:
        stored = await repo.get_item(s, "show:9:s01")
    assert stored is not None and stored.state == ItemState.NEW
    assert stored.wanted in {r.wanted for r in results}  # the last writer's list, whichever that was


# Torrents


async def test_intent_is_recorded_before_the_add_and_completed_after(sessions: Sessions) -> None:
    await _movie_request(sessions)
    async with sessions.begin() as s:
        row_id = await repo.record_intent(
            s, info_hash=H2.upper(), name="The.Matrix.1999.1080p", item_key="movie:603", request_id=7, season=None,
            episodes=[], file_ids=[3, 1], size_bytes=8_000_000_000, now=T0,
        )  # fmt: skip
    async with sessions() as s:
        intent = await repo.get_torrent(s, row_id)
        assert await repo.torrents_in_state(s, TorrentState.ADDING) == [intent]
    assert intent is not None
    assert (intent.state, intent.rd_id, intent.info_hash, intent.file_ids) == (TorrentState.ADDING, None, H2, (1, 3))
    assert (intent.cached, intent.adopted, intent.size_bytes, intent.added_at) == (False, False, 8_000_000_000, T0)

    async with sessions.begin() as s:
        added = await repo.mark_added(s, row_id, "RDX1", now=T0 + timedelta(seconds=1))
    assert (added.state, added.rd_id, added.added_at, added.adopted) == (TorrentState.ADDED, "RDX1", T0, False)
    assert added.updated_at == T0 + timedelta(seconds=1)

    async with sessions.begin() as s:
        done = await repo.set_torrent_state(s, row_id, TorrentEvent.CACHED, cached=True, file_ids=[1])
    assert (done.state, done.cached, done.file_ids, done.episodes, done.rd_id) == (
        TorrentState.DOWNLOADED, True, (1,), (), "RDX1",
    )  # fmt: skip
    async with sessions() as s:
        assert await repo.get_torrent(s, row_id) == done
        assert await repo.torrents_in_state(s, TorrentState.ADDING) == []
        assert await repo.get_torrent(s, row_id + 100) is None
    async with sessions.begin() as s:
        with pytest.raises(repo.NotInStore):
            await repo.mark_added(s, row_id + 100, "nope")


async def test_adopted_torrent_is_marked_as_not_added_by_us(sessions: Sessions) -> None:
    await _movie_request(sessions)
    async with sessions.begin() as s:
        row_id = await repo.record_intent(
            s, info_hash=H1, name="found in account", item_key="movie:603", request_id=7, season=None, episodes=[],
            file_ids=[1], size_bytes=None,
        )  # fmt: skip
        await repo.mark_added(s, row_id, "RDOLD", adopted=True)
        rec = await repo.set_torrent_state(s, row_id, TorrentEvent.CACHED, cached=True)
    assert (rec.adopted, rec.rd_id, rec.state, rec.cached) == (True, "RDOLD", TorrentState.DOWNLOADED, True)
    async with sessions() as s:
        assert await repo.our_torrents_with_hash(s, H1) == [rec]


async def test_intent_survives_a_restart(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/restart.db"
    engine, sessions = await open_database(url)
    try:
        await _movie_request(sessions)
        async with sessions.begin() as s:
            row_id = await repo.record_intent(
                s, info_hash=H1, name="n", item_key="movie:603", request_id=7, season=None, episodes=[],
                file_ids=[], size_bytes=None,
            )  # fmt: skip
    finally:
        await engine.dispose()  # the process dies between intent and add
    engine, sessions = await open_database(url)
    try:
        async with sessions() as s:
            pending = await repo.torrents_in_state(s, TorrentState.ADDING)
            assert [t.id for t in pending] == [row_id]
            assert [t.id for t in await repo.our_torrents_with_hash(s, H1)] == [row_id]
    finally:
        await engine.dispose()


async def test_duplicates_of_a_hash_are_visible_until_deleted(sessions: Sessions) -> None:
    await _movie_request(sessions)
    async with sessions.begin() as s:
        await repo.upsert_request(s, id=8, media_type="tv", tmdb_id=1396, is4k=False, seasons=[1, 2], title="BB")
        for season in (1, 2):
            await repo.upsert_item(
                s, key=f"show:1396:s0{season}", kind="season", tmdb_id=1396, season=season, is4k=False, wanted=[1, 2]
            )
            await repo.link_request_item(s, 8, f"show:1396:s0{season}")
        ids = [
            await repo.record_intent(
                s, info_hash=H1, name="Breaking.Bad.S01-S02", item_key=f"show:1396:s0{season}", request_id=8,
                season=season, episodes=[1, 2], file_ids=[season * 10 + 1, season * 10 + 2], size_bytes=None,
            )
            for season in (1, 2)
        ]  # fmt: skip
        other = await repo.record_intent(
            s, info_hash=H2, name="The.Matrix", item_key="movie:603", request_id=7, season=None, episodes=[],
            file_ids=[1], size_bytes=None,
        )  # fmt: skip
    async with sessions() as s:
        assert [t.id for t in await repo.our_torrents_with_hash(s, H1.upper())] == ids
        assert [t.season for t in await repo.our_torrents_with_hash(s, H1)] == [1, 2]
        assert [t.id for t in await repo.torrents_of_item(s, "show:1396:s02")] == [ids[1]]
        assert [t.id for t in await repo.all_torrents(s)] == [*ids, other]
    async with sessions.begin() as s:
        await repo.set_torrent_state(s, ids[0], TorrentEvent.DELETED)
        await repo.mark_added(s, ids[1], "RDX2")
        await repo.set_torrent_state(s, ids[1], TorrentEvent.DOWNLOAD, episodes=[2])
    async with sessions() as s:
        live = await repo.our_torrents_with_hash(s, H1)
        assert [(t.id, t.state, t.episodes) for t in live] == [(ids[1], TorrentState.DOWNLOADING, (2,))]
        assert [t.state for t in await repo.torrents_of_item(s, "show:1396:s01")] == [TorrentState.DELETED]
        assert len(await repo.all_torrents(s)) == 3


async def test_torrent_rows_need_a_valid_hash_and_a_known_item(sessions: Sessions) -> None:
    await _movie_request(sessions)
    async with sessions.begin() as s:
        with pytest.raises(ValueError, match="info hash"):
            await repo.record_intent(
                s, info_hash="xyz", name="n", item_key="movie:603", request_id=7, season=None, episodes=[],
                file_ids=[], size_bytes=None,
            )  # fmt: skip
        with pytest.raises(ValueError, match="info hash"):
            await repo.our_torrents_with_hash(s, H1[:-1])
    with pytest.raises(IntegrityError):
        async with sessions.begin() as s:
            await repo.record_intent(
                s, info_hash=H1, name="n", item_key="movie:404", request_id=7, season=None, episodes=[],
                file_ids=[], size_bytes=None,
            )  # fmt: skip


# Bad hashes


async def test_mark_bad_is_idempotent_and_keeps_the_first_reason(sessions: Sessions) -> None:
    async with sessions() as s:
        assert await repo.bad_hashes(s) == frozenset()
    async with sessions.begin() as s:
        await repo.mark_bad(s, H1.upper(), reason="infringing_file", source="realdebrid:451", now=T0)
    async with sessions.begin() as s:
        await repo.mark_bad(s, H1, reason="again", source="realdebrid:451", now=T0 + timedelta(days=1))
        await repo.mark_bad(s, H2, reason="infringing_file", source="realdebrid:451", now=T0)
    async with sessions() as s:
        assert await repo.bad_hashes(s) == frozenset({H1, H2})
        row = await s.get(BadHash, H1)
        assert row is not None and (row.reason, row.source) == ("infringing_file", "realdebrid:451")


async def test_a_passing_mark_expires_and_a_permanent_one_never(sessions: Sessions) -> None:
    week = timedelta(days=7)
    async with sessions.begin() as s:
        await repo.mark_bad(s, H1, reason="stalled at 3 %", source="stalled", now=T0, ttl=week)
        await repo.mark_bad(s, H2, reason="infringing_file", source="realdebrid:451", now=T0)
    async with sessions() as s:
        assert await repo.bad_hashes(s, now=T0 + week - timedelta(seconds=1)) == frozenset({H1, H2})
        assert await repo.bad_hashes(s, now=T0 + week) == frozenset({H2})
        assert await repo.bad_hashes(s, now=T0 + timedelta(days=3650)) == frozenset({H2})
        marks = {m.info_hash: m for m in await repo.bad_marks(s)}
    assert (marks[H1].source, marks[H1].marked_at, marks[H1].expires_at) == ("stalled", T0, T0 + week)
    assert (marks[H2].source, marks[H2].expires_at) == ("realdebrid:451", None)


async def test_marking_again_renews_an_expired_mark_and_a_refusal_makes_it_permanent(sessions: Sessions) -> None:
    week = timedelta(days=7)
    async with sessions.begin() as s:
        await repo.mark_bad(s, H1, reason="stalled", source="stalled", now=T0, ttl=week)
        # Still marked: marking again keeps the first mark.
        await repo.mark_bad(s, H1, reason="dead", source="realdebrid:dead", now=T0 + timedelta(days=1), ttl=week)
    async with sessions() as s:
        (mark,) = await repo.bad_marks(s)
    assert (mark.reason, mark.marked_at, mark.expires_at) == ("stalled", T0, T0 + week)

    later = T0 + timedelta(days=8)
    async with sessions.begin() as s:
        await repo.mark_bad(s, H1, reason="dead", source="realdebrid:dead", now=later, ttl=week)
    async with sessions() as s:
        (mark,) = await repo.bad_marks(s)
        assert await repo.bad_hashes(s, now=later) == frozenset({H1})
    assert (mark.reason, mark.source, mark.marked_at, mark.expires_at) == (
        "dead", "realdebrid:dead", later, later + week
    )  # fmt: skip

    async with sessions.begin() as s:
        await repo.mark_bad(s, H1, reason="infringing_file", source="realdebrid:451", now=later + timedelta(days=1))
    async with sessions() as s:
        (mark,) = await repo.bad_marks(s)
        assert await repo.bad_hashes(s, now=later + timedelta(days=3650)) == frozenset({H1})
    assert (mark.source, mark.expires_at) == ("realdebrid:451", None)


async def test_marks_can_be_cleared_one_by_one_or_all(sessions: Sessions) -> None:
    async with sessions.begin() as s:
        await repo.mark_bad(s, H1, reason="stalled", source="stalled", now=T0, ttl=timedelta(days=7))
        await repo.mark_bad(s, H2, reason="infringing_file", source="realdebrid:451", now=T0)
    async with sessions.begin() as s:
        assert await repo.clear_bad_mark(s, H1.upper()) is True
        assert await repo.clear_bad_mark(s, H1) is False
    async with sessions() as s:
        assert [m.info_hash for m in await repo.bad_marks(s)] == [H2]
    async with sessions.begin() as s:
        assert await repo.clear_bad_marks(s) == 1
    async with sessions() as s:
        assert await repo.bad_marks(s) == [] and await repo.bad_hashes(s, now=T0) == frozenset()


# Decisions


async def test_decisions_round_trip_and_latest_wins(sessions: Sessions) -> None:
    await _movie_request(sessions)
    payload: list[dict[str, Any]] = [
        {"info_hash": H1, "name": "The.Matrix.1999.2160p", "accepted": True, "reasons": [], "score": 9120,
         "probe": "cached"},
        {"info_hash": H2, "name": "The.Matrix.Resurrections.2021", "accepted": False,
         "reasons": ["title", "year"], "score": None, "probe": "not probed"},
    ]  # fmt: skip
    async with sessions() as s:
        assert await repo.latest_decision(s, 7) is None
    async with sessions.begin() as s:
        first = await repo.add_decision(
            s, request_id=7, item_key="movie:603", summary="nothing cached", payload=[], now=T0
        )
        second = await repo.add_decision(
            s, request_id=7, item_key="movie:603", summary="won: The.Matrix.1999.2160p (cached)", payload=payload,
            now=T0 + timedelta(hours=1),
        )  # fmt: skip
        general = await repo.add_decision(s, request_id=7, item_key=None, summary="same", payload=[], now=T0)
    async with sessions() as s:
        latest = await repo.latest_decision(s, 7)
        history = await repo.decisions_of_request(s, 7)
        assert await repo.decisions_of_request(s, 8) == []
    assert latest == second
    assert latest is not None and latest.payload == payload and latest.at == T0 + timedelta(hours=1)
    assert [d.id for d in history] == [first.id, general.id, second.id]
    assert history[1].item_key is None


# Search cache


async def test_search_cache_expires_and_is_replaced(sessions: Sessions) -> None:
    streams = {"streams": [{"name": "Torrentio\n4k", "title": "Dune.2021\n👤 12 💾 5 GB ⚙️ x", "infoHash": H1}]}
    async with sessions.begin() as s:
        assert await repo.cache_get(s, "movie/tt1160419", now=T0) is None
        await repo.cache_put(s, "movie/tt1160419", streams, now=T0, ttl_s=3600)
    async with sessions() as s:
        assert await repo.cache_get(s, "movie/tt1160419", now=T0 + timedelta(seconds=3599)) == streams
        assert await repo.cache_get(s, "movie/tt1160419", now=T0 + timedelta(seconds=3600)) is None
        assert await repo.cache_get(s, "series/tt1160419:1:1", now=T0) is None
        # an aware time in another zone means the same instant
        plus2 = timezone(timedelta(hours=2))
        assert await repo.cache_get(s, "movie/tt1160419", now=datetime(2026, 11, 24, 14, 59, tzinfo=plus2)) == streams
        with pytest.raises(ValueError, match="naive"):
            await repo.cache_get(s, "movie/tt1160419", now=datetime(2026, 11, 24, 12))
    async with sessions.begin() as s:  # refetched after expiry: replaced, valid again
        await repo.cache_put(s, "movie/tt1160419", {"streams": []}, now=T0 + timedelta(hours=2), ttl_s=60)
    async with sessions() as s:
        assert await repo.cache_get(s, "movie/tt1160419", now=T0 + timedelta(hours=2, seconds=59)) == {"streams": []}
        assert await repo.cache_get(s, "movie/tt1160419", now=T0 + timedelta(hours=2, seconds=61)) is None


async def test_app_state_writes_at_once_never_collide(sessions: async_sessionmaker[Any]) -> None:
    async def write(n: int) -> None:
        async with sessions.begin() as session:
            await repo.set_state(session, "services", f"value {n}")

    await asyncio.gather(*(write(n) for n in range(10)))
    async with sessions.begin() as session:
        assert (await repo.get_state(session, "services") or "").startswith("value ")
        await repo.set_state(session, "services", "last")
        assert await repo.get_state(session, "services") == "last"  # read back in the same session


async def test_linking_an_item_keeps_the_episodes_another_request_wants(sessions: Sessions) -> None:
    """A second request linking a season (wanted=None) must not blank the episodes the first one wrote."""
    async with sessions.begin() as s:
        await repo.upsert_item(s, key="show:1:s2023", kind="season", tmdb_id=1, season=2023, is4k=False, wanted=[4, 5])
        linked = await repo.upsert_item(
            s, key="show:1:s2023", kind="season", tmdb_id=1, season=2023, is4k=False, wanted=None
        )
        fresh = await repo.upsert_item(s, key="show:1:s01", kind="season", tmdb_id=1, season=1, is4k=False, wanted=None)
    assert (linked.wanted, linked.season) == ((4, 5), 2023)
    assert fresh.wanted == ()


def test_an_item_key_names_its_season_whatever_its_digits() -> None:
    from seerbridge.domain.media import Wanted

    assert Wanted.season_of_key("show:1:s2023") == 2023
    assert Wanted.season_of_key("show:1:s02:4k") == 2
    assert Wanted.season_of_key("show:1:s00") == 0
    assert Wanted.season_of_key("movie:603") is None
