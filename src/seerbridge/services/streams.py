"""`Stream`: one release a source offers for the asked movie or episode, the same shape whatever the source."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Stream:
    """One release a source (Torrentio, a Torznab indexer, Zilean) offers for the asked movie or episode.

    `release_name` is the torrent's name (Torrentio's title line 1; the only part worth parsing as a release name).
    `file_path` is the file inside the torrent when the source shows it (packs whose folder differs from the name).
    `size_bytes` is the size the source shows: Torrentio's is the *file's* size when it knows the file, a Torznab
    indexer's and Zilean's the whole torrent's.
    `file_idx` is the 0-based index of the file in the torrent, None when the source does not know it.
    `seeders` is None when the source does not know them (Zilean never does).
    `cached_hint` is Torrentio's `[RD+]` marker: a hint from its own cache, not proof that Real-Debrid has it.
    `source` names the configured source that listed it (`torrentio`, or a `sources.<name>` entry).
    """

    release_name: str
    info_hash: str
    file_idx: int | None = None
    file_path: str | None = None
    filename: str | None = None
    seeders: int | None = None
    size_bytes: int | None = None
    provider: str | None = None
    languages: tuple[str, ...] = ()
    quality_label: str | None = None
    cached_hint: bool = False
    debrid: str | None = None
    binge_group: str | None = None
    source: str = "torrentio"
