"""Jellyfin emulator libraries on a real disk: one look at a library folder, and the scan that makes the library's
items match what that look saw.

A look (`look_at`) walks the real directory as Jellyfin's resolvers do, within a scope (the library root, a series or
season folder, or one file):
- movies: each folder directly under the root is one movie's folder, its playable files (not in subfolders) movies
  named after the folder; a playable file loose in the root is a movie named after the file.
- shows: each folder directly under the root is a series; every playable file below it whose name carries `SxxEyy`
  (`SxxEyy-Ezz` for a multi-episode file) is an episode, in the season its name gives (files without one are
  skipped). Season items come from the episodes; a season folder is their path when there is one.
- playable: a video file; a symlink whose target exists (a broken one is skipped: Jellyfin cannot probe it); a
  `.strm` file (its first line that is not blank or `#` is the URL, kept when http(s)/rtsp/rtp as Jellyfin does).
  Names ending in `sample` are extras, not items.

`apply_look` then adds new items, updates changed ones and removes the files (and series or season folders) the look
no longer found inside its scope, as Jellyfin's ValidateChildren does. Matching is in `jellyfin_names`. Width comes
from a resolution marker in the symlink target's file name, then its folder's name, then the file's own name (1920
when none: a probe always finds one, and these sandbox files have no picture to probe); a `.strm` has a width only when
the library's `strm_width` knob, given the URL, returns one (Jellyfin would probe the URL itself).
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from seerbridge.sandbox.jellyfin_items import TYPE_NAMES, ItemKind, LibraryItem, jellyfin_guid
from seerbridge.sandbox.jellyfin_names import (
    MediaKind,
    ParsedName,
    episode_numbers,
    ids_in_name,
    imdb_in,
    media_by_ids,
    media_by_name,
    parse_name,
    provider_ids,
    resolution_width,
)
from seerbridge.sandbox.scenario import MediaSpec

if TYPE_CHECKING:
    from seerbridge.sandbox.jellyfin_library import JellyfinLibrary

# Emby.Naming's VideoFileExtensions, the common part of it.
VIDEO_EXTENSIONS = frozenset({
    ".mkv", ".mp4", ".m4v", ".avi", ".mov", ".wmv", ".ts", ".m2ts", ".mts", ".webm", ".mpg", ".mpeg", ".flv", ".iso",
    ".vob", ".ogv", ".3gp", ".divx", ".xvid", ".rmvb",
})  # fmt: skip
_SAMPLE = re.compile(r"(^|[-._ ])sample$", re.IGNORECASE)
_SEASON_FOLDER = re.compile(r"^(?:season|series|saison|staffel)[ ._-]*([0-9]{1,4})$", re.IGNORECASE)
_REMOTE_SCHEMES = ("http://", "https://", "rtsp://", "rtp://")
_HEIGHTS = {3840: 2160, 1920: 1080, 1280: 720}


@dataclass(frozen=True)
class DiskFile:
    """One playable entry a look found."""

    path: str
    title_folder: str | None  # the movie's own folder or the series folder; None for a movie loose in the root
    season_folder: str | None  # an episode's folder when it is not the series folder itself
    size: int | None
    names: tuple[str, ...]  # where a resolution marker is looked for, in order
    shortcut_url: str | None = None
    is_shortcut: bool = False


@dataclass(frozen=True)
class DiskLook:
    """What one look at a disk library saw under `scope`: playable files and the series/season/movie folders."""

    library_id: str
    scope: str
    files: tuple[DiskFile, ...] = ()
    folders: frozenset[str] = field(default_factory=frozenset)

    def covers(self, path: str | None) -> bool:
        return path is not None and (path == self.scope or path.startswith(self.scope + "/"))


def look_at(library: LibraryItem, scope: str) -> DiskLook | None:
    """Walk `library`'s folder within `scope`; None when the library folder is not there (nothing is removed then)."""
    root = library.path or ""
    if not os.path.isdir(root):
        return None
    files: list[DiskFile] = []
    folders: set[str] = set()
    rel = posixpath.relpath(scope, root) if scope != root else "."
    tops = _entries(root) if rel == "." else [posixpath.join(root, rel.split("/", 1)[0])]
    for top in tops:
        if library.collection_type == "tvshows":
            if os.path.isdir(top):
                _walk_series(top, files, folders)
        elif os.path.isdir(top):
            folders.add(top)
            files.extend(f for f in (_playable(p, top, None) for p in _entries(top)) if f is not None)
        else:
            loose = _playable(top, None, None)
            if loose is not None:
                files.append(loose)
    look = DiskLook(library.id, scope)
    return DiskLook(
        library.id,
        scope,
        tuple(f for f in files if look.covers(f.path)),
        frozenset(f for f in folders if look.covers(f)),
    )


def _entries(folder: str) -> list[str]:
    try:
        return sorted(posixpath.join(folder, name) for name in os.listdir(folder))
    except OSError:
        return []


