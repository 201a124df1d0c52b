"""Small builders for selection tests: titles, wanted items, candidates and rule contexts from plain values."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date

from seerbridge.config import ProfileSettings, SelectionSettings
from seerbridge.domain.media import MediaKind, Title, Wanted
from seerbridge.domain.release import Candidate
from seerbridge.selection.parse import candidate
from seerbridge.selection.rules import GB, RuleContext

TODAY = date(2026, 11, 24)


def movie(title: str, year: int | None, *, original: str | None = None, aliases: Iterable[str] = ()) -> Wanted:
    media = Title(
        kind=MediaKind.MOVIE, tmdb_id=1, title=title, original_title=original, aliases=tuple(aliases), year=year
    )
    return Wanted(title=media)


def show(
    title: str,
    year: int | None,
    season: int,
    episodes: Iterable[int],
    *,
    original: str | None = None,
    aliases: Iterable[str] = (),
    premiere: date | None = None,
    last_air: date | None = None,
) -> Wanted:
    media = Title(
        kind=MediaKind.SHOW,
        tmdb_id=2,
        title=title,
        original_title=original,
        aliases=tuple(aliases),
        year=year,
        premiere=premiere,
        last_air=last_air,
    )
    return Wanted(title=media, season=season, episodes=frozenset(episodes))


def hash_of(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()


def cand(
    name: str,
    *,
    gb: float | None = None,
    seeders: int | None = 50,
    info_hash: str | None = None,
    languages: Iterable[str] = (),
    cached_hint: bool = False,
) -> Candidate:
    return candidate(
        info_hash=info_hash or hash_of(name),
        name=name,
        max_chars=300,
        seeders=seeders,
        size_bytes=None if gb is None else int(gb * GB),
        languages=languages,
        cached_hint=cached_hint,
    )


def ctx(
    wanted: Wanted,
    *,
    profile: str = "standard",
    settings: SelectionSettings | None = None,
    bad: Iterable[str] = (),
    profile_settings: ProfileSettings | None = None,
) -> RuleContext:
    settings = settings or SelectionSettings()
    return RuleContext(
        wanted=wanted,
        profile_name=profile,
        profile=profile_settings or settings.profiles[profile],
        settings=settings,
        bad_hashes=frozenset(bad),
        today=TODAY,
    )
