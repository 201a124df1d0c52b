"""How the Jellyfin emulator reads names on disk: Jellyfin 10.11's cleaners, provider-id tags, episode numbers, and
the TMDB lookup a scan does, played against the scenario's catalogue (which stands in for TMDB).

Read from jellyfin/jellyfin v10.11: `Emby.Naming/Common/NamingOptions.cs` (CleanDateTimes, CleanStrings),
`Emby.Naming/Video/CleanDateTimeParser.cs`, `Emby.Server.Implementations/Library/PathExtensions.cs`
(`GetAttributeValue`), `MediaBrowser.Common/Providers/ProviderIdParsers.cs` (`TryFindImdbId`), the movie and series
resolvers (which text each id is read from) and `MediaBrowser.Providers/Plugins/Tmdb` (what a search takes).

The rules, in short:
- Ids: `[tmdbid-N]`, `[tvdbid-N]`, `[imdbid-ttN]` (`=` also works in place of `-`). The short and bracket-free forms
  (`{tmdb-N}`, `(tvdb=N)`, `[imdb-tt…]`) are read only by Jellyfin 12.0 (commit 1294990f, first in v12.0-rc3): the
  emulator reads them when its version is 12 or later. An IMDb id is also found bare (`tt` + 7-8 digits) anywhere in a
  movie's path, or in a series folder's name.
- Year: Jellyfin's CleanDateTime regexes. Their leading `.+` is greedy, so the *last* 19xx/20xx number that stands
  after a separator (`.`, `_`, `(`, `)`, `[`, `]`, `-`, or spaces before it in the second regex) and is not followed by
  more digits is the year: in `Some.Film.1920x1080.WEB` that is 1920 (`x` is not a digit), and in
  `Some.Film.2019.1920x1080` it is 1920 too. Everything from that separator on is cut from the name.
- Name: then the CleanString regexes cut at the first release tag (`1080p`, `x264`, `bluray`, `[…]`, …); the TMDB
  search turns every run of non-word characters and `_` into one space (so `.` and `_` become spaces).
- Search: a name with a year finds only catalogue media of that year (TMDB's `year` filter); none → no match. A name
  without a year takes the most popular media with that title (`MediaSpec.popularity`, then scenario order). Titles
  compare after the search clean-up, case- and accent-blind, against the title, original title and translations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from seerbridge.sandbox.jellyfin_items import clean_name
from seerbridge.sandbox.scenario import MediaSpec, Scenario

MediaKind = Literal["movie", "tv"]

# NamingOptions.CleanDateTimes (10.11), verbatim apart from Python's group syntax.
_CLEAN_DATE_TIMES = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"(.+[^_\,\.\(\)\[\]\-])[_\.\(\)\[\]\-](19[0-9]{2}|20[0-9]{2})(?![0-9]+|\W[0-9]{2}\W[0-9]{2})"
        r"([ _\,\.\(\)\[\]\-][^0-9]|).*(19[0-9]{2}|20[0-9]{2})*",
        r"(.+[^_\,\.\(\)\[\]\-])[ _\.\(\)\[\]\-]+(19[0-9]{2}|20[0-9]{2})(?![0-9]+|\W[0-9]{2}\W[0-9]{2})"
        r"([ _\,\.\(\)\[\]\-][^0-9]|).*(19[0-9]{2}|20[0-9]{2})*",
    )
]
# NamingOptions.CleanStrings (10.11), applied one after the other, each to the previous one's result.
_CLEAN_STRINGS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^\s*(?P<cleaned>.+?)[ _\,\.\(\)\[\]\-](3d|sbs|tab|hsbs|htab|mvc|HDR|HDC|UHD|UltraHD|4k|ac3|dts|custom|dc|"
        r"divx|divx5|dsr|dsrip|dutch|dvd|dvdrip|dvdscr|dvdscreener|screener|dvdivx|cam|fragment|fs|hdtv|hdrip|"
        r"hdtvrip|internal|limited|multi|subs|ntsc|ogg|ogm|pal|pdtv|proper|repack|rerip|retail|cd[1-9]|r5|bd5|bd|se|"
        r"svcd|swedish|german|read.nfo|nfofix|unrated|ws|telesync|ts|telecine|tc|brrip|bdrip|480p|480i|576p|576i|"
        r"720p|720i|1080p|1080i|2160p|hrhd|hrhdtv|hddvd|bluray|blu-ray|x264|x265|h264|h265|xvid|xvidvd|xxx|www.www|"
        r"AAC|DTS|\[.*\])([ _\,\.\(\)\[\]\-]|$)",
        r"^(?P<cleaned>.+?)(\[.*\])",
        r"^\s*(?P<cleaned>.+?)\WE[0-9]+(-|~)E?[0-9]+(\W|$)",
        r"^\s*\[[^\]]+\](?!\.\w+$)\s*(?P<cleaned>.+)",
        r"^\s*(?P<cleaned>.+?)\s+-\s+[0-9]+\s*$",
        r"^\s*(?P<cleaned>.+?)(([-._ ](trailer|sample))|-(scene|clip|behindthescenes|deleted|deletedscene|featurette|"
        r"short|interview|other|extra))$",
    )
]
_IMDB_BARE = re.compile(r"tt[0-9]{7,8}")  # TryFindImdbId: case-sensitive, the first 7-8 digits after `tt`
# SxxEyy, SxxEyy-Ezz, SxxEyyEzz, SxxEyy-zz: the parts of Jellyfin's episode expressions this sandbox meets.
_EPISODE = re.compile(r"[sS]([0-9]{1,4})[xX.]?[eE]([0-9]{1,3})(?:(?:(?:-| - )?[xXeE]|-[xX]?[eE]?)([0-9]{1,3}))*")
_RESOLUTION = re.compile(r"(?<![a-z0-9])(2160p|4k|uhd|1080p|720p)(?![a-z0-9])", re.IGNORECASE)
_WIDTHS = {"2160p": 3840, "4k": 3840, "uhd": 3840, "1080p": 1920, "720p": 1280}
_PROVIDER_NAMES = {"tmdb": "Tmdb", "imdb": "Imdb", "tvdb": "Tvdb"}


@dataclass(frozen=True)
class ParsedName:
    """A name after Jellyfin's cleaners: what a TMDB search is made with."""

    name: str
    year: int | None


