"""Tables fit the terminal they are printed on (COLUMNS honoured, 80 columns included) and say each thing once."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rich.console import Console

from seerbridge.cli import print_doctor
from seerbridge.demo import DemoResult, DemoRow
from seerbridge.doctor import DoctorRow
from seerbridge.domain.states import RequestState
from seerbridge.report import console, demo_table, status_table
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
