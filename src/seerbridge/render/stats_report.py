"""`seerbridge stats` for people: a table per request, a totals row, and what the totals are made of (rich)."""

from __future__ import annotations

from rich import box
from rich.filesize import decimal
from rich.table import Table

from seerbridge.commands.stats import Figures, Stats
from seerbridge.render.report import styled_state


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def _ratio(part: int, whole: int, rate: float | None) -> str:
    return f"{part}/{whole} {_percent(rate)}" if whole else "-"


def _reclaimed(f: Figures) -> str:
    text = decimal(f.reclaimed_bytes) if f.removals else "-"
    if f.removals_of_unknown_size:
        text += f" +{f.removals_of_unknown_size}?"
    return text


def _cells(f: Figures, *, sources: bool) -> list[str]:
    return [
        str(f.torrentio_calls),
        *([str(f.source_calls)] if sources else []),
        str(f.realdebrid_calls),
        _ratio(f.cached_probes, f.probes, f.cached_rate),
        _ratio(f.search_cache_hits, f.search_cache_hits + f.search_cache_misses, f.search_cache_hit_rate),
        str(f.upgrades),
        str(f.repairs),
        str(f.removals),
        _reclaimed(f),
    ]


def stats_table(stats: Stats) -> Table:
    # Eleven columns in 120 characters: light borders, and figures that never wrap (the title gives way instead).
    # The other sources' calls get a column of their own only when there are any (the table then runs wider).
    sources = stats.total.source_calls > 0
    table = Table(
        title="seerbridge stats", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), show_edge=False
    )
    table.add_column("request", no_wrap=True)
    table.add_column("title", overflow="fold", min_width=16)
    table.add_column("state", no_wrap=True)
    headers = (
        "Torrentio",
        *(("other\nsources",) if sources else ()),
        "Real-\nDebrid",
        "probes\ncached",
        "search\ncache hits",
        "up-\ngrades",
        "re-\npairs",
        "re-\nmoved",
        "space\nreclaimed",
    )
    for column in headers:
        table.add_column(column, justify="right", no_wrap=True)
    for r in stats.requests:
        table.add_row(str(r.request_id), r.title, styled_state(r.state), *_cells(r.figures, sources=sources))
    if stats.unattributed != Figures():
        table.add_row("-", "not tied to a request", "", *_cells(stats.unattributed, sources=sources))
    table.add_section()
    table.add_row("total", "", "", *_cells(stats.total, sources=sources), style="bold")
    return table


def stats_notes(stats: Stats) -> list[str]:
    """Lines under the table: which calls each figure holds."""
    lines = [
        "Calls per request count every attempt made while working it (retries included); calls that serve a whole "
        "pass (the request list, account and library listings), following downloads and upgrade rounds are in the "
        "row not tied to a request."
    ]
    unsized = stats.total.removals_of_unknown_size
    if unsized:
        lines.append(f"+N? under space reclaimed: N removed torrents whose size was never learned ({unsized} in all).")
    daily = stats.daily_calls
    if daily is not None and daily.calls:
        parts = []
        for service, endpoints in sorted(daily.calls.items()):
            detail = ", ".join(f"{ep} {n}" for ep, n in sorted(endpoints.items()))
            parts.append(f"{service} {daily.total(service)} ({detail})")
        span = f"{daily.first_day} to {daily.last_day}" if daily.first_day != daily.last_day else str(daily.first_day)
        lines.append(
            f"Calls kept per day for daily budgets, {span}: {'; '.join(parts)}. These count each call once and "
            "include calls no request made (doctor, explain, upgrade searches)."
        )
    return lines


__all__ = ["stats_notes", "stats_table"]
