"""Ranking: the profile's ladder dominates, then source, HDR, codec, size sanity; seeders only break ties."""

from __future__ import annotations

from seerbridge.config import ProfileSettings
from seerbridge.domain.decision import Verdict
from seerbridge.domain.media import Wanted
from seerbridge.selection.chain import evaluate
from seerbridge.selection.rank import by_seeders, preference_key, score, size_position, split_packs
from tests.selection.builders import cand, ctx, movie, show


def names(verdicts: list[Verdict]) -> list[str]:
    return [v.candidate.name for v in verdicts if v.accepted]


def test_4k_profile_order() -> None:
    dune = movie("Dune", 2021)
    context = ctx(Wanted(title=dune.title, is4k=True), profile="4k")
    given = [
        cand("Dune.2021.1080p.BluRay.x264-EXAMPLE", gb=10),
        cand("Dune.2021.2160p.WEB-DL.DDP5.1.H.265-EXAMPLE", gb=20),
        cand("Dune.2021.2160p.UHD.BluRay.REMUX.HEVC-EXAMPLE", gb=60),
    ]
    assert names(evaluate(given, context)) == [
        "Dune.2021.2160p.UHD.BluRay.REMUX.HEVC-EXAMPLE",
        "Dune.2021.2160p.WEB-DL.DDP5.1.H.265-EXAMPLE",
        "Dune.2021.1080p.BluRay.x264-EXAMPLE",
    ]


def test_standard_profile_order() -> None:
    context = ctx(movie("Dune", 2021))
    given = [
        cand("Dune.2021.720p.BluRay.x264-EXAMPLE", gb=4, seeders=900),
        cand("Dune.2021.1080p.WEBRip.x264-EXAMPLE", gb=4, seeders=500),
        cand("Dune.2021.1080p.BluRay.x264-EXAMPLE", gb=4, seeders=5),
    ]
    assert names(evaluate(given, context)) == [
        "Dune.2021.1080p.BluRay.x264-EXAMPLE",
        "Dune.2021.1080p.WEBRip.x264-EXAMPLE",
        "Dune.2021.720p.BluRay.x264-EXAMPLE",
    ]


def test_hdr_counts_only_when_preferred() -> None:
    dune = movie("Dune", 2021)
    sdr = cand("Dune.2021.2160p.WEB-DL.H.265-EXAMPLE", gb=20)
    dv = cand("Dune.2021.2160p.WEB-DL.DV.H.265-EXAMPLE", gb=20)
    hdr = cand("Dune.2021.2160p.WEB-DL.HDR.H.265-EXAMPLE", gb=20)
    four_k = ctx(dune, profile="4k")
    assert score(dv, four_k) > score(hdr, four_k) > score(sdr, four_k)
    no_hdr = ctx(dune, profile_settings=ProfileSettings(resolutions=["2160p"], prefer_hdr=False))
    assert score(dv, no_hdr) == score(sdr, no_hdr)


def test_codec_order() -> None:
    context = ctx(movie("Dune", 2021))
    hevc = cand("Dune.2021.1080p.BluRay.x265-EXAMPLE", gb=4)
    avc = cand("Dune.2021.1080p.BluRay.x264-EXAMPLE", gb=4)
    xvid = cand("Dune.2021.1080p.BluRay.XviD-EXAMPLE", gb=4)
    assert score(hevc, context) > score(avc, context) > score(xvid, context)


def test_source_beats_codec_and_size() -> None:
    context = ctx(movie("Dune", 2021))
    bluray_odd_size = cand("Dune.2021.1080p.BluRay.XviD-EXAMPLE", gb=39)
    web_perfect = cand("Dune.2021.1080p.WEB-DL.x265-EXAMPLE", gb=3.5)
    assert score(bluray_odd_size, context) > score(web_perfect, context)


def test_size_sanity_prefers_the_middle_of_the_band() -> None:
    context = ctx(movie("Dune", 2021))  # 0.3–40 GB: geometric middle about 3.5 GB
    middle = cand("Dune.2021.1080p.BluRay.x264-A", gb=3.5)
    near_top = cand("Dune.2021.1080p.BluRay.x264-B", gb=38)
    near_bottom = cand("Dune.2021.1080p.BluRay.x264-C", gb=0.35)
    unknown = cand("Dune.2021.1080p.BluRay.x264-D", gb=None)
    assert score(middle, context) > score(unknown, context) > score(near_top, context)
    assert score(unknown, context) > score(near_bottom, context)
    assert size_position(int(3.46 * 1024**3), context) is not None
    assert size_position(None, context) is None


def test_seeders_break_ties_then_hash() -> None:
    context = ctx(movie("Dune", 2021))
    few = cand("Dune.2021.1080p.BluRay.x264-EXAMPLE", gb=4, seeders=3, info_hash="a" * 40)
    many = cand("Dune.2021.1080p.BluRay.x264-EXAMPLE", gb=4, seeders=300, info_hash="b" * 40)
    twin = cand("Dune.2021.1080p.BluRay.x264-EXAMPLE", gb=4, seeders=300, info_hash="c" * 40)
    got = evaluate([twin, few, many], context)
    assert [v.candidate.info_hash for v in got] == ["b" * 40, "c" * 40, "a" * 40]
    assert preference_key(got[0]) < preference_key(got[2])


def test_split_packs_and_by_seeders() -> None:
    s2 = show("Breaking Bad", 2008, 2, [4, 5])
    given = [
        cand("Breaking.Bad.S02.1080p.BluRay.x264-EXAMPLE", gb=1.4, seeders=212),
        cand("Breaking.Bad.S02E04.720p.HDTV.x264-EXAMPLE", gb=0.6, seeders=40),
        cand("Breaking.Bad.S02E05.1080p.WEB-DL.x264-EXAMPLE", gb=1.2, seeders=400),
        cand("Breaking.Bad.S01.1080p.BluRay.x264-EXAMPLE", gb=1.4, seeders=999),
    ]
    verdicts = evaluate(given, ctx(s2))
    packs, singles = split_packs(verdicts)
    assert [v.candidate.name for v in packs] == ["Breaking.Bad.S02.1080p.BluRay.x264-EXAMPLE"]
    assert [v.candidate.name for v in singles] == [
        "Breaking.Bad.S02E05.1080p.WEB-DL.x264-EXAMPLE",
        "Breaking.Bad.S02E04.720p.HDTV.x264-EXAMPLE",
    ]
    assert [v.candidate.seeders for v in by_seeders(verdicts)] == [400, 212, 40]
