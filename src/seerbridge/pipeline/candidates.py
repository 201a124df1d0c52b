"""Torrentio streams as selection candidates: the release name parsed, the language flags kept as hints."""

from __future__ import annotations

from seerbridge.domain.release import Candidate
from seerbridge.selection.parse import candidate
from seerbridge.services.torrentio import Stream


def to_candidate(stream: Stream, max_chars: int) -> Candidate:
    return candidate(
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
