"""Which files of a Real-Debrid torrent to select for what is wanted: the movie's feature, or the wanted episodes.

Only video files count (by extension). Samples and extras are skipped:
- always when a folder on the path is named like `Sample`, `Extras`, `Featurettes`, `Trailers`, …, or when the file
  name ends in a sample/extra word (`movie-sample.mkv`, `show.s01e01.trailer.mkv`);
- when the word (`sample`, `trailer`, `featurette`, …) merely appears inside the name, only if the file is also small
  beside the largest video (< `SMALL_SHARE` of it). So `The.Sample.Man.2020.mkv` and a `Trailer.Park.Boys` pack are
  kept, and a word merely containing "sample" (`Samples.of.Life`, `Resampled`) never counts.

Video files below a floor are never selected, whatever their name: Real-Debrid's own sizes show the fakes that
Torrentio's figure hides (a 0-byte or 2 MB `.mkv` beside a `setup.exe` or a `.rar`), and the lone sample whose
name alone does not give it away. The floor (`MIN_MOVIE_BYTES`, `MIN_EPISODE_BYTES`; `acquire.min_*_file_mb` in
the settings) sits far below any real copy, so a small old rip is still taken.

Episodes come from each file name (RTN: `S01E01`, `S01E01E02`, `S01E01-E03`, `1x01`; plus `1x01-1x02` ranges),
the season from the name, else the nearest folder naming one (`Season 2/Episode 03.mkv`), else the release name when
it names exactly one season. A file is selected when it is of the wanted season and holds a wanted episode not yet
covered by a bigger file. Movies: the largest remaining video, plus its sibling parts when it is one of CD1/CD2/….
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from seerbridge.domain.media import Wanted
from seerbridge.selection.parse import ParseFailure, parse_fields

VIDEO_EXTENSIONS = frozenset(
    {"mkv", "mp4", "avi", "m4v", "ts", "m2ts", "mts", "mov", "wmv", "mpg", "mpeg", "webm", "flv", "divx", "ogm", "ogv"}
)
SMALL_SHARE = 0.3
MB = 1024**2
# Far below any real copy (the profiles' bands start at 300 MB a movie, 50 MB an episode): below this it is a fake.
MIN_MOVIE_BYTES = 50 * MB
MIN_EPISODE_BYTES = 20 * MB
_MAX_CHARS = 300

_EXTRA_FOLDERS = frozenset(
    {
        "sample", "samples", "extra", "extras", "featurette", "featurettes", "trailer", "trailers", "bonus",
        "bonus features", "special features", "behind the scenes", "deleted scenes", "interviews", "shorts",
        "making of", "promos",
    }
)  # fmt: skip
_EXTRA_WORDS = r"sample|trailer|teaser|featurette|extras|bonus|promo|interview|behind[ ._-]the[ ._-]scenes|deleted[ ._-]scenes?|making[ ._-]of"  # noqa: E501
_SEP = r"[\s._\-\[\]()]"
_EXTRA_AT_END = re.compile(rf"(?:^|{_SEP})(?:{_EXTRA_WORDS})$", re.IGNORECASE)
_EXTRA_ANYWHERE = re.compile(rf"(?:^|{_SEP})(?:{_EXTRA_WORDS})(?:{_SEP}|$)", re.IGNORECASE)
_NXM = re.compile(r"(?<![\dx])(\d{1,2})x(\d{1,3})(?:\s*[-_&]\s*(?:\1x)?(\d{1,3}))?(?![\dp])", re.IGNORECASE)
_PART = re.compile(r"(?:^|[\s._\-\[(])(?:cd|disc|disk|part|pt)[\s._-]?(\d{1,2})(?=$|[\s._\-\])])", re.IGNORECASE)


@dataclass(frozen=True)
class TorrentFile:
    """One file of a Real-Debrid torrent: `id` is 1-based (RD's `files[].id`), `path` usually starts with `/`."""

    id: int
    path: str
    bytes: int


class FileFacts(Protocol):
    """Anything with RD's file fields, e.g. `services.realdebrid.TorrentFile` or our `TorrentFile`."""

    @property
    def id(self) -> int: ...
    @property
    def path(self) -> str: ...
    @property
    def bytes(self) -> int: ...


FileLike = FileFacts | tuple[int, str, int]


@dataclass(frozen=True)
class FileSelection:
    """The file ids to select (ascending), the wanted episodes they hold, and why nothing fits (empty `file_ids`)."""

    file_ids: tuple[int, ...]
    covered: frozenset[int]
    reason: str | None = None
    # Nothing in the torrent is playable for anyone (no video, only samples or extras, only fakes): unlike "no file
    # of this season", that is true of the torrent itself, so it is worth remembering against its hash.
    unusable: bool = False


def _as_file(item: FileLike) -> TorrentFile:
    if isinstance(item, TorrentFile):
        return item
    if isinstance(item, tuple):
        file_id, path, size = item
        return TorrentFile(id=int(file_id), path=str(path), bytes=int(size))
    return TorrentFile(id=int(item.id), path=str(item.path), bytes=int(item.bytes))


def _parts(path: str) -> list[str]:
    return [p for p in path.replace("\\", "/").split("/") if p]


def _stem_and_ext(leaf: str) -> tuple[str, str]:
    stem, dot, ext = leaf.rpartition(".")
    return (stem, ext.lower()) if dot and stem else (leaf, "")


def is_video(path: str) -> bool:
    parts = _parts(path)
    return bool(parts) and _stem_and_ext(parts[-1])[1] in VIDEO_EXTENSIONS


def is_extra(path: str, size: int, largest: int) -> bool:
    """A sample, trailer or other extra (see the module docstring for the exact rule)."""
    parts = _parts(path)
    if not parts:
        return True
    folders = [" ".join(re.split(r"[\s._-]+", p.lower())).strip() for p in parts[:-1]]
    if any(folder in _EXTRA_FOLDERS for folder in folders):
        return True
    stem = _stem_and_ext(parts[-1])[0]
    if _EXTRA_AT_END.search(stem):
        return True
    small = largest > 0 and size < SMALL_SHARE * largest
    return small and bool(_EXTRA_ANYWHERE.search(stem))


def _nxm_episodes(leaf: str) -> tuple[int | None, tuple[int, ...]]:
    """`1x01`, `1x01-1x03`, `1x01-03` → (season, episodes); RTN reads only the first of a `1x01-1x02` range."""
    m = _NXM.search(leaf)
    if not m:
        return None, ()
    first = int(m.group(2))
    last = int(m.group(3)) if m.group(3) else first
    if last < first or last - first > 50:
        last = first
    return int(m.group(1)), tuple(range(first, last + 1))


def _season_of(text: str) -> int | None:
    """The single season a folder or release name names, else None."""
    try:
        parsed = parse_fields(text, max_chars=_MAX_CHARS)
    except ParseFailure:
        return None
    return parsed.seasons[0] if len(parsed.seasons) == 1 else None


def file_episodes(path: str, *, release_season: int | None = None) -> tuple[int | None, tuple[int, ...]]:
    """(season, episodes) a file path names; season from the name, else the nearest folder, else `release_season`."""
    parts = _parts(path)
    if not parts:
        return None, ()
    leaf = _stem_and_ext(parts[-1])[0]
    try:
        parsed = parse_fields(parts[-1], max_chars=_MAX_CHARS)
        season = parsed.seasons[0] if len(parsed.seasons) == 1 else None
        episodes = parsed.episodes
    except ParseFailure:
        season, episodes = None, ()
    nxm_season, nxm_episodes = _nxm_episodes(leaf)
    if nxm_episodes and (season is None or season == nxm_season):
        season = nxm_season
        episodes = tuple(sorted({*episodes, *nxm_episodes}))
    if season is None:
        for folder in reversed(parts[:-1]):
            season = _season_of(folder)
            if season is not None:
                break
    if season is None:
        season = release_season
    return season, episodes


def _part_key(leaf: str) -> tuple[str, int] | None:
    """(name without the part marker, part number) for CD1/Part 2/… files."""
    stem = _stem_and_ext(leaf)[0]
    matches = list(_PART.finditer(stem))
    if not matches:
        return None
    m = matches[-1]
    return (stem[: m.start()] + stem[m.end() :]).lower(), int(m.group(1))


def _select_movie(videos: Sequence[TorrentFile]) -> FileSelection:
    main = max(videos, key=lambda f: (f.bytes, -f.id))
    ids = {main.id}
    key = _part_key(_parts(main.path)[-1])
    if key is not None:
        for f in videos:
            other = _part_key(_parts(f.path)[-1])
            if other is not None and other[0] == key[0]:
                ids.add(f.id)
    return FileSelection(file_ids=tuple(sorted(ids)), covered=frozenset())


def _select_episodes(videos: Sequence[TorrentFile], wanted: Wanted, release_season: int | None) -> FileSelection:
    season = wanted.season
    want = wanted.episodes
    chosen: list[int] = []
    covered: set[int] = set()
    for f in sorted(videos, key=lambda f: (-f.bytes, f.id)):
        file_season, episodes = file_episodes(f.path, release_season=release_season)
        if file_season != season or not episodes:
            continue
        new = {e for e in episodes if (not want or e in want) and e not in covered}
        if new:
            chosen.append(f.id)
            covered |= new
    if not chosen:
        return FileSelection((), frozenset(), f"no video file holds a wanted episode of season {season}")
    return FileSelection(tuple(sorted(chosen)), frozenset(covered))


def _size_text(size: int) -> str:
    return f"{size:,} bytes" if size < MB else f"{size / MB:,.0f} MB"


def select_files(
    files: Iterable[FileLike],
    wanted: Wanted,
    *,
    release_name: str | None = None,
    min_movie_bytes: int = MIN_MOVIE_BYTES,
    min_episode_bytes: int = MIN_EPISODE_BYTES,
) -> FileSelection:
    """The files to select for `wanted` (see the module docstring). `release_name` supplies a season to files
    whose name and folders state none; a video file under `min_movie_bytes` (movies) or `min_episode_bytes`
    (episodes) is a fake. Never raises for odd paths; an empty selection carries the reason."""
    items = [_as_file(item) for item in files]
    videos = [f for f in items if is_video(f.path)]
    if not videos:
        return FileSelection((), frozenset(), "no video file in the torrent", unusable=True)
    largest = max(f.bytes for f in videos)
    kept = [f for f in videos if not is_extra(f.path, f.bytes, largest)]
    if not kept:
        return FileSelection((), frozenset(), "only samples or extras in the torrent", unusable=True)
    floor = min_movie_bytes if wanted.is_movie else min_episode_bytes
    real = [f for f in kept if f.bytes >= floor]
    if not real:
        biggest = max(kept, key=lambda f: (f.bytes, -f.id))
        what = "a movie file" if wanted.is_movie else "an episode file"
        return FileSelection(
            (),
            frozenset(),
            f"no video file reaches the {_size_text(floor)} {what} needs "
            f"(largest: {_parts(biggest.path)[-1]}, {_size_text(biggest.bytes)})",
            unusable=True,
        )
    if wanted.is_movie:
        return _select_movie(real)
    release_season = _season_of(release_name) if release_name else None
    selection = _select_episodes(real, wanted, release_season)
    fakes = len(kept) - len(real)
    if selection.reason and fakes:
        # The wanted episode may be among the fakes: say so, or the reason reads as a pack without it.
        return dataclasses.replace(
            selection, reason=f"{selection.reason} ({fakes} under the {_size_text(floor)} an episode file needs)"
        )
    return selection


def pack_share(selection: FileSelection, wanted: Wanted) -> float:
    """Share of the wanted episodes the selection covers (movies: 1.0 when anything is selected)."""
    if wanted.is_movie or not wanted.episodes:
        return 1.0 if selection.file_ids else 0.0
    return len(selection.covered & wanted.episodes) / len(wanted.episodes)


__all__ = [
    "MB",
    "MIN_EPISODE_BYTES",
    "MIN_MOVIE_BYTES",
    "SMALL_SHARE",
    "VIDEO_EXTENSIONS",
    "FileFacts",
    "FileLike",
    "FileSelection",
    "TorrentFile",
    "file_episodes",
    "is_extra",
    "is_video",
    "pack_share",
    "select_files",
]
