"""Tables for people: status, the demo summary and pass results (rich)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from seerbridge.demo import DemoResult
    from seerbridge.store.repo import RequestRecord

STATE_STYLE = {
    "fulfilled": "green",
    "already_available": "green",
    "downloading": "cyan",
    "partial": "yellow",
    "no_release": "yellow",
    "failed": "red",
}


def console() -> Console:
    return Console(width=max(120, Console().width))


def _state(state: str) -> str:
    style = STATE_STYLE.get(state)
    return f"[{style}]{state}[/{style}]" if style else state


def _calls(calls: dict[str, dict[str, int]] | None, service: str) -> str:
    return str(sum((calls or {}).get(service, {}).values()))


def status_table(records: Sequence[RequestRecord]) -> Table:
    table = Table(title="seerbridge status", title_justify="left")
    for column in ("request", "title", "state", "last decision", "Torrentio", "Real-Debrid", "updated"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(
            str(r.id),
            r.title,
            _state(str(r.state)),
            r.reason or "",
            _calls(r.calls, "torrentio"),
            _calls(r.calls, "realdebrid"),
            r.updated_at.strftime("%Y-%m-%d %H:%M") if r.updated_at else "",
        )
    return table


def demo_table(result: DemoResult) -> Table:
    table = Table(title="seerbridge demo: what each request came to", title_justify="left")
    for column in ("request", "title", "outcome", "torrent chosen", "why", "Torrentio", "Real-Debrid"):
        table.add_column(column, overflow="fold")
    for row in result.rows:
        table.add_row(
            str(row.request_id),
            row.title,
            _state(row.state),
            "\n".join(row.torrents) or "-",
            row.reason,
            str(row.torrentio_calls),
            str(row.realdebrid_calls),
        )
    return table
