"""The sources of releases as search sees them (Torrentio, Torznab indexers, Zilean), and merging what they found.

Each source answers a movie or an episode with `Stream`s. Torrentio needs the IMDb id; the others also take the
title, year and TMDB/TVDB ids, and choose how to search themselves. `merge` joins the answers by info hash: the
first source's record is kept (sources are asked in order, Torrentio first, whose records know the file inside the
torrent) and filled from the others where it knows less; every source that listed a hash is named.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

from seerbridge.config import Settings
from seerbridge.domain.media import Title
from seerbridge.services.bundle import Services
from seerbridge.services.streams import Stream
from seerbridge.services.torrentio import TorrentioClient


class Source(Protocol):
    """What search asks of a source; `config_id` names its configuration where answers are cached."""

    name: str
    config_id: str

    async def movie(self, title: Title) -> list[Stream]: ...

    async def episode(self, title: Title, season: int, episode: int) -> list[Stream]: ...


class SearchClient(Protocol):
    """A Torznab or Zilean client (services/torznab.py, services/zilean.py)."""

    async def movie(
        self, *, imdb_id: str | None, tmdb_id: int | None, title: str, year: int | None
    ) -> list[Stream]: ...

    async def episode(
        self, *, imdb_id: str | None, tvdb_id: int | None, title: str, season: int, episode: int
    ) -> list[Stream]: ...


class TorrentioSource:
    """Torrentio, which finds by IMDb id only: a title without one has nothing there."""

    name = "torrentio"

    def __init__(self, client: TorrentioClient) -> None:
        self.client = client
        self.config_id = client.config_id

    async def movie(self, title: Title) -> list[Stream]:
        return await self.client.movie_streams(title.imdb_id) if title.imdb_id else []

    async def episode(self, title: Title, season: int, episode: int) -> list[Stream]:
        return await self.client.episode_streams(title.imdb_id, season, episode) if title.imdb_id else []


class ClientSource:
    """A configured source (`sources.<name>`) behind its client; answers carry the source's name."""

    def __init__(self, name: str, url: str, client: SearchClient) -> None:
        self.name = name
        self.client = client
        # The URL (a secret) is digested: another endpoint answers differently, and the key is never written.
        self.config_id = f"{name}-" + hashlib.sha256(url.rstrip("/").encode()).hexdigest()[:12]

    async def movie(self, title: Title) -> list[Stream]:
        found = await self.client.movie(
            imdb_id=title.imdb_id, tmdb_id=title.tmdb_id, title=title.title, year=title.year
        )
        return [dataclasses.replace(s, source=self.name) for s in found]

    async def episode(self, title: Title, season: int, episode: int) -> list[Stream]:
        found = await self.client.episode(
            imdb_id=title.imdb_id, tvdb_id=title.tvdb_id, title=title.title, season=season, episode=episode
        )
        return [dataclasses.replace(s, source=self.name) for s in found]


def search_sources(settings: Settings, services: Services) -> list[Source]:
    """The sources search asks, in order: Torrentio (unless `torrentio.enabled` is off), then `sources` as listed."""
    found: list[Source] = [TorrentioSource(services.torrentio)] if settings.torrentio.enabled else []
    for name, client in services.sources.items():
        found.append(ClientSource(name, settings.sources[name].url.get_secret_value(), client))
    return found


@dataclasses.dataclass(frozen=True)
class Merged:
    """One release after merging: its best-known record and every source that listed it, in source order."""

    stream: Stream
    sources: tuple[str, ...]


def _fill(kept: Stream, other: Stream) -> Stream:
    """`kept` with what only `other` knows: the file inside the torrent, seeders (the higher count), size, names."""
    seeders = [s for s in (kept.seeders, other.seeders) if s is not None]
    return dataclasses.replace(
        kept,
        file_idx=kept.file_idx if kept.file_idx is not None else other.file_idx,
        file_path=kept.file_path or other.file_path,
        filename=kept.filename or other.filename,
        seeders=max(seeders) if seeders else None,
        size_bytes=kept.size_bytes if kept.size_bytes is not None else other.size_bytes,
        provider=kept.provider or other.provider,
        languages=tuple(dict.fromkeys((*kept.languages, *other.languages))),
        cached_hint=kept.cached_hint or other.cached_hint,
    )


def merge(found: Sequence[tuple[str, Iterable[Stream]]]) -> list[Merged]:
    """Join the sources' answers (in source order) by info hash; the order is that of first appearance."""
    kept: dict[str, Stream] = {}
    named: dict[str, list[str]] = {}
    for source, streams in found:
        for stream in streams:
            key = stream.info_hash.lower()
            if key not in kept:
                kept[key], named[key] = stream, [source]
                continue
            kept[key] = _fill(kept[key], stream)
            if source not in named[key]:
                named[key].append(source)
    return [Merged(kept[key], tuple(named[key])) for key in kept]
