"""What the Radarr/Sonarr servers report about a title, gathered from the store: files only where Jellyfin was seen
to hold them (verified availability), downloads in progress from the torrents being followed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from seerbridge.domain.states import KEPT_STATES, ItemState, TorrentState
from seerbridge.selection.parse import ParseFailure, parse_release
from seerbridge.store import repo
from seerbridge.store.arr_repo import ArrTitleRecord

WIDTHS = {"2160p": "3840x2160", "1440p": "2560x1440", "1080p": "1920x1080", "720p": "1280x720", "480p": "720x480"}
"""The `mediaInfo.resolution` Radarr reports for a resolution; Seerr reads a width of 2000 or more as 4K."""


@dataclass(frozen=True)
class FileFacts:
    """The file (or season's files) Jellyfin holds for an item, as far as the store knows them."""

    torrent_id: int
    name: str  # the release
    size: int
    resolution: str | None  # "2160p", … (from the release name)
    path: str | None  # the library entry (relative to the library root), when one is written
    at: datetime

    @property
    def width_height(self) -> str | None:
        return WIDTHS.get(self.resolution or "")


@dataclass(frozen=True)
class SeasonFacts:
    available: frozenset[int] = frozenset()  # episodes Jellyfin was seen holding
    file: FileFacts | None = None


@dataclass(frozen=True)
class Download:
    """A download in progress on Real-Debrid for one of the title's items."""

    torrent_id: int
    info_hash: str
    name: str
    size: int
    progress: float  # 0..1
    added_at: datetime
    progress_at: datetime | None
    season: int | None
    episodes: tuple[int, ...]


@dataclass(frozen=True)
class TitleFacts:
    movie: FileFacts | None = None  # movies: set only when Jellyfin holds it
    seasons: dict[int, SeasonFacts] = field(default_factory=dict)
    downloads: tuple[Download, ...] = ()


def item_keys(title: ArrTitleRecord) -> list[str]:
    """The work items a title covers: the movie, or each season the series lists."""
    if title.tmdb_id is None:
        return []
    suffix = ":4k" if title.is4k else ""
    if title.app == "radarr":
        return [f"movie:{title.tmdb_id}{suffix}"]
    return [f"show:{title.tmdb_id}:s{s.number:02d}{suffix}" for s in title.seasons]


def _resolution(name: str) -> str | None:
    try:
        return parse_release(name, max_chars=512).resolution
    except ParseFailure:
        return None


async def _file(session: AsyncSession, key: str, torrents: list[repo.TorrentRecord]) -> FileFacts | None:
    kept = [t for t in torrents if t.state is TorrentState.DOWNLOADED and t.superseded_by is None]
    if not kept:
        return None
    torrent = max(kept, key=lambda t: t.id)
    entries = await repo.library_entries(session, item_key=key)
    size = sum(f.bytes for f in torrent.files) if torrent.files else torrent.size_bytes or 0
    return FileFacts(
        torrent_id=torrent.id,
        name=torrent.name,
        size=size,
        resolution=_resolution(torrent.name),
        path=entries[0].rel_path if entries else None,
        at=torrent.updated_at,
    )


def _download(torrent: repo.TorrentRecord) -> Download:
    return Download(
        torrent_id=torrent.id,
        info_hash=torrent.info_hash,
        name=torrent.name,
        size=torrent.size_bytes or 0,
        progress=max(0.0, min(1.0, torrent.progress / 100)),  # Real-Debrid's percentage, as the follower stores it
        added_at=torrent.added_at,
        progress_at=torrent.progress_at,
        season=torrent.season,
        episodes=torrent.episodes,
    )


async def title_facts(session: AsyncSession, title: ArrTitleRecord) -> TitleFacts:
    """Everything the servers report about one title, from the store alone (no service is called)."""
    movie: FileFacts | None = None
    seasons: dict[int, SeasonFacts] = {}
    downloads: list[Download] = []
    for key in item_keys(title):
        item = await repo.get_item(session, key)
        if item is None:
            continue
        torrents = await repo.torrents_of_item(session, key)
        downloads += [_download(t) for t in torrents if t.state is TorrentState.DOWNLOADING and t.superseded_by is None]
        held = item.state is ItemState.AVAILABLE
        if item.kind == "movie":
            movie = await _file(session, key, torrents) if held else None
        elif item.season is not None:
            episodes = frozenset(item.done) if held else frozenset()
            seasons[item.season] = SeasonFacts(episodes, await _file(session, key, torrents) if held else None)
    return TitleFacts(movie, seasons, tuple(downloads))


__all__ = ["KEPT_STATES", "Download", "FileFacts", "SeasonFacts", "TitleFacts", "item_keys", "title_facts"]
