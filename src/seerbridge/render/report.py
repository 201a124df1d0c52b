"""Tables for people: status, the demo summary and pass results (rich)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from seerbridge import clock
from seerbridge.domain.states import RequestState

if TYPE_CHECKING:
    from seerbridge.commands.demo import DemoResult
    from seerbridge.pipeline.process import PassReport, RequestResult
    from seerbridge.pipeline.upgrade import UpgradeReport
    from seerbridge.store.lease import Holder
    from seerbridge.store.repo import RepairRecord, RequestRecord

STATE_STYLE = {
    "fulfilled": "green",
    "available": "bold green",
    "already_available": "green",
    "downloading": "cyan",
    "partial": "yellow",
    "no_release": "yellow",
    "waiting": "cyan",
    "failed": "red",
    "upgraded": "green",
    "error": "red",
}


def console(width: int | None = None) -> Console:
    """A console as wide as the terminal: COLUMNS when set, else the terminal's own width (80 columns when the output
    is not a terminal); `width` (the command line's `terminal_width`, as a test or an embedding program sets it)
    wins."""
    return Console(width=width)


_NAME_PART = re.compile(r"[^.\-_]+[.\-_]*|[.\-_]+")


def break_line(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters: wrapped at spaces, and a word wider than that (a release name)
    broken after a dot, hyphen or underscore; only a part wider than `width` on its own is cut."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        pieces = [word] if len(word) <= width else _NAME_PART.findall(word)
        for n, piece in enumerate(pieces):
            joined = f"{line} {piece}" if line and n == 0 else line + piece
            if line and len(joined) > width:
                lines.append(line)
                line = ""
                joined = piece
            while len(joined) > width:
                lines.append(joined[:width])
                joined = joined[width:]
            line = joined
    if line:
        lines.append(line)
    return lines or [""]


class Breakable:
    """Table cell text whose lines stay whole when the column is wide enough and otherwise break between words, then
    between the dotted parts of a release name (`Breaking.Bad.S02E13.` / `1080p.BluRay.x264-REPACK`): never in the
    middle of a word unless one part alone is wider than the column. Each of `lines` starts on a line of its own;
    `first_style` colours the first."""

    def __init__(self, lines: Sequence[str], empty: str = "-", first_style: str = "") -> None:
        self.lines = [line for line in lines if line] or [empty]
        self.first_style = first_style

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        parts = [part for line in self.lines for word in line.split() for part in _NAME_PART.findall(word)]
        narrowest = max((len(part) for part in parts), default=1)
        widest = max(len(line) for line in self.lines)
        return Measurement(min(narrowest, options.max_width), min(widest, options.max_width))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        text = Text(no_wrap=True, overflow="crop")
        for n, line in enumerate(self.lines):
            if n:
                text.append("\n")
            text.append("\n".join(break_line(line, width)), style=self.first_style if n == 0 else "")
        yield text


def without_names(reason: str, names: Sequence[str]) -> str:
    """A reason with the words that repeat a release name (shown in its own column) left out: "cached: NAME" reads
    "cached", "downloaded: NAME.mkv" reads "downloaded"."""
    words = [word for word in reason.split() if not any(name and name in word for name in names)]
    return " ".join(words).rstrip(":;,- ") or "-"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """ "1 torrent", "2 torrents" (`many` for a noun that takes more than an s: "copies")."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def reason_beside(state: str, reason: str) -> str:
    """A reason shown next to its state, without saying the state again: beside `downloading`, "downloading (not
    cached, 95 seeders): NAME" reads "not cached, 95 seeders: NAME", and a bare "downloading" reads ""."""
    for said in dict.fromkeys((state, state.replace("_", " "))):
        if reason == said:
            return ""
        rest = reason.removeprefix(said)
        if rest == reason or rest[:1] not in (" ", ":", ";", ","):
            continue
        rest = rest.lstrip(" :;,")
        if rest.startswith("(") and ")" in rest:  # "(not cached, 95 seeders): NAME"
            inside, _, after = rest[1:].partition(")")
            rest = inside + after
        return rest
    return reason


def result_line(result: RequestResult) -> str:
    """One request worked by `run --once`: "request 106 Dune (2021): downloading - not cached, 95 seeders: NAME"."""
    state = result.state.value
    why = reason_beside(state, result.reason)
    return f"request {result.request_id} {result.title}: {state}" + (f" - {why}" if why else "")


def pass_line(number: int, report: PassReport) -> str:
    """One pass of the demo: how many requests, how many ended in each state, and the calls the pass shared."""
    states = Counter(r.state.value for r in report.results)
    counts = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    shared = ", ".join(f"{svc} {sum(eps.values())}" for svc, eps in report.shared_calls.items()) or "none"
    return f"pass {number}: {plural(len(report.results), 'request')} ({counts}); shared calls: {shared}"


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
    table = Table(
        title="seerbridge status",
        title_justify="left",
        caption="calls: to Torrentio / to Real-Debrid",
        caption_justify="left",
    )
    table.add_column("request")
    table.add_column("title", max_width=30)
    table.add_column("state, last decision")
    table.add_column("next attempt", max_width=18)
    table.add_column("calls", justify="center", no_wrap=True)
    table.add_column("updated", max_width=10)
    now = clock.now()
    for r in records:
        state = str(r.state)
        why = reason_beside(state, r.reason or "")
        if r.state is RequestState.FULFILLED and not why.startswith("Jellyfin has not picked up"):
            why = f"waiting for Jellyfin ({waited(now - r.updated_at)}); {why}" if why else "waiting for Jellyfin"
        table.add_row(
            str(r.id),
            r.title,
            Breakable([state, why], first_style=STATE_STYLE.get(state, "")),
            _next(r),
            f"{_calls(r.calls, 'torrentio')} / {_calls(r.calls, 'realdebrid')}",
            r.updated_at.strftime("%Y-%m-%d %H:%M") if r.updated_at else "",
        )
    return table


def waited(span: timedelta) -> str:
    """How long something has waited, as a person says it: "4 min", "2 h 5 min", "3 days"."""
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{minutes // (24 * 60)} days"


def repair_lines(repairs: Sequence[RepairRecord], titles: dict[int, str]) -> list[str]:
    """`status`: the repairs seerbridge made, newest first (a torrent gone or broken, acquired again)."""
    lines = []
    for r in sorted(repairs, key=lambda r: r.at, reverse=True)[:10]:
        who = f"request {r.request_id} {titles.get(r.request_id, '')}".rstrip() if r.request_id else r.item_key
        done = "repaired" if r.resolved_at is not None else "being repaired"
        lines.append(f"{r.at.strftime('%Y-%m-%d %H:%M')} {who}: {r.kind} ({r.reason}); {done}")
    if len(repairs) > 10:
        lines.append(f"... and {len(repairs) - 10} earlier (seerbridge stats counts them all)")
    return lines


def status_json(
    records: Sequence[RequestRecord],
    services: str | None,
    holder: Holder | None,
    repairs: Sequence[RepairRecord] = (),
) -> dict[str, Any]:
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
    return {
        "worked_by": worked_by,
        "services": condition,
        "requests": [asdict(r) for r in records],
        "repairs": [asdict(r) for r in repairs],
    }


def isoformat(moment: date) -> str:
    """`json.dumps` default for the dates and datetimes in `status_json`."""
    return moment.isoformat()


def demo_table(result: DemoResult) -> Table:
    """What each request came to: its outcome and why, the torrents chosen, and the calls it cost.

    Five columns, so that it still reads on an 80-column terminal; release names break between their parts.
    """
    table = Table(
        title="seerbridge demo: what each request came to",
        title_justify="left",
        caption="calls: to Torrentio / to Real-Debrid",
        caption_justify="left",
    )
    table.add_column("request")
    table.add_column("title", max_width=24)
    table.add_column("outcome (why)", max_width=24)
    table.add_column("torrent chosen")
    table.add_column("calls", justify="center")
    for row in result.rows:
        why = without_names(reason_beside(row.state, row.reason), row.torrents)
        table.add_row(
            str(row.request_id),
            row.title,
            styled_state(row.state) + ("" if why == "-" else f" ({why})"),
            Breakable(row.torrents),
            f"{row.torrentio_calls} / {row.realdebrid_calls}",
        )
    return table


def upgrade_table(report: UpgradeReport) -> Table:
    """One upgrade round: each torrent checked, and each replaced torrent deleted."""
    table = Table(title="seerbridge upgrade round", title_justify="left")
    for column in ("torrent", "profile", "outcome", "detail"):
        table.add_column(column, overflow="fold")
    for check in report.checks:
        detail: RenderableType = Breakable([f"→ {check.new_name}"]) if check.new_name else check.detail
        table.add_row(Breakable([check.name]), check.profile, styled_state(check.outcome), detail)
    for doomed in report.removed:
        table.add_row(
            Breakable([doomed.name]), "-", "[green]deleted[/green]", without_names(doomed.reason, [doomed.name])
        )
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
