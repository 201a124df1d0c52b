"""Offline `seerbridge explain`: judge a saved Torrentio answer for a title without calling any service, and show it.

`explain_streams(...)` returns an `Explanation` (verdicts with reason sentences): `to_json` gives the `--json`
object, `render_table` the table people read. The live form (`--request ID`) builds the same inputs from
Seerr, Jellyfin and Torrentio and reuses `explain_candidates` + `to_json` + `render_table`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from rich.table import Table
from rich.text import Text

from seerbridge.config import ProfileSettings, SelectionSettings
from seerbridge.domain.decision import Verdict
from seerbridge.domain.media import MediaKind, Title, Wanted
from seerbridge.domain.release import Candidate
from seerbridge.selection.chain import evaluate
from seerbridge.selection.profiles import choose_profile, profile_by_name
from seerbridge.selection.rules import RuleContext, build_chain

_RANGE = re.compile(r"^(\d+)(?:\s*-\s*(\d+))?$")
_MAX_EPISODES = 5000


@dataclass(frozen=True)
class Explanation:
    """What selection made of the candidates: the wanted item, the profile used, and the ordered verdicts."""

    wanted: Wanted
    profile: str
    verdicts: tuple[Verdict, ...]


def parse_episode_range(text: str) -> list[int]:
    """`"1-8,10"` → [1, 2, …, 8, 10] (sorted, no repeats); "" → []. ValueError names the bad part."""
    episodes: set[int] = set()
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        m = _RANGE.match(part)
        if not m:
            raise ValueError(f"bad episode range {part!r}; write e.g. 1-8,10")
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else first
        if first < 1 or last < first:
            raise ValueError(f"bad episode range {part!r}: episodes start at 1 and ranges go up")
        if last - first >= _MAX_EPISODES:
            raise ValueError(f"episode range {part!r} is too long")
        episodes.update(range(first, last + 1))
    return sorted(episodes)


def candidates_from_streams(streams_payload: Mapping[str, Any], *, max_chars: int) -> list[Candidate]:
    """A saved Torrentio answer (`{"streams": [...]}`) → candidates, via the client's own stream reader."""
    from seerbridge.pipeline.candidates import to_candidate
    from seerbridge.services.torrentio import parse_streams

    streams = streams_payload.get("streams") if isinstance(streams_payload, Mapping) else None
    if not isinstance(streams, list):
        raise ValueError('not a Torrentio answer: expected an object with a "streams" list')
    return [to_candidate(s, max_chars) for s in parse_streams(streams, endpoint="saved answer")]


def explain_candidates(
    candidates: Iterable[Candidate],
    wanted: Wanted,
    *,
    settings: SelectionSettings,
    today: date,
    profile: str | None = None,
    bad_hashes: frozenset[str] = frozenset(),
) -> Explanation:
    """Judge candidates for a wanted item with the named profile, or the one the profile rules choose."""
    chosen: tuple[str, ProfileSettings] = (
        profile_by_name(settings, profile)
        if profile
        else choose_profile(settings, wanted.title, is4k=wanted.is4k, today=today)
    )
    ctx = RuleContext(
        wanted=wanted,
        profile_name=chosen[0],
        profile=chosen[1],
        settings=settings,
        bad_hashes=bad_hashes,
        today=today,
    )
    verdicts = evaluate(candidates, ctx, build_chain(settings.rules))
    return Explanation(wanted=wanted, profile=chosen[0], verdicts=tuple(verdicts))


def wanted_for(
    *,
    kind: Literal["movie", "show"],
    title: str,
    original_title: str | None,
    year: int | None,
    season: int | None,
    episodes: Sequence[int],
    is4k: bool = False,
) -> Wanted:
    """The wanted item the command line describes; ValueError when it does not add up."""
    if kind not in ("movie", "show"):
        raise ValueError(f"kind must be movie or show, not {kind!r}")
    if not title.strip():
        raise ValueError("a title is needed")
    if kind == "movie" and (season is not None or episodes):
        raise ValueError("a movie has no season or episodes")
    if kind == "show" and season is None:
        raise ValueError("a show needs a season")
    if season is not None and season < 0:
        raise ValueError("season must be 0 or more")
    media = Title(
        kind=MediaKind(kind), tmdb_id=0, title=title.strip(), original_title=original_title or None, year=year
    )
    return Wanted(title=media, season=season, episodes=frozenset(episodes), is4k=is4k)


