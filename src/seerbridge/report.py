"""Tables for people: status, the demo summary and pass results (rich)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from seerbridge import clock

if TYPE_CHECKING:
    from seerbridge.demo import DemoResult
    from seerbridge.pipeline.upgrade import UpgradeReport
    from seerbridge.store.lease import Holder
    from seerbridge.store.repo import RequestRecord

STATE_STYLE = {
    "fulfilled": "green",
    "already_available": "green",
    "downloading": "cyan",
    "partial": "yellow",
    "no_release": "yellow",
    "waiting": "cyan",
    "failed": "red",
    "upgraded": "green",
    "error": "red",
}


def console() -> Console:
    return Console(width=max(120, Console().width))


def styled_state(state: str) -> str:
    """A state or outcome in its colour (rich markup)."""
    style = STATE_STYLE.get(state)
    return f"[{style}]{state}[/{style}]" if style else state


def _calls(calls: dict[str, dict[str, int]] | None, service: str) -> str:
    return str(sum((calls or {}).get(service, {}).values()))


def _next(record: RequestRecord) -> str:
    """When the request will be looked at again, for backed-off ones; empty when on the normal poll."""
    parts = []
    if record.next_attempt_at is not None:
        parts.append(record.next_attempt_at.strftime("%Y-%m-%d %H:%M") + f" (step {record.backoff_step})")
    if record.next_air_date is not None:
        parts.append(f"or when an episode airs ({record.next_air_date.isoformat()})")
    return " ".join(parts)


def status_table(records: Sequence[RequestRecord]) -> Table:
    table = Table(title="seerbridge status", title_justify="left")
    columns = ("request", "title", "state", "last decision", "next attempt", "Torrentio", "Real-Debrid", "updated")
    for column in columns:
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(
            str(r.id),
            r.title,
            styled_state(str(r.state)),
            r.reason or "",
            _next(r),
            _calls(r.calls, "torrentio"),
            _calls(r.calls, "realdebrid"),
            r.updated_at.strftime("%Y-%m-%d %H:%M") if r.updated_at else "",
        )
    return table


def status_json(records: Sequence[RequestRecord], services: str | None, holder: Holder | None) -> dict[str, Any]:
    """`status --json`: who works the account, the services' last known condition, and every request (times stay
    datetimes: dump with `default=isoformat`)."""
    try:
        condition = json.loads(services) if services else None
    except ValueError:
        condition = None
    worked_by = None
    if holder is not None:
        worked_by = {k: v for k, v in asdict(holder).items() if k != "token"}
        worked_by["running"] = not holder.gone(clock.wall())
    return {"worked_by": worked_by, "services": condition, "requests": [asdict(r) for r in records]}


def isoformat(moment: date) -> str:
    """`json.dumps` default for the dates and datetimes in `status_json`."""
    return moment.isoformat()


def demo_table(result: DemoResult) -> Table:
    table = Table(title="seerbridge demo: what each request came to", title_justify="left")
    for column in ("request", "title", "outcome", "torrent chosen", "why", "Torrentio", "Real-Debrid"):
        table.add_column(column, overflow="fold")
    for row in result.rows:
        table.add_row(
            str(row.request_id),
            row.title,
            styled_state(row.state),
            "\n".join(row.torrents) or "-",
            row.reason,
            str(row.torrentio_calls),
            str(row.realdebrid_calls),
        )
    return table


def upgrade_table(report: UpgradeReport) -> Table:
    """One upgrade round: each torrent checked, and each replaced torrent deleted."""
    table = Table(title="seerbridge upgrade round", title_justify="left")
    for column in ("torrent", "profile", "outcome", "detail"):
        table.add_column(column, overflow="fold")
    for check in report.checks:
        detail = f"→ {check.new_name}" if check.new_name else check.detail
        table.add_row(check.name, check.profile, styled_state(check.outcome), detail)
    for doomed in report.removed:
        table.add_row(doomed.name, "-", "[green]deleted[/green]", doomed.reason)
    return table


def lease_line(holder: Holder | None) -> str:
    """For `status`: which seerbridge process works the account now, if any."""
    if holder is None:
        return "No seerbridge process is working the account now."
    if holder.gone(clock.wall()):
        return f"Last worked by {holder.describe()}, which is no longer running; the next start takes over."
    return f"Worked now by {holder.describe()}."


def services_lines(stored: str | None) -> list[str]:
    """For `status`: the services the running seerbridge last found down, paused or short of slots (empty if all up).

    `stored` is the JSON the bridge keeps in app_state "services" (`Bridge.record_services`).
    """
    try:
        payload = json.loads(stored) if stored else None
    except ValueError:
        return []
    if not isinstance(payload, dict) or not isinstance(services := payload.get("services"), dict):
        return []
    lines = [
        f"  {name}: {view.get('summary') or view.get('state')}"
        for name, view in sorted(services.items())
        if isinstance(view, dict) and (view.get("summary") or "up") != "up"
    ]
    if lines:
        lines.insert(0, f"Services not fully up (as of {payload.get('as_of', '?')}):")
    return lines
