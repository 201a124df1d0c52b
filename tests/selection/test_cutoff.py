"""Cutoffs and the upgrade comparisons, on real release names parsed by RTN."""

from __future__ import annotations

from datetime import date

import pytest

from seerbridge.config import ConfigError, SelectionSettings, To4kSettings, load_settings
from seerbridge.domain.media import MediaKind, Title
from seerbridge.domain.release import ParsedRelease
from seerbridge.pipeline.upgrade import to_4k_applies
from seerbridge.selection.cutoff import is_better, is_downgrade, meets_cutoff
from seerbridge.selection.parse import parse_release

PROFILES = SelectionSettings().profiles
STANDARD, FOUR_K, CLASSIC = PROFILES["standard"], PROFILES["4k"], PROFILES["classic"]


def parsed(name: str) -> ParsedRelease:
    return parse_release(name, max_chars=300)


@pytest.mark.parametrize(
    ("name", "standard", "four_k", "classic"),
    [
        ("Film.2020.2160p.WEB-DL.DV.HDR.H.265-X", True, True, True),
        ("Film.2020.1080p.BluRay.REMUX.AVC-X", True, False, True),
        ("Film.2020.1080p.BluRay.x264-X", True, False, True),
        ("Film.2020.1080p.WEB-DL.H264-X", True, False, True),
        ("Film.2020.1080p.WEBRip.x264-X", False, False, True),  # below WEB-DL on the standard source ladder
        ("Film.2020.720p.BluRay.x264-X", False, False, True),
        ("Film.2020.480p.DVDRip.x264-X", False, False, False),
    ],
)
def test_meets_cutoff(name: str, standard: bool, four_k: bool, classic: bool) -> None:
    release = parsed(name)
    assert (meets_cutoff(release, STANDARD), meets_cutoff(release, FOUR_K), meets_cutoff(release, CLASSIC)) == (
        standard,
        four_k,
        classic,
    )
    assert not meets_cutoff(None, STANDARD)


def test_the_cutoff_in_words() -> None:
    assert (STANDARD.cutoff, FOUR_K.cutoff, CLASSIC.cutoff) == (
        "1080p WEB-DL or better",
        "2160p or better",
        "720p or better",
    )


def test_better_means_sharper_or_a_better_source_never_a_codec_or_size() -> None:
    old = parsed("Film.2020.1080p.WEBRip.x264-X")
    assert is_better(parsed("Film.2020.1080p.BluRay.x264-X"), old, STANDARD)
    assert is_better(parsed("Film.2020.2160p.WEBRip.x265-X"), old, STANDARD)
    assert not is_better(parsed("Film.2020.1080p.WEBRip.x265.10bit-X"), old, STANDARD)  # codec only
    assert not is_better(parsed("Film.2020.720p.BluRay.x264-X"), old, STANDARD)
    assert not is_better(None, old, STANDARD)
    assert is_downgrade(parsed("Film.2020.720p.BluRay.x264-X"), old)
    assert not is_downgrade(parsed("Film.2020.1080p.HDTV.x264-X"), old)


def test_cutoffs_must_sit_on_their_ladders() -> None:
    with pytest.raises(ConfigError, match="cutoff_resolution"):
        load_settings(None, {"selection": {"profiles": {"standard": {"cutoff_resolution": "2160p"}}}})
    with pytest.raises(ConfigError, match="cutoff_quality"):
        load_settings(None, {"selection": {"profiles": {"standard": {"cutoff_quality": "VHS"}}}})
    with pytest.raises(ConfigError, match="to_4k"):
        load_settings(None, {"upgrade": {"to_4k": {"enabled": True, "profile": "uhd"}}})


def test_to_4k_applies_by_kind_and_age() -> None:
    today = date(2026, 11, 24)
    film = Title(kind=MediaKind.MOVIE, tmdb_id=1, title="Film", year=2020)
    old_show = Title(kind=MediaKind.SHOW, tmdb_id=2, title="Show", year=1975, premiere=date(1975, 9, 19))
    unknown = Title(kind=MediaKind.MOVIE, tmdb_id=3, title="Unknown")
    rule = To4kSettings(enabled=True, kinds=["movie", "show"], max_age_years=30)
    assert to_4k_applies(rule, film, is4k=False, today=today)
    assert not to_4k_applies(rule, old_show, is4k=False, today=today)
    assert not to_4k_applies(rule, unknown, is4k=False, today=today)  # an age rule never holds for an unknown age
    assert not to_4k_applies(rule, film, is4k=True, today=today)  # 4K requests are 4K already
    assert not to_4k_applies(To4kSettings(enabled=False), film, is4k=False, today=today)
    assert not to_4k_applies(To4kSettings(enabled=True, kinds=["show"]), film, is4k=False, today=today)
