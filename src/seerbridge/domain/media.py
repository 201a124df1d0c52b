"""What was asked for: a title (movie or show) and the wanted items derived from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class MediaKind(StrEnum):
    MOVIE = "movie"
    SHOW = "show"


@dataclass(frozen=True)
class Title:
    """A movie or show as the catalogue (Seerr/TMDB) describes it."""

    kind: MediaKind
    tmdb_id: int
    title: str
    original_title: str | None = None
    aliases: tuple[str, ...] = ()
    year: int | None = None
    premiere: date | None = None  # release date (movie) or first air date (show)
    # Shows: the air date of the latest season the catalogue dates; with `premiere` it bounds the show's years.
    last_air: date | None = None
    imdb_id: str | None = None
    tvdb_id: int | None = None

    def names(self) -> tuple[str, ...]:
        """Every name a release may carry for this title, main title first, without repeats."""
        seen: list[str] = []
        for name in (self.title, self.original_title, *self.aliases):
            if name and name not in seen:
                seen.append(name)
        return tuple(seen)

    def age_years(self, today: date) -> float | None:
        """Years since release (movies) or first air date (shows); None when unknown."""
        start = self.premiere or (date(self.year, 7, 1) if self.year else None)
        return None if start is None else (today - start).days / 365.25


@dataclass(frozen=True)
class Wanted:
    """One unit of acquisition: a movie, or the wanted (aired, missing) episodes of one season of a show."""

    title: Title
    season: int | None = None
    episodes: frozenset[int] = field(default_factory=frozenset)
    is4k: bool = False

    @property
    def key(self) -> str:
        """Stable identity of the work, shared by every request for the same thing."""
        base = f"movie:{self.title.tmdb_id}" if self.season is None else f"show:{self.title.tmdb_id}:s{self.season:02d}"
        return base + (":4k" if self.is4k else "")

    @staticmethod
    def season_of_key(key: str) -> int | None:
        """The season a `key` names (None for a movie): `show:<tmdb>:s<season>[:4k]`, any number of digits."""
        parts = key.split(":")
        if parts[0] != "show" or len(parts) < 3 or not parts[2].startswith("s") or not parts[2][1:].isdigit():
            return None
        return int(parts[2][1:])

    @property
    def is_movie(self) -> bool:
        return self.season is None

    def describe(self) -> str:
        if self.season is None:
            return f"{self.title.title} ({self.title.year or '?'})"
        eps = ",".join(str(e) for e in sorted(self.episodes))
        return f"{self.title.title} S{self.season:02d} E[{eps}]"