def _walk_series(series: str, files: list[DiskFile], folders: set[str]) -> None:
    folders.add(series)
    for here, dirs, names in os.walk(series, followlinks=True):
        dirs.sort()
        if here != series:
            folders.add(here)
        season_folder = None if here == series else here
        for name in sorted(names):
            if episode_numbers(name) is None:
                continue
            found = _playable(posixpath.join(here, name), series, season_folder)
            if found is not None:
                files.append(found)


def _playable(path: str, title_folder: str | None, season_folder: str | None) -> DiskFile | None:
    name = posixpath.basename(path)
    stem, ext = posixpath.splitext(name)
    ext = ext.lower()
    if _SAMPLE.search(stem) or not os.path.isfile(path):  # isfile follows symlinks: a broken one is not a file
        return None
    if ext == ".strm":
        return DiskFile(path, title_folder, season_folder, None, (), _strm_url(path), is_shortcut=True)
    if ext not in VIDEO_EXTENSIONS:
        return None
    names: tuple[str, ...] = (name,)
    if os.path.islink(path):
        target = os.readlink(path)
        target = target if posixpath.isabs(target) else posixpath.join(posixpath.dirname(path), target)
        names = (posixpath.basename(target), posixpath.basename(posixpath.dirname(target)), name)
    return DiskFile(path, title_folder, season_folder, os.stat(path).st_size, names)


def _strm_url(path: str) -> str | None:
    """ProbeProvider.FetchShortcutInfo: the first line that is not blank or a comment, tabs and CR/LF removed."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = [line.replace("\t", "").strip() for line in handle]
    except OSError:
        return None
    url = next((line for line in lines if line and not line.startswith("#")), None)
    return url if url is not None and url.lower().startswith(_REMOTE_SCHEMES) else None


# ----- the scan: make the library's items match a look ----------------------------------------------------------------


def apply_look(library: JellyfinLibrary, look: DiskLook, at: datetime) -> None:
    """Add, update and remove items of the look's library so that its scope matches what the look saw."""
    folder = library.items.get(look.library_id)
    if folder is None:
        return
    kept: set[str] = set()
    for found in look.files:
        if folder.collection_type == "tvshows":
            kept.add(_episode(library, folder, found, at).id)
        else:
            kept.add(_movie(library, folder, found, at).id)
    for item in list(library.descendants(folder.id)):
        if item.kind in ("Movie", "Episode") and look.covers(item.path) and item.id not in kept:
            library.remove(item.id)
    for item in list(library.descendants(folder.id)):
        if item.id not in library.items or item.kind not in ("Series", "Season"):
            continue
        gone = look.covers(item.path) and item.path not in look.folders
        emptied = item.kind == "Season" and item.path is None and not library.children(item.id)
        if gone or emptied:
            library.remove(item.id)


def _upsert(
    library: JellyfinLibrary, kind: ItemKind, key: str, parent: LibraryItem, at: datetime, **values: Any
) -> LibraryItem:
    """The item of that kind at `key` (a path), created now or updated in place (keeping its id and DateCreated)."""
    item_id = jellyfin_guid(TYPE_NAMES[kind] + key.lower())
    item = library.items.get(item_id)
    if item is None:
        item = LibraryItem(
            id=item_id, kind=kind, name=values.pop("name"), parent_id=parent.id, path=None, date_created=at
        )
        library.items[item_id] = item
    item.parent_id = parent.id
    for name, value in values.items():
        setattr(item, name, value)
    return item


