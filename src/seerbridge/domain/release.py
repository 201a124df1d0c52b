"""A release as Torrentio lists it, and what its name says once parsed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParsedRelease:
    """The facts parsed from a release name (by rank-torrent-name); empty tuples mean "not stated"."""

    title: str
    year: int | None = None
    seasons: tuple[int, ...] = ()
    episodes: tuple[int, ...] = ()
    complete: bool = False
    resolution: str = "unknown"  # "2160p", "1080p", "720p", "480p", ..., or "unknown"
    quality: str | None = None  # "BluRay", "WEB-DL", "BluRay REMUX", "CAM", ...
    codec: str | None = None  # "avc", "hevc", "av1", ...
    hdr: tuple[str, ...] = ()  # "DV", "HDR10+", "HDR", ...
    languages: tuple[str, ...] = ()  # ISO 639-1 codes RTN found, e.g. ("en", "it")
    trash: bool = False  # CAM, TS, screener and similar
    group: str | None = None

    @property
    def is_pack(self) -> bool:
        """Holds a whole season (or more) rather than named episodes."""
        return bool(self.seasons) and (not self.episodes or self.complete)


@dataclass(frozen=True)
class Candidate:
    """One stream Torrentio offered, reduced to what selection needs.

    `size_bytes` is Torrentio's 💾 figure, which is the size of the FILE Torrentio points at (one episode of a
    pack), not of the whole torrent. `cached_hint` is Torrentio's [RD+] mark: it orders probes, it proves nothing.
    """

    info_hash: str
    name: str
    parsed: ParsedRelease | None
    parse_error: str | None = None
    seeders: int | None = None
    size_bytes: int | None = None
    provider: str | None = None
    file_idx: int | None = None
    filename: str | None = None
    file_path: str | None = None
    cached_hint: bool = False
    sources: tuple[str, ...] = ()  # every source that listed it (`torrentio`, `sources.<name>`)
