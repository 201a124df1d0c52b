"""`seerbridge stats` against the demo: its figures agree with what the emulators saw, and history shows up."""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from datetime import UTC, datetime

import pytest
from rich.console import Console
from typer.testing import CliRunner

from seerbridge.cli import app
from seerbridge.commands.stats import Figures, Stats, UnknownRequest, gather_stats
from seerbridge.render.stats_report import stats_notes, stats_table
from seerbridge.store import history, repo
from tests.e2e.conftest import E2E, result_of

GB = 1024**3
INCEPTION = 107  # no release exists: worked again on every pass, so its second search is answered by the cache
BREAKING_BAD = 104


async def stats_of(e2e: E2E, request_id: int | None = None) -> Stats:
    async with e2e.bridge() as bridge:
        return await gather_stats(bridge.sessions, request_id)


def imdb_of(e2e: E2E, request_id: int) -> str:
    spec = next(r for r in e2e.scenario.requests if r.id == request_id)
    media = e2e.scenario.media_by_tmdb(spec.tmdb_id)
    assert media is not None and media.imdb_id is not None
    return media.imdb_id


def by_imdb(e2e: E2E, stats: Stats, field: str) -> Counter[str]:
    """A per-request figure summed per title (two requests for one film share its work)."""
    out: Counter[str] = Counter()
    for r in stats.requests:
        out[imdb_of(e2e, r.request_id)] += getattr(r.figures, field)
    return out


async def test_per_request_figures_match_the_emulators(demo: E2E) -> None:
    report = await demo.run()
    stats = await stats_of(demo)
    assert [r.request_id for r in stats.requests] == sorted(r.request_id for r in report.results)

    seen_by_torrentio: Counter[str] = Counter(call.id.split(":")[0] for call in demo.torrentio.stream_calls())
    assert by_imdb(demo, stats, "torrentio_calls") == +seen_by_torrentio

    adds: Counter[str] = Counter()
    cached_adds: Counter[str] = Counter()
    for info_hash, attempts in demo.rd.add_attempts.items():
        release = demo.scenario.release_by_hash(info_hash)
        assert release is not None, f"seerbridge added {info_hash}, which no release has"
        adds[release.imdb_id] += attempts
        if release.rd == "cached":
            cached_adds[release.imdb_id] += attempts
    assert by_imdb(demo, stats, "probes") == +adds
    assert by_imdb(demo, stats, "cached_probes") == +cached_adds

    rd_log = demo.world.control("realdebrid").log
    # Every call Real-Debrid saw is counted once: by a request, or (listings that served the whole pass) apart.
    assert stats.unattributed.realdebrid_calls == sum(report.shared_calls.get("realdebrid", {}).values()) > 0
    assert stats.total.realdebrid_calls == len(rd_log)
    tio_log = [r for r in demo.world.control("torrentio").log if "/stream/" in r.path]
    assert stats.total.torrentio_calls == len(tio_log)
    for r in stats.requests:
        assert r.figures.realdebrid_calls == sum(result_of(report, r.request_id).calls.get("realdebrid", {}).values())

    total = stats.total
    assert total.torrentio_calls == len(demo.torrentio.stream_calls()) == 12
    assert total.probes == sum(demo.rd.add_attempts.values()) == 14
    assert total.cached_probes == 10 and total.cached_rate == pytest.approx(10 / 14)
    dune = next(r for r in stats.requests if r.request_id == 106)
    assert dune.figures.probes == 3 and dune.figures.cached_probes == 0 and dune.figures.cached_rate == 0.0
    # The second request for a film the first already fetched spent nothing: no calls, no probes, no rates.
    twin = next(r for r in stats.requests if r.request_id == 108)
    assert twin.figures == Figures()
    assert twin.figures.cached_rate is None and twin.figures.search_cache_hit_rate is None
    assert stats.daily_calls is not None and stats.daily_calls.total("torrentio") == 12
    # Apart from the pass-wide listings, nothing is without a request (no probe, upgrade or removal).
    assert stats.unattributed == Figures(realdebrid_calls=stats.unattributed.realdebrid_calls)


async def test_a_second_pass_is_answered_by_the_search_cache(demo: E2E) -> None:
    inception = imdb_of(demo, INCEPTION)
    await demo.run()
    first = next(r for r in (await stats_of(demo)).requests if r.request_id == INCEPTION)
    assert (first.figures.search_cache_hits, first.figures.search_cache_misses) == (0, 1)
    assert first.figures.search_cache_hit_rate == 0.0

    await demo.run()
    stats = await stats_of(demo)
    second = next(r for r in stats.requests if r.request_id == INCEPTION)
    assert (second.figures.search_cache_hits, second.figures.search_cache_misses) == (1, 1)
    assert second.figures.search_cache_hit_rate == 0.5
    assert second.figures.torrentio_calls == 1 == len(demo.torrentio.stream_calls(inception))
    # Every Torrentio call the emulator answered was a cache miss; hits cost nothing.
    assert stats.total.search_cache_misses == len(demo.torrentio.stream_calls())
    assert stats.total.search_cache_hits >= 1