def _video_values(library: JellyfinLibrary, found: DiskFile, previous: LibraryItem | None) -> dict[str, Any]:
    if found.is_shortcut:
        # Jellyfin probes a new or changed .strm through its URL; the knob answers for that probe.
        if previous is not None and previous.shortcut_url == found.shortcut_url:
            width = previous.width
        elif found.shortcut_url and library.strm_width is not None:
            width = library.strm_width(found.shortcut_url)
        else:
            width = None
    else:
        width = resolution_width(found.names) or 1920
    return {
        "path": found.path,
        "size": found.size,
        "width": width,
        "height": None if width is None else _HEIGHTS.get(width, width * 9 // 16),
        "container": "strm" if found.is_shortcut else posixpath.splitext(found.path)[1].lstrip(".").lower(),
        "shortcut_url": found.shortcut_url,
    }


def _runtime(video: dict[str, Any], seconds: int) -> int | None:
    """A probed file has a run time; a `.strm` nobody probed (no width) has none."""
    return None if video["width"] is None else seconds


def _identity(
    library: JellyfinLibrary, kind: MediaKind, name: str, ids: dict[str, str], year: int | None
) -> MediaSpec | None:
    if ids:
        # An id on the path is used as is; Jellyfin searches by name only when there is none.
        return media_by_ids(library.scenario, kind, ids)
    return media_by_name(library.scenario, kind, ParsedName(parse_name(name).name, year))


def _movie(library: JellyfinLibrary, folder: LibraryItem, found: DiskFile, at: datetime) -> LibraryItem:
    aliases = library.reads_id_aliases
    own = posixpath.basename(found.path)
    own_stem = posixpath.splitext(own)[0]
    holder = posixpath.basename(found.title_folder) if found.title_folder else own_stem
    ids = ids_in_name(holder, "movie", aliases=aliases)
    if not ids and found.title_folder:
        ids = ids_in_name(own, "movie", aliases=aliases)
    imdb = imdb_in(found.path, aliases=aliases)
    if imdb:
        ids["Imdb"] = imdb
    # The item's year comes from the file's name (the resolver); the search falls back to the folder's.
    year = parse_name(own_stem).year or parse_name(holder).year
    media = _identity(library, "movie", holder, ids, year)
    previous = library.items.get(jellyfin_guid(TYPE_NAMES["Movie"] + found.path.lower()))
    if media is not None:
        about: dict[str, Any] = {
            "name": media.title,
            "provider_ids": provider_ids(media),
            "production_year": media.effective_year,
            "premiere_date": media.premiere,
            "original_title": media.original_title,
        }
    else:
        # No metadata: the folder's own name stays the item's name (a loose file's cleaned name).
        name = holder if found.title_folder else parse_name(own_stem).name
        about = {
            "name": name,
            "provider_ids": ids,
            "production_year": year,
            "premiere_date": None,
            "original_title": None,
        }
    video = _video_values(library, found, previous)
    return _upsert(library, "Movie", found.path, folder, at, **about, **video, runtime_s=_runtime(video, 6600))


def _series(
    library: JellyfinLibrary, folder: LibraryItem, path: str, at: datetime
) -> tuple[LibraryItem, MediaSpec | None]:
    name = posixpath.basename(path)
    ids = ids_in_name(name, "tv", aliases=library.reads_id_aliases)
    parsed = parse_name(name)
    media = _identity(library, "tv", name, ids, parsed.year)
    about: dict[str, Any] = (
        {
            "name": media.title,
            "provider_ids": provider_ids(media),
            "production_year": media.effective_year,
            "premiere_date": media.premiere,
            "original_title": media.original_title,
        }
        if media is not None
        else {
            "name": name,
            "provider_ids": ids,
            "production_year": parsed.year,
            "premiere_date": None,
            "original_title": None,
        }
    )
    return _upsert(library, "Series", path, folder, at, path=path, **about), media


def _season(
    library: JellyfinLibrary, series: LibraryItem, media: MediaSpec | None, number: int, path: str | None, at: datetime
) -> LibraryItem:
    existing = next((i for i in library.children(series.id) if i.kind == "Season" and i.index_number == number), None)
    if existing is not None:
        if existing.path is None and path is not None:
            existing.path = path
        return existing
    spec = media.season(number) if media else None
    first_air = spec.air_date(1) if spec else None
    return _upsert(
        library, "Season", path or f"{series.id}:season:{number}", series, at,
        name="Specials" if number == 0 else f"Season {number}", path=path, index_number=number,
        series_id=series.id, series_name=series.name, premiere_date=first_air,
        production_year=first_air.year if first_air else None,
    )  # fmt: skip


def _stem(path: str) -> str:
    return posixpath.splitext(posixpath.basename(path))[0]


def _season_number(found: DiskFile, fallback: int) -> int:
    """A season folder's own number (`Season 02`, `Specials` = 0) wins over the episode file's."""
    if found.season_folder is None:
        return fallback
    name = posixpath.basename(found.season_folder)
    if name.lower() == "specials":
        return 0
    match = _SEASON_FOLDER.match(name)
    return int(match.group(1)) if match else fallback


def _episode(library: JellyfinLibrary, folder: LibraryItem, found: DiskFile, at: datetime) -> LibraryItem:
    assert found.title_folder is not None
    numbers = episode_numbers(posixpath.basename(found.path))
    assert numbers is not None
    file_season, number, last = numbers
    series, media = _series(library, folder, found.title_folder, at)
    season = _season(library, series, media, _season_number(found, file_season), found.season_folder, at)
    spec = media.season(file_season) if media else None
    aired = spec.air_date(number) if spec else None
    previous = library.items.get(jellyfin_guid(TYPE_NAMES["Episode"] + found.path.lower()))
    video = _video_values(library, found, previous)
    return _upsert(
        library, "Episode", found.path, season, at,
        name=spec.episode_title(number) if spec else parse_name(_stem(found.path)).name,
        premiere_date=aired, production_year=aired.year if aired else None,
        index_number=number, index_number_end=last, parent_index_number=file_season,
        series_id=series.id, series_name=series.name, season_id=season.id, season_name=season.name,
        runtime_s=_runtime(video, 2700), **video,
    )  # fmt: skip
