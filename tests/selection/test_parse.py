"""parse_release / candidate: RTN's fields mapped into ParsedRelease, the length cap, and failures as reasons."""

from __future__ import annotations

import pytest

from seerbridge.selection import parse as parse_mod
from seerbridge.selection.parse import ParseFailure, candidate, flag_languages, parse_fields, parse_release


def test_maps_rtn_fields() -> None:
    p = parse_release("Shogun.2024.S01.2160p.DSNP.WEB-DL.DDP5.1.Atmos.DV.HDR.H.265-FLUX", max_chars=300)
    assert p.title == "Shogun"
    assert p.year == 2024
    assert p.seasons == (1,)
    assert p.episodes == ()
    assert p.resolution == "2160p"
    assert p.quality == "WEB-DL"
    assert p.codec == "hevc"
    assert p.hdr == ("DV", "HDR")
    assert p.group == "FLUX"
    assert p.is_pack
    assert not p.trash


def test_complete_multi_season_pack() -> None:
    p = parse_release(
        "Breaking Bad (2008) Complete Series S01-S05 (2160p BluRay x265 HEVC 10bit HDR AAC 5.1)-EXAMPLE", max_chars=300
    )
    assert (p.title, p.year, p.seasons, p.complete, p.quality) == (
        "Breaking Bad",
        2008,
        (1, 2, 3, 4, 5),
        True,
        "BluRay",
    )


def test_episode_release_and_languages() -> None:
    ep = parse_release("Breaking.Bad.S02E04.720p.HDTV.x264-EXAMPLE", max_chars=300)
    assert (ep.seasons, ep.episodes, ep.is_pack) == ((2,), (4,), False)
    movie = parse_release("Night of the Living Dead 1968 1080p BluRay x264 ITA ENG AC3-EXAMPLE", max_chars=300)
    assert set(movie.languages) == {"en", "it"}
    assert movie.codec == "avc"


@pytest.mark.parametrize(
    ("name", "quality"),
    [
        ("Night.of.the.Living.Dead.1968.HDCAM.x264-EXAMPLE", "CAM"),
        ("Movie.2020.HDTS.x264", "TeleSync"),
        ("Movie.2020.TELESYNC.x264", "TeleSync"),
        ("Movie.2020.DVDSCR.x264", "SCR"),
    ],
)
def test_trash_sources(name: str, quality: str) -> None:
    p = parse_release(name, max_chars=300)
    assert p.trash
    assert p.quality == quality


@pytest.mark.parametrize(
    ("name", "resolution"),
    [
        ("Movie.2020.1080i.HDTV", "1080p"),
        ("Movie.2020.1024x576.mkv", "576p"),
        ("Movie.2020.4K.WEB-DL", "2160p"),
        ("Movie.2020.240p", "360p"),
        ("Movie.2020.DVDRip", "unknown"),
    ],
)
def test_resolution_normalised(name: str, resolution: str) -> None:
    assert parse_release(name, max_chars=300).resolution == resolution


def test_bare_remux_is_bluray_remux() -> None:
    assert parse_release("Movie.2020.REMUX.1080p", max_chars=300).quality == "BluRay REMUX"


@pytest.mark.parametrize("name", ["", "   ", "...", "[]", "2020"])
def test_no_title_is_a_parse_failure(name: str) -> None:
    with pytest.raises(ParseFailure):
        parse_release(name, max_chars=300)


def test_name_is_cut_before_parsing() -> None:
    name = "Some.Movie.2020.1080p." + "x" * 400 + ".S05E01"
    assert parse_release(name, max_chars=300).seasons == ()
    assert parse_release(name, max_chars=1000).seasons == (5,)


def test_parser_exception_becomes_parse_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(_: str) -> None:
        raise RuntimeError("regex exploded")

    monkeypatch.setattr(parse_mod, "_rtn_parse", boom)
    with pytest.raises(ParseFailure, match="parser failed"):
        parse_release("Movie.2020.1080p", max_chars=300)
    c = candidate(info_hash="AB" * 20, name="Movie.2020.1080p", max_chars=300)
    assert c.parsed is None
    assert c.parse_error is not None and "parser failed" in c.parse_error


def test_candidate_fields_and_flags() -> None:
    c = candidate(
        info_hash="ABCDEF" + "0" * 34,
        name="Breaking Bad S01 COMPLETE 720p BluRay x264-EXAMPLE",
        max_chars=300,
        seeders=7,
        size_bytes=123,
        provider="Rutor",
        file_idx=1,
        filename="x.mkv",
        cached_hint=True,
        languages=["🇬🇧", "🇷🇺", "Multi Audio", "it"],
    )
    assert c.info_hash == "abcdef" + "0" * 34
    assert c.parsed is not None
    assert set(c.parsed.languages) == {"en", "ru", "it"}
    assert (c.seeders, c.size_bytes, c.provider, c.file_idx, c.filename, c.cached_hint) == (
        7,
        123,
        "Rutor",
        1,
        "x.mkv",
        True,
    )
    assert c.parse_error is None


def test_flag_languages() -> None:
    assert flag_languages(["🇬🇧 / 🇮🇹", "Dubbed", "🇲🇽", "🇦🇶"]) == ("en", "it", "es")


def test_parse_fields_reads_file_names_without_title() -> None:
    p = parse_fields("05 - Gray Matter.mkv", max_chars=300)
    assert p.episodes == (5,)
    with pytest.raises(ParseFailure):
        parse_fields("", max_chars=300)
