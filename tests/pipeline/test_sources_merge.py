"""Merging what several sources found: one record per info hash, the first source's kept and filled from the rest,
every source named."""

from __future__ import annotations

from seerbridge.pipeline.sources import merge
from seerbridge.services.streams import Stream

HASH_A = "a" * 40
HASH_B = "b" * 40


def test_one_record_per_hash_with_every_source_named() -> None:
    torrentio = [
        Stream("Film.2020.1080p.WEB-DL-X", HASH_A, file_idx=0, seeders=12, size_bytes=4_000, cached_hint=True),
    ]
    prowlarr = [
        Stream("Film.2020.1080p.WEB-DL-X", HASH_A.upper(), seeders=40, size_bytes=4_100, provider="1337x"),
        Stream("Film.2020.720p.WEB-DL-X", HASH_B, seeders=5, size_bytes=1_000),
    ]
    zilean = [Stream("Film 2020 1080p WEB-DL", HASH_A, languages=("fr",))]
    merged = merge([("torrentio", torrentio), ("prowlarr", prowlarr), ("zilean", zilean)])
    assert [(m.stream.info_hash.lower(), m.sources) for m in merged] == [
        (HASH_A, ("torrentio", "prowlarr", "zilean")),
        (HASH_B, ("prowlarr",)),
    ]
    first = merged[0].stream
    # Torrentio's record is kept (its name, file index, size of the file, cached hint); the rest fills it in.
    assert first.release_name == "Film.2020.1080p.WEB-DL-X" and first.file_idx == 0 and first.size_bytes == 4_000
    assert first.cached_hint and first.seeders == 40 and first.provider == "1337x" and first.languages == ("fr",)


def test_a_source_listing_a_hash_twice_is_named_once() -> None:
    twice = [Stream("A", HASH_A, seeders=None), Stream("A", HASH_A, seeders=3)]
    (merged,) = merge([("prowlarr", twice)])
    assert merged.sources == ("prowlarr",) and merged.stream.seeders == 3


def test_nothing_found_anywhere_is_empty() -> None:
    assert merge([("torrentio", []), ("zilean", [])]) == []