def parse_name(raw: str) -> ParsedName:
    """`LibraryManager.ParseName`: CleanDateTime (year, and the name before it), then the CleanString passes."""
    name, year = raw, None
    for expression in _CLEAN_DATE_TIMES:
        found = expression.search(raw)
        if found and found.group(1) and found.group(2):
            name, year = found.group(1).rstrip(), int(found.group(2))
            break
    for expression in _CLEAN_STRINGS:
        found = expression.search(name)
        if found:
            name = found.group("cleaned")
    return ParsedName(name, year)


def search_form(text: str) -> str:
    """The TMDB plugin's CleanName (`[\\W_]+` → one space), compared case- and accent-blind."""
    return " ".join(re.sub(r"[\W_]+", " ", clean_name(text)).split())


def tagged_id(text: str, attribute: Literal["tmdb", "imdb", "tvdb"], *, aliases: bool) -> str | None:
    """`GetAttributeValue(text, "<attribute>id")`: the value of the first `[tmdbid-N]`-style tag, or None.

    With `aliases` (Jellyfin 12.0) `tmdb`/`tvdb`/`imdb` alone are accepted too, between `[]`, `()` or `{}`.
    """
    name = attribute + ("(?:id)?" if aliases else "id")
    brackets = ((r"\[", r"\]"), (r"\(", r"\)"), (r"\{", r"\}")) if aliases else ((r"\[", r"\]"),)
    pattern = "|".join(f"{opener}{name}[=-]([^{closer}]+){closer}" for opener, closer in brackets)
    for found in re.finditer(pattern, text, re.IGNORECASE):
        value = next(g for g in found.groups() if g is not None).strip()
        if value:
            return value
    return None


