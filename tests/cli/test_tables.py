"""Tables fit the terminal they are printed on (COLUMNS honoured, 80 columns included) and say each thing once."""

from __future__ import annotations

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