def explain_streams(
    streams_payload: Mapping[str, Any],
    *,
    kind: Literal["movie", "show"],
    title: str,
    original_title: str | None,
    year: int | None,
    season: int | None,
    episodes: Sequence[int],
    profile: str | None,
    settings: SelectionSettings,
    today: date,
    is4k: bool = False,
) -> Explanation:
    """The offline explanation with the verdicts (for the table)."""
    wanted = wanted_for(
        kind=kind,
        title=title,
        original_title=original_title,
        year=year,
        season=season,
        episodes=episodes,
        is4k=is4k,
    )
    found = candidates_from_streams(streams_payload, max_chars=settings.max_name_chars)
    return explain_candidates(found, wanted, settings=settings, today=today, profile=profile)


def to_json(explanation: Explanation) -> dict[str, Any]:
    """The `--json` form: `{"candidates": [...]}`, accepted first in preference order, rejected with rule names."""
    return {
        "candidates": [
            {
                "info_hash": v.candidate.info_hash,
                "name": v.candidate.name,
                "sources": list(v.candidate.sources),
                "accepted": v.accepted,
                "reasons": v.reasons,
                "score": v.score,
                "season": v.season,
                "episodes": sorted(v.episodes),
            }
            for v in explanation.verdicts
        ]
    }


def _episodes_text(season: int | None, episodes: Iterable[int]) -> str:
    eps = sorted(episodes)
    if season is None:
        return ""
    if not eps:
        return f"S{season:02d}"
    runs: list[str] = []
    start = prev = eps[0]
    for e in [*eps[1:], None]:
        if e is not None and e == prev + 1:
            prev = e
            continue
        runs.append(f"{start}" if start == prev else f"{start}-{prev}")
        if e is not None:
            start = prev = e
    return f"S{season:02d} E{','.join(runs)}"


def render_table(result: Explanation | Mapping[str, Any], *, title: str = "seerbridge explain") -> Table:
    """A readable table: hash prefix, name, verdict, score, season/episodes, the probe's outcome when the rows come
    from a stored decision, and reasons (sentences when known)."""
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("hash")
    table.add_column("release", overflow="fold")
    table.add_column("verdict")
    table.add_column("score", justify="right")
    table.add_column("covers")
    probes: list[str] | None = None
    found_by: list[list[str]]
    if isinstance(result, Explanation):
        found_by = [list(v.candidate.sources) for v in result.verdicts]
        table.caption = f"{result.wanted.describe()} · profile {result.profile}"
        rows = [
            (
                v.candidate.info_hash,
                v.candidate.name,
                v.accepted,
                v.score,
                _episodes_text(v.season, v.episodes) + (" (pack)" if v.is_pack else ""),
                [f"{r.rule}: {r.reason}" for r in v.rejections],
            )
            for v in result.verdicts
        ]
    else:
        candidates = list(result.get("candidates", []))
        found_by = [[str(x) for x in c.get("sources") or []] for c in candidates]
        rows = [
            (
                str(c["info_hash"]),
                str(c["name"]),
                bool(c["accepted"]),
                c.get("score"),
                _episodes_text(c.get("season"), c.get("episodes") or []),
                [str(r) for r in c.get("reasons") or []],
            )
            for c in candidates
        ]
        if any("probe" in c for c in candidates):
            probes = [str(c.get("probe") or "") for c in candidates]
            table.add_column("probe")
    # Which sources listed each release, when any came from more than Torrentio (sources.<name> configured).
    show_sources = any(names and names != ["torrentio"] for names in found_by)
    if show_sources:
        table.add_column("found by")
    table.add_column("why not", overflow="fold")
    rank = 0
    for n, (info_hash, name, accepted, score, covers, reasons) in enumerate(rows):
        rank += 1 if accepted else 0
        cells: list[str | Text] = [
            str(rank) if accepted else "",
            Text(info_hash[:8]),
            Text(name),
            "[green]accepted[/green]" if accepted else "[red]rejected[/red]",
            "" if score is None else f"{score:,}",
            Text(covers),
        ]
        if probes is not None:
            cells.append(Text(probes[n]))
        if show_sources:
            cells.append(Text(", ".join(found_by[n])))
        table.add_row(*cells, Text("\n".join(reasons)))
    return table


def render_decision(payload: list[dict[str, Any]]) -> Table:
    """A stored decision (what a pass weighed, probed and chose) as the explain table, with the probe outcomes."""
    return render_table({"candidates": payload}, title="decision log")


__all__ = [
    "Explanation",
    "candidates_from_streams",
    "explain_candidates",
    "explain_streams",
    "parse_episode_range",
    "render_decision",
    "render_table",
    "to_json",
    "wanted_for",
]