def imdb_in(text: str, *, aliases: bool) -> str | None:
    """An IMDb id: the `[imdbid-…]` tag, else the first bare `tt1234567` in the text."""
    tagged = tagged_id(text, "imdb", aliases=aliases)
    if tagged:
        return tagged
    bare = _IMDB_BARE.search(text)
    return bare.group(0) if bare else None


def episode_numbers(filename: str) -> tuple[int, int, int | None] | None:
    """(season, episode, last episode of a multi-episode file or None) from an `SxxEyy[-Ezz]` name."""
    found = _EPISODE.search(filename)
    if found is None:
        return None
    season, episode = int(found.group(1)), int(found.group(2))
    end = int(found.group(3)) if found.group(3) else None
    return season, episode, end if end is not None and end > episode else None


def resolution_width(names: Iterable[str]) -> int | None:
    """The width a resolution marker (2160p/4k/UHD, 1080p, 720p) stands for, from the first name that has one."""
    for name in names:
        found = _RESOLUTION.search(name)
        if found:
            return _WIDTHS[found.group(1).lower()]
    return None


def media_by_ids(scenario: Scenario, kind: MediaKind, ids: dict[str, str]) -> MediaSpec | None:
    """What the TMDB plugin finds from ids read off a path: the TMDB id itself, else a find by IMDb (then TVDB) id."""
    of_kind = [m for m in scenario.media if m.type == kind]
    if "Tmdb" in ids:
        return next((m for m in of_kind if str(m.tmdb_id) == ids["Tmdb"]), None)
    if "Imdb" in ids:
        return next((m for m in of_kind if m.imdb_id == ids["Imdb"]), None)
    if "Tvdb" in ids:
        return next((m for m in of_kind if m.tvdb_id is not None and str(m.tvdb_id) == ids["Tvdb"]), None)
    return None


def media_by_name(scenario: Scenario, kind: MediaKind, parsed: ParsedName) -> MediaSpec | None:
    """A TMDB search by name (and year, when the name has one), taking the first result as Jellyfin does."""
    wanted = search_form(parsed.name)
    if not wanted:
        return None

    def titles(media: MediaSpec) -> set[str]:
        return {search_form(t) for t in (media.title, media.original_title or "", *media.titles.values()) if t}

    found = [m for m in scenario.media if m.type == kind and wanted in titles(m)]
    if parsed.year is not None:
        found = [m for m in found if m.effective_year == parsed.year]
    # TMDB ranks by popularity; `sorted` is stable, so without popularity the scenario's order decides.
    ranked = sorted(found, key=lambda m: -(m.popularity or 0.0))
    return ranked[0] if ranked else None


def provider_ids(media: MediaSpec) -> dict[str, str]:
    """The ids Jellyfin stores once TMDB metadata is fetched (a series also keeps its TVDB id)."""
    ids = {"Tmdb": str(media.tmdb_id)}
    if media.imdb_id:
        ids["Imdb"] = media.imdb_id
    if media.type == "tv" and media.tvdb_id is not None:
        ids["Tvdb"] = str(media.tvdb_id)
    return ids


def ids_in_name(text: str, kind: MediaKind, *, aliases: bool) -> dict[str, str]:
    """Provider ids tagged in a series folder name (tmdb, imdb, tvdb), or in a movie folder or file name (tmdb)."""
    wanted: tuple[Literal["tmdb", "imdb", "tvdb"], ...] = ("tmdb", "imdb", "tvdb") if kind == "tv" else ("tmdb",)
    ids: dict[str, str] = {}
    for attribute in wanted:
        value = imdb_in(text, aliases=aliases) if attribute == "imdb" else tagged_id(text, attribute, aliases=aliases)
        if value:
            ids[_PROVIDER_NAMES[attribute]] = value
    return ids
