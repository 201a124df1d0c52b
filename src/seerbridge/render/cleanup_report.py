"""A cleanup plan and its outcome for people: a rich table of what goes, then lines (used by the CLI and the demo)."""

from __future__ import annotations

from rich.console import RenderableType
from rich.markup import escape
from rich.table import Table

from seerbridge.pipeline.cleanup import CleanupOutcome, CleanupPlan, LeftAlone, Spared
from seerbridge.pipeline.removal import Doomed
from seerbridge.render.report import plural

_UNITS = (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("kB", 1024))


def human_size(size: int | None) -> str:
    """1024-based, like Real-Debrid and Torrentio show sizes: `25.0 GB`, `700 MB`; `?` when unknown."""
    if size is None:
        return "?"
    for unit, scale in _UNITS:
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{size} B"


def doomed_table(doomed: tuple[Doomed, ...], *, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("rule", "name", "Real-Debrid id", "size", "why"):
        table.add_column(column, overflow="fold")
    for d in doomed:
        name = escape(d.name) + ("" if d.ours else " [dim](added by hand)[/dim]")
        table.add_row(d.rule, name, d.rd_id, human_size(d.size_bytes), escape(d.reason))
    return table


def left_alone_line(entry: LeftAlone) -> str:
    head = "waiting" if entry.spared is Spared.WAITING else f"left alone ({entry.spared.value})"
    detail = entry.detail
    if entry.until is not None:
        detail += f"; deletable from {entry.until.strftime('%Y-%m-%d %H:%M %Z')}"
    return (
        f"{head}: {escape(entry.name)} ({human_size(entry.size_bytes)}, {entry.rd_id}) "
        f"{escape(f'[{entry.rule}]')} {escape(entry.reason)}; {escape(detail)}"
    )


def plan_lines(plan: CleanupPlan) -> list[str]:
    """Left-alone entries, notes, and the summary line (rich markup, names escaped)."""
    lines = [left_alone_line(entry) for entry in plan.left_alone]
    lines += [f"note: {escape(note)}" for note in plan.notes]
    if plan.count:
        lines.append(
            f"{plural(plan.count, 'torrent')}, {human_size(plan.size_bytes)} would be freed; "
            f"run `seerbridge cleanup --apply` to delete {'it' if plan.count == 1 else 'them'}"
        )
    else:
        lines.append(f"nothing to delete among the {plural(plan.listed, 'torrent')} in the Real-Debrid account")
    return lines


def render_plan(plan: CleanupPlan) -> list[RenderableType]:
    """The plan as printed by `seerbridge cleanup`: the table (when anything goes), then `plan_lines`."""
    out: list[RenderableType] = []
    if plan.doomed:
        out.append(doomed_table(plan.doomed, title="seerbridge cleanup plan"))
    out.extend(plan_lines(plan))
    return out


def render_outcome(plan: CleanupPlan, outcome: CleanupOutcome) -> list[RenderableType]:
    """What `seerbridge cleanup --apply` did: deleted torrents, failures, what stayed, and the space freed."""
    out: list[RenderableType] = []
    if outcome.deleted:
        out.append(doomed_table(outcome.deleted, title="seerbridge cleanup: deleted"))
    for d in outcome.already_gone:
        out.append(f"already gone from Real-Debrid (recorded): {escape(d.name)} ({d.rd_id})")
    for d, error in outcome.failed:
        out.append(f"[red]could not delete[/red] {escape(d.name)} ({d.rd_id}): {escape(error)}")
    out.extend(left_alone_line(entry) for entry in plan.left_alone)
    out.extend(f"note: {escape(note)}" for note in plan.notes)
    summary = f"{plural(len(outcome.deleted), 'torrent')} deleted, {human_size(outcome.bytes_freed)} freed"
    if outcome.failed:
        they = "it stays" if len(outcome.failed) == 1 else "they stay"
        summary += f"; {len(outcome.failed)} could not be deleted ({they} in the plan of the next run)"
    out.append(summary)
    return out


__all__ = ["doomed_table", "human_size", "left_alone_line", "plan_lines", "render_outcome", "render_plan"]
