"""Streams from any source as selection candidates: the release name parsed, the language flags kept as hints."""

from __future__ import annotations

import dataclasses

from seerbridge.domain.release import Candidate
from seerbridge.selection.parse import candidate
from seerbridge.services.streams import Stream


def to_candidate(stream: Stream, max_chars: int, sources: tuple[str, ...] = ()) -> Candidate:
    """`sources`: every source that listed it (merged by hash); its own source when not given."""
    found = candidate(
        info_hash=stream.info_hash,
        name=stream.release_name,
        max_chars=max_chars,
        seeders=stream.seeders,
        size_bytes=stream.size_bytes,
        provider=stream.provider,
        file_idx=stream.file_idx,
        filename=stream.filename,
        file_path=stream.file_path,
        cached_hint=stream.cached_hint,
        languages=stream.languages,
    )
    size = found.size_bytes
    parsed = found.parsed
    if stream.file_idx is None and stream.source != "torrentio" and parsed is not None and len(parsed.episodes) != 1:
        # Indexers and Zilean give the whole torrent's size; for a pack that is not one episode's file, which the
        # size rule judges: unknown then (its files are checked at the probe).
        size = None if parsed.seasons else size
    return dataclasses.replace(found, size_bytes=size, sources=sources or (stream.source,))
