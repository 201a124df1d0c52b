"""Tables fit the terminal they are printed on (COLUMNS honoured, 80 columns included) and say each thing once."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime

import pytest
from rich.console import Console

from seerbridge.cli import print_doctor
from seerbridge.commands.demo import DemoResult, DemoRow, upgrade_lines
from seerbridge.commands.doctor import DoctorRow
from seerbridge.domain.states import RequestState
from seerbridge.pipeline.cleanup import CleanupOutcome, CleanupPlan
from seerbridge.pipeline.process import PassReport, RequestResult
from seerbridge.pipeline.removal import Doomed
from seerbridge.pipeline.upgrade import Check, UpgradeReport
from seerbridge.render.cleanup_report import plan_lines, render_outcome
from seerbridge.render.demo_library import RepairView, repair_lines, requests_phrase, tree_lines
from seerbridge.render.report import (
    console,
    demo_table,
    pass_line,
    plural,
    reason_beside,
    result_line,
    status_table,
)
from seerbridge.store.repo import RequestRecord

ARRIVAL = "Arrival.2016.1080p.BluRay.x264-EXAMPLE"
DUNE = "Dune.2021.1080p.BluRay.x265.10bit-EXAMPLE"
PACK = [f"The.Lighthouse.Keepers.S01E0{n}.1080p.WEB-DL.H264-EXAMPLE" for n in range(1, 5)]


def _demo() -> DemoResult:
    rows = [
        DemoRow(110, "Arrival (2016)", "fulfilled", f"cached: {ARRIVAL}", [ARRIVAL], 1, 4),
        DemoRow(106, "Dune (2021)", "fulfilled", f"downloaded: {DUNE}.mkv", [DUNE], 1, 10),
        DemoRow(
            105,
            "The Lighthouse Keepers (2026)",
            "already_available",
            "season 1: every aired episode is in Jellyfin",
            PACK,
            4,
            16,
        ),
        DemoRow(107, "Inception (2010)", "no_release", "1 candidate, none acceptable (title 1)", [], 1, 0),
    ]
    return DemoResult(rows=rows, passes=[], hosts={}, duplicate_hashes=[])


def _lines(renderable: object, width: int) -> list[str]:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(renderable)
    return buffer.getvalue().splitlines()


def test_the_console_takes_the_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert console().width == 80
    monkeypatch.setenv("COLUMNS", "200")
    assert console().width == 200


@pytest.mark.parametrize("width", [80, 100, 160])
def test_the_demo_table_fits_and_keeps_release_names_whole_where_it_can(width: int) -> None:
    lines = _lines(demo_table(_demo()), width)
    assert max(len(line) for line in lines) <= width, "\n".join(lines)
    if width >= 160:  # room enough: every name on one line, never cut
        text = "\n".join(lines)
        assert all(name in text for name in [ARRIVAL, DUNE, *PACK]), text


def test_the_why_column_does_not_repeat_the_torrent_name() -> None:
    lines = _lines(demo_table(_demo()), 200)
    (arrival,) = [line for line in lines if "│ 110 " in line]
    assert arrival.count(ARRIVAL) == 1, arrival
    assert "cached" in arrival
    (dune,) = [line for line in lines if "│ 106 " in line]
    assert dune.count(DUNE) == 1, dune
    assert "downloaded" in dune


def test_status_and_doctor_fit_80_columns(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    record = RequestRecord(
        id=4242,
        media_type="movie",
        tmdb_id=1,
        is4k=False,
        seasons=(),
        title="The Lord of the Rings: The Fellowship of the Ring (2001)",
        profile="standard",
        state=RequestState.NO_RELEASE,
        reason="12 candidates, none acceptable (resolution 7, size 3, title 2); next look 2026-11-25 12:00",
        last_error=None,
        attempts=3,
        first_seen_at=now,
        updated_at=now,
        calls={"torrentio": {"streams": 3}, "realdebrid": {"addMagnet": 12}},
        next_attempt_at=now,
        backoff_step=2,
    )
    lines = _lines(status_table([record]), 80)
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)

    monkeypatch.setenv("COLUMNS", "80")
    rows = [
        DoctorRow("database", True, "sqlite", "ok", {"schema": "20261125_0004"}),
        DoctorRow("jellyfin", True, "10.11.11", "ok", {"server": "a-rather-long-server-name.lan", "movies": "/media"}),
        DoctorRow("seerr", False, "", "cannot connect to http://seerr.lan:5055: is it running, and is URL right?"),
    ]
    print_doctor(rows)
    printed = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in printed) <= 80, "\n".join(printed)


NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def _record(state: RequestState, reason: str) -> RequestRecord:
    return RequestRecord(
        id=106,
        media_type="movie",
        tmdb_id=438631,
        is4k=False,
        seasons=(),
        title="Dune (2021)",
        profile="standard",
        state=state,
        reason=reason,
        last_error=None,
        attempts=1,
        first_seen_at=NOW,
        updated_at=NOW,
        calls={},
    )


def test_plural_says_one_thing_in_the_singular() -> None:
    assert plural(1, "torrent") == "1 torrent"
    assert plural(0, "torrent") == "0 torrents"
    assert plural(2, "request") == "2 requests"
    assert plural(1, "copy", "copies") == "1 copy" and plural(3, "copy", "copies") == "3 copies"


def test_a_reason_beside_its_state_does_not_say_the_state_again() -> None:
    reason = f"downloading (not cached, 95 seeders): {DUNE}"
    assert reason_beside("downloading", reason) == f"not cached, 95 seeders: {DUNE}"
    assert reason_beside("downloading", "downloading") == ""
    assert reason_beside("no_release", "no release: nothing out yet") == "nothing out yet"
    # Only a leading repeat of the state goes; other reasons stay as they are.
    assert reason_beside("fulfilled", f"downloaded: {DUNE}.mkv") == f"downloaded: {DUNE}.mkv"
    assert reason_beside("downloading", "downloadingly odd") == "downloadingly odd"


def test_status_shows_a_downloading_request_without_downloading_twice() -> None:
    record = _record(RequestState.DOWNLOADING, f"downloading (not cached, 95 seeders): {DUNE}")
    text = "\n".join(_lines(status_table([record]), 200))
    assert text.count("downloading") == 1, text
    assert "not cached, 95 seeders" in text


def test_run_once_lines_do_not_repeat_the_state() -> None:
    result = RequestResult(
        106, "Dune (2021)", RequestState.DOWNLOADING, f"downloading (not cached, 95 seeders): {DUNE}"
    )
    assert result_line(result) == f"request 106 Dune (2021): downloading - not cached, 95 seeders: {DUNE}"
    bare = RequestResult(106, "Dune (2021)", RequestState.DOWNLOADING, "downloading")
    assert result_line(bare) == "request 106 Dune (2021): downloading"


def test_the_demo_pass_line_counts_each_state() -> None:
    results = [RequestResult(n, "x", RequestState.FULFILLED, "cached") for n in range(6)]
    results += [
        RequestResult(106, "Dune", RequestState.DOWNLOADING, ""),
        RequestResult(107, "x", RequestState.NO_RELEASE, ""),
    ]
    report = PassReport(NOW, results, {"jellyfin": {"Items": 5}, "seerr": {"request": 2}})
    assert pass_line(1, report) == (
        "pass 1: 8 requests (1 downloading, 6 fulfilled, 1 no_release); shared calls: jellyfin 5, seerr 2"
    )
    one = PassReport(NOW, results[:1], {})
    assert pass_line(2, one) == "pass 2: 1 request (1 fulfilled); shared calls: none"


def _doomed(name: str) -> Doomed:
    return Doomed("RD1", "a" * 40, name, 700 * 1024**2, "superseded", "replaced", ours=True)


def test_cleanup_lines_say_one_torrent_in_the_singular() -> None:
    empty = CleanupPlan(at=NOW, rules=(), listed=1, doomed=(), left_alone=(), notes=())
    assert plan_lines(empty) == ["nothing to delete among the 1 torrent in the Real-Debrid account"]
    one = CleanupPlan(at=NOW, rules=(), listed=3, doomed=(_doomed("Old.Copy"),), left_alone=(), notes=())
    assert plan_lines(one)[-1] == "1 torrent, 700 MB would be freed; run `seerbridge cleanup --apply` to delete it"
    failed = CleanupOutcome(deleted=(), already_gone=(), failed=((_doomed("Old.Copy"), "HTTP 503"),))
    summary = str(render_outcome(one, failed)[-1])
    assert summary.endswith("; 1 could not be deleted (it stays in the plan of the next run)"), summary


def test_the_demo_upgrade_lines_count_in_the_singular_too() -> None:
    report = UpgradeReport(checks=[Check(1, "Old.Copy", "movie:1", "standard", "at cutoff")])
    assert upgrade_lines(report, 15) == ["15 days later, upgrade rounds checked 1 torrent:", "  1 at cutoff"]


def test_the_demo_library_tree_nests_folders_and_shortens_a_long_season() -> None:
    season = [f"shows/Severance (2022) [tmdbid-95396]/Season 02/Severance S02E{n:02d}.strm" for n in range(1, 11)]
    few = [f"shows/Breaking Bad (2008) [tmdbid-1396]/Season 02/Breaking Bad S02E{n}.strm" for n in (11, 12, 13)]
    movie = "movies/Haunt (2019) [tmdbid-572802]/Haunt (2019).strm"
    assert tree_lines([*season, movie, *few]) == [
        "  movies/",
        "    Haunt (2019) \\[tmdbid-572802]/",  # escaped for rich: printed as [tmdbid-572802]
        "      Haunt (2019).strm",
        "  shows/",
        "    Breaking Bad (2008) \\[tmdbid-1396]/",
        "      Season 02/",
        "        Breaking Bad S02E11.strm",
        "        Breaking Bad S02E12.strm",
        "        Breaking Bad S02E13.strm",
        "    Severance (2022) \\[tmdbid-95396]/",
        "      Season 02/",
        "        Severance S02E01.strm",
        "        … 8 more",
        "        Severance S02E10.strm",
    ]


def test_the_demo_request_states_read_once_when_they_agree() -> None:
    assert requests_phrase([(108, "available"), (101, "available")]) == "requests 101, 108 [green]available[/green]"
    assert requests_phrase([(101, "available"), (108, "new")]) == (
        "request 101 [green]available[/green], request 108 [yellow]new[/yellow]"
    )
    assert requests_phrase([]) == "no request"


def _printed(lines: list[str]) -> list[str]:
    out = Console(file=io.StringIO(), width=80, color_system=None)
    for line in lines:
        out.print(line)
    text = out.file.getvalue()  # type: ignore[attr-defined]
    return [line.rstrip() for line in text.splitlines()]


def test_the_demo_repair_in_symlink_mode_shows_the_link_before_and_after_within_80_columns() -> None:
    old, new = (f"Night.of.the.Living.Dead.1968.{q}.BluRay.x264-EXAMPLE" for q in ("1080p", "720p"))
    entry = "movies/Night of the Living Dead (1968) [tmdbid-10331]/Night of the Living Dead (1968).mkv"
    view = RepairView(
        mode="symlink",
        entry=entry,
        entry_after=entry,
        torrent_before=old,
        torrent_after=new,
        written_before=f"<mount>/__all__/{old}/{old}.mkv",
        written_after=f"<mount>/__all__/{new}/{new}.mkv",
        plays_before=None,
        plays_after=None,
        why="gone from Real-Debrid",
        requests=(101, 108),
        requests_after=((101, "available"), (108, "available")),
        seerr_after="available",
        jellyfin_path_same=True,
    )
    printed = _printed(repair_lines(view))
    assert all(len(line) <= 80 for line in printed), printed
    assert printed == [
        "Then Real-Debrid drops a torrent on its own (as after a retroactive 451):",
        "  movies/Night of the Living Dead (1968) [tmdbid-10331]/",
        "    Night of the Living Dead (1968).mkv",
        "      links   <mount>/__all__/",
        f"              {old}/",
        f"              {old}.mkv",
        f"      torrent {old}",
        "  a repair round: gone from Real-Debrid → hash marked bad,",
        "  requests 101, 108 worked again → the next copy kept, behind the same path:",
        "    Night of the Living Dead (1968).mkv",
        "      links   <mount>/__all__/",
        f"              {new}/",
        f"              {new}.mkv",
        f"      torrent {new}",
        "  Jellyfin lists it at the same path; Seerr: available;",
        "  requests 101, 108 available",
    ]


def test_the_demo_repair_says_so_when_the_entry_moved_went_or_waits() -> None:
    base = RepairView(
        mode="strm",
        entry="movies/X (2019) [tmdbid-1]/X (2019).strm",
        entry_after=None,
        torrent_before="X.2019.1080p-EXAMPLE",
        torrent_after=None,
        written_before="http://127.0.0.1:8787/play/1.abc",
        written_after=None,
        plays_before="X.2019.1080p-EXAMPLE.mkv",
        plays_after=None,
        why="gone from Real-Debrid",
        requests=(7,),
    )
    gone = " ".join(_printed(repair_lines(base)))
    assert "request 7 worked again → the entry is gone: movies/X (2019) [tmdbid-1]/X (2019).strm" in gone, gone
    assert "plays X.2019.1080p-EXAMPLE.mkv" in " ".join(gone.split())
    moved = dataclasses.replace(
        base,
        entry_after="movies/X (2019) [tmdbid-1]/X (2019) - 4K.strm",
        written_after="http://127.0.0.1:8787/play/2.def",
        torrent_after="X.2019.2160p-EXAMPLE",
        plays_after="X.2019.2160p-EXAMPLE.mkv",
    )
    text = " ".join(" ".join(_printed(repair_lines(moved))).split())
    assert "at another path: movies/X (2019) [tmdbid-1]/X (2019) - 4K.strm" in text, text
    assert "holds http://127.0.0.1:8787/play/2.def" in text, text  # a new address: not "the same address"
    assert "Jellyfin lists it elsewhere" in text, text
    waiting = dataclasses.replace(
        base, entry_after=base.entry, written_after=base.written_before, requests_after=((7, "no_release"),)
    )
    text = " ".join(" ".join(_printed(repair_lines(waiting))).split())
    assert text.endswith("no other copy kept yet; the entry waits at its path request 7 no_release"), text
