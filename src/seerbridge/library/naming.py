"""How library entries are named: `Title (Year) [tmdbid-N]` folders and the file names inside them, the way Jellyfin
documents for matching every item by its TMDB id. Pure: nothing here touches the disk.

Names are made safe for any filesystem Jellyfin may sit on (`safe_name`):
- Unicode NFC, so the same title always gives the same bytes;
- `:` and `/` `\\` become a dash: spaced (`Mission: Impossible`, `Love / Hate`) → ` - `, glued (`3:10 to Yuma`,
  `Face/Off`) → `-`; a colon ending the name is dropped;
- `?` `*` `"` are dropped (`What If...?` → `What If...`, `M*A*S*H` → `MASH`); `<` `>` `|` become a space;
- control characters are dropped, other whitespace becomes a space, runs of spaces collapse to one;
- leading dots and trailing dots/spaces are stripped (a leading dot hides a folder; Windows shares drop trailing ones);
- at most `limit` characters and `MAX_NAME_BYTES` UTF-8 bytes, cut at a word boundary when one is near;
- never empty: `Untitled`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Literal

from seerbridge.domain.media import MediaKind
from seerbridge.selection.files import FileFacts, file_episodes, is_extra, is_video
from seerbridge.selection.parse import ParseFailure, parse_fields

Kind = Literal["movie", "show"]

SECTIONS: Mapping[tuple[Kind, bool], str] = MappingProxyType(
    {
        ("movie", False): "movies",
        ("show", False): "shows",
        ("movie", True): "movies-4k",
        ("show", True): "shows-4k",
    }
)
UNTITLED = "Untitled"
# A folder adds ` (2019) [tmdbid-1234567]`, an episode ` S01E01-E02.m2ts`: 200 bytes of title keeps every
# name under the 255-byte limit of ext4, btrfs, xfs and zfs, whatever the script.
MAX_NAME_BYTES = 200
_MAX_PARSE_CHARS = 300

_SPACED_COLON = re.compile(r"\s*:+\s+")
_TRAILING_COLON = re.compile(r"\s*:+\s*$")
_SPACED_SLASH = re.compile(r"\s+[/\\]+\s+")
_SLASH = re.compile(r"[/\\]+")
_SPACES = re.compile(r" {2,}")
_ID_TAG = re.compile(r"\s*\[tmdbid-\d+\]\s*$")
_YEAR_TAIL = re.compile(r"\s*\(\d{4}\)$")


def _drop_unsafe(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if ch.isspace() or ch in "<>|":
            out.append(" ")
        elif ch in '?*"' or unicodedata.category(ch) in ("Cc", "Cs"):
            # Cs: a lone surrogate (from undecodable bytes) cannot be written as a file name at all.
            continue
        else:
            out.append(ch)
    return "".join(out)


def _tidy(text: str) -> str:
    return _SPACES.sub(" ", text).strip(" ").lstrip(". ").rstrip(". ")


def _cut(text: str, chars: int) -> str:
    """`text` cut to `chars` characters, at the last space when that keeps at least half of them."""
    if len(text) <= chars:
        return text
    head = text[:chars]
    space = head.rfind(" ")
    if space >= chars // 2:
        head = head[:space]
    # A cut can leave a dangling separator ("Mission -"): drop it with the spaces and dots.
    return head.rstrip(" .-")


def _fit_bytes(text: str) -> str:
    if len(text.encode()) <= MAX_NAME_BYTES:
        return text
    chars, used = 0, 0
    for ch in text:
        used += len(ch.encode())
        if used > MAX_NAME_BYTES:
            break
        chars += 1
    return _cut(text, chars)


def safe_name(text: str, *, limit: int = 120) -> str:
    """`text` as one safe, readable path component (rules in the module docstring); deterministic, never empty."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    name = unicodedata.normalize("NFC", text)
    name = _TRAILING_COLON.sub("", name)
    name = _SPACED_COLON.sub(" - ", name).replace(":", "-")
    name = _SPACED_SLASH.sub(" - ", name)
    name = _SLASH.sub("-", name)
    name = _tidy(_drop_unsafe(name))
    name = _tidy(_fit_bytes(_cut(name, limit)))
    return name or UNTITLED


def _kind(kind: Kind | MediaKind) -> Kind:
    # MediaKind is a StrEnum, but an Enum hashes by member name: normalise before any lookup.
    if kind == "movie":
        return "movie"
    if kind == "show":
        return "show"
    raise ValueError(f"unknown kind {kind!r}: expected 'movie' or 'show'")


