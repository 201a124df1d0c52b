"""The rules a candidate must pass, each a small named object that returns None (pass) or a reason a person can read.

A rule has a `name` (what `explain`, the decision log and `selection.rules` call it) and
`check(candidate, ctx) -> str | None`. Rules take their parameters from `ctx` (the active profile and
`SelectionSettings`), so the chain is data: `build_chain(settings.rules)` builds it in the configured order, and an
unknown name is an error that lists the known ones.

Rules that need the parsed name pass when it did not parse: judging that is the `parse` rule's job (leave `parse`
out of the chain to let unparseable names through on purpose).

Adding a rule:
1. write a class with `name = "my_rule"` and a `check(self, candidate, ctx)` method returning None or a reason;
2. decorate it with `@register`; a parameter it needs goes on `ProfileSettings` (per profile) or
   `SelectionSettings` (global) in `config.py`, typed, defaulted and described;
3. add the name to `DEFAULT_RULES` in `config.py` if it should run by default, and a test in `tests/selection/`.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, TypeVar

from seerbridge.config import ProfileSettings, SelectionSettings
from seerbridge.domain.media import Wanted
from seerbridge.domain.release import Candidate, ParsedRelease
from seerbridge.selection.parse import TRASH_QUALITIES

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from RTN import title_match as _rtn_title_match
    from RTN.patterns import normalize_title as _rtn_normalize

GB = 1024**3  # Torrentio's 💾 figures use 1024-based units
_ARTICLES = ("the ", "a ", "an ")


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule may look at besides the candidate. `bad_hashes` are compared lower-case."""

    wanted: Wanted
    profile_name: str
    profile: ProfileSettings
    settings: SelectionSettings
    bad_hashes: frozenset[str] = field(default_factory=frozenset)
    today: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "bad_hashes", frozenset(h.lower() for h in self.bad_hashes))


class Rule(Protocol):
    """One link of the chain."""

    name: str

    def check(self, candidate: Candidate, ctx: RuleContext) -> str | None:
        """None when the candidate passes, else the reason in words."""
        ...


class UnknownRule(ValueError):
    """`selection.rules` names a rule that does not exist (or twice)."""


_REGISTRY: dict[str, Callable[[], Rule]] = {}


R = TypeVar("R", bound=type[Rule])


def register(cls: R) -> R:
    """Class decorator: make a rule available to `build_chain` under its `name`."""
    name = cls.name
    if name in _REGISTRY:
        raise ValueError(f"rule {name!r} is registered twice")
    _REGISTRY[name] = cls
    return cls


def known_rules() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def build_chain(names: Sequence[str]) -> tuple[Rule, ...]:
    """The rules named, in that order; UnknownRule names the bad entry and lists the known ones."""
    seen: set[str] = set()
    chain: list[Rule] = []
    for name in names:
        if name not in _REGISTRY:
            raise UnknownRule(f"unknown rule {name!r} in selection.rules; known rules: {', '.join(known_rules())}")
        if name in seen:
            raise UnknownRule(f"rule {name!r} is listed twice in selection.rules")
        seen.add(name)
        chain.append(_REGISTRY[name]())
    return tuple(chain)


# --- title helpers -------------------------------------------------------------------------------------------------


def normalize(title: str) -> str:
    """Lower case, accents folded, punctuation dropped, `&` → and (RTN's normalisation), single spaces."""
    return " ".join(_rtn_normalize(title).split())


def _without_article(title: str) -> str:
    for article in _ARTICLES:
        if title.startswith(article) and len(title) > len(article):
            return title[len(article) :]
    return title


def title_matches(release_title: str, names: Sequence[str], threshold: float) -> bool:
    """RTN's Levenshtein title match against any of the names, also with a leading article dropped on both sides."""
    release = normalize(release_title)
    if not release:
        return False
    releases = {release, _without_article(release)}
    for name in names:
        wanted = normalize(name)
        if not wanted:
            continue
        for a in {wanted, _without_article(wanted)}:
            for b in releases:
                if a == b or _rtn_title_match(a, b, threshold=threshold):
                    return True
    return False


def is_short_title(title: str, max_chars: int) -> bool:
    """Short or common: at most `max_chars` letters/digits, or one word once a leading article is dropped."""
    words = _without_article(normalize(title)).split()
    return len(words) <= 1 or sum(len(w) for w in words) <= max_chars