async def test_upgrades_and_removals_land_on_their_request_and_in_the_totals(demo: E2E) -> None:
    await demo.run()
    async with demo.bridge() as bridge, bridge.sessions.begin() as session:
        rows = [t for t in await repo.all_torrents(session) if t.request_id == BREAKING_BAD]
        old, new = rows[0], rows[1]
        at = datetime(2026, 11, 25, tzinfo=UTC)
        await history.record_upgrade(
            session,
            item_key=old.item_key,
            request_id=BREAKING_BAD,
            profile="standard",
            old_torrent_id=old.id,
            new_torrent_id=new.id,
            old_name=old.name,
            new_name=new.name,
            old_score=1,
            new_score=2,
            now=at,
        )
        for letter, size, request_id in (("a", GB, BREAKING_BAD), ("b", None, BREAKING_BAD), ("c", 3 * GB, None)):
            await history.record_removal(
                session,
                info_hash=letter * 40,
                rd_id=letter.upper(),
                name=letter,
                size_bytes=size,
                rule="superseded",
                reason="test",
                ours=True,
                request_id=request_id,
                now=at,
            )

    stats = await stats_of(demo)
    bb = next(r for r in stats.requests if r.request_id == BREAKING_BAD).figures
    assert (bb.upgrades, bb.removals, bb.reclaimed_bytes, bb.removals_of_unknown_size) == (1, 2, GB, 1)
    others = [r.figures for r in stats.requests if r.request_id != BREAKING_BAD]
    assert all((f.upgrades, f.removals) == (0, 0) for f in others)
    assert (stats.unattributed.removals, stats.unattributed.reclaimed_bytes) == (1, 3 * GB)
    assert (stats.total.upgrades, stats.total.removals, stats.total.reclaimed_bytes) == (1, 3, 4 * GB)

    out = Console(width=120, record=True)
    out.print(stats_table(stats))
    lines = out.export_text().splitlines()
    assert "1.1 GB +1?" in next(line for line in lines if line.startswith(str(BREAKING_BAD)))
    assert "3.2 GB" in next(line for line in lines if "not tied to a request" in line)
    assert "4.3 GB +1?" in next(line for line in lines if line.startswith("total"))
    assert any("1 in all" in line for line in stats_notes(stats))

    one = await stats_of(demo, BREAKING_BAD)
    assert [r.request_id for r in one.requests] == [BREAKING_BAD]
    assert one.unattributed == Figures() and one.daily_calls is None
    assert one.total == bb

    with pytest.raises(UnknownRequest):
        await stats_of(demo, 999)


runner = CliRunner()


def invoke(demo: E2E, args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    for key in list(os.environ):
        if key.startswith("SEERBRIDGE_"):
            monkeypatch.delenv(key)
    env = demo.world.env() | {"SEERBRIDGE_DATABASE__URL": demo.settings.database.url.get_secret_value()}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = runner.invoke(app, args, terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


# The CLI runs its own event loop, so these tests are synchronous and run the demo in a loop of their own.
def test_cli_prints_the_table_and_json(demo: E2E, monkeypatch: pytest.MonkeyPatch) -> None:
    asyncio.run(demo.run())
    expected = asyncio.run(stats_of(demo)).as_json()

    code, out, err = invoke(demo, ["stats"], monkeypatch)
    assert code == 0, out + err
    lines = out.splitlines()
    inception = next(line for line in lines if line.strip("│┃ ").startswith(str(INCEPTION)))
    assert "Inception" in inception and "no_release" in inception and "0/1 0%" in inception
    total = next(line for line in lines if line.strip("│┃ ").startswith("total"))
    assert "10/14 71%" in total
    assert "torrentio 12 (stream/movie 4, stream/series 8)" in out

    code, out, err = invoke(demo, ["stats", "--json"], monkeypatch)
    assert code == 0, err
    payload = json.loads(out)
    assert payload == expected
    assert payload["total"]["probes"] == 14 and payload["total"]["cached_rate"] == pytest.approx(10 / 14)

    code, out, err = invoke(demo, ["stats", "--request", str(BREAKING_BAD), "--json"], monkeypatch)
    assert code == 0, err
    assert [r["id"] for r in json.loads(out)["requests"]] == [BREAKING_BAD]


def test_cli_unknown_request_is_a_clear_error(demo: E2E, monkeypatch: pytest.MonkeyPatch) -> None:
    asyncio.run(demo.run())
    code, out, err = invoke(demo, ["stats", "--request", "999"], monkeypatch)
    assert code == 1
    assert "no request 999 in the store" in err
    assert out == ""