def section(kind: Kind | MediaKind, is4k: bool) -> str:
    """The top-level folder of the library an item of this kind and resolution goes to."""
    return SECTIONS[(_kind(kind), bool(is4k))]


def folder_for(kind: Kind | MediaKind, is4k: bool, title: str, year: int | None, tmdb_id: int) -> str:
    """The item's folder relative to the library root, POSIX separators: `movies/Haunt (2019) [tmdbid-572802]`."""
    if tmdb_id <= 0:
        raise ValueError(f"a TMDB id is positive, not {tmdb_id}")
    name = safe_name(title)
    if year:
        name = f"{name} ({year})"
    return f"{section(kind, is4k)}/{name} [tmdbid-{tmdb_id}]"


@dataclass(frozen=True)
class SelectedFile:
    """A file of a Real-Debrid torrent: `id` is 1-based (RD's `files[].id`), `path` starts with `/`."""

    id: int
    path: str
    bytes: int


@dataclass(frozen=True)
class EntrySpec:
    """One library entry to write: where (relative to the root) and which torrent file it stands for.

    `episodes` are the episodes of the season the entry counts for (ascending; `()` for a movie)."""

    rel_path: str
    episodes: tuple[int, ...]
    file_id: int
    file_path: str


def _display_name(folder: str) -> str:
    """`Haunt (2019)` from `movies/Haunt (2019) [tmdbid-572802]`."""
    last = PurePosixPath(folder).name
    return _ID_TAG.sub("", last).strip() or safe_name(last)


def _extension(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).suffix.lower().lstrip(".")


def _release_season(release_name: str | None) -> int | None:
    """The one season a release name names, else None: the same reading selection.files gives it."""
    if not release_name:
        return None
    try:
        seasons = parse_fields(release_name, max_chars=_MAX_PARSE_CHARS).seasons
    except ParseFailure:
        return None
    return seasons[0] if len(seasons) == 1 else None


def _episode_tag(season: int, episodes: tuple[int, ...]) -> str:
    first, last = episodes[0], episodes[-1]
    return f"S{season:02d}E{first:02d}" + (f"-E{last:02d}" if last != first else "")


def plan_entries(
    *,
    folder: str,
    season: int | None,
    wanted: frozenset[int] | None,
    files: Sequence[FileFacts],
    release_name: str | None = None,
) -> list[EntrySpec]:
    """The entries that present `files` (a torrent's selected files) in `folder` (what `folder_for` returned).

    Movie (`season` None): one entry, `<Title> (<Year>).<ext>`, for the largest video that is no sample or extra.
    Season: `Season NN/<Title> SNNENN.<ext>` (`SNNENN-ENN` for a file holding several) for each video file of that
    season holding an episode (a wanted one, when `wanted` is given and not empty) no larger file already holds; an
    episode two files claim goes to the larger. Files naming no season take the one `release_name` names, as in
    selection. Sorted by `rel_path`; empty when nothing fits.
    """
    if season is not None and season < 0:
        raise ValueError(f"a season is 0 or more, not {season}")
    folder = folder.rstrip("/")
    display = _display_name(folder)
    videos = [f for f in files if is_video(f.path)]
    if not videos:
        return []
    largest = max(f.bytes for f in videos)
    kept = [f for f in videos if not is_extra(f.path, f.bytes, largest)]
    if not kept:
        return []
    if season is None:
        main = max(kept, key=lambda f: (f.bytes, -f.id))
        return [EntrySpec(f"{folder}/{display}.{_extension(main.path)}", (), main.id, main.path)]

    title = _YEAR_TAIL.sub("", display).strip() or display  # Jellyfin's episode names carry no year
    release_season = _release_season(release_name)
    claimed: set[int] = set()
    entries: list[EntrySpec] = []
    # Largest first (then lowest id), so a bigger copy of an episode wins whatever order RD lists the files in.
    for f in sorted(kept, key=lambda f: (-f.bytes, f.id)):
        file_season, episodes = file_episodes(f.path, release_season=release_season)
        if file_season != season or not episodes:
            continue
        mine = tuple(e for e in episodes if e not in claimed)
        if not mine or (wanted and not wanted.intersection(mine)):
            continue
        claimed.update(mine)
        name = f"{title} {_episode_tag(season, mine)}.{_extension(f.path)}"
        entries.append(EntrySpec(f"{folder}/Season {season:02d}/{name}", mine, f.id, f.path))
    return sorted(entries, key=lambda e: e.rel_path)


__all__ = [
    "MAX_NAME_BYTES",
    "SECTIONS",
    "UNTITLED",
    "EntrySpec",
    "Kind",
    "SelectedFile",
    "folder_for",
    "plan_entries",
    "safe_name",
    "section",
]