# --- coverage ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """What a release holds of the wanted item: its season, the wanted episodes it covers, pack or not.

    For packs `episodes` is every wanted episode (the torrent's files confirm it later, see `files.select_files`).
    `problem` is None when the release fits the wanted item, else the reason it does not.
    """

    season: int | None
    episodes: frozenset[int]
    is_pack: bool
    problem: str | None = None


def _seasons_text(seasons: Sequence[int]) -> str:
    if len(seasons) == 1:
        return f"season {seasons[0]}"
    return "seasons " + ", ".join(str(s) for s in seasons)


def coverage(parsed: ParsedRelease, wanted: Wanted) -> Coverage:
    """Whether the release holds (part of) the wanted item, and which wanted episodes.

    Movies: a name with seasons or episodes is a series release. Seasons: a pack (no episodes named, or marked
    complete) fits when its seasons include the wanted one; a complete pack naming no season fits (its files decide);
    episode releases must be of the wanted season and hold at least one wanted episode; episodes named without a
    season count as season 1 (absolute numbering), so they only fit season 1.
    """
    if wanted.season is None:
        if parsed.seasons or parsed.episodes:
            what = _seasons_text(parsed.seasons) if parsed.seasons else "episodes"
            return Coverage(None, frozenset(), False, f"a series release ({what}); a movie was asked for")
        return Coverage(None, frozenset(), False)
    season = wanted.season
    want = wanted.episodes
    seasons = parsed.seasons
    if not seasons:
        if parsed.complete:
            return Coverage(season, want, True)
        if parsed.episodes and season == 1:
            seasons = (1,)
        else:
            return Coverage(None, frozenset(), False, "the name states no season")
    if season not in seasons:
        return Coverage(
            seasons[0] if len(seasons) == 1 else None,
            frozenset(),
            parsed.is_pack,
            f"holds {_seasons_text(seasons)}, not season {season}",
        )
    if not parsed.episodes or parsed.complete:
        return Coverage(season, want, True)
    episodes = frozenset(parsed.episodes)
    covered = episodes & want if want else episodes
    if not covered:
        listed = ", ".join(str(e) for e in sorted(episodes))
        return Coverage(season, frozenset(), False, f"holds episode(s) {listed} of season {season}, none wanted")
    return Coverage(season, covered, False)


# --- the rules -----------------------------------------------------------------------------------------------------


@register
class ParseRule:
    """The release name must parse into at least a title."""

    name = "parse"

    def check(self, candidate: Candidate, ctx: RuleContext) -> str | None:
        if candidate.parsed is None:
            return f"name not understood: {candidate.parse_error or 'parse failed'}"
        return None


@register
class BadHashRule:
    """Hashes marked bad (e.g. Real-Debrid refused them with 451) are skipped."""

    name = "bad_hash"

    def check(self, candidate: Candidate, ctx: RuleContext) -> str | None:
        if candidate.info_hash.lower() in ctx.bad_hashes:
            return "hash previously marked bad"
        return None


@register
class TrashRule:
    """Cinema recordings and pre-release copies: CAM, TS, TC, screeners, R5 (RTN's trash flag and quality)."""

    name = "trash"

    def check(self, candidate: Candidate, ctx: RuleContext) -> str | None:
        parsed = candidate.parsed
        if parsed is not None and (parsed.trash or parsed.quality in TRASH_QUALITIES):
            return f"trash source ({parsed.quality or 'CAM/TS/screener'})"
        return None


@register
class TitleRule:
    """The release title matches the title, original title or an alias (RTN similarity ≥ title_similarity)."""

    name = "title"

    def check(self, candidate: Candidate, ctx: RuleContext) -> str | None:
        parsed = candidate.parsed
        if parsed is None:
            return None
        names = ctx.wanted.title.names()
        if title_matches(parsed.title, names, ctx.settings.title_similarity):
            return None
        return f"title {parsed.title!r} does not match {' / '.join(repr(n) for n in names)}"


def _title_year(wanted: Wanted) -> int | None:
    title = wanted.title
    return title.year or (title.premiere.year if title.premiere else None)


def _last_show_year(wanted: Wanted, first: int, today: date | None) -> int | None:
    """The show's last year: the latest dated season's (`Title.last_air`, from the catalogue's seasons).

    When the catalogue dates no season, today's year stands in: the show may still be running, and no release can
    carry a later year. (`Wanted` holds no air date of its own season, so that cannot be the fallback.) Without
    either the span has no end: None.
    """
    last = wanted.title.last_air
    end = last.year if last else today.year if today else None
    return None if end is None else max(first, end)


@register
class YearRule:
    """The stated year must be the title's (± year_tolerance); short/common titles are stricter.

    - Short or common title (≤ short_title_chars letters, or one word): a movie release without a year is rejected
      ("Haunt" could be any Haunt), and so is one with another year; a series release without a year is accepted
      (series releases rarely carry one) but one with another year is rejected ("Shogun.1980" for the 2024 show).
    - Longer titles: a movie release with another year is rejected. A series release without a year is accepted;
      one with a year must fall in the show's years (first air year … latest season's year, ± year_tolerance),
      since packs carry the show's first year or the season's, while a year outside means another show of the same
      name: the 1980 "Magnum.P.I" for the 2018 reboot.
    """

    name = "year"

    def check(self, candidate: Candidate, ctx: RuleContext) -> str | None:
        parsed = candidate.parsed
        year = _title_year(ctx.wanted)
        if parsed is None or year is None:
            return None
        tolerance = ctx.settings.year_tolerance
        plus_minus = f" (±{tolerance})" if tolerance else ""
        short = is_short_title(ctx.wanted.title.title, ctx.settings.short_title_chars)
        is_movie = ctx.wanted.is_movie
        if parsed.year is None:
            if is_movie and short:
                return f"no year in the name, and {ctx.wanted.title.title!r} is a short or common title ({year} wanted)"
            return None
        if abs(parsed.year - year) <= tolerance:
            return None
        if is_movie or short:
            return f"year {parsed.year} is not {year}" + plus_minus
        last = _last_show_year(ctx.wanted, year, ctx.today)
        if year - tolerance <= parsed.year and (last is None or parsed.year <= last + tolerance):
            return None
        span = f"{year}–{last}" if last is not None else f"from {year}"
        return f"year {parsed.year} is outside the show's years {span}" + plus_minus


@register
class CoverageRule:
    """The release holds the wanted movie, or the wanted season (pack) or at least one wanted episode."""

    name = "coverage"

    def check(self, candidate: Candidate, ctx: RuleContext) -> str | None:
        if candidate.parsed is None:
            return None
        return coverage(candidate.parsed, ctx.wanted).problem


@register
class ResolutionRule:
    """The resolution is on the profile's ladder ("unknown" only passes when the ladder lists it)."""

    name = "resolution"

    def check(self, candidate: Candidate, ctx: RuleContext) -> str | None:
        parsed = candidate.parsed
        if parsed is None or parsed.resolution in ctx.profile.resolutions:
            return None
        ladder = ", ".join(ctx.profile.resolutions)
        return f"{parsed.resolution} is not on the ladder of profile {ctx.profile_name!r} ({ladder})"


def size_band(ctx: RuleContext) -> tuple[float, float]:
    """The allowed size of the file Torrentio points at, in bytes: a movie, or one episode."""
    low, high = ctx.profile.movie_size_gb if ctx.wanted.is_movie else ctx.profile.episode_size_gb
    return low * GB, high * GB


@register
class SizeRule:
    """Torrentio's 💾 (one file: the movie, or one episode even in a pack) is in the profile's band; unknown passes."""

    name = "size"

    def check(self, candidate: Candidate, ctx: RuleContext) -> str | None:
        size = candidate.size_bytes
        if size is None:
            return None
        low, high = size_band(ctx)
        if low <= size <= high:
            return None
        what = "movie" if ctx.wanted.is_movie else "episode"
        return f"{what} file of {size / GB:.2f} GB is outside {low / GB:g}–{high / GB:g} GB"


@register
class LanguageRule:
    """languages_excluded: a release naming any of them is rejected. languages_required: it must name one of them.

    A release that names no language (in its name or Torrentio's flags) counts as English: Torrentio leaves the
    flag line out when the only language is English, and scene names rarely say ENGLISH.
    """

    name = "language"

    def check(self, candidate: Candidate, ctx: RuleContext) -> str | None:
        parsed = candidate.parsed
        if parsed is None:
            return None
        stated = parsed.languages
        excluded = [code for code in stated if code in ctx.profile.languages_excluded]
        if excluded:
            return f"language {', '.join(excluded)} is excluded"
        required = ctx.profile.languages_required
        if required:
            languages = stated or ("en",)
            if not any(code in required for code in languages):
                shown = ", ".join(stated) if stated else "none stated (taken as en)"
                return f"languages {shown}; one of {', '.join(required)} required"
        return None


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


@register
class ExcludeRegexRule:
    """A release name matching any `exclude_regex` of the profile is rejected (case-insensitive)."""

    name = "exclude_regex"

    def check(self, candidate: Candidate, ctx: RuleContext) -> str | None:
        for pattern in ctx.profile.exclude_regex:
            if _compiled(pattern).search(candidate.name):
                return f"name matches excluded pattern {pattern!r}"
        return None


@register
class RequireRegexRule:
    """When the profile has `require_regex`, the release name must match one of them (case-insensitive)."""

    name = "require_regex"

    def check(self, candidate: Candidate, ctx: RuleContext) -> str | None:
        patterns = ctx.profile.require_regex
        if not patterns or any(_compiled(p).search(candidate.name) for p in patterns):
            return None
        return f"name matches none of the required patterns {', '.join(repr(p) for p in patterns)}"


@dataclass(frozen=True)
class MinSeeders:
    """For uncached downloads only (not in the default chain): enough seeders; unknown counts as too few.

    Acquisition builds it with `AcquireSettings.uncached_min_seeders` and checks it on its own.
    """

    threshold: int
    name: str = "min_seeders"

    def check(self, candidate: Candidate, ctx: RuleContext) -> str | None:
        seeders = candidate.seeders
        if seeders is None:
            return f"seeders unknown; at least {self.threshold} needed to download uncached"
        if seeders < self.threshold:
            return f"{seeders} seeders; at least {self.threshold} needed to download uncached"
        return None


__all__ = [
    "GB",
    "BadHashRule",
    "Coverage",
    "CoverageRule",
    "ExcludeRegexRule",
    "LanguageRule",
    "MinSeeders",
    "ParseRule",
    "RequireRegexRule",
    "ResolutionRule",
    "Rule",
    "RuleContext",
    "SizeRule",
    "TitleRule",
    "TrashRule",
    "UnknownRule",
    "YearRule",
    "build_chain",
    "coverage",
    "is_short_title",
    "known_rules",
    "normalize",
    "register",
    "size_band",
    "title_matches",
]
